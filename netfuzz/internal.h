/* internal.h - shared by the netfuzz sources (not part of the API).
 *
 * The protocol model a session's clients keep (what they sent, what the
 * broker answered) and the oracle checks on it live in model.c; the executor
 * (exec.c) drives sockets and feeds the model. */
#ifndef MQZ_INTERNAL_H
#define MQZ_INTERNAL_H

#include <stddef.h>

#include "mqz.h"

#define MQZ__MAX_PEND    64  /* server packets awaiting a client's answer */
#define MQZ__MAX_PUBS    128 /* QoS 1/2 messages a session tracks */
#define MQZ__MAX_SUBS    64  /* filters a session tracks */
#define MQZ__MAX_DELIV   256 /* deliveries a session tracks */
#define MQZ__MAX_ALIAS   32  /* topic aliases per connection and direction */
#define MQZ__ID_MAX      96  /* client IDs and topics longer than this are not tracked */
#define MQZ__PAYLOAD_MAX 64  /* payload bytes compared (longer: prefix + length) */
#define MQZ__MAX_WILLS   16  /* wills a session tracks */
#define MQZ__MAX_SENT    256 /* topic+payload hashes of every PUBLISH a session sent */
#define MQZ__MAX_TWINS   16  /* pairs of live connections with one client ID */

typedef struct {
  char s[MQZ__ID_MAX];
  uint8_t n;
  bool ok; /* fits and carries this session's token */
} mqz__name;

typedef struct {
  uint16_t alias;
  mqz__name topic;
} mqz__alias;

/* One client's connection as the oracles see it. */
typedef struct {
  mqc_version v;           /* from the CONNECT sent on this connection */
  bool connect_sent;       /* a CONNECT went out on this connection */
  bool connect_bad;        /* ... and it did not decode */
  bool connack_ok;         /* CONNACK 0x00 arrived */
  const char *must_refuse; /* the statement that makes the broker refuse this CONNECT */
  bool server_closed;      /* the broker closed it */
  bool client_closed;      /* we closed it (or dropped, half-closed, reconnected) */
  uint32_t max_packet;     /* our CONNECT's Maximum Packet Size (5.0), 0 = none */
  mqz__name cid;
  bool tainted;  /* a packet we sent did not decode: no delivery oracles */
  bool violated; /* ... and the broker must close: nothing is sent after it */
  bool raw_sent; /* RAW or REPEAT bytes went out: how the broker frames what follows is unknown */
  char viol_stmt[32];
  char viol_rule[160];   /* what the packet broke */
  bool probe_sent;       /* the PINGREQ sent after the violation */
  uint32_t pings, pongs; /* PINGREQs sent, PINGRESPs received */
  uint32_t pongs_owed;   /* at the violation: PINGRESPs due for earlier PINGREQs */
  size_t will;           /* 1 + index in mqz__model.will of this connection's will, 0 = none */
  bool session_outlives; /* 5.0: a Session Expiry Interval > 0 */
  size_t n_pend, n_in_alias, n_out_alias;
  /* the tables last: only their first n_* entries are read, so a new
   * connection clears what comes before them (MQZ__CONN_CLEAR), not them */
  struct {
    uint8_t type; /* the ack owed: PUBACK, PUBREC, PUBCOMP */
    uint16_t id;
  } pend[MQZ__MAX_PEND];
  mqz__alias in_alias[MQZ__MAX_ALIAS], out_alias[MQZ__MAX_ALIAS];
} mqz__conn_model;

#define MQZ__CONN_CLEAR offsetof(mqz__conn_model, pend)

/* What became of a connection's will, as far as the spec fixes it. */
typedef enum {
  MQZ__WILL_OPEN,    /* the connection is still open */
  MQZ__WILL_DUE,     /* closed without DISCONNECT (or with 0x04 in 5.0): it must be published */
  MQZ__WILL_DROPPED, /* a DISCONNECT (0x00 in 5.0) went out: it must not be */
  MQZ__WILL_UNKNOWN, /* the spec leaves it open, or we cannot tell what the broker read */
} mqz__will_end;

/* The will a CONNECT carried (only wills on this session's topics). */
typedef struct {
  unsigned client;
  uint64_t conn_no;
  uint8_t node; /* of its connection */
  mqz__name cid, topic;
  uint8_t qos;
  bool retain;
  bool delayed;  /* 5.0 Will Delay Interval > 0 and a session that outlives the connection */
  bool expiry;   /* a Message Expiry Interval */
  bool accepted; /* CONNACK 0x00 arrived on its connection */
  bool doubt;    /* bytes the broker may have framed otherwise (RAW, a misframed packet) */
  bool taken;    /* another connection used the same client ID: a takeover */
  mqz__will_end end;
  uint64_t end_seq; /* when the connection ended */
  uint8_t payload[MQZ__PAYLOAD_MAX];
  size_t payload_n, payload_len;
} mqz__will;

/* A QoS 1/2 message a client published. */
typedef struct {
  unsigned client;
  mqz__name cid, topic;
  uint8_t qos;
  bool retain, expiry; /* published retained / with a Message Expiry Interval */
  uint16_t id;
  bool acked;  /* the broker took it: PUBACK (QoS 1) or PUBCOMP (QoS 2) below 0x80 */
  bool recd;   /* QoS 2: PUBREC below 0x80 arrived, PUBCOMP not yet */
  bool done;   /* the flow ended: its identifier is free again */
  bool reused; /* sent with an identifier still in use: a retransmission */
  uint64_t conn_no;
  uint64_t seq;
  int64_t sent_ms; /* on the executor's clock */
  uint8_t node;    /* where it was published */
  uint8_t payload[MQZ__PAYLOAD_MAX];
  size_t payload_n, payload_len;
} mqz__pub;

/* A filter a client subscribed to. */
typedef struct {
  unsigned client;
  mqz__name cid, filter;
  uint16_t id;
  uint8_t granted;         /* SUBACK code; 0xFF until it arrives */
  uint8_t retain_handling; /* 5.0 option; 0 in 3.1.1 */
  uint64_t sent_seq;       /* when the SUBSCRIBE went out */
  int64_t sent_ms;         /* ... on the executor's clock */
  uint8_t node;            /* of the connection it was made on */
  bool gone;               /* an UNSUBSCRIBE for it was sent */
  bool no_local;
  bool shared;
  uint64_t seq;     /* when its SUBACK arrived */
  int64_t acked_ms; /* ... on the executor's clock */
  uint64_t conn_no; /* the client's connection number it belongs to */
} mqz__sub;

/* A retained PUBLISH a client sent (any QoS): what new subscriptions get. */
typedef struct {
  mqz__name topic;
  uint8_t qos;
  bool acked; /* QoS 1/2 acknowledged: the broker holds it */
  uint64_t acked_seq;
  int64_t acked_ms; /* on the executor's clock */
  uint8_t node;     /* where it was published */
  bool expiry;      /* with a Message Expiry Interval */
  uint64_t seq;
  uint8_t payload[MQZ__PAYLOAD_MAX];
  size_t payload_n, payload_len;
} mqz__retained;

/* A retained message a new subscription of client is owed. */
typedef struct {
  unsigned client;
  uint64_t conn_no;
  const mqz__retained *r;
  uint8_t node; /* of the subscription */
  char filter[MQZ__ID_MAX];
} mqz__retowed;

typedef struct {
  unsigned client;
  mqz__name topic;
  uint8_t qos;
  bool retain, dup;
  uint16_t id;
  uint8_t payload[MQZ__PAYLOAD_MAX];
  size_t payload_n, payload_len;
} mqz__deliv;

/* A session's model: its clients' connections and the messages they saw. */
typedef struct {
  mqc_version session_v;
  char token[MQZ_TOKEN_LEN + 1];
  bool spec;     /* judge the spec statements */
  bool auto_ack; /* clients answer everything themselves */
  uint64_t seq;  /* advances with every packet sent or received */
  uint64_t rev;  /* advances with every change: mqz__model_owed's cache key */
  struct {
    uint64_t rev; /* 0: empty */
    unsigned client;
    size_t n;
  } owed_cache;
  uint64_t conn_no[MQZ_MAX_CLIENTS]; /* connections opened per client */
  bool ever_tainted[MQZ_MAX_CLIENTS];
  /* client IDs whose broker session predates this one (session present on
   * their first CONNACK): what it holds is unknown, so no delivery oracle */
  mqz__name inherited[MQZ_MAX_CLIENTS];
  size_t n_inherited;
  mqz__name accepted[MQZ_MAX_CLIENTS]; /* client IDs with a CONNACK 0x00 so far */
  size_t n_accepted;
  size_t n_pub, n_sub, n_deliv, n_ret, n_retowed, n_will, n_sent_hash;
  bool no_retain;   /* a CONNACK said Retain Available 0: retained messages are not judged */
  bool overflow;    /* a table filled up: the delivery oracles stand down */
  mqz_outcome *out; /* the first finding is kept here */
  /* A cluster target (the executor sets these after mqz__model_init):
   * what a node learns from another may take propagation_ms to get there. */
  unsigned n_nodes;              /* 0 or 1: one broker */
  const char *const *node_names; /* borrowed; NULL: nodes are numbered */
  uint32_t propagation_ms;
  uint32_t cluster_off;          /* MQZ_CLUSTER_* promises not made */
  int64_t now;                   /* the executor's clock (ms) at the current event */
  uint8_t node[MQZ_MAX_CLIENTS]; /* the node of each client's current connection */
  /* Two accepted connections with one client ID: the broker must close one
   * (a takeover, MQTT-3.1.4-2 / 5.0 MQTT-3.1.4-3), on a cluster within the
   * propagation bound, unless the topology does not promise it across the
   * nodes they are on. Each connection by client and its number. */
  struct {
    uint8_t a, b;
    uint64_t a_conn, b_conn;
  } twin[MQZ__MAX_TWINS];
  size_t n_twin;
  /* The tables last: only their first n_* entries are read, so a session
   * starts by clearing what comes before them, not the tables (clearing
   * all 190 KiB was a tenth of the executor's CPU). */
  mqz__conn_model c[MQZ_MAX_CLIENTS];
  mqz__pub pub[MQZ__MAX_PUBS];
  mqz__sub sub[MQZ__MAX_SUBS];
  mqz__deliv deliv[MQZ__MAX_DELIV];
  mqz__retained ret[MQZ__MAX_PUBS];
  mqz__retowed retowed[MQZ__MAX_SUBS];
  mqz__will will[MQZ__MAX_WILLS];
  uint64_t sent_hash[MQZ__MAX_SENT]; /* topic+payload of every PUBLISH a client sent */
} mqz__model;

void mqz__model_init(mqz__model *m, mqc_version v, const char *token, bool spec, bool auto_ack,
                     mqz_outcome *out);
/* A connection of client opens (before anything is sent on it). */
void mqz__model_open(mqz__model *m, unsigned client);
/* The client closes its connection (any way). */
void mqz__model_client_closed(mqz__model *m, unsigned client);
/* The broker closed the client's connection. */
void mqz__model_server_closed(mqz__model *m, unsigned client);

/* What the executor should do with a packet the client is about to send. */
typedef enum {
  MQZ__SEND,     /* send it */
  MQZ__SUPPRESS, /* do not: the connection already broke the protocol */
} mqz__send_verdict;

/* Packet p[0..n) (token applied, ack id patched) is about to be sent. If it
 * breaks the protocol, *probe is set: the executor sends a PINGREQ after it
 * so the oracle can tell whether the broker went on. */
mqz__send_verdict mqz__model_sent(mqz__model *m, unsigned client, const uint8_t *p, size_t n,
                                  bool *probe);
/* Bytes that do not form a packet were sent (RAW): the stream is broken. */
void mqz__model_sent_raw(mqz__model *m, unsigned client);

/* A whole packet arrived at client (bad-wire and spec checks). Returns false
 * when the stream cannot go on (it did not decode). Writes the answer the
 * client owes under auto-ack into ack[4] (*ack_n = 0 when none). */
bool mqz__model_received(mqz__model *m, unsigned client, const uint8_t *p, size_t n, uint8_t ack[4],
                         size_t *ack_n);
/* Bytes that cannot be framed arrived (bad-wire). */
void mqz__model_unframeable(mqz__model *m, unsigned client, const mqc_error *err);
/* Makes the acknowledgement p[0..n) (an ACK record) answer the oldest
 * server packet client still owes that answer to: its packet identifier is
 * patched in. Nothing changes when none is owed. */
void mqz__model_answer(mqz__model *m, unsigned client, uint8_t *p, size_t n);

/* Deliveries still owed to client (MQZ_MAX_CLIENTS: to anyone); 0 means
 * the client may leave (or the session end) without losing anything. */
size_t mqz__model_owed(mqz__model *m, unsigned client);
/* On a cluster: when every subscription acknowledged on another node than
 * client's has had the propagation bound to get there, on the executor's
 * clock (0 when none is pending, or with one node; -1 while a SUBACK for
 * one is still to come). A PUBLISH sent sooner owes it nothing, so the
 * executor holds it until then. */
int64_t mqz__model_settle_ms(const mqz__model *m, unsigned client);
/* The delivery oracles for what client was owed (MQZ_MAX_CLIENTS: for
 * everyone): called before a subscriber leaves and at the end. */
void mqz__model_judge(mqz__model *m, unsigned client);

/* Records a finding in m->out unless one is there already. */
void mqz__finding(mqz__model *m, mqz_kind k, unsigned client, const char *stmt, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

/* FNV-1a, 64 bits: names files by their content (not security). */
uint64_t mqz__hash64(const void *p, size_t n);
/* mkdir -p: creates DIR and its missing parents. 0, or -1 with the component that failed
 * and why in ERR. */
int mqz__make_dirs(const char *dir, char *err, size_t err_cap);
/* Writes n bytes to path through path.tmp and a rename, so a full disk never
 * leaves a half-written file under the final name. 0, or -1 with err. */
int mqz__write_file(const char *path, const void *p, size_t n, char *err, size_t cap);
/* Puts packet identifier id into the acknowledgement p[0..n) (after its
 * fixed header); nothing when p does not frame or is too short. */
void mqz__patch_ack_id(uint8_t *p, size_t n, uint16_t id);
/* Length of the fixed header of the packet at p (framed as 3.1.1, which
 * accepts padded lengths; the body may be cut short), or 0 when the header
 * itself is incomplete or invalid. */
size_t mqz__header_len(const uint8_t *p, size_t n);
/* Offset just after the length-prefixed string that starts the variable
 * header (a PUBLISH's topic, a CONNECT's protocol name), or 0 when p is too
 * short for it. */
size_t mqz__after_first_string(const uint8_t *p, size_t n);

/* Sessions other fuzzers share under sync (AFL++'s layout: every
 * <sync>/<name>/queue/ but the folder self), named "<name>/<file>". Returns
 * the count or -1 with err. */
long mqz__sync_load(const char *sync, const char *self, mqz_corpus *out, char *err, size_t cap);

/* The k-th smaller variant of the packet p[0..n) a client of version v
 * sends (a CONNECT's own level decides for it), for the minimiser's byte
 * level: field variants first when it decodes (a 5.0 property dropped, its
 * string or binary value emptied or halved; a PUBLISH or will payload
 * emptied or halved; re-encoded by the codec), then runs of its body removed
 * (halves down to single bytes) with the remaining length rewritten (padded
 * to its old width when it was padded). out has room for n bytes; *out_n = 0
 * when variant k does not apply. Returns false past the last variant. */
bool mqz__shrink_packet(const uint8_t *p, size_t n, mqc_version v, unsigned k, uint8_t *out,
                        size_t *out_n);
/* How many of mqz__shrink_packet's variants of p are field variants (they
 * come first). */
unsigned mqz__shrink_fields(const uint8_t *p, size_t n, mqc_version v);
/* The same for RAW bytes: runs removed. */
bool mqz__shrink_raw(const uint8_t *p, size_t n, unsigned k, uint8_t *out, size_t *out_n);

/* Topic filter matching (MQTT 4.7): shared-subscription prefixes stripped,
 * '$' topics not matched by leading wildcards. */
bool mqz__topic_matches(const char *filter, size_t fn, const char *topic, size_t tn);

/* ---- the idle-CPU oracle's measurements (cpu.c) ---- */

/* One reading of a process's CPU counters. */
typedef struct {
  int64_t at_ms;        /* when (mqn_now_ms) */
  uint64_t cpu_ns;      /* utime + stime of all its threads (/proc/PID/stat) */
  uint64_t runnable_ns; /* its threads' time on a CPU or waiting for one
                           (/proc/PID/task/TID/schedstat), summed */
  bool has_runnable;    /* schedstat was readable */
} mqz__cpu;

/* Reads pid's counters. returns 0, or -1 (no such process, no /proc). */
int mqz__cpu_sample(int pid, mqz__cpu *out);
/* From a to b, in cores (1.0 = one core all the time): *used, the CPU time
 * it got; *busy, the time it was runnable, which other load on the machine
 * does not shrink (falls back to *used without schedstat). */
void mqz__cpu_share(const mqz__cpu *a, const mqz__cpu *b, double *used, double *busy);

/* Connections held open and silent while a broker at rest is measured, one
 * per state a real broker holds idle clients in: the transport alone (TCP,
 * TLS or WebSocket handshake done, no MQTT byte sent) and a client whose
 * CONNECT was answered. Owned: mqz__idlers_close. */
#define MQZ__IDLERS 2
typedef struct {
  mqn_conn *c[MQZ__IDLERS];
} mqz__idlers;

/* Opens them (blocking, each step within timeout_ms; the strings borrowed
 * for the call). returns how many transports opened; d always needs
 * mqz__idlers_close. */
unsigned mqz__idlers_open(mqz__idlers *d, const mqn_url *url, mqn_tls *tls, mqc_version v,
                          const char *client_id, const char *username, const char *password,
                          int timeout_ms);
void mqz__idlers_close(mqz__idlers *d);

#endif
