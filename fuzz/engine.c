/* engine.c - fuzz target: the broker engine driven by several clients.
 *
 * Input: MQF_ENGINE_PREFIX config bytes, then op records (engine_ops.h):
 * raw or canned client packets fed in chunks to up to four connections,
 * virtual-clock advances (including jumps to the next deadline), output
 * drains with optional automatic QoS acknowledgement, abrupt and graceful
 * closes, kicks, and shutdown. Allocation goes through a counting allocator
 * that can fail the Nth allocation.
 *
 * Oracles, after every op that calls the engine: mqe_check_invariants()
 * (caps, unique in-flight IDs, consistent counts, no leaked objects), the
 * stats against the configured caps and against the allocator's own count;
 * every byte the engine sends must frame and decode as a server-to-client
 * packet of the connection's version; recv's status agrees with
 * should_close; every event is well formed (on_event); at the end, after
 * mqe_engine_free, nothing may be left allocated. */
#include <string.h>

#include "engine_ops.h"
#include "fuzz.h"
#include "mqe.h"

#define RX_CAP 8192

/* MQF_ENGINE_TRACE=1 prints the engine's events; read once per process. */
static bool trace_events;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  trace_events = getenv("MQF_ENGINE_TRACE") != NULL;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("engine");
}

/* ------------------------------------------------------------------------ */
/* Counting, failing allocator                                              */
/* ------------------------------------------------------------------------ */

typedef struct {
  uint64_t live_bytes, live_count, calls, fail_at; /* fail_at: 1-based call, 0 = never */
} counter;

static void *count_malloc(void *ctx, size_t size) {
  counter *c = ctx;
  if (++c->calls == c->fail_at) return NULL;
  void *p = malloc(size ? size : 1);
  if (p) c->live_bytes += size, c->live_count++;
  return p;
}

static void count_free(void *ctx, void *ptr, size_t size) {
  counter *c = ctx;
  if (!ptr) return;
  MQF_CHECK(c->live_count > 0 && c->live_bytes >= size, "free of %zu bytes, %llu live", size,
            (unsigned long long)c->live_bytes);
  c->live_bytes -= size, c->live_count--;
  free(ptr);
}

/* ------------------------------------------------------------------------ */
/* Harness state                                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
  mqe_conn *c;
  mqc_version ver;    /* from the first CONNECT we fed that decoded; 0 unknown */
  bool checked;       /* output is being decoded (off after an overflow) */
  uint8_t rx[RX_CAP]; /* output reassembly */
  size_t rx_len;
  uint8_t nonce[16]; /* last AUTH data from the server (challenge) */
  size_t nonce_len;
} slot;

typedef struct {
  mqe_engine *e;
  mqe_config cfg;
  counter alloc;
  slot s[MQF_ENGINE_CONNS];
  uint64_t now;
  uint64_t base_bytes, base_count; /* allocator minus engine stats after creation */
  bool touched; /* an engine call that can change its state ran since the last check */
} harness;

/* Every event the engine raises is checked (and, with MQF_ENGINE_TRACE=1,
 * printed to see how deep an input gets: replay_engine FILE). The checks
 * read every string, so a dangling or unterminated one shows under ASan. */
static void on_event(void *ctx, const mqe_event *ev) {
  const harness *h = ctx;
  MQF_CHECK(ev->message && ev->client_id, "event %d without message or client id", (int)ev->type);
  MQF_CHECK(strlen(ev->message) < 4096 && strlen(ev->client_id) < 65536,
            "event %d with an overlong message or client id", (int)ev->type);
  const slot *u = ev->conn_user;
  MQF_CHECK(!u || (u >= h->s && u < h->s + MQF_ENGINE_CONNS),
            "event %d for a connection the harness did not open", (int)ev->type);
  MQF_CHECK(!ev->statement || !strncmp(ev->statement, "MQTT-", 5),
            "event %d cites \"%s\", not a statement ID", (int)ev->type, ev->statement);
  if (!trace_events) return;
  fprintf(stderr, "  t=%llu ev=%d conn=%p id=\"%s\" v=%d reason=0x%02x %s%s%s\n",
          (unsigned long long)ev->now, (int)ev->type, ev->conn_user, ev->client_id,
          (int)ev->version, ev->reason, ev->message, ev->statement ? " " : "",
          ev->statement ? ev->statement : "");
}

/* With the deny rules on, an ACL callback also runs. Each of its refusals
 * is reachable from the canned packets: publishing to "x" or to a topic
 * starting "a/c",
 * subscribing to "+/+/+", a will from client "c1"; the user bob is refused
 * everything. */
static bool acl_rule(void *ctx, mqe_acl_op op, mqc_bytes client_id, mqc_bytes username,
                     mqc_bytes topic) {
  (void)ctx;
  if (mqc_bytes_eq(username, mqc_cstr("bob"))) return false;
  switch (op) {
  case MQE_ACL_PUBLISH:
    return !mqc_bytes_eq(topic, mqc_cstr("x")) &&
           !(topic.n >= 3 && !memcmp(topic.p, "a/c", 3)); /* a prefix, not a level */
  case MQE_ACL_SUBSCRIBE:
    return !mqc_bytes_eq(topic, mqc_cstr("+/+/+"));
  case MQE_ACL_WILL:
    return !mqc_bytes_eq(client_id, mqc_cstr("c1"));
  }
  return true;
}

static const char SECRET[] = "s3cret";
static const mqe_user USERS[] = {{"alice", "secret"}, {"bob", ""}};
static const char *const DENY[] = {"deny/#", "$SYS/#"};

static void configure(harness *h, const uint8_t *pre) {
  static mqe_auth_method method;
  mqe_config *c = &h->cfg;
  mqe_config_default(c);
  /* Zero bits mean full features, so most inputs exercise everything. */
  c->maximum_qos = (uint8_t)((pre[0] & 3) == 3 ? 2 : 2 - (pre[0] & 3));
  c->retain_available = !(pre[0] & 4);
  c->wildcard_available = !(pre[0] & 8);
  c->sub_id_available = !(pre[0] & 16);
  c->shared_available = !(pre[0] & 32);
  c->assign_client_ids = !(pre[0] & 64);
  c->strict_client_ids = pre[0] & 128;
  if (pre[1] & 0x80) { /* small caps, to reach every limit quickly */
    c->max_queued = 1 + (pre[1] & 3);
    c->max_inflight = (uint16_t)(1 + (pre[1] >> 2 & 3));
    c->receive_maximum = (uint16_t)(1 + (pre[1] >> 4 & 1));
    c->topic_alias_maximum = (uint16_t)(pre[1] >> 5 & 3);
    c->max_connections = 3;
    c->max_sessions = 3;
    c->max_subscriptions = 2;
  }
  h->alloc.fail_at = pre[2];
  if (pre[3] & 1) {
    c->users = USERS;
    c->user_count = 2;
    c->allow_anonymous = false;
  }
  if (pre[3] & 2) {
    method = mqe_auth_challenge_method(SECRET);
    c->auth_methods = &method;
    c->auth_method_count = 1;
  }
  if (pre[3] & 4) c->outbound_aliases = 4;
  if (pre[3] & 8) c->server_keep_alive = 10;
  if (pre[3] & 16) c->max_output_bytes = 256;
  if (pre[3] & 32) c->max_session_expiry = 60;
  if (pre[3] & 64) {
    c->deny_filters = DENY;
    c->deny_filter_count = 2;
    c->acl = acl_rule;
  }
  if (pre[3] & 128) {
    c->max_retained = 2;
    c->max_retained_bytes = 64;
    c->max_topic_levels = 4;
  }
  c->seed = 0x5EEDull ^ pre[0] ^ (uint64_t)pre[3] << 8;
  c->alloc.malloc = count_malloc;
  c->alloc.free = count_free;
  c->alloc.ctx = &h->alloc;
  c->on_event = on_event;
  c->event_ctx = h;
}

/* Queries the back-pressure state of every open connection after each op,
 * so those paths run under the sanitizers: what is pending to write must
 * fit the output buffer the engine reports. The buffer sizes themselves are
 * the engine's growth policy, not checked. */
static void check_conns(harness *h) {
  for (size_t i = 0; i < MQF_ENGINE_CONNS; i++) {
    const slot *s = &h->s[i];
    if (!s->c) continue;
    const uint8_t *buf;
    size_t pending, out;
    (void)mqe_conn_wants_input(h->e, s->c);
    mqe_conn_pending(s->c, &buf, &pending);
    mqe_conn_buffered(s->c, NULL, &out);
    MQF_CHECK(pending <= out, "%zu bytes pending in a %zu-byte output buffer", pending, out);
  }
}

static void check(harness *h, const char *after) {
  const char *bad = mqe_check_invariants(h->e);
  MQF_CHECK(!bad, "invariant broken after %s: %s", after, bad);
  mqe_stats st;
  mqe_get_stats(h->e, &st);
  const mqe_config *c = &h->cfg;
  MQF_CHECK(st.connections <= c->max_connections, "%llu connections over the cap",
            (unsigned long long)st.connections);
  MQF_CHECK(st.sessions <= c->max_sessions, "%llu sessions over the cap",
            (unsigned long long)st.sessions);
  MQF_CHECK(st.retained <= c->max_retained && st.retained_bytes <= c->max_retained_bytes,
            "retained store over its caps");
  /* Back-pressure (docs/engine.md, "Overload") queues a message past a full
   * queue and stalls its publisher, so a queue may exceed max_queued by one
   * message per connection and session open when it was fed; what it holds
   * outlives the connections, so the bound is their peak. */
  MQF_CHECK(st.queued <= st.sessions * (c->max_queued + st.load_peak), "queues over their caps");
  MQF_CHECK(st.inflight <= st.sessions * c->max_inflight, "in-flight windows over their caps");
  /* The engine's stats leave out its own object (allocated before it can
   * count); whatever that base is, it must not drift. */
  MQF_CHECK(h->alloc.live_bytes - st.bytes_allocated == h->base_bytes &&
                h->alloc.live_count - st.allocations == h->base_count,
            "engine counts %llu bytes in %llu blocks, allocator %llu in %llu (base %llu in %llu)",
            (unsigned long long)st.bytes_allocated, (unsigned long long)st.allocations,
            (unsigned long long)h->alloc.live_bytes, (unsigned long long)h->alloc.live_count,
            (unsigned long long)h->base_bytes, (unsigned long long)h->base_count);
}

/* ------------------------------------------------------------------------ */
/* Client side                                                              */
/* ------------------------------------------------------------------------ */

/* Resets a slot for a new connection; the buffers are not cleared, their
 * lengths are (clearing 8 KiB per slot and per input was a large share of a
 * short input's time). */
static void slot_reset(slot *s) {
  s->c = NULL;
  s->ver = MQC_VERSION_AUTO;
  s->checked = true;
  s->rx_len = 0;
  s->nonce_len = 0;
}

static slot *open_slot(harness *h, size_t i) {
  slot *s = &h->s[i];
  if (s->c) return s;
  slot_reset(s);
  h->touched = true;
  if (mqe_conn_open(h->e, s, h->now, &s->c) != MQE_OK) s->c = NULL;
  return s;
}

/* Remembers the version of the first CONNECT fed on a connection. */
static void note_connect(slot *s, const uint8_t *p, size_t n) {
  mqc_packet pkt;
  mqc_error err;
  if (s->ver || n < 2 || (p[0] >> 4) != MQC_CONNECT) return;
  if (mqc_decode(p, n, MQC_VERSION_AUTO, MQC_FROM_CLIENT, MQC_NO_LIMIT, &pkt, &err) == MQC_OK)
    s->ver = (mqc_version)pkt.connect.level;
}

static void feed(harness *h, slot *s, const uint8_t *p, size_t n, size_t chunk) {
  if (!s->c) return;
  note_connect(s, p, n);
  if (chunk == 0) chunk = n ? n : 1;
  for (size_t off = 0; off < n; off += chunk) {
    size_t k = n - off < chunk ? n - off : chunk;
    h->touched = true;
    mqe_status st = mqe_conn_recv(h->e, s->c, p + off, k, h->now);
    /* The contract: MQE_CLOSE exactly when should_close; service() acts on it */
    MQF_CHECK(st == (mqe_conn_should_close(s->c) ? MQE_CLOSE : MQE_OK), "recv returned \"%s\"",
              mqe_strerror(st));
  }
}

static void feed_packet(harness *h, slot *s, const mqc_packet *pkt, mqc_version v) {
  uint8_t buf[512];
  size_t n = 0;
  if (mqc_encode(pkt, v, buf, sizeof buf, &n) == MQC_OK) feed(h, s, buf, n, 0);
}

/* Checks and reacts to one packet the engine sent. */
static void on_output_packet(harness *h, slot *s, const uint8_t *p, size_t n, bool autoack) {
  mqc_packet pkt;
  mqc_error err;
  mqc_status st = mqc_decode(p, n, s->ver, MQC_FROM_SERVER, MQC_NO_LIMIT, &pkt, &err);
  if (st != MQC_OK) {
    fprintf(stderr, "engine output (%s): ", mqc_version_name(s->ver));
    for (size_t i = 0; i < n && i < 256; i++)
      fprintf(stderr, "%02x", p[i]);
    fputc('\n', stderr);
  }
  MQF_CHECK(st == MQC_OK, "engine sent an invalid %s: %s at %zu: %s (%s)",
            mqc_type_name((mqc_type)(p[0] >> 4)), mqc_strerror(st), err.offset,
            err.message ? err.message : "", err.statement ? err.statement : "-");
  mqc_packet ack;
  if (pkt.type == MQC_AUTH && pkt.auth.reason == MQC_RC_CONTINUE_AUTHENTICATION) {
    mqc_prop d;
    s->nonce_len = 0;
    if (mqc_props_get(&pkt.auth.props, MQC_PROP_AUTHENTICATION_DATA, &d) &&
        d.value.n <= sizeof s->nonce) {
      memcpy(s->nonce, d.value.p, d.value.n);
      s->nonce_len = d.value.n;
    }
  }
  if (!autoack) return;
  if (pkt.type == MQC_PUBLISH && pkt.publish.qos) {
    mqc_packet_init(&ack, pkt.publish.qos == 1 ? MQC_PUBACK : MQC_PUBREC, s->ver);
    ack.ack.packet_id = pkt.publish.packet_id;
  } else if (pkt.type == MQC_PUBREC || pkt.type == MQC_PUBREL) {
    mqc_packet_init(&ack, pkt.type == MQC_PUBREC ? MQC_PUBREL : MQC_PUBCOMP, s->ver);
    ack.ack.packet_id = pkt.ack.packet_id;
  } else {
    return;
  }
  feed_packet(h, s, &ack, s->ver);
}

/* Drains up to max bytes of output into the reassembly buffer and checks
 * every complete packet. */
static void drain(harness *h, slot *s, bool partial, bool autoack, bool copying) {
  const uint8_t *buf;
  size_t len, n;
  uint8_t copy[512];
  if (!s->c) return;
  h->touched = true;
  if (copying) { /* the copying API, which refills from the session queue */
    n = mqe_conn_send(h->e, s->c, copy, partial ? 16 : sizeof copy, h->now);
    buf = copy;
  } else { /* zero-copy: view, then report what was written */
    mqe_conn_pending(s->c, &buf, &len);
    n = partial && len > 1 ? len / 2 : len;
  }
  if (n == 0) return;
  if (s->checked && s->ver && n <= RX_CAP - s->rx_len) {
    memcpy(s->rx + s->rx_len, buf, n);
    s->rx_len += n;
  } else {
    /* Output before a version we know (a refused CONNECT), or more than we
     * buffer: framing is lost, so stop checking this connection. */
    s->checked = false;
  }
  if (!copying) mqe_conn_consumed(h->e, s->c, n, h->now);
  while (s->checked && s->rx_len) {
    mqc_frame fr;
    mqc_error err;
    mqc_status st = mqc_frame_packet(s->rx, s->rx_len, s->ver, MQC_NO_LIMIT, &fr, &err);
    if (st == MQC_INCOMPLETE) break;
    MQF_CHECK(st == MQC_OK, "engine output does not frame: %s", mqc_strerror(st));
    /* Checked in place: acknowledging feeds the engine, which never writes
     * to this buffer (only drain does, and it does not nest). */
    size_t plen = fr.total_len;
    on_output_packet(h, s, s->rx, plen, autoack);
    memmove(s->rx, s->rx + plen, s->rx_len - plen);
    s->rx_len -= plen;
    if (!s->c) break;
  }
}

static void close_slot(harness *h, slot *s, bool abrupt) {
  if (!s->c) return;
  h->touched = true;
  mqe_conn_close(h->e, s->c, abrupt, h->now);
  s->c = NULL;
}

/* Serves the engine's output queue: connections that must close are drained
 * and closed, as a transport would. */
static void service(harness *h) {
  mqe_conn *c;
  for (unsigned guard = 0; guard < 64 && (c = mqe_next_output(h->e)); guard++) {
    h->touched = true;
    slot *s = mqe_conn_user(c);
    MQF_CHECK(s >= h->s && s < h->s + MQF_ENGINE_CONNS && s->c == c,
              "next_output returned a connection the harness does not own");
    if (mqe_conn_should_close(c)) {
      for (unsigned i = 0; i < 8 && s->c; i++)
        drain(h, s, false, false, false);
      close_slot(h, s, false);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Canned client packets                                                    */
/* ------------------------------------------------------------------------ */

static const char *const FILTERS[] = {"a/b", "a/+", "#",      "$share/g/a/b",
                                      "w/#", "a/#", "deny/x", "+/+/+"};
static const char *const TOPICS[] = {"a/b",    "a/c",   "w/x",    "x",
                                     "$SYS/y", "a/b/c", "deny/x", "a/b/c/d/e"};
static const char *const IDS[] = {"c0", "c1", "c2", ""};

static mqc_props props_of(uint8_t *blk, size_t cap, uint8_t arg) {
  mqc_writer w;
  mqc_writer_init(&w, blk, cap);
  if (arg & 0x40) mqc_put_prop_u32(&w, MQC_PROP_SESSION_EXPIRY_INTERVAL, 30);
  if (arg & 0x10) mqc_put_prop_u32(&w, MQC_PROP_RECEIVE_MAXIMUM, 1);
  if (arg & 0x08) mqc_put_prop_u32(&w, MQC_PROP_TOPIC_ALIAS_MAXIMUM, 2);
  mqc_props p = {{blk, w.len}, 0, 0};
  return p;
}

static void canned(harness *h, slot *s, unsigned tmpl, uint8_t arg) {
  uint8_t blk[64], wblk[16];
  mqc_version v = s->ver ? s->ver : MQC_V5;
  mqc_packet p;
  switch (tmpl) {
  case 0: /* CONNECT 5.0 */
  case 1: /* CONNECT 3.1.1 / 3.1 */
  case 7: /* CONNECT 5.0 with enhanced auth, or the next AUTH step */
    if (tmpl == 7 && s->ver) {
      mqc_packet_init(&p, MQC_AUTH, MQC_V5);
      mqc_writer w;
      mqc_writer_init(&w, blk, sizeof blk);
      mqc_put_prop_str(&w, MQC_PROP_AUTHENTICATION_METHOD, mqc_cstr("mqcheck-challenge"));
      uint8_t resp[8];
      mqc_bytes nonce = {s->nonce, s->nonce_len};
      mqe_challenge_response(mqc_cstr(arg & 1 ? "wrong" : SECRET), nonce, resp);
      mqc_put_prop_str(&w, MQC_PROP_AUTHENTICATION_DATA, (mqc_bytes){resp, sizeof resp});
      p.auth.reason = arg & 2 ? MQC_RC_REAUTHENTICATE : MQC_RC_CONTINUE_AUTHENTICATION;
      p.auth.props.raw = (mqc_bytes){blk, w.len};
      feed_packet(h, s, &p, MQC_V5);
      return;
    }
    v = tmpl == 1 ? (arg & 0x80 ? MQC_V31 : MQC_V311) : MQC_V5;
    mqc_packet_init(&p, MQC_CONNECT, v);
    p.connect.client_id = mqc_cstr(IDS[arg & 3]);
    p.connect.clean_start = arg & 4;
    p.connect.keep_alive = (uint16_t[]){0, 1, 10, 60}[arg >> 3 & 3];
    if (v == MQC_V5) p.connect.props = props_of(blk, sizeof blk, arg);
    if (tmpl == 7) {
      mqc_writer w;
      mqc_writer_init(&w, blk, sizeof blk);
      mqc_put_prop_str(&w, MQC_PROP_AUTHENTICATION_METHOD, mqc_cstr("mqcheck-challenge"));
      p.connect.props.raw = (mqc_bytes){blk, w.len};
    }
    if (arg & 0x20) {
      p.connect.will = true;
      p.connect.will_qos = arg & 1;
      p.connect.will_topic = mqc_cstr("w/x");
      p.connect.will_payload = mqc_cstr("gone");
      if (v == MQC_V5 && (arg & 2)) {
        mqc_writer w;
        mqc_writer_init(&w, wblk, sizeof wblk);
        mqc_put_prop_u32(&w, MQC_PROP_WILL_DELAY_INTERVAL, 5);
        p.connect.will_props.raw = (mqc_bytes){wblk, w.len};
      }
    }
    if (tmpl == 0 && (arg & 0x80)) {
      p.connect.has_username = p.connect.has_password = true;
      p.connect.username = mqc_cstr("alice");
      p.connect.password = mqc_cstr(arg & 1 ? "secret" : "nope");
    }
    break;
  case 2:
  case 4: { /* SUBSCRIBE / UNSUBSCRIBE */
    mqc_packet_init(&p, tmpl == 2 ? MQC_SUBSCRIBE : MQC_UNSUBSCRIBE, v);
    mqc_writer w;
    mqc_writer_init(&w, blk, sizeof blk);
    if (tmpl == 2)
      mqc_put_sub_entry(&w, mqc_cstr(FILTERS[arg & 7]), (uint8_t)(arg >> 3 & 3));
    else
      mqc_put_str(&w, mqc_cstr(FILTERS[arg & 7]));
    p.subscribe.list = (mqc_bytes){blk, w.len};
    p.subscribe.count = 1;
    p.subscribe.packet_id = (uint16_t)(1 + (arg >> 5));
    break;
  }
  case 3: /* PUBLISH; QoS 3 on purpose sometimes */
    mqc_packet_init(&p, MQC_PUBLISH, v);
    p.publish.topic = mqc_cstr(TOPICS[arg & 7]);
    p.publish.qos = arg >> 3 & 3;
    p.publish.retain = arg & 0x20;
    p.publish.packet_id = p.publish.qos ? (uint16_t)(1 + (arg >> 6)) : 0;
    p.publish.payload = mqc_cstr(arg & 0x80 ? "" : "p");
    break;
  case 5: /* PUBACK PUBREC PUBREL PUBCOMP for a small packet id */
    mqc_packet_init(&p, (mqc_type)(MQC_PUBACK + (arg & 3)), v);
    p.ack.packet_id = (uint16_t)(1 + (arg >> 2 & 7));
    break;
  default: /* PINGREQ or DISCONNECT (normal, or with will) */
    mqc_packet_init(&p, arg & 1 ? MQC_DISCONNECT : MQC_PINGREQ, v);
    if (arg & 2) p.disconnect.reason = MQC_RC_DISCONNECT_WITH_WILL;
    break;
  }
  feed_packet(h, s, &p, v);
}

/* ------------------------------------------------------------------------ */
/* The op loop                                                              */
/* ------------------------------------------------------------------------ */

static const uint32_t STEPS[16] = {0,    1,     10,    100,   500,   999,   1000,    1500,
                                   5000, 10000, 15001, 30000, 45000, 61000, 3600000, 86400000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static harness h;
  if (size < MQF_ENGINE_PREFIX) return 0;
  /* Everything but the slots' buffers starts from zero. */
  h.e = NULL;
  memset(&h.alloc, 0, sizeof h.alloc);
  for (size_t i = 0; i < MQF_ENGINE_CONNS; i++)
    slot_reset(&h.s[i]);
  configure(&h, data);
  h.now = 1000;
  if (mqe_engine_new(&h.cfg, &h.e) != MQE_OK) {
    MQF_CHECK(!h.e && h.alloc.live_bytes == 0, "failed engine_new leaked");
    return 0;
  }
  mqe_stats st0;
  mqe_get_stats(h.e, &st0);
  h.base_bytes = h.alloc.live_bytes - st0.bytes_allocated;
  h.base_count = h.alloc.live_count - st0.allocations;
  mqf_in in = {data + MQF_ENGINE_PREFIX, data + size};
  bool down = false, leave_open = false;
  for (unsigned steps = 0; mqf_left(&in) && steps < 4096 && !down; steps++) {
    uint8_t op = mqf_u8(&in);
    h.touched = false;
    slot *s = &h.s[op & 3];
    switch (mqf_engine_action(op)) {
    case MQF_OP_FEED: {
      size_t left = mqf_left(&in), n = left;
      mqc_frame fr;
      mqc_error err;
      if (mqc_frame_packet(in.p, left, MQC_V311, MQC_NO_LIMIT, &fr, &err) == MQC_OK)
        n = fr.total_len;
      mqc_bytes b = mqf_take(&in, n);
      feed(&h, open_slot(&h, op & 3), b.p, b.n, op >> 2 & 15);
      break;
    }
    case MQF_OP_CANNED: {
      uint8_t arg = mqf_u8(&in);
      s = open_slot(&h, op & 3);
      if (s->c) canned(&h, s, op >> 2 & 7, arg);
      break;
    }
    case MQF_OP_CLOCK:
      if (op & 0x10) {
        uint64_t d = mqe_next_deadline(h.e);
        if (d != UINT64_MAX && d > h.now) h.now = d;
      } else {
        h.now += STEPS[op & 15];
      }
      h.touched = true;
      mqe_tick(h.e, h.now);
      break;
    case MQF_OP_DRAIN:
      drain(&h, s, op & 4, op & 8, op & 16);
      break;
    case MQF_OP_CLOSE:
      if (!s->c) break;
      h.touched = true;
      if (op & 8)
        mqe_conn_kick(h.e, s->c, op & 16 ? 0x98 : 0x8B, h.now);
      else
        close_slot(&h, s, op & 4);
      break;
    case MQF_OP_OPEN:
      open_slot(&h, op & 3);
      break;
    default:
      if (op == 0xFF) {
        h.touched = true;
        mqe_shutdown(h.e, h.now);
        down = true;
      } else if (op == 0xFE) {
        leave_open = true; /* mqe_engine_free must tear down live connections */
      }
      break;
    }
    service(&h);
    /* An op that made no engine call (a closed slot, an open one reopened,
     * a no-op byte) leaves the state checked after the previous op. */
    if (!h.touched) continue;
    check(&h, "an op");
    check_conns(&h);
  }
  if (!leave_open) {
    for (size_t i = 0; i < MQF_ENGINE_CONNS; i++)
      close_slot(&h, &h.s[i], true);
    check(&h, "closing every connection");
  }
  mqe_engine_free(h.e);
  MQF_CHECK(h.alloc.live_bytes == 0 && h.alloc.live_count == 0,
            "engine_free left %llu bytes in %llu blocks", (unsigned long long)h.alloc.live_bytes,
            (unsigned long long)h.alloc.live_count);
  return 0;
}
