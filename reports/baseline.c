/* baseline.c - known verdicts of a target and the regression gate. */
#include <stdlib.h>
#include <string.h>

#include "mqr.h"

static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

int mqr_baseline_load(const char *path, mqr_baseline *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, cap, "%s: cannot open", path);
    return -1;
  }
  char line[2048];
  size_t lineno = 0, ecap = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (!*s || *s == '#') continue;
    char *hash = strchr(s, '#');
    char *reason = hash ? trim(hash + 1) : (char *)"";
    if (hash) *hash = '\0';
    char verdict[16], id[512];
    if (sscanf(s, "%15s %511s", verdict, id) != 2) {
      snprintf(err, cap, "%s:%zu: expected 'VERDICT CASE-ID  # reason'", path, lineno);
      goto fail;
    }
    mqr_verdict v;
    if (mqr_verdict_parse(verdict, &v)) {
      snprintf(err, cap, "%s:%zu: unknown verdict '%s'", path, lineno, verdict);
      goto fail;
    }
    if (out->n == ecap) {
      ecap = ecap ? ecap * 2 : 32;
      void *e = realloc(out->e, ecap * sizeof *out->e);
      if (!e) goto oom;
      out->e = e;
    }
    out->e[out->n].id = dup_n(id, strlen(id));
    out->e[out->n].reason = dup_n(reason, strlen(reason));
    out->e[out->n].verdict = v;
    if (!out->e[out->n].id || !out->e[out->n].reason) {
      free(out->e[out->n].id);
      free(out->e[out->n].reason);
      goto oom;
    }
    out->n++;
  }
  fclose(f);
  return 0;
oom:
  snprintf(err, cap, "%s: out of memory", path);
fail:
  fclose(f);
  mqr_baseline_free(out);
  return -1;
}

void mqr_baseline_free(mqr_baseline *b) {
  for (size_t i = 0; i < b->n; i++) {
    free(b->e[i].id);
    free(b->e[i].reason);
  }
  free(b->e);
  memset(b, 0, sizeof *b);
}

static long find(const mqr_baseline *b, const char *id) {
  for (size_t i = 0; b && i < b->n; i++)
    if (!strcmp(b->e[i].id, id)) return (long)i;
  return -1;
}

static bool bad(mqr_verdict v) {
  return v == MQR_FAIL || v == MQR_ERROR;
}

void mqr_baseline_compare(const mqr_baseline *b, const mqr_run *run, FILE *f, mqr_gate *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    long k = find(b, c->id);
    bool known_bad = k >= 0 && bad(b->e[k].verdict);
    if (bad(c->verdict) && !known_bad) {
      out->regressions++;
      if (f)
        fprintf(f, "REGRESSION %s: %s (%s)\n", c->id, mqr_verdict_name(c->verdict),
                c->message ? c->message : "");
    } else if (bad(c->verdict)) {
      out->known++;
    } else if (known_bad && c->verdict == MQR_PASS) {
      out->fixed++;
      if (f)
        fprintf(f, "FIXED      %s: passes now (baseline: %s; update the baseline)\n", c->id,
                mqr_verdict_name(b->e[k].verdict));
    }
  }
  for (size_t i = 0; b && i < b->n; i++) {
    bool present = false;
    for (size_t j = 0; j < run->n && !present; j++)
      present = !strcmp(run->cases[j].id, b->e[i].id);
    if (!present) out->missing++;
  }
}

int mqr_baseline_write(const mqr_run *run, const mqr_baseline *prev, const char *header, FILE *f) {
  if (header) fprintf(f, "%s", header);
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    if (!bad(c->verdict)) continue;
    long k = find(prev, c->id);
    fprintf(f, "%-5s %s", mqr_verdict_name(c->verdict), c->id);
    if (k >= 0 && prev->e[k].reason[0]) {
      fprintf(f, "  # %s\n", prev->e[k].reason);
      continue;
    }
    fprintf(f, "  #");
    for (size_t r = 0; r < c->n_rules; r++)
      fprintf(f, "%s%s", r ? "," : " ", c->rules[r]);
    fprintf(f, ": %s\n", c->message ? c->message : "");
  }
  return ferror(f) ? -1 : 0;
}
