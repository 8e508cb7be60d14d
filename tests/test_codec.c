/*
 * test_codec.c - the codec's test suite.
 *
 * Table-driven part: every vector of tests/vectors/NAME.vec (format in
 * docs/vectors.md) is decoded and compared with its expectation, then each
 * valid vector goes through every-prefix-is-incomplete, a guard page, the
 * encoder round trip and the printers. Vectors in pending-*.vec files are
 * reported but never fail the run: they document known codec disagreements.
 *
 * Hand-written part: framer limits and boundaries, encoder fault injection,
 * printers' text and snprintf semantics, and the public tables (properties,
 * reason codes, names, validators).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "mqc.h"
#include "test_codec_vec.h"

static vec_set g_set;

#define MIN_VECTORS 400

static int group_setup(void **state) {
  (void)state;
  if (!vec_load_default(&g_set)) return -1;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  vec_free(&g_set);
  return 0;
}

static size_t hex_to_bytes(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
    unsigned b;
    if (sscanf(hex + i, "%2x", &b) != 1) break;
    if (n < cap) out[n] = (uint8_t)b;
    n++;
  }
  return n;
}

/* ------------------------------------------------------------------------ */
/* Vector file checks                                                       */
/* ------------------------------------------------------------------------ */

/* Reports a failing vector. Returns 1 if it counts as a failure. */
static int report(const vec *v, const char *what, const char *msg) {
  fprintf(stderr, "%s%s: [%s] %s\n", v->pending ? "PENDING " : "", vec_where(v), what, msg);
  return v->pending ? 0 : 1;
}

static void test_vectors_loaded(void **state) {
  (void)state;
  assert_int_equal(g_set.parse_errors, 0);
  /* Counts per file, version and validity (also the report's table). */
  size_t total = 0, pending = 0;
  for (size_t f = 0; f < g_set.nfiles; f++) {
    unsigned c[4][2] = {{0}};
    for (size_t i = 0; i < g_set.n; i++) {
      const vec *v = &g_set.v[i];
      if (strcmp(v->file, g_set.files[f]) != 0) continue;
      int vi = v->version == MQC_V31    ? 0
               : v->version == MQC_V311 ? 1
               : v->version == MQC_V5   ? 2
                                        : 3;
      c[vi][v->ok ? 0 : 1]++;
    }
    unsigned sum = 0;
    for (int a = 0; a < 4; a++)
      sum += c[a][0] + c[a][1];
    fprintf(stderr, "  %-18s %4u  (3.1 %u/%u, 3.1.1 %u/%u, 5.0 %u/%u, auto %u/%u valid/invalid)\n",
            g_set.files[f], sum, c[0][0], c[0][1], c[1][0], c[1][1], c[2][0], c[2][1], c[3][0],
            c[3][1]);
  }
  for (size_t i = 0; i < g_set.n; i++) {
    if (g_set.v[i].pending)
      pending++;
    else
      total++;
  }
  fprintf(stderr, "  %zu vectors (+%zu pending)\n", total, pending);
  assert_true(total + pending >= MIN_VECTORS);

  /* every packet type appears valid and invalid, in each version it exists in */
  for (int t = 1; t <= 15; t++) {
    for (int ver = 3; ver <= 5; ver++) {
      if (t == MQC_AUTH && ver != 5) continue;
      int ok = 0, bad = 0;
      for (size_t i = 0; i < g_set.n; i++) {
        const vec *v = &g_set.v[i];
        if ((int)v->version != ver || !v->len || (v->bytes[0] >> 4) != t) continue;
        if (v->ok)
          ok++;
        else
          bad++;
      }
      if (!ok || !bad)
        fprintf(stderr, "coverage: %s in %d has %d valid and %d invalid vectors\n",
                mqc_type_name((mqc_type)t), ver, ok, bad);
      assert_true(ok > 0 && bad > 0);
    }
  }
}

static void test_vectors_decode(void **state) {
  (void)state;
  int failures = 0, pending_pass = 0;
  char msg[1024];
  for (size_t i = 0; i < g_set.n; i++) {
    const vec *v = &g_set.v[i];
    bool ok = vec_check(v, msg, sizeof msg);
    if (!ok)
      failures += report(v, "decode", msg);
    else if (v->pending) {
      fprintf(stderr, "pending vector now passes, move it: %s\n", vec_where(v));
      pending_pass++;
    }
  }
  if (failures) fprintf(stderr, "%d vector(s) failed\n", failures);
  assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------ */
/* Every prefix is incomplete                                               */
/* ------------------------------------------------------------------------ */

/* Which prefix lengths to try: all for small inputs, a sample for huge ones. */
static bool want_prefix(size_t k, size_t len) {
  if (len <= 70000) return true;
  return k < 64 || k + 64 >= len || k % (len / 97 + 1) == 0;
}

static int check_prefix(const vec *v, const uint8_t *buf, size_t k) {
  mqc_packet pkt;
  mqc_error err;
  mqc_frame fr;
  char msg[256];
  mqc_status st = mqc_decode(buf, k, v->version, v->dir, MQC_NO_LIMIT, &pkt, &err);
  if (st != MQC_INCOMPLETE || err.offset != k) {
    snprintf(msg, sizeof msg, "prefix of %zu/%zu bytes: status %d offset %zu (%s)", k, v->len,
             (int)st, err.offset, err.message ? err.message : "");
    return report(v, "prefix", msg);
  }
  st = mqc_frame_packet(buf, k, v->version, MQC_NO_LIMIT, &fr, &err);
  if (st != MQC_INCOMPLETE || fr.needed == 0 || k + fr.needed > v->len) {
    snprintf(msg, sizeof msg, "frame of %zu/%zu bytes: status %d needed %zu", k, v->len, (int)st,
             fr.needed);
    return report(v, "prefix", msg);
  }
  return 0;
}

static void test_prefixes_incomplete(void **state) {
  (void)state;
  int failures = 0;
  for (size_t i = 0; i < g_set.n; i++) {
    const vec *v = &g_set.v[i];
    if (!v->ok) continue;
    int before = failures;
    for (size_t k = 0; k < v->len && failures == before; k++)
      if (want_prefix(k, v->len)) failures += check_prefix(v, v->bytes, k);
    /* and the whole packet frames to exactly its length */
    mqc_frame fr;
    mqc_error err;
    mqc_status st = mqc_frame_packet(v->bytes, v->len, v->version, MQC_NO_LIMIT, &fr, &err);
    if (st != MQC_OK || fr.total_len != v->len ||
        fr.header_len + (size_t)fr.remaining_length != v->len)
      failures += report(v, "frame", "whole packet does not frame to its length");
  }
  assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------ */
/* Guard page                                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
  uint8_t *base;
  size_t maplen;
  uint8_t *guard; /* first byte of the PROT_NONE page */
} guarded;

static void guarded_map(guarded *g, size_t len) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t data_pages = (len + page - 1) / page + 1;
  g->maplen = (data_pages + 1) * page;
  void *m = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(m != MAP_FAILED);
  g->base = m;
  g->guard = g->base + data_pages * page;
  assert_int_equal(mprotect(g->guard, page, PROT_NONE), 0);
}

static void guarded_unmap(guarded *g) {
  munmap(g->base, g->maplen);
}

/* Copies b[0..n) so that it ends right before the guard page. */
static const uint8_t *guarded_place(guarded *g, const uint8_t *b, size_t n) {
  uint8_t *dst = g->guard - n;
  if (n) memcpy(dst, b, n);
  return dst;
}

static void test_guard_page(void **state) {
  (void)state;
  int failures = 0;
  char msg[512];
  for (size_t i = 0; i < g_set.n; i++) {
    const vec *v = &g_set.v[i];
    guarded g;
    guarded_map(&g, v->len);
    const uint8_t *b = guarded_place(&g, v->bytes, v->len);
    mqc_packet pkt, ref;
    mqc_error err, referr;
    mqc_status st = mqc_decode(b, v->len, v->version, v->dir, MQC_NO_LIMIT, &pkt, &err);
    mqc_status rst = mqc_decode(v->bytes, v->len, v->version, v->dir, MQC_NO_LIMIT, &ref, &referr);
    if (st != rst || err.reason != referr.reason || err.offset != referr.offset) {
      snprintf(msg, sizeof msg, "decode at a guard page differs: %d vs %d", (int)st, (int)rst);
      failures += report(v, "guard", msg);
    }
    if (st == MQC_OK) {
      /* walk everything the packet exposes while it sits on the guard */
      char out[256];
      mqc_print_line(&pkt, vec_encode_version(v, &pkt), out, sizeof out);
      mqc_print_json(&pkt, vec_encode_version(v, &pkt), out, sizeof out);
      const mqc_props *pr = mqc_packet_props(&pkt);
      if (pr) {
        mqc_prop_iter it;
        mqc_prop one;
        mqc_prop_iter_init(&it, pr);
        while (mqc_prop_next(&it, &one)) {
        }
      }
      if (pkt.type == MQC_SUBSCRIBE) {
        mqc_list_iter it;
        mqc_sub_entry e;
        mqc_sub_iter_init(&it, &pkt.subscribe);
        while (mqc_sub_next(&it, &e)) {
        }
      }
    }
    if (v->ok) {
      for (size_t k = 0; k < v->len; k++) {
        if (k > 4096 && !(k + 64 >= v->len || k % 4099 == 0)) continue;
        const uint8_t *pb = guarded_place(&g, v->bytes, k);
        failures += check_prefix(v, pb, k);
      }
    }
    guarded_unmap(&g);
  }
  /* an empty buffer placed at the guard itself */
  guarded g;
  guarded_map(&g, 0);
  mqc_packet pkt;
  mqc_error err;
  assert_int_equal(mqc_decode(g.guard, 0, MQC_V5, MQC_FROM_CLIENT, MQC_NO_LIMIT, &pkt, &err),
                   MQC_INCOMPLETE);
  guarded_unmap(&g);
  assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------ */
/* Round trip                                                               */
/* ------------------------------------------------------------------------ */

static void test_roundtrip(void **state) {
  (void)state;
  int failures = 0;
  char msg[512];
  for (size_t i = 0; i < g_set.n; i++) {
    const vec *v = &g_set.v[i];
    if (!v->ok) continue;
    mqc_packet p, q;
    mqc_error err;
    if (mqc_decode(v->bytes, v->len, v->version, v->dir, MQC_NO_LIMIT, &p, &err) != MQC_OK)
      continue;
    mqc_version ev = vec_encode_version(v, &p);
    size_t need = 0;
    mqc_status st = mqc_encode(&p, ev, NULL, 0, &need);
    if ((st != MQC_ERR_NOSPACE && st != MQC_OK) || need == 0) {
      snprintf(msg, sizeof msg, "sizing pass returned %d, size %zu", (int)st, need);
      failures += report(v, "encode", msg);
      continue;
    }
    /* exact capacity, written right before a guard page */
    guarded g;
    guarded_map(&g, need);
    uint8_t *out = g.guard - need;
    size_t n = 0;
    st = mqc_encode(&p, ev, out, need, &n);
    if (st != MQC_OK || n != need) {
      snprintf(msg, sizeof msg, "encode returned %d, %zu bytes (sized %zu)", (int)st, n, need);
      failures += report(v, "encode", msg);
      guarded_unmap(&g);
      continue;
    }
    /* one byte short must be refused without writing past cap */
    size_t n2 = 0;
    if (mqc_encode(&p, ev, out + 1, need - 1, &n2) != MQC_ERR_NOSPACE || n2 != need)
      failures += report(v, "encode", "cap - 1 is not MQC_ERR_NOSPACE with the full size");
    st = mqc_encode(&p, ev, out, need, &n); /* rewrite after the short attempt */
    if (!v->noncanon && (n != v->len || memcmp(out, v->bytes, n) != 0)) {
      char a[97] = "", b[97] = "";
      for (size_t k = 0; k < n && k < 48; k++)
        snprintf(a + 2 * k, 3, "%02x", out[k]);
      for (size_t k = 0; k < v->len && k < 48; k++)
        snprintf(b + 2 * k, 3, "%02x", v->bytes[k]);
      snprintf(msg, sizeof msg, "encode(decode(b)) != b: got %s%s want %s%s", a,
               n > 48 ? "..." : "", b, v->len > 48 ? "..." : "");
      failures += report(v, "roundtrip", msg);
    }
    if (v->noncanon && n == v->len && memcmp(out, v->bytes, n) == 0)
      failures += report(v, "roundtrip", "marked noncanon but the encoder reproduces it exactly");
    mqc_version dv = v->version == MQC_VERSION_AUTO ? MQC_VERSION_AUTO : ev;
    st = mqc_decode(out, n, dv, v->dir, MQC_NO_LIMIT, &q, &err);
    if (st != MQC_OK) {
      snprintf(msg, sizeof msg, "decode(encode(p)) failed: %s %s",
               err.statement ? err.statement : "-", err.message ? err.message : "");
      failures += report(v, "roundtrip", msg);
    } else if (!mqc_packet_equal(&p, &q)) {
      failures += report(v, "roundtrip", "decode(encode(p)) != p");
    }
    /* mqc_encode_faulty with no faults is mqc_encode */
    mqc_faults none;
    memset(&none, 0, sizeof none);
    uint8_t *tmp = malloc(need);
    size_t n3 = 0;
    if (mqc_encode_faulty(&p, ev, &none, tmp, need, &n3) != MQC_OK || n3 != n ||
        memcmp(tmp, out, n) != 0)
      failures += report(v, "encode", "mqc_encode_faulty without faults differs from mqc_encode");
    free(tmp);
    guarded_unmap(&g);
  }
  assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------ */
/* Framer                                                                   */
/* ------------------------------------------------------------------------ */

static void test_frame_boundaries(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    mqc_version v;
    mqc_status st;
    uint8_t header_len;
    uint32_t rl;
  } cases[] = {
      {"307f", MQC_V5, MQC_INCOMPLETE, 2, 127},
      {"308001", MQC_V5, MQC_INCOMPLETE, 3, 128},
      {"30ff7f", MQC_V5, MQC_INCOMPLETE, 3, 16383},
      {"30808001", MQC_V5, MQC_INCOMPLETE, 4, 16384},
      {"30ffff7f", MQC_V5, MQC_INCOMPLETE, 4, 2097151},
      {"3080808001", MQC_V5, MQC_INCOMPLETE, 5, 2097152},
      {"30ffffff7f", MQC_V5, MQC_INCOMPLETE, 5, 268435455},
      {"30ffffff7f", MQC_V311, MQC_INCOMPLETE, 5, 268435455},
      {"c000", MQC_V5, MQC_OK, 2, 0},
      {"c08000", MQC_V311, MQC_OK, 3, 0},
      {"c0808000", MQC_V311, MQC_OK, 4, 0},
      {"c080808000", MQC_V311, MQC_OK, 5, 0},
      {"c08000", MQC_V5, MQC_ERR_MALFORMED, 0, 0},
      {"30ff00", MQC_V5, MQC_ERR_MALFORMED, 0, 0},
      {"30ffffffff01", MQC_V5, MQC_ERR_MALFORMED, 0, 0},
      {"30ffffffff01", MQC_V311, MQC_ERR_MALFORMED, 0, 0},
      {"3080808080", MQC_V311, MQC_ERR_MALFORMED, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t b[16];
    size_t n = hex_to_bytes(cases[i].hex, b, sizeof b);
    mqc_frame fr;
    mqc_error err;
    memset(&fr, 0xA5, sizeof fr);
    mqc_status st = mqc_frame_packet(b, n, cases[i].v, MQC_NO_LIMIT, &fr, &err);
    if (st != cases[i].st)
      fprintf(stderr, "frame case %zu (%s): status %d\n", i, cases[i].hex, (int)st);
    assert_int_equal(st, cases[i].st);
    if (st == MQC_OK || st == MQC_INCOMPLETE) {
      assert_int_equal(fr.header_len, cases[i].header_len);
      assert_int_equal(fr.remaining_length, cases[i].rl);
      assert_int_equal(fr.total_len, cases[i].header_len + (size_t)cases[i].rl);
      if (st == MQC_INCOMPLETE) assert_int_equal(fr.needed, fr.total_len - n);
    } else {
      assert_int_equal(err.reason, MQC_RC_MALFORMED_PACKET);
      assert_int_equal(err.offset, 1);
    }
  }
  /* the incomplete header asks for more */
  uint8_t partial[] = {0x30, 0x80, 0x80};
  for (size_t k = 0; k <= sizeof partial; k++) {
    mqc_frame fr;
    mqc_error err;
    assert_int_equal(mqc_frame_packet(partial, k, MQC_V5, MQC_NO_LIMIT, &fr, &err), MQC_INCOMPLETE);
    assert_true(fr.needed >= 1);
  }
  /* two packets back to back: the first one is framed */
  uint8_t two[] = {0xC0, 0x00, 0xD0, 0x00};
  mqc_frame fr;
  mqc_error err;
  assert_int_equal(mqc_frame_packet(two, sizeof two, MQC_V311, MQC_NO_LIMIT, &fr, &err), MQC_OK);
  assert_int_equal(fr.total_len, 2);
  mqc_packet p;
  assert_int_equal(mqc_decode(two, sizeof two, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &err),
                   MQC_OK);
  assert_int_equal(p.type, MQC_PINGREQ);
}

static void test_frame_max_size(void **state) {
  (void)state;
  /* PUBLISH announcing 1000 bytes of body: total 1003 */
  uint8_t hdr[] = {0x30, 0xE8, 0x07};
  mqc_frame fr;
  mqc_error err;
  mqc_packet p;
  /* rejected as soon as the header is read, before the body arrives */
  assert_int_equal(mqc_frame_packet(hdr, sizeof hdr, MQC_V5, 100, &fr, &err), MQC_ERR_TOO_LARGE);
  assert_int_equal(err.reason, MQC_RC_PACKET_TOO_LARGE);
  assert_int_equal(mqc_decode(hdr, sizeof hdr, MQC_V5, MQC_FROM_CLIENT, 100, &p, &err),
                   MQC_ERR_TOO_LARGE);
  assert_int_equal(err.status, MQC_ERR_TOO_LARGE);
  assert_int_equal(err.reason, 0x95);
  assert_int_equal(mqc_frame_packet(hdr, sizeof hdr, MQC_V5, 1002, &fr, &err), MQC_ERR_TOO_LARGE);
  assert_int_equal(mqc_frame_packet(hdr, sizeof hdr, MQC_V5, 1003, &fr, &err), MQC_INCOMPLETE);
  assert_int_equal(fr.needed, 1000);
  assert_int_equal(mqc_frame_packet(hdr, sizeof hdr, MQC_V311, 1002, &fr, &err), MQC_ERR_TOO_LARGE);
  /* 268435455-byte body: total is over 256 MiB and must not overflow the check */
  uint8_t huge[] = {0x30, 0xFF, 0xFF, 0xFF, 0x7F};
  assert_int_equal(mqc_frame_packet(huge, sizeof huge, MQC_V5, 0xFFFFFFFFu, &fr, &err),
                   MQC_INCOMPLETE);
  assert_int_equal(mqc_frame_packet(huge, sizeof huge, MQC_V5, 268435459u, &fr, &err),
                   MQC_ERR_TOO_LARGE);
  assert_int_equal(mqc_frame_packet(huge, sizeof huge, MQC_V5, 268435460u, &fr, &err),
                   MQC_INCOMPLETE);
  /* a complete packet exactly at the limit is fine, one over is not */
  uint8_t ping[] = {0xC0, 0x00};
  assert_int_equal(mqc_decode(ping, 2, MQC_V5, MQC_FROM_CLIENT, 2, &p, &err), MQC_OK);
  assert_int_equal(mqc_decode(ping, 2, MQC_V5, MQC_FROM_CLIENT, 1, &p, &err), MQC_ERR_TOO_LARGE);
  /* a length that is still being read is not judged yet */
  uint8_t part[] = {0x30, 0x80};
  assert_int_equal(mqc_frame_packet(part, sizeof part, MQC_V5, 100, &fr, &err), MQC_INCOMPLETE);
}

/* ------------------------------------------------------------------------ */
/* Encoder fault injection                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
  mqc_version v;
  mqc_dir dir;
  const char *hex; /* a valid packet to start from */
  mqc_faults f;
  mqc_status st;    /* expected decode status of the faulty bytes */
  const char *stmt; /* expected statement (NULL: none) */
  uint8_t reason;
} fault_case;

static void test_encode_faulty(void **state) {
  (void)state;
  static const uint8_t zero = 0;
  const mqc_bytes trail = {&zero, 1};
  const fault_case cases[] = {
      {MQC_V5,
       MQC_FROM_CLIENT,
       "30060003612f6200",
       {.set_flags = true, .flags = 0x8},
       MQC_ERR_MALFORMED,
       "MQTT-3.3.1-2",
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "30060003612f6200",
       {.set_flags = true, .flags = 0x6},
       MQC_ERR_MALFORMED,
       "MQTT-3.3.1-4",
       0x81},
      {MQC_V311,
       MQC_FROM_CLIENT,
       "30050003612f62",
       {.set_flags = true, .flags = 0x9},
       MQC_ERR_MALFORMED,
       "MQTT-3.3.1-2",
       0x81},
      {MQC_V311,
       MQC_FROM_CLIENT,
       "820800010003612f6200",
       {.set_flags = true, .flags = 0x0},
       MQC_ERR_MALFORMED,
       "MQTT-3.8.1-1",
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "a2080001000003612f62",
       {.set_flags = true, .flags = 0x3},
       MQC_ERR_MALFORMED,
       "MQTT-3.10.1-1",
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "62020001",
       {.set_flags = true, .flags = 0x0},
       MQC_ERR_MALFORMED,
       "MQTT-3.6.1-1",
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "c000",
       {.set_flags = true, .flags = 0x1},
       MQC_ERR_MALFORMED,
       "MQTT-2.1.3-1",
       0x81},
      {MQC_V311,
       MQC_FROM_CLIENT,
       "c000",
       {.set_flags = true, .flags = 0x1},
       MQC_ERR_MALFORMED,
       "MQTT-2.2.2-2",
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "e000",
       {.set_flags = true, .flags = 0x2},
       MQC_ERR_MALFORMED,
       "MQTT-3.14.1-1",
       0x81},
      {MQC_V5,
       MQC_FROM_SERVER,
       "f000",
       {.set_flags = true, .flags = 0x1},
       MQC_ERR_MALFORMED,
       "MQTT-3.15.1-1",
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "c000",
       {.set_type = true, .type = 0},
       MQC_ERR_MALFORMED,
       NULL,
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "c000",
       {.set_type = true, .type = 13},
       MQC_ERR_PROTOCOL,
       NULL,
       0x82},
      {MQC_V311,
       MQC_FROM_CLIENT,
       "c000",
       {.set_type = true, .type = 15},
       MQC_ERR_MALFORMED,
       NULL,
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "30060003612f6200",
       {.set_remaining_length = true, .remaining_length = 3},
       MQC_ERR_MALFORMED,
       "MQTT-3.3.2-1",
       0x81},
      {MQC_V311,
       MQC_FROM_CLIENT,
       "40020001",
       {.set_remaining_length = true, .remaining_length = 1},
       MQC_ERR_MALFORMED,
       NULL,
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "40020001",
       {.length_bytes = 2},
       MQC_ERR_MALFORMED,
       "MQTT-1.5.5-1",
       0x81},
      {MQC_V5,
       MQC_FROM_SERVER,
       "2003000000",
       {.length_bytes = 4},
       MQC_ERR_MALFORMED,
       "MQTT-1.5.5-1",
       0x81},
      {MQC_V311, MQC_FROM_CLIENT, "40020001", {.length_bytes = 5}, MQC_ERR_MALFORMED, NULL, 0x81},
      {MQC_V311, MQC_FROM_CLIENT, "40020001", {.length_bytes = 3}, MQC_OK, NULL, 0},
      {MQC_V311, MQC_FROM_CLIENT, "c000", {.trailing = trail}, MQC_ERR_MALFORMED, NULL, 0x81},
      {MQC_V5, MQC_FROM_SERVER, "2003000000", {.trailing = trail}, MQC_ERR_MALFORMED, NULL, 0x81},
      {MQC_V311, MQC_FROM_SERVER, "b0020001", {.trailing = trail}, MQC_ERR_MALFORMED, NULL, 0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "100e00044d5154540502003c00000163",
       {.set_connect_flags = true, .connect_flags = 0x03},
       MQC_ERR_MALFORMED,
       "MQTT-3.1.2-3",
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "100e00044d5154540502003c00000163",
       {.set_connect_flags = true, .connect_flags = 0x0A},
       MQC_ERR_MALFORMED,
       "MQTT-3.1.2-11",
       0x81},
      {MQC_V5,
       MQC_FROM_CLIENT,
       "100e00044d5154540502003c00000163",
       {.set_connect_flags = true, .connect_flags = 0x22},
       MQC_ERR_MALFORMED,
       "MQTT-3.1.2-13",
       0x81},
      {MQC_V311,
       MQC_FROM_CLIENT,
       "101300044d51545404c2003c000163000175000170",
       {.set_connect_flags = true, .connect_flags = 0x42},
       MQC_ERR_MALFORMED,
       "MQTT-3.1.2-22",
       0x81},
      {MQC_V311,
       MQC_FROM_CLIENT,
       "100d00044d5154540402003c000163",
       {.set_connect_flags = true, .connect_flags = 0x12},
       MQC_ERR_MALFORMED,
       "MQTT-3.1.2-13",
       0x81},
      {MQC_V5, MQC_FROM_CLIENT, "4003000110", {.omit_reason = true}, MQC_OK, NULL, 0},
      {MQC_V5, MQC_FROM_CLIENT, "e00104", {.omit_reason = true}, MQC_OK, NULL, 0},
  };
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const fault_case *c = &cases[i];
    uint8_t in[128], out[256];
    size_t n = hex_to_bytes(c->hex, in, sizeof in);
    mqc_packet p, q;
    mqc_error err;
    mqc_status st = mqc_decode(in, n, c->v, c->dir, MQC_NO_LIMIT, &p, &err);
    if (st != MQC_OK)
      fprintf(stderr, "fault case %zu: the starting packet %s does not decode\n", i, c->hex);
    assert_int_equal(st, MQC_OK);
    size_t len = 0;
    st = mqc_encode_faulty(&p, c->v, &c->f, out, sizeof out, &len);
    assert_int_equal(st, MQC_OK);
    st = mqc_decode(out, len, c->v, c->dir, MQC_NO_LIMIT, &q, &err);
    bool ok =
        st == c->st &&
        (st == MQC_OK || (err.reason == c->reason && (c->stmt == NULL) == (err.statement == NULL) &&
                          (c->stmt == NULL || !strcmp(c->stmt, err.statement))));
    if (ok && st == MQC_OK) {
      if (c->f.omit_reason) {
        ok = len == (c->hex[0] == 'e' ? 2u : 4u) &&
             (q.type == MQC_DISCONNECT ? q.disconnect.reason : q.ack.reason) == 0;
      } else {
        ok = mqc_packet_equal(&p, &q) && q.header_len == 1 + c->f.length_bytes;
      }
    }
    if (!ok) {
      fprintf(stderr, "fault case %zu (%s): got status %d %s 0x%02x (%s)\n", i, c->hex, (int)st,
              err.statement ? err.statement : "-", err.reason, err.message ? err.message : "");
      failures++;
    }
  }
  /* a lie upwards leaves the decoder waiting for the body */
  {
    uint8_t in[] = {0x40, 0x02, 0x00, 0x01}, out[16];
    mqc_packet p, q;
    mqc_error err;
    assert_int_equal(mqc_decode(in, sizeof in, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &err),
                     MQC_OK);
    mqc_faults f;
    memset(&f, 0, sizeof f);
    f.set_remaining_length = true;
    f.remaining_length = 9;
    size_t len = 0;
    assert_int_equal(mqc_encode_faulty(&p, MQC_V311, &f, out, sizeof out, &len), MQC_OK);
    assert_int_equal(len, 4);
    assert_int_equal(out[1], 9);
    assert_int_equal(mqc_decode(out, len, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &q, &err),
                     MQC_INCOMPLETE);
  }
  assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------------ */
/* Printers                                                                 */
/* ------------------------------------------------------------------------ */

typedef size_t (*printer)(const mqc_packet *, mqc_version, char *, size_t);

/* snprintf semantics at capacity cap, with a canary after the buffer. */
static bool printer_cap_ok(printer f, const mqc_packet *p, mqc_version v, const char *full,
                           size_t len, size_t cap) {
  char *buf = malloc(cap + 8);
  memset(buf, 'Z', cap + 8);
  size_t r = f(p, v, buf, cap);
  bool ok = r == len;
  if (cap > 0) {
    size_t w = cap - 1 < len ? cap - 1 : len;
    ok = ok && buf[w] == '\0' && memcmp(buf, full, w) == 0;
  }
  for (size_t k = cap; k < cap + 8; k++)
    ok = ok && buf[k] == 'Z';
  free(buf);
  return ok;
}

static void test_printers_snprintf(void **state) {
  (void)state;
  printer printers[] = {mqc_print_line, mqc_print_pretty, mqc_print_json};
  const char *names[] = {"line", "pretty", "json"};
  int failures = 0;
  for (size_t i = 0; i < g_set.n; i++) {
    const vec *v = &g_set.v[i];
    if (!v->ok) continue;
    mqc_packet p;
    mqc_error err;
    if (mqc_decode(v->bytes, v->len, v->version, v->dir, MQC_NO_LIMIT, &p, &err) != MQC_OK)
      continue;
    mqc_version ev = vec_encode_version(v, &p);
    for (int k = 0; k < 3; k++) {
      size_t len = printers[k](&p, ev, NULL, 0);
      char *full = malloc(len + 1);
      size_t again = printers[k](&p, ev, full, len + 1);
      char msg[160];
      if (again != len || strlen(full) != len) {
        snprintf(msg, sizeof msg, "%s: length %zu, then %zu, strlen %zu", names[k], len, again,
                 strlen(full));
        failures += report(v, "print", msg);
        free(full);
        continue;
      }
      /* deterministic */
      char *twice = malloc(len + 1);
      printers[k](&p, ev, twice, len + 1);
      if (strcmp(full, twice)) failures += report(v, "print", "output differs between two calls");
      free(twice);
      size_t caps[] = {1, 2, 3, 7, len / 2, len > 0 ? len - 1 : 0, len, len + 1, len + 2};
      for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        if (!printer_cap_ok(printers[k], &p, ev, full, len, caps[c])) {
          snprintf(msg, sizeof msg, "%s: snprintf semantics broken at cap %zu (len %zu)", names[k],
                   caps[c], len);
          failures += report(v, "print", msg);
          break;
        }
      }
      if (k == 0 && strchr(full, '\n'))
        failures += report(v, "print", "line printer emitted a newline");
      if (k == 2) {
        bool clean = len >= 2 && full[0] == '{' && full[len - 1] == '}';
        for (size_t c = 0; c < len; c++)
          if ((unsigned char)full[c] < 0x20 && full[c] != '\n') clean = false;
        if (!clean || !mqc_utf8_valid((mqc_bytes){(const uint8_t *)full, len}))
          failures += report(v, "print", "json output is not a clean UTF-8 object");
        int depth = 0;
        bool in_str = false;
        for (size_t c = 0; c < len; c++) {
          if (in_str) {
            if (full[c] == '\\')
              c++;
            else if (full[c] == '"')
              in_str = false;
          } else if (full[c] == '"')
            in_str = true;
          else if (full[c] == '{' || full[c] == '[')
            depth++;
          else if (full[c] == '}' || full[c] == ']')
            depth--;
        }
        if (depth != 0 || in_str)
          failures += report(v, "print", "json brackets/strings unbalanced");
      }
      free(full);
    }
  }
  assert_int_equal(failures, 0);
}

/* Finds "key": VALUE in a JSON text, allowing any blanks around the colon. */
static bool json_has(const char *json, const char *key, const char *value) {
  char k[64];
  snprintf(k, sizeof k, "\"%s\"", key);
  for (const char *p = strstr(json, k); p; p = strstr(p + 1, k)) {
    const char *q = p + strlen(k);
    while (*q == ' ' || *q == '\n' || *q == '\t')
      q++;
    if (*q != ':') continue;
    q++;
    while (*q == ' ' || *q == '\n' || *q == '\t')
      q++;
    if (value == NULL || strncmp(q, value, strlen(value)) == 0) return true;
  }
  return false;
}

static void test_printers_text(void **state) {
  (void)state;
  /* 3.1.1 PUBLISH q1 id=42 topic "a/b" payload "21.5" (the header's example) */
  uint8_t pub[] = {0x32, 0x0B, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x2A, '2', '1', '.', '5'};
  mqc_packet p;
  mqc_error err;
  assert_int_equal(mqc_decode(pub, sizeof pub, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &err),
                   MQC_OK);
  char out[512];
  size_t n = mqc_print_line(&p, MQC_V311, out, sizeof out);
  fprintf(stderr, "  line: %s\n", out);
  assert_int_equal(n, strlen(out));
  /* The documented one-line form (mqc.h): "TYPE field field ...". */
  assert_string_equal(out, "PUBLISH q1 id=42 topic=\"a/b\" payload=4B \"21.5\"");
  assert_non_null(strstr(out, "q1"));
  assert_non_null(strstr(out, "id=42"));
  assert_non_null(strstr(out, "topic=\"a/b\""));
  assert_non_null(strstr(out, "payload=4B \"21.5\""));

  n = mqc_print_pretty(&p, MQC_V311, out, sizeof out);
  assert_non_null(strstr(out, "PUBLISH"));
  assert_non_null(strstr(out, "a/b"));
  assert_non_null(strchr(out, '\n'));

  n = mqc_print_json(&p, MQC_V311, out, sizeof out);
  fprintf(stderr, "  json: %s\n", out);
  assert_non_null(strstr(out, "\"PUBLISH\""));
  assert_true(json_has(out, "topic", "\"a/b\""));
  assert_true(json_has(out, "packet_id", "42"));
  assert_true(json_has(out, "qos", "1"));

  /* strings that need escaping in JSON */
  uint8_t q[] = {0x30, 0x09, 0x00, 0x04, 'a', '"', '\\', 'b', 0x01, 0x0A, 0xFF};
  assert_int_equal(mqc_decode(q, sizeof q, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &err),
                   MQC_OK);
  n = mqc_print_json(&p, MQC_V311, out, sizeof out);
  assert_non_null(strstr(out, "a\\\"\\\\b"));
  for (size_t i = 0; i < n; i++)
    assert_true((unsigned char)out[i] >= 0x20 || out[i] == '\n');

  /* PINGREQ and a 5.0 DISCONNECT with a reason */
  uint8_t ping[] = {0xC0, 0x00};
  assert_int_equal(mqc_decode(ping, 2, MQC_V5, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &err), MQC_OK);
  mqc_print_line(&p, MQC_V5, out, sizeof out);
  assert_true(strncmp(out, "PINGREQ", 7) == 0);
  uint8_t disc[] = {0xE0, 0x01, 0x8E};
  assert_int_equal(mqc_decode(disc, 3, MQC_V5, MQC_FROM_SERVER, MQC_NO_LIMIT, &p, &err), MQC_OK);
  mqc_print_line(&p, MQC_V5, out, sizeof out);
  fprintf(stderr, "  line: %s\n", out);
  assert_true(strncmp(out, "DISCONNECT", 10) == 0);

  /* error JSON: {"status": "...", "offset": N, "reason_code": N, "statement": "..."|null,
   * "message": "..."} */
  uint8_t bad[] = {0x30, 0x05, 0x00, 0x03, 'a', '/', '#'};
  assert_int_equal(mqc_decode(bad, sizeof bad, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &err),
                   MQC_ERR_PROTOCOL);
  n = mqc_error_json(&err, out, sizeof out);
  fprintf(stderr, "  error: %s\n", out);
  assert_int_equal(n, strlen(out));
  assert_true(json_has(out, "status", "\""));
  assert_true(json_has(out, "reason_code", "130"));
  assert_true(json_has(out, "statement", "\"MQTT-3.3.2-2\""));
  assert_true(json_has(out, "message", "\""));
  char offs[32];
  snprintf(offs, sizeof offs, "%zu", err.offset);
  assert_true(json_has(out, "offset", offs));
  uint8_t trailing[] = {0xC0, 0x01, 0x00};
  assert_int_equal(mqc_decode(trailing, 3, MQC_V5, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &err),
                   MQC_ERR_MALFORMED);
  n = mqc_error_json(&err, out, sizeof out);
  assert_true(json_has(out, "statement", "null"));
  assert_true(json_has(out, "reason_code", "129"));
  /* truncation */
  char small[8];
  memset(small, 'Z', sizeof small);
  assert_int_equal(mqc_error_json(&err, small, 5), n);
  assert_int_equal(small[4], '\0');
  assert_int_equal(small[5], 'Z');
  assert_int_equal(mqc_error_json(&err, NULL, 0), n);
}

/* ------------------------------------------------------------------------ */
/* Tables and validators                                                    */
/* ------------------------------------------------------------------------ */

#define B(t) (1u << (t))
#define ACKS (B(MQC_PUBACK) | B(MQC_PUBREC) | B(MQC_PUBREL) | B(MQC_PUBCOMP))

static void test_prop_table(void **state) {
  (void)state;
  /* MQTT 5.0 section 2.2.2.2, Table 2-4 */
  static const struct {
    uint32_t id;
    const char *name;
    mqc_prop_type type;
    uint32_t allowed;
  } t[] = {
      {0x01, "payload_format_indicator", MQC_PT_BYTE, B(MQC_PUBLISH) | MQC_PROP_IN_WILL},
      {0x02, "message_expiry_interval", MQC_PT_U32, B(MQC_PUBLISH) | MQC_PROP_IN_WILL},
      {0x03, "content_type", MQC_PT_UTF8, B(MQC_PUBLISH) | MQC_PROP_IN_WILL},
      {0x08, "response_topic", MQC_PT_UTF8, B(MQC_PUBLISH) | MQC_PROP_IN_WILL},
      {0x09, "correlation_data", MQC_PT_BINARY, B(MQC_PUBLISH) | MQC_PROP_IN_WILL},
      {0x0B, "subscription_identifier", MQC_PT_VARINT, B(MQC_PUBLISH) | B(MQC_SUBSCRIBE)},
      {0x11, "session_expiry_interval", MQC_PT_U32,
       B(MQC_CONNECT) | B(MQC_CONNACK) | B(MQC_DISCONNECT)},
      {0x12, "assigned_client_identifier", MQC_PT_UTF8, B(MQC_CONNACK)},
      {0x13, "server_keep_alive", MQC_PT_U16, B(MQC_CONNACK)},
      {0x15, "authentication_method", MQC_PT_UTF8, B(MQC_CONNECT) | B(MQC_CONNACK) | B(MQC_AUTH)},
      {0x16, "authentication_data", MQC_PT_BINARY, B(MQC_CONNECT) | B(MQC_CONNACK) | B(MQC_AUTH)},
      {0x17, "request_problem_information", MQC_PT_BYTE, B(MQC_CONNECT)},
      {0x18, "will_delay_interval", MQC_PT_U32, MQC_PROP_IN_WILL},
      {0x19, "request_response_information", MQC_PT_BYTE, B(MQC_CONNECT)},
      {0x1A, "response_information", MQC_PT_UTF8, B(MQC_CONNACK)},
      {0x1C, "server_reference", MQC_PT_UTF8, B(MQC_CONNACK) | B(MQC_DISCONNECT)},
      {0x1F, "reason_string", MQC_PT_UTF8,
       B(MQC_CONNACK) | ACKS | B(MQC_SUBACK) | B(MQC_UNSUBACK) | B(MQC_DISCONNECT) | B(MQC_AUTH)},
      {0x21, "receive_maximum", MQC_PT_U16, B(MQC_CONNECT) | B(MQC_CONNACK)},
      {0x22, "topic_alias_maximum", MQC_PT_U16, B(MQC_CONNECT) | B(MQC_CONNACK)},
      {0x23, "topic_alias", MQC_PT_U16, B(MQC_PUBLISH)},
      {0x24, "maximum_qos", MQC_PT_BYTE, B(MQC_CONNACK)},
      {0x25, "retain_available", MQC_PT_BYTE, B(MQC_CONNACK)},
      {0x26, "user_property", MQC_PT_UTF8_PAIR,
       B(MQC_CONNECT) | B(MQC_CONNACK) | B(MQC_PUBLISH) | MQC_PROP_IN_WILL | ACKS |
           B(MQC_SUBSCRIBE) | B(MQC_SUBACK) | B(MQC_UNSUBSCRIBE) | B(MQC_UNSUBACK) |
           B(MQC_DISCONNECT) | B(MQC_AUTH)},
      {0x27, "maximum_packet_size", MQC_PT_U32, B(MQC_CONNECT) | B(MQC_CONNACK)},
      {0x28, "wildcard_subscription_available", MQC_PT_BYTE, B(MQC_CONNACK)},
      {0x29, "subscription_identifier_available", MQC_PT_BYTE, B(MQC_CONNACK)},
      {0x2A, "shared_subscription_available", MQC_PT_BYTE, B(MQC_CONNACK)},
  };
  int known = 0;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    const mqc_prop_info *info = mqc_prop_lookup(t[i].id);
    assert_non_null(info);
    assert_int_equal(info->id, t[i].id);
    assert_string_equal(info->name, t[i].name);
    assert_int_equal(info->type, t[i].type);
    if (info->allowed != t[i].allowed)
      fprintf(stderr, "property 0x%02x: allowed 0x%x, spec 0x%x\n", (unsigned)t[i].id,
              info->allowed, t[i].allowed);
    assert_int_equal(info->allowed, t[i].allowed);
    assert_ptr_equal(mqc_prop_by_name(t[i].name), info);
  }
  for (uint32_t id = 0; id < 300; id++)
    if (mqc_prop_lookup(id)) known++;
  assert_int_equal(known, 27);
  assert_null(mqc_prop_lookup(0xFFFFFFFFu));
  assert_null(mqc_prop_by_name("no_such_property"));
  assert_null(mqc_prop_by_name(""));
}

/* Reason codes per packet type and sender (5.0 tables 3-1, 3-4..3-9, 3-10, 3-11). */
static void test_reason_tables(void **state) {
  (void)state;
  static const uint8_t connack[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                    0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
  static const uint8_t puback[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
  static const uint8_t pubrel[] = {0x00, 0x92};
  static const uint8_t suback[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                   0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
  static const uint8_t unsuback[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
  static const uint8_t disc_both[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93,
                                      0x94, 0x95, 0x96, 0x97, 0x98, 0x99};
  static const uint8_t disc_client[] = {0x04};
  /* 0x8C: Table 2-6 lists Bad authentication method for CONNACK and DISCONNECT, although the
   * DISCONNECT table (3-10) omits it; the codec follows Table 2-6 (server side), so do we. */
  static const uint8_t disc_server[] = {0x87, 0x89, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x9A,
                                        0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
  static const uint8_t auth_both[] = {0x18};
  static const uint8_t auth_client[] = {0x19};
  static const uint8_t auth_server[] = {0x00};
  struct set {
    const uint8_t *c;
    size_t n;
  };
#define S(a)                                                                                       \
  { a, sizeof a }
  const struct {
    mqc_type t;
    struct set both, client, server;
    bool from_client, from_server; /* directions the packet exists in */
  } tab[] = {
      {MQC_CONNACK, S(connack), {NULL, 0}, {NULL, 0}, false, true},
      {MQC_PUBACK, S(puback), {NULL, 0}, {NULL, 0}, true, true},
      {MQC_PUBREC, S(puback), {NULL, 0}, {NULL, 0}, true, true},
      {MQC_PUBREL, S(pubrel), {NULL, 0}, {NULL, 0}, true, true},
      {MQC_PUBCOMP, S(pubrel), {NULL, 0}, {NULL, 0}, true, true},
      {MQC_SUBACK, S(suback), {NULL, 0}, {NULL, 0}, false, true},
      {MQC_UNSUBACK, S(unsuback), {NULL, 0}, {NULL, 0}, false, true},
      {MQC_DISCONNECT, S(disc_both), S(disc_client), S(disc_server), true, true},
      {MQC_AUTH, S(auth_both), S(auth_client), S(auth_server), true, true},
  };
#undef S
  int failures = 0;
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
    for (int d = 0; d < 2; d++) {
      if ((d == 0 && !tab[i].from_client) || (d == 1 && !tab[i].from_server)) continue;
      for (unsigned code = 0; code < 256; code++) {
        bool want = memchr(tab[i].both.c, (int)code, tab[i].both.n) != NULL;
        const struct set *own = d == 0 ? &tab[i].client : &tab[i].server;
        if (own->n && memchr(own->c, (int)code, own->n)) want = true;
        bool got = mqc_reason_valid(tab[i].t, (mqc_dir)d, (uint8_t)code);
        bool pending = false; /* no known disagreement left */
        if (got != want) {
          fprintf(stderr, "%smqc_reason_valid(%s, %s, 0x%02x) = %d, spec says %d\n",
                  pending ? "PENDING " : "", mqc_type_name(tab[i].t), d ? "server" : "client", code,
                  got, want);
          if (!pending) failures++;
        } else if (pending) {
          fprintf(stderr, "pending reason-table entry now passes: AUTH 0x%02x from %s\n", code,
                  d ? "server" : "client");
        }
        if (want && !mqc_reason_name(tab[i].t, (uint8_t)code)) {
          fprintf(stderr, "mqc_reason_name(%s, 0x%02x) is NULL\n", mqc_type_name(tab[i].t), code);
          failures++;
        }
      }
    }
    for (unsigned code = 0; code < 256; code++) {
      bool defined = memchr(tab[i].both.c, (int)code, tab[i].both.n) ||
                     (tab[i].client.n && memchr(tab[i].client.c, (int)code, tab[i].client.n)) ||
                     (tab[i].server.n && memchr(tab[i].server.c, (int)code, tab[i].server.n));
      if (!defined && mqc_reason_name(tab[i].t, (uint8_t)code)) {
        fprintf(stderr, "mqc_reason_name(%s, 0x%02x) is not NULL\n", mqc_type_name(tab[i].t), code);
        failures++;
      }
    }
  }
  assert_string_equal(mqc_reason_name(MQC_SUBACK, 0x01), "Granted QoS 1");
  assert_string_equal(mqc_reason_name(MQC_DISCONNECT, 0x00), "Normal disconnection");
  assert_int_equal(failures, 0);
}

static void test_names(void **state) {
  (void)state;
  static const char *names[] = {"RESERVED",  "CONNECT",  "CONNACK",     "PUBLISH",
                                "PUBACK",    "PUBREC",   "PUBREL",      "PUBCOMP",
                                "SUBSCRIBE", "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
                                "PINGREQ",   "PINGRESP", "DISCONNECT",  "AUTH"};
  for (int t = 0; t < 16; t++)
    assert_string_equal(mqc_type_name((mqc_type)t), names[t]);
  assert_non_null(mqc_type_name((mqc_type)99));
  const char *seen[8];
  for (int s = MQC_OK; s <= MQC_ERR_ARGUMENT; s++) {
    seen[s] = mqc_strerror((mqc_status)s);
    assert_non_null(seen[s]);
    for (int k = 0; k < s; k++)
      assert_true(strcmp(seen[k], seen[s]) != 0);
  }
  assert_non_null(mqc_strerror((mqc_status)99));
  assert_string_equal(mqc_version_name(MQC_V31), "3.1");
  assert_string_equal(mqc_version_name(MQC_V311), "3.1.1");
  assert_string_equal(mqc_version_name(MQC_V5), "5.0");
}

static bool utf8(const char *s, size_t n) {
  return mqc_utf8_valid((mqc_bytes){(const uint8_t *)s, n});
}

static void test_validators(void **state) {
  (void)state;
  assert_true(utf8("", 0));
  assert_true(utf8("a/b", 3));
  assert_true(utf8("\xc3\xa9", 2));
  assert_true(utf8("\xe2\x82\xac", 3));
  assert_true(utf8("\xf0\x9f\x98\x80", 4));
  assert_true(utf8("\xef\xbb\xbf", 3));     /* U+FEFF */
  assert_true(utf8("\xed\x9f\xbf", 3));     /* U+D7FF */
  assert_true(utf8("\xee\x80\x80", 3));     /* U+E000 */
  assert_true(utf8("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF: well-formed */
  assert_false(utf8("\x00", 1));
  assert_false(utf8("a\x00", 2));
  assert_false(utf8("\xc0\x80", 2));
  assert_false(utf8("\xc0\xaf", 2));
  assert_false(utf8("\xe0\x80\xaf", 3));
  assert_false(utf8("\xf0\x80\x80\xaf", 4));
  assert_false(utf8("\xed\xa0\x80", 3));
  assert_false(utf8("\xed\xbf\xbf", 3));
  assert_false(utf8("\xf4\x90\x80\x80", 4));
  assert_false(utf8("\xf5\x80\x80\x80", 4));
  assert_false(utf8("\xe2\x82", 2));
  assert_false(utf8("\x80", 1));
  assert_false(utf8("\xff", 1));
  assert_false(utf8("\xc3\x28", 2));

  static const char *names_ok[] = {"a", "a/b", "/", "//", "$SYS/x", "a b", "\xc3\xa9"};
  static const char *names_bad[] = {"", "+", "#", "a/+", "a/#", "a+b", "#a"};
  for (size_t i = 0; i < sizeof names_ok / sizeof *names_ok; i++)
    assert_true(mqc_topic_name_valid(mqc_cstr(names_ok[i])));
  for (size_t i = 0; i < sizeof names_bad / sizeof *names_bad; i++)
    assert_false(mqc_topic_name_valid(mqc_cstr(names_bad[i])));
  static const char *filters_ok[] = {
      "#",    "+",   "+/+",  "/",      "a/+/b",          "a/#",
      "/#",   "+/#", "a//b", "$SYS/#", "sport/tennis/+", "+/tennis/#",
      "a/b/c"};
  static const char *filters_bad[] = {"a#", "a/#/b", "#/",     "a/b#", "##",
                                      "a+", "+a",    "a/b+/c", "++",   "#/a"};
  for (size_t i = 0; i < sizeof filters_ok / sizeof *filters_ok; i++) {
    if (!mqc_topic_filter_valid(mqc_cstr(filters_ok[i])))
      fprintf(stderr, "filter '%s' rejected\n", filters_ok[i]);
    assert_true(mqc_topic_filter_valid(mqc_cstr(filters_ok[i])));
  }
  for (size_t i = 0; i < sizeof filters_bad / sizeof *filters_bad; i++) {
    if (mqc_topic_filter_valid(mqc_cstr(filters_bad[i])))
      fprintf(stderr, "filter '%s' accepted\n", filters_bad[i]);
    assert_false(mqc_topic_filter_valid(mqc_cstr(filters_bad[i])));
  }
  /* bytes helpers */
  assert_true(mqc_bytes_eq(mqc_cstr("ab"), (mqc_bytes){(const uint8_t *)"abc", 2}));
  assert_false(mqc_bytes_eq(mqc_cstr("ab"), mqc_cstr("abc")));
  assert_true(mqc_bytes_eq(mqc_cstr(""), (mqc_bytes){NULL, 0}));
}

static void test_subopts(void **state) {
  (void)state;
  for (unsigned b = 0; b < 256; b++) {
    mqc_subopts o = mqc_subopts_unpack((uint8_t)b);
    assert_int_equal(o.max_qos, b & 3);
    assert_int_equal(o.no_local, (b >> 2) & 1);
    assert_int_equal(o.retain_as_published, (b >> 3) & 1);
    assert_int_equal(o.retain_handling, (b >> 4) & 3);
    if (b < 0x40) assert_int_equal(mqc_subopts_pack(o), b);
  }
}

static void test_packet_equal(void **state) {
  (void)state;
  uint8_t a[] = {0x32, 0x0B, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x2A, '2', '1', '.', '5'};
  uint8_t b[sizeof a];
  memcpy(b, a, sizeof a);
  mqc_packet p, q;
  mqc_error err;
  assert_int_equal(mqc_decode(a, sizeof a, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &err),
                   MQC_OK);
  assert_int_equal(mqc_decode(b, sizeof b, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &q, &err),
                   MQC_OK);
  assert_true(p.publish.topic.p != q.publish.topic.p);
  assert_true(mqc_packet_equal(&p, &q)); /* views compared by content */
  b[6] = 'c';
  assert_int_equal(mqc_decode(b, sizeof b, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &q, &err),
                   MQC_OK);
  assert_false(mqc_packet_equal(&p, &q));
  b[6] = 'b';
  b[8] = 0x2B;
  assert_int_equal(mqc_decode(b, sizeof b, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &q, &err),
                   MQC_OK);
  assert_false(mqc_packet_equal(&p, &q));
  uint8_t ping[] = {0xC0, 0x00};
  assert_int_equal(mqc_decode(ping, 2, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &q, &err), MQC_OK);
  assert_false(mqc_packet_equal(&p, &q));
}

/* A packet built from scratch with mqc_packet_init encodes to the spec's bytes. */
static void test_encode_built(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t n = 0;
  mqc_packet p;
  mqc_packet_init(&p, MQC_PINGREQ, MQC_V311);
  assert_int_equal(mqc_encode(&p, MQC_V311, buf, sizeof buf, &n), MQC_OK);
  assert_int_equal(n, 2);
  assert_memory_equal(buf, "\xc0\x00", 2);

  mqc_packet_init(&p, MQC_PUBREL, MQC_V5);
  assert_int_equal(p.flags, 2);
  p.ack.packet_id = 0x0102;
  assert_int_equal(mqc_encode(&p, MQC_V5, buf, sizeof buf, &n), MQC_OK);
  assert_int_equal(n, 4);
  assert_memory_equal(buf, "\x62\x02\x01\x02", 4);

  mqc_packet_init(&p, MQC_SUBSCRIBE, MQC_V5);
  assert_int_equal(p.flags, 2);
  mqc_packet_init(&p, MQC_UNSUBSCRIBE, MQC_V5);
  assert_int_equal(p.flags, 2);

  mqc_packet_init(&p, MQC_CONNECT, MQC_V31);
  assert_true(mqc_bytes_eq(p.connect.protocol_name, mqc_cstr("MQIsdp")));
  assert_int_equal(p.connect.level, 3);
  mqc_packet_init(&p, MQC_CONNECT, MQC_V5);
  assert_true(mqc_bytes_eq(p.connect.protocol_name, mqc_cstr("MQTT")));
  assert_int_equal(p.connect.level, 5);
  p.connect.client_id = mqc_cstr("c");
  p.connect.keep_alive = 60;
  assert_int_equal(mqc_encode(&p, MQC_V5, buf, sizeof buf, &n), MQC_OK);
  static const uint8_t want[] = {0x10, 0x0e, 0x00, 0x04, 'M',  'Q',  'T',  'T',
                                 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x01, 'c'};
  assert_int_equal(n, sizeof want);
  assert_memory_equal(buf, want, sizeof want);

  /* a string over 65535 bytes cannot be represented */
  static uint8_t big[70000];
  mqc_packet_init(&p, MQC_PUBLISH, MQC_V311);
  p.publish.topic = (mqc_bytes){big, sizeof big};
  assert_int_equal(mqc_encode(&p, MQC_V311, NULL, 0, &n), MQC_ERR_ARGUMENT);

  /* the writer counts past cap without storing */
  mqc_writer w;
  uint8_t small[3] = {0xEE, 0xEE, 0xEE};
  mqc_writer_init(&w, small, 2);
  mqc_put_u16(&w, 0x0102);
  assert_true(mqc_writer_ok(&w));
  mqc_put_u8(&w, 0x03);
  assert_false(mqc_writer_ok(&w));
  assert_int_equal(w.len, 3);
  assert_int_equal(small[2], 0xEE);
  mqc_writer_init(&w, buf, sizeof buf);
  mqc_put_varint(&w, 16384);
  assert_int_equal(w.len, 3);
  assert_memory_equal(buf, "\x80\x80\x01", 3);
  mqc_writer_init(&w, buf, sizeof buf);
  mqc_put_varint(&w, MQC_MAX_REMAINING_LENGTH);
  assert_memory_equal(buf, "\xff\xff\xff\x7f", 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors_loaded),      cmocka_unit_test(test_vectors_decode),
      cmocka_unit_test(test_prefixes_incomplete), cmocka_unit_test(test_guard_page),
      cmocka_unit_test(test_roundtrip),           cmocka_unit_test(test_frame_boundaries),
      cmocka_unit_test(test_frame_max_size),      cmocka_unit_test(test_encode_faulty),
      cmocka_unit_test(test_encode_built),        cmocka_unit_test(test_printers_snprintf),
      cmocka_unit_test(test_printers_text),       cmocka_unit_test(test_prop_table),
      cmocka_unit_test(test_reason_tables),       cmocka_unit_test(test_names),
      cmocka_unit_test(test_validators),          cmocka_unit_test(test_subopts),
      cmocka_unit_test(test_packet_equal),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
