/* stmt.h - per-statement verdicts of a run, shared by the HTML report and
 * the comparison (internal to reports/). */
#ifndef MQR_STMT_H
#define MQR_STMT_H
#include "mqr.h"

/* One statement of one version, with the verdict of the cases judging it. */
typedef struct {
  const char *id;        /* borrowed from the run */
  int vi;                /* 0: 3.1.1 (and 3.1), 1: 5.0 */
  const char *verdict;   /* strongest: "fail" > "pass" > "not-reached" > "not-checked" > "skip" */
  size_t cases, failing; /* cases judging it; of those, failing it */
} mqr__stmt;

/* Case c's per-statement verdicts: its own (c->stmts), or for a run
 * without them the case verdict for each cited statement. Fills at most cap
 * entries of out (ids and verdicts borrowed or static); returns the count. */
size_t mqr__case_stmts(const mqr_case *c, mqr_stmt *out, size_t cap);
int mqr__version_index(const char *version);
/* Every statement cited in run, sorted by version then numerically
 * (mqr_statement_cmp). *out is malloc'd (caller frees). Returns 0 or -1. */
int mqr__stmts(const mqr_run *run, mqr__stmt **out, size_t *n);
/* Section of a statement ID: "MQTT-3.1.2-2" -> "3.1" (the spec chapter and
 * section), into out (snprintf semantics). */
void mqr__section(const char *id, char *out, size_t cap);
#endif
