/* internal.h - engine internals shared by the engine sources. Not installed.
 * Prefix: mqe__ for functions, MQE__ for constants. */
#ifndef MQE_INTERNAL_H
#define MQE_INTERNAL_H

#include <assert.h>
#include <string.h>

#include "mqe.h"

#define MQE__MAX_PACKET_PROTOCOL 268435460u /* 5-byte header + max remaining */
#define MQE__REASON_MAX          200        /* bytes of Reason String the server sends at most */

typedef struct mqe_session mqe_session;
typedef struct mqe_sub mqe_sub;
typedef struct mqe_node mqe_node;
typedef struct mqe_group mqe_group;

/* ---- timers: a binary min-heap of pointers to embedded timers ---------- */
enum { MQE__T_CONN = 1, MQE__T_EXPIRY, MQE__T_WILL, MQE__T_SLOW };
typedef struct {
  uint64_t at;
  uint32_t idx; /* position in the heap, UINT32_MAX when not scheduled */
  uint8_t kind;
} mqe_timer;
#define MQE__NOT_SCHEDULED UINT32_MAX

/* ---- messages: one allocation, shared (refcounted) by every queue ------- */
typedef struct mqe_msg {
  uint32_t refs;
  uint8_t qos;
  bool retain;
  bool has_expiry;
  bool dup_in;        /* the PUBLISH came with DUP 1 (planted deviation DUP_PROPAGATED only) */
  uint64_t expire_at; /* ms, when has_expiry */
  uint16_t topic_len;
  uint16_t origin_len; /* publisher client id (for No Local) */
  uint32_t props_len;  /* 5.0 properties forwarded unchanged (no alias,
                          expiry or subscription ids) */
  uint32_t payload_len;
  size_t size;    /* allocation size */
  uint8_t data[]; /* topic | origin | props | payload */
} mqe_msg;

static inline const uint8_t *mqe__msg_topic(const mqe_msg *m) {
  return m->data;
}
static inline const uint8_t *mqe__msg_origin(const mqe_msg *m) {
  return m->data + m->topic_len;
}
static inline const uint8_t *mqe__msg_props(const mqe_msg *m) {
  return m->data + m->topic_len + m->origin_len;
}
static inline const uint8_t *mqe__msg_payload(const mqe_msg *m) {
  return m->data + m->topic_len + m->origin_len + m->props_len;
}

/* ---- outbound deliveries ------------------------------------------------ */
enum { MQE__Q_QUEUED = 0, MQE__Q_WAIT_ACK, MQE__Q_WAIT_COMP };
typedef struct mqe_qent {
  struct mqe_qent *next, *prev;
  mqe_msg *msg; /* NULL once PUBREC arrived (WAIT_COMP) */
  uint16_t pid;
  uint8_t qos;
  uint8_t state;
  bool retain; /* RETAIN flag to send */
  bool sent;   /* sent at least once: DUP on resend */
  uint8_t nsubids;
  size_t size;
  uint32_t subids[];
} mqe_qent;

typedef struct {
  mqe_qent *head, *tail;
  uint32_t n;
} mqe_qlist;

/* ---- subscriptions and the topic tree ----------------------------------- */
struct mqe_sub {
  mqe_sub *nnext, *nprev; /* node's (or group's) list */
  mqe_sub *snext, *sprev; /* session's list */
  mqe_session *sess;
  mqe_node *node;
  mqe_group *group; /* shared subscription group, or NULL */
  uint32_t subid;   /* 0 = none */
  mqc_subopts opts;
  uint16_t filter_len; /* full filter as subscribed ($share/... kept) */
  char filter[];
};

struct mqe_group {
  mqe_group *next;
  mqe_sub *members; /* subscription order */
  uint32_t n;
  uint32_t rr; /* next member index (round-robin) */
  uint16_t len;
  char name[];
};

struct mqe_node {
  mqe_node *parent, *child, *next, *prev; /* children list, creation order */
  mqe_node *hnext;                        /* engine's child table chain (topic.c) */
  uint32_t serial;                        /* creation number: the table's key, with name */
  uint32_t hkey;                          /* hash of (parent serial, name) */
  mqe_node *plus, *hash;                  /* cached '+' and '#' children */
  mqe_sub *subs;                          /* non-shared subscriptions */
  mqe_group *groups;
  mqe_msg *retained;
  uint32_t nchildren;
  uint16_t len;
  char name[];
};

/* ---- sessions ----------------------------------------------------------- */
typedef struct { /* a Topic Alias's topic (owned) */
  uint8_t *p;
  uint16_t n;
} mqe_alias;

struct mqe_session {
  mqe_session *hnext;
  mqe_conn *conn; /* NULL when offline */
  uint32_t hash;
  uint16_t id_len;
  mqc_version version;
  uint32_t expiry; /* s; UINT32_MAX never */
  mqe_timer expiry_timer;
  mqe_timer will_timer;
  mqe_msg *will; /* pending will (session state) */
  uint32_t will_delay;
  bool will_stale; /* planted deviation WILL_KEPT_IN_SESSION only: the will
                      outlived a DISCONNECT 0x00; a later connection of the
                      session takes it over, the session's end drops it */
  mqe_sub *subs;
  uint32_t nsubs;
  mqe_qlist inflight; /* sent, unacknowledged, send order */
  mqe_qlist queue;    /* not yet sent */
  uint16_t next_pid;
  uint16_t pid_free_run; /* next_pid and the pid_free_run - 1 after it are not
                            in flight (deliver.c, alloc_pid) */
  uint16_t *qos2_in;     /* inbound QoS 2 ids awaiting PUBREL */
  uint32_t qos2_in_n, qos2_in_cap;
  uint64_t mark; /* routing scratch */
  uint32_t tidx;
  /* flow control (flow.c): connections whose input waits for this queue */
  mqe_conn *waiters;
  uint32_t nwaiters;
  mqe_timer slow_timer;  /* slow_subscriber_ms after the last progress */
  uint64_t progress_at;  /* last time a queued message left the queue */
  uint64_t dropped;      /* messages dropped for this session, ever */
  char *client_id;       /* NUL-terminated, id_len bytes */
  mqe_alias *kept_alias; /* planted deviation ALIAS_KEPT_ACROSS_CONNECTIONS only:
                            the last connection's inbound aliases (owned) */
};

/* ---- connections -------------------------------------------------------- */
enum { MQE__S_AWAIT_CONNECT = 0, MQE__S_AUTH, MQE__S_CONNECTED, MQE__S_CLOSING };

struct mqe_conn {
  mqe_conn *next, *prev;   /* engine's connection list */
  mqe_conn *onext, *oprev; /* output list */
  mqe_conn *dnext;         /* pending-detach list */
  bool in_olist;
  bool detach_pending;
  bool detach_will;
  bool failing;
  bool refused; /* its CONNECT was refused (MQE_FAULT_REFUSED_CONNECT_ACTS_ON_REST) */
  uint8_t state;
  bool connack_sent;
  bool will_cancelled; /* DISCONNECT 0x00 received */
  bool problem_info;   /* Request Problem Information */
  bool in_held;        /* c->in holds undispatched input (back-pressure) */
  bool reauth;         /* re-authentication in progress */
  bool wake_pending;   /* on the engine's wake list (flow.c) */
  void *user;
  /* back-pressure from subscribers (flow.c): while stall_on is set, only
   * acknowledgements of this connection's input are dispatched */
  mqe_session *stall_on;
  mqe_conn *wnext, *wprev; /* stall_on's waiter list */
  mqe_conn *wknext;        /* wake list */
  size_t in_scan;          /* held bytes already framed while stalled */
  mqe_session *sess;
  mqc_version ver;
  uint16_t keep_alive; /* effective, s */
  uint64_t last_rx;
  uint64_t opened;
  mqe_timer timer;
  uint32_t connect_expiry; /* session expiry from CONNECT (5.0) */
  /* client's limits (5.0) */
  uint16_t send_max; /* client's Receive Maximum, capped */
  uint32_t client_max_packet;
  uint16_t out_alias_max;
  mqe_alias *in_alias;  /* topic_alias_maximum entries (lazy) */
  mqe_alias *out_alias; /* out_alias_max entries (lazy) */
  uint16_t out_alias_used;
  /* input */
  uint8_t *in;
  size_t in_len, in_cap;
  /* output: bytes [out_off, out_len) are pending */
  uint8_t *out;
  size_t out_off, out_len, out_cap;
  /* identity */
  uint8_t *username;
  uint16_t username_len;
  bool has_username;
  /* enhanced authentication */
  const mqe_auth_method *auth;
  unsigned auth_step;
  uint8_t auth_state[MQE_AUTH_STATE];
  uint8_t *connect_copy; /* CONNECT bytes kept during an AUTH exchange */
  size_t connect_copy_len;
  char noid[1]; /* "" for client_id before CONNECT */
};

/* ---- engine ------------------------------------------------------------- */
/* Routing scratch: a matching subscription, and one target session. */
struct mqe_hit {
  mqe_session *sess;
  mqe_sub *sub;
};
struct mqe_target {
  mqe_session *sess;
  uint8_t qos;
  bool retain;
  uint8_t nsub;
  uint8_t fill;
  mqe_qent *q;
};
/* One frame of the explicit stack that walks the topic tree. */
struct mqe_walk {
  mqe_node *n;
  uint16_t d;
  bool sib;
};

struct mqe_engine {
  mqe_config cfg;
  uint64_t rng;
  mqe_conn *conns;
  uint32_t nconns;
  mqe_conn *ohead, *otail;
  mqe_conn *dhead;
  mqe_conn *wkhead; /* stalled connections released, to run (flow.c) */
  mqe_session **buckets;
  uint32_t nbuckets;
  uint32_t nsessions;
  /* the most nconns + nsessions ever: bounds how far a queue may exceed
   * max_queued, and does not shrink when connections close (flow.c) */
  uint32_t peak_load;
  uint64_t nsubs;
  mqe_node *root;
  /* (parent, level name) -> child: wide levels are found in O(1), while the
   * children lists keep creation order for deterministic walks */
  mqe_node **ntab;
  uint32_t ntab_cap, nnodes, node_serial;
  uint32_t nretained;
  size_t retained_bytes;
  mqe_timer **heap;
  uint32_t heap_n, heap_cap, heap_reserved;
  /* routing scratch */
  uint64_t gen;
  struct mqe_hit *hits;
  uint32_t hits_cap;
  struct mqe_target *targets;
  uint32_t targets_cap;
  struct mqe_walk *stack; /* retained-message tree walk */
  uint32_t stack_cap;
  mqc_bytes *levels; /* max_topic_levels + 1 entries */
  mqe_stats st;
  uint64_t now;
};

/* alloc.c */
void *mqe__alloc(mqe_engine *e, size_t n);
void *mqe__zalloc(mqe_engine *e, size_t n);
void mqe__free(mqe_engine *e, void *p, size_t n);
uint64_t mqe__rand(mqe_engine *e);

/* events (engine.c) */
void mqe__event(mqe_engine *e, mqe_event_type t, mqe_conn *c, uint8_t reason, const char *statement,
                const char *message);
void mqe__event_sess(mqe_engine *e, mqe_event_type t, const mqe_session *s, const char *message);

/* timer.c */
bool mqe__heap_reserve(mqe_engine *e, uint32_t extra);
void mqe__heap_release(mqe_engine *e, uint32_t n);
void mqe__timer_set(mqe_engine *e, mqe_timer *t, uint64_t at);
void mqe__timer_clear(mqe_engine *e, mqe_timer *t);

/* out.c: output buffer and server packet encoders */
bool mqe__out_room(const mqe_engine *e, const mqe_conn *c);
uint8_t *mqe__out_reserve(mqe_engine *e, mqe_conn *c, size_t n);
void mqe__out_commit(mqe_engine *e, mqe_conn *c, size_t n);
void mqe__mark_output(mqe_engine *e, mqe_conn *c);
void mqe__send_simple(mqe_engine *e, mqe_conn *c, mqc_type t, uint16_t pid, uint8_t reason);
/* why (borrowed, may be NULL) becomes the Reason String, cut at
 * MQE__REASON_MAX bytes and dropped when it would not fit the client's
 * Maximum Packet Size. */
void mqe__send_disconnect(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *why);
/* Writes a property block (5.0) from arg; see mqe__send_connack. */
typedef void mqe__props_fn(const mqe_engine *e, const mqe_conn *c, const void *arg, mqc_writer *w);
/* CONNACK of c's version with acknowledge flags and code (5.0 reason or 3.x
 * return code); sets c->connack_sent. false on NOMEM. */
bool mqe__send_connack(mqe_engine *e, mqe_conn *c, bool session_present, uint8_t code,
                       mqe__props_fn *props, const void *arg);
/* Refuses c with the CONNACK closest to the 5.0 reason (a 3.x return code
 * for 3.x clients, none for their malformed or protocol errors); in 5.0 why
 * becomes the Reason String under the same rules as mqe__send_disconnect.
 * Nothing when a CONNACK went out already or the version is unknown. false
 * on NOMEM. */
bool mqe__send_connack_refusal(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *why);
/* Fixed explanation of a failure reason code (Reason String on acks). */
const char *mqe__reason_text(uint8_t reason);
void mqe__send_auth(mqe_engine *e, mqe_conn *c, uint8_t reason, const uint8_t *data, size_t n);
void mqe__send_suback(mqe_engine *e, mqe_conn *c, mqc_type t, uint16_t pid, const uint8_t *rc,
                      size_t n);
/* Encodes one PUBLISH from a queue entry. Returns false when it would exceed
 * the client's Maximum Packet Size (nothing written) or on NOMEM (*nomem). */
bool mqe__send_publish(mqe_engine *e, mqe_conn *c, const mqe_qent *q, bool dup, bool *nomem);
size_t mqe__varint_len(uint32_t v);

/* conn.c */
void mqe__fail(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *statement,
               const char *message);
void mqe__violation(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *statement,
                    const char *message);
/* Detaches connections that failed during the current call from their
 * sessions (wills, session expiry). Run at the end of every public call. */
void mqe__flush_detach(mqe_engine *e);
void mqe__conn_timer(mqe_engine *e, mqe_conn *c);
bool mqe__problem_info(const mqe_conn *c);

/* connect.c */
void mqe__on_connect(mqe_engine *e, mqe_conn *c, const uint8_t *buf, size_t len);
void mqe__on_disconnect(mqe_engine *e, mqe_conn *c, const mqc_packet *p);
/* auth.c */
int mqe__password_check(mqe_engine *e, const mqc_connect *cn);
const mqe_auth_method *mqe__auth_find(const mqe_engine *e, mqc_bytes name);
void mqe__on_auth(mqe_engine *e, mqe_conn *c, const mqc_packet *p);
void mqe__connect_resume(mqe_engine *e, mqe_conn *c, const uint8_t *auth_data, size_t auth_n);

/* publish.c */
void mqe__on_publish(mqe_engine *e, mqe_conn *c, const mqc_packet *p);
void mqe__on_ack(mqe_engine *e, mqe_conn *c, const mqc_packet *p);
/* will: the message is a Will (for the planted deviations of each kind) */
mqe_msg *mqe__msg_new(mqe_engine *e, mqc_bytes topic, mqc_bytes origin, const mqc_props *props,
                      bool v5, mqc_bytes payload, uint8_t qos, bool retain, bool will);
void mqe__msg_unref(mqe_engine *e, mqe_msg *m);
bool mqe__msg_expired(const mqe_msg *m, uint64_t now);

/* deliver.c */
typedef struct {
  uint32_t matched; /* sessions the message was meant for */
  uint32_t queued;  /* sessions it was queued for */
  bool nomem;
} mqe_route_result;
/* Routes m (levels already split into e->levels, nlev) to every matching
 * subscription. m is borrowed (queues take their own references). from is
 * the publishing connection (NULL for wills): under back-pressure it is
 * stalled when a queue it fed is full. */
mqe_route_result mqe__route(mqe_engine *e, mqe_msg *m, uint32_t nlev, mqe_conn *from);
/* Queues one delivery for sess (retained-on-subscribe). false on NOMEM/cap. */
bool mqe__deliver_one(mqe_engine *e, mqe_session *s, mqe_msg *m, uint8_t qos, bool retain,
                      uint32_t subid);
void mqe__pump(mqe_engine *e, mqe_session *s);
void mqe__resend_inflight(mqe_engine *e, mqe_session *s);
void mqe__qent_free(mqe_engine *e, mqe_qent *q);
void mqe__qlist_remove(mqe_qlist *l, mqe_qent *q);
void mqe__qlist_push(mqe_qlist *l, mqe_qent *q);

/* flow.c: back-pressure between publishers and subscriber queues */
/* Stops dispatching c's input (acks excepted) until s's queue drains. */
void mqe__stall(mqe_engine *e, mqe_conn *c, mqe_session *s);
/* Releases c from its stall (it joins the wake list when input is held). */
void mqe__unstall(mqe_engine *e, mqe_conn *c);
/* Releases every connection waiting for s (queue drained, s offline/gone). */
void mqe__wake_all(mqe_engine *e, mqe_session *s);
/* Called when a connection or a session was added: keeps peak_load. */
void mqe__note_load(mqe_engine *e);
/* Called when a message left s's queue: progress, and wake-up at the low
 * watermark. */
void mqe__queue_progress(mqe_engine *e, mqe_session *s);
/* Counts one message dropped for s and reports it (MQE_EV_DROPPED). */
void mqe__drop(mqe_engine *e, mqe_session *s, uint8_t reason, const char *why);
/* Reports s's drop total as it ends (MQE_EV_DROP_TOTAL), if it had any. */
void mqe__drop_total(mqe_engine *e, const mqe_session *s);
/* MQE__T_SLOW fired: disconnect a subscriber that made no progress. */
void mqe__slow_timer(mqe_engine *e, mqe_session *s);
/* Runs released connections' held input and pending detaches until both are
 * settled. Run at the end of every public call. */
void mqe__settle(mqe_engine *e);
/* conn.c: dispatches c's held input as far as it may go. */
void mqe__run_held(mqe_engine *e, mqe_conn *c);

/* topic.c */
/* Splits a topic name or filter into e->levels. Returns the level count, or
 * 0 when it has more than max_topic_levels. */
uint32_t mqe__split(mqe_engine *e, mqc_bytes topic);
/* Frees an inbound alias table (topic_alias_maximum entries); NULL is a no-op. */
void mqe__alias_table_free(mqe_engine *e, mqe_alias *a);
/* Planted deviations SHARED_* (MQTT-4.8.2-4/-5/-6): m, in flight to s, is
 * queued for another member of a shared group s belongs to (the first
 * group, its first other member, if any). Borrows m. false: s is in no
 * shared group. */
bool mqe__shared_reoffer(mqe_engine *e, mqe_session *s, mqe_msg *m);
mqe_node *mqe__node_get(mqe_engine *e, uint32_t nlev); /* creates; NULL on NOMEM */
mqe_node *mqe__node_find(mqe_engine *e, uint32_t nlev);
void mqe__node_prune(mqe_engine *e, mqe_node *n);
/* Collects matching subscriptions for the split topic into e->hits. Returns
 * the hit count. Shared groups yield one member each (round-robin). */
uint32_t mqe__match(mqe_engine *e, uint32_t nlev, bool dollar);
bool mqe__hits_reserve(mqe_engine *e, uint32_t n);
void mqe__tree_free(mqe_engine *e);

/* subscribe.c */
void mqe__on_subscribe(mqe_engine *e, mqe_conn *c, const mqc_packet *p);
void mqe__on_unsubscribe(mqe_engine *e, mqe_conn *c, const mqc_packet *p);
void mqe__sub_remove(mqe_engine *e, mqe_sub *s);

/* retain.c */
/* Applies a retained PUBLISH (store, or clear on empty payload). Returns 0 or
 * a 5.0 reason code (0x97) when a cap refused it. */
uint8_t mqe__retain(mqe_engine *e, mqe_msg *m, uint32_t nlev);
/* Queues the retained messages matching the split filter for sub. */
void mqe__retain_deliver(mqe_engine *e, mqe_sub *sub, uint32_t nlev);
void mqe__retain_drop(mqe_engine *e, mqe_node *n);
/* Planted deviation RETAINED_ENDS_WITH_SESSION: drops the retained messages
 * s's client published (their nodes stay); called when it starts a new session. */
void mqe__retain_drop_origin(mqe_engine *e, const mqe_session *s);

/* session.c */
mqe_session *mqe__session_find(const mqe_engine *e, mqc_bytes id);
mqe_session *mqe__session_new(mqe_engine *e, mqc_bytes id); /* NULL: NOMEM */
void mqe__session_free(mqe_engine *e, mqe_session *s);      /* unlinks too */
void mqe__session_clear(mqe_engine *e, mqe_session *s);     /* state only */
/* Called when a session's connection goes away. */
void mqe__session_offline(mqe_engine *e, mqe_session *s, uint64_t now);
void mqe__session_expire(mqe_engine *e, mqe_session *s);

/* will.c */
void mqe__will_publish(mqe_engine *e, mqe_session *s);
void mqe__will_on_close(mqe_engine *e, mqe_session *s, bool publish);
void mqe__will_drop(mqe_engine *e, mqe_session *s);

/* Property writers (fixed wire types, independent of the codec's tables). */
static inline void mqe__put_prop_int(mqc_writer *w, mqc_prop_id id, uint32_t u) {
  mqc_put_u8(w, (uint8_t)id);
  switch (id) {
  case MQC_PROP_SERVER_KEEP_ALIVE:
  case MQC_PROP_RECEIVE_MAXIMUM:
  case MQC_PROP_TOPIC_ALIAS_MAXIMUM:
  case MQC_PROP_TOPIC_ALIAS:
    mqc_put_u16(w, (uint16_t)u);
    break;
  case MQC_PROP_MESSAGE_EXPIRY_INTERVAL:
  case MQC_PROP_SESSION_EXPIRY_INTERVAL:
  case MQC_PROP_WILL_DELAY_INTERVAL:
  case MQC_PROP_MAXIMUM_PACKET_SIZE:
    mqc_put_u32(w, u);
    break;
  case MQC_PROP_SUBSCRIPTION_IDENTIFIER:
    mqc_put_varint(w, u);
    break;
  default:
    mqc_put_u8(w, (uint8_t)u);
    break;
  }
}
static inline void mqe__put_prop_str(mqc_writer *w, mqc_prop_id id, mqc_bytes v) {
  mqc_put_u8(w, (uint8_t)id);
  mqc_put_str(w, v);
}

/* Is planted deviation f on? (engine/faults.c) One compare: free when off. */
static inline bool mqe__fault(const mqe_engine *e, mqe_fault f) {
  return e->cfg.fault == (unsigned)f;
}
/* Is a codec fault on for this rejection (statement as the codec reported
 * it for version v, may be NULL; v 0 while a CONNECT is decoded)? Then the
 * engine ignores the packet instead of failing the connection. Only called
 * on decode errors. */
bool mqe__fault_codec(const mqe_engine *e, mqc_version v, const char *statement);

#define MQE__CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
