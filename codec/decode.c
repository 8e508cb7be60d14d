/* decode.c - the framer, the fixed-header checks and the per-type dispatch. */
#include "internal.h"

static void reset_error(mqc_error *err) {
  /* MQC_OK, offset 0, MQC_RC_SUCCESS, no statement, no message */
  memset(err, 0, sizeof *err);
}

MQC__COLD static mqc_status frame_fail(mqc_error *err, mqc_status st, size_t offset, uint8_t reason,
                                       const char *statement, const char *msg) {
  err->status = st;
  err->offset = offset;
  err->reason = reason;
  err->statement = statement;
  err->message = msg;
  return st;
}

/* The framer proper; frame and err must already be reset. */
static inline mqc_status frame(const uint8_t *buf, size_t len, mqc_version version,
                               uint32_t max_packet_size, mqc_frame *frame, mqc_error *err) {
  if (len >= 2 && buf[1] < 0x80 && (size_t)buf[1] + 2 <= len &&
      (max_packet_size == MQC_NO_LIMIT || (size_t)buf[1] + 2 <= max_packet_size)) {
    frame->header_len = 2; /* the common short packet: a one-byte length */
    frame->remaining_length = buf[1];
    frame->total_len = (size_t)buf[1] + 2;
    return MQC_OK;
  }
  if (len < 2) {
    frame->needed = 2 - len;
    err->status = MQC_INCOMPLETE;
    err->offset = len;
    return MQC_INCOMPLETE;
  }
  uint32_t value = 0;
  size_t i = 1;
  for (;; i++) {
    if (i > 4)
      return frame_fail(err, MQC_ERR_MALFORMED, 1, MQC_RC_MALFORMED_PACKET, NULL,
                        "remaining length is longer than 4 bytes");
    if (i >= len) {
      frame->needed = 1; /* at least the next length byte */
      err->status = MQC_INCOMPLETE;
      err->offset = len;
      return MQC_INCOMPLETE;
    }
    uint8_t b = buf[i];
    value |= (uint32_t)(b & 0x7F) << (7 * (i - 1));
    if (!(b & 0x80)) break;
  }
  if (i > 1 && buf[i] == 0 && version == MQC_V5)
    return frame_fail(err, MQC_ERR_MALFORMED, 1, MQC_RC_MALFORMED_PACKET, "MQTT-1.5.5-1",
                      "remaining length is not minimally encoded");
  frame->header_len = (uint8_t)(i + 1);
  frame->remaining_length = value;
  frame->total_len = frame->header_len + (size_t)value;
  if (max_packet_size != MQC_NO_LIMIT && frame->total_len > max_packet_size)
    return frame_fail(err, MQC_ERR_TOO_LARGE, 1, MQC_RC_PACKET_TOO_LARGE, NULL,
                      "packet is larger than the maximum packet size");
  if (frame->total_len > len) {
    frame->needed = frame->total_len - len;
    err->status = MQC_INCOMPLETE;
    err->offset = len;
    return MQC_INCOMPLETE;
  }
  return MQC_OK;
}

mqc_status mqc_frame_packet(const uint8_t *buf, size_t len, mqc_version version,
                            uint32_t max_packet_size, mqc_frame *fr, mqc_error *err) {
  reset_error(err);
  memset(fr, 0, sizeof *fr);
  return frame(buf, len, version, max_packet_size, fr, err);
}

/* Per type: which side may send it (bit 0 client, bit 1 server; a 3.x server
 * closes without DISCONNECT, handled separately) and the fixed-header flags
 * the spec requires (0xFF: PUBLISH, whose flags carry DUP, QoS and RETAIN). */
static const struct {
  uint8_t senders;
  uint8_t flags;
} TYPES[16] = {
    [MQC_CONNECT] = {1, 0},     [MQC_CONNACK] = {2, 0},    [MQC_PUBLISH] = {3, 0xFF},
    [MQC_PUBACK] = {3, 0},      [MQC_PUBREC] = {3, 0},     [MQC_PUBREL] = {3, 2},
    [MQC_PUBCOMP] = {3, 0},     [MQC_SUBSCRIBE] = {1, 2},  [MQC_SUBACK] = {2, 0},
    [MQC_UNSUBSCRIBE] = {1, 2}, [MQC_UNSUBACK] = {2, 0},   [MQC_PINGREQ] = {1, 0},
    [MQC_PINGRESP] = {2, 0},    [MQC_DISCONNECT] = {3, 0}, [MQC_AUTH] = {3, 0},
};

/* The fast path's view of the same rules, and of the AUTO rule (only a
 * CONNECT from a client): ACCEPT[row][type] has one bit per flags value
 * that reaches the body decoder, for a row per version class and
 * direction. A header it does not admit goes through the precise checks. */
#define C3        0x01u /* 3.x (or an unknown level, treated as 3.x) from a client */
#define S3        0x02u
#define C5        0x04u
#define S5        0x08u
#define CA        0x10u /* AUTO from a client */
#define SA        0x20u
#define ANY_FLAGS 0xFFFFu
#define NOT_QOS3_OR_DUP_QOS0                                                                       \
  (ANY_FLAGS & ~(1u << 6 | 1u << 7 | 1u << 14 | 1u << 15 | 1u << 8 | 1u << 9))
#define BY_CONNECT                      (C3 | C5 | CA)
#define BY_BOTH                         (C3 | S3 | C5 | S5)
#define BY_CLIENT                       (C3 | C5)
#define BY_SERVER                       (S3 | S5)
#define ACCEPTS(row, senders, flags_ok) (uint16_t)(((senders) & (row)) ? (flags_ok) : 0u)
#define ACCEPT_ROW(row)                                                                            \
  {                                                                                                \
    [MQC_CONNECT] = ACCEPTS(row, BY_CONNECT, 1u << 0),                                             \
    [MQC_CONNACK] = ACCEPTS(row, BY_SERVER, 1u << 0),                                              \
    [MQC_PUBLISH] = ACCEPTS(row, BY_BOTH, NOT_QOS3_OR_DUP_QOS0),                                   \
    [MQC_PUBACK] = ACCEPTS(row, BY_BOTH, 1u << 0), [MQC_PUBREC] = ACCEPTS(row, BY_BOTH, 1u << 0),  \
    [MQC_PUBREL] = ACCEPTS(row, BY_BOTH, 1u << 2), [MQC_PUBCOMP] = ACCEPTS(row, BY_BOTH, 1u << 0), \
    [MQC_SUBSCRIBE] = ACCEPTS(row, BY_CLIENT, 1u << 2),                                            \
    [MQC_SUBACK] = ACCEPTS(row, BY_SERVER, 1u << 0),                                               \
    [MQC_UNSUBSCRIBE] = ACCEPTS(row, BY_CLIENT, 1u << 2),                                          \
    [MQC_UNSUBACK] = ACCEPTS(row, BY_SERVER, 1u << 0),                                             \
    [MQC_PINGREQ] = ACCEPTS(row, BY_CLIENT, 1u << 0),                                              \
    [MQC_PINGRESP] = ACCEPTS(row, BY_SERVER, 1u << 0),                                             \
    [MQC_DISCONNECT] = ACCEPTS(row, C3 | C5 | S5, 1u << 0),                                        \
    [MQC_AUTH] = ACCEPTS(row, C5 | S5, 1u << 0),                                                   \
  }
/* Rows by version (0..7) for a client, then for a server: the version value
 * itself indexes the table, so the short path needs one bounds test. */
static const uint16_t ACCEPT[16][16] = {
    ACCEPT_ROW(CA), ACCEPT_ROW(C3), ACCEPT_ROW(C3), ACCEPT_ROW(C3), /* AUTO, -, -, 3.1 */
    ACCEPT_ROW(C3), ACCEPT_ROW(C5), ACCEPT_ROW(C3), ACCEPT_ROW(C3), /* 3.1.1, 5.0, -, - */
    ACCEPT_ROW(SA), ACCEPT_ROW(S3), ACCEPT_ROW(S3), ACCEPT_ROW(S3),
    ACCEPT_ROW(S3), ACCEPT_ROW(S5), ACCEPT_ROW(S3), ACCEPT_ROW(S3)};

/* The ACCEPT row of any version and direction (an unknown level is 3.x, any
 * direction but the client's is the server's). */
static inline unsigned accept_row(mqc_version v, mqc_dir from) {
  return ((unsigned)v < 8 ? (unsigned)v : MQC_V311) | (from != MQC_FROM_CLIENT) << 3;
}

static bool direction_ok(mqc_type t, mqc_version v, mqc_dir from) {
  if (t == MQC_DISCONNECT && v != MQC_V5 && from == MQC_FROM_SERVER) return false;
  return TYPES[t].senders & (from == MQC_FROM_CLIENT ? 1 : 2);
}

/* Names the fault of fixed-header flags already known to be wrong (or a
 * PUBLISH, whose flags are checked here in full). */
MQC__COLD static mqc_status flags_fault(mqc__reader *r, uint8_t flags) {
  const uint8_t *at = r->base;
  if (r->type == MQC_PUBLISH) {
    unsigned qos = (flags >> 1) & 3u;
    if (qos == 3) return MQC__MALFORMED(r, at, "MQTT-3.3.1-4", "MQTT-3.3.1-4", "PUBLISH has QoS 3");
    if (qos == 0 && (flags & 8u))
      return MQC__MALFORMED(r, at, "MQTT-3.3.1-2", "MQTT-3.3.1-2", "PUBLISH has DUP set on QoS 0");
    return MQC_OK;
  }
  assert(flags != TYPES[r->type].flags);
  const char *s3 = "MQTT-2.2.2-2", *s5 = "MQTT-2.1.3-1";
  switch (r->type) {
  case MQC_PUBREL:
    s3 = s5 = "MQTT-3.6.1-1";
    break;
  case MQC_SUBSCRIBE:
    s3 = s5 = "MQTT-3.8.1-1";
    break;
  case MQC_UNSUBSCRIBE:
    s3 = s5 = "MQTT-3.10.1-1";
    break;
  case MQC_DISCONNECT:
    s3 = s5 = "MQTT-3.14.1-1";
    break;
  case MQC_AUTH:
    s5 = "MQTT-3.15.1-1";
    break;
  default:
    break;
  }
  return MQC__MALFORMED(r, at, s3, s5, "reserved fixed-header flags are not as specified");
}

static inline mqc_status check_flags(mqc__reader *r, uint8_t flags) {
  if (r->type != MQC_PUBLISH && flags == TYPES[r->type].flags) return MQC_OK;
  if (r->type == MQC_PUBLISH && (flags & 6u) != 6u && (flags & 0xEu) != 8u) return MQC_OK;
  return flags_fault(r, flags);
}

/* A PINGREQ or PINGRESP with a body. */
MQC__COLD static mqc_status ping_trailing(const uint8_t *buf, size_t extent, mqc_version version,
                                          mqc_dir from, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, version, from, err);
  return mqc__trailing(&r);
}

/* The header checks in the order that decides which fault is reported:
 * CONNECT first, then AUTO, type, direction and flags. MQC_OK sends the
 * packet on to its body decoder. */
MQC__COLD static mqc_status header_fault(mqc__reader *r, uint8_t flags) {
  if (r->type == MQC_CONNECT && r->from == MQC_FROM_CLIENT) return check_flags(r, flags);
  if (r->v == MQC_VERSION_AUTO) {
    r->v = MQC_V5; /* cite the newest statement */
    return MQC__PROTOCOL(r, r->base, "MQTT-3.1.0-1", "MQTT-3.1.0-1",
                         "the first packet must be CONNECT");
  }
  if (r->type == MQC_RESERVED0 || (r->type == MQC_AUTH && r->v != MQC_V5))
    return MQC__MALFORMED(r, r->base, NULL, NULL, "reserved packet type");
  if (!direction_ok(r->type, r->v, r->from))
    return MQC__PROTOCOL(r, r->base, NULL, NULL,
                         r->from == MQC_FROM_CLIENT ? "packet type is not sent by a client"
                                                    : "packet type is not sent by a server");
  return check_flags(r, flags);
}

/* The acknowledgements: one carrying only its identifier is decoded here. */
static mqc_status decode_ack_short(const uint8_t *buf, size_t extent, mqc_version version,
                                   mqc_dir from, mqc_packet *pkt, mqc_error *err) {
  const uint8_t *body = buf + (extent & 7);
  if ((extent >> 3) - (extent & 7) == 2 && (body[0] | body[1])) {
    memset(&pkt->ack, 0, sizeof pkt->ack);
    pkt->ack.packet_id = (uint16_t)(body[0] << 8 | body[1]);
    return MQC_OK;
  }
  return mqc__decode_ack(buf, extent, version, from, pkt, err);
}

static mqc_status decode_ping(const uint8_t *buf, size_t extent, mqc_version version, mqc_dir from,
                              mqc_packet *pkt, mqc_error *err) {
  (void)pkt;
  if ((extent >> 3) == (extent & 7)) return MQC_OK;
  return ping_trailing(buf, extent, version, from, err);
}

/* Type 0 never passes the header checks. */
static mqc_status decode_reserved(const uint8_t *buf, size_t extent, mqc_version version,
                                  mqc_dir from, mqc_packet *pkt, mqc_error *err) {
  (void)buf, (void)extent, (void)version, (void)from, (void)pkt, (void)err;
  assert(0 && "the header checks refuse type 0");
  return MQC_ERR_MALFORMED;
}

/* The body decoder of each packet type: one indexed jump, where a switch
 * costs a range test and a jump table too. */
static mqc__body_decoder *const BODY[16] = {
    decode_reserved,       mqc__decode_connect, mqc__decode_connack,     mqc__decode_publish,
    decode_ack_short,      decode_ack_short,    decode_ack_short,        decode_ack_short,
    mqc__decode_subscribe, mqc__decode_suback,  mqc__decode_unsubscribe, mqc__decode_suback,
    decode_ping,           decode_ping,         mqc__decode_reasoned,    mqc__decode_reasoned};

/* What the short path of mqc_decode leaves: a remaining length over one
 * byte, an incomplete or oversize packet, a header ACCEPT does not admit.
 * Out of line, so the short path needs no stack frame. */
MQC__NOINLINE static mqc_status decode_general(const uint8_t *buf, size_t len, mqc_version version,
                                               mqc_dir from, uint32_t max_packet_size,
                                               mqc_packet *pkt, mqc_error *err) {
  /* The header fields are set once framing is done (or zeroed when it
   * fails); each body decoder clears its own union member, which is cheaper
   * than clearing the largest one. */
  reset_error(err);
  mqc_frame fr = {0, 0, 0, 0};
  mqc_status st = frame(buf, len, version, max_packet_size, &fr, err);
  if (st != MQC_OK) {
    pkt->type = MQC_RESERVED0;
    pkt->flags = 0;
    pkt->remaining_length = 0;
    pkt->header_len = 0;
    return st;
  }
  const uint8_t flags = buf[0] & 0x0F;
  const size_t extent = MQC__EXTENT(fr.header_len, fr.total_len);
  pkt->type = (mqc_type)(buf[0] >> 4);
  pkt->flags = flags;
  pkt->header_len = fr.header_len;
  pkt->remaining_length = fr.remaining_length;
  /* One table test admits every well-formed header; anything else goes
   * through the precise checks, which name the fault. */
  if (!(ACCEPT[accept_row(version, from)][pkt->type] >> flags & 1u)) {
    mqc__reader r = mqc__body_reader(buf, extent, version, from, err);
    MQC__TRY(header_fault(&r, flags));
  }
  return BODY[buf[0] >> 4](buf, extent, version, from, pkt, err);
}

mqc_status mqc_decode(const uint8_t *buf, size_t len, mqc_version version, mqc_dir from,
                      uint32_t max_packet_size, mqc_packet *pkt, mqc_error *err) {
  /* The common packet takes a short path: a one-byte remaining length, the
   * whole packet in buf and under the maximum, a header ACCEPT admits. An
   * acknowledgement carrying only its identifier is decoded by its BODY
   * entry. */
  if (len < 2) return decode_general(buf, len, version, from, max_packet_size, pkt, err);
  const unsigned b0 = buf[0], b1 = buf[1], type = b0 >> 4, flags = b0 & 0x0F;
  if (b1 >= 0x80 || b1 + 2u > len ||
      (max_packet_size != MQC_NO_LIMIT && b1 + 2u > max_packet_size) ||
      ((unsigned)version | (unsigned)from << 3) >= 16 ||
      !(ACCEPT[(unsigned)version | (unsigned)from << 3][type] >> flags & 1u))
    return decode_general(buf, len, version, from, max_packet_size, pkt, err);
  reset_error(err);
  pkt->type = (mqc_type)type;
  pkt->flags = (uint8_t)flags;
  pkt->header_len = 2;
  pkt->remaining_length = b1;
  return BODY[type](buf, MQC__EXTENT(2, b1 + 2u), version, from, pkt, err);
}
