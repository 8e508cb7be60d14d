# The planted-bug broker (tests/netfuzz/): the engine behind net/ with one
# fault per network-fuzzer oracle kind, for netfuzz's own tests. Built into
# the build directory's root as planted_broker; with afl-clang-fast present
# also as planted_broker_afl (AFL++ edge coverage, no sanitizers).
if(TARGET mqe AND TARGET mqn)
  add_executable(planted_broker ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/planted_broker.c
                                ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/planted_bugs.c)
  target_link_libraries(planted_broker PRIVATE mqe mqn mqc)
  set_target_properties(planted_broker PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})

  # Each fault fires on its condition and only then; --bugs none is the engine.
  add_test(NAME netfuzz_planted
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/planted_check.py
                   $<TARGET_FILE:planted_broker> $<TARGET_FILE:mqcheck>)
  set_tests_properties(netfuzz_planted PROPERTIES TIMEOUT 60 LABELS "netfuzz;live")
endif()
