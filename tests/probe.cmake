# probe (issue 12): `mqcheck probe` against real brokers started by the tests
# (mosquitto default, restricted with max_qos 1 and retain off, with a password
# file; aedes; a stub whose declarations its behaviour contradicts), the suite run with the probe instead of a profile (gated on the
# committed baselines: a failure caused by a legal choice is a regression),
# every bad input's exit code and message, and the HTML report and comparison
# checked in headless chromium (screenshots in build/<preset>/reports/html/).
foreach(case mosquitto mosquitto-restricted mosquitto-auth mosquitto-limits aedes compare-targets
             liar)
  add_test(NAME probe_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/probe/brokers.sh ${case} $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/probe-${case})
  set_tests_properties(probe_${case} PROPERTIES TIMEOUT 300)
endforeach()
foreach(case empty-folder no-yaml filter version refused unresolvable slow-dns probe-refused
             probe-usage report-bad-json)
  add_test(NAME bad_input_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/probe/bad-input.sh ${case} $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/bad-input/${case})
  # slow-dns needs private namespaces (unshare -m -n); 77 = skipped, counted
  set_tests_properties(bad_input_${case} PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77)
endforeach()
add_test(NAME report_html_chromium
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/probe/html.sh $<TARGET_FILE:mqcheck>
                 ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/html)
set_tests_properties(report_html_chromium PROPERTIES TIMEOUT 120)
