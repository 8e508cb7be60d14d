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

# The greybox build: the same broker with AFL++ edge instrumentation, built by
# tests/netfuzz/build-afl.sh (a few seconds) into the build directory's root.
# netfuzz_planted_afl checks that it fills an __AFL_SHM_ID map while serving
# and runs without a forkserver; without afl-clang-fast the test is skipped.
find_program(MQC_AFL_CC afl-clang-fast)
if(TARGET mqe AND TARGET mqn AND MQC_AFL_CC)
  file(GLOB PB_AFL_SOURCES CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/codec/*.[ch] ${PROJECT_SOURCE_DIR}/engine/*.[ch]
       ${PROJECT_SOURCE_DIR}/net/*.[ch] ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/planted*.[ch])
  add_custom_command(
    OUTPUT ${PROJECT_BINARY_DIR}/planted_broker_afl
    COMMAND ${CMAKE_COMMAND} -E env PB_AFL_CC=${MQC_AFL_CC}
            sh ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/build-afl.sh ${PROJECT_BINARY_DIR}
    DEPENDS ${PB_AFL_SOURCES} ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/build-afl.sh
    COMMENT "Building planted_broker_afl (AFL++ instrumentation)")
  add_custom_target(planted_broker_afl_build ALL DEPENDS ${PROJECT_BINARY_DIR}/planted_broker_afl)
  add_test(NAME netfuzz_planted_afl
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/afl_cov_check.py
                   ${PROJECT_BINARY_DIR}/planted_broker_afl)
else()
  add_test(NAME netfuzz_planted_afl
           COMMAND sh -c "echo 'afl-clang-fast not found (ci/bootstrap test)'; exit 77")
endif()
set_tests_properties(netfuzz_planted_afl PROPERTIES TIMEOUT 60 LABELS "netfuzz;live"
                     SKIP_RETURN_CODE 77)

# Reachability: fuzz/mutator, started from the seeds next to each fault, meets
# every inbound trigger within 20000 mutated streams (and no seed meets one).
if(TARGET mqf_mutator AND TARGET planted_broker AND TARGET mqcheck)
  add_executable(planted_reach ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/planted_reach.c
                               ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/planted_bugs.c)
  target_include_directories(planted_reach PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz)
  target_link_libraries(planted_reach PRIVATE mqf_mutator mqc)
  add_test(NAME netfuzz_planted_reach COMMAND planted_reach 20000)
  # No client stream of any suite case meets a trigger unmutated (and the
  # rates over the whole suite are printed).
  add_test(NAME netfuzz_planted_suite_seeds
           COMMAND sh -c "/usr/bin/python3 \"$1\" \"$2\" \"$3\" > \"$4\" && \"$5\" --seeds \"$4\" 50000"
                   sh ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/suite_streams.py $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR}/suite ${CMAKE_CURRENT_BINARY_DIR}/netfuzz_suite_streams.txt
                   $<TARGET_FILE:planted_reach>)
  set_tests_properties(netfuzz_planted_reach netfuzz_planted_suite_seeds PROPERTIES
                       TIMEOUT 60 LABELS "netfuzz")
endif()
