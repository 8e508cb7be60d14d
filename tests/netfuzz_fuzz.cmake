# netfuzz/ (mqcheck fuzz): the pure parts in test_netfuzz, and the fuzzer
# against the planted-bug broker (tests/netfuzz/fuzz_planted.py) and the
# Debian mosquitto (tests/netfuzz/fuzz_mosquitto.py).
if(TARGET mqz)
  mqc_add_cmocka_test(test_netfuzz SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_netfuzz.c
                      LIBS mqz mqs)
  target_include_directories(test_netfuzz PRIVATE ${PROJECT_SOURCE_DIR}/netfuzz)
  set_tests_properties(test_netfuzz PROPERTIES LABELS "netfuzz")
endif()
