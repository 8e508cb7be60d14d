/* shrink.c - smaller variants of one packet, for the byte level of the
 * minimiser (fuzz.c): the fields first, through the codec (so a valid packet
 * stays valid, and what made it a finding has a chance to stay), then runs
 * of raw bytes (so an invalid packet shrinks too). */
#include <string.h>

#include "internal.h"

/* Bytes a remaining length takes, minimally encoded. */
static size_t varint_len(size_t v) {
  size_t k = 1;
  while (v >= 128) {
    v >>= 7;
    k++;
  }
  return k;
}

/* Writes the fixed header of a packet whose first byte is b0 and whose body
 * is len bytes, in width bytes (width > minimal: padded with continuation
 * bytes, as a packet the mutator padded was). Returns the header size. */
static size_t put_header(uint8_t *out, uint8_t b0, size_t len, size_t width) {
  out[0] = b0;
  for (size_t i = 0; i < width; i++) {
    uint8_t d = (uint8_t)(len & 0x7F);
    len >>= 7;
    out[1 + i] = (uint8_t)(d | (i + 1 < width ? 0x80 : 0));
  }
  return 1 + width;
}

/* Removes the k-th run of bytes from body[0..n): runs of n/2, n/4, ... 1
 * bytes at every multiple of their size. Returns false past the last. */
static bool cut_run(size_t n, unsigned k, size_t *at, size_t *len) {
  for (size_t size = n / 2 ? n / 2 : 1; n && size >= 1; size /= 2) {
    size_t runs = (n + size - 1) / size;
    if (k < runs) {
      *at = (size_t)k * size;
      *len = n - *at < size ? n - *at : size;
      return true;
    }
    k -= (unsigned)runs;
    if (size == 1) break;
  }
  return false;
}

/* Props without the entry `drop`, or with its string/binary value cut to
 * `keep` bytes (drop = SIZE_MAX: none dropped; cut = SIZE_MAX: none cut).
 * False when the entry does not exist or has no value to cut. */
static bool props_variant(const mqc_props *in, size_t drop, size_t cut, size_t keep, uint8_t *buf,
                          size_t cap, mqc_props *out) {
  mqc_writer w;
  mqc_writer_init(&w, buf, cap);
  mqc_prop_iter it;
  mqc_prop pr;
  size_t i = 0;
  bool hit = false;
  mqc_prop_iter_init(&it, in);
  while (mqc_prop_next(&it, &pr)) {
    if (i == drop) {
      hit = true;
    } else {
      if (i == cut) {
        if (pr.value.n <= keep ||
            (pr.type != MQC_PT_UTF8 && pr.type != MQC_PT_BINARY && pr.type != MQC_PT_UTF8_PAIR))
          return false;
        pr.value.n = keep;
        hit = true;
      }
      mqc_put_prop(&w, &pr);
    }
    i++;
  }
  if (!hit || !mqc_writer_ok(&w)) return false;
  *out = *in;
  out->raw = (mqc_bytes){buf, w.len};
  return true;
}

static size_t props_count(const mqc_props *p) {
  mqc_prop_iter it;
  mqc_prop pr;
  size_t k = 0;
  mqc_prop_iter_init(&it, p);
  while (mqc_prop_next(&it, &pr))
    k++;
  return k;
}

static mqc_bytes *payload_of(mqc_packet *q) {
  if (q->type == MQC_PUBLISH) return &q->publish.payload;
  if (q->type == MQC_CONNECT && q->connect.will) return &q->connect.will_payload;
  return NULL;
}

/* The property blocks of q that can shrink (5.0 only): its own, a will's. */
static size_t blocks_of(mqc_packet *q, mqc_version v, mqc_props *out[2]) {
  size_t k = 0;
  if (v != MQC_V5) return 0;
  mqc_props *own = (mqc_props *)mqc_packet_props(q);
  if (own) out[k++] = own;
  if (q->type == MQC_CONNECT && q->connect.will) out[k++] = &q->connect.will_props;
  return k;
}

/* Field-level variants of a decoded packet: per property, dropped, its
 * value emptied, its value halved; then the payload emptied and halved. */
static unsigned field_count(const mqc_packet *pkt, mqc_version v) {
  mqc_packet q = *pkt;
  mqc_props *b[2];
  size_t nb = blocks_of(&q, v, b);
  unsigned k = 0;
  for (size_t i = 0; i < nb; i++)
    k += 3 * (unsigned)props_count(b[i]);
  return k + 3; /* payload emptied, payload halved, name cut to the token */
}

/* The name that isolates the session (a CONNECT's client ID, a PUBLISH's
 * topic): it can shrink to the session token alone. */
static mqc_bytes *name_of(mqc_packet *q) {
  if (q->type == MQC_PUBLISH) return &q->publish.topic;
  if (q->type == MQC_CONNECT) return &q->connect.client_id;
  return NULL;
}

/* The k-th field variant (k < field_count) into out; *out_n = 0 when it
 * does not apply (no value to cut, nothing to empty, larger than cap). */
static void field_variant(const mqc_packet *pkt, mqc_version v, unsigned k, uint8_t *out,
                          size_t cap, size_t *out_n) {
  static const size_t none = (size_t)-1;
  uint8_t props_buf[MQZ_SESSION_MAX];
  mqc_packet q = *pkt;
  mqc_props *b[2];
  size_t nb = blocks_of(&q, v, b);
  *out_n = 0;
  for (size_t i = 0; i < nb; i++) {
    size_t np = props_count(b[i]);
    if (k >= 3 * np) {
      k -= (unsigned)(3 * np);
      continue;
    }
    size_t e = k / 3, how = k % 3;
    mqc_prop pr = {0};
    mqc_prop_iter it;
    mqc_prop_iter_init(&it, b[i]);
    for (size_t j = 0; j <= e; j++)
      (void)mqc_prop_next(&it, &pr);
    if (!props_variant(b[i], how == 0 ? e : none, how == 0 ? none : e,
                       how == 1 ? 0 : pr.value.n / 2, props_buf, sizeof props_buf, b[i]))
      return;
    k = 3; /* past the payload and name variants */
    break;
  }
  mqc_bytes *pl = payload_of(&q), *nm = name_of(&q);
  if (k < 2) {
    if (!pl || !pl->n || (k == 1 && pl->n < 2)) return;
    pl->n = k == 0 ? 0 : pl->n / 2;
  } else if (k == 2) {
    if (!nm || nm->n <= MQZ_TOKEN_LEN) return;
    size_t at = 0;
    while (at + MQZ_TOKEN_LEN <= nm->n && memcmp(nm->p + at, MQZ_TOKEN, MQZ_TOKEN_LEN))
      at++;
    if (at + MQZ_TOKEN_LEN > nm->n) return;
    *nm = (mqc_bytes){nm->p + at, MQZ_TOKEN_LEN};
  }
  if (mqc_encode(&q, v, out, cap, out_n) != MQC_OK) *out_n = 0;
}

/* Decodes p as a whole packet a client of version v sends; *pv gets the
 * version it decoded as (a CONNECT's own level). */
static bool decode_whole(const uint8_t *p, size_t n, mqc_version v, mqc_packet *pkt,
                         mqc_version *pv) {
  mqc_error err;
  bool conn = n && (p[0] >> 4) == MQC_CONNECT;
  if (mqc_decode(p, n, conn ? MQC_VERSION_AUTO : v, MQC_FROM_CLIENT, MQC_NO_LIMIT, pkt, &err) !=
          MQC_OK ||
      pkt->header_len + pkt->remaining_length != n)
    return false;
  *pv = conn ? (mqc_version)pkt->connect.level : v;
  return true;
}

unsigned mqz__shrink_fields(const uint8_t *p, size_t n, mqc_version v) {
  mqc_packet pkt;
  mqc_version pv;
  return decode_whole(p, n, v, &pkt, &pv) ? field_count(&pkt, pv) : 0;
}

bool mqz__shrink_packet(const uint8_t *p, size_t n, mqc_version v, unsigned k, uint8_t *out,
                        size_t *out_n) {
  *out_n = 0;
  size_t h = mqz__header_len(p, n);
  if (!h || h > n) return false;
  mqc_packet pkt;
  mqc_version pv;
  if (decode_whole(p, n, v, &pkt, &pv)) {
    unsigned fields = field_count(&pkt, pv);
    if (k < fields) {
      field_variant(&pkt, pv, k, out, n, out_n);
      return true;
    }
    k -= fields;
  }
  size_t body = n - h, at, len;
  if (!cut_run(body, k, &at, &len)) return false;
  /* the padded width stays when the original was padded (a finding about
   * a non-minimal length), else the length is written minimally */
  size_t width = h - 1 > varint_len(body) ? h - 1 : varint_len(body - len);
  size_t o = put_header(out, p[0], body - len, width);
  memcpy(out + o, p + h, at);
  memcpy(out + o + at, p + h + at + len, body - at - len);
  *out_n = o + body - len;
  return true;
}

bool mqz__shrink_raw(const uint8_t *p, size_t n, unsigned k, uint8_t *out, size_t *out_n) {
  size_t at, len;
  *out_n = 0;
  if (!cut_run(n, k, &at, &len)) return false;
  memcpy(out, p, at);
  memcpy(out + at, p + at + len, n - at - len);
  *out_n = n - len;
  return true;
}
