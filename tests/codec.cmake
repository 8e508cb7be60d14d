# The codec's tests. test_codec: table-driven vectors (tests/vectors/*.vec,
# format in docs/vectors.md) plus framer, encoder, printer and table tests.
mqc_add_cmocka_test(test_codec
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_codec.c ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_vec.c
  LIBS mqc)

# test_codec_noalloc: decodes, encodes and prints every vector with the
# allocator wrapped at link time (--wrap only redirects references from the
# objects and archives linked here, i.e. libmqc, not libc or the sanitizer
# runtimes) and asserts that the codec made zero allocation calls. The probe
# library proves the counters see calls from an archive member.
add_library(mqc_noalloc_probe STATIC ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_noalloc_probe.c)
mqc_add_cmocka_test(test_codec_noalloc
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_noalloc.c ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_vec.c
  LIBS mqc mqc_noalloc_probe)
target_link_options(test_codec_noalloc PRIVATE
  "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free"
  "LINKER:--wrap=aligned_alloc,--wrap=posix_memalign,--wrap=strdup,--wrap=strndup")
