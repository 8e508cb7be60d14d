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
# Issue 6: the same suite against mosquitto over TLS, WebSocket and WebSocket
# over TLS (certificates made by the test), gated on the same baseline as TCP.
foreach(transport mqtts ws wss)
  add_test(NAME scenarios_mosquitto_${transport}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/run-broker.sh mosquitto $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/mosquitto-${transport} ${transport})
  set_tests_properties(scenarios_mosquitto_${transport} PROPERTIES TIMEOUT 300)
endforeach()
add_test(NAME scenarios_pytest
         COMMAND /usr/bin/python3 -m pytest -q -p pytest_mqcheck --mq-binary $<TARGET_FILE:mqcheck>
                 --mq-target engine ${PROJECT_SOURCE_DIR}/suite/3.1-connect ${PROJECT_SOURCE_DIR}/suite/4.3-qos
                 -o cache_dir=${PROJECT_BINARY_DIR}/pytest-cache
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(scenarios_pytest PROPERTIES
  ENVIRONMENT "PYTHONPATH=${PROJECT_SOURCE_DIR}/python;PYTHONDONTWRITEBYTECODE=1" TIMEOUT 300)
# lint checks statement IDs against the built-in catalog from any directory:
# run outside the source tree, it must name the unknown ID.
add_test(NAME scenarios_lint_unknown_id
         COMMAND $<TARGET_FILE:mqcheck> lint ${CMAKE_CURRENT_SOURCE_DIR}/suite/lint/unknown-statement.yaml
         WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
set_tests_properties(scenarios_lint_unknown_id PROPERTIES
  PASS_REGULAR_EXPRESSION "MQTT-9.9.9-9 is not a statement of MQTT 5.0")
