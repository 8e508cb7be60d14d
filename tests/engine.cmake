# engine/: unit tests on a virtual clock, and interop tests with real clients
# (mosquitto_pub/sub, paho via /usr/bin/python3, MQTT.js) against mqcheck serve.
if(TARGET mqe)
  mqc_add_cmocka_test(test_engine SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_engine.c LIBS mqe)
endif()
