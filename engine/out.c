/* out.c - the per-connection output buffer and the server's packet encoders.
 * Every packet is sized first, then written in place with mqc_writer. */
#include "internal.h"

size_t mqe__varint_len(uint32_t v) {
  return v < 128u ? 1 : v < 16384u ? 2 : v < 2097152u ? 3 : 4;
}

void mqe__mark_output(mqe_engine *e, mqe_conn *c) {
  if (c->in_olist) return;
  c->in_olist = true;
  c->onext = NULL;
  c->oprev = e->otail;
  if (e->otail)
    e->otail->onext = c;
  else
    e->ohead = c;
  e->otail = c;
}

bool mqe__out_room(const mqe_engine *e, const mqe_conn *c) {
  return c->out_len - c->out_off < e->cfg.max_output_bytes;
}

/* Returns a pointer where n bytes may be written, or NULL on NOMEM. */
uint8_t *mqe__out_reserve(mqe_engine *e, mqe_conn *c, size_t n) {
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (c->out_cap - c->out_len >= n) return c->out + c->out_len;
  size_t live = c->out_len - c->out_off;
  if (c->out_off && c->out_cap - live >= n) {
    memmove(c->out, c->out + c->out_off, live);
    c->out_off = 0;
    c->out_len = live;
    return c->out + c->out_len;
  }
  size_t cap = c->out_cap ? c->out_cap : 256;
  while (cap - live < n) {
    if (cap > SIZE_MAX / 2) return NULL;
    cap *= 2;
  }
  uint8_t *b = mqe__alloc(e, cap);
  if (!b) return NULL;
  if (live) memcpy(b, c->out + c->out_off, live);
  mqe__free(e, c->out, c->out_cap);
  c->out = b;
  c->out_cap = cap;
  c->out_off = 0;
  c->out_len = live;
  return b + live;
}

void mqe__out_commit(mqe_engine *e, mqe_conn *c, size_t n) {
  assert(c->out_len + n <= c->out_cap);
  c->out_len += n;
  mqe__mark_output(e, c);
}

/* Writes a whole packet whose size is known: header byte, remaining length,
 * then the body writer callback's bytes. */
static mqc_writer *begin(mqe_engine *e, mqe_conn *c, mqc_writer *w, uint8_t first,
                         uint32_t remaining) {
  if (c->state == MQE__S_CLOSING) return NULL;
  size_t total = 1 + mqe__varint_len(remaining) + remaining;
  uint8_t *p = mqe__out_reserve(e, c, total);
  if (!p) {
    mqe__fail(e, c, MQC_RC_UNSPECIFIED_ERROR, NULL, "out of memory for output");
    return NULL;
  }
  mqc_writer_init(w, p, total);
  mqc_put_u8(w, first);
  mqc_put_varint(w, remaining);
  return w;
}

static void end(mqe_engine *e, mqe_conn *c, mqc_writer *w) {
  assert(mqc_writer_ok(w) && w->len == w->cap);
  mqe__out_commit(e, c, w->len);
}

static bool fits(const mqe_conn *c, uint32_t remaining) {
  return 1 + mqe__varint_len(remaining) + remaining <= c->client_max_packet;
}

/* ---- Reason Strings (MQTT 5.0) ------------------------------------------
 * Policy: a Reason String goes on
 *   - CONNACK refusals and DISCONNECT always (MQTT-3.1.2-29 lets the server
 *     send it there even when Request Problem Information is 0);
 *   - PUBACK/PUBREC/PUBREL/PUBCOMP/SUBACK/UNSUBACK only when they carry a
 *     failure code (>= 0x80) and the client left Request Problem Information
 *     at 1 (MQTT-3.1.2-29);
 *   - never when it would push the packet past the client's Maximum Packet
 *     Size: the property is dropped first (MQTT-3.2.2-19, 3.4.2-2, 3.5.2-2,
 *     3.6.2-2, 3.7.2-2, 3.9.2-1, 3.11.2-1, 3.14.2-3).
 * The server sends no User Properties of its own on any packet; it only
 * forwards the publisher's on PUBLISH. */

const char *mqe__reason_text(uint8_t reason) {
  switch (reason) {
  case MQC_RC_UNSPECIFIED_ERROR:
    return "unspecified error: the server could not take it";
  case MQC_RC_NOT_AUTHORIZED:
    return "not authorized by the server's access rules";
  case MQC_RC_TOPIC_NAME_INVALID:
    return "topic name invalid";
  case MQC_RC_PACKET_IDENTIFIER_IN_USE:
    return "packet identifier in use";
  case MQC_RC_PACKET_IDENTIFIER_NOT_FOUND:
    return "packet identifier not found";
  case MQC_RC_QUOTA_EXCEEDED:
    return "quota exceeded: a configured server limit refused it";
  case MQC_RC_TOPIC_FILTER_INVALID:
    return "topic filter invalid";
  case MQC_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED:
    return "shared subscriptions not supported";
  case MQC_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED:
    return "wildcard subscriptions not supported";
  case MQC_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED:
    return "subscription identifiers not supported";
  case MQC_RC_PAYLOAD_FORMAT_INVALID:
    return "payload format invalid";
  case MQC_RC_NO_SUBSCRIPTION_EXISTED:
    return "no subscription existed";
  default:
    return "refused by the server";
  }
}

/* Length of the Reason String property for rs (0 = none) such that a packet
 * whose remaining length is base without properties still fits. */
/* oversize: a planted deviation (MQE_FAULT_RS_OVERSIZE_*) keeps the string anyway */
static uint32_t rs_props(const mqe_conn *c, mqc_bytes rs, uint32_t base, bool oversize) {
  if (!rs.n) return 0;
  uint32_t props = (uint32_t)(3 + rs.n);
  uint32_t rem = base + (uint32_t)mqe__varint_len(props) + props;
  return 1 + mqe__varint_len(rem) + rem <= c->client_max_packet || oversize ? props : 0;
}

static mqc_bytes bounded_cstr(const char *s) {
  mqc_bytes b = s ? mqc_cstr(s) : (mqc_bytes){NULL, 0};
  if (b.n > MQE__REASON_MAX) b.n = MQE__REASON_MAX;
  return b;
}

/* The User Property of the planted deviations MQE_FAULT_UP_OVERSIZE_*. A
 * conformant engine puts none in these packets, so it never has to leave one
 * out for the client's Maximum Packet Size; the deviation adds one whatever
 * that size (with Request Problem Information 1, where one is allowed at
 * all). Returns its length in the property block, 0 when off for t. */
static const char up_key[] = "planted", up_val[] = "a user property past the client's maximum";
static uint32_t up_props(const mqe_engine *e, const mqe_conn *c, mqc_type t) {
  static const struct {
    mqc_type t;
    mqe_fault f;
  } map[] = {{MQC_CONNACK, MQE_FAULT_UP_OVERSIZE_CONNACK},
             {MQC_PUBACK, MQE_FAULT_UP_OVERSIZE_PUBACK},
             {MQC_PUBREC, MQE_FAULT_UP_OVERSIZE_PUBREC},
             {MQC_PUBREL, MQE_FAULT_UP_OVERSIZE_PUBREL},
             {MQC_PUBCOMP, MQE_FAULT_UP_OVERSIZE_PUBCOMP},
             {MQC_SUBACK, MQE_FAULT_UP_OVERSIZE_SUBACK},
             {MQC_UNSUBACK, MQE_FAULT_UP_OVERSIZE_UNSUBACK},
             {MQC_DISCONNECT, MQE_FAULT_UP_OVERSIZE_DISCONNECT},
             {MQC_AUTH, MQE_FAULT_UP_OVERSIZE_AUTH}};
  if (e->cfg.fault == MQE_FAULT_NONE || c->ver != MQC_V5 || !c->problem_info) return 0;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (map[i].t == t && mqe__fault(e, map[i].f))
      return (uint32_t)(1 + 2 + sizeof up_key - 1 + 2 + sizeof up_val - 1);
  return 0;
}

static void put_up(mqc_writer *w) {
  mqc_put_prop_pair(w, mqc_cstr(up_key), mqc_cstr(up_val));
}

/* PUBACK/PUBREC/PUBREL/PUBCOMP (pid, reason) and PINGRESP (no body). */
void mqe__send_simple(mqe_engine *e, mqe_conn *c, mqc_type t, uint16_t pid, uint8_t reason) {
  mqc_writer w;
  uint8_t first = (uint8_t)(t << 4 | (t == MQC_PUBREL ? 2 : 0));
  if (t == MQC_PINGRESP) {
    if (begin(e, c, &w, first, 0)) end(e, c, &w);
    return;
  }
  uint32_t up = up_props(e, c, t);
  bool with_reason = c->ver == MQC_V5 && (reason != 0 || up);
  bool big = (t == MQC_PUBACK && mqe__fault(e, MQE_FAULT_RS_OVERSIZE_PUBACK)) ||
             (t == MQC_PUBREC && mqe__fault(e, MQE_FAULT_RS_OVERSIZE_PUBREC)) ||
             (t == MQC_PUBCOMP && mqe__fault(e, MQE_FAULT_RS_OVERSIZE_PUBCOMP)) ||
             (t == MQC_PUBREL && mqe__fault(e, MQE_FAULT_RS_OVERSIZE_PUBREL));
  mqc_bytes rs = {NULL, 0};
  /* big: the deviation explains success codes too (0x10 no subscribers) */
  if (with_reason && (reason >= 0x80 || big) && c->problem_info)
    rs = mqc_cstr(mqe__reason_text(reason));
  uint32_t rsp = with_reason ? rs_props(c, rs, 3, big) : 0, props = rsp + up;
  uint32_t rem = with_reason ? 3u : 2u;
  if (props) rem += (uint32_t)mqe__varint_len(props) + props;
  if (!begin(e, c, &w, first, rem)) return;
  mqc_put_u16(&w, pid);
  if (with_reason) mqc_put_u8(&w, reason);
  if (props) {
    mqc_put_varint(&w, props);
    if (rsp) mqe__put_prop_str(&w, MQC_PROP_REASON_STRING, rs);
    if (up) put_up(&w);
  }
  end(e, c, &w);
}

void mqe__send_disconnect(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *why) {
  if (c->ver != MQC_V5) return; /* 3.x servers just close */
  mqc_writer w;
  mqc_bytes rs = bounded_cstr(why);
  uint32_t rsp = rs_props(c, rs, 1, mqe__fault(e, MQE_FAULT_RS_OVERSIZE_DISCONNECT));
  uint32_t up = up_props(e, c, MQC_DISCONNECT), props = rsp + up;
  uint32_t rem = 1 + (uint32_t)mqe__varint_len(props) + props;
  if (!begin(e, c, &w, MQC_DISCONNECT << 4, rem)) return;
  mqc_put_u8(&w, reason);
  mqc_put_varint(&w, props);
  if (rsp) mqe__put_prop_str(&w, MQC_PROP_REASON_STRING, rs);
  if (up) put_up(&w);
  end(e, c, &w);
}

/* The one CONNACK writer, for every version: props (5.0 only, may be NULL)
 * runs twice, once on a counting writer to size the block and once to write
 * it, so the packet is built in place without a scratch copy. */
bool mqe__send_connack(mqe_engine *e, mqe_conn *c, bool session_present, uint8_t code,
                       mqe__props_fn *props, const void *arg) {
  bool v5 = c->ver == MQC_V5;
  uint32_t plen = 0, rem = 2;
  if (v5) {
    mqc_writer sz;
    mqc_writer_init(&sz, NULL, 0);
    if (props) props(e, c, arg, &sz);
    plen = (uint32_t)sz.len;
    rem += (uint32_t)mqe__varint_len(plen) + plen;
  }
  size_t total = 1 + mqe__varint_len(rem) + rem;
  uint8_t *p = mqe__out_reserve(e, c, total);
  if (!p) return false;
  mqc_writer w;
  mqc_writer_init(&w, p, total);
  mqc_put_u8(&w, MQC_CONNACK << 4);
  mqc_put_varint(&w, rem);
  mqc_put_u8(&w, session_present ? 1 : 0);
  mqc_put_u8(&w, code);
  if (v5) {
    mqc_put_varint(&w, plen);
    if (props) props(e, c, arg, &w);
  }
  assert(mqc_writer_ok(&w) && w.len == total);
  mqe__out_commit(e, c, total);
  c->connack_sent = true;
  return true;
}

static void put_reason_string(const mqe_engine *e, const mqe_conn *c, const void *arg,
                              mqc_writer *w) {
  const mqc_bytes *rs = arg;
  if (rs->n) mqe__put_prop_str(w, MQC_PROP_REASON_STRING, *rs);
  if (up_props(e, c, MQC_CONNACK)) put_up(w);
}

/* A 5.0 reason the engine closes with may be one CONNACK does not define
 * (0x8B shutting down, 0x8E taken over, 0x98 administrative action, 0xA0
 * connect time...: MQTT-3.2.2-8): map it to the closest one that is. */
static uint8_t connack_reason(uint8_t reason) {
  if (mqc_reason_valid(MQC_CONNACK, MQC_FROM_SERVER, reason) && reason >= 0x80) return reason;
  return reason == MQC_RC_SERVER_SHUTTING_DOWN ? MQC_RC_SERVER_UNAVAILABLE
                                               : MQC_RC_UNSPECIFIED_ERROR;
}

/* The 3.x return code closest to a 5.0 reason; 0 for none (malformed or
 * protocol errors: the connection closes without a CONNACK). */
static uint8_t connack_return_code(uint8_t reason) {
  switch (reason) {
  case MQC_RC_MALFORMED_PACKET:
  case MQC_RC_PROTOCOL_ERROR:
    return 0;
  case MQC_RC_UNSUPPORTED_PROTOCOL_VERSION:
    return 1;
  case MQC_RC_CLIENT_IDENTIFIER_NOT_VALID:
    return 2;
  case MQC_RC_BAD_USER_NAME_OR_PASSWORD:
    return 4;
  case MQC_RC_NOT_AUTHORIZED:
    return 5;
  default:
    return 3;
  }
}

bool mqe__send_connack_refusal(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *why) {
  if (c->connack_sent || c->ver == 0) return true;
  if (c->ver != MQC_V5) {
    uint8_t code = connack_return_code(reason);
    return !code || mqe__send_connack(e, c, mqe__fault(e, MQE_FAULT_REFUSAL_SESSION_PRESENT), code,
                                      NULL, NULL);
  }
  mqc_bytes rs = bounded_cstr(why);
  if (!rs_props(c, rs, 2, mqe__fault(e, MQE_FAULT_RS_OVERSIZE_CONNACK))) rs.n = 0;
  return mqe__send_connack(e, c, mqe__fault(e, MQE_FAULT_REFUSAL_SESSION_PRESENT),
                           connack_reason(reason), put_reason_string, &rs);
}

void mqe__send_auth(mqe_engine *e, mqe_conn *c, uint8_t reason, const uint8_t *data, size_t n) {
  assert(c->auth);
  mqc_bytes m = mqc_cstr(c->auth->name);
  /* The engine explains nothing in AUTH; the planted deviation does, whatever
   * the client's Maximum Packet Size. */
  mqc_bytes rs = mqe__fault(e, MQE_FAULT_RS_OVERSIZE_AUTH) ? mqc_cstr("authentication step")
                                                           : (mqc_bytes){NULL, 0};
  uint32_t up = up_props(e, c, MQC_AUTH);
  uint32_t props = (uint32_t)(3 + m.n + (n ? 3 + n : 0) + (rs.n ? 3 + rs.n : 0)) + up;
  uint32_t rem = 1 + (uint32_t)mqe__varint_len(props) + props;
  mqc_writer w;
  if (!begin(e, c, &w, MQC_AUTH << 4, rem)) return;
  mqc_put_u8(&w, reason);
  mqc_put_varint(&w, props);
  mqe__put_prop_str(&w, MQC_PROP_AUTHENTICATION_METHOD, m);
  if (n) mqe__put_prop_str(&w, MQC_PROP_AUTHENTICATION_DATA, (mqc_bytes){data, n});
  if (rs.n) mqe__put_prop_str(&w, MQC_PROP_REASON_STRING, rs);
  if (up) put_up(&w);
  end(e, c, &w);
}

void mqe__send_suback(mqe_engine *e, mqe_conn *c, mqc_type t, uint16_t pid, const uint8_t *rc,
                      size_t n) {
  bool v5 = c->ver == MQC_V5;
  if (t == MQC_UNSUBACK && !v5) n = 0;
  bool big = t == MQC_SUBACK ? mqe__fault(e, MQE_FAULT_RS_OVERSIZE_SUBACK)
                             : mqe__fault(e, MQE_FAULT_RS_OVERSIZE_UNSUBACK);
  uint8_t worst = 0;
  for (size_t i = 0; i < n; i++) /* bounded by n; big: success codes explained too */
    if ((rc[i] >= 0x80 || (big && rc[i] > 2)) && !worst) worst = rc[i];
  mqc_bytes rs = {NULL, 0};
  if (v5 && worst && c->problem_info) rs = mqc_cstr(mqe__reason_text(worst));
  uint32_t base = (uint32_t)(2 + n);
  uint32_t rsp = v5 ? rs_props(c, rs, base + 1, big) : 0, up = up_props(e, c, t);
  uint32_t props = rsp + up;
  uint32_t rem = base + (v5 ? (uint32_t)mqe__varint_len(props) + props : 0);
  mqc_writer w;
  if (!begin(e, c, &w, (uint8_t)(t << 4), rem)) return;
  mqc_put_u16(&w, pid);
  if (v5) {
    mqc_put_varint(&w, props);
    if (rsp) mqe__put_prop_str(&w, MQC_PROP_REASON_STRING, rs);
    if (up) put_up(&w);
  }
  mqc_put_bytes(&w, (mqc_bytes){rc, n});
  end(e, c, &w);
}

/* Topic alias towards the client: reuse an existing alias, else take the next
 * free slot; when the table is full the topic is sent in full. */
static uint16_t alias_find(const mqe_conn *c, const mqe_msg *m) {
  for (uint16_t i = 0; i < c->out_alias_used; i++)
    if (c->out_alias[i].n == m->topic_len &&
        !memcmp(c->out_alias[i].p, mqe__msg_topic(m), m->topic_len))
      return (uint16_t)(i + 1);
  return 0;
}

static uint16_t alias_add(mqe_engine *e, mqe_conn *c, const mqe_msg *m) {
  if (c->out_alias_used >= c->out_alias_max || m->topic_len == 0) return 0;
  if (!c->out_alias) {
    c->out_alias = mqe__zalloc(e, c->out_alias_max * sizeof *c->out_alias);
    if (!c->out_alias) return 0;
  }
  uint8_t *p = mqe__alloc(e, m->topic_len);
  if (!p) return 0;
  memcpy(p, mqe__msg_topic(m), m->topic_len);
  c->out_alias[c->out_alias_used].p = p;
  c->out_alias[c->out_alias_used].n = m->topic_len;
  return ++c->out_alias_used;
}

bool mqe__send_publish(mqe_engine *e, mqe_conn *c, const mqe_qent *q, bool dup, bool *nomem) {
  const mqe_msg *m = q->msg;
  *nomem = false;
  bool v5 = c->ver == MQC_V5;
  uint32_t expiry = 0;
  if (m->has_expiry) {
    uint64_t left = m->expire_at > e->now ? m->expire_at - e->now : 0;
    expiry = (uint32_t)((left + 999) / 1000) + mqe__fault(e, MQE_FAULT_EXPIRY_NOT_DECREMENTED);
  }
  uint32_t props = 0;
  if (v5) {
    if (m->has_expiry) props += 5;
    for (uint8_t i = 0; i < q->nsubids; i++)
      props += 1 + (uint32_t)mqe__varint_len(q->subids[i]);
    props += m->props_len;
  }
  uint32_t topic_n = m->topic_len;
  uint32_t fixed = 2 + (q->qos ? 2u : 0u) + m->payload_len;
  uint32_t rem = fixed + topic_n + (v5 ? (uint32_t)mqe__varint_len(props) + props : 0);
  uint16_t alias = 0;
  if (v5 && c->out_alias_max) {
    uint16_t k = alias_find(c, m);
    uint32_t with = fixed + (uint32_t)mqe__varint_len(props + 3) + props + 3;
    if (k && fits(c, with)) {
      alias = k;
      topic_n = 0;
    } else if (!k && fits(c, with + topic_n)) {
      alias = alias_add(e, c, m);
    }
    if (alias) {
      props += 3;
      rem = fixed + topic_n + (uint32_t)mqe__varint_len(props) + props;
    }
  }
  if (!fits(c, rem) && !mqe__fault(e, MQE_FAULT_CLIENT_MAX_PACKET_IGNORED))
    return false; /* MQTT-3.1.2-24/25: discard as if sent */
  dup = dup || (q->qos == 0 && mqe__fault(e, MQE_FAULT_DUP_ON_QOS0)) ||
        (m->dup_in && mqe__fault(e, MQE_FAULT_DUP_PROPAGATED));
  uint8_t first = (uint8_t)(MQC_PUBLISH << 4 | (dup ? 8 : 0) | q->qos << 1 | (q->retain ? 1 : 0));
  size_t total = 1 + mqe__varint_len(rem) + rem;
  uint8_t *p = mqe__out_reserve(e, c, total);
  if (!p) {
    *nomem = true;
    return false;
  }
  mqc_writer w;
  mqc_writer_init(&w, p, total);
  mqc_put_u8(&w, first);
  mqc_put_varint(&w, rem);
  mqc_put_str(&w, (mqc_bytes){mqe__msg_topic(m), topic_n});
  if (q->qos) mqc_put_u16(&w, q->pid);
  if (v5) {
    mqc_put_varint(&w, props);
    if (alias) {
      mqc_put_u8(&w, MQC_PROP_TOPIC_ALIAS);
      mqc_put_u16(&w, alias);
    }
    if (m->has_expiry) mqe__put_prop_int(&w, MQC_PROP_MESSAGE_EXPIRY_INTERVAL, expiry);
    for (uint8_t i = 0; i < q->nsubids; i++) {
      mqc_put_u8(&w, MQC_PROP_SUBSCRIPTION_IDENTIFIER);
      mqc_put_varint(&w, q->subids[i]);
    }
    mqc_put_bytes(&w, (mqc_bytes){mqe__msg_props(m), m->props_len});
  }
  mqc_put_bytes(&w, (mqc_bytes){mqe__msg_payload(m), m->payload_len});
  assert(mqc_writer_ok(&w) && w.len == total);
  mqe__out_commit(e, c, total);
  e->st.msgs_out++;
  return true;
}
