/*
 * test_codec_noalloc.c - proves that the codec never allocates.
 *
 * Linked with -Wl,--wrap=malloc,... (tests/codec.cmake): every reference to
 * the allocator from the objects linked into this program - libmqc's included
 * - goes through the __wrap_ functions below, which count calls while a
 * window is open. libc's and the sanitizer runtimes' own internal calls are
 * not redirected, which is what we want: only the codec's calls are counted.
 *
 * The window covers framing, decoding, the iterators, mqc_prop_lookup and
 * friends, encoding (plain and faulty) and the printers, over every vector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqc.h"
#include "test_codec_vec.h"

/* ------------------------------------------------------------------------ */
/* Allocator wrappers                                                       */
/* ------------------------------------------------------------------------ */

static volatile int g_window;          /* counting while non-zero */
static volatile unsigned long g_calls; /* allocator calls seen in the window */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__real_aligned_alloc(size_t a, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_aligned_alloc(size_t a, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

#define COUNT()                                                                                    \
  do {                                                                                             \
    if (g_window) g_calls++;                                                                       \
  } while (0)

void *__wrap_malloc(size_t n) {
  COUNT();
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t m) {
  COUNT();
  return __real_calloc(n, m);
}
void *__wrap_realloc(void *p, size_t n) {
  COUNT();
  return __real_realloc(p, n);
}
void __wrap_free(void *p) {
  if (p) COUNT();
  __real_free(p);
}
void *__wrap_aligned_alloc(size_t a, size_t n) {
  COUNT();
  return __real_aligned_alloc(a, n);
}
int __wrap_posix_memalign(void **p, size_t a, size_t n) {
  COUNT();
  return __real_posix_memalign(p, a, n);
}
char *__wrap_strdup(const char *s) {
  COUNT();
  return __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n) {
  COUNT();
  return __real_strndup(s, n);
}

int mqc_test_probe_alloc(void); /* test_codec_noalloc_probe.c */

/* ------------------------------------------------------------------------ */

static vec_set g_set;

static int group_setup(void **state) {
  (void)state;
  return vec_load_default(&g_set) ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  vec_free(&g_set);
  return 0;
}

/* The counters work: calls from this file and from an archive member count. */
static void test_counter_sees_calls(void **state) {
  (void)state;
  g_calls = 0;
  g_window = 1;
  void *volatile p = malloc(32);
  g_window = 0;
  assert_int_equal(g_calls, 1);
  free(p);

  g_calls = 0;
  g_window = 1;
  int ok = mqc_test_probe_alloc();
  g_window = 0;
  assert_true(ok);
  assert_true(g_calls >= 6); /* malloc, calloc, realloc and three frees */
  g_calls = 0;
}

static void test_codec_never_allocates(void **state) {
  (void)state;
  size_t maxlen = 0;
  for (size_t i = 0; i < g_set.n; i++)
    if (g_set.v[i].len > maxlen) maxlen = g_set.v[i].len;
  size_t cap = maxlen + 64;
  uint8_t *out = malloc(cap);
  size_t tcap = 1u << 16;
  char *text = malloc(tcap);
  assert_non_null(out);
  assert_non_null(text);
  assert_true(g_set.n >= 400);

  unsigned long decoded = 0;
  g_calls = 0;
  g_window = 1;
  for (size_t i = 0; i < g_set.n; i++) {
    const vec *v = &g_set.v[i];
    mqc_frame fr;
    mqc_error err;
    mqc_packet p, q;
    (void)mqc_frame_packet(v->bytes, v->len, v->version, MQC_NO_LIMIT, &fr, &err);
    (void)mqc_frame_packet(v->bytes, v->len, v->version, 64, &fr, &err);
    (void)mqc_decode(v->bytes, v->len / 2, v->version, v->dir, MQC_NO_LIMIT, &p, &err);
    mqc_status st = mqc_decode(v->bytes, v->len, v->version, v->dir, MQC_NO_LIMIT, &p, &err);
    (void)mqc_error_json(&err, text, tcap);
    if (st != MQC_OK) continue;
    decoded++;
    mqc_version ev = vec_encode_version(v, &p);
    size_t n = 0;
    (void)mqc_encode(&p, ev, NULL, 0, &n);
    (void)mqc_encode(&p, ev, out, cap, &n);
    (void)mqc_decode(out, n, v->version, v->dir, MQC_NO_LIMIT, &q, &err);
    (void)mqc_packet_equal(&p, &q);
    mqc_faults f;
    memset(&f, 0, sizeof f);
    f.length_bytes = 4;
    f.set_flags = true;
    f.flags = 0xF;
    (void)mqc_encode_faulty(&p, ev, &f, out, cap, &n);
    (void)mqc_print_line(&p, ev, text, tcap);
    (void)mqc_print_pretty(&p, ev, text, tcap);
    (void)mqc_print_json(&p, ev, text, 16); /* truncating */
    (void)mqc_print_json(&p, ev, text, tcap);
    const mqc_props *pr = mqc_packet_props(&p);
    if (pr) {
      mqc_prop_iter it;
      mqc_prop one;
      mqc_prop_iter_init(&it, pr);
      while (mqc_prop_next(&it, &one)) {
        (void)mqc_prop_lookup(one.id);
        (void)mqc_props_get(pr, one.id, &one);
      }
    }
    if (p.type == MQC_SUBSCRIBE) {
      mqc_list_iter it;
      mqc_sub_entry e;
      mqc_sub_iter_init(&it, &p.subscribe);
      while (mqc_sub_next(&it, &e))
        (void)mqc_topic_filter_valid(e.filter);
    }
    if (p.type == MQC_PUBLISH) (void)mqc_topic_name_valid(p.publish.topic);
  }
  (void)mqc_prop_by_name("user_property");
  (void)mqc_reason_name(MQC_SUBACK, 0x80);
  (void)mqc_reason_valid(MQC_DISCONNECT, MQC_FROM_SERVER, 0x8E);
  g_window = 0;
  unsigned long calls = g_calls;
  free(out);
  free(text);
  fprintf(stderr, "  %lu packets decoded, re-encoded and printed; %lu allocator calls\n", decoded,
          calls);
  assert_true(decoded >= 200);
  assert_int_equal(calls, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counter_sees_calls),
      cmocka_unit_test(test_codec_never_allocates),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
