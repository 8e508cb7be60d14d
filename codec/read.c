/* read.c - the bounded field readers every packet decoder uses, and the
 * error constructor. */
#include "internal.h"

mqc_status mqc__fail_at(mqc__reader *r, const uint8_t *at, mqc_status st, uint8_t reason,
                        const char *s3, const char *s5, const char *msg) {
  assert(st != MQC_OK);
  assert(at >= r->base);
  r->err->status = st;
  r->err->offset = (size_t)(at - r->base);
  r->err->reason = reason;
  r->err->statement = r->v == MQC_V5 ? s5 : s3;
  r->err->message = msg;
  return st;
}

mqc_status mqc__truncated(mqc__reader *r, const char *s3, const char *s5) {
  return MQC__MALFORMED(r, r->end, s3, s5, "packet ends inside a field");
}

mqc_status mqc__bin_overrun(mqc__reader *r, const char *s3, const char *s5) {
  return MQC__MALFORMED(r, r->p, s3, s5, "length prefix runs past the end of the packet");
}

mqc_status mqc__read_varint_slow(mqc__reader *r, uint32_t *out) {
  const uint8_t *start = r->p;
  uint32_t value = 0;
  for (unsigned i = 0; i < 4; i++) {
    if (r->p >= r->end) return mqc__truncated(r, NULL, NULL);
    uint8_t b = *r->p++;
    value |= (uint32_t)(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      /* A final zero byte after the first means a longer encoding than the
       * value needs; 5.0 forbids that. */
      if (i > 0 && b == 0 && r->v == MQC_V5)
        return MQC__MALFORMED(r, start, NULL, "MQTT-1.5.5-1",
                              "variable byte integer is not minimally encoded");
      *out = value;
      return MQC_OK;
    }
  }
  return MQC__MALFORMED(r, start, NULL, NULL, "variable byte integer longer than 4 bytes");
}

mqc_status mqc__utf8_fail(mqc__reader *r, mqc_bytes s, int rc, size_t bad) {
  if (rc == 1)
    return MQC__MALFORMED(r, s.p + bad, "MQTT-1.5.3-1", "MQTT-1.5.4-1",
                          "ill-formed UTF-8 in a string");
  if (rc == 2)
    return MQC__MALFORMED(r, s.p + bad, "MQTT-1.5.3-2", "MQTT-1.5.4-2", "U+0000 in a UTF-8 string");
  assert(0 && "utf8 fail called without a failure");
  return MQC_ERR_MALFORMED;
}

mqc_status mqc__packet_id_zero(mqc__reader *r, const uint8_t *at) {
  switch (r->type) {
  case MQC_PUBLISH:
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
    return MQC__PROTOCOL(r, at, "MQTT-2.3.1-1",
                         r->from == MQC_FROM_CLIENT ? "MQTT-2.2.1-3" : "MQTT-2.2.1-4",
                         "packet identifier is 0");
  default:
    return MQC__PROTOCOL(r, at, NULL, NULL, "packet identifier is 0");
  }
}

mqc_status mqc__trailing(mqc__reader *r) {
  return MQC__MALFORMED(r, r->p, NULL, NULL, "bytes left over after the last field");
}

/* True when none of the 8 bytes is zero or has its top bit set. */
static inline bool ascii_nonzero_word(const uint8_t *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  const uint64_t hi = 0x8080808080808080ull, lo = 0x0101010101010101ull;
  return ((x | ((x - lo) & ~x)) & hi) == 0;
}

/* Validates one code point starting at s[i] (s[i] >= 0x80); returns its
 * length, or 0 when it is ill-formed, overlong, a surrogate or beyond
 * U+10FFFF. */
static size_t utf8_sequence(const uint8_t *s, size_t n, size_t i) {
  uint8_t c = s[i];
  size_t need;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    cp = c & 0x07u;
  } else {
    return 0; /* continuation byte, overlong lead C0/C1, or F5..FF */
  }
  if (n - i <= need) return 0;
  for (size_t k = 1; k <= need; k++) {
    uint8_t cc = s[i + k];
    if ((cc & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (cc & 0x3Fu);
  }
  if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return need + 1;
}

/* The UTF-8 scan runs on every string of every packet, so the common
 * all-ASCII case is checked eight bytes at a time, the tail with one
 * overlapping word; only strings that fail the fast check are walked byte by
 * byte. Never reads outside s[0..n). */
int mqc__utf8_scan(const uint8_t *s, size_t n, size_t *bad) {
  if (n >= 8) {
    size_t i = 0;
    while (i + 8 <= n && ascii_nonzero_word(s + i))
      i += 8;
    if (i == n || (i + 8 > n && ascii_nonzero_word(s + n - 8))) return 0;
  }
  for (size_t i = 0; i < n;) {
    uint8_t c = s[i];
    if (c == 0) {
      *bad = i;
      return 2;
    }
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len = utf8_sequence(s, n, i);
    if (!len) {
      *bad = i;
      return 1;
    }
    i += len;
  }
  return 0;
}

bool mqc_utf8_valid(mqc_bytes s) {
  size_t bad;
  return mqc__utf8_scan(s.p, s.n, &bad) == 0;
}
