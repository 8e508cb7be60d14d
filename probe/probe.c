/* probe.c - what a broker supports, found out by talking to it.
 *
 * Order: reachability, protocol versions, authentication, then every
 * capability on the best version with one subscriber and one publisher
 * connection. Every "no" that rests on a missing message has waited the
 * whole step timeout; every declaration in the 5.0 CONNACK is held against
 * what the broker then does. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probe_int.h"

static const char *const item_names[MQP_ITEM_COUNT] = {
    [MQP_V31] = "version 3.1",
    [MQP_V311] = "version 3.1.1",
    [MQP_V5] = "version 5.0",
    [MQP_AUTH] = "authentication required",
    [MQP_QOS1] = "qos1",
    [MQP_QOS2] = "qos2",
    [MQP_RETAIN] = "retain",
    [MQP_WILDCARDS] = "wildcards",
    [MQP_SHARED] = "shared-subscriptions",
    [MQP_SUB_IDS] = "subscription-identifiers",
    [MQP_TOPIC_ALIAS] = "topic-alias",
    [MQP_ASSIGNED_ID] = "assigned-client-id",
    [MQP_SESSIONS] = "persistent-sessions",
    [MQP_SYS] = "$SYS topics",
};

const char *mqp_item_name(mqp_item i) {
  return (unsigned)i < MQP_ITEM_COUNT ? item_names[i] : "?";
}

const char *mqp_cluster_item_name(mqp_cluster_item i) {
  static const char *const names[MQP_CL_COUNT] = {
      "cross-node delivery", "retained across nodes", "takeover across nodes",
      "shared group across nodes", "session on another node"};
  return (unsigned)i < MQP_CL_COUNT ? names[i] : "?";
}

/* Reaches another node of a cluster the way mqp_probe reaches its target. */
static int reach_url(mqp__probe *p, const char *url, char *err, size_t cap);

const char *mqp_tri_name(mqp_tri t) {
  return t == MQP_YES ? "yes" : t == MQP_NO ? "no" : "unknown";
}

__attribute__((format(printf, 4, 5))) static void set(mqp_result *r, mqp_item i, mqp_tri s,
                                                      const char *fmt, ...) {
  r->a[i].state = s;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->a[i].note, sizeof r->a[i].note, fmt, ap);
  va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void finding(mqp_result *r, const char *statement,
                                                          const char *fmt, ...) {
  if (r->n_findings == MQP_FINDINGS_MAX) return;
  mqp_finding *f = &r->findings[r->n_findings++];
  snprintf(f->statement, sizeof f->statement, "%s", statement);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->text, sizeof f->text, fmt, ap);
  va_end(ap);
}

static int tls_for(const mqn_url *u, const char *cafile, const char *cert, const char *key,
                   bool insecure, mqn_tls **out, char *err, size_t cap) {
  *out = NULL;
  if (!mqn_scheme_is_tls(u->scheme)) return 0;
  mqn_tls_opts to = {.ca_file = cafile, .cert_file = cert, .key_file = key, .insecure = insecure};
  char e[256] = "";
  if (mqn_tls_new_client(&to, out, e, sizeof e) != MQN_OK) {
    snprintf(err, cap, "TLS configuration: %s", e);
    return -1;
  }
  return 0;
}

/* Resolution first, bounded by the deadline, then the transport handshake. */
static int reach(const mqn_url *u, mqn_tls *tls, uint32_t tmo, const char *shown, char *err,
                 size_t cap) {
  char e[300];
  int64_t t0 = mqn_now_ms();
  if (mqp__resolve(u->host, tmo, e, sizeof e)) {
    snprintf(err, cap, "cannot reach %s: %s", shown, e);
    return -1;
  }
  int64_t left = (int64_t)tmo - (mqn_now_ms() - t0);
  if (left < 1) left = 1;
  mqn_conn_opts co = {.handshake_timeout_ms = (uint32_t)left};
  mqn_conn *c = NULL;
  mqn_status st = mqn_dial_blocking(u, tls, &co, (int)left, &c, e, sizeof e);
  if (st != MQN_OK) {
    snprintf(err, cap, "cannot reach %s (%s port %u): %s", shown, u->host, u->port,
             e[0] ? e : mqn_strerror(st));
    return -1;
  }
  mqn_conn_free(c);
  return 0;
}

/* url into *u, and into shown (300 bytes) with its password hidden. */
static int parse_shown(const char *url, mqn_url *u, char *shown, char *err, size_t cap) {
  mqn_url_redact(url, shown, 300);
  if (mqn_url_parse(url, u) == MQN_OK) return 0;
  snprintf(err, cap, "bad target URL '%s'", shown);
  return -1;
}

int mqp_reach(const char *url, const char *cafile, const char *cert, const char *key, bool insecure,
              uint32_t timeout_ms, char *err, size_t cap) {
  mqn_url u;
  char shown[300];
  if (parse_shown(url, &u, shown, err, cap)) return -1;
  mqn_tls *tls;
  if (tls_for(&u, cafile, cert, key, insecure, &tls, err, cap)) return -1;
  int rc = reach(&u, tls, timeout_ms ? timeout_ms : 5000, shown, err, cap);
  mqn_tls_free(tls);
  return rc;
}

static int reach_url(mqp__probe *p, const char *url, char *err, size_t cap) {
  mqn_url u;
  char shown[300];
  if (parse_shown(url, &u, shown, err, cap)) return -1;
  return reach(&u, p->tls, p->tmo, shown, err, cap);
}

static bool auth_refusal(mqc_version v, uint8_t rc) {
  return v == MQC_V5 ? (rc == 0x86 || rc == 0x87) : (rc == 4 || rc == 5);
}

/* ---- the capability probes, on an accepted version ---- */

typedef struct {
  mqp__probe *p;
  mqc_version v;
  mqp__conn *sub, *pub;
  mqp__ack ack; /* the subscriber's CONNACK */
  uint16_t pid;
  char topic[96];
} session;

static const char *topic(session *s, const char *leaf) {
  snprintf(s->topic, sizeof s->topic, "mqcheck/probe/%s/%s", s->p->prefix, leaf);
  return s->topic;
}

static int open_client(session *s, const char *name, mqp__conn **c, mqp__ack *ack, char *why,
                       size_t cap) {
  char cid[64];
  snprintf(cid, sizeof cid, "%s-%s", s->p->prefix, name);
  mqp__connect_args a = {.version = s->v, .client_id = cid, .clean = true, .credentials = true};
  mqp__ack dummy;
  return mqp__connect(s->p, &s->p->url, &a, c, ack ? ack : &dummy, why, cap) == MQP__ACCEPTED ? 0
                                                                                              : -1;
}

/* The publisher may have been disconnected by the previous probe. */
static int pub_ready(session *s) {
  if (s->pub) return 0;
  char why[200];
  return open_client(s, "p", &s->pub, NULL, why, sizeof why);
}

static const char *outcome(int r, const mqp__conn *c, char *buf, size_t cap) {
  switch (r) {
  case MQP__TIMEOUT:
    return "no answer in time";
  case MQP__CLOSED:
    snprintf(buf, cap, "the broker closed the connection%s%s", c->why[0] ? " with " : "", c->why);
    return buf;
  default:
    snprintf(buf, cap, "%s", c->why[0] ? c->why : "failed");
    return buf;
  }
}

/* Subscribes on the subscriber connection; on success leaves the SUBACK code
 * in *g. On a broken connection the subscriber is reopened (a later probe
 * must not inherit the damage) and -1 returned with why. */
static int subscribe(session *s, const char *filter, uint8_t qos, uint32_t sub_id, uint8_t *g,
                     char *why, size_t cap) {
  int r = mqp__subscribe(s->sub, ++s->pid, filter, qos, sub_id, s->p->tmo, g);
  if (r == MQP__GOT) return 0;
  char b[220];
  snprintf(why, cap, "SUBSCRIBE %s: %s", filter, outcome(r, s->sub, b, sizeof b));
  mqp__conn_drop(s->sub);
  s->sub = NULL;
  char w2[200];
  (void)open_client(s, "s", &s->sub, NULL, w2, sizeof w2);
  return -1;
}

/* Publishes t on the publisher and waits for it at the subscriber.
 * Returns MQP__GOT (delivery in s->sub->pkt), or the failure with why. */
static int roundtrip(session *s, const char *t, uint8_t qos, bool retain, uint16_t alias,
                     const char *wire_topic, char *why, size_t cap) {
  if (pub_ready(s)) {
    snprintf(why, cap, "the publisher could not reconnect");
    return MQP__BROKEN;
  }
  int r = mqp__publish(s->pub, wire_topic, "probe", qos, retain, ++s->pid, alias, s->p->tmo);
  if (r != MQP__GOT) {
    char b[260];
    snprintf(why, cap, "PUBLISH QoS %u%s: %s", qos, retain ? " retained" : "",
             outcome(r, s->pub, b, sizeof b));
    mqp__conn_drop(s->pub);
    s->pub = NULL;
    return r;
  }
  r = mqp__await(s->sub, MQC_PUBLISH, t, s->p->tmo);
  if (r != MQP__GOT) {
    char b[260];
    if (r == MQP__TIMEOUT)
      snprintf(why, cap, "no delivery within %u ms", s->p->tmo);
    else
      snprintf(why, cap, "waiting for the delivery: %s", outcome(r, s->sub, b, sizeof b));
  }
  return r;
}

static void probe_qos(session *s) {
  mqp_result *r = s->p->r;
  const char *t = topic(s, "qos");
  uint8_t g;
  char why[300];
  if (subscribe(s, t, 2, 0, &g, why, sizeof why)) {
    set(r, MQP_QOS1, MQP_UNKNOWN, "%s", why);
    set(r, MQP_QOS2, MQP_UNKNOWN, "%s", why);
    return;
  }
  if (g >= 0x80) {
    set(r, MQP_QOS1, MQP_UNKNOWN, "SUBSCRIBE refused with 0x%02x", g);
    set(r, MQP_QOS2, MQP_UNKNOWN, "SUBSCRIBE refused with 0x%02x", g);
    return;
  }
  unsigned declared = s->v == MQC_V5 ? s->ack.max_qos : 2;
  if (g > declared)
    finding(r, "MQTT-3.2.2-9",
            "CONNACK announces Maximum QoS %u, but SUBACK grants QoS %u to a QoS 2 request",
            declared, g);
  r->max_qos = g < declared ? g : (int)declared;
  /* A granted QoS is only half of it: the broker must also take a PUBLISH at
   * that QoS and deliver it. */
  for (uint8_t q = 1; q <= 2; q++) {
    mqp_item it = q == 1 ? MQP_QOS1 : MQP_QOS2;
    if (declared < q) {
      /* not tried: a client told a Maximum QoS never publishes above it */
      set(r, it, MQP_NO, "CONNACK Maximum QoS %u (a QoS %u PUBLISH is not allowed, MQTT-3.2.2-11)",
          declared, q);
      r->max_qos = q - 1;
      break;
    }
    if (g < q) {
      set(r, it, MQP_NO, "SUBACK grants QoS %u for a QoS 2 request (a legal downgrade)", g);
      r->max_qos = q - 1;
      break;
    }
    int rr = roundtrip(s, t, q, false, 0, t, why, sizeof why);
    if (rr != MQP__GOT) {
      set(r, it, MQP_NO, "granted QoS %u, but %s", q, why);
      r->max_qos = q - 1;
      break;
    }
    set(r, it, MQP_YES, "SUBACK grants QoS %u; a QoS %u PUBLISH was acknowledged and delivered", g,
        q);
  }
  if (r->a[MQP_QOS1].state == MQP_NO) set(r, MQP_QOS2, MQP_NO, "QoS 1 is not supported either");
}

static void probe_retain(session *s) {
  mqp_result *r = s->p->r;
  const char *decl = s->v == MQC_V5 ? "MQTT-3.3.1-5" : "MQTT-3.3.1-5 (3.1.1)";
  if (s->v == MQC_V5 && !s->ack.retain) {
    /* A client told Retain Available 0 must not test it (MQTT-3.2.2-14). */
    set(r, MQP_RETAIN, MQP_NO, "CONNACK Retain Available 0 (not sent a retained message)");
    r->retain_unavailable = true;
    return;
  }
  char t[96], why[300];
  snprintf(t, sizeof t, "%s", topic(s, "retain"));
  if (pub_ready(s)) {
    set(r, MQP_RETAIN, MQP_UNKNOWN, "the publisher could not reconnect");
    return;
  }
  int rr = mqp__publish(s->pub, t, "retained", 1, true, ++s->pid, 0, s->p->tmo);
  if (rr != MQP__GOT) {
    char b[260];
    set(r, MQP_RETAIN, MQP_NO, "a retained QoS 1 PUBLISH: %s", outcome(rr, s->pub, b, sizeof b));
    if (s->v != MQC_V5) finding(r, decl, "MQTT 3.1.1 has no way to decline retained messages");
    mqp__conn_drop(s->pub);
    s->pub = NULL;
    return;
  }
  uint8_t g;
  if (subscribe(s, t, 0, 0, &g, why, sizeof why) || g >= 0x80) {
    set(r, MQP_RETAIN, MQP_UNKNOWN, "%s", g >= 0x80 ? "SUBSCRIBE refused" : why);
  } else {
    int w = mqp__await(s->sub, MQC_PUBLISH, t, s->p->tmo);
    if (w == MQP__GOT && s->sub->pkt.publish.retain) {
      set(r, MQP_RETAIN, MQP_YES, "a retained message reached a later subscriber with RETAIN 1");
    } else {
      set(r, MQP_RETAIN, MQP_NO, "%s",
          w == MQP__GOT ? "the stored message arrived with RETAIN 0"
                        : "no retained message reached a later subscriber");
      finding(r, decl,
              "%s, but a retained PUBLISH was accepted and not delivered to a new "
              "subscriber",
              s->v == MQC_V5 ? "CONNACK Retain Available 1 (or absent)"
                             : "MQTT 3.1.1 requires retained messages");
    }
  }
  /* leave nothing behind: an empty retained message clears the topic */
  if (!pub_ready(s)) {
    mqc_packet m;
    mqc_packet_init(&m, MQC_PUBLISH, s->v);
    m.publish.retain = true;
    m.publish.topic = mqc_cstr(t);
    (void)mqp__send(s->pub, &m);
  }
}

/* Wildcards and shared subscriptions: granted, delivered, and consistent
 * with the 5.0 declaration. */
static void probe_filter(session *s, mqp_item it, const char *filter, const char *wire_topic,
                         bool declared, const char *section) {
  mqp_result *r = s->p->r;
  uint8_t g;
  char why[300];
  if (subscribe(s, filter, 0, 0, &g, why, sizeof why)) {
    set(r, it, MQP_NO, "%s", why);
    if (s->v == MQC_V5 && declared)
      finding(r, section, "CONNACK declares %s available, but %s", item_names[it], why);
    return;
  }
  if (g >= 0x80) {
    set(r, it, MQP_NO, "SUBACK 0x%02x for %s", g, filter);
    if (s->v == MQC_V5 && declared)
      finding(r, section, "CONNACK declares %s available, but SUBACK refuses %s with 0x%02x",
              item_names[it], filter, g);
    return;
  }
  char t[96];
  snprintf(t, sizeof t, "%s", wire_topic);
  int rr = roundtrip(s, t, 0, false, 0, t, why, sizeof why);
  if (rr != MQP__GOT) {
    set(r, it, MQP_NO, "%s granted (0x%02x), but a PUBLISH to %s: %s", filter, g, t, why);
    if (s->v == MQC_V5 && declared)
      finding(r, section, "CONNACK declares %s available and SUBACK grants %s, but %s",
              item_names[it], filter, why);
    return;
  }
  set(r, it, MQP_YES, "%s granted and matched %s", filter, t);
  if (s->v == MQC_V5 && !declared)
    finding(r, section, "CONNACK declares %s unavailable, yet %s was granted and served",
            item_names[it], filter);
}

static void probe_sub_ids(session *s) {
  mqp_result *r = s->p->r;
  if (s->v != MQC_V5) {
    set(r, MQP_SUB_IDS, MQP_NO, "MQTT 5.0 only, and the broker does not speak it");
    return;
  }
  if (!s->ack.sub_ids) {
    set(r, MQP_SUB_IDS, MQP_NO, "CONNACK Subscription Identifier Available 0");
    return;
  }
  char t[96], why[300];
  snprintf(t, sizeof t, "%s", topic(s, "subid"));
  uint8_t g;
  if (subscribe(s, t, 0, 7, &g, why, sizeof why) || g >= 0x80) {
    set(r, MQP_SUB_IDS, MQP_NO, "a SUBSCRIBE with Subscription Identifier 7 was refused");
    finding(r, "MQTT-3.3.4-3",
            "CONNACK declares Subscription Identifiers available, but a SUBSCRIBE carrying one "
            "failed");
    return;
  }
  int rr = roundtrip(s, t, 0, false, 0, t, why, sizeof why);
  mqc_prop q;
  if (rr == MQP__GOT &&
      mqc_props_get(&s->sub->pkt.publish.props, MQC_PROP_SUBSCRIPTION_IDENTIFIER, &q) && q.u == 7) {
    set(r, MQP_SUB_IDS, MQP_YES, "delivery carried Subscription Identifier 7");
    return;
  }
  set(r, MQP_SUB_IDS, rr == MQP__GOT ? MQP_NO : MQP_UNKNOWN, "%s",
      rr == MQP__GOT ? "delivery without the Subscription Identifier" : why);
  if (rr == MQP__GOT)
    finding(r, "MQTT-3.3.4-3",
            "CONNACK declares Subscription Identifiers available, but the delivery lacks it");
}

static void probe_topic_alias(session *s) {
  mqp_result *r = s->p->r;
  if (s->v != MQC_V5) {
    set(r, MQP_TOPIC_ALIAS, MQP_NO, "MQTT 5.0 only, and the broker does not speak it");
    return;
  }
  if (!r->topic_alias_maximum) {
    set(r, MQP_TOPIC_ALIAS, MQP_NO, "CONNACK Topic Alias Maximum absent or 0");
    return;
  }
  char t[96], why[300];
  snprintf(t, sizeof t, "%s", topic(s, "alias"));
  uint8_t g;
  if (subscribe(s, t, 0, 0, &g, why, sizeof why) || g >= 0x80) {
    set(r, MQP_TOPIC_ALIAS, MQP_UNKNOWN, "could not subscribe to %s", t);
    return;
  }
  /* alias 1 set with the topic, then used with an empty topic */
  int rr = roundtrip(s, t, 0, false, 1, t, why, sizeof why);
  if (rr == MQP__GOT) rr = roundtrip(s, t, 0, false, 1, "", why, sizeof why);
  if (rr == MQP__GOT) {
    set(r, MQP_TOPIC_ALIAS, MQP_YES, "Topic Alias 1 set and reused (maximum %u)",
        r->topic_alias_maximum);
    return;
  }
  set(r, MQP_TOPIC_ALIAS, MQP_NO, "Topic Alias 1: %s", why);
  finding(r, "MQTT-3.3.2-12", "CONNACK Topic Alias Maximum %u, but Topic Alias 1: %s",
          r->topic_alias_maximum, why);
}

static void probe_assigned(session *s) {
  mqp_result *r = s->p->r;
  mqp__connect_args a = {.version = s->v, .client_id = "", .clean = true, .credentials = true};
  mqp__conn *c;
  mqp__ack ack;
  char why[200];
  int rr = mqp__connect(s->p, &s->p->url, &a, &c, &ack, why, sizeof why);
  if (rr == MQP__ACCEPTED) {
    mqp__close(c);
    if (s->v != MQC_V5) {
      set(r, MQP_ASSIGNED_ID, MQP_YES, "an empty client ID was accepted");
    } else if (ack.assigned[0]) {
      set(r, MQP_ASSIGNED_ID, MQP_YES, "assigned \"%s\"", ack.assigned);
    } else {
      set(r, MQP_ASSIGNED_ID, MQP_YES, "accepted without an Assigned Client Identifier");
      finding(r, "MQTT-3.2.2-16",
              "an empty client ID was accepted, but CONNACK has no Assigned Client Identifier");
    }
  } else if (rr == MQP__REFUSED) {
    set(r, MQP_ASSIGNED_ID, MQP_NO, "an empty client ID was refused: %s", why);
  } else {
    set(r, MQP_ASSIGNED_ID, MQP_UNKNOWN, "an empty client ID: %s", why);
  }
}

static void probe_sessions(session *s) {
  mqp_result *r = s->p->r;
  char cid[64], why[200];
  snprintf(cid, sizeof cid, "%s-session", s->p->prefix);
  mqp__connect_args a = {.version = s->v, .client_id = cid, .clean = false, .credentials = true};
  if (s->v == MQC_V5) a.session_expiry = 0xFFFFFFFFu; /* "never": the broker's cap shows */
  mqp__conn *c;
  mqp__ack ack;
  int rr = mqp__connect(s->p, &s->p->url, &a, &c, &ack, why, sizeof why);
  if (rr != MQP__ACCEPTED) {
    set(r, MQP_SESSIONS, MQP_UNKNOWN, "a Clean Start 0 CONNECT: %s", why);
    return;
  }
  if (s->v == MQC_V5 && (ack.props >> MQC_PROP_SESSION_EXPIRY_INTERVAL & 1)) {
    r->has_session_expiry = true;
    r->session_expiry = ack.session_expiry;
  }
  /* a subscription is session state the broker must keep */
  uint8_t g;
  (void)mqp__subscribe(c, 1, topic(s, "session"), 1, 0, s->p->tmo, &g);
  mqp__close(c);
  rr = mqp__connect(s->p, &s->p->url, &a, &c, &ack, why, sizeof why);
  if (rr != MQP__ACCEPTED)
    set(r, MQP_SESSIONS, MQP_UNKNOWN, "reconnecting: %s", why);
  else if (ack.session_present)
    set(r, MQP_SESSIONS, MQP_YES, "reconnected with Session Present 1");
  else
    set(r, MQP_SESSIONS, MQP_NO, "reconnected with Session Present 0");
  if (c) mqp__close(c);
  /* end the session: Clean Start 1 with expiry 0 */
  a.clean = true;
  a.session_expiry = 0;
  if (mqp__connect(s->p, &s->p->url, &a, &c, &ack, why, sizeof why) == MQP__ACCEPTED) mqp__close(c);
}

static void probe_sys(session *s) {
  mqp_result *r = s->p->r;
  uint8_t g;
  char why[300];
  if (subscribe(s, "$SYS/#", 0, 0, &g, why, sizeof why)) {
    set(r, MQP_SYS, MQP_UNKNOWN, "%s", why);
    return;
  }
  if (g >= 0x80) {
    set(r, MQP_SYS, MQP_NO, "SUBSCRIBE $SYS/# refused with 0x%02x", g);
    return;
  }
  /* Brokers publish $SYS periodically or on events; a new connection is
   * such an event for several of them. */
  mqp__conn *c;
  if (!open_client(s, "sys", &c, NULL, why, sizeof why)) mqp__close(c);
  int64_t deadline = mqn_now_ms() + s->p->tmo;
  for (;;) {
    int64_t left = deadline - mqn_now_ms();
    int rr = left > 0 ? mqp__await(s->sub, MQC_PUBLISH, NULL, (uint32_t)left) : MQP__TIMEOUT;
    if (rr == MQP__GOT) {
      mqc_bytes t = s->sub->pkt.publish.topic;
      if (t.n >= 5 && !memcmp(t.p, "$SYS/", 5)) {
        set(r, MQP_SYS, MQP_YES, "received %.*s", (int)(t.n > 80 ? 80 : t.n), (const char *)t.p);
        return;
      }
      continue;
    }
    set(r, MQP_SYS, MQP_UNKNOWN,
        "subscribed to $SYS/# (granted), but nothing arrived within %u ms: the broker may "
        "publish $SYS rarely or not at all",
        s->p->tmo);
    return;
  }
}

static void probe_transport(mqp__probe *p, mqc_version v, const char *url) {
  mqp_result *r = p->r;
  mqp_transport *t = &r->transports[r->n_transports++];
  mqn_url_redact(url, t->url, sizeof t->url);
  mqn_url u;
  if (mqn_url_parse(url, &u) != MQN_OK) {
    snprintf(t->note, sizeof t->note, "not a URL");
    return;
  }
  mqn_tls *tls = NULL, *saved = p->tls;
  char why[200];
  if (mqn_scheme_is_tls(u.scheme) && !p->tls &&
      tls_for(&u, p->o->cafile, p->o->cert, p->o->key, p->o->insecure, &tls, why, sizeof why)) {
    snprintf(t->note, sizeof t->note, "%s", why);
    return;
  }
  if (tls) p->tls = tls;
  char cid[64];
  snprintf(cid, sizeof cid, "%s-t%zu", p->prefix, r->n_transports);
  mqp__connect_args a = {.version = v, .client_id = cid, .clean = true, .credentials = true};
  mqp__conn *c;
  mqp__ack ack;
  int rr = mqp__connect(p, &u, &a, &c, &ack, why, sizeof why);
  p->tls = saved;
  if (rr == MQP__ACCEPTED) {
    mqp__close(c);
    t->answers = true;
    snprintf(t->note, sizeof t->note, "CONNACK 0x00 over MQTT %s", mqc_version_name(v));
  } else {
    t->answers = rr == MQP__REFUSED;
    snprintf(t->note, sizeof t->note, "%s", why);
  }
  mqn_tls_free(tls);
}

static void capabilities(mqp__probe *p, mqc_version v) {
  mqp_result *r = p->r;
  session s = {.p = p, .v = v};
  char why[200];
  if (open_client(&s, "s", &s.sub, &s.ack, why, sizeof why) ||
      open_client(&s, "p", &s.pub, NULL, why, sizeof why)) {
    for (int i = MQP_QOS1; i < MQP_ITEM_COUNT; i++)
      if (!r->a[i].state) set(r, (mqp_item)i, MQP_UNKNOWN, "could not connect: %s", why);
    mqp__close(s.sub);
    return;
  }
  if (v == MQC_V5) {
    uint64_t pr = s.ack.props;
    r->has_max_qos_declared = pr >> MQC_PROP_MAXIMUM_QOS & 1;
    r->max_qos_declared = (uint8_t)s.ack.max_qos;
    r->receive_maximum = (uint16_t)s.ack.receive_max;
    r->topic_alias_maximum = (uint16_t)s.ack.topic_alias_max;
    r->has_max_packet_size = pr >> MQC_PROP_MAXIMUM_PACKET_SIZE & 1;
    r->max_packet_size = s.ack.max_packet;
    r->has_server_keep_alive = pr >> MQC_PROP_SERVER_KEEP_ALIVE & 1;
    r->server_keep_alive = (uint16_t)s.ack.server_keep_alive;
  }
  probe_qos(&s);
  probe_retain(&s);
  char f[128], t[96];
  snprintf(f, sizeof f, "%s", topic(&s, "wild/+"));
  snprintf(t, sizeof t, "%s", topic(&s, "wild/x"));
  probe_filter(&s, MQP_WILDCARDS, f, t, s.ack.wildcards, "MQTT 5.0 3.2.2.3.14");
  snprintf(t, sizeof t, "%s", topic(&s, "shared"));
  snprintf(f, sizeof f, "$share/mqcheck/%s", t);
  probe_filter(&s, MQP_SHARED, f, t, s.ack.shared, "MQTT 5.0 3.2.2.3.16");
  probe_sub_ids(&s);
  probe_topic_alias(&s);
  probe_sys(&s);
  mqp__close(s.sub);
  mqp__close(s.pub);
  probe_assigned(&s);
  probe_sessions(&s);
}

int mqp_probe(const mqp_opts *o, mqp_result *r, char *err, size_t cap) {
  memset(r, 0, sizeof *r);
  r->max_qos = -1;
  r->receive_maximum = 65535;
  mqn_url_redact(o->target, r->target, sizeof r->target);
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(r->started, sizeof r->started, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  int64_t t0 = mqn_now_ms();
  mqp__probe p = {.o = o, .tmo = o->timeout_ms ? o->timeout_ms : 2000, .r = r};
  if (mqn_url_parse(o->target, &p.url) != MQN_OK) {
    snprintf(err, cap, "bad target URL '%s'", r->target);
    return -1;
  }
  if (tls_for(&p.url, o->cafile, o->cert, o->key, o->insecure, &p.tls, err, cap)) return -1;
  if (reach(&p.url, p.tls, p.tmo, r->target, err, cap)) {
    mqn_tls_free(p.tls);
    return -1;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(p.prefix, sizeof p.prefix, "mqp%05lx",
           ((unsigned long)ts.tv_nsec ^ (unsigned long)getpid() << 8) & 0xFFFFFul);

  static const mqc_version versions[3] = {MQC_V31, MQC_V311, MQC_V5};
  mqc_version best = 0;
  bool creds_refused = false;
  uint8_t refusal = 0;
  for (int i = 0; i < 3; i++) {
    mqc_version v = versions[i];
    char cid[40], why[200];
    snprintf(cid, sizeof cid, "%s-v%d", p.prefix, (int)v);
    mqp__connect_args a = {.version = v, .client_id = cid, .clean = true, .credentials = true};
    mqp__conn *c;
    mqp__ack ack;
    int rr = mqp__connect(&p, &p.url, &a, &c, &ack, why, sizeof why);
    mqp_item it = (mqp_item)(MQP_V31 + i);
    if (rr == MQP__ACCEPTED) {
      mqp__close(c);
      set(r, it, MQP_YES, "CONNACK 0x00");
      best = v;
    } else if (rr == MQP__REFUSED && !ack.old_layout && auth_refusal(v, ack.reason)) {
      /* It answered in this version's own terms: it speaks it. */
      set(r, it, MQP_YES, "understood, but the credentials were refused (%s)", why);
      creds_refused = true;
      refusal = ack.reason;
    } else if (rr == MQP__TRANSPORT) {
      set(r, it, MQP_UNKNOWN, "%s", why);
    } else {
      set(r, it, MQP_NO, "refused: %s", why);
    }
  }
  if (best) {
    r->using = mqc_version_name(best);
    if (o->username) {
      char cid[40], why[200];
      snprintf(cid, sizeof cid, "%s-anon", p.prefix);
      mqp__connect_args a = {.version = best, .client_id = cid, .clean = true};
      mqp__conn *c;
      mqp__ack ack;
      int rr = mqp__connect(&p, &p.url, &a, &c, &ack, why, sizeof why);
      if (rr == MQP__ACCEPTED) {
        mqp__close(c);
        set(r, MQP_AUTH, MQP_NO, "a CONNECT without credentials was accepted");
      } else if (rr == MQP__REFUSED && auth_refusal(best, ack.reason)) {
        set(r, MQP_AUTH, MQP_YES, "a CONNECT without credentials was refused (%s)", why);
      } else {
        set(r, MQP_AUTH, MQP_UNKNOWN, "a CONNECT without credentials: %s", why);
      }
    } else {
      set(r, MQP_AUTH, MQP_NO, "a CONNECT without credentials was accepted");
    }
    capabilities(&p, best);
  } else {
    const char *why = creds_refused ? "the broker refused the credentials: give --username and "
                                      "--password"
                                    : "no protocol version was accepted";
    if (creds_refused)
      set(r, MQP_AUTH, MQP_YES, "CONNECT%s refused with 0x%02x",
          o->username ? " with the given credentials" : " without credentials", refusal);
    for (int i = MQP_AUTH; i < MQP_ITEM_COUNT; i++)
      if (!r->a[i].state && !r->a[i].note[0])
        set(r, (mqp_item)i, MQP_UNKNOWN, "not probed: %s", why);
  }
  r->propagation_ms = -1;
  r->n_nodes = o->n_nodes > 1 ? (o->n_nodes < MQP_NODES_MAX ? o->n_nodes : MQP_NODES_MAX) : 0;
  for (size_t k = 0; k < r->n_nodes; k++) {
    snprintf(r->node_names[k], sizeof r->node_names[k], "%s", o->node_names[k]);
    mqn_url_redact(o->node_urls[k], r->node_urls[k], sizeof r->node_urls[k]);
  }
  for (size_t k = 1; k < r->n_nodes; k++)
    if (reach_url(&p, o->node_urls[k], err, cap)) {
      char one[600];
      snprintf(one, sizeof one, "node %s: %s", r->node_names[k], err);
      snprintf(err, cap, "%s", one);
      mqn_tls_free(p.tls);
      return -1;
    }
  if (r->n_nodes && best) {
    mqp__cluster(&p, best);
  } else {
    for (int i = 0; i < MQP_CL_COUNT; i++)
      snprintf(r->cluster[i].note, sizeof r->cluster[i].note, "not probed: %s",
               r->n_nodes ? "no protocol version was accepted" : "one node");
  }
  mqc_version tv = best ? best : MQC_V311;
  probe_transport(&p, tv, o->target);
  for (size_t i = 0; i < o->n_also && i < MQP_ALSO_MAX; i++)
    probe_transport(&p, tv, o->also[i]);
  mqn_tls_free(p.tls);
  r->wall_ms = (double)(mqn_now_ms() - t0);
  return 0;
}
