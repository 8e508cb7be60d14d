/* exec.c - runs sessions against a broker, many at once, on one epoll loop.
 *
 * Each slot holds one running session: its records, a cursor, its clients'
 * connections and the oracle model (model.c). A slot advances through its
 * records until one blocks (a transport opening, a SYNC waiting for packets,
 * a WAIT), then the loop serves every slot's sockets. Nothing waits without a
 * deadline: SYNC and WAIT are capped, and so is the whole session. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

typedef struct slot slot;

typedef struct {
  slot *owner;
  unsigned idx;
  mqn_conn *conn; /* owned by the loop while set */
  bool dialing;   /* handshake under way */
  mqz_buf rx;
  uint32_t got;   /* packets received, all connections of the session */
  bool broken;    /* the byte stream can no longer be framed */
  uint32_t split; /* next send in pieces of this size (0 = whole) */
  bool split_set;
  int64_t slow_until; /* reading paused until then */
  int64_t last_rx;    /* when a packet last arrived */
} client;

struct slot {
  size_t no; /* index in mqz_exec.slots and .sched */
  uint64_t id;
  uint8_t *s; /* the session (owned; kept from session to session, so
               * submitting allocates nothing once it is big enough) */
  size_t n, cap;
  mqz_iter it;
  mqz_rec cur; /* the record being executed */
  bool have_cur;
  int64_t wake; /* deadline of the blocking record */
  int64_t sync_start;
  int64_t deadline; /* whole session */
  bool draining;    /* records done: waiting for owed deliveries */
  bool leave_wait;  /* the current record waits for deliveries owed to its client */
  int64_t drain_until;
  char token[MQZ_TOKEN_LEN + 1];
  uint8_t place[MQZ_MAX_CLIENTS]; /* the node each client's next OPEN goes to */
  /* the REPEAT record being streamed: its unit (token applied), how many of
   * its bytes went out and how many are left */
  uint8_t rep_unit[255];
  size_t rep_n;
  uint64_t rep_done, rep_left;
  client cl[MQZ_MAX_CLIENTS];
  mqz__model model;
  mqz_outcome out;
};

/* When a slot must be advanced: only when something happened to it (it is
 * new, or an event came on one of its connections: it is on the dirty
 * stack) or its next timer is due (a min-heap on next_t). A turn of the loop
 * thus costs what happened in it, not the number of slots: scanning every
 * slot on every turn was 7% of the executor's CPU with 128 in flight (and
 * more when the slots themselves were read, 200 KiB apart). */
typedef struct {
  bool busy, dirty;
  int64_t next_t; /* valid while in the heap */
  size_t heap_at; /* index in mqz_exec.heap, NOT_IN_HEAP when not there */
} sched;

#define NOT_IN_HEAP SIZE_MAX

struct mqz_exec {
  mqz_exec_opts o;
  mqz_done_fn done;
  void *ctx;
  mqn_loop *loop;
  slot *slots;
  sched *sched;           /* one per slot */
  size_t *dirty, n_dirty; /* slots to advance at the next turn */
  size_t *heap, n_heap;   /* slots with a timer, earliest first */
  size_t n_slots, running;
  uint8_t scratch[MQZ_SESSION_MAX];
  bool trace; /* MQZ_TRACE set: every packet on stderr (debugging the oracles) */
  /* the clock, read once per turn of the loop: reading it per slot and per
   * packet was 3% of the executor's CPU; timers are in milliseconds */
  int64_t now;
};

static void trace(const mqz_exec *x, const slot *s, unsigned who, char dir, const uint8_t *p,
                  size_t n) {
  if (!x->trace) return;
  mqc_packet pkt;
  mqc_error e;
  char line[400];
  mqc_version v = s->model.c[who].v;
  if (mqc_decode(p, n, n && (p[0] >> 4) == MQC_CONNECT ? MQC_VERSION_AUTO : v,
                 dir == '>' ? MQC_FROM_CLIENT : MQC_FROM_SERVER, MQC_NO_LIMIT, &pkt, &e) == MQC_OK)
    mqc_print_line(&pkt, v, line, sizeof line);
  else
    snprintf(line, sizeof line, "(%zu bytes that do not decode: %s)", n, e.message);
  fprintf(stderr, "mqz %llu c%u %c %s\n", (unsigned long long)s->id, who, dir, line);
}

void mqz_exec_opts_default(mqz_exec_opts *o) {
  memset(o, 0, sizeof *o);
  o->concurrency = 64;
  o->sync_ms = 250;
  o->quiet_ms = 10;
  o->wait_cap_ms = 10;
  o->drain_ms = 500;
  o->session_ms = 5000;
  o->connect_ms = 1000;
  o->spec_oracle = true;
}

int mqz_exec_new(const mqz_exec_opts *opts, mqz_done_fn done, void *ctx, mqz_exec **out) {
  *out = NULL;
  mqz_exec *x = calloc(1, sizeof *x);
  if (!x) return -1;
  x->o = *opts;
  mqz_exec_opts d;
  mqz_exec_opts_default(&d);
  if (!x->o.concurrency) x->o.concurrency = d.concurrency;
  if (!x->o.sync_ms) x->o.sync_ms = d.sync_ms;
  if (!x->o.quiet_ms) x->o.quiet_ms = d.quiet_ms;
  if (!x->o.wait_cap_ms) x->o.wait_cap_ms = d.wait_cap_ms;
  if (!x->o.drain_ms) x->o.drain_ms = d.drain_ms;
  if (!x->o.session_ms) x->o.session_ms = d.session_ms;
  if (!x->o.connect_ms) x->o.connect_ms = d.connect_ms;
  if (x->o.n_nodes > MQZ_MAX_NODES) x->o.n_nodes = MQZ_MAX_NODES;
  if (x->o.n_nodes > 1) {
    /* a delivery to another node may take the propagation bound longer */
    if (!x->o.propagation_ms) x->o.propagation_ms = MQZ_PROPAGATION_DEFAULT_MS;
    x->o.drain_ms += x->o.propagation_ms;
    x->o.session_ms += 2 * x->o.propagation_ms;
  } else {
    x->o.n_nodes = 1;
  }
  x->done = done;
  x->ctx = ctx;
  x->trace = getenv("MQZ_TRACE") != NULL;
  x->n_slots = x->o.concurrency;
  x->slots = calloc(x->n_slots, sizeof *x->slots);
  x->sched = calloc(x->n_slots, sizeof *x->sched);
  /* room for a slot pushed again by a submission while the stack is
   * being worked through */
  x->dirty = calloc(2 * x->n_slots, sizeof *x->dirty);
  x->heap = calloc(x->n_slots, sizeof *x->heap);
  if (!x->slots || !x->sched || !x->dirty || !x->heap ||
      mqn_loop_new(x->n_slots * MQZ_MAX_CLIENTS + 16, &x->loop) != MQN_OK) {
    free(x->slots);
    free(x->sched);
    free(x->dirty);
    free(x->heap);
    free(x);
    return -1;
  }
  for (size_t i = 0; i < x->n_slots; i++) {
    x->slots[i].no = i;
    x->sched[i].heap_at = NOT_IN_HEAP;
    for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++) {
      x->slots[i].cl[k].owner = &x->slots[i];
      x->slots[i].cl[k].idx = k;
    }
  }
  *out = x;
  return 0;
}

static void client_close(mqz_exec *x, client *c, bool abrupt) {
  if (!c->conn) return;
  if (abrupt) {
    /* SO_LINGER 0: close() sends RST, as a lost network would look */
    struct linger lg = {1, 0};
    (void)setsockopt(mqn_conn_fd(c->conn), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  mqn_loop_close(x->loop, c->conn);
  c->conn = NULL;
  c->dialing = false;
}

/* ---- scheduling: the dirty stack and the timer heap ---- */

static void mark_dirty(mqz_exec *x, size_t i) {
  if (x->sched[i].dirty) return;
  x->sched[i].dirty = true;
  assert(x->n_dirty < 2 * x->n_slots);
  x->dirty[x->n_dirty++] = i;
}

static void heap_swap(mqz_exec *x, size_t a, size_t b) {
  size_t t = x->heap[a];
  x->heap[a] = x->heap[b];
  x->heap[b] = t;
  x->sched[x->heap[a]].heap_at = a;
  x->sched[x->heap[b]].heap_at = b;
}

static int64_t heap_t(const mqz_exec *x, size_t at) {
  return x->sched[x->heap[at]].next_t;
}

/* Restores the heap order around position at. */
static void heap_fix(mqz_exec *x, size_t at) {
  while (at > 0 && heap_t(x, (at - 1) / 2) > heap_t(x, at)) {
    heap_swap(x, at, (at - 1) / 2);
    at = (at - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * at + 1, r = l + 1, m = at;
    if (l < x->n_heap && heap_t(x, l) < heap_t(x, m)) m = l;
    if (r < x->n_heap && heap_t(x, r) < heap_t(x, m)) m = r;
    if (m == at) return;
    heap_swap(x, at, m);
    at = m;
  }
}

static void timer_clear(mqz_exec *x, size_t i) {
  size_t at = x->sched[i].heap_at;
  if (at == NOT_IN_HEAP) return;
  x->sched[i].heap_at = NOT_IN_HEAP;
  if (at != --x->n_heap) {
    x->heap[at] = x->heap[x->n_heap];
    x->sched[x->heap[at]].heap_at = at;
    heap_fix(x, at);
  }
}

static void timer_set(mqz_exec *x, size_t i, int64_t t) {
  sched *e = &x->sched[i];
  e->next_t = t;
  if (e->heap_at == NOT_IN_HEAP) {
    assert(x->n_heap < x->n_slots);
    e->heap_at = x->n_heap;
    x->heap[x->n_heap++] = i;
  }
  heap_fix(x, e->heap_at);
}

/* Receive buffers up to this size are kept for the slot's next session. */
#define RX_KEEP 16384

static void slot_release(mqz_exec *x, slot *s) {
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++) {
    client *c = &s->cl[k];
    client_close(x, c, false);
    mqz_buf rx = c->rx;
    if (rx.cap > RX_KEEP) mqz_buf_free(&rx);
    mqz_buf_reset(&rx);
    slot *owner = c->owner;
    memset(c, 0, sizeof *c);
    c->owner = owner;
    c->idx = k;
    c->rx = rx;
  }
  x->sched[s->no].busy = false;
  timer_clear(x, s->no);
  x->running--;
}

void mqz_exec_abort_all(mqz_exec *x) {
  for (size_t i = 0; i < x->n_slots; i++)
    if (x->sched[i].busy) slot_release(x, &x->slots[i]);
}

void mqz_exec_free(mqz_exec *x) {
  if (!x) return;
  mqz_exec_abort_all(x);
  mqn_loop_free(x->loop);
  for (size_t i = 0; i < x->n_slots; i++) {
    free(x->slots[i].s);
    for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
      mqz_buf_free(&x->slots[i].cl[k].rx);
  }
  free(x->slots);
  free(x->sched);
  free(x->dirty);
  free(x->heap);
  free(x);
}

void mqz_exec_set_url(mqz_exec *x, const mqn_url *url) {
  x->o.url = *url;
}

bool mqz_exec_has_room(const mqz_exec *x) {
  return x->running < x->n_slots;
}

size_t mqz_exec_running(const mqz_exec *x) {
  return x->running;
}

int mqz_exec_submit(mqz_exec *x, uint64_t id, uint32_t token, const uint8_t *s, size_t n) {
  slot *sl = NULL;
  for (size_t i = 0; i < x->n_slots && !sl; i++)
    if (!x->sched[i].busy) sl = &x->slots[i];
  if (!sl) return -1;
  if (n > sl->cap || !sl->s) {
    uint8_t *p = realloc(sl->s, n ? n : 1);
    if (!p) return -1;
    sl->s = p;
    sl->cap = n ? n : 1;
  }
  if (n) memcpy(sl->s, s, n);
  sl->n = n;
  x->sched[sl->no].busy = true;
  mark_dirty(x, sl->no);
  sl->id = id;
  sl->have_cur = false;
  sl->draining = false;
  sl->leave_wait = false;
  sl->wake = 0;
  int64_t now = mqn_now_ms();
  sl->deadline = now + x->o.session_ms;
  mqz_token_make(token, sl->token);
  memset(&sl->out, 0, sizeof sl->out);
  mqz__model_init(&sl->model, mqz_session_version(s, n), sl->token, x->o.spec_oracle,
                  (mqz_session_flags(s, n) & MQZ_F_AUTO_ACK) != 0, &sl->out);
  sl->model.n_nodes = x->o.n_nodes;
  sl->model.node_names = x->o.node_names;
  sl->model.propagation_ms = x->o.propagation_ms;
  sl->model.cluster_off = x->o.cluster_off;
  sl->model.now = now;
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
    sl->place[k] = (uint8_t)(k % x->o.n_nodes);
  mqz_iter_init(&sl->it, sl->s, sl->n);
  x->running++;
  return 0;
}

/* ---- sending ---- */

static void write_bytes(mqz_exec *x, client *c, const uint8_t *p, size_t n) {
  if (!c->conn || !n) return;
  size_t piece = c->split_set ? (c->split ? c->split : 1) : n;
  c->split_set = false;
  for (size_t off = 0; off < n; off += piece) {
    size_t len = n - off < piece ? n - off : piece, took;
    if (mqn_conn_write(c->conn, p + off, len, &took) != MQN_OK && took == 0) break;
    /* separate writes leave as separate segments (TCP_NODELAY), so the
     * broker's reader meets a packet cut at each boundary */
    if (piece < n) (void)mqn_conn_flush(c->conn);
  }
  (void)mqn_conn_flush(c->conn);
  mqn_loop_update(x->loop, c->conn);
}

static void send_packet(mqz_exec *x, slot *s, client *c, const mqz_rec *r) {
  if (!c->conn || c->dialing) return;
  if (r->op == MQZ_OP_ACK && s->model.auto_ack) return; /* answered already */
  size_t n = r->pkt_len;
  if (n > sizeof x->scratch) n = sizeof x->scratch;
  memcpy(x->scratch, r->pkt, n);
  mqz_token_apply(x->scratch, n, s->token);
  if (r->op == MQZ_OP_ACK) mqz__model_answer(&s->model, c->idx, x->scratch, n);
  bool probe = false;
  if (r->op == MQZ_OP_RAW) {
    mqz__model_sent_raw(&s->model, c->idx);
  } else if (mqz__model_sent(&s->model, c->idx, x->scratch, n, &probe) == MQZ__SUPPRESS) {
    return;
  }
  s->out.packets_sent++;
  trace(x, s, c->idx, '>', x->scratch, n);
  if (probe && n + 2 <= sizeof x->scratch) {
    /* the PINGREQ goes in the same write: one segment, so whether the
     * broker reads it does not depend on how the bytes were cut */
    x->scratch[n++] = 0xC0;
    x->scratch[n++] = 0x00;
  }
  write_bytes(x, c, x->scratch, n);
}

/* Streams a REPEAT record: as much as the connection's buffer takes now,
 * the rest when it has drained (the loop's DRAINED event advances the slot
 * again). Returns true when all of it went out or the connection is gone;
 * the session's deadline bounds the wait. The bytes frame as nothing the
 * model can follow: the stream counts as broken, as for RAW. */
static bool send_repeat(mqz_exec *x, slot *s, client *c, const mqz_rec *r) {
  if (!s->wake) {
    s->wake = s->deadline;
    s->rep_left = 0;
    if (!c->conn || c->dialing || !r->pkt_len || !r->arg) return true;
    mqz__model_sent_raw(&s->model, c->idx);
    s->out.packets_sent++;
    uint64_t total = (uint64_t)r->arg * r->pkt_len;
    s->rep_left = total < MQZ_REPEAT_MAX ? total : MQZ_REPEAT_MAX;
    s->rep_done = 0;
    s->rep_n = r->pkt_len;
    memcpy(s->rep_unit, r->pkt, r->pkt_len);
    mqz_token_apply(s->rep_unit, s->rep_n, s->token);
  }
  /* a tile of whole units in scratch, written from the phase where the
   * last write stopped */
  size_t tile = (sizeof x->scratch / 2 / s->rep_n) * s->rep_n;
  for (size_t i = 0; i < tile + s->rep_n; i += s->rep_n)
    memcpy(x->scratch + i, s->rep_unit, s->rep_n);
  while (c->conn && s->rep_left) {
    size_t phase = (size_t)(s->rep_done % s->rep_n);
    size_t chunk = s->rep_left < tile ? (size_t)s->rep_left : tile, took = 0;
    mqn_status st = mqn_conn_write(c->conn, x->scratch + phase, chunk, &took);
    s->rep_done += took;
    s->rep_left -= took;
    if (st != MQN_OK && st != MQN_AGAIN) return true; /* the broker closed: the reader sees it */
    if (took < chunk) {
      (void)mqn_conn_flush(c->conn);
      mqn_loop_update(x->loop, c->conn);
      return false;
    }
  }
  if (c->conn) {
    (void)mqn_conn_flush(c->conn);
    mqn_loop_update(x->loop, c->conn);
  }
  return true;
}

/* ---- receiving ---- */

static void on_packets(mqz_exec *x, slot *s, client *c) {
  mqz__conn_model *cm = &s->model.c[c->idx];
  size_t off = 0;
  while (!c->broken && off < c->rx.n) {
    mqc_frame f;
    mqc_error e;
    /* framed without a size limit: the model judges sizes (model.c) */
    mqc_status st = mqc_frame_packet(c->rx.p + off, c->rx.n - off, cm->v, MQC_NO_LIMIT, &f, &e);
    if (st == MQC_INCOMPLETE) break;
    if (st != MQC_OK) {
      c->broken = true;
      mqz__model_unframeable(&s->model, c->idx, &e);
      break;
    }
    uint8_t ack[4];
    size_t ack_n = 0;
    c->got++;
    trace(x, s, c->idx, '<', c->rx.p + off, f.total_len);
    c->last_rx = x->now;
    s->out.packets_received++;
    if (!mqz__model_received(&s->model, c->idx, c->rx.p + off, f.total_len, ack, &ack_n))
      c->broken = true;
    off += f.total_len;
    if (ack_n && !cm->violated) write_bytes(x, c, ack, ack_n);
  }
  if (off) memmove(c->rx.p, c->rx.p + off, c->rx.n - off);
  c->rx.n -= off;
}

static void on_readable(mqz_exec *x, slot *s, client *c) {
  uint8_t buf[16384];
  s->model.now = x->now;
  for (int rounds = 0; rounds < 64 && c->conn; rounds++) {
    size_t got = 0;
    mqn_status st = mqn_conn_read(c->conn, buf, sizeof buf, &got);
    if (st == MQN_AGAIN) return;
    if (st != MQN_OK) {
      mqz__model_server_closed(&s->model, c->idx);
      client_close(x, c, false);
      return;
    }
    if (!c->broken) {
      mqz_buf_append(&c->rx, buf, got);
      on_packets(x, s, c);
    }
    if (got < sizeof buf) return; /* emptied: the loop says when more comes */
  }
}

/* ---- the record machine ---- */

static void open_client(mqz_exec *x, slot *s, client *c) {
  if (c->conn) {
    mqz__model_client_closed(&s->model, c->idx);
    client_close(x, c, true);
  }
  mqz__model_open(&s->model, c->idx);
  s->model.node[c->idx] = s->place[c->idx];
  c->broken = false;
  c->rx.n = 0;
  mqn_conn_opts co = {.handshake_timeout_ms = x->o.connect_ms};
  mqn_conn *conn;
  const mqn_url *url = x->o.n_nodes > 1 ? &x->o.nodes[s->place[c->idx]] : &x->o.url;
  if (mqn_conn_dial(url, x->o.tls, &co, &conn) != MQN_OK ||
      mqn_loop_add(x->loop, conn, c) != MQN_OK) {
    s->out.refused = true;
    return;
  }
  c->conn = conn;
  c->dialing = true;
}

/* A slow reader stops being slow: what it is owed must be observable
 * before it is judged. */
static void resume_reading(mqz_exec *x, client *c) {
  if (c->conn && c->slow_until) mqn_loop_pause_read(x->loop, c->conn, false);
  c->slow_until = 0;
}

/* Does r take its client away (close, drop, DISCONNECT, a reconnect)? */
static bool leaves(const mqz_rec *r, const client *c) {
  switch (r->op) {
  case MQZ_OP_CLOSE:
  case MQZ_OP_DROP:
  case MQZ_OP_HALFCLOSE:
    return c->conn != NULL;
  case MQZ_OP_OPEN:
    return c->conn != NULL;
  case MQZ_OP_SEND:
    return c->conn && r->pkt_len && (r->pkt[0] >> 4) == MQC_DISCONNECT;
  default:
    return false;
  }
}

/* Executes s->cur; returns true when it is finished, false while it blocks. */
static bool exec_record(mqz_exec *x, slot *s, int64_t now) {
  mqz_rec *r = &s->cur;
  client *c = &s->cl[r->client];
  if (!s->leave_wait && !s->wake && leaves(r, c) && mqz__model_owed(&s->model, r->client)) {
    /* a subscriber about to leave: what it is owed must arrive first */
    s->leave_wait = true;
    s->wake = now + x->o.drain_ms;
    resume_reading(x, c);
  }
  if (s->leave_wait) {
    if (mqz__model_owed(&s->model, r->client) && now < s->wake && c->conn) return false;
    s->leave_wait = false;
    s->wake = 0;
    mqz__model_judge(&s->model, r->client);
    if (s->out.kind != MQZ_NONE) return true;
  }
  switch (r->op) {
  case MQZ_OP_OPEN:
    if (!s->wake) {
      open_client(x, s, c);
      s->wake = now + x->o.connect_ms;
    }
    return !c->dialing || now >= s->wake;
  case MQZ_OP_SEND:
  case MQZ_OP_RAW:
    /* on a cluster a PUBLISH waits until the subscriptions made on other
     * nodes can have got here: sooner, a miss is no finding (and no
     * scenario could replay it) */
    if (x->o.n_nodes > 1 && r->pkt_len && (r->pkt[0] >> 4) == MQC_PUBLISH) {
      if (!s->wake) s->wake = now + x->o.sync_ms; /* how long a SUBACK is waited for */
      int64_t settle = mqz__model_settle_ms(&s->model, c->idx);
      if (settle < 0 && now < s->wake) return false;
      if (settle > now) {
        s->wake = settle;
        return false;
      }
    }
    send_packet(x, s, c, r);
    return true;
  case MQZ_OP_ACK:
    send_packet(x, s, c, r);
    return true;
  case MQZ_OP_REPEAT:
    return send_repeat(x, s, c, r);
  case MQZ_OP_CLOSE:
  case MQZ_OP_DROP:
    if (c->conn) {
      mqz__model_client_closed(&s->model, c->idx);
      if (r->op == MQZ_OP_CLOSE) (void)mqn_conn_flush(c->conn);
      client_close(x, c, r->op == MQZ_OP_DROP);
    }
    return true;
  case MQZ_OP_HALFCLOSE:
    if (c->conn && !c->dialing) {
      mqz__model_client_closed(&s->model, c->idx);
      (void)mqn_conn_flush(c->conn);
      if (mqn_conn_scheme(c->conn) == MQN_TCP)
        (void)shutdown(mqn_conn_fd(c->conn), SHUT_WR);
      else
        (void)mqn_conn_shutdown(c->conn);
    }
    return true;
  case MQZ_OP_SYNC: {
    if (!s->wake) {
      s->wake = now + x->o.sync_ms;
      s->sync_start = now;
    }
    /* a mutated session may wait for packets that never come: a quiet
     * connection ends the wait early (the oracles never depend on it) */
    int64_t since = c->last_rx > s->sync_start ? c->last_rx : s->sync_start;
    return c->got >= r->arg || !c->conn || c->broken || now >= s->wake ||
           (!c->dialing && now - since >= (int64_t)x->o.quiet_ms);
  }
  case MQZ_OP_WAIT:
    if (!s->wake) s->wake = now + (r->arg < x->o.wait_cap_ms ? r->arg : x->o.wait_cap_ms);
    return now >= s->wake;
  case MQZ_OP_SPLIT:
    c->split = r->arg;
    c->split_set = true;
    return true;
  case MQZ_OP_NODE:
    s->place[c->idx] = (uint8_t)(r->arg % x->o.n_nodes);
    return true;
  case MQZ_OP_SLOWREAD:
    if (c->conn && !c->dialing) {
      c->slow_until = now + 10 * (int64_t)r->arg;
      mqn_loop_pause_read(x->loop, c->conn, true);
    }
    return true;
  default:
    return true;
  }
}

static void finish(mqz_exec *x, slot *s) {
  mqz__model_judge(&s->model, MQZ_MAX_CLIENTS);
  if (s->out.kind == MQZ_NONE && x->now >= s->deadline) s->out.timed_out = true;
  if (x->done) x->done(x->ctx, s->id, s->s, s->n, &s->out);
  slot_release(x, s);
}

/* Runs s until it blocks or ends. Returns true when it ended. */
static bool advance(mqz_exec *x, slot *s) {
  int64_t now = x->now;
  s->model.now = now;
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++) {
    client *c = &s->cl[k];
    if (c->conn && c->slow_until && now >= c->slow_until) {
      c->slow_until = 0;
      mqn_loop_pause_read(x->loop, c->conn, false);
    }
  }
  if (now >= s->deadline) {
    finish(x, s);
    return true;
  }
  for (;;) {
    if (s->draining) {
      if (mqz__model_owed(&s->model, MQZ_MAX_CLIENTS) == 0 || now >= s->drain_until) {
        finish(x, s);
        return true;
      }
      return false;
    }
    if (!s->have_cur) {
      if (!mqz_iter_next(&s->it, &s->cur)) {
        s->draining = true;
        s->drain_until = now + x->o.drain_ms;
        for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
          resume_reading(x, &s->cl[k]);
        continue;
      }
      s->have_cur = true;
      s->wake = 0;
    }
    if (!exec_record(x, s, now)) return false;
    s->have_cur = false;
    if (s->out.kind != MQZ_NONE) { /* judged: no need to go on */
      finish(x, s);
      return true;
    }
  }
}

/* When s must be advanced again without an event: its earliest timer. */
static int64_t slot_wake(const mqz_exec *x, const slot *s) {
  int64_t t = s->deadline;
  if (s->draining && s->drain_until < t) t = s->drain_until;
  if (s->have_cur && s->wake && s->wake < t) t = s->wake;
  if (s->have_cur && s->cur.op == MQZ_OP_SYNC) {
    const client *c = &s->cl[s->cur.client];
    int64_t since = c->last_rx > s->sync_start ? c->last_rx : s->sync_start;
    if (since + (int64_t)x->o.quiet_ms < t) t = since + (int64_t)x->o.quiet_ms;
  }
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
    if (s->cl[k].slow_until && s->cl[k].slow_until < t) t = s->cl[k].slow_until;
  return t;
}

static int cmp_slot(const void *a, const void *b) {
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  return i < j ? -1 : i > j;
}

static int64_t next_wake(const mqz_exec *x) {
  return x->n_heap ? heap_t(x, 0) : INT64_MAX;
}

static void advance_one(mqz_exec *x, size_t i) {
  slot *s = &x->slots[i];
  if (x->sched[i].busy && !advance(x, s)) timer_set(x, i, slot_wake(x, s));
}

/* Advances every slot that is dirty or (with timers) due, each once: due
 * timers join the dirty stack first, and advancing a slot dirties none (a
 * timer it sets for now or earlier waits for the next turn), so the stack
 * empties. */
static void advance_due(mqz_exec *x, bool timers) {
  while (timers && x->n_heap && heap_t(x, 0) <= x->now) {
    size_t i = x->heap[0];
    timer_clear(x, i);
    mark_dirty(x, i);
  }
  /* in slot order, as a scan of the slots would: which session's packets
   * go out first decides what concurrent sessions do to each other at the
   * broker, and findings that need two sessions are pinned by replaying
   * them in that order */
  qsort(x->dirty, x->n_dirty, sizeof x->dirty[0], cmp_slot);
  for (size_t k = 0; k < x->n_dirty; k++) {
    size_t i = x->dirty[k];
    if (!x->sched[i].dirty) continue;
    x->sched[i].dirty = false;
    advance_one(x, i);
  }
  x->n_dirty = 0;
}

void mqz_exec_poll(mqz_exec *x, int timeout_ms) {
  x->now = mqn_now_ms();
  /* new sessions start; timers wait until what arrived meanwhile is read
   * (the caller may have been away: a quiet window must not end a SYNC whose
   * packets sit unread in the socket) */
  advance_due(x, false);
  int64_t now = x->now, w = next_wake(x);
  int t = timeout_ms;
  if (w != INT64_MAX && w - now < t) t = w - now < 0 ? 0 : (int)(w - now);
  mqn_event ev[64];
  size_t n = 0;
  if (mqn_loop_wait(x->loop, t, ev, 64, &n) != MQN_OK) return;
  x->now = mqn_now_ms();
  for (size_t i = 0; i < n; i++) {
    client *c = ev[i].udata;
    if (!c || !c->conn || ev[i].conn != c->conn) continue;
    slot *s = c->owner;
    mark_dirty(x, s->no);
    switch (ev[i].kind) {
    case MQN_EV_OPEN:
      c->dialing = false;
      break;
    case MQN_EV_READABLE:
      on_readable(x, s, c);
      break;
    case MQN_EV_DRAINED:
      break;
    case MQN_EV_ERROR:
    case MQN_EV_TIMEOUT:
      if (c->dialing) {
        s->out.refused = true;
      } else {
        mqz__model_server_closed(&s->model, c->idx);
      }
      client_close(x, c, false);
      break;
    }
  }
  advance_due(x, true);
}

void mqz_exec_one(mqz_exec *x, uint32_t token, const uint8_t *s, size_t n, mqz_outcome *out) {
  memset(out, 0, sizeof *out);
  assert(x->running == 0);
  if (mqz_exec_submit(x, 0, token, s, n)) {
    snprintf(out->message, sizeof out->message, "out of memory");
    out->refused = true;
    return;
  }
  slot *sl = NULL;
  for (size_t i = 0; i < x->n_slots; i++)
    if (x->sched[i].busy) sl = &x->slots[i];
  assert(sl);
  while (x->sched[sl->no].busy)
    mqz_exec_poll(x, 50);
  *out = sl->out; /* a released slot keeps its outcome until the next submit */
}
