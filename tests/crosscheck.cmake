# Cross-check of the codec against mqtt-packet (npm), both ways; see
# docs/crosscheck.md. crosscheck-gen is the C side: it makes random valid
# packets with the codec and decodes bytes made by mqtt-packet.
add_executable(crosscheck-gen
  ${CMAKE_CURRENT_SOURCE_DIR}/crosscheck/gen.c
  ${CMAKE_CURRENT_SOURCE_DIR}/crosscheck/gen_packets.c)
target_link_libraries(crosscheck-gen PRIVATE mqc)

# ci/bootstrap test installs node and mqtt-packet, so in CI this runs. The
# script itself exits 77 (skip) when node_modules/mqtt-packet is missing.
find_program(MQC_NODE node)
if(MQC_NODE)
  add_test(NAME crosscheck_mqtt_packet
           COMMAND ${MQC_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/crosscheck/crosscheck.js
                   --gen $<TARGET_FILE:crosscheck-gen> --seed 20240601 --count 4000)
else()
  add_test(NAME crosscheck_mqtt_packet
           COMMAND sh -c "echo 'crosscheck: SKIP: node not found (ci/bootstrap test installs it)'; exit 77")
endif()
set_tests_properties(crosscheck_mqtt_packet PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120
                     LABELS "crosscheck")
