# clients (issue 13): Eclipse Paho's interop suites against `mqcheck serve`
# (only where MQC_PAHO_TESTING names a checkout; a counted skip otherwise).
if(TARGET mqk)
  mqc_add_cmocka_test(test_clientcheck SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_clientcheck.c LIBS mqk)
endif()
if(TARGET mqcheck)
  add_test(NAME paho_suites COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/clients/paho_suites.sh
                                    $<TARGET_FILE:mqcheck>)
  set_tests_properties(paho_suites PROPERTIES TIMEOUT 450 SKIP_RETURN_CODE 77 LABELS "clients;live")
endif()

# client-check against real clients (issue 13): each run's verdicts must match
# tests/clients/expected/<client>.txt; a client that is not installed is a
# counted skip. `broken` is the control: a client that breaks every statement.
find_library(PAHO_MQTT3C_LIBRARY paho-mqtt3c)
find_path(PAHO_MQTT_INCLUDE_DIR MQTTClient.h)
set(MQC_PAHO_C_CLIENT "")
if(PAHO_MQTT3C_LIBRARY AND PAHO_MQTT_INCLUDE_DIR)
  add_executable(paho_c_client ${CMAKE_CURRENT_SOURCE_DIR}/clients/paho_c_client.c)
  target_include_directories(paho_c_client PRIVATE ${PAHO_MQTT_INCLUDE_DIR})
  target_link_libraries(paho_c_client PRIVATE ${PAHO_MQTT3C_LIBRARY})
  set(MQC_PAHO_C_CLIENT $<TARGET_FILE:paho_c_client>)
endif()
if(TARGET mqcheck AND TARGET mqk)
  foreach(client mosquitto paho-python mqttjs paho-c broken)
    add_test(NAME client_check_${client}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/clients/clients.sh ${client} $<TARGET_FILE:mqcheck>
                     ${PROJECT_BINARY_DIR}/reports/clients/${client} ${MQC_PAHO_C_CLIENT})
    set_tests_properties(client_check_${client} PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77
                         LABELS "clients;live")
  endforeach()
endif()
