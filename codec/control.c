/* control.c - DISCONNECT and AUTH: a reason code and properties, both
 * optional on the wire in 5.0 (PINGREQ and PINGRESP have no body at all). */
#include "internal.h"

static mqc_status reasoned_body(mqc__reader *r, mqc_reasoned *d) {
  /* An AUTH without a body means Success, which only a server sends. */
  if (r->v == MQC_V5 && r->p == r->end && r->type == MQC_AUTH && r->from == MQC_FROM_CLIENT)
    return MQC__PROTOCOL(r, r->base, NULL, "MQTT-3.15.2-1",
                         "AUTH with reason Success (implied by length 0) from a client");
  if (r->v != MQC_V5 || r->p == r->end) return mqc__expect_end(r);
  const uint8_t *at = r->p;
  bool auth = r->type == MQC_AUTH;
  MQC__TRY(mqc__read_u8(r, &d->reason, "reason code"));
  MQC__TRY(mqc__check_reason(r, at, d->reason, NULL, auth ? "MQTT-3.15.2-1" : "MQTT-3.14.2-1"));
  if (r->p == r->end) return MQC_OK;
  MQC__TRY(mqc__read_props(r, 1u << r->type, &d->props));
  if (!auth && r->from == MQC_FROM_SERVER &&
      mqc_props_has(&d->props, MQC_PROP_SESSION_EXPIRY_INTERVAL))
    return MQC__PROTOCOL(r, d->props.raw.p, NULL, "MQTT-3.14.2-2",
                         "DISCONNECT from the server carries a Session Expiry Interval");
  return mqc__expect_end(r);
}

mqc_status mqc__decode_reasoned(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                                mqc_packet *pkt, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, v, from, err);
  memset(&pkt->disconnect, 0, sizeof pkt->disconnect);
  return reasoned_body(&r, &pkt->disconnect);
}

void mqc__encode_reasoned(mqc_writer *w, const mqc_reasoned *d, mqc_version v,
                          const mqc_faults *f) {
  if (v != MQC_V5 || (f && f->omit_reason)) return;
  if (d->reason == 0 && d->props.raw.n == 0) return;
  mqc__w_u8(w, d->reason);
  if (d->props.raw.n == 0) return;
  mqc__put_props(w, &d->props);
}
