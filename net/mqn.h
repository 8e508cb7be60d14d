/*
 * mqn.h - mqcheck's network layer: the only module that touches sockets.
 *
 * One byte-stream abstraction (mqn_conn) over four transports:
 *   tcp://HOST:PORT          plain TCP (also mqtt://)
 *   mqtts://HOST:PORT        TLS 1.2/1.3 via OpenSSL (also ssl://, tls://)
 *   ws://HOST:PORT/PATH      MQTT over WebSocket (RFC 6455, subprotocol "mqtt")
 *   wss://HOST:PORT/PATH     the same over TLS
 * Reads and writes carry raw MQTT bytes; WebSocket framing (masking,
 * continuation frames, ping/pong, the close handshake) is hidden inside. An
 * MQTT packet may span WebSocket messages and one message may hold several
 * packets: the reader sees one continuous stream either way.
 *
 * Client and server side share the same mqn_conn. Everything is nonblocking
 * and driven either by an mqn_loop (epoll, several listeners and connections,
 * deadlines) or by the blocking-with-deadline helpers at the end of this
 * header. Nothing ever waits without a deadline.
 *
 * No hidden globals: OpenSSL contexts live in mqn_tls objects the caller
 * creates and frees. All buffers are bounded (see mqn_conn_opts).
 *
 * Ownership words used below: "borrows" (the callee keeps no reference after
 * returning, unless "until" says otherwise), "takes ownership" (the callee
 * frees it), "valid until" (lifetime of a returned pointer).
 */
#ifndef MQN_H
#define MQN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status                                                                   */
/* ------------------------------------------------------------------------ */

/* One status enum for the whole layer. Each failure class a user must be
 * able to tell apart (a TLS problem is never reported as a protocol error)
 * has its own value; the connection's detail text (mqn_conn_errmsg) adds the
 * specifics, e.g. OpenSSL's verify message or the HTTP status line. */
typedef enum {
  MQN_OK = 0,
  MQN_AGAIN,  /* would block: wait for mqn_conn_want() (or use the loop) */
  MQN_CLOSED, /* the peer closed cleanly (FIN, TLS close_notify, WS close) */
  MQN_TIMEOUT,
  MQN_ERR_ARGUMENT, /* bad argument or call in the wrong state */
  MQN_ERR_URL,      /* mqn_url_parse: not a URL this layer speaks */
  MQN_ERR_NOMEM,
  MQN_ERR_RESOLVE,        /* host name did not resolve */
  MQN_ERR_REFUSED,        /* TCP connection refused */
  MQN_ERR_LISTEN,         /* cannot bind/listen (address in use, ...) */
  MQN_ERR_IO,             /* socket error: reset, unreachable, broken pipe */
  MQN_ERR_LIMIT,          /* a bounded buffer or count would overflow */
  MQN_ERR_TLS_CONFIG,     /* cannot load CA file, certificate or key */
  MQN_ERR_TLS_HANDSHAKE,  /* TLS handshake failed (version, cipher, not TLS) */
  MQN_ERR_TLS_UNTRUSTED,  /* peer certificate does not chain to a trusted CA */
  MQN_ERR_TLS_EXPIRED,    /* peer certificate expired or not yet valid */
  MQN_ERR_TLS_HOSTNAME,   /* peer certificate does not match the host name */
  MQN_ERR_TLS_REJECTED,   /* the peer rejected our certificate (or its lack) */
  MQN_ERR_TLS,            /* TLS failure after the handshake */
  MQN_ERR_WS_REFUSED,     /* WebSocket upgrade refused (non-101 answer, bad accept) */
  MQN_ERR_WS_SUBPROTOCOL, /* the peer did not agree on subprotocol "mqtt" */
  MQN_ERR_WS_PROTOCOL,    /* WebSocket framing violation, or a text frame */
  MQN_STATUS_COUNT
} mqn_status;

/* Static, one-line, never NULL (unknown values give "unknown status"). */
const char *mqn_strerror(mqn_status s);

/* Monotonic clock in milliseconds; all deadlines below are on this clock. */
int64_t mqn_now_ms(void);

/* ------------------------------------------------------------------------ */
/* URLs                                                                     */
/* ------------------------------------------------------------------------ */

typedef enum { MQN_TCP = 0, MQN_MQTTS, MQN_WS, MQN_WSS } mqn_scheme;

#define MQN_HOST_MAX 256
#define MQN_PATH_MAX 256

typedef struct {
  mqn_scheme scheme;
  char host[MQN_HOST_MAX]; /* IPv6 literals without brackets */
  uint16_t port;           /* scheme default when absent: 1883, 8883, 80, 443 */
  char path[MQN_PATH_MAX]; /* ws/wss: "/mqtt" when absent; "" for tcp/mqtts */
} mqn_url;

/* Parses "scheme://host[:port][/path]". Accepted schemes: tcp, mqtt (=tcp),
 * mqtts, ssl, tls (=mqtts), ws, wss. Port 0 is allowed (listen on an
 * ephemeral port). tcp/mqtts URLs may not carry a path.
 * out is reset on entry. returns MQN_OK or MQN_ERR_URL. */
mqn_status mqn_url_parse(const char *s, mqn_url *out);
static inline bool mqn_scheme_is_tls(mqn_scheme s) {
  return s == MQN_MQTTS || s == MQN_WSS;
}
static inline bool mqn_scheme_is_ws(mqn_scheme s) {
  return s == MQN_WS || s == MQN_WSS;
}
const char *mqn_scheme_name(mqn_scheme s); /* "tcp", "mqtts", "ws", "wss" */
/* The URL text in with any "user:pass@" replaced by "***@", for reports and
 * logs (snprintf semantics into out). Not parsed: any text is fine. */
void mqn_url_redact(const char *in, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* TLS configuration                                                        */
/* ------------------------------------------------------------------------ */

typedef struct mqn_tls mqn_tls; /* one OpenSSL SSL_CTX, client or server */

#define MQN_TLS_1_2 0x0303
#define MQN_TLS_1_3 0x0304

typedef struct {
  const char *ca_file;      /* PEM trust anchors; NULL: the system store (client)
                             * or no client verification (server) */
  const char *cert_file;    /* PEM chain: client cert (optional) / server cert (required) */
  const char *key_file;     /* PEM key for cert_file */
  bool insecure;            /* client: skip ALL verification (explicit opt-in) */
  bool require_client_cert; /* server: demand and verify a client cert (needs ca_file) */
  bool alpn_mqtt;           /* client: offer ALPN "mqtt"; server: accept "mqtt" if offered */
  uint16_t min_version;     /* 0 = TLS 1.2 */
  uint16_t max_version;     /* 0 = newest (TLS 1.3) */
} mqn_tls_opts;

/* Creates a client or server context. opts and the strings are borrowed (the
 * files are read now). The result is freed with mqn_tls_free() after every
 * connection/listener using it is freed. errbuf (may be NULL) receives a
 * one-line reason on failure.
 * returns MQN_OK, MQN_ERR_TLS_CONFIG, MQN_ERR_ARGUMENT, MQN_ERR_NOMEM. */
mqn_status mqn_tls_new_client(const mqn_tls_opts *opts, mqn_tls **out, char *errbuf, size_t errcap);
mqn_status mqn_tls_new_server(const mqn_tls_opts *opts, mqn_tls **out, char *errbuf, size_t errcap);
void mqn_tls_free(mqn_tls *t); /* NULL is fine */

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

typedef struct mqn_conn mqn_conn;

typedef struct {
  uint32_t handshake_timeout_ms; /* TCP connect + TLS + WS upgrade; 0 = 10000 */
  size_t rx_cap;                 /* WS inbound byte buffer; 0 = 64 KiB */
  size_t tx_cap;                 /* outbound byte buffer;   0 = 256 KiB */
  size_t ws_frame_max;           /* ws: max payload per outgoing WS message;
                                  * larger writes are split; 0 = no split */
  int rcvbuf;                    /* client: SO_RCVBUF in bytes, set before
                                  * connect (so the window it announces stays
                                  * small: a slow reader whose peer's writes
                                  * block); 0 = the system's default */
  unsigned ws_fault;             /* ws/wss server: one mqn_ws_fault, a planted
                                  * deviation (mqcheck mutants); 0 = none */
} mqn_conn_opts;

/* Planted WebSocket deviations of the server side (mqcheck mutants, serve
 * --fault): each breaks one statement of MQTT section 6 and nothing else.
 * The transport's counterpart of the engine's mqe_fault (engine/mqe.h). */
typedef enum {
  MQN_WS_FAULT_NONE = 0,
  MQN_WS_FAULT_ACCEPT_TEXT,     /* a TEXT message is read as MQTT bytes */
  MQN_WS_FAULT_ALIGNED_PACKETS, /* a message ending inside a packet is dropped */
  MQN_WS_FAULT_NO_SUBPROTOCOL,  /* the 101 names no subprotocol */
  MQN_WS_FAULT__END
} mqn_ws_fault;
typedef struct {
  const char *name;              /* "ws-accept-text" */
  mqn_ws_fault id;               /* MQN_WS_FAULT_* */
  const char *stmt_311, *stmt_5; /* the statement it breaks, per version */
  const char *what;              /* one line */
} mqn_ws_fault_info;
size_t mqn_ws_fault_count(void);                                /* MQN_WS_FAULT__END - 1 */
const mqn_ws_fault_info *mqn_ws_fault_at(size_t i);             /* static; NULL past the end */
const mqn_ws_fault_info *mqn_ws_fault_lookup(const char *name); /* NULL: none */

/* Bits of mqn_conn_want(). */
#define MQN_WANT_READ  1u
#define MQN_WANT_WRITE 2u

/* Starts a nonblocking client connection to url. Resolution is synchronous
 * (numeric hosts, e.g. 127.0.0.1, never block). tls (borrowed until the
 * connection is freed) must be a client context for mqtts/wss and is
 * ignored otherwise; NULL there gives MQN_ERR_ARGUMENT. opts may be NULL.
 * On MQN_OK *out is in the handshake phase: drive it with mqn_conn_progress()
 * or an mqn_loop. Caller owns *out (mqn_conn_free).
 * returns MQN_OK, MQN_ERR_ARGUMENT, MQN_ERR_RESOLVE, MQN_ERR_REFUSED,
 *         MQN_ERR_IO, MQN_ERR_NOMEM. */
mqn_status mqn_conn_dial(const mqn_url *url, mqn_tls *tls, const mqn_conn_opts *opts,
                         mqn_conn **out);

/* Advances the handshake (TCP connect, TLS, WS upgrade).
 * returns MQN_OK once open, MQN_AGAIN (wait for mqn_conn_want()), MQN_TIMEOUT
 * when the handshake deadline passed, or the failure status (sticky). */
mqn_status mqn_conn_progress(mqn_conn *c);

/* Reads up to cap MQTT bytes. *n reset on entry.
 * returns MQN_OK (*n > 0), MQN_AGAIN, MQN_CLOSED, or an error. Data may be
 * buffered inside (TLS records, WS frames): read until MQN_AGAIN before
 * waiting on the descriptor. (An mqn_loop knows when a short read of plain
 * TCP emptied the socket, and reports MQN_EV_READABLE again only when more
 * comes, so a loop's reader may also stop at a short read.) */
mqn_status mqn_conn_read(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n);

/* Copies up to len bytes into the bounded outbound buffer (borrowed: buf is
 * not kept) and starts sending. *n (reset on entry) is how many were taken;
 * fewer than len means the buffer is full: flush and retry.
 * returns MQN_OK (even if *n < len), MQN_AGAIN (nothing taken), or an error. */
mqn_status mqn_conn_write(mqn_conn *c, const uint8_t *buf, size_t len, size_t *n);

/* Sends what is buffered. returns MQN_OK when everything left the process,
 * MQN_AGAIN when some remains (wait for MQN_WANT_WRITE), or an error. */
mqn_status mqn_conn_flush(mqn_conn *c);

/* Bytes still waiting in the outbound buffer (including WS framing). */
size_t mqn_conn_pending_out(const mqn_conn *c);

/* Starts a graceful close: WS close frame (1000), TLS close_notify, TCP FIN,
 * after what is buffered. returns MQN_OK when all of it was sent, MQN_AGAIN
 * while some remains (call again / keep flushing), or an error. Further
 * writes fail with MQN_ERR_ARGUMENT. Reads continue until MQN_CLOSED. */
mqn_status mqn_conn_shutdown(mqn_conn *c);

/* ws/wss: queues a WebSocket ping (payload up to 125 bytes, borrowed). */
mqn_status mqn_conn_ws_ping(mqn_conn *c, const uint8_t *data, size_t len);
/* ws/wss: queues data (borrowed, 1..65536 bytes) as one TEXT message instead
 * of the BINARY ones mqn_conn_write sends: a deliberate violation of
 * MQTT-6.0.0-1, for testing that a peer closes. MQN_OK once queued (the loop
 * flushes the rest), MQN_ERR_ARGUMENT on a non-WebSocket or closed c. */
mqn_status mqn_conn_ws_send_text(mqn_conn *c, const uint8_t *data, size_t len);

void mqn_conn_free(mqn_conn *c); /* abortive close; NULL is fine */

int mqn_conn_fd(const mqn_conn *c);
unsigned mqn_conn_want(const mqn_conn *c); /* MQN_WANT_* for the current phase */
bool mqn_conn_is_open(const mqn_conn *c);  /* handshake complete */
mqn_scheme mqn_conn_scheme(const mqn_conn *c);
bool mqn_conn_is_server(const mqn_conn *c);
/* Last failure's status and a one-line detail (valid until the next call on
 * c, or c is freed). "" when none. */
mqn_status mqn_conn_status(const mqn_conn *c);
const char *mqn_conn_errmsg(const mqn_conn *c);
/* Negotiated details once open; NULL/"" when not applicable. Valid until c is
 * freed. */
const char *mqn_conn_tls_version(const mqn_conn *c); /* "TLSv1.3" */
const char *mqn_conn_alpn(const mqn_conn *c);        /* "mqtt" or "" */
const char *mqn_conn_ws_path(const mqn_conn *c);     /* server: requested path */
/* Peer address as "127.0.0.1:54321" into buf (snprintf semantics). */
size_t mqn_conn_peer(const mqn_conn *c, char *buf, size_t cap);

/* Per-connection deadline (absolute, mqn_now_ms() clock; 0 = none). The loop
 * reports MQN_EV_TIMEOUT once when it passes, then clears it. During the
 * handshake the handshake deadline applies instead. */
void mqn_conn_set_deadline(mqn_conn *c, int64_t deadline_ms);
int64_t mqn_conn_deadline(const mqn_conn *c);

/* ------------------------------------------------------------------------ */
/* Listeners (server side)                                                  */
/* ------------------------------------------------------------------------ */

typedef struct mqn_listener mqn_listener;

/* Binds and listens on url (host must be numeric or resolvable; port 0 picks
 * a free port, see mqn_listener_port). tls (borrowed until the listener and
 * every connection accepted from it are freed) must be a server context for
 * mqtts/wss. opts (copied; may be NULL) applies to accepted connections.
 * Caller owns *out. returns MQN_OK, MQN_ERR_ARGUMENT, MQN_ERR_RESOLVE,
 * MQN_ERR_LISTEN (errno then holds the socket/bind/listen error), MQN_ERR_NOMEM. */
mqn_status mqn_listener_open(const mqn_url *url, mqn_tls *tls, const mqn_conn_opts *opts,
                             mqn_listener **out);
/* Accepts one pending connection (nonblocking). *out, owned by the caller,
 * is in its server handshake (TLS accept, WS upgrade): drive it like a dialed
 * one. returns MQN_OK, MQN_AGAIN (none pending), MQN_ERR_IO, MQN_ERR_NOMEM. */
mqn_status mqn_listener_accept(mqn_listener *l, mqn_conn **out);
uint16_t mqn_listener_port(const mqn_listener *l);
int mqn_listener_fd(const mqn_listener *l);
const mqn_url *mqn_listener_url(const mqn_listener *l); /* valid until freed */
void mqn_listener_free(mqn_listener *l);                /* NULL is fine */

/* ------------------------------------------------------------------------ */
/* Event loop (epoll)                                                       */
/* ------------------------------------------------------------------------ */

typedef struct mqn_loop mqn_loop;

typedef enum {
  MQN_EV_OPEN,     /* handshake complete (dialed, or accepted from ev.listener) */
  MQN_EV_READABLE, /* read until MQN_AGAIN; reported again while data remains */
  MQN_EV_DRAINED,  /* the outbound buffer became empty after being non-empty */
  MQN_EV_ERROR,    /* handshake or I/O failure: ev.status, mqn_conn_errmsg() */
  MQN_EV_TIMEOUT   /* the connection's deadline (or handshake deadline) passed */
} mqn_event_kind;

typedef struct {
  mqn_event_kind kind;
  mqn_conn *conn;         /* valid until mqn_loop_close()/mqn_loop_free() */
  mqn_listener *listener; /* the listener it was accepted from, or NULL */
  void *udata;            /* as given to mqn_loop_add / mqn_loop_set_udata */
  mqn_status status;      /* MQN_EV_ERROR: the failure */
} mqn_event;

/* max_conns bounds the connections the loop holds (accepts beyond it are
 * closed at once); 0 = 1024. returns MQN_OK, MQN_ERR_NOMEM, MQN_ERR_IO. */
mqn_status mqn_loop_new(size_t max_conns, mqn_loop **out);
/* Frees the loop and every connection and listener it owns. */
void mqn_loop_free(mqn_loop *l);

/* Takes ownership of a listener: the loop accepts from it and drives each new
 * connection's handshake, then reports MQN_EV_OPEN (or ERROR/TIMEOUT) with
 * ev.listener set. udata is reported for the listener's connections until the
 * application changes it with mqn_loop_set_udata. */
mqn_status mqn_loop_add_listener(mqn_loop *l, mqn_listener *lis, void *udata);
/* Takes ownership of a connection (dialed or accepted, open or not). */
mqn_status mqn_loop_add(mqn_loop *l, mqn_conn *c, void *udata);
void mqn_loop_set_udata(mqn_loop *l, mqn_conn *c, void *udata);
/* Removes c from the loop and frees it (abortive). */
void mqn_loop_close(mqn_loop *l, mqn_conn *c);
/* Removes c from the loop and hands ownership back to the caller. */
void mqn_loop_detach(mqn_loop *l, mqn_conn *c);
size_t mqn_loop_count(const mqn_loop *l);

/* Waits up to timeout_ms (-1: until the next deadline or event; never longer
 * than the earliest connection deadline) and fills up to cap events. Cost is
 * O(connections with activity), not O(connections held): see loop.c. After an
 * ERROR or TIMEOUT event for c the loop stops watching c; close or detach it.
 * *n reset on entry. returns MQN_OK (possibly *n == 0 on timeout), or
 * MQN_ERR_IO when epoll itself fails. */
mqn_status mqn_loop_wait(mqn_loop *l, int timeout_ms, mqn_event *ev, size_t cap, size_t *n);
/* After mqn_conn_write()/shutdown() outside the loop's events, tells the loop
 * to watch for writability. Cheap; call it whenever in doubt. */
void mqn_loop_update(mqn_loop *l, mqn_conn *c);
/* Back-pressure: while paused the loop stops watching c for input (no
 * EPOLLIN, no MQN_EV_READABLE), so the kernel's receive buffer fills and TCP
 * flow control slows the peer down. Writes, DRAINED, deadlines and errors
 * carry on. Resuming reports READABLE once (TLS or WebSocket may hold bytes
 * epoll cannot see). Pausing twice is the same as once; a connection not in
 * l is ignored. O(1). */
void mqn_loop_pause_read(mqn_loop *l, mqn_conn *c, bool paused);
bool mqn_loop_read_paused(const mqn_loop *l, const mqn_conn *c);

/* ------------------------------------------------------------------------ */
/* Blocking helpers with deadlines (poll on one descriptor)                  */
/* ------------------------------------------------------------------------ */

/* Dials and completes the handshake within timeout_ms. On failure *out is
 * NULL and, when errbuf is given, it receives mqn_conn_errmsg()'s text.
 * returns MQN_OK, MQN_TIMEOUT, or the handshake's failure status. */
mqn_status mqn_dial_blocking(const mqn_url *url, mqn_tls *tls, const mqn_conn_opts *opts,
                             int timeout_ms, mqn_conn **out, char *errbuf, size_t errcap);
/* Completes an accepted (or dialed) connection's handshake within timeout_ms. */
mqn_status mqn_handshake_blocking(mqn_conn *c, int timeout_ms);
/* Writes all len bytes (borrowed) and flushes them within timeout_ms.
 * returns MQN_OK, MQN_TIMEOUT, or an error. */
mqn_status mqn_send_all(mqn_conn *c, const uint8_t *buf, size_t len, int timeout_ms);
/* Waits up to timeout_ms for at least one byte and returns what is available
 * (up to cap). *n reset on entry. returns MQN_OK, MQN_TIMEOUT, MQN_CLOSED or
 * an error. */
mqn_status mqn_recv(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n, int timeout_ms);
/* Reads exactly len bytes within timeout_ms. */
mqn_status mqn_recv_exact(mqn_conn *c, uint8_t *buf, size_t len, int timeout_ms);
/* Reads exactly one MQTT control packet (fixed header + body) within
 * timeout_ms into buf; *n is its length. Leaves following bytes unread.
 * returns MQN_OK, MQN_TIMEOUT, MQN_CLOSED, MQN_ERR_LIMIT (packet larger than
 * cap or a malformed length), or an error. */
mqn_status mqn_recv_packet(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n, int timeout_ms);
/* Graceful close within timeout_ms (mqn_conn_shutdown, then waits for the
 * peer's close / EOF); does not free c. */
mqn_status mqn_close_blocking(mqn_conn *c, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* MQN_H */
