/* listener.c - mqn_listener: bind/listen/accept for all four schemes. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_int.h"

struct mqn_listener {
  int fd;
  mqn_url url;  /* with the bound port filled in */
  mqn_tls *tls; /* borrowed */
  mqn_conn_opts opts;
};

mqn_status mqn_listener_open(const mqn_url *url, mqn_tls *tls, const mqn_conn_opts *opts,
                             mqn_listener **out) {
  if (!out) return MQN_ERR_ARGUMENT;
  *out = NULL;
  if (!url) return MQN_ERR_ARGUMENT;
  if (mqn_scheme_is_tls(url->scheme) && (!tls || !tls->server)) return MQN_ERR_ARGUMENT;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
  struct addrinfo *res = NULL;
  char ps[8];
  snprintf(ps, sizeof ps, "%u", url->port);
  if (getaddrinfo(url->host, ps, &hints, &res) != 0 || !res) return MQN_ERR_RESOLVE;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return MQN_ERR_LISTEN;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
    int e = errno; /* the caller's message names the system error */
    freeaddrinfo(res);
    close(fd);
    errno = e;
    return MQN_ERR_LISTEN;
  }
  freeaddrinfo(res);
  mqn_listener *l = calloc(1, sizeof *l);
  if (!l) {
    close(fd);
    return MQN_ERR_NOMEM;
  }
  l->fd = fd;
  l->url = *url;
  l->tls = mqn_scheme_is_tls(url->scheme) ? tls : NULL;
  if (opts) l->opts = *opts;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET)
      l->url.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
      l->url.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  *out = l;
  return MQN_OK;
}

mqn_status mqn_listener_accept(mqn_listener *l, mqn_conn **out) {
  if (!out) return MQN_ERR_ARGUMENT;
  *out = NULL;
  if (!l) return MQN_ERR_ARGUMENT;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    mqn_status st = mqn__errno_status(errno);
    /* A connection that died in the backlog is not the listener's failure. */
    if (errno == ECONNABORTED || errno == EPROTO) return MQN_AGAIN;
    return st == MQN_AGAIN ? MQN_AGAIN : MQN_ERR_IO;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  mqn_conn *c = mqn__conn_alloc(l->url.scheme, true, &l->opts);
  if (!c) {
    close(fd);
    return MQN_ERR_NOMEM;
  }
  c->fd = fd;
  c->peer = ss;
  c->peerlen = sl;
  c->tls = l->tls;
  snprintf(c->host, sizeof c->host, "%s", l->url.host);
  c->port = l->url.port;
  mqn_status st = mqn__after_transport(c);
  if (st != MQN_OK) {
    mqn_conn_free(c);
    return st;
  }
  *out = c;
  return MQN_OK;
}

uint16_t mqn_listener_port(const mqn_listener *l) {
  return l ? l->url.port : 0;
}
int mqn_listener_fd(const mqn_listener *l) {
  return l ? l->fd : -1;
}
const mqn_url *mqn_listener_url(const mqn_listener *l) {
  return l ? &l->url : NULL;
}

void mqn_listener_free(mqn_listener *l) {
  if (!l) return;
  close(l->fd);
  free(l);
}
