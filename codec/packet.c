/* packet.c - names, initialisation and semantic equality of packets. */
#include "internal.h"

const char *mqc_strerror(mqc_status s) {
  switch (s) {
  case MQC_OK:
    return "ok";
  case MQC_INCOMPLETE:
    return "incomplete";
  case MQC_ERR_MALFORMED:
    return "malformed packet";
  case MQC_ERR_PROTOCOL:
    return "protocol error";
  case MQC_ERR_TOO_LARGE:
    return "packet too large";
  case MQC_ERR_NOSPACE:
    return "output buffer too small";
  case MQC_ERR_ARGUMENT:
    return "packet cannot be represented";
  }
  return "unknown status";
}

const char *mqc_type_name(mqc_type t) {
  static const char *const names[16] = {"RESERVED",  "CONNECT",  "CONNACK",     "PUBLISH",
                                        "PUBACK",    "PUBREC",   "PUBREL",      "PUBCOMP",
                                        "SUBSCRIBE", "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
                                        "PINGREQ",   "PINGRESP", "DISCONNECT",  "AUTH"};
  return (unsigned)t < 16 ? names[t] : "RESERVED";
}

const char *mqc_version_name(mqc_version v) {
  switch (v) {
  case MQC_V31:
    return "3.1";
  case MQC_V311:
    return "3.1.1";
  case MQC_V5:
    return "5.0";
  case MQC_VERSION_AUTO:
    return "auto";
  }
  return "unknown";
}

mqc_bytes mqc_cstr(const char *s) {
  mqc_bytes b = {(const uint8_t *)s, s ? strlen(s) : 0};
  return b;
}

bool mqc_bytes_eq(mqc_bytes a, mqc_bytes b) {
  return a.n == b.n && (a.n == 0 || !memcmp(a.p, b.p, a.n));
}

void mqc_packet_init(mqc_packet *p, mqc_type t, mqc_version v) {
  memset(p, 0, sizeof *p);
  p->type = t;
  p->flags = (t == MQC_PUBREL || t == MQC_SUBSCRIBE || t == MQC_UNSUBSCRIBE) ? 2 : 0;
  if (t == MQC_CONNECT) {
    p->connect.protocol_name = mqc_cstr(v == MQC_V31 ? "MQIsdp" : "MQTT");
    p->connect.level = (uint8_t)v;
    p->connect.clean_start = true;
  }
}

const mqc_props *mqc_packet_props(const mqc_packet *p) {
  switch (p->type) {
  case MQC_CONNECT:
    return &p->connect.props;
  case MQC_CONNACK:
    return &p->connack.props;
  case MQC_PUBLISH:
    return &p->publish.props;
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    return &p->ack.props;
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
    return &p->subscribe.props;
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    return &p->suback.props;
  case MQC_DISCONNECT:
    return &p->disconnect.props;
  case MQC_AUTH:
    return &p->auth.props;
  default:
    return NULL;
  }
}

static bool props_eq(const mqc_props *a, const mqc_props *b) {
  return mqc_bytes_eq(a->raw, b->raw);
}

bool mqc_packet_equal(const mqc_packet *a, const mqc_packet *b) {
  if (a->type != b->type) return false;
  switch (a->type) {
  case MQC_CONNECT: {
    const mqc_connect *x = &a->connect, *y = &b->connect;
    return mqc_bytes_eq(x->protocol_name, y->protocol_name) && x->level == y->level &&
           x->clean_start == y->clean_start && x->will == y->will && x->will_qos == y->will_qos &&
           x->will_retain == y->will_retain && x->has_username == y->has_username &&
           x->has_password == y->has_password && x->keep_alive == y->keep_alive &&
           props_eq(&x->props, &y->props) && mqc_bytes_eq(x->client_id, y->client_id) &&
           props_eq(&x->will_props, &y->will_props) && mqc_bytes_eq(x->will_topic, y->will_topic) &&
           mqc_bytes_eq(x->will_payload, y->will_payload) &&
           mqc_bytes_eq(x->username, y->username) && mqc_bytes_eq(x->password, y->password);
  }
  case MQC_CONNACK:
    return a->connack.session_present == b->connack.session_present &&
           a->connack.reason == b->connack.reason && props_eq(&a->connack.props, &b->connack.props);
  case MQC_PUBLISH: {
    const mqc_publish *x = &a->publish, *y = &b->publish;
    return x->dup == y->dup && x->qos == y->qos && x->retain == y->retain &&
           mqc_bytes_eq(x->topic, y->topic) && x->packet_id == y->packet_id &&
           props_eq(&x->props, &y->props) && mqc_bytes_eq(x->payload, y->payload);
  }
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    return a->ack.packet_id == b->ack.packet_id && a->ack.reason == b->ack.reason &&
           props_eq(&a->ack.props, &b->ack.props);
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
    return a->subscribe.packet_id == b->subscribe.packet_id &&
           props_eq(&a->subscribe.props, &b->subscribe.props) &&
           mqc_bytes_eq(a->subscribe.list, b->subscribe.list);
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    return a->suback.packet_id == b->suback.packet_id &&
           props_eq(&a->suback.props, &b->suback.props) &&
           mqc_bytes_eq(a->suback.reasons, b->suback.reasons);
  case MQC_DISCONNECT:
  case MQC_AUTH:
    return a->disconnect.reason == b->disconnect.reason &&
           props_eq(&a->disconnect.props, &b->disconnect.props);
  case MQC_PINGREQ:
  case MQC_PINGRESP:
  case MQC_RESERVED0:
    return true;
  }
  return false;
}
