/*
 * test_codec_noalloc_probe.c - a deliberately allocating function, built as a
 * static library and linked into test_codec_noalloc exactly like libmqc, to
 * prove that the --wrap counters see calls made from archive members.
 */
#include <stdlib.h>

int mqc_test_probe_alloc(void);

int mqc_test_probe_alloc(void) {
  void *volatile p = malloc(16);
  void *volatile q = calloc(2, 8);
  void *volatile r = realloc(NULL, 8);
  int ok = p && q && r;
  free(p);
  free(q);
  free(r);
  return ok;
}
