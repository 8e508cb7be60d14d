# netfuzz/ (mqcheck fuzz): the pure parts in test_netfuzz, and the fuzzer
# against the planted-bug broker (tests/netfuzz/fuzz_planted.py) and the
# Debian mosquitto (tests/netfuzz/fuzz_mosquitto.py).
if(TARGET mqz)
  mqc_add_cmocka_test(test_netfuzz SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_netfuzz.c
                      LIBS mqz mqs)
  target_include_directories(test_netfuzz PRIVATE ${PROJECT_SOURCE_DIR}/netfuzz)
  set_tests_properties(test_netfuzz PROPERTIES LABELS "netfuzz")
endif()

# The fuzzer finds every planted bug within a bounded number of sessions,
# minimises it and writes a scenario that fails on the broken broker and
# passes on the engine.
if(TARGET mqz AND TARGET planted_broker)
  add_test(NAME netfuzz_planted_found
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/fuzz_planted.py
                   $<TARGET_FILE:mqcheck> $<TARGET_FILE:planted_broker>)
  set_tests_properties(netfuzz_planted_found PROPERTIES TIMEOUT 900 LABELS "netfuzz;live")
endif()

# Against the Debian mosquitto: every finding is one docs/netfuzz.md explains,
# and bad input (no target, an unreachable one, a bad --exec) fails cleanly.
if(TARGET mqz)
  add_test(NAME netfuzz_mosquitto
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/fuzz_mosquitto.py
                   $<TARGET_FILE:mqcheck> ${PROJECT_SOURCE_DIR}/docs/netfuzz.md)
  set_tests_properties(netfuzz_mosquitto PROPERTIES TIMEOUT 300 LABELS "netfuzz;live")
endif()

# Greybox: an AFL++-instrumented planted broker, its edges counted and new
# edges kept in the corpus.
if(TARGET mqz)
  add_test(NAME netfuzz_coverage
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/fuzz_coverage.py
                   $<TARGET_FILE:mqcheck> ${PROJECT_SOURCE_DIR})
  set_tests_properties(netfuzz_coverage PROPERTIES TIMEOUT 900 LABELS "netfuzz;live")
endif()

# Options no other test exercises: --json-stats, --corpus, --jobs with --exec
# (--sync-dir is in netfuzz_coverage). Seconds each.
if(TARGET mqz AND TARGET planted_broker)
  add_test(NAME netfuzz_options
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/fuzz_options.py
                   $<TARGET_FILE:mqcheck> $<TARGET_FILE:planted_broker>)
  set_tests_properties(netfuzz_options PROPERTIES TIMEOUT 300 LABELS "netfuzz;live")
endif()

# Resource faults no crash, leak report or quiet sample shows: an untouched
# huge allocation (ASan's max_allocation_size_mb), quadratic CPU on a packet
# of megabytes (the liveness probe) and memory held while a session runs
# (--held-rss). Seconds each.
if(TARGET mqz AND TARGET planted_broker)
  add_test(NAME netfuzz_planted_resource
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/fuzz_resource.py
                   $<TARGET_FILE:mqcheck> $<TARGET_FILE:planted_broker>)
  set_tests_properties(netfuzz_planted_resource PROPERTIES TIMEOUT 300 LABELS "netfuzz;live")
endif()

# A broker that burns a core at rest while still serving (the idle-CPU
# oracle, --idle-cpu): found, not found with the oracle off, and replayed.
if(TARGET mqz AND TARGET planted_broker)
  add_test(NAME netfuzz_planted_idlecpu
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/fuzz_resource.py
                   $<TARGET_FILE:mqcheck> $<TARGET_FILE:planted_broker> idlespin)
  set_tests_properties(netfuzz_planted_idlecpu PROPERTIES TIMEOUT 300 LABELS "netfuzz;live")
endif()
