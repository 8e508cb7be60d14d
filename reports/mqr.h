/*
 * mqr.h - mqcheck reports: writers for one run's results and the baseline
 * comparison used by the CI gate. Independent of how results were produced
 * (scenarios/ fills an mqr_run; the CLI connects the two).
 *
 * Ownership: every mqr_* writer borrows the run; nothing is kept. Baselines
 * returned by mqr_baseline_load are owned by the caller (mqr_baseline_free).
 * Passwords never reach this module: the runner redacts them.
 */
#ifndef MQR_H
#define MQR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MQR_SCHEMA_VERSION 1

typedef enum { MQR_PASS, MQR_FAIL, MQR_SKIP, MQR_ERROR } mqr_verdict;
const char *mqr_verdict_name(mqr_verdict v);            /* "pass" "fail" "skip" "error" */
int mqr_verdict_parse(const char *s, mqr_verdict *out); /* 0 or -1 */

/* The verdict on one statement in one case: "pass", "fail", "not-reached"
 * (the case ended before a check of it ran), "not-checked" (no check of it
 * ran) or "skip". Strings borrowed. */
typedef struct {
  const char *id;
  const char *verdict;
  unsigned line; /* first failing check, or 0 */
} mqr_stmt;

/* One scenario x version. All strings borrowed. */
typedef struct {
  const char *id;      /* "name@5.0", unique in the run */
  const char *name;    /* scenario name */
  const char *version; /* "3.1.1" or "5.0" */
  const char *file;
  unsigned line; /* scenario's line; step_line for failures */
  unsigned step_line;
  const char *description;
  const char *const *rules; /* statement IDs at stake */
  size_t n_rules;
  const mqr_stmt *stmts; /* per-statement verdicts (cited ones first) */
  size_t n_stmts;
  mqr_verdict verdict;
  bool transport;      /* ERROR from the transport (TLS/WS/TCP) */
  const char *message; /* one line or NULL */
  const char *detail;  /* multi-line failure report or NULL */
  double wall_ms;
  unsigned long long target_ms;
  bool has_propagation;  /* a cluster case measured cross-node propagation: */
  double propagation_ms; /* its slowest sync step (docs/cluster.md) */
} mqr_case;

typedef struct {
  const char *tool;         /* "mqcheck 0.1.0" */
  const char *target;       /* "engine" or URL (never credentials) */
  const char *profile;      /* profile name or NULL */
  const char *profile_text; /* the profile as YAML (given or probed), or NULL */
  const char *started;      /* ISO 8601 UTC */
  double wall_ms;
  unsigned jobs;
  const mqr_case *cases;
  size_t n;
} mqr_run;

typedef struct {
  size_t pass, fail, skip, error, scenarios;
} mqr_counts;
void mqr_count(const mqr_run *run, mqr_counts *out);
/* "240 cases (120 scenarios): 236 passed, 2 failed, 2 skipped, 0 errors in 0.84 s" */
void mqr_summary(const mqr_run *run, char *out, size_t cap);

/* Writers. Return 0, or -1 on a write error. */
int mqr_write_junit(const mqr_run *run, FILE *f);
int mqr_write_json(const mqr_run *run, FILE *f);
/* Statements x versions matrix from the per-statement verdicts: fail if a
 * check of it failed in any case, else pass if every case that reached its
 * checks passed them, else not reached / not checked / skip; then a case
 * list. */
int mqr_write_matrix_md(const mqr_run *run, FILE *f);
/* One self-contained HTML page (no external assets, opens offline): the
 * summary, a statement matrix per version with filters by section and
 * verdict, every case with its failure report and transcript, the profile. */
int mqr_write_html(const mqr_run *run, FILE *f);

/* Statement IDs in numeric order: MQTT-3.1.2-2 before MQTT-3.1.2-10.
 * strcmp-like; every report sorts with it. */
int mqr_statement_cmp(const char *a, const char *b);

/* ---- comparison of several runs (one column per broker) ---- */

/* A run read back from a JSON report; owns every string of run. */
typedef struct {
  mqr_run run;
  char *path;
  void *store_; /* owned strings and arrays */
} mqr_loaded;

/* Reads a JSON report (docs/report.schema.json). Returns 0, or -1 with
 * "path: message" in err. Free with mqr_loaded_free. */
int mqr_load_json(const char *path, mqr_loaded *out, char *err, size_t cap);
void mqr_loaded_free(mqr_loaded *l);

/* Side by side: per statement (and version) and per case, each run's
 * verdict with the reason for skips and failures; then each run's totals
 * and profile. runs and labels (column titles) are borrowed. */
int mqr_write_compare_text(const mqr_run *const *runs, const char *const *labels, size_t n,
                           FILE *f);
int mqr_write_compare_html(const mqr_run *const *runs, const char *const *labels, size_t n,
                           FILE *f);

/* ---- baselines ---- */

/* A baseline: the known verdict of each case that is not a pass, the step
 * and statements it fails, and why (JSON, docs/reports.md):
 *   {"format": "mqcheck-baseline", "version": 1, "target": "...", "comment": "...",
 *    "entries": [{"case": "v5/topic-alias-zero@5.0", "verdict": "fail",
 *                 "step_line": 11, "statements": ["MQTT-4.13.1-1"], "reason": "..."}]}
 * The older text format (`fail  CASE-ID  # reason`, one per line) is read
 * too. Cases not listed are expected to pass (or to be skipped). */
typedef struct {
  char *id;
  mqr_verdict verdict;
  bool flaky; /* "verdict": "flaky": passes or fails from run to run on this
                 target (the reason says why); either outcome is known */
  char *reason;
  unsigned step_line; /* 0 = not recorded */
  bool has_stmts;     /* statements recorded (JSON) */
  char **stmts;       /* the statements the case fails */
  size_t n_stmts;
} mqr_baseline_entry;

typedef struct {
  size_t n;
  mqr_baseline_entry *e;
} mqr_baseline;

/* Returns 0, or -1 with "file:line: message" in err. */
int mqr_baseline_load(const char *path, mqr_baseline *out, char *err, size_t cap);
void mqr_baseline_free(mqr_baseline *b);

typedef enum {
  MQR_GATE_OK,         /* passes (or skipped), not listed */
  MQR_GATE_KNOWN,      /* fails as the baseline says: same verdict, step, statements */
  MQR_GATE_FIXED,      /* listed, passes now */
  MQR_GATE_REGRESSION, /* fails now, not listed */
  MQR_GATE_CHANGED     /* listed, but fails differently now (why says how) */
} mqr_gate_status;
mqr_gate_status mqr_baseline_judge(const mqr_baseline *b, const mqr_case *c, char *why, size_t cap);

typedef struct {
  size_t regressions; /* fail/error now, pass (not listed) in the baseline */
  size_t changed;     /* listed, failing another way now */
  size_t flaky;       /* regressed or changed, then matched the baseline on a rerun */
  size_t fixed;       /* listed as fail/error, passes now */
  size_t known;       /* fail/error now, listed, the same way */
  size_t missing;     /* listed, but not in this run */
} mqr_gate;

/* Compares and prints one line per regression, change, flaky case, fix and
 * entry not run to f (may be NULL). flaky (may be NULL): per case, NULL or
 * what its reruns gave; such a case is counted as flaky, never as a
 * regression. */
void mqr_baseline_compare(const mqr_baseline *b, const mqr_run *run, const char *const *flaky,
                          FILE *f, mqr_gate *out);
/* Writes a baseline (JSON) of the run's non-passing cases; reasons are kept
 * from prev (may be NULL) when the case was already listed, else the
 * one-line failure message (edit it into an explanation). */
int mqr_baseline_write(const mqr_run *run, const mqr_baseline *prev, const char *comment, FILE *f);

#ifdef __cplusplus
}
#endif

#endif
