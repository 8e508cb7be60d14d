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

/* Records a rejection and returns its status. The statement is chosen by
 * version: s5 for 5.0, s3 for 3.1 and 3.1.1 (3.1 has no numbered statements;
 * the 3.1.1 ones apply). */
mqc_status mqc__fail_at(mqc__reader *r, const uint8_t *at, mqc_status st, uint8_t reason,
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
 * s3/s5 is the statement to cite when the field is missing. */
mqc_status mqc__read_u8(mqc__reader *r, uint8_t *out, const char *what);
mqc_status mqc__read_u16(mqc__reader *r, uint16_t *out, const char *what);
mqc_status mqc__read_varint(mqc__reader *r, uint32_t *out, const char *what);
/* Length-prefixed binary data. */
mqc_status mqc__read_bin(mqc__reader *r, mqc_bytes *out, const char *what, const char *s3,
                         const char *s5);
/* Length-prefixed UTF-8 string, validated (ill-formed, U+0000, surrogates). */
mqc_status mqc__read_utf8(mqc__reader *r, mqc_bytes *out, const char *what, const char *s3,
                          const char *s5);
/* Validates UTF-8 at s, which starts at 'at' in the packet. */
mqc_status mqc__check_utf8(mqc__reader *r, mqc_bytes s, const char *what);
mqc_status mqc__read_packet_id(mqc__reader *r, uint16_t *out);
mqc_status mqc__expect_end(mqc__reader *r);

/* Properties (props.c). allowed is the packet bit or MQC_PROP_IN_WILL. */
mqc_status mqc__read_props(mqc__reader *r, uint32_t allowed, mqc_props *out);

/* Topic checks (topic.c) citing the version's statements. */
mqc_status mqc__check_topic_name(mqc__reader *r, mqc_bytes t, const char *what);
mqc_status mqc__check_topic_filter(mqc__reader *r, mqc_bytes f);

/* Reason-code check against the packet's table, citing stmt. */
mqc_status mqc__check_reason(mqc__reader *r, const uint8_t *at, uint8_t code, const char *s3,
                             const char *s5);

/* Per-family body decoders: r spans the variable header and payload. */
mqc_status mqc__decode_connect(mqc__reader *r, mqc_version want, mqc_connect *c);
mqc_status mqc__decode_connack(mqc__reader *r, mqc_connack *c);
mqc_status mqc__decode_publish(mqc__reader *r, uint8_t flags, mqc_publish *p);
mqc_status mqc__decode_ack(mqc__reader *r, mqc_ack *a);
mqc_status mqc__decode_subscribe(mqc__reader *r, mqc_subscribe *s);
mqc_status mqc__decode_unsubscribe(mqc__reader *r, mqc_subscribe *s);
mqc_status mqc__decode_suback(mqc__reader *r, mqc_suback *s);
mqc_status mqc__decode_reasoned(mqc__reader *r, mqc_reasoned *d);

/* Per-family body encoders: write the variable header and payload. */
void mqc__encode_connect(mqc_writer *w, const mqc_connect *c, mqc_version v,
                         const mqc_faults *f);
void mqc__encode_connack(mqc_writer *w, const mqc_connack *c, mqc_version v);
void mqc__encode_publish(mqc_writer *w, const mqc_publish *p, mqc_version v);
void mqc__encode_ack(mqc_writer *w, const mqc_ack *a, mqc_version v, const mqc_faults *f);
void mqc__encode_subscribe(mqc_writer *w, const mqc_subscribe *s, mqc_version v);
void mqc__encode_suback(mqc_writer *w, mqc_type t, const mqc_suback *s, mqc_version v);
void mqc__encode_reasoned(mqc_writer *w, const mqc_reasoned *d, mqc_version v,
                          const mqc_faults *f);
void mqc__put_props(mqc_writer *w, const mqc_props *p);

/* UTF-8 scan: 0 ok, 1 ill-formed or surrogate, 2 U+0000. *bad = index. */
int mqc__utf8_scan(const uint8_t *s, size_t n, size_t *bad);

#endif
