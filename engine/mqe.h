/*
 * mqe.h - the mqcheck reference broker engine (MQTT 3.1, 3.1.1 and 5.0,
 * server side).
 *
 * Sans-I/O in the style of nghttp2: the caller opens connections, feeds them
 * the bytes it read (mqe_conn_recv), drains the bytes the engine wants written
 * (mqe_conn_pending/mqe_conn_consumed or mqe_conn_send) and closes them.
 * Time is always a parameter (now, milliseconds on any monotonic clock); the
 * engine never reads a clock, never does I/O, keeps no globals and draws
 * randomness from a PRNG seeded by the config. The same calls with the same
 * arguments therefore always produce the same bytes.
 *
 * Timers (keep-alive at 1.5x, will delay, session expiry, CONNECT/AUTH
 * timeouts) fire from mqe_tick(); mqe_next_deadline() says when to call it.
 * Message expiry is applied lazily whenever a message is about to be sent or
 * a retained message is looked up, which is observably identical.
 *
 * Every allocation goes through the injectable allocator in mqe_config and is
 * bounded by the limits there. On allocation failure the engine degrades in a
 * specified way (a reason code such as 0x97 Quota exceeded or 0x89 Server
 * busy, or a closed connection) and never leaks.
 *
 * Thread safety: none. One engine is driven by one thread.
 */
#ifndef MQE_H
#define MQE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqe_engine mqe_engine;
typedef struct mqe_conn mqe_conn;

/* Status of engine calls. */
typedef enum {
  MQE_OK = 0,
  MQE_CLOSE,       /* the connection must be closed once its output is drained */
  MQE_ERR_NOMEM,   /* an allocation failed; nothing changed */
  MQE_ERR_LIMIT,   /* a configured cap was reached; nothing changed */
  MQE_ERR_ARGUMENT /* bad call (e.g. invalid config) */
} mqe_status;

const char *mqe_strerror(mqe_status s);

/* ------------------------------------------------------------------------ */
/* Allocator                                                                */
/* ------------------------------------------------------------------------ */

/* Every allocation the engine makes goes through these. free receives the
 * size that was requested from malloc, so a counting allocator needs no
 * header. malloc may return NULL at any time; the engine survives it. */
typedef struct {
  void *(*malloc)(void *ctx, size_t size);
  void (*free)(void *ctx, void *ptr, size_t size);
  void *ctx;
} mqe_allocator;

/* ------------------------------------------------------------------------ */
/* Events (connection log and client violations)                            */
/* ------------------------------------------------------------------------ */

typedef enum {
  MQE_EV_CONNECTED,    /* CONNACK 0x00 sent; client_id, version set */
  MQE_EV_REFUSED,      /* CONNACK >= 0x80 sent (or 3.x return code != 0) */
  MQE_EV_DISCONNECTED, /* the client sent DISCONNECT; reason set */
  MQE_EV_CLOSED,       /* the engine decided to close (reason set) */
  MQE_EV_LOST,         /* the caller closed the connection abruptly */
  MQE_EV_VIOLATION,    /* the client broke a normative statement */
  MQE_EV_LIMIT,        /* a configured cap refused something */
  MQE_EV_WILL,         /* a will message was published */
  MQE_EV_SESSION_EXPIRED,
  MQE_EV_TAKEOVER,  /* an existing connection was taken over */
  MQE_EV_DROPPED,   /* a message was dropped for a session (client_id); reason
                       0x97 (0x80 out of memory), dropped = the session's total */
  MQE_EV_DROP_TOTAL /* a session that had drops ended; dropped = its total */
} mqe_event_type;

/* Passed to mqe_config.on_event. Every pointer is valid only during the
 * callback. The callback must not call back into the engine. */
typedef struct {
  mqe_event_type type;
  mqe_conn *conn;        /* NULL for session-level events */
  void *conn_user;       /* the user pointer given to mqe_conn_open */
  const char *client_id; /* NUL-terminated, "" before CONNECT */
  mqc_version version;   /* 0 before CONNECT */
  uint8_t reason;        /* 5.0 reason code (also used for 3.x closes) */
  const char *statement; /* VIOLATION: normative statement ID, or NULL */
  const char *message;   /* one line of text, never NULL */
  uint64_t now;
  uint64_t dropped; /* DROPPED: messages dropped for this session, ever */
} mqe_event;

/* ------------------------------------------------------------------------ */
/* Authentication and authorisation hooks                                   */
/* ------------------------------------------------------------------------ */

/* A user of simple (username/password) authentication. Borrowed. */
typedef struct {
  const char *username;
  const char *password;
} mqe_user;

typedef enum { MQE_ACL_PUBLISH, MQE_ACL_SUBSCRIBE, MQE_ACL_WILL } mqe_acl_op;

/* Returns true to allow. topic is the topic name (PUBLISH, WILL) or filter
 * (SUBSCRIBE, without any $share/ prefix). Views are valid during the call. */
typedef bool (*mqe_acl_fn)(void *ctx, mqe_acl_op op, mqc_bytes client_id, mqc_bytes username,
                           mqc_bytes topic);

/* Enhanced authentication (5.0 AUTH). A method is a step function the engine
 * calls for CONNECT (step 0 of an authentication), then for each AUTH 0x18
 * from the client. Re-authentication (AUTH 0x19) restarts at step 0.
 * in:  data (the client's Authentication Data, may be empty), username,
 *      random (64 bits from the engine's seeded PRNG, for nonces), state
 *      (MQE_AUTH_STATE bytes kept by the engine between steps).
 * out: out/out_len: Authentication Data to send (CONTINUE, or SUCCESS).
 * returns MQE_AUTH_CONTINUE (send AUTH 0x18), MQE_AUTH_SUCCESS, MQE_AUTH_FAIL. */
#define MQE_AUTH_STATE   64
#define MQE_AUTH_OUT_MAX 256
typedef enum { MQE_AUTH_CONTINUE, MQE_AUTH_SUCCESS, MQE_AUTH_FAIL } mqe_auth_result;

typedef struct mqe_auth_method {
  const char *name; /* Authentication Method, e.g. "mqcheck-challenge" */
  mqe_auth_result (*step)(void *ctx, unsigned step, mqc_bytes data, mqc_bytes username,
                          uint64_t random, uint8_t state[MQE_AUTH_STATE], uint8_t *out,
                          size_t *out_len);
  void *ctx;
} mqe_auth_method;

/* The built-in "mqcheck-challenge" method (documented in docs/engine.md):
 *   server: AUTH 0x18 data = 16-byte nonce N
 *   client: AUTH 0x18 data = mqe_challenge_response(secret, N)  (8 bytes)
 * secret is borrowed (ctx) and must outlive the engine. Not cryptographically
 * meaningful: it exists to exercise the AUTH state machine. */
mqe_auth_method mqe_auth_challenge_method(const char *secret);
/* FNV-1a-64 over secret || nonce || secret, big-endian, into out[8]. */
void mqe_challenge_response(mqc_bytes secret, mqc_bytes nonce, uint8_t out[8]);

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/* What happens when a message would overflow an online subscriber's queue
 * (max_queued). See docs/engine.md, "Overload". Offline sessions always drop
 * at the cap (counted); nothing the engine acknowledged to a publisher is
 * dropped under MQE_OVERLOAD_BACKPRESSURE or, for QoS 1 and 2, under
 * MQE_OVERLOAD_DROP_QOS0. */
typedef enum {
  MQE_OVERLOAD_BACKPRESSURE = 0, /* queue it; stop dispatching the publisher's
                                    input until the queue drains (default) */
  MQE_OVERLOAD_DROP_QOS0,        /* drop QoS 0, back-pressure for QoS 1/2 */
  MQE_OVERLOAD_DROP              /* drop any QoS (mosquitto's behaviour) */
} mqe_overload;

typedef struct {
  /* Features (announced in CONNACK for 5.0 and enforced for every version). */
  uint8_t maximum_qos;              /* 0..2, default 2 */
  bool retain_available;            /* default true */
  bool wildcard_available;          /* default true */
  bool sub_id_available;            /* default true */
  bool shared_available;            /* default true */
  uint32_t maximum_packet_size;     /* inbound cap, default 1 MiB; 0 = protocol max */
  uint16_t receive_maximum;         /* inbound QoS 2 in flight, default 64 */
  uint16_t topic_alias_maximum;     /* inbound aliases, default 16 */
  uint16_t outbound_aliases;        /* aliases the server uses towards a 5.0
                                       client (min with the client's), default 0 */
  int32_t server_keep_alive;        /* -1 = accept the client's; else override */
  uint16_t max_keep_alive;          /* 5.0: a client keep-alive of 0 or above
                                       this is lowered to it and announced as
                                       Server Keep Alive; 0 = no cap. Ignored
                                       when server_keep_alive overrides */
  uint32_t max_session_expiry;      /* cap in s; UINT32_MAX = never expires */
  bool assign_client_ids;           /* accept empty client IDs, default true */
  const char *response_information; /* NULL = none sent (borrowed) */
  bool strict_client_ids;           /* only 1..23 [0-9a-zA-Z] IDs, default false */

  /* Authentication and authorisation (all borrowed). */
  bool allow_anonymous;  /* default true */
  const mqe_user *users; /* NULL = no password check */
  size_t user_count;
  mqe_acl_fn acl; /* NULL = allow all */
  void *acl_ctx;
  const char *const *deny_filters; /* filters whose subscription is refused */
  const uint8_t *deny_reasons;     /* per deny filter: its SUBACK failure code
                                      (5.0; 3.x always 0x80); NULL = all 0x87 */
  size_t deny_filter_count;
  const mqe_auth_method *auth_methods; /* enhanced auth methods offered */
  size_t auth_method_count;

  /* Bounded memory. 0 never means "unlimited" here; defaults are in
   * mqe_config_default(). */
  uint32_t max_connections;
  uint32_t max_sessions;       /* online + offline */
  uint32_t max_queued;         /* messages queued per session (not in flight) */
  uint16_t max_inflight;       /* outbound QoS>0 in flight per session */
  uint32_t max_retained;       /* retained messages */
  size_t max_retained_bytes;   /* sum of retained topic+payload+properties */
  uint16_t max_topic_levels;   /* levels in a topic name or filter */
  uint32_t max_subscriptions;  /* per client */
  size_t max_output_bytes;     /* per-connection pending output cap: beyond
                                  it the session queue waits and input is
                                  held (back-pressure, see
                                  mqe_conn_wants_input) */
  uint32_t connect_timeout_ms; /* CONNECT (and AUTH exchange) deadline */
  mqe_overload overload;       /* full online queue policy, default
                                  MQE_OVERLOAD_BACKPRESSURE */
  uint32_t slow_subscriber_ms; /* a subscriber whose full queue holds
                                  publishers back and takes nothing for this
                                  long is disconnected (0x97); default 10000 */

  unsigned fault; /* one mqe_fault: a planted deviation for mutation testing
                     (engine/faults.c); MQE_FAULT_NONE (0) = a conformant engine */

  uint64_t seed;                                    /* PRNG seed: assigned IDs and nonces */
  mqe_allocator alloc;                              /* default: malloc/free */
  void (*on_event)(void *ctx, const mqe_event *ev); /* NULL = no events */
  void *event_ctx;
} mqe_config;

/* Fills c with the defaults above. */
void mqe_config_default(mqe_config *c);

/* Planted deviations (mqcheck mutants): each breaks one statement. At most
 * one is on at a time (mqe_config.fault); the list is engine/faults.c. */
typedef enum {
  MQE_FAULT_NONE = 0,
  MQE_FAULT_SESSION_PRESENT_ZERO,
  MQE_FAULT_SESSION_PRESENT_NEW,
  MQE_FAULT_SESSION_PRESENT_CLEAN,
  MQE_FAULT_CLEAN_START_KEEPS_SESSION,
  MQE_FAULT_SESSION_NOT_RESUMED,
  MQE_FAULT_TAKEOVER_REFUSED,
  MQE_FAULT_TAKEOVER_WRONG_REASON,
  MQE_FAULT_KEEPALIVE_IGNORED,
  MQE_FAULT_SECOND_CONNECT_IGNORED,
  MQE_FAULT_REFUSAL_KEEPS_OPEN,
  MQE_FAULT_REFUSAL_SESSION_PRESENT,
  MQE_FAULT_EMPTY_ID_PERSISTENT_ACCEPTED,
  MQE_FAULT_NO_ASSIGNED_ID,
  MQE_FAULT_ASSIGNED_ID_REUSED,
  MQE_FAULT_BAD_PASSWORD_ACCEPTED,
  MQE_FAULT_WILL_QOS_ABOVE_MAX_ACCEPTED,
  MQE_FAULT_WILL_RETAIN_ACCEPTED,
  MQE_FAULT_UNSUPPORTED_LEVEL_NO_CONNACK,
  MQE_FAULT_DISCONNECT_BEFORE_CONNACK,
  MQE_FAULT_NO_DUP_ON_REDELIVERY,
  MQE_FAULT_DUP_ON_QOS1,
  MQE_FAULT_DUP_ON_QOS2,
  MQE_FAULT_QOS2_DUPLICATE_DELIVERED,
  MQE_FAULT_QOS2_ID_NOT_RELEASED,
  MQE_FAULT_PUBACK_WRONG_ID,
  MQE_FAULT_PUBREC_WRONG_ID,
  MQE_FAULT_PUBREL_WRONG_ID,
  MQE_FAULT_PUBCOMP_WRONG_ID,
  MQE_FAULT_SUBACK_WRONG_ID,
  MQE_FAULT_UNSUBACK_WRONG_ID,
  MQE_FAULT_NO_PUBACK,
  MQE_FAULT_NO_PUBREC,
  MQE_FAULT_NO_SUBACK,
  MQE_FAULT_NO_UNSUBACK,
  MQE_FAULT_NO_PINGRESP,
  MQE_FAULT_NO_QOS_DOWNGRADE,
  MQE_FAULT_OVERLAP_LOWEST_QOS,
  MQE_FAULT_RETAIN_KEPT_ON_LIVE,
  MQE_FAULT_RETAIN_AS_PUBLISHED_IGNORED,
  MQE_FAULT_RETAIN_NOT_STORED,
  MQE_FAULT_RETAIN_EMPTY_NOT_CLEARED,
  MQE_FAULT_RETAIN_EMPTY_STORED,
  MQE_FAULT_RETAINED_FLAG_CLEARED,
  MQE_FAULT_RETAINED_NOT_SENT,
  MQE_FAULT_NON_RETAINED_REPLACES,
  MQE_FAULT_RH1_ALWAYS,
  MQE_FAULT_RH2_SENDS,
  MQE_FAULT_RESUBSCRIBE_NO_RETAINED,
  MQE_FAULT_RESUBSCRIBE_ADDS,
  MQE_FAULT_WILL_AFTER_DISCONNECT,
  MQE_FAULT_WILL_NOT_PUBLISHED,
  MQE_FAULT_WILL_RETAIN_IGNORED,
  MQE_FAULT_WILL_ALWAYS_RETAINED,
  MQE_FAULT_WILL_DELAY_IGNORED,
  MQE_FAULT_WILL_ON_RESUME,
  MQE_FAULT_UNSUBSCRIBE_KEPT,
  MQE_FAULT_UNSUBSCRIBE_FIRST_ONLY,
  MQE_FAULT_UNSUBACK_ALWAYS_SUCCESS,
  MQE_FAULT_UNSUBACK_REVERSED,
  MQE_FAULT_SUBSCRIBE_FIRST_ONLY,
  MQE_FAULT_SUBACK_REVERSED,
  MQE_FAULT_SUBACK_ONE_CODE,
  MQE_FAULT_GRANTED_QOS_NOT_CAPPED,
  MQE_FAULT_NO_LOCAL_IGNORED,
  MQE_FAULT_DOLLAR_MATCHED,
  MQE_FAULT_SHARED_TO_ALL,
  MQE_FAULT_SUBID_NOT_SENT,
  MQE_FAULT_SUBID_ONLY_ONE,
  MQE_FAULT_ALIAS_WITHOUT_CLIENT_MAX,
  MQE_FAULT_ALIAS_MAX_REFUSED,
  MQE_FAULT_RECEIVE_MAXIMUM_IGNORED,
  MQE_FAULT_CLIENT_MAX_PACKET_IGNORED,
  MQE_FAULT_EXPIRY_NOT_DECREMENTED,
  MQE_FAULT_EXPIRED_DELIVERED,
  MQE_FAULT_DROP_PAYLOAD_FORMAT,
  MQE_FAULT_DROP_CONTENT_TYPE,
  MQE_FAULT_DROP_RESPONSE_TOPIC,
  MQE_FAULT_DROP_CORRELATION_DATA,
  MQE_FAULT_DROP_USER_PROPERTIES,
  MQE_FAULT_RESPONSE_INFO_UNREQUESTED,
  MQE_FAULT_PROBLEM_INFO_IGNORED,
  MQE_FAULT_SESSION_NEVER_EXPIRES,
  MQE_FAULT_SESSION_ENDS_ON_DISCONNECT,
  MQE_FAULT_OFFLINE_NOT_QUEUED,
  MQE_FAULT_INFLIGHT_NOT_RESENT,
  MQE_FAULT_PUBREL_NOT_RESENT,
  MQE_FAULT_FAILED_PUBACK_KEPT,
  MQE_FAULT_WRONG_PUBACK_ACCEPTED,
  MQE_FAULT_WRONG_PUBREC_ACCEPTED,
  MQE_FAULT_QUEUE_REVERSED,
  MQE_FAULT_RS_OVERSIZE_CONNACK,
  MQE_FAULT_RS_OVERSIZE_PUBACK,
  MQE_FAULT_RS_OVERSIZE_PUBREC,
  MQE_FAULT_RS_OVERSIZE_PUBCOMP,
  MQE_FAULT_RS_OVERSIZE_SUBACK,
  MQE_FAULT_RS_OVERSIZE_UNSUBACK,
  MQE_FAULT_RS_OVERSIZE_DISCONNECT,
  MQE_FAULT_RS_OVERSIZE_PUBREL,
  MQE_FAULT_RS_OVERSIZE_AUTH,
  MQE_FAULT_UP_OVERSIZE_CONNACK,
  MQE_FAULT_UP_OVERSIZE_PUBACK,
  MQE_FAULT_UP_OVERSIZE_PUBREC,
  MQE_FAULT_UP_OVERSIZE_PUBREL,
  MQE_FAULT_UP_OVERSIZE_PUBCOMP,
  MQE_FAULT_UP_OVERSIZE_SUBACK,
  MQE_FAULT_UP_OVERSIZE_UNSUBACK,
  MQE_FAULT_UP_OVERSIZE_DISCONNECT,
  MQE_FAULT_UP_OVERSIZE_AUTH,
  MQE_FAULT_USER_PROPERTIES_REORDERED,
  MQE_FAULT_WILL_USER_PROPERTIES_REORDERED,
  MQE_FAULT_LIVE_QUEUE_REVERSED,
  MQE_FAULT_HASH_NOT_PARENT,
  MQE_FAULT_PLUS_NOT_EMPTY_LEVEL,
  MQE_FAULT_PLUS_MATCHES_PARENT,
  MQE_FAULT_WILL_NOT_KEPT,
  MQE_FAULT_REAUTH_FAILURE_KEPT,
  MQE_FAULT_CLIENT_ID_UPPERCASE_REFUSED,
  MQE_FAULT_EMPTY_ID_WRONG_CODE,
  MQE_FAULT_DUP_ON_QOS0,
  MQE_FAULT_DUP_PROPAGATED,
  MQE_FAULT_RETAIN_QOS0_KEEPS_OLD,
  MQE_FAULT_NOT_AUTHORIZED_NO_ACK,
  MQE_FAULT_WILDCARDS_UNAVAILABLE_ACCEPTED,
  MQE_FAULT_QOS1_DUP_DROPPED,
  MQE_FAULT_UNSUBACK_MISSING_WHEN_NONE,
  MQE_FAULT_UNSUBSCRIBE_REMOVES_OTHER,
  MQE_FAULT_NO_PUBREL,
  MQE_FAULT_PUBLISH_RESENT_AFTER_PUBREC,
  MQE_FAULT_SENT_QOS2_EXPIRED,
  MQE_FAULT_FAILED_PUBREC_ID_KEPT,
  MQE_FAULT_AUTH_WRONG_REASON,
  MQE_FAULT_AUTH_METHOD_NOT_REPEATED,
  MQE_FAULT_AUTH_METHOD_UNASKED,
  MQE_FAULT_AUTH_UNKNOWN_METHOD_ACCEPTED,
  MQE_FAULT_MAXIMUM_QOS_NOT_ANNOUNCED,
  MQE_FAULT_SUBSCRIBE_ABOVE_MAX_QOS_REFUSED,
  MQE_FAULT_DISCONNECT_KEEPS_OPEN,
  MQE_FAULT_PACKET_AFTER_DISCONNECT,
  MQE_FAULT_ALIAS_ABOVE_CLIENT_MAX,
  MQE_FAULT_TOPIC_CASE_INSENSITIVE,
  MQE_FAULT_FIRST_PACKET_IGNORED,
  MQE_FAULT_SECOND_CONNACK,
  MQE_FAULT_ZERO_QUOTA_NO_PUBACK,
  MQE_FAULT_ZERO_QUOTA_NO_SUBACK,
  MQE_FAULT_WILL_KEPT_IN_SESSION,
  MQE_FAULT_PUBLISH_BEFORE_CONNACK,
  MQE_FAULT_RECEIVE_MAXIMUM_PLUS_ONE,
  MQE_FAULT_QOS1_ID_IN_USE,
  MQE_FAULT_QOS2_ID_IN_USE,
  MQE_FAULT_FIRST_SUBSCRIBER_ONLY,
  MQE_FAULT_KEEPALIVE_HALVED,
  MQE_FAULT_SHARED_REFUSED_REOFFERED,
  MQE_FAULT_ALIAS_KEPT_ACROSS_CONNECTIONS,
  MQE_FAULT_OVERSIZE_BLOCKS_QUEUE,
  MQE_FAULT_RETAINED_ENDS_WITH_SESSION,
  MQE_FAULT_ASSIGNED_ID_NOT_USED,
  MQE_FAULT_ACCEPT_MALFORMED_CONNECT,
  MQE_FAULT_SHARED_MOVED_ON_SESSION_END,
  MQE_FAULT_SHARED_MOVED_ON_DROP,
  MQE_FAULT_UNSUBSCRIBE_DROPS_INFLIGHT,
  MQE_FAULT_WILL_KEPT_AFTER_PUBLISH,
  MQE_FAULT_REFUSED_CONNECT_ACTS_ON_REST,
  MQE_FAULT_ACCEPTED_NONZERO_CODE,
  MQE_FAULT_SESSION_KEYED_BY_PREFIX,
  MQE_FAULT_STATE_LOST_WHILE_SILENT,
  /* codec faults: no hook of their own (mqe__fault_codec) */
  MQE_FAULT_ACCEPT_BAD_UTF8,
  MQE_FAULT_ACCEPT_NULL_CHAR,
  MQE_FAULT_ACCEPT_BAD_FLAGS,
  MQE_FAULT_ACCEPT_QOS3,
  MQE_FAULT_ACCEPT_WILDCARD_TOPIC,
  MQE_FAULT_ACCEPT_EMPTY_TOPIC,
  MQE_FAULT_ACCEPT_RESERVED_CONNECT_FLAG,
  MQE_FAULT_ACCEPT_PROTOCOL_NAME,
  MQE_FAULT_ACCEPT_PUBREL_FLAGS,
  MQE_FAULT_ACCEPT_SUBSCRIBE_FLAGS,
  MQE_FAULT_ACCEPT_UNSUBSCRIBE_FLAGS,
  MQE_FAULT_ACCEPT_DISCONNECT_FLAGS,
  MQE_FAULT_ACCEPT_SUBSCRIBE_OPTIONS,
  MQE_FAULT_ACCEPT_SHARED_NO_LOCAL,
  MQE_FAULT_ACCEPT_WILL_FLAGS,
  MQE_FAULT_ACCEPT_ALIAS_ZERO,
  MQE_FAULT_ACCEPT_UNSUPPORTED_LEVEL,
  MQE_FAULT__END
} mqe_fault;
typedef struct {
  const char *name;              /* "session-present-zero" */
  mqe_fault id;                  /* MQE_FAULT_* */
  const char *stmt_311, *stmt_5; /* the statement it breaks, per version (NULL: none) */
  /* codec faults: a packet the codec rejects with this statement (per
   * version) is ignored instead of closing the connection; NULL otherwise */
  const char *codec_311, *codec_5;
  const char *what; /* one line */
} mqe_fault_info;
size_t mqe_fault_count(void);                 /* MQE_FAULT__END - 1 */
const mqe_fault_info *mqe_fault_at(size_t i); /* static; NULL past the end */
const mqe_fault_info *mqe_fault_lookup(const char *name);
/* Statements a deviation breaks besides its own (the catalog states a duty
 * twice, or the deviation cannot help breaking a second one), each with its
 * reason: `mqcheck mutants` does not count their failures as collateral.
 * A restatement (restates) is the deviation's own duty stated again in
 * another section: it counts as covered by the deviation, and as caught
 * only when a run of the suite really fails it. The table is static
 * (engine/faults.c). */
typedef struct {
  const char *fault; /* mqe_fault_info.name */
  bool v5;           /* the 5.0 catalog (else 3.1.1) */
  const char *stmt;
  const char *why; /* one line */
  bool restates;   /* the deviation's own duty, restated */
} mqe_fault_also;
size_t mqe_fault_also_count(void);
const mqe_fault_also *mqe_fault_also_at(size_t i); /* NULL past the end */
bool mqe_fault_breaks_also(const char *fault, bool v5, const char *stmt);

/* ------------------------------------------------------------------------ */
/* Engine                                                                   */
/* ------------------------------------------------------------------------ */

/* Creates an engine. cfg is copied (pointers inside it stay borrowed).
 * out: *out (NULL on failure). returns MQE_OK, MQE_ERR_NOMEM, MQE_ERR_ARGUMENT. */
mqe_status mqe_engine_new(const mqe_config *cfg, mqe_engine **out);
/* Frees the engine and everything it owns; open connections are freed too
 * without any will being published. NULL is allowed. */
void mqe_engine_free(mqe_engine *e);

/* Earliest time mqe_tick() has work, or UINT64_MAX when none. */
uint64_t mqe_next_deadline(const mqe_engine *e);
/* Fires every timer due at now: keep-alive closes (5.0 DISCONNECT 0x8D),
 * CONNECT timeouts, delayed wills, session expiry. Connections it closes are
 * reported through mqe_next_output() with mqe_conn_should_close() true. */
void mqe_tick(mqe_engine *e, uint64_t now);

/* Connections that got new output (or must close) since they were last
 * returned, in order. Returns NULL when none. Any engine call may add to it,
 * including calls on other connections (routing). */
mqe_conn *mqe_next_output(mqe_engine *e);

/* Asks every connected 5.0 client to go (DISCONNECT 0x8B) and closes every
 * connection; call before mqe_engine_free for a clean shutdown. */
void mqe_shutdown(mqe_engine *e, uint64_t now);

/* Checks internal invariants (caps respected, in-flight packet IDs unique,
 * sessions/subscriptions/retained counts consistent, no leaked objects).
 * Returns NULL when all hold, else a static description of the first broken
 * one. Cost is linear in the engine's state. */
const char *mqe_check_invariants(const mqe_engine *e);

typedef struct {
  uint64_t connections, sessions, subscriptions, retained, retained_bytes;
  /* highest connections + sessions so far: a queue exceeds max_queued by at
   * most this many messages (back-pressure, docs/engine.md "Overload") */
  uint64_t load_peak;
  uint64_t queued, inflight;             /* outbound, all sessions */
  uint64_t bytes_allocated, allocations; /* live, through the allocator */
  uint64_t bytes_peak;                   /* highest bytes_allocated so far */
  uint64_t msgs_in, msgs_out, msgs_dropped, violations, alloc_failures;
} mqe_stats;
void mqe_get_stats(const mqe_engine *e, mqe_stats *out);

/* Sessions that had messages dropped: calls fn for each (client_id valid
 * during the call) with its total; at most limit calls, largest totals not
 * guaranteed first. Cost is linear in the sessions. Returns the number of
 * sessions with drops. */
size_t mqe_each_dropped(const mqe_engine *e, size_t limit,
                        void (*fn)(void *ctx, const char *client_id, uint64_t dropped), void *ctx);

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

/* Opens a connection (transport accepted, nothing received yet). user is an
 * opaque pointer handed back in events and by mqe_conn_user().
 * out: *out. returns MQE_OK, MQE_ERR_NOMEM, MQE_ERR_LIMIT (max_connections). */
mqe_status mqe_conn_open(mqe_engine *e, void *user, uint64_t now, mqe_conn **out);

/* Feeds bytes read from the transport (borrowed; any split is fine).
 * returns MQE_OK, or MQE_CLOSE when the connection must be closed after its
 * pending output is written (protocol error, DISCONNECT, refused CONNECT...).
 * Bytes after a fatal packet are ignored. */
mqe_status mqe_conn_recv(mqe_engine *e, mqe_conn *c, const uint8_t *buf, size_t len, uint64_t now);

/* Zero-copy output: buf and len view the bytes waiting to be written (valid
 * until the next engine call). Then report how many were written with
 * mqe_conn_consumed(), which may refill the buffer from the session queue. */
void mqe_conn_pending(const mqe_conn *c, const uint8_t **buf, size_t *len);
void mqe_conn_consumed(mqe_engine *e, mqe_conn *c, size_t n, uint64_t now);
/* Copying output: moves up to cap pending bytes into buf; returns the count. */
size_t mqe_conn_send(mqe_engine *e, mqe_conn *c, uint8_t *buf, size_t cap, uint64_t now);

/* Back-pressure (see docs/engine.md, "Slow readers" and "Overload"). False
 * while the connection's pending output is at max_output_bytes or input is
 * held undispatched because of it, or while it is stalled by a full
 * subscriber queue with max_output_bytes of input held: stop reading from
 * the transport until it is true again (the connection then appears in
 * mqe_next_output()). Bytes fed meanwhile are held (up
 * to max_output_bytes + maximum_packet_size; beyond that the connection is
 * closed with 0x97 and MQE_EV_LIMIT). */
bool mqe_conn_wants_input(const mqe_engine *e, const mqe_conn *c);
/* True while c's publications wait for a full subscriber queue to drain
 * (back-pressure; only its acknowledgements are dispatched meanwhile). */
bool mqe_conn_stalled(const mqe_conn *c);
/* Bytes allocated for the connection's input and output buffers now. */
void mqe_conn_buffered(const mqe_conn *c, size_t *in, size_t *out);

/* True when the engine has finished with this connection: close the
 * transport once mqe_conn_pending() is empty, then call mqe_conn_close(). */
bool mqe_conn_should_close(const mqe_conn *c);
void *mqe_conn_user(const mqe_conn *c);
/* Client identifier (NUL-terminated) or "" before CONNECT. */
const char *mqe_conn_client_id(const mqe_conn *c);

/* Releases the connection. abrupt=true means the transport was lost (the
 * will is published per its delay unless a DISCONNECT 0x00 was received);
 * after mqe_conn_should_close() the flag makes no difference. c is freed. */
void mqe_conn_close(mqe_engine *e, mqe_conn *c, bool abrupt, uint64_t now);

/* Server-initiated disconnect (administrative): 5.0 DISCONNECT with reason,
 * then should_close. */
void mqe_conn_kick(mqe_engine *e, mqe_conn *c, uint8_t reason, uint64_t now);

#ifdef __cplusplus
}
#endif

#endif /* MQE_H */
