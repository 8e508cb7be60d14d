# Coverage of the wire-testable statements that need more than the engine
# target (issue 13): the WebSocket section against `mqcheck serve` over ws://.
# (The coverage gate itself is in cli_spec, tests/spec.cmake.)
if(TARGET mqcheck)
  add_test(NAME cover_serve_ws
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/serve-ws.sh $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(cover_serve_ws PROPERTIES TIMEOUT 60)
  # MQTT 3.1 (issue 13 point 2): its cases really run against mosquitto.
  add_test(NAME cover_v31_mosquitto
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/v31-mosquitto.sh $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(cover_v31_mosquitto PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
  # Enhanced authentication (MQTT-4.12.x, re-authentication included) through
  # serve's auth config, not only the engine target.
  add_test(NAME cover_serve_auth
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/suite/serve-auth.sh $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(cover_serve_auth PROPERTIES TIMEOUT 60)
endif()
