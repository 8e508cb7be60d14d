/* stmt.c - statement IDs in numeric order and per-statement verdicts. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "stmt.h"

/* Compares dot/dash-separated numbers as numbers, the rest as text, so
 * MQTT-3.1.2-2 sorts before MQTT-3.1.2-10 and MQTT-3.10 after MQTT-3.9. */
int mqr_statement_cmp(const char *a, const char *b) {
  while (*a && *b) {
    if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
      while (*a == '0' && isdigit((unsigned char)a[1]))
        a++;
      while (*b == '0' && isdigit((unsigned char)b[1]))
        b++;
      size_t la = 0, lb = 0;
      while (isdigit((unsigned char)a[la]))
        la++;
      while (isdigit((unsigned char)b[lb]))
        lb++;
      if (la != lb) return la < lb ? -1 : 1;
      int c = memcmp(a, b, la);
      if (c) return c;
      a += la;
      b += lb;
      continue;
    }
    if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
    a++;
    b++;
  }
  return *a ? 1 : *b ? -1 : 0;
}

size_t mqr__case_stmts(const mqr_case *c, mqr_stmt *out, size_t cap) {
  if (c->n_stmts) {
    size_t n = c->n_stmts < cap ? c->n_stmts : cap;
    memcpy(out, c->stmts, n * sizeof *out);
    return n;
  }
  /* as matrix.c reads a run without per-statement verdicts */
  const char *whole = c->verdict == MQR_PASS   ? "pass"
                      : c->verdict == MQR_FAIL ? "fail"
                      : c->verdict == MQR_SKIP ? "skip"
                                               : "not-reached";
  size_t n = c->n_rules < cap ? c->n_rules : cap;
  for (size_t k = 0; k < n; k++)
    out[k] = (mqr_stmt){c->rules[k], whole, 0};
  return n;
}

int mqr__version_index(const char *version) {
  return version && !strcmp(version, "5.0") ? 1 : 0;
}

void mqr__section(const char *id, char *out, size_t cap) {
  const char *p = strncmp(id, "MQTT-", 5) ? id : id + 5;
  size_t n = 0;
  int dots = 0;
  while (p[n] && p[n] != '-' && !(p[n] == '.' && ++dots == 2))
    n++;
  snprintf(out, cap, "%.*s", (int)n, p);
}

/* One failing check fails the statement (the order matrix.c uses). */
static const char *const ranks[] = {"skip", "not-checked", "not-reached", "pass", "fail"};
#define NRANKS (sizeof ranks / sizeof ranks[0])

static size_t rank(const char *v) {
  for (size_t i = 0; i < NRANKS; i++)
    if (!strcmp(ranks[i], v)) return i;
  return 0;
}

static int cmp_stmt(const void *x, const void *y) {
  const mqr__stmt *a = x, *b = y;
  if (a->vi != b->vi) return a->vi - b->vi;
  return mqr_statement_cmp(a->id, b->id);
}

int mqr__stmts(const mqr_run *run, mqr__stmt **out, size_t *n_out) {
  size_t cap = 0, n = 0;
  mqr__stmt *rows = NULL;
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    int vi = mqr__version_index(c->version);
    mqr_stmt st[64];
    size_t m = mqr__case_stmts(c, st, sizeof st / sizeof st[0]);
    for (size_t k = 0; k < m; k++) {
      size_t j = 0;
      while (j < n && (rows[j].vi != vi || strcmp(rows[j].id, st[k].id)))
        j++;
      if (j == n) {
        if (n == cap) {
          cap = cap ? cap * 2 : 256;
          mqr__stmt *nr = realloc(rows, cap * sizeof *nr);
          if (!nr) {
            free(rows);
            return -1;
          }
          rows = nr;
        }
        rows[n++] = (mqr__stmt){.id = st[k].id, .vi = vi, .verdict = ranks[rank(st[k].verdict)]};
      } else if (rank(st[k].verdict) > rank(rows[j].verdict)) {
        rows[j].verdict = ranks[rank(st[k].verdict)];
      }
      rows[j].cases++;
      rows[j].failing += !strcmp(st[k].verdict, "fail");
    }
  }
  if (n) qsort(rows, n, sizeof *rows, cmp_stmt);
  *out = rows;
  *n_out = n;
  return 0;
}
