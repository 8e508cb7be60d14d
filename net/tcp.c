/*
 * tcp.c - the byte transport every connection stands on: nonblocking TCP
 * connect, the bounded outbound buffer and raw reads (plain or TLS).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "net_int.h"

int mqn__set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL, 0);
  if (fl < 0) return -1;
  return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

mqn_status mqn__errno_status(int e) {
  switch (e) {
  case EAGAIN:
#if EWOULDBLOCK != EAGAIN
  case EWOULDBLOCK:
#endif
  case EINTR:
    return MQN_AGAIN;
  case ECONNREFUSED:
    return MQN_ERR_REFUSED;
  case ENOMEM:
  case ENOBUFS:
    return MQN_ERR_NOMEM;
  default:
    return MQN_ERR_IO;
  }
}

/* Opens a socket for addrs[addr_idx] and starts connecting. */
static mqn_status start_connect(mqn_conn *c) {
  assert(c->addr_idx < c->naddrs);
  const struct sockaddr *sa = (const struct sockaddr *)&c->addrs[c->addr_idx];
  if (c->fd >= 0) close(c->fd);
  c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return mqn__fail(c, mqn__errno_status(errno), "socket: %s", strerror(errno));
  int one = 1;
  /* MQTT traffic is small request/response packets: Nagle only adds delay. */
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (c->opts.rcvbuf > 0)
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &c->opts.rcvbuf, sizeof c->opts.rcvbuf);
  if (connect(c->fd, sa, c->addrlens[c->addr_idx]) == 0) return MQN_OK;
  if (errno == EINPROGRESS) return MQN_AGAIN;
  return mqn__errno_status(errno) == MQN_AGAIN ? MQN_AGAIN : MQN_ERR_IO;
}

/* Drives the TCP connect. On failure of one address, tries the next (e.g.
 * "localhost" resolving to ::1 then 127.0.0.1). */
mqn_status mqn__tcp_connect_step(mqn_conn *c) {
  for (;;) {
    int err = 0;
    if (c->fd < 0) {
      mqn_status st = start_connect(c);
      if (st == MQN_AGAIN || c->phase == MQN__PH_FAILED) return st;
      if (st != MQN_OK) err = errno;
    }
    if (err == 0) {
      socklen_t el = sizeof err;
      if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) err = errno;
      if (err == 0) {
        /* Still in progress? A nonblocking connect is done when writable;
         * without that, getpeername fails with ENOTCONN. */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) < 0) {
          if (errno == ENOTCONN) return MQN_AGAIN;
          err = errno;
        } else {
          c->peer = ss;
          c->peerlen = sl;
          return MQN_OK;
        }
      }
    }
    if (c->addr_idx + 1 >= c->naddrs)
      return mqn__fail(c, mqn__errno_status(err) == MQN_AGAIN ? MQN_ERR_IO : mqn__errno_status(err),
                       "connect to %s:%u: %s", c->host, c->port, strerror(err));
    c->addr_idx++;
    close(c->fd);
    c->fd = -1;
  }
}

size_t mqn__tx_free(const mqn_conn *c) {
  return c->tx_cap - (c->tx_end - c->tx_start);
}

size_t mqn__tx_put(mqn_conn *c, const uint8_t *buf, size_t len) {
  size_t fr = mqn__tx_free(c);
  if (len > fr) len = fr;
  if (len == 0) return 0;
  if (c->tx_end + len > c->tx_cap) {
    /* Compact. The pending bytes move, which OpenSSL allows because the
     * context sets SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER. */
    memmove(c->tx, c->tx + c->tx_start, c->tx_end - c->tx_start);
    c->tx_end -= c->tx_start;
    c->tx_start = 0;
  }
  assert(c->tx_end + len <= c->tx_cap);
  memcpy(c->tx + c->tx_end, buf, len);
  c->tx_end += len;
  return len;
}

static mqn_status raw_write(mqn_conn *c, const uint8_t *buf, size_t len, size_t *n) {
  *n = 0;
  if (c->ssl) return mqn__tls_write(c, buf, len, n);
  ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL);
  if (r >= 0) {
    *n = (size_t)r;
    return MQN_OK;
  }
  mqn_status st = mqn__errno_status(errno);
  if (st == MQN_AGAIN) return st;
  return mqn__fail(c, st, "send: %s", strerror(errno));
}

mqn_status mqn__tx_flush(mqn_conn *c) {
  /* Bounded: each pass either sends bytes or returns. */
  while (c->tx_start < c->tx_end) {
    size_t n = 0;
    mqn_status st = raw_write(c, c->tx + c->tx_start, c->tx_end - c->tx_start, &n);
    if (st != MQN_OK) return st;
    assert(n <= c->tx_end - c->tx_start);
    if (n == 0) return MQN_AGAIN;
    c->tx_start += n;
  }
  c->tx_start = c->tx_end = 0;
  return MQN_OK;
}

mqn_status mqn__raw_read(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n) {
  *n = 0;
  if (cap == 0) return MQN_ERR_ARGUMENT;
  /* Bytes that arrived behind the HTTP upgrade head come first. */
  if (c->hs_off < c->hs_len) {
    size_t k = c->hs_len - c->hs_off;
    if (k > cap) k = cap;
    memcpy(buf, c->hs + c->hs_off, k);
    c->hs_off += k;
    *n = k;
    return MQN_OK;
  }
  if (c->ssl) return mqn__tls_read(c, buf, cap, n);
  ssize_t r = recv(c->fd, buf, cap, 0);
  if (r > 0) {
    *n = (size_t)r;
    return MQN_OK;
  }
  if (r == 0) return MQN_CLOSED;
  mqn_status st = mqn__errno_status(errno);
  if (st == MQN_AGAIN) {
    c->rd_want = MQN_WANT_READ;
    return st;
  }
  return mqn__fail(c, st, "recv: %s", strerror(errno));
}
