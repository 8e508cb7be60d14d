/*
 * mqk.h - client conformance: scripted server behaviours that drive a real
 * MQTT client program into its edge cases and judge its replies per
 * normative statement (`mqcheck client-check`).
 *
 * Each behaviour is the engine (engine/mqe.h) configured for the case, with
 * a small script between it and the client: it may rewrite or hold back what
 * the engine sends (a CONNACK's Session Present, a PUBACK never sent, a
 * dropped connection) and it judges each packet the client sends. The
 * engine's own VIOLATION events (what `serve --strict` prints) are judged
 * too. The client is a program started per case with `/bin/sh -c` from a
 * command template (see mqk_expand); it connects to a loopback listener of
 * net/ (net/mqn.h).
 *
 * Results are the scenario runner's (mqs_result, scenarios/mqs.h), so the
 * reports of `mqcheck run` (reports/mqr.h) write them unchanged.
 *
 * Ownership: everything passed in is borrowed for the call; results are
 * owned by the caller (mqs_result_free each). No globals. Not thread-safe
 * per call (one case at a time: a client program may use fixed IDs).
 */
#ifndef MQK_H
#define MQK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mqs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a behaviour asks the client program to do. */
typedef enum {
  MQK_PUB, /* connect, publish {count} messages {payload} at {qos} to {topic}, exit */
  MQK_SUB  /* connect, subscribe to {topic} at {qos}, print each payload received
              on its own line, exit after {count} messages */
} mqk_role;

typedef struct {
  const char *name;        /* "connack-refused" */
  const char *description; /* one line */
  mqk_role role;
  unsigned versions;       /* MQS_V311 | MQS_V5 bits it runs for */
  const char *rules[2][4]; /* statements it judges: [0] 3.1.1, [1] 5.0; NULL-ended */
  uint8_t qos;             /* {qos} */
  unsigned count;          /* {count} */
  unsigned payload_len;    /* {payload}: this many bytes, 0 = "mqcheck" */
  unsigned ms;             /* how long the case may take */
  bool session;            /* {session} 1: the client should keep its session
                              (Clean Start 0, Session Expiry > 0) and
                              reconnect when the connection drops */
  const char *auth;        /* {auth}: "METHOD:SECRET" of the enhanced
                              authentication offered; NULL = none ("-") */
  uint16_t keep_alive;     /* {keepalive} the client should ask for; 0 = 60 */
  bool retain;             /* {retain} 1: the client publishes with RETAIN set */
} mqk_behaviour;

size_t mqk_behaviour_count(void);
const mqk_behaviour *mqk_behaviour_at(size_t i); /* static; NULL past the end */

/* Expands a command template for one case into out (cap bytes, always
 * NUL-terminated). Placeholders: {host} {port} {role} (pub|sub) {version}
 * (311|5) {qos} {count} {topic} {payload} {id} (a client ID for this case)
 * {session} (1 when the behaviour needs a persistent session, else 0)
 * {auth} ("mqcheck-challenge:SECRET" when the behaviour offers enhanced
 * authentication, else "-") {keepalive} (the Keep Alive to ask for, seconds) {retain} (1: publish
 * retained, else 0)
 * and {{ / }} for literal braces. Every value is made of [A-Za-z0-9/:-] and
 * needs no quoting. returns 0, or -1 (unknown placeholder or overflow) with a
 * message in out. */
int mqk_expand(const char *tmpl, const mqk_behaviour *b, unsigned vbit, uint16_t port, char *out,
               size_t cap);

typedef struct {
  const char *pub_cmd; /* template for MQK_PUB behaviours; NULL = skip them */
  const char *sub_cmd; /* template for MQK_SUB behaviours; NULL = skip them */
  double time_scale;   /* multiplies every wait; 0 = 1 */
  FILE *log;           /* one line per case as it ends; NULL = quiet */
} mqk_opts;

/* Runs behaviour b for one version (an MQS_V* bit) with the client program.
 * out is filled (caller frees with mqs_result_free): pass when every judged
 * statement held and at least one was judged, fail when one broke, skip when
 * the client has no command for the role or nothing could be judged (the
 * message says why), error when the case could not run (no listener, the
 * program could not start or never connected). returns 0, or -1 when out
 * could not be filled (memory). */
int mqk_run_case(const mqk_behaviour *b, unsigned vbit, const mqk_opts *opts, mqs_result *out);

#ifdef __cplusplus
}
#endif

#endif
