/*
 * conn.c - mqn_conn: the phase machine (connect -> TLS -> WS upgrade -> open)
 * and the byte-stream calls that dispatch to the transport underneath.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "net_int.h"

#define DEFAULT_HS_TIMEOUT 10000u
#define DEFAULT_RX_CAP     (64u * 1024u)
#define DEFAULT_TX_CAP     (256u * 1024u)
#define MAX_CAP            (64u * 1024u * 1024u)

mqn_status mqn__fail(mqn_conn *c, mqn_status st, const char *fmt, ...) {
  assert(st != MQN_OK && st != MQN_AGAIN);
  /* The first failure is the cause; later ones are consequences. */
  if (c->phase == MQN__PH_FAILED) return c->status;
  c->phase = MQN__PH_FAILED;
  c->status = st;
  mqn__loop_touch(c);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
  va_end(ap);
  return st;
}

mqn_conn *mqn__conn_alloc(mqn_scheme scheme, bool server, const mqn_conn_opts *opts) {
  mqn_conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->fd = -1;
  c->ep_fd = -1;
  c->scheme = scheme;
  c->server = server;
  if (opts) c->opts = *opts;
  if (!c->opts.handshake_timeout_ms) c->opts.handshake_timeout_ms = DEFAULT_HS_TIMEOUT;
  if (!c->opts.rx_cap) c->opts.rx_cap = DEFAULT_RX_CAP;
  if (!c->opts.tx_cap) c->opts.tx_cap = DEFAULT_TX_CAP;
  if (c->opts.rx_cap > MAX_CAP) c->opts.rx_cap = MAX_CAP;
  if (c->opts.tx_cap > MAX_CAP) c->opts.tx_cap = MAX_CAP;
  /* The WS upgrade request/response must fit in one go. */
  if (c->opts.tx_cap < 1024) c->opts.tx_cap = 1024;
  c->rx_cap = c->opts.rx_cap;
  c->tx_cap = c->opts.tx_cap;
  c->tx = malloc(c->tx_cap);
  if (!c->tx) {
    free(c);
    return NULL;
  }
  c->hs_deadline = mqn_now_ms() + c->opts.handshake_timeout_ms;
  c->drained = true;
  return c;
}

mqn_status mqn_conn_dial(const mqn_url *url, mqn_tls *tls, const mqn_conn_opts *opts,
                         mqn_conn **out) {
  if (!out) return MQN_ERR_ARGUMENT;
  *out = NULL;
  if (!url || url->port == 0) return MQN_ERR_ARGUMENT;
  if (mqn_scheme_is_tls(url->scheme) && (!tls || tls->server)) return MQN_ERR_ARGUMENT;
  mqn_conn *c = mqn__conn_alloc(url->scheme, false, opts);
  if (!c) return MQN_ERR_NOMEM;
  snprintf(c->host, sizeof c->host, "%s", url->host);
  snprintf(c->path, sizeof c->path, "%s", url->path);
  c->port = url->port;
  if (mqn_scheme_is_tls(url->scheme)) c->tls = tls;

  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
  struct addrinfo *res = NULL;
  char ps[8];
  snprintf(ps, sizeof ps, "%u", url->port);
  int gr = getaddrinfo(url->host, ps, &hints, &res);
  if (gr != 0) {
    mqn_conn_free(c);
    return MQN_ERR_RESOLVE;
  }
  for (struct addrinfo *ai = res; ai && c->naddrs < MQN__MAX_ADDRS; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof c->addrs[0]) continue;
    memcpy(&c->addrs[c->naddrs], ai->ai_addr, ai->ai_addrlen);
    c->addrlens[c->naddrs] = ai->ai_addrlen;
    c->naddrs++;
  }
  freeaddrinfo(res);
  if (c->naddrs == 0) {
    mqn_conn_free(c);
    return MQN_ERR_RESOLVE;
  }
  c->phase = MQN__PH_CONNECTING;
  mqn_status st = mqn__tcp_connect_step(c);
  if (st != MQN_OK && st != MQN_AGAIN) {
    mqn_conn_free(c);
    return st;
  }
  if (st == MQN_OK) {
    st = mqn__after_transport(c);
    if (st != MQN_OK) {
      mqn_conn_free(c);
      return st;
    }
  }
  *out = c;
  return MQN_OK;
}

/* TCP is up: start TLS or the WS upgrade, or open. */
mqn_status mqn__after_transport(mqn_conn *c) {
  if (c->tls && !c->ssl) {
    c->phase = MQN__PH_TLS;
    return mqn__tls_start(c);
  }
  if (mqn_scheme_is_ws(c->scheme)) {
    if (c->server) {
      c->phase = MQN__PH_WS_RECV;
      return MQN_OK;
    }
    return mqn__ws_client_start(c);
  }
  c->phase = MQN__PH_OPEN;
  return MQN_OK;
}

mqn_status mqn_conn_progress(mqn_conn *c) {
  if (!c) return MQN_ERR_ARGUMENT;
  mqn__loop_touch(c);
  /* Each pass moves at least one phase forward or returns: bounded. */
  for (;;) {
    mqn_status st = MQN_OK;
    switch (c->phase) {
    case MQN__PH_OPEN:
      return MQN_OK;
    case MQN__PH_FAILED:
      return c->status;
    case MQN__PH_CONNECTING:
      st = mqn__tcp_connect_step(c);
      if (st == MQN_OK) st = mqn__after_transport(c);
      break;
    case MQN__PH_TLS:
      st = mqn__tls_handshake(c);
      if (st == MQN_OK) st = mqn__after_transport(c);
      break;
    case MQN__PH_WS_SEND:
    case MQN__PH_WS_RECV:
      st = mqn__ws_step(c);
      break;
    }
    if (st == MQN_AGAIN) {
      if (mqn_now_ms() >= c->hs_deadline) {
        const char *ph = c->phase == MQN__PH_CONNECTING ? "TCP connect"
                         : c->phase == MQN__PH_TLS      ? "TLS handshake"
                                                        : "WebSocket upgrade";
        return mqn__fail(c, MQN_TIMEOUT, "%s did not complete within %u ms", ph,
                         c->opts.handshake_timeout_ms);
      }
      return MQN_AGAIN;
    }
    if (st != MQN_OK) return st;
  }
}

unsigned mqn_conn_want(const mqn_conn *c) {
  if (!c) return 0;
  switch (c->phase) {
  case MQN__PH_CONNECTING:
    return MQN_WANT_WRITE;
  case MQN__PH_TLS:
    return c->tls_want ? c->tls_want : MQN_WANT_READ;
  case MQN__PH_WS_SEND:
    return MQN_WANT_WRITE;
  case MQN__PH_WS_RECV:
    return MQN_WANT_READ | (c->tx_end > c->tx_start ? MQN_WANT_WRITE : 0u);
  case MQN__PH_OPEN: {
    unsigned w = MQN_WANT_READ;
    if (c->tx_end > c->tx_start || mqn__ws_wants_write(c)) w |= MQN_WANT_WRITE;
    /* TLS may need to write before it can read (renegotiation, key update). */
    if (c->rd_want == MQN_WANT_WRITE) w |= MQN_WANT_WRITE;
    return w;
  }
  case MQN__PH_FAILED:
    return 0;
  }
  return 0;
}

mqn_status mqn_conn_read(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n) {
  if (n) *n = 0;
  if (!c || !buf || !n || cap == 0) return MQN_ERR_ARGUMENT;
  if (c->phase == MQN__PH_FAILED) return c->status;
  if (c->phase != MQN__PH_OPEN) return MQN_ERR_ARGUMENT;
  c->rd_want = MQN_WANT_READ;
  mqn__loop_touch(c);
  mqn_status st = c->ws ? mqn__ws_read(c, buf, cap, n) : mqn__raw_read(c, buf, cap, n);
  /* A short read of plain TCP emptied the socket: the loop waits for the
   * descriptor again without first asking for the read that only says
   * MQN_AGAIN (a system call per readable event). TLS and WS may hold more
   * in user space. */
  c->drained = st != MQN_OK || (!c->ws && !c->ssl && *n < cap);
  return st;
}

mqn_status mqn_conn_write(mqn_conn *c, const uint8_t *buf, size_t len, size_t *n) {
  if (n) *n = 0;
  if (!c || !n || (len && !buf)) return MQN_ERR_ARGUMENT;
  if (c->phase == MQN__PH_FAILED) return c->status;
  if (c->phase != MQN__PH_OPEN || c->shut_wr) return MQN_ERR_ARGUMENT;
  if (len == 0) return MQN_OK;
  mqn__loop_touch(c);
  if (c->ws) return mqn__ws_write(c, buf, len, n);
  size_t k = mqn__tx_put(c, buf, len);
  if (k == 0) {
    mqn_status st = mqn__tx_flush(c);
    if (st != MQN_OK && st != MQN_AGAIN) return st;
    k = mqn__tx_put(c, buf, len);
    if (k == 0) return MQN_AGAIN;
  }
  *n = k;
  mqn_status st = mqn__tx_flush(c);
  return st == MQN_AGAIN ? MQN_OK : st;
}

void mqn__finish_shutdown(mqn_conn *c) {
  if (c->fin_sent || c->fd < 0) return;
  if (c->ssl) mqn__tls_shutdown(c);
  /* The close_notify record may still sit in the kernel's buffer; FIN
   * follows it in order. */
  shutdown(c->fd, SHUT_WR);
  c->fin_sent = true;
}

mqn_status mqn_conn_flush(mqn_conn *c) {
  if (!c) return MQN_ERR_ARGUMENT;
  if (c->phase == MQN__PH_FAILED) return c->status;
  mqn__loop_touch(c);
  if (c->phase != MQN__PH_OPEN) {
    mqn_status st = mqn_conn_progress(c);
    return st == MQN_OK ? mqn_conn_flush(c) : st;
  }
  mqn_status st = c->ws ? mqn__ws_pump_out(c) : mqn__tx_flush(c);
  if (st == MQN_OK && c->shut_wr) {
    /* WS: after our close frame left, the TCP side closes once the peer
     * answered (read sees MQN_CLOSED); a server may close at once. */
    if (!c->ws || wslay_event_get_close_sent(c->ws)) {
      if (!c->ws || c->server || wslay_event_get_close_received(c->ws)) mqn__finish_shutdown(c);
    }
  }
  return st;
}

size_t mqn_conn_pending_out(const mqn_conn *c) {
  if (!c) return 0;
  size_t n = c->tx_end - c->tx_start;
  if (c->ws) n += wslay_event_get_queued_msg_length(c->ws);
  return n;
}

mqn_status mqn_conn_shutdown(mqn_conn *c) {
  if (!c) return MQN_ERR_ARGUMENT;
  if (c->phase == MQN__PH_FAILED) return c->status;
  if (c->phase != MQN__PH_OPEN) return MQN_ERR_ARGUMENT;
  c->shut_wr = true;
  mqn__loop_touch(c);
  if (c->ws) {
    mqn_status st = mqn__ws_close(c);
    if (st != MQN_OK) return st;
  }
  return mqn_conn_flush(c);
}

void mqn_conn_free(mqn_conn *c) {
  if (!c) return;
  if (c->loop) mqn__loop_forget(c);
  if (c->ws) wslay_event_context_free(c->ws);
  if (c->ssl) SSL_free(c->ssl);
  if (c->fd >= 0) close(c->fd);
  free(c->rx);
  free(c->tx);
  free(c);
}

int mqn_conn_fd(const mqn_conn *c) {
  return c ? c->fd : -1;
}
bool mqn_conn_is_open(const mqn_conn *c) {
  return c && c->phase == MQN__PH_OPEN;
}
mqn_scheme mqn_conn_scheme(const mqn_conn *c) {
  return c->scheme;
}
bool mqn_conn_is_server(const mqn_conn *c) {
  return c->server;
}
mqn_status mqn_conn_status(const mqn_conn *c) {
  return c && c->phase == MQN__PH_FAILED ? c->status : MQN_OK;
}
const char *mqn_conn_errmsg(const mqn_conn *c) {
  return c ? c->errmsg : "";
}
void mqn_conn_set_deadline(mqn_conn *c, int64_t deadline_ms) {
  if (!c) return;
  c->deadline = deadline_ms;
  mqn__loop_touch(c);
}
int64_t mqn_conn_deadline(const mqn_conn *c) {
  return c ? c->deadline : 0;
}

size_t mqn_conn_peer(const mqn_conn *c, char *buf, size_t cap) {
  char a[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (c && c->peerlen) {
    const struct sockaddr *sa = (const struct sockaddr *)&c->peer;
    if (sa->sa_family == AF_INET) {
      const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
      inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
      port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
      inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
      port = ntohs(in6->sin6_port);
    }
  }
  int n = snprintf(buf, cap, "%s:%u", a, port);
  return n < 0 ? 0 : (size_t)n;
}
