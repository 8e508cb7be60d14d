/*
 * loop.c - mqn_loop: one epoll instance driving listeners and connections.
 *
 * Events are derived from connection state, not from epoll directly: epoll
 * only tells the loop when to advance handshakes and flushes, and a scan
 * afterwards reports what changed (OPEN once, READABLE while unread data may
 * remain, DRAINED, ERROR/TIMEOUT once). Because every event is a function of
 * state, an event array that runs out of room loses nothing: the rest is
 * reported by the next wait.
 */
#include <errno.h>
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

struct mqn_loop {
  int ep;
  mqn_conn **conns;
  size_t count, max;
  lis_slot lis[MAX_LISTENERS];
  size_t nlis;
};

mqn_status mqn_loop_new(size_t max_conns, mqn_loop **out) {
  if (!out) return MQN_ERR_ARGUMENT;
  *out = NULL;
  mqn_loop *l = calloc(1, sizeof *l);
  if (!l) return MQN_ERR_NOMEM;
  l->max = max_conns ? max_conns : 1024;
  l->conns = calloc(l->max, sizeof *l->conns);
  l->ep = epoll_create1(EPOLL_CLOEXEC);
  if (!l->conns || l->ep < 0) {
    mqn_status st = l->ep < 0 ? MQN_ERR_IO : MQN_ERR_NOMEM;
    if (l->ep >= 0) close(l->ep);
    free(l->conns);
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
  c->ep_fd = -1;
  c->ep_events = 0;
  l->conns[l->count++] = c;
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

/* Brings c's epoll registration in line with what it wants. */
static void sync_interest(mqn_loop *l, mqn_conn *c) {
  unsigned w = c->dead ? 0 : mqn_conn_want(c);
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

void mqn_loop_update(mqn_loop *l, mqn_conn *c) {
  if (l && c && c->loop == l) sync_interest(l, c);
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

static void on_conn_io(mqn_conn *c, uint32_t evs) {
  if (c->dead) return;
  if (c->phase != MQN__PH_OPEN && c->phase != MQN__PH_FAILED) {
    (void)mqn_conn_progress(c);
    if (c->phase == MQN__PH_OPEN) c->drained = false; /* buffered bytes? */
    return;
  }
  if (c->phase != MQN__PH_OPEN) return;
  if (evs & (EPOLLIN | EPOLLHUP | EPOLLERR)) c->drained = false;
  if (evs & EPOLLOUT) (void)mqn_conn_flush(c);
}

static int64_t conn_deadline(const mqn_conn *c) {
  if (c->phase == MQN__PH_FAILED) return 0;
  return c->phase == MQN__PH_OPEN ? c->deadline : mqn__hs_wake(c);
}

static bool has_event(const mqn_conn *c) {
  if (c->dead) return false;
  if (c->phase == MQN__PH_FAILED) return true;
  if (c->phase == MQN__PH_OPEN && (!c->hs_reported || !c->drained)) return true;
  if (c->had_out && mqn_conn_pending_out(c) == 0) return true;
  return false;
}

mqn_status mqn_loop_wait(mqn_loop *l, int timeout_ms, mqn_event *evout, size_t cap, size_t *n) {
  if (n) *n = 0;
  if (!l || !n || (cap && !evout)) return MQN_ERR_ARGUMENT;
  int64_t now = mqn_now_ms();
  int64_t until = timeout_ms >= 0 ? now + timeout_ms : 0;
  bool immediate = false;
  for (size_t i = 0; i < l->count; i++) {
    mqn_conn *c = l->conns[i];
    if (c->dead) continue;
    sync_interest(l, c);
    if (mqn_conn_pending_out(c) > 0) c->had_out = true;
    until = mqn__min_deadline(until, conn_deadline(c));
    if (has_event(c)) immediate = true;
  }
  int wait_ms = -1;
  if (immediate) {
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
      on_conn_io(evs[i].data.ptr, evs[i].events);
    }
  }
  /* Report from state. */
  now = mqn_now_ms();
  size_t out = 0;
  for (size_t i = 0; i < l->count && out < cap; i++) {
    mqn_conn *c = l->conns[i];
    if (c->dead) continue;
    mqn_event e = {.conn = c, .listener = c->from, .udata = c->udata, .status = MQN_OK};
    if (c->phase != MQN__PH_OPEN && c->phase != MQN__PH_FAILED && now >= mqn__hs_wake(c)) {
      (void)mqn_conn_progress(c); /* opens after settling, or times out */
      if (c->phase == MQN__PH_OPEN) c->drained = false;
    }
    if (c->phase == MQN__PH_FAILED) {
      e.kind = c->status == MQN_TIMEOUT ? MQN_EV_TIMEOUT : MQN_EV_ERROR;
      e.status = c->status;
      c->dead = true;
      sync_interest(l, c);
      evout[out++] = e;
      continue;
    }
    if (c->phase != MQN__PH_OPEN) continue;
    if (!c->hs_reported) {
      c->hs_reported = true;
      e.kind = MQN_EV_OPEN;
      evout[out++] = e;
      if (out == cap) break;
    }
    if (!c->drained) {
      e.kind = MQN_EV_READABLE;
      evout[out++] = e;
      if (out == cap) break;
    }
    if (c->had_out && mqn_conn_pending_out(c) == 0) {
      c->had_out = false;
      e.kind = MQN_EV_DRAINED;
      evout[out++] = e;
      if (out == cap) break;
    }
    if (c->deadline && now >= c->deadline) {
      c->deadline = 0;
      e.kind = MQN_EV_TIMEOUT;
      e.status = MQN_TIMEOUT;
      evout[out++] = e;
    }
  }
  *n = out;
  return MQN_OK;
}
