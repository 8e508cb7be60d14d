/*
 * loop.c - mqn_loop: one epoll instance driving listeners and connections.
 *
 * Events are derived from connection state, not from epoll directly: epoll
 * only tells the loop when to advance handshakes and flushes, and the state
 * says what to report (OPEN once, READABLE while unread data may remain,
 * DRAINED, ERROR/TIMEOUT once). Because every event is a function of state,
 * an event array that runs out of room loses nothing: the rest is reported by
 * the next wait.
 *
 * Cost is O(connections that changed), never O(all connections): a
 * connection is looked at only when it is on one of two intrusive lists or
 * its deadline is due.
 *   dirty  its state may have changed outside the loop (the application read,
 *          wrote, paused, set a deadline, or it just arrived): its epoll
 *          interest must be re-synced and it may have something to report;
 *   ready  epoll reported it, or its deadline passed, or the dirty pass found
 *          an event: the report pass turns its state into events.
 * Deadlines (handshake wake-ups and application deadlines) sit in a binary
 * min-heap, so the wait timeout is the heap's top, not a scan.
 * net/'s own calls (mqn_conn_read/write/flush/shutdown/progress, failures)
 * put a connection on the dirty list through mqn__loop_touch.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "net_int.h"

#define MAX_LISTENERS 32
#define ACCEPT_BURST  64
#define EP_BATCH      64
#define TAG_LISTENER  1u

typedef struct {
  mqn_listener *l;
  void *udata;
} lis_slot;

typedef struct {
  mqn_conn *head, *tail;
} conn_list;

struct mqn_loop {
  int ep;
  mqn_conn **conns; /* every connection; conns[c->loop_idx] == c */
  size_t count, max;
  mqn_conn **heap; /* deadline min-heap on heap_at, max entries */
  size_t heap_n;
  conn_list lists[3]; /* indexed by MQN__L_DIRTY / MQN__L_READY */
  lis_slot lis[MAX_LISTENERS];
  size_t nlis;
};

/* ---- intrusive lists ------------------------------------------------------ */

static void list_del(mqn_loop *l, mqn_conn *c) {
  if (c->lst == MQN__L_NONE) return;
  conn_list *q = &l->lists[c->lst];
  if (c->lprev)
    c->lprev->lnext = c->lnext;
  else
    q->head = c->lnext;
  if (c->lnext)
    c->lnext->lprev = c->lprev;
  else
    q->tail = c->lprev;
  c->lprev = c->lnext = NULL;
  c->lst = MQN__L_NONE;
}

static void list_add(mqn_loop *l, mqn_conn *c, uint8_t which) {
  assert(which == MQN__L_DIRTY || which == MQN__L_READY);
  if (c->lst == which) return;
  list_del(l, c);
  conn_list *q = &l->lists[which];
  c->lprev = q->tail;
  c->lnext = NULL;
  if (q->tail)
    q->tail->lnext = c;
  else
    q->head = c;
  q->tail = c;
  c->lst = which;
}

void mqn__loop_touch(mqn_conn *c) {
  /* Already on a list: either pass re-syncs it. */
  if (c && c->loop && c->lst == MQN__L_NONE && !c->dead) list_add(c->loop, c, MQN__L_DIRTY);
}

/* ---- deadline heap ---------------------------------------------------------- */

static void heap_swap(mqn_loop *l, size_t a, size_t b) {
  mqn_conn *t = l->heap[a];
  l->heap[a] = l->heap[b];
  l->heap[b] = t;
  l->heap[a]->heap_idx = a;
  l->heap[b]->heap_idx = b;
}

static void heap_fix(mqn_loop *l, size_t i) {
  /* bounded by the heap's depth either way */
  while (i > 0 && l->heap[(i - 1) / 2]->heap_at > l->heap[i]->heap_at) {
    heap_swap(l, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t m = i, a = 2 * i + 1, b = a + 1;
    if (a < l->heap_n && l->heap[a]->heap_at < l->heap[m]->heap_at) m = a;
    if (b < l->heap_n && l->heap[b]->heap_at < l->heap[m]->heap_at) m = b;
    if (m == i) break;
    heap_swap(l, i, m);
    i = m;
  }
}

/* Files c under deadline at (0 = none). */
static void heap_set(mqn_loop *l, mqn_conn *c, int64_t at) {
  if (c->heap_idx == SIZE_MAX) {
    if (!at) return;
    assert(l->heap_n < l->max);
    c->heap_at = at;
    c->heap_idx = l->heap_n;
    l->heap[l->heap_n++] = c;
    heap_fix(l, c->heap_idx);
    return;
  }
  size_t i = c->heap_idx;
  if (!at) {
    heap_swap(l, i, l->heap_n - 1);
    l->heap_n--;
    c->heap_idx = SIZE_MAX;
    if (i < l->heap_n) heap_fix(l, i);
    return;
  }
  if (at == c->heap_at) return;
  c->heap_at = at;
  heap_fix(l, i);
}

/* ---- lifetime ------------------------------------------------------------------ */

mqn_status mqn_loop_new(size_t max_conns, mqn_loop **out) {
  if (!out) return MQN_ERR_ARGUMENT;
  *out = NULL;
  mqn_loop *l = calloc(1, sizeof *l);
  if (!l) return MQN_ERR_NOMEM;
  l->max = max_conns ? max_conns : 1024;
  l->conns = calloc(l->max, sizeof *l->conns);
  l->heap = calloc(l->max, sizeof *l->heap);
  l->ep = epoll_create1(EPOLL_CLOEXEC);
  if (!l->conns || !l->heap || l->ep < 0) {
    mqn_status st = l->ep < 0 ? MQN_ERR_IO : MQN_ERR_NOMEM;
    if (l->ep >= 0) close(l->ep);
    free(l->conns);
    free(l->heap);
    free(l);
    return st;
  }
  *out = l;
  return MQN_OK;
}

void mqn_loop_free(mqn_loop *l) {
  if (!l) return;
  /* Bounded: each free removes one connection from the array. */
  while (l->count > 0)
    mqn_conn_free(l->conns[l->count - 1]);
  for (size_t i = 0; i < l->nlis; i++)
    mqn_listener_free(l->lis[i].l);
  close(l->ep);
  free(l->conns);
  free(l->heap);
  free(l);
}

mqn_status mqn_loop_add_listener(mqn_loop *l, mqn_listener *lis, void *udata) {
  if (!l || !lis) return MQN_ERR_ARGUMENT;
  if (l->nlis >= MAX_LISTENERS) return MQN_ERR_LIMIT;
  lis_slot *s = &l->lis[l->nlis];
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u64 = (uint64_t)(uintptr_t)s | TAG_LISTENER;
  if (epoll_ctl(l->ep, EPOLL_CTL_ADD, mqn_listener_fd(lis), &ev) != 0) return MQN_ERR_IO;
  s->l = lis;
  s->udata = udata;
  l->nlis++;
  return MQN_OK;
}

static mqn_status add_conn(mqn_loop *l, mqn_conn *c, void *udata, mqn_listener *from) {
  if (c->loop) return MQN_ERR_ARGUMENT;
  if (l->count >= l->max) return MQN_ERR_LIMIT;
  c->loop = l;
  c->loop_idx = l->count;
  c->udata = udata;
  c->from = from;
  c->dead = false;
  c->hs_reported = false;
  c->drained = false; /* TLS/WS may already hold bytes epoll cannot see */
  c->rd_paused = false;
  c->ep_fd = -1;
  c->ep_events = 0;
  c->lst = MQN__L_NONE;
  c->lprev = c->lnext = NULL;
  c->heap_idx = SIZE_MAX;
  c->heap_at = 0;
  l->conns[l->count++] = c;
  list_add(l, c, MQN__L_DIRTY);
  return MQN_OK;
}

mqn_status mqn_loop_add(mqn_loop *l, mqn_conn *c, void *udata) {
  if (!l || !c) return MQN_ERR_ARGUMENT;
  return add_conn(l, c, udata, NULL);
}

void mqn_loop_set_udata(mqn_loop *l, mqn_conn *c, void *udata) {
  if (l && c && c->loop == l) c->udata = udata;
}

void mqn__loop_forget(mqn_conn *c) {
  mqn_loop *l = c->loop;
  assert(l && c->loop_idx < l->count && l->conns[c->loop_idx] == c);
  if (c->ep_fd >= 0) epoll_ctl(l->ep, EPOLL_CTL_DEL, c->ep_fd, NULL);
  c->ep_fd = -1;
  c->ep_events = 0;
  list_del(l, c);
  heap_set(l, c, 0);
  size_t last = l->count - 1;
  if (c->loop_idx != last) {
    l->conns[c->loop_idx] = l->conns[last];
    l->conns[c->loop_idx]->loop_idx = c->loop_idx;
  }
  l->conns[last] = NULL;
  l->count--;
  c->loop = NULL;
}

void mqn_loop_close(mqn_loop *l, mqn_conn *c) {
  if (!l || !c || c->loop != l) return;
  mqn_conn_free(c);
}

void mqn_loop_detach(mqn_loop *l, mqn_conn *c) {
  if (!l || !c || c->loop != l) return;
  mqn__loop_forget(c);
}

size_t mqn_loop_count(const mqn_loop *l) {
  return l ? l->count : 0;
}

/* ---- per-connection state -------------------------------------------------------- */

/* Brings c's epoll registration in line with what it wants. A paused open
 * connection drops EPOLLIN (the kernel's receive buffer then fills and TCP
 * flow control slows the peer), unless TLS needs to read in order to write. */
static void sync_interest(mqn_loop *l, mqn_conn *c) {
  unsigned w = c->dead ? 0 : mqn_conn_want(c);
  if (c->rd_paused && c->phase == MQN__PH_OPEN && c->tls_want != MQN_WANT_READ) w &= ~MQN_WANT_READ;
  uint32_t evs =
      (w & MQN_WANT_READ ? (uint32_t)EPOLLIN : 0u) | (w & MQN_WANT_WRITE ? (uint32_t)EPOLLOUT : 0u);
  if (c->ep_fd >= 0 && (c->ep_fd != c->fd || evs == 0)) {
    /* The fd changed (next address tried) or nothing is wanted. A closed
     * fd already left the epoll set; ignore that error. */
    epoll_ctl(l->ep, EPOLL_CTL_DEL, c->ep_fd, NULL);
    c->ep_fd = -1;
    c->ep_events = 0;
  }
  if (evs == 0 || c->fd < 0) return;
  struct epoll_event ev = {.events = evs};
  ev.data.ptr = c;
  if (c->ep_fd < 0) {
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) == 0) {
      c->ep_fd = c->fd;
      c->ep_events = evs;
    }
  } else if (evs != c->ep_events) {
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->ep_events = evs;
  }
}

static int64_t conn_deadline(const mqn_conn *c) {
  if (c->phase == MQN__PH_FAILED || c->dead) return 0;
  return c->phase == MQN__PH_OPEN ? c->deadline : mqn__hs_wake(c);
}

static bool wants_readable(const mqn_conn *c) {
  return !c->drained && !c->rd_paused;
}

static bool has_event(const mqn_conn *c, int64_t now) {
  if (c->dead) return false;
  if (c->phase == MQN__PH_FAILED) return true;
  if (c->phase == MQN__PH_OPEN && (!c->hs_reported || wants_readable(c))) return true;
  if (c->had_out && mqn_conn_pending_out(c) == 0) return true;
  int64_t d = conn_deadline(c);
  return d && now >= d;
}

/* Interest, the DRAINED bookkeeping and the deadline heap follow c's state. */
static void refresh(mqn_loop *l, mqn_conn *c) {
  sync_interest(l, c);
  if (mqn_conn_pending_out(c) > 0) c->had_out = true;
  heap_set(l, c, conn_deadline(c));
}

void mqn_loop_update(mqn_loop *l, mqn_conn *c) {
  if (!l || !c || c->loop != l) return;
  sync_interest(l, c);
  mqn__loop_touch(c);
}

void mqn_loop_pause_read(mqn_loop *l, mqn_conn *c, bool paused) {
  if (!l || !c || c->loop != l || c->rd_paused == paused) return;
  c->rd_paused = paused;
  /* On resume, TLS records or WS frames may already sit in user space where
   * epoll cannot see them: report READABLE once and let the reader find out. */
  if (!paused) c->drained = false;
  sync_interest(l, c);
  mqn__loop_touch(c);
}

bool mqn_loop_read_paused(const mqn_loop *l, const mqn_conn *c) {
  return l && c && c->loop == l && c->rd_paused;
}

/* Moves every dirty connection on: re-synced, and onto the ready list when it
 * has something to report. Bounded: each pass removes one entry. */
static void dirty_pass(mqn_loop *l, int64_t now) {
  mqn_conn *c;
  while ((c = l->lists[MQN__L_DIRTY].head)) {
    list_del(l, c);
    if (c->dead) continue;
    refresh(l, c);
    if (has_event(c, now)) list_add(l, c, MQN__L_READY);
  }
}

static void accept_burst(mqn_loop *l, lis_slot *s) {
  for (int i = 0; i < ACCEPT_BURST; i++) {
    mqn_conn *c = NULL;
    mqn_status st = mqn_listener_accept(s->l, &c);
    if (st != MQN_OK) return;
    if (add_conn(l, c, s->udata, s->l) != MQN_OK) {
      /* Over max_conns: refuse by closing rather than queueing unboundedly. */
      mqn_conn_free(c);
      continue;
    }
    (void)mqn_conn_progress(c);
  }
}

static void on_conn_io(mqn_loop *l, mqn_conn *c, uint32_t evs) {
  if (c->dead) return;
  list_add(l, c, MQN__L_READY);
  if (c->phase != MQN__PH_OPEN && c->phase != MQN__PH_FAILED) {
    (void)mqn_conn_progress(c);
    if (c->phase == MQN__PH_OPEN) c->drained = false; /* buffered bytes? */
    list_add(l, c, MQN__L_READY);
    return;
  }
  if (c->phase != MQN__PH_OPEN) return;
  if (evs & (EPOLLIN | EPOLLHUP | EPOLLERR)) c->drained = false;
  if (evs & EPOLLOUT) (void)mqn_conn_flush(c);
  list_add(l, c, MQN__L_READY);
}

/* Appends c's events to ev[*out..cap). Returns false when the array filled
 * before all of them were reported (c then goes back on the dirty list: the
 * events are state, so nothing is lost). */
static bool report(mqn_loop *l, mqn_conn *c, int64_t now, mqn_event *ev, size_t cap, size_t *out) {
  mqn_event e = {.conn = c, .listener = c->from, .udata = c->udata, .status = MQN_OK};
  if (c->phase != MQN__PH_OPEN && c->phase != MQN__PH_FAILED && now >= mqn__hs_wake(c)) {
    (void)mqn_conn_progress(c); /* opens after settling, or times out */
    if (c->phase == MQN__PH_OPEN) c->drained = false;
  }
  if (c->phase == MQN__PH_FAILED) {
    e.kind = c->status == MQN_TIMEOUT ? MQN_EV_TIMEOUT : MQN_EV_ERROR;
    e.status = c->status;
    c->dead = true;
    list_del(l, c);
    sync_interest(l, c);
    heap_set(l, c, 0);
    ev[(*out)++] = e;
    return true;
  }
  if (c->phase == MQN__PH_OPEN) {
    if (!c->hs_reported) {
      c->hs_reported = true;
      e.kind = MQN_EV_OPEN;
      ev[(*out)++] = e;
      if (*out == cap) return false;
    }
    if (wants_readable(c)) {
      e.kind = MQN_EV_READABLE;
      ev[(*out)++] = e;
      if (*out == cap) return false;
    }
    if (c->had_out && mqn_conn_pending_out(c) == 0) {
      c->had_out = false;
      e.kind = MQN_EV_DRAINED;
      ev[(*out)++] = e;
      if (*out == cap) return false;
    }
    if (c->deadline && now >= c->deadline) {
      c->deadline = 0;
      e.kind = MQN_EV_TIMEOUT;
      e.status = MQN_TIMEOUT;
      ev[(*out)++] = e;
    }
  }
  return true;
}

mqn_status mqn_loop_wait(mqn_loop *l, int timeout_ms, mqn_event *evout, size_t cap, size_t *n) {
  if (n) *n = 0;
  if (!l || !n || (cap && !evout)) return MQN_ERR_ARGUMENT;
  int64_t now = mqn_now_ms();
  dirty_pass(l, now);
  int64_t until = timeout_ms >= 0 ? now + timeout_ms : 0;
  if (l->heap_n) until = mqn__min_deadline(until, l->heap[0]->heap_at);
  int wait_ms = -1;
  if (l->lists[MQN__L_READY].head) {
    wait_ms = 0;
  } else if (until) {
    int64_t d = until - now;
    wait_ms = d <= 0 ? 0 : d > 3600000 ? 3600000 : (int)d;
  }
  struct epoll_event evs[EP_BATCH];
  int k = epoll_wait(l->ep, evs, EP_BATCH, wait_ms);
  if (k < 0) {
    if (errno != EINTR) return MQN_ERR_IO;
    k = 0;
  }
  for (int i = 0; i < k; i++) {
    uint64_t u = evs[i].data.u64;
    if (u & TAG_LISTENER) {
      accept_burst(l, (lis_slot *)(uintptr_t)(u & ~(uint64_t)TAG_LISTENER));
    } else {
      on_conn_io(l, evs[i].data.ptr, evs[i].events);
    }
  }
  now = mqn_now_ms();
  /* Due deadlines. Bounded: each pass takes one entry off the heap. */
  while (l->heap_n && l->heap[0]->heap_at <= now) {
    mqn_conn *c = l->heap[0];
    heap_set(l, c, 0);
    list_add(l, c, MQN__L_READY);
  }
  dirty_pass(l, now); /* connections accepted or touched just now */
  /* Report from state. Bounded: each pass takes one connection off the
   * ready list; those with more to say go on the dirty list for next time. */
  size_t out = 0;
  mqn_conn *c;
  while (out < cap && (c = l->lists[MQN__L_READY].head)) {
    list_del(l, c);
    if (c->dead) continue;
    bool all = report(l, c, now, evout, cap, &out);
    if (c->dead) continue;
    refresh(l, c);
    /* Level-triggered READABLE (and anything the array had no room for):
     * look again at the next wait. */
    if (!all || wants_readable(c) || has_event(c, now)) list_add(l, c, MQN__L_DIRTY);
  }
  *n = out;
  return MQN_OK;
}
