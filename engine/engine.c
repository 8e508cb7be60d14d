/* engine.c - engine lifetime, configuration, events, stats, invariants. */
#include <stdlib.h>

#include "internal.h"

const char *mqe_strerror(mqe_status s) {
  switch (s) {
  case MQE_OK:
    return "ok";
  case MQE_CLOSE:
    return "connection must close";
  case MQE_ERR_NOMEM:
    return "out of memory";
  case MQE_ERR_LIMIT:
    return "configured limit reached";
  case MQE_ERR_ARGUMENT:
    return "invalid argument";
  }
  return "unknown status";
}

static void *std_malloc(void *ctx, size_t n) {
  (void)ctx;
  return malloc(n);
}
static void std_free(void *ctx, void *p, size_t n) {
  (void)ctx;
  (void)n;
  free(p);
}

void mqe_config_default(mqe_config *c) {
  memset(c, 0, sizeof *c);
  c->maximum_qos = 2;
  c->retain_available = true;
  c->wildcard_available = true;
  c->sub_id_available = true;
  c->shared_available = true;
  c->maximum_packet_size = 1u << 20;
  c->receive_maximum = 64;
  c->topic_alias_maximum = 16;
  c->outbound_aliases = 0;
  c->server_keep_alive = -1;
  c->max_session_expiry = UINT32_MAX;
  c->assign_client_ids = true;
  c->allow_anonymous = true;
  c->max_connections = 100000;
  c->max_sessions = 100000;
  c->max_queued = 1000;
  c->max_inflight = 64;
  c->max_retained = 100000;
  c->max_retained_bytes = 64u << 20;
  c->max_topic_levels = 32;
  c->max_subscriptions = 1000;
  c->max_output_bytes = 256u << 10;
  c->overload = MQE_OVERLOAD_BACKPRESSURE;
  c->slow_subscriber_ms = 10000;
  c->connect_timeout_ms = 10000;
  c->seed = 0x6d71636865636bull;
  c->alloc.malloc = std_malloc;
  c->alloc.free = std_free;
}

mqe_status mqe_engine_new(const mqe_config *cfg, mqe_engine **out) {
  *out = NULL;
  if (!cfg || !cfg->alloc.malloc || !cfg->alloc.free || cfg->maximum_qos > 2 ||
      cfg->max_topic_levels == 0 || cfg->receive_maximum == 0 || cfg->max_inflight == 0 ||
      cfg->max_output_bytes == 0 || (unsigned)cfg->overload > MQE_OVERLOAD_DROP)
    return MQE_ERR_ARGUMENT;
  void *mem = cfg->alloc.malloc(cfg->alloc.ctx, sizeof(mqe_engine));
  if (!mem) return MQE_ERR_NOMEM;
  mqe_engine *e = mem;
  memset(e, 0, sizeof *e);
  e->cfg = *cfg;
  if (e->cfg.maximum_packet_size == 0 || e->cfg.maximum_packet_size > MQE__MAX_PACKET_PROTOCOL)
    e->cfg.maximum_packet_size = MQE__MAX_PACKET_PROTOCOL;
  e->rng = cfg->seed;
  uint32_t L = cfg->max_topic_levels;
  e->levels = mqe__alloc(e, (L + 1) * sizeof *e->levels);
  e->stack_cap = 2 * (L + 2);
  e->stack = mqe__alloc(e, e->stack_cap * sizeof *e->stack);
  e->root = mqe__zalloc(e, sizeof(mqe_node));
  e->ntab_cap = 64;
  e->ntab = mqe__zalloc(e, e->ntab_cap * sizeof *e->ntab);
  e->nbuckets = 64;
  e->buckets = mqe__zalloc(e, e->nbuckets * sizeof *e->buckets);
  if (!e->levels || !e->stack || !e->root || !e->ntab || !e->buckets || !mqe__heap_reserve(e, 0) ||
      !mqe__hits_reserve(e, 16)) {
    mqe_engine_free(e);
    return MQE_ERR_NOMEM;
  }
  /* mqe__heap_reserve(e, 0) allocated the initial heap */
  *out = e;
  return MQE_OK;
}

void mqe_engine_free(mqe_engine *e) {
  if (!e) return;
  while (e->conns) {
    mqe_conn *c = e->conns;
    c->state = MQE__S_CLOSING; /* no will on engine teardown */
    if (c->sess) {
      c->sess->conn = NULL;
      c->sess = NULL;
    }
    mqe_conn_close(e, c, false, e->now);
  }
  if (e->buckets) {
    for (uint32_t i = 0; i < e->nbuckets; i++) {
      while (e->buckets[i])
        mqe__session_free(e, e->buckets[i]);
    }
    mqe__free(e, e->buckets, e->nbuckets * sizeof *e->buckets);
  }
  mqe__tree_free(e);
  mqe__free(e, e->ntab, e->ntab_cap * sizeof *e->ntab);
  mqe__free(e, e->levels, (e->cfg.max_topic_levels + 1u) * sizeof *e->levels);
  mqe__free(e, e->stack, e->stack_cap * sizeof *e->stack);
  mqe__free(e, e->heap, e->heap_cap * sizeof *e->heap);
  mqe__free(e, e->hits, e->hits_cap * sizeof *e->hits);
  mqe__free(e, e->targets, e->targets_cap * sizeof *e->targets);
  assert(e->st.bytes_allocated == 0);
  mqe_allocator a = e->cfg.alloc;
  a.free(a.ctx, e, sizeof *e);
}

void mqe__event(mqe_engine *e, mqe_event_type t, mqe_conn *c, uint8_t reason, const char *statement,
                const char *message) {
  if (t == MQE_EV_VIOLATION) e->st.violations++;
  if (!e->cfg.on_event) return;
  mqe_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = t;
  ev.conn = c;
  ev.conn_user = c ? c->user : NULL;
  ev.client_id = c ? mqe_conn_client_id(c) : "";
  ev.version = c ? c->ver : MQC_VERSION_AUTO;
  ev.reason = reason;
  ev.statement = statement;
  ev.message = message ? message : "";
  ev.now = e->now;
  e->cfg.on_event(e->cfg.event_ctx, &ev);
}

void mqe__event_sess(mqe_engine *e, mqe_event_type t, const mqe_session *s, const char *message) {
  if (!e->cfg.on_event) return;
  mqe_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = t;
  ev.client_id = s->client_id;
  ev.version = s->version;
  ev.message = message ? message : "";
  ev.now = e->now;
  e->cfg.on_event(e->cfg.event_ctx, &ev);
}

void mqe_get_stats(const mqe_engine *e, mqe_stats *out) {
  *out = e->st;
  out->connections = e->nconns;
  out->sessions = e->nsessions;
  out->load_peak = e->peak_load;
  out->subscriptions = e->nsubs;
  out->retained = e->nretained;
  out->retained_bytes = e->retained_bytes;
  uint64_t q = 0, f = 0;
  for (uint32_t i = 0; i < e->nbuckets; i++)
    for (const mqe_session *s = e->buckets[i]; s; s = s->hnext) {
      q += s->queue.n;
      f += s->inflight.n;
    }
  out->queued = q;
  out->inflight = f;
}

mqe_conn *mqe_next_output(mqe_engine *e) {
  mqe_conn *c = e->ohead;
  if (!c) return NULL;
  e->ohead = c->onext;
  if (e->ohead)
    e->ohead->oprev = NULL;
  else
    e->otail = NULL;
  c->onext = c->oprev = NULL;
  c->in_olist = false;
  return c;
}

void mqe_shutdown(mqe_engine *e, uint64_t now) {
  e->now = now;
  for (mqe_conn *c = e->conns; c; c = c->next) {
    if (c->state == MQE__S_CLOSING) continue;
    mqe_conn_kick(e, c, MQC_RC_SERVER_SHUTTING_DOWN, now);
  }
  mqe__settle(e);
}

static const char *check_qlist(const mqe_qlist *l, bool inflight) {
  uint32_t n = 0;
  const mqe_qent *prev = NULL;
  for (const mqe_qent *q = l->head; q; q = q->next) {
    if (q->prev != prev) return "queue back link broken";
    if (inflight) {
      if (q->pid == 0) return "in-flight entry without packet id";
      if (q->state == MQE__Q_QUEUED) return "queued entry on in-flight list";
      for (const mqe_qent *r = q->next; r; r = r->next)
        if (r->pid == q->pid) return "in-flight packet ids not unique";
    } else if (q->state != MQE__Q_QUEUED) {
      return "in-flight entry on queue";
    }
    if (q->state != MQE__Q_WAIT_COMP && !q->msg) return "entry without message";
    prev = q;
    if (++n > l->n) return "queue longer than its count";
  }
  if (n != l->n || l->tail != prev) return "queue count or tail wrong";
  return NULL;
}

/* The timer heap's shape: each entry knows its index, parents fire first. */
static const char *heap_check(const mqe_engine *e) {
  for (uint32_t i = 0; i < e->heap_n; i++) {
    if (e->heap[i]->idx != i) return "timer heap index out of sync";
    if (i && e->heap[(i - 1) / 2]->at > e->heap[i]->at) return "timer heap order broken";
  }
  return NULL;
}

/* Back-pressure (flow.c): stalled connections and their sessions' waiter
 * lists agree, and no queue exceeds its bound. Kept here with the other
 * checks, not in flow.c: fuzz builds compile this file without compare
 * tracing (fuzz/CMakeLists.txt), and this walk over every bucket after every
 * op was the largest source of traced compares. */
static const char *flow_check(const mqe_engine *e) {
  for (const mqe_conn *c = e->conns; c; c = c->next) {
    const mqe_session *s = c->stall_on;
    if (!s) continue;
    if (!s->conn) return "connection stalled on an offline session";
    const mqe_conn *w = s->waiters;
    uint32_t k = 0;
    while (w && w != c && ++k <= s->nwaiters)
      w = w->wnext;
    if (w != c) return "stalled connection missing from its session's waiters";
  }
  for (uint32_t i = 0; i < e->nbuckets; i++)
    for (const mqe_session *s = e->buckets[i]; s; s = s->hnext) {
      uint32_t k = 0;
      for (const mqe_conn *w = s->waiters; w; w = w->wnext) {
        if (w->stall_on != s) return "waiter stalled on another session";
        if (++k > s->nwaiters) return "waiter list longer than its count";
      }
      if (k != s->nwaiters) return "waiter count wrong";
      /* admit() lets a queue past the cap by at most one message per
       * connection and session open at the time; acknowledged messages stay
       * when connections close or the session goes offline, so the bound
       * is the peak, not today's count */
      if (s->queue.n > (uint64_t)e->cfg.max_queued + e->peak_load)
        return s->conn ? "session queue over max_queued + one per connection"
                       : "offline session queue over cap";
    }
  return NULL;
}

const char *mqe_check_invariants(const mqe_engine *e) {
  const char *r;
  if ((r = heap_check(e))) return r;
  if (e->heap_n > e->heap_reserved || e->heap_reserved > e->heap_cap)
    return "timer heap over its reservation";
  uint32_t nconn = 0;
  for (const mqe_conn *c = e->conns; c; c = c->next) {
    if (++nconn > e->nconns) return "connection list longer than count";
    if (c->sess && c->sess->conn != c) return "connection/session link broken";
    if (c->sess && c->state != MQE__S_CONNECTED) return "session attached to unconnected conn";
    if (c->out_off > c->out_len || c->out_len > c->out_cap) return "output buffer bounds";
    if (c->in_len > c->in_cap) return "input buffer bounds";
    if (c->in_held && !c->in_len) return "held input flag without input";
    if (c->in_len > e->cfg.max_output_bytes + e->cfg.maximum_packet_size)
      return "held input over max_output_bytes + maximum_packet_size";
  }
  if (nconn != e->nconns) return "connection count wrong";
  if ((r = flow_check(e))) return r;
  if (e->nconns > e->cfg.max_connections) return "connections over cap";
  uint32_t nsess = 0;
  uint64_t nsubs = 0;
  for (uint32_t i = 0; i < e->nbuckets; i++) {
    for (const mqe_session *s = e->buckets[i]; s; s = s->hnext) {
      if (++nsess > e->nsessions) return "session table longer than count";
      if ((s->hash & (e->nbuckets - 1)) != i) return "session in wrong bucket";
      if (s->conn && s->conn->sess != s) return "session/connection link broken";
      if ((r = check_qlist(&s->inflight, true))) return r;
      if ((r = check_qlist(&s->queue, false))) return r;
      if (s->inflight.n > 65535u) return "in-flight over packet id space";
      if (s->nsubs > e->cfg.max_subscriptions) return "subscriptions over cap";
      uint32_t k = 0;
      for (const mqe_sub *sub = s->subs; sub; sub = sub->snext) {
        if (sub->sess != s) return "subscription owner wrong";
        if (++k > s->nsubs) return "subscription list longer than count";
      }
      if (k != s->nsubs) return "subscription count wrong";
      nsubs += k;
      for (uint32_t a = 0; a < s->qos2_in_n; a++)
        for (uint32_t b = a + 1; b < s->qos2_in_n; b++)
          if (s->qos2_in[a] == s->qos2_in[b]) return "inbound QoS 2 ids not unique";
      if (!s->conn && s->expiry_timer.idx == MQE__NOT_SCHEDULED && s->expiry != UINT32_MAX)
        return "offline session without expiry timer (leaked session)";
    }
  }
  if (nsess != e->nsessions) return "session count wrong";
  if (nsess > e->cfg.max_sessions) return "sessions over cap";
  if (nsubs != e->nsubs) return "total subscription count wrong";
  if (e->nretained > e->cfg.max_retained) return "retained over cap";
  if (e->retained_bytes > e->cfg.max_retained_bytes) return "retained bytes over cap";
  /* walk the tree without recursion: retained count and parent links */
  uint32_t nret = 0;
  size_t rbytes = 0;
  const mqe_node *n = e->root;
  uint32_t nnamed = 0;
  while (n) {
    if (n != e->root && n != n->parent->plus && n != n->parent->hash) {
      nnamed++;
      const mqe_node *h = e->ntab[n->hkey & (e->ntab_cap - 1)];
      while (h && h != n)
        h = h->hnext; /* bounded by the chain */
      if (!h) return "topic node missing from the child table";
    }
    if (n->retained) {
      nret++;
      rbytes += n->retained->size;
    }
    if (n->child) {
      if (n->child->parent != n) return "tree parent link broken";
      n = n->child;
      continue;
    }
    while (n && n != e->root && !n->next)
      n = n->parent;
    if (!n || n == e->root) break;
    n = n->next;
  }
  if (nnamed != e->nnodes) return "child table count wrong";
  if (nret != e->nretained) return "retained count wrong";
  if (rbytes != e->retained_bytes) return "retained bytes wrong";
  return NULL;
}
