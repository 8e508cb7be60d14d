/* matrix.c - Markdown conformance matrix: statements x versions. */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "mqr.h"

typedef struct {
  const char *id;
  mqr_verdict v[2]; /* [0] 3.1.1, [1] 5.0 */
  bool seen[2];
  size_t cases[2];
} row;

static int cmp_row(const void *a, const void *b) {
  return mqr_statement_cmp(((const row *)a)->id, ((const row *)b)->id);
}

/* fail/error beat pass, pass beats skip. */
static mqr_verdict merge(bool seen, mqr_verdict old, mqr_verdict v) {
  if (!seen) return v;
  if (old == MQR_FAIL || v == MQR_FAIL) return MQR_FAIL;
  if (old == MQR_ERROR || v == MQR_ERROR) return MQR_ERROR;
  if (old == MQR_PASS || v == MQR_PASS) return MQR_PASS;
  return MQR_SKIP;
}

static const char *cell(const row *r, int i) {
  if (!r->seen[i]) return "";
  switch (r->v[i]) {
  case MQR_PASS:
    return "pass";
  case MQR_FAIL:
    return "**FAIL**";
  case MQR_ERROR:
    return "error";
  case MQR_SKIP:
    return "skip";
  }
  return "?";
}

int mqr_write_matrix_md(const mqr_run *run, FILE *f) {
  size_t cap = 0, n = 0;
  row *rows = NULL;
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    int vi = !strcmp(c->version, "3.1.1") ? 0 : 1;
    for (size_t k = 0; k < c->n_rules; k++) {
      size_t j = 0;
      while (j < n && strcmp(rows[j].id, c->rules[k]))
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
        rows[n++].id = c->rules[k];
      }
      rows[j].v[vi] = merge(rows[j].seen[vi], rows[j].v[vi], c->verdict);
      rows[j].seen[vi] = true;
      rows[j].cases[vi]++;
    }
  }
  qsort(rows, n, sizeof *rows, cmp_row);
  char sum[300];
  mqr_summary(run, sum, sizeof sum);
  fprintf(f, "# mqcheck conformance matrix\n\nTarget: `");
  mqr__md(f, run->target);
  fprintf(f, "`%s%s%s  \n%s\n\n", run->profile ? " (profile " : "",
          run->profile ? run->profile : "", run->profile ? ")" : "", sum);
  fprintf(f, "## Statements\n\nA statement fails when any scenario citing it fails. "
             "IDs are those of the version's own specification.\n\n"
             "| Statement | MQTT 3.1.1 | MQTT 5.0 |\n|---|---|---|\n");
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "| %s | %s", rows[i].id, cell(&rows[i], 0));
    if (rows[i].seen[0]) fprintf(f, " (%zu)", rows[i].cases[0]);
    fprintf(f, " | %s", cell(&rows[i], 1));
    if (rows[i].seen[1]) fprintf(f, " (%zu)", rows[i].cases[1]);
    fprintf(f, " |\n");
  }
  fprintf(f, "\n## Cases not passing\n\n| Case | Verdict | Where | Why |\n|---|---|---|---|\n");
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    if (c->verdict == MQR_PASS) continue;
    fprintf(f, "| `%s` | %s | %s:%u | ", c->id, mqr_verdict_name(c->verdict), c->file,
            c->step_line ? c->step_line : c->line);
    mqr__md(f, c->message ? c->message : "");
    fprintf(f, " |\n");
  }
  free(rows);
  return ferror(f) ? -1 : 0;
}
