# clients (issue 13): Eclipse Paho's interop suites against `mqcheck serve`
# (only where MQC_PAHO_TESTING names a checkout; a counted skip otherwise).
if(TARGET mqcheck)
  add_test(NAME paho_suites COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/clients/paho_suites.sh
                                    $<TARGET_FILE:mqcheck>)
  set_tests_properties(paho_suites PROPERTIES TIMEOUT 450 SKIP_RETURN_CODE 77 LABELS "clients;live")
endif()
