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

mqr_verdict mqr__rule_verdict(const mqr_case *c, size_t k) {
  (void)k;
  return c->verdict;
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

/* fail/error beat pass, pass beats skip. */
static mqr_verdict merge(mqr_verdict old, mqr_verdict v) {
  if (old == MQR_FAIL || v == MQR_FAIL) return MQR_FAIL;
  if (old == MQR_ERROR || v == MQR_ERROR) return MQR_ERROR;
  if (old == MQR_PASS || v == MQR_PASS) return MQR_PASS;
  return MQR_SKIP;
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
    for (size_t k = 0; k < c->n_rules; k++) {
      size_t j = 0;
      while (j < n && (rows[j].vi != vi || strcmp(rows[j].id, c->rules[k])))
        j++;
      mqr_verdict v = mqr__rule_verdict(c, k);
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
        rows[n++] = (mqr__stmt){.id = c->rules[k], .vi = vi, .v = v};
      } else {
        rows[j].v = merge(rows[j].v, v);
      }
      rows[j].cases++;
      rows[j].failing += v == MQR_FAIL || v == MQR_ERROR;
    }
  }
  if (n) qsort(rows, n, sizeof *rows, cmp_stmt);
  *out = rows;
  *n_out = n;
  return 0;
}
