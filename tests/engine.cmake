# engine/: unit tests on a virtual clock, and interop tests with real clients
# (mosquitto_pub/sub, paho via /usr/bin/python3, MQTT.js) against mqcheck serve.
if(TARGET mqe)
  mqc_add_cmocka_test(test_engine SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_engine.c LIBS mqe mqspec)
endif()
if(TARGET mqcheck AND TARGET mqe AND TARGET mqn)
  add_test(NAME engine_interop
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/interop/interop.sh $<TARGET_FILE:mqcheck>)
  set_tests_properties(engine_interop PROPERTIES TIMEOUT 240 LABELS "engine;live" SKIP_RETURN_CODE 77
                       ENVIRONMENT "MQC_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endif()
