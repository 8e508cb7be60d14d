/* target_net.c - an external broker over net/ (tcp, mqtts, ws, wss). Every
 * wait is an epoll wait bounded by a deadline; no fixed sleeps. Handshake
 * failures (TLS, WebSocket, refused) are transport errors, never protocol
 * verdicts, except the one the specification numbers: a WebSocket server
 * that does not select the subprotocol "mqtt" (MQTT-6.0.0-4). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "mqn.h"
#include "runner.h"

struct mqs_target {
  const mqs_target_spec *spec;
  mqn_loop *loop;
  mqn_conn *conn[MQS__MAX_CLIENTS];
  uint32_t connect_ms, io_ms;
};

/* Defined in target.c. */
const mqn_url *mqs__spec_url(const mqs_target_spec *s, unsigned node);
mqn_tls *mqs__spec_tls(const mqs_target_spec *s, unsigned node);

static bool is_transport(mqn_status s) {
  return s == MQN_TIMEOUT || s == MQN_ERR_RESOLVE || s == MQN_ERR_REFUSED ||
         (s >= MQN_ERR_TLS_CONFIG && s <= MQN_ERR_WS_PROTOCOL);
}

static int n_open(mqs_target *t, unsigned idx, unsigned node, const mqs_sink *sink, char *err,
                  size_t cap) {
  (void)sink;
  assert(idx < MQS__MAX_CLIENTS && !t->conn[idx]);
  char detail[256];
  mqn_conn *c = NULL;
  mqn_status s = mqn_dial_blocking(mqs__spec_url(t->spec, node), mqs__spec_tls(t->spec, node), NULL,
                                   (int)t->connect_ms, &c, detail, sizeof detail);
  if (s != MQN_OK) {
    snprintf(err, cap, "%s%s%s", mqn_strerror(s), detail[0] ? ": " : "", detail);
    return s == MQN_ERR_WS_SUBPROTOCOL ? -2 : -1;
  }
  if (mqn_loop_add(t->loop, c, (void *)(uintptr_t)(idx + 1)) != MQN_OK) {
    mqn_conn_free(c);
    snprintf(err, cap, "too many connections");
    return -1;
  }
  t->conn[idx] = c;
  return 0;
}

static void gone(mqs_target *t, unsigned idx, const mqs_sink *sink, mqn_status s, const char *why) {
  char msg[300];
  if (s == MQN_CLOSED)
    snprintf(msg, sizeof msg, "closed by the server");
  else if (s == MQN_ERR_IO)
    snprintf(msg, sizeof msg, "connection reset by the server%s%s", why[0] ? ": " : "", why);
  else
    snprintf(msg, sizeof msg, "%s%s%s", mqn_strerror(s), why[0] ? ": " : "", why);
  mqn_loop_close(t->loop, t->conn[idx]);
  t->conn[idx] = NULL;
  sink->on_closed(sink->ctx, idx, s != MQN_CLOSED && s != MQN_ERR_IO && is_transport(s), msg);
}

static int n_send(mqs_target *t, unsigned idx, const uint8_t *p, size_t n, const mqs_sink *sink,
                  bool *transport, char *err, size_t cap) {
  (void)sink;
  *transport = false;
  if (!t->conn[idx]) {
    snprintf(err, cap, "connection closed");
    return -1;
  }
  mqn_status s = mqn_send_all(t->conn[idx], p, n, (int)t->io_ms);
  if (s != MQN_OK) {
    *transport = s != MQN_ERR_IO && s != MQN_CLOSED && s != MQN_TIMEOUT && is_transport(s);
    snprintf(err, cap, "%s%s%s", mqn_strerror(s), mqn_conn_errmsg(t->conn[idx])[0] ? ": " : "",
             mqn_conn_errmsg(t->conn[idx]));
    mqn_loop_close(t->loop, t->conn[idx]);
    t->conn[idx] = NULL;
    return -1;
  }
  mqn_loop_update(t->loop, t->conn[idx]);
  return 0;
}

static void n_close(mqs_target *t, unsigned idx, bool abrupt, const mqs_sink *sink) {
  (void)sink;
  if (!t->conn[idx]) return;
  if (!abrupt) {
    mqn_loop_detach(t->loop, t->conn[idx]);
    (void)mqn_close_blocking(t->conn[idx], 200);
    mqn_conn_free(t->conn[idx]);
  } else {
    mqn_loop_close(t->loop, t->conn[idx]);
  }
  t->conn[idx] = NULL;
}

/* Reads everything available on idx. Returns true when anything happened. */
static bool drain_conn(mqs_target *t, unsigned idx, const mqs_sink *sink) {
  bool any = false;
  uint8_t buf[16384];
  for (int guard = 0; guard < 4096 && t->conn[idx]; guard++) {
    size_t n = 0;
    mqn_status s = mqn_conn_read(t->conn[idx], buf, sizeof buf, &n);
    if (s == MQN_OK && n) {
      sink->on_data(sink->ctx, idx, buf, n);
      any = true;
      continue;
    }
    if (s == MQN_AGAIN) break;
    gone(t, idx, sink, s, mqn_conn_errmsg(t->conn[idx]));
    return true;
  }
  return any;
}

static void n_wait(mqs_target *t, uint64_t deadline, const mqs_sink *sink) {
  for (;;) {
    int64_t left = (int64_t)deadline - mqn_now_ms();
    if (left < 0) left = 0;
    mqn_event ev[16];
    size_t n = 0;
    if (mqn_loop_wait(t->loop, (int)(left > 60000 ? 60000 : left), ev, 16, &n) != MQN_OK) return;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
      unsigned idx = (unsigned)((uintptr_t)ev[i].udata - 1);
      if (idx >= MQS__MAX_CLIENTS || t->conn[idx] != ev[i].conn) continue;
      if (ev[i].kind == MQN_EV_READABLE)
        any |= drain_conn(t, idx, sink);
      else if (ev[i].kind == MQN_EV_ERROR) {
        gone(t, idx, sink, ev[i].status, mqn_conn_errmsg(ev[i].conn));
        any = true;
      }
    }
    if (any || mqn_now_ms() >= (int64_t)deadline) return;
  }
}

static uint64_t n_now(mqs_target *t) {
  (void)t;
  return (uint64_t)mqn_now_ms();
}

static void n_destroy(mqs_target *t) {
  mqn_loop_free(t->loop); /* frees every connection abortively */
  free(t);
}

static int n_send_text(mqs_target *t, unsigned idx, const uint8_t *p, size_t n, char *err,
                       size_t cap) {
  if (!t->conn[idx]) {
    snprintf(err, cap, "connection closed");
    return -1;
  }
  if (!mqn_scheme_is_ws(mqn_conn_scheme(t->conn[idx]))) {
    snprintf(err, cap, "a text frame needs a ws:// or wss:// target");
    return -2;
  }
  mqn_status s = mqn_conn_ws_send_text(t->conn[idx], p, n);
  if (s != MQN_OK) {
    snprintf(err, cap, "%s", mqn_strerror(s));
    return -1;
  }
  mqn_loop_update(t->loop, t->conn[idx]);
  return 0;
}

static const mqs_target_ops net_ops = {
    "net", n_open, n_send, n_close, n_wait, n_now, n_destroy, false, n_send_text,
};

int mqs__net_target_new(const mqs_target_spec *spec, uint32_t connect_timeout_ms,
                        uint32_t io_timeout_ms, const mqs_target_ops **ops, mqs_target **out) {
  mqs_target *t = calloc(1, sizeof *t);
  if (!t) return -1;
  if (mqn_loop_new(MQS__MAX_CLIENTS + 4, &t->loop) != MQN_OK) {
    free(t);
    return -1;
  }
  t->spec = spec;
  t->connect_ms = connect_timeout_ms;
  t->io_ms = io_timeout_ms;
  *ops = &net_ops;
  *out = t;
  return 0;
}
