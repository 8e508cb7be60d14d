/* internal.h - shared between the codec's source files; not public API. */
#ifndef MQC_INTERNAL_H
#define MQC_INTERNAL_H

#include <assert.h>
#include <string.h>

#include "mqc.h"

/* A bounded cursor over one packet. Every read goes through MQC__NEED, so no
 * function reads past end. */
typedef struct {
  const uint8_t *base; /* first byte of the packet: offsets are from here */
  const uint8_t *p;
  const uint8_t *end;
  mqc_version v;
  mqc_dir from;
  mqc_type type;
  mqc_error *err;
} mqc__reader;

/* Marks the functions that build a rejection: compilers then keep them and
 * the branches that reach them out of the way of the accepting path. */
#if defined(__GNUC__) || defined(__clang__)
#define MQC__COLD     __attribute__((cold, noinline))
#define MQC__NOINLINE __attribute__((noinline))
#else
#define MQC__COLD
#define MQC__NOINLINE
#endif

/* Records a rejection and returns its status. The statement is chosen by
 * version: s5 for 5.0, s3 for 3.1 and 3.1.1 (3.1 has no numbered statements;
 * the 3.1.1 ones apply). */
MQC__COLD mqc_status mqc__fail_at(mqc__reader *r, const uint8_t *at, mqc_status st, uint8_t reason,
                                  const char *s3, const char *s5, const char *msg);

#define MQC__MALFORMED(r, at, s3, s5, msg)                                                         \
  mqc__fail_at((r), (at), MQC_ERR_MALFORMED, MQC_RC_MALFORMED_PACKET, (s3), (s5), (msg))
#define MQC__PROTOCOL(r, at, s3, s5, msg)                                                          \
  mqc__fail_at((r), (at), MQC_ERR_PROTOCOL, MQC_RC_PROTOCOL_ERROR, (s3), (s5), (msg))

/* Propagates a non-OK status. */
#define MQC__TRY(expr)                                                                             \
  do {                                                                                             \
    mqc_status mqc__st = (expr);                                                                   \
    if (mqc__st != MQC_OK) return mqc__st;                                                         \
  } while (0)

static inline size_t mqc__left(const mqc__reader *r) {
  return (size_t)(r->end - r->p);
}

/* Field readers. what names the field for the message on truncation;
 * s3/s5 is the statement to cite when the field is missing. The common cases
 * are inline because every packet runs them several times; the slow paths
 * (errors, multi-byte integers) live in read.c. */
MQC__COLD mqc_status mqc__truncated(mqc__reader *r, const char *s3, const char *s5);
mqc_status mqc__read_varint_slow(mqc__reader *r, uint32_t *out);
MQC__COLD mqc_status mqc__bin_overrun(mqc__reader *r, const char *s3, const char *s5);

static inline mqc_status mqc__read_u8(mqc__reader *r, uint8_t *out, const char *what) {
  (void)what;
  if (r->p >= r->end) return mqc__truncated(r, NULL, NULL);
  *out = *r->p++;
  return MQC_OK;
}

static inline mqc_status mqc__read_u16(mqc__reader *r, uint16_t *out, const char *what) {
  (void)what;
  if (mqc__left(r) < 2) return mqc__truncated(r, NULL, NULL);
  *out = (uint16_t)(r->p[0] << 8 | r->p[1]);
  r->p += 2;
  return MQC_OK;
}

static inline mqc_status mqc__read_varint(mqc__reader *r, uint32_t *out, const char *what) {
  (void)what;
  if (r->p < r->end && !(*r->p & 0x80)) {
    *out = *r->p++;
    return MQC_OK;
  }
  return mqc__read_varint_slow(r, out);
}

/* Length-prefixed binary data. */
static inline mqc_status mqc__read_bin(mqc__reader *r, mqc_bytes *out, const char *what,
                                       const char *s3, const char *s5) {
  (void)what;
  if (mqc__left(r) < 2) return mqc__truncated(r, s3, s5);
  size_t n = (size_t)(r->p[0] << 8 | r->p[1]);
  if (mqc__left(r) - 2 < n) return mqc__bin_overrun(r, s3, s5);
  out->p = r->p + 2;
  out->n = n;
  r->p += 2 + n;
  return MQC_OK;
}

/* UTF-8 scan: 0 ok, 1 ill-formed or surrogate, 2 U+0000. *bad = index. */
int mqc__utf8_scan(const uint8_t *s, size_t n, size_t *bad);
MQC__COLD mqc_status mqc__utf8_fail(mqc__reader *r, mqc_bytes s, int rc, size_t bad);

/* Validates UTF-8 in s (a view into the packet). */
static inline mqc_status mqc__check_utf8(mqc__reader *r, mqc_bytes s, const char *what) {
  (void)what;
  if (s.n < 8) { /* short strings: a byte loop inline beats the call */
    size_t i = 0;
    while (i < s.n && (uint8_t)(s.p[i] - 1) < 0x7F)
      i++; /* 0x01..0x7F */
    if (i == s.n) return MQC_OK;
  } else if (s.n <= 16) { /* two (possibly overlapping) words */
    uint64_t a, b;
    memcpy(&a, s.p, 8);
    memcpy(&b, s.p + s.n - 8, 8);
    const uint64_t hi = 0x8080808080808080ull, lo = 0x0101010101010101ull;
    if ((((a | ((a - lo) & ~a)) | (b | ((b - lo) & ~b))) & hi) == 0) return MQC_OK;
  }
  size_t bad = 0;
  int rc = mqc__utf8_scan(s.p, s.n, &bad);
  return rc ? mqc__utf8_fail(r, s, rc, bad) : MQC_OK;
}

/* Length-prefixed UTF-8 string, validated (ill-formed, U+0000, surrogates). */
static inline mqc_status mqc__read_utf8(mqc__reader *r, mqc_bytes *out, const char *what,
                                        const char *s3, const char *s5) {
  MQC__TRY(mqc__read_bin(r, out, what, s3, s5));
  return mqc__check_utf8(r, *out, what);
}
MQC__COLD mqc_status mqc__packet_id_zero(mqc__reader *r, const uint8_t *at);

static inline mqc_status mqc__read_packet_id(mqc__reader *r, uint16_t *out) {
  const uint8_t *at = r->p;
  MQC__TRY(mqc__read_u16(r, out, "packet identifier"));
  return *out != 0 ? MQC_OK : mqc__packet_id_zero(r, at);
}
MQC__COLD mqc_status mqc__trailing(mqc__reader *r);

static inline mqc_status mqc__expect_end(mqc__reader *r) {
  return r->p == r->end ? MQC_OK : mqc__trailing(r);
}

/* Properties (props.c). allowed is the packet bit or MQC_PROP_IN_WILL. out
 * must be zeroed. An empty block, the common case, is taken inline. */
mqc_status mqc__read_props_block(mqc__reader *r, uint32_t allowed, mqc_props *out);

static inline mqc_status mqc__read_props(mqc__reader *r, uint32_t allowed, mqc_props *out) {
  if (r->p < r->end && *r->p == 0) {
    out->raw.p = ++r->p;
    return MQC_OK;
  }
  return mqc__read_props_block(r, allowed, out);
}

/* Topic checks (topic.c) citing the version's statements. */
mqc_status mqc__check_topic_name(mqc__reader *r, mqc_bytes t, const char *what);
mqc_status mqc__check_topic_filter(mqc__reader *r, mqc_bytes f);
bool mqc__is_shared(mqc_bytes f);
/* Fast tests for the common topic name and filter: true when every byte is
 * 0x01..0x7F and there is no wildcard (a name), or every wildcard is well
 * placed and, in 5.0, the filter is not shared. false decides nothing: the
 * precise checks of mqc__topic_fault then run and name any fault. */
/* High bit set in each byte of x that is 0x00, 0x80..0xFF, '+' or '#' (and
 * possibly in bytes above such a byte: borrows spread, so the mask is exact
 * only about whether one exists). '+' (0x2B) and '#' (0x23) differ only in
 * bit 3, so one zero-byte test finds both. */
static inline uint64_t mqc__special_bytes(uint64_t x) {
  const uint64_t lo = 0x0101010101010101ull, hi = lo << 7;
  uint64_t w = (x & ~(lo << 3)) ^ (lo * '#');
  return (x | ((x - lo) & ~x) | ((w - lo) & ~w)) & hi;
}

static inline bool mqc__plain_topic(const uint8_t *p, size_t n) {
  if (n < 8) {
    for (size_t i = 0; i < n; i++) {
      uint8_t c = p[i];
      if ((uint8_t)(c - 1) >= 0x7F || (c & 0xF7) == '#') return false;
    }
    return true;
  }
  /* Whole words, the last one overlapping the one before; up to three
   * words (24 bytes, most topics) without a loop. */
  uint64_t a, b, c;
  memcpy(&a, p, 8);
  memcpy(&c, p + n - 8, 8);
  if (n <= 16) return !(mqc__special_bytes(a) | mqc__special_bytes(c));
  memcpy(&b, p + 8, 8);
  if (n <= 24) return !(mqc__special_bytes(a) | mqc__special_bytes(b) | mqc__special_bytes(c));
  for (size_t i = 0;; i = i + 16 <= n ? i + 8 : n - 8) {
    memcpy(&a, p + i, 8);
    if (mqc__special_bytes(a)) return false;
    if (i + 8 == n) return true;
  }
}

/* Per byte of a filter: 0 passes, 1 is a wildcard ('+', '#'), 2 needs the
 * precise checks (NUL, non-ASCII): one load and test per ordinary byte. */
extern const uint8_t mqc__filter_byte[256];

static inline bool mqc__plain_filter(const uint8_t *p, size_t n, mqc_version v) {
  if (n == 0 || (v == MQC_V5 && p[0] == '$' && n >= 7 && !memcmp(p, "$share/", 7))) return false;
  for (size_t i = 0; i < n; i++) {
    const unsigned k = mqc__filter_byte[p[i]];
    if (!k) continue;
    if (k != 1) return false;
    const uint8_t c = p[i];
    if (i > 0 && p[i - 1] != '/') return false;
    if (c == '#' ? i + 1 != n : (i + 1 < n && p[i + 1] != '/')) return false;
  }
  return true;
}

mqc_status mqc__topic_fault(mqc__reader *r, mqc_bytes t, bool filter);

/* Reads a length-prefixed topic name or filter and validates it (UTF-8 and
 * wildcard rules). */
static inline mqc_status mqc__read_topic(mqc__reader *r, mqc_bytes *out, bool filter,
                                         const char *s3, const char *s5) {
  MQC__TRY(mqc__read_bin(r, out, "topic", s3, s5));
  if (filter ? mqc__plain_filter(out->p, out->n, r->v) : mqc__plain_topic(out->p, out->n))
    return MQC_OK;
  return mqc__topic_fault(r, *out, filter);
}

/* Reason-code check against the packet's table, citing stmt. */
mqc_status mqc__check_reason(mqc__reader *r, const uint8_t *at, uint8_t code, const char *s3,
                             const char *s5);

/* Per-family body decoders. mqc_decode hands each the packet (buf, its first
 * byte, and its extent: MQC__EXTENT of the fixed-header and total lengths),
 * the session's version, the direction and the outputs: six arguments, all
 * in registers, so mqc_decode jumps to the body decoder instead of calling
 * it. Each clears its member of pkt and reads the body through
 * mqc__body_reader. The fixed header is already checked. */
#define MQC__EXTENT(header_len, total_len) ((size_t)(total_len) << 3 | (size_t)(header_len))

static inline mqc__reader mqc__body_reader(const uint8_t *buf, size_t extent, mqc_version v,
                                           mqc_dir from, mqc_error *err) {
  mqc__reader r = {.base = buf,
                   .p = buf + (extent & 7),
                   .end = buf + (extent >> 3),
                   .v = v,
                   .from = from,
                   .type = (mqc_type)(buf[0] >> 4),
                   .err = err};
  return r;
}

typedef mqc_status mqc__body_decoder(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                                     mqc_packet *pkt, mqc_error *err);
mqc__body_decoder mqc__decode_connect, mqc__decode_connack, mqc__decode_publish, mqc__decode_ack,
    mqc__decode_subscribe, mqc__decode_unsubscribe, mqc__decode_suback, mqc__decode_reasoned;

/* Inline writer primitives for the codec's own encoders; the public
 * mqc_put_* functions wrap them. Writes past cap are counted, not stored. */
static inline void mqc__w_u8(mqc_writer *w, uint8_t v) {
  if (w->len < w->cap) w->buf[w->len] = v;
  w->len++;
}

static inline void mqc__w_u16(mqc_writer *w, uint16_t v) {
  if (w->len <= w->cap && w->cap - w->len >= 2) {
    w->buf[w->len] = (uint8_t)(v >> 8);
    w->buf[w->len + 1] = (uint8_t)v;
    w->len += 2;
    return;
  }
  mqc__w_u8(w, (uint8_t)(v >> 8));
  mqc__w_u8(w, (uint8_t)v);
}

static inline void mqc__w_bytes(mqc_writer *w, mqc_bytes b) {
  if (b.n && w->len <= w->cap && w->cap - w->len >= b.n) memcpy(w->buf + w->len, b.p, b.n);
  w->len += b.n;
}

static inline void mqc__w_varint(mqc_writer *w, uint32_t v) {
  assert(v <= MQC_MAX_REMAINING_LENGTH);
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    mqc__w_u8(w, (uint8_t)(v ? b | 0x80 : b));
  } while (v);
}

/* Over-long strings are refused by encode's audit before anything is written;
 * the low 16 bits keep sizing consistent for hand-built calls. */
static inline void mqc__w_str(mqc_writer *w, mqc_bytes s) {
  mqc__w_u16(w, (uint16_t)s.n);
  mqc__w_bytes(w, s);
}

static inline void mqc__put_props(mqc_writer *w, const mqc_props *p) {
  mqc__w_varint(w, (uint32_t)p->raw.n);
  mqc__w_bytes(w, p->raw);
}

/* Per-family body encoders: write the variable header and payload. */
void mqc__encode_connect(mqc_writer *w, const mqc_connect *c, mqc_version v, const mqc_faults *f);
void mqc__encode_connack(mqc_writer *w, const mqc_connack *c, mqc_version v);
void mqc__encode_publish(mqc_writer *w, const mqc_publish *p, mqc_version v);
void mqc__encode_ack(mqc_writer *w, const mqc_ack *a, mqc_version v, const mqc_faults *f);
void mqc__encode_subscribe(mqc_writer *w, const mqc_subscribe *s, mqc_version v);
void mqc__encode_suback(mqc_writer *w, mqc_type t, const mqc_suback *s, mqc_version v);
void mqc__encode_reasoned(mqc_writer *w, const mqc_reasoned *d, mqc_version v, const mqc_faults *f);

#endif
