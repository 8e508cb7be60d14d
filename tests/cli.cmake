# End-to-end checks of the codec commands (decode, encode) through the CLI.
add_test(NAME cli_codec COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli_codec.sh $<TARGET_FILE:mqcheck>)
set_tests_properties(cli_codec PROPERTIES TIMEOUT 60)
# One CLI contract for every command `mqcheck --help` lists (help on stdout,
# usage errors exit 2 with one line naming the argument, invalid input exit 1).
add_test(NAME cli_contract
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli_contract.py $<TARGET_FILE:mqcheck>
         WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
set_tests_properties(cli_contract PROPERTIES ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1" TIMEOUT 120)
