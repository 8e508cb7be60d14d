/* deliver.c - routing a message to subscribed sessions, the per-session
 * delivery queue, flow control (Receive Maximum) and redelivery. */
#include "internal.h"

void mqe__qlist_push(mqe_qlist *l, mqe_qent *q) {
  q->next = NULL;
  q->prev = l->tail;
  if (l->tail)
    l->tail->next = q;
  else
    l->head = q;
  l->tail = q;
  l->n++;
}

static void qlist_push_front(mqe_qlist *l, mqe_qent *q) {
  q->prev = NULL;
  q->next = l->head;
  if (l->head)
    l->head->prev = q;
  else
    l->tail = q;
  l->head = q;
  l->n++;
}

void mqe__qlist_remove(mqe_qlist *l, mqe_qent *q) {
  if (q->prev)
    q->prev->next = q->next;
  else
    l->head = q->next;
  if (q->next)
    q->next->prev = q->prev;
  else
    l->tail = q->prev;
  q->next = q->prev = NULL;
  assert(l->n > 0);
  l->n--;
}

void mqe__qent_free(mqe_engine *e, mqe_qent *q) {
  mqe__msg_unref(e, q->msg);
  mqe__free(e, q, q->size);
}

static mqe_qent *qent_new(mqe_engine *e, mqe_msg *m, uint8_t qos, bool retain, uint8_t nsub) {
  size_t size = sizeof(mqe_qent) + nsub * sizeof(uint32_t);
  mqe_qent *q = mqe__alloc(e, size);
  if (!q) return NULL;
  memset(q, 0, sizeof *q);
  q->size = size;
  q->msg = m;
  m->refs++;
  q->qos = qos;
  q->retain = retain;
  q->nsubids = nsub;
  q->state = MQE__Q_QUEUED;
  return q;
}

static bool pid_in_use(const mqe_session *s, uint16_t pid) {
  for (const mqe_qent *q = s->inflight.head; q; q = q->next)
    if (q->pid == pid) return true;
  return false;
}

/* MQTT-2.2.1-4: a non-zero identifier not in use. The in-flight list is
 * bounded below 65535 entries, so a free one exists. Scanning the list per
 * identifier cost a third of serve's time in a 1 -> 50 QoS 1 fan-out, so one
 * scan measures the run of free identifiers from next_pid on (cyclic distance
 * to the nearest one in flight); acknowledgements only free identifiers, so
 * the run stays free until it is used up. */
static uint16_t alloc_pid(mqe_session *s) {
  if (s->pid_free_run == 0) {
    uint32_t run = 65535;
    for (const mqe_qent *q = s->inflight.head; q; q = q->next) {
      uint32_t d = ((uint32_t)q->pid + 65535u - s->next_pid) % 65535u;
      if (d < run) run = d;
    }
    s->pid_free_run = (uint16_t)run; /* run <= 65535 */
  }
  if (s->pid_free_run == 0) { /* next_pid itself in flight: step past it */
    for (uint32_t i = 0; i < 65536u; i++) {
      uint16_t pid = s->next_pid;
      s->next_pid = (uint16_t)(pid == 65535 ? 1 : pid + 1);
      if (pid != 0 && !pid_in_use(s, pid)) return pid;
    }
    assert(!"packet identifier space exhausted");
    return 0;
  }
  uint16_t pid = s->next_pid;
  s->next_pid = (uint16_t)(pid == 65535 ? 1 : pid + 1);
  s->pid_free_run--;
  return pid;
}

void mqe__pump(mqe_engine *e, mqe_session *s) {
  mqe_conn *c = s->conn;
  if (!c || c->state != MQE__S_CONNECTED) return;
  uint32_t before = s->queue.n;
  /* bounded: every iteration removes the queue head or stops */
  while (s->queue.head && mqe__out_room(e, c)) {
    mqe_qent *q = s->queue.head;
    if (mqe__msg_expired(q->msg, e->now) && !mqe__fault(e, MQE_FAULT_EXPIRED_DELIVERED)) {
      /* MQTT-3.3.2-5 */
      mqe__qlist_remove(&s->queue, q);
      mqe__qent_free(e, q);
      e->st.msgs_dropped++;
      continue;
    }
    if (q->qos && (s->inflight.n >= c->send_max || s->inflight.n >= 65535u))
      break; /* MQTT-3.3.4-9: Receive Maximum */
    mqe__qlist_remove(&s->queue, q);
    if (q->qos) {
      q->pid = alloc_pid(s);
      q->state = MQE__Q_WAIT_ACK;
      if (s->inflight.tail &&
          mqe__fault(e, q->qos == 1 ? MQE_FAULT_QOS1_ID_IN_USE : MQE_FAULT_QOS2_ID_IN_USE))
        q->pid = s->inflight.tail->pid;
    }
    bool nomem;
    bool dup = (q->qos == 1 && mqe__fault(e, MQE_FAULT_DUP_ON_QOS1)) ||
               (q->qos == 2 && mqe__fault(e, MQE_FAULT_DUP_ON_QOS2));
    bool sent = mqe__send_publish(e, c, q, dup, &nomem);
    if (nomem) {
      q->pid = 0;
      q->state = MQE__Q_QUEUED;
      qlist_push_front(&s->queue, q);
      mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for output");
      break;
    }
    if (!sent && mqe__fault(e, MQE_FAULT_OVERSIZE_BLOCKS_QUEUE)) {
      q->pid = 0; /* kept, not dropped as if delivered: it holds back the rest */
      q->state = MQE__Q_QUEUED;
      qlist_push_front(&s->queue, q);
      break;
    }
    if (!sent || q->qos == 0) {
      if (!sent) e->st.msgs_dropped++; /* MQTT-3.1.2-25: as if delivered */
      mqe__qent_free(e, q);
      continue;
    }
    q->sent = true;
    mqe__qlist_push(&s->inflight, q);
  }
  if (s->queue.n < before) mqe__queue_progress(e, s);
}

void mqe__resend_inflight(mqe_engine *e, mqe_session *s) {
  mqe_conn *c = s->conn;
  assert(c);
  mqe_qent *next;
  /* MQTT-4.4.0-1 / MQTT-4.6.0-1: original order, DUP set */
  for (mqe_qent *q = s->inflight.head; q && c->state == MQE__S_CONNECTED; q = next) {
    next = q->next;
    if (q->state == MQE__Q_WAIT_COMP &&
        !(q->msg && mqe__fault(e, MQE_FAULT_PUBLISH_RESENT_AFTER_PUBREC))) {
      if (!mqe__fault(e, MQE_FAULT_PUBREL_NOT_RESENT))
        mqe__send_simple(e, c, MQC_PUBREL, q->pid, 0);
      continue;
    }
    if (q->qos == 2 && mqe__msg_expired(q->msg, e->now) &&
        mqe__fault(e, MQE_FAULT_SENT_QOS2_EXPIRED)) {
      mqe__qlist_remove(&s->inflight, q);
      mqe__qent_free(e, q);
      continue;
    }
    bool nomem;
    bool sent = mqe__send_publish(e, c, q, !mqe__fault(e, MQE_FAULT_NO_DUP_ON_REDELIVERY), &nomem);
    if (nomem) {
      mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for output");
      return;
    }
    if (!sent) {
      mqe__qlist_remove(&s->inflight, q);
      mqe__qent_free(e, q);
    }
  }
}

static bool targets_reserve(mqe_engine *e, uint32_t n) {
  if (n <= e->targets_cap) return true;
  uint32_t cap = e->targets_cap ? e->targets_cap : 16;
  while (cap < n)
    cap *= 2;
  void *t = mqe__alloc(e, cap * sizeof *e->targets);
  if (!t) return false;
  mqe__free(e, e->targets, e->targets_cap * sizeof *e->targets);
  e->targets = t;
  e->targets_cap = cap;
  return true;
}

static bool queue_full(mqe_engine *e, mqe_session *s) {
  if (s->queue.n < e->cfg.max_queued) return false;
  /* make room by dropping expired messages first */
  mqe_qent *next;
  for (mqe_qent *q = s->queue.head; q; q = next) {
    next = q->next;
    if (mqe__msg_expired(q->msg, e->now)) {
      mqe__qlist_remove(&s->queue, q);
      mqe__qent_free(e, q);
    }
  }
  return s->queue.n >= e->cfg.max_queued;
}

static bool skip_no_local(const mqe_engine *e, const mqe_msg *m, const mqe_sub *sub) {
  /* MQTT-3.8.3-3 */
  return sub->opts.no_local && !mqe__fault(e, MQE_FAULT_NO_LOCAL_IGNORED) &&
         m->origin_len == sub->sess->id_len &&
         !memcmp(mqe__msg_origin(m), sub->sess->client_id, m->origin_len);
}

/* Whether a full online queue holds the publisher back for this QoS rather
 * than dropping (the overload policy). */
static bool holds_back(const mqe_engine *e, uint8_t qos) {
  return e->cfg.overload == MQE_OVERLOAD_BACKPRESSURE ||
         (e->cfg.overload == MQE_OVERLOAD_DROP_QOS0 && qos > 0);
}

/* Whether s takes one more message at qos; a refusal is a counted drop. */
static bool admit(mqe_engine *e, mqe_session *s, uint8_t qos) {
  if (!queue_full(e, s)) return true;
  if (!s->conn) {
    mqe__drop(e, s, MQC_RC_QUOTA_EXCEEDED, "offline session queue full (max_queued): dropped");
    return false;
  }
  if (!holds_back(e, qos)) {
    mqe__drop(e, s, MQC_RC_QUOTA_EXCEEDED, "queue full (max_queued, overload policy): dropped");
    return false;
  }
  /* over the cap, and the publisher stalls; the excess it leaves outlives
   * it, so publishers that connect, feed a full queue once and leave would
   * grow it without bound: past one message per connection and session
   * now open, drop */
  if (s->queue.n < (uint64_t)e->cfg.max_queued + e->nconns + e->nsessions) return true;
  mqe__drop(e, s, MQC_RC_QUOTA_EXCEEDED,
            "queue full past max_queued + one per connection and session: dropped");
  return false;
}

mqe_route_result mqe__route(mqe_engine *e, mqe_msg *m, uint32_t nlev, mqe_conn *from) {
  mqe_route_result rr = {0, 0, false};
  bool dollar = m->topic_len && mqe__msg_topic(m)[0] == '$';
  uint32_t n = mqe__match(e, nlev, dollar);
  if (!n) return rr;
  if (!targets_reserve(e, n)) {
    rr.nomem = true;
    rr.matched = n;
    return rr;
  }
  e->gen++;
  uint32_t nt = 0;
  for (uint32_t i = 0; i < n; i++) {
    mqe_sub *sub = e->hits[i].sub;
    mqe_session *s = sub->sess;
    if (skip_no_local(e, m, sub)) continue;
    /* the planted deviation's compare first: this loop runs per delivery */
    if (mqe__fault(e, MQE_FAULT_STATE_LOST_WHILE_SILENT) && s->conn && !s->conn->keep_alive &&
        e->now - s->conn->last_rx >= 60000u)
      continue; /* its subscriptions are gone while the connection is up */
    if (s->mark != e->gen) {
      if (nt && !sub->group && mqe__fault(e, MQE_FAULT_FIRST_SUBSCRIBER_ONLY)) continue;
      s->mark = e->gen;
      s->tidx = nt;
      uint8_t q0 = mqe__fault(e, MQE_FAULT_OVERLAP_LOWEST_QOS) ? 3 : 0;
      e->targets[nt] = (struct mqe_target){s, q0, false, 0, 0, NULL};
      nt++;
    }
    struct mqe_target *t = &e->targets[s->tidx];
    uint8_t q = m->qos < sub->opts.max_qos || mqe__fault(e, MQE_FAULT_NO_QOS_DOWNGRADE)
                    ? m->qos
                    : sub->opts.max_qos; /* MQTT-3.8.4-8 */
    if (mqe__fault(e, MQE_FAULT_OVERLAP_LOWEST_QOS) ? q < t->qos : q > t->qos)
      t->qos = q; /* MQTT-3.3.5-1: highest QoS of overlaps */
    if (m->retain &&
        ((sub->opts.retain_as_published && !mqe__fault(e, MQE_FAULT_RETAIN_AS_PUBLISHED_IGNORED)) ||
         mqe__fault(e, MQE_FAULT_RETAIN_KEPT_ON_LIVE)))
      t->retain = true;
    if (sub->subid && t->nsub < (mqe__fault(e, MQE_FAULT_SUBID_NOT_SENT)   ? 0
                                 : mqe__fault(e, MQE_FAULT_SUBID_ONLY_ONE) ? 1
                                                                           : 255))
      t->nsub++;
  }
  rr.matched = nt;
  for (uint32_t i = 0; i < nt; i++) {
    struct mqe_target *t = &e->targets[i];
    mqe_session *s = t->sess;
    if (!s->conn && (t->qos == 0 || mqe__fault(e, MQE_FAULT_OFFLINE_NOT_QUEUED))) {
      /* QoS 0 is not queued for offline sessions */
      rr.queued++;
      continue;
    }
    if (!admit(e, s, t->qos)) continue;
    t->q = qent_new(e, m, t->qos, t->retain, t->nsub);
    if (!t->q) {
      rr.nomem = true;
      mqe__drop(e, s, MQC_RC_UNSPECIFIED_ERROR, "out of memory: message dropped");
    }
  }
  for (uint32_t i = 0; i < n; i++) {
    mqe_sub *sub = e->hits[i].sub;
    mqe_session *s = sub->sess;
    if (s->mark != e->gen || skip_no_local(e, m, sub) || !sub->subid) continue;
    struct mqe_target *t = &e->targets[s->tidx];
    if (t->q && t->fill < t->nsub) t->q->subids[t->fill++] = sub->subid;
  }
  mqe_session *worst = NULL;
  for (uint32_t i = 0; i < nt; i++) {
    struct mqe_target *t = &e->targets[i];
    if (!t->q) continue;
    /* planted deviations: newest first, for an offline session's queue
     * (MQTT-4.6.0-6) or a connected one's (MQTT-4.6.0-5) */
    if (mqe__fault(e, t->sess->conn ? MQE_FAULT_LIVE_QUEUE_REVERSED : MQE_FAULT_QUEUE_REVERSED))
      qlist_push_front(&t->sess->queue, t->q);
    else
      mqe__qlist_push(&t->sess->queue, t->q);
    rr.queued++;
    mqe__pump(e, t->sess);
    mqe_session *s = t->sess;
    /* stall on the fullest queue: one it fed while full waits its turn */
    if (s->conn && s->queue.n >= e->cfg.max_queued && holds_back(e, t->qos) &&
        (!worst || s->queue.n > worst->queue.n))
      worst = s;
  }
  if (worst && from && !from->stall_on && from->state == MQE__S_CONNECTED)
    mqe__stall(e, from, worst);
  return rr;
}

bool mqe__deliver_one(mqe_engine *e, mqe_session *s, mqe_msg *m, uint8_t qos, bool retain,
                      uint32_t subid) {
  if (queue_full(e, s)) {
    mqe__drop(e, s, MQC_RC_QUOTA_EXCEEDED, "queue full (max_queued): retained message dropped");
    return false;
  }
  mqe_qent *q = qent_new(e, m, qos, retain, subid ? 1 : 0);
  if (!q) return false;
  if (subid) q->subids[0] = subid;
  mqe__qlist_push(&s->queue, q);
  return true;
}
