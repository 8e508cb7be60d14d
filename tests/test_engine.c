/* test_engine.c - engine unit tests on a virtual clock. Every test drives
 * the engine with encoded client packets and decodes the bytes it emits with
 * the codec (server-to-client direction), asserting on those packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqe.h"
#include "mqspec.h"

/* ---- counting, failure-injecting allocator ------------------------------ */
typedef struct {
  long allocs, live, fail_at; /* fail the fail_at-th allocation (1-based) */
  size_t bytes;
} talloc;

static void *t_malloc(void *ctx, size_t n) {
  talloc *a = ctx;
  a->allocs++;
  if (a->fail_at && a->allocs == a->fail_at) return NULL;
  a->live++;
  a->bytes += n;
  return malloc(n);
}
static void t_free(void *ctx, void *p, size_t n) {
  talloc *a = ctx;
  a->live--;
  a->bytes -= n;
  free(p);
}

/* ---- events ---------------------------------------------------------------- */
#define MAXEV 64
typedef struct {
  int n;
  long dropped; /* MQE_EV_DROPPED events, all of them */
  mqe_event_type type[MAXEV];
  char stmt[MAXEV][32];
  uint8_t reason[MAXEV];
} tevents;

static void on_event(void *ctx, const mqe_event *ev) {
  tevents *t = ctx;
  if (ev->type == MQE_EV_DROPPED) t->dropped++;
  if (t->n >= MAXEV) return;
  t->type[t->n] = ev->type;
  t->reason[t->n] = ev->reason;
  snprintf(t->stmt[t->n], sizeof t->stmt[0], "%s", ev->statement ? ev->statement : "");
  t->n++;
}

static bool saw_violation(const tevents *t, const char *stmt) {
  for (int i = 0; i < t->n; i++)
    if (t->type[i] == MQE_EV_VIOLATION && !strcmp(t->stmt[i], stmt)) return true;
  return false;
}

/* ---- test environment ---------------------------------------------------- */
typedef struct {
  mqe_engine *e;
  mqe_config cfg;
  talloc al;
  tevents ev;
  uint64_t now;
} env;

typedef struct {
  mqe_conn *c;
  mqc_version v;
  uint8_t buf[1 << 16];
  size_t len, off;
  uint8_t pkt[1 << 16]; /* copy of the last packet (views point here) */
  bool closed;
  bool hold; /* not reading: drain() leaves its output in the engine */
} client;

static void env_cfg(env *t) {
  memset(t, 0, sizeof *t);
  mqe_config_default(&t->cfg);
  t->cfg.alloc.malloc = t_malloc;
  t->cfg.alloc.free = t_free;
  t->cfg.alloc.ctx = &t->al;
  t->cfg.on_event = on_event;
  t->cfg.event_ctx = &t->ev;
  t->now = 1000;
}

static void env_start(env *t) {
  assert_int_equal(mqe_engine_new(&t->cfg, &t->e), MQE_OK);
}

static void env_init(env *t) {
  env_cfg(t);
  env_start(t);
}

static void env_done(env *t) {
  assert_null(mqe_check_invariants(t->e));
  mqe_engine_free(t->e);
  assert_int_equal(t->al.live, 0);
  assert_int_equal(t->al.bytes, 0);
}

static void check(env *t) {
  const char *why = mqe_check_invariants(t->e);
  if (why) fail_msg("invariant: %s", why);
}

static client *cl_new(env *t, mqc_version v) {
  client *c = calloc(1, sizeof *c);
  c->v = v;
  assert_int_equal(mqe_conn_open(t->e, c, t->now, &c->c), MQE_OK);
  return c;
}

/* Moves everything the engine has for c into c->buf. */
static void drain(env *t, client *c) {
  if (!c->c || c->hold) return;
  if (c->off == c->len) c->off = c->len = 0;
  c->len += mqe_conn_send(t->e, c->c, c->buf + c->len, sizeof c->buf - c->len, t->now);
}

static void drain_all(env *t) {
  mqe_conn *x;
  while ((x = mqe_next_output(t->e))) {
    client *c = mqe_conn_user(x);
    drain(t, c);
  }
}

static void cl_close(env *t, client *c, bool abrupt) {
  if (c->c) mqe_conn_close(t->e, c->c, abrupt, t->now);
  c->c = NULL;
  check(t);
}

static void cl_free(env *t, client *c) {
  cl_close(t, c, false);
  free(c);
}

static mqe_status tx_raw(env *t, client *c, const uint8_t *b, size_t n) {
  mqe_status st = mqe_conn_recv(t->e, c->c, b, n, t->now);
  drain_all(t);
  check(t);
  return st;
}

static mqe_status tx(env *t, client *c, const mqc_packet *p) {
  uint8_t b[1 << 16];
  size_t n;
  assert_int_equal(mqc_encode(p, c->v, b, sizeof b, &n), MQC_OK);
  return tx_raw(t, c, b, n);
}

/* Decodes the next packet the engine sent to c; false when none. */
static bool rx(env *t, client *c, mqc_packet *p) {
  drain(t, c);
  if (c->off == c->len) return false;
  mqc_error err;
  mqc_frame f;
  mqc_status st = mqc_frame_packet(c->buf + c->off, c->len - c->off, c->v, 0, &f, &err);
  assert_int_equal(st, MQC_OK);
  memcpy(c->pkt, c->buf + c->off, f.total_len);
  st = mqc_decode(c->pkt, f.total_len, c->v, MQC_FROM_SERVER, 0, p, &err);
  if (st != MQC_OK)
    fail_msg("engine sent an undecodable packet: %s (%s)", err.message,
             err.statement ? err.statement : "-");
  c->off += f.total_len;
  return true;
}

static void rx_type(env *t, client *c, mqc_packet *p, mqc_type want) {
  if (!rx(t, c, p)) fail_msg("expected %s, got nothing", mqc_type_name(want));
  if (p->type != want) fail_msg("expected %s, got %s", mqc_type_name(want), mqc_type_name(p->type));
}

static void rx_none(env *t, client *c) {
  mqc_packet p;
  if (rx(t, c, &p)) fail_msg("unexpected %s", mqc_type_name(p.type));
}

static void advance(env *t, uint64_t ms) {
  t->now += ms;
  /* fire every deadline up to now, in order */
  for (int i = 0; i < 100000 && mqe_next_deadline(t->e) <= t->now; i++)
    mqe_tick(t->e, mqe_next_deadline(t->e) > t->now ? t->now : mqe_next_deadline(t->e));
  mqe_tick(t->e, t->now);
  drain_all(t);
  check(t);
}

/* ---- packet builders ------------------------------------------------------- */
typedef struct {
  uint8_t b[512];
  size_t n;
} pbuf;

static void pb_int(pbuf *pb, mqc_prop_id id, uint32_t u) {
  mqc_writer w;
  mqc_writer_init(&w, pb->b + pb->n, sizeof pb->b - pb->n);
  const mqc_prop_info *in = mqc_prop_lookup(id);
  mqc_prop pr = {.id = id, .type = in->type, .u = u};
  mqc_put_prop(&w, &pr);
  pb->n += w.len;
}
static void pb_str(pbuf *pb, mqc_prop_id id, const char *s) {
  mqc_writer w;
  mqc_writer_init(&w, pb->b + pb->n, sizeof pb->b - pb->n);
  const mqc_prop_info *in = mqc_prop_lookup(id);
  mqc_prop pr = {.id = id, .type = in->type, .value = mqc_cstr(s)};
  mqc_put_prop(&w, &pr);
  pb->n += w.len;
}
static void pb_bin(pbuf *pb, mqc_prop_id id, const uint8_t *d, size_t n) {
  mqc_writer w;
  mqc_writer_init(&w, pb->b + pb->n, sizeof pb->b - pb->n);
  mqc_prop pr = {.id = id, .type = MQC_PT_BINARY, .value = {d, n}};
  mqc_put_prop(&w, &pr);
  pb->n += w.len;
}
static void pb_pair(pbuf *pb, const char *k, const char *v) {
  mqc_writer w;
  mqc_writer_init(&w, pb->b + pb->n, sizeof pb->b - pb->n);
  mqc_put_prop_pair(&w, mqc_cstr(k), mqc_cstr(v));
  pb->n += w.len;
}
static mqc_props props_of(const pbuf *pb) {
  mqc_props p = {{pb ? pb->b : NULL, pb ? pb->n : 0}, 0, 0};
  return p;
}

typedef struct {
  const char *id;
  bool clean;
  uint16_t ka;
  const pbuf *props;
  const char *will_topic, *will_payload;
  uint8_t will_qos;
  bool will_retain;
  const pbuf *will_props;
  const char *user, *pass;
} conn_opts;

static mqe_status send_connect(env *t, client *c, const conn_opts *o) {
  mqc_packet p;
  mqc_packet_init(&p, MQC_CONNECT, c->v);
  p.connect.clean_start = o->clean;
  p.connect.keep_alive = o->ka;
  p.connect.client_id = mqc_cstr(o->id ? o->id : "");
  p.connect.props = props_of(o->props);
  if (o->will_topic) {
    p.connect.will = true;
    p.connect.will_topic = mqc_cstr(o->will_topic);
    p.connect.will_payload = mqc_cstr(o->will_payload ? o->will_payload : "");
    p.connect.will_qos = o->will_qos;
    p.connect.will_retain = o->will_retain;
    p.connect.will_props = props_of(o->will_props);
  }
  if (o->user) {
    p.connect.has_username = true;
    p.connect.username = mqc_cstr(o->user);
  }
  if (o->pass) {
    p.connect.has_password = true;
    p.connect.password = mqc_cstr(o->pass);
  }
  return tx(t, c, &p);
}

/* Connects and expects CONNACK 0; returns session present. */
static bool connect_ok(env *t, client *c, const conn_opts *o) {
  assert_int_equal(send_connect(t, c, o), MQE_OK);
  mqc_packet p;
  rx_type(t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, 0);
  return p.connack.session_present;
}

static client *connected(env *t, mqc_version v, const char *id, bool clean) {
  client *c = cl_new(t, v);
  conn_opts o = {.id = id, .clean = clean};
  connect_ok(t, c, &o);
  return c;
}

static mqe_status publish(env *t, client *c, const char *topic, const char *payload, uint8_t qos,
                          bool retain, uint16_t pid, const pbuf *props) {
  mqc_packet p;
  mqc_packet_init(&p, MQC_PUBLISH, c->v);
  p.publish.topic = mqc_cstr(topic);
  p.publish.payload = mqc_cstr(payload);
  p.publish.qos = qos;
  p.publish.retain = retain;
  p.publish.packet_id = qos ? pid : 0;
  p.publish.props = props_of(props);
  p.flags = (uint8_t)(qos << 1 | (retain ? 1 : 0));
  return tx(t, c, &p);
}

static void subscribe(env *t, client *c, uint16_t pid, const char *filter, uint8_t opts,
                      const pbuf *props, uint8_t expect_rc) {
  uint8_t list[512];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr(filter), opts);
  mqc_packet p;
  mqc_packet_init(&p, MQC_SUBSCRIBE, c->v);
  p.subscribe.packet_id = pid;
  p.subscribe.list = (mqc_bytes){list, w.len};
  p.subscribe.count = 1;
  p.subscribe.props = props_of(props);
  assert_int_equal(tx(t, c, &p), MQE_OK);
  mqc_packet a;
  rx_type(t, c, &a, MQC_SUBACK);
  assert_int_equal(a.suback.packet_id, pid);
  assert_int_equal(a.suback.reasons.n, 1);
  assert_int_equal(a.suback.reasons.p[0], expect_rc);
}

static mqe_status ack(env *t, client *c, mqc_type type, uint16_t pid, uint8_t reason) {
  mqc_packet p;
  mqc_packet_init(&p, type, c->v);
  p.ack.packet_id = pid;
  p.ack.reason = reason;
  return tx(t, c, &p);
}

static mqe_status disconnect(env *t, client *c, uint8_t reason, const pbuf *props) {
  mqc_packet p;
  mqc_packet_init(&p, MQC_DISCONNECT, c->v);
  p.disconnect.reason = reason;
  p.disconnect.props = props_of(props);
  return tx(t, c, &p);
}

static void expect_publish(env *t, client *c, const char *topic, const char *payload, uint8_t qos,
                           mqc_packet *out) {
  mqc_packet p;
  rx_type(t, c, &p, MQC_PUBLISH);
  if (topic) assert_true(mqc_bytes_eq(p.publish.topic, mqc_cstr(topic)));
  if (payload) assert_true(mqc_bytes_eq(p.publish.payload, mqc_cstr(payload)));
  assert_int_equal(p.publish.qos, qos);
  if (out) *out = p;
}

static bool prop_u(const mqc_props *ps, mqc_prop_id id, uint32_t *u) {
  mqc_prop pr;
  if (!mqc_props_get(ps, id, &pr)) return false;
  *u = pr.u;
  return true;
}

/* ======================================================================== */

static void t_connect_ping_311(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *c = cl_new(&t, MQC_V311);
  conn_opts o = {.id = "c1", .clean = true, .ka = 30};
  assert_false(connect_ok(&t, c, &o));
  mqc_packet p;
  mqc_packet_init(&p, MQC_PINGREQ, MQC_V311);
  assert_int_equal(tx(&t, c, &p), MQE_OK);
  rx_type(&t, c, &p, MQC_PINGRESP);
  assert_string_equal(mqe_conn_client_id(c->c), "c1");
  cl_free(&t, c);
  env_done(&t);
}

static void t_first_packet_not_connect(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *c = cl_new(&t, MQC_V311);
  assert_int_equal(publish(&t, c, "a", "x", 0, false, 0, NULL), MQE_CLOSE);
  rx_none(&t, c);
  assert_true(mqe_conn_should_close(c->c));
  assert_true(saw_violation(&t.ev, "MQTT-3.1.0-1"));
  cl_free(&t, c);
  env_done(&t);
}

static void t_second_connect_v5(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *c = connected(&t, MQC_V5, "c1", true);
  conn_opts o = {.id = "c1", .clean = true};
  assert_int_equal(send_connect(&t, c, &o), MQE_CLOSE);
  mqc_packet p;
  rx_type(&t, c, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_PROTOCOL_ERROR);
  assert_true(saw_violation(&t.ev, "MQTT-3.1.0-2"));
  cl_free(&t, c);
  env_done(&t);
}

static void t_byte_by_byte(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *c = cl_new(&t, MQC_V5);
  mqc_packet p;
  mqc_packet_init(&p, MQC_CONNECT, MQC_V5);
  p.connect.clean_start = true;
  p.connect.client_id = mqc_cstr("bytewise");
  uint8_t b[256];
  size_t n;
  assert_int_equal(mqc_encode(&p, MQC_V5, b, sizeof b, &n), MQC_OK);
  mqc_packet_init(&p, MQC_PINGREQ, MQC_V5);
  size_t m;
  assert_int_equal(mqc_encode(&p, MQC_V5, b + n, sizeof b - n, &m), MQC_OK);
  for (size_t i = 0; i < n + m; i++) {
    assert_int_equal(tx_raw(&t, c, b + i, 1), MQE_OK);
    if (i + 1 < n) rx_none(&t, c);
  }
  rx_type(&t, c, &p, MQC_CONNACK);
  rx_type(&t, c, &p, MQC_PINGRESP);
  cl_free(&t, c);
  env_done(&t);
}

static void t_unsupported_version(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *c = cl_new(&t, MQC_V311);
  /* CONNECT with protocol level 6 */
  const uint8_t b[] = {0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 0, 0, 1, 'x'};
  assert_int_equal(tx_raw(&t, c, b, sizeof b), MQE_CLOSE);
  mqc_packet p;
  rx_type(&t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, 1);
  cl_free(&t, c);
  env_done(&t);
}

static void t_client_id_rules(void **state) {
  (void)state;
  env t;
  env_init(&t);
  /* 3.1.1: empty id with clean session 0 -> 0x02 */
  client *c = cl_new(&t, MQC_V311);
  conn_opts o = {.id = "", .clean = false};
  assert_int_equal(send_connect(&t, c, &o), MQE_CLOSE);
  mqc_packet p;
  rx_type(&t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, 2);
  cl_free(&t, c);
  /* 5.0: empty id -> assigned */
  c = cl_new(&t, MQC_V5);
  o.clean = true;
  assert_int_equal(send_connect(&t, c, &o), MQE_OK);
  rx_type(&t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, 0);
  mqc_prop pr;
  assert_true(mqc_props_get(&p.connack.props, MQC_PROP_ASSIGNED_CLIENT_IDENTIFIER, &pr));
  assert_true(pr.value.n > 0);
  assert_int_equal(strlen(mqe_conn_client_id(c->c)), pr.value.n);
  cl_free(&t, c);
  env_done(&t);
}

static void t_qos012_311(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *s = connected(&t, MQC_V311, "sub", true);
  client *pu = connected(&t, MQC_V311, "pub", true);
  subscribe(&t, s, 1, "a/b", 2, NULL, 2);
  mqc_packet p;
  /* QoS 0 */
  publish(&t, pu, "a/b", "zero", 0, false, 0, NULL);
  rx_none(&t, pu);
  expect_publish(&t, s, "a/b", "zero", 0, &p);
  assert_false(p.publish.retain);
  /* QoS 1 */
  publish(&t, pu, "a/b", "one", 1, false, 7, NULL);
  rx_type(&t, pu, &p, MQC_PUBACK);
  assert_int_equal(p.ack.packet_id, 7);
  expect_publish(&t, s, "a/b", "one", 1, &p);
  uint16_t id1 = p.publish.packet_id;
  assert_true(id1 != 0);
  assert_false(p.publish.dup);
  ack(&t, s, MQC_PUBACK, id1, 0);
  /* QoS 2 both directions */
  publish(&t, pu, "a/b", "two", 2, false, 8, NULL);
  rx_type(&t, pu, &p, MQC_PUBREC);
  assert_int_equal(p.ack.packet_id, 8);
  /* duplicate before PUBREL: PUBREC again, no second delivery */
  publish(&t, pu, "a/b", "two", 2, false, 8, NULL);
  rx_type(&t, pu, &p, MQC_PUBREC);
  ack(&t, pu, MQC_PUBREL, 8, 0);
  rx_type(&t, pu, &p, MQC_PUBCOMP);
  assert_int_equal(p.ack.packet_id, 8);
  expect_publish(&t, s, "a/b", "two", 2, &p);
  uint16_t id2 = p.publish.packet_id;
  assert_true(id2 != id1 || id2 != 0);
  rx_none(&t, s);
  ack(&t, s, MQC_PUBREC, id2, 0);
  rx_type(&t, s, &p, MQC_PUBREL);
  assert_int_equal(p.ack.packet_id, id2);
  ack(&t, s, MQC_PUBCOMP, id2, 0);
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  assert_int_equal(st.inflight, 0);
  /* PUBREL for an unknown id still gets PUBCOMP */
  ack(&t, pu, MQC_PUBREL, 99, 0);
  rx_type(&t, pu, &p, MQC_PUBCOMP);
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_qos_downgrade_and_overlap_311(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *s = connected(&t, MQC_V311, "sub", true);
  client *pu = connected(&t, MQC_V311, "pub", true);
  subscribe(&t, s, 1, "x/#", 0, NULL, 0);
  publish(&t, pu, "x/y", "d", 2, false, 1, NULL);
  mqc_packet p;
  expect_publish(&t, s, "x/y", "d", 0, NULL);
  /* overlapping: one copy at the highest QoS */
  subscribe(&t, s, 2, "x/+", 1, NULL, 1);
  publish(&t, pu, "x/y", "e", 2, false, 2, NULL);
  expect_publish(&t, s, "x/y", "e", 1, &p);
  rx_none(&t, s);
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_wildcards_and_dollar(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *s = connected(&t, MQC_V311, "sub", true);
  client *pu = connected(&t, MQC_V311, "pub", true);
  subscribe(&t, s, 1, "#", 0, NULL, 0);
  publish(&t, pu, "$SYS/x", "no", 0, false, 0, NULL);
  rx_none(&t, s);
  publish(&t, pu, "a", "yes", 0, false, 0, NULL);
  expect_publish(&t, s, "a", "yes", 0, NULL);
  client *s2 = connected(&t, MQC_V311, "sub2", true);
  subscribe(&t, s2, 1, "+/b/#", 0, NULL, 0);
  subscribe(&t, s2, 2, "$SYS/#", 0, NULL, 0);
  publish(&t, pu, "a/b", "1", 0, false, 0, NULL);
  expect_publish(&t, s2, "a/b", "1", 0, NULL);
  publish(&t, pu, "a/b/c/d", "2", 0, false, 0, NULL);
  expect_publish(&t, s2, "a/b/c/d", "2", 0, NULL);
  publish(&t, pu, "a/c", "3", 0, false, 0, NULL);
  rx_none(&t, s2);
  publish(&t, pu, "$SYS/x", "4", 0, false, 0, NULL);
  expect_publish(&t, s2, "$SYS/x", "4", 0, NULL);
  /* UNSUBSCRIBE */
  uint8_t list[32];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_str(&w, mqc_cstr("+/b/#"));
  mqc_packet p;
  mqc_packet_init(&p, MQC_UNSUBSCRIBE, MQC_V311);
  p.subscribe.packet_id = 9;
  p.subscribe.list = (mqc_bytes){list, w.len};
  p.subscribe.count = 1;
  tx(&t, s2, &p);
  rx_type(&t, s2, &p, MQC_UNSUBACK);
  assert_int_equal(p.suback.packet_id, 9);
  publish(&t, pu, "a/b", "5", 0, false, 0, NULL);
  rx_none(&t, s2);
  drain(&t, s);
  s->off = s->len;
  cl_free(&t, s);
  cl_free(&t, s2);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_retained(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *pu = connected(&t, MQC_V311, "pub", true);
  publish(&t, pu, "r/1", "kept", 1, true, 1, NULL);
  mqc_packet p;
  rx_type(&t, pu, &p, MQC_PUBACK);
  publish(&t, pu, "r/2", "kept2", 0, true, 0, NULL);
  publish(&t, pu, "r/2", "notkept", 0, false, 0, NULL);
  client *s = connected(&t, MQC_V311, "sub", true);
  subscribe(&t, s, 1, "r/+", 2, NULL, 2);
  expect_publish(&t, s, "r/1", "kept", 1, &p);
  assert_true(p.publish.retain);
  ack(&t, s, MQC_PUBACK, p.publish.packet_id, 0);
  expect_publish(&t, s, "r/2", "kept2", 0, &p);
  assert_true(p.publish.retain);
  /* live forwarding clears RETAIN in 3.1.1 */
  publish(&t, pu, "r/1", "new", 0, true, 0, NULL);
  expect_publish(&t, s, "r/1", "new", 0, &p);
  assert_false(p.publish.retain);
  /* clear with empty payload */
  publish(&t, pu, "r/1", "", 0, true, 0, NULL);
  expect_publish(&t, s, "r/1", "", 0, NULL);
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  assert_int_equal(st.retained, 1);
  client *s2 = connected(&t, MQC_V311, "sub2", true);
  subscribe(&t, s2, 1, "r/#", 0, NULL, 0);
  expect_publish(&t, s2, "r/2", "kept2", 0, NULL);
  rx_none(&t, s2);
  cl_free(&t, s);
  cl_free(&t, s2);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_retain_handling_v5(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *pu = connected(&t, MQC_V5, "pub", true);
  publish(&t, pu, "k", "v", 0, true, 0, NULL);
  client *s = connected(&t, MQC_V5, "sub", true);
  mqc_subopts o = {.max_qos = 1, .retain_handling = 2};
  subscribe(&t, s, 1, "k", mqc_subopts_pack(o), NULL, 1);
  rx_none(&t, s);
  o.retain_handling = 1; /* exists already: not sent */
  subscribe(&t, s, 2, "k", mqc_subopts_pack(o), NULL, 1);
  rx_none(&t, s);
  subscribe(&t, s, 3, "k2", mqc_subopts_pack(o), NULL, 1);
  publish(&t, pu, "k2", "v2", 0, true, 0, NULL);
  mqc_packet p;
  expect_publish(&t, s, "k2", "v2", 0, &p);
  assert_false(p.publish.retain); /* Retain As Published 0 */
  o.retain_as_published = true;
  o.retain_handling = 0;
  subscribe(&t, s, 4, "k", mqc_subopts_pack(o), NULL, 1);
  expect_publish(&t, s, "k", "v", 0, &p);
  assert_true(p.publish.retain);
  publish(&t, pu, "k", "v3", 1, true, 5, NULL);
  expect_publish(&t, s, "k", "v3", 1, &p);
  assert_true(p.publish.retain); /* MQTT-3.3.1-13 */
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_keepalive_and_will(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *s = connected(&t, MQC_V311, "sub", true);
  subscribe(&t, s, 1, "will/#", 1, NULL, 1);
  client *c = cl_new(&t, MQC_V311);
  conn_opts o = {.id = "dying",
                 .clean = true,
                 .ka = 60,
                 .will_topic = "will/dying",
                 .will_payload = "gone",
                 .will_qos = 1};
  connect_ok(&t, c, &o);
  advance(&t, 89000);
  assert_false(mqe_conn_should_close(c->c));
  rx_none(&t, s);
  advance(&t, 1000); /* 1.5 x 60 s */
  assert_true(mqe_conn_should_close(c->c));
  assert_true(saw_violation(&t.ev, "MQTT-3.1.2-23"));
  mqc_packet p;
  expect_publish(&t, s, "will/dying", "gone", 1, &p);
  cl_free(&t, c);
  /* clean DISCONNECT: no will */
  c = cl_new(&t, MQC_V311);
  connect_ok(&t, c, &o);
  assert_int_equal(disconnect(&t, c, 0, NULL), MQE_CLOSE);
  cl_close(&t, c, true);
  rx_none(&t, s);
  /* abrupt loss: will */
  c->c = NULL;
  client *c2 = cl_new(&t, MQC_V311);
  connect_ok(&t, c2, &o);
  cl_close(&t, c2, true);
  expect_publish(&t, s, "will/dying", "gone", 1, NULL);
  free(c);
  free(c2);
  cl_free(&t, s);
  env_done(&t);
}

static void t_will_v5_delay(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *s = connected(&t, MQC_V5, "sub", true);
  subscribe(&t, s, 1, "w", 0, NULL, 0);
  pbuf cp = {0}, wp = {0};
  pb_int(&cp, MQC_PROP_SESSION_EXPIRY_INTERVAL, 100);
  pb_int(&wp, MQC_PROP_WILL_DELAY_INTERVAL, 10);
  conn_opts o = {.id = "d",
                 .clean = true,
                 .props = &cp,
                 .will_topic = "w",
                 .will_payload = "bye",
                 .will_props = &wp};
  client *c = cl_new(&t, MQC_V5);
  connect_ok(&t, c, &o);
  /* DISCONNECT 0x04: will, after the delay */
  assert_int_equal(disconnect(&t, c, MQC_RC_DISCONNECT_WITH_WILL, NULL), MQE_CLOSE);
  cl_close(&t, c, false);
  advance(&t, 9000);
  rx_none(&t, s);
  advance(&t, 1000);
  expect_publish(&t, s, "w", "bye", 0, NULL);
  free(c);
  /* abrupt loss then resume within the delay: no will (MQTT-3.1.3-9) */
  c = cl_new(&t, MQC_V5);
  o.clean = false;
  connect_ok(&t, c, &o);
  cl_close(&t, c, true);
  advance(&t, 5000);
  c->c = NULL;
  free(c);
  c = cl_new(&t, MQC_V5);
  o.will_topic = NULL;
  assert_true(connect_ok(&t, c, &o));
  advance(&t, 20000);
  rx_none(&t, s);
  /* DISCONNECT 0x00: will discarded */
  cl_free(&t, c);
  cl_free(&t, s);
  env_done(&t);
}

static void t_session_resume_redelivery(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *s = connected(&t, MQC_V311, "sub", false);
  subscribe(&t, s, 1, "q", 2, NULL, 2);
  client *pu = connected(&t, MQC_V311, "pub", true);
  publish(&t, pu, "q", "m1", 1, false, 1, NULL);
  mqc_packet p;
  expect_publish(&t, s, "q", "m1", 1, &p);
  uint16_t unacked = p.publish.packet_id;
  publish(&t, pu, "q", "m2", 2, false, 2, NULL);
  expect_publish(&t, s, "q", "m2", 2, &p);
  uint16_t q2 = p.publish.packet_id;
  ack(&t, s, MQC_PUBREC, q2, 0);
  rx_type(&t, s, &p, MQC_PUBREL);
  cl_close(&t, s, true);
  /* offline: QoS 1 queued, QoS 0 not */
  publish(&t, pu, "q", "m3", 1, false, 3, NULL);
  publish(&t, pu, "q", "m4", 0, false, 0, NULL);
  free(s);
  s = cl_new(&t, MQC_V311);
  conn_opts o = {.id = "sub", .clean = false};
  assert_true(connect_ok(&t, s, &o));
  expect_publish(&t, s, "q", "m1", 1, &p);
  assert_true(p.publish.dup);
  assert_int_equal(p.publish.packet_id, unacked);
  rx_type(&t, s, &p, MQC_PUBREL);
  assert_int_equal(p.ack.packet_id, q2);
  expect_publish(&t, s, "q", "m3", 1, &p);
  assert_false(p.publish.dup);
  rx_none(&t, s);
  cl_free(&t, s);
  /* clean session discards it */
  s = cl_new(&t, MQC_V311);
  o.clean = true;
  assert_false(connect_ok(&t, s, &o));
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_takeover_v5(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *a = connected(&t, MQC_V5, "same", true);
  client *b = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "same", .clean = true};
  connect_ok(&t, b, &o);
  mqc_packet p;
  rx_type(&t, a, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_SESSION_TAKEN_OVER);
  assert_true(mqe_conn_should_close(a->c));
  assert_false(mqe_conn_should_close(b->c));
  cl_free(&t, a);
  cl_free(&t, b);
  env_done(&t);
}

static void t_session_expiry_v5(void **state) {
  (void)state;
  env t;
  env_init(&t);
  pbuf cp = {0};
  pb_int(&cp, MQC_PROP_SESSION_EXPIRY_INTERVAL, 10);
  conn_opts o = {.id = "e", .clean = true, .props = &cp};
  client *c = cl_new(&t, MQC_V5);
  connect_ok(&t, c, &o);
  cl_close(&t, c, true);
  advance(&t, 9999);
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  assert_int_equal(st.sessions, 1);
  advance(&t, 1);
  mqe_get_stats(t.e, &st);
  assert_int_equal(st.sessions, 0);
  free(c);
  /* DISCONNECT may not raise expiry from 0 */
  c = connected(&t, MQC_V5, "z", true);
  pbuf dp = {0};
  pb_int(&dp, MQC_PROP_SESSION_EXPIRY_INTERVAL, 5);
  assert_int_equal(disconnect(&t, c, 0, &dp), MQE_CLOSE);
  mqc_packet p;
  rx_type(&t, c, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_PROTOCOL_ERROR);
  cl_free(&t, c);
  /* server cap is announced */
  t.cfg.max_session_expiry = 3;
  env_done(&t);
  env_cfg(&t);
  t.cfg.max_session_expiry = 3;
  env_start(&t);
  c = cl_new(&t, MQC_V5);
  send_connect(&t, c, &o);
  rx_type(&t, c, &p, MQC_CONNACK);
  uint32_t u = 0;
  assert_true(prop_u(&p.connack.props, MQC_PROP_SESSION_EXPIRY_INTERVAL, &u));
  assert_int_equal(u, 3);
  cl_free(&t, c);
  env_done(&t);
}

static void t_topic_alias_inbound(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *s = connected(&t, MQC_V5, "sub", true);
  subscribe(&t, s, 1, "long/topic", 0, NULL, 0);
  client *pu = connected(&t, MQC_V5, "pub", true);
  pbuf a = {0};
  pb_int(&a, MQC_PROP_TOPIC_ALIAS, 1);
  publish(&t, pu, "long/topic", "1", 0, false, 0, &a);
  expect_publish(&t, s, "long/topic", "1", 0, NULL);
  publish(&t, pu, "", "2", 0, false, 0, &a);
  expect_publish(&t, s, "long/topic", "2", 0, NULL);
  pbuf bad = {0};
  pb_int(&bad, MQC_PROP_TOPIC_ALIAS, 17); /* above the default 16 */
  assert_int_equal(publish(&t, pu, "x", "3", 0, false, 0, &bad), MQE_CLOSE);
  mqc_packet p;
  rx_type(&t, pu, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_TOPIC_ALIAS_INVALID);
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_topic_alias_outbound(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.outbound_aliases = 4;
  env_start(&t);
  pbuf cp = {0};
  pb_int(&cp, MQC_PROP_TOPIC_ALIAS_MAXIMUM, 2);
  client *s = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "sub", .clean = true, .props = &cp};
  connect_ok(&t, s, &o);
  subscribe(&t, s, 1, "t/#", 0, NULL, 0);
  client *pu = connected(&t, MQC_V5, "pub", true);
  mqc_packet p;
  uint32_t al;
  publish(&t, pu, "t/a", "1", 0, false, 0, NULL);
  expect_publish(&t, s, "t/a", "1", 0, &p);
  assert_true(prop_u(&p.publish.props, MQC_PROP_TOPIC_ALIAS, &al));
  assert_int_equal(al, 1);
  publish(&t, pu, "t/a", "2", 0, false, 0, NULL);
  expect_publish(&t, s, "", "2", 0, &p);
  assert_true(prop_u(&p.publish.props, MQC_PROP_TOPIC_ALIAS, &al));
  assert_int_equal(al, 1);
  publish(&t, pu, "t/b", "3", 0, false, 0, NULL);
  expect_publish(&t, s, "t/b", "3", 0, &p);
  publish(&t, pu, "t/c", "4", 0, false, 0, NULL);
  expect_publish(&t, s, "t/c", "4", 0, &p); /* table full (client max 2) */
  assert_false(prop_u(&p.publish.props, MQC_PROP_TOPIC_ALIAS, &al));
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_receive_maximum_out(void **state) {
  (void)state;
  env t;
  env_init(&t);
  pbuf cp = {0};
  pb_int(&cp, MQC_PROP_RECEIVE_MAXIMUM, 2);
  client *s = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "sub", .clean = true, .props = &cp};
  connect_ok(&t, s, &o);
  subscribe(&t, s, 1, "f", 1, NULL, 1);
  client *pu = connected(&t, MQC_V5, "pub", true);
  for (uint16_t i = 1; i <= 3; i++)
    publish(&t, pu, "f", "m", 1, false, i, NULL);
  mqc_packet p, p2;
  expect_publish(&t, s, "f", "m", 1, &p);
  expect_publish(&t, s, "f", "m", 1, &p2);
  assert_int_not_equal(p.publish.packet_id, p2.publish.packet_id);
  rx_none(&t, s); /* MQTT-3.3.4-9 */
  ack(&t, s, MQC_PUBACK, p.publish.packet_id, 0);
  expect_publish(&t, s, "f", "m", 1, &p);
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_receive_maximum_in(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.receive_maximum = 2;
  env_start(&t);
  client *pu = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "pub", .clean = true};
  assert_int_equal(send_connect(&t, pu, &o), MQE_OK);
  mqc_packet p;
  rx_type(&t, pu, &p, MQC_CONNACK);
  uint32_t u;
  assert_true(prop_u(&p.connack.props, MQC_PROP_RECEIVE_MAXIMUM, &u));
  assert_int_equal(u, 2);
  publish(&t, pu, "x", "1", 2, false, 1, NULL);
  publish(&t, pu, "x", "2", 2, false, 2, NULL);
  assert_int_equal(publish(&t, pu, "x", "3", 2, false, 3, NULL), MQE_CLOSE);
  rx_type(&t, pu, &p, MQC_PUBREC);
  rx_type(&t, pu, &p, MQC_PUBREC);
  rx_type(&t, pu, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_RECEIVE_MAXIMUM_EXCEEDED);
  assert_true(saw_violation(&t.ev, "MQTT-3.3.4-7"));
  cl_free(&t, pu);
  env_done(&t);
}

static void t_max_packet_size_out(void **state) {
  (void)state;
  env t;
  env_init(&t);
  pbuf cp = {0};
  pb_int(&cp, MQC_PROP_MAXIMUM_PACKET_SIZE, 20);
  client *s = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "sub", .clean = true, .props = &cp};
  connect_ok(&t, s, &o);
  subscribe(&t, s, 1, "m", 1, NULL, 1);
  client *pu = connected(&t, MQC_V5, "pub", true);
  publish(&t, pu, "m", "this payload is far too long for 20 bytes", 1, false, 1, NULL);
  rx_none(&t, s); /* MQTT-3.1.2-24/25 */
  publish(&t, pu, "m", "ok", 1, false, 2, NULL);
  mqc_packet p;
  expect_publish(&t, s, "m", "ok", 1, &p);
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  assert_int_equal(st.inflight, 1);
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_packet_too_large_in(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.maximum_packet_size = 64;
  env_start(&t);
  client *pu = connected(&t, MQC_V5, "pub", true);
  char big[100];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal(publish(&t, pu, "t", big, 0, false, 0, NULL), MQE_CLOSE);
  mqc_packet p;
  rx_type(&t, pu, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_PACKET_TOO_LARGE);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_message_expiry_and_props(void **state) {
  (void)state;
  env t;
  env_init(&t);
  pbuf cp = {0};
  pb_int(&cp, MQC_PROP_SESSION_EXPIRY_INTERVAL, 1000);
  client *s = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "sub", .clean = true, .props = &cp};
  connect_ok(&t, s, &o);
  subscribe(&t, s, 1, "e", 1, NULL, 1);
  cl_close(&t, s, true);
  free(s);
  client *pu = connected(&t, MQC_V5, "pub", true);
  pbuf mp = {0};
  pb_int(&mp, MQC_PROP_MESSAGE_EXPIRY_INTERVAL, 10);
  pb_int(&mp, MQC_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
  pb_str(&mp, MQC_PROP_CONTENT_TYPE, "text/plain");
  pb_str(&mp, MQC_PROP_RESPONSE_TOPIC, "reply/here");
  const uint8_t corr[] = {1, 2, 3};
  pb_bin(&mp, MQC_PROP_CORRELATION_DATA, corr, sizeof corr);
  pb_pair(&mp, "k1", "v1");
  pb_pair(&mp, "k0", "v0");
  pb_pair(&mp, "k1", "v2");
  publish(&t, pu, "e", "soon", 1, false, 1, &mp);
  pbuf mp2 = {0};
  pb_int(&mp2, MQC_PROP_MESSAGE_EXPIRY_INTERVAL, 2);
  publish(&t, pu, "e", "gone", 1, false, 2, &mp2);
  advance(&t, 3000);
  s = cl_new(&t, MQC_V5);
  o.clean = false;
  assert_true(connect_ok(&t, s, &o));
  mqc_packet p;
  expect_publish(&t, s, "e", "soon", 1, &p);
  uint32_t u = 0;
  assert_true(prop_u(&p.publish.props, MQC_PROP_MESSAGE_EXPIRY_INTERVAL, &u));
  assert_int_equal(u, 7); /* MQTT-3.3.2-6 */
  assert_true(prop_u(&p.publish.props, MQC_PROP_PAYLOAD_FORMAT_INDICATOR, &u));
  assert_int_equal(u, 1);
  mqc_prop pr;
  assert_true(mqc_props_get(&p.publish.props, MQC_PROP_CONTENT_TYPE, &pr));
  assert_true(mqc_bytes_eq(pr.value, mqc_cstr("text/plain")));
  assert_true(mqc_props_get(&p.publish.props, MQC_PROP_CORRELATION_DATA, &pr));
  assert_int_equal(pr.value.n, 3);
  /* user properties in order (MQTT-3.1.3-10) */
  mqc_prop_iter it;
  mqc_prop_iter_init(&it, &p.publish.props);
  const char *want[3][2] = {{"k1", "v1"}, {"k0", "v0"}, {"k1", "v2"}};
  int k = 0;
  while (mqc_prop_next(&it, &pr))
    if (pr.id == MQC_PROP_USER_PROPERTY) {
      assert_true(k < 3);
      assert_true(mqc_bytes_eq(pr.key, mqc_cstr(want[k][0])));
      assert_true(mqc_bytes_eq(pr.value, mqc_cstr(want[k][1])));
      k++;
    }
  assert_int_equal(k, 3);
  rx_none(&t, s); /* the 2 s message expired (MQTT-3.3.2-5) */
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_subids_nolocal_v5(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *s = connected(&t, MQC_V5, "me", true);
  pbuf i1 = {0}, i2 = {0};
  pb_int(&i1, MQC_PROP_SUBSCRIPTION_IDENTIFIER, 11);
  pb_int(&i2, MQC_PROP_SUBSCRIPTION_IDENTIFIER, 22);
  subscribe(&t, s, 1, "s/+", 1, &i1, 1);
  subscribe(&t, s, 2, "s/#", 0, &i2, 0);
  client *pu = connected(&t, MQC_V5, "pub", true);
  publish(&t, pu, "s/x", "m", 1, false, 1, NULL);
  mqc_packet p;
  expect_publish(&t, s, "s/x", "m", 1, &p);
  rx_none(&t, s); /* one copy */
  mqc_prop_iter it;
  mqc_prop pr;
  uint32_t seen = 0;
  mqc_prop_iter_init(&it, &p.publish.props);
  while (mqc_prop_next(&it, &pr))
    if (pr.id == MQC_PROP_SUBSCRIPTION_IDENTIFIER) seen |= pr.u == 11 ? 1u : pr.u == 22 ? 2u : 4u;
  assert_int_equal(seen, 3); /* MQTT-3.3.4-4 */
  /* No Local */
  mqc_subopts o = {.max_qos = 0, .no_local = true};
  subscribe(&t, s, 3, "nl", mqc_subopts_pack(o), NULL, 0);
  publish(&t, s, "nl", "mine", 0, false, 0, NULL);
  rx_none(&t, s);
  publish(&t, pu, "nl", "theirs", 0, false, 0, NULL);
  expect_publish(&t, s, "nl", "theirs", 0, NULL);
  /* No Local on a shared subscription is a protocol error */
  uint8_t list[64];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr("$share/g/nl"), mqc_subopts_pack(o));
  mqc_packet_init(&p, MQC_SUBSCRIBE, MQC_V5);
  p.subscribe.packet_id = 4;
  p.subscribe.list = (mqc_bytes){list, w.len};
  p.subscribe.count = 1;
  assert_int_equal(tx(&t, s, &p), MQE_CLOSE);
  assert_true(saw_violation(&t.ev, "MQTT-3.8.3-4"));
  cl_free(&t, s);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_shared_round_robin(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *a = connected(&t, MQC_V5, "a", true);
  client *b = connected(&t, MQC_V311, "b", true);
  subscribe(&t, a, 1, "$share/g/job/+", 1, NULL, 1);
  subscribe(&t, b, 1, "$share/g/job/+", 1, NULL, 1);
  client *pu = connected(&t, MQC_V5, "pub", true);
  mqc_packet p;
  for (uint16_t i = 0; i < 4; i++) {
    char pl[8];
    snprintf(pl, sizeof pl, "%u", (unsigned)i);
    publish(&t, pu, "job/1", pl, 0, false, 0, NULL);
  }
  expect_publish(&t, a, "job/1", "0", 0, &p);
  expect_publish(&t, a, "job/1", "2", 0, &p);
  expect_publish(&t, b, "job/1", "1", 0, &p);
  expect_publish(&t, b, "job/1", "3", 0, &p);
  rx_none(&t, a);
  rx_none(&t, b);
  cl_free(&t, a);
  cl_free(&t, b);
  cl_free(&t, pu);
  env_done(&t);
}

static void t_features_off(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.maximum_qos = 1;
  t.cfg.retain_available = false;
  t.cfg.wildcard_available = false;
  t.cfg.shared_available = false;
  static const char *deny[] = {"secret"};
  t.cfg.deny_filters = deny;
  t.cfg.deny_filter_count = 1;
  env_start(&t);
  client *c = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "c", .clean = true};
  send_connect(&t, c, &o);
  mqc_packet p;
  rx_type(&t, c, &p, MQC_CONNACK);
  uint32_t u = 9;
  assert_true(prop_u(&p.connack.props, MQC_PROP_MAXIMUM_QOS, &u));
  assert_int_equal(u, 1);
  assert_true(prop_u(&p.connack.props, MQC_PROP_RETAIN_AVAILABLE, &u));
  assert_int_equal(u, 0);
  subscribe(&t, c, 1, "a/#", 1, NULL, MQC_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED);
  subscribe(&t, c, 2, "$share/g/a", 1, NULL, MQC_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
  subscribe(&t, c, 3, "secret", 1, NULL, MQC_RC_NOT_AUTHORIZED);
  subscribe(&t, c, 4, "a", 2, NULL, 1); /* granted QoS capped */
  assert_int_equal(publish(&t, c, "a", "x", 2, false, 1, NULL), MQE_CLOSE);
  rx_type(&t, c, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_QOS_NOT_SUPPORTED);
  cl_free(&t, c);
  c = connected(&t, MQC_V5, "c2", true);
  assert_int_equal(publish(&t, c, "a", "x", 0, true, 0, NULL), MQE_CLOSE);
  rx_type(&t, c, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_RETAIN_NOT_SUPPORTED);
  cl_free(&t, c);
  env_done(&t);
}

/* max_keep_alive lowers a 5.0 client's Keep Alive above it (or 0) and says so;
 * one at or below it stands, and a 3.1.1 client (who cannot be told) keeps
 * its own. deny FILTER REASON answers with that SUBACK code (Paho's suite). */
static void t_max_keep_alive_and_deny_reason(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_keep_alive = 60;
  static const char *deny[] = {"test/nosubscribe", "secret"};
  static const uint8_t reasons[] = {MQC_RC_UNSPECIFIED_ERROR, MQC_RC_NOT_AUTHORIZED};
  t.cfg.deny_filters = deny;
  t.cfg.deny_reasons = reasons;
  t.cfg.deny_filter_count = 2;
  env_start(&t);
  const struct {
    mqc_version v;
    uint16_t ka;
    bool told;
    uint16_t want;
  } cases[] = {{MQC_V5, 120, true, 60},
               {MQC_V5, 0, true, 60},
               {MQC_V5, 60, false, 0},
               {MQC_V5, 5, false, 0},
               {MQC_V311, 120, false, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    client *c = cl_new(&t, cases[i].v);
    char id[8];
    snprintf(id, sizeof id, "k%zu", i);
    conn_opts o = {.id = id, .clean = true, .ka = cases[i].ka};
    send_connect(&t, c, &o);
    mqc_packet p;
    rx_type(&t, c, &p, MQC_CONNACK);
    uint32_t u = 0;
    assert_int_equal(prop_u(&p.connack.props, MQC_PROP_SERVER_KEEP_ALIVE, &u), cases[i].told);
    if (cases[i].told) assert_int_equal(u, cases[i].want);
    if (i == 0) {
      subscribe(&t, c, 1, "test/nosubscribe", 2, NULL, MQC_RC_UNSPECIFIED_ERROR);
      subscribe(&t, c, 2, "secret", 2, NULL, MQC_RC_NOT_AUTHORIZED);
      subscribe(&t, c, 3, "open", 2, NULL, 2);
    }
    if (i == 4) subscribe(&t, c, 1, "test/nosubscribe", 1, NULL, 0x80);
    cl_free(&t, c);
  }
  env_done(&t);
}

static bool acl_no_private(void *ctx, mqe_acl_op op, mqc_bytes id, mqc_bytes user,
                           mqc_bytes topic) {
  (void)ctx;
  (void)op;
  (void)id;
  (void)user;
  return !(topic.n >= 7 && !memcmp(topic.p, "private", 7));
}

static void t_auth_password_acl(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  static const mqe_user users[] = {{"alice", "pw"}};
  t.cfg.users = users;
  t.cfg.user_count = 1;
  t.cfg.allow_anonymous = false;
  t.cfg.acl = acl_no_private;
  env_start(&t);
  mqc_packet p;
  client *c = cl_new(&t, MQC_V311);
  conn_opts o = {.id = "c", .clean = true, .user = "alice", .pass = "bad"};
  assert_int_equal(send_connect(&t, c, &o), MQE_CLOSE);
  rx_type(&t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, 4);
  cl_free(&t, c);
  c = cl_new(&t, MQC_V5);
  o.user = NULL;
  assert_int_equal(send_connect(&t, c, &o), MQE_CLOSE);
  rx_type(&t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, MQC_RC_NOT_AUTHORIZED);
  cl_free(&t, c);
  c = cl_new(&t, MQC_V5);
  o.user = "alice";
  o.pass = "pw";
  connect_ok(&t, c, &o);
  subscribe(&t, c, 1, "private/x", 0, NULL, MQC_RC_NOT_AUTHORIZED);
  publish(&t, c, "private/x", "m", 1, false, 1, NULL);
  rx_type(&t, c, &p, MQC_PUBACK);
  assert_int_equal(p.ack.reason, MQC_RC_NOT_AUTHORIZED);
  publish(&t, c, "public", "m", 1, false, 2, NULL);
  rx_type(&t, c, &p, MQC_PUBACK);
  assert_int_equal(p.ack.reason, MQC_RC_NO_MATCHING_SUBSCRIBERS);
  cl_free(&t, c);
  env_done(&t);
}

static mqe_status send_auth(env *t, client *c, uint8_t reason, const uint8_t *d, size_t n) {
  pbuf ap = {0};
  pb_str(&ap, MQC_PROP_AUTHENTICATION_METHOD, "mqcheck-challenge");
  if (n) pb_bin(&ap, MQC_PROP_AUTHENTICATION_DATA, d, n);
  mqc_packet p;
  mqc_packet_init(&p, MQC_AUTH, MQC_V5);
  p.auth.reason = reason;
  p.auth.props = props_of(&ap);
  return tx(t, c, &p);
}

static void answer_challenge(const mqc_packet *p, uint8_t resp[8]) {
  mqc_prop pr;
  assert_true(mqc_props_get(&p->auth.props, MQC_PROP_AUTHENTICATION_DATA, &pr));
  assert_int_equal(pr.value.n, 16);
  mqe_challenge_response(mqc_cstr("s3cret"), pr.value, resp);
}

static void t_enhanced_auth(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  mqe_auth_method m = mqe_auth_challenge_method("s3cret");
  t.cfg.auth_methods = &m;
  t.cfg.auth_method_count = 1;
  env_start(&t);
  pbuf cp = {0};
  pb_str(&cp, MQC_PROP_AUTHENTICATION_METHOD, "mqcheck-challenge");
  conn_opts o = {.id = "ea", .clean = true, .props = &cp};
  client *c = cl_new(&t, MQC_V5);
  assert_int_equal(send_connect(&t, c, &o), MQE_OK);
  mqc_packet p;
  rx_type(&t, c, &p, MQC_AUTH);
  assert_int_equal(p.auth.reason, MQC_RC_CONTINUE_AUTHENTICATION);
  uint8_t resp[8];
  answer_challenge(&p, resp);
  assert_int_equal(send_auth(&t, c, MQC_RC_CONTINUE_AUTHENTICATION, resp, 8), MQE_OK);
  rx_type(&t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, 0);
  mqc_prop pr;
  assert_true(mqc_props_get(&p.connack.props, MQC_PROP_AUTHENTICATION_METHOD, &pr));
  /* re-authentication */
  assert_int_equal(send_auth(&t, c, MQC_RC_REAUTHENTICATE, NULL, 0), MQE_OK);
  rx_type(&t, c, &p, MQC_AUTH);
  assert_int_equal(p.auth.reason, MQC_RC_CONTINUE_AUTHENTICATION);
  answer_challenge(&p, resp);
  assert_int_equal(send_auth(&t, c, MQC_RC_CONTINUE_AUTHENTICATION, resp, 8), MQE_OK);
  rx_type(&t, c, &p, MQC_AUTH);
  assert_int_equal(p.auth.reason, MQC_RC_SUCCESS);
  /* failed re-authentication: DISCONNECT 0x87 */
  send_auth(&t, c, MQC_RC_REAUTHENTICATE, NULL, 0);
  rx_type(&t, c, &p, MQC_AUTH);
  resp[0] ^= 0xFF;
  assert_int_equal(send_auth(&t, c, MQC_RC_CONTINUE_AUTHENTICATION, resp, 8), MQE_CLOSE);
  rx_type(&t, c, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_NOT_AUTHORIZED);
  cl_free(&t, c);
  /* wrong answer at CONNECT: CONNACK 0x87 */
  c = cl_new(&t, MQC_V5);
  send_connect(&t, c, &o);
  rx_type(&t, c, &p, MQC_AUTH);
  memset(resp, 0, sizeof resp);
  assert_int_equal(send_auth(&t, c, MQC_RC_CONTINUE_AUTHENTICATION, resp, 8), MQE_CLOSE);
  rx_type(&t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, MQC_RC_NOT_AUTHORIZED);
  cl_free(&t, c);
  /* unknown method: 0x8C; packets other than AUTH while authenticating */
  c = cl_new(&t, MQC_V5);
  pbuf cp2 = {0};
  pb_str(&cp2, MQC_PROP_AUTHENTICATION_METHOD, "nope");
  o.props = &cp2;
  assert_int_equal(send_connect(&t, c, &o), MQE_CLOSE);
  rx_type(&t, c, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, MQC_RC_BAD_AUTHENTICATION_METHOD);
  cl_free(&t, c);
  c = cl_new(&t, MQC_V5);
  o.props = &cp;
  send_connect(&t, c, &o);
  rx_type(&t, c, &p, MQC_AUTH);
  assert_int_equal(publish(&t, c, "a", "b", 0, false, 0, NULL), MQE_CLOSE);
  assert_true(saw_violation(&t.ev, "MQTT-3.1.2-30"));
  cl_free(&t, c);
  /* AUTH without a method in CONNECT */
  c = connected(&t, MQC_V5, "plain", true);
  assert_int_equal(send_auth(&t, c, MQC_RC_REAUTHENTICATE, NULL, 0), MQE_CLOSE);
  assert_true(saw_violation(&t.ev, "MQTT-4.12.0-7"));
  cl_free(&t, c);
  env_done(&t);
}

static void t_caps(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_subscriptions = 2;
  t.cfg.max_queued = 2;
  t.cfg.max_retained = 1;
  t.cfg.max_sessions = 3;
  t.cfg.max_topic_levels = 3;
  env_start(&t);
  client *c = connected(&t, MQC_V5, "c", true);
  subscribe(&t, c, 1, "a", 0, NULL, 0);
  subscribe(&t, c, 2, "b", 0, NULL, 0);
  subscribe(&t, c, 3, "c", 0, NULL, MQC_RC_QUOTA_EXCEEDED);
  subscribe(&t, c, 4, "a", 1, NULL, 1); /* replacing is fine */
  subscribe(&t, c, 5, "x/y/z/w", 0, NULL, MQC_RC_QUOTA_EXCEEDED);
  mqc_packet p;
  publish(&t, c, "r1", "v", 1, true, 1, NULL);
  rx_type(&t, c, &p, MQC_PUBACK);
  publish(&t, c, "r2", "v", 1, true, 2, NULL);
  rx_type(&t, c, &p, MQC_PUBACK);
  assert_int_equal(p.ack.reason, MQC_RC_QUOTA_EXCEEDED);
  publish(&t, c, "r1", "v2", 1, true, 3, NULL); /* replacing is fine */
  rx_type(&t, c, &p, MQC_PUBACK);
  assert_int_equal(p.ack.reason, MQC_RC_NO_MATCHING_SUBSCRIBERS);
  /* offline queue cap */
  pbuf cp = {0};
  pb_int(&cp, MQC_PROP_SESSION_EXPIRY_INTERVAL, 100);
  client *s = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "s", .clean = true, .props = &cp};
  connect_ok(&t, s, &o);
  subscribe(&t, s, 1, "q", 1, NULL, 1);
  cl_close(&t, s, true);
  for (uint16_t i = 1; i <= 3; i++)
    publish(&t, c, "q", "m", 1, false, (uint16_t)(10 + i), NULL);
  rx_type(&t, c, &p, MQC_PUBACK);
  rx_type(&t, c, &p, MQC_PUBACK);
  rx_type(&t, c, &p, MQC_PUBACK);
  assert_int_equal(p.ack.reason, MQC_RC_QUOTA_EXCEEDED);
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  assert_int_equal(st.queued, 2);
  /* session cap */
  client *d = connected(&t, MQC_V5, "d", true);
  client *x = cl_new(&t, MQC_V5);
  conn_opts ox = {.id = "x", .clean = true};
  assert_int_equal(send_connect(&t, x, &ox), MQE_CLOSE);
  rx_type(&t, x, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, MQC_RC_QUOTA_EXCEEDED);
  free(s);
  cl_free(&t, x);
  cl_free(&t, d);
  cl_free(&t, c);
  env_done(&t);
}

/* A scenario exercising most paths; used for determinism and allocation
 * failure. Returns a hash of every byte the engine emitted. */
static uint64_t scenario(env *t, bool tolerant) {
  uint64_t h = 1469598103934665603ull;
  client *cs[3];
  mqc_version vs[3] = {MQC_V5, MQC_V311, MQC_V5};
  const char *ids[3] = {"s1", "s2", "p"};
  for (int i = 0; i < 3; i++) {
    cs[i] = calloc(1, sizeof *cs[i]);
    cs[i]->v = vs[i];
    if (mqe_conn_open(t->e, cs[i], t->now, &cs[i]->c) != MQE_OK) cs[i]->c = NULL;
  }
  for (int i = 0; i < 3; i++) {
    if (!cs[i]->c) continue;
    pbuf cp = {0};
    if (vs[i] == MQC_V5) pb_int(&cp, MQC_PROP_SESSION_EXPIRY_INTERVAL, 30);
    conn_opts o = {.id = ids[i],
                   .clean = i != 1,
                   .ka = 10,
                   .props = &cp,
                   .will_topic = "w/x",
                   .will_payload = "will",
                   .will_qos = 1};
    send_connect(t, cs[i], &o);
  }
  uint8_t list[128];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr("a/#"), 2);
  mqc_put_sub_entry(&w, mqc_cstr("a/+"), 1);
  mqc_put_sub_entry(&w, mqc_cstr("w/#"), 1);
  mqc_put_sub_entry(&w, mqc_cstr("$share/g/a/b"), 1);
  for (int i = 0; i < 2; i++) {
    if (!cs[i]->c || mqe_conn_should_close(cs[i]->c)) continue;
    mqc_packet p;
    mqc_packet_init(&p, MQC_SUBSCRIBE, vs[i]);
    p.subscribe.packet_id = 1;
    p.subscribe.list = (mqc_bytes){list, w.len};
    p.subscribe.count = 4;
    tx(t, cs[i], &p);
  }
  client *pu = cs[2];
  for (uint16_t k = 1; k <= 6 && pu->c && !mqe_conn_should_close(pu->c); k++) {
    pbuf mp = {0};
    pb_int(&mp, MQC_PROP_MESSAGE_EXPIRY_INTERVAL, 100);
    pb_pair(&mp, "k", "v");
    publish(t, pu, k % 2 ? "a/b" : "a/c", "payload", (uint8_t)(k % 3), k == 3, k, &mp);
    if (pu->c && !mqe_conn_should_close(pu->c) && k % 3 == 2) ack(t, pu, MQC_PUBREL, k, 0);
  }
  for (int i = 0; i < 2; i++) { /* acknowledge what arrived */
    mqc_packet p;
    while (cs[i]->c && rx(t, cs[i], &p)) {
      h = (h ^ p.type) * 1099511628211ull;
      if (mqe_conn_should_close(cs[i]->c)) continue;
      if (p.type == MQC_PUBLISH && p.publish.qos == 1)
        ack(t, cs[i], MQC_PUBACK, p.publish.packet_id, 0);
      if (p.type == MQC_PUBLISH && p.publish.qos == 2)
        ack(t, cs[i], MQC_PUBREC, p.publish.packet_id, 0);
      if (p.type == MQC_PUBREL) ack(t, cs[i], MQC_PUBCOMP, p.ack.packet_id, 0);
    }
  }
  if (cs[1]->c) cl_close(t, cs[1], true); /* will */
  advance(t, 16000);                      /* keep-alive of the others */
  advance(t, 31000);                      /* session expiry */
  for (int i = 0; i < 3; i++) {
    drain(t, cs[i]);
    for (size_t k = 0; k < cs[i]->len; k++)
      h = (h ^ cs[i]->buf[k]) * 1099511628211ull;
    cl_close(t, cs[i], true);
    free(cs[i]);
  }
  (void)tolerant;
  return h;
}

static void t_deterministic(void **state) {
  (void)state;
  env t;
  env_init(&t);
  uint64_t a = scenario(&t, false);
  env_done(&t);
  env_init(&t);
  uint64_t b = scenario(&t, false);
  env_done(&t);
  assert_true(a == b);
}

static void t_alloc_failures(void **state) {
  (void)state;
  env t;
  env_init(&t);
  scenario(&t, false);
  long total = t.al.allocs;
  env_done(&t);
  assert_true(total > 50);
  for (long n = 1; n <= total + 5; n++) {
    env_cfg(&t);
    t.al.fail_at = n;
    if (mqe_engine_new(&t.cfg, &t.e) != MQE_OK) {
      assert_int_equal(t.al.live, 0);
      continue;
    }
    scenario(&t, true);
    env_done(&t); /* invariants hold, nothing leaked */
  }
}

static void t_disconnect_once(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *c = connected(&t, MQC_V311, "c", true);
  const uint8_t two[] = {0xE0, 0, 0xE0, 0};
  t.ev.n = 0;
  assert_int_equal(tx_raw(&t, c, two, sizeof two), MQE_CLOSE);
  assert_int_equal(tx_raw(&t, c, two, 2), MQE_CLOSE);
  assert_int_equal(t.ev.n, 1);
  assert_int_equal(t.ev.type[0], MQE_EV_DISCONNECTED);
  cl_close(&t, c, true);
  assert_int_equal(t.ev.n, 1);
  free(c);
  env_done(&t);
}

static void t_shutdown(void **state) {
  (void)state;
  env t;
  env_init(&t);
  client *c = connected(&t, MQC_V5, "c", true);
  mqe_shutdown(t.e, t.now);
  drain_all(&t);
  mqc_packet p;
  rx_type(&t, c, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_SERVER_SHUTTING_DOWN);
  assert_true(mqe_conn_should_close(c->c));
  cl_free(&t, c);
  env_done(&t);
}

/* ---- Reason Strings (MQTT-3.1.2-29, 3.2.2-19/20, 3.4.2-2, 3.9.2-1, 3.14.2-3) */
static bool has_rs(const mqc_props *ps, const char **text) {
  mqc_prop pr;
  if (!mqc_props_get(ps, MQC_PROP_REASON_STRING, &pr)) return false;
  static char buf[256];
  snprintf(buf, sizeof buf, "%.*s", (int)pr.value.n, (const char *)pr.value.p);
  if (text) *text = buf;
  return true;
}

/* Sends SUBSCRIBE to a denied filter and a too-deep PUBLISH; returns whether
 * the SUBACK and the PUBACK carried Reason Strings. */
static void failures_rs(env *t, client *c, bool *sub_rs, bool *pub_rs) {
  uint8_t list[64];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr("secret/x"), 1);
  mqc_packet p;
  mqc_packet_init(&p, MQC_SUBSCRIBE, c->v);
  p.subscribe.packet_id = 5;
  p.subscribe.list = (mqc_bytes){list, w.len};
  p.subscribe.count = 1;
  assert_int_equal(tx(t, c, &p), MQE_OK);
  mqc_packet a;
  rx_type(t, c, &a, MQC_SUBACK);
  assert_int_equal(a.suback.reasons.p[0], MQC_RC_NOT_AUTHORIZED);
  *sub_rs = has_rs(&a.suback.props, NULL);
  publish(t, c, "a/b/c/d/e", "deep", 1, false, 6, NULL);
  rx_type(t, c, &a, MQC_PUBACK);
  assert_int_equal(a.ack.reason, MQC_RC_QUOTA_EXCEEDED);
  *pub_rs = has_rs(&a.ack.props, NULL);
  /* success codes never carry one */
  publish(t, c, "a/b", "fine", 1, false, 7, NULL);
  rx_type(t, c, &a, MQC_PUBACK);
  assert_false(has_rs(&a.ack.props, NULL));
}

static void t_reason_strings(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  static const char *const deny[] = {"secret/x"};
  t.cfg.deny_filters = deny;
  t.cfg.deny_filter_count = 1;
  t.cfg.max_topic_levels = 4;
  env_start(&t);
  bool sub_rs, pub_rs;
  /* Request Problem Information absent = 1: failures explain themselves */
  client *a = connected(&t, MQC_V5, "rpi-default", true);
  failures_rs(&t, a, &sub_rs, &pub_rs);
  assert_true(sub_rs);
  assert_true(pub_rs);
  /* 3.1.2-29: with 0, nothing but CONNACK/DISCONNECT may carry one */
  pbuf cp = {0};
  pb_int(&cp, MQC_PROP_REQUEST_PROBLEM_INFORMATION, 0);
  client *b = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "rpi-0", .clean = true, .props = &cp};
  connect_ok(&t, b, &o);
  failures_rs(&t, b, &sub_rs, &pub_rs);
  assert_false(sub_rs);
  assert_false(pub_rs);
  /* ... and DISCONNECT still may: a second CONNECT */
  assert_int_equal(send_connect(&t, b, &o), MQE_CLOSE);
  mqc_packet p;
  rx_type(&t, b, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_PROTOCOL_ERROR);
  const char *text = NULL;
  assert_true(has_rs(&p.disconnect.props, &text));
  assert_non_null(strstr(text, "MQTT-3.1.0-2"));
  /* never beyond the client's Maximum Packet Size: the property goes first */
  pbuf small = {0};
  pb_int(&small, MQC_PROP_MAXIMUM_PACKET_SIZE, 12);
  client *c = cl_new(&t, MQC_V5);
  conn_opts os = {.id = "tiny", .clean = true, .props = &small};
  connect_ok(&t, c, &os);
  failures_rs(&t, c, &sub_rs, &pub_rs);
  assert_false(sub_rs);
  assert_false(pub_rs);
  assert_int_equal(send_connect(&t, c, &os), MQE_CLOSE);
  rx_type(&t, c, &p, MQC_DISCONNECT);
  assert_false(has_rs(&p.disconnect.props, NULL));
  /* refused CONNECT: CONNACK carries one, within the limit too */
  client *d = cl_new(&t, MQC_V5);
  pbuf am = {0};
  pb_str(&am, MQC_PROP_AUTHENTICATION_METHOD, "no-such-method");
  conn_opts od = {.id = "refused", .clean = true, .props = &am};
  assert_int_equal(send_connect(&t, d, &od), MQE_CLOSE);
  rx_type(&t, d, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, MQC_RC_BAD_AUTHENTICATION_METHOD);
  assert_true(has_rs(&p.connack.props, &text));
  assert_non_null(strstr(text, "MQTT-4.12.0-1"));
  client *e2 = cl_new(&t, MQC_V5);
  pb_int(&am, MQC_PROP_MAXIMUM_PACKET_SIZE, 8);
  assert_int_equal(send_connect(&t, e2, &od), MQE_CLOSE);
  rx_type(&t, e2, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, MQC_RC_BAD_AUTHENTICATION_METHOD);
  assert_false(has_rs(&p.connack.props, NULL));
  /* 3.1.1 clients never see properties */
  client *f = connected(&t, MQC_V311, "v311", true);
  publish(&t, f, "a/b/c/d/e", "deep", 1, false, 1, NULL);
  rx_type(&t, f, &p, MQC_PUBACK);
  cl_free(&t, a);
  cl_free(&t, b);
  cl_free(&t, c);
  cl_free(&t, d);
  cl_free(&t, e2);
  cl_free(&t, f);
  env_done(&t);
}

/* A CONNACK never carries a DISCONNECT-only code (MQTT-3.2.2-8), whatever
 * the engine is closing for; kick validates its reason. */
static void t_connack_codes(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  static mqe_auth_method m;
  m = mqe_auth_challenge_method("s3cret");
  t.cfg.auth_methods = &m;
  t.cfg.auth_method_count = 1;
  env_start(&t);
  pbuf am = {0};
  pb_str(&am, MQC_PROP_AUTHENTICATION_METHOD, "mqcheck-challenge");
  client *a = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "auth", .clean = true, .props = &am};
  assert_int_equal(send_connect(&t, a, &o), MQE_OK);
  mqc_packet p;
  rx_type(&t, a, &p, MQC_AUTH);
  mqe_conn_kick(t.e, a->c, MQC_RC_SERVER_SHUTTING_DOWN, t.now);
  drain_all(&t);
  rx_type(&t, a, &p, MQC_CONNACK);
  assert_int_equal(p.connack.reason, MQC_RC_SERVER_UNAVAILABLE);
  client *b = connected(&t, MQC_V5, "kicked", true);
  mqe_conn_kick(t.e, b->c, 0x70, t.now); /* not a DISCONNECT code */
  drain_all(&t);
  rx_type(&t, b, &p, MQC_DISCONNECT);
  assert_int_equal(p.disconnect.reason, MQC_RC_UNSPECIFIED_ERROR);
  cl_free(&t, a);
  cl_free(&t, b);
  env_done(&t);
}

/* Slow reader: a client that publishes QoS 1 and never reads. Output stays
 * within max_output_bytes + one reply, input is held undecoded, the caller
 * is told to stop reading, and it all resumes in order once output drains. */
static void t_back_pressure(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_output_bytes = 64;
  env_start(&t);
  client *c = connected(&t, MQC_V311, "slow", true);
  uint8_t pkts[40 * 9];
  size_t n = 0;
  for (uint16_t i = 1; i <= 40; i++) { /* PUBLISH QoS 1, topic "t", empty */
    uint8_t one[] = {0x32, 7, 0, 1, 't', (uint8_t)(i >> 8), (uint8_t)i, 'x', 'y'};
    memcpy(pkts + n, one, sizeof one);
    n += sizeof one;
  }
  /* feed without draining: the caller does not write to the client */
  assert_int_equal(mqe_conn_recv(t.e, c->c, pkts, n, t.now), MQE_OK);
  check(&t);
  const uint8_t *out;
  size_t pending;
  mqe_conn_pending(c->c, &out, &pending);
  assert_true(pending >= 64 && pending <= 64 + 4); /* cap + one PUBACK */
  assert_false(mqe_conn_wants_input(t.e, c->c));
  size_t in_buf, out_buf;
  mqe_conn_buffered(c->c, &in_buf, &out_buf);
  assert_true(in_buf > 0 && in_buf <= 512);
  /* drain: every PUBACK arrives, in order, exactly once */
  uint16_t want = 1;
  mqc_packet p;
  for (int k = 0; k < 100 && want <= 40; k++) { /* bounded */
    if (!rx(&t, c, &p)) break;
    assert_int_equal(p.type, MQC_PUBACK);
    assert_int_equal(p.ack.packet_id, want);
    want++;
  }
  assert_int_equal(want, 41);
  assert_true(mqe_conn_wants_input(t.e, c->c));
  check(&t);
  cl_free(&t, c);
  env_done(&t);
}

static void t_back_pressure_limit(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_output_bytes = 64;
  t.cfg.maximum_packet_size = 128;
  env_start(&t);
  client *c = connected(&t, MQC_V5, "ignores", true);
  uint8_t one[] = {0x32, 8, 0, 1, 't', 0, 1, 0, 'x', 'y'};
  mqe_status st = MQE_OK;
  for (int i = 0; i < 1000 && st == MQE_OK; i++) /* never drains */
    st = mqe_conn_recv(t.e, c->c, one, sizeof one, t.now);
  assert_int_equal(st, MQE_CLOSE);
  check(&t);
  size_t in_buf = 0;
  mqe_conn_buffered(c->c, &in_buf, NULL);
  assert_true(in_buf <= 2 * (64 + 128));
  bool limit = false;
  for (int i = 0; i < t.ev.n; i++)
    limit |= t.ev.type[i] == MQE_EV_LIMIT;
  assert_true(limit);
  cl_free(&t, c);
  env_done(&t);
}

/* Wide levels: 5000 siblings are found through the child table, and every
 * one still matches exactly its own subscriber. */
static void t_wide_level(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_subscriptions = 10000;
  env_start(&t);
  client *c = connected(&t, MQC_V311, "wide", true);
  char f[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(f, sizeof f, "w/%d", i);
    subscribe(&t, c, (uint16_t)(i + 1), f, 0, NULL, 0);
  }
  check(&t);
  mqc_packet p;
  for (int i = 0; i < 5000; i += 997) {
    snprintf(f, sizeof f, "w/%d", i);
    publish(&t, c, f, "x", 0, false, 0, NULL);
    rx_type(&t, c, &p, MQC_PUBLISH);
    assert_int_equal(p.publish.topic.n, strlen(f));
    assert_memory_equal(p.publish.topic.p, f, strlen(f));
    rx_none(&t, c);
  }
  publish(&t, c, "w/5000", "x", 0, false, 0, NULL);
  rx_none(&t, c);
  /* unsubscribing prunes the nodes from the table too */
  uint8_t list[64];
  for (int i = 0; i < 5000; i += 2) {
    snprintf(f, sizeof f, "w/%d", i);
    mqc_writer w;
    mqc_writer_init(&w, list, sizeof list);
    mqc_put_str(&w, mqc_cstr(f));
    mqc_packet u;
    mqc_packet_init(&u, MQC_UNSUBSCRIBE, c->v);
    u.subscribe.packet_id = 1;
    u.subscribe.list = (mqc_bytes){list, w.len};
    u.subscribe.count = 1;
    tx(&t, c, &u);
    rx_type(&t, c, &p, MQC_UNSUBACK);
  }
  check(&t);
  publish(&t, c, "w/2", "x", 0, false, 0, NULL);
  rx_none(&t, c);
  publish(&t, c, "w/3", "x", 0, false, 0, NULL);
  rx_type(&t, c, &p, MQC_PUBLISH);
  cl_free(&t, c);
  env_done(&t);
}

/* ---- overload: back-pressure and drop policies ----------------------------- */

/* n PUBLISH packets to topic with 4-byte big-endian sequence payloads
 * first..first+n-1 (packet id = sequence) into b; returns the length. */
static size_t pubs(mqc_version v, const char *topic, uint8_t qos, uint32_t first, uint32_t n,
                   uint8_t *b, size_t cap) {
  size_t len = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t seq = first + i;
    uint8_t pl[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq};
    mqc_packet p;
    mqc_packet_init(&p, MQC_PUBLISH, v);
    p.publish.topic = mqc_cstr(topic);
    p.publish.payload = (mqc_bytes){pl, 4};
    p.publish.qos = qos;
    p.publish.packet_id = qos ? (uint16_t)(seq % 65535 + 1) : 0;
    p.flags = (uint8_t)(qos << 1);
    size_t k;
    assert_int_equal(mqc_encode(&p, v, b + len, cap - len, &k), MQC_OK);
    len += k;
  }
  return len;
}

typedef struct {
  uint32_t got, dups, disorder, last;
  uint8_t seen[4096];
} tally;

/* Reads everything c has; acknowledges QoS 1/2 deliveries at once. Returns
 * how many PUBLISH arrived. */
static uint32_t take(env *t, client *c, tally *y) {
  mqc_packet p;
  uint32_t n = 0;
  for (int k = 0; k < 100000 && rx(t, c, &p); k++) { /* bounded */
    if (p.type != MQC_PUBLISH || p.publish.payload.n != 4) continue;
    const uint8_t *q = p.publish.payload.p;
    uint32_t seq = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    uint16_t pid = p.publish.packet_id;
    uint8_t qos = p.publish.qos;
    assert_true(seq < sizeof y->seen);
    if (y->seen[seq]) y->dups++;
    if (seq <= y->last) y->disorder++;
    y->seen[seq] = 1;
    y->last = seq;
    y->got++;
    n++;
    if (qos == 1) ack(t, c, MQC_PUBACK, pid, 0);
    if (qos == 2) ack(t, c, MQC_PUBREC, pid, 0);
  }
  return n;
}

static uint32_t count_acks(env *t, client *c, mqc_type type) {
  mqc_packet p;
  uint32_t n = 0;
  for (int k = 0; k < 100000 && rx(t, c, &p); k++) /* bounded */
    if (p.type == type) n++;
  return n;
}

static void sum_drop(void *ctx, const char *id, uint64_t n) {
  (void)id;
  *(uint64_t *)ctx += n;
}

/* One publisher floods N messages at qos to a subscriber that does not read
 * until the publisher is done; then the subscriber reads everything.
 * Returns the messages the subscriber missed, after checking that every
 * count of drops (stats, per session, events) equals it. */
static uint32_t flood(mqe_overload pol, uint8_t qos, uint32_t N, bool *stalled) {
  env t;
  env_cfg(&t);
  t.cfg.max_queued = 8;
  t.cfg.max_output_bytes = 64;
  t.cfg.overload = pol;
  t.cfg.slow_subscriber_ms = 0; /* never kick: this is about the policy */
  env_start(&t);
  client *s = connected(&t, MQC_V5, "s", true);
  subscribe(&t, s, 1, "t", qos, NULL, qos);
  client *p = connected(&t, MQC_V5, "p", true);
  s->hold = true;
  static uint8_t b[1 << 16];
  *stalled = false;
  uint32_t acks = 0;
  for (uint32_t first = 1; first <= N; first += 10) {
    size_t n = pubs(MQC_V5, "t", qos, first, 10, b, sizeof b);
    assert_int_equal(tx_raw(&t, p, b, n), MQE_OK);
    *stalled |= mqe_conn_stalled(p->c);
    if (qos == 1) acks += count_acks(&t, p, MQC_PUBACK);
    mqe_stats st;
    mqe_get_stats(t.e, &st);
    /* bounded: the cap, one over it, the in-flight window */
    assert_true(st.queued <= t.cfg.max_queued + 1);
  }
  s->hold = false;
  tally y;
  memset(&y, 0, sizeof y);
  for (int k = 0; k < 10000; k++) { /* bounded: each turn delivers or stops */
    drain_all(&t);
    uint32_t got = take(&t, s, &y);
    if (qos == 1) acks += count_acks(&t, p, MQC_PUBACK);
    if (!got) break;
  }
  if (qos == 1) assert_int_equal(acks, N); /* every PUBLISH acknowledged */
  assert_int_equal(y.dups, 0);
  assert_int_equal(y.disorder, 0);
  uint32_t missed = N - y.got;
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  uint64_t per_session = 0;
  mqe_each_dropped(t.e, 10, sum_drop, &per_session);
  assert_int_equal(st.msgs_dropped, missed);
  assert_int_equal(per_session, missed);
  assert_int_equal(t.ev.dropped, missed);
  assert_false(mqe_conn_stalled(p->c));
  cl_free(&t, s);
  cl_free(&t, p);
  env_done(&t);
  return missed;
}

/* Each policy: what the subscriber misses is exactly what is counted. */
static void t_overload_policies(void **state) {
  (void)state;
  bool stalled;
  /* back-pressure: nothing lost at any QoS; the publisher was held */
  assert_int_equal(flood(MQE_OVERLOAD_BACKPRESSURE, 0, 300, &stalled), 0);
  assert_true(stalled);
  assert_int_equal(flood(MQE_OVERLOAD_BACKPRESSURE, 1, 300, &stalled), 0);
  assert_true(stalled);
  /* drop-qos0: QoS 0 dropped and counted; QoS 1 held back, not lost */
  assert_true(flood(MQE_OVERLOAD_DROP_QOS0, 0, 300, &stalled) > 0);
  assert_false(stalled);
  assert_int_equal(flood(MQE_OVERLOAD_DROP_QOS0, 1, 300, &stalled), 0);
  assert_true(stalled);
  /* drop: mosquitto's behaviour, every loss counted */
  assert_true(flood(MQE_OVERLOAD_DROP, 0, 300, &stalled) > 0);
  assert_false(stalled);
  assert_true(flood(MQE_OVERLOAD_DROP, 1, 300, &stalled) > 0);
  assert_false(stalled);
}

/* A client that publishes to its own subscription: while stalled on its own
 * queue, its PUBACKs are still dispatched, so it drains it and never
 * deadlocks. */
static void t_overload_self(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_queued = 4;
  t.cfg.max_inflight = 2;
  t.cfg.slow_subscriber_ms = 0;
  env_start(&t);
  client *c = connected(&t, MQC_V311, "self", true);
  subscribe(&t, c, 1, "me", 1, NULL, 1);
  static uint8_t b[1 << 16];
  size_t n = pubs(MQC_V311, "me", 1, 1, 200, b, sizeof b);
  assert_int_equal(tx_raw(&t, c, b, n), MQE_OK); /* floods its own queue */
  assert_true(mqe_conn_stalled(c->c));
  tally y;
  memset(&y, 0, sizeof y);
  for (int k = 0; k < 10000 && y.got < 200; k++) /* bounded */
    if (!take(&t, c, &y)) break;                 /* its acks go in behind held PUBLISH */
  assert_int_equal(y.got, 200);
  assert_int_equal(y.dups, 0);
  assert_int_equal(y.disorder, 0);
  assert_false(mqe_conn_stalled(c->c));
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  assert_int_equal(st.msgs_dropped, 0);
  cl_free(&t, c);
  env_done(&t);
}

/* A subscriber that stops reading is disconnected after slow_subscriber_ms
 * (0x97), its session kept; the publisher goes on; the offline queue keeps
 * max_queued and counts the rest; a publisher on another topic was never
 * held back. */
static void t_overload_slow_subscriber(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_queued = 8;
  t.cfg.max_output_bytes = 64;
  t.cfg.slow_subscriber_ms = 5000;
  env_start(&t);
  pbuf cp = {0};
  pb_int(&cp, MQC_PROP_SESSION_EXPIRY_INTERVAL, 100);
  client *s = cl_new(&t, MQC_V5);
  conn_opts o = {.id = "s", .clean = true, .props = &cp};
  connect_ok(&t, s, &o);
  subscribe(&t, s, 1, "t", 1, NULL, 1);
  client *other = connected(&t, MQC_V5, "o", true);
  subscribe(&t, other, 1, "u", 1, NULL, 1);
  client *p = connected(&t, MQC_V5, "p", true);
  client *q = connected(&t, MQC_V5, "q", true);
  s->hold = true;
  static uint8_t b[1 << 16];
  size_t n = pubs(MQC_V5, "t", 1, 1, 200, b, sizeof b);
  assert_int_equal(tx_raw(&t, p, b, n), MQE_OK);
  assert_true(mqe_conn_stalled(p->c));
  uint32_t acked = count_acks(&t, p, MQC_PUBACK);
  assert_true(acked < 200);
  /* unrelated topic: served at once while p waits */
  n = pubs(MQC_V5, "u", 1, 1, 50, b, sizeof b);
  assert_int_equal(tx_raw(&t, q, b, n), MQE_OK);
  assert_false(mqe_conn_stalled(q->c));
  assert_int_equal(count_acks(&t, q, MQC_PUBACK), 50);
  tally yo;
  memset(&yo, 0, sizeof yo);
  assert_int_equal(take(&t, other, &yo), 50);
  advance(&t, 4000);
  assert_true(mqe_conn_stalled(p->c)); /* not yet */
  advance(&t, 1001);
  assert_false(mqe_conn_stalled(p->c));
  assert_true(mqe_conn_should_close(s->c));
  s->hold = false;
  mqc_packet pk;
  bool disc = false;
  while (rx(&t, s, &pk)) /* bounded by its output */
    if (pk.type == MQC_DISCONNECT) {
      disc = true;
      assert_int_equal(pk.disconnect.reason, MQC_RC_QUOTA_EXCEEDED);
    }
  assert_true(disc);
  cl_close(&t, s, false);
  acked += count_acks(&t, p, MQC_PUBACK);
  assert_int_equal(acked, 200); /* all acknowledged: the offline queue took or counted each */
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  assert_true(st.msgs_dropped > 0);
  assert_int_equal(t.ev.dropped, st.msgs_dropped);
  /* resume: what is missing is what was counted */
  s->c = NULL;
  assert_int_equal(mqe_conn_open(t.e, s, t.now, &s->c), MQE_OK);
  s->off = s->len = 0;
  conn_opts o2 = {.id = "s", .clean = false, .props = &cp};
  assert_true(connect_ok(&t, s, &o2));
  tally y;
  memset(&y, 0, sizeof y);
  for (int k = 0; k < 1000; k++) /* bounded */
    if (!take(&t, s, &y)) break;
  assert_int_equal(y.dups, 0);
  assert_int_equal((uint64_t)(200 - y.got), st.msgs_dropped);
  cl_free(&t, s);
  cl_free(&t, other);
  cl_free(&t, p);
  cl_free(&t, q);
  env_done(&t);
}

/* Publishers that come and go while a subscriber's queue is full: each is
 * let past the cap once and stalled, then leaves. The excess they left is
 * acknowledged, so it stays when the subscriber goes offline, and it must
 * stay bounded however many publishers came. */
static void t_overload_publisher_churn(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_queued = 4;
  t.cfg.max_output_bytes = 64;
  t.cfg.slow_subscriber_ms = 0;
  env_start(&t);
  client *s = connected(&t, MQC_V311, "s", false);
  subscribe(&t, s, 1, "t", 1, NULL, 1);
  s->hold = true;
  static uint8_t b[1 << 12];
  for (uint16_t i = 0; i < 20; i++) {
    client *p = connected(&t, MQC_V311, "p", true);
    size_t n = pubs(MQC_V311, "t", 1, (uint16_t)(1 + 3 * i), 3, b, sizeof b);
    assert_int_equal(tx_raw(&t, p, b, n), MQE_OK);
    cl_free(&t, p); /* checks the invariants */
  }
  /* at most one over the cap per connection and session open (s and one
   * publisher); the rest was dropped and counted */
  mqe_stats st;
  mqe_get_stats(t.e, &st);
  assert_true(st.queued <= t.cfg.max_queued + 4);
  assert_true(st.msgs_dropped > 0);
  assert_int_equal(t.ev.dropped, st.msgs_dropped);
  /* offline, the session keeps what it holds: nothing more is dropped */
  cl_close(&t, s, true);
  mqe_stats st2;
  mqe_get_stats(t.e, &st2);
  assert_int_equal(st2.queued, st.queued);
  assert_int_equal(st2.msgs_dropped, st.msgs_dropped);
  free(s);
  env_done(&t);
}

/* Packet identifiers wrap past 65535 while the oldest delivery stays
 * unacknowledged: its identifier is skipped, never reused (MQTT-2.2.1-4). */
static void t_pid_wrap(void **state) {
  (void)state;
  env t;
  env_cfg(&t);
  t.cfg.max_inflight = 3;
  env_start(&t);
  client *s = connected(&t, MQC_V311, "s", true);
  subscribe(&t, s, 1, "w", 1, NULL, 1);
  client *p = connected(&t, MQC_V311, "p", true);
  static uint8_t b[1 << 12];
  mqc_packet pk;
  uint16_t stuck = 0;
  uint32_t got = 0;
  bool reused = false;
  for (uint32_t first = 1; first <= 70000; first += 100) {
    size_t n = pubs(MQC_V311, "w", 1, first, 100, b, sizeof b);
    assert_int_equal(mqe_conn_recv(t.e, p->c, b, n, t.now), MQE_OK);
    drain_all(&t);
    while (rx(&t, s, &pk)) { /* bounded by the output */
      if (pk.type != MQC_PUBLISH) continue;
      got++;
      if (!stuck) { /* never acknowledge the first one */
        stuck = pk.publish.packet_id;
        continue;
      }
      assert_int_equal(pk.publish.qos, 1);
      reused |= pk.publish.packet_id == stuck;
      ack(&t, s, MQC_PUBACK, pk.publish.packet_id, 0);
    }
    count_acks(&t, p, MQC_PUBACK);
  }
  assert_int_equal(got, 70000);
  assert_false(reused);
  check(&t);
  cl_free(&t, s);
  cl_free(&t, p);
  env_done(&t);
}

/* Issue 18: every mqe_fault value has its row in engine/faults.c, with a
 * unique name the lookup (and so `mutants --fault NAME`) finds, a statement
 * of the catalog in at least one version, and a description. A value added
 * to the enum without its row leaves a zeroed entry (NULL name) behind. */
static void t_fault_table(void **state) {
  (void)state;
  mqspec_catalog cat[MQSPEC_NVERSIONS];
  char err[200];
  assert_int_equal(mqspec_load_embedded(&cat[MQSPEC_V311], MQSPEC_V311, err, sizeof err), 0);
  assert_int_equal(mqspec_load_embedded(&cat[MQSPEC_V5], MQSPEC_V5, err, sizeof err), 0);
  assert_int_equal(mqe_fault_count(), MQE_FAULT__END - 1);
  assert_null(mqe_fault_at(mqe_fault_count()));
  for (unsigned v = MQE_FAULT_NONE + 1; v < MQE_FAULT__END; v++) {
    const mqe_fault_info *f = mqe_fault_at(v - 1);
    assert_non_null(f);
    if (!f->name || !f->name[0] || f->id != v) fail_msg("mqe_fault %u has no row in faults.c", v);
    assert_ptr_equal(mqe_fault_lookup(f->name), f);
    assert_true(f->what && f->what[0]);
    assert_true(f->stmt_311 || f->stmt_5);
    const char *st[MQSPEC_NVERSIONS] = {f->stmt_311, f->stmt_5};
    for (unsigned k = 0; k < MQSPEC_NVERSIONS; k++)
      if (st[k] && !mqspec_find(&cat[k], st[k]))
        fail_msg("%s: %s is not in the %s catalog", f->name, st[k], k ? "5.0" : "3.1.1");
    for (unsigned w = MQE_FAULT_NONE + 1; w < v; w++)
      if (!strcmp(mqe_fault_at(w - 1)->name, f->name)) fail_msg("%s twice", f->name);
  }
  assert_null(mqe_fault_lookup("no-such-fault"));
  mqspec_free(&cat[MQSPEC_V311]);
  mqspec_free(&cat[MQSPEC_V5]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_connect_ping_311),
      cmocka_unit_test(t_fault_table),
      cmocka_unit_test(t_first_packet_not_connect),
      cmocka_unit_test(t_second_connect_v5),
      cmocka_unit_test(t_byte_by_byte),
      cmocka_unit_test(t_unsupported_version),
      cmocka_unit_test(t_client_id_rules),
      cmocka_unit_test(t_qos012_311),
      cmocka_unit_test(t_qos_downgrade_and_overlap_311),
      cmocka_unit_test(t_wildcards_and_dollar),
      cmocka_unit_test(t_retained),
      cmocka_unit_test(t_retain_handling_v5),
      cmocka_unit_test(t_keepalive_and_will),
      cmocka_unit_test(t_will_v5_delay),
      cmocka_unit_test(t_session_resume_redelivery),
      cmocka_unit_test(t_takeover_v5),
      cmocka_unit_test(t_session_expiry_v5),
      cmocka_unit_test(t_topic_alias_inbound),
      cmocka_unit_test(t_topic_alias_outbound),
      cmocka_unit_test(t_receive_maximum_out),
      cmocka_unit_test(t_receive_maximum_in),
      cmocka_unit_test(t_max_packet_size_out),
      cmocka_unit_test(t_packet_too_large_in),
      cmocka_unit_test(t_message_expiry_and_props),
      cmocka_unit_test(t_subids_nolocal_v5),
      cmocka_unit_test(t_shared_round_robin),
      cmocka_unit_test(t_features_off),
      cmocka_unit_test(t_max_keep_alive_and_deny_reason),
      cmocka_unit_test(t_auth_password_acl),
      cmocka_unit_test(t_enhanced_auth),
      cmocka_unit_test(t_caps),
      cmocka_unit_test(t_shutdown),
      cmocka_unit_test(t_disconnect_once),
      cmocka_unit_test(t_deterministic),
      cmocka_unit_test(t_alloc_failures),
      cmocka_unit_test(t_reason_strings),
      cmocka_unit_test(t_connack_codes),
      cmocka_unit_test(t_back_pressure),
      cmocka_unit_test(t_back_pressure_limit),
      cmocka_unit_test(t_overload_policies),
      cmocka_unit_test(t_overload_self),
      cmocka_unit_test(t_overload_slow_subscriber),
      cmocka_unit_test(t_overload_publisher_churn),
      cmocka_unit_test(t_pid_wrap),
      cmocka_unit_test(t_wide_level),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
