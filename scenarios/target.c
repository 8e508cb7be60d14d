/* target.c - target descriptions ("engine" or a broker URL) and the
 * per-case instance factory. */
#include <stdlib.h>
#include <string.h>

#include "mqn.h"
#include "runner.h"

typedef struct {
  char name[MQS_NODE_NAME_MAX];
  char *text; /* the URL as given, owned */
  mqn_url url;
  mqn_tls *tls; /* mqtts/wss only; shared read-only by all cases */
} node;

struct mqs_target_spec {
  bool engine;
  size_t n_nodes;
  node node[MQS_NODES_MAX];
};

const mqn_url *mqs__spec_url(const mqs_target_spec *s, unsigned i);
mqn_tls *mqs__spec_tls(const mqs_target_spec *s, unsigned i);
const mqn_url *mqs__spec_url(const mqs_target_spec *s, unsigned i) {
  return &s->node[i < s->n_nodes ? i : 0].url;
}
mqn_tls *mqs__spec_tls(const mqs_target_spec *s, unsigned i) {
  return s->node[i < s->n_nodes ? i : 0].tls;
}

static bool name_ok(const char *p, size_t n) {
  if (!n || n >= MQS_NODE_NAME_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
          (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '-'))
      return false;
  return true;
}

static int add_node(mqs_target_spec *s, const char *arg, const mqs_tls_opts *tls, char *err,
                    size_t cap) {
  node *nd = &s->node[s->n_nodes];
  /* "NAME=URL": a name is short and has no ':' or '/', so a URL's own '='
   * (in a WebSocket query) is never mistaken for one */
  const char *eq = strchr(arg, '=');
  const char *url = arg;
  if (eq && strcspn(arg, ":/") > (size_t)(eq - arg)) {
    if (!name_ok(arg, (size_t)(eq - arg))) {
      snprintf(err, cap, "'%.*s' is not a node name (1..31 of letters, digits, '-', '_')",
               (int)(eq - arg), arg);
      return -1;
    }
    memcpy(nd->name, arg, (size_t)(eq - arg));
    url = eq + 1;
  } else {
    snprintf(nd->name, sizeof nd->name, "node%zu", s->n_nodes + 1);
  }
  for (size_t i = 0; i < s->n_nodes; i++)
    if (!strcmp(s->node[i].name, nd->name)) {
      snprintf(err, cap, "node name '%s' is given twice", nd->name);
      return -1;
    }
  if (!strcmp(url, "engine")) {
    snprintf(err, cap, "the engine is one node: it cannot be a node of a cluster target");
    return -1;
  }
  if (mqn_url_parse(url, &nd->url) != MQN_OK) {
    snprintf(err, cap, "'%s' is not a target (engine, tcp://HOST:PORT, mqtts://, ws://, wss://)",
             url);
    return -1;
  }
  if (mqn_scheme_is_tls(nd->url.scheme)) {
    mqn_tls_opts o = {0};
    if (tls) {
      o.ca_file = tls->cafile;
      o.cert_file = tls->cert;
      o.key_file = tls->key;
      o.insecure = tls->insecure;
    }
    char detail[256] = "";
    mqn_status st = mqn_tls_new_client(&o, &nd->tls, detail, sizeof detail);
    if (st != MQN_OK) {
      snprintf(err, cap, "transport error: %s: %s", mqn_strerror(st), detail);
      return -1;
    }
  }
  if (!(nd->text = strdup(url))) {
    mqn_tls_free(nd->tls);
    nd->tls = NULL;
    snprintf(err, cap, "out of memory");
    return -1;
  }
  s->n_nodes++;
  return 0;
}

int mqs_target_spec_new_nodes(const char *const *targets, size_t n, const mqs_tls_opts *tls,
                              mqs_target_spec **out, char *err, size_t cap) {
  *out = NULL;
  if (n > MQS_NODES_MAX) {
    snprintf(err, cap, "at most %d nodes", MQS_NODES_MAX);
    return -1;
  }
  mqs_target_spec *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  if (n == 0 || (n == 1 && (!targets[0] || !strcmp(targets[0], "engine")))) {
    s->engine = true;
    s->n_nodes = 1;
    snprintf(s->node[0].name, sizeof s->node[0].name, "engine");
    *out = s;
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    if (add_node(s, targets[i], tls, err, cap)) {
      mqs_target_spec_free(s);
      return -1;
    }
  *out = s;
  return 0;
}

int mqs_target_spec_new(const char *target, const mqs_tls_opts *tls, mqs_target_spec **out,
                        char *err, size_t cap) {
  return mqs_target_spec_new_nodes(&target, 1, tls, out, err, cap);
}

void mqs_target_spec_free(mqs_target_spec *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_nodes; i++) {
    mqn_tls_free(s->node[i].tls);
    free(s->node[i].text);
  }
  free(s);
}

size_t mqs_target_spec_n_nodes(const mqs_target_spec *s) {
  return s->n_nodes;
}

const char *mqs_target_spec_node_name(const mqs_target_spec *s, size_t i) {
  return i < s->n_nodes ? s->node[i].name : "?";
}

const char *mqs_target_spec_node_url(const mqs_target_spec *s, size_t i) {
  if (s->engine) return "engine";
  return i < s->n_nodes ? s->node[i].text : "?";
}

int mqs_target_spec_node_index(const mqs_target_spec *s, const char *name) {
  if (s->n_nodes == 1 || !name || !strcmp(name, "home")) return 0;
  if (!strcmp(name, "other")) return 1;
  for (size_t i = 0; i < s->n_nodes; i++)
    if (!strcmp(s->node[i].name, name)) return (int)i;
  return -1;
}

bool mqs_target_spec_is_engine(const mqs_target_spec *s) {
  return s->engine;
}

uint32_t mqs_target_spec_default_caps(const mqs_target_spec *s) {
  uint32_t all = (1u << MQS_CAP_COUNT) - 1;
  /* The engine configures itself from each scenario's `server:` block, so it
   * has every configuration capability; a broker has none unless its
   * profile says it is configured like those blocks. */
  if (s->engine) return all & ~(1u << MQS_CAP_WEBSOCKET);
  uint32_t caps = all & ~(1u << MQS_CAP_LONG_WAITS) & ~(1u << MQS_CAP_REQUEST_RESPONSE) &
                  ~mqs__server_config_caps();
  if (s->node[0].url.scheme != MQN_WS && s->node[0].url.scheme != MQN_WSS)
    caps &= ~(1u << MQS_CAP_WEBSOCKET);
  return caps;
}

int mqs__target_new(const mqs_target_spec *spec, const mqs_run_opts *opts, const mqs_scenario *s,
                    const mqs_vars *vars, const mqs_target_ops **ops, mqs_target **out, char *err,
                    size_t cap) {
  if (spec->engine) {
    if (mqs__engine_target_new(&s->server, vars, opts->engine_fault, ops, out)) {
      snprintf(err, cap, "cannot create an engine");
      return -1;
    }
    return 0;
  }
  double scale = opts->timeout_scale > 0 ? opts->timeout_scale : 1.0;
  uint32_t cms = (uint32_t)((opts->connect_timeout_ms ? opts->connect_timeout_ms : 5000) * scale);
  uint32_t ioms = (uint32_t)((opts->step_timeout_ms ? opts->step_timeout_ms : 2000) * scale);
  if (mqs__net_target_new(spec, cms, ioms, ops, out)) {
    snprintf(err, cap, "cannot create an event loop");
    return -1;
  }
  return 0;
}
