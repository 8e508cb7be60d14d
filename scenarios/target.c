/* target.c - target descriptions ("engine" or a broker URL) and the
 * per-case instance factory. */
#include <stdlib.h>
#include <string.h>

#include "mqn.h"
#include "runner.h"

struct mqs_target_spec {
  bool engine;
  mqn_url url;
  mqn_tls *tls; /* mqtts/wss only; shared read-only by all cases */
};

const mqn_url *mqs__spec_url(const mqs_target_spec *s);
mqn_tls *mqs__spec_tls(const mqs_target_spec *s);
const mqn_url *mqs__spec_url(const mqs_target_spec *s) {
  return &s->url;
}
mqn_tls *mqs__spec_tls(const mqs_target_spec *s) {
  return s->tls;
}

int mqs_target_spec_new(const char *target, const mqs_tls_opts *tls, mqs_target_spec **out,
                        char *err, size_t cap) {
  *out = NULL;
  mqs_target_spec *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  if (!target || !strcmp(target, "engine")) {
    s->engine = true;
    *out = s;
    return 0;
  }
  if (mqn_url_parse(target, &s->url) != MQN_OK) {
    snprintf(err, cap, "'%s' is not a target (engine, tcp://HOST:PORT, mqtts://, ws://, wss://)",
             target);
    free(s);
    return -1;
  }
  if (mqn_scheme_is_tls(s->url.scheme)) {
    mqn_tls_opts o = {0};
    if (tls) {
      o.ca_file = tls->cafile;
      o.cert_file = tls->cert;
      o.key_file = tls->key;
      o.insecure = tls->insecure;
    }
    char detail[256] = "";
    mqn_status st = mqn_tls_new_client(&o, &s->tls, detail, sizeof detail);
    if (st != MQN_OK) {
      snprintf(err, cap, "transport error: %s: %s", mqn_strerror(st), detail);
      free(s);
      return -1;
    }
  }
  *out = s;
  return 0;
}

void mqs_target_spec_free(mqs_target_spec *s) {
  if (!s) return;
  mqn_tls_free(s->tls);
  free(s);
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
  if (s->url.scheme != MQN_WS && s->url.scheme != MQN_WSS) caps &= ~(1u << MQS_CAP_WEBSOCKET);
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
