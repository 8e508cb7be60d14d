# python: the pytest plugin's own tests (pytester): a failing scenario, a run
# that errors, a filtered-out case and a case missing from the runner's report
# each surface as such in pytest's result.
add_test(NAME python_plugin
         COMMAND /usr/bin/python3 -m pytest -q -p pytester ${CMAKE_CURRENT_SOURCE_DIR}/python
                 -o cache_dir=${PROJECT_BINARY_DIR}/pytest-cache-plugin
         WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
set_tests_properties(python_plugin PROPERTIES
  ENVIRONMENT "MQCHECK=$<TARGET_FILE:mqcheck>;PYTHONPATH=${PROJECT_SOURCE_DIR}/python;PYTHONDONTWRITEBYTECODE=1"
  TIMEOUT 120)
