/* tap.c - a target wrapper that reports every client's I/O to an mqs_tap.
 * The network fuzzer compiles scenarios into sessions with it: it runs each
 * case on the engine and records what the clients sent, what they received
 * and how much time passed, without the runner knowing who listens. */
#include <stdio.h>
#include <stdlib.h>

#include "runner.h"

struct mqs_target {
  const mqs_target_ops *inner_ops;
  mqs_target *inner;
  const mqs_tap *tap;
  uint64_t last;         /* target clock at the last report */
  const mqs_sink *outer; /* the runner's sink during the current call */
};

/* Reports the time that passed since the last event, if any. */
static void tick(mqs_target *t) {
  uint64_t now = t->inner_ops->now(t->inner);
  if (now > t->last && t->tap->time) t->tap->time(t->tap->ctx, now - t->last);
  if (now > t->last) t->last = now;
}

static void tap_data(void *ctx, unsigned client, const uint8_t *p, size_t n) {
  mqs_target *t = ctx;
  tick(t);
  if (t->tap->recv) t->tap->recv(t->tap->ctx, client, p, n);
  t->outer->on_data(t->outer->ctx, client, p, n);
}

static void tap_closed(void *ctx, unsigned client, bool transport_error, const char *msg) {
  mqs_target *t = ctx;
  tick(t);
  if (t->tap->closed) t->tap->closed(t->tap->ctx, client);
  t->outer->on_closed(t->outer->ctx, client, transport_error, msg);
}

static void tap_note(void *ctx, unsigned client, const char *msg) {
  mqs_target *t = ctx;
  t->outer->on_note(t->outer->ctx, client, msg);
}

/* The sink the inner target sees: ours, forwarding to the runner's. */
static mqs_sink wrap(mqs_target *t, const mqs_sink *sink) {
  t->outer = sink;
  return (mqs_sink){tap_data, tap_closed, tap_note, t};
}

static int t_open(mqs_target *t, unsigned client, unsigned node, const mqs_sink *sink, char *err,
                  size_t cap) {
  mqs_sink s = wrap(t, sink);
  tick(t);
  if (t->tap->open) t->tap->open(t->tap->ctx, client);
  return t->inner_ops->open(t->inner, client, node, &s, err, cap);
}

static int t_send(mqs_target *t, unsigned client, const uint8_t *p, size_t n, const mqs_sink *sink,
                  bool *transport, char *err, size_t cap) {
  mqs_sink s = wrap(t, sink);
  tick(t);
  if (t->tap->send) t->tap->send(t->tap->ctx, client, p, n);
  return t->inner_ops->send(t->inner, client, p, n, &s, transport, err, cap);
}

static void t_close(mqs_target *t, unsigned client, bool abrupt, const mqs_sink *sink) {
  mqs_sink s = wrap(t, sink);
  tick(t);
  if (t->tap->close) t->tap->close(t->tap->ctx, client, abrupt);
  t->inner_ops->close(t->inner, client, abrupt, &s);
}

static void t_wait(mqs_target *t, uint64_t deadline, const mqs_sink *sink) {
  mqs_sink s = wrap(t, sink);
  t->inner_ops->wait(t->inner, deadline, &s);
  tick(t);
}

static uint64_t t_now(mqs_target *t) {
  return t->inner_ops->now(t->inner);
}

static void t_destroy(mqs_target *t) {
  t->inner_ops->destroy(t->inner);
  free(t);
}

static int t_send_text(mqs_target *t, unsigned client, const uint8_t *p, size_t n, char *err,
                       size_t cap) {
  if (!t->inner_ops->send_text) {
    snprintf(err, cap, "a text frame needs a WebSocket target");
    return -2;
  }
  if (t->tap->send) t->tap->send(t->tap->ctx, client, p, n);
  return t->inner_ops->send_text(t->inner, client, p, n, err, cap);
}

int mqs__tap_wrap(const mqs_tap *tap, const mqs_target_ops **ops, mqs_target **t) {
  mqs_target *w = calloc(1, sizeof *w);
  if (!w) return -1;
  static const mqs_target_ops TAP_OPS_VIRTUAL = {"tap", t_open,    t_send, t_close,    t_wait,
                                                 t_now, t_destroy, true,   t_send_text};
  static const mqs_target_ops TAP_OPS_REAL = {"tap", t_open,    t_send, t_close,    t_wait,
                                              t_now, t_destroy, false,  t_send_text};
  w->inner_ops = *ops;
  w->inner = *t;
  w->tap = tap;
  w->last = (*ops)->now(*t);
  *ops = (*ops)->virtual_clock ? &TAP_OPS_VIRTUAL : &TAP_OPS_REAL;
  *t = w;
  return 0;
}
