mqc_add_cmocka_test(test_codec SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_codec.c LIBS mqc)
