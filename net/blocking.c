/*
 * blocking.c - blocking-with-deadline helpers for one connection, built on
 * poll(2). Every wait is bounded by the caller's timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "net_int.h"

/* Waits for c's wanted events until deadline. MQN_OK when ready. */
static mqn_status wait_io(mqn_conn *c, unsigned want, int64_t deadline) {
  int64_t left = deadline - mqn_now_ms();
  if (left <= 0) return MQN_TIMEOUT;
  struct pollfd p = {.fd = c->fd, .events = 0};
  if (want & MQN_WANT_READ) p.events |= POLLIN;
  if (want & MQN_WANT_WRITE) p.events |= POLLOUT;
  int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
  if (r < 0 && errno != EINTR) return MQN_ERR_IO;
  return MQN_OK; /* on timeout the caller's next check sees the deadline */
}

mqn_status mqn_handshake_blocking(mqn_conn *c, int timeout_ms) {
  if (!c || timeout_ms < 0) return MQN_ERR_ARGUMENT;
  int64_t deadline = mqn_now_ms() + timeout_ms;
  /* Both deadlines bind: the caller's and the connection's own. */
  if (deadline < c->hs_deadline) c->hs_deadline = deadline;
  for (;;) {
    mqn_status st = mqn_conn_progress(c);
    if (st != MQN_AGAIN) return st;
    if (mqn_now_ms() >= deadline) {
      st = mqn_conn_progress(c); /* records the timeout with its phase */
      return st == MQN_AGAIN ? MQN_TIMEOUT : st;
    }
    /* Wake at the settle deadline too (TLS 1.3 client auth, tls.c). */
    int64_t wake = mqn__hs_wake(c) < deadline ? mqn__hs_wake(c) : deadline;
    st = wait_io(c, mqn_conn_want(c), wake);
    if (st != MQN_OK && st != MQN_TIMEOUT) return st;
  }
}

mqn_status mqn_dial_blocking(const mqn_url *url, mqn_tls *tls, const mqn_conn_opts *opts,
                             int timeout_ms, mqn_conn **out, char *errbuf, size_t errcap) {
  if (errbuf && errcap) errbuf[0] = '\0';
  if (!out) return MQN_ERR_ARGUMENT;
  *out = NULL;
  mqn_conn *c = NULL;
  mqn_status st = mqn_conn_dial(url, tls, opts, &c);
  if (st != MQN_OK) {
    if (errbuf && errcap)
      snprintf(errbuf, errcap, "%s %s:%u: %s", url ? mqn_scheme_name(url->scheme) : "?",
               url ? url->host : "?", url ? url->port : 0, mqn_strerror(st));
    return st;
  }
  st = mqn_handshake_blocking(c, timeout_ms);
  if (st != MQN_OK) {
    if (errbuf && errcap) snprintf(errbuf, errcap, "%s", mqn_conn_errmsg(c));
    mqn_conn_free(c);
    return st;
  }
  *out = c;
  return MQN_OK;
}

mqn_status mqn_send_all(mqn_conn *c, const uint8_t *buf, size_t len, int timeout_ms) {
  if (!c || (len && !buf) || timeout_ms < 0) return MQN_ERR_ARGUMENT;
  int64_t deadline = mqn_now_ms() + timeout_ms;
  size_t done = 0;
  for (;;) {
    while (done < len) {
      size_t n = 0;
      mqn_status st = mqn_conn_write(c, buf + done, len - done, &n);
      if (st != MQN_OK && st != MQN_AGAIN) return st;
      done += n;
      if (n == 0) break;
    }
    mqn_status st = mqn_conn_flush(c);
    if (st == MQN_OK && done == len) return MQN_OK;
    if (st != MQN_OK && st != MQN_AGAIN) return st;
    st = wait_io(c, MQN_WANT_WRITE, deadline);
    if (st != MQN_OK) return st;
  }
}

mqn_status mqn_recv(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n, int timeout_ms) {
  if (n) *n = 0;
  if (!c || !buf || !n || cap == 0 || timeout_ms < 0) return MQN_ERR_ARGUMENT;
  int64_t deadline = mqn_now_ms() + timeout_ms;
  for (;;) {
    mqn_status st = mqn_conn_read(c, buf, cap, n);
    if (st != MQN_AGAIN) return st;
    /* Keep outbound bytes (pongs, close replies) moving while we wait. */
    unsigned want = mqn_conn_want(c);
    if (want & MQN_WANT_WRITE) {
      st = mqn_conn_flush(c);
      if (st != MQN_OK && st != MQN_AGAIN) return st;
      want = mqn_conn_want(c);
    }
    st = wait_io(c, want ? want : MQN_WANT_READ, deadline);
    if (st != MQN_OK) return st;
  }
}

mqn_status mqn_recv_exact(mqn_conn *c, uint8_t *buf, size_t len, int timeout_ms) {
  if (!c || (len && !buf) || timeout_ms < 0) return MQN_ERR_ARGUMENT;
  int64_t deadline = mqn_now_ms() + timeout_ms;
  size_t done = 0;
  while (done < len) {
    int64_t left = deadline - mqn_now_ms();
    if (left <= 0) return MQN_TIMEOUT;
    size_t n = 0;
    mqn_status st = mqn_recv(c, buf + done, len - done, &n, (int)left);
    if (st != MQN_OK) return st;
    done += n;
  }
  return MQN_OK;
}

mqn_status mqn_recv_packet(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n, int timeout_ms) {
  if (n) *n = 0;
  if (!c || !buf || !n || cap < 2 || timeout_ms < 0) return MQN_ERR_ARGUMENT;
  int64_t deadline = mqn_now_ms() + timeout_ms;
  /* Fixed header: type byte, then the Remaining Length varint (at most four
   * bytes). Read byte by byte so nothing after the packet is consumed. This
   * only finds the packet's extent; judging it is the codec's job. */
  size_t have = 0;
  uint32_t rl = 0;
  for (;;) {
    int64_t left = deadline - mqn_now_ms();
    if (left <= 0) return MQN_TIMEOUT;
    mqn_status st = mqn_recv_exact(c, buf + have, 1, (int)left);
    if (st != MQN_OK) return st;
    have++;
    if (have == 1) continue;
    uint8_t b = buf[have - 1];
    rl |= (uint32_t)(b & 0x7f) << (7 * (have - 2));
    if (!(b & 0x80)) break;
    if (have == 5) return MQN_ERR_LIMIT; /* a fifth length byte: malformed */
  }
  if (rl > cap - have) return MQN_ERR_LIMIT;
  int64_t left = deadline - mqn_now_ms();
  if (left <= 0 && rl > 0) return MQN_TIMEOUT;
  mqn_status st = mqn_recv_exact(c, buf + have, rl, left > 0 ? (int)left : 0);
  if (st != MQN_OK) return st;
  *n = have + rl;
  return MQN_OK;
}

mqn_status mqn_close_blocking(mqn_conn *c, int timeout_ms) {
  if (!c || timeout_ms < 0) return MQN_ERR_ARGUMENT;
  int64_t deadline = mqn_now_ms() + timeout_ms;
  mqn_status st = mqn_conn_shutdown(c);
  uint8_t sink[512];
  /* Drain until the peer closes: WS needs its close frame back, and TCP
   * needs the FIN to know nothing was lost. */
  for (;;) {
    if (st != MQN_OK && st != MQN_AGAIN) return st == MQN_CLOSED ? MQN_OK : st;
    int64_t left = deadline - mqn_now_ms();
    if (left <= 0) return MQN_TIMEOUT;
    size_t n = 0;
    st = mqn_recv(c, sink, sizeof sink, &n, (int)left);
    if (st == MQN_CLOSED) {
      (void)mqn_conn_flush(c);
      return MQN_OK;
    }
    if (st == MQN_OK) st = mqn_conn_flush(c);
  }
}
