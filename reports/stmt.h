/* stmt.h - per-statement verdicts of a run, shared by the HTML report and
 * the comparison (internal to reports/). */
#ifndef MQR_STMT_H
#define MQR_STMT_H
#include "mqr.h"

/* One statement of one version, with the verdict of the cases citing it. */
typedef struct {
  const char *id; /* borrowed from the run */
  int vi;         /* 0: 3.1.1 (and 3.1), 1: 5.0 */
  mqr_verdict v;
  size_t cases, failing; /* cases citing it; of those, fail or error */
} mqr__stmt;

/* The verdict a case gives statement rules[k]: today the case verdict; the
 * one place to read per-statement verdicts from when cases carry them. */
mqr_verdict mqr__rule_verdict(const mqr_case *c, size_t k);
int mqr__version_index(const char *version);
/* Every statement cited in run, sorted by version then numerically
 * (mqr_statement_cmp). *out is malloc'd (caller frees). Returns 0 or -1. */
int mqr__stmts(const mqr_run *run, mqr__stmt **out, size_t *n);
/* Section of a statement ID: "MQTT-3.1.2-2" -> "3.1" (the spec chapter and
 * section), into out (snprintf semantics). */
void mqr__section(const char *id, char *out, size_t cap);
#endif
