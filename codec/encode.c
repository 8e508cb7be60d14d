/* encode.c - the bounded writer and the size-then-encode entry points. */
#include "internal.h"

void mqc_writer_init(mqc_writer *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = buf ? cap : 0;
  w->len = 0;
}

bool mqc_writer_ok(const mqc_writer *w) {
  return w->len <= w->cap;
}

void mqc_put_bytes(mqc_writer *w, mqc_bytes b) {
  mqc__w_bytes(w, b);
}

void mqc_put_u8(mqc_writer *w, uint8_t v) {
  mqc__w_u8(w, v);
}

void mqc_put_u16(mqc_writer *w, uint16_t v) {
  mqc__w_u16(w, v);
}

void mqc_put_u32(mqc_writer *w, uint32_t v) {
  mqc_put_u16(w, (uint16_t)(v >> 16));
  mqc_put_u16(w, (uint16_t)v);
}

void mqc_put_varint(mqc_writer *w, uint32_t v) {
  mqc__w_varint(w, v);
}

void mqc_put_str(mqc_writer *w, mqc_bytes s) {
  mqc__w_str(w, s);
}

/* Fixed-header flags the specification requires for each type. */
static uint8_t required_flags(const mqc_packet *p) {
  switch (p->type) {
  case MQC_PUBLISH:
    return (uint8_t)((p->publish.dup ? 8 : 0) | (p->publish.qos & 3) << 1 |
                     (p->publish.retain ? 1 : 0));
  case MQC_PUBREL:
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
    return 2;
  default:
    return 0;
  }
}

static bool str_fits(mqc_bytes b) {
  return b.n <= 0xFFFF;
}

/* Catches fields the wire cannot carry before anything is written. */
static bool representable(const mqc_packet *p, mqc_version v) {
  switch (p->type) {
  case MQC_CONNECT: {
    const mqc_connect *c = &p->connect;
    return str_fits(c->protocol_name) && str_fits(c->client_id) && str_fits(c->will_topic) &&
           str_fits(c->will_payload) && str_fits(c->username) && str_fits(c->password) &&
           c->props.raw.n <= MQC_MAX_REMAINING_LENGTH &&
           c->will_props.raw.n <= MQC_MAX_REMAINING_LENGTH;
  }
  case MQC_PUBLISH:
    return str_fits(p->publish.topic) && p->publish.props.raw.n <= MQC_MAX_REMAINING_LENGTH;
  default:
    (void)v;
    return true;
  }
}

static void encode_body(mqc_writer *w, const mqc_packet *p, mqc_version v, const mqc_faults *f) {
  switch (p->type) {
  case MQC_CONNECT:
    mqc__encode_connect(w, &p->connect, v, f);
    break;
  case MQC_CONNACK:
    mqc__encode_connack(w, &p->connack, v);
    break;
  case MQC_PUBLISH:
    mqc__encode_publish(w, &p->publish, v);
    break;
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    mqc__encode_ack(w, &p->ack, v, f);
    break;
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
    mqc__encode_subscribe(w, &p->subscribe, v);
    break;
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    mqc__encode_suback(w, p->type, &p->suback, v);
    break;
  case MQC_DISCONNECT:
    mqc__encode_reasoned(w, &p->disconnect, v, f);
    break;
  case MQC_AUTH:
    mqc__encode_reasoned(w, &p->auth, v, f);
    break;
  case MQC_PINGREQ:
  case MQC_PINGRESP:
  case MQC_RESERVED0:
    break;
  }
}

static void put_length(mqc_writer *w, uint32_t value, uint8_t width) {
  /* width > minimal pads with continuation bytes: a non-minimal encoding. */
  unsigned minimal = value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : 4;
  unsigned n = width > minimal ? width : minimal;
  for (unsigned i = 0; i < n; i++) {
    uint8_t b = value & 0x7F;
    value >>= 7;
    mqc_put_u8(w, (uint8_t)(i + 1 < n ? b | 0x80 : b));
  }
}

static unsigned varint_len(uint32_t v) {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* One pass: the body is written after room for the longest fixed header and
 * slid down once its length is known. Returns false when buf is too small for
 * that layout (the caller then sizes first). */
static bool encode_one_pass(const mqc_packet *pkt, mqc_version v, const mqc_faults *f, uint8_t *buf,
                            size_t cap, size_t *out_len, mqc_status *st) {
  if (!buf || cap < 5) return false;
  mqc_writer w;
  mqc_writer_init(&w, buf + 5, cap - 5);
  encode_body(&w, pkt, v, f);
  if (f) mqc__w_bytes(&w, f->trailing);
  if (w.len > MQC_MAX_REMAINING_LENGTH) {
    *st = MQC_ERR_ARGUMENT;
    return true;
  }
  if (!mqc_writer_ok(&w)) return false;
  uint32_t body = (uint32_t)w.len;
  size_t hl = 1 + varint_len(body);
  memmove(buf + hl, buf + 5, body);
  uint8_t type = f && f->set_type ? f->type & 0x0F : (uint8_t)pkt->type;
  uint8_t flags = f && f->set_flags ? f->flags & 0x0F : required_flags(pkt);
  mqc_writer h;
  mqc_writer_init(&h, buf, hl);
  mqc__w_u8(&h, (uint8_t)(type << 4 | flags));
  mqc__w_varint(&h, body);
  assert(h.len == hl);
  *out_len = hl + body;
  *st = MQC_OK;
  return true;
}

mqc_status mqc_encode_faulty(const mqc_packet *pkt, mqc_version v, const mqc_faults *f,
                             uint8_t *buf, size_t cap, size_t *out_len) {
  *out_len = 0;
  if ((unsigned)pkt->type > 15 || !representable(pkt, v)) return MQC_ERR_ARGUMENT;
  mqc_status st;
  if ((!f || (!f->set_remaining_length && f->length_bytes == 0)) &&
      encode_one_pass(pkt, v, f, buf, cap, out_len, &st))
    return st;
  mqc_writer sizer;
  mqc_writer_init(&sizer, NULL, 0);
  encode_body(&sizer, pkt, v, f);
  size_t body = sizer.len + (f ? f->trailing.n : 0);
  if (body > MQC_MAX_REMAINING_LENGTH) return MQC_ERR_ARGUMENT;

  uint8_t type = f && f->set_type ? f->type & 0x0F : (uint8_t)pkt->type;
  uint8_t flags = f && f->set_flags ? f->flags & 0x0F : required_flags(pkt);
  uint32_t rl = f && f->set_remaining_length ? f->remaining_length : (uint32_t)body;
  if (rl > MQC_MAX_REMAINING_LENGTH) return MQC_ERR_ARGUMENT;
  uint8_t width = f && f->length_bytes <= 5 ? f->length_bytes : 0;

  mqc_writer w;
  mqc_writer_init(&w, buf, cap);
  mqc_put_u8(&w, (uint8_t)(type << 4 | flags));
  if (width == 5) { /* one byte more than the protocol allows */
    for (int i = 0; i < 4; i++)
      mqc_put_u8(&w, (uint8_t)(((rl >> (7 * i)) & 0x7F) | 0x80));
    mqc_put_u8(&w, 0);
  } else {
    put_length(&w, rl, width);
  }
  encode_body(&w, pkt, v, f);
  if (f) mqc_put_bytes(&w, f->trailing);
  *out_len = w.len;
  return mqc_writer_ok(&w) ? MQC_OK : MQC_ERR_NOSPACE;
}

mqc_status mqc_encode(const mqc_packet *pkt, mqc_version v, uint8_t *buf, size_t cap,
                      size_t *out_len) {
  return mqc_encode_faulty(pkt, v, NULL, buf, cap, out_len);
}
