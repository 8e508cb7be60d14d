/* target_engine.c - the in-process engine as a target, on a virtual clock.
 * Each case gets a fresh engine with a fixed seed, so a case gives the same
 * transcript on every run and waits of minutes take no real time. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "mqe.h"
#include "runner.h"

#define NOTES_MAX 64
#define T0        1000u

struct mqs_target {
  mqe_engine *e;
  uint64_t now;
  mqe_conn *conn[MQS__MAX_CLIENTS];
  /* configuration the engine borrows (from the scenario's `server:` block) */
  mqe_user users[MQS_SRV_MAX_USERS];
  mqe_auth_method auth;
  size_t n_deny;
  char deny[MQS_SRV_MAX_USERS][MQS_VAR_VALUE_MAX]; /* deny_publish, expanded */
  /* engine events, kept until the next drain (the callback may not call in) */
  size_t n_notes;
  struct {
    unsigned client;
    char text[200];
  } notes[NOTES_MAX];
};

static void on_event(void *ctx, const mqe_event *ev) {
  mqs_target *t = ctx;
  if (t->n_notes == NOTES_MAX) return;
  const char *what = NULL;
  switch (ev->type) {
  case MQE_EV_VIOLATION:
    what = "engine: client violation";
    break;
  case MQE_EV_CLOSED:
    what = "engine: closing";
    break;
  case MQE_EV_WILL:
    what = "engine: will published";
    break;
  case MQE_EV_SESSION_EXPIRED:
    what = "engine: session expired";
    break;
  case MQE_EV_TAKEOVER:
    what = "engine: session taken over";
    break;
  case MQE_EV_LIMIT:
    what = "engine: limit";
    break;
  default:
    return;
  }
  uintptr_t u = (uintptr_t)ev->conn_user;
  t->notes[t->n_notes].client = u ? (unsigned)(u - 1) : MQS__MAX_CLIENTS;
  snprintf(t->notes[t->n_notes].text, sizeof t->notes[0].text, "%s%s%s: %s", what,
           ev->statement ? " " : "", ev->statement ? ev->statement : "", ev->message);
  t->n_notes++;
}

/* Moves every output to the sink; closes connections the engine is done
 * with. Returns true when anything was delivered. */
static bool drain(mqs_target *t, const mqs_sink *sink) {
  bool any = false;
  for (size_t i = 0; i < t->n_notes; i++)
    sink->on_note(sink->ctx, t->notes[i].client, t->notes[i].text);
  t->n_notes = 0;
  mqe_conn *c;
  size_t guard = 0;
  while ((c = mqe_next_output(t->e)) && guard++ < 100000) {
    unsigned idx = (unsigned)((uintptr_t)mqe_conn_user(c) - 1);
    assert(idx < MQS__MAX_CLIENTS && t->conn[idx] == c);
    for (;;) {
      const uint8_t *buf;
      size_t len;
      mqe_conn_pending(c, &buf, &len);
      if (!len) break;
      sink->on_data(sink->ctx, idx, buf, len);
      mqe_conn_consumed(t->e, c, len, t->now);
      any = true;
    }
    if (mqe_conn_should_close(c)) {
      mqe_conn_close(t->e, c, false, t->now);
      t->conn[idx] = NULL;
      sink->on_closed(sink->ctx, idx, false, "closed by the server");
      any = true;
    }
  }
  for (size_t i = 0; i < t->n_notes; i++)
    sink->on_note(sink->ctx, t->notes[i].client, t->notes[i].text);
  t->n_notes = 0;
  return any;
}

/* One engine is every node: a single broker keeps each cross-node promise
 * trivially, which makes it the reference for the cluster cases too. */
static int e_open(mqs_target *t, unsigned idx, unsigned node, const mqs_sink *sink, char *err,
                  size_t cap) {
  (void)node;
  (void)sink;
  assert(idx < MQS__MAX_CLIENTS && !t->conn[idx]);
  mqe_status s = mqe_conn_open(t->e, (void *)(uintptr_t)(idx + 1), t->now, &t->conn[idx]);
  if (s != MQE_OK) {
    snprintf(err, cap, "engine refused the connection: %s", mqe_strerror(s));
    return -1;
  }
  return 0;
}

static int e_send(mqs_target *t, unsigned idx, const uint8_t *p, size_t n, const mqs_sink *sink,
                  bool *transport, char *err, size_t cap) {
  *transport = false;
  if (!t->conn[idx]) {
    snprintf(err, cap, "connection closed");
    return -1;
  }
  (void)mqe_conn_recv(t->e, t->conn[idx], p, n, t->now);
  drain(t, sink);
  return 0;
}

static void e_close(mqs_target *t, unsigned idx, bool abrupt, const mqs_sink *sink) {
  if (!t->conn[idx]) return;
  drain(t, sink);
  if (t->conn[idx]) {
    mqe_conn_close(t->e, t->conn[idx], abrupt, t->now);
    t->conn[idx] = NULL;
  }
  drain(t, sink);
}

static void e_wait(mqs_target *t, uint64_t deadline, const mqs_sink *sink) {
  if (drain(t, sink)) return;
  for (size_t guard = 0; guard < 1000000; guard++) {
    uint64_t d = mqe_next_deadline(t->e);
    if (d > deadline) break;
    if (d > t->now) t->now = d;
    mqe_tick(t->e, t->now);
    if (drain(t, sink)) return;
    if (mqe_next_deadline(t->e) <= t->now) t->now++; /* a timer that did not move */
  }
  if (deadline > t->now) t->now = deadline;
}

static uint64_t e_now(mqs_target *t) {
  return t->now;
}

static void e_destroy(mqs_target *t) {
  const char *inv = mqe_check_invariants(t->e);
  (void)inv; /* checked by the engine's own tests; a note would go nowhere */
  mqe_engine_free(t->e);
  free(t);
}

static const mqs_target_ops engine_ops = {
    "engine", e_open, e_send, e_close, e_wait, e_now, e_destroy, true, NULL,
};

/* deny_publish: PUBLISH (and wills) to exactly these topics is refused. */
static bool acl(void *ctx, mqe_acl_op op, mqc_bytes client_id, mqc_bytes username,
                mqc_bytes topic) {
  (void)client_id;
  (void)username;
  const mqs_target *t = ctx;
  if (op == MQE_ACL_SUBSCRIBE) return true;
  for (size_t i = 0; i < t->n_deny; i++)
    if (strlen(t->deny[i]) == topic.n && !memcmp(t->deny[i], topic.p, topic.n)) return false;
  return true;
}

/* The scenario's `server:` block on top of the engine's defaults. */
static void apply_server(mqs_target *t, const mqs_server_cfg *s, const mqs_vars *vars,
                         mqe_config *cfg) {
  if (!s) return;
  if (s->set & MQS_SRV_DENY_PUBLISH) {
    for (size_t i = 0; i < s->n_deny; i++) {
      char bad[64];
      const yaml_node_t *n = s->deny_publish[i];
      if (mqs_vars_expand(vars, (const char *)n->data.scalar.value, n->data.scalar.length,
                          t->deny[t->n_deny], sizeof t->deny[0], bad) >= 0)
        t->n_deny++;
    }
    cfg->acl = acl;
    cfg->acl_ctx = t;
  }
  if (s->set & MQS_SRV_MAXIMUM_PACKET_SIZE) cfg->maximum_packet_size = s->maximum_packet_size;
  if (s->set & MQS_SRV_RECEIVE_MAXIMUM) cfg->receive_maximum = s->receive_maximum;
  if (s->set & MQS_SRV_TOPIC_ALIAS_MAXIMUM) cfg->topic_alias_maximum = s->topic_alias_maximum;
  if (s->set & MQS_SRV_MAXIMUM_QOS) cfg->maximum_qos = s->maximum_qos;
  if (s->set & MQS_SRV_RETAIN_AVAILABLE) cfg->retain_available = s->retain_available;
  if (s->set & MQS_SRV_WILDCARD_AVAILABLE) cfg->wildcard_available = s->wildcard_available;
  if (s->set & MQS_SRV_SERVER_KEEP_ALIVE) cfg->server_keep_alive = s->server_keep_alive;
  if (s->set & MQS_SRV_ASSIGN_CLIENT_IDS) cfg->assign_client_ids = s->assign_client_ids;
  if (s->set & MQS_SRV_OUTBOUND_ALIASES) cfg->outbound_aliases = s->outbound_aliases;
  if (s->set & MQS_SRV_RESPONSE_INFORMATION) cfg->response_information = s->response_information;
  if (s->set & MQS_SRV_USERS) {
    for (size_t i = 0; i < s->n_users; i++)
      t->users[i] = (mqe_user){s->users[i].username, s->users[i].password};
    cfg->users = t->users;
    cfg->user_count = s->n_users;
    cfg->allow_anonymous = false;
  }
  if (s->set & MQS_SRV_AUTH_METHOD) {
    t->auth = mqe_auth_challenge_method(s->auth_secret);
    cfg->auth_methods = &t->auth;
    cfg->auth_method_count = 1;
  }
}

int mqs__engine_target_new(const mqs_server_cfg *server, const mqs_vars *vars, unsigned fault,
                           const mqs_target_ops **ops, mqs_target **out) {
  mqs_target *t = calloc(1, sizeof *t);
  if (!t) return -1;
  mqe_config cfg;
  mqe_config_default(&cfg);
  apply_server(t, server, vars, &cfg);
  cfg.seed = 0x6d71636865636bull;
  cfg.on_event = on_event;
  cfg.event_ctx = t;
  cfg.fault = fault;
  if (mqe_engine_new(&cfg, &t->e) != MQE_OK) {
    free(t);
    return -1;
  }
  t->now = T0;
  *ops = &engine_ops;
  *out = t;
  return 0;
}
