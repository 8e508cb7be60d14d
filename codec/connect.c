/* connect.c - CONNECT and CONNACK. */
#include "internal.h"

#define P(t) (1u << (t))

/* The level decides the version; the name must be the one that version uses
 * ("MQIsdp" for 3.1, "MQTT" for 3.1.1 and 5.0). With a fixed session version,
 * the name that version expects is checked first. */
static mqc_status read_protocol(mqc__reader *r, mqc_version want, mqc_connect *c) {
  const uint8_t *at = r->p;
  /* The common CONNECT in one test: "MQTT" at level 4 or 5, the level the
   * session expects. */
  if (mqc__left(r) >= 7 && at[0] == 0 && at[1] == 4 && !memcmp(at + 2, "MQTT", 4) &&
      (at[6] == MQC_V311 || at[6] == MQC_V5) && (want == MQC_VERSION_AUTO || want == at[6])) {
    c->protocol_name.p = at + 2;
    c->protocol_name.n = 4;
    c->level = at[6];
    r->v = (mqc_version)at[6];
    r->p = at + 7;
    return MQC_OK;
  }
  MQC__TRY(mqc__read_bin(r, &c->protocol_name, "protocol name", "MQTT-3.1.2-1", "MQTT-3.1.2-1"));
  MQC__TRY(mqc__read_u8(r, &c->level, "protocol level"));
  bool mqtt = c->protocol_name.n == 4 && !memcmp(c->protocol_name.p, "MQTT", 4);
  bool isdp = c->protocol_name.n == 6 && !memcmp(c->protocol_name.p, "MQIsdp", 6);
  /* Cite the statements of the version the client asked for when we know it. */
  r->v = c->level == MQC_V5 ? MQC_V5 : (want == MQC_VERSION_AUTO ? MQC_V311 : want);
  mqc_version by_level = c->level == 3   ? MQC_V31
                         : c->level == 4 ? MQC_V311
                         : c->level == 5 ? MQC_V5
                                         : MQC_VERSION_AUTO;
  mqc_version named = want != MQC_VERSION_AUTO ? want : by_level;
  bool name_ok = named == MQC_VERSION_AUTO ? (mqtt || isdp) : (named == MQC_V31 ? isdp : mqtt);
  if (!name_ok)
    return mqc__fail_at(r, at, MQC_ERR_PROTOCOL, MQC_RC_UNSUPPORTED_PROTOCOL_VERSION,
                        "MQTT-3.1.2-1", "MQTT-3.1.2-1",
                        "protocol name does not match the protocol version");
  if (by_level == MQC_VERSION_AUTO)
    return mqc__fail_at(r, r->p - 1, MQC_ERR_PROTOCOL, MQC_RC_UNSUPPORTED_PROTOCOL_VERSION,
                        "MQTT-3.1.2-2", "MQTT-3.1.2-2", "protocol level is not supported");
  if (want != MQC_VERSION_AUTO && want != by_level)
    return mqc__fail_at(r, r->p - 1, MQC_ERR_PROTOCOL, MQC_RC_UNSUPPORTED_PROTOCOL_VERSION,
                        "MQTT-3.1.2-2", "MQTT-3.1.2-2",
                        "protocol level differs from the version being decoded");
  r->v = by_level;
  return MQC_OK;
}

static mqc_status read_flags(mqc__reader *r, mqc_connect *c) {
  const uint8_t *at = r->p;
  MQC__TRY(mqc__read_u8(r, &c->flags, "connect flags"));
  uint8_t f = c->flags;
  c->clean_start = f & 0x02;
  c->will = f & 0x04;
  c->will_qos = (f >> 3) & 3;
  c->will_retain = f & 0x20;
  c->has_password = f & 0x40;
  c->has_username = f & 0x80;
  if (f & 0x01)
    return MQC__MALFORMED(r, at, "MQTT-3.1.2-3", "MQTT-3.1.2-3", "reserved connect flag is set");
  if (!c->will && c->will_qos)
    return MQC__MALFORMED(r, at, "MQTT-3.1.2-13", "MQTT-3.1.2-11",
                          "Will QoS set without Will Flag");
  if (!c->will && c->will_retain)
    return MQC__MALFORMED(r, at, "MQTT-3.1.2-15", "MQTT-3.1.2-13",
                          "Will Retain set without Will Flag");
  if (c->will_qos == 3)
    return MQC__MALFORMED(r, at, "MQTT-3.1.2-14", "MQTT-3.1.2-12", "Will QoS is 3");
  if (r->v != MQC_V5 && c->has_password && !c->has_username)
    return MQC__MALFORMED(r, at, "MQTT-3.1.2-22", NULL, "Password Flag set without User Name Flag");
  return MQC_OK;
}

static mqc_status connect_body(mqc__reader *r, mqc_version want, mqc_connect *c) {
  /* Every field is set on success: these few here, as not every CONNECT
   * carries them, the rest below (cheaper than clearing the whole struct). */
  c->props = c->will_props = (mqc_props){{NULL, 0}, 0, 0};
  c->will_topic = c->will_payload = c->username = c->password = (mqc_bytes){NULL, 0};
  MQC__TRY(read_protocol(r, want, c));
  MQC__TRY(read_flags(r, c));
  MQC__TRY(mqc__read_u16(r, &c->keep_alive, "keep alive"));
  if (r->v == MQC_V5) {
    MQC__TRY(mqc__read_props(r, P(MQC_CONNECT), &c->props));
    if (mqc_props_has(&c->props, MQC_PROP_AUTHENTICATION_DATA) &&
        !mqc_props_has(&c->props, MQC_PROP_AUTHENTICATION_METHOD))
      return MQC__PROTOCOL(r, c->props.raw.p, NULL, NULL,
                           "Authentication Data without Authentication Method");
  }
  MQC__TRY(mqc__read_utf8(r, &c->client_id, "client identifier", "MQTT-3.1.3-3", "MQTT-3.1.3-3"));
  if (c->will) {
    if (r->p == r->end)
      return MQC__MALFORMED(r, r->p, "MQTT-3.1.2-9", "MQTT-3.1.2-9",
                            "Will Flag is set but the will fields are missing");
    if (r->v == MQC_V5) MQC__TRY(mqc__read_props(r, MQC_PROP_IN_WILL, &c->will_props));
    MQC__TRY(mqc__read_utf8(r, &c->will_topic, "will topic", "MQTT-3.1.2-9", "MQTT-3.1.2-9"));
    if (c->will_topic.n == 0)
      return MQC__PROTOCOL(r, c->will_topic.p, "MQTT-4.7.3-1", "MQTT-4.7.3-1", "empty Will Topic");
    MQC__TRY(mqc__check_topic_name(r, c->will_topic, "will topic"));
    MQC__TRY(mqc__read_bin(r, &c->will_payload, "will payload", "MQTT-3.1.2-9", "MQTT-3.1.2-9"));
  }
  if (c->has_username)
    MQC__TRY(mqc__read_utf8(r, &c->username, "user name", "MQTT-3.1.2-19", "MQTT-3.1.2-17"));
  if (c->has_password)
    MQC__TRY(mqc__read_bin(r, &c->password, "password", "MQTT-3.1.2-21", "MQTT-3.1.2-19"));
  return mqc__expect_end(r);
}

mqc_status mqc__decode_connect(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                               mqc_packet *pkt, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, v, from, err);
  return connect_body(&r, v, &pkt->connect);
}

static mqc_status connack_body(mqc__reader *r, mqc_connack *c) {
  const uint8_t *at = r->p;
  MQC__TRY(mqc__read_u8(r, &c->flags, "acknowledge flags"));
  /* 3.1 has no Session Present: there the byte is unused. */
  if (r->v != MQC_V31) {
    if (c->flags & 0xFE)
      return MQC__MALFORMED(r, at, NULL, "MQTT-3.2.2-1", "reserved acknowledge flags are set");
    c->session_present = c->flags & 1;
  }
  const uint8_t *rc_at = r->p;
  MQC__TRY(mqc__read_u8(r, &c->reason, "reason code"));
  if (r->v == MQC_V5) {
    MQC__TRY(mqc__check_reason(r, rc_at, c->reason, NULL, "MQTT-3.2.2-8"));
    MQC__TRY(mqc__read_props(r, P(MQC_CONNACK), &c->props));
  } else if (c->reason > 5) {
    return MQC__PROTOCOL(r, rc_at, NULL, NULL, "CONNACK return code is reserved");
  }
  if (c->session_present && c->reason != 0)
    return MQC__PROTOCOL(r, at, "MQTT-3.2.2-4", "MQTT-3.2.2-6",
                         "Session Present set with a non-zero reason code");
  return mqc__expect_end(r);
}

mqc_status mqc__decode_connack(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                               mqc_packet *pkt, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, v, from, err);
  memset(&pkt->connack, 0, sizeof pkt->connack);
  return connack_body(&r, &pkt->connack);
}

void mqc__encode_connect(mqc_writer *w, const mqc_connect *c, mqc_version v, const mqc_faults *f) {
  mqc_bytes name = c->protocol_name;
  if (!name.p) name = mqc_cstr(v == MQC_V31 ? "MQIsdp" : "MQTT");
  mqc__w_str(w, name);
  mqc__w_u8(w, c->level ? c->level : (uint8_t)v);
  uint8_t flags = (uint8_t)((c->clean_start ? 0x02 : 0) | (c->will ? 0x04 : 0) |
                            (c->will_qos & 3) << 3 | (c->will_retain ? 0x20 : 0) |
                            (c->has_password ? 0x40 : 0) | (c->has_username ? 0x80 : 0));
  if (f && f->set_connect_flags) flags = f->connect_flags;
  mqc__w_u8(w, flags);
  mqc__w_u16(w, c->keep_alive);
  if (v == MQC_V5) mqc__put_props(w, &c->props);
  mqc__w_str(w, c->client_id);
  if (c->will) {
    if (v == MQC_V5) mqc__put_props(w, &c->will_props);
    mqc__w_str(w, c->will_topic);
    mqc__w_str(w, c->will_payload);
  }
  if (c->has_username) mqc__w_str(w, c->username);
  if (c->has_password) mqc__w_str(w, c->password);
}

void mqc__encode_connack(mqc_writer *w, const mqc_connack *c, mqc_version v) {
  mqc__w_u8(w, c->session_present ? 1 : 0);
  mqc__w_u8(w, c->reason);
  if (v == MQC_V5) mqc__put_props(w, &c->props);
}
