/* matrix.c - Markdown conformance matrix: statements x versions. */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "mqr.h"

/* Statement verdicts by strength: one failing check fails the statement. */
static const char *const ranks[] = {"skip", "not-checked", "not-reached", "pass", "fail"};
#define NRANKS (sizeof ranks / sizeof ranks[0])

typedef struct {
  const char *id;
  size_t n[2][NRANKS]; /* [0] 3.1.1, [1] 5.0: cases per verdict */
  bool seen[2];
} row;

static size_t rank(const char *v) {
  for (size_t i = 0; i < NRANKS; i++)
    if (!strcmp(ranks[i], v)) return i;
  return 0;
}

static int cmp_row(const void *a, const void *b) {
  return mqr_statement_cmp(((const row *)a)->id, ((const row *)b)->id);
}

static void cell(FILE *f, const row *r, int i) {
  if (!r->seen[i]) return;
  size_t top = 0, total = 0;
  for (size_t k = 0; k < NRANKS; k++) {
    total += r->n[i][k];
    if (r->n[i][k]) top = k;
  }
  if (top == NRANKS - 1)
    fprintf(f, "**FAIL** (%zu of %zu)", r->n[i][top], total);
  else
    fprintf(f, "%s (%zu)", ranks[top], total);
}

int mqr_write_matrix_md(const mqr_run *run, FILE *f) {
  size_t cap = 0, n = 0;
  row *rows = NULL;
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    /* 3.1 cases verify 3.1.1 statements: they share its column */
    int vi = !strcmp(c->version, "5.0") ? 1 : 0;
    /* a run without per-statement verdicts: the case's verdict for each */
    const char *whole = c->verdict == MQR_PASS   ? "pass"
                        : c->verdict == MQR_FAIL ? "fail"
                        : c->verdict == MQR_SKIP ? "skip"
                                                 : "not-reached";
    size_t n_st = c->n_stmts ? c->n_stmts : c->n_rules;
    for (size_t k = 0; k < n_st; k++) {
      mqr_stmt one = {c->n_rules > k ? c->rules[k] : "", whole, 0};
      const mqr_stmt *st = c->n_stmts ? &c->stmts[k] : &one;
      size_t j = 0;
      while (j < n && strcmp(rows[j].id, st->id))
        j++;
      if (j == n) {
        if (n == cap) {
          cap = cap ? cap * 2 : 128;
          row *nr = realloc(rows, cap * sizeof *nr);
          if (!nr) {
            free(rows);
            return -1;
          }
          rows = nr;
        }
        memset(&rows[n], 0, sizeof rows[n]);
        rows[n++].id = st->id;
      }
      rows[j].n[vi][rank(st->verdict)]++;
      rows[j].seen[vi] = true;
    }
  }
  qsort(rows, n, sizeof *rows, cmp_row);
  char sum[300];
  mqr_summary(run, sum, sizeof sum);
  fprintf(f, "# mqcheck conformance matrix\n\nTarget: `");
  mqr__md(f, run->target);
  fprintf(f, "`%s%s%s  \n%s\n\n", run->profile ? " (profile " : "",
          run->profile ? run->profile : "", run->profile ? ")" : "", sum);
  fprintf(f, "## Statements\n\nA statement fails when a check of it failed in some case "
             "(with the number of such cases); not-reached: a case ended before its checks ran. "
             "IDs are those of the version's own specification.\n\n"
             "| Statement | MQTT 3.1.1 | MQTT 5.0 |\n|---|---|---|\n");
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "| %s | ", rows[i].id);
    cell(f, &rows[i], 0);
    fprintf(f, " | ");
    cell(f, &rows[i], 1);
    fprintf(f, " |\n");
  }
  fprintf(f, "\n## Cases not passing\n\n| Case | Verdict | Statements failed | Where | Why "
             "|\n|---|---|---|---|---|\n");
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    if (c->verdict == MQR_PASS) continue;
    fprintf(f, "| `%s` | %s | ", c->id, mqr_verdict_name(c->verdict));
    bool any = false;
    for (size_t k = 0; k < c->n_stmts; k++)
      if (!strcmp(c->stmts[k].verdict, "fail")) {
        fprintf(f, "%s%s", any ? ", " : "", c->stmts[k].id);
        any = true;
      }
    fprintf(f, "%s | %s:%u | ", any ? "" : "none", c->file, c->step_line ? c->step_line : c->line);
    mqr__md(f, c->message ? c->message : "");
    fprintf(f, " |\n");
  }
  free(rows);
  return ferror(f) ? -1 : 0;
}
