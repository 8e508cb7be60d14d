/* run.c - runs cases: per-case setup (variables, target instance), the
 * receive path (framing, decoding, transcript), verdicts, and the worker
 * threads of mqs_run_cases. */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"

#define ARENA_CAP (1u << 20)
#define RX_MAX    (16u << 20) /* per client: a flooding broker is cut off here */
#define QUEUE_MAX 100000

static double wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

uint64_t mqs__scaled(const mqs__run *r, uint32_t ms) {
  double v = (double)ms * r->scale;
  return v < 1 ? 1 : (uint64_t)v;
}

void mqs__packet_line(const mqc_packet *p, mqc_version v, char *out, size_t cap) {
  if (p->type == MQC_CONNECT && p->connect.has_password) {
    mqc_packet copy = *p;
    copy.connect.password = mqc_cstr("***");
    mqc_print_line(&copy, v, out, cap);
    return;
  }
  mqc_print_line(p, v, out, cap);
}

void mqs__client_reset(mqs__client *c) {
  for (size_t i = 0; i < c->q_n; i++)
    free(c->q[i].bytes);
  free(c->q);
  free(c->rx);
  uint32_t closes = c->closes;
  uint64_t closed_at = c->closed_at;
  bool ever = c->ever_opened;
  memset(c, 0, sizeof *c);
  c->closes = closes;
  c->closed_at = closed_at;
  c->ever_opened = ever;
}

/* ---- receive path (target callbacks) ---- */

/* A sync step's sentinel (QoS 0, payload "mqcheck-sync-LINE-K"): the
 * harness's own traffic, recorded for the sync step and kept out of the
 * queue, so the later ones still in flight disturb no expectation. */
static bool sync_sentinel(mqs__run *r, unsigned idx, const mqc_packet *p) {
  static const char pre[] = "mqcheck-sync-";
  if (p->type != MQC_PUBLISH || p->publish.qos != 0 || p->publish.payload.n < sizeof pre ||
      p->publish.payload.n > 40 || memcmp(p->publish.payload.p, pre, sizeof pre - 1))
    return false;
  char text[41];
  memcpy(text, p->publish.payload.p, p->publish.payload.n);
  text[p->publish.payload.n] = '\0';
  r->sync_got[idx] = (unsigned)strtoul(text + sizeof pre - 1, NULL, 10);
  mqs__tr_add(&r->tr, r->ops->now(r->t), idx, '<', "sync sentinel %s", text);
  return true;
}

/* A PUBLISH naming its topic by a Topic Alias alone (5.0) is read with the
 * topic that alias was last given on this connection (the queue holds every
 * packet since it opened), so the checks after it judge what was delivered,
 * not how it was spelt: whether an alias was allowed there is the statement
 * of the checks about aliases (`no_properties: [topic_alias]`). Returns the
 * alias resolved, or 0. The view borrows the earlier packet's bytes, which
 * live as long as the queue. */
static uint32_t resolve_alias(const mqs__client *c, mqs__rx *e) {
  mqc_prop alias, a;
  if (e->bad || e->pkt.type != MQC_PUBLISH || e->pkt.publish.topic.n ||
      !mqc_props_get(&e->pkt.publish.props, MQC_PROP_TOPIC_ALIAS, &alias))
    return 0;
  for (size_t i = c->q_n; i-- > 0;) {
    const mqs__rx *o = &c->q[i];
    if (!o->bad && o->pkt.type == MQC_PUBLISH && o->pkt.publish.topic.n &&
        mqc_props_get(&o->pkt.publish.props, MQC_PROP_TOPIC_ALIAS, &a) && a.u == alias.u) {
      e->pkt.publish.topic = o->pkt.publish.topic;
      return alias.u;
    }
  }
  return 0;
}

static void push_packet(mqs__run *r, unsigned idx, const uint8_t *p, size_t n) {
  mqs__client *c = &r->cl[idx];
  uint64_t now = r->ops->now(r->t);
  if (c->q_n == QUEUE_MAX) {
    c->poisoned = true;
    snprintf(c->poison_msg, sizeof c->poison_msg, "more than %d unread packets", QUEUE_MAX);
    return;
  }
  if (c->q_n == c->q_cap) {
    size_t cap = c->q_cap ? c->q_cap * 2 : 16;
    mqs__rx *q = realloc(c->q, cap * sizeof *q);
    if (!q) return;
    /* views inside decoded packets point into bytes, which do not move */
    c->q = q;
    c->q_cap = cap;
  }
  mqs__rx *e = &c->q[c->q_n];
  memset(e, 0, sizeof *e);
  e->bytes = malloc(n ? n : 1);
  if (!e->bytes) return;
  memcpy(e->bytes, p, n);
  e->len = n;
  e->t = now;
  r->res->packets++;
  if (mqc_decode(e->bytes, n, r->v, MQC_FROM_SERVER, MQC_NO_LIMIT, &e->pkt, &e->err) != MQC_OK) {
    e->bad = true;
  } else if (e->pkt.type == MQC_CONNACK && c->connacked && r->v == MQC_V5 &&
             r->cur < r->s->n_steps) {
    /* A second CONNACK breaks MQTT-3.2.0-2 and nothing the case's checks are
     * about: judged here and kept from them, so the case goes on. */
    mqs__judged(r, &r->s->steps[r->cur], "MQTT-3.2.0-2", true);
    mqs__tr_add(&r->tr, now, idx, '<', "a second CONNACK on this connection (MQTT-3.2.0-2)");
    free(e->bytes);
    return;
  } else if (r->s->has_sync && sync_sentinel(r, idx, &e->pkt)) {
    free(e->bytes); /* never queued: no expectation of the scenario sees it */
    return;
  }
  if (!e->bad && e->pkt.type == MQC_CONNACK) {
    c->connacked = true;
    c->refusal = e->pkt.connack.reason != 0;
  }
  if (e->bad) {
    char hex[97];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < sizeof hex; i++)
      k += (size_t)snprintf(hex + k, 3, "%02x", p[i]);
    mqs__tr_add(
        &r->tr, now, idx, '<', "INVALID %s: %s%s%s [%s%s]", mqc_type_name((mqc_type)(p[0] >> 4)),
        e->err.message ? e->err.message : mqc_strerror(e->err.status), e->err.statement ? " " : "",
        e->err.statement ? e->err.statement : "", hex, n * 2 + 1 > sizeof hex ? "..." : "");
  } else {
    uint32_t alias = resolve_alias(c, e);
    char line[900];
    mqs__packet_line(&e->pkt, r->v, line, sizeof line);
    mqs__tr_add(&r->tr, now, idx, '<', "%s", line);
    if (alias)
      mqs__tr_add(&r->tr, now, idx, '!', "(topic empty on the wire: read from Topic Alias %u)",
                  (unsigned)alias);
  }
  c->q_n++;
}

static void on_data(void *ctx, unsigned idx, const uint8_t *p, size_t n) {
  mqs__run *r = ctx;
  assert(idx < r->s->n_clients);
  mqs__client *c = &r->cl[idx];
  if (c->poisoned || !n) return;
  if (c->rx_n + n > RX_MAX) {
    c->poisoned = true;
    snprintf(c->poison_msg, sizeof c->poison_msg, "over %u unframed bytes", RX_MAX);
    return;
  }
  if (c->rx_n + n > c->rx_cap) {
    size_t cap = c->rx_cap ? c->rx_cap : 4096;
    while (cap < c->rx_n + n)
      cap *= 2;
    uint8_t *b = realloc(c->rx, cap);
    if (!b) return;
    c->rx = b;
    c->rx_cap = cap;
  }
  memcpy(c->rx + c->rx_n, p, n);
  c->rx_n += n;
  size_t off = 0;
  for (;;) {
    mqc_frame f;
    mqc_error err;
    mqc_status st = mqc_frame_packet(c->rx + off, c->rx_n - off, r->v, MQC_NO_LIMIT, &f, &err);
    if (st == MQC_INCOMPLETE) break;
    if (st != MQC_OK) {
      c->poisoned = true;
      snprintf(c->poison_msg, sizeof c->poison_msg,
               "the server sent bytes that are not an MQTT "
               "packet (%s%s%s)",
               err.message ? err.message : mqc_strerror(st), err.statement ? ", " : "",
               err.statement ? err.statement : "");
      mqs__tr_add(&r->tr, r->ops->now(r->t), idx, '<', "GARBAGE: %s", c->poison_msg);
      break;
    }
    push_packet(r, idx, c->rx + off, f.total_len);
    off += f.total_len;
  }
  memmove(c->rx, c->rx + off, c->rx_n - off);
  c->rx_n -= off;
}

static void on_closed(void *ctx, unsigned idx, bool transport_error, const char *msg) {
  mqs__run *r = ctx;
  assert(idx < r->s->n_clients);
  mqs__client *c = &r->cl[idx];
  if (!c->open) return;
  c->open = false;
  c->closes++;
  c->closed_at = r->ops->now(r->t);
  c->transport_error = transport_error;
  snprintf(c->close_msg, sizeof c->close_msg, "%s", msg);
  mqs__tr_add(&r->tr, r->ops->now(r->t), idx, '!', "%s%s",
              transport_error ? "TRANSPORT ERROR: " : "", msg);
}

static void on_note(void *ctx, unsigned idx, const char *msg) {
  mqs__run *r = ctx;
  mqs__tr_add(&r->tr, r->ops->now(r->t), idx, '!', "%s", msg);
}

/* ---- waiting ---- */

mqs__rx *mqs__next(mqs__run *r, unsigned idx, uint64_t deadline) {
  mqs__client *c = &r->cl[idx];
  if (deadline > r->case_deadline) deadline = r->case_deadline;
  for (;;) {
    if (c->q_head < c->q_n) return &c->q[c->q_head];
    if (!c->open || c->poisoned) return NULL;
    if (r->ops->now(r->t) >= deadline) return NULL;
    r->ops->wait(r->t, deadline, &r->sink);
  }
}

void mqs__consume(mqs__run *r, unsigned idx) {
  mqs__client *c = &r->cl[idx];
  assert(c->q_head < c->q_n);
  c->q_head++;
}

static void set_message(mqs__run *r, const mqs_step *st, const char *msg) {
  mqs_result *res = r->res;
  if (res->message) return; /* the first failure is the headline */
  res->step_line = st ? st->line : 0;
  size_t n = strlen(msg) + 1;
  res->message = malloc(n);
  if (res->message) memcpy(res->message, msg, n);
}

int mqs__end(mqs__run *r, const mqs_step *st, mqs_verdict v, bool transport, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  assert(v == MQS_FAIL || v == MQS_ERROR);
  r->stopped = true;
  if (v == MQS_ERROR) {
    r->errored = true;
    r->transport |= transport;
    free(r->res->message); /* an error explains the whole case */
    r->res->message = NULL;
  } else if (st) {
    r->step_state[r->cur] = MQS__STEP_FAILED;
  }
  set_message(r, st, msg);
  return -1;
}

int mqs__fail_soft(mqs__run *r, const mqs_step *st, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  r->step_state[r->cur] = MQS__STEP_FAILED;
  mqs__buf_printf(&r->detail, "  check at line %u failed, the case went on: %s\n", st->line, msg);
  set_message(r, st, msg);
  return 0;
}

void mqs__positive(mqs__run *r) {
  r->any_positive = true;
  r->negative_line = 0;
}

void mqs__negative(mqs__run *r, const mqs_step *st) {
  r->negative_line = st->line;
}

/* Duties the catalog states twice, where the runner judges the first: a
 * failure of one is a failure of the other (a pass stays with the first,
 * as the case cites it). */
static const struct {
  bool v5;
  const char *id, *again;
} restated[] = {
    {false, "MQTT-3.3.1-2", "MQTT-4.3.1-1"}, /* QoS 0: DUP 0 */
    {true, "MQTT-3.3.1-2", "MQTT-4.3.1-1"},
    {true, "MQTT-4.3.2-4", "MQTT-3.3.4-1"}, /* the acknowledgement a QoS calls for */
    {true, "MQTT-4.3.3-8", "MQTT-3.3.4-1"},
};

static void judged_one(mqs__run *r, const mqs_step *st, const char *id, bool fail);

void mqs__judged(mqs__run *r, const mqs_step *st, const char *id, bool fail) {
  judged_one(r, st, id, fail);
  for (size_t i = 0; fail && i < sizeof restated / sizeof restated[0]; i++)
    if (restated[i].v5 == (r->v == MQC_V5) && !strcmp(restated[i].id, id))
      judged_one(r, st, restated[i].again, true);
}

static void judged_one(mqs__run *r, const mqs_step *st, const char *id, bool fail) {
  for (size_t i = 0; i < r->n_extra; i++)
    if (!strcmp(r->extra[i].id, id)) {
      if (fail && !r->extra[i].fail) {
        r->extra[i].fail = true;
        r->extra[i].line = st->line;
      }
      return;
    }
  if (r->n_extra == sizeof r->extra / sizeof r->extra[0]) return;
  r->extra[r->n_extra].id = id;
  r->extra[r->n_extra].fail = fail;
  r->extra[r->n_extra].line = fail ? st->line : 0;
  r->n_extra++;
}

/* Per-statement verdicts from the step states, then the case verdict: FAIL
 * when a statement failed or a check that verifies none (a precondition)
 * failed, or when nothing that had to arrive arrived after the last absence
 * check; ERROR when the case could not be judged. */
static void judge(mqs__run *r) {
  const mqs_scenario *s = r->s;
  unsigned vb = r->c->version, b = mqs_version_slot(vb);
  mqs_result *res = r->res;
  bool any_fail = false, unchecked = false;
  for (size_t k = 0; k < s->n_rules[b] && res->n_stmts < MQS_STMTS_MAX; k++) {
    const char *id = s->rules[b][k];
    bool fail = false, pending = false, passed = false;
    unsigned line = 0;
    for (size_t i = 0; i < s->n_steps; i++) {
      if (!mqs_step_claims(s, &s->steps[i], vb, id)) continue;
      switch (r->step_state[i]) {
      case MQS__STEP_FAILED:
        if (!fail) line = s->steps[i].line;
        fail = true;
        break;
      case MQS__STEP_PASSED:
        passed = true;
        break;
      case MQS__STEP_NOT_RUN:
        pending = true;
        break;
      default:
        break;
      }
    }
    for (size_t e = 0; e < r->n_extra; e++)
      if (!strcmp(r->extra[e].id, id)) {
        passed = true;
        if (r->extra[e].fail && !fail) fail = true, line = r->extra[e].line;
        r->extra[e].id = ""; /* merged */
      }
    mqs_stmt_verdict v = fail                                   ? MQS_ST_FAIL
                         : (pending || (r->stopped && !passed)) ? MQS_ST_NOT_REACHED
                         : passed                               ? MQS_ST_PASS
                                                                : MQS_ST_NOT_CHECKED;
    any_fail |= fail;
    unchecked |= v == MQS_ST_NOT_CHECKED;
    res->stmts[res->n_stmts++] = (mqs_stmt_result){id, v, line};
  }
  for (size_t e = 0; e < r->n_extra && res->n_stmts < MQS_STMTS_MAX; e++) {
    if (!r->extra[e].id[0]) continue;
    any_fail |= r->extra[e].fail;
    res->stmts[res->n_stmts++] = (mqs_stmt_result){
        r->extra[e].id, r->extra[e].fail ? MQS_ST_FAIL : MQS_ST_PASS, r->extra[e].line};
  }
  /* a failed check that verifies no statement: a precondition */
  bool precondition = false;
  for (size_t i = 0; i < s->n_steps && !precondition; i++) {
    if (r->step_state[i] != MQS__STEP_FAILED) continue;
    bool claims = false;
    for (size_t k = 0; k < s->n_rules[b] && !claims; k++)
      claims = mqs_step_claims(s, &s->steps[i], vb, s->rules[b][k]);
    precondition = !claims;
  }
  if (r->errored) {
    res->verdict = MQS_ERROR;
    res->transport = r->transport;
    for (size_t k = 0; k < res->n_stmts; k++)
      if (res->stmts[k].verdict != MQS_ST_FAIL) res->stmts[k].verdict = MQS_ST_NOT_REACHED;
    return;
  }
  if (any_fail || precondition || r->stopped) {
    res->verdict = MQS_FAIL;
    if (!res->message) set_message(r, NULL, "a check failed");
    return;
  }
  char msg[300];
  bool any_pass = false; /* among the cited statements */
  for (size_t k = 0; k < res->n_stmts && k < s->n_rules[b]; k++)
    any_pass |= res->stmts[k].verdict == MQS_ST_PASS;
  /* alternatives (`if:` branches) may leave some statements unchecked, but
   * a case that checked none proves nothing */
  if (unchecked && !any_pass) {
    for (size_t k = 0; k < res->n_stmts; k++)
      if (res->stmts[k].verdict == MQS_ST_NOT_CHECKED) {
        snprintf(msg, sizeof msg,
                 "%s was not checked: no step verifying it ran (its if: conditions did not hold)",
                 res->stmts[k].id);
        break;
      }
  } else if (!r->any_positive || r->negative_line) {
    res->no_positive = true;
    if (r->negative_line)
      snprintf(msg, sizeof msg,
               "no positive control: nothing had to arrive after the check at line %u, so a "
               "silent or closing server would pass",
               r->negative_line);
    else
      snprintf(msg, sizeof msg,
               "no positive control: nothing besides CONNACK had to arrive, so a server that "
               "goes silent would pass");
    for (size_t k = 0; k < res->n_stmts; k++)
      if (res->stmts[k].verdict == MQS_ST_PASS) res->stmts[k].verdict = MQS_ST_NOT_CHECKED;
  } else {
    res->verdict = MQS_PASS;
    return;
  }
  res->verdict = MQS_FAIL;
  if (res->message) return;
  set_message(r, NULL, msg);
  /* the line a reader fixes: the absence check left last, else the case itself */
  res->step_line = r->negative_line ? r->negative_line : s->line;
}

/* ---- one case ---- */

static void render_detail(mqs__run *r) {
  mqs__buf out = {0};
  const mqs_scenario *s = r->s;
  char id[300];
  mqs_case_id(r->c, id, sizeof id);
  mqs__buf_printf(&out, "%s %s (%s:%u)\n",
                  r->res->verdict == MQS_PASS    ? "PASS"
                  : r->res->verdict == MQS_ERROR ? "ERROR"
                                                 : "FAIL",
                  id, s->path, s->line);
  if (s->description[0]) mqs__buf_printf(&out, "  about:      %s\n", s->description);
  mqs__buf_printf(&out, "  statements:");
  for (size_t i = 0; i < r->res->n_stmts; i++) {
    const mqs_stmt_result *st = &r->res->stmts[i];
    mqs__buf_printf(&out, " %s %s", st->id, mqs_stmt_verdict_name(st->verdict));
    if (st->line) mqs__buf_printf(&out, " (line %u)", st->line);
    mqs__buf_printf(&out, "%s", i + 1 < r->res->n_stmts ? "," : "");
  }
  mqs__buf_printf(&out, "\n");
  if (r->res->message)
    mqs__buf_printf(&out, "  at:         %s:%u: %s\n", s->path, r->res->step_line, r->res->message);
  if (r->detail.n) mqs__buf_printf(&out, "%s", r->detail.p);
  mqs__buf_printf(&out, "  transcript (MQTT %s, time on the %s clock, -> sent, <- received):\n",
                  mqs_version_label(r->c->version), r->ops->virtual_clock ? "virtual" : "real");
  mqs__tr_render(&r->tr, s, r->t0, &out);
  free(r->res->detail);
  r->res->detail = mqs__buf_take(&out);
}

/* The first statement step st presumes that has failed so far in the case
 * (a step claiming it failed, or it was judged failed), or NULL. */
static const char *presumed_failed(const mqs__run *r, const mqs_step *st) {
  unsigned vb = r->c->version, b = mqs_version_slot(vb);
  for (size_t k = 0; k < st->n_presumes[b]; k++) {
    const char *id = st->presumes[b][k];
    for (size_t e = 0; e < r->n_extra; e++)
      if (r->extra[e].fail && !strcmp(r->extra[e].id, id)) return id;
    for (size_t i = 0; i < r->s->n_steps; i++)
      if (r->step_state[i] == MQS__STEP_FAILED && mqs_step_claims(r->s, &r->s->steps[i], vb, id))
        return id;
  }
  return NULL;
}

/* `if: {VAR: VALUE}`: every variable is bound and equals its value (after
 * expansion of the value). */
static bool cond_holds(mqs__run *r, yaml_node_t *cond) {
  yaml_document_t *doc = (yaml_document_t *)&r->s->doc;
  for (yaml_node_pair_t *p = cond->data.mapping.pairs.start; p < cond->data.mapping.pairs.top;
       p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key),
                *v = yaml_document_get_node(doc, p->value);
    size_t have_n;
    const char *have = mqs_vars_get(&r->vars, mqs__scalar(k), &have_n);
    char want[MQS_VAR_VALUE_MAX], bad[64];
    long n =
        mqs_vars_expand(&r->vars, mqs__scalar(v), v->data.scalar.length, want, sizeof want, bad);
    if (!have || n < 0 || (size_t)n != have_n || memcmp(have, want, have_n)) return false;
  }
  return true;
}

static void client_prefixes(const mqs_run_opts *o, size_t index, char *cp, size_t cpn, char *tp,
                            size_t tpn) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  char idx[16];
  size_t k = 0, v = index;
  do {
    idx[k++] = digits[v % 36];
    v /= 36;
  } while (v && k < sizeof idx - 1);
  char rev[16];
  for (size_t i = 0; i < k; i++)
    rev[i] = idx[k - 1 - i];
  rev[k] = '\0';
  const char *run = o->run_id ? o->run_id : "mqc";
  snprintf(cp, cpn, "%s-%s-", run, rev);
  snprintf(tp, tpn, "mqc/%s/%s/", run, rev);
}

static void unjudged_stmts(const mqs_case *c, mqs_result *res, mqs_stmt_verdict v) {
  unsigned b = mqs_version_slot(c->version);
  for (size_t k = 0; k < c->scenario->n_rules[b] && k < MQS_STMTS_MAX; k++)
    res->stmts[res->n_stmts++] = (mqs_stmt_result){c->scenario->rules[b][k], v, 0};
}

void mqs_run_case(const mqs_case *c, size_t index, const mqs_run_opts *o, mqs_result *res) {
  memset(res, 0, sizeof *res);
  double w0 = wall_ms();
  const mqs_scenario *s = c->scenario;
  uint32_t missing = s->requires & ~o->caps;
  if (missing) {
    mqs__buf b = {0};
    mqs__buf_printf(&b, "target lacks");
    for (int i = 0; i < MQS_CAP_COUNT; i++)
      if (missing & (1u << i)) mqs__buf_printf(&b, " %s", mqs_cap_name((mqs_cap)i));
    res->verdict = MQS_SKIP;
    res->message = mqs__buf_take(&b);
    unjudged_stmts(c, res, MQS_ST_SKIP);
    return;
  }
  uint32_t cmissing = s->cluster_needs & ~o->cluster;
  if (cmissing) {
    mqs__buf b = {0};
    if (cmissing & MQS_CLUSTER)
      mqs__buf_printf(&b, "needs a cluster target: two or more nodes "
                          "(--target NAME=URL --target NAME=URL, docs/cluster.md)");
    else
      for (uint32_t bit = MQS_CLUSTER_TAKEOVER; bit <= MQS_CLUSTER_SESSION_RESUME; bit <<= 1)
        if (cmissing & bit)
          mqs__buf_printf(&b, "%sthe topology does not promise %s (profile cluster: %s: false)",
                          b.n ? "; " : "", mqs_cluster_need_name(bit),
                          bit == MQS_CLUSTER_TAKEOVER ? "takeover" : "session_resume");
    res->verdict = MQS_SKIP;
    res->message = mqs__buf_take(&b);
    unjudged_stmts(c, res, MQS_ST_SKIP);
    return;
  }
  if (o->spoken && !(o->spoken & c->version)) {
    mqs__buf b = {0};
    mqs__buf_printf(&b, "the target does not speak MQTT %s (%s)", mqs_version_label(c->version),
                    o->unspoken_why ? o->unspoken_why : "refused in the preflight");
    res->verdict = MQS_SKIP;
    res->message = mqs__buf_take(&b);
    unjudged_stmts(c, res, MQS_ST_SKIP);
    return;
  }
  if (o->run_deadline_ms && (uint64_t)wall_ms() > o->run_deadline_ms) {
    res->verdict = MQS_ERROR;
    const char *m = "not run: the run's global deadline passed";
    res->message = malloc(strlen(m) + 1);
    if (res->message) strcpy(res->message, m);
    unjudged_stmts(c, res, MQS_ST_NOT_REACHED);
    return;
  }
  mqs__run *r = calloc(1, sizeof *r);
  uint8_t *arena = malloc(ARENA_CAP);
  uint8_t *state = calloc(s->n_steps + 1, 1);
  char err[300];
  if (!r || !arena || !state) {
    free(r);
    free(arena);
    free(state);
    res->verdict = MQS_ERROR;
    return;
  }
  r->step_state = state;
  r->c = c;
  r->s = s;
  r->o = o;
  r->res = res;
  r->v = mqs_version_codec(c->version);
  r->scale = o->timeout_scale > 0 ? o->timeout_scale : 1.0;
  r->arena = arena;
  r->arena_cap = ARENA_CAP;
  r->sink = (mqs_sink){on_data, on_closed, on_note, r};
  char cp[64], tp[64];
  client_prefixes(o, index, cp, sizeof cp, tp, sizeof tp);
  mqs__vars_builtins(&r->vars, c->version, cp, tp);
  int made = mqs__target_new(o->target, o, s, &r->vars, &r->ops, &r->t, err, sizeof err);
  if (!made && o->tap && mqs__tap_wrap(o->tap, &r->ops, &r->t)) {
    r->ops->destroy(r->t);
    snprintf(err, sizeof err, "out of memory");
    made = -1;
  }
  if (made) {
    res->verdict = MQS_ERROR;
    res->transport = true;
    size_t n = strlen(err) + 1;
    res->message = malloc(n);
    if (res->message) memcpy(res->message, err, n);
    unjudged_stmts(c, res, MQS_ST_NOT_REACHED);
    free(arena);
    free(state);
    free(r);
    return;
  }
  r->t0 = r->ops->now(r->t);
  if (s->cluster_needs && mqs_target_spec_n_nodes(o->target) > 1)
    r->propagation =
        mqs__scaled(r, o->propagation_ms ? o->propagation_ms : MQS_PROPAGATION_DEFAULT_MS);
  /* default deadline: 30 s plus every duration the scenario asks for */
  uint64_t budget = 30000 + (uint64_t)s->n_steps * r->propagation;
  for (size_t i = 0; i < s->n_steps; i++)
    budget += s->steps[i].ms + s->steps[i].timeout_ms;
  if (budget > 0xFFFFFFFFu) budget = 0xFFFFFFFFu;
  r->case_deadline =
      r->t0 + mqs__scaled(r, o->case_timeout_ms ? o->case_timeout_ms : (uint32_t)budget);
  if (r->ops->virtual_clock) r->case_deadline = UINT64_MAX; /* deterministic: no wall time */
  size_t loop_mark = SIZE_MAX; /* vars before the current repeat iteration */
  for (size_t i = 0; i < s->n_steps; i++) {
    const mqs_step *st = &s->steps[i];
    r->cur = i;
    if (st->loop_first) {
      /* a new iteration forgets the last one's captures, so ${p} captures
       * afresh; the counter is bound before the mark and survives */
      if (loop_mark != SIZE_MAX && st->loop_val > 1) r->vars.count = loop_mark;
      char num[16];
      int k = snprintf(num, sizeof num, "%u", st->loop_val);
      if (st->loop_var) (void)mqs_vars_set(&r->vars, st->loop_var, num, (size_t)k);
      if (st->loop_val == 1) loop_mark = r->vars.count;
    }
    if (!(st->versions & c->version)) {
      state[i] = MQS__STEP_SKIPPED;
      continue;
    }
    if (st->cond && !cond_holds(r, st->cond)) {
      state[i] = MQS__STEP_SKIPPED;
      mqs__tr_add(&r->tr, r->ops->now(r->t), st->client, '!',
                  "(step at line %u skipped: its if: "
                  "does not hold)",
                  st->line);
      continue;
    }
    r->step_no = i + 1;
    const char *broke = presumed_failed(r, st);
    if (broke) {
      /* the rest of the case presumes a statement that already failed: it
       * could only blame its own statements for that one */
      r->stopped = true;
      mqs__tr_add(&r->tr, r->ops->now(r->t), st->client, '!',
                  "(the case ends before the step at line %u: it presumes %s, which failed)",
                  st->line, broke);
      mqs__buf_printf(&r->detail,
                      "  the case ended before line %u: it presumes %s, which failed earlier\n",
                      st->line, broke);
      break;
    }
    if (!r->ops->virtual_clock && r->ops->now(r->t) >= r->case_deadline) {
      mqs__end(r, st, MQS_FAIL, false, "case deadline (%llu ms) passed before this step",
               (unsigned long long)(r->case_deadline - r->t0));
      break;
    }
    if (mqs__step(r, st)) break;
    if (state[i] == MQS__STEP_NOT_RUN) state[i] = MQS__STEP_PASSED;
  }
  judge(r);
  res->target_ms = r->ops->now(r->t) - r->t0;
  if (res->verdict != MQS_PASS || o->transcript_always) render_detail(r);
  r->ops->destroy(r->t);
  for (size_t i = 0; i < MQS__MAX_CLIENTS; i++)
    mqs__client_reset(&r->cl[i]);
  mqs__tr_free(&r->tr);
  mqs__buf_free(&r->detail);
  free(arena);
  free(state);
  free(r);
  res->wall_ms = wall_ms() - w0;
}

/* ---- parallel runs ---- */

/* The real time a case asks for (waits, timer windows, keep-alive closes
 * due at 1.5 x K): against a broker the run lasts at least as long as its
 * longest case after the moment that case starts, so the pool starts the
 * longest first. Only an estimate for ordering; verdicts never use it. */
static uint64_t case_weight(const mqs_case *c) {
  const mqs_scenario *s = c->scenario;
  yaml_document_t *doc = (yaml_document_t *)&s->doc;
  uint64_t w = 0;
  for (size_t i = 0; i < s->n_steps; i++) {
    const mqs_step *st = &s->steps[i];
    if (!(st->versions & c->version)) continue;
    w += st->ms;
    if (st->kind != MQS_STEP_EXPECT_DISCONNECT || !st->node) continue;
    yaml_node_t *ka = mqs__map_get(doc, st->node, "keep_alive");
    if (mqs__is_scalar(ka)) w += strtoull(mqs__scalar(ka), NULL, 10) * 1500u;
  }
  return w;
}

typedef struct {
  const mqs_case *cases;
  size_t n;
  const size_t *order; /* case indexes, longest first; NULL: as given */
  const mqs_run_opts *o;
  mqs_result *results;
  atomic_size_t next;
  void (*progress)(void *ctx, size_t i, const mqs_result *r);
  void *ctx;
} pool;

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    size_t k = atomic_fetch_add(&p->next, 1);
    if (k >= p->n) break;
    size_t i = p->order ? p->order[k] : k;
    mqs_run_case(&p->cases[i], i, p->o, &p->results[i]);
    if (p->progress) p->progress(p->ctx, i, &p->results[i]);
  }
  return NULL;
}

int mqs_run_cases(const mqs_case *cases, size_t n, const mqs_run_opts *o, mqs_result *results,
                  void (*progress)(void *ctx, size_t i, const mqs_result *r), void *ctx) {
  pool p = {cases, n, NULL, o, results, 0, progress, ctx};
  atomic_init(&p.next, 0);
  unsigned jobs = o->jobs ? o->jobs : 1;
  if (jobs > n) jobs = n ? (unsigned)n : 1;
  if (jobs > 256) jobs = 256;
  if (jobs == 1) {
    worker(&p);
    return 0;
  }
  /* Stable insertion sort by weight, longest first: few cases weigh
   * anything, and equal weights keep the given order. */
  size_t *order = malloc(n * sizeof *order);
  uint64_t *wt = malloc(n * sizeof *wt);
  if (order && wt) {
    for (size_t i = 0; i < n; i++) {
      uint64_t w = case_weight(&cases[i]);
      size_t j = i;
      for (; j > 0 && wt[j - 1] < w; j--)
        order[j] = order[j - 1], wt[j] = wt[j - 1];
      order[j] = i, wt[j] = w;
    }
    p.order = order;
  }
  pthread_t th[256];
  unsigned started = 0;
  for (; started < jobs; started++)
    if (pthread_create(&th[started], NULL, worker, &p)) break;
  if (started)
    for (unsigned i = 0; i < started; i++)
      pthread_join(th[i], NULL);
  free(order);
  free(wt);
  return started ? 0 : -1;
}
