/* auth.c - simple (user name/password) authentication and enhanced
 * authentication (5.0 AUTH), including re-authentication, with the built-in
 * "mqcheck-challenge" method. */
#include "internal.h"

int mqe__password_check(mqe_engine *e, const mqc_connect *cn) {
  if (!cn->has_username) return e->cfg.allow_anonymous ? 0 : MQC_RC_NOT_AUTHORIZED;
  if (!e->cfg.users) return 0;
  for (size_t i = 0; i < e->cfg.user_count; i++) {
    const mqe_user *u = &e->cfg.users[i];
    if (!mqc_bytes_eq(mqc_cstr(u->username), cn->username)) continue;
    if (cn->has_password && mqc_bytes_eq(mqc_cstr(u->password), cn->password)) return 0;
    return MQC_RC_BAD_USER_NAME_OR_PASSWORD;
  }
  return MQC_RC_BAD_USER_NAME_OR_PASSWORD;
}

const mqe_auth_method *mqe__auth_find(const mqe_engine *e, mqc_bytes name) {
  for (size_t i = 0; i < e->cfg.auth_method_count; i++)
    if (mqc_bytes_eq(mqc_cstr(e->cfg.auth_methods[i].name), name)) return &e->cfg.auth_methods[i];
  return NULL;
}

void mqe__on_auth(mqe_engine *e, mqe_conn *c, const mqc_packet *p) {
  const mqc_reasoned *a = &p->auth;
  if (!c->auth) {
    mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, "MQTT-4.12.0-7",
                   "AUTH without an Authentication Method in CONNECT");
    return;
  }
  mqc_prop pr;
  if (!mqc_props_get(&a->props, MQC_PROP_AUTHENTICATION_METHOD, &pr) ||
      !mqc_bytes_eq(pr.value, mqc_cstr(c->auth->name))) {
    mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, NULL,
                   "AUTH Authentication Method differs from CONNECT's");
    return;
  }
  mqc_bytes data = {NULL, 0};
  if (mqc_props_get(&a->props, MQC_PROP_AUTHENTICATION_DATA, &pr)) data = pr.value;
  bool connecting = c->state == MQE__S_AUTH;
  if (a->reason == MQC_RC_REAUTHENTICATE && !connecting && !c->reauth) {
    c->reauth = true; /* MQTT-4.12.1-1 */
    c->auth_step = 0;
    memset(c->auth_state, 0, sizeof c->auth_state);
  } else if (a->reason == MQC_RC_CONTINUE_AUTHENTICATION && (connecting || c->reauth)) {
    c->auth_step++;
  } else {
    mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, NULL, "unexpected AUTH reason code");
    return;
  }
  uint8_t out[MQE_AUTH_OUT_MAX];
  size_t out_n = 0;
  mqc_bytes uname = {c->username, c->username_len};
  if (connecting && c->connect_copy) {
    /* the user name is still only in the kept CONNECT */
    mqc_packet cp;
    mqc_error err;
    if (mqc_decode(c->connect_copy, c->connect_copy_len, MQC_VERSION_AUTO, MQC_FROM_CLIENT,
                   e->cfg.maximum_packet_size, &cp, &err) == MQC_OK)
      uname = cp.connect.username;
  }
  mqe_auth_result r = c->auth->step(c->auth->ctx, c->auth_step, data, uname, mqe__rand(e),
                                    c->auth_state, out, &out_n);
  if (out_n > sizeof out) out_n = sizeof out;
  if (r == MQE_AUTH_CONTINUE) {
    mqe__send_auth(e, c, MQC_RC_CONTINUE_AUTHENTICATION, out, out_n);
    return;
  }
  if (r == MQE_AUTH_FAIL && !connecting && mqe__fault(e, MQE_FAULT_REAUTH_FAILURE_KEPT)) {
    c->reauth = false;
    return;
  }
  if (r == MQE_AUTH_FAIL && connecting && mqe__fault(e, MQE_FAULT_REFUSAL_KEEPS_OPEN)) {
    (void)mqe__send_connack_refusal(e, c, MQC_RC_NOT_AUTHORIZED, "authentication failed");
    return;
  }
  if (r == MQE_AUTH_FAIL) {
    /* MQTT-4.12.0-4 / MQTT-4.12.1-2 */
    mqe__event(e, connecting ? MQE_EV_REFUSED : MQE_EV_CLOSED, c, MQC_RC_NOT_AUTHORIZED, NULL,
               "authentication failed");
    mqe__fail(e, c, MQC_RC_NOT_AUTHORIZED, NULL, "authentication failed");
    return;
  }
  if (connecting) {
    mqe__connect_resume(e, c, out, out_n);
    return;
  }
  c->reauth = false;
  mqe__send_auth(e, c, MQC_RC_SUCCESS, out, out_n);
}

/* ---- "mqcheck-challenge" ------------------------------------------------- */

void mqe_challenge_response(mqc_bytes secret, mqc_bytes nonce, uint8_t out[8]) {
  uint64_t h = 14695981039346656037ull;
  const mqc_bytes parts[3] = {secret, nonce, secret};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < parts[k].n; i++)
      h = (h ^ parts[k].p[i]) * 1099511628211ull;
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)(h >> (56 - 8 * i));
}

static mqe_auth_result challenge_step(void *ctx, unsigned step, mqc_bytes data, mqc_bytes username,
                                      uint64_t random, uint8_t state[MQE_AUTH_STATE], uint8_t *out,
                                      size_t *out_len) {
  (void)username;
  (void)data;
  const char *secret = ctx;
  if (step == 0) {
    uint64_t r2 = random * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < 8; i++) {
      state[i] = (uint8_t)(random >> (8 * i));
      state[8 + i] = (uint8_t)(r2 >> (8 * i));
    }
    memcpy(out, state, 16);
    *out_len = 16;
    return MQE_AUTH_CONTINUE;
  }
  if (step != 1 || data.n != 8) return MQE_AUTH_FAIL;
  uint8_t want[8];
  mqe_challenge_response(mqc_cstr(secret), (mqc_bytes){state, 16}, want);
  *out_len = 0;
  return memcmp(want, data.p, 8) ? MQE_AUTH_FAIL : MQE_AUTH_SUCCESS;
}

mqe_auth_method mqe_auth_challenge_method(const char *secret) {
  mqe_auth_method m = {"mqcheck-challenge", challenge_step, (void *)(uintptr_t)secret};
  return m;
}
