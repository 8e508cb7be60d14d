# net/: real peers on loopback (mosquitto, node ws/MQTT.js, openssl CLI for the
# throw-away PKI). See tests/test_net.c for what each case starts.
mqc_add_cmocka_test(test_net SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_net.c LIBS mqn)
set_tests_properties(test_net PROPERTIES TIMEOUT 120 LABELS "net;live")
