/* timer.c - the timer heap (binary min-heap of embedded mqe_timer). Objects
 * with timers reserve their heap slots when created, so scheduling never
 * allocates and never fails. */
#include "internal.h"

bool mqe__heap_reserve(mqe_engine *e, uint32_t extra) {
  /* slots are reserved per object: count reservations, not entries */
  uint32_t need = e->heap_reserved + extra;
  if (need <= e->heap_cap) {
    e->heap_reserved = need;
    return true;
  }
  uint32_t cap = e->heap_cap ? e->heap_cap : 64;
  while (cap < need)
    cap *= 2;
  mqe_timer **h = mqe__alloc(e, cap * sizeof *h);
  if (!h) return false;
  if (e->heap_cap) {
    memcpy(h, e->heap, e->heap_n * sizeof *h);
    mqe__free(e, e->heap, e->heap_cap * sizeof *h);
  }
  e->heap = h;
  e->heap_cap = cap;
  e->heap_reserved = need;
  return true;
}

void mqe__heap_release(mqe_engine *e, uint32_t n) {
  assert(e->heap_reserved >= n);
  e->heap_reserved -= n;
}

static void swap(mqe_engine *e, uint32_t a, uint32_t b) {
  mqe_timer *t = e->heap[a];
  e->heap[a] = e->heap[b];
  e->heap[b] = t;
  e->heap[a]->idx = a;
  e->heap[b]->idx = b;
}

static void up(mqe_engine *e, uint32_t i) {
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (e->heap[p]->at <= e->heap[i]->at) break;
    swap(e, p, i);
    i = p;
  }
}

static void down(mqe_engine *e, uint32_t i) {
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < e->heap_n && e->heap[l]->at < e->heap[m]->at) m = l;
    if (r < e->heap_n && e->heap[r]->at < e->heap[m]->at) m = r;
    if (m == i) break;
    swap(e, m, i);
    i = m;
  }
}

void mqe__timer_clear(mqe_engine *e, mqe_timer *t) {
  if (t->idx == MQE__NOT_SCHEDULED) return;
  uint32_t i = t->idx;
  assert(i < e->heap_n && e->heap[i] == t);
  e->heap_n--;
  if (i != e->heap_n) {
    e->heap[i] = e->heap[e->heap_n];
    e->heap[i]->idx = i;
    up(e, i);
    down(e, e->heap[i]->idx);
  }
  t->idx = MQE__NOT_SCHEDULED;
}

void mqe__timer_set(mqe_engine *e, mqe_timer *t, uint64_t at) {
  if (t->idx != MQE__NOT_SCHEDULED) {
    uint64_t old = t->at;
    t->at = at;
    if (at < old)
      up(e, t->idx);
    else
      down(e, t->idx);
    return;
  }
  /* capacity was reserved when the owner was created */
  assert(e->heap_n < e->heap_cap);
  t->at = at;
  t->idx = e->heap_n;
  e->heap[e->heap_n++] = t;
  up(e, t->idx);
}

uint64_t mqe_next_deadline(const mqe_engine *e) {
  return e->heap_n ? e->heap[0]->at : UINT64_MAX;
}

void mqe_tick(mqe_engine *e, uint64_t now) {
  e->now = now;
  /* bounded: each iteration either removes a timer or pushes it past now */
  while (e->heap_n && e->heap[0]->at <= now) {
    mqe_timer *t = e->heap[0];
    mqe__timer_clear(e, t);
    switch (t->kind) {
    case MQE__T_CONN:
      mqe__conn_timer(e, MQE__CONTAINER(t, mqe_conn, timer));
      break;
    case MQE__T_WILL:
      mqe__will_publish(e, MQE__CONTAINER(t, mqe_session, will_timer));
      break;
    case MQE__T_EXPIRY:
      mqe__session_expire(e, MQE__CONTAINER(t, mqe_session, expiry_timer));
      break;
    case MQE__T_SLOW:
      mqe__slow_timer(e, MQE__CONTAINER(t, mqe_session, slow_timer));
      break;
    default:
      assert(!"unknown timer kind");
    }
  }
  mqe__settle(e);
}
