# End-to-end checks of the codec commands (decode, encode) through the CLI.
add_test(NAME cli_codec COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_cli_codec.sh $<TARGET_FILE:mqcheck>)
set_tests_properties(cli_codec PROPERTIES TIMEOUT 60)
