/* session.c - the session table (client identifier -> session state),
 * session end and expiry. */
#include "internal.h"

static uint32_t hash_id(mqc_bytes id) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < id.n; i++)
    h = (h ^ id.p[i]) * 16777619u;
  return h;
}

mqe_session *mqe__session_find(const mqe_engine *e, mqc_bytes id) {
  uint32_t h = hash_id(id);
  for (mqe_session *s = e->buckets[h & (e->nbuckets - 1)]; s; s = s->hnext)
    if (s->hash == h && s->id_len == id.n && !memcmp(s->client_id, id.p, id.n)) return s;
  return NULL;
}

static void grow(mqe_engine *e) {
  if (e->nbuckets >= (1u << 30)) return;
  uint32_t nb = e->nbuckets * 2;
  mqe_session **b = mqe__zalloc(e, nb * sizeof *b);
  if (!b) return; /* longer chains, still correct */
  for (uint32_t i = 0; i < e->nbuckets; i++) {
    mqe_session *s = e->buckets[i];
    while (s) {
      mqe_session *next = s->hnext;
      uint32_t k = s->hash & (nb - 1);
      s->hnext = b[k];
      b[k] = s;
      s = next;
    }
  }
  mqe__free(e, e->buckets, e->nbuckets * sizeof *e->buckets);
  e->buckets = b;
  e->nbuckets = nb;
}

mqe_session *mqe__session_new(mqe_engine *e, mqc_bytes id) {
  if (id.n > 65535) return NULL;
  size_t size = sizeof(mqe_session) + id.n + 1;
  mqe_session *s = mqe__zalloc(e, size);
  if (!s) return NULL;
  if (!mqe__heap_reserve(e, 3)) {
    mqe__free(e, s, size);
    return NULL;
  }
  s->client_id = (char *)(s + 1);
  if (id.n) memcpy(s->client_id, id.p, id.n);
  s->client_id[id.n] = '\0';
  s->id_len = (uint16_t)id.n;
  s->hash = hash_id(id);
  s->next_pid = 1;
  s->expiry_timer.idx = MQE__NOT_SCHEDULED;
  s->expiry_timer.kind = MQE__T_EXPIRY;
  s->will_timer.idx = MQE__NOT_SCHEDULED;
  s->will_timer.kind = MQE__T_WILL;
  s->slow_timer.idx = MQE__NOT_SCHEDULED;
  s->slow_timer.kind = MQE__T_SLOW;
  if (e->nsessions + 1 > e->nbuckets * 2) grow(e);
  uint32_t k = s->hash & (e->nbuckets - 1);
  s->hnext = e->buckets[k];
  e->buckets[k] = s;
  e->nsessions++;
  mqe__note_load(e);
  return s;
}

static void qlist_free(mqe_engine *e, mqe_qlist *l) {
  while (l->head) {
    mqe_qent *q = l->head;
    mqe__qlist_remove(l, q);
    mqe__qent_free(e, q);
  }
}

void mqe__session_clear(mqe_engine *e, mqe_session *s) {
  mqe__wake_all(e, s);
  mqe__timer_clear(e, &s->slow_timer);
  while (s->subs)
    mqe__sub_remove(e, s->subs);
  qlist_free(e, &s->inflight);
  qlist_free(e, &s->queue);
  mqe__free(e, s->qos2_in, s->qos2_in_cap * sizeof *s->qos2_in);
  s->qos2_in = NULL;
  s->qos2_in_n = s->qos2_in_cap = 0;
  mqe__will_drop(e, s);
  mqe__timer_clear(e, &s->expiry_timer);
  mqe__alias_table_free(e, s->kept_alias);
  s->kept_alias = NULL;
}

void mqe__session_free(mqe_engine *e, mqe_session *s) {
  assert(!s->conn);
  if (mqe__fault(e, MQE_FAULT_SHARED_MOVED_ON_SESSION_END))
    for (mqe_qent *q = s->inflight.head; q; q = q->next)
      if (q->msg) mqe__shared_reoffer(e, s, q->msg);
  mqe__drop_total(e, s);
  mqe__session_clear(e, s);
  mqe_session **pp = &e->buckets[s->hash & (e->nbuckets - 1)];
  while (*pp != s)
    pp = &(*pp)->hnext; /* bounded by the chain */
  *pp = s->hnext;
  e->nsessions--;
  mqe__heap_release(e, 3);
  mqe__free(e, s, sizeof(mqe_session) + s->id_len + 1);
}

void mqe__session_offline(mqe_engine *e, mqe_session *s, uint64_t now) {
  assert(!s->conn);
  if (s->expiry == 0 || mqe__fault(e, MQE_FAULT_SESSION_ENDS_ON_DISCONNECT)) {
    if (s->will) mqe__will_publish(e, s); /* the session ends: will now */
    mqe__session_free(e, s);
    return;
  }
  if (s->expiry != UINT32_MAX && !mqe__fault(e, MQE_FAULT_SESSION_NEVER_EXPIRES))
    mqe__timer_set(e, &s->expiry_timer, now + (uint64_t)s->expiry * 1000u);
}

void mqe__session_expire(mqe_engine *e, mqe_session *s) {
  assert(!s->conn);
  mqe__event_sess(e, MQE_EV_SESSION_EXPIRED, s, "session expired");
  if (s->will) mqe__will_publish(e, s);
  mqe__session_free(e, s);
}
