/* publish.c - PUBLISH and its acknowledgements PUBACK, PUBREC, PUBREL,
 * PUBCOMP. */
#include "internal.h"

#define P(t) (1u << (t))

static mqc_status publish_body(mqc__reader *r, uint8_t flags, mqc_publish *p) {
  p->dup = flags & 8;
  p->qos = (flags >> 1) & 3;
  p->retain = flags & 1;
  MQC__TRY(mqc__read_topic(r, &p->topic, false, "MQTT-3.3.2-1", "MQTT-3.3.2-1"));
  if (p->qos > 0) MQC__TRY(mqc__read_packet_id(r, &p->packet_id));
  if (r->v == MQC_V5) {
    MQC__TRY(mqc__read_props(r, P(MQC_PUBLISH), &p->props));
    if (r->from == MQC_FROM_CLIENT && mqc_props_has(&p->props, MQC_PROP_SUBSCRIPTION_IDENTIFIER))
      return MQC__PROTOCOL(r, p->props.raw.p, NULL, "MQTT-3.3.4-6",
                           "PUBLISH from a client carries a Subscription Identifier");
  }
  if (p->topic.n == 0 && !mqc_props_has(&p->props, MQC_PROP_TOPIC_ALIAS))
    return MQC__PROTOCOL(r, p->topic.p, "MQTT-4.7.3-1", "MQTT-4.7.3-1",
                         "empty topic name without a Topic Alias");
  p->payload.p = r->p;
  p->payload.n = mqc__left(r);
  r->p = r->end;
  return MQC_OK;
}

mqc_status mqc__decode_publish(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                               mqc_packet *pkt, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, v, from, err);
  memset(&pkt->publish, 0, sizeof pkt->publish);
  return publish_body(&r, buf[0] & 0x0F, &pkt->publish);
}

static const char *reason_statement(mqc_type t) {
  switch (t) {
  case MQC_PUBACK:
    return "MQTT-3.4.2-1";
  case MQC_PUBREC:
    return "MQTT-3.5.2-1";
  case MQC_PUBREL:
    return "MQTT-3.6.2-1";
  default:
    return "MQTT-3.7.2-1";
  }
}

static mqc_status ack_body(mqc__reader *r, mqc_ack *a) {
  MQC__TRY(mqc__read_packet_id(r, &a->packet_id));
  if (r->v != MQC_V5 || r->p == r->end) return mqc__expect_end(r);
  const uint8_t *at = r->p;
  MQC__TRY(mqc__read_u8(r, &a->reason, "reason code"));
  MQC__TRY(mqc__check_reason(r, at, a->reason, NULL, reason_statement(r->type)));
  if (r->p == r->end) return MQC_OK;
  MQC__TRY(mqc__read_props(r, 1u << r->type, &a->props));
  return mqc__expect_end(r);
}

mqc_status mqc__decode_ack(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                           mqc_packet *pkt, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, v, from, err);
  memset(&pkt->ack, 0, sizeof pkt->ack);
  return ack_body(&r, &pkt->ack);
}

void mqc__encode_publish(mqc_writer *w, const mqc_publish *p, mqc_version v) {
  mqc__w_str(w, p->topic);
  if (p->qos > 0) mqc__w_u16(w, p->packet_id);
  if (v == MQC_V5) mqc__put_props(w, &p->props);
  mqc__w_bytes(w, p->payload);
}

void mqc__encode_ack(mqc_writer *w, const mqc_ack *a, mqc_version v, const mqc_faults *f) {
  mqc__w_u16(w, a->packet_id);
  if (v != MQC_V5 || (f && f->omit_reason)) return;
  /* The shortest form the spec allows is the canonical one. */
  if (a->reason == 0 && a->props.raw.n == 0) return;
  mqc__w_u8(w, a->reason);
  if (a->props.raw.n == 0) return;
  mqc__put_props(w, &a->props);
}
