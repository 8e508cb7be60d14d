/* steps.c - what each step kind does against a target. */
/* getloadavg */
#define _DEFAULT_SOURCE
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#define DEFAULT_STEP_MS 2000u

static uint64_t now(mqs__run *r) {
  return r->ops->now(r->t);
}

static uint64_t step_deadline(mqs__run *r, const mqs_step *st) {
  uint32_t ms = st->timeout_ms          ? st->timeout_ms
                : r->o->step_timeout_ms ? r->o->step_timeout_ms
                                        : DEFAULT_STEP_MS;
  /* r->propagation: a cluster case's messages may cross nodes */
  return now(r) + mqs__scaled(r, ms) + r->propagation;
}

static const char *cname(mqs__run *r, unsigned idx) {
  return idx < r->s->n_clients ? r->s->clients[idx] : "?";
}

static void describe_rx(mqs__run *r, const mqs__rx *rx, char *out, size_t cap) {
  if (rx->bad)
    snprintf(out, cap, "an invalid %s (%s%s%s)", mqc_type_name((mqc_type)(rx->bytes[0] >> 4)),
             rx->err.message ? rx->err.message : mqc_strerror(rx->err.status),
             rx->err.statement ? ", " : "", rx->err.statement ? rx->err.statement : "");
  else
    mqs__packet_line(&rx->pkt, r->v, out, cap);
}

/* A packet the codec rejects breaks the statement the codec names (a
 * refusing CONNACK with Session Present 1, say), not what the step checks:
 * that statement fails, the step's own are not reached, and the case ends
 * (what followed the packet cannot be read). */
static int end_invalid(mqs__run *r, const mqs_step *st, const mqs__rx *rx, const char *msg) {
  assert(rx->bad);
  if (rx->err.statement) mqs__judged(r, st, rx->err.statement, true);
  mqs__end(r, st, MQS_FAIL, false, "%s", msg);
  if (rx->err.statement) r->step_state[r->cur] = MQS__STEP_NOT_RUN;
  return -1;
}

/* Why nothing came for client idx. */
static void why_nothing(mqs__run *r, unsigned idx, char *out, size_t cap) {
  mqs__client *c = &r->cl[idx];
  if (c->poisoned)
    snprintf(out, cap, "%s", c->poison_msg);
  else if (!c->open && c->closes)
    snprintf(out, cap, "the connection closed (%s)", c->close_msg);
  else if (!c->open)
    snprintf(out, cap, "client '%s' is not connected", cname(r, idx));
  else
    snprintf(out, cap, "nothing arrived in time");
}

/* Sends bytes on idx, logging `line`. Returns 0, or -1 when the case ended
 * (transport failure). A send on a closed connection is noted, not fatal:
 * what the server did is judged by the following expectations. */
static int send_bytes(mqs__run *r, const mqs_step *st, unsigned idx, const uint8_t *p, size_t n,
                      const char *line) {
  mqs__client *c = &r->cl[idx];
  mqs__tr_add(&r->tr, now(r), idx, '>', "%s", line);
  r->res->packets++;
  c->last_sent = now(r);
  if (!c->open) {
    mqs__tr_add(&r->tr, now(r), idx, '!', "(not sent: the connection is closed)");
    return 0;
  }
  bool transport = false;
  char err[200];
  /* fragment: N - every packet goes out in N-byte writes (over WebSocket,
   * one message each), so the peer must reassemble across boundaries */
  size_t piece = r->s->fragment ? r->s->fragment : n;
  int rc = 0;
  if (st->ws_text) {
    /* the whole packet in one TEXT message, which a server must refuse */
    if (!r->ops->send_text)
      return mqs__end(r, st, MQS_ERROR, true, "ws_frame: text needs a ws:// or wss:// target");
    rc = r->ops->send_text(r->t, idx, p, n, err, sizeof err);
    if (rc == -2) return mqs__end(r, st, MQS_ERROR, true, "'%s': %s", cname(r, idx), err);
  }
  for (size_t off = 0; off < n && !rc && !st->ws_text; off += piece)
    rc = r->ops->send(r->t, idx, p + off, n - off < piece ? n - off : piece, &r->sink, &transport,
                      err, sizeof err);
  if (rc) {
    if (transport)
      return mqs__end(r, st, MQS_ERROR, true, "transport error on '%s': %s", cname(r, idx), err);
    if (c->open) {
      c->open = false;
      c->closes++;
      snprintf(c->close_msg, sizeof c->close_msg, "%s", err);
      mqs__tr_add(&r->tr, now(r), idx, '!', "send failed: %s", err);
    }
  }
  return 0;
}

static const char *node_name(mqs__run *r, unsigned idx) {
  return mqs_target_spec_node_name(r->o->target, r->node_of[idx]);
}

static int open_client(mqs__run *r, const mqs_step *st, unsigned idx) {
  mqs__client *c = &r->cl[idx];
  mqs__client_reset(c);
  const char *want = st->on_node                                    ? st->on_node
                     : r->s->client_nodes && idx < MQS__MAX_CLIENTS ? r->s->client_nodes[idx]
                                                                    : NULL;
  int node = mqs_target_spec_node_index(r->o->target, want);
  if (node < 0)
    return mqs__end(r, st, MQS_ERROR, false, "client '%s': '%s' is not a node of the target",
                    cname(r, idx), want);
  r->node_of[idx] = (unsigned)node;
  char err[300];
  int rc = r->ops->open(r->t, idx, (unsigned)node, &r->sink, err, sizeof err);
  if (rc == -2) {
    /* the server broke MQTT-6.0.0-4, whatever the case checks: that
     * statement fails, the case's own are not reached */
    mqs__judged(r, st, "MQTT-6.0.0-4", true);
    mqs__end(r, NULL, MQS_FAIL, false, "cannot connect client '%s': %s", cname(r, idx), err);
    if (!r->res->step_line) r->res->step_line = st->line;
    return -1;
  }
  if (rc)
    return mqs__end(r, st, MQS_ERROR, true, "cannot connect client '%s': %s", cname(r, idx), err);
  c->open = true;
  c->ever_opened = true;
  if (mqs_target_spec_n_nodes(r->o->target) > 1)
    mqs__tr_add(&r->tr, now(r), idx, '!', "transport open (node %s)", node_name(r, idx));
  else
    mqs__tr_add(&r->tr, now(r), idx, '!', "transport open");
  return 0;
}

static int build(mqs__run *r, const mqs_step *st, yaml_node_t *node, mqc_type deftype,
                 mqs_arena *arena, mqc_packet *pkt, mqc_faults *faults) {
  mqs_spec_error e;
  if (!node) {
    mqc_packet_init(pkt, deftype, r->v);
    memset(faults, 0, sizeof *faults);
    return 0;
  }
  if (mqs_packet_from_yaml_vars((yaml_document_t *)&r->s->doc, node, r->v, arena, &r->vars, deftype,
                                pkt, faults, &e))
    return mqs__end(r, st, MQS_FAIL, false, "cannot build the packet (line %zu:%zu): %s", e.line,
                    e.column, e.message);
  return 0;
}

static int encode_send(mqs__run *r, const mqs_step *st, unsigned idx, mqs_arena *arena,
                       const mqc_packet *pkt, const mqc_faults *faults) {
  size_t len = 0;
  uint8_t *out = arena->buf + arena->used;
  size_t cap = arena->cap - arena->used;
  mqc_status s = mqc_encode_faulty(pkt, r->v, faults, out, cap, &len);
  if (s != MQC_OK)
    return mqs__end(r, st, MQS_FAIL, false, "cannot encode the packet: %s", mqc_strerror(s));
  char line[900];
  mqs__packet_line(pkt, r->v, line, sizeof line);
  static const mqc_faults none;
  if (memcmp(faults, &none, sizeof none)) {
    size_t k = strlen(line);
    k += (size_t)snprintf(line + k, sizeof line - k, " FAULTY[");
    for (size_t i = 0; i < len && k + 8 < sizeof line; i++)
      k += (size_t)snprintf(line + k, sizeof line - k, "%02x", out[i]);
    snprintf(line + k, sizeof line - k, "]");
  }
  return send_bytes(r, st, idx, out, len, line);
}

/* Fields whose mismatch breaks a statement of their own, whatever else the
 * step checks: a wrong acknowledgement identifier, a missing DUP on a re-sent
 * PUBLISH or a delivery at the wrong QoS is blamed on that statement (not on
 * the step's), and the case goes on. (Session Present: mqs__sp_stmt.) Where
 * the catalog says the same thing twice (the general echo rule and the
 * packet's own section), the first of the list the scenario cites is blamed,
 * else the first: one deviation, one statement. */
#define FIELD_IDS 3
static const struct {
  mqc_type type;
  const char *field, *want; /* want: the expected text it applies to, or NULL;
                               for "properties": the property's name */
  const char *s311[FIELD_IDS], *s5[FIELD_IDS];
  unsigned char qos1; /* 1 + the PUBLISH QoS the row is about; 0: any */
} field_stmts[] = {
    {MQC_PUBACK, "packet_id", NULL, {"MQTT-2.3.1-6"}, {"MQTT-2.2.1-5"}, 0},
    {MQC_PUBREC, "packet_id", NULL, {"MQTT-2.3.1-6"}, {"MQTT-2.2.1-5"}, 0},
    {MQC_PUBREL, "packet_id", NULL, {"MQTT-2.3.1-6"}, {"MQTT-2.2.1-5"}, 0},
    {MQC_PUBCOMP, "packet_id", NULL, {"MQTT-4.3.3-2"}, {"MQTT-4.3.3-11"}, 0},
    {MQC_SUBACK,
     "packet_id",
     NULL,
     {"MQTT-2.3.1-7", "MQTT-3.8.4-2"},
     {"MQTT-2.2.1-6", "MQTT-3.8.4-2"},
     0},
    {MQC_UNSUBACK,
     "packet_id",
     NULL,
     {"MQTT-2.3.1-7", "MQTT-3.10.4-4"},
     {"MQTT-2.2.1-6", "MQTT-3.10.4-5"},
     0},
    {MQC_PUBLISH, "dup", "true", {"MQTT-3.3.1-1"}, {"MQTT-3.3.1-1"}, 0},
    /* DUP 1 on a first send: the sender's duty of its QoS (DUP reflects only
     * a re-send, MQTT-3.3.1-3, says it again) */
    {MQC_PUBLISH, "dup", "false", {"MQTT-3.3.1-2"}, {"MQTT-3.3.1-2"}, 1},
    {MQC_PUBLISH,
     "dup",
     "false",
     {"MQTT-4.3.2-1", "MQTT-3.3.1-3"},
     {"MQTT-4.3.2-2", "MQTT-3.3.1-3"},
     2},
    {MQC_PUBLISH,
     "dup",
     "false",
     {"MQTT-4.3.3-1", "MQTT-3.3.1-3"},
     {"MQTT-4.3.3-2", "MQTT-3.3.1-3"},
     3},
    /* RETAIN: 1 on a message sent for a new subscription (3.1.1; 5.0 has no
     * statement of its own for it), 0 on live deliveries (5.0: Retain As
     * Published 0) */
    {MQC_PUBLISH, "retain", "true", {"MQTT-3.3.1-8"}, {NULL}, 0},
    {MQC_PUBLISH, "retain", "false", {"MQTT-3.3.1-9"}, {"MQTT-3.3.1-12", "MQTT-3.3.1-13"}, 0},
    /* the QoS of a delivery: the lower of published and granted (a share's
     * MQTT-4.8.2-3 says it again); with overlapping subscriptions the highest */
    {MQC_PUBLISH,
     "qos",
     NULL,
     {"MQTT-3.8.4-6", "MQTT-3.3.5-1", "MQTT-3.8.4-3"},
     {"MQTT-3.8.4-8", "MQTT-3.3.4-2", "MQTT-3.8.4-3"},
     0},
    /* properties a server forwards unchanged (5.0) */
    {MQC_PUBLISH, "properties", "payload_format_indicator", {NULL}, {"MQTT-3.3.2-4"}, 0},
    {MQC_PUBLISH, "properties", "content_type", {NULL}, {"MQTT-3.3.2-20"}, 0},
    {MQC_PUBLISH, "properties", "response_topic", {NULL}, {"MQTT-3.3.2-15"}, 0},
    {MQC_PUBLISH, "properties", "correlation_data", {NULL}, {"MQTT-3.3.2-16"}, 0},
    {MQC_PUBLISH, "properties", "user_property", {NULL}, {"MQTT-3.3.2-17"}, 0},
    /* the server's AUTH asking for more data is a Continue (5.0): the case
     * goes on with the exchange, whatever it checks next */
    {MQC_AUTH, "reason_code", "0x18", {NULL}, {"MQTT-4.12.0-2"}, 0},
    /* the identifier given for an empty Client Identifier (5.0) */
    {MQC_CONNACK,
     "properties",
     "assigned_client_identifier",
     {NULL},
     {"MQTT-3.2.2-16", "MQTT-3.1.3-7"},
     0},
};

/* Does the sequence of one-key mappings seq name property `name`? */
static bool lists_prop(yaml_document_t *doc, yaml_node_t *seq, const char *name) {
  if (!seq || seq->type != YAML_SEQUENCE_NODE) return false;
  for (size_t i = 0; i < mqs__seq_size(seq); i++) {
    yaml_node_t *it = mqs__seq_at(doc, seq, i);
    if (it && it->type == YAML_MAPPING_NODE && mqs__map_size(it) == 1 &&
        !strcmp(mqs__scalar(yaml_document_get_node(doc, it->data.mapping.pairs.start->key)), name))
      return true;
  }
  return false;
}

/* Does the scenario cite id for this run's version? */
static bool cites(const mqs__run *r, const char *id) {
  unsigned b = r->v == MQC_V5 ? 1 : 0;
  for (size_t k = 0; k < r->s->n_rules[b]; k++)
    if (!strcmp(r->s->rules[b][k], id)) return true;
  return false;
}

/* The first of ids[from..n) (up to a NULL) the scenario cites for this
 * run's version, else ids[0]. */
static const char *cited_or_first(const mqs__run *r, const char *const *ids, size_t n,
                                  size_t from) {
  for (size_t j = from; j < n && ids[j]; j++)
    if (cites(r, ids[j])) return ids[j];
  return ids[0];
}

/* The statement a mismatch of field_stmts[i] at step st breaks in this run:
 * one of the list that already failed in the case (the same deviation seen
 * again), else the first the step names, else the first the case cites. A
 * case can so tell a particular statement (re-subscribing replaces the QoS)
 * from the general one (the QoS is downgraded) by a control check of the
 * general one first. */
static const char *field_stmt(const mqs__run *r, const mqs_step *st, size_t i) {
  const char *const *ids = r->v == MQC_V5 ? field_stmts[i].s5 : field_stmts[i].s311;
  for (size_t j = 0; j < FIELD_IDS && ids[j]; j++)
    for (size_t e = 0; e < r->n_extra; e++)
      if (r->extra[e].fail && !strcmp(r->extra[e].id, ids[j])) return ids[j];
  for (size_t j = 0; j < FIELD_IDS && ids[j] && (st->has_rules & r->c->version); j++)
    if (mqs_step_claims(r->s, st, r->c->version, ids[j])) return ids[j];
  return cited_or_first(r, ids, FIELD_IDS, 0);
}

/* A 5.0 property a server leaves out where it would push the packet past
 * the client's Maximum Packet Size: each packet's section states it once for
 * the Reason String and once for User Properties. A `no_properties` check
 * naming both blames the one of the property that came. */
static const struct {
  mqc_type type;
  const char *prop, *s5;
} noprop_stmts[] = {
    {MQC_CONNACK, "reason_string", "MQTT-3.2.2-19"},
    {MQC_CONNACK, "user_property", "MQTT-3.2.2-20"},
    {MQC_PUBACK, "reason_string", "MQTT-3.4.2-2"},
    {MQC_PUBACK, "user_property", "MQTT-3.4.2-3"},
    {MQC_PUBREC, "reason_string", "MQTT-3.5.2-2"},
    {MQC_PUBREC, "user_property", "MQTT-3.5.2-3"},
    {MQC_PUBREL, "reason_string", "MQTT-3.6.2-2"},
    {MQC_PUBREL, "user_property", "MQTT-3.6.2-3"},
    {MQC_PUBCOMP, "reason_string", "MQTT-3.7.2-2"},
    {MQC_PUBCOMP, "user_property", "MQTT-3.7.2-3"},
    {MQC_SUBACK, "reason_string", "MQTT-3.9.2-1"},
    {MQC_SUBACK, "user_property", "MQTT-3.9.2-2"},
    {MQC_UNSUBACK, "reason_string", "MQTT-3.11.2-1"},
    {MQC_UNSUBACK, "user_property", "MQTT-3.11.2-2"},
    {MQC_DISCONNECT, "reason_string", "MQTT-3.14.2-3"},
    {MQC_DISCONNECT, "user_property", "MQTT-3.14.2-4"},
    {MQC_AUTH, "reason_string", "MQTT-3.15.2-2"},
    {MQC_AUTH, "user_property", "MQTT-3.15.2-3"},
};

/* The statement of noprop_stmts for property `prop` of a packet of type t,
 * when the step verifies it (else NULL: the step's own statements judge). */
static const char *noprop_stmt(const mqs__run *r, const mqs_step *st, mqc_type t,
                               const char *prop) {
  if (r->v != MQC_V5) return NULL;
  for (size_t i = 0; i < sizeof noprop_stmts / sizeof noprop_stmts[0]; i++)
    if (noprop_stmts[i].type == t && !strcmp(noprop_stmts[i].prop, prop) &&
        cites(r, noprop_stmts[i].s5) &&
        mqs_step_claims(r->s, st, r->c->version, noprop_stmts[i].s5))
      return noprop_stmts[i].s5;
  return NULL;
}

/* One expected reason code entry (a code or a list of acceptable codes)
 * accepts code; -1: not a plain number, so the entry cannot be judged here. */
static int code_ok(yaml_document_t *doc, yaml_node_t *e, uint8_t code) {
  size_t n = e && e->type == YAML_SEQUENCE_NODE ? mqs__seq_size(e) : 1;
  for (size_t j = 0; j < n; j++) {
    yaml_node_t *one = e && e->type == YAML_SEQUENCE_NODE ? mqs__seq_at(doc, e, j) : e;
    if (!mqs__is_scalar(one)) return -1;
    char *end;
    unsigned long v = strtoul(mqs__scalar(one), &end, 0);
    if (*end || end == mqs__scalar(one)) return -1;
    if (v == code) return 1;
  }
  return 0;
}

/* Can the expected entries exp[from..n) take the codes not yet used, in
 * some order? (n is small: one entry per topic filter.) */
static bool codes_permute(yaml_document_t *doc, yaml_node_t *exp, const mqc_bytes *got, size_t from,
                          uint32_t used) {
  size_t n = mqs__seq_size(exp);
  if (from == n) return true;
  for (size_t i = 0; i < n; i++)
    if (!(used & (1u << i)) && code_ok(doc, mqs__seq_at(doc, exp, from), got->p[i]) == 1 &&
        codes_permute(doc, exp, got, from + 1, used | (1u << i)))
      return true;
  return false;
}

/* The statement a SUBACK's or UNSUBACK's reason code list breaks when its
 * shape is what differs: a code per filter (a count that differs), or their
 * order (the right codes in another order); NULL otherwise (the step's
 * statements judge the codes themselves). */
static const char *codes_stmt(const mqs__run *r, yaml_node_t *exp, const mqc_packet *p) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  bool v5 = r->v == MQC_V5, sub = p->type == MQC_SUBACK;
  if (!exp || exp->type != YAML_SEQUENCE_NODE || mqs__seq_size(exp) > 16) return NULL;
  for (size_t i = 0; i < mqs__seq_size(exp); i++)
    if (code_ok(doc, mqs__seq_at(doc, exp, i), 0) < 0) return NULL;
  if (mqs__seq_size(exp) != p->suback.reasons.n)
    return sub ? (v5 ? "MQTT-3.8.4-6" : "MQTT-3.8.4-5") : NULL;
  if (codes_permute(doc, exp, &p->suback.reasons, 0, 0))
    return sub ? "MQTT-3.9.3-1" : v5 ? "MQTT-3.11.3-1" : NULL;
  return NULL;
}

/* Judges a SUBACK's or UNSUBACK's codes whose count and set are not what
 * differs, only their values (5.0; otherwise the step's statements judge
 * them). An UNSUBACK code says what became
 * of its filter (0x11: nothing was removed), MQTT-3.11.3-2 whatever the
 * step is about. A SUBACK check naming both MQTT-3.2.2-10 and MQTT-3.8.4-7
 * blames the first for a refusal where a grant was due (a QoS above
 * Maximum QoS is still accepted) and the second for another grant (the
 * granted QoS is capped). Returns 1 when it judged the field. */
static int codes_values(mqs__run *r, const mqs_step *st, yaml_node_t *exp, const mqc_packet *p) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  if (r->v != MQC_V5 || !exp || exp->type != YAML_SEQUENCE_NODE ||
      mqs__seq_size(exp) != p->suback.reasons.n)
    return 0;
  bool sub = p->type == MQC_SUBACK;
  if (sub && !(mqs_step_claims(r->s, st, r->c->version, "MQTT-3.2.2-10") &&
               mqs_step_claims(r->s, st, r->c->version, "MQTT-3.8.4-7")))
    return 0;
  bool refused = false, other = false;
  for (size_t i = 0; i < mqs__seq_size(exp); i++) {
    yaml_node_t *e = mqs__seq_at(doc, exp, i);
    uint8_t got = p->suback.reasons.p[i];
    if (code_ok(doc, e, got) != 0) continue; /* it matches, or cannot be judged here */
    bool grant_due = code_ok(doc, e, 0) == 1 || code_ok(doc, e, 1) == 1 || code_ok(doc, e, 2) == 1;
    if (sub && got >= 0x80 && grant_due)
      refused = true;
    else
      other = true;
  }
  if (refused) mqs__judged(r, st, "MQTT-3.2.2-10", true);
  if (other) mqs__judged(r, st, sub ? "MQTT-3.8.4-7" : "MQTT-3.11.3-2", true);
  return refused || other; /* one field, reason_codes */
}

/* Does the scalar node n hold exactly the bytes b (no ${var} in it)? */
static bool scalar_is(yaml_node_t *n, mqc_bytes b) {
  if (!mqs__is_scalar(n)) return false;
  const char *t = mqs__scalar(n);
  return !strstr(t, "${") && strlen(t) == b.n && !memcmp(t, b.p, b.n);
}

/* A 5.0 PUBLISH whose User Properties differ from the `user_properties:`
 * list the step expects: the same pairs in another order break the order
 * the step checks (MQTT-3.3.2-18, a will's MQTT-3.1.3-10); pairs missing or
 * added break their forwarding (MQTT-3.3.2-17) whatever the step is about.
 * Returns 1 when it judged the field. */
static int user_props_values(mqs__run *r, const mqs_step *st, yaml_node_t *exp,
                             const mqc_packet *p) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  if (r->v != MQC_V5 || !exp || exp->type != YAML_SEQUENCE_NODE || mqs__seq_size(exp) > 32)
    return 0;
  const mqc_props *props = mqc_packet_props(p);
  mqc_prop got[32];
  size_t n = 0;
  mqc_prop_iter it;
  mqc_prop pr;
  if (props) mqc_prop_iter_init(&it, props);
  while (props && mqc_prop_next(&it, &pr))
    if (pr.id == MQC_PROP_USER_PROPERTY) {
      if (n == sizeof got / sizeof got[0]) return 0;
      got[n++] = pr;
    }
  bool same = n == mqs__seq_size(exp);
  uint32_t used = 0;
  for (size_t i = 0; same && i < n; i++) {
    yaml_node_t *pair = mqs__seq_at(doc, exp, i);
    if (!pair || pair->type != YAML_SEQUENCE_NODE || mqs__seq_size(pair) != 2) return 0;
    size_t j = 0;
    while (j < n && ((used & (1u << j)) || !scalar_is(mqs__seq_at(doc, pair, 0), got[j].key) ||
                     !scalar_is(mqs__seq_at(doc, pair, 1), got[j].value)))
      j++;
    same = j < n;
    if (same) used |= 1u << j;
  }
  if (same) return 0;
  mqs__judged(r, st, "MQTT-3.3.2-17", true);
  return 1;
}

/* Does diff (one "      NAME  expected ..." line per mismatching field)
 * have a line for field? */
static bool diff_names(const char *diff, const char *field) {
  size_t fl = strlen(field);
  for (const char *l = diff; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
    while (*l == ' ')
      l++;
    if (!strncmp(l, field, fl) && l[fl] == ' ') return true;
  }
  return false;
}

/* Judges the mapped fields of exp against a packet of its type; diff holds
 * the mismatching fields (one "      NAME  expected ..." line each). Returns
 * how many mismatches were judged this way. */
static int judge_fields(mqs__run *r, const mqs_step *st, yaml_node_t *exp, const mqc_packet *p,
                        const char *diff) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  int judged = 0;
  for (size_t i = 0; i < sizeof field_stmts / sizeof field_stmts[0]; i++) {
    if (field_stmts[i].type != p->type || !field_stmt(r, st, i)) continue;
    if (field_stmts[i].qos1 && field_stmts[i].qos1 != p->publish.qos + 1) continue;
    yaml_node_t *v = mqs__map_get(doc, exp, field_stmts[i].field);
    bool prop = !strcmp(field_stmts[i].field, "properties");
    if (prop ? !lists_prop(doc, v, field_stmts[i].want)
             : !mqs__is_scalar(v) ||
                   (field_stmts[i].want && strcmp(mqs__scalar(v), field_stmts[i].want)))
      continue;
    bool bad = false;
    size_t fl = strlen(field_stmts[i].field);
    char pw[64] = "";
    if (prop) snprintf(pw, sizeof pw, "expected %s=", field_stmts[i].want);
    for (const char *l = diff; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
      while (*l == ' ')
        l++;
      if (strncmp(l, field_stmts[i].field, fl) || l[fl] != ' ') continue;
      const char *rest = l + fl;
      while (*rest == ' ')
        rest++;
      bad |= !prop || !strncmp(rest, pw, strlen(pw));
    }
    mqs__judged(r, st, field_stmt(r, st, i), bad);
    judged += bad;
  }
  if (p->type == MQC_SUBACK || p->type == MQC_UNSUBACK) {
    bool differs = diff_names(diff, "reason_codes");
    yaml_node_t *codes = mqs__map_get(doc, exp, "reason_codes");
    const char *id = differs ? codes_stmt(r, codes, p) : NULL;
    if (id) {
      mqs__judged(r, st, id, true);
      judged++;
    } else if (differs) {
      judged += codes_values(r, st, codes, p);
    }
  }
  if (p->type == MQC_PUBLISH) {
    if (diff_names(diff, "user_properties"))
      judged += user_props_values(r, st, mqs__map_get(doc, exp, "user_properties"), p);
  }
  /* "properties  expected no NAME, received ..." (match.c) */
  static const char np[] = "expected no ";
  for (const char *l = diff; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
    while (*l == ' ')
      l++;
    if (strncmp(l, "properties ", 11)) continue;
    const char *rest = l + 11;
    while (*rest == ' ')
      rest++;
    if (strncmp(rest, np, sizeof np - 1)) continue;
    char name[64];
    size_t k = 0;
    for (rest += sizeof np - 1; rest[k] && rest[k] != ',' && k + 1 < sizeof name; k++)
      name[k] = rest[k];
    name[k] = '\0';
    const char *id = noprop_stmt(r, st, p->type, name);
    if (!id) continue;
    mqs__judged(r, st, id, true);
    judged++;
  }
  return judged;
}

/* Answers the server owes whatever a case is about, and the statement that
 * owes each (as the planted deviations of engine/faults.c name them). A
 * check that gets no such answer blames that statement, not the step's: a
 * SUBSCRIBE made to set a case up is not what the case is about, and what a
 * check of the answer's fields is about was not reached. Where the case
 * cites a statement that owes the answer in its own situation (an UNSUBACK
 * when nothing was removed, answers while the send quota is used up), that
 * one is blamed instead. */
#define OWED_IDS 3
static const char *owed_stmt_of(const mqs__run *r, mqc_type type, bool general) {
  static const struct {
    mqc_type type;
    const char *s311[OWED_IDS], *s5[OWED_IDS]; /* [0] general, then particular */
  } owed[] = {
      {MQC_PINGRESP, {"MQTT-3.12.4-1"}, {"MQTT-3.12.4-1"}},
      {MQC_SUBACK, {"MQTT-3.8.4-1"}, {"MQTT-3.8.4-1", "MQTT-3.3.4-10"}},
      {MQC_UNSUBACK, {"MQTT-3.10.4-4", "MQTT-3.10.4-5"}, {"MQTT-3.10.4-4", "MQTT-3.10.4-5"}},
      {MQC_PUBACK, {"MQTT-3.3.4-1", "MQTT-3.3.5-2"}, {"MQTT-4.3.2-4", "MQTT-4.9.0-3"}},
      {MQC_PUBREC, {"MQTT-4.3.3-2"}, {"MQTT-4.3.3-8"}},
      /* only when nothing comes (a PUBLISH where the PUBREL was due, a
       * duplicate delivered or a PUBLISH re-sent on resume, is another
       * fault) and where the check names no statement of its own */
      {MQC_PUBREL, {"MQTT-4.3.3-1"}, {"MQTT-4.3.3-4"}},
      {MQC_PUBCOMP, {"MQTT-4.3.3-2"}, {"MQTT-4.3.3-11"}},
  };
  for (size_t i = 0; i < sizeof owed / sizeof owed[0]; i++)
    if (owed[i].type == type)
      return general ? (r->v == MQC_V5 ? owed[i].s5 : owed[i].s311)[0]
                     : cited_or_first(r, r->v == MQC_V5 ? owed[i].s5 : owed[i].s311, OWED_IDS, 1);
  return NULL;
}

static const char *owed_stmt(const mqs__run *r, mqc_type type) {
  return owed_stmt_of(r, type, false);
}

/* The step's `owed:` statements of this run fail: what the step waits for
 * never came, so its own statements are not reached (the caller ends the
 * step and marks it so). False when the step names none. */
static bool blame_step_owed(mqs__run *r, const mqs_step *st) {
  unsigned b = mqs_version_slot(r->c->version);
  for (size_t k = 0; k < st->n_owed[b]; k++)
    mqs__judged(r, st, st->owed[b][k], true);
  return st->n_owed[b] > 0;
}

/* Moves the queued packet at k to the head of idx's queue; the packets that
 * were before it keep their order behind it. */
static void take_first(mqs__client *c, size_t k) {
  assert(k >= c->q_head && k < c->q_n);
  mqs__rx first = c->q[k];
  memmove(&c->q[c->q_head + 1], &c->q[c->q_head], (k - c->q_head) * sizeof first);
  c->q[c->q_head] = first;
}

/* Where an answer of `type` is queued on idx behind other packets, waiting
 * for it until deadline; 0 when none comes (the head is never it). */
static size_t owed_behind(mqs__run *r, unsigned idx, mqc_type type, uint64_t deadline) {
  mqs__client *c = &r->cl[idx];
  if (deadline > r->case_deadline) deadline = r->case_deadline;
  for (size_t seen = c->q_head + 1;;) {
    for (; seen < c->q_n; seen++)
      if (!c->q[seen].bad && c->q[seen].pkt.type == type) return seen;
    if (!c->open || c->poisoned || now(r) >= deadline) return 0;
    r->ops->wait(r->t, deadline, &r->sink);
  }
}

/* A step that wanted an accepting CONNACK got a well-formed one with another
 * code, and the server keeps the connection open as accepted (a refusal
 * closes it; waited for up to 500 ms x --timeout-scale plus 4 round trips):
 * that code is judged first, as the statement that an accepted CONNECT is
 * answered with code 0 (MQTT-3.1.4-4, 5.0 MQTT-3.1.4-5), and the step's own
 * statements are not reached. A refusal that closes is judged by the step's
 * statements as before. True when judged (the caller ends the step). */
static bool judge_accept_code(mqs__run *r, const mqs_step *st, unsigned idx, const mqs__rx *rx,
                              const char *got) {
  if (!rx || rx->bad || rx->pkt.type != MQC_CONNACK || !rx->pkt.connack.reason) return false;
  mqs__client *c = &r->cl[idx];
  uint64_t until = now(r) + (uint64_t)(500.0 * r->scale) + 4 * r->rtt_ms;
  while (c->open && !c->poisoned && now(r) < until)
    r->ops->wait(r->t, until, &r->sink);
  if (!c->open || c->poisoned) return false;
  const char *id = r->v == MQC_V5 ? "MQTT-3.1.4-5" : "MQTT-3.1.4-4";
  uint8_t code = rx->pkt.connack.reason;
  mqs__buf_printf(&r->detail, "  received:   %s; the connection stayed open as accepted (%s)\n",
                  got, id);
  mqs__judged(r, st, id, true);
  mqs__end(r, st, MQS_FAIL, false,
           "connect: '%s' got CONNACK code 0x%02x and the connection stayed open as accepted (%s)",
           cname(r, idx), code, id);
  r->step_state[r->cur] = MQS__STEP_NOT_RUN;
  return true;
}

static void connack_first(mqs__run *r, const mqs_step *st, unsigned idx, uint64_t deadline);

/* Has a CONNACK been taken on idx's connection already? */
static bool connack_taken(const mqs__client *c) {
  for (size_t k = 0; k < c->q_head; k++)
    if (!c->q[k].bad && c->q[k].pkt.type == MQC_CONNACK) return true;
  return false;
}

/* Compares the next packet of idx with exp; describes a mismatch. A packet
 * of the expected type with other fields wrong is a failed check the case
 * goes on from; anything else ends it. sp_id: exp is the CONNACK of a
 * connect step whose Session Present is judged as that statement of its own
 * (NULL: none). */
static int expect_one(mqs__run *r, const mqs_step *st, unsigned idx, yaml_node_t *exp,
                      uint64_t deadline, const char *what, const char *sp_id) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  mqc_type want_type = mqs__match_type(doc, exp);
  /* a CONNACK expected after `connack: none`: packets before it are judged
   * as in the connect step (MQTT-3.2.0-1) */
  if (want_type == MQC_CONNACK && exp == st->node && !connack_taken(&r->cl[idx]))
    connack_first(r, st, idx, deadline);
  mqs__rx *rx = mqs__next(r, idx, deadline);
  mqs__buf want = {0};
  mqs__match_describe(doc, exp, &r->vars, &want);
  const char *owed = owed_stmt(r, want_type);
  /* a PUBREL check that names statements of its own is what its case is
   * about (a delivery completed after UNSUBSCRIBE, say): `owed:` says when
   * it is not */
  if (want_type == MQC_PUBREL && exp == st->node && (st->has_rules & r->c->version)) owed = NULL;
  /* An owed answer behind other packets was not withheld: its statement is
   * not blamed. A PINGRESP (whose place among the other traffic no expect
   * is about: fences are) or the answer of a step that names no statement
   * of its own is taken first, as the CONNACK is, and the packets before it
   * stay queued for the steps after, which judge them; a step that names
   * statements fails them (it wanted the answer next). */
  bool live = r->cl[idx].open && !r->cl[idx].poisoned; /* before any wait below */
  size_t behind = owed && live && rx && !rx->bad && rx->pkt.type != want_type
                      ? owed_behind(r, idx, want_type, deadline)
                      : 0;
  if (rx) rx = &r->cl[idx].q[r->cl[idx].q_head]; /* waiting may have moved the queue */
  if (behind &&
      (want_type == MQC_PINGRESP || exp != st->node || !(st->has_rules & r->c->version))) {
    mqs__tr_add(&r->tr, now(r), idx, '!',
                "(%zu packet(s) before the %s, which came: it is taken first, they are left "
                "for the steps after)",
                behind - r->cl[idx].q_head, mqc_type_name(want_type));
    take_first(&r->cl[idx], behind);
  } else if (behind) {
    owed = NULL; /* the step's own statements judge what came first */
  }
  if (owed && live &&
      (!rx || (rx->bad ? want_type == MQC_PINGRESP
                       : rx->pkt.type != want_type && want_type != MQC_PUBREL))) {
    /* the answer is owed whatever the step is about: blame the statement
     * that owes it, and the step's own statements are not reached */
    char got[900];
    if (rx) describe_rx(r, rx, got, sizeof got);
    /* the step's own `owed:` knows the situation better (a PUBREL owed on
     * resume, say) */
    if (exp != st->node || !blame_step_owed(r, st)) mqs__judged(r, st, owed, true);
    mqs__buf_printf(&r->detail, "  expected:   %s on '%s'\n  received:   %s\n",
                    mqc_type_name(want_type), cname(r, idx), rx ? got : "nothing");
    mqs__buf_free(&want);
    mqs__end(r, st, MQS_FAIL, false, "%s: expected %s on '%s', %s (%s)", what,
             mqc_type_name(want_type), cname(r, idx), rx ? got : "nothing arrived in time", owed);
    r->step_state[r->cur] = MQS__STEP_NOT_RUN;
    return -1;
  }
  if (!rx) {
    char why[300];
    why_nothing(r, idx, why, sizeof why);
    mqs__buf_printf(&r->detail, "  expected:   %s on '%s'\n  received:   nothing (%s)\n",
                    want.p ? want.p : "", cname(r, idx), why);
    mqs__buf_free(&want);
    if (r->cl[idx].transport_error)
      return mqs__end(r, st, MQS_ERROR, true, "%s: transport error: %s", what,
                      r->cl[idx].close_msg);
    bool owed_by_step =
        exp == st->node && r->cl[idx].open && !r->cl[idx].poisoned && blame_step_owed(r, st);
    mqs__end(r, st, MQS_FAIL, false, "%s: expected %s on '%s', %s", what,
             mqc_type_name(mqs__match_type(doc, exp)), cname(r, idx), why);
    if (owed_by_step) r->step_state[r->cur] = MQS__STEP_NOT_RUN;
    return -1;
  }
  char got[900];
  describe_rx(r, rx, got, sizeof got);
  if (rx->bad) {
    mqs__buf_printf(&r->detail, "  expected:   %s on '%s'\n  received:   %s\n",
                    want.p ? want.p : "", cname(r, idx), got);
    mqs__buf_free(&want);
    char m[1000];
    snprintf(m, sizeof m, "%s: the server sent %s", what, got);
    return end_invalid(r, st, rx, m);
  }
  mqs__buf diff = {0};
  int bad = mqs__match(doc, exp, &rx->pkt, r->v, &r->vars, &diff);
  int raw_bad = bad;
  /* Session Present is a statement of accepting (or of refusing) CONNACKs:
   * a refusal where acceptance was wanted (or the reverse) is judged by the
   * step, not as Session Present */
  yaml_node_t *want_rc = rx->pkt.type == MQC_CONNACK ? mqs__map_get(doc, exp, "reason_code") : NULL;
  bool rc_kind_as_wanted = rx->pkt.type == MQC_CONNACK &&
                           ((mqs__is_scalar(want_rc) && strtoul(mqs__scalar(want_rc), NULL, 0) !=
                                                            0) == (rx->pkt.connack.reason != 0));
  if (sp_id && rc_kind_as_wanted) {
    bool want_sp = mqs__sp_want(doc, st);
    const char *id = sp_id;
    bool sp_bad = rx->pkt.connack.session_present != want_sp;
    mqs__judged(r, st, id, sp_bad);
    if (sp_bad) {
      bad--;
      mqs__buf_printf(&r->detail, "  check at line %u: Session Present %d, expected %d (%s)\n",
                      st->line, rx->pkt.connack.session_present, want_sp, id);
      if (!r->res->message) {
        char m[200];
        snprintf(m, sizeof m, "%s: Session Present %d on '%s', expected %d (%s)", what,
                 rx->pkt.connack.session_present, cname(r, idx), want_sp, id);
        r->res->message = strdup(m);
        r->res->step_line = st->line;
      }
    }
  }
  if (bad && rx->pkt.type == mqs__match_type(doc, exp)) {
    int judged = judge_fields(r, st, exp, &rx->pkt, diff.p);
    if (judged && judged == bad && !r->res->message) {
      mqs__buf_printf(&r->detail, "  check at line %u: %s\n", st->line, diff.p ? diff.p : "");
      char m[1200];
      snprintf(m, sizeof m, "%s: a field judged as its own statement differs on '%s' (received %s)",
               what, cname(r, idx), got);
      r->res->message = strdup(m);
      r->res->step_line = st->line;
    }
    bad -= judged;
  }
  if (bad) {
    mqs__buf_printf(&r->detail, "  expected:   %s on '%s'\n  received:   %s\n  fields:\n%s",
                    want.p ? want.p : "", cname(r, idx), got, diff.p ? diff.p : "");
    /* a CONNACK with another reason code leaves the connection accepted where
     * a refusal was expected (or the reverse): the next steps cannot go on */
    bool rc_differs = diff_names(diff.p, "reason_code");
    mqs__buf_free(&want);
    mqs__buf_free(&diff);
    /* acceptance wanted: a connect step's CONNACK, or reason_code 0 */
    bool want_accept = rx->pkt.type == MQC_CONNACK &&
                       (mqs__is_scalar(want_rc) ? !strtoul(mqs__scalar(want_rc), NULL, 0)
                                                : !want_rc && exp == st->connack);
    if (want_accept && judge_accept_code(r, st, idx, rx, got)) return -1;
    /* an accepting CONNACK where a refusal was wanted: the step's `owed:`
     * names what owed the refusal (an unsupported Authentication Method,
     * say), and its own statements, about the refusal's form, are not
     * reached */
    if (rx->pkt.type == MQC_CONNACK && rc_differs && !want_accept && !rx->pkt.connack.reason &&
        exp == st->node && blame_step_owed(r, st)) {
      mqs__end(r, st, MQS_FAIL, false, "%s: expected a refusing CONNACK on '%s', received %s", what,
               cname(r, idx), got);
      r->step_state[r->cur] = MQS__STEP_NOT_RUN;
      return -1;
    }
    if (rx->pkt.type != mqs__match_type(doc, exp) || (rx->pkt.type == MQC_CONNACK && rc_differs))
      return mqs__end(r, st, MQS_FAIL, false, "%s: expected %s on '%s', received %s", what,
                      mqc_type_name(mqs__match_type(doc, exp)), cname(r, idx), got);
    mqs__consume(r, idx);
    return mqs__fail_soft(r, st, "%s: %d field(s) differ on '%s' (received %s)", what, bad,
                          cname(r, idx), mqc_type_name(rx->pkt.type));
  }
  if (raw_bad) mqs__match_bind(doc, exp, &rx->pkt, r->v, &r->vars);
  if (rx->pkt.type != MQC_CONNACK || rx->pkt.connack.reason != 0) mqs__positive(r);
  if (rx->pkt.type == MQC_PINGRESP) mqs__judged(r, st, "MQTT-3.12.4-1", false);
  mqs__buf_free(&want);
  mqs__buf_free(&diff);
  mqs__consume(r, idx);
  return 0;
}

/* expect with `client: [a, b]` and/or `ignore_others`: the packet may arrive
 * at any listed client; with ignore_others, packets before it that do not
 * match are skipped (noted in the transcript). Without ignore_others a
 * non-matching packet stays queued for later steps. */
static int expect_flex(mqs__run *r, const mqs_step *st) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  uint32_t mask = st->any_of ? st->any_of : 1u << st->client;
  uint64_t deadline = step_deadline(r, st);
  uint64_t lim = deadline < r->case_deadline ? deadline : r->case_deadline;
  size_t skipped = 0, same_type = 0; /* ignored packets of the wanted type */
  mqc_type want_type = mqs__match_type(doc, st->node);
  for (;;) {
    bool can_wait = false;
    for (unsigned idx = 0; idx < r->s->n_clients; idx++) {
      if (!(mask & (1u << idx))) continue;
      mqs__client *c = &r->cl[idx];
      while (c->q_head < c->q_n) {
        mqs__rx *rx = &c->q[c->q_head];
        if (!rx->bad && mqs__match(doc, st->node, &rx->pkt, r->v, &r->vars, NULL) == 0) {
          mqs__consume(r, idx);
          mqs__positive(r);
          return 0;
        }
        /* with ignore_others a PUBLISH of another QoS may be a copy the step
         * skips on purpose; an acknowledgement is not */
        if (!rx->bad && (!st->ignore_others || want_type != MQC_PUBLISH) &&
            rx->pkt.type == want_type) {
          /* only fields judged as statements of their own differ: those
           * fail, the step is satisfied (see judge_fields) */
          mqs__buf d = {0};
          int bad = mqs__match(doc, st->node, &rx->pkt, r->v, &r->vars, &d);
          bool judged = bad && judge_fields(r, st, st->node, &rx->pkt, d.p) == bad;
          if (judged) mqs__buf_printf(&r->detail, "  check at line %u: %s", st->line, d.p);
          mqs__buf_free(&d);
          if (judged) {
            mqs__consume(r, idx);
            mqs__positive(r);
            return 0;
          }
        }
        if (!st->ignore_others) {
          if (rx->bad) {
            char got[900], m[1000];
            describe_rx(r, rx, got, sizeof got);
            snprintf(m, sizeof m, "expect: the server sent %s to '%s'", got, cname(r, idx));
            return end_invalid(r, st, rx, m);
          }
          break;
        }
        mqs__tr_add(&r->tr, now(r), idx, '!', "(ignored by the expect at line %u)", st->line);
        same_type += !rx->bad && rx->pkt.type == want_type;
        mqs__consume(r, idx);
        skipped++;
      }
      if (c->open && !c->poisoned) can_wait = true;
    }
    if (!can_wait || now(r) >= lim) break;
    r->ops->wait(r->t, lim, &r->sink);
  }
  if (st->or_close)
    for (unsigned idx = 0; idx < r->s->n_clients; idx++)
      if ((mask & (1u << idx)) && !r->cl[idx].open && r->cl[idx].closes &&
          !r->cl[idx].transport_error && r->cl[idx].q_head == r->cl[idx].q_n) {
        mqs__tr_add(&r->tr, now(r), idx, '!', "(closed instead: accepted by or_close)");
        mqs__negative(r, st);
        return 0;
      }
  mqs__buf want = {0};
  mqs__match_describe(doc, st->node, &r->vars, &want);
  mqs__buf_printf(&r->detail, "  expected:   %s on", want.p ? want.p : "");
  for (unsigned idx = 0; idx < r->s->n_clients; idx++)
    if (mask & (1u << idx)) mqs__buf_printf(&r->detail, " '%s'", cname(r, idx));
  mqs__buf_printf(&r->detail, "%s\n", st->ignore_others ? " (other packets ignored)" : "");
  mqs__buf_free(&want);
  for (unsigned idx = 0; idx < r->s->n_clients; idx++) {
    if (!(mask & (1u << idx))) continue;
    mqs__client *c = &r->cl[idx];
    char got[900], why[300];
    if (c->q_head < c->q_n) {
      describe_rx(r, &c->q[c->q_head], got, sizeof got);
      mqs__buf_printf(&r->detail, "  '%s' next:  %s\n  fields:\n", cname(r, idx), got);
      if (!c->q[c->q_head].bad)
        (void)mqs__match(doc, st->node, &c->q[c->q_head].pkt, r->v, &r->vars, &r->detail);
    } else {
      why_nothing(r, idx, why, sizeof why);
      mqs__buf_printf(&r->detail, "  '%s':       nothing (%s)\n", cname(r, idx), why);
    }
  }
  /* nothing of an answer owed whatever the step is about: as in expect */
  const char *owed =
      !st->any_of && !same_type && r->cl[st->client].open && !r->cl[st->client].poisoned
          ? owed_stmt(r, want_type)
          : NULL;
  if (want_type == MQC_PUBREL && (st->has_rules & r->c->version)) owed = NULL;
  if (owed) mqs__judged(r, st, owed, true);
  mqs__end(r, st, MQS_FAIL, false, "expect: no matching %s arrived%s (%zu ignored)",
           mqc_type_name(want_type), st->any_of ? " at any of the clients" : "", skipped);
  if (owed) r->step_state[r->cur] = MQS__STEP_NOT_RUN;
  return -1;
}

/* expect with `peek`: a packet matching the fields arrives at the client,
 * before or after others, and every packet stays queued for the next
 * steps. A case proves with it what its checks rely on (the session came
 * back, the queued message is there) without fixing the order in which
 * those checks then read the packets. When none comes on an open
 * connection, the step's `owed:` statements fail, as in expect. */
static int expect_peek(mqs__run *r, const mqs_step *st) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  unsigned idx = st->client;
  mqs__client *c = &r->cl[idx];
  uint64_t deadline = step_deadline(r, st);
  uint64_t lim = deadline < r->case_deadline ? deadline : r->case_deadline;
  for (;;) {
    /* from the head each time: the queue may have moved while waiting */
    for (size_t k = c->q_head; k < c->q_n; k++) {
      mqs__rx *rx = &c->q[k];
      if (rx->bad) {
        /* a packet the codec rejects fails its own statement, as in expect */
        char got[900], m[1000];
        describe_rx(r, rx, got, sizeof got);
        snprintf(m, sizeof m, "expect (peek): the server sent %s to '%s'", got, cname(r, idx));
        return end_invalid(r, st, rx, m);
      }
      if (mqs__match(doc, st->node, &rx->pkt, r->v, &r->vars, NULL) == 0) {
        mqs__positive(r);
        return 0;
      }
    }
    if (!c->open || c->poisoned || now(r) >= lim) break;
    r->ops->wait(r->t, lim, &r->sink);
  }
  mqs__buf want = {0};
  char why[300];
  mqs__match_describe(doc, st->node, &r->vars, &want);
  why_nothing(r, idx, why, sizeof why);
  mqs__buf_printf(&r->detail, "  expected:   %s on '%s' (peek: among %zu queued packet(s))\n",
                  want.p ? want.p : "", cname(r, idx), c->q_n - c->q_head);
  mqs__buf_free(&want);
  if (c->transport_error)
    return mqs__end(r, st, MQS_ERROR, true, "expect: transport error: %s", c->close_msg);
  bool owed_by_step = c->open && !c->poisoned && blame_step_owed(r, st);
  mqs__end(r, st, MQS_FAIL, false, "expect (peek): no matching %s among %zu packet(s) on '%s'%s%s",
           mqc_type_name(mqs__match_type(doc, st->node)), c->q_n - c->q_head, cname(r, idx),
           c->open ? "" : ": ", c->open ? "" : why);
  if (owed_by_step) r->step_state[r->cur] = MQS__STEP_NOT_RUN;
  return -1;
}

/* Packets the server sent before its CONNACK break MQTT-3.2.0-1 (AUTH aside),
 * not what the connect step or the checks after it are about: waits for the
 * CONNACK, judges that statement and puts the CONNACK first, so the packets
 * before it are still there for the steps that expect them. */
static void connack_first(mqs__run *r, const mqs_step *st, unsigned idx, uint64_t deadline) {
  mqs__client *c = &r->cl[idx];
  if (deadline > r->case_deadline) deadline = r->case_deadline;
  for (;;) {
    for (size_t k = c->q_head; k < c->q_n; k++) {
      mqs__rx *rx = &c->q[k];
      if (rx->bad || rx->pkt.type == MQC_AUTH) return;
      if (rx->pkt.type != MQC_CONNACK) continue;
      if (k == c->q_head) return;
      mqs__judged(r, st, "MQTT-3.2.0-1", true);
      if (!r->res->message) {
        char m[200];
        snprintf(m, sizeof m, "connect: %zu packet(s) before the CONNACK on '%s' (MQTT-3.2.0-1)",
                 k - c->q_head, cname(r, idx));
        r->res->message = strdup(m);
        r->res->step_line = st->line;
      }
      mqs__tr_add(&r->tr, now(r), idx, '!',
                  "(%zu packet(s) before the CONNACK: MQTT-3.2.0-1; they are judged after it)",
                  k - c->q_head);
      take_first(c, k);
      return;
    }
    if (!c->open || c->poisoned || now(r) >= deadline) return;
    r->ops->wait(r->t, deadline, &r->sink);
  }
}

static int do_connect(mqs__run *r, const mqs_step *st, bool reconnect) {
  unsigned idx = st->client;
  mqs__client *c = &r->cl[idx];
  if (reconnect && c->open) {
    r->ops->close(r->t, idx, true, &r->sink);
    c->open = false;
    mqs__tr_add(&r->tr, now(r), idx, '!', "dropped (reconnect)");
  }
  if (!c->open && open_client(r, st, idx)) return -1;
  mqs_arena arena = {r->arena, r->arena_cap, 0};
  mqc_packet pkt;
  mqc_faults faults;
  if (build(r, st, st->node, MQC_CONNECT, &arena, &pkt, &faults)) return -1;
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  mqc_connect *cn = &pkt.connect;
  if (!st->node || !mqs__map_get(doc, st->node, "client_id")) {
    char *id = (char *)arena.buf + arena.used;
    int n = snprintf(id, 128, "%s%s", mqs_vars_get(&r->vars, "client_prefix", NULL), cname(r, idx));
    arena.used += (size_t)n + 1;
    cn->client_id = (mqc_bytes){(const uint8_t *)id, (size_t)n};
  }
  if (!st->node || !mqs__map_get(doc, st->node, "clean_start")) cn->clean_start = !reconnect;
  if (!st->node || !mqs__map_get(doc, st->node, "keep_alive")) cn->keep_alive = 60;
  if ((!st->node || !mqs__map_get(doc, st->node, "username")) && r->o->username) {
    cn->has_username = true;
    cn->username = mqc_cstr(r->o->username);
    if (r->o->password && (!st->node || !mqs__map_get(doc, st->node, "password"))) {
      cn->has_password = true;
      cn->password = mqc_cstr(r->o->password);
    }
  }
  /* a CONNECT on a connection that has its CONNACK (a protocol error) may
   * find earlier packets queued: those are not "before the CONNACK" */
  bool first_connect = !c->connacked;
  if (encode_send(r, st, idx, &arena, &pkt, &faults)) return -1;
  if (st->no_connack) return 0;
  /* the round trip of this CONNECT, for timing margins (keep_alive checks) */
  uint64_t sent_at = now(r);
  mqs__rx *first = mqs__next(r, idx, step_deadline(r, st));
  if (first && first->t - sent_at > r->rtt_ms) r->rtt_ms = first->t - sent_at;
  if (first_connect) connack_first(r, st, idx, step_deadline(r, st));
  /* default expectation: CONNACK reason_code 0 */
  if (st->connack)
    return expect_one(r, st, idx, st->connack, step_deadline(r, st), "connack",
                      mqs__sp_stmt(doc, st, r->c->version));
  mqs__rx *rx = mqs__next(r, idx, step_deadline(r, st));
  char got[900];
  if (!rx) {
    char why[300];
    why_nothing(r, idx, why, sizeof why);
    if (c->transport_error)
      return mqs__end(r, st, MQS_ERROR, true, "connect: transport error: %s", c->close_msg);
    return mqs__end(r, st, MQS_FAIL, false, "connect: expected CONNACK on '%s', %s", cname(r, idx),
                    why);
  }
  describe_rx(r, rx, got, sizeof got);
  if (rx->bad || rx->pkt.type != MQC_CONNACK || rx->pkt.connack.reason != 0) {
    mqs__buf_printf(&r->detail, "  expected:   CONNACK reason_code=0 on '%s'\n  received:   %s\n",
                    cname(r, idx), got);
    if (rx->bad) {
      char m[1000];
      snprintf(m, sizeof m, "connect: '%s' was not accepted (received %s)", cname(r, idx), got);
      return end_invalid(r, st, rx, m);
    }
    if (judge_accept_code(r, st, idx, rx, got)) return -1;
    return mqs__end(r, st, MQS_FAIL, false, "connect: '%s' was not accepted (received %s)",
                    cname(r, idx), got);
  }
  mqs__consume(r, idx);
  return 0;
}

static int do_expect_all(mqs__run *r, const mqs_step *st) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  uint64_t deadline = step_deadline(r, st);
  size_t n = st->n_items;
  bool *done = calloc(n, sizeof *done);
  if (!done) return mqs__end(r, st, MQS_ERROR, false, "out of memory");
  /* Repeatedly: take any queued packet of a client with open items and give
   * it to the first open item it matches. */
  size_t left = n;
  int rc = 0;
  while (left) {
    bool progressed = false;
    for (size_t i = 0; i < n && !progressed; i++) {
      if (done[i]) continue;
      unsigned idx = st->items[i].client;
      mqs__client *c = &r->cl[idx];
      if (c->q_head >= c->q_n || c->q[c->q_head].bad) continue;
      for (size_t j = 0; j < n; j++) {
        if (done[j] || st->items[j].client != idx) continue;
        if (mqs__match(doc, st->items[j].match, &c->q[c->q_head].pkt, r->v, &r->vars, NULL) == 0) {
          done[j] = true;
          left--;
          mqs__consume(r, idx);
          mqs__positive(r);
          progressed = true;
          break;
        }
      }
      for (size_t j = 0; j < n && !progressed; j++) {
        /* an item of the same type whose only differences are fields judged
         * as statements of their own (an acknowledgement's identifier, a
         * delivery's QoS): those fail, the group goes on */
        const mqc_packet *hp = &c->q[c->q_head].pkt;
        if (done[j] || st->items[j].client != idx ||
            mqs__match_type(doc, st->items[j].match) != hp->type)
          continue;
        mqs__buf d = {0};
        int bad = mqs__match(doc, st->items[j].match, hp, r->v, &r->vars, &d);
        if (bad && judge_fields(r, st, st->items[j].match, hp, d.p) == bad) {
          mqs__buf_printf(&r->detail, "  check at line %u: %s", st->items[j].line, d.p ? d.p : "");
          mqs__match_bind(doc, st->items[j].match, hp, r->v, &r->vars);
          done[j] = true;
          left--;
          mqs__consume(r, idx);
          mqs__positive(r);
          progressed = true;
        }
        mqs__buf_free(&d);
      }
      if (!progressed) {
        /* the head packet of this client matches none of its open items */
        char got[900];
        describe_rx(r, &c->q[c->q_head], got, sizeof got);
        mqs__buf_printf(&r->detail, "  received:   %s on '%s', which matches no open item:\n", got,
                        cname(r, idx));
        for (size_t j = 0; j < n; j++) {
          if (done[j] || st->items[j].client != idx) continue;
          mqs__buf want = {0};
          mqs__match_describe(doc, st->items[j].match, &r->vars, &want);
          mqs__buf_printf(&r->detail, "  expected:   %s (line %u)\n  fields:\n",
                          want.p ? want.p : "", st->items[j].line);
          mqs__buf_free(&want);
          (void)mqs__match(doc, st->items[j].match, &c->q[c->q_head].pkt, r->v, &r->vars,
                           &r->detail);
        }
        rc = mqs__end(r, st, MQS_FAIL, false, "expect_all: unexpected %s on '%s'",
                      mqc_type_name(c->q[c->q_head].pkt.type), cname(r, idx));
        goto out;
      }
    }
    if (!left) break;
    if (progressed) continue;
    /* nothing usable queued: a bad packet, a closed client, or wait */
    bool can_wait = false;
    for (size_t i = 0; i < n; i++) {
      if (done[i]) continue;
      mqs__client *c = &r->cl[st->items[i].client];
      if (c->q_head < c->q_n && c->q[c->q_head].bad) {
        char got[900], m[1000];
        describe_rx(r, &c->q[c->q_head], got, sizeof got);
        snprintf(m, sizeof m, "expect_all: the server sent %s to '%s'", got,
                 cname(r, st->items[i].client));
        rc = end_invalid(r, st, &c->q[c->q_head], m);
        goto out;
      }
      if (c->open && !c->poisoned) can_wait = true;
    }
    uint64_t lim = deadline < r->case_deadline ? deadline : r->case_deadline;
    if (!can_wait || now(r) >= lim) break;
    r->ops->wait(r->t, lim, &r->sink);
  }
  if (left) {
    mqs__buf_printf(&r->detail, "  still expected after %llu ms:\n",
                    (unsigned long long)(deadline > now(r)
                                             ? 0
                                             : mqs__scaled(r, st->timeout_ms ? st->timeout_ms
                                                                             : DEFAULT_STEP_MS)));
    for (size_t j = 0; j < n; j++) {
      if (done[j]) continue;
      mqs__buf want = {0};
      char why[300];
      why_nothing(r, st->items[j].client, why, sizeof why);
      mqs__match_describe(doc, st->items[j].match, &r->vars, &want);
      mqs__buf_printf(&r->detail, "    '%s': %s (line %u): %s\n", cname(r, st->items[j].client),
                      want.p ? want.p : "", st->items[j].line, why);
      mqs__buf_free(&want);
    }
    /* answers owed whatever the step is about (acknowledgements of the
     * case's own PUBLISHes, say) that never came blame the statement that
     * owes each, as in expect; the general one: the group does not say which
     * client's particular situation applies */
    bool all_owed = true;
    for (size_t j = 0; j < n && all_owed; j++) {
      const mqs__client *c = &r->cl[st->items[j].client];
      all_owed = done[j] || (c->open && !c->poisoned &&
                             owed_stmt_of(r, mqs__match_type(doc, st->items[j].match), true));
    }
    for (size_t j = 0; j < n && all_owed; j++)
      if (!done[j])
        mqs__judged(r, st, owed_stmt_of(r, mqs__match_type(doc, st->items[j].match), true), true);
    bool owed_by_step = all_owed || (left == n && blame_step_owed(r, st));
    rc = mqs__end(r, st, MQS_FAIL, false, "expect_all: %zu of %zu packets did not arrive", left, n);
    if (owed_by_step) r->step_state[r->cur] = MQS__STEP_NOT_RUN;
  }
out:
  free(done);
  return rc;
}

/* Sends one acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP) of a fence's
 * sentinel on idx. Returns 0, or -1 when the case ended. */
static int fence_ack(mqs__run *r, const mqs_step *st, unsigned idx, mqc_type type, uint16_t pid) {
  mqc_packet p;
  uint8_t buf[16];
  size_t len = 0;
  char line[200];
  mqc_packet_init(&p, type, r->v);
  p.ack.packet_id = pid;
  if (mqc_encode(&p, r->v, buf, sizeof buf, &len) != MQC_OK)
    return mqs__end(r, st, MQS_ERROR, false, "fence: cannot encode an acknowledgement");
  mqs__packet_line(&p, r->v, line, sizeof line);
  return send_bytes(r, st, idx, buf, len, line);
}

/* Waits for the acknowledgement `type` of the sentinel (packet id pid) on
 * idx and consumes it. Returns 0, or -1 when the case ended. */
static int fence_await(mqs__run *r, const mqs_step *st, unsigned idx, mqc_type type, uint16_t pid,
                       uint64_t deadline) {
  mqs__rx *rx = mqs__next(r, idx, deadline);
  char got[900];
  if (rx && !rx->bad && rx->pkt.type == type) {
    /* the sentinel's acknowledgement is not what the step is about: a
     * wrong identifier is its own statement's, and the fence goes on */
    bool wrong = rx->pkt.ack.packet_id != pid;
    for (size_t i = 0; i < sizeof field_stmts / sizeof field_stmts[0]; i++)
      if (field_stmts[i].type == type && !strcmp(field_stmts[i].field, "packet_id"))
        mqs__judged(r, st, field_stmt(r, st, i), wrong);
    if (wrong) {
      describe_rx(r, rx, got, sizeof got);
      mqs__buf_printf(&r->detail,
                      "  fence at line %u: expected %s %u for the sentinel, received %s\n",
                      st->line, mqc_type_name(type), pid, got);
    }
    mqs__consume(r, idx);
    return 0;
  }
  if (rx)
    describe_rx(r, rx, got, sizeof got);
  else
    why_nothing(r, idx, got, sizeof got);
  const char *owed = owed_stmt(r, type);
  bool blame_owed = owed && r->cl[idx].open && !r->cl[idx].poisoned && (!rx || !rx->bad);
  if (blame_owed) mqs__judged(r, st, owed, true);
  mqs__end(r, st, MQS_FAIL, false, "fence: expected %s %u for the sentinel on '%s', got %s%s%s%s",
           mqc_type_name(type), pid, cname(r, idx), got, blame_owed ? " (" : "",
           blame_owed ? owed : "", blame_owed ? ")" : "");
  /* the absence was never proven: the step's own statements not reached */
  if (blame_owed) r->step_state[r->cur] = MQS__STEP_NOT_RUN;
  return -1;
}

/* expect_none with a fence: an ordering guarantee of the protocol instead of
 * a timer proves nothing more will come. ping: the server answers packets of
 * one connection in order, so what it sends before PINGRESP was sent before
 * it handled the PINGREQ. sentinel: messages from one publisher on a topic
 * reach a subscriber in order per QoS (MQTT-4.6.0-6 in 3.1.1, -5 in 5.0), so
 * anything routed before the sentinel arrives before it. The sentinel's
 * handshake on the publisher completes first (a server may forward a QoS 2
 * message only after PUBREL); on the receiver it is acknowledged, so no
 * sentinel stays in flight for later steps. What comes first fails the
 * check; the fence itself must arrive (a positive control). */
static int do_fence(mqs__run *r, const mqs_step *st) {
  unsigned idx = st->client;
  char sentinel[96], topic[MQS_VAR_VALUE_MAX], bad[64];
  uint8_t buf[MQS_VAR_VALUE_MAX + 128];
  size_t len = 0;
  mqc_packet p;
  /* far above the packet IDs scenarios use, one per fence step */
  uint16_t pid = (uint16_t)(0xFF00u | (st->line & 0xFFu));
  if (st->fence == MQS_FENCE_PING) {
    mqc_packet_init(&p, MQC_PINGREQ, r->v);
  } else {
    long n = mqs_vars_expand(&r->vars, mqs__scalar(st->fence_topic),
                             st->fence_topic->data.scalar.length, topic, sizeof topic, bad);
    if (n < 0) return mqs__end(r, st, MQS_FAIL, false, "fence: unbound variable '%s'", bad);
    snprintf(sentinel, sizeof sentinel, "mqcheck-fence-%u", st->line);
    mqc_packet_init(&p, MQC_PUBLISH, r->v);
    p.publish.topic = (mqc_bytes){(const uint8_t *)topic, (size_t)n};
    p.publish.payload = mqc_cstr(sentinel);
    p.publish.qos = st->fence_qos;
    if (st->fence_qos) p.publish.packet_id = pid;
  }
  if (mqc_encode(&p, r->v, buf, sizeof buf, &len) != MQC_OK)
    return mqs__end(r, st, MQS_ERROR, false, "fence: cannot encode");
  char line[900];
  mqs__packet_line(&p, r->v, line, sizeof line);
  unsigned from = st->fence == MQS_FENCE_PING ? idx : st->fence_from;
  if (send_bytes(r, st, from, buf, len, line)) return -1;
  uint64_t deadline = step_deadline(r, st);
  if (st->fence == MQS_FENCE_SENTINEL && st->fence_qos == 1 &&
      fence_await(r, st, from, MQC_PUBACK, pid, deadline))
    return -1;
  if (st->fence == MQS_FENCE_SENTINEL && st->fence_qos == 2 &&
      (fence_await(r, st, from, MQC_PUBREC, pid, deadline) ||
       fence_ack(r, st, from, MQC_PUBREL, pid) ||
       fence_await(r, st, from, MQC_PUBCOMP, pid, deadline)))
    return -1;
  bool failed = false;
  for (;;) {
    mqs__rx *rx = mqs__next(r, idx, deadline);
    if (!rx) {
      char why[300];
      why_nothing(r, idx, why, sizeof why);
      if (st->fence == MQS_FENCE_PING && r->cl[idx].open) mqs__judged(r, st, "MQTT-3.12.4-1", true);
      mqs__end(r, st, MQS_FAIL, false, "expect_none: the fence (%s) did not arrive on '%s': %s",
               st->fence == MQS_FENCE_PING ? "PINGRESP" : sentinel, cname(r, idx), why);
      /* without its fence the absence was never proven: the step's own
       * statements are not reached (a missing PINGRESP is MQTT-3.12.4-1) */
      if (!failed) r->step_state[r->cur] = MQS__STEP_NOT_RUN;
      return -1;
    }
    bool is_fence =
        !rx->bad && (st->fence == MQS_FENCE_PING
                         ? rx->pkt.type == MQC_PINGRESP
                         : rx->pkt.type == MQC_PUBLISH &&
                               mqc_bytes_eq(rx->pkt.publish.payload, mqc_cstr(sentinel)));
    if (is_fence) {
      uint8_t q = st->fence == MQS_FENCE_SENTINEL ? rx->pkt.publish.qos : 0;
      uint16_t got_pid = q ? rx->pkt.publish.packet_id : 0;
      mqs__consume(r, idx);
      if (q == 1 && fence_ack(r, st, idx, MQC_PUBACK, got_pid)) return -1;
      if (q == 2 && (fence_ack(r, st, idx, MQC_PUBREC, got_pid) ||
                     fence_await(r, st, idx, MQC_PUBREL, got_pid, step_deadline(r, st)) ||
                     fence_ack(r, st, idx, MQC_PUBCOMP, got_pid)))
        return -1;
      mqs__positive(r);
      return 0;
    }
    char got[900];
    describe_rx(r, rx, got, sizeof got);
    if (rx->bad && rx->err.statement) {
      /* unreadable, so perhaps the fence itself: the codec's statement
       * fails, the absence is not reached */
      char m[1000];
      snprintf(m, sizeof m, "expect_none: '%s' received %s", cname(r, idx), got);
      return end_invalid(r, st, rx, m);
    }
    mqs__buf_printf(&r->detail,
                    "  expected:   nothing before the fence (%s)\n  received:   %s on '%s'\n",
                    st->fence == MQS_FENCE_PING ? "PINGRESP" : sentinel, got, cname(r, idx));
    mqs__consume(r, idx);
    if (!failed)
      mqs__fail_soft(r, st, "expect_none: '%s' received %s before the fence", cname(r, idx), got);
    failed = true;
  }
}

static int do_expect_none(mqs__run *r, const mqs_step *st) {
  if (st->fence) return do_fence(r, st);
  uint64_t deadline = now(r) + mqs__scaled(r, st->ms);
  bool was_open[MQS__MAX_CLIENTS];
  for (size_t i = 0; i < r->s->n_clients; i++)
    was_open[i] = r->cl[i].open;
  for (;;) {
    for (size_t i = 0; i < r->s->n_clients; i++) {
      if (!st->all_clients && i != st->client) continue;
      mqs__client *c = &r->cl[i];
      if (c->q_head < c->q_n) {
        char got[900];
        describe_rx(r, &c->q[c->q_head], got, sizeof got);
        mqs__buf_printf(&r->detail, "  expected:   nothing for %u ms\n  received:   %s on '%s'\n",
                        st->ms, got, cname(r, (unsigned)i));
        mqs__consume(r, (unsigned)i);
        return mqs__fail_soft(r, st, "expect_none: '%s' received %s", cname(r, (unsigned)i), got);
      }
      if (was_open[i] && !c->open) {
        if (c->transport_error)
          return mqs__end(r, st, MQS_ERROR, true, "transport error: %s", c->close_msg);
        return mqs__end(r, st, MQS_FAIL, false, "expect_none: the connection of '%s' closed (%s)",
                        cname(r, (unsigned)i), c->close_msg);
      }
    }
    if (now(r) >= deadline) {
      mqs__negative(r, st);
      return 0;
    }
    if (!r->ops->virtual_clock && now(r) >= r->case_deadline)
      return mqs__end(r, st, MQS_FAIL, false, "case deadline passed");
    r->ops->wait(r->t, deadline, &r->sink);
  }
}

static bool reason_ok(mqs__run *r, yaml_node_t *want, uint8_t got) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  if (!want) return true;
  yaml_node_t *list[32];
  size_t n = 0;
  if (want->type == YAML_SEQUENCE_NODE)
    for (size_t i = 0; i < mqs__seq_size(want) && n < 32; i++)
      list[n++] = mqs__seq_at(doc, want, i);
  else
    list[n++] = want;
  for (size_t i = 0; i < n; i++)
    if (mqs__is_scalar(list[i]) && strtoul(mqs__scalar(list[i]), NULL, 0) == got) return true;
  return false;
}

/* The tolerance of a keep-alive close (MQTT-3.1.2-24 in 3.1.1, -22 in 5.0):
 * the close is due 1.5 x Keep Alive after the client's last packet, and not
 * before Keep Alive. A broker may count Keep Alive in whole seconds (its
 * unit), so it may notice up to 1 s late; on top, four measured round trips
 * for the close to travel, all scaled by the load of this machine and by
 * --timeout-scale. The engine's virtual clock needs no margin. */
static uint64_t keepalive_margin(mqs__run *r, char *why, size_t cap) {
  if (r->ops->virtual_clock) {
    snprintf(why, cap, "none (virtual clock)");
    return 0;
  }
  double load = 1.0, la[1];
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (getloadavg(la, 1) == 1 && ncpu > 0 && la[0] / (double)ncpu > 1.0) load = la[0] / (double)ncpu;
  double ms = (1000.0 + 4.0 * (double)r->rtt_ms) * load * r->scale;
  snprintf(why, cap,
           "%.0f ms (1 s: Keep Alive counts whole seconds; 4 x round trip %llu ms; x%.2f for the "
           "load per CPU; x%.2f --timeout-scale)",
           ms, (unsigned long long)r->rtt_ms, load, r->scale);
  return (uint64_t)ms;
}

/* Statements that ask only for the close: a reason code or property of the
 * DISCONNECT/CONNACK before it is at most a SHOULD there (section 4.13). */
static bool close_only(const char *id, mqc_version v) {
  static const char *const v5[] = {"MQTT-4.13.1-1", "MQTT-4.13.2-1", "MQTT-3.2.2-7",
                                   "MQTT-3.1.4-1",  "MQTT-3.1.4-2",  "MQTT-3.14.4-2"};
  static const char *const v311[] = {"MQTT-4.8.0-1", "MQTT-3.2.2-5", "MQTT-3.1.4-1"};
  const char *const *ids = v == MQC_V5 ? v5 : v311;
  size_t n = v == MQC_V5 ? sizeof v5 / sizeof v5[0] : sizeof v311 / sizeof v311[0];
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ids[i], id)) return true;
  return false;
}

/* The server closed as expect_disconnect wants, but what came before the
 * close was wrong (msg): that fails the step's statements that are about it,
 * not those that ask only for the close. A step whose statements all ask
 * only for the close passes (the transcript says what differed). */
static void judge_closed(mqs__run *r, const mqs_step *st, const char *msg) {
  unsigned vb = r->c->version, b = mqs_version_slot(vb);
  size_t n_close = 0, n_other = 0;
  for (size_t k = 0; k < r->s->n_rules[b]; k++)
    if (mqs_step_claims(r->s, st, vb, r->s->rules[b][k]))
      close_only(r->s->rules[b][k], r->v) ? n_close++ : n_other++;
  if (!n_close) {
    mqs__fail_soft(r, st, "%s", msg);
    return;
  }
  if (!n_other) {
    mqs__tr_add(&r->tr, now(r), st->client, '!',
                "(%s; its statements ask only for the close, which came)", msg);
    return;
  }
  for (size_t k = 0; k < r->s->n_rules[b]; k++)
    if (mqs_step_claims(r->s, st, vb, r->s->rules[b][k]) && !close_only(r->s->rules[b][k], r->v))
      mqs__judged(r, st, r->s->rules[b][k], true);
  mqs__buf_printf(&r->detail, "  check at line %u failed, the case went on: %s\n", st->line, msg);
  if (!r->res->message) {
    r->res->message = strdup(msg);
    r->res->step_line = st->line;
  }
}

/* The close a refusing CONNACK owes (MQTT-3.2.2-5, -7 in 5.0). */
static bool refusal_close(const char *id, mqc_version v) {
  return !strcmp(id, v == MQC_V5 ? "MQTT-3.2.2-7" : "MQTT-3.2.2-5");
}

/* expect_disconnect got an accepting CONNACK: no refusal came, so the close
 * a refusal owes was never owed. When the step names that statement and
 * others, the others fail (true; the caller ends the step as not reached);
 * else false: the step's statements judge as usual. */
static bool judge_accepted(mqs__run *r, const mqs_step *st) {
  unsigned vb = r->c->version, b = mqs_version_slot(vb);
  size_t n_close = 0, n_other = 0;
  for (size_t k = 0; k < r->s->n_rules[b]; k++)
    if (mqs_step_claims(r->s, st, vb, r->s->rules[b][k]))
      refusal_close(r->s->rules[b][k], r->v) ? n_close++ : n_other++;
  if (!n_close || !n_other) return false;
  for (size_t k = 0; k < r->s->n_rules[b]; k++)
    if (mqs_step_claims(r->s, st, vb, r->s->rules[b][k]) && !refusal_close(r->s->rules[b][k], r->v))
      mqs__judged(r, st, r->s->rules[b][k], true);
  return true;
}

static int do_expect_disconnect(mqs__run *r, const mqs_step *st) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  unsigned idx = st->client;
  mqs__client *c = &r->cl[idx];
  uint64_t deadline = step_deadline(r, st);
  yaml_node_t *ka = st->node ? mqs__map_get(doc, st->node, "keep_alive") : NULL;
  uint64_t ka_ms = mqs__is_scalar(ka) ? strtoull(mqs__scalar(ka), NULL, 10) * 1000u : 0;
  char margin_why[300] = "";
  if (ka_ms) {
    uint64_t margin = keepalive_margin(r, margin_why, sizeof margin_why);
    deadline = c->last_sent + ka_ms * 3 / 2 + margin;
    mqs__tr_add(&r->tr, now(r), idx, '!',
                "(keep-alive close due %.3f s after the last packet, margin %s)",
                (double)(ka_ms * 3 / 2) / 1000.0, margin_why);
  }
  yaml_node_t *want_rc = st->node ? mqs__map_get(doc, st->node, "reason_code") : NULL;
  yaml_node_t *req = st->node ? mqs__map_get(doc, st->node, "required") : NULL;
  bool required = mqs__is_scalar(req) && !strcmp(mqs__scalar(req), "true");
  yaml_node_t *dp = st->node ? mqs__map_get(doc, st->node, "disconnect_packet") : NULL;
  /* disconnect_packet: false - the close may follow a CONNACK, never a
   * DISCONNECT (a server sends none before a successful CONNACK) */
  bool no_disconnect = mqs__is_scalar(dp) && !strcmp(mqs__scalar(dp), "false");
  bool got_packet = false, disconnected = false, refused = false, failure_rc = false;
  char soft[1024] = ""; /* the first thing wrong with what came before the close */
  for (;;) {
    mqs__rx *rx = mqs__next(r, idx, deadline);
    if (!rx) break;
    char got[900];
    describe_rx(r, rx, got, sizeof got);
    if (disconnected) {
      /* anything after the server's DISCONNECT breaks MQTT-3.14.4-1 alone:
       * the close it announced is still judged */
      mqs__judged(r, st, "MQTT-3.14.4-1", true);
      mqs__buf_printf(&r->detail, "  received %s after the DISCONNECT (MQTT-3.14.4-1)\n", got);
      if (!r->res->message) {
        char m[1000];
        snprintf(m, sizeof m, "expect_disconnect: '%s' received %s after the DISCONNECT (%s)",
                 cname(r, idx), got, "MQTT-3.14.4-1");
        r->res->message = strdup(m);
        r->res->step_line = st->line;
      }
      mqs__consume(r, idx);
      continue;
    }
    bool closing = !rx->bad && (rx->pkt.type == MQC_DISCONNECT ||
                                (rx->pkt.type == MQC_CONNACK && rx->pkt.connack.reason != 0));
    /* A refusal in the 3.1.1 CONNACK layout (20 02 00 rc) is accepted when
     * the CONNECT's protocol could not be trusted (unknown name or level):
     * the server cannot know which layout the client reads. */
    mqc_packet legacy;
    mqc_error lerr;
    bool layout311 = rx->bad && rx->len == 4 && rx->bytes[0] == 0x20 && rx->bytes[3] != 0;
    mqc_status lst = layout311 ? mqc_decode(rx->bytes, rx->len, MQC_V311, MQC_FROM_SERVER,
                                            MQC_NO_LIMIT, &legacy, &lerr)
                               : MQC_ERR_MALFORMED;
    if (layout311 && lst != MQC_OK && lerr.statement && !strcmp(lerr.statement, "MQTT-3.2.2-4")) {
      /* such a refusal with Session Present 1 breaks this version's Session
       * Present rule, not a 5.0 CONNACK's reason codes (which it is not) */
      rx->err = lerr;
      rx->err.statement = r->v == MQC_V5 ? "MQTT-3.2.2-6" : "MQTT-3.2.2-4";
      rx->err.message = "Session Present set in a refusal of the 3.1.1 layout";
    }
    if (lst == MQC_OK) {
      rx->pkt = legacy;
      rx->bad = false;
      closing = true;
      mqs__tr_add(&r->tr, now(r), idx, '!', "(read as a 3.1.1 CONNACK, return code 0x%02x)",
                  legacy.connack.reason);
    }
    if (!closing) {
      mqs__buf_printf(
          &r->detail, "  expected:   the server closes the connection%s\n  received:   %s\n",
          r->v == MQC_V5 ? " (optionally after DISCONNECT/CONNACK with a reason code)" : "", got);
      if (rx->bad) {
        char m[1000];
        snprintf(m, sizeof m, "expect_disconnect: received %s instead", got);
        return end_invalid(r, st, rx, m);
      }
      if (rx->pkt.type == MQC_CONNACK && !rx->pkt.connack.reason && blame_step_owed(r, st)) {
        /* the refusal or close was owed by the step's `owed:` statement */
        mqs__end(r, st, MQS_FAIL, false,
                 "expect_disconnect: received %s instead (the connection was accepted)", got);
        r->step_state[r->cur] = MQS__STEP_NOT_RUN;
        return -1;
      }
      if (rx->pkt.type == MQC_CONNACK && judge_accepted(r, st)) {
        mqs__end(r, st, MQS_FAIL, false,
                 "expect_disconnect: received %s instead (the connection was accepted)", got);
        r->step_state[r->cur] = MQS__STEP_NOT_RUN;
        return -1;
      }
      return mqs__end(r, st, MQS_FAIL, false, "expect_disconnect: received %s instead", got);
    }
    if (no_disconnect && rx->pkt.type == MQC_DISCONNECT) {
      mqs__buf_printf(&r->detail,
                      "  expected:   the server closes without a DISCONNECT\n  received:   %s\n",
                      got);
      mqs__consume(r, idx);
      if (!soft[0])
        snprintf(soft, sizeof soft, "expect_disconnect: received %s, which is not allowed here",
                 got);
      continue;
    }
    uint8_t rc =
        rx->pkt.type == MQC_DISCONNECT ? rx->pkt.disconnect.reason : rx->pkt.connack.reason;
    /* no_properties: [names] - a DISCONNECT/CONNACK that comes must lack them */
    yaml_node_t *np = st->node ? mqs__map_get(doc, st->node, "no_properties") : NULL;
    const mqc_props *props =
        rx->pkt.type == MQC_DISCONNECT ? &rx->pkt.disconnect.props : &rx->pkt.connack.props;
    for (size_t i = 0; np && np->type == YAML_SEQUENCE_NODE && i < mqs__seq_size(np); i++) {
      const mqc_prop_info *info = mqc_prop_by_name(mqs__scalar(mqs__seq_at(doc, np, i)));
      if (info && mqc_props_has(props, info->id)) {
        mqs__buf_printf(&r->detail, "  expected:   no %s\n  received:   %s\n", info->name, got);
        const char *id = noprop_stmt(r, st, rx->pkt.type, info->name);
        if (id) {
          mqs__judged(r, st, id, true);
          continue;
        }
        if (!soft[0])
          snprintf(soft, sizeof soft, "expect_disconnect: %s carries %s",
                   mqc_type_name(rx->pkt.type), info->name);
      }
    }
    if (!reason_ok(r, want_rc, rc)) {
      mqs__buf_printf(&r->detail, "  expected:   reason code %s\n  received:   %s\n",
                      mqs__is_scalar(want_rc) ? mqs__scalar(want_rc) : "(one of the list)", got);
      if (!soft[0]) snprintf(soft, sizeof soft, "expect_disconnect: wrong reason code 0x%02x", rc);
    }
    got_packet = true;
    failure_rc = rc >= 0x80;
    disconnected = rx->pkt.type == MQC_DISCONNECT;
    refused = rx->pkt.type == MQC_CONNACK;
    mqs__consume(r, idx);
  }
  refused |= !got_packet && c->refusal; /* the connect step took the CONNACK */
  if ((disconnected || refused) && c->open && !c->poisoned) {
    /* the DISCONNECT or refusing CONNACK the step wanted came, and only the
     * close that must follow it is missing: that is a statement of its own */
    const char *id = disconnected     ? "MQTT-3.14.4-2"
                     : r->v == MQC_V5 ? "MQTT-3.2.2-7"
                                      : "MQTT-3.2.2-5";
    mqs__judged(r, st, id, true);
    /* 5.0 states it once more for every code of 0x80 or more (a refusing
     * CONNACK has no other): the connection is closed, sent or not */
    if (r->v == MQC_V5 && (refused || failure_rc)) mqs__judged(r, st, "MQTT-4.13.2-1", true);
    /* a refused authentication owes that close too (MQTT-4.12.0-4), where
     * the step names it */
    if (r->v == MQC_V5 && refused && cites(r, "MQTT-4.12.0-4") &&
        mqs_step_claims(r->s, st, r->c->version, "MQTT-4.12.0-4"))
      mqs__judged(r, st, "MQTT-4.12.0-4", true);
    mqs__buf_printf(&r->detail, "  received:   %s, but the connection stayed open (%s)\n",
                    disconnected ? "the DISCONNECT" : "the refusing CONNACK", id);
    if (!r->res->message) {
      char m[300];
      snprintf(m, sizeof m, "expect_disconnect: the connection of '%s' stayed open (%s)",
               cname(r, idx), id);
      r->res->message = strdup(m);
      r->res->step_line = st->line;
    }
    /* the steps after this one expect the connection closed (a will that
     * a close publishes, say): the client closes it, so they judge their
     * own statements and not this missing close again */
    r->ops->close(r->t, idx, true, &r->sink);
    c->open = false;
    mqs__tr_add(&r->tr, now(r), idx, '!',
                "network dropped by the client (the server did not close)");
    mqs__negative(r, st);
    if (soft[0]) judge_closed(r, st, soft);
    return 0;
  }
  if (c->open && !c->poisoned) {
    mqs__buf_printf(&r->detail,
                    "  expected:   the server closes the connection\n  received:   %s\n",
                    got_packet ? "the DISCONNECT/CONNACK, but the connection stayed open"
                               : "nothing; the connection stayed open");
    if (ka_ms)
      mqs__buf_printf(&r->detail,
                      "  tolerance:  due %.3f s after the last packet (1.5 x Keep Alive), "
                      "margin %s\n",
                      (double)(ka_ms * 3 / 2) / 1000.0, margin_why);
    bool owed_by_step = !got_packet && blame_step_owed(r, st);
    mqs__end(r, st, MQS_FAIL, false, "expect_disconnect: the connection of '%s' is still open%s",
             cname(r, idx), ka_ms ? " after 1.5 x Keep Alive and the margin" : "");
    if (owed_by_step) r->step_state[r->cur] = MQS__STEP_NOT_RUN;
    return -1;
  }
  if (c->transport_error)
    return mqs__end(r, st, MQS_ERROR, true, "transport error: %s", c->close_msg);
  if (c->poisoned) return mqs__end(r, st, MQS_FAIL, false, "%s", c->poison_msg);
  if (ka_ms && c->closed_at < c->last_sent + ka_ms) {
    mqs__buf_printf(&r->detail,
                    "  expected:   no close before the Keep Alive of %llu s ran out\n"
                    "  received:   a close %.3f s after the last packet\n",
                    (unsigned long long)(ka_ms / 1000),
                    (double)(c->closed_at - c->last_sent) / 1000.0);
    char m[300];
    snprintf(m, sizeof m,
             "expect_disconnect: closed %.3f s after the last packet, before the Keep Alive "
             "of %llu s ran out",
             (double)(c->closed_at - c->last_sent) / 1000.0, (unsigned long long)(ka_ms / 1000));
    if (r->v == MQC_V5 && mqs_step_claims(r->s, st, r->c->version, "MQTT-3.2.2-22")) {
      /* an early close breaks the Keep Alive enforced (MQTT-3.2.2-22), not
       * the close due at 1.5 x Keep Alive (MQTT-3.1.2-22): it came */
      mqs__judged(r, st, "MQTT-3.2.2-22", true);
      if (!r->res->message) {
        r->res->message = strdup(m);
        r->res->step_line = st->line;
      }
    } else {
      mqs__fail_soft(r, st, "%s", m);
    }
  }
  mqs__negative(r, st);
  if (required && !got_packet && !soft[0])
    snprintf(soft, sizeof soft, "expect_disconnect: closed without the required %s",
             r->v == MQC_V5 ? "DISCONNECT/CONNACK" : "CONNACK");
  if (soft[0]) judge_closed(r, st, soft);
  return 0;
}

/* A positive control: the client's connection (opened and accepted first if
 * needed) answers PINGREQ with PINGRESP, so the server was working. */
static int do_control(mqs__run *r, const mqs_step *st) {
  unsigned idx = st->client;
  if (!r->cl[idx].open) {
    mqs_step conn = *st;
    conn.kind = MQS_STEP_CONNECT;
    conn.node = NULL;
    conn.connack = NULL;
    conn.no_connack = false;
    if (do_connect(r, &conn, false)) return -1;
  }
  uint8_t buf[2];
  mqc_packet ping;
  mqc_packet_init(&ping, MQC_PINGREQ, r->v);
  size_t len = 0;
  if (mqc_encode(&ping, r->v, buf, sizeof buf, &len) != MQC_OK)
    return mqs__end(r, st, MQS_ERROR, false, "cannot encode PINGREQ");
  if (send_bytes(r, st, idx, buf, len, "PINGREQ")) return -1;
  mqs__rx *rx = mqs__next(r, idx, step_deadline(r, st));
  if (!rx) {
    char why[300];
    why_nothing(r, idx, why, sizeof why);
    if (r->cl[idx].open) mqs__judged(r, st, "MQTT-3.12.4-1", true);
    return mqs__end(r, st, MQS_FAIL, false, "control: expected PINGRESP on '%s', %s", cname(r, idx),
                    why);
  }
  mqs__judged(r, st, "MQTT-3.12.4-1", rx->bad || rx->pkt.type != MQC_PINGRESP);
  if (rx->bad || rx->pkt.type != MQC_PINGRESP) {
    char got[900];
    describe_rx(r, rx, got, sizeof got);
    return mqs__end(r, st, MQS_FAIL, false, "control: expected PINGRESP on '%s', received %s",
                    cname(r, idx), got);
  }
  mqs__consume(r, idx);
  mqs__positive(r);
  return 0;
}

static int do_send_hex(mqs__run *r, const mqs_step *st) {
  char *txt = (char *)r->arena;
  char bad[64];
  long k = mqs_vars_expand(&r->vars, mqs__scalar(st->node), st->node->data.scalar.length, txt,
                           r->arena_cap / 2, bad);
  if (k < 0) return mqs__end(r, st, MQS_FAIL, false, "send_hex: unbound variable '%s'", bad);
  uint8_t *out = r->arena + r->arena_cap / 2;
  size_t n = 0;
  int hi = -1;
  for (long i = 0; i < k; i++) {
    char ch = txt[i];
    int v = ch >= '0' && ch <= '9'   ? ch - '0'
            : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
            : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                     : -1;
    if (v < 0) continue;
    if (hi < 0)
      hi = v;
    else
      out[n++] = (uint8_t)(hi << 4 | v), hi = -1;
  }
  char line[900];
  mqc_packet pkt;
  mqc_error err;
  if (mqc_decode(out, n, r->v, MQC_FROM_CLIENT, MQC_NO_LIMIT, &pkt, &err) == MQC_OK) {
    mqs__packet_line(&pkt, r->v, line, sizeof line);
  } else {
    size_t l = (size_t)snprintf(line, sizeof line, "RAW[");
    for (size_t i = 0; i < n && l + 8 < sizeof line; i++)
      l += (size_t)snprintf(line + l, sizeof line - l, "%02x", out[i]);
    snprintf(line + l, sizeof line - l, "]");
  }
  return send_bytes(r, st, st->client, out, n, line);
}

/* Cross-node propagation as a deadline, measured: `from` publishes QoS 0
 * sentinels on the topic every SYNC_EVERY_MS until the step's client (which
 * subscribed to it) receives one, within the cluster's propagation bound.
 * Repeating them covers clusters that learn of a subscription late (a route
 * replicated after SUBACK); the receive path drops the ones still in flight
 * afterwards. What it proves: anything `from` sent before the sentinel that
 * arrived has been routed across (MQTT-4.6.0-6 / -5 ordering). */
#define SYNC_EVERY_MS 20u
static int do_sync(mqs__run *r, const mqs_step *st) {
  unsigned idx = st->client, from = st->fence_from;
  char topic[MQS_VAR_VALUE_MAX], bad[64];
  long tn = mqs_vars_expand(&r->vars, mqs__scalar(st->fence_topic),
                            st->fence_topic->data.scalar.length, topic, sizeof topic, bad);
  if (tn < 0) return mqs__end(r, st, MQS_FAIL, false, "sync: unbound variable '%s'", bad);
  uint64_t bound = r->propagation
                       ? r->propagation
                       : mqs__scaled(r, r->o->propagation_ms ? r->o->propagation_ms
                                                             : MQS_PROPAGATION_DEFAULT_MS);
  uint64_t t0 = now(r), deadline = t0 + bound, next = t0;
  r->sync_got[idx] = 0;
  if (!r->cl[from].open)
    return mqs__end(r, st, MQS_FAIL, false, "sync: '%s' is not connected", cname(r, from));
  for (unsigned k = 0; r->sync_got[idx] != st->line; k++) {
    if (now(r) >= next) {
      char payload[40], line[MQS_VAR_VALUE_MAX + 100];
      uint8_t buf[MQS_VAR_VALUE_MAX + 64];
      size_t len = 0;
      snprintf(payload, sizeof payload, "mqcheck-sync-%u-%u", st->line, k);
      mqc_packet p;
      mqc_packet_init(&p, MQC_PUBLISH, r->v);
      p.publish.topic = (mqc_bytes){(const uint8_t *)topic, (size_t)tn};
      p.publish.payload = mqc_cstr(payload);
      if (mqc_encode(&p, r->v, buf, sizeof buf, &len) != MQC_OK)
        return mqs__end(r, st, MQS_ERROR, false, "sync: cannot encode");
      snprintf(line, sizeof line, "PUBLISH (sync sentinel %s on %s)", payload, topic);
      if (send_bytes(r, st, from, buf, len, line)) return -1;
      next = now(r) + mqs__scaled(r, SYNC_EVERY_MS);
      r->ops->wait(r->t, now(r), &r->sink); /* what is there already, without waiting */
      continue;
    }
    if (!r->cl[idx].open || now(r) >= deadline) {
      char why[300];
      why_nothing(r, idx, why, sizeof why);
      mqs__buf_printf(&r->detail,
                      "  expected:   a sync sentinel from '%s' (node %s) on '%s' (node %s)\n"
                      "  received:   nothing within %llu ms (%s)\n",
                      cname(r, from), node_name(r, from), cname(r, idx), node_name(r, idx),
                      (unsigned long long)bound, why);
      if (!r->cl[idx].open)
        return mqs__end(r, st, MQS_FAIL, false, "sync: '%s' is not connected (%s)", cname(r, idx),
                        why);
      return mqs__end(r, st, MQS_FAIL, false,
                      "propagation from node %s ('%s') to node %s ('%s') never happened within "
                      "the bound of %llu ms (profile cluster: propagation_ms)",
                      node_name(r, from), cname(r, from), node_name(r, idx), cname(r, idx),
                      (unsigned long long)bound);
    }
    uint64_t until = next < deadline ? next : deadline;
    r->ops->wait(r->t, until, &r->sink);
  }
  double took = (double)(now(r) - t0);
  mqs__tr_add(&r->tr, now(r), idx, '!', "propagated from node %s to node %s in %.0f ms",
              node_name(r, from), node_name(r, idx), took);
  if (!r->res->has_propagation || took > r->res->propagation_ms) r->res->propagation_ms = took;
  r->res->has_propagation = true;
  mqs__positive(r);
  return 0;
}

static void let_time_pass(mqs__run *r, uint64_t deadline) {
  while (now(r) < deadline) {
    if (!r->ops->virtual_clock && now(r) >= r->case_deadline) return;
    r->ops->wait(r->t, deadline, &r->sink);
  }
}

int mqs__step(mqs__run *r, const mqs_step *st) {
  mqs_arena arena = {r->arena, r->arena_cap, 0};
  mqc_packet pkt;
  mqc_faults faults;
  unsigned idx = st->client;
  switch (st->kind) {
  case MQS_STEP_OPEN:
    if (r->cl[idx].open)
      return mqs__end(r, st, MQS_FAIL, false, "open: '%s' is already open", cname(r, idx));
    return open_client(r, st, idx);
  case MQS_STEP_CONNECT:
    return do_connect(r, st, false);
  case MQS_STEP_RECONNECT:
    return do_connect(r, st, true);
  case MQS_STEP_SEND:
    if (build(r, st, st->node, MQC_RESERVED0, &arena, &pkt, &faults)) return -1;
    return encode_send(r, st, idx, &arena, &pkt, &faults);
  case MQS_STEP_SEND_HEX:
    return do_send_hex(r, st);
  case MQS_STEP_EXPECT:
    if (st->peek) return expect_peek(r, st);
    if (st->any_of || st->ignore_others || st->or_close) return expect_flex(r, st);
    return expect_one(r, st, idx, st->node, step_deadline(r, st), "expect", NULL);
  case MQS_STEP_EXPECT_ALL:
    return do_expect_all(r, st);
  case MQS_STEP_EXPECT_NONE:
    return do_expect_none(r, st);
  case MQS_STEP_EXPECT_DISCONNECT:
    return do_expect_disconnect(r, st);
  case MQS_STEP_DISCONNECT:
    if (build(r, st, st->node, MQC_DISCONNECT, &arena, &pkt, &faults)) return -1;
    if (encode_send(r, st, idx, &arena, &pkt, &faults)) return -1;
    if (r->cl[idx].open) {
      r->ops->close(r->t, idx, false, &r->sink);
      r->cl[idx].open = false;
      mqs__tr_add(&r->tr, now(r), idx, '!', "closed by the client");
    }
    return 0;
  case MQS_STEP_DROP:
    if (r->cl[idx].open) {
      r->ops->close(r->t, idx, true, &r->sink);
      r->cl[idx].open = false;
      mqs__tr_add(&r->tr, now(r), idx, '!', "network dropped (abrupt close)");
    }
    return 0;
  case MQS_STEP_WAIT:
    let_time_pass(r, now(r) + mqs__scaled(r, st->ms));
    return 0;
  case MQS_STEP_CONTROL:
    return do_control(r, st);
  case MQS_STEP_SYNC:
    return do_sync(r, st);
  }
  assert(0 && "unknown step kind");
  return -1;
}
