/* load.c - reads a JSON report (docs/report.schema.json) back into an
 * mqr_run, for comparisons. JSON is parsed with libyaml (a JSON document is
 * a YAML flow document); keys the schema does not know are ignored, so
 * reports from newer versions still load. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mqr.h"

typedef struct {
  void **p;
  size_t n, cap;
} store;

static void *keep(store *s, void *x) {
  if (!x) return NULL;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    void **np = realloc(s->p, cap * sizeof *np);
    if (!np) {
      free(x);
      return NULL;
    }
    s->p = np;
    s->cap = cap;
  }
  return s->p[s->n++] = x;
}

static void store_free(store *s) {
  for (size_t i = 0; s && i < s->n; i++)
    free(s->p[i]);
  if (s) free(s->p);
  free(s);
}

typedef struct {
  yaml_document_t *doc;
  store *st;
  bool oom;
} ctx;

static yaml_node_t *get(ctx *c, yaml_node_t *map, const char *key) {
  if (!map || map->type != YAML_MAPPING_NODE) return NULL;
  for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < map->data.mapping.pairs.top; q++) {
    yaml_node_t *k = yaml_document_get_node(c->doc, q->key);
    if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
      return yaml_document_get_node(c->doc, q->value);
  }
  return NULL;
}

static bool is_null(yaml_node_t *n) {
  return !n || (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                !strcmp((const char *)n->data.scalar.value, "null"));
}

/* An owned copy of a string field, or NULL for null/absent. */
static const char *str(ctx *c, yaml_node_t *map, const char *key) {
  yaml_node_t *n = get(c, map, key);
  if (is_null(n) || n->type != YAML_SCALAR_NODE) return NULL;
  char *s = keep(c->st, strdup((const char *)n->data.scalar.value));
  if (!s) c->oom = true;
  return s;
}

static double num(ctx *c, yaml_node_t *map, const char *key) {
  yaml_node_t *n = get(c, map, key);
  if (is_null(n) || n->type != YAML_SCALAR_NODE) return 0;
  return strtod((const char *)n->data.scalar.value, NULL);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return -1;
}

static int body(ctx *c, const char *path, mqr_run *run, char *err, size_t cap) {
  yaml_node_t *root = yaml_document_get_root_node(c->doc);
  if (!root || root->type != YAML_MAPPING_NODE)
    return fail(err, cap, "%s: not a JSON object", path);
  yaml_node_t *sv = get(c, root, "schema_version");
  if (!sv || sv->type != YAML_SCALAR_NODE ||
      strtol((const char *)sv->data.scalar.value, NULL, 10) != MQR_SCHEMA_VERSION)
    return fail(err, cap, "%s: not an mqcheck report (schema_version %d expected)", path,
                MQR_SCHEMA_VERSION);
  run->tool = str(c, root, "tool");
  run->target = str(c, root, "target");
  run->profile = str(c, root, "profile");
  run->profile_text = str(c, root, "profile_text");
  run->started = str(c, root, "started");
  run->wall_ms = num(c, root, "wall_ms");
  run->jobs = (unsigned)num(c, root, "jobs");
  yaml_node_t *cases = get(c, root, "cases");
  if (!cases || cases->type != YAML_SEQUENCE_NODE)
    return fail(err, cap, "%s: \"cases\" is not an array", path);
  size_t n = (size_t)(cases->data.sequence.items.top - cases->data.sequence.items.start);
  mqr_case *cs = keep(c->st, calloc(n + 1, sizeof *cs));
  if (!cs) return fail(err, cap, "%s: out of memory", path);
  for (size_t i = 0; i < n; i++) {
    yaml_node_t *e = yaml_document_get_node(c->doc, cases->data.sequence.items.start[i]);
    mqr_case *k = &cs[i];
    k->id = str(c, e, "id");
    k->name = str(c, e, "name");
    k->version = str(c, e, "version");
    k->file = str(c, e, "file");
    k->line = (unsigned)num(c, e, "line");
    k->step_line = (unsigned)num(c, e, "step_line");
    k->message = str(c, e, "message");
    k->detail = str(c, e, "detail");
    k->wall_ms = num(c, e, "wall_ms");
    k->target_ms = (unsigned long long)num(c, e, "target_ms");
    k->has_propagation = get(c, e, "propagation_ms") != NULL;
    k->propagation_ms = num(c, e, "propagation_ms");
    yaml_node_t *t = get(c, e, "transport_error");
    k->transport =
        t && t->type == YAML_SCALAR_NODE && !strcmp((const char *)t->data.scalar.value, "true");
    const char *v = str(c, e, "verdict");
    if (!k->id || !k->name || !k->version || !v || mqr_verdict_parse(v, &k->verdict))
      return fail(err, cap, "%s: case %zu lacks id, name, version or a known verdict", path, i + 1);
    if (!k->file) k->file = "?";
    yaml_node_t *rules = get(c, e, "rules");
    if (rules && rules->type == YAML_SEQUENCE_NODE) {
      size_t m = (size_t)(rules->data.sequence.items.top - rules->data.sequence.items.start);
      const char **rs = keep(c->st, calloc(m + 1, sizeof *rs));
      if (!rs) return fail(err, cap, "%s: out of memory", path);
      for (size_t r = 0; r < m; r++) {
        yaml_node_t *x = yaml_document_get_node(c->doc, rules->data.sequence.items.start[r]);
        if (!x || x->type != YAML_SCALAR_NODE) continue;
        const char *id = keep(c->st, strdup((const char *)x->data.scalar.value));
        if (!id) return fail(err, cap, "%s: out of memory", path);
        rs[k->n_rules++] = id;
      }
      k->rules = rs;
    }
    /* per-statement verdicts, when the report has them */
    yaml_node_t *sts = get(c, e, "statements");
    if (sts && sts->type == YAML_SEQUENCE_NODE) {
      size_t m = (size_t)(sts->data.sequence.items.top - sts->data.sequence.items.start);
      mqr_stmt *ss = keep(c->st, calloc(m + 1, sizeof *ss));
      if (!ss) return fail(err, cap, "%s: out of memory", path);
      for (size_t r = 0; r < m; r++) {
        yaml_node_t *x = yaml_document_get_node(c->doc, sts->data.sequence.items.start[r]);
        mqr_stmt *one = &ss[k->n_stmts];
        one->id = str(c, x, "id");
        one->verdict = str(c, x, "verdict");
        one->line = (unsigned)num(c, x, "line");
        if (one->id && one->verdict) k->n_stmts++;
      }
      k->stmts = ss;
    }
  }
  if (c->oom) return fail(err, cap, "%s: out of memory", path);
  run->cases = cs;
  run->n = n;
  return 0;
}

int mqr_load_json(const char *path, mqr_loaded *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return fail(err, cap, "%s: %s", path, strerror(errno));
  store *st = calloc(1, sizeof *st);
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!st || !yaml_parser_initialize(&parser)) {
    fclose(f);
    free(st);
    return fail(err, cap, "%s: out of memory", path);
  }
  yaml_parser_set_input_file(&parser, f);
  int rc;
  if (!yaml_parser_load(&parser, &doc)) {
    rc = fail(err, cap, "%s:%zu:%zu: not valid JSON: %s", path, parser.problem_mark.line + 1,
              parser.problem_mark.column + 1, parser.problem ? parser.problem : "error");
  } else {
    ctx c = {&doc, st, false};
    rc = body(&c, path, &out->run, err, cap);
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  fclose(f);
  out->path = rc ? NULL : keep(st, strdup(path));
  out->store_ = st;
  if (rc || !out->path) {
    mqr_loaded_free(out);
    return rc ? rc : fail(err, cap, "%s: out of memory", path);
  }
  return 0;
}

void mqr_loaded_free(mqr_loaded *l) {
  store_free(l->store_);
  memset(l, 0, sizeof *l);
}
