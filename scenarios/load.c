/* load.c - scenario files (YAML, format 1) to mqs_scenario, with every check
 * that can be made without running: structure, step shapes, packet
 * descriptions (built for each version), expectations, capability names and
 * statement-ID syntax. Errors name file, line and column. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_CLIENTS    16
#define MAX_STEPS      1024
#define MAX_FILE       (4u << 20)
#define CONTROL_CLIENT 0xFFFFu /* placeholder of a control step's own client */

typedef struct {
  mqs_scenario *s;
  mqs_load_error *err;
} loader;

__attribute__((format(printf, 6, 0))) static int vfail(const yaml_node_t *n, size_t *line,
                                                       size_t *column, char *msg, size_t cap,
                                                       const char *fmt, va_list ap) {
  *line = n ? n->start_mark.line + 1 : 0;
  *column = n ? n->start_mark.column + 1 : 0;
  vsnprintf(msg, cap, fmt, ap);
  return -1;
}

int mqs__spec_fail(mqs_spec_error *err, const yaml_node_t *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vfail(n, &err->line, &err->column, err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return r;
}

int mqs__load_fail(mqs_load_error *err, const yaml_node_t *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vfail(n, &err->line, &err->column, err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return r;
}

yaml_node_t *mqs__map_get(yaml_document_t *doc, yaml_node_t *map, const char *key) {
  if (!map || map->type != YAML_MAPPING_NODE) return NULL;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    if (mqs__is_scalar(k) && !strcmp(mqs__scalar(k), key))
      return yaml_document_get_node(doc, p->value);
  }
  return NULL;
}

yaml_node_t *mqs__seq_at(yaml_document_t *doc, yaml_node_t *seq, size_t i) {
  assert(seq && seq->type == YAML_SEQUENCE_NODE && i < mqs__seq_size(seq));
  return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

const char *mqs_version_label(unsigned vbit) {
  return vbit == MQS_V311 ? "3.1.1" : vbit == MQS_V5 ? "5.0" : vbit == MQS_V31 ? "3.1" : "?";
}

mqc_version mqs_version_codec(unsigned vbit) {
  return vbit == MQS_V311 ? MQC_V311 : vbit == MQS_V31 ? MQC_V31 : MQC_V5;
}

unsigned mqs_version_slot(unsigned vbit) {
  return vbit == MQS_V5 ? 1 : 0;
}

unsigned mqs_slot_versions(unsigned slot) {
  return slot ? MQS_V5 : MQS_V311 | MQS_V31;
}

unsigned mqs_version_next(unsigned vbit) {
  return vbit == MQS_V311 ? MQS_V5 : vbit == MQS_V5 ? MQS_V31 : 0;
}

/* Rule slots (bit 0: 3.1.1 list, bit 1: 5.0 list) of a version mask. */
static unsigned slots_of(unsigned versions) {
  return ((versions & (MQS_V311 | MQS_V31)) ? 1u : 0u) | ((versions & MQS_V5) ? 2u : 0u);
}

/* Versions a mask of rule slots stands for: the 3.1.1 list serves 3.1 too. */
static unsigned versions_of(unsigned slots) {
  return ((slots & 1u) ? mqs_slot_versions(0) : 0u) | ((slots & 2u) ? mqs_slot_versions(1) : 0u);
}

static unsigned version_bit(const char *s) {
  if (!strcmp(s, "3.1.1") || !strcmp(s, "311") || !strcmp(s, "4")) return MQS_V311;
  if (!strcmp(s, "5.0") || !strcmp(s, "5")) return MQS_V5;
  if (!strcmp(s, "3.1") || !strcmp(s, "31") || !strcmp(s, "3")) return MQS_V31;
  if (!strcmp(s, "both")) return MQS_VBOTH;
  if (!strcmp(s, "all")) return MQS_VALL;
  return 0;
}

/* A version list: scalar or sequence of "3.1.1" / "5.0" / "3.1" / "both"
 * (3.1.1 and 5.0) / "all". */
static int parse_versions(loader *L, yaml_node_t *n, unsigned *out) {
  *out = 0;
  if (mqs__is_scalar(n)) {
    *out = version_bit(mqs__scalar(n));
    if (!*out)
      return mqs__load_fail(L->err, n, "unknown version '%s' (3.1.1, 5.0, 3.1, both or all)",
                            mqs__scalar(n));
    return 0;
  }
  if (!n || n->type != YAML_SEQUENCE_NODE || !mqs__seq_size(n))
    return mqs__load_fail(L->err, n, "versions must be a list such as [3.1.1, 5.0]");
  for (size_t i = 0; i < mqs__seq_size(n); i++) {
    yaml_node_t *e = mqs__seq_at(&L->s->doc, n, i);
    unsigned b = mqs__is_scalar(e) ? version_bit(mqs__scalar(e)) : 0;
    if (!b) return mqs__load_fail(L->err, e, "unknown version (3.1.1, 5.0, 3.1, both or all)");
    *out |= b;
  }
  return 0;
}

static bool statement_id_ok(const char *s) {
  /* MQTT-<section digits and dots>-<number> */
  if (strncmp(s, "MQTT-", 5)) return false;
  const char *p = s + 5;
  size_t digits = 0;
  while ((*p >= '0' && *p <= '9') || *p == '.')
    p++, digits++;
  if (!digits || *p != '-') return false;
  p++;
  if (!(*p >= '0' && *p <= '9')) return false;
  while (*p >= '0' && *p <= '9')
    p++;
  return *p == '\0';
}

static int push_str(char ***arr, size_t *n, const char *s) {
  char **a = realloc(*arr, (*n + 1) * sizeof *a);
  if (!a) return -1;
  *arr = a;
  if (!(a[*n] = dupstr(s))) return -1;
  (*n)++;
  return 0;
}

static int push_line(unsigned **arr, size_t n, unsigned line) {
  unsigned *a = realloc(*arr, (n + 1) * sizeof *a);
  if (!a) return -1;
  *arr = a;
  a[n] = line;
  return 0;
}

/* One version's list of IDs into ids/n (and their lines when lines). */
static int parse_rule_list(loader *L, yaml_node_t *n, unsigned which, char **ids[2], size_t nids[2],
                           unsigned *lines[2]) {
  if (!n || n->type != YAML_SEQUENCE_NODE)
    return mqs__load_fail(L->err, n,
                          "rules must be a list of statement IDs such as [MQTT-3.1.0-1]");
  for (size_t i = 0; i < mqs__seq_size(n); i++) {
    yaml_node_t *e = mqs__seq_at(&L->s->doc, n, i);
    if (!mqs__is_scalar(e) || !statement_id_ok(mqs__scalar(e)))
      return mqs__load_fail(L->err, e, "'%s' is not a statement ID (MQTT-x.y.z-n)",
                            mqs__is_scalar(e) ? mqs__scalar(e) : "?");
    for (unsigned b = 0; b < 2; b++)
      if (which & (1u << b)) {
        if (nids[b] == MQS_RULES_MAX)
          return mqs__load_fail(L->err, e, "at most %d statements per version", MQS_RULES_MAX);
        if ((lines && push_line(&lines[b], nids[b], (unsigned)e->start_mark.line + 1)) ||
            push_str(&ids[b], &nids[b], mqs__scalar(e)))
          return mqs__load_fail(L->err, e, "out of memory");
      }
  }
  return 0;
}

/* rules: [IDs]  (every version)  or  {3.1.1: [IDs], 5.0: [IDs]}. *which
 * gets the versions given. */
static int parse_rules(loader *L, yaml_node_t *n, char **ids[2], size_t nids[2], unsigned *lines[2],
                       unsigned *which) {
  if (n && n->type == YAML_MAPPING_NODE) {
    *which = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(&L->s->doc, p->key);
      unsigned b = mqs__is_scalar(k) ? version_bit(mqs__scalar(k)) : 0;
      if (b == MQS_V31)
        return mqs__load_fail(L->err, k,
                              "MQTT 3.1 has no statements of its own: its cases verify the "
                              "3.1.1 list (key 3.1.1)");
      if (!b) return mqs__load_fail(L->err, k, "rules keys are versions: 3.1.1, 5.0 or both");
      if (parse_rule_list(L, yaml_document_get_node(&L->s->doc, p->value), slots_of(b), ids, nids,
                          lines))
        return -1;
      *which |= versions_of(slots_of(b));
    }
    return 0;
  }
  *which = MQS_VALL;
  return parse_rule_list(L, n, slots_of(MQS_VALL), ids, nids, lines);
}

static int parse_requires(loader *L, yaml_node_t *n) {
  if (!n) return 0;
  if (n->type != YAML_SEQUENCE_NODE)
    return mqs__load_fail(L->err, n, "requires must be a list of capabilities");
  for (size_t i = 0; i < mqs__seq_size(n); i++) {
    yaml_node_t *e = mqs__seq_at(&L->s->doc, n, i);
    int c = mqs__is_scalar(e) ? mqs_cap_lookup(mqs__scalar(e)) : -1;
    uint32_t need = mqs__is_scalar(e) ? mqs_cluster_need_lookup(mqs__scalar(e)) : 0;
    if (c < 0 && !need)
      return mqs__load_fail(L->err, e, "unknown capability '%s' (see docs/scenarios.md)",
                            mqs__is_scalar(e) ? mqs__scalar(e) : "?");
    if (c >= 0)
    L->s->requires |= 1u << c;
    else L->s->cluster_needs |= need | MQS_CLUSTER; /* every promise is about a cluster */
  }
  return 0;
}

static int client_index(loader *L, yaml_node_t *n, bool declare, unsigned *out) {
  if (!mqs__is_scalar(n) || !n->data.scalar.length || n->data.scalar.length > 16)
    return mqs__load_fail(L->err, n, "a client name is a short string (1..16 characters)");
  const char *name = mqs__scalar(n);
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '-'))
      return mqs__load_fail(L->err, n, "client name '%s': use letters, digits, '-' and '_'", name);
  for (size_t i = 0; i < L->s->n_clients; i++)
    if (!strcmp(L->s->clients[i], name)) {
      *out = (unsigned)i;
      return 0;
    }
  if (!declare) return mqs__load_fail(L->err, n, "client '%s' is not in the clients list", name);
  if (L->s->n_clients == MAX_CLIENTS)
    return mqs__load_fail(L->err, n, "at most %d clients", MAX_CLIENTS);
  if (push_str(&L->s->clients, &L->s->n_clients, name))
    return mqs__load_fail(L->err, n, "out of memory");
  *out = (unsigned)(L->s->n_clients - 1);
  return 0;
}

static int get_ms(loader *L, yaml_node_t *n, const char *what, uint32_t *out) {
  if (!mqs__is_scalar(n))
    return mqs__load_fail(L->err, n, "%s must be a number of milliseconds", what);
  const char *s = mqs__scalar(n);
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  /* "1500", "1500ms", "90s" */
  if (end == s || errno || v > 86400000ul)
    return mqs__load_fail(L->err, n, "%s: '%s' is not a duration", what, s);
  if (!strcmp(end, "s"))
    v *= 1000;
  else if (*end && strcmp(end, "ms"))
    return mqs__load_fail(L->err, n, "%s: '%s' is not a duration (e.g. 500, 500ms, 3s)", what, s);
  *out = (uint32_t)v;
  return 0;
}

static const struct {
  const char *key;
  mqs_step_kind kind;
} actions[] = {
    {"open", MQS_STEP_OPEN},
    {"connect", MQS_STEP_CONNECT},
    {"reconnect", MQS_STEP_RECONNECT},
    {"send", MQS_STEP_SEND},
    {"send_hex", MQS_STEP_SEND_HEX},
    {"expect", MQS_STEP_EXPECT},
    {"expect_all", MQS_STEP_EXPECT_ALL},
    {"expect_none", MQS_STEP_EXPECT_NONE},
    {"expect_disconnect", MQS_STEP_EXPECT_DISCONNECT},
    {"disconnect", MQS_STEP_DISCONNECT},
    {"drop", MQS_STEP_DROP},
    {"wait", MQS_STEP_WAIT},
    {"control", MQS_STEP_CONTROL},
    {"sync", MQS_STEP_SYNC},
};

const char *mqs_step_kind_name(mqs_step_kind k) {
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
    if (actions[i].kind == k) return actions[i].key;
  return "?";
}

/* A node name or role (docs/cluster.md): resolved against the target's
 * nodes when a case runs. */
static int node_name(loader *L, yaml_node_t *n, const char **out) {
  if (!mqs__is_scalar(n) || !n->data.scalar.length || n->data.scalar.length >= MQS_NODE_NAME_MAX)
    return mqs__load_fail(L->err, n, "a node is a node name or a role (home, other)");
  *out = mqs__scalar(n);
  return 0;
}

/* One entry of `clients:`: a name, or {name: NAME, node: NODE}. */
static int declare_listed(loader *L, yaml_node_t *e, unsigned *idx) {
  if (!e || e->type != YAML_MAPPING_NODE) return client_index(L, e, true, idx);
  yaml_document_t *doc = &L->s->doc;
  yaml_node_t *name = mqs__map_get(doc, e, "name"), *node = mqs__map_get(doc, e, "node");
  if (!name || mqs__map_size(e) != 1u + (node != NULL))
    return mqs__load_fail(L->err, e, "a client is a name or {name: NAME, node: NODE}");
  if (client_index(L, name, true, idx)) return -1;
  if (!node) return 0;
  if (!L->s->client_nodes &&
      !(L->s->client_nodes = calloc(MAX_CLIENTS + 1, sizeof *L->s->client_nodes)))
    return mqs__load_fail(L->err, e, "out of memory");
  return node_name(L, node, &L->s->client_nodes[*idx]);
}

/* Pass 1: find every client named by a step (when there is no clients list),
 * also inside a repeat's steps (repeats do not nest: depth is 1). */
static int declare_clients(loader *L, yaml_node_t *steps) {
  for (size_t i = 0; i < mqs__seq_size(steps); i++) {
    yaml_node_t *st = mqs__seq_at(&L->s->doc, steps, i);
    if (!st || st->type != YAML_MAPPING_NODE) continue;
    yaml_node_t *inner = mqs__map_get(&L->s->doc, st, "steps");
    if (mqs__map_get(&L->s->doc, st, "repeat") && inner && inner->type == YAML_SEQUENCE_NODE &&
        steps != inner) {
      for (size_t j = 0; j < mqs__seq_size(inner); j++) {
        yaml_node_t *in = mqs__seq_at(&L->s->doc, inner, j);
        if (in && in->type == YAML_MAPPING_NODE && mqs__map_get(&L->s->doc, in, "repeat"))
          return mqs__load_fail(L->err, in, "repeats do not nest");
      }
      if (declare_clients(L, inner)) return -1;
      continue;
    }
    unsigned idx;
    yaml_node_t *c = mqs__map_get(&L->s->doc, st, "client");
    if (c && c->type == YAML_SEQUENCE_NODE) {
      for (size_t j = 0; j < mqs__seq_size(c); j++)
        if (client_index(L, mqs__seq_at(&L->s->doc, c, j), true, &idx)) return -1;
    } else if (c && client_index(L, c, true, &idx)) {
      return -1;
    }
    yaml_node_t *all = mqs__map_get(&L->s->doc, st, "expect_all");
    if (all && all->type == YAML_SEQUENCE_NODE)
      for (size_t j = 0; j < mqs__seq_size(all); j++) {
        yaml_node_t *it = mqs__seq_at(&L->s->doc, all, j);
        if (it && it->type == YAML_MAPPING_NODE && mqs__map_size(it) == 1) {
          yaml_node_t *k = yaml_document_get_node(&L->s->doc, it->data.mapping.pairs.start->key);
          if (client_index(L, k, true, &idx)) return -1;
        }
      }
  }
  if (L->s->n_clients == 0 && push_str(&L->s->clients, &L->s->n_clients, "c"))
    return mqs__load_fail(L->err, steps, "out of memory");
  return 0;
}

/* A `repeat: {count: N, as: VAR}` step with its `steps:` list. Returns 1 with
 * the parts, 0 when st is an ordinary step, -1 (error set) when malformed. */
static int parse_repeat(loader *L, yaml_node_t *st, unsigned *count, yaml_node_t **var,
                        yaml_node_t **body) {
  yaml_document_t *doc = &L->s->doc;
  yaml_node_t *rp = st && st->type == YAML_MAPPING_NODE ? mqs__map_get(doc, st, "repeat") : NULL;
  if (!rp) return 0;
  for (yaml_node_pair_t *p = st->data.mapping.pairs.start; p < st->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    if (!mqs__is_scalar(k) ||
        (strcmp(mqs__scalar(k), "repeat") && strcmp(mqs__scalar(k), "steps") &&
         strcmp(mqs__scalar(k), "comment")))
      return mqs__load_fail(L->err, k, "a repeat step has only repeat:, steps: and comment:");
  }
  yaml_node_t *n = rp->type == YAML_MAPPING_NODE ? mqs__map_get(doc, rp, "count") : NULL;
  *var = rp->type == YAML_MAPPING_NODE ? mqs__map_get(doc, rp, "as") : NULL;
  *body = mqs__map_get(doc, st, "steps");
  char *end = NULL;
  unsigned long c = mqs__is_scalar(n) ? strtoul(mqs__scalar(n), &end, 10) : 0;
  if (!end || *end || c < 1 || c > MQS_REPEAT_MAX)
    return mqs__load_fail(L->err, rp, "repeat is {count: N (1..%d), as: VARIABLE}", MQS_REPEAT_MAX);
  if (*var && (!mqs__is_scalar(*var) || !(*var)->data.scalar.length ||
               (*var)->data.scalar.length >= MQS_VAR_NAME_MAX))
    return mqs__load_fail(L->err, *var, "as: names the variable that counts 1..N");
  if (!*body || (*body)->type != YAML_SEQUENCE_NODE || !mqs__seq_size(*body))
    return mqs__load_fail(L->err, st, "a repeat step has a list of steps: to repeat");
  for (size_t j = 0; j < mqs__seq_size(*body); j++) {
    yaml_node_t *inner = mqs__seq_at(doc, *body, j);
    if (inner && inner->type == YAML_MAPPING_NODE && mqs__map_get(doc, inner, "repeat"))
      return mqs__load_fail(L->err, inner, "repeats do not nest");
  }
  *count = (unsigned)c;
  return 1;
}

/* A step's statement list (rules:, owed:, presumes:) at x: parsed into
 * ids/nids, and each ID one the scenario cites, so reports and the matrix
 * agree with the scenario's own list. *applies: the versions (bits) the
 * list is given for, among the step's and the scenario's. */
static int parse_cited(loader *L, const mqs_step *out, yaml_node_t *x, char **ids[2],
                       size_t nids[2], unsigned *applies) {
  unsigned given;
  if (parse_rules(L, x, ids, nids, NULL, &given)) return -1;
  *applies = given & out->versions & L->s->versions;
  for (unsigned b = 0; b < 2; b++)
    for (size_t i = 0; (slots_of(*applies) & (1u << b)) && i < nids[b]; i++) {
      bool cited = false;
      for (size_t j = 0; j < L->s->n_rules[b] && !cited; j++)
        cited = !strcmp(L->s->rules[b][j], ids[b][i]);
      if (!cited)
        return mqs__load_fail(L->err, x, "%s is not among the scenario's rules for MQTT %s",
                              ids[b][i], b ? "5.0" : "3.1.1");
    }
  return 0;
}

static int parse_step(loader *L, yaml_node_t *st, mqs_step *out) {
  static const char *const modifiers[] = {
      "client",   "version", "versions", "timeout", "connack", "comment",  "if",   "ignore_others",
      "or_close", "rules",   "ws_frame", "node",    "owed",    "presumes", "peek", NULL};
  yaml_document_t *doc = &L->s->doc;
  memset(out, 0, sizeof *out);
  if (!st || st->type != YAML_MAPPING_NODE)
    return mqs__load_fail(L->err, st, "a step is a mapping such as {send: {type: PINGREQ}}");
  out->line = (unsigned)st->start_mark.line + 1;
  out->column = (unsigned)st->start_mark.column + 1;
  out->versions = MQS_VALL;
  int action = -1;
  yaml_node_t *value = NULL;
  for (yaml_node_pair_t *p = st->data.mapping.pairs.start; p < st->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    if (!mqs__is_scalar(k)) return mqs__load_fail(L->err, k, "step keys must be plain strings");
    const char *key = mqs__scalar(k);
    bool known = false;
    for (const char *const *m = modifiers; *m; m++)
      known |= !strcmp(*m, key);
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
      if (!strcmp(actions[i].key, key)) {
        if (action >= 0)
          return mqs__load_fail(L->err, k, "a step has one action; '%s' is a second one", key);
        action = (int)i;
        value = yaml_document_get_node(doc, p->value);
        known = true;
      }
    if (!known) return mqs__load_fail(L->err, k, "unknown step key '%s'", key);
  }
  if (action < 0)
    return mqs__load_fail(L->err, st,
                          "step has no action (open, connect, reconnect, send, send_hex, expect, "
                          "expect_all, expect_none, expect_disconnect, disconnect, drop, wait, "
                          "control, sync)");
  out->kind = actions[action].kind;
  yaml_node_t *x;
  if ((x = mqs__map_get(doc, st, "version")) || (x = mqs__map_get(doc, st, "versions"))) {
    if (parse_versions(L, x, &out->versions)) return -1;
    if (!(out->versions & L->s->versions))
      return mqs__load_fail(L->err, x, "step version is not one the scenario runs for");
  }
  if ((x = mqs__map_get(doc, st, "timeout")) && get_ms(L, x, "timeout", &out->timeout_ms))
    return -1;
  if ((x = mqs__map_get(doc, st, "if"))) {
    if (x->type != YAML_MAPPING_NODE || !mqs__map_size(x))
      return mqs__load_fail(L->err, x, "if takes a mapping {VARIABLE: VALUE, ...}");
    for (yaml_node_pair_t *p = x->data.mapping.pairs.start; p < x->data.mapping.pairs.top; p++)
      if (!mqs__is_scalar(yaml_document_get_node(doc, p->key)) ||
          !mqs__is_scalar(yaml_document_get_node(doc, p->value)))
        return mqs__load_fail(L->err, x, "if takes a mapping {VARIABLE: VALUE, ...}");
    out->cond = x;
  }
  if ((x = mqs__map_get(doc, st, "ignore_others"))) {
    if (out->kind != MQS_STEP_EXPECT)
      return mqs__load_fail(L->err, x, "ignore_others belongs to expect steps");
    if (!mqs__is_scalar(x) || (strcmp(mqs__scalar(x), "true") && strcmp(mqs__scalar(x), "false")))
      return mqs__load_fail(L->err, x, "ignore_others is true or false");
    out->ignore_others = !strcmp(mqs__scalar(x), "true");
  }
  if ((x = mqs__map_get(doc, st, "node"))) {
    if (out->kind != MQS_STEP_OPEN && out->kind != MQS_STEP_CONNECT &&
        out->kind != MQS_STEP_RECONNECT && out->kind != MQS_STEP_CONTROL)
      return mqs__load_fail(L->err, x,
                            "node belongs to steps that open a connection "
                            "(open, connect, reconnect, control)");
    if (node_name(L, x, &out->on_node)) return -1;
  }
  if ((x = mqs__map_get(doc, st, "or_close"))) {
    if (out->kind != MQS_STEP_EXPECT)
      return mqs__load_fail(L->err, x, "or_close belongs to expect steps");
    if (!mqs__is_scalar(x) || (strcmp(mqs__scalar(x), "true") && strcmp(mqs__scalar(x), "false")))
      return mqs__load_fail(L->err, x, "or_close is true or false");
    out->or_close = !strcmp(mqs__scalar(x), "true");
  }
  if ((x = mqs__map_get(doc, st, "peek"))) {
    if (out->kind != MQS_STEP_EXPECT)
      return mqs__load_fail(L->err, x, "peek belongs to expect steps");
    if (!mqs__is_scalar(x) || (strcmp(mqs__scalar(x), "true") && strcmp(mqs__scalar(x), "false")))
      return mqs__load_fail(L->err, x, "peek is true or false");
    out->peek = !strcmp(mqs__scalar(x), "true");
    if (out->peek && (out->ignore_others || out->or_close))
      return mqs__load_fail(L->err, x,
                            "peek leaves every packet queued: no ignore_others or or_close");
  }
  if ((x = mqs__map_get(doc, st, "ws_frame"))) {
    if (out->kind != MQS_STEP_SEND && out->kind != MQS_STEP_SEND_HEX)
      return mqs__load_fail(L->err, x, "ws_frame belongs to send and send_hex steps");
    if (!mqs__is_scalar(x) || (strcmp(mqs__scalar(x), "text") && strcmp(mqs__scalar(x), "binary")))
      return mqs__load_fail(L->err, x, "ws_frame is text or binary");
    out->ws_text = !strcmp(mqs__scalar(x), "text");
  }
  if ((x = mqs__map_get(doc, st, "rules"))) {
    if (!mqs_step_is_check(out) && out->kind != MQS_STEP_CONNECT && out->kind != MQS_STEP_RECONNECT)
      return mqs__load_fail(L->err, x, "rules belong to check steps (expect..., connect, control)");
    if (parse_cited(L, out, x, out->rules, out->n_rules, &out->has_rules)) return -1;
  }
  if ((x = mqs__map_get(doc, st, "owed"))) {
    if (out->kind != MQS_STEP_EXPECT && out->kind != MQS_STEP_EXPECT_ALL &&
        out->kind != MQS_STEP_EXPECT_DISCONNECT)
      return mqs__load_fail(L->err, x, "owed belongs to expect, expect_all and expect_disconnect");
    unsigned applies;
    if (parse_cited(L, out, x, out->owed, out->n_owed, &applies)) return -1;
  }
  if ((x = mqs__map_get(doc, st, "presumes"))) {
    unsigned applies;
    if (parse_cited(L, out, x, out->presumes, out->n_presumes, &applies)) return -1;
  }
  yaml_node_t *cl = mqs__map_get(doc, st, "client");
  if (cl && cl->type == YAML_SEQUENCE_NODE) {
    /* expect: the packet arrives at one of several clients */
    if (out->kind != MQS_STEP_EXPECT || !mqs__seq_size(cl))
      return mqs__load_fail(L->err, cl, "a list of clients belongs to expect steps");
    for (size_t i = 0; i < mqs__seq_size(cl); i++) {
      unsigned idx;
      if (client_index(L, mqs__seq_at(doc, cl, i), false, &idx)) return -1;
      out->any_of |= 1u << idx;
      if (i == 0) out->client = idx;
    }
    if (mqs__seq_size(cl) == 1) out->any_of = 0;
    if (out->any_of && out->peek) return mqs__load_fail(L->err, cl, "peek waits at one client");
    goto client_done;
  }
  bool needs_client = out->kind != MQS_STEP_WAIT && out->kind != MQS_STEP_EXPECT_ALL &&
                      out->kind != MQS_STEP_EXPECT_NONE && out->kind != MQS_STEP_CONTROL;
  if (cl) {
    if (!needs_client && out->kind != MQS_STEP_EXPECT_NONE && out->kind != MQS_STEP_CONTROL)
      return mqs__load_fail(L->err, cl, "'%s' takes no client", actions[action].key);
    if (client_index(L, cl, false, &out->client)) return -1;
  } else if (needs_client && L->s->n_clients > 1) {
    return mqs__load_fail(L->err, st, "which client? this scenario has several; add client: NAME");
  } else if (out->kind == MQS_STEP_CONTROL) {
    out->client = CONTROL_CLIENT; /* its own connection, declared after the steps */
  }
client_done:
  out->all_clients = out->kind == MQS_STEP_EXPECT_NONE && !cl;
  yaml_node_t *ck = mqs__map_get(doc, st, "connack");
  if (ck && out->kind != MQS_STEP_CONNECT && out->kind != MQS_STEP_RECONNECT)
    return mqs__load_fail(L->err, ck, "connack belongs to connect/reconnect steps");
  if (ck) {
    if (mqs__is_scalar(ck) && !strcmp(mqs__scalar(ck), "none"))
      out->no_connack = true;
    else if (ck->type == YAML_MAPPING_NODE)
      out->connack = ck;
    else
      return mqs__load_fail(L->err, ck, "connack is a mapping of CONNACK fields, or none");
  }
  switch (out->kind) {
  case MQS_STEP_OPEN:
  case MQS_STEP_DROP:
  case MQS_STEP_CONTROL:
    break; /* value ignored: `drop: true` reads well */
  case MQS_STEP_CONNECT:
  case MQS_STEP_RECONNECT:
  case MQS_STEP_DISCONNECT:
    if (value && mqs__is_scalar(value) &&
        (!strcmp(mqs__scalar(value), "true") || !value->data.scalar.length ||
         !strcmp(mqs__scalar(value), "{}")))
      value = NULL;
    if (value && value->type != YAML_MAPPING_NODE)
      return mqs__load_fail(L->err, value, "'%s' takes a mapping of packet fields (or true)",
                            actions[action].key);
    out->node = value;
    break;
  case MQS_STEP_SEND:
  case MQS_STEP_EXPECT:
    if (!value || value->type != YAML_MAPPING_NODE || !mqs__map_get(doc, value, "type"))
      return mqs__load_fail(L->err, value ? value : st, "'%s' takes a packet mapping with a type",
                            actions[action].key);
    out->node = value;
    break;
  case MQS_STEP_SEND_HEX:
    if (!mqs__is_scalar(value))
      return mqs__load_fail(L->err, value ? value : st, "send_hex takes a hex string");
    out->node = value;
    break;
  case MQS_STEP_EXPECT_DISCONNECT:
    if (value && value->type == YAML_MAPPING_NODE)
      out->node = value;
    else if (!mqs__is_scalar(value))
      return mqs__load_fail(L->err, value ? value : st,
                            "expect_disconnect takes true or {reason_code: N}");
    break;
  case MQS_STEP_EXPECT_NONE:
    if (value && value->type == YAML_MAPPING_NODE) {
      yaml_node_t *f = mqs__map_get(doc, value, "fence");
      if (!f || mqs__map_size(value) != 1)
        return mqs__load_fail(L->err, value,
                              "expect_none takes a duration, {fence: ping} or "
                              "{fence: {from: CLIENT, topic: T[, qos: Q]}}");
      if (out->all_clients)
        return mqs__load_fail(L->err, value, "a fence belongs to one client: add client: NAME");
      if (mqs__is_scalar(f) && !strcmp(mqs__scalar(f), "ping")) {
        out->fence = MQS_FENCE_PING;
        break;
      }
      yaml_node_t *from = mqs__map_get(doc, f, "from"), *topic = mqs__map_get(doc, f, "topic");
      yaml_node_t *qos = mqs__map_get(doc, f, "qos");
      if (!from || !mqs__is_scalar(topic) || mqs__map_size(f) != 2u + (qos != NULL))
        return mqs__load_fail(L->err, f,
                              "a sentinel fence is {from: CLIENT, topic: TOPIC[, qos: 0|1|2]}");
      if (qos && (!mqs__is_scalar(qos) || strlen(mqs__scalar(qos)) != 1 ||
                  mqs__scalar(qos)[0] < '0' || mqs__scalar(qos)[0] > '2'))
        return mqs__load_fail(L->err, qos, "a fence's qos is 0, 1 or 2");
      out->fence_qos = qos ? (uint8_t)(mqs__scalar(qos)[0] - '0') : 0;
      if (client_index(L, from, false, &out->fence_from)) return -1;
      out->fence = MQS_FENCE_SENTINEL;
      out->fence_topic = topic;
      break;
    }
    if (get_ms(L, value, actions[action].key, &out->ms)) return -1;
    break;
  case MQS_STEP_WAIT:
    if (get_ms(L, value, actions[action].key, &out->ms)) return -1;
    break;
  case MQS_STEP_SYNC: {
    yaml_node_t *from =
        value && value->type == YAML_MAPPING_NODE ? mqs__map_get(doc, value, "from") : NULL;
    yaml_node_t *topic = from ? mqs__map_get(doc, value, "topic") : NULL;
    if (!from || !mqs__is_scalar(topic) || mqs__map_size(value) != 2)
      return mqs__load_fail(L->err, value ? value : st,
                            "sync takes {from: CLIENT, topic: TOPIC} (the receiving client "
                            "is the step's client, subscribed to TOPIC)");
    if (client_index(L, from, false, &out->fence_from)) return -1;
    if (out->fence_from == out->client)
      return mqs__load_fail(L->err, from, "sync: from and client are the same client");
    out->fence_topic = topic;
    L->s->has_sync = true;
    break;
  }
  case MQS_STEP_EXPECT_ALL:
    if (!value || value->type != YAML_SEQUENCE_NODE || !mqs__seq_size(value))
      return mqs__load_fail(L->err, value ? value : st,
                            "expect_all takes a list of {CLIENT: {packet fields}}");
    out->n_items = mqs__seq_size(value);
    out->items = calloc(out->n_items, sizeof *out->items);
    if (!out->items) return mqs__load_fail(L->err, value, "out of memory");
    for (size_t j = 0; j < out->n_items; j++) {
      yaml_node_t *it = mqs__seq_at(doc, value, j);
      if (!it || it->type != YAML_MAPPING_NODE || mqs__map_size(it) != 1)
        return mqs__load_fail(L->err, it, "an expect_all item is {CLIENT: {packet fields}}");
      yaml_node_pair_t *p = it->data.mapping.pairs.start;
      if (client_index(L, yaml_document_get_node(doc, p->key), false, &out->items[j].client))
        return -1;
      out->items[j].match = yaml_document_get_node(doc, p->value);
      out->items[j].line = (unsigned)it->start_mark.line + 1;
      if (!out->items[j].match || out->items[j].match->type != YAML_MAPPING_NODE ||
          !mqs__map_get(doc, out->items[j].match, "type"))
        return mqs__load_fail(L->err, it, "an expect_all item is {CLIENT: {packet fields}}");
    }
    break;
  }
  return 0;
}

/* Checks packet descriptions and expectations by building them as a run
 * would, for each version the step applies to, with placeholder variables
 * and captures tracked in step order. */
static int check_packets(loader *L) {
  size_t cap = 256u << 10;
  uint8_t *buf = malloc(cap);
  if (!buf) return mqs__load_fail(L->err, NULL, "out of memory");
  int rc = 0;
  for (unsigned vb = MQS_V311; vb && !rc; vb = mqs_version_next(vb)) {
    if (!(L->s->versions & vb)) continue;
    mqs_vars vars;
    mqs__vars_placeholders(&vars, vb);
    for (size_t i = 0; i < L->s->n_steps && !rc; i++) {
      mqs_step *st = &L->s->steps[i];
      if (!(st->versions & vb)) continue;
      if (st->loop_var) {
        char num[16];
        int k = snprintf(num, sizeof num, "%u", st->loop_val);
        (void)mqs_vars_set(&vars, st->loop_var, num, (size_t)k);
      }
      mqs_arena arena = {buf, cap, 0};
      mqc_packet pkt;
      mqc_faults faults;
      mqs_spec_error e;
      mqc_type deftype = st->kind == MQS_STEP_DISCONNECT ? MQC_DISCONNECT : MQC_CONNECT;
      switch (st->kind) {
      case MQS_STEP_CONNECT:
      case MQS_STEP_RECONNECT:
      case MQS_STEP_DISCONNECT:
        if (st->node && mqs_packet_from_yaml_vars(&L->s->doc, st->node, mqs_version_codec(vb),
                                                  &arena, &vars, deftype, &pkt, &faults, &e))
          rc = -1;
        if (!rc && st->node && mqs__map_get(&L->s->doc, st->node, "type") && pkt.type != deftype) {
          e.line = st->line;
          e.column = st->column;
          snprintf(e.message, sizeof e.message, "%s sends a %s; use send for other packets",
                   mqs_step_kind_name(st->kind), mqc_type_name(deftype));
          rc = -1;
        }
        if (!rc && st->connack) rc = mqs__match_check(&L->s->doc, st->connack, &vars, &e);
        break;
      case MQS_STEP_SEND:
        rc = mqs_packet_from_yaml_vars(&L->s->doc, st->node, mqs_version_codec(vb), &arena, &vars,
                                       MQC_RESERVED0, &pkt, &faults, &e);
        break;
      case MQS_STEP_SEND_HEX: {
        char bad[64];
        char *tmp = (char *)buf;
        long k = mqs_vars_expand(&vars, mqs__scalar(st->node), st->node->data.scalar.length, tmp,
                                 cap, bad);
        size_t digits = 0;
        for (long j = 0; j < k && !rc; j++) {
          char ch = tmp[j];
          if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))
            digits++;
          else if (ch != ' ' && ch != ':' && ch != '\n' && ch != '\t')
            rc = -1;
        }
        if (k < 0 || rc || digits % 2 || !digits)
          rc = mqs__spec_fail(&e, st->node, "send_hex: %s",
                              k < 0 ? "unbound variable" : "not an even number of hex digits");
        break;
      }
      case MQS_STEP_EXPECT:
        rc = mqs__match_check(&L->s->doc, st->node, &vars, &e);
        break;
      case MQS_STEP_EXPECT_DISCONNECT:
        if (st->node) {
          static const char *const keys[] = {"reason_code",       "required",   "no_properties",
                                             "disconnect_packet", "keep_alive", NULL};
          for (yaml_node_pair_t *p = st->node->data.mapping.pairs.start;
               p < st->node->data.mapping.pairs.top && !rc; p++) {
            yaml_node_t *k = yaml_document_get_node(&L->s->doc, p->key);
            bool ok = false;
            for (const char *const *a = keys; *a; a++)
              ok |= mqs__is_scalar(k) && !strcmp(*a, mqs__scalar(k));
            if (!ok)
              rc = mqs__spec_fail(&e, k,
                                  "expect_disconnect keys: reason_code, required, no_properties, "
                                  "disconnect_packet, keep_alive");
          }
        }
        break;
      case MQS_STEP_EXPECT_ALL:
        for (size_t j = 0; j < st->n_items && !rc; j++)
          rc = mqs__match_check(&L->s->doc, st->items[j].match, &vars, &e);
        break;
      default:
        break;
      }
      if (rc) {
        L->err->line = e.line;
        L->err->column = e.column;
        snprintf(L->err->message, sizeof L->err->message, "%s (MQTT %s)", e.message,
                 mqs_version_label(vb));
      }
    }
  }
  free(buf);
  return rc;
}

/* Control steps without a client get their own connection, "control". */
static int declare_control(loader *L) {
  bool any = false;
  for (size_t i = 0; i < L->s->n_steps; i++)
    any |= L->s->steps[i].client == CONTROL_CLIENT;
  if (!any) return 0;
  for (size_t i = 0; i < L->s->n_clients; i++)
    if (!strcmp(L->s->clients[i], "control"))
      return mqs__load_fail(L->err, NULL,
                            "a client named 'control' needs client: on control steps");
  if (L->s->n_clients == MAX_CLIENTS)
    return mqs__load_fail(L->err, NULL, "at most %d clients (with the control connection)",
                          MAX_CLIENTS);
  if (push_str(&L->s->clients, &L->s->n_clients, "control"))
    return mqs__load_fail(L->err, NULL, "out of memory");
  for (size_t i = 0; i < L->s->n_steps; i++)
    if (L->s->steps[i].client == CONTROL_CLIENT)
      L->s->steps[i].client = (unsigned)L->s->n_clients - 1;
  return 0;
}

/* Every statement the scenario cites is verified by one of its steps in
 * that version. With one statement, any check verifies it. With several,
 * each must be named by a check's rules (or be the Session Present statement
 * of a connect step): a check without rules that took "the rest" would blame
 * a statement on a setup step, e.g. a SUBACK, whatever it was about. */
/* Each statement a step presumes is checked by an earlier step of its
 * version: a presumption nothing verified would end cases for nothing. */
static int check_presumed(loader *L) {
  const mqs_scenario *s = L->s;
  for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb)) {
    unsigned b = mqs_version_slot(vb);
    if (!(s->versions & vb)) continue;
    for (size_t i = 0; i < s->n_steps; i++) {
      const mqs_step *st = &s->steps[i];
      for (size_t k = 0; (st->versions & vb) && k < st->n_presumes[b]; k++) {
        const char *id = st->presumes[b][k];
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; j++) {
          earlier = mqs_step_claims(s, &s->steps[j], vb, id);
          for (size_t o = 0; !earlier && (s->steps[j].versions & vb) && o < s->steps[j].n_owed[b];
               o++)
            earlier = !strcmp(s->steps[j].owed[b][o], id);
        }
        if (!earlier) {
          L->err->line = st->line;
          L->err->column = st->column;
          snprintf(L->err->message, sizeof L->err->message,
                   "presumes %s (MQTT %s), which no earlier step checks", id,
                   mqs_version_label(vb));
          return -1;
        }
      }
    }
  }
  return 0;
}

static int check_coverage(loader *L) {
  const mqs_scenario *s = L->s;
  for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb)) {
    unsigned b = mqs_version_slot(vb);
    if (!(s->versions & vb)) continue;
    bool several = s->n_rules[b] > 1;
    for (size_t k = 0; k < s->n_rules[b]; k++) {
      bool checked = false;
      for (size_t i = 0; i < s->n_steps && !checked; i++) {
        const mqs_step *st = &s->steps[i];
        if (!(st->versions & vb)) continue;
        const char *sp = mqs__sp_stmt(&L->s->doc, st, vb);
        bool claims = several ? (st->has_rules & vb) && mqs_step_claims(s, st, vb, s->rules[b][k])
                              : mqs_step_claims(s, st, vb, s->rules[b][k]);
        for (size_t j = 0; !claims && (st->versions & vb) && j < st->n_owed[b]; j++)
          claims = !strcmp(st->owed[b][j], s->rules[b][k]);
        checked = claims || (sp && !strcmp(sp, s->rules[b][k]));
      }
      if (!checked) {
        L->err->line = s->rule_lines[b][k];
        L->err->column = 1;
        snprintf(L->err->message, sizeof L->err->message,
                 several ? "%s (MQTT %s) is named by no check: with several statements, name "
                           "each in the rules: of the check that verifies it"
                         : "%s (MQTT %s) is checked by no step: name it in the rules: of a check",
                 s->rules[b][k], mqs_version_label(vb));
        return -1;
      }
    }
  }
  return 0;
}

static bool truthy(const yaml_node_t *n) {
  return mqs__is_scalar(n) && (!strcmp(mqs__scalar(n), "true") || !strcmp(mqs__scalar(n), "1"));
}

bool mqs__sp_want(yaml_document_t *doc, const mqs_step *st) {
  return truthy(mqs__map_get(doc, st->connack, "session_present"));
}

const char *mqs__sp_stmt(yaml_document_t *doc, const mqs_step *st, unsigned vbit) {
  yaml_node_t *sp = st->connack ? mqs__map_get(doc, st->connack, "session_present") : NULL;
  char name[64];
  /* captured, not judged: a case that proves its session otherwise (a
   * control message) branches on it */
  if (!sp || (mqs__is_scalar(sp) && mqs_vars_is_ref(mqs__scalar(sp), sp->data.scalar.length, name)))
    return NULL;
  yaml_node_t *rc = mqs__map_get(doc, st->connack, "reason_code");
  bool refused = mqs__is_scalar(rc) && strtoul(mqs__scalar(rc), NULL, 0) != 0;
  yaml_node_t *cs = st->node ? mqs__map_get(doc, st->node, "clean_start") : NULL;
  bool clean = cs ? truthy(cs) : st->kind == MQS_STEP_CONNECT;
  if (vbit == MQS_V5) return refused ? "MQTT-3.2.2-6" : clean ? "MQTT-3.2.2-2" : "MQTT-3.2.2-3";
  return refused                 ? "MQTT-3.2.2-4"
         : clean                 ? "MQTT-3.2.2-1"
         : mqs__sp_want(doc, st) ? "MQTT-3.2.2-2"
                                 : "MQTT-3.2.2-3";
}

bool mqs_step_is_check(const mqs_step *st) {
  switch (st->kind) {
  case MQS_STEP_CONNECT:
  case MQS_STEP_RECONNECT:
    return !st->no_connack;
  case MQS_STEP_EXPECT:
  case MQS_STEP_EXPECT_ALL:
  case MQS_STEP_EXPECT_NONE:
  case MQS_STEP_EXPECT_DISCONNECT:
  case MQS_STEP_CONTROL:
  case MQS_STEP_SYNC:
    return true;
  default:
    return false;
  }
}

static bool named(const mqs_step *st, unsigned b, const char *id) {
  for (size_t i = 0; i < st->n_rules[b]; i++)
    if (!strcmp(st->rules[b][i], id)) return true;
  return false;
}

bool mqs_step_claims(const mqs_scenario *s, const mqs_step *st, unsigned vbit, const char *id) {
  unsigned b = mqs_version_slot(vbit);
  if (!(st->versions & vbit) || !mqs_step_is_check(st)) return false;
  if (st->has_rules & vbit) return named(st, b, id);
  /* a control proves the server works; its PINGRESP is judged on its own */
  if (st->kind == MQS_STEP_CONTROL) return false;
  /* unannotated: the statements no applicable step names */
  for (size_t i = 0; i < s->n_steps; i++)
    if ((s->steps[i].versions & vbit) && (s->steps[i].has_rules & vbit) &&
        named(&s->steps[i], b, id))
      return false;
  return true;
}

static int parse_root(loader *L) {
  static const char *const keys[] = {"format", "name",     "description", "versions",
                                     "rules",  "requires", "clients",     "steps",
                                     "server", "fragment", NULL};
  yaml_document_t *doc = &L->s->doc;
  yaml_node_t *root = yaml_document_get_root_node(doc);
  if (!root) return mqs__load_fail(L->err, NULL, "empty file");
  if (root->type != YAML_MAPPING_NODE)
    return mqs__load_fail(L->err, root,
                          "a scenario file is a mapping (format, name, versions, rules, steps)");
  L->s->line = (unsigned)root->start_mark.line + 1;
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
       p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    bool ok = false;
    for (const char *const *a = keys; *a; a++)
      ok |= mqs__is_scalar(k) && !strcmp(*a, mqs__scalar(k));
    if (!ok)
      return mqs__load_fail(L->err, k, "unknown key '%s'",
                            mqs__is_scalar(k) ? mqs__scalar(k) : "?");
  }
  yaml_node_t *x = mqs__map_get(doc, root, "format");
  if (!x) return mqs__load_fail(L->err, root, "missing 'format: %d'", MQS_FORMAT_VERSION);
  if (!mqs__is_scalar(x) || strcmp(mqs__scalar(x), "1"))
    return mqs__load_fail(L->err, x, "unsupported format '%s' (this mqcheck reads format %d)",
                          mqs__is_scalar(x) ? mqs__scalar(x) : "?", MQS_FORMAT_VERSION);
  x = mqs__map_get(doc, root, "name");
  if (!mqs__is_scalar(x) || !x->data.scalar.length)
    return mqs__load_fail(L->err, x ? x : root, "missing 'name'");
  for (const char *c = mqs__scalar(x); *c; c++)
    if (*c == ' ' || *c == '@' || (unsigned char)*c < 0x21)
      return mqs__load_fail(L->err, x, "a name has no spaces or '@' (use a-z, 0-9, '-', '.', '/')");
  if (!(L->s->name = dupstr(mqs__scalar(x)))) return mqs__load_fail(L->err, x, "out of memory");
  x = mqs__map_get(doc, root, "description");
  if (x && !mqs__is_scalar(x)) return mqs__load_fail(L->err, x, "description must be text");
  if (!(L->s->description = dupstr(x ? mqs__scalar(x) : "")))
    return mqs__load_fail(L->err, x, "out of memory");
  x = mqs__map_get(doc, root, "versions");
  if (!x) return mqs__load_fail(L->err, root, "missing 'versions' (e.g. [3.1.1, 5.0])");
  if (parse_versions(L, x, &L->s->versions)) return -1;
  x = mqs__map_get(doc, root, "rules");
  if (!x)
    return mqs__load_fail(L->err, root, "missing 'rules' (the statement IDs the scenario checks)");
  unsigned given;
  if (parse_rules(L, x, L->s->rules, L->s->n_rules, L->s->rule_lines, &given)) return -1;
  for (unsigned b = 0; b < 2; b++)
    if ((slots_of(L->s->versions) & (1u << b)) && !L->s->n_rules[b])
      return mqs__load_fail(L->err, x, "no statement IDs for MQTT %s", b ? "5.0" : "3.1.1");
  if (parse_requires(L, mqs__map_get(doc, root, "requires"))) return -1;
  if ((x = mqs__map_get(doc, root, "server"))) {
    mqs_spec_error e;
    if (mqs__server_parse(doc, x, &L->s->server, &e)) {
      L->err->line = e.line;
      L->err->column = e.column;
      snprintf(L->err->message, sizeof L->err->message, "server: %s", e.message);
      return -1;
    }
  }
  /* A broker runs the scenario only when configured like its server block:
   * the capabilities say so, in both directions. */
  uint32_t need = mqs__server_caps(&L->s->server);
  uint32_t cfg_req = L->s->requires & mqs__server_config_caps();
  for (int c = 0; c < MQS_CAP_COUNT; c++) {
    if ((need & ~L->s->requires) & (1u << c))
      return mqs__load_fail(L->err, x,
                            "the server block needs 'requires: [%s]' (brokers must be configured "
                            "the same way)",
                            mqs_cap_name((mqs_cap)c));
    if ((cfg_req & ~need) & (1u << c))
      return mqs__load_fail(L->err, mqs__map_get(doc, root, "requires"),
                            "requires %s but no server: key sets it for the engine",
                            mqs_cap_name((mqs_cap)c));
  }
  if ((x = mqs__map_get(doc, root, "fragment"))) {
    uint32_t n = 0;
    if (get_ms(L, x, "fragment", &n) || !n || n > 65536)
      return mqs__load_fail(L->err, x, "fragment is a number of bytes (1..65536)");
    L->s->fragment = n;
  }
  yaml_node_t *steps = mqs__map_get(doc, root, "steps");
  if (!steps || steps->type != YAML_SEQUENCE_NODE || !mqs__seq_size(steps))
    return mqs__load_fail(L->err, steps ? steps : root, "missing 'steps' (a non-empty list)");
  if (mqs__seq_size(steps) > MAX_STEPS)
    return mqs__load_fail(L->err, steps, "at most %d steps", MAX_STEPS);
  x = mqs__map_get(doc, root, "clients");
  if (x) {
    if (x->type != YAML_SEQUENCE_NODE || !mqs__seq_size(x))
      return mqs__load_fail(L->err, x, "clients is a list of names");
    unsigned idx;
    for (size_t i = 0; i < mqs__seq_size(x); i++)
      if (declare_listed(L, mqs__seq_at(doc, x, i), &idx)) return -1;
  } else if (declare_clients(L, steps)) {
    return -1;
  }
  size_t total = 0;
  for (size_t i = 0; i < mqs__seq_size(steps); i++) {
    unsigned count;
    yaml_node_t *body, *var;
    int r = parse_repeat(L, mqs__seq_at(doc, steps, i), &count, &var, &body);
    if (r < 0) return -1;
    total += r ? (size_t)count * mqs__seq_size(body) : 1;
    if (total > MQS_STEPS_MAX)
      return mqs__load_fail(L->err, mqs__seq_at(doc, steps, i),
                            "more than %d steps once repeats are expanded", MQS_STEPS_MAX);
  }
  L->s->n_steps = total;
  L->s->steps = calloc(total ? total : 1, sizeof *L->s->steps);
  if (!L->s->steps) return mqs__load_fail(L->err, steps, "out of memory");
  size_t at = 0;
  for (size_t i = 0; i < mqs__seq_size(steps); i++) {
    yaml_node_t *st = mqs__seq_at(doc, steps, i), *body, *var;
    unsigned count;
    if (!parse_repeat(L, st, &count, &var, &body)) {
      if (parse_step(L, st, &L->s->steps[at++])) return -1;
      continue;
    }
    for (unsigned k = 1; k <= count; k++)
      for (size_t j = 0; j < mqs__seq_size(body); j++) {
        mqs_step *out = &L->s->steps[at++];
        if (parse_step(L, mqs__seq_at(doc, body, j), out)) return -1;
        out->loop_var = var ? mqs__scalar(var) : NULL;
        out->loop_val = k;
        out->loop_first = j == 0;
      }
  }
  assert(at == total);
  if (declare_control(L) || check_packets(L)) return -1;
  if (check_presumed(L)) return -1;
  return check_coverage(L);
}

int mqs_scenario_load_text(const char *name, const char *text, size_t len, mqs_scenario **out,
                           mqs_load_error *err) {
  memset(err, 0, sizeof *err);
  snprintf(err->file, sizeof err->file, "%s", name);
  *out = NULL;
  mqs_scenario *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err->message, sizeof err->message, "out of memory");
    return -1;
  }
  loader L = {s, err};
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    free(s);
    snprintf(err->message, sizeof err->message, "out of memory");
    return -1;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  int ok = yaml_parser_load(&parser, &s->doc);
  if (!ok) {
    err->line = parser.problem_mark.line + 1;
    err->column = parser.problem_mark.column + 1;
    snprintf(err->message, sizeof err->message, "YAML: %s%s%s",
             parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
             parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    free(s);
    return -1;
  }
  yaml_parser_delete(&parser);
  if (!(s->path = dupstr(name)) || parse_root(&L)) {
    if (!err->message[0]) snprintf(err->message, sizeof err->message, "out of memory");
    mqs_scenario_free(s);
    return -1;
  }
  *out = s;
  return 0;
}

int mqs_scenario_load(const char *path, mqs_scenario **out, mqs_load_error *err) {
  memset(err, 0, sizeof *err);
  snprintf(err->file, sizeof err->file, "%s", path);
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err->message, sizeof err->message, "cannot open: %s", strerror(errno));
    return -1;
  }
  char *buf = malloc(MAX_FILE);
  size_t n = buf ? fread(buf, 1, MAX_FILE, f) : 0;
  bool too_big = buf && n == MAX_FILE;
  fclose(f);
  if (!buf || too_big) {
    free(buf);
    snprintf(err->message, sizeof err->message, buf ? "file too large" : "out of memory");
    return -1;
  }
  int rc = mqs_scenario_load_text(path, buf, n, out, err);
  free(buf);
  return rc;
}

void mqs_scenario_free(mqs_scenario *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_steps; i++) {
    free(s->steps[i].items);
    for (unsigned b = 0; b < 2; b++) {
      for (size_t k = 0; k < s->steps[i].n_rules[b]; k++)
        free(s->steps[i].rules[b][k]);
      free(s->steps[i].rules[b]);
      for (size_t k = 0; k < s->steps[i].n_owed[b]; k++)
        free(s->steps[i].owed[b][k]);
      free(s->steps[i].owed[b]);
      for (size_t k = 0; k < s->steps[i].n_presumes[b]; k++)
        free(s->steps[i].presumes[b][k]);
      free(s->steps[i].presumes[b]);
    }
  }
  free(s->steps);
  for (unsigned b = 0; b < 2; b++) {
    for (size_t i = 0; i < s->n_rules[b]; i++)
      free(s->rules[b][i]);
    free(s->rules[b]);
    free(s->rule_lines[b]);
  }
  for (size_t i = 0; i < s->n_clients; i++)
    free(s->clients[i]);
  free(s->clients);
  free(s->client_nodes);
  free(s->name);
  free(s->description);
  free(s->path);
  yaml_document_delete(&s->doc);
  free(s);
}
