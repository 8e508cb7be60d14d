/* internal.h - clientcheck's case context and behaviour hooks (not public). */
#ifndef MQK_INTERNAL_H
#define MQK_INTERNAL_H

#include "mqe.h"
#include "mqk.h"
#include "mqn.h"

#define MQK__CONNS  8  /* connections one case accepts (reconnects) */
#define MQK__STMTS  16 /* statements one case judges */
#define MQK__HOLD   16 /* packets held back per connection */
#define MQK__IN_CAP (256u << 10)
/* A packet the client sent before it could have read the server's last word
 * (pipelining is allowed) may arrive this long after it went out: on a loaded
 * machine a client is descheduled between two writes. */
#define MQK__GRACE_MS 300

typedef enum { MQK__NONE, MQK__PASS, MQK__FAIL } mqk__mark;

typedef struct {
  int64_t at;
  size_t n;
  uint8_t b[64];
} mqk__held;

typedef struct mqk__conn {
  unsigned index; /* 0 for the first connection, 1 for the next... */
  mqn_conn *nc;
  mqe_conn *ec;
  mqc_version ver; /* from its CONNECT; 0 before */
  bool clean_start;
  uint16_t topic_alias_max; /* what the client's CONNECT allows */
  bool has_auth_method;
  int64_t opened, last_rx, connack_at;
  uint8_t connack_reason;
  bool session_present;
  int64_t silenced_at; /* a refusal or DISCONNECT went out: the client must go quiet */
  int64_t close_at;    /* transport close scheduled (0 = none) */
  bool gone;           /* transport closed */
  bool client_closed;  /* by the client (EOF, reset) */
  int64_t gone_at;
  size_t in_n;
  uint8_t *in; /* MQK__IN_CAP */
  mqk__held hold[MQK__HOLD];
  size_t nhold;
} mqk__conn;

typedef struct mqk__case mqk__case;

/* Hooks return what happens to the packet. */
typedef enum { MQK__FORWARD, MQK__SWALLOW, MQK__HOLD_IT } mqk__action;

typedef struct {
  mqk_behaviour pub;
  unsigned close_delay_ms;   /* transport stays open this long after the engine closes */
  unsigned publish_delay_ms; /* SUB: harness publishes this long after the SUBACK */
  unsigned hold_ms;          /* how long MQK__HOLD_IT holds a packet; 0 = 200 */
  int variant;               /* a behaviour family's member */
  void (*config)(mqk__case *k, mqe_config *c);
  /* a packet from the client, decoded (len bytes at raw) */
  mqk__action (*client_pkt)(mqk__case *k, mqk__conn *c, const mqc_packet *p);
  /* a packet the engine sends to the client; raw may be rewritten in place */
  mqk__action (*server_pkt)(mqk__case *k, mqk__conn *c, const mqc_packet *p, uint8_t *raw,
                            size_t n);
  void (*tick)(mqk__case *k, int64_t now);
  void (*finish)(mqk__case *k);
} mqk__behaviour;

typedef struct {
  const char *id;
  mqk__mark mark;
  char note[200];
} mqk__stmt;

struct mqk__case {
  const mqk__behaviour *b;
  unsigned vbit;
  bool v5;
  double scale;
  mqe_engine *e;
  mqn_loop *loop;
  mqe_conn *harness; /* the engine connection the harness publishes through */
  uint16_t harness_pid;
  mqk__conn *conns[MQK__CONNS];
  size_t nconns;
  int64_t start, pub_at; /* pub_at: when to publish (SUB), 0 = not yet due */
  bool published, subscribed;
  unsigned delivered; /* PUBLISH sent to the client */
  unsigned acked;     /* PUBACK/PUBREC the client sent for them */
  bool keep_alive_closed;
  mqk__stmt st[MQK__STMTS];
  size_t nst;
  char why[200]; /* why nothing could be judged */
  char *log;     /* transcript */
  size_t log_n, log_cap;
  mqe_auth_method auth; /* storage for config hooks (outlives the engine) */
  mqe_user user;
  unsigned released; /* held acknowledgements released to the client */
  uint16_t client_keep_alive;
  /* behaviour state */
  int phase;
  uint16_t pid;
  int64_t t;
  unsigned count, max_seen;
};

/* Marks a statement: a failure sticks, a pass counts unless something failed. */
void mqk__judge(mqk__case *k, const char *id, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void mqk__logf(mqk__case *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mqk__why(mqk__case *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes raw bytes to the client now (outside the engine). */
void mqk__send_raw(mqk__case *k, mqk__conn *c, const uint8_t *p, size_t n);
/* Closes the transport now (abrupt: the engine sees a lost connection). */
void mqk__drop(mqk__case *k, mqk__conn *c);
int64_t mqk__ms(const mqk__case *k, unsigned ms); /* ms scaled */

const mqk__behaviour *mqk__behaviour_at(size_t i);
size_t mqk__behaviour_count(void);

#endif
