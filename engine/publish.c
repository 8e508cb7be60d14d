/* publish.c - inbound PUBLISH (QoS 0/1/2, topic aliases, retain, ACL) and the
 * acknowledgement packets from the client. Messages are copied once into a
 * refcounted mqe_msg shared by every queue. */
#include "internal.h"

static bool fwd_prop(const mqe_engine *e, mqc_prop_id id) {
  if ((id == MQC_PROP_PAYLOAD_FORMAT_INDICATOR && mqe__fault(e, MQE_FAULT_DROP_PAYLOAD_FORMAT)) ||
      (id == MQC_PROP_CONTENT_TYPE && mqe__fault(e, MQE_FAULT_DROP_CONTENT_TYPE)) ||
      (id == MQC_PROP_RESPONSE_TOPIC && mqe__fault(e, MQE_FAULT_DROP_RESPONSE_TOPIC)) ||
      (id == MQC_PROP_CORRELATION_DATA && mqe__fault(e, MQE_FAULT_DROP_CORRELATION_DATA)) ||
      (id == MQC_PROP_USER_PROPERTY && mqe__fault(e, MQE_FAULT_DROP_USER_PROPERTIES)))
    return false;
  /* forwarded unchanged, in order: payload format, content type, response
   * topic, correlation data, user properties (MQTT-3.3.2-4, MQTT-3.1.3-10).
   * Topic alias, expiry (rewritten), subscription ids and will delay are not. */
  return id != MQC_PROP_TOPIC_ALIAS && id != MQC_PROP_MESSAGE_EXPIRY_INTERVAL &&
         id != MQC_PROP_SUBSCRIPTION_IDENTIFIER && id != MQC_PROP_WILL_DELAY_INTERVAL;
}

mqe_msg *mqe__msg_new(mqe_engine *e, mqc_bytes topic, mqc_bytes origin, const mqc_props *props,
                      bool v5, mqc_bytes payload, uint8_t qos, bool retain, bool will) {
  size_t plen = 0;
  bool has_exp = false;
  uint32_t exp = 0;
  mqc_prop_iter it;
  mqc_prop pr;
  if (v5 && props && props->raw.n) {
    mqc_writer sz;
    mqc_writer_init(&sz, NULL, 0);
    mqc_prop_iter_init(&it, props);
    while (mqc_prop_next(&it, &pr)) { /* bounded by the validated block */
      if (pr.id == MQC_PROP_MESSAGE_EXPIRY_INTERVAL) {
        has_exp = true;
        exp = pr.u;
      }
      if (fwd_prop(e, pr.id)) mqc_put_prop(&sz, &pr);
    }
    plen = sz.len;
  }
  if (topic.n > 65535 || origin.n > 65535 || payload.n > UINT32_MAX || plen > UINT32_MAX)
    return NULL;
  size_t size = sizeof(mqe_msg) + topic.n + origin.n + plen + payload.n;
  mqe_msg *m = mqe__alloc(e, size);
  if (!m) return NULL;
  m->refs = 1;
  m->qos = qos;
  m->retain = retain;
  m->has_expiry = has_exp;
  m->dup_in = false;
  m->expire_at = has_exp ? e->now + (uint64_t)exp * 1000u : 0;
  m->topic_len = (uint16_t)topic.n;
  m->origin_len = (uint16_t)origin.n;
  m->props_len = (uint32_t)plen;
  m->payload_len = (uint32_t)payload.n;
  m->size = size;
  uint8_t *d = m->data;
  if (topic.n) memcpy(d, topic.p, topic.n);
  if (origin.n) memcpy(d + topic.n, origin.p, origin.n);
  if (plen) {
    mqc_writer w;
    mqc_writer_init(&w, d + topic.n + origin.n, plen);
    /* planted deviations: the first User Property goes out last */
    bool move = mqe__fault(e, will ? MQE_FAULT_WILL_USER_PROPERTIES_REORDERED
                                   : MQE_FAULT_USER_PROPERTIES_REORDERED),
         held = false;
    mqc_prop first_up = {0};
    mqc_prop_iter_init(&it, props);
    while (mqc_prop_next(&it, &pr)) {
      if (!fwd_prop(e, pr.id)) continue;
      if (move && !held && pr.id == MQC_PROP_USER_PROPERTY) {
        first_up = pr;
        held = true;
        continue;
      }
      mqc_put_prop(&w, &pr);
    }
    if (held) mqc_put_prop(&w, &first_up);
    assert(mqc_writer_ok(&w) && w.len == plen);
  }
  if (payload.n) memcpy(d + topic.n + origin.n + plen, payload.p, payload.n);
  return m;
}

void mqe__msg_unref(mqe_engine *e, mqe_msg *m) {
  if (!m) return;
  assert(m->refs > 0);
  if (--m->refs == 0) mqe__free(e, m, m->size);
}

bool mqe__msg_expired(const mqe_msg *m, uint64_t now) {
  return m->has_expiry && now >= m->expire_at;
}

/* ---- inbound QoS 2 packet identifiers (session state) -------------------- */
static bool qos2_find(const mqe_session *s, uint16_t pid, uint32_t *at) {
  for (uint32_t i = 0; i < s->qos2_in_n; i++)
    if (s->qos2_in[i] == pid) {
      *at = i;
      return true;
    }
  return false;
}

static bool qos2_add(mqe_engine *e, mqe_session *s, uint16_t pid) {
  if (s->qos2_in_n == s->qos2_in_cap) {
    uint32_t cap = s->qos2_in_cap ? s->qos2_in_cap * 2 : 8;
    if (cap > 65536) cap = 65536;
    if (cap == s->qos2_in_cap) return false;
    uint16_t *a = mqe__alloc(e, cap * sizeof *a);
    if (!a) return false;
    if (s->qos2_in_n) memcpy(a, s->qos2_in, s->qos2_in_n * sizeof *a);
    mqe__free(e, s->qos2_in, s->qos2_in_cap * sizeof *a);
    s->qos2_in = a;
    s->qos2_in_cap = cap;
  }
  s->qos2_in[s->qos2_in_n++] = pid;
  return true;
}

static void qos2_remove(mqe_engine *e, mqe_session *s, uint32_t at) {
  s->qos2_in[at] = s->qos2_in[--s->qos2_in_n];
  if (s->qos2_in_n == 0) {
    mqe__free(e, s->qos2_in, s->qos2_in_cap * sizeof *s->qos2_in);
    s->qos2_in = NULL;
    s->qos2_in_cap = 0;
  }
}

static void note(mqe_engine *e, mqe_conn *c, const char *statement, const char *msg) {
  mqe__event(e, MQE_EV_VIOLATION, c, 0, statement, msg);
}

static bool alias_store(mqe_engine *e, mqe_conn *c, uint16_t a, mqc_bytes topic) {
  uint16_t max = e->cfg.topic_alias_maximum;
  if (!c->in_alias) {
    c->in_alias = mqe__zalloc(e, max * sizeof *c->in_alias);
    if (!c->in_alias) return false;
  }
  mqe_alias *slot = &c->in_alias[a - 1];
  if (slot->n != topic.n) {
    uint8_t *p = mqe__alloc(e, topic.n);
    if (!p) return false;
    mqe__free(e, slot->p, slot->n);
    slot->p = p;
    slot->n = (uint16_t)topic.n;
  }
  memcpy(slot->p, topic.p, topic.n);
  return true;
}

void mqe__on_publish(mqe_engine *e, mqe_conn *c, const mqc_packet *p) {
  const mqc_publish *pb = &p->publish;
  mqe_session *s = c->sess;
  bool v5 = c->ver == MQC_V5;
  uint8_t qos = pb->qos;
  if (qos > e->cfg.maximum_qos) {
    mqe__violation(e, c, MQC_RC_QOS_NOT_SUPPORTED, v5 ? "MQTT-3.2.2-11" : NULL,
                   "PUBLISH QoS above the server's Maximum QoS");
    return;
  }
  if (pb->retain && !e->cfg.retain_available) {
    mqe__violation(e, c, MQC_RC_RETAIN_NOT_SUPPORTED, v5 ? "MQTT-3.2.2-14" : NULL,
                   "PUBLISH with RETAIN while Retain Available is 0");
    return;
  }
  mqc_bytes topic = pb->topic;
  if (v5) {
    mqc_prop pr;
    if (mqc_props_has(&pb->props, MQC_PROP_SUBSCRIPTION_IDENTIFIER)) {
      mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, "MQTT-3.3.4-6",
                     "PUBLISH from a client carries a Subscription Identifier");
      return;
    }
    if (mqc_props_get(&pb->props, MQC_PROP_TOPIC_ALIAS, &pr)) {
      if (pr.u == 0 || pr.u > e->cfg.topic_alias_maximum ||
          (pr.u == e->cfg.topic_alias_maximum && mqe__fault(e, MQE_FAULT_ALIAS_MAX_REFUSED))) {
        mqe__violation(e, c, MQC_RC_TOPIC_ALIAS_INVALID,
                       pr.u == 0 ? "MQTT-3.3.2-8" : "MQTT-3.3.2-9", "Topic Alias out of range");
        return;
      }
      uint16_t a = (uint16_t)pr.u;
      if (topic.n) {
        if (!alias_store(e, c, a, topic)) {
          mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for topic alias");
          return;
        }
      } else if (!c->in_alias || !c->in_alias[a - 1].p) {
        mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, NULL, "Topic Alias not yet mapped");
        return;
      } else {
        topic = (mqc_bytes){c->in_alias[a - 1].p, c->in_alias[a - 1].n};
      }
    } else if (topic.n == 0) {
      mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, "MQTT-3.3.2-1",
                     "empty Topic Name without Topic Alias");
      return;
    }
  }
  uint16_t pid = pb->packet_id;
  uint32_t at;
  if (qos == 1 && pb->dup && mqe__fault(e, MQE_FAULT_QOS1_DUP_DROPPED)) {
    mqe__send_simple(e, c, MQC_PUBACK, pid, 0);
    return;
  }
  if (qos == 2 && qos2_find(s, pid, &at) && !mqe__fault(e, MQE_FAULT_QOS2_DUPLICATE_DELIVERED)) {
    /* MQTT-4.3.3-10: a duplicate before PUBREL is acknowledged, not re-sent */
    mqe__send_simple(e, c, MQC_PUBREC, pid, 0);
    return;
  }
  if (qos == 2 && v5 && s->qos2_in_n >= e->cfg.receive_maximum) {
    mqe__violation(e, c, MQC_RC_RECEIVE_MAXIMUM_EXCEEDED, "MQTT-3.3.4-7",
                   "more QoS 2 PUBLISH in flight than Receive Maximum");
    return;
  }
  e->st.msgs_in++;
  uint8_t reason = 0;
  uint32_t nlev = mqe__split(e, topic);
  mqc_bytes uname = {c->username, c->username_len};
  if (!nlev) {
    mqe__event(e, MQE_EV_LIMIT, c, MQC_RC_QUOTA_EXCEEDED, NULL, "topic has too many levels");
    reason = MQC_RC_QUOTA_EXCEEDED;
  } else if (e->cfg.acl &&
             !e->cfg.acl(e->cfg.acl_ctx, MQE_ACL_PUBLISH,
                         (mqc_bytes){(const uint8_t *)s->client_id, s->id_len}, uname, topic)) {
    reason = MQC_RC_NOT_AUTHORIZED; /* 3.x: positive ack, MQTT-3.3.5-2 */
  } else {
    mqe_msg *m = mqe__msg_new(e, topic, (mqc_bytes){(const uint8_t *)s->client_id, s->id_len},
                              &pb->props, v5, pb->payload, qos, pb->retain, false);
    if (m) m->dup_in = pb->dup;
    if (!m) {
      if (!v5 && qos) {
        mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for a message");
        return;
      }
      reason = MQC_RC_UNSPECIFIED_ERROR;
    } else {
      if (pb->retain || mqe__fault(e, MQE_FAULT_NON_RETAINED_REPLACES)) {
        reason = mqe__retain(e, m, nlev);
        if (reason) mqe__event(e, MQE_EV_LIMIT, c, reason, NULL, "retained store full");
      }
      if (!reason || !v5 || !qos) {
        mqe_route_result rr = mqe__route(e, m, nlev, c);
        if (!reason && rr.matched == 0)
          reason = MQC_RC_NO_MATCHING_SUBSCRIBERS;
        else if (!reason && rr.queued == 0)
          reason = rr.nomem ? MQC_RC_UNSPECIFIED_ERROR : MQC_RC_QUOTA_EXCEEDED;
      }
      mqe__msg_unref(e, m);
    }
  }
  if (qos == 0) return;
  if (qos == 1 && mqe__fault(e, MQE_FAULT_NO_PUBACK)) return;
  if (qos == 1 && s->inflight.n >= c->send_max && mqe__fault(e, MQE_FAULT_ZERO_QUOTA_NO_PUBACK))
    return;
  if (reason == MQC_RC_NOT_AUTHORIZED && mqe__fault(e, MQE_FAULT_NOT_AUTHORIZED_NO_ACK)) return;
  if (qos == 2 && mqe__fault(e, MQE_FAULT_NO_PUBREC)) return;
  if (!v5) reason = 0;
  if (qos == 1) {
    mqe__send_simple(e, c, MQC_PUBACK, (uint16_t)(pid + mqe__fault(e, MQE_FAULT_PUBACK_WRONG_ID)),
                     reason);
    return;
  }
  if ((reason < 0x80 || mqe__fault(e, MQE_FAULT_FAILED_PUBREC_ID_KEPT)) && !qos2_add(e, s, pid))
    reason = MQC_RC_QUOTA_EXCEEDED;
  if (!v5 && reason) {
    mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for QoS 2 state");
    return;
  }
  mqe__send_simple(e, c, MQC_PUBREC, (uint16_t)(pid + mqe__fault(e, MQE_FAULT_PUBREC_WRONG_ID)),
                   reason);
}

static mqe_qent *inflight_find(mqe_session *s, uint16_t pid) {
  /* acknowledgements mostly come in send order: the head first */
  if (s->inflight.head && s->inflight.head->pid == pid) return s->inflight.head;
  for (mqe_qent *q = s->inflight.head; q; q = q->next)
    if (q->pid == pid) return q;
  return NULL;
}

bool mqe__shared_reoffer(mqe_engine *e, mqe_session *s, mqe_msg *m) {
  for (mqe_sub *sub = s->subs; sub; sub = sub->snext) {
    if (!sub->group) continue;
    for (mqe_sub *o = sub->group->members; o; o = o->nnext) {
      if (o->sess == s) continue;
      uint8_t qos = m->qos < o->opts.max_qos ? m->qos : o->opts.max_qos;
      if (mqe__deliver_one(e, o->sess, m, qos, false, 0)) mqe__pump(e, o->sess);
      break;
    }
    return true;
  }
  return false;
}

void mqe__on_ack(mqe_engine *e, mqe_conn *c, const mqc_packet *p) {
  mqe_session *s = c->sess;
  bool v5 = c->ver == MQC_V5;
  uint16_t pid = p->ack.packet_id;
  uint8_t reason = p->ack.reason;
  mqe_qent *q;
  uint32_t at;
  switch (p->type) {
  case MQC_PUBACK:
    q = inflight_find(s, pid);
    if (!q && mqe__fault(e, MQE_FAULT_WRONG_PUBACK_ACCEPTED)) q = s->inflight.head;
    if (!q || q->qos != 1) {
      note(e, c, v5 ? "MQTT-2.2.1-5" : "MQTT-2.3.1-6", "PUBACK for an unknown packet id");
      return;
    }
    if (v5 && reason >= 0x80 && mqe__fault(e, MQE_FAULT_FAILED_PUBACK_KEPT)) return;
    if (v5 && reason >= 0x80 && mqe__fault(e, MQE_FAULT_SHARED_REFUSED_REOFFERED))
      mqe__shared_reoffer(e, s, q->msg);
    mqe__qlist_remove(&s->inflight, q);
    mqe__qent_free(e, q);
    mqe__pump(e, s);
    return;
  case MQC_PUBREC:
    q = inflight_find(s, pid);
    if (!q && mqe__fault(e, MQE_FAULT_WRONG_PUBREC_ACCEPTED)) q = s->inflight.head;
    if (!q || q->qos != 2) {
      note(e, c, v5 ? "MQTT-2.2.1-5" : "MQTT-2.3.1-6", "PUBREC for an unknown packet id");
      if (v5) mqe__send_simple(e, c, MQC_PUBREL, pid, MQC_RC_PACKET_IDENTIFIER_NOT_FOUND);
      return;
    }
    if (q->state == MQE__Q_WAIT_ACK && v5 && reason >= 0x80) {
      /* MQTT-4.4.0-2: acknowledged, never retransmitted */
      mqe__qlist_remove(&s->inflight, q);
      mqe__qent_free(e, q);
      mqe__pump(e, s);
      return;
    }
    if (q->state == MQE__Q_WAIT_ACK) {
      q->state = MQE__Q_WAIT_COMP;
      if (!mqe__fault(e, MQE_FAULT_PUBLISH_RESENT_AFTER_PUBREC)) {
        mqe__msg_unref(e, q->msg);
        q->msg = NULL;
      }
    }
    if (mqe__fault(e, MQE_FAULT_NO_PUBREL)) return;
    mqe__send_simple(e, c, MQC_PUBREL,
                     (uint16_t)(q->pid + mqe__fault(e, MQE_FAULT_PUBREL_WRONG_ID)), 0);
    return;
  case MQC_PUBCOMP:
    q = inflight_find(s, pid);
    if (!q || q->state != MQE__Q_WAIT_COMP) {
      note(e, c, v5 ? "MQTT-2.2.1-5" : "MQTT-2.3.1-6", "PUBCOMP for an unknown packet id");
      return;
    }
    mqe__qlist_remove(&s->inflight, q);
    mqe__qent_free(e, q);
    mqe__pump(e, s);
    return;
  case MQC_PUBREL:
    if (qos2_find(s, pid, &at)) {
      if (!mqe__fault(e, MQE_FAULT_QOS2_ID_NOT_RELEASED)) qos2_remove(e, s, at);
      mqe__send_simple(e, c, MQC_PUBCOMP,
                       (uint16_t)(pid + mqe__fault(e, MQE_FAULT_PUBCOMP_WRONG_ID)), 0);
    } else {
      mqe__send_simple(e, c, MQC_PUBCOMP, pid, v5 ? MQC_RC_PACKET_IDENTIFIER_NOT_FOUND : 0);
    }
    return;
  default:
    assert(!"not an ack");
  }
}
