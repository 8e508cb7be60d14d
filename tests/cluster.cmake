# cluster: the suite's cluster section against real two-node topologies on
# loopback (tests/cluster/): an aedes cluster over redis, two bridged
# mosquitto, and two unconnected mosquitto that must fail every case.
foreach(kind aedes bridge unconnected)
  add_test(NAME cluster_${kind}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cluster/cluster.sh ${kind} $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/cluster-${kind})
  set_tests_properties(cluster_${kind} PROPERTIES TIMEOUT 120)
endforeach()
add_test(NAME cluster_bench_load
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cluster/bench.sh $<TARGET_FILE:mqcheck>
                 ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/cluster-bench)
set_tests_properties(cluster_bench_load PROPERTIES TIMEOUT 120)
add_test(NAME cluster_bad_input
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cluster/bad-input.sh $<TARGET_FILE:mqcheck>
                 ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/cluster-bad-input)
set_tests_properties(cluster_bad_input PROPERTIES TIMEOUT 120 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# mqcheck fuzz over the same topologies: no cross-node finding on the aedes
# cluster or the bridge, a replayable one on the unconnected pair.
foreach(kind aedes bridge unconnected)
  add_test(NAME cluster_fuzz_${kind}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cluster/fuzz.sh ${kind} $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/cluster-fuzz-${kind})
  # unconnected minimises its findings on the two nodes: about 90 s, 300 s under load
  set_tests_properties(cluster_fuzz_${kind} PROPERTIES TIMEOUT 300)
endforeach()
# mqcheck probe over the same topologies: the cluster promises each keeps.
foreach(kind aedes bridge unconnected)
  add_test(NAME cluster_probe_${kind}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cluster/probe.sh ${kind} $<TARGET_FILE:mqcheck>
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/reports/cluster-probe-${kind})
  set_tests_properties(cluster_probe_${kind} PROPERTIES TIMEOUT 120)
endforeach()
