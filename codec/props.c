/* props.c - MQTT 5.0 properties: the table, block validation, iteration and
 * writing. */
#include "internal.h"

#define P(t) (1u << (t))
#define ACKS (P(MQC_PUBACK) | P(MQC_PUBREC) | P(MQC_PUBREL) | P(MQC_PUBCOMP))
#define ALL_WITH_PROPS                                                                             \
  (P(MQC_CONNECT) | P(MQC_CONNACK) | P(MQC_PUBLISH) | ACKS | P(MQC_SUBSCRIBE) | P(MQC_SUBACK) |    \
   P(MQC_UNSUBSCRIBE) | P(MQC_UNSUBACK) | P(MQC_DISCONNECT) | P(MQC_AUTH) | MQC_PROP_IN_WILL)

/* Every 5.0 property: identifier, name, value type and where it may appear.
 * The two tables below are built from this one list. */
#define PROPERTIES(X)                                                                              \
  X(PAYLOAD_FORMAT_INDICATOR, payload_format_indicator, BYTE, P(MQC_PUBLISH) | MQC_PROP_IN_WILL)   \
  X(MESSAGE_EXPIRY_INTERVAL, message_expiry_interval, U32, P(MQC_PUBLISH) | MQC_PROP_IN_WILL)      \
  X(CONTENT_TYPE, content_type, UTF8, P(MQC_PUBLISH) | MQC_PROP_IN_WILL)                           \
  X(RESPONSE_TOPIC, response_topic, UTF8, P(MQC_PUBLISH) | MQC_PROP_IN_WILL)                       \
  X(CORRELATION_DATA, correlation_data, BINARY, P(MQC_PUBLISH) | MQC_PROP_IN_WILL)                 \
  X(SUBSCRIPTION_IDENTIFIER, subscription_identifier, VARINT, P(MQC_PUBLISH) | P(MQC_SUBSCRIBE))   \
  X(SESSION_EXPIRY_INTERVAL, session_expiry_interval, U32,                                         \
    P(MQC_CONNECT) | P(MQC_CONNACK) | P(MQC_DISCONNECT))                                           \
  X(ASSIGNED_CLIENT_IDENTIFIER, assigned_client_identifier, UTF8, P(MQC_CONNACK))                  \
  X(SERVER_KEEP_ALIVE, server_keep_alive, U16, P(MQC_CONNACK))                                     \
  X(AUTHENTICATION_METHOD, authentication_method, UTF8,                                            \
    P(MQC_CONNECT) | P(MQC_CONNACK) | P(MQC_AUTH))                                                 \
  X(AUTHENTICATION_DATA, authentication_data, BINARY,                                              \
    P(MQC_CONNECT) | P(MQC_CONNACK) | P(MQC_AUTH))                                                 \
  X(REQUEST_PROBLEM_INFORMATION, request_problem_information, BYTE, P(MQC_CONNECT))                \
  X(WILL_DELAY_INTERVAL, will_delay_interval, U32, MQC_PROP_IN_WILL)                               \
  X(REQUEST_RESPONSE_INFORMATION, request_response_information, BYTE, P(MQC_CONNECT))              \
  X(RESPONSE_INFORMATION, response_information, UTF8, P(MQC_CONNACK))                              \
  X(SERVER_REFERENCE, server_reference, UTF8, P(MQC_CONNACK) | P(MQC_DISCONNECT))                  \
  X(REASON_STRING, reason_string, UTF8,                                                            \
    P(MQC_CONNACK) | ACKS | P(MQC_SUBACK) | P(MQC_UNSUBACK) | P(MQC_DISCONNECT) | P(MQC_AUTH))     \
  X(RECEIVE_MAXIMUM, receive_maximum, U16, P(MQC_CONNECT) | P(MQC_CONNACK))                        \
  X(TOPIC_ALIAS_MAXIMUM, topic_alias_maximum, U16, P(MQC_CONNECT) | P(MQC_CONNACK))                \
  X(TOPIC_ALIAS, topic_alias, U16, P(MQC_PUBLISH))                                                 \
  X(MAXIMUM_QOS, maximum_qos, BYTE, P(MQC_CONNACK))                                                \
  X(RETAIN_AVAILABLE, retain_available, BYTE, P(MQC_CONNACK))                                      \
  X(USER_PROPERTY, user_property, UTF8_PAIR, ALL_WITH_PROPS)                                       \
  X(MAXIMUM_PACKET_SIZE, maximum_packet_size, U32, P(MQC_CONNECT) | P(MQC_CONNACK))                \
  X(WILDCARD_SUBSCRIPTION_AVAILABLE, wildcard_subscription_available, BYTE, P(MQC_CONNACK))        \
  X(SUBSCRIPTION_IDENTIFIER_AVAILABLE, subscription_identifier_available, BYTE, P(MQC_CONNACK))    \
  X(SHARED_SUBSCRIPTION_AVAILABLE, shared_subscription_available, BYTE, P(MQC_CONNACK))

/* Indexed by identifier; the gaps are unassigned identifiers (type NONE,
 * allowed nowhere). */
#define PROP_INFO(ID, NAME, TYPE, WHERE)                                                           \
  [MQC_PROP_##ID] = {MQC_PROP_##ID, #NAME, MQC_PT_##TYPE, WHERE},
static const mqc_prop_info PROPS[MQC_PROP_ID_MAX + 1] = {PROPERTIES(PROP_INFO)};

/* The same, packed for the decoder's loop: where the property may appear
 * (bits 0-16) and its value type (bits 24-31), in one word. */
#define PROP_KIND(ID, NAME, TYPE, WHERE) [MQC_PROP_##ID] = (WHERE) | (uint32_t)MQC_PT_##TYPE << 24,
static const uint32_t KINDS[MQC_PROP_ID_MAX + 1] = {PROPERTIES(PROP_KIND)};

const mqc_prop_info *mqc_prop_lookup(uint32_t id) {
  if (id > MQC_PROP_ID_MAX || PROPS[id].type == MQC_PT_NONE) return NULL;
  return &PROPS[id];
}

const mqc_prop_info *mqc_prop_by_name(const char *name) {
  for (size_t i = 0; i < sizeof PROPS / sizeof PROPS[0]; i++)
    if (PROPS[i].name && !strcmp(PROPS[i].name, name)) return &PROPS[i];
  return NULL;
}

/* Reads one value of type t at r (bounds-checked; strings validated). */
static mqc_status read_value(mqc__reader *r, mqc_prop_type t, mqc_prop *out) {
  switch (t) {
  case MQC_PT_BYTE: {
    uint8_t b = 0;
    MQC__TRY(mqc__read_u8(r, &b, "property"));
    out->u = b;
    return MQC_OK;
  }
  case MQC_PT_U16: {
    uint16_t v = 0;
    MQC__TRY(mqc__read_u16(r, &v, "property"));
    out->u = v;
    return MQC_OK;
  }
  case MQC_PT_U32:
    if (mqc__left(r) < 4)
      return MQC__MALFORMED(r, r->end, NULL, NULL, "packet ends inside a field");
    out->u = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return MQC_OK;
  case MQC_PT_VARINT:
    return mqc__read_varint(r, &out->u, "property");
  case MQC_PT_UTF8:
    return mqc__read_utf8(r, &out->value, "property", NULL, NULL);
  case MQC_PT_BINARY:
    return mqc__read_bin(r, &out->value, "property", NULL, NULL);
  case MQC_PT_UTF8_PAIR:
    MQC__TRY(mqc__read_utf8(r, &out->key, "property", NULL, NULL));
    return mqc__read_utf8(r, &out->value, "property", NULL, NULL);
  case MQC_PT_NONE:
    break;
  }
  assert(0 && "unknown property type");
  return MQC_ERR_MALFORMED;
}

/* Value ranges the specification gives for each property. */
static mqc_status check_range(mqc__reader *r, const uint8_t *at, const mqc_prop *p) {
  switch (p->id) {
  case MQC_PROP_PAYLOAD_FORMAT_INDICATOR:
  case MQC_PROP_REQUEST_PROBLEM_INFORMATION:
  case MQC_PROP_REQUEST_RESPONSE_INFORMATION:
  case MQC_PROP_MAXIMUM_QOS:
  case MQC_PROP_RETAIN_AVAILABLE:
  case MQC_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
  case MQC_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
  case MQC_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
    if (p->u > 1) return MQC__PROTOCOL(r, at, NULL, NULL, "property value is not 0 or 1");
    return MQC_OK;
  case MQC_PROP_RECEIVE_MAXIMUM:
    if (p->u == 0) return MQC__PROTOCOL(r, at, NULL, NULL, "Receive Maximum is 0");
    return MQC_OK;
  case MQC_PROP_MAXIMUM_PACKET_SIZE:
    if (p->u == 0) return MQC__PROTOCOL(r, at, NULL, NULL, "Maximum Packet Size is 0");
    return MQC_OK;
  case MQC_PROP_SUBSCRIPTION_IDENTIFIER:
    if (p->u == 0) return MQC__PROTOCOL(r, at, NULL, NULL, "Subscription Identifier is 0");
    return MQC_OK;
  case MQC_PROP_TOPIC_ALIAS:
    if (p->u == 0)
      return mqc__fail_at(r, at, MQC_ERR_PROTOCOL, MQC_RC_TOPIC_ALIAS_INVALID, NULL, "MQTT-3.3.2-8",
                          "Topic Alias is 0");
    return MQC_OK;
  case MQC_PROP_RESPONSE_TOPIC:
    if (p->value.n == 0)
      return MQC__PROTOCOL(r, at, NULL, "MQTT-4.7.3-1", "Response Topic is empty");
    if (!mqc_topic_name_valid(p->value))
      return MQC__PROTOCOL(r, at, NULL, "MQTT-3.3.2-14", "wildcard character in Response Topic");
    return MQC_OK;
  default:
    return MQC_OK;
  }
}

static bool may_repeat(mqc_prop_id id, mqc_type t, uint32_t allowed) {
  return id == MQC_PROP_USER_PROPERTY || (id == MQC_PROP_SUBSCRIPTION_IDENTIFIER &&
                                          t == MQC_PUBLISH && allowed != MQC_PROP_IN_WILL);
}

/* Identifiers whose values have a range to check (check_range). */
#define RANGED                                                                                     \
  (1ull << MQC_PROP_PAYLOAD_FORMAT_INDICATOR | 1ull << MQC_PROP_RESPONSE_TOPIC |                   \
   1ull << MQC_PROP_SUBSCRIPTION_IDENTIFIER | 1ull << MQC_PROP_REQUEST_PROBLEM_INFORMATION |       \
   1ull << MQC_PROP_REQUEST_RESPONSE_INFORMATION | 1ull << MQC_PROP_RECEIVE_MAXIMUM |              \
   1ull << MQC_PROP_TOPIC_ALIAS | 1ull << MQC_PROP_MAXIMUM_QOS |                                   \
   1ull << MQC_PROP_RETAIN_AVAILABLE | 1ull << MQC_PROP_MAXIMUM_PACKET_SIZE |                      \
   1ull << MQC_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE |                                              \
   1ull << MQC_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE |                                            \
   1ull << MQC_PROP_SHARED_SUBSCRIPTION_AVAILABLE)

/* Names the fault of the identifier at 'at', which is unknown or not allowed
 * in this packet. */
MQC__COLD static mqc_status bad_id(mqc__reader *r, const uint8_t *at, uint32_t allowed) {
  uint8_t id = *at;
  if (id & 0x80) { /* a multi-byte identifier: non-minimal, or unknown */
    uint32_t wide = 0;
    r->p = at;
    MQC__TRY(mqc__read_varint_slow(r, &wide));
    return MQC__MALFORMED(r, at, NULL, NULL, "unknown property identifier");
  }
  if (id > MQC_PROP_ID_MAX || PROPS[id].type == MQC_PT_NONE)
    return MQC__MALFORMED(r, at, NULL, NULL, "unknown property identifier");
  (void)allowed;
  assert(!(PROPS[id].allowed & allowed));
  return MQC__MALFORMED(r, at, NULL, NULL, "property is not allowed in this packet");
}

/* Every property of every 5.0 packet passes through here, so the value
 * readers are inline and only ranged identifiers build an mqc_prop for the
 * range check. All identifiers are below 0x80, so one byte is read: a byte
 * with the continuation bit can only start an unknown (or non-minimal)
 * identifier. Unassigned identifiers are allowed nowhere, so one table test
 * admits a known, allowed identifier. */
mqc_status mqc__read_props_block(mqc__reader *r, uint32_t allowed, mqc_props *out) {
  /* out was zeroed with its packet; every field is set below on success. */
  if (r->p >= r->end)
    return MQC__MALFORMED(r, r->p, NULL, "MQTT-2.2.2-1", "property length is missing");
  uint32_t len = *r->p; /* a one-byte length, or the slow path's value */
  if (len < 0x80) {
    r->p++;
  } else {
    uint32_t wide = 0;
    MQC__TRY(mqc__read_varint_slow(r, &wide));
    len = wide;
  }
  if (len > mqc__left(r))
    return MQC__MALFORMED(r, r->p, NULL, NULL, "property length runs past the end of the packet");
  out->raw.p = r->p;
  out->raw.n = len;
  /* Validate within the block: the reader's end is narrowed to it. */
  const uint8_t *outer_end = r->end;
  r->end = r->p + len;
  mqc_status st = MQC_OK;
  uint64_t present = 0;
  uint32_t count = 0;
  while (r->p < r->end) {
    const uint8_t *at = r->p;
    uint8_t id = *r->p++;
    const uint32_t kind = id <= MQC_PROP_ID_MAX ? KINDS[id] : 0;
    if (!(kind & allowed)) {
      st = bad_id(r, at, allowed);
      break;
    }
    const mqc_prop_type type = (mqc_prop_type)(kind >> 24);
    uint64_t bit = 1ull << id;
    if ((present & bit) && !may_repeat((mqc_prop_id)id, r->type, allowed)) {
      st = MQC__PROTOCOL(r, at, NULL, NULL, "property appears more than once");
      break;
    }
    uint32_t u = 0;
    mqc_bytes key = {NULL, 0}, value = {NULL, 0};
    switch (type) {
    case MQC_PT_BYTE:
      if (r->p >= r->end)
        st = mqc__truncated(r, NULL, NULL);
      else
        u = *r->p++;
      break;
    case MQC_PT_U16:
      if (mqc__left(r) < 2) {
        st = mqc__truncated(r, NULL, NULL);
      } else {
        u = (uint32_t)(r->p[0] << 8 | r->p[1]);
        r->p += 2;
      }
      break;
    case MQC_PT_U32:
      if (mqc__left(r) < 4) {
        st = mqc__truncated(r, NULL, NULL);
      } else {
        u = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
        r->p += 4;
      }
      break;
    case MQC_PT_VARINT:
      if (r->p < r->end && !(*r->p & 0x80)) {
        u = *r->p++;
      } else {
        uint32_t wide = 0; /* kept apart so that u stays out of memory */
        st = mqc__read_varint_slow(r, &wide);
        u = wide;
      }
      break;
    case MQC_PT_UTF8:
      st = mqc__read_utf8(r, &value, "property", NULL, NULL);
      break;
    case MQC_PT_BINARY:
      st = mqc__read_bin(r, &value, "property", NULL, NULL);
      break;
    case MQC_PT_UTF8_PAIR:
      st = mqc__read_utf8(r, &key, "property", NULL, NULL);
      if (st == MQC_OK) st = mqc__read_utf8(r, &value, "property", NULL, NULL);
      break;
    case MQC_PT_NONE:
      assert(0 && "allowed identifiers have types");
      break;
    }
    if (st == MQC_OK && (RANGED & bit)) {
      mqc_prop p = {.id = (mqc_prop_id)id, .type = type, .u = u, .value = value};
      st = check_range(r, at, &p);
    }
    if (st != MQC_OK) break;
    present |= bit;
    count++;
  }
  out->present = present;
  out->count = count;
  r->end = outer_end;
  return st;
}

void mqc_prop_iter_init(mqc_prop_iter *it, const mqc_props *props) {
  /* An absent block is {NULL, 0}; NULL + 0 is undefined, so keep NULL. */
  it->p = props->raw.p;
  it->end = props->raw.p ? props->raw.p + props->raw.n : NULL;
}

bool mqc_prop_next(mqc_prop_iter *it, mqc_prop *out) {
  if (!it->p || it->p >= it->end) return false;
  /* Re-reads a block decode already validated; the reader's own bounds and a
   * throwaway error keep hand-built blocks safe too. */
  mqc_error err;
  mqc__reader r = {.base = it->p, .p = it->p, .end = it->end, .v = MQC_V311, .err = &err};
  uint32_t id = 0;
  memset(out, 0, sizeof *out);
  if (mqc__read_varint(&r, &id, "id") != MQC_OK) goto stop;
  const mqc_prop_info *info = mqc_prop_lookup(id);
  if (!info) goto stop;
  out->id = info->id;
  out->type = info->type;
  if (info->type == MQC_PT_UTF8 || info->type == MQC_PT_UTF8_PAIR) {
    /* Skip the UTF-8 validation decode already did. */
    mqc_prop_type t = info->type == MQC_PT_UTF8 ? MQC_PT_BINARY : MQC_PT_UTF8_PAIR;
    if (t == MQC_PT_BINARY) {
      if (mqc__read_bin(&r, &out->value, "v", NULL, NULL) != MQC_OK) goto stop;
    } else if (mqc__read_bin(&r, &out->key, "k", NULL, NULL) != MQC_OK ||
               mqc__read_bin(&r, &out->value, "v", NULL, NULL) != MQC_OK) {
      goto stop;
    }
  } else if (read_value(&r, info->type, out) != MQC_OK) {
    goto stop;
  }
  it->p = r.p;
  return true;
stop:
  it->p = it->end;
  return false;
}

bool mqc_props_get(const mqc_props *props, mqc_prop_id id, mqc_prop *out) {
  if (!mqc_props_has(props, id)) return false;
  mqc_prop_iter it;
  mqc_prop p;
  mqc_prop_iter_init(&it, props);
  while (mqc_prop_next(&it, &p))
    if (p.id == id) {
      *out = p;
      return true;
    }
  return false;
}

void mqc_put_prop(mqc_writer *w, const mqc_prop *p) {
  mqc_put_varint(w, p->id);
  switch (p->type) {
  case MQC_PT_BYTE:
    mqc_put_u8(w, (uint8_t)p->u);
    break;
  case MQC_PT_U16:
    mqc_put_u16(w, (uint16_t)p->u);
    break;
  case MQC_PT_U32:
    mqc_put_u32(w, p->u);
    break;
  case MQC_PT_VARINT:
    mqc_put_varint(w, p->u);
    break;
  case MQC_PT_UTF8:
  case MQC_PT_BINARY:
    mqc_put_str(w, p->value);
    break;
  case MQC_PT_UTF8_PAIR:
    mqc_put_str(w, p->key);
    mqc_put_str(w, p->value);
    break;
  case MQC_PT_NONE:
    break;
  }
}

void mqc_put_prop_u32(mqc_writer *w, mqc_prop_id id, uint32_t u) {
  const mqc_prop_info *info = mqc_prop_lookup(id);
  mqc_prop p = {.id = id, .type = info ? info->type : MQC_PT_U32, .u = u};
  mqc_put_prop(w, &p);
}

void mqc_put_prop_str(mqc_writer *w, mqc_prop_id id, mqc_bytes value) {
  mqc_prop p = {.id = id, .type = MQC_PT_UTF8, .value = value};
  mqc_put_prop(w, &p);
}

void mqc_put_prop_pair(mqc_writer *w, mqc_bytes key, mqc_bytes value) {
  mqc_prop p = {.id = MQC_PROP_USER_PROPERTY, .type = MQC_PT_UTF8_PAIR, .key = key, .value = value};
  mqc_put_prop(w, &p);
}
