/* flow.c - back-pressure between publishers and subscriber queues.
 *
 * A message that takes an online subscriber's queue to max_queued (under the
 * back-pressure policies) is still queued, and the connection that published
 * it is stalled on that session: its further input is held undispatched (in
 * c->in, see conn.c), except acknowledgements of deliveries to it, so a
 * client that both publishes and subscribes keeps draining its own queue.
 * When the queue falls to half of max_queued every stalled connection is
 * released and its held input dispatched from mqe__settle, at the end of the
 * public call (never from inside the pump that drained the queue).
 *
 * A queue therefore exceeds max_queued by one message per connection that fed
 * it while full (each is stalled at once), plus wills; admit() (deliver.c)
 * caps that at the connections and sessions open, since the excess stays
 * when its publishers leave. A subscriber whose full queue makes no progress
 * for slow_subscriber_ms is disconnected (0x97), its session goes offline,
 * and its waiters are released: offline sessions drop at the cap instead of
 * holding publishers back. */
#include "internal.h"

void mqe__stall(mqe_engine *e, mqe_conn *c, mqe_session *s) {
  assert(!c->stall_on && s->conn);
  c->stall_on = s;
  c->wprev = NULL;
  c->wnext = s->waiters;
  if (s->waiters) s->waiters->wprev = c;
  s->waiters = c;
  if (s->nwaiters++ == 0) {
    s->progress_at = e->now;
    if (e->cfg.slow_subscriber_ms)
      mqe__timer_set(e, &s->slow_timer, e->now + e->cfg.slow_subscriber_ms);
  }
}

void mqe__unstall(mqe_engine *e, mqe_conn *c) {
  mqe_session *s = c->stall_on;
  if (!s) return;
  if (c->wprev)
    c->wprev->wnext = c->wnext;
  else
    s->waiters = c->wnext;
  if (c->wnext) c->wnext->wprev = c->wprev;
  c->wnext = c->wprev = NULL;
  c->stall_on = NULL;
  assert(s->nwaiters > 0);
  if (--s->nwaiters == 0) mqe__timer_clear(e, &s->slow_timer);
  if (c->in_held && !c->wake_pending && c->state != MQE__S_CLOSING) {
    c->wake_pending = true;
    c->wknext = e->wkhead;
    e->wkhead = c;
  }
}

void mqe__wake_all(mqe_engine *e, mqe_session *s) {
  while (s->waiters) /* bounded: each pass unlinks one */
    mqe__unstall(e, s->waiters);
}

void mqe__queue_progress(mqe_engine *e, mqe_session *s) {
  s->progress_at = e->now;
  if (s->waiters && s->queue.n <= e->cfg.max_queued / 2) mqe__wake_all(e, s);
}

void mqe__drop(mqe_engine *e, mqe_session *s, uint8_t reason, const char *why) {
  e->st.msgs_dropped++;
  s->dropped++;
  if (!e->cfg.on_event) return;
  mqe_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = MQE_EV_DROPPED;
  ev.conn = s->conn;
  ev.conn_user = s->conn ? s->conn->user : NULL;
  ev.client_id = s->client_id;
  ev.version = s->version;
  ev.reason = reason;
  ev.message = why;
  ev.now = e->now;
  ev.dropped = s->dropped;
  e->cfg.on_event(e->cfg.event_ctx, &ev);
}

void mqe__drop_total(mqe_engine *e, const mqe_session *s) {
  if (!s->dropped || !e->cfg.on_event) return;
  mqe_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = MQE_EV_DROP_TOTAL;
  ev.client_id = s->client_id;
  ev.version = s->version;
  ev.message = "session ended after drops";
  ev.now = e->now;
  ev.dropped = s->dropped;
  e->cfg.on_event(e->cfg.event_ctx, &ev);
}

void mqe__slow_timer(mqe_engine *e, mqe_session *s) {
  if (!s->waiters || !s->conn) return;
  uint64_t due = s->progress_at + e->cfg.slow_subscriber_ms;
  if (e->now < due) {
    mqe__timer_set(e, &s->slow_timer, due);
    return;
  }
  mqe_conn *c = s->conn;
  mqe__event(e, MQE_EV_LIMIT, c, MQC_RC_QUOTA_EXCEEDED, NULL,
             "slow subscriber: its full queue held publishers back for slow_subscriber_ms");
  mqe__fail(e, c, MQC_RC_QUOTA_EXCEEDED, NULL, "slow subscriber: queue full, nothing read");
  /* fail() detaches at settle; the waiters need not wait for that */
  mqe__wake_all(e, s);
}

void mqe__settle(mqe_engine *e) {
  /* bounded: a released connection runs its held input until it is empty
   * or stalls again, which needs a queue to fill up again; queues drain
   * only through the caller's mqe_conn_consumed, not here */
  while (e->wkhead || e->dhead) {
    while (e->wkhead) {
      mqe_conn *c = e->wkhead;
      e->wkhead = c->wknext;
      c->wknext = NULL;
      c->wake_pending = false;
      if (c->state != MQE__S_CLOSING && c->in_held) {
        mqe__run_held(e, c);
        mqe__mark_output(e, c); /* tell the caller: wants_input may be true again */
      }
    }
    mqe__flush_detach(e);
  }
}

void mqe__note_load(mqe_engine *e) {
  if (e->nconns + e->nsessions > e->peak_load) e->peak_load = e->nconns + e->nsessions;
}

bool mqe_conn_stalled(const mqe_conn *c) {
  return c->stall_on != NULL;
}

size_t mqe_each_dropped(const mqe_engine *e, size_t limit,
                        void (*fn)(void *ctx, const char *client_id, uint64_t dropped), void *ctx) {
  size_t n = 0;
  for (uint32_t i = 0; i < e->nbuckets; i++)
    for (const mqe_session *s = e->buckets[i]; s; s = s->hnext) {
      if (!s->dropped) continue;
      if (n < limit && fn) fn(ctx, s->client_id, s->dropped);
      n++;
    }
  return n;
}
