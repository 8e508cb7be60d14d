/* profile.c - target profiles: address, credentials, TLS files,
 * capabilities and timeouts of one broker, in YAML. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int str(yaml_node_t *n, char **out, mqs_load_error *err, const char *what) {
  if (!n) return 0;
  if (!mqs__is_scalar(n)) return mqs__load_fail(err, n, "%s must be a string", what);
  size_t len = n->data.scalar.length + 1;
  free(*out);
  if (!(*out = malloc(len))) return mqs__load_fail(err, n, "out of memory");
  memcpy(*out, mqs__scalar(n), len);
  return 0;
}

static bool truthy(yaml_node_t *n) {
  return mqs__is_scalar(n) && (!strcmp(mqs__scalar(n), "true") || !strcmp(mqs__scalar(n), "yes"));
}

static int num(yaml_node_t *n, uint32_t *out, mqs_load_error *err, const char *what) {
  if (!n) return 0;
  char *end;
  if (!mqs__is_scalar(n)) return mqs__load_fail(err, n, "%s must be a number", what);
  unsigned long v = strtoul(mqs__scalar(n), &end, 10);
  if (*end || v > 86400000ul) return mqs__load_fail(err, n, "%s must be milliseconds", what);
  *out = (uint32_t)v;
  return 0;
}

static int body(yaml_document_t *doc, mqs_profile *p, mqs_load_error *err) {
  static const char *const keys[] = {"name",    "target",       "username", "password",
                                     "tls",     "capabilities", "timeouts", "versions",
                                     "comment", "cluster",      NULL};
  yaml_node_t *root = yaml_document_get_root_node(doc);
  if (!root || root->type != YAML_MAPPING_NODE)
    return mqs__load_fail(err, root, "a profile is a mapping");
  for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top;
       q++) {
    yaml_node_t *k = yaml_document_get_node(doc, q->key);
    bool ok = false;
    for (const char *const *a = keys; *a; a++)
      ok |= mqs__is_scalar(k) && !strcmp(*a, mqs__scalar(k));
    if (!ok)
      return mqs__load_fail(err, k, "unknown profile key '%s'",
                            mqs__is_scalar(k) ? mqs__scalar(k) : "?");
  }
  yaml_node_t *t = mqs__map_get(doc, root, "target");
  if (t && t->type == YAML_SEQUENCE_NODE) {
    /* the nodes of a cluster, "NAME=URL" each; target is the first */
    size_t n = mqs__seq_size(t);
    if (!n || n > MQS_NODES_MAX)
      return mqs__load_fail(err, t, "target: a list of 1..%d nodes NAME=URL", MQS_NODES_MAX);
    if (!(p->targets = calloc(n, sizeof *p->targets)))
      return mqs__load_fail(err, t, "out of memory");
    for (size_t i = 0; i < n; i++) {
      if (str(mqs__seq_at(doc, t, i), &p->targets[i], err, "a target node")) return -1;
      p->n_targets = i + 1;
    }
    if (str(mqs__seq_at(doc, t, 0), &p->target, err, "target")) return -1;
    t = NULL;
  }
  if (str(mqs__map_get(doc, root, "name"), &p->name, err, "name") ||
      str(t, &p->target, err, "target") ||
      str(mqs__map_get(doc, root, "username"), &p->username, err, "username") ||
      str(mqs__map_get(doc, root, "password"), &p->password, err, "password"))
    return -1;
  yaml_node_t *x = mqs__map_get(doc, root, "tls");
  if (x) {
    if (x->type != YAML_MAPPING_NODE)
      return mqs__load_fail(err, x, "tls: {cafile, cert, key, insecure}");
    if (str(mqs__map_get(doc, x, "cafile"), &p->cafile, err, "cafile") ||
        str(mqs__map_get(doc, x, "cert"), &p->cert, err, "cert") ||
        str(mqs__map_get(doc, x, "key"), &p->key, err, "key"))
      return -1;
    p->insecure = truthy(mqs__map_get(doc, x, "insecure"));
  }
  x = mqs__map_get(doc, root, "capabilities");
  if (x) {
    if (x->type != YAML_MAPPING_NODE)
      return mqs__load_fail(err, x, "capabilities: {NAME: true|false, ...}");
    for (yaml_node_pair_t *q = x->data.mapping.pairs.start; q < x->data.mapping.pairs.top; q++) {
      yaml_node_t *k = yaml_document_get_node(doc, q->key);
      yaml_node_t *v = yaml_document_get_node(doc, q->value);
      int c = mqs__is_scalar(k) ? mqs_cap_lookup(mqs__scalar(k)) : -1;
      if (c < 0)
        return mqs__load_fail(err, k, "unknown capability '%s' (see docs/scenarios.md)",
                              mqs__is_scalar(k) ? mqs__scalar(k) : "(not a name)");
      if (truthy(v))
        p->caps_on |= 1u << c;
      else
        p->caps_off |= 1u << c;
    }
  }
  x = mqs__map_get(doc, root, "timeouts");
  if (x) {
    if (x->type != YAML_MAPPING_NODE)
      return mqs__load_fail(err, x, "timeouts: {step, connect, case, scale}");
    if (num(mqs__map_get(doc, x, "step"), &p->step_timeout_ms, err, "step") ||
        num(mqs__map_get(doc, x, "connect"), &p->connect_timeout_ms, err, "connect") ||
        num(mqs__map_get(doc, x, "case"), &p->case_timeout_ms, err, "case"))
      return -1;
    yaml_node_t *s = mqs__map_get(doc, x, "scale");
    if (s) {
      if (!mqs__is_scalar(s) || (p->timeout_scale = strtod(mqs__scalar(s), NULL)) <= 0)
        return mqs__load_fail(err, s, "scale must be a positive number");
    }
  }
  x = mqs__map_get(doc, root, "cluster");
  if (x) {
    if (x->type != YAML_MAPPING_NODE)
      return mqs__load_fail(err, x, "cluster: {propagation_ms, takeover, session_resume}");
    p->has_cluster = true;
    for (yaml_node_pair_t *q = x->data.mapping.pairs.start; q < x->data.mapping.pairs.top; q++) {
      yaml_node_t *k = yaml_document_get_node(doc, q->key);
      yaml_node_t *v = yaml_document_get_node(doc, q->value);
      const char *key = mqs__is_scalar(k) ? mqs__scalar(k) : "";
      uint32_t bit = !strcmp(key, "takeover")         ? MQS_CLUSTER_TAKEOVER
                     : !strcmp(key, "session_resume") ? MQS_CLUSTER_SESSION_RESUME
                                                      : 0;
      if (!strcmp(key, "propagation_ms")) {
        if (num(v, &p->propagation_ms, err, "propagation_ms")) return -1;
      } else if (!bit) {
        return mqs__load_fail(err, k,
                              "unknown cluster key '%s' (propagation_ms, takeover, "
                              "session_resume)",
                              key);
      } else if (!mqs__is_scalar(v) ||
                 (!truthy(v) && strcmp(mqs__scalar(v), "false") && strcmp(mqs__scalar(v), "no"))) {
        return mqs__load_fail(err, v, "%s is true or false", key);
      } else if (!truthy(v)) {
        p->cluster_off |= bit;
      }
    }
  }
  x = mqs__map_get(doc, root, "versions");
  if (x) {
    if (x->type != YAML_SEQUENCE_NODE) return mqs__load_fail(err, x, "versions: [3.1.1, 5.0, 3.1]");
    for (size_t i = 0; i < mqs__seq_size(x); i++) {
      yaml_node_t *e = mqs__seq_at(doc, x, i);
      const char *v = mqs__is_scalar(e) ? mqs__scalar(e) : "";
      if (!strcmp(v, "3.1.1"))
        p->versions |= MQS_V311;
      else if (!strcmp(v, "3.1"))
        p->versions |= MQS_V31;
      else if (!strcmp(v, "5.0") || !strcmp(v, "5"))
        p->versions |= MQS_V5;
      else
        return mqs__load_fail(err, e, "unknown version");
    }
  }
  return 0;
}

int mqs_profile_load(const char *path, mqs_profile *p, mqs_load_error *err) {
  memset(p, 0, sizeof *p);
  memset(err, 0, sizeof *err);
  snprintf(err->file, sizeof err->file, "%s", path);
  FILE *f = fopen(path, "rb");
  if (!f) return mqs__load_fail(err, NULL, "cannot open the profile");
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) {
    fclose(f);
    return mqs__load_fail(err, NULL, "out of memory");
  }
  yaml_parser_set_input_file(&parser, f);
  int rc = -1;
  if (!yaml_parser_load(&parser, &doc)) {
    err->line = parser.problem_mark.line + 1;
    err->column = parser.problem_mark.column + 1;
    snprintf(err->message, sizeof err->message, "YAML: %s",
             parser.problem ? parser.problem : "error");
  } else {
    rc = body(&doc, p, err);
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  fclose(f);
  if (rc) mqs_profile_free(p);
  return rc;
}

void mqs_profile_free(mqs_profile *p) {
  for (size_t i = 0; i < p->n_targets; i++)
    free(p->targets[i]);
  free(p->targets);
  free(p->target);
  free(p->username);
  free(p->password);
  free(p->cafile);
  free(p->cert);
  free(p->key);
  free(p->name);
  memset(p, 0, sizeof *p);
}

static const struct {
  const char *name;
  uint32_t bit;
} cluster_needs[] = {
    {"cluster", MQS_CLUSTER},
    {"cluster-takeover", MQS_CLUSTER_TAKEOVER},
    {"cluster-session-resume", MQS_CLUSTER_SESSION_RESUME},
};

uint32_t mqs_cluster_need_lookup(const char *name) {
  for (size_t i = 0; i < sizeof cluster_needs / sizeof cluster_needs[0]; i++)
    if (!strcmp(cluster_needs[i].name, name)) return cluster_needs[i].bit;
  return 0;
}

const char *mqs_cluster_need_name(uint32_t bit) {
  for (size_t i = 0; i < sizeof cluster_needs / sizeof cluster_needs[0]; i++)
    if (cluster_needs[i].bit == bit) return cluster_needs[i].name;
  return "?";
}
