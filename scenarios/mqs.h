/*
 * mqs.h - mqcheck scenarios: the YAML scenario format (docs/scenarios.md),
 * its loader and linter, and the runner that plays scenarios against a
 * target (the in-process engine on a virtual clock, or a broker over net/).
 *
 * Life cycle:
 *   mqs_scenario_load()  file -> mqs_scenario (owns its parsed YAML document;
 *                        steps borrow nodes from it)
 *   mqs_run_cases()      (scenario x version) cases -> mqs_result[], in
 *                        parallel on --jobs threads, each case isolated by
 *                        its own client-ID and topic prefixes
 *   mqs_result_free()
 *
 * No globals: everything a run needs is in mqs_run_opts. Thread safety: a
 * loaded scenario is read-only during runs and may be shared by threads.
 */
#ifndef MQS_H
#define MQS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

#include "mqc.h"
#include "packet_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQS_FORMAT_VERSION 1
#define MQS_RULES_MAX      16 /* statements a scenario cites per version */

/* Versions a scenario runs for (bit mask). MQTT 3.1 (MQIsdp) has no
 * numbered statements: its cases verify the 3.1.1 IDs, so rules are kept in
 * two slots, [0] for 3.1.1 and 3.1, [1] for 5.0. */
#define MQS_V311  1u
#define MQS_V5    2u
#define MQS_V31   4u
#define MQS_VBOTH (MQS_V311 | MQS_V5) /* `both`: what scenarios ran for before 3.1 */
#define MQS_VALL  (MQS_V311 | MQS_V5 | MQS_V31)

/* "3.1.1" / "5.0" / "3.1" for one bit. */
const char *mqs_version_label(unsigned vbit);
mqc_version mqs_version_codec(unsigned vbit);
/* The rules slot of one version bit: 1 for 5.0, else 0. */
unsigned mqs_version_slot(unsigned vbit);
/* The version bits one rules slot serves: 5.0 for 1, 3.1.1 and 3.1 for 0. */
unsigned mqs_slot_versions(unsigned slot);
/* The next version bit after vbit in run order (3.1.1, 5.0, 3.1), 0 after
 * the last: for (vb = MQS_V311; vb; vb = mqs_version_next(vb)). */
unsigned mqs_version_next(unsigned vbit);

/* ------------------------------------------------------------------------ */
/* Capabilities (`requires:` in a scenario, `capabilities:` in a profile)    */
/* ------------------------------------------------------------------------ */

typedef enum {
  MQS_CAP_QOS1,
  MQS_CAP_QOS2,
  MQS_CAP_RETAIN,
  MQS_CAP_WILDCARDS,
  MQS_CAP_SHARED_SUBSCRIPTIONS,
  MQS_CAP_TOPIC_ALIAS,
  MQS_CAP_SUBSCRIPTION_IDENTIFIERS,
  MQS_CAP_WILL,
  MQS_CAP_WILL_DELAY,
  MQS_CAP_MESSAGE_EXPIRY,
  MQS_CAP_PERSISTENT_SESSIONS,
  MQS_CAP_SESSION_EXPIRY,
  MQS_CAP_KEEP_ALIVE,
  MQS_CAP_ASSIGNED_CLIENT_ID,
  MQS_CAP_DOLLAR_TOPICS,
  MQS_CAP_LONG_WAITS, /* waits of many seconds: free on the virtual clock */
  MQS_CAP_REQUEST_RESPONSE,
  MQS_CAP_MAX_PACKET_SIZE,
  MQS_CAP_RECEIVE_MAXIMUM,
  /* Targets configured like a scenario's `server:` block (docs/scenarios.md,
   * "Server configuration"); the engine applies the block itself. */
  MQS_CAP_TOPIC_ALIAS_MAXIMUM,
  MQS_CAP_MAXIMUM_QOS,
  MQS_CAP_RETAIN_UNAVAILABLE,
  MQS_CAP_WILDCARDS_UNAVAILABLE,
  MQS_CAP_SERVER_KEEP_ALIVE,
  MQS_CAP_CLIENT_ID_RESTRICTIONS,
  MQS_CAP_AUTHENTICATION,
  MQS_CAP_ENHANCED_AUTH,
  MQS_CAP_AUTHORIZATION,
  MQS_CAP_WEBSOCKET, /* the target is reached over ws:// or wss:// */
  MQS_CAP_COUNT
} mqs_cap;

/* Kebab-case name ("shared-subscriptions"), never NULL for a valid cap. */
const char *mqs_cap_name(mqs_cap c);
/* -1 when unknown. */
int mqs_cap_lookup(const char *name);
/* One line describing the capability (for docs and lint --caps). */
const char *mqs_cap_help(mqs_cap c);

/* ------------------------------------------------------------------------ */
/* Variables                                                                */
/* ------------------------------------------------------------------------ */

#define MQS_VARS_MAX      64
#define MQS_VAR_NAME_MAX  48
#define MQS_VAR_VALUE_MAX 512

#define MQS_REPEAT_MAX 1000  /* iterations of one repeat: block */
#define MQS_STEPS_MAX  20000 /* steps of a scenario once repeats are expanded */

/* A small name -> value table: built-ins (client_prefix, topic_prefix,
 * version, ...) plus values captured by `expect` steps. Fixed size, no
 * allocation. */
typedef struct {
  size_t count;
  struct {
    char name[MQS_VAR_NAME_MAX];
    char value[MQS_VAR_VALUE_MAX];
    size_t len;
  } v[MQS_VARS_MAX];
} mqs_vars;

void mqs_vars_init(mqs_vars *vars);
/* Sets (or replaces) name. Returns 0, or -1 when the table is full or name or
 * value is too long. value is copied (len bytes). */
int mqs_vars_set(mqs_vars *vars, const char *name, const char *value, size_t len);
/* Value of name (borrowed, valid until the next set) or NULL. */
const char *mqs_vars_get(const mqs_vars *vars, const char *name, size_t *len);

/* Expands ${name} references in in[0..n) into out (cap bytes, NUL-terminated
 * when cap > 0). `$$` is a literal `$`. Returns the expanded length, or -1
 * with *bad (static text or the unbound name copied into badname[64]) when a
 * name is unbound or out is too small. */
long mqs_vars_expand(const mqs_vars *vars, const char *in, size_t n, char *out, size_t cap,
                     char badname[64]);

/* If s (length n) is exactly one reference "${name}", copies name into
 * name_out (cap 64) and returns true. */
bool mqs_vars_is_ref(const char *s, size_t n, char name_out[64]);

/* packet_spec with variable expansion: every scalar of the description is
 * expanded against vars (NULL = none) before use. default_type is used when
 * the mapping has no `type` key (0 = `type` required). */
int mqs_packet_from_yaml_vars(yaml_document_t *doc, yaml_node_t *node, mqc_version v,
                              mqs_arena *arena, const mqs_vars *vars, mqc_type default_type,
                              mqc_packet *pkt, mqc_faults *faults, mqs_spec_error *err);

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                */
/* ------------------------------------------------------------------------ */

typedef enum {
  MQS_STEP_OPEN,              /* transport only */
  MQS_STEP_CONNECT,           /* transport if needed + CONNECT + CONNACK check */
  MQS_STEP_RECONNECT,         /* CONNECT on a new transport, clean_start false */
  MQS_STEP_SEND,              /* a packet from structured fields (+ faults) */
  MQS_STEP_SEND_HEX,          /* raw bytes */
  MQS_STEP_EXPECT,            /* next packet of one client matches */
  MQS_STEP_EXPECT_ALL,        /* a group of packets, any order, any clients */
  MQS_STEP_EXPECT_NONE,       /* nothing arrives for `ms` */
  MQS_STEP_EXPECT_DISCONNECT, /* the server closes (optional DISCONNECT/CONNACK) */
  MQS_STEP_DISCONNECT,        /* send DISCONNECT, close the transport */
  MQS_STEP_DROP,              /* close the transport abruptly (Last Will) */
  MQS_STEP_WAIT,              /* let time pass */
  MQS_STEP_CONTROL,           /* positive control: CONNECT if needed, PINGREQ, PINGRESP */
  MQS_STEP_SYNC               /* cluster: sentinels from one client until another sees one */
} mqs_step_kind;

const char *mqs_step_kind_name(mqs_step_kind k);

/* A scenario's `server:` block: engine configuration for this scenario. The
 * engine target applies it; other targets run the scenario only when they
 * have the capabilities it requires (each limit key names one, see
 * docs/scenarios.md), i.e. when the broker is configured the same way. */
#define MQS_SRV_MAXIMUM_PACKET_SIZE  (1u << 0)
#define MQS_SRV_RECEIVE_MAXIMUM      (1u << 1)
#define MQS_SRV_TOPIC_ALIAS_MAXIMUM  (1u << 2)
#define MQS_SRV_MAXIMUM_QOS          (1u << 3)
#define MQS_SRV_RETAIN_AVAILABLE     (1u << 4)
#define MQS_SRV_WILDCARD_AVAILABLE   (1u << 5)
#define MQS_SRV_SERVER_KEEP_ALIVE    (1u << 6)
#define MQS_SRV_ASSIGN_CLIENT_IDS    (1u << 7)
#define MQS_SRV_USERS                (1u << 8)
#define MQS_SRV_AUTH_METHOD          (1u << 9)
#define MQS_SRV_OUTBOUND_ALIASES     (1u << 10)
#define MQS_SRV_RESPONSE_INFORMATION (1u << 11)
#define MQS_SRV_DENY_PUBLISH         (1u << 12)
#define MQS_SRV_MAX_USERS            4

typedef struct {
  uint32_t set; /* MQS_SRV_* bits of the keys given */
  uint32_t maximum_packet_size;
  uint16_t receive_maximum, topic_alias_maximum, outbound_aliases;
  uint8_t maximum_qos;
  bool retain_available, wildcard_available, assign_client_ids;
  int32_t server_keep_alive;
  const char *response_information; /* borrowed from the document */
  const char *auth_method;          /* "mqcheck-challenge" */
  const char *auth_secret;          /* its shared secret */
  size_t n_users;
  struct {
    const char *username, *password;
  } users[MQS_SRV_MAX_USERS];
  size_t n_deny;
  yaml_node_t *deny_publish[MQS_SRV_MAX_USERS]; /* topics, ${vars} expanded per case */
} mqs_server_cfg;

typedef struct {
  unsigned client;    /* index into mqs_scenario.clients */
  yaml_node_t *match; /* packet fields to match (borrowed from the document) */
  unsigned line;
} mqs_expect_item;

typedef struct {
  mqs_step_kind kind;
  unsigned line, column;  /* of the step in its file, 1-based */
  unsigned client;        /* index into clients; EXPECT_NONE: see all_clients */
  bool all_clients;       /* EXPECT_NONE without `client` */
  unsigned versions;      /* MQS_V311|MQS_V5 the step applies to */
  yaml_node_t *node;      /* SEND/CONNECT/EXPECT/DISCONNECT fields, SEND_HEX text;
                             EXPECT_DISCONNECT: its mapping or NULL */
  yaml_node_t *connack;   /* CONNECT/RECONNECT: expected CONNACK fields (NULL =
                             reason_code 0) */
  bool no_connack;        /* `connack: none` */
  uint32_t ms;            /* WAIT / EXPECT_NONE duration; 0 otherwise */
  uint32_t timeout_ms;    /* expect timeout override; 0 = run default */
  mqs_expect_item *items; /* EXPECT_ALL, owned */
  size_t n_items;
  uint32_t any_of;    /* EXPECT: `client: [a, b]`, bit per client index
                         (0 = just `client`); the packet arrives at one of them */
  bool ignore_others; /* EXPECT: packets that do not match are skipped */
  bool peek;          /* EXPECT: the packet may come before or after others,
                         and every packet stays queued for the next steps */
  bool or_close;      /* EXPECT: the server closing the connection instead
                         also satisfies it (for "answer or close" rules) */
  bool ws_text;       /* SEND/SEND_HEX `ws_frame: text`: one WebSocket TEXT
                         message instead of binary ones (MQTT-6.0.0-1) */
  /* A step of a `repeat:` block (docs/scenarios.md, "Repetition"), expanded
   * at load time: loop_var (borrowed from the document) is bound to
   * loop_val while it runs; loop_first marks the first step of an
   * iteration, where the previous iteration's captures are forgotten. */
  const char *loop_var;
  unsigned loop_val;
  bool loop_first;
  yaml_node_t *cond; /* `if: {VAR: VALUE, ...}`: the step runs only when
                        every variable is bound to that value (typically
                        captured by an earlier expectation); or NULL */
  /* `rules:` of a check step: the statements it verifies, per version (a
   * subset of the scenario's). A check without them verifies the scenario's
   * statements that no step names (docs/scenarios.md, "Verdicts"). */
  char **rules[2]; /* owned */
  size_t n_rules[2];
  unsigned has_rules; /* MQS_V311|MQS_V5: versions whose rules the step names */
  /* `owed:` of an expect/expect_all/expect_disconnect: the statements that
   * owe what it waits for, per version (cited by the scenario). When nothing
   * of it comes, they fail and the step's own statements are not reached: a
   * will that never comes is not a will with wrong properties. */
  char **owed[2]; /* owned */
  size_t n_owed[2];
  /* `presumes:` the statements this step and the rest of the case presume
   * held, per version (cited by the scenario, each checked by an earlier
   * step). When one has failed by the time the step runs, the case ends
   * before it and the statements not yet judged are not reached: what
   * follows cannot tell its own statements from the one that broke. */
  char **presumes[2]; /* owned */
  size_t n_presumes[2];
  /* EXPECT_NONE with a fence instead of a timer (docs/scenarios.md, "Fences"):
   * MQS_FENCE_PING, a PINGREQ round trip on `client`; MQS_FENCE_SENTINEL,
   * client fence_from publishes a sentinel at fence_qos on fence_topic
   * (borrowed node, ${vars} expanded) that `client` must receive next; the
   * runner completes the sentinel's acknowledgements on both sides. */
  enum { MQS_FENCE_NONE, MQS_FENCE_PING, MQS_FENCE_SENTINEL } fence;
  unsigned fence_from;      /* also SYNC: the publishing client */
  uint8_t fence_qos;        /* SENTINEL: the sentinel's QoS */
  yaml_node_t *fence_topic; /* also SYNC: the sentinels' topic */
  /* OPEN/CONNECT/RECONNECT/CONTROL: `node:` the transport goes to (a node
   * name or role, see mqs_scenario.client_nodes; borrowed from the
   * document), or NULL for the client's own node. */
  const char *on_node;
} mqs_step;

typedef struct {
  char *path; /* as given to load */
  char *name; /* unique across a suite */
  char *description;
  unsigned versions; /* MQS_V311 | MQS_V5 */
  char **rules[2];   /* [0] 3.1.1 IDs, [1] 5.0 IDs; owned */
  size_t n_rules[2];
  unsigned *rule_lines[2]; /* line of each ID in the file; owned */
  uint32_t requires;       /* bit (1u << mqs_cap) */
  char **clients;          /* names, owned */
  size_t n_clients;
  mqs_step *steps; /* owned */
  size_t n_steps;
  unsigned line;         /* of the top-level mapping */
  mqs_server_cfg server; /* `server:` block (set == 0: none) */
  uint32_t fragment;     /* `fragment: N`: every send goes out in N-byte pieces */
  /* `clients: [{name: sub, node: a}]`: per client, the node it connects to:
   * a node name of the target or a role ("home": the first node, "other":
   * the second). NULL entries (or a NULL array) mean "home". Borrowed from
   * the document. With a one-node target every client is on that node. */
  const char **client_nodes; /* owned array, n_clients entries, or NULL */
  uint32_t cluster_needs;    /* MQS_CLUSTER_* named in `requires:` */
  bool has_sync;             /* a SYNC step exists: stray sentinels are dropped */
  yaml_document_t doc;       /* owned; steps borrow nodes */
} mqs_scenario;

/* Does a step of this kind judge the target (and so verify statements)? */
bool mqs_step_is_check(const mqs_step *st);
/* Does st verify statement `id` of scenario s in version vbit: named in its
 * `rules:`, or, for a check without rules, named by no step at all? */
bool mqs_step_claims(const mqs_scenario *s, const mqs_step *st, unsigned vbit, const char *id);

/* Where and why loading failed. */
typedef struct {
  char file[256];
  size_t line, column; /* 1-based, 0 when unknown */
  char message[256];
} mqs_load_error;

/* Reads and validates a scenario file: YAML structure, step shapes, every
 * packet description (built once per version with placeholder variables),
 * capability names, statement-ID syntax.
 * out: *out (caller frees with mqs_scenario_free) or NULL.
 * returns 0, or -1 with err filled (file, line, column, message). */
int mqs_scenario_load(const char *path, mqs_scenario **out, mqs_load_error *err);
/* Same from memory (name used in errors). text is borrowed. */
int mqs_scenario_load_text(const char *name, const char *text, size_t len, mqs_scenario **out,
                           mqs_load_error *err);
void mqs_scenario_free(mqs_scenario *s);

/* Statement catalogue used by lint: IDs of one version, from the TSV files
 * in /work/shared/spec (first column). Owned by the caller. */
typedef struct {
  char **ids;
  size_t n;
} mqs_catalog;
int mqs_catalog_load(const char *tsv_path, mqs_catalog *out);
bool mqs_catalog_has(const mqs_catalog *c, const char *id);
void mqs_catalog_free(mqs_catalog *c);

/* Collects scenario files: each path is a file or a directory searched
 * recursively for *.yaml / *.yml (sorted, deterministic). Returns the count
 * (>= 0) or -1 when a path cannot be read (message on err). *files owned by
 * the caller: free each string, then the array. */
long mqs_collect_files(char *const *paths, size_t n_paths, char ***files, char *err, size_t cap);

/* A loaded set of scenarios (a suite). */
typedef struct {
  mqs_scenario **s; /* owned */
  size_t n;
  size_t errors; /* files that failed to load (reported already) */
} mqs_suite;

/* Loads every scenario file under paths (see mqs_collect_files), reporting
 * each error as "file:line:column: message" on errs (may be NULL), and
 * duplicate names as errors. Returns 0 (check out->errors) or -1 when the
 * paths cannot be read. */
int mqs_suite_load(char *const *paths, size_t n_paths, mqs_suite *out, FILE *errs);
void mqs_suite_free(mqs_suite *s);

/* ------------------------------------------------------------------------ */
/* Targets                                                                  */
/* ------------------------------------------------------------------------ */

/* What arrives at a client. Called by target wait(); pointers are valid only
 * during the call. */
typedef struct {
  void (*on_data)(void *ctx, unsigned client, const uint8_t *p, size_t n);
  /* The connection ended. transport_error: a TLS/WebSocket failure (not a
   * protocol event); msg says what happened. */
  void (*on_closed)(void *ctx, unsigned client, bool transport_error, const char *msg);
  /* Something worth a transcript line (engine events, violations). */
  void (*on_note)(void *ctx, unsigned client, const char *msg);
  void *ctx;
} mqs_sink;

typedef struct mqs_target mqs_target; /* one instance per running case */

/* The target interface. A target instance is used by one thread. Times are
 * milliseconds on the target's own clock (virtual for the engine). */
typedef struct {
  const char *kind; /* "engine", "net" */
  /* Opens client's transport to node (an index of the target spec's nodes,
   * 0 on one broker). Returns 0, -1 with a transport error text, or -2 (err
   * says why) when the WebSocket server did not select the subprotocol
   * "mqtt": a verdict on MQTT-6.0.0-4, not a transport error. */
  int (*open)(mqs_target *t, unsigned client, unsigned node, const mqs_sink *sink, char *err,
              size_t cap);
  /* Sends bytes (borrowed). Returns 0, -1 when the connection is gone (err
   * says why; *transport tells a TLS/WS failure from a closed connection). */
  int (*send)(mqs_target *t, unsigned client, const uint8_t *p, size_t n, const mqs_sink *sink,
              bool *transport, char *err, size_t cap);
  /* Closes client's transport; abrupt = network loss (will is published). */
  void (*close)(mqs_target *t, unsigned client, bool abrupt, const mqs_sink *sink);
  /* Delivers what arrives until deadline. Returns as soon as something was
   * delivered, or at deadline (then now() >= deadline). */
  void (*wait)(mqs_target *t, uint64_t deadline, const mqs_sink *sink);
  uint64_t (*now)(mqs_target *t);
  void (*destroy)(mqs_target *t);
  bool virtual_clock;
  /* Sends bytes as one WebSocket TEXT message (the `ws_frame: text` step
   * modifier). NULL for targets without WebSocket. Returns 0, -1 when the
   * connection is gone, -2 (err says why) when it is not WebSocket. */
  int (*send_text)(mqs_target *t, unsigned client, const uint8_t *p, size_t n, char *err,
                   size_t cap);
} mqs_target_ops;

/* A target description shared by every case of a run (read-only there):
 * one broker, or the named nodes of a cluster (docs/cluster.md). */
typedef struct mqs_target_spec mqs_target_spec;
#define MQS_NODES_MAX     8
#define MQS_NODE_NAME_MAX 32

/* tls options for the network target (strings borrowed). */
typedef struct {
  const char *cafile, *cert, *key;
  bool insecure;
} mqs_tls_opts;

/* "engine" or a URL (tcp://, mqtt://, mqtts://, ws://, wss://). Returns 0, or
 * -1 with err (a bad URL, TLS files that do not load: transport errors). */
int mqs_target_spec_new(const char *target, const mqs_tls_opts *tls, mqs_target_spec **out,
                        char *err, size_t cap);
/* Several nodes: each of targets[0..n) is "NAME=URL" or a URL (then named
 * node1, node2...); names are unique, 1..31 of [A-Za-z0-9_-]. n == 1
 * without a name is exactly mqs_target_spec_new. "engine" is one node only.
 * Returns 0, or -1 with err. targets are borrowed (copied). */
int mqs_target_spec_new_nodes(const char *const *targets, size_t n, const mqs_tls_opts *tls,
                              mqs_target_spec **out, char *err, size_t cap);
size_t mqs_target_spec_n_nodes(const mqs_target_spec *s); /* >= 1 */
/* Node i's name and URL text as given (valid as long as s). */
const char *mqs_target_spec_node_name(const mqs_target_spec *s, size_t i);
const char *mqs_target_spec_node_url(const mqs_target_spec *s, size_t i);
/* Index of a node by name or role ("home", "other"); -1 when unknown. With
 * one node, every name is that node (a scenario runs as on one broker). */
int mqs_target_spec_node_index(const mqs_target_spec *s, const char *name);
void mqs_target_spec_free(mqs_target_spec *s);
bool mqs_target_spec_is_engine(const mqs_target_spec *s);
/* Capabilities a target has unless the profile says otherwise. */
uint32_t mqs_target_spec_default_caps(const mqs_target_spec *s);

/* What a cluster target promises (profile `cluster:`) and what a scenario
 * needs (`requires: [cluster, cluster-takeover, ...]`), docs/cluster.md. */
#define MQS_CLUSTER                (1u << 0) /* clients on different nodes reach each other */
#define MQS_CLUSTER_TAKEOVER       (1u << 1) /* a client ID taken over across nodes */
#define MQS_CLUSTER_SESSION_RESUME (1u << 2) /* a session resumed on another node */
#define MQS_CLUSTER_ALL            (MQS_CLUSTER | MQS_CLUSTER_TAKEOVER | MQS_CLUSTER_SESSION_RESUME)
#define MQS_PROPAGATION_DEFAULT_MS 1000u
/* "cluster", "cluster-takeover", "cluster-session-resume" -> bit, 0 when unknown. */
uint32_t mqs_cluster_need_lookup(const char *name);
/* The name of one bit, or "?". */
const char *mqs_cluster_need_name(uint32_t bit);

/* ------------------------------------------------------------------------ */
/* Profiles                                                                 */
/* ------------------------------------------------------------------------ */

/* A target profile (YAML, docs/scenarios.md "Profiles"). Strings owned. */
typedef struct {
  char *target; /* address, or NULL */
  char *username, *password;
  char *cafile, *cert, *key;
  bool insecure;
  uint32_t caps_on, caps_off;                                    /* capabilities: true / false */
  uint32_t step_timeout_ms, connect_timeout_ms, case_timeout_ms; /* 0 = default */
  double timeout_scale;                                          /* 0 = default */
  unsigned versions;                                             /* 0 = both */
  char *name;
  char **targets; /* `target: [a=URL, b=URL]`: the nodes of a cluster; owned */
  size_t n_targets;
  bool has_cluster;        /* a `cluster:` section was given */
  uint32_t cluster_off;    /* MQS_CLUSTER_* promises it denies (takeover: false, ...) */
  uint32_t propagation_ms; /* cluster: {propagation_ms}; 0 = default */
} mqs_profile;

int mqs_profile_load(const char *path, mqs_profile *out, mqs_load_error *err);
void mqs_profile_free(mqs_profile *p);

/* ------------------------------------------------------------------------ */
/* Running                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
  const mqs_scenario *scenario; /* borrowed */
  unsigned version;             /* one MQS_V* bit */
} mqs_case;

typedef enum { MQS_PASS, MQS_FAIL, MQS_SKIP, MQS_ERROR } mqs_verdict;
const char *mqs_verdict_name(mqs_verdict v); /* "pass" "fail" "skip" "error" */

/* The verdict on one statement in one case. */
typedef enum {
  MQS_ST_PASS,        /* every check of it ran and held */
  MQS_ST_FAIL,        /* a check of it failed */
  MQS_ST_NOT_REACHED, /* the case ended before a check of it ran */
  MQS_ST_NOT_CHECKED, /* no check of it ran (e.g. every `if:` branch was off) */
  MQS_ST_SKIP         /* the case was skipped */
} mqs_stmt_verdict;
/* "pass" "fail" "not-reached" "not-checked" "skip" */
const char *mqs_stmt_verdict_name(mqs_stmt_verdict v);

#define MQS_STMTS_MAX (MQS_RULES_MAX + 8)
typedef struct {
  const char *id; /* borrowed from the scenario, or a static string */
  mqs_stmt_verdict verdict;
  unsigned line; /* the first failing check's line, else 0 */
} mqs_stmt_result;

typedef struct {
  mqs_verdict verdict;
  /* Per statement: those the case cites (in order), then any other statement
   * a check judged (e.g. Session Present, MQTT-3.2.2-x, in a CONNACK). */
  mqs_stmt_result stmts[MQS_STMTS_MAX];
  size_t n_stmts;
  char *message;      /* one line (fail/skip/error reason); owned, may be NULL */
  char *detail;       /* multi-line: step, expected vs received, transcript; owned */
  unsigned step_line; /* failing step's line, 0 if none */
  bool transport;     /* ERROR caused by TLS/WS/TCP setup, not by the protocol */
  bool no_positive;   /* FAIL only because nothing had to arrive (no control) */
  double wall_ms;     /* real time the case took */
  uint64_t target_ms; /* time on the target's clock (virtual on the engine) */
  size_t packets;     /* packets sent + received */
  /* cluster cases: the slowest sync step (cross-node propagation, measured),
   * valid when has_propagation */
  bool has_propagation;
  double propagation_ms;
} mqs_result;

void mqs_result_free(mqs_result *r);

/* Observes what a case's clients do, on the thread running the case (the
 * network fuzzer compiles scenarios into sessions with it). Any callback may
 * be NULL. Pointers are valid only during the call. */
typedef struct {
  void (*open)(void *ctx, unsigned client);                             /* transport opened */
  void (*send)(void *ctx, unsigned client, const uint8_t *p, size_t n); /* bytes written */
  void (*close)(void *ctx, unsigned client, bool abrupt);               /* closed by the client */
  void (*recv)(void *ctx, unsigned client, const uint8_t *p, size_t n); /* bytes arrived */
  void (*closed)(void *ctx, unsigned client);                           /* closed by the server */
  void (*time)(void *ctx, uint64_t ms); /* the target's clock moved on by ms */
  void *ctx;
} mqs_tap;

typedef struct {
  const mqs_target_spec *target; /* borrowed */
  uint32_t caps;                 /* capabilities the target has */
  const char *username;          /* applied to CONNECTs without their own */
  const char *password;
  uint32_t step_timeout_ms;    /* expect default; 0 = 2000 */
  uint32_t connect_timeout_ms; /* transport handshake; 0 = 5000 */
  uint32_t case_timeout_ms;    /* whole case (real time); 0 = 60000 */
  uint64_t run_deadline_ms;    /* absolute mqn-clock deadline for the run; 0 = none */
  double timeout_scale;        /* multiplies every timeout and wait; 0 = 1 */
  unsigned jobs;               /* worker threads; 0 = 1 */
  const char *run_id;          /* prefix seed, e.g. "a3f9"; NULL = "mqc" */
  bool transcript_always;      /* keep the transcript of passing cases too */
  unsigned spoken;             /* versions the target accepts (mqs_preflight); 0 = all */
  unsigned engine_fault;       /* engine target: the mqe_fault to plant (mutants), 0 = none */
  uint32_t cluster;            /* MQS_CLUSTER_* the target keeps (0 = one broker node) */
  uint32_t propagation_ms;     /* cross-node bound added to waits of cluster cases; 0 =
                                  MQS_PROPAGATION_DEFAULT_MS */
  const char *unspoken_why;    /* why the others are skipped (borrowed), or NULL */
  const mqs_tap *tap;          /* observes every case's client I/O; NULL = none */
} mqs_run_opts;

/* Connects once per version in `versions` (one MQS_V* bit each) with a plain
 * CONNECT. *spoken gets the versions accepted; why (cap bytes) says how the
 * others were refused. Returns 0, or -1 when the check itself could not run.
 * Put *spoken in opts->spoken so refused versions are skipped. */
int mqs_preflight(const mqs_run_opts *opts, unsigned versions, unsigned *spoken, char *why,
                  size_t cap);

/* Runs one case (on the calling thread). index makes the variables unique
 * within the run. out is reset on entry; free it with mqs_result_free. */
void mqs_run_case(const mqs_case *c, size_t index, const mqs_run_opts *opts, mqs_result *out);

/* Parallel cases against a network target when the caller names none (and
 * the CPUs are fewer): a case waiting on a broker uses no CPU. */
#define MQS_NET_JOBS 32

/* Runs n cases on opts->jobs threads, those asking for the most real time
 * (waits, keep-alive closes) first; results[i] is for cases[i]. progress
 * (may be NULL) is called from the worker threads (serialise inside) after
 * each case. Returns 0, or -1 when threads cannot be started. */
int mqs_run_cases(const mqs_case *cases, size_t n, const mqs_run_opts *opts, mqs_result *results,
                  void (*progress)(void *ctx, size_t i, const mqs_result *r), void *ctx);

/* A pattern without glob characters matches as a substring of the case ID
 * "name@version"; one with *, ? or [..] must match the whole ID or the name
 * alone. */
bool mqs_case_matches(const mqs_case *c, const char *pattern);
/* "name@3.1.1" into buf (snprintf semantics). */
size_t mqs_case_id(const mqs_case *c, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MQS_H */
