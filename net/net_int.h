/*
 * net_int.h - internals shared by the files of net/ (not installed, not for
 * other modules). Internal names use the mqn__ prefix.
 */
#ifndef MQN_NET_INT_H
#define MQN_NET_INT_H

#include <assert.h>
#include <stdarg.h>
#include <sys/socket.h>

#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "mqn.h"

/* HTTP upgrade request/response heads are bounded; real ones are < 1 KiB. */
#define MQN__HS_MAX 8192
/* wslay reads through a 4 KiB buffer of its own; the WS inbound buffer gets
 * this much slack beyond rx_cap so a chunk already inside wslay always fits
 * (see ws.c). */
#define MQN__WS_SLACK  4096
#define MQN__MAX_ADDRS 4

typedef enum {
  MQN__PH_CONNECTING, /* TCP connect in progress */
  MQN__PH_TLS,        /* TLS handshake */
  MQN__PH_WS_SEND,    /* client: upgrade request leaving the tx buffer */
  MQN__PH_WS_RECV,    /* client: awaiting 101; server: awaiting the request */
  MQN__PH_OPEN,
  MQN__PH_FAILED
} mqn__phase;

struct mqn_tls {
  SSL_CTX *ctx;
  bool server;
  bool verify; /* client: verification on (not insecure) */
};

struct mqn_conn {
  int fd;
  mqn_scheme scheme;
  bool server;
  mqn__phase phase;
  mqn_conn_opts opts;

  /* failure (sticky once phase == FAILED) */
  mqn_status status;
  char errmsg[256];

  /* client target */
  char host[MQN_HOST_MAX];
  uint16_t port;
  char path[MQN_PATH_MAX];
  struct sockaddr_storage addrs[MQN__MAX_ADDRS];
  socklen_t addrlens[MQN__MAX_ADDRS];
  size_t naddrs, addr_idx;
  struct sockaddr_storage peer;
  socklen_t peerlen;

  int64_t hs_deadline; /* handshake deadline (absolute ms) */
  int64_t deadline;    /* application deadline, 0 = none */

  /* TLS */
  mqn_tls *tls; /* borrowed */
  SSL *ssl;
  unsigned tls_want;   /* what the last TLS call that blocked waits for */
  unsigned rd_want;    /* read blocked on (TLS may need WRITE to read) */
  bool cert_requested; /* client: the server sent a CertificateRequest */
  bool settling;       /* client, TLS 1.3 + client auth: awaiting the verdict */
  bool ticket_seen;    /* a NewSessionTicket arrived (server accepted us) */
  int64_t settle_deadline;

  /* outbound buffer: [tx_start, tx_end) pending, capacity tx_cap */
  uint8_t *tx;
  size_t tx_start, tx_end, tx_cap;
  size_t last_ssl_write; /* length of the SSL_write that blocked (retry rule) */
  bool shut_wr;          /* mqn_conn_shutdown called */
  bool fin_sent;

  /* WebSocket */
  uint8_t hs[MQN__HS_MAX + 1]; /* upgrade head; after it, leftover frame bytes */
  size_t hs_len, hs_off;       /* bytes in hs; leftover starts at hs_off */
  char ws_key[32];             /* client: Sec-WebSocket-Key sent */
  wslay_event_context_ptr ws;
  uint8_t *rx; /* inbound MQTT bytes from WS messages [rx_start, rx_end) */
  size_t rx_start, rx_end, rx_cap;
  uint8_t ws_msg_op;     /* opcode of the data message being received */
  bool ws_frame_data;    /* current frame is a data (not control) frame */
  bool ws_violation;     /* text frame or framing error from the peer */
  bool ws_msg_fin;       /* the data frame being received ends its message */
  size_t ws_msg_start;   /* MQN_WS_FAULT_ALIGNED_PACKETS: rx offset where the
                          * message being received starts; the reader gets
                          * only the bytes before it (whole messages) */
  mqn_status raw_status; /* set by wslay callbacks when the transport fails */
  bool eof;              /* transport reached EOF */
  char ws_req_path[MQN_PATH_MAX];

  /* loop bookkeeping (loop.c) */
  struct mqn_loop *loop;
  size_t loop_idx;
  struct mqn_conn *lprev, *lnext; /* the loop list it is on (lst) */
  uint8_t lst;                    /* MQN__L_NONE / _DIRTY / _READY */
  size_t heap_idx;                /* deadline heap slot, SIZE_MAX when none */
  int64_t heap_at;                /* deadline it is filed under */
  bool rd_paused;                 /* mqn_loop_pause_read: no EPOLLIN, no READABLE */
  void *udata;
  struct mqn_listener *from;
  uint32_t ep_events;
  int ep_fd;        /* descriptor registered with epoll, -1 when none */
  bool dead;        /* ERROR/TIMEOUT reported; no longer watched */
  bool drained;     /* last read returned AGAIN */
  bool had_out;     /* tx was non-empty at the last loop check */
  bool hs_reported; /* OPEN reported */
};

/* conn.c */
mqn_conn *mqn__conn_alloc(mqn_scheme scheme, bool server, const mqn_conn_opts *opts);
mqn_status mqn__fail(mqn_conn *c, mqn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
mqn_status mqn__after_transport(mqn_conn *c); /* TCP/TLS done: next phase */
void mqn__finish_shutdown(mqn_conn *c);       /* close_notify + FIN, once */

/* tcp.c: the byte transport under TLS-or-not */
mqn_status mqn__raw_read(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n);
mqn_status mqn__tx_flush(mqn_conn *c);
size_t mqn__tx_put(mqn_conn *c, const uint8_t *buf, size_t len);
size_t mqn__tx_free(const mqn_conn *c);
mqn_status mqn__errno_status(int e);
mqn_status mqn__tcp_connect_step(mqn_conn *c);
int mqn__set_nonblock(int fd);

/* tls.c */
mqn_status mqn__tls_start(mqn_conn *c);
mqn_status mqn__tls_handshake(mqn_conn *c);
mqn_status mqn__tls_settle(mqn_conn *c);
mqn_status mqn__tls_read(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n);
mqn_status mqn__tls_write(mqn_conn *c, const uint8_t *buf, size_t len, size_t *n);
void mqn__tls_shutdown(mqn_conn *c);

/* ws.c */
mqn_status mqn__ws_client_start(mqn_conn *c);
mqn_status mqn__ws_step(mqn_conn *c);
mqn_status mqn__ws_read(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n);
mqn_status mqn__ws_write(mqn_conn *c, const uint8_t *buf, size_t len, size_t *n);
mqn_status mqn__ws_pump_out(mqn_conn *c);
mqn_status mqn__ws_close(mqn_conn *c);
bool mqn__ws_wants_write(const mqn_conn *c);

/* Deadline the handshake must be re-driven at (settle or handshake). */
static inline int64_t mqn__hs_wake(const mqn_conn *c) {
  return c->settling && c->settle_deadline < c->hs_deadline ? c->settle_deadline : c->hs_deadline;
}

/* loop.c */
enum { MQN__L_NONE = 0, MQN__L_DIRTY, MQN__L_READY };
void mqn__loop_forget(mqn_conn *c);
/* The connection's state may have changed outside the loop's events (a
 * write, a read, a failure, a new deadline): the next mqn_loop_wait looks at
 * it. O(1); a no-op when c is in no loop. This is what lets the loop visit
 * only connections that changed instead of scanning all of them. */
void mqn__loop_touch(mqn_conn *c);

static inline int64_t mqn__min_deadline(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return a < b ? a : b;
}

#endif /* MQN_NET_INT_H */
