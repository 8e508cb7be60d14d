# netfuzz/ broker side: the exec'd broker (mosquitto, a Python fake, a tiny
# afl-clang-fast broker), sanitizer signatures, coverage buckets, liveness.
if(TARGET mqz)
  mqc_add_cmocka_test(test_netfuzz_broker
                      SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_netfuzz_broker.c LIBS mqz)
  set_tests_properties(test_netfuzz_broker PROPERTIES TIMEOUT 60 LABELS "netfuzz;live")
endif()
