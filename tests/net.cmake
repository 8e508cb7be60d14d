# net/: real peers on loopback (mosquitto, node ws/MQTT.js, openssl CLI for the
# throw-away PKI). See tests/test_net.c for what each case starts.
mqc_add_cmocka_test(test_net SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_net.c LIBS mqn)
set_tests_properties(test_net PROPERTIES TIMEOUT 120 LABELS "net;live")

# mqcheck serve end to end (tests/net/serve_check.py, serve_tls_ws.sh): slow
# readers are paced with bounded memory, 2000+ concurrent connections, and
# mqtts/ws/wss/tcp listeners in one serve with messages crossing transports.
if(TARGET mqcheck)
  add_test(NAME serve_slow_reader
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/net/serve_check.py
                   $<TARGET_FILE:mqcheck> slow-reader)
  add_test(NAME serve_scale
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/net/serve_check.py
                   $<TARGET_FILE:mqcheck> scale)
  add_test(NAME serve_tls_ws
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/serve_tls_ws.sh $<TARGET_FILE:mqcheck>)
  # overload (tests/net/serve_overload.py): floods from `bench load`; checks
  # on counts, order and memory, never on rates. They take both cores by
  # design, so they run alone (RUN_SERIAL): alongside them, timing-bound tests
  # such as serve_slow_reader would starve.
  foreach(case qos1-flood qos0-flood policies)
    add_test(NAME serve_overload_${case}
             COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/net/serve_overload.py
                     $<TARGET_FILE:mqcheck> ${case})
    set_tests_properties(serve_overload_${case} PROPERTIES TIMEOUT 90 RUN_SERIAL TRUE
                         LABELS "net;serve;live")
  endforeach()
  # a subscriber that stops reading is disconnected after slow_subscriber_ms,
  # its session kept; its publisher is not frozen for good
  add_test(NAME serve_overload_slow-subscriber
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/net/serve_overload.py
                   $<TARGET_FILE:mqcheck> slow-subscriber)
  set_tests_properties(serve_overload_slow-subscriber PROPERTIES TIMEOUT 60
                       LABELS "net;serve;live")
  # serve_slow_reader bounds another client's round trips while a flooder is
  # paced: on a machine loaded by parallel fuzzing tests it starved (worst
  # round trip > 1 s, or the flood too slow to fill the kernel buffers), so it
  # runs alone too.
  set_tests_properties(serve_slow_reader PROPERTIES RUN_SERIAL TRUE)
  set_tests_properties(serve_slow_reader serve_scale serve_tls_ws PROPERTIES
                       TIMEOUT 30 LABELS "net;serve;live" SKIP_RETURN_CODE 77
                       ENVIRONMENT "MQC_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endif()
