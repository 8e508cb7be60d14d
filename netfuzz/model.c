/* model.c - what a session's clients sent and received, and the oracles
 * judged on it.
 *
 * Only what the specification fixes is judged, and only on this session's
 * own traffic (client IDs carrying its token), so concurrent sessions and
 * legal choices (QoS downgrades, refused subscriptions, closed connections)
 * never count:
 *   bad-wire  every server packet decodes for the negotiated version;
 *   spec      after a packet that breaks the protocol the broker closes and
 *             answers nothing more (MQTT-4.8.0-1 / MQTT-4.13.1-1, a bad
 *             CONNECT is never accepted: MQTT-3.1.4-1), with a DISCONNECT or
 *             CONNACK of the error class in 5.0;
 *             a delivered topic matches a filter the client subscribed to
 *             (MQTT-3.3.2-3, '$' topics MQTT-4.7.2-1);
 *             an acknowledged QoS 1/2 message reaches every subscriber that
 *             holds a QoS >= 1 subscription, stays connected and answers
 *             everything (MQTT-4.5.0-1), QoS 2 exactly once (MQTT-4.3.3-2 in
 *             3.1.1, MQTT-4.3.3-10 in 5.0);
 *             a retained message the session set reaches a new subscription
 *             (MQTT-3.3.1-6 / -9), one it cleared does not (MQTT-3.3.1-10 /
 *             MQTT-3.3.1-6 in 5.0);
 *             a will goes out when its connection ends without DISCONNECT
 *             (MQTT-3.1.2-8), never after one (MQTT-3.14.4-3);
 *             of two accepted connections with one client ID one is closed
 *             (MQTT-3.1.4-2 / 5.0 MQTT-3.1.4-3).
 * On a cluster target what crosses nodes may take the propagation bound
 * (docs/cluster.md): retained messages are judged across nodes only past it,
 * and a takeover across nodes only when the topology promises it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void mqz__finding(mqz__model *m, mqz_kind k, unsigned client, const char *stmt, const char *fmt,
                  ...) {
  if (!m->out || m->out->kind != MQZ_NONE) return;
  m->out->kind = k;
  m->out->client = client;
  snprintf(m->out->statement, sizeof m->out->statement, "%s", stmt ? stmt : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->out->message, sizeof m->out->message, fmt, ap);
  va_end(ap);
}

void mqz__model_init(mqz__model *m, mqc_version v, const char *token, bool spec, bool auto_ack,
                     mqz_outcome *out) {
  memset(m, 0, offsetof(mqz__model, c));
  for (unsigned i = 0; i < MQZ_MAX_CLIENTS; i++)
    memset(&m->c[i], 0, MQZ__CONN_CLEAR);
  m->session_v = v;
  memcpy(m->token, token, MQZ_TOKEN_LEN); /* the rest is zero */
  m->spec = spec;
  m->auto_ack = auto_ack;
  m->out = out;
  m->rev = 1; /* the owed cache starts empty (rev 0) */
  for (unsigned i = 0; i < MQZ_MAX_CLIENTS; i++)
    m->c[i].v = v;
}

static void name_set(mqz__name *nm, const mqz__model *m, mqc_bytes b) {
  memset(nm, 0, sizeof *nm);
  if (b.n >= sizeof nm->s) return;
  memcpy(nm->s, b.p, b.n);
  nm->n = (uint8_t)b.n;
  nm->ok = memchr(nm->s, 0, b.n) == NULL && strstr(nm->s, m->token) != NULL;
}

static bool name_eq(const mqz__name *a, const mqz__name *b) {
  return a->n == b->n && !memcmp(a->s, b->s, a->n);
}

static void will_conn_ended(mqz__model *m, mqz__conn_model *c);
static void twins_accepted(mqz__model *m, unsigned k);

void mqz__model_open(mqz__model *m, unsigned client) {
  m->rev++;
  mqz__conn_model *c = &m->c[client];
  will_conn_ended(m, c);
  mqz__name cid = c->cid; /* the client keeps its identity until its next CONNECT */
  memset(c, 0, MQZ__CONN_CLEAR);
  c->cid = cid;
  c->v = m->session_v;
  m->conn_no[client]++;
}

/* The connection of c ended: a will still attached is now due. */
static void will_conn_ended(mqz__model *m, mqz__conn_model *c) {
  if (!c->will) return;
  mqz__will *w = &m->will[c->will - 1];
  if (w->end == MQZ__WILL_OPEN) {
    w->end = MQZ__WILL_DUE;
    w->end_seq = m->seq;
  }
  c->will = 0;
}

void mqz__model_client_closed(mqz__model *m, unsigned client) {
  m->rev++;
  m->c[client].client_closed = true;
  will_conn_ended(m, &m->c[client]);
}

void mqz__model_server_closed(mqz__model *m, unsigned client) {
  m->rev++;
  m->c[client].server_closed = true;
  will_conn_ended(m, &m->c[client]);
}

/* ---- topic matching ---- */

bool mqz__topic_matches(const char *f, size_t fn, const char *t, size_t tn) {
  if (fn > 7 && !memcmp(f, "$share/", 7)) { /* $share/{group}/{filter} */
    const char *slash = memchr(f + 7, '/', fn - 7);
    if (!slash) return false;
    fn -= (size_t)(slash + 1 - f);
    f = slash + 1;
  }
  if (tn && t[0] == '$' && fn && (f[0] == '#' || f[0] == '+')) return false;
  size_t i = 0, j = 0;
  while (i < fn) {
    if (f[i] == '#') return true; /* also matches the parent level */
    if (f[i] == '+') {
      while (j < tn && t[j] != '/')
        j++;
      i++;
    } else {
      /* compare one level */
      while (i < fn && f[i] != '/') {
        if (j >= tn || t[j] != f[i]) return false;
        i++;
        j++;
      }
      if (j < tn && t[j] != '/') return false;
    }
    if (i == fn) return j == tn;
    /* f[i] == '/' */
    if (j == tn) /* topic ended: only "/#" may follow */
      return fn - i == 2 && f[i + 1] == '#';
    i++;
    j++;
  }
  return j == tn;
}

/* ---- client -> server ---- */

static void violation(mqz__model *m, unsigned client, const char *stmt, const char *rule) {
  mqz__conn_model *c = &m->c[client];
  c->tainted = true;
  m->ever_tainted[client] = true;
  if (c->will) m->will[c->will - 1].doubt = true; /* refined by will_violation() */
  if (c->violated) return;
  c->violated = true;
  /* answers to PINGREQs sent before the violation may still be on the way */
  c->pongs_owed = c->pings > c->pongs ? c->pings - c->pongs : 0;
  snprintf(c->viol_stmt, sizeof c->viol_stmt, "%s", stmt ? stmt : "");
  snprintf(c->viol_rule, sizeof c->viol_rule, "%s", rule);
}

static mqz__send_verdict probed(mqz__model *m, unsigned client, bool *probe);

static const char *close_rule(mqc_version v) {
  return v == MQC_V5 ? "MQTT-4.13.1-1" : "MQTT-4.8.0-1";
}

/* A PUBLISH with a topic and an alias sets the alias; one with an alias and
 * no topic uses it. */
static void resolve_alias(mqz__name *topic, uint16_t alias, mqz__alias *table, size_t *n) {
  if (!alias) return;
  for (size_t i = 0; i < *n; i++)
    if (table[i].alias == alias) {
      if (topic->n)
        table[i].topic = *topic;
      else if (!topic->n)
        *topic = table[i].topic;
      return;
    }
  if (topic->n && *n < MQZ__MAX_ALIAS) {
    table[*n].alias = alias;
    table[*n].topic = *topic;
    (*n)++;
  }
}

/* The topic a PUBLISH is on: its Topic Name, or its Topic Alias looked up
 * (and learnt) in table (one per direction and connection). */
static mqz__name publish_topic(const mqz__model *m, const mqz__conn_model *c, const mqc_publish *pb,
                               mqz__alias *table, size_t *n) {
  mqz__name topic;
  name_set(&topic, m, pb->topic);
  mqc_prop pr;
  uint16_t alias = 0;
  if (c->v == MQC_V5 && mqc_props_get(&pb->props, MQC_PROP_TOPIC_ALIAS, &pr))
    alias = (uint16_t)pr.u;
  resolve_alias(&topic, alias, table, n);
  return topic;
}

/* Keeps the first MQZ__PAYLOAD_MAX bytes of a payload and its length. */
static void keep_payload(mqc_bytes from, uint8_t to[MQZ__PAYLOAD_MAX], size_t *n, size_t *len) {
  *len = from.n;
  *n = from.n < MQZ__PAYLOAD_MAX ? from.n : MQZ__PAYLOAD_MAX;
  if (*n) memcpy(to, from.p, *n);
}

/* Names a message by its topic and (kept) payload. */
static uint64_t msg_hash(const mqz__name *topic, const uint8_t *pl, size_t pl_n, size_t pl_len) {
  uint8_t buf[MQZ__ID_MAX + MQZ__PAYLOAD_MAX + sizeof(size_t)];
  memcpy(buf, topic->s, topic->n);
  memcpy(buf + topic->n, &pl_len, sizeof pl_len);
  memcpy(buf + topic->n + sizeof pl_len, pl, pl_n);
  return mqz__hash64(buf, topic->n + sizeof pl_len + pl_n);
}

/* Did a client of the session publish this message itself? */
static bool sent_by_client(const mqz__model *m, uint64_t h) {
  for (size_t i = 0; i < m->n_sent_hash; i++)
    if (m->sent_hash[i] == h) return true;
  return false;
}

static void publish_sent(mqz__model *m, unsigned client, const mqc_packet *pkt) {
  mqz__conn_model *c = &m->c[client];
  const mqc_publish *pb = &pkt->publish;
  mqz__name topic = publish_topic(m, c, pb, c->out_alias, &c->n_out_alias);
  {
    uint8_t pl[MQZ__PAYLOAD_MAX];
    size_t pl_n, pl_len;
    keep_payload(pb->payload, pl, &pl_n, &pl_len);
    if (m->n_sent_hash == MQZ__MAX_SENT)
      m->overflow = true;
    else
      m->sent_hash[m->n_sent_hash++] = msg_hash(&topic, pl, pl_n, pl_len);
  }
  if (pb->retain) {
    if (m->n_ret == MQZ__MAX_PUBS) {
      m->overflow = true;
    } else {
      mqz__retained *r = &m->ret[m->n_ret++];
      memset(r, 0, sizeof *r);
      r->topic = topic;
      r->qos = pb->qos;
      r->expiry = c->v == MQC_V5 && mqc_props_has(&pb->props, MQC_PROP_MESSAGE_EXPIRY_INTERVAL);
      r->seq = m->seq;
      r->node = m->node[client];
      keep_payload(pb->payload, r->payload, &r->payload_n, &r->payload_len);
    }
  }
  if (pb->qos == 0) return;
  if (m->n_pub == MQZ__MAX_PUBS) {
    m->overflow = true;
    return;
  }
  mqz__pub *e = &m->pub[m->n_pub++];
  memset(e, 0, sizeof *e);
  e->client = client;
  e->cid = c->cid;
  e->topic = topic;
  e->qos = pb->qos;
  e->retain = pb->retain;
  e->expiry = c->v == MQC_V5 && mqc_props_has(&pb->props, MQC_PROP_MESSAGE_EXPIRY_INTERVAL);
  e->id = pb->packet_id;
  e->seq = m->seq;
  e->sent_ms = m->now;
  e->node = m->node[client];
  e->conn_no = m->conn_no[client];
  for (size_t i = 0; i + 1 < m->n_pub; i++) {
    const mqz__pub *o = &m->pub[i];
    if (o->client == client && o->conn_no == e->conn_no && o->id == e->id && !o->done)
      e->reused = true;
  }
  keep_payload(pb->payload, e->payload, &e->payload_n, &e->payload_len);
}

static void subscribe_sent(mqz__model *m, unsigned client, const mqc_packet *pkt) {
  mqz__conn_model *c = &m->c[client];
  mqc_list_iter it;
  mqc_sub_entry se;
  mqc_sub_iter_init(&it, &pkt->subscribe);
  while (mqc_sub_next(&it, &se)) {
    if (m->n_sub == MQZ__MAX_SUBS) {
      m->overflow = true;
      return;
    }
    mqz__sub *s = &m->sub[m->n_sub++];
    memset(s, 0, sizeof *s);
    s->client = client;
    s->cid = c->cid;
    name_set(&s->filter, m, se.filter);
    if (se.filter.n >= sizeof s->filter.s) m->overflow = true;
    s->id = pkt->subscribe.packet_id;
    s->granted = 0xFF;
    s->no_local = c->v == MQC_V5 && (se.options & 0x04);
    s->retain_handling = c->v == MQC_V5 ? (uint8_t)((se.options >> 4) & 3) : 0;
    s->sent_seq = m->seq;
    s->sent_ms = m->now;
    s->node = m->node[client];
    s->shared = se.filter.n > 7 && !memcmp(se.filter.p, "$share/", 7);
    s->conn_no = m->conn_no[client];
  }
}

static void unsubscribe_sent(mqz__model *m, unsigned client, const mqc_packet *pkt) {
  mqc_list_iter it;
  mqc_bytes f;
  mqc_unsub_iter_init(&it, &pkt->subscribe);
  while (mqc_unsub_next(&it, &f))
    for (size_t i = 0; i < m->n_sub; i++) {
      mqz__sub *s = &m->sub[i];
      if (name_eq(&s->cid, &m->c[client].cid) && s->filter.n == f.n &&
          !memcmp(s->filter.s, f.p, f.n))
        s->gone = true;
    }
}

/* ---- wills ---- */

/* A CONNECT that decoded: its will (on this session's topics) is tracked,
 * and any other connection of the same client ID has been taken over. */
static void will_connect(mqz__model *m, unsigned client, const mqc_connect *cn) {
  mqz__conn_model *c = &m->c[client];
  for (size_t i = 0; i < m->n_will; i++)
    if (name_eq(&m->will[i].cid, &c->cid) &&
        (m->will[i].client != client || m->will[i].conn_no != m->conn_no[client]))
      m->will[i].taken = true;
  if (!cn->will) return;
  for (size_t i = 0; i < m->n_will; i++) /* a will left over from a takeover of ours */
    if (name_eq(&m->will[i].cid, &c->cid)) m->will[i].taken = true;
  if (m->n_will == MQZ__MAX_WILLS) {
    m->overflow = true;
    return;
  }
  mqz__will *w = &m->will[m->n_will++];
  memset(w, 0, sizeof *w);
  w->client = client;
  w->conn_no = m->conn_no[client];
  w->node = m->node[client];
  w->cid = c->cid;
  name_set(&w->topic, m, cn->will_topic);
  w->qos = cn->will_qos;
  w->retain = cn->will_retain;
  mqc_prop pr;
  if (c->v == MQC_V5) {
    w->delayed = mqc_props_get(&cn->will_props, MQC_PROP_WILL_DELAY_INTERVAL, &pr) && pr.u > 0 &&
                 c->session_outlives;
    w->expiry = mqc_props_has(&cn->will_props, MQC_PROP_MESSAGE_EXPIRY_INTERVAL);
  }
  keep_payload(cn->will_payload, w->payload, &w->payload_n, &w->payload_len);
  w->end = MQZ__WILL_OPEN;
  c->will = m->n_will;
}

/* A packet that broke the protocol: the broker must close, and the will
 * goes out, unless the broker may have read the bytes as a DISCONNECT (its
 * type) or framed them otherwise than we did. */
static void will_violation(mqz__model *m, const mqz__conn_model *c, const uint8_t *p, size_t n) {
  if (!c->will) return;
  mqc_frame f;
  mqc_error e;
  bool framed = mqc_frame_packet(p, n, c->v, MQC_NO_LIMIT, &f, &e) == MQC_OK && f.total_len == n;
  m->will[c->will - 1].doubt = !framed || (p[0] >> 4) == MQC_DISCONNECT;
}

/* A DISCONNECT that decoded: 3.1.1 and 5.0 reason 0x00 drop the will, 5.0
 * reason 0x04 publishes it; other reasons (and a new Session Expiry
 * Interval, which may delay it) are left open here. */
static void will_disconnect(mqz__model *m, mqz__conn_model *c, const mqc_packet *pkt) {
  if (!c->will) return;
  mqz__will *w = &m->will[c->will - 1];
  if (w->end != MQZ__WILL_OPEN) return;
  uint8_t reason = c->v == MQC_V5 ? pkt->disconnect.reason : 0;
  if (reason == 0)
    w->end = MQZ__WILL_DROPPED;
  else if (reason == 0x04 &&
           !mqc_props_has(&pkt->disconnect.props, MQC_PROP_SESSION_EXPIRY_INTERVAL))
    w->end = MQZ__WILL_DUE;
  else
    w->end = MQZ__WILL_UNKNOWN;
  w->end_seq = m->seq;
  c->will = 0;
}

/* The protocol level byte of a CONNECT that may not decode: after the fixed
 * header and the protocol name ("MQTT" or "MQIsdp"); 0 when cut short. */
static uint8_t connect_level(const uint8_t *p, size_t n) {
  size_t at = mqz__after_first_string(p, n);
  return at && at < n ? p[at] : 0;
}

mqz__send_verdict mqz__model_sent(mqz__model *m, unsigned client, const uint8_t *p, size_t n,
                                  bool *probe) {
  mqz__conn_model *c = &m->c[client];
  *probe = false;
  m->seq++;
  m->rev++;
  if (c->violated) return MQZ__SUPPRESS;
  /* after bytes framed as nothing we know (a claimed length, a part of a
   * packet), the broker may read this packet as part of another: no
   * verdict on it */
  if (c->raw_sent) return MQZ__SEND;
  uint8_t type = n ? p[0] >> 4 : 0;
  if (!c->connect_sent && type != MQC_CONNECT) {
    violation(m, client, "MQTT-3.1.0-1", "the first packet on a connection is not CONNECT");
    return probed(m, client, probe);
  }
  if (c->connect_sent && type == MQC_CONNECT) {
    violation(m, client, "MQTT-3.1.0-2", "a second CONNECT on one connection");
    return probed(m, client, probe);
  }
  mqc_packet pkt;
  mqc_error err;
  mqc_version v = type == MQC_CONNECT ? MQC_VERSION_AUTO : c->v;
  mqc_status st = mqc_decode(p, n, v, MQC_FROM_CLIENT, MQC_NO_LIMIT, &pkt, &err);
  if (st == MQC_OK && pkt.header_len + pkt.remaining_length != n) st = MQC_ERR_MALFORMED;
  if (type == MQC_CONNECT) {
    c->connect_sent = true;
    if (st != MQC_OK) {
      c->connect_bad = true;
      /* the level byte, where present, decides how the answer is read */
      uint8_t level = connect_level(p, n);
      if (level == 3 || level == 4 || level == 5) c->v = (mqc_version)level;
      char rule[160];
      snprintf(rule, sizeof rule, "CONNECT: %s%s%s", err.message ? err.message : "malformed",
               err.statement ? " " : "", err.statement ? err.statement : "");
      violation(m, client, "MQTT-3.1.4-1", rule);
      if (c->v == MQC_V31) c->violated = false; /* 3.1: see probed() */
      return MQZ__SEND;                         /* judged by its CONNACK or close */
    }
    c->v = (mqc_version)pkt.connect.level;
    name_set(&c->cid, m, pkt.connect.client_id);
    /* 3.1.1: an empty client identifier needs Clean Session 1, else CONNACK
     * 0x02 and close (the engine refuses it the same way) */
    if (c->v == MQC_V311 && !pkt.connect.client_id.n && !pkt.connect.clean_start)
      c->must_refuse = "MQTT-3.1.3-8";
    mqc_prop pr;
    if (c->v == MQC_V5 && mqc_props_get(&pkt.connect.props, MQC_PROP_MAXIMUM_PACKET_SIZE, &pr))
      c->max_packet = pr.u;
    if (c->v == MQC_V5 && mqc_props_get(&pkt.connect.props, MQC_PROP_SESSION_EXPIRY_INTERVAL, &pr))
      c->session_outlives = pr.u > 0;
    will_connect(m, client, &pkt.connect);
    return MQZ__SEND;
  }
  if (st != MQC_OK) {
    char rule[160];
    snprintf(rule, sizeof rule, "%s %s%s%s", mqc_type_name((mqc_type)type),
             err.message ? err.message : "malformed", err.statement ? " " : "",
             err.statement ? err.statement : "");
    violation(m, client, close_rule(c->v), rule);
    will_violation(m, c, p, n);
    return probed(m, client, probe);
  }
  if (pkt.type == MQC_DISCONNECT) will_disconnect(m, c, &pkt);
  if (pkt.type == MQC_PINGREQ) c->pings++; /* its answer will be owed */
  if (pkt.type == MQC_PUBLISH) publish_sent(m, client, &pkt);
  if (pkt.type == MQC_SUBSCRIBE) subscribe_sent(m, client, &pkt);
  if (pkt.type == MQC_UNSUBSCRIBE) unsubscribe_sent(m, client, &pkt);
  return MQZ__SEND;
}

/* The executor sends a PINGREQ after every violation it is told to probe. */
static mqz__send_verdict probed(mqz__model *m, unsigned client, bool *probe) {
  /* MQTT 3.1 numbers no statement that makes a server close on a violation:
   * the packet only takes the client out of the delivery oracles */
  bool judge = m->spec && m->c[client].v != MQC_V31;
  *probe = judge;
  m->c[client].probe_sent = judge;
  if (!judge) m->c[client].violated = false;
  return MQZ__SEND;
}

void mqz__model_sent_raw(mqz__model *m, unsigned client) {
  m->seq++;
  m->rev++;
  if (m->c[client].will) m->will[m->c[client].will - 1].doubt = true;
  m->c[client].tainted = true;
  m->c[client].raw_sent = true;
  m->ever_tainted[client] = true;
}

/* ---- server -> client ---- */

void mqz__model_unframeable(mqz__model *m, unsigned client, const mqc_error *err) {
  mqz__finding(m, MQZ_BADWIRE, client, err->statement ? err->statement : "",
               "the broker sent bytes that do not frame as a packet at byte %zu: %s", err->offset,
               err->message ? err->message : mqc_strerror(err->status));
}

static void pend_push(mqz__conn_model *c, uint8_t type, uint16_t id) {
  if (c->n_pend == MQZ__MAX_PEND) return;
  c->pend[c->n_pend].type = type;
  c->pend[c->n_pend].id = id;
  c->n_pend++;
}

void mqz__model_answer(mqz__model *m, unsigned client, uint8_t *p, size_t n) {
  mqz__conn_model *c = &m->c[client];
  uint8_t type = n ? (uint8_t)(p[0] >> 4) : 0;
  for (size_t i = 0; i < c->n_pend; i++)
    if (c->pend[i].type == type) {
      uint16_t id = c->pend[i].id;
      memmove(&c->pend[i], &c->pend[i + 1], (c->n_pend - i - 1) * sizeof c->pend[0]);
      c->n_pend--;
      mqz__patch_ack_id(p, n, id);
      return;
    }
}

static void ack_bytes(uint8_t type, uint16_t id, uint8_t ack[4], size_t *n) {
  ack[0] = (uint8_t)(type << 4 | (type == MQC_PUBREL ? 2 : 0));
  ack[1] = 2;
  ack[2] = (uint8_t)(id >> 8);
  ack[3] = (uint8_t)id;
  *n = 4;
}

/* The 3.x answer to a CONNECT of a version the broker does not speak is a
 * 3.1.1 CONNACK with return code 1, legal for a 5.0 CONNECT (3.1.2.2). */
static bool legacy_refusal(const uint8_t *p, size_t n) {
  return n == 4 && p[0] == 0x20 && p[1] == 2 && p[3] == 1;
}

static bool inherited(const mqz__model *m, const mqz__name *cid) {
  for (size_t i = 0; i < m->n_inherited; i++)
    if (name_eq(&m->inherited[i], cid)) return true;
  return false;
}

static bool will_is(const mqz__will *w, const mqz__name *topic, const uint8_t *pl, size_t pl_n,
                    size_t pl_len) {
  return name_eq(&w->topic, topic) && w->payload_len == pl_len && w->payload_n == pl_n &&
         !memcmp(w->payload, pl, pl_n);
}

/* Could something other than a client's retained PUBLISH have set a
 * retained message on topic (a will with RETAIN)? */
static bool retained_will_on(const mqz__model *m, const mqz__name *topic) {
  for (size_t i = 0; i < m->n_will; i++)
    if (m->will[i].retain && name_eq(&m->will[i].topic, topic)) return true;
  return false;
}

/* d is the will of a connection that ended with DISCONNECT (0x00): it must
 * have been dropped (MQTT-3.14.4-3), unless something else in the session
 * could have sent the same message. */
static void dropped_will_delivered(mqz__model *m, unsigned client, const mqz__deliv *d) {
  const mqz__will *hit = NULL;
  for (size_t i = 0; i < m->n_will; i++) {
    const mqz__will *w = &m->will[i];
    if (!will_is(w, &d->topic, d->payload, d->payload_n, d->payload_len)) continue;
    if (hit) return; /* two wills alike: the other one may be it */
    hit = w;
  }
  if (!hit || hit->end != MQZ__WILL_DROPPED || !hit->accepted || hit->doubt || hit->taken ||
      (hit->cid.n && !hit->cid.ok) ||
      sent_by_client(m, msg_hash(&d->topic, d->payload, d->payload_n, d->payload_len)))
    return;
  mqz__finding(m, MQZ_SPEC, client, "MQTT-3.14.4-3",
               "the will on '%.*s' of '%.*s' was published although its connection ended with "
               "DISCONNECT%s",
               (int)d->topic.n, d->topic.s, (int)hit->cid.n, hit->cid.s,
               m->c[hit->client].v == MQC_V5 ? " (reason 0x00)" : "");
}

/* " across nodes: ..." when what was sent on node from should have
 * reached a subscriber on node to of a cluster, else "": a cross-node
 * finding says so (docs/cluster.md). */
static const char *across(const mqz__model *m, unsigned from, unsigned to, char *buf, size_t cap) {
  buf[0] = 0;
  if (m->n_nodes < 2 || from == to) return buf;
  if (m->node_names)
    snprintf(buf, cap, " across nodes: sent on node %s, subscribed on node %s", m->node_names[from],
             m->node_names[to]);
  else
    snprintf(buf, cap, " across nodes: sent on node %u, subscribed on node %u", from, to);
  return buf;
}

/* Could the subscription s, made on another node than r was set (or
 * cleared) on, have been made before r got there? Nothing crosses nodes
 * instantly: the profile's propagation bound says how long it may take. */
static bool not_there_yet(const mqz__model *m, const mqz__retained *r, const mqz__sub *s) {
  return m->n_nodes > 1 && r->node != s->node &&
         s->sent_ms < r->acked_ms + (int64_t)m->propagation_ms;
}

/* Could retained message a, set on another node shortly before b, reach
 * b's node after b did and replace it there (or b reach a's node first)?
 * Then which of the two a node keeps is not fixed. */
static bool may_overtake(const mqz__model *m, const mqz__retained *a, const mqz__retained *b) {
  return m->n_nodes > 1 && a->node != b->node &&
         b->acked_ms < a->acked_ms + (int64_t)m->propagation_ms;
}

/* d arrived with RETAIN 1: if its topic's retained message was cleared (an
 * acknowledged empty retained PUBLISH) after d's message was stored, and
 * before every subscription of this client ID that matches it was made, d
 * can only be the cleared message (MQTT-3.3.1-10 in 3.1.1, MQTT-3.3.1-6 in
 * 5.0). Any retained PUBLISH on the topic whose fate is unknown (QoS 0, not
 * acknowledged), a retained will on it, or the message published again
 * after the clear leaves a doubt. */
static void cleared_retained_delivered(mqz__model *m, unsigned client, const mqz__deliv *d) {
  if (!d->payload_len || retained_will_on(m, &d->topic)) return;
  const mqz__retained *stored = NULL, *clear = NULL;
  for (size_t i = 0; i < m->n_ret; i++) {
    const mqz__retained *r = &m->ret[i];
    if (!name_eq(&r->topic, &d->topic)) continue;
    if (!r->acked) return; /* its fate is unknown */
    if (!r->payload_len) {
      if (!clear || r->seq > clear->seq) clear = r;
    } else if (r->payload_len == d->payload_len && r->payload_n == d->payload_n &&
               !memcmp(r->payload, d->payload, d->payload_n)) {
      if (!stored || r->seq > stored->seq) stored = r;
    }
  }
  if (!stored || !clear || stored->acked_seq > clear->seq) return;
  for (size_t i = 0; i < m->n_ret; i++) /* set again after the clear */
    if (m->ret[i].payload_len && m->ret[i].seq > clear->seq && name_eq(&m->ret[i].topic, &d->topic))
      return;
  const mqz__conn_model *c = &m->c[client];
  bool any = false;
  for (size_t i = 0; i < m->n_sub; i++) {
    const mqz__sub *s = &m->sub[i];
    if (!name_eq(&s->cid, &c->cid) ||
        !mqz__topic_matches(s->filter.s, s->filter.n, d->topic.s, d->topic.n))
      continue;
    if (s->sent_seq < clear->acked_seq) return; /* it may have held the message all along */
    if (not_there_yet(m, clear, s) || may_overtake(m, stored, clear)) return;
    any = true;
  }
  if (!any) return;
  char x[120];
  mqz__finding(m, MQZ_SPEC, client, c->v == MQC_V5 ? "MQTT-3.3.1-6" : "MQTT-3.3.1-10",
               "a new subscription of '%.*s' received the retained message on '%.*s' that an "
               "acknowledged empty retained PUBLISH had cleared%s",
               (int)c->cid.n, c->cid.s, (int)d->topic.n, d->topic.s,
               across(m, clear->node, m->node[client], x, sizeof x));
}

static void delivered(mqz__model *m, unsigned client, const mqc_packet *pkt) {
  mqz__conn_model *c = &m->c[client];
  const mqc_publish *pb = &pkt->publish;
  mqz__name topic = publish_topic(m, c, pb, c->in_alias, &c->n_in_alias);
  if (m->spec && !m->overflow && c->cid.ok && !m->ever_tainted[client] && topic.n &&
      pb->topic.n < MQZ__ID_MAX) {
    /* the topic matches a filter this client ID subscribed to in the session */
    bool any = false, dollar_only = false;
    for (size_t i = 0; i < m->n_sub && !any; i++) {
      const mqz__sub *s = &m->sub[i];
      if (!name_eq(&s->cid, &c->cid)) continue;
      if (mqz__topic_matches(s->filter.s, s->filter.n, topic.s, topic.n))
        any = true;
      else if (topic.s[0] == '$' && s->filter.n && (s->filter.s[0] == '#' || s->filter.s[0] == '+'))
        dollar_only = true;
    }
    bool tainted_id = false;
    for (size_t i = 0; i < m->n_inherited; i++)
      tainted_id |= name_eq(&m->inherited[i], &c->cid);
    for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
      if (m->ever_tainted[k] && name_eq(&m->c[k].cid, &c->cid)) tainted_id = true;
    if (!any && !tainted_id) {
      char held[200] = "";
      size_t k = 0;
      for (size_t i = 0; i < m->n_sub && k + 1 < sizeof held; i++)
        if (name_eq(&m->sub[i].cid, &c->cid))
          k += (size_t)snprintf(held + k, sizeof held - k, " '%s'", m->sub[i].filter.s);
      mqz__finding(m, MQZ_SPEC, client, dollar_only ? "MQTT-4.7.2-1" : "MQTT-3.3.2-3",
                   "PUBLISH on '%.*s' delivered to '%.*s', which holds no matching subscription "
                   "(subscribed:%s; %zu tracked)",
                   (int)topic.n, topic.s, (int)c->cid.n, c->cid.s, held[0] ? held : " none",
                   m->n_sub);
    }
  }
  if (m->n_deliv == MQZ__MAX_DELIV) {
    m->overflow = true;
    return;
  }
  mqz__deliv *d = &m->deliv[m->n_deliv++];
  memset(d, 0, sizeof *d);
  d->client = client;
  d->topic = topic;
  d->qos = pb->qos;
  d->retain = pb->retain;
  d->dup = pb->dup;
  d->id = pb->packet_id;
  keep_payload(pb->payload, d->payload, &d->payload_n, &d->payload_len);
  /* a packet that did not decode may still have been read as a PUBLISH or
   * a CONNECT with a will (lenient brokers): nobody tainted, then */
  bool clean = true;
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
    clean &= !m->ever_tainted[k];
  if (m->spec && clean && c->v != MQC_V31 && c->cid.ok && topic.ok && !inherited(m, &c->cid)) {
    dropped_will_delivered(m, client, d);
    if (pb->retain) cleared_retained_delivered(m, client, d);
  }
}

/* PUBACK and PUBREC acknowledge a message; PUBACK and PUBCOMP free its
 * identifier (as does a failing PUBREC). */
/* A QoS 1 message is the broker's at its PUBACK, a QoS 2 one only at its
 * PUBCOMP: a broker may hold a QoS 2 message back until PUBREL (3.1.1
 * Method B), so nothing is owed for it before. A failing PUBACK or PUBREC
 * ends the flow without a message. */
static void settle(mqz__model *m, mqz__pub *e, bool accepted) {
  e->acked = accepted;
  e->done = true;
  for (size_t k = 0; e->retain && k < m->n_ret; k++)
    if (m->ret[k].seq == e->seq) {
      m->ret[k].acked = accepted;
      m->ret[k].acked_seq = m->seq;
      m->ret[k].acked_ms = m->now;
    }
}

static void acked(mqz__model *m, unsigned client, const mqc_packet *pkt) {
  uint8_t want = pkt->type == MQC_PUBACK ? 1 : 2;
  for (size_t i = 0; i < m->n_pub; i++) {
    mqz__pub *e = &m->pub[i];
    if (e->client != client || e->id != pkt->ack.packet_id || e->qos != want || e->done ||
        e->conn_no != m->conn_no[client])
      continue;
    if (pkt->type == MQC_PUBCOMP) {
      if (e->recd) settle(m, e, true);
      return;
    }
    if (pkt->type == MQC_PUBREC && e->recd) continue; /* a repeat: the next one */
    if (pkt->type == MQC_PUBACK || pkt->ack.reason >= 0x80)
      settle(m, e, pkt->ack.reason < 0x80);
    else
      e->recd = true; /* PUBREC 0x00: PUBREL, then PUBCOMP settle it */
    return;
  }
}

/* A subscription just made (Retain Handling 0) is owed the retained message
 * of every topic its filter matches, where this session's own retained
 * PUBLISHes leave no doubt what that is: the topic's last one before the
 * SUBSCRIBE, acknowledged, with a payload, and no unacknowledged one. */
static void retained_owed(mqz__model *m, const mqz__sub *s) {
  if (s->granted > 2 || s->shared || s->retain_handling || s->no_local || !s->cid.ok ||
      !s->filter.ok)
    return;
  for (size_t i = 0; i < m->n_ret; i++) {
    const mqz__retained *r = &m->ret[i];
    if (r->seq > s->sent_seq || !r->topic.ok ||
        !mqz__topic_matches(s->filter.s, s->filter.n, r->topic.s, r->topic.n))
      continue;
    const mqz__retained *last = r;
    bool doubt = false;
    for (size_t j = 0; j < m->n_ret; j++) {
      const mqz__retained *o = &m->ret[j];
      if (o->seq > s->sent_seq || !name_eq(&o->topic, &r->topic)) continue;
      if (!o->acked || o->acked_seq > s->sent_seq) doubt = true; /* maybe not stored yet */
      if (not_there_yet(m, o, s) || (o != r && may_overtake(m, o, r))) doubt = true;
      if (o->seq > last->seq) last = o;
    }
    if (last != r || doubt || !r->payload_len || r->expiry || m->n_retowed == MQZ__MAX_SUBS ||
        retained_will_on(m, &r->topic))
      continue;
    mqz__retowed *w = &m->retowed[m->n_retowed++];
    w->client = s->client;
    w->conn_no = s->conn_no;
    w->r = r;
    w->node = s->node;
    snprintf(w->filter, sizeof w->filter, "%s", s->filter.s);
  }
}

static void subacked(mqz__model *m, unsigned client, const mqc_packet *pkt) {
  size_t k = 0;
  for (size_t i = 0; i < m->n_sub; i++) {
    mqz__sub *s = &m->sub[i];
    if (s->client != client || s->id != pkt->suback.packet_id || s->granted != 0xFF ||
        s->conn_no != m->conn_no[client])
      continue;
    s->granted = k < pkt->suback.reasons.n ? pkt->suback.reasons.p[k] : 0x80;
    s->seq = m->seq;
    s->acked_ms = m->now;
    k++;
    retained_owed(m, s);
  }
}

bool mqz__model_received(mqz__model *m, unsigned client, const uint8_t *p, size_t n, uint8_t ack[4],
                         size_t *ack_n) {
  mqz__conn_model *c = &m->c[client];
  *ack_n = 0;
  m->seq++;
  m->rev++;
  mqc_packet pkt;
  mqc_error err;
  mqc_status st = mqc_decode(p, n, c->v, MQC_FROM_SERVER, MQC_NO_LIMIT, &pkt, &err);
  if (st == MQC_OK && pkt.type == MQC_PUBLISH && c->max_packet && n > c->max_packet && m->spec) {
    /* only PUBLISH: a CONNACK or an ack cannot always fit a tiny limit */
    mqz__finding(m, MQZ_SPEC, client, "MQTT-3.1.2-25",
                 "a %zu-byte PUBLISH sent to a client whose Maximum Packet Size is %u", n,
                 (unsigned)c->max_packet);
    return false;
  }
  if (st != MQC_OK) {
    if (legacy_refusal(p, n) || (c->connect_bad && n && p[0] >> 4 == MQC_CONNACK)) {
      /* a CONNACK to a CONNECT of unknown or unsupported version: read it in
       * any version */
      if (n == 4 && p[3] == 0 && m->spec && c->connect_bad)
        mqz__finding(m, MQZ_SPEC, client, "MQTT-3.1.4-1", "accepted an invalid CONNECT (%s)",
                     c->viol_rule);
      return false;
    }
    /* 3.1 says little about answers to a broken request (an empty SUBSCRIBE
     * gets an empty SUBACK): not judged once the client broke the protocol */
    if (c->v == MQC_V31 && c->tainted) return false;
    mqz__finding(m, MQZ_BADWIRE, client, err.statement ? err.statement : "",
                 "the broker sent a %s that does not decode as %s (byte %zu): %s",
                 mqc_type_name((mqc_type)(n ? p[0] >> 4 : 0)), mqc_version_name(c->v), err.offset,
                 err.message ? err.message : mqc_strerror(st));
    return false;
  }
  if (pkt.type == MQC_PINGRESP) c->pongs++;
  if (c->violated && pkt.type == MQC_PINGRESP && c->pongs_owed) {
    c->pongs_owed--;
    return true;
  }
  if (c->violated && m->spec) {
    /* the broker answers the probe, or accepts a bad CONNECT, or closes with
     * a success code: it went on after the violation */
    if (pkt.type == MQC_PINGRESP && c->probe_sent)
      mqz__finding(m, MQZ_SPEC, client, c->viol_stmt,
                   "the broker went on after a protocol violation (it answered a PINGREQ): %s",
                   c->viol_rule);
    else if (pkt.type == MQC_CONNACK && pkt.connack.reason == 0 && c->connect_bad)
      mqz__finding(m, MQZ_SPEC, client, "MQTT-3.1.4-1", "accepted an invalid CONNECT (%s)",
                   c->viol_rule);
    else if (c->v == MQC_V5 && pkt.type == MQC_DISCONNECT && pkt.disconnect.reason < 0x80)
      mqz__finding(m, MQZ_SPEC, client, "MQTT-4.13.1-1",
                   "DISCONNECT with success-class reason 0x%02x after a protocol violation (%s)",
                   pkt.disconnect.reason, c->viol_rule);
    return true;
  }
  switch (pkt.type) {
  case MQC_CONNACK:
    if (pkt.connack.reason == 0 && c->must_refuse && m->spec)
      mqz__finding(m, MQZ_SPEC, client, c->must_refuse,
                   "accepted a CONNECT it must refuse (3.1.1, an empty client identifier with "
                   "Clean Session 0)");
    if (c->v == MQC_V5) {
      mqc_prop ra;
      if (mqc_props_get(&pkt.connack.props, MQC_PROP_RETAIN_AVAILABLE, &ra) && ra.u == 0)
        m->no_retain = true;
    }
    if (pkt.connack.reason == 0) {
      c->connack_ok = true;
      if (c->will) m->will[c->will - 1].accepted = true;
      bool known = false;
      for (size_t i = 0; i < m->n_accepted; i++)
        known |= name_eq(&m->accepted[i], &c->cid);
      if (!known && m->n_accepted < MQZ_MAX_CLIENTS) m->accepted[m->n_accepted++] = c->cid;
      if (!known && pkt.connack.session_present && m->n_inherited < MQZ_MAX_CLIENTS)
        m->inherited[m->n_inherited++] = c->cid;
      twins_accepted(m, client);
    }
    break;
  case MQC_PUBLISH:
    delivered(m, client, &pkt);
    if (pkt.publish.qos) {
      uint8_t t = pkt.publish.qos == 1 ? MQC_PUBACK : MQC_PUBREC;
      if (m->auto_ack)
        ack_bytes(t, pkt.publish.packet_id, ack, ack_n);
      else
        pend_push(c, t, pkt.publish.packet_id);
    }
    break;
  case MQC_PUBREL:
    if (m->auto_ack)
      ack_bytes(MQC_PUBCOMP, pkt.ack.packet_id, ack, ack_n);
    else
      pend_push(c, MQC_PUBCOMP, pkt.ack.packet_id);
    break;
  case MQC_PUBREC:
    acked(m, client, &pkt);
    if (m->auto_ack && pkt.ack.reason < 0x80) ack_bytes(MQC_PUBREL, pkt.ack.packet_id, ack, ack_n);
    break;
  case MQC_PUBACK:
  case MQC_PUBCOMP:
    acked(m, client, &pkt);
    break;
  case MQC_SUBACK:
    subacked(m, client, &pkt);
    break;
  default:
    break;
  }
  return true;
}

/* A CONNACK 0x00 on client k: any other accepted connection that is open
 * with the same client ID must be closed (by the broker: a takeover). */
static void twins_accepted(mqz__model *m, unsigned k) {
  const mqz__conn_model *c = &m->c[k];
  if (!m->spec || !c->cid.ok || c->v == MQC_V31 || c->tainted) return;
  for (unsigned j = 0; j < MQZ_MAX_CLIENTS; j++) {
    const mqz__conn_model *o = &m->c[j];
    if (j == k || !o->connack_ok || o->client_closed || o->server_closed || o->tainted ||
        o->v == MQC_V31 || !name_eq(&o->cid, &c->cid))
      continue;
    if (m->n_nodes > 1 && m->node[j] != m->node[k] && (m->cluster_off & MQZ_CLUSTER_TAKEOVER))
      continue; /* the topology does not promise it across nodes */
    if (m->n_twin == MQZ__MAX_TWINS) {
      m->overflow = true;
      return;
    }
    m->twin[m->n_twin].a = (uint8_t)j;
    m->twin[m->n_twin].a_conn = m->conn_no[j];
    m->twin[m->n_twin].b = (uint8_t)k;
    m->twin[m->n_twin].b_conn = m->conn_no[k];
    m->n_twin++;
  }
}

/* Are both connections of twin i still open, as the broker left them? */
static bool twin_open(const mqz__model *m, size_t i) {
  unsigned a = m->twin[i].a, b = m->twin[i].b;
  return m->conn_no[a] == m->twin[i].a_conn && m->conn_no[b] == m->twin[i].b_conn &&
         !m->c[a].client_closed && !m->c[a].server_closed && !m->c[b].client_closed &&
         !m->c[b].server_closed && !m->c[a].tainted && !m->c[b].tainted;
}

/* ---- end of session: deliveries ---- */

/* Is subscriber s owed message e? Only where nothing the specification
 * allows could explain its absence. */
static bool owed(const mqz__model *m, const mqz__pub *e, const mqz__sub *s) {
  const mqz__conn_model *c = &m->c[s->client];
  if (!e->acked || e->expiry || e->reused || !e->topic.ok || !s->cid.ok || s->shared || s->gone)
    return false;
  if (e->topic.s[0] == '$') return false; /* brokers may keep '$' topics to themselves */
  if (c->max_packet) return false;        /* what exceeds it is dropped, legally */
  if (s->granted > 2 || s->granted == 0) return false;
  if (s->seq == 0 || s->seq > e->seq) return false; /* subscribed after the publish */
  /* a subscription reaches the other nodes within the propagation bound: a
   * message published there sooner may legally miss it */
  if (m->n_nodes > 1 && s->node != e->node && e->sent_ms < s->acked_ms + (int64_t)m->propagation_ms)
    return false;
  if (s->conn_no != m->conn_no[s->client]) return false;
  if (c->client_closed || c->server_closed || c->tainted || m->ever_tainted[s->client])
    return false;
  if (m->ever_tainted[e->client]) return false;
  for (size_t i = 0; i < m->n_inherited; i++)
    if (name_eq(&m->inherited[i], &s->cid)) return false;
  if (s->no_local && name_eq(&s->cid, &e->cid)) return false;
  if (!mqz__topic_matches(s->filter.s, s->filter.n, e->topic.s, e->topic.n)) return false;
  /* a later subscription of the same client ID could have replaced it with QoS 0 */
  for (size_t i = 0; i < m->n_sub; i++)
    if (&m->sub[i] != s && name_eq(&m->sub[i].cid, &s->cid) && m->sub[i].filter.n == s->filter.n &&
        !memcmp(m->sub[i].filter.s, s->filter.s, s->filter.n))
      return false;
  return true;
}

static bool same_message(const mqz__deliv *d, const mqz__pub *e) {
  return name_eq(&d->topic, &e->topic) && d->payload_len == e->payload_len &&
         d->payload_n == e->payload_n && !memcmp(d->payload, e->payload, d->payload_n);
}

static size_t copies(const mqz__model *m, unsigned client, const mqz__pub *e, bool fresh_only) {
  size_t k = 0;
  for (size_t i = 0; i < m->n_deliv; i++) {
    const mqz__deliv *d = &m->deliv[i];
    if (d->client != client || !same_message(d, e)) continue;
    if (fresh_only && (d->retain || d->dup)) continue;
    k++;
  }
  return k;
}

/* How many tracked messages equal e (the same payload published twice). */
static size_t twins(const mqz__model *m, const mqz__pub *e) {
  size_t k = 0;
  for (size_t i = 0; i < m->n_pub; i++)
    if (name_eq(&m->pub[i].topic, &e->topic) && m->pub[i].payload_len == e->payload_len &&
        !memcmp(m->pub[i].payload, e->payload, e->payload_n))
      k++;
  return k;
}

static size_t matching_subs(const mqz__model *m, const mqz__sub *s, const mqz__pub *e) {
  size_t k = 0;
  for (size_t i = 0; i < m->n_sub; i++)
    if (m->sub[i].client == s->client &&
        mqz__topic_matches(m->sub[i].filter.s, m->sub[i].filter.n, e->topic.s, e->topic.n))
      k++;
  return k;
}

/* The subscription of client that makes message e owed to it, or NULL. */
int64_t mqz__model_settle_ms(const mqz__model *m, unsigned client) {
  int64_t t = 0;
  if (m->n_nodes < 2) return 0;
  for (size_t j = 0; j < m->n_sub; j++) {
    const mqz__sub *s = &m->sub[j];
    const mqz__conn_model *c = &m->c[s->client];
    if (s->node == m->node[client]) continue;
    if (!s->seq && s->conn_no == m->conn_no[s->client] && !c->client_closed && !c->server_closed)
      return -1; /* its SUBACK is still to come */
    if (s->seq && s->acked_ms + (int64_t)m->propagation_ms > t)
      t = s->acked_ms + (int64_t)m->propagation_ms;
  }
  return t;
}

static const mqz__sub *owed_by(const mqz__model *m, const mqz__pub *e, unsigned client) {
  for (size_t j = 0; j < m->n_sub; j++)
    if (m->sub[j].client == client && owed(m, e, &m->sub[j])) return &m->sub[j];
  return NULL;
}

/* Equal messages (topic and payload) owed to client: each must arrive, so
 * the deliveries of one must number at least the messages owed. */
static size_t owed_twins(const mqz__model *m, const mqz__pub *e, unsigned client) {
  size_t k = 0;
  for (size_t i = 0; i < m->n_pub; i++) {
    const mqz__pub *o = &m->pub[i];
    if (name_eq(&o->topic, &e->topic) && o->payload_len == e->payload_len &&
        o->payload_n == e->payload_n && !memcmp(o->payload, e->payload, e->payload_n) &&
        owed_by(m, o, client))
      k++;
  }
  return k;
}

/* ---- wills that must go out ---- */

/* Is will w due to be published now, with nothing the specification allows
 * to explain its absence? Only QoS 1/2 wills (a QoS 0 one may be lost), not
 * delayed, not expiring, not taken over, on an accepted connection. */
static bool will_due(const mqz__model *m, const mqz__will *w) {
  return w->end == MQZ__WILL_DUE && w->accepted && !w->doubt && !w->taken && !w->delayed &&
         !w->expiry && w->qos >= 1 && w->qos <= 2 && w->topic.ok && w->topic.s[0] != '$' &&
         (w->cid.ok || !w->cid.n) && m->c[w->client].v != MQC_V31;
}

/* The subscription of client that makes will w owed to it, or NULL: made
 * (SUBACK with QoS 1/2) before the will's connection ended, on the client's
 * current connection, which stays open and clean. */
static const mqz__sub *will_owed_by(const mqz__model *m, const mqz__will *w, unsigned client) {
  const mqz__conn_model *c = &m->c[client];
  if (c->client_closed || c->server_closed || c->tainted || m->ever_tainted[client] ||
      c->max_packet || c->v == MQC_V31 || !c->cid.ok || inherited(m, &c->cid) ||
      name_eq(&c->cid, &w->cid))
    return NULL;
  for (size_t i = 0; i < m->n_sub; i++) {
    const mqz__sub *s = &m->sub[i];
    if (s->client != client || s->conn_no != m->conn_no[client] || s->shared || s->gone ||
        s->granted == 0 || s->granted > 2 || s->seq == 0 || s->seq > w->end_seq ||
        !mqz__topic_matches(s->filter.s, s->filter.n, w->topic.s, w->topic.n))
      continue;
    bool replaced = false; /* a later SUBSCRIBE could have made it QoS 0 */
    for (size_t j = 0; j < m->n_sub; j++)
      replaced |=
          j != i && name_eq(&m->sub[j].cid, &s->cid) && name_eq(&m->sub[j].filter, &s->filter);
    if (!replaced) return s;
  }
  return NULL;
}

static bool will_arrived(const mqz__model *m, const mqz__will *w, unsigned client) {
  for (size_t i = 0; i < m->n_deliv; i++) {
    const mqz__deliv *d = &m->deliv[i];
    if (d->client == client && will_is(w, &d->topic, d->payload, d->payload_n, d->payload_len))
      return true;
  }
  return false;
}

/* Is the retained message w owed still judged (its subscriber unchanged)? */
static bool retained_judged(const mqz__model *m, const mqz__retowed *w) {
  const mqz__conn_model *c = &m->c[w->client];
  if (m->no_retain || w->conn_no != m->conn_no[w->client] || c->client_closed || c->server_closed ||
      c->tainted || m->ever_tainted[w->client] || c->max_packet)
    return false;
  for (size_t i = 0; i < m->n_inherited; i++)
    if (name_eq(&m->inherited[i], &c->cid)) return false;
  return true;
}

static bool retained_arrived(const mqz__model *m, const mqz__retowed *w) {
  for (size_t i = 0; i < m->n_deliv; i++) {
    const mqz__deliv *d = &m->deliv[i];
    if (d->client == w->client && name_eq(&d->topic, &w->r->topic) &&
        d->payload_len == w->r->payload_len && d->payload_n == w->r->payload_n &&
        !memcmp(d->payload, w->r->payload, d->payload_n))
      return true;
  }
  return false;
}

static size_t owed_count(const mqz__model *m, unsigned client) {
  size_t owed_n = 0;
  for (size_t i = 0; i < m->n_twin; i++) /* a close the broker owes */
    if ((client == MQZ_MAX_CLIENTS || m->twin[i].a == client || m->twin[i].b == client) &&
        twin_open(m, i))
      owed_n++;
  for (size_t i = 0; i < m->n_retowed; i++) {
    const mqz__retowed *w = &m->retowed[i];
    if ((client == MQZ_MAX_CLIENTS || w->client == client) && retained_judged(m, w) &&
        !retained_arrived(m, w))
      owed_n++;
  }
  for (size_t i = 0; i < m->n_will; i++) {
    const mqz__will *w = &m->will[i];
    if (!will_due(m, w)) continue;
    for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
      if ((client == MQZ_MAX_CLIENTS || k == client) && will_owed_by(m, w, k) &&
          !will_arrived(m, w, k))
        owed_n++;
  }
  if (!m->auto_ack) return owed_n;
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++) {
    if (client != MQZ_MAX_CLIENTS && k != client) continue;
    for (size_t i = 0; i < m->n_pub; i++)
      if (owed_by(m, &m->pub[i], k) &&
          copies(m, k, &m->pub[i], false) < owed_twins(m, &m->pub[i], k))
        owed_n++;
  }
  return owed_n;
}

/* Asked on every turn while a session waits for owed deliveries, and
 * quadratic in the messages tracked: cached until the model changes. */
size_t mqz__model_owed(mqz__model *m, unsigned client) {
  if (!m->spec || m->overflow) return 0;
  if (m->owed_cache.rev == m->rev && m->owed_cache.client == client) return m->owed_cache.n;
  m->owed_cache.rev = m->rev;
  m->owed_cache.client = client;
  m->owed_cache.n = owed_count(m, client);
  return m->owed_cache.n;
}

void mqz__model_judge(mqz__model *m, unsigned client) {
  if (!m->spec || m->overflow) return;
  for (size_t i = 0; i < m->n_twin; i++) {
    unsigned a = m->twin[i].a, b = m->twin[i].b;
    if ((client != MQZ_MAX_CLIENTS && a != client && b != client) || !twin_open(m, i)) continue;
    char x[120] = "";
    if (m->n_nodes > 1 && m->node[a] != m->node[b])
      snprintf(x, sizeof x, " across nodes: on node %s and node %s",
               m->node_names ? m->node_names[m->node[a]] : "?",
               m->node_names ? m->node_names[m->node[b]] : "?");
    mqz__finding(m, MQZ_SPEC, a, m->session_v == MQC_V5 ? "MQTT-3.1.4-3" : "MQTT-3.1.4-2",
                 "two connections with client ID '%.*s' were accepted and both stay open: the "
                 "first was not closed when the second connected (takeover)%s",
                 (int)m->c[a].cid.n, m->c[a].cid.s, x);
    return;
  }
  for (size_t i = 0; i < m->n_retowed; i++) {
    const mqz__retowed *w = &m->retowed[i];
    if ((client != MQZ_MAX_CLIENTS && w->client != client) || !retained_judged(m, w) ||
        retained_arrived(m, w))
      continue;
    char x[120];
    mqz__finding(m, MQZ_SPEC, w->client, m->session_v == MQC_V5 ? "MQTT-3.3.1-9" : "MQTT-3.3.1-6",
                 "the retained message on '%.*s' (acknowledged) never reached the new "
                 "subscription '%s' of '%.*s'%s",
                 (int)w->r->topic.n, w->r->topic.s, w->filter, (int)m->c[w->client].cid.n,
                 m->c[w->client].cid.s, across(m, w->r->node, w->node, x, sizeof x));
    return;
  }
  for (size_t i = 0; i < m->n_will; i++) {
    const mqz__will *w = &m->will[i];
    if (!will_due(m, w)) continue;
    for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++) {
      const mqz__sub *s = (client == MQZ_MAX_CLIENTS || k == client) ? will_owed_by(m, w, k) : NULL;
      if (!s || will_arrived(m, w, k)) continue;
      char x[120];
      mqz__finding(m, MQZ_SPEC, k, "MQTT-3.1.2-8",
                   "the QoS %u will on '%.*s' of '%.*s' never reached '%.*s' (filter '%.*s', "
                   "granted QoS %u) after its connection ended without DISCONNECT%s%s",
                   w->qos, (int)w->topic.n, w->topic.s, (int)w->cid.n, w->cid.s, (int)m->c[k].cid.n,
                   m->c[k].cid.s, (int)s->filter.n, s->filter.s, s->granted,
                   m->c[w->client].v == MQC_V5 ? " (or with reason 0x04)" : "",
                   across(m, w->node, s->node, x, sizeof x));
      return;
    }
  }
  if (!m->auto_ack) return;
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++) {
    if (client != MQZ_MAX_CLIENTS && k != client) continue;
    for (size_t i = 0; i < m->n_pub; i++) {
      const mqz__pub *e = &m->pub[i];
      const mqz__sub *s = owed_by(m, e, k);
      if (!s) continue;
      size_t got = copies(m, k, e, false), want = owed_twins(m, e, k);
      if (got < want) {
        char x[120];
        mqz__finding(m, MQZ_SPEC, k, "MQTT-4.5.0-1",
                     "QoS %u message on '%.*s' (acknowledged) reached subscriber '%.*s' %zu "
                     "time(s) of %zu (filter '%.*s', granted QoS %u)%s",
                     e->qos, (int)e->topic.n, e->topic.s, (int)s->cid.n, s->cid.s, got, want,
                     (int)s->filter.n, s->filter.s, s->granted,
                     across(m, e->node, s->node, x, sizeof x));
        return;
      }
      uint8_t q = e->qos < s->granted ? e->qos : s->granted;
      if (q == 2 && !e->retain && matching_subs(m, s, e) == 1 &&
          copies(m, k, e, true) > twins(m, e)) {
        char x[120];
        mqz__finding(m, MQZ_SPEC, k, m->session_v == MQC_V5 ? "MQTT-4.3.3-10" : "MQTT-4.3.3-2",
                     "QoS 2 message on '%.*s' delivered %zu times to '%.*s'%s", (int)e->topic.n,
                     e->topic.s, copies(m, k, e, true), (int)s->cid.n, s->cid.s,
                     across(m, e->node, s->node, x, sizeof x));
        return;
      }
    }
  }
}
