# The statement catalog (spec/). Two tests:
# - test_spec (tests/test_spec.c): the catalog against the upstream ID lists
#   (spec/upstream, and ../shared/spec when this checkout sits next to it), the
#   codec's citations and the vectors, the parser, and the scenario scanner;
# - cli_spec: `mqcheck spec` end to end. It runs this same file in script mode
#   (cmake -P), which is the branch right below.
if(CMAKE_SCRIPT_MODE_FILE)
  # Inputs: MQCHECK, SOURCE_DIR, WORK_DIR.
  function(run out_rc out_stdout)
    execute_process(COMMAND ${MQCHECK} spec ${ARGN} WORKING_DIRECTORY ${WORK_DIR}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
    set(${out_rc} ${rc} PARENT_SCOPE)
    set(${out_stdout} "${o}" PARENT_SCOPE)
    set(last_stderr "${e}" PARENT_SCOPE)
  endfunction()
  function(expect_rc want)
    run(rc o ${ARGN})
    if(NOT rc EQUAL want)
      message(FATAL_ERROR "mqcheck spec ${ARGN}: exit ${rc}, want ${want}\n${last_stderr}")
    endif()
  endfunction()
  # check("<if() condition>" "message"): the condition is evaluated as code.
  macro(check cond msg)
    cmake_language(EVAL CODE "if(NOT (${cond}))\n  set(check_failed 1)\nelse()\n  set(check_failed 0)\nendif()")
    if(check_failed)
      message(FATAL_ERROR "${msg}")
    endif()
  endmacro()

  file(REMOVE_RECURSE ${WORK_DIR})
  file(MAKE_DIRECTORY ${WORK_DIR}/suite/v5)
  file(WRITE ${WORK_DIR}/suite/v5/ping.yaml
       "name: ping\nrules:\n  - MQTT-3.12.4-1   # PINGRESP\n  - MQTT-9.9.9-9   # no such statement\n")

  # Usage errors exit 2.
  expect_rc(2 --bogus)
  expect_rc(2 --version 7)
  expect_rc(2 --id MQTT-3.1.0-1 --coverage)
  expect_rc(2 --coverage --suite ${WORK_DIR}/does-not-exist)
  expect_rc(2 --suite ${WORK_DIR}/suite)

  # Listing.
  run(rc o --version 3.1.1)
  check("rc EQUAL 0" "spec --version 3.1.1: exit ${rc}")
  string(REGEX MATCHALL "\nMQTT-[0-9.]+-[0-9]+ " rows "\n${o}")
  list(LENGTH rows n)
  check("n EQUAL 141" "spec --version 3.1.1 lists ${n} statements, want 141")
  run(rc o --id 3.1.0-1 --version 5)
  check("rc EQUAL 0" "spec --id: exit ${rc}")
  check("o MATCHES \"binds: +client\"" "spec --id 3.1.0-1 --version 5:\n${o}")
  expect_rc(1 --id MQTT-0.0.0-0)
  run(rc o --json --catalog ${SOURCE_DIR}/spec)
  check("rc EQUAL 0" "spec --json --catalog: exit ${rc}\n${last_stderr}")
  string(JSON n LENGTH "${o}" versions 1 statements)
  check("n EQUAL 251" "spec --json: ${n} 5.0 statements")

  # Coverage with the defaults (run outside the tree: the built-in source dir).
  run(rc o --coverage --json)
  check("rc EQUAL 0" "spec --coverage --json: exit ${rc}\n${last_stderr}")
  string(JSON vfiles GET "${o}" sources vectors files)
  check("vfiles GREATER 5" "coverage scanned ${vfiles} vector files")
  string(JSON nv LENGTH "${o}" versions)
  check("nv EQUAL 2" "coverage has ${nv} versions")
  foreach(i 0 1)
    string(JSON ver GET "${o}" versions ${i} version)
    foreach(k statements wire_testable codec codec_catalog codec_vectors scenarios either
              uncovered_wire)
      string(JSON ${k} GET "${o}" versions ${i} totals ${k})
    endforeach()
    string(JSON server GET "${o}" versions ${i} totals binds server)
    string(JSON client GET "${o}" versions ${i} totals binds client)
    string(JSON both GET "${o}" versions ${i} totals binds both)
    string(JSON nlist LENGTH "${o}" versions ${i} uncovered_wire)
    string(JSON nstmt LENGTH "${o}" versions ${i} statements)
    math(EXPR sum "${server} + ${client} + ${both}")
    if(ver STREQUAL "3.1.1")
      set(want 141)
    else()
      set(want 251)
    endif()
    message(STATUS "MQTT ${ver}: ${statements} statements, ${wire_testable} wire-testable, "
                   "codec ${codec} (catalog ${codec_catalog}, vectors ${codec_vectors}), "
                   "scenarios ${scenarios}, either ${either}, uncovered wire ${uncovered_wire}")
    check("statements EQUAL want AND nstmt EQUAL want AND sum EQUAL want"
          "MQTT ${ver}: ${statements}/${nstmt}/${sum} statements, want ${want}")
    check("codec GREATER 0 AND codec_vectors GREATER 0 AND codec_catalog GREATER 0"
          "MQTT ${ver}: no codec coverage")
    check("NOT codec LESS codec_catalog AND NOT codec LESS codec_vectors"
          "MQTT ${ver}: codec ${codec} below its parts")
    check("NOT either LESS codec AND NOT either LESS scenarios AND NOT either GREATER statements"
          "MQTT ${ver}: either ${either} inconsistent")
    check("NOT wire_testable GREATER statements AND NOT uncovered_wire GREATER wire_testable"
          "MQTT ${ver}: wire counts inconsistent")
    check("nlist EQUAL uncovered_wire" "MQTT ${ver}: list of ${nlist} != ${uncovered_wire}")
    # The coverage gate: every statement the catalog says a scenario tests
    # (test server or both) has one, and every codec-tested one codec
    # coverage. Removing the last scenario citing one fails here.
    string(JSON owed GET "${o}" versions ${i} totals owed)
    string(JSON owed_covered GET "${o}" versions ${i} totals owed_covered)
    string(JSON nowed LENGTH "${o}" versions ${i} uncovered_owed)
    set(missing "")
    if(nowed GREATER 0)
      math(EXPR last "${nowed} - 1")
      foreach(j RANGE ${last})
        string(JSON id GET "${o}" versions ${i} uncovered_owed ${j})
        string(APPEND missing " ${id}")
      endforeach()
    endif()
    check("owed GREATER 50 AND owed_covered EQUAL owed AND nowed EQUAL 0"
          "MQTT ${ver}: ${owed_covered} of ${owed} wire-testable statements covered, want all; "
          "uncovered:${missing} (add a scenario citing each, or fix its test column in spec/)")
  endforeach()

  # A suite given on the command line counts, with its directory's version.
  run(rc o --coverage --json --version 5 --suite ${WORK_DIR}/suite)
  check("rc EQUAL 0" "coverage with --suite: exit ${rc}\n${last_stderr}")
  string(JSON scn GET "${o}" versions 0 totals scenarios)
  check("scn EQUAL 1" "fixture suite covers ${scn} statements, want 1")
  string(JSON nunk LENGTH "${o}" unknown)
  check("nunk EQUAL 1" "fixture suite: ${nunk} unknown IDs, want 1")
  string(JSON unk GET "${o}" unknown 0 id)
  check("unk STREQUAL \"MQTT-9.9.9-9\"" "unknown ID ${unk}")
  expect_rc(1 --coverage --strict --suite ${WORK_DIR}/suite)
  run(rc o --coverage --version 5 --suite ${WORK_DIR}/suite)
  check("rc EQUAL 0" "text coverage: exit ${rc}")
  check("o MATCHES \"covered by scenarios +1\"" "text coverage:\n${o}")
  check("last_stderr MATCHES \"MQTT-9.9.9-9\"" "unknown ID not reported")
  return()
endif()

if(TARGET mqspec)
  mqc_add_cmocka_test(test_spec SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_spec.c LIBS mqspec)
  get_filename_component(MQC_SHARED_SPEC_DIR ${PROJECT_SOURCE_DIR}/../shared/spec ABSOLUTE)
  if(NOT IS_DIRECTORY ${MQC_SHARED_SPEC_DIR})
    set(MQC_SHARED_SPEC_DIR "")
  endif()
  set_property(TEST test_spec APPEND PROPERTY ENVIRONMENT
               "MQC_SHARED_SPEC_DIR=${MQC_SHARED_SPEC_DIR}")
  if(TARGET mqcheck)
    add_test(NAME cli_spec
             COMMAND ${CMAKE_COMMAND} -DMQCHECK=$<TARGET_FILE:mqcheck>
                     -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                     -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_spec
                     -P ${CMAKE_CURRENT_SOURCE_DIR}/spec.cmake)
    set_tests_properties(cli_spec PROPERTIES TIMEOUT 120)
  endif()
endif()
