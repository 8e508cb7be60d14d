/*
 * mqz.h - mqcheck's network fuzzer: fuzzes any MQTT broker over the network,
 * judged by oracles, with findings written as replayable scenarios
 * (docs/netfuzz.md).
 *
 * The unit of work is a session: a few clients that connect, act and
 * disconnect. A session is a byte string (so the structure-aware mutator of
 * fuzz/ can work on it), laid out as
 *
 *   [selector][flags] record record ...
 *
 *   selector  version in bits 0-1 as in fuzz/fuzz.h (1 3.1, 2 3.1.1, 3 5.0)
 *   flags     MQZ_F_* below
 *   record    [op][client] then, by op:
 *               SEND, ACK     one MQTT packet (its own fixed header frames it)
 *               SYNC          2 bytes: packets the client has received by now
 *               WAIT          1 byte: milliseconds (capped by the executor)
 *               SPLIT         1 byte: the client's next SEND goes out in
 *                             pieces of that many bytes (0 = one byte each)
 *               SLOWREAD      1 byte: stop reading this client for N*10 ms
 *               RAW           1 byte length, then that many bytes sent as
 *                             they are (bytes that frame as no packet)
 *               REPEAT        3 bytes count (big-endian), 1 byte length, then
 *                             that many bytes (the unit): the unit sent count
 *                             times as it is, streamed (at most
 *                             MQZ_REPEAT_MAX bytes in all), so a session of a
 *                             few hundred bytes can send a packet of
 *                             megabytes or a packet ten thousand times
 *               NODE          1 byte: the client's next OPENs go to that node
 *                             of a cluster target (modulo its nodes)
 *               OPEN, CLOSE, DROP, HALFCLOSE: nothing
 *
 * Records that do not parse are skipped a byte at a time, so every byte
 * string is a session. Client IDs and topics carry a placeholder token
 * (MQZ_TOKEN) that the executor replaces with a per-session token of the same
 * length, so concurrent sessions do not see each other and the oracles can
 * tell this session's traffic from anyone else's.
 *
 * Layers used: codec (framing, decoding: the bad-wire oracle), engine (the
 * CONNECT differential), net (every socket), scenarios (seeds are compiled
 * from the suite; findings are written as scenarios), fuzz/'s mutator.
 *
 * No globals: every state lives in objects the caller owns. One thread.
 */
#ifndef MQZ_H
#define MQZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mqc.h"
#include "mqn.h"
#include "mutator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */
/* ------------------------------------------------------------------------ */

#define MQZ_MAX_CLIENTS 8
/* Nodes of a cluster target (docs/cluster.md). Client c opens its
 * connections on node c mod n_nodes (its home node) until a NODE record
 * moves it, so a seed's clients are spread over the nodes from the start. */
#define MQZ_MAX_NODES 8
/* Bytes; mutation never grows a session past it. Room for a packet with a
 * string field at its 65535-byte maximum (deep topic hierarchies). */
#define MQZ_SESSION_MAX 131072
/* Six characters in every compiled client ID and topic prefix; replaced per
 * session by the executor ("Zq" + four base-36 digits). */
/* Bytes one REPEAT record may expand to (count x unit, the rest cut). */
#define MQZ_REPEAT_MAX (64u << 20)
#define MQZ_TOKEN      "Zq0000"
#define MQZ_TOKEN_LEN  6

typedef enum {
  MQZ_OP_OPEN = 1,  /* open the client's transport (closing an open one first) */
  MQZ_OP_SEND,      /* send a packet */
  MQZ_OP_ACK,       /* send a packet answering the oldest unanswered server
                       PUBLISH/PUBREL: its packet identifier is patched in */
  MQZ_OP_CLOSE,     /* graceful close (FIN) */
  MQZ_OP_DROP,      /* abortive close (RST): network loss */
  MQZ_OP_SYNC,      /* wait until the client has received N packets */
  MQZ_OP_WAIT,      /* let time pass */
  MQZ_OP_SPLIT,     /* split the client's next send into small writes */
  MQZ_OP_HALFCLOSE, /* shutdown(SHUT_WR): the broker sees EOF, we still read */
  MQZ_OP_SLOWREAD,  /* stop reading the client for a while */
  MQZ_OP_RAW,       /* send up to 255 bytes as they are */
  MQZ_OP_REPEAT,    /* send up to 255 bytes as they are, many times over */
  MQZ_OP_NODE,      /* move the client to another node of a cluster (its next OPEN) */
  MQZ_OP_COUNT
} mqz_op;

#define MQZ_F_AUTO_ACK 1u /* clients answer every server PUBLISH/PUBREL themselves */

typedef struct {
  mqz_op op;
  unsigned client;    /* 0..MQZ_MAX_CLIENTS-1 */
  const uint8_t *pkt; /* SEND/ACK/RAW: the bytes, REPEAT: the unit (borrowed from the session) */
  size_t pkt_len;
  uint32_t arg;  /* SYNC count, WAIT ms, SPLIT piece, SLOWREAD ticks, REPEAT count */
  size_t offset; /* of the record in the session */
  size_t len;    /* of the whole record */
} mqz_rec;

typedef struct {
  const uint8_t *base, *p, *end;
} mqz_iter;

/* Version and flags of a session (a short session is 5.0 with no flags). */
mqc_version mqz_session_version(const uint8_t *s, size_t n);
uint8_t mqz_session_flags(const uint8_t *s, size_t n);
uint8_t mqz_selector(mqc_version v); /* the selector byte for v */

/* Walks the records of s[0..n) (borrowed until the walk ends). Never fails:
 * bytes that do not start a record are skipped. */
void mqz_iter_init(mqz_iter *it, const uint8_t *s, size_t n);
bool mqz_iter_next(mqz_iter *it, mqz_rec *out);

/* A session being built: a growable byte string owned by the struct. */
typedef struct {
  uint8_t *p;
  size_t n, cap;
  bool oom; /* an append failed; the session is incomplete */
} mqz_buf;

void mqz_buf_free(mqz_buf *b);
void mqz_buf_reset(mqz_buf *b);
void mqz_buf_append(mqz_buf *b, const void *p, size_t n);
/* Starts a session: selector and flags. */
void mqz_session_begin(mqz_buf *b, mqc_version v, uint8_t flags);
/* Appends one record (pkt may be NULL for ops without a packet). */
void mqz_session_add(mqz_buf *b, mqz_op op, unsigned client, const uint8_t *pkt, size_t pkt_len,
                     uint32_t arg);

/* The same session for MQTT 3.1: every CONNECT that decodes as 3.1.1 is
 * re-encoded with protocol name "MQIsdp" and level 3 (the other packets are
 * the same on the wire). out gets the copy (caller frees with
 * mqz_buf_free). Returns 0, or -1 when s is not a 3.1.1 session or out of
 * memory. */
int mqz_session_to_v31(const uint8_t *s, size_t n, mqz_buf *out);

/* Name of an op ("send"), "?" when unknown. */
const char *mqz_op_name(mqz_op op);

/* The layout the structure-aware mutator sees (records as heads + packets). */
const mqf_layout *mqz_session_layout(void);

/* Replaces every occurrence of MQZ_TOKEN in p[0..n) with token (same
 * length). */
void mqz_token_apply(uint8_t *p, size_t n, const char token[MQZ_TOKEN_LEN]);
/* Session token number k ("Zq" + four base-36 digits of k). */
void mqz_token_make(uint32_t k, char out[MQZ_TOKEN_LEN + 1]);

/* ------------------------------------------------------------------------ */
/* Seeds: scenarios compiled into sessions                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
  uint8_t **s; /* owned, each session's bytes */
  size_t *n;
  char **name; /* owned: "scenario@version" or a file name */
  size_t count, cap;
} mqz_corpus;

void mqz_corpus_free(mqz_corpus *c);
/* Adds a copy of s[0..n) under name. Returns 0 or -1 (out of memory). */
int mqz_corpus_add(mqz_corpus *c, const uint8_t *s, size_t n, const char *name);

/* Compiles every scenario under paths (files or folders) for every version it
 * lists (versions: MQS_V311|MQS_V5 mask from mqs.h, 0 = all) by running it on
 * the engine and recording what its clients do: opens, sends (acks to the
 * server's packets become ACK records), closes, the packets each client had
 * received before each of its sends (SYNC) and the time that passed (WAIT,
 * capped). Cases whose scenario needs more than MQZ_MAX_CLIENTS clients are
 * left out. Load errors go to errs (may be NULL). Returns the number of
 * sessions added, or -1 when paths cannot be read. */
long mqz_seeds_from_scenarios(char *const *paths, size_t n_paths, unsigned versions,
                              mqz_corpus *out, FILE *errs);
/* In versions: also the cases that need a cluster (`requires: [cluster]`,
 * docs/cluster.md), for fuzzing a cluster target; one broker never gets
 * them, so its seeds stay as they were. */
#define MQZ_SEEDS_CLUSTER 0x100u

/* Adds every regular file of dir (sorted) as a session. Returns the count or
 * -1 with err. A missing dir is created when create is true. */
long mqz_corpus_load_dir(const char *dir, bool create, mqz_corpus *out, char *err, size_t cap);
/* Writes s under dir as <prefix><hash16> (content-named; no duplicate). */
int mqz_corpus_save(const char *dir, const char *prefix, const uint8_t *s, size_t n, char *err,
                    size_t cap);

/* ------------------------------------------------------------------------ */
/* Mutation                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct mqz_mutator mqz_mutator;

int mqz_mutator_new(mqz_mutator **out);
void mqz_mutator_free(mqz_mutator *m);
/* Learns the properties a (seed) session's 5.0 packets carry, so that
 * mutations can graft them into other packets of the same type. */
void mqz_mutator_learn(mqz_mutator *m, const uint8_t *s, size_t n);
/* A cluster of n_nodes (1 = one broker, the default): session-level
 * mutation then also moves clients to other nodes (NODE records). With one
 * node the mutator draws exactly as it always did. */
void mqz_mutator_set_nodes(mqz_mutator *m, unsigned n_nodes);
/* Mutates s[0..n) (room for MQZ_SESSION_MAX bytes) with seed: at session
 * level (records and clients added, dropped, duplicated, reordered; the same
 * client ID from two clients; reconnects; acks answered or withheld; sessions
 * spliced with other), at packet and field level (fuzz/'s mutator) or at
 * timing level (split writes, waits, half-close, RST, slow reads). other may
 * be NULL. Returns the new length (>= 2). Deterministic. */
size_t mqz_mutate(mqz_mutator *m, uint8_t *s, size_t n, const uint8_t *other, size_t other_n,
                  uint64_t seed);

/* ------------------------------------------------------------------------ */
/* Execution and the session oracles                                        */
/* ------------------------------------------------------------------------ */

typedef enum {
  MQZ_NONE = 0,
  MQZ_CRASH,   /* the broker exited, was killed or printed a sanitizer report */
  MQZ_HANG,    /* the liveness probe failed */
  MQZ_BADWIRE, /* the broker sent bytes that do not decode */
  MQZ_SPEC,    /* the broker broke a statement the specification fixes */
  MQZ_LEAK,    /* the broker's memory or descriptors grow per session */
  MQZ_KIND_COUNT
} mqz_kind;

const char *mqz_kind_name(mqz_kind k); /* "none" "crash" "hang" "bad-wire" "spec" "leak" */

/* What one session showed. */
typedef struct {
  mqz_kind kind;         /* MQZ_NONE, MQZ_BADWIRE or MQZ_SPEC from the executor */
  char statement[32];    /* "MQTT-4.3.3-2", "" when none applies */
  char message[320];     /* one line */
  unsigned client;       /* who saw it */
  bool refused;          /* a transport could not be opened (broker gone?) */
  bool timed_out;        /* the session ran into its deadline */
  uint32_t packets_sent; /* by the clients */
  uint32_t packets_received;
} mqz_outcome;

typedef struct {
  mqn_url url;
  mqn_tls *tls;         /* borrowed; mqtts/wss */
  const char *username; /* borrowed, applied by nobody: sessions carry their own */
  unsigned concurrency; /* sessions in flight; 0 = 64 */
  uint32_t sync_ms;     /* longest SYNC wait; 0 = 250 */
  uint32_t quiet_ms;    /* a SYNC also ends after this long without a packet; 0 = 10 */
  uint32_t wait_cap_ms; /* longest WAIT; 0 = 10 */
  uint32_t drain_ms;    /* end of session: longest wait for owed deliveries; 0 = 500 */
  uint32_t session_ms;  /* whole session; 0 = 5000 */
  uint32_t connect_ms;  /* transport handshake; 0 = 1000 */
  bool spec_oracle;     /* judge the spec statements (default on in mqz_exec_opts_default) */
  /* A cluster target: the nodes clients are placed on (see MQZ_MAX_NODES;
   * borrowed, n_nodes entries; url is ignored then). 0 or 1 node: url. */
  const mqn_url *nodes;
  const char *const *node_names; /* borrowed, for findings' messages; may be NULL */
  unsigned n_nodes;
  /* How long a message, a retained message or a subscription may take to
   * cross to another node; every wait for owed deliveries grows by it, and
   * what a subscription on another node made sooner than it after a
   * retained PUBLISH (or its clearing) was acknowledged is not judged.
   * 0 = MQZ_PROPAGATION_DEFAULT_MS (with several nodes). */
  uint32_t propagation_ms;
  uint32_t cluster_off; /* MQZ_CLUSTER_* promises the topology does not make */
} mqz_exec_opts;

/* Cluster promises (the same bits as mqs.h's MQS_CLUSTER_*). */
#define MQZ_CLUSTER_TAKEOVER       (1u << 1) /* a client ID is taken over across nodes */
#define MQZ_CLUSTER_SESSION_RESUME (1u << 2) /* a session resumes on another node */
#define MQZ_PROPAGATION_DEFAULT_MS 1000u

void mqz_exec_opts_default(mqz_exec_opts *o);

typedef struct mqz_exec mqz_exec;

/* Called when a session finishes. s/n is the session as submitted (borrowed
 * for the call). */
typedef void (*mqz_done_fn)(void *ctx, uint64_t id, const uint8_t *s, size_t n,
                            const mqz_outcome *out);

/* opts is copied (its pointers borrowed for the executor's life). */
int mqz_exec_new(const mqz_exec_opts *opts, mqz_done_fn done, void *ctx, mqz_exec **out);
void mqz_exec_free(mqz_exec *x);
/* Point the executor at another address (an exec'd broker restarted on a new
 * port). Only while idle. */
void mqz_exec_set_url(mqz_exec *x, const mqn_url *url);
/* True when another session can be submitted. */
bool mqz_exec_has_room(const mqz_exec *x);
size_t mqz_exec_running(const mqz_exec *x);
/* Starts session s[0..n) (copied) under id with token number token. Returns
 * 0, or -1 when there is no room or no memory. */
int mqz_exec_submit(mqz_exec *x, uint64_t id, uint32_t token, const uint8_t *s, size_t n);
/* Drives every running session for up to timeout_ms (returns earlier when a
 * session finished). Calls done for each finished session. */
void mqz_exec_poll(mqz_exec *x, int timeout_ms);
/* Aborts every running session (done is not called). */
void mqz_exec_abort_all(mqz_exec *x);
/* Runs one session to its end, alone (for triage and minimisation); done,
 * if any, is called for it as for any other. */
void mqz_exec_one(mqz_exec *x, uint32_t token, const uint8_t *s, size_t n, mqz_outcome *out);

/* Throughput of the executor and its oracles (mqcheck bench fuzz). */
typedef struct {
  uint64_t sessions, findings, packets, refused;
  double wall_s, cpu_s; /* our own CPU: near wall_s means we are the bottleneck */
} mqz_rate;

/* Runs sessions against url for seconds with concurrency in flight, all
 * judged by the oracles: corpus entries taken in turn, mutated (seeded by
 * seed) when mutate is set. Returns 0, or -1 when out of memory. */
int mqz_measure(const mqn_url *url, mqn_tls *tls, const mqz_corpus *corpus, bool mutate,
                uint64_t seed, unsigned concurrency, double seconds, mqz_rate *out);

/* ------------------------------------------------------------------------ */
/* Findings                                                                 */
/* ------------------------------------------------------------------------ */

/* One finding as written under --findings DIR/<kind>-<hash>/:
 *   scenario.yaml  a suite-format scenario asserting the correct behaviour
 *   client-N.bin   the raw bytes each client sent
 *   session.bin    the session itself (mqcheck fuzz --replay takes it)
 *   broker.log     the broker's output around the finding (when exec'd)
 *   README         one line: kind, statement, message
 * and one line appended to DIR/README. */
typedef struct {
  mqz_kind kind;
  char signature[256]; /* dedupe key: kind + statement or sanitizer frames */
  char statement[32];
  char message[320];
  const uint8_t *session; /* borrowed */
  size_t session_n;
  const char *broker_log; /* borrowed, may be NULL */
  size_t broker_log_n;
  uint64_t seed, number; /* --seed and the session number it came from */
  /* a cluster target's node names (borrowed, n_nodes entries; 0 or 1:
   * one broker): the scenario places each client as the session did */
  const char *const *node_names;
  unsigned n_nodes;
  uint32_t propagation_ms; /* the cluster's bound: the scenario waits it out */
  /* session sizes in bytes: as found, after clients and records were
   * minimised, (session_n) after bytes; 0 when not minimised */
  size_t found_n, records_n;
} mqz_finding;

/* Writes f under dir; *path_out (cap bytes) receives the finding's folder.
 * Returns 0 or -1 with err (disk full and the like: nothing half-written is
 * left behind under the final name). */
int mqz_finding_write(const char *dir, const mqz_finding *f, char *path_out, size_t cap, char *err,
                      size_t err_cap);

/* Renders session s as a scenario (YAML text, owned by the caller) that
 * replays it and asserts what the specification demands for kind: the broker
 * stays alive (crash, hang, leak), its bytes decode (bad-wire), or the
 * statement holds (spec). NULL when out of memory. */
char *mqz_scenario_yaml(const mqz_finding *f);

/* ------------------------------------------------------------------------ */
/* The fuzzing run                                                          */
/* ------------------------------------------------------------------------ */

#define MQZ_V31 4u /* with mqs.h's MQS_V311 (1) and MQS_V5 (2): MQTT 3.1 */

typedef struct {
  const char *target; /* URL; NULL with exec; the first node of a cluster */
  /* A cluster (docs/cluster.md): n_nodes >= 2 named nodes, borrowed;
   * target is then node_urls[0]. Not with exec. */
  const char *const *node_names, *const *node_urls;
  unsigned n_nodes;
  uint32_t propagation_ms; /* 0 = MQZ_PROPAGATION_DEFAULT_MS */
  uint32_t cluster_off;    /* MQZ_CLUSTER_* promises the topology does not make */
  const char *exec;        /* "CMD ... {port}" or NULL */
  /* How the exec'd broker is reached: a URL with "{port}" (a TLS or
   * WebSocket listener: "mqtts://127.0.0.1:{port}"); NULL = plain TCP on
   * 127.0.0.1. It must accept TCP on 127.0.0.1:{port} (that is how its start
   * is seen). */
  const char *exec_url;
  mqn_tls *tls; /* borrowed */
  const char *username, *password;
  unsigned versions;    /* MQS_V* mask; 0 = all the target accepts */
  unsigned jobs;        /* broker instances with exec (one executor each); 0 = 1 */
  unsigned concurrency; /* sessions in flight per instance; 0 = 64 */
  uint64_t seed;
  uint64_t max_sessions;   /* 0 = no limit */
  uint64_t duration_ms;    /* 0 = no limit */
  unsigned max_findings;   /* 0 = no limit */
  char *const *seed_paths; /* scenario files/folders; borrowed */
  size_t n_seed_paths;
  const char *corpus_dir;   /* extra sessions in, new interesting ones out */
  const char *findings_dir; /* required */
  const char *sync_dir;     /* AFL++-style queue sharing, or NULL */
  const char *stats_json;   /* --json-stats, or NULL */
  bool resume;              /* continue the run recorded in findings_dir */
  bool coverage;            /* give exec'd brokers an AFL++ shared-memory map */
  bool no_feedback;         /* count the map's edges but keep the corpus as it is */
  bool no_spec;             /* judge only crash, hang, bad-wire, leak */
  bool no_minimise;
  uint32_t hang_ms;      /* liveness deadline; 0 = 2000 */
  uint32_t drain_ms;     /* longest wait for deliveries owed to a leaving client; 0 = 500 */
  uint64_t leak_rss_kib; /* RSS growth over the leak window that counts; 0 = 32768 */
  unsigned leak_fds;     /* descriptor growth that counts; 0 = 64 */
  uint64_t leak_window;  /* sessions per leak window; 0 = 2000 */
  /* Held memory: the exec'd broker's RSS, sampled every 20 ms while
   * sessions run, rising this far (KiB) over its lowest since it started is
   * a leak finding ("leak:held-rss") even when the memory is given back when
   * the session ends; 0 = 262144 */
  uint64_t held_rss_kib;
  /* Sessions between clean stops (SIGTERM) of an exec'd broker that carries
   * LeakSanitizer, whose leak and shutdown reports are then judged; 0 =
   * 10000. The run's end always stops it so. */
  uint64_t exit_every;
  bool no_exit_check; /* never judge what the broker reports at exit */
  /* Idle CPU: every 10 s and at the end of the run, an exec'd broker at
   * rest (sessions drained, two idle connections open) runnable more than
   * idle_cpu_pct percent of a core over idle_cpu_ms, twice in a row, is a
   * leak finding ("leak:idle-cpu"); 0 = 50 and 300 */
  unsigned idle_cpu_pct;
  uint32_t idle_cpu_ms;
  bool no_idle_cpu;
  uint32_t stack_kib; /* the exec'd broker's stack limit in KiB; 0 = inherited */
  bool quiet;         /* no status line */
  volatile int *stop; /* set non-zero (e.g. by SIGINT) to stop cleanly */
} mqz_opts;

typedef struct {
  uint64_t sessions, findings, unique[MQZ_KIND_COUNT];
  uint64_t corpus, edges; /* edges: AFL++ map edges seen (0 without coverage) */
  double elapsed_s;
} mqz_stats;

/* Runs the fuzzer until a stop condition. Prints the status line (TTY) or
 * periodic lines (pipe) on stderr unless quiet. Returns 0 (no finding), 1 (a
 * finding was made) or 2 (could not start: err says why). */
int mqz_fuzz(const mqz_opts *o, mqz_stats *stats, char *err, size_t cap);

/* Replays one session file against a target and prints its outcome;
 * returns 0 (nothing), 1 (a finding), 2 (error). */
int mqz_replay(const mqz_opts *o, const char *session_file, char *err, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MQZ_H */
