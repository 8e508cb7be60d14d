/* baseline.c - known verdicts of a target and the regression gate. A
 * baseline is JSON (docs/reports.md): each case that does not pass, with its
 * verdict, the step that failed and the statements it failed, and why. The
 * older one-line-per-case text format is still read. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "escape.h"
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

static int grow(mqr_baseline *b, size_t *cap) {
  if (b->n < *cap) return 0;
  size_t c = *cap ? *cap * 2 : 32;
  void *e = realloc(b->e, c * sizeof *b->e);
  if (!e) return -1;
  b->e = e;
  *cap = c;
  memset(&b->e[b->n], 0, (c - b->n) * sizeof *b->e);
  return 0;
}

/* The text format: VERDICT CASE-ID  # reason */
static int load_text(FILE *f, const char *path, mqr_baseline *out, char *err, size_t cap) {
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
      return -1;
    }
    mqr_verdict v = MQR_FAIL;
    bool flaky = !strcmp(verdict, "flaky");
    if (!flaky && mqr_verdict_parse(verdict, &v)) {
      snprintf(err, cap, "%s:%zu: unknown verdict '%s'", path, lineno, verdict);
      return -1;
    }
    if (grow(out, &ecap)) goto oom;
    out->e[out->n].flaky = flaky;
    out->e[out->n].id = dup_n(id, strlen(id));
    out->e[out->n].reason = dup_n(reason, strlen(reason));
    out->e[out->n].verdict = v;
    if (!out->e[out->n].id || !out->e[out->n].reason) goto oom;
    out->n++;
  }
  return 0;
oom:
  if (out->n < ecap) {
    free(out->e[out->n].id);
    free(out->e[out->n].reason);
    memset(&out->e[out->n], 0, sizeof out->e[out->n]);
  }
  snprintf(err, cap, "%s: out of memory", path);
  return -1;
}

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *map, const char *key) {
  if (!map || map->type != YAML_MAPPING_NODE) return NULL;
  for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < map->data.mapping.pairs.top; q++) {
    yaml_node_t *k = yaml_document_get_node(d, q->key);
    if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
      return yaml_document_get_node(d, q->value);
  }
  return NULL;
}

static const char *scalar(yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The JSON format (a JSON document is YAML, so libyaml reads it). */
static int load_json(FILE *f, const char *path, mqr_baseline *out, char *err, size_t cap) {
  yaml_parser_t p;
  yaml_document_t d;
  if (!yaml_parser_initialize(&p)) {
    snprintf(err, cap, "%s: out of memory", path);
    return -1;
  }
  yaml_parser_set_input_file(&p, f);
  if (!yaml_parser_load(&p, &d)) {
    snprintf(err, cap, "%s:%zu: JSON: %s", path, p.problem_mark.line + 1,
             p.problem ? p.problem : "syntax error");
    yaml_parser_delete(&p);
    return -1;
  }
  yaml_parser_delete(&p);
  int rc = -1;
  size_t ecap = 0;
  yaml_node_t *root = yaml_document_get_root_node(&d);
  const char *fmt = scalar(get(&d, root, "format"));
  yaml_node_t *entries = get(&d, root, "entries");
  if (!fmt || strcmp(fmt, "mqcheck-baseline") || !entries || entries->type != YAML_SEQUENCE_NODE) {
    snprintf(err, cap,
             "%s: not an mqcheck baseline (\"format\": \"mqcheck-baseline\", \"entries\")", path);
    goto out;
  }
  for (yaml_node_item_t *it = entries->data.sequence.items.start;
       it < entries->data.sequence.items.top; it++) {
    yaml_node_t *e = yaml_document_get_node(&d, *it);
    const char *id = scalar(get(&d, e, "case")), *verdict = scalar(get(&d, e, "verdict"));
    const char *reason = scalar(get(&d, e, "reason")), *line = scalar(get(&d, e, "step_line"));
    yaml_node_t *st = get(&d, e, "statements");
    mqr_verdict v = MQR_FAIL;
    bool flaky = verdict && !strcmp(verdict, "flaky");
    if (!id || !verdict || (!flaky && mqr_verdict_parse(verdict, &v))) {
      snprintf(err, cap, "%s:%zu: an entry needs \"case\" and a \"verdict\" (fail or error)", path,
               e ? e->start_mark.line + 1 : 0);
      goto out;
    }
    if (grow(out, &ecap)) goto oom;
    mqr_baseline_entry *x = &out->e[out->n];
    x->verdict = v;
    x->flaky = flaky;
    x->step_line = line ? (unsigned)strtoul(line, NULL, 10) : 0;
    x->id = dup_n(id, strlen(id));
    x->reason = dup_n(reason ? reason : "", reason ? strlen(reason) : 0);
    out->n++;
    if (!x->id || !x->reason) goto oom;
    if (st && st->type == YAML_SEQUENCE_NODE) {
      x->has_stmts = true;
      size_t k = (size_t)(st->data.sequence.items.top - st->data.sequence.items.start);
      x->stmts = calloc(k + 1, sizeof *x->stmts);
      if (!x->stmts) goto oom;
      for (size_t j = 0; j < k; j++) {
        const char *s = scalar(yaml_document_get_node(&d, st->data.sequence.items.start[j]));
        if (!s || !(x->stmts[x->n_stmts++] = dup_n(s, strlen(s)))) goto oom;
      }
    }
  }
  rc = 0;
  goto out;
oom:
  snprintf(err, cap, "%s: out of memory", path);
out:
  yaml_document_delete(&d);
  return rc;
}

int mqr_baseline_load(const char *path, mqr_baseline *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, cap, "%s: cannot open", path);
    return -1;
  }
  int c;
  while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\t' || c == '\r')
    ;
  rewind(f);
  int rc = c == '{' ? load_json(f, path, out, err, cap) : load_text(f, path, out, err, cap);
  fclose(f);
  if (rc) mqr_baseline_free(out);
  return rc;
}

void mqr_baseline_free(mqr_baseline *b) {
  for (size_t i = 0; i < b->n; i++) {
    free(b->e[i].id);
    free(b->e[i].reason);
    for (size_t k = 0; k < b->e[i].n_stmts; k++)
      free(b->e[i].stmts[k]);
    free(b->e[i].stmts);
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

static bool failed_stmt(const mqr_case *c, const char *id) {
  for (size_t k = 0; k < c->n_stmts; k++)
    if (!strcmp(c->stmts[k].verdict, "fail") && !strcmp(c->stmts[k].id, id)) return true;
  return false;
}

static size_t n_failed(const mqr_case *c) {
  size_t n = 0;
  for (size_t k = 0; k < c->n_stmts; k++)
    n += !strcmp(c->stmts[k].verdict, "fail");
  return n;
}

mqr_gate_status mqr_baseline_judge(const mqr_baseline *b, const mqr_case *c, char *why,
                                   size_t cap) {
  long k = find(b, c->id);
  if (cap) why[0] = '\0';
  if (k >= 0 && b->e[k].flaky) return MQR_GATE_KNOWN;
  bool known_bad = k >= 0 && bad(b->e[k].verdict);
  if (!bad(c->verdict)) return known_bad && c->verdict == MQR_PASS ? MQR_GATE_FIXED : MQR_GATE_OK;
  if (!known_bad) return MQR_GATE_REGRESSION;
  /* a known failure must fail the same way: same verdict, step, statements */
  const mqr_baseline_entry *e = &b->e[k];
  if (e->verdict != c->verdict) {
    snprintf(why, cap, "%s now, %s in the baseline", mqr_verdict_name(c->verdict),
             mqr_verdict_name(e->verdict));
    return MQR_GATE_CHANGED;
  }
  if (e->step_line && c->step_line && e->step_line != c->step_line) {
    snprintf(why, cap, "fails at line %u now, at line %u in the baseline", c->step_line,
             e->step_line);
    return MQR_GATE_CHANGED;
  }
  if (e->has_stmts && c->n_stmts) {
    bool same = n_failed(c) == e->n_stmts;
    for (size_t j = 0; same && j < e->n_stmts; j++)
      same = failed_stmt(c, e->stmts[j]);
    if (!same) {
      size_t n = (size_t)snprintf(why, cap, "fails");
      for (size_t j = 0; j < c->n_stmts && n < cap; j++)
        if (!strcmp(c->stmts[j].verdict, "fail"))
          n += (size_t)snprintf(why + n, cap - n, " %s", c->stmts[j].id);
      if (n < cap) n += (size_t)snprintf(why + n, cap - n, " now;");
      if (n < cap) n += (size_t)snprintf(why + n, cap - n, " in the baseline");
      for (size_t j = 0; j < e->n_stmts && n < cap; j++)
        n += (size_t)snprintf(why + n, cap - n, " %s", e->stmts[j]);
      return MQR_GATE_CHANGED;
    }
  }
  return MQR_GATE_KNOWN;
}

void mqr_baseline_compare(const mqr_baseline *b, const mqr_run *run, const char *const *flaky,
                          FILE *f, mqr_gate *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    char why[400];
    mqr_gate_status st = mqr_baseline_judge(b, c, why, sizeof why);
    if (flaky && flaky[i] && (st == MQR_GATE_REGRESSION || st == MQR_GATE_CHANGED)) {
      out->flaky++;
      if (f) fprintf(f, "FLAKY      %s: %s\n", c->id, flaky[i]);
      continue;
    }
    switch (st) {
    case MQR_GATE_REGRESSION:
      out->regressions++;
      if (f)
        fprintf(f, "REGRESSION %s: %s (%s)\n", c->id, mqr_verdict_name(c->verdict),
                c->message ? c->message : "");
      break;
    case MQR_GATE_CHANGED:
      out->changed++;
      if (f) fprintf(f, "CHANGED    %s: %s (%s)\n", c->id, why, c->message ? c->message : "");
      break;
    case MQR_GATE_KNOWN:
      out->known++;
      break;
    case MQR_GATE_FIXED:
      out->fixed++;
      if (f)
        fprintf(f, "FIXED      %s: passes now (baseline: %s; update the baseline)\n", c->id,
                mqr_verdict_name(b->e[find(b, c->id)].verdict));
      break;
    case MQR_GATE_OK:
      break;
    }
  }
  for (size_t i = 0; b && i < b->n; i++) {
    bool present = false;
    for (size_t j = 0; j < run->n && !present; j++)
      present = !strcmp(run->cases[j].id, b->e[i].id);
    if (present) continue;
    out->missing++;
    if (f) fprintf(f, "NOT RUN    %s: in the baseline, but no such case ran\n", b->e[i].id);
  }
}

int mqr_baseline_write(const mqr_run *run, const mqr_baseline *prev, const char *comment, FILE *f) {
  fprintf(f, "{\n  \"format\": \"mqcheck-baseline\",\n  \"version\": 1,\n  \"target\": ");
  mqr__json(f, run->target);
  fprintf(f, ",\n  \"comment\": ");
  mqr__json(f, comment);
  fprintf(f, ",\n  \"entries\": [");
  bool first = true;
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    long k = find(prev, c->id);
    bool flaky = k >= 0 && prev->e[k].flaky;
    if (!bad(c->verdict) && !flaky) continue;
    fprintf(f, "%s\n    {\"case\": ", first ? "" : ",");
    first = false;
    mqr__json(f, c->id);
    fprintf(f, ", \"verdict\": \"%s\", \"step_line\": %u,\n     \"statements\": [",
            flaky ? "flaky" : mqr_verdict_name(c->verdict), c->step_line);
    bool f2 = true;
    for (size_t r = 0; r < c->n_stmts; r++)
      if (!strcmp(c->stmts[r].verdict, "fail")) {
        fprintf(f, "%s", f2 ? "" : ", ");
        mqr__json(f, c->stmts[r].id);
        f2 = false;
      }
    fprintf(f, "],\n     \"reason\": ");
    if (k >= 0 && prev->e[k].reason[0])
      mqr__json(f, prev->e[k].reason);
    else
      mqr__json(f, c->message ? c->message : "");
    fputc('}', f);
  }
  fprintf(f, "\n  ]\n}\n");
  return ferror(f) ? -1 : 0;
}
