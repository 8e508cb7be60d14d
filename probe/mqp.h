/*
 * mqp.h - mqcheck probe: finds out what a broker supports by talking to it
 * (a few seconds over net/, packets built and judged by the codec), and
 * writes the answer as a target profile (docs/scenarios.md, "Profiles").
 *
 * Every capability ends up in one of three states: yes, no, or unknown with
 * the reason the probe could not decide. Where the broker's declarations
 * (MQTT 5.0 CONNACK properties) disagree with what it does, the probe records
 * a finding naming the statement at stake.
 *
 * Ownership: mqp_probe fills a caller-owned mqp_result (no allocation kept);
 * option strings are borrowed for the duration of the call. No globals.
 */
#ifndef MQP_H
#define MQP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mqs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MQP_UNKNOWN = 0, MQP_YES, MQP_NO } mqp_tri;
const char *mqp_tri_name(mqp_tri t); /* "unknown" "yes" "no" */

/* What was probed, in profile order. */
typedef enum {
  MQP_V31,
  MQP_V311,
  MQP_V5,
  MQP_AUTH,        /* credentials needed to connect */
  MQP_QOS1,        /* granted QoS 1 on SUBSCRIBE and delivered */
  MQP_QOS2,        /* granted QoS 2 on SUBSCRIBE */
  MQP_RETAIN,      /* a retained message reached a later subscriber */
  MQP_WILDCARDS,   /* '+' subscription granted and matched */
  MQP_SHARED,      /* $share/GROUP/filter granted and delivered */
  MQP_SUB_IDS,     /* subscription identifier echoed on delivery (5.0) */
  MQP_TOPIC_ALIAS, /* inbound topic alias 1 accepted (5.0) */
  MQP_ASSIGNED_ID, /* empty client ID accepted (and assigned in 5.0) */
  MQP_SESSIONS,    /* a session survives the connection */
  MQP_SYS,         /* $SYS topics published */
  MQP_ITEM_COUNT
} mqp_item;

const char *mqp_item_name(mqp_item i); /* "version 3.1", "qos2", "$SYS", ... */

/* The promises of a cluster, probed across its nodes (docs/cluster.md). */
typedef enum {
  MQP_CL_DELIVERY, /* a message published on one node reaches a subscriber on another */
  MQP_CL_RETAINED, /* a retained message set on one node is read on another */
  MQP_CL_TAKEOVER, /* a CONNECT on another node closes the client ID's connection */
  MQP_CL_SHARED,   /* a shared group with members on two nodes delivers each message once */
  MQP_CL_RESUME,   /* a session made on one node is present on another */
  MQP_CL_COUNT
} mqp_cluster_item;

const char *mqp_cluster_item_name(mqp_cluster_item i); /* "cross-node delivery", ... */

#define MQP_NODES_MAX    8
#define MQP_NOTE_MAX     200
#define MQP_FINDINGS_MAX 16
#define MQP_ALSO_MAX     8

typedef struct {
  mqp_tri state;
  char note[MQP_NOTE_MAX]; /* how it was decided, or why it could not be */
} mqp_answer;

typedef struct {
  char statement[40]; /* "MQTT-3.2.2-9" or "MQTT 5.0 3.2.2.3.14 (unnumbered)" */
  char text[240];
} mqp_finding;

typedef struct {
  char url[300];
  bool answers;
  char note[MQP_NOTE_MAX]; /* "CONNACK 0x00 over MQTT 5.0" or the error */
} mqp_transport;

typedef struct {
  char target[300];  /* as given, without credentials */
  char started[32];  /* ISO 8601 UTC */
  double wall_ms;    /* time the probe took */
  const char *using; /* "5.0" / "3.1.1" / "3.1": the version capabilities were probed with */
  mqp_answer a[MQP_ITEM_COUNT];
  /* Numbers from the 5.0 CONNACK (has_* false: not announced or not 5.0). */
  int max_qos; /* highest QoS granted and allowed; -1 unknown */
  bool has_max_qos_declared;
  uint8_t max_qos_declared;
  uint16_t receive_maximum;     /* 65535 when not announced */
  uint16_t topic_alias_maximum; /* 0 when not announced */
  bool has_max_packet_size;
  uint32_t max_packet_size;
  bool has_session_expiry; /* the server answered our request with its own */
  uint32_t session_expiry; /* what the server grants for "never expire" */
  bool retain_unavailable; /* 5.0 CONNACK Retain Available 0: never send one */
  bool has_server_keep_alive;
  uint16_t server_keep_alive; /* asked for 60 s */
  size_t n_findings;
  mqp_finding findings[MQP_FINDINGS_MAX];
  size_t n_transports;
  mqp_transport transports[1 + MQP_ALSO_MAX];
  /* A cluster (n_nodes >= 2): its nodes (URLs without credentials) and the
   * promises they keep; propagation_ms is the slowest cross-node delivery
   * or retained message measured, -1 when nothing crossed. */
  size_t n_nodes;
  char node_names[MQP_NODES_MAX][32];
  char node_urls[MQP_NODES_MAX][300];
  mqp_answer cluster[MQP_CL_COUNT];
  double propagation_ms;
} mqp_result;

typedef struct {
  const char *target; /* tcp:// mqtts:// ws:// wss:// URL */
  const char *cafile, *cert, *key;
  bool insecure;
  const char *username, *password; /* may be NULL */
  uint32_t timeout_ms;             /* per step and per connect; 0 = 2000 */
  const char *also[MQP_ALSO_MAX];  /* other endpoints of the same broker */
  size_t n_also;
  /* A cluster: n_nodes (2..MQP_NODES_MAX) named nodes, node_urls[0] being
   * target; the capabilities are probed on it, the cluster's promises
   * between it and each other node. Borrowed. */
  const char *const *node_names, *const *node_urls;
  size_t n_nodes;
} mqp_opts;

/* Checks that url can be resolved and connected to (TCP, TLS, WebSocket)
 * within timeout_ms; resolution is bounded by the same deadline. Returns 0,
 * or -1 with a one-line reason naming the address and the system error. */
int mqp_reach(const char *url, const char *cafile, const char *cert, const char *key, bool insecure,
              uint32_t timeout_ms, char *err, size_t cap);

/* Probes opts->target. out is reset on entry. Returns 0 (out filled; items
 * may be unknown), or -1 with err when the target cannot be reached or speaks
 * no MQTT version at all. */
int mqp_probe(const mqp_opts *opts, mqp_result *out, char *err, size_t cap);

/* Writes the result as a profile: YAML keys the profile loader reads (name,
 * target, versions, capabilities; for a cluster the node list and a
 * cluster: section with propagation_ms, takeover, session_resume), every
 * probed value and finding as comments above them. Returns 0, or -1 on a
 * write error. */
int mqp_write_profile(const mqp_result *r, FILE *f);

/* One line: "MQTT 3.1.1 5.0; QoS <= 2; retain yes; ..." (snprintf semantics). */
size_t mqp_summary(const mqp_result *r, char *out, size_t cap);

/* Fills a run profile from the result (what mqs_profile_load would read
 * from mqp_write_profile's text). p is reset on entry; free it with
 * mqs_profile_free. Returns 0, or -1 when out of memory. */
int mqp_to_profile(const mqp_result *r, mqs_profile *p);

/* Why a version the probe found unsupported is skipped ("the broker refuses
 * MQTT 5.0: CONNACK 0x84"), or NULL when vbit (MQS_V311/MQS_V5) is
 * supported or unknown. Borrowed from r. */
const char *mqp_version_skip_reason(const mqp_result *r, unsigned vbit);

#ifdef __cplusplus
}
#endif

#endif
