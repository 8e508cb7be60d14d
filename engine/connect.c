/* connect.c - CONNECT/CONNACK, client identifiers, session takeover, clean
 * start and resume, DISCONNECT. */
#include <stdio.h>

#include "internal.h"

/* Protocol level byte of a CONNECT that failed to decode, or -1. */
static int peek_level(const uint8_t *p, size_t n) {
  size_t i = 1;
  for (int k = 0; k < 4; k++, i++) { /* bounded: 4 length bytes */
    if (i >= n) return -1;
    if (!(p[i] & 0x80)) break;
  }
  i++;
  if (i + 2 > n) return -1;
  size_t name = (size_t)p[i] << 8 | p[i + 1];
  i += 2 + name;
  return i < n ? p[i] : -1;
}

static bool prop_u32(const mqc_props *ps, mqc_prop_id id, uint32_t *out) {
  mqc_prop pr;
  if (!mqc_props_get(ps, id, &pr)) return false;
  *out = pr.u;
  return true;
}

static bool strict_id_ok(mqc_bytes id) {
  if (id.n < 1 || id.n > 23) return false;
  for (size_t i = 0; i < id.n; i++) {
    uint8_t ch = id.p[i];
    bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    if (!ok) return false;
  }
  return true;
}

/* Planted deviation CLIENT_ID_UPPERCASE_REFUSED only. */
static bool has_upper(mqc_bytes id) {
  for (size_t i = 0; i < id.n; i++)
    if (id.p[i] >= 'A' && id.p[i] <= 'Z') return true;
  return false;
}

static void refuse(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *statement,
                   const char *why) {
  mqe__event(e, MQE_EV_REFUSED, c, reason, statement, why);
  c->refused = true;
  if (mqe__fault(e, MQE_FAULT_REFUSAL_KEEPS_OPEN)) {
    (void)mqe__send_connack_refusal(e, c, reason, why);
    return;
  }
  mqe__fail(e, c, reason, statement, why);
}

/* MQE_FAULT_SESSION_KEYED_BY_PREFIX: a disconnected session whose Client
 * Identifier differs from id only in its last character (sessions keyed on
 * all but the last character). */
static mqe_session *offline_by_prefix(mqe_engine *e, mqc_bytes id) {
  for (uint32_t b = 0; b < e->nbuckets; b++)
    for (mqe_session *s = e->buckets[b]; s; s = s->hnext)
      if (!s->conn && s->id_len == id.n && !memcmp(s->client_id, id.p, id.n - 1)) return s;
  return NULL;
}

typedef struct {
  bool session_present;
  bool expiry_capped;
  uint32_t expiry;
  bool assigned;
  mqc_bytes assigned_id;
  bool ka_override;
  bool resp_info;
  const uint8_t *auth_data;
  size_t auth_n;
} connack_info;

static void put_connack_props(const mqe_engine *e, const mqe_conn *c, const void *arg,
                              mqc_writer *w) {
  const connack_info *ci = arg;
  const mqe_config *g = &e->cfg;
  if (ci->expiry_capped) mqe__put_prop_int(w, MQC_PROP_SESSION_EXPIRY_INTERVAL, ci->expiry);
  if (g->receive_maximum != 65535)
    mqe__put_prop_int(w, MQC_PROP_RECEIVE_MAXIMUM, g->receive_maximum);
  if (g->maximum_qos < 2 && !mqe__fault(e, MQE_FAULT_MAXIMUM_QOS_NOT_ANNOUNCED))
    mqe__put_prop_int(w, MQC_PROP_MAXIMUM_QOS, g->maximum_qos);
  if (!g->retain_available) mqe__put_prop_int(w, MQC_PROP_RETAIN_AVAILABLE, 0);
  if (g->maximum_packet_size < MQE__MAX_PACKET_PROTOCOL)
    mqe__put_prop_int(w, MQC_PROP_MAXIMUM_PACKET_SIZE, g->maximum_packet_size);
  if (ci->assigned) mqe__put_prop_str(w, MQC_PROP_ASSIGNED_CLIENT_IDENTIFIER, ci->assigned_id);
  if (g->topic_alias_maximum)
    mqe__put_prop_int(w, MQC_PROP_TOPIC_ALIAS_MAXIMUM, g->topic_alias_maximum);
  if (!g->wildcard_available) mqe__put_prop_int(w, MQC_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, 0);
  if (!g->sub_id_available) mqe__put_prop_int(w, MQC_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0);
  if (!g->shared_available) mqe__put_prop_int(w, MQC_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 0);
  if (ci->ka_override) mqe__put_prop_int(w, MQC_PROP_SERVER_KEEP_ALIVE, c->keep_alive);
  if (ci->resp_info)
    mqe__put_prop_str(w, MQC_PROP_RESPONSE_INFORMATION, mqc_cstr(g->response_information));
  if (!c->auth && mqe__fault(e, MQE_FAULT_AUTH_METHOD_UNASKED))
    mqe__put_prop_str(w, MQC_PROP_AUTHENTICATION_METHOD, mqc_cstr("SCRAM-SHA-1"));
  if (c->auth && !mqe__fault(e, MQE_FAULT_AUTH_METHOD_NOT_REPEATED)) {
    mqe__put_prop_str(w, MQC_PROP_AUTHENTICATION_METHOD, mqc_cstr(c->auth->name));
    if (ci->auth_n)
      mqe__put_prop_str(w, MQC_PROP_AUTHENTICATION_DATA, (mqc_bytes){ci->auth_data, ci->auth_n});
  }
}

/* Accepts a validated (and authenticated) CONNECT. */
static void accept_connect(mqe_engine *e, mqe_conn *c, const mqc_connect *cn,
                           const uint8_t *auth_data, size_t auth_n) {
  bool v5 = c->ver == MQC_V5;
  connack_info ci;
  memset(&ci, 0, sizeof ci);
  ci.auth_data = auth_data;
  ci.auth_n = auth_n;
  mqc_bytes id = cn->client_id;
  char idbuf[24], shown[24];
  if (id.n == 0) {
    for (int tries = 0; tries < 16; tries++) { /* bounded */
      uint64_t r = mqe__fault(e, MQE_FAULT_ASSIGNED_ID_REUSED) ? 0 : mqe__rand(e);
      snprintf(idbuf, sizeof idbuf, "mqe-%016llx", (unsigned long long)r);
      id = mqc_cstr(idbuf);
      if (!mqe__session_find(e, id)) break;
    }
    ci.assigned = v5 && !mqe__fault(e, MQE_FAULT_NO_ASSIGNED_ID);
    ci.assigned_id = id;
    if (mqe__fault(e, MQE_FAULT_ASSIGNED_ID_NOT_USED)) { /* reports one, keeps another */
      memcpy(shown, idbuf, sizeof shown);
      shown[4] = shown[4] == '0' ? '1' : '0';
      ci.assigned_id = mqc_cstr(shown);
    }
  }
  /* the will is built first: nothing has changed if it fails */
  mqe_msg *will = NULL;
  uint32_t will_delay = 0;
  if (cn->will) {
    uint8_t wq = cn->will_qos > e->cfg.maximum_qos ? e->cfg.maximum_qos : cn->will_qos;
    bool wr = (cn->will_retain || mqe__fault(e, MQE_FAULT_WILL_ALWAYS_RETAINED)) &&
              e->cfg.retain_available;
    will = mqe__msg_new(e, cn->will_topic, id, &cn->will_props, v5, cn->will_payload, wq, wr, true);
    if (!will) {
      refuse(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for the will");
      return;
    }
    if (v5) prop_u32(&cn->will_props, MQC_PROP_WILL_DELAY_INTERVAL, &will_delay);
  }
  if (cn->has_username && cn->username.n) {
    c->username = mqe__alloc(e, cn->username.n);
    if (!c->username) {
      mqe__msg_unref(e, will);
      refuse(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory");
      return;
    }
    memcpy(c->username, cn->username.p, cn->username.n);
    c->username_len = (uint16_t)cn->username.n;
  }
  c->has_username = cn->has_username;

  mqe_session *s = mqe__session_find(e, id);
  if (s && s->conn && mqe__fault(e, MQE_FAULT_TAKEOVER_REFUSED)) {
    mqe__msg_unref(e, will);
    refuse(e, c, MQC_RC_CLIENT_IDENTIFIER_NOT_VALID, NULL, "client identifier in use");
    return;
  }
  if (s && s->conn) {
    /* MQTT-3.1.4-3 (5.0) / MQTT-3.1.4-2 (3.1.1): take the session over */
    mqe_conn *old = s->conn;
    mqe__event(e, MQE_EV_TAKEOVER, old, MQC_RC_SESSION_TAKEN_OVER, NULL, "session taken over");
    mqe__fail(e, old,
              mqe__fault(e, MQE_FAULT_TAKEOVER_WRONG_REASON) ? MQC_RC_UNSPECIFIED_ERROR
                                                             : MQC_RC_SESSION_TAKEN_OVER,
              NULL, "session taken over");
    mqe__flush_detach(e);
    s = mqe__session_find(e, id); /* it may have ended with its connection */
  }
  if (!s && !cn->clean_start && id.n && mqe__fault(e, MQE_FAULT_SESSION_KEYED_BY_PREFIX))
    s = offline_by_prefix(e, id);
  bool had = s != NULL;
  if (s && (cn->clean_start ? !mqe__fault(e, MQE_FAULT_CLEAN_START_KEEPS_SESSION)
                            : mqe__fault(e, MQE_FAULT_SESSION_NOT_RESUMED))) {
    if (s->will) mqe__will_publish(e, s); /* the old session ends now */
    mqe__session_free(e, s);
    s = NULL;
  }
  if (s) {
    ci.session_present = !cn->clean_start; /* false only under CLEAN_START_KEEPS_SESSION */
    if (mqe__fault(e, MQE_FAULT_WILL_ON_RESUME))
      mqe__will_publish(e, s);
    else if (will || !((mqe__fault(e, MQE_FAULT_WILL_KEPT_IN_SESSION) && s->will_stale) ||
                       (mqe__fault(e, MQE_FAULT_WILL_KEPT_AFTER_PUBLISH) &&
                        s->will_timer.idx == MQE__NOT_SCHEDULED))) /* already published */
      mqe__will_drop(e, s); /* MQTT-3.1.3-9: resumed in time */
    s->will_stale = false;  /* a will kept past a DISCONNECT is this connection's now */
    mqe__timer_clear(e, &s->expiry_timer);
  } else {
    if (e->nsessions >= e->cfg.max_sessions) {
      mqe__msg_unref(e, will);
      mqe__event(e, MQE_EV_LIMIT, c, MQC_RC_QUOTA_EXCEEDED, NULL, "max_sessions reached");
      refuse(e, c, v5 ? MQC_RC_QUOTA_EXCEEDED : MQC_RC_SERVER_UNAVAILABLE, NULL,
             "session limit reached");
      return;
    }
    s = mqe__session_new(e, id);
    if (!s) {
      mqe__msg_unref(e, will);
      refuse(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for the session");
      return;
    }
    /* the client's earlier session ended: so do its retained messages */
    if (mqe__fault(e, MQE_FAULT_RETAINED_ENDS_WITH_SESSION)) mqe__retain_drop_origin(e, s);
  }
  /* session expiry */
  uint32_t req = 0;
  if (v5)
    prop_u32(&cn->props, MQC_PROP_SESSION_EXPIRY_INTERVAL, &req);
  else
    req = cn->clean_start ? 0 : UINT32_MAX;
  c->connect_expiry = req;
  uint32_t exp = req > e->cfg.max_session_expiry ? e->cfg.max_session_expiry : req;
  ci.expiry_capped = v5 && exp != req;
  ci.expiry = exp;
  s->expiry = exp;
  s->version = c->ver;
  /* WILL_NOT_KEPT: the will lives with the connection, not the session, so
   * one due only later (a Will Delay) is lost; one due at once still goes */
  if (will && will_delay && mqe__fault(e, MQE_FAULT_WILL_NOT_KEPT)) {
    mqe__msg_unref(e, will);
    will = NULL;
  }
  if (will || !(mqe__fault(e, MQE_FAULT_WILL_KEPT_IN_SESSION) ||
                mqe__fault(e, MQE_FAULT_WILL_KEPT_AFTER_PUBLISH))) {
    s->will = will;
    s->will_delay = will_delay;
  }
  /* keep-alive and the client's limits */
  if (e->cfg.server_keep_alive >= 0) {
    c->keep_alive = (uint16_t)(e->cfg.server_keep_alive > 65535 ? 65535 : e->cfg.server_keep_alive);
    ci.ka_override = v5;
  } else if (v5 && e->cfg.max_keep_alive &&
             (!cn->keep_alive || cn->keep_alive > e->cfg.max_keep_alive)) {
    c->keep_alive = e->cfg.max_keep_alive; /* a cap only a 5.0 client can be told */
    ci.ka_override = true;
  } else if (v5 && mqe__fault(e, MQE_FAULT_KEEPALIVE_HALVED)) {
    c->keep_alive = (uint16_t)((cn->keep_alive + 1u) / 2u); /* and no Server Keep Alive */
  } else {
    c->keep_alive = cn->keep_alive;
  }
  uint32_t u;
  c->send_max = e->cfg.max_inflight;
  c->client_max_packet = UINT32_MAX;
  c->out_alias_max = 0;
  c->problem_info = true;
  if (v5) {
    if (prop_u32(&cn->props, MQC_PROP_RECEIVE_MAXIMUM, &u) && u && u < c->send_max &&
        !mqe__fault(e, MQE_FAULT_RECEIVE_MAXIMUM_IGNORED))
      c->send_max = (uint16_t)u;
    if (c->send_max < 65535 && mqe__fault(e, MQE_FAULT_RECEIVE_MAXIMUM_PLUS_ONE)) c->send_max++;
    if (prop_u32(&cn->props, MQC_PROP_MAXIMUM_PACKET_SIZE, &u) && u) c->client_max_packet = u;
    if (prop_u32(&cn->props, MQC_PROP_TOPIC_ALIAS_MAXIMUM, &u))
      c->out_alias_max = (uint16_t)((u < e->cfg.outbound_aliases ? u : e->cfg.outbound_aliases) +
                                    (u && mqe__fault(e, MQE_FAULT_ALIAS_ABOVE_CLIENT_MAX)));
    else if (mqe__fault(e, MQE_FAULT_ALIAS_WITHOUT_CLIENT_MAX))
      c->out_alias_max = 16;
    if (prop_u32(&cn->props, MQC_PROP_REQUEST_PROBLEM_INFORMATION, &u))
      c->problem_info = u != 0 || mqe__fault(e, MQE_FAULT_PROBLEM_INFO_IGNORED);
    ci.resp_info = e->cfg.response_information &&
                   ((prop_u32(&cn->props, MQC_PROP_REQUEST_RESPONSE_INFORMATION, &u) && u == 1) ||
                    mqe__fault(e, MQE_FAULT_RESPONSE_INFO_UNREQUESTED));
  }
  s->conn = c;
  c->sess = s;
  c->state = MQE__S_CONNECTED;
  if (s->kept_alias && !c->in_alias) { /* planted deviation ALIAS_KEPT_ACROSS_CONNECTIONS */
    c->in_alias = s->kept_alias;
    s->kept_alias = NULL;
  }
  /* the session's traffic (in-flight re-sends, then queued messages) goes
   * out before the CONNACK instead of after it, and only once */
  bool early = ci.session_present && mqe__fault(e, MQE_FAULT_PUBLISH_BEFORE_CONNACK);
  if (early && !mqe__fault(e, MQE_FAULT_INFLIGHT_NOT_RESENT)) mqe__resend_inflight(e, s);
  if (early) mqe__pump(e, s);
  bool sp = ci.session_present;
  if (mqe__fault(e, MQE_FAULT_SESSION_PRESENT_ZERO)) sp = false;
  if (mqe__fault(e, MQE_FAULT_SESSION_PRESENT_NEW) && !cn->clean_start) sp = true;
  if (mqe__fault(e, MQE_FAULT_SESSION_PRESENT_CLEAN) && cn->clean_start) sp = true;
  if (mqe__fault(e, MQE_FAULT_SESSION_NOT_RESUMED) && had && !cn->clean_start) sp = true;
  if (c->ver == MQC_V31) sp = false; /* 3.1 has no Session Present: the flags byte is unused */
  uint8_t code = 0;
  if (mqe__fault(e, MQE_FAULT_ACCEPTED_NONZERO_CODE)) {
    /* a refusal's code says no Session Present (MQTT-3.2.2-4/-6): only the
     * code is wrong, the packet stays well-formed */
    code = c->ver == MQC_V5 ? MQC_RC_SERVER_UNAVAILABLE : 0x03;
    sp = false;
  }
  if (!mqe__send_connack(e, c, sp, code, put_connack_props, &ci)) {
    mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for CONNACK");
    return;
  }
  if (mqe__fault(e, MQE_FAULT_SECOND_CONNACK))
    (void)mqe__send_connack(e, c, sp, 0, put_connack_props, &ci);
  mqe__event(e, MQE_EV_CONNECTED, c, 0, NULL,
             ci.session_present ? "connected, session resumed" : "connected, new session");
  if (c->keep_alive)
    mqe__timer_set(e, &c->timer, e->now + (uint64_t)c->keep_alive * 1500u);
  else
    mqe__timer_clear(e, &c->timer);
  if (ci.session_present && !early && !mqe__fault(e, MQE_FAULT_INFLIGHT_NOT_RESENT))
    mqe__resend_inflight(e, s);
  mqe__pump(e, s);
}

void mqe__connect_resume(mqe_engine *e, mqe_conn *c, const uint8_t *auth_data, size_t auth_n) {
  mqc_packet pkt;
  mqc_error err;
  mqc_status st = mqc_decode(c->connect_copy, c->connect_copy_len, MQC_VERSION_AUTO,
                             MQC_FROM_CLIENT, e->cfg.maximum_packet_size, &pkt, &err);
  assert(st == MQC_OK); /* it decoded once already */
  (void)st;
  accept_connect(e, c, &pkt.connect, auth_data, auth_n);
  mqe__free(e, c->connect_copy, c->connect_copy_len);
  c->connect_copy = NULL;
  c->connect_copy_len = 0;
}

void mqe__on_connect(mqe_engine *e, mqe_conn *c, const uint8_t *buf, size_t len) {
  mqc_packet pkt;
  mqc_error err;
  mqc_status st = mqc_decode(buf, len, MQC_VERSION_AUTO, MQC_FROM_CLIENT,
                             e->cfg.maximum_packet_size, &pkt, &err);
  if (st != MQC_OK) {
    int lvl = peek_level(buf, len);
    uint8_t reason = err.reason ? err.reason : MQC_RC_MALFORMED_PACKET;
    if (lvl == 5)
      c->ver = MQC_V5;
    else if (lvl == 3 || lvl == 4)
      c->ver = (mqc_version)lvl;
    if (mqe__fault_codec(e, 0, err.statement) ||
        (!err.statement && mqe__fault(e, MQE_FAULT_ACCEPT_MALFORMED_CONNECT))) {
      c->ver = 0;
      return;
    }
    if (reason == MQC_RC_UNSUPPORTED_PROTOCOL_VERSION || (lvl != 3 && lvl != 4 && lvl != 5)) {
      /* MQTT-3.1.2-2 (3.1.1): CONNACK 0x01 then close */
      c->ver = MQC_V311;
      mqe__event(e, MQE_EV_VIOLATION, c, MQC_RC_UNSUPPORTED_PROTOCOL_VERSION, err.statement,
                 err.message ? err.message : "unsupported protocol");
      refuse(e, c,
             mqe__fault(e, MQE_FAULT_UNSUPPORTED_LEVEL_NO_CONNACK)
                 ? MQC_RC_PROTOCOL_ERROR
                 : MQC_RC_UNSUPPORTED_PROTOCOL_VERSION,
             err.statement, "unsupported protocol");
      return;
    }
    mqe__violation(e, c, reason, err.statement, err.message ? err.message : mqc_strerror(st));
    return;
  }
  const mqc_connect *cn = &pkt.connect;
  c->ver = (mqc_version)cn->level;
  bool v5 = c->ver == MQC_V5;
  if (v5) {
    /* known before any refusal: a refusing CONNACK must respect them too */
    uint32_t lim;
    if (prop_u32(&cn->props, MQC_PROP_MAXIMUM_PACKET_SIZE, &lim) && lim) c->client_max_packet = lim;
    if (prop_u32(&cn->props, MQC_PROP_REQUEST_PROBLEM_INFORMATION, &lim))
      c->problem_info = lim != 0;
  }
  mqc_bytes id = cn->client_id;
  /* client identifier rules */
  if (id.n == 0 && c->ver != MQC_V5 && !cn->clean_start &&
      !mqe__fault(e, MQE_FAULT_EMPTY_ID_PERSISTENT_ACCEPTED)) {
    mqe__event(e, MQE_EV_VIOLATION, c, MQC_RC_CLIENT_IDENTIFIER_NOT_VALID, "MQTT-3.1.3-7",
               "empty client identifier with Clean Session 0");
    refuse(e, c, MQC_RC_CLIENT_IDENTIFIER_NOT_VALID, "MQTT-3.1.3-8", "empty client id");
    return;
  }
  if (id.n == 0 && (!e->cfg.assign_client_ids || c->ver == MQC_V31)) {
    refuse(e, c,
           mqe__fault(e, MQE_FAULT_EMPTY_ID_WRONG_CODE) ? MQC_RC_NOT_AUTHORIZED
                                                        : MQC_RC_CLIENT_IDENTIFIER_NOT_VALID,
           v5 ? "MQTT-3.1.3-8" : "MQTT-3.1.3-9", "empty client identifier not accepted");
    return;
  }
  if (id.n &&
      ((e->cfg.strict_client_ids && !strict_id_ok(id)) || (c->ver == MQC_V31 && id.n > 23) ||
       (mqe__fault(e, MQE_FAULT_CLIENT_ID_UPPERCASE_REFUSED) && has_upper(id)))) {
    refuse(e, c, MQC_RC_CLIENT_IDENTIFIER_NOT_VALID, v5 ? "MQTT-3.1.3-8" : "MQTT-3.1.3-9",
           "client identifier rejected");
    return;
  }
  /* will checks */
  if (cn->will) {
    if (v5 && cn->will_qos > e->cfg.maximum_qos &&
        !mqe__fault(e, MQE_FAULT_WILL_QOS_ABOVE_MAX_ACCEPTED)) {
      refuse(e, c, MQC_RC_QOS_NOT_SUPPORTED, "MQTT-3.2.2-12", "will QoS above Maximum QoS");
      return;
    }
    if (v5 && cn->will_retain && !e->cfg.retain_available &&
        !mqe__fault(e, MQE_FAULT_WILL_RETAIN_ACCEPTED)) {
      refuse(e, c, MQC_RC_RETAIN_NOT_SUPPORTED, "MQTT-3.2.2-13", "will retain unsupported");
      return;
    }
    if (!mqe__split(e, cn->will_topic)) {
      mqe__event(e, MQE_EV_LIMIT, c, MQC_RC_QUOTA_EXCEEDED, NULL, "will topic too deep");
      refuse(e, c, v5 ? MQC_RC_QUOTA_EXCEEDED : MQC_RC_SERVER_UNAVAILABLE, NULL,
             "will topic has too many levels");
      return;
    }
    if (e->cfg.acl && !e->cfg.acl(e->cfg.acl_ctx, MQE_ACL_WILL, id, cn->username, cn->will_topic)) {
      refuse(e, c, MQC_RC_NOT_AUTHORIZED, NULL, "will topic not authorised");
      return;
    }
  }
  int pw = mqe__fault(e, MQE_FAULT_BAD_PASSWORD_ACCEPTED) ? 0 : mqe__password_check(e, cn);
  if (pw) {
    refuse(e, c, (uint8_t)pw, NULL,
           pw == MQC_RC_NOT_AUTHORIZED ? "not authorised" : "bad user name or password");
    return;
  }
  mqc_prop am;
  if (v5 && mqc_props_get(&cn->props, MQC_PROP_AUTHENTICATION_METHOD, &am)) {
    const mqe_auth_method *m = mqe__auth_find(e, am.value);
    if (!m && mqe__fault(e, MQE_FAULT_AUTH_UNKNOWN_METHOD_ACCEPTED)) {
      accept_connect(e, c, cn, NULL, 0);
      return;
    }
    if (!m) {
      refuse(e, c, MQC_RC_BAD_AUTHENTICATION_METHOD, "MQTT-4.12.0-1",
             "unsupported authentication method");
      return;
    }
    c->auth = m;
    c->auth_step = 0;
    memset(c->auth_state, 0, sizeof c->auth_state);
    mqc_prop ad;
    mqc_bytes data = {NULL, 0};
    if (mqc_props_get(&cn->props, MQC_PROP_AUTHENTICATION_DATA, &ad)) data = ad.value;
    uint8_t out[MQE_AUTH_OUT_MAX];
    size_t out_n = 0;
    mqe_auth_result r =
        m->step(m->ctx, 0, data, cn->username, mqe__rand(e), c->auth_state, out, &out_n);
    if (out_n > sizeof out) out_n = sizeof out;
    if (r == MQE_AUTH_FAIL) {
      refuse(e, c, MQC_RC_NOT_AUTHORIZED, "MQTT-4.12.0-4", "authentication failed");
      return;
    }
    if (r == MQE_AUTH_CONTINUE) {
      c->connect_copy = mqe__alloc(e, len);
      if (!c->connect_copy) {
        refuse(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory");
        return;
      }
      memcpy(c->connect_copy, buf, len);
      c->connect_copy_len = len;
      c->state = MQE__S_AUTH;
      mqe__send_auth(e, c,
                     mqe__fault(e, MQE_FAULT_AUTH_WRONG_REASON) ? MQC_RC_SUCCESS
                                                                : MQC_RC_CONTINUE_AUTHENTICATION,
                     out, out_n);
      return;
    }
    accept_connect(e, c, cn, out, out_n);
    return;
  }
  accept_connect(e, c, cn, NULL, 0);
}

static void close_quiet(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *why) {
  mqe__event(e, MQE_EV_DISCONNECTED, c, reason, NULL, why);
  c->state = MQE__S_CLOSING;
  mqe__timer_clear(e, &c->timer);
  mqe__mark_output(e, c);
  if (c->sess && !c->detach_pending) {
    c->detach_pending = true;
    c->detach_will = !c->will_cancelled;
    c->dnext = e->dhead;
    e->dhead = c;
  }
}

void mqe__on_disconnect(mqe_engine *e, mqe_conn *c, const mqc_packet *p) {
  if (c->ver != MQC_V5) {
    c->will_cancelled = !mqe__fault(e, MQE_FAULT_WILL_AFTER_DISCONNECT); /* MQTT-3.1.2-10 (3.1.1) */
    close_quiet(e, c, 0, "DISCONNECT");
    return;
  }
  uint8_t reason = p->disconnect.reason;
  uint32_t exp;
  if (prop_u32(&p->disconnect.props, MQC_PROP_SESSION_EXPIRY_INTERVAL, &exp) && c->sess) {
    if (c->connect_expiry == 0 && exp != 0) {
      mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, NULL,
                     "DISCONNECT sets a Session Expiry Interval after CONNECT had 0");
      return;
    }
    c->sess->expiry = exp > e->cfg.max_session_expiry ? e->cfg.max_session_expiry : exp;
  }
  if (reason == MQC_RC_SUCCESS) /* MQTT-3.14.4-3 */
    c->will_cancelled = !mqe__fault(e, MQE_FAULT_WILL_AFTER_DISCONNECT);
  close_quiet(e, c, reason,
              reason == MQC_RC_SUCCESS                ? "DISCONNECT: normal"
              : reason == MQC_RC_DISCONNECT_WITH_WILL ? "DISCONNECT: with will"
                                                      : "DISCONNECT: client error");
}
