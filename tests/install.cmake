# Install into a temporary prefix and use it from another folder with a bare
# environment: run, gate against mosquitto, pytest via the entry point, man
# pages, completion (tests/install/test_install.sh).
add_test(NAME install_prefix
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install/test_install.sh ${PROJECT_BINARY_DIR}
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(install_prefix PROPERTIES TIMEOUT 120)
# pytest's -k and node IDs reach the runner: only the selected cases run.
add_test(NAME pytest_selection
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install/test_pytest_select.sh $<TARGET_FILE:mqcheck>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(pytest_selection PROPERTIES TIMEOUT 120)
