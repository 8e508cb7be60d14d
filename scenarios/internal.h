/* internal.h - shared internals of the scenarios module (mqs__ prefix). */
#ifndef MQS_INTERNAL_H
#define MQS_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "mqs.h"

/* YAML helpers over a loaded document. */
static inline bool mqs__is_scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE;
}
static inline const char *mqs__scalar(const yaml_node_t *n) {
  return (const char *)n->data.scalar.value;
}
static inline size_t mqs__map_size(const yaml_node_t *n) {
  return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}
static inline size_t mqs__seq_size(const yaml_node_t *n) {
  return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}
yaml_node_t *mqs__map_get(yaml_document_t *doc, yaml_node_t *map, const char *key);
/* The one way this module reports a YAML error: where node n starts (1-based;
 * 0 and 0 without a node) and the formatted reason. Both return -1, so a
 * loader can `return mqs__spec_fail(...)`. */
__attribute__((format(printf, 3, 4))) int mqs__spec_fail(mqs_spec_error *err, const yaml_node_t *n,
                                                         const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int mqs__load_fail(mqs_load_error *err, const yaml_node_t *n,
                                                         const char *fmt, ...);
yaml_node_t *mqs__seq_at(yaml_document_t *doc, yaml_node_t *seq, size_t i);

/* The statement a connect step's expected Session Present verifies in
 * version vbit (MQTT-3.2.2-x, from Clean Start and the expected reason
 * code), or NULL when its connack expectation has no session_present. */
const char *mqs__sp_stmt(yaml_document_t *doc, const mqs_step *st, unsigned vbit);
/* The expected value of that flag. */
bool mqs__sp_want(yaml_document_t *doc, const mqs_step *st);

/* Placeholder built-in variables used when validating without a run. */
void mqs__vars_placeholders(mqs_vars *vars, unsigned vbit);
/* The built-in variables of one run of a case. */
void mqs__vars_builtins(mqs_vars *vars, unsigned vbit, const char *client_prefix,
                        const char *topic_prefix);

/* ---- the `server:` block (server.c) ---- */

/* Parses the block into c (strings borrowed from doc). 0, or -1 with err. */
int mqs__server_parse(yaml_document_t *doc, yaml_node_t *n, mqs_server_cfg *c, mqs_spec_error *err);
/* Capabilities the keys set in c stand for (a scenario must require them). */
uint32_t mqs__server_caps(const mqs_server_cfg *c);
/* Every capability that stands for a server configuration. */
uint32_t mqs__server_config_caps(void);

/* ---- matching (match.c) ---- */

/* A growing text buffer (malloc'd). Never fails visibly: on allocation
 * failure further text is dropped and `oom` is set. */
typedef struct {
  char *p;
  size_t n, cap;
  bool oom;
} mqs__buf;
void mqs__buf_printf(mqs__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mqs__buf_free(mqs__buf *b);
/* Takes the text (NUL-terminated, caller frees); the buffer is reset. */
char *mqs__buf_take(mqs__buf *b);

/* Checks an expectation mapping at load time: keys valid for its type,
 * values well-formed; names it would capture are added to vars (value "1").
 * Returns 0, or -1 with err (line/column of the offending node). */
int mqs__match_check(yaml_document_t *doc, yaml_node_t *exp, mqs_vars *vars, mqs_spec_error *err);

/* Matches received packet pkt (decoded for version v) against expectation
 * exp. Fields not named in exp are not compared. A field whose expected text
 * is exactly "${name}" with name unbound captures the received value into
 * vars (only when the whole packet matches). diff (may be NULL) receives one
 * line per mismatching field: "  field: expected X, received Y".
 * Returns the number of mismatching fields (0 = match). */
int mqs__match(yaml_document_t *doc, yaml_node_t *exp, const mqc_packet *pkt, mqc_version v,
               mqs_vars *vars, mqs__buf *diff);
/* Binds the captures of exp from pkt even where other fields differ: for a
 * packet the case goes on from (its mismatches judged as statements of
 * their own), so later steps can still use what it carried. */
void mqs__match_bind(yaml_document_t *doc, yaml_node_t *exp, const mqc_packet *pkt, mqc_version v,
                     mqs_vars *vars);
/* The expected packet type of exp (MQC_RESERVED0 when absent/unknown). */
mqc_type mqs__match_type(yaml_document_t *doc, yaml_node_t *exp);

/* One line describing what exp expects ("PUBLISH qos=1 topic=a/b ..."). */
void mqs__match_describe(yaml_document_t *doc, yaml_node_t *exp, const mqs_vars *vars,
                         mqs__buf *out);

#endif
