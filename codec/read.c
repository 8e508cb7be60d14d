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

static mqc_status truncated(mqc__reader *r, const char *what, const char *s3, const char *s5) {
  (void)what;
  return MQC__MALFORMED(r, r->end, s3, s5, "packet ends inside a field");
}

mqc_status mqc__read_u8(mqc__reader *r, uint8_t *out, const char *what) {
  if (mqc__left(r) < 1) return truncated(r, what, NULL, NULL);
  *out = *r->p++;
  return MQC_OK;
}

mqc_status mqc__read_u16(mqc__reader *r, uint16_t *out, const char *what) {
  if (mqc__left(r) < 2) return truncated(r, what, NULL, NULL);
  *out = (uint16_t)(r->p[0] << 8 | r->p[1]);
  r->p += 2;
  return MQC_OK;
}

mqc_status mqc__read_varint(mqc__reader *r, uint32_t *out, const char *what) {
  const uint8_t *start = r->p;
  uint32_t value = 0;
  for (unsigned i = 0; i < 4; i++) {
    if (mqc__left(r) < 1) return truncated(r, what, NULL, NULL);
    uint8_t b = *r->p++;
    value |= (uint32_t)(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      /* A final zero byte after the first means a longer encoding than the
       * value needs; 5.0 forbids that and so do we for properties. */
      if (i > 0 && b == 0 && r->v == MQC_V5)
        return MQC__MALFORMED(r, start, NULL, "MQTT-1.5.5-1",
                              "variable byte integer is not minimally encoded");
      *out = value;
      return MQC_OK;
    }
  }
  return MQC__MALFORMED(r, start, NULL, NULL, "variable byte integer longer than 4 bytes");
}

mqc_status mqc__read_bin(mqc__reader *r, mqc_bytes *out, const char *what, const char *s3,
                         const char *s5) {
  if (mqc__left(r) < 2) return truncated(r, what, s3, s5);
  size_t n = (size_t)(r->p[0] << 8 | r->p[1]);
  if (mqc__left(r) - 2 < n)
    return MQC__MALFORMED(r, r->p, s3, s5, "length prefix runs past the end of the packet");
  out->p = r->p + 2;
  out->n = n;
  r->p += 2 + n;
  return MQC_OK;
}

mqc_status mqc__check_utf8(mqc__reader *r, mqc_bytes s, const char *what) {
  (void)what;
  size_t bad = 0;
  int rc = mqc__utf8_scan(s.p, s.n, &bad);
  if (rc == 1)
    return MQC__MALFORMED(r, s.p + bad, "MQTT-1.5.3-1", "MQTT-1.5.4-1",
                          "ill-formed UTF-8 in a string");
  if (rc == 2)
    return MQC__MALFORMED(r, s.p + bad, "MQTT-1.5.3-2", "MQTT-1.5.4-2",
                          "U+0000 in a UTF-8 string");
  return MQC_OK;
}

mqc_status mqc__read_utf8(mqc__reader *r, mqc_bytes *out, const char *what, const char *s3,
                          const char *s5) {
  MQC__TRY(mqc__read_bin(r, out, what, s3, s5));
  return mqc__check_utf8(r, *out, what);
}

mqc_status mqc__read_packet_id(mqc__reader *r, uint16_t *out) {
  const uint8_t *at = r->p;
  MQC__TRY(mqc__read_u16(r, out, "packet identifier"));
  if (*out != 0) return MQC_OK;
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

mqc_status mqc__expect_end(mqc__reader *r) {
  if (r->p == r->end) return MQC_OK;
  return MQC__MALFORMED(r, r->p, NULL, NULL, "bytes left over after the last field");
}

/* The UTF-8 scan runs on every string of every packet, so the common all-ASCII
 * case is checked eight bytes at a time. */
int mqc__utf8_scan(const uint8_t *s, size_t n, size_t *bad) {
  size_t i = 0;
  while (i < n) {
    if (n - i >= 8) {
      uint64_t x;
      memcpy(&x, s + i, 8);
      const uint64_t hi = 0x8080808080808080ull, lo = 0x0101010101010101ull;
      if (((x | ((x - lo) & ~x)) & hi) == 0) {
        i += 8;
        continue;
      }
    }
    uint8_t c = s[i];
    if (c < 0x80) {
      if (c == 0) {
        *bad = i;
        return 2;
      }
      i++;
      continue;
    }
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
      *bad = i; /* continuation byte, overlong lead C0/C1, or F5..FF */
      return 1;
    }
    if (n - i <= need) {
      *bad = i;
      return 1;
    }
    for (size_t k = 1; k <= need; k++) {
      uint8_t cc = s[i + k];
      if ((cc & 0xC0) != 0x80) {
        *bad = i;
        return 1;
      }
      cp = cp << 6 | (cc & 0x3Fu);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      *bad = i; /* overlong, beyond U+10FFFF, or a surrogate */
      return 1;
    }
    i += need + 1;
  }
  return 0;
}

bool mqc_utf8_valid(mqc_bytes s) {
  size_t bad;
  return mqc__utf8_scan(s.p, s.n, &bad) == 0;
}
