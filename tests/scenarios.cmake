# scenarios: unit tests of the loader/matcher/runner/reports, the whole suite
# against the engine, against mosquitto and aedes (each started on a free
# loopback port; gate: no regression against ci/baselines/), and the pytest
# plugin; mosquitto also over mqtts, ws and wss.
mqc_add_cmocka_test(test_scenarios SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_scenarios.c LIBS mqs mqr)
add_test(NAME scenarios_lint COMMAND $<TARGET_FILE:mqcheck> lint suite
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
add_test(NAME scenarios_engine
         COMMAND $<TARGET_FILE:mqcheck> run suite --quiet --report ${PROJECT_BINARY_DIR}/reports/engine
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
foreach(broker mosquitto aedes)
  add_test(NAME scenarios_${broker}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/run-broker.sh ${broker} $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/${broker})
  set_tests_properties(scenarios_${broker} PROPERTIES TIMEOUT 300)
endforeach()
# Issue 18: docs/brokers.md lists exactly the statements the baselines fail.
add_test(NAME scenarios_brokers_doc
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/suite/brokers-doc.py ${PROJECT_SOURCE_DIR})
# Issue 6: the same suite against mosquitto over TLS, WebSocket and WebSocket
# over TLS (certificates made by the test), gated on the same baseline as TCP.
foreach(transport mqtts ws wss)
  add_test(NAME scenarios_mosquitto_${transport}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/run-broker.sh mosquitto $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/mosquitto-${transport} ${transport})
  set_tests_properties(scenarios_mosquitto_${transport} PROPERTIES TIMEOUT 300)
endforeach()
# The plugin over two suite sections on the engine: pytest must exit 0 AND
# report passes (a run where every item is skipped proves nothing).
add_test(NAME scenarios_pytest
         COMMAND sh -c "out=$(/usr/bin/python3 -m pytest -q -p pytest_mqcheck --mq-binary \"$0\" --mq-target engine \"$1/suite/3.1-connect\" \"$1/suite/4.3-qos\" -o cache_dir=\"$2/pytest-cache\" 2>&1); rc=$?; echo \"$out\"; [ $rc = 0 ] || exit 1; echo \"$out\" | grep -qE '[1-9][0-9]* passed' || { echo 'no item passed'; exit 1; }"
                 $<TARGET_FILE:mqcheck> ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(scenarios_pytest PROPERTIES
  ENVIRONMENT "PYTHONPATH=${PROJECT_SOURCE_DIR}/python;PYTHONDONTWRITEBYTECODE=1" TIMEOUT 300)
# lint and run check statement IDs against the built-in catalog from any
# directory: run outside the source tree, each must exit with its error code
# (lint 1, run 2) and name the unknown ID at its own line.
foreach(cmd lint run)
  if(cmd STREQUAL lint)
    set(want_rc 1)
  else()
    set(want_rc 2)
  endif()
  add_test(NAME scenarios_${cmd}_unknown_id
           COMMAND sh -c "out=$($0 ${cmd} $1 2>&1); rc=$?; echo \"$out\"; [ $rc = ${want_rc} ] || { echo \"exit $rc, expected ${want_rc}\"; exit 1; }; echo \"$out\" | grep -q 'unknown-statement.yaml:5:1: error: MQTT-9.9.9-9 is not a statement of MQTT 5.0'"
                   $<TARGET_FILE:mqcheck> ${CMAKE_CURRENT_SOURCE_DIR}/suite/lint/unknown-statement.yaml
           WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  # Issue 18: with several statements, every statement a scenario cites is
  # named by the check that verifies it (scenarios_lint applies this to the
  # whole suite); a statement named by no check is an error at its own line.
  add_test(NAME scenarios_${cmd}_unnamed_statement
           COMMAND sh -c "out=$($0 ${cmd} $1 2>&1); rc=$?; echo \"$out\"; [ $rc = ${want_rc} ] || { echo \"exit $rc, expected ${want_rc}\"; exit 1; }; echo \"$out\" | grep -q 'unnamed-statement.yaml:7:1: error: MQTT-4.13.1-1 (MQTT 5.0) is named by no check'"
                   $<TARGET_FILE:mqcheck> ${CMAKE_CURRENT_SOURCE_DIR}/suite/lint/unnamed-statement.yaml
           WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  # Issue 18: every scenario is a server case, so citing a statement that
  # binds only the client is an error at that ID's line (and only there: the
  # file's server citation is fine).
  add_test(NAME scenarios_${cmd}_client_statement
           COMMAND sh -c "out=$($0 ${cmd} $1 2>&1); rc=$?; echo \"$out\"; [ $rc = ${want_rc} ] || { echo \"exit $rc, expected ${want_rc}\"; exit 1; }; echo \"$out\" | grep -q 'client-statement.yaml:7:1: error: MQTT-3.1.0-1 binds only the client in MQTT 5.0' && [ $(echo \"$out\" | grep -c 'binds only the client') = 1 ]"
                   $<TARGET_FILE:mqcheck> ${CMAKE_CURRENT_SOURCE_DIR}/suite/lint/client-statement.yaml
           WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
endforeach()
# Issue 18: the gate's exit code: a known failure that changed step, statement
# or verdict, a baseline entry that no longer runs, and a new failure each exit 1.
add_test(NAME scenarios_baseline_gate
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/baseline-gate.sh $<TARGET_FILE:mqcheck>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(scenarios_baseline_gate PROPERTIES TIMEOUT 60)
# Issue 18: --jobs N means N against a network target too (1 is serial).
add_test(NAME scenarios_jobs_serial
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/jobs-serial.sh $<TARGET_FILE:mqcheck>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(scenarios_jobs_serial PROPERTIES TIMEOUT 60)
# Issue 18: broken brokers earn no pass (close everything, silent after
# CONNACK, no MQTT 5.0); a broker that accepts no CONNECT stops the run.
add_test(NAME scenarios_stub_brokers
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/stubs.sh $<TARGET_FILE:mqcheck>
                 ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/stubs)
set_tests_properties(scenarios_stub_brokers PROPERTIES TIMEOUT 120)
# Issue 14: sentinel fences at QoS 1 and 2 complete their handshakes on both
# sides (a sentinel left unacknowledged is resent on resume and fails the case).
add_test(NAME scenarios_fence_settled
         COMMAND $<TARGET_FILE:mqcheck> run tests/suite/fence-qos --quiet
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# Issue 18: `mutants --fault NAME` accepts every name `mutants --list` prints
# (test_engine's t_fault_table checks the table has a row per mqe_fault).
add_test(NAME scenarios_mutants_names
         COMMAND sh -c "names=$($0 mutants --list | cut -d' ' -f1) && \
[ $(echo \"$names\" | wc -l) -ge 100 ] || exit 1; set --; \
for n in $names; do set -- \"$@\" --fault \"$n\"; done; $0 mutants --list \"$@\" >/dev/null"
                 $<TARGET_FILE:mqcheck>)
# Issue 18: `mutants --uncovered` lists a server statement no deviation breaks
# (MQTT-3.3.4-5) and not one that has a deviation (MQTT-3.3.2-3 in the engine,
# MQTT-6.0.0-x in net/'s WebSocket server).
add_test(NAME scenarios_mutants_uncovered
         COMMAND sh -c "out=$($0 mutants --uncovered) || exit 1; \
echo \"$out\" | grep -q '^5.0   MQTT-3.3.4-5 ' && ! echo \"$out\" | grep -q ' MQTT-3.3.2-3 ' && \
! echo \"$out\" | grep -q ' MQTT-6.0.0-' && \
echo \"$out\" | tail -1 | grep -q 'wire-testable server statements have no deviation'"
                 $<TARGET_FILE:mqcheck>)
# Issue 18: the reviewed table of statements a deviation breaks too names
# real deviations and catalog statements, each with its reason.
add_test(NAME scenarios_mutants_also
         COMMAND sh -c "out=$($0 mutants --also) || exit 1; \
echo \"$out\" | grep -q '^suback-wrong-id  *3.1.1 MQTT-3.8.4-2 '"
                 $<TARGET_FILE:mqcheck>)
# Issue 18: a reviewed restatement (engine/faults.c, R) is covered by its
# deviation and is a row of its own, caught only when the run fails it: the
# SUBACK's MQTT-3.8.4-2 with suback-wrong-id is caught by the case whose
# check names it, and missed by the packet-id cases alone, which catch the
# deviation's own MQTT-2.3.1-7 but name only that.
add_test(NAME scenarios_mutants_restates
         COMMAND sh -c "$0 mutants --uncovered | grep -q ' MQTT-3.8.4-2 ' && exit 1; \
$0 mutants suite/3.8-subscribe/suback-packet-id.yaml --fault suback-wrong-id | \
grep -q '^suback-wrong-id  *3.1.1 MQTT-3.8.4-2  *caught restates MQTT-2.3.1-7' && \
$0 mutants suite/2-packet-ids --fault suback-wrong-id > /tmp/mqcheck-restates.$$ && \
grep -q '^suback-wrong-id  *3.1.1 MQTT-2.3.1-7  *caught' /tmp/mqcheck-restates.$$ && \
grep -q '^suback-wrong-id  *3.1.1 MQTT-3.8.4-2  *MISSED restates' /tmp/mqcheck-restates.$$; \
rc=$?; rm -f /tmp/mqcheck-restates.$$; exit $rc"
                 $<TARGET_FILE:mqcheck>
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# Issue 18: mutation testing of the suite. Each planted engine deviation
# (engine/faults.c), and each WebSocket one (net/ws.c, run over ws:// against
# a serve child), must fail its statement in some case; the count of
# caught statements may not drop, nor the rows with collateral (other
# statements blamed, beyond the reviewed `mutants --also` table) grow
# (docs/mutants.md has the table).
add_test(NAME scenarios_mutants
         COMMAND $<TARGET_FILE:mqcheck> mutants suite --min-caught 301 --max-collateral 0
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# about 18 s of CPU (ASan); the timeout leaves room for a loaded shared machine
set_tests_properties(scenarios_mutants PROPERTIES TIMEOUT 300)
