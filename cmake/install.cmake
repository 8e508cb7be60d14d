# Installed layout (docs/install.md), used by `cmake --install`,
# `make install PREFIX=...` and the .deb (CPack):
#   bin/mqcheck
#   share/mqcheck/{suite,spec,schemas,baselines}   found by the binary relative
#                                                  to itself (cli_suite_dir)
#   share/man/man1/mqcheck.1, mqcheck-COMMAND.1     generated from --help
#   share/bash-completion/completions/mqcheck       generated from --help
#   PYTHON_DIR/pytest_mqcheck and its dist-info     registered as a pytest11
#                                                  entry point
if(NOT TARGET mqcheck)
  return()
endif()

install(TARGETS mqcheck RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(MQC_SHARE ${CMAKE_INSTALL_DATADIR}/mqcheck)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/suite/ DESTINATION ${MQC_SHARE}/suite
        FILES_MATCHING PATTERN "*.yaml" PATTERN "*.yml" PATTERN "*.md")
install(FILES ${PROJECT_SOURCE_DIR}/spec/mqtt-3.1.1.tsv ${PROJECT_SOURCE_DIR}/spec/mqtt-5.0.tsv
        DESTINATION ${MQC_SHARE}/spec)
file(GLOB MQC_SCHEMAS ${PROJECT_SOURCE_DIR}/docs/*.schema.json)
install(FILES ${MQC_SCHEMAS} DESTINATION ${MQC_SHARE}/schemas)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/ci/baselines/ DESTINATION ${MQC_SHARE}/baselines)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The pytest plugin goes where /usr/bin/python3 looks: Debian's
# lib/python3/dist-packages under /usr, lib/python3.X/dist-packages elsewhere
# (e.g. /usr/local). The dist-info folder carries the pytest11 entry point,
# so `pytest --mq-target ...` loads the plugin with no -p and no PYTHONPATH.
set(MQC_PYTHON_DIR "" CACHE STRING
    "Install folder of the pytest plugin, relative to the prefix (default: what /usr/bin/python3 searches)")
if(MQC_PYTHON_DIR)
  set(MQC_PY_DIR ${MQC_PYTHON_DIR})
elseif(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(MQC_PY_DIR lib/python3/dist-packages)
else()
  execute_process(COMMAND /usr/bin/python3 -c "import sys; print('%d.%d' % sys.version_info[:2])"
                  OUTPUT_VARIABLE MQC_PY_VER OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT MQC_PY_VER)
    set(MQC_PY_VER 3)
  endif()
  set(MQC_PY_DIR lib/python${MQC_PY_VER}/dist-packages)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/python/pytest_mqcheck/__init__.py
        DESTINATION ${MQC_PY_DIR}/pytest_mqcheck)
set(MQC_DIST_INFO ${CMAKE_CURRENT_BINARY_DIR}/python/mqcheck-${PROJECT_VERSION}.dist-info)
file(CONFIGURE OUTPUT ${MQC_DIST_INFO}/METADATA CONTENT
"Metadata-Version: 2.1
Name: mqcheck
Version: ${PROJECT_VERSION}
Summary: pytest plugin running mqcheck MQTT conformance scenarios
")
# The entry point's name is the module's, so `-p pytest_mqcheck` given as
# well (older instructions) finds it registered instead of loading it twice.
file(CONFIGURE OUTPUT ${MQC_DIST_INFO}/entry_points.txt CONTENT
"[pytest11]
pytest_mqcheck = pytest_mqcheck
")
file(CONFIGURE OUTPUT ${MQC_DIST_INFO}/top_level.txt CONTENT "pytest_mqcheck\n")
install(DIRECTORY ${MQC_DIST_INFO} DESTINATION ${MQC_PY_DIR})

# Man pages and bash completion come from the built program's own --help, so
# they cannot drift from it.
set(MQC_GEN ${PROJECT_BINARY_DIR}/generated)
add_custom_command(
  OUTPUT ${MQC_GEN}/man1/mqcheck.1 ${MQC_GEN}/completion/mqcheck
  COMMAND ${CMAKE_COMMAND} -DMQCHECK=$<TARGET_FILE:mqcheck> -DOUT=${MQC_GEN}
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/gen-docs.cmake
  DEPENDS mqcheck ${PROJECT_SOURCE_DIR}/cmake/gen-docs.cmake
  COMMENT "Generating man pages and bash completion from mqcheck --help"
  VERBATIM)
add_custom_target(mqcheck-docs ALL DEPENDS ${MQC_GEN}/man1/mqcheck.1 ${MQC_GEN}/completion/mqcheck)
install(DIRECTORY ${MQC_GEN}/man1/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${MQC_GEN}/completion/mqcheck
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# The .deb: `cpack -G DEB` in a build configured with -DCMAKE_INSTALL_PREFIX=/usr
# (ci/deb-test does it). dpkg-shlibdeps derives Depends: from the libraries the
# binary really links (libc6, libssl3, libyaml-0-2, libwslay1).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mqcheck)
set(CPACK_PACKAGE_VENDOR mqcheck)
set(CPACK_PACKAGE_CONTACT "mqcheck maintainers <mqcheck@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "MQTT 3.1/3.1.1/5.0 conformance and fuzz-testing harness")
set(CPACK_PACKAGE_DESCRIPTION
    "Runs YAML conformance scenarios against any MQTT broker or a built-in reference engine, gates CI on a baseline, decodes and encodes packets and fuzzes brokers. Includes the scenario suite, the statement catalog, JSON schemas and a pytest plugin.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-pytest, mosquitto")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://localhost/mqcheck")
include(CPack)
