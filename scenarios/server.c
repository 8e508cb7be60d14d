/* server.c - a scenario's `server:` block: engine configuration for one
 * scenario. Limits a broker must be configured with name the capability a
 * scenario requires for them, so that a target without that configuration
 * skips the case instead of failing it; engine-only switches (which only
 * make the engine exercise a feature any broker may use) need none. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef enum { K_U32, K_U16, K_QOS, K_BOOL, K_I32, K_STR, K_USERS, K_AUTH, K_TOPICS } kind;

static const struct {
  const char *key;
  uint32_t bit;
  int cap; /* capability the scenario must require, -1 = engine-only switch */
  kind k;
} keys[] = {
    {"maximum_packet_size", MQS_SRV_MAXIMUM_PACKET_SIZE, MQS_CAP_MAX_PACKET_SIZE, K_U32},
    {"receive_maximum", MQS_SRV_RECEIVE_MAXIMUM, MQS_CAP_RECEIVE_MAXIMUM, K_U16},
    {"topic_alias_maximum", MQS_SRV_TOPIC_ALIAS_MAXIMUM, MQS_CAP_TOPIC_ALIAS_MAXIMUM, K_U16},
    {"maximum_qos", MQS_SRV_MAXIMUM_QOS, MQS_CAP_MAXIMUM_QOS, K_QOS},
    {"retain_available", MQS_SRV_RETAIN_AVAILABLE, MQS_CAP_RETAIN_UNAVAILABLE, K_BOOL},
    {"wildcard_available", MQS_SRV_WILDCARD_AVAILABLE, MQS_CAP_WILDCARDS_UNAVAILABLE, K_BOOL},
    {"server_keep_alive", MQS_SRV_SERVER_KEEP_ALIVE, MQS_CAP_SERVER_KEEP_ALIVE, K_I32},
    {"assign_client_ids", MQS_SRV_ASSIGN_CLIENT_IDS, MQS_CAP_CLIENT_ID_RESTRICTIONS, K_BOOL},
    {"users", MQS_SRV_USERS, MQS_CAP_AUTHENTICATION, K_USERS},
    {"auth_method", MQS_SRV_AUTH_METHOD, MQS_CAP_ENHANCED_AUTH, K_AUTH},
    {"deny_publish", MQS_SRV_DENY_PUBLISH, MQS_CAP_AUTHORIZATION, K_TOPICS},
    {"outbound_aliases", MQS_SRV_OUTBOUND_ALIASES, -1, K_U16},
    {"response_information", MQS_SRV_RESPONSE_INFORMATION, -1, K_STR},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

uint32_t mqs__server_caps(const mqs_server_cfg *c) {
  uint32_t caps = 0;
  for (size_t i = 0; i < N_KEYS; i++)
    if ((c->set & keys[i].bit) && keys[i].cap >= 0) caps |= 1u << keys[i].cap;
  return caps;
}

uint32_t mqs__server_config_caps(void) {
  uint32_t caps = 0;
  for (size_t i = 0; i < N_KEYS; i++)
    if (keys[i].cap >= 0) caps |= 1u << keys[i].cap;
  return caps;
}

static int number(yaml_node_t *n, unsigned long max, unsigned long *out, mqs_spec_error *err) {
  if (!mqs__is_scalar(n)) return mqs__spec_fail(err, n, "expected a number");
  char *end;
  errno = 0;
  const char *s = mqs__scalar(n);
  unsigned long v = strtoul(s, &end, 0);
  if (!*s || *end || errno || v > max || s[0] == '-')
    return mqs__spec_fail(err, n, "number out of range");
  *out = v;
  return 0;
}

static int boolean(yaml_node_t *n, bool *out, mqs_spec_error *err) {
  if (mqs__is_scalar(n) && !strcmp(mqs__scalar(n), "true")) return *out = true, 0;
  if (mqs__is_scalar(n) && !strcmp(mqs__scalar(n), "false")) return *out = false, 0;
  return mqs__spec_fail(err, n, "expected true or false");
}

static int one(yaml_document_t *doc, size_t i, yaml_node_t *v, mqs_server_cfg *c,
               mqs_spec_error *err) {
  unsigned long u = 0;
  switch (keys[i].k) {
  case K_U32:
    if (number(v, 0xFFFFFFFFul, &u, err)) return -1;
    if (u && u < 16)
      return mqs__spec_fail(err, v, "a maximum packet size below 16 leaves no room for CONNACK");
    c->maximum_packet_size = (uint32_t)u;
    return 0;
  case K_U16:
    if (number(v, 65535, &u, err)) return -1;
    if (keys[i].bit == MQS_SRV_RECEIVE_MAXIMUM) {
      if (!u) return mqs__spec_fail(err, v, "receive_maximum is 1..65535");
      c->receive_maximum = (uint16_t)u;
    } else if (keys[i].bit == MQS_SRV_TOPIC_ALIAS_MAXIMUM) {
      c->topic_alias_maximum = (uint16_t)u;
    } else {
      c->outbound_aliases = (uint16_t)u;
    }
    return 0;
  case K_QOS:
    if (number(v, 2, &u, err)) return -1;
    c->maximum_qos = (uint8_t)u;
    return 0;
  case K_BOOL: {
    bool b = false;
    if (boolean(v, &b, err)) return -1;
    if (keys[i].bit == MQS_SRV_RETAIN_AVAILABLE)
      c->retain_available = b;
    else if (keys[i].bit == MQS_SRV_WILDCARD_AVAILABLE)
      c->wildcard_available = b;
    else
      c->assign_client_ids = b;
    return 0;
  }
  case K_I32:
    if (number(v, 65535, &u, err)) return -1;
    c->server_keep_alive = (int32_t)u;
    return 0;
  case K_STR:
    if (!mqs__is_scalar(v)) return mqs__spec_fail(err, v, "expected text");
    c->response_information = mqs__scalar(v);
    return 0;
  case K_USERS:
    if (!v || v->type != YAML_SEQUENCE_NODE || !mqs__seq_size(v) ||
        mqs__seq_size(v) > MQS_SRV_MAX_USERS)
      return mqs__spec_fail(err, v, "users is a list of 1..4 {username, password}");
    for (size_t j = 0; j < mqs__seq_size(v); j++) {
      yaml_node_t *e = mqs__seq_at(doc, v, j);
      yaml_node_t *un = mqs__map_get(doc, e, "username"), *pw = mqs__map_get(doc, e, "password");
      if (!mqs__is_scalar(un) || !mqs__is_scalar(pw))
        return mqs__spec_fail(err, e, "a user is {username: U, password: P}");
      c->users[j].username = mqs__scalar(un);
      c->users[j].password = mqs__scalar(pw);
    }
    c->n_users = mqs__seq_size(v);
    return 0;
  case K_TOPICS:
    if (!v || v->type != YAML_SEQUENCE_NODE || !mqs__seq_size(v) ||
        mqs__seq_size(v) > MQS_SRV_MAX_USERS)
      return mqs__spec_fail(err, v, "deny_publish is a list of 1..4 topic names");
    for (size_t j = 0; j < mqs__seq_size(v); j++) {
      if (!mqs__is_scalar(mqs__seq_at(doc, v, j)))
        return mqs__spec_fail(err, v, "a topic name is text");
      c->deny_publish[j] = mqs__seq_at(doc, v, j);
    }
    c->n_deny = mqs__seq_size(v);
    return 0;
  case K_AUTH: {
    yaml_node_t *m = mqs__map_get(doc, v, "method"), *s = mqs__map_get(doc, v, "secret");
    if (!mqs__is_scalar(m) || strcmp(mqs__scalar(m), "mqcheck-challenge") || !mqs__is_scalar(s))
      return mqs__spec_fail(err, v, "auth_method is {method: mqcheck-challenge, secret: S}");
    c->auth_method = mqs__scalar(m);
    c->auth_secret = mqs__scalar(s);
    return 0;
  }
  }
  return mqs__spec_fail(err, v, "unknown key kind");
}

int mqs__server_parse(yaml_document_t *doc, yaml_node_t *n, mqs_server_cfg *c,
                      mqs_spec_error *err) {
  memset(c, 0, sizeof *c);
  if (!n || n->type != YAML_MAPPING_NODE || !mqs__map_size(n))
    return mqs__spec_fail(err, n,
                          "a mapping of engine settings such as {maximum_packet_size: 512}");
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    size_t i = 0;
    while (i < N_KEYS && !(mqs__is_scalar(k) && !strcmp(keys[i].key, mqs__scalar(k))))
      i++;
    if (i == N_KEYS) {
      return mqs__spec_fail(err, k, "unknown key '%s' (see docs/scenarios.md)",
                            mqs__is_scalar(k) ? mqs__scalar(k) : "?");
    }
    if (one(doc, i, yaml_document_get_node(doc, p->value), c, err)) return -1;
    c->set |= keys[i].bit;
  }
  return 0;
}
