/* subscribe.c - SUBSCRIBE/UNSUBSCRIBE: options, shared subscriptions,
 * feature switches, caps, replacement (MQTT-3.8.4-3) and retained delivery
 * per Retain Handling. */
#include "internal.h"

#define SHARE_PREFIX "$share/"

static bool has_wildcard(mqc_bytes f) {
  for (size_t i = 0; i < f.n; i++)
    if (f.p[i] == '+' || f.p[i] == '#') return true;
  return false;
}

static mqe_sub *sess_find(mqe_session *s, mqc_bytes f) {
  for (mqe_sub *x = s->subs; x; x = x->snext)
    if (x->filter_len == f.n && !memcmp(x->filter, f.p, f.n)) return x;
  return NULL;
}

void mqe__sub_remove(mqe_engine *e, mqe_sub *sub) {
  mqe_node *n = sub->node;
  mqe_group *g = sub->group;
  mqe_sub **head = g ? &g->members : &n->subs;
  if (sub->nprev)
    sub->nprev->nnext = sub->nnext;
  else
    *head = sub->nnext;
  if (sub->nnext) sub->nnext->nprev = sub->nprev;
  if (g) {
    g->n--;
    if (g->rr > g->n) g->rr = 0;
    if (!g->n) {
      mqe_group **pp = &n->groups;
      while (*pp != g)
        pp = &(*pp)->next; /* bounded by the group list */
      *pp = g->next;
      mqe__free(e, g, sizeof *g + g->len);
    }
  }
  mqe_session *s = sub->sess;
  if (sub->sprev)
    sub->sprev->snext = sub->snext;
  else
    s->subs = sub->snext;
  if (sub->snext) sub->snext->sprev = sub->sprev;
  s->nsubs--;
  e->nsubs--;
  mqe__free(e, sub, sizeof *sub + sub->filter_len);
  mqe__node_prune(e, n);
}

/* Links a new subscription; returns NULL on NOMEM (nothing changed). */
static mqe_sub *sub_add(mqe_engine *e, mqe_session *s, mqc_bytes full, mqc_bytes group,
                        uint32_t nlev) {
  mqe_sub *sub = mqe__zalloc(e, sizeof *sub + full.n);
  if (!sub) return NULL;
  mqe_node *n = mqe__node_get(e, nlev);
  if (!n) {
    mqe__free(e, sub, sizeof *sub + full.n);
    return NULL;
  }
  sub->filter_len = (uint16_t)full.n;
  memcpy(sub->filter, full.p, full.n);
  sub->sess = s;
  sub->node = n;
  if (group.n) {
    mqe_group *g = n->groups;
    while (g && !(g->len == group.n && !memcmp(g->name, group.p, group.n)))
      g = g->next;
    if (!g) {
      g = mqe__zalloc(e, sizeof *g + group.n);
      if (!g) {
        mqe__free(e, sub, sizeof *sub + full.n);
        mqe__node_prune(e, n);
        return NULL;
      }
      g->len = (uint16_t)group.n;
      memcpy(g->name, group.p, group.n);
      /* append to keep creation order */
      mqe_group **pp = &n->groups;
      while (*pp)
        pp = &(*pp)->next;
      *pp = g;
    }
    sub->group = g;
    mqe_sub **pp = &g->members; /* append: subscription order */
    mqe_sub *prev = NULL;
    while (*pp) {
      prev = *pp;
      pp = &(*pp)->nnext;
    }
    *pp = sub;
    sub->nprev = prev;
    g->n++;
  } else {
    sub->nnext = n->subs;
    if (n->subs) n->subs->nprev = sub;
    n->subs = sub;
  }
  sub->snext = s->subs;
  if (s->subs) s->subs->sprev = sub;
  s->subs = sub;
  s->nsubs++;
  e->nsubs++;
  return sub;
}

enum { ABORT = 0x100 };

static int subscribe_one(mqe_engine *e, mqe_conn *c, mqc_bytes full, mqc_subopts o,
                         uint32_t subid) {
  bool v5 = c->ver == MQC_V5;
  mqe_session *s = c->sess;
  uint8_t fail = v5 ? 0 : 0x80;
  mqc_bytes filter = full, group = {NULL, 0};
  size_t pl = sizeof SHARE_PREFIX - 1;
  if (full.n >= pl && !memcmp(full.p, SHARE_PREFIX, pl)) {
    size_t i = pl;
    while (i < full.n && full.p[i] != '/')
      i++;
    group = (mqc_bytes){full.p + pl, i - pl};
    filter = i < full.n ? (mqc_bytes){full.p + i + 1, full.n - i - 1} : (mqc_bytes){NULL, 0};
    if (!group.n || has_wildcard(group) || !filter.n) {
      mqe__event(e, MQE_EV_VIOLATION, c, MQC_RC_TOPIC_FILTER_INVALID, v5 ? "MQTT-4.8.2-2" : NULL,
                 "malformed shared subscription");
      return v5 ? MQC_RC_TOPIC_FILTER_INVALID : fail;
    }
    if (!e->cfg.shared_available) return v5 ? MQC_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED : fail;
    if (o.no_local) {
      mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, "MQTT-3.8.3-4",
                     "No Local set on a shared subscription");
      return ABORT;
    }
  }
  if (!e->cfg.wildcard_available && has_wildcard(filter) &&
      !mqe__fault(e, MQE_FAULT_WILDCARDS_UNAVAILABLE_ACCEPTED))
    return v5 ? MQC_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED : fail;
  for (size_t i = 0; i < e->cfg.deny_filter_count; i++) {
    mqc_bytes d = mqc_cstr(e->cfg.deny_filters[i]);
    if (mqc_bytes_eq(d, full) || mqc_bytes_eq(d, filter))
      return !v5 ? fail : e->cfg.deny_reasons ? e->cfg.deny_reasons[i] : MQC_RC_NOT_AUTHORIZED;
  }
  if (e->cfg.acl && !e->cfg.acl(e->cfg.acl_ctx, MQE_ACL_SUBSCRIBE,
                                (mqc_bytes){(const uint8_t *)s->client_id, s->id_len},
                                (mqc_bytes){c->username, c->username_len}, filter))
    return v5 ? MQC_RC_NOT_AUTHORIZED : fail;
  uint32_t nlev = mqe__split(e, filter);
  if (!nlev) {
    mqe__event(e, MQE_EV_LIMIT, c, MQC_RC_QUOTA_EXCEEDED, NULL, "filter has too many levels");
    return v5 ? MQC_RC_QUOTA_EXCEEDED : fail;
  }
  if (o.max_qos > e->cfg.maximum_qos && mqe__fault(e, MQE_FAULT_SUBSCRIBE_ABOVE_MAX_QOS_REFUSED))
    return v5 ? MQC_RC_UNSPECIFIED_ERROR : fail; /* a SUBACK code: nothing else breaks */
  uint8_t granted =
      o.max_qos < e->cfg.maximum_qos || mqe__fault(e, MQE_FAULT_GRANTED_QOS_NOT_CAPPED)
          ? o.max_qos
          : e->cfg.maximum_qos;
  o.max_qos = granted;
  mqe_sub *sub = mqe__fault(e, MQE_FAULT_RESUBSCRIBE_ADDS) ? NULL : sess_find(s, full);
  bool existed = sub != NULL;
  if (!sub) {
    if (s->nsubs >= e->cfg.max_subscriptions) {
      mqe__event(e, MQE_EV_LIMIT, c, MQC_RC_QUOTA_EXCEEDED, NULL, "max_subscriptions reached");
      return v5 ? MQC_RC_QUOTA_EXCEEDED : fail;
    }
    sub = sub_add(e, s, full, group, nlev);
    if (!sub) return v5 ? MQC_RC_UNSPECIFIED_ERROR : fail;
  }
  sub->opts = o; /* MQTT-3.8.4-3: replace options of an existing one */
  sub->subid = subid;
  bool give = o.retain_handling == 0 || (o.retain_handling == 1 && !existed);
  if (existed && o.retain_handling == 0 && mqe__fault(e, MQE_FAULT_RESUBSCRIBE_NO_RETAINED))
    give = false;
  if ((o.retain_handling == 1 && mqe__fault(e, MQE_FAULT_RH1_ALWAYS)) ||
      (o.retain_handling == 2 && mqe__fault(e, MQE_FAULT_RH2_SENDS)))
    give = true;
  if (mqe__fault(e, MQE_FAULT_RETAINED_NOT_SENT)) give = false;
  if (!group.n && give) mqe__retain_deliver(e, sub, nlev); /* MQTT-3.3.1-9/10/11 */
  return granted;
}

/* One reason code per filter for a SUBACK or UNSUBACK: on the stack for the
 * usual short lists, allocated for long ones. */
typedef struct {
  uint8_t *codes;
  size_t n;
  uint8_t small[64];
} reasons;

static bool reasons_open(mqe_engine *e, mqe_conn *c, reasons *r, size_t n, const char *nomem) {
  r->n = n;
  r->codes = n <= sizeof r->small ? r->small : mqe__alloc(e, n);
  if (!r->codes) mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, nomem);
  return r->codes != NULL;
}

static void reasons_close(mqe_engine *e, reasons *r) {
  if (r->codes != r->small) mqe__free(e, r->codes, r->n);
}

/* Planted deviation only (UNSUBACK_MISSING_WHEN_NONE): no code is a success. */
static bool none_removed(const uint8_t *rc, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (rc[i] == MQC_RC_SUCCESS) return false;
  return true;
}

/* Planted deviations only (SUBACK_REVERSED, UNSUBACK_REVERSED). */
static void reverse(uint8_t *rc, size_t n) {
  for (size_t i = 0; i < n / 2; i++) {
    uint8_t t = rc[i];
    rc[i] = rc[n - 1 - i];
    rc[n - 1 - i] = t;
  }
}

void mqe__on_subscribe(mqe_engine *e, mqe_conn *c, const mqc_packet *p) {
  const mqc_subscribe *sp = &p->subscribe;
  bool v5 = c->ver == MQC_V5;
  uint32_t subid = 0;
  mqc_prop pr;
  if (v5 && mqc_props_get(&sp->props, MQC_PROP_SUBSCRIPTION_IDENTIFIER, &pr)) {
    if (!e->cfg.sub_id_available) {
      mqe__violation(e, c, MQC_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED, NULL,
                     "Subscription Identifier while Subscription Identifiers Available is 0");
      return;
    }
    subid = pr.u;
  }
  reasons out;
  if (!reasons_open(e, c, &out, sp->count, "out of memory for SUBACK")) return;
  uint8_t *rc = out.codes;
  mqc_list_iter it;
  mqc_sub_entry ent;
  uint16_t i = 0;
  mqc_sub_iter_init(&it, sp);
  while (i < sp->count && mqc_sub_next(&it, &ent)) { /* bounded by count */
    mqc_subopts o = mqc_subopts_unpack(ent.options);
    int r = i && mqe__fault(e, MQE_FAULT_SUBSCRIBE_FIRST_ONLY)
                ? o.max_qos
                : subscribe_one(e, c, ent.filter, o, subid);
    if (r == ABORT) break;
    rc[i++] = (uint8_t)r;
  }
  bool refused = false;
  for (uint16_t k = 0; k < i; k++)
    refused |= rc[k] == 0x80;
  if (refused && c->ver == MQC_V31 && c->state == MQE__S_CONNECTED) {
    /* 3.1's SUBACK has no failure code (0x80 came with 3.1.1): the only
     * honest answer is to close */
    mqe__fail(e, c, MQC_RC_UNSPECIFIED_ERROR, NULL,
              "subscription refused; an MQTT 3.1 SUBACK cannot say so");
  }
  if (mqe__fault(e, MQE_FAULT_SUBACK_REVERSED)) reverse(rc, i);
  if (mqe__fault(e, MQE_FAULT_SUBACK_ONE_CODE) && i > 1) i = 1;
  bool quota_out =
      c->sess->inflight.n >= c->send_max && mqe__fault(e, MQE_FAULT_ZERO_QUOTA_NO_SUBACK);
  if (c->state == MQE__S_CONNECTED && !mqe__fault(e, MQE_FAULT_NO_SUBACK) && !quota_out) {
    mqe__send_suback(e, c, MQC_SUBACK,
                     (uint16_t)(sp->packet_id + mqe__fault(e, MQE_FAULT_SUBACK_WRONG_ID)), rc, i);
    mqe__pump(e, c->sess); /* retained messages after the SUBACK */
  }
  reasons_close(e, &out);
}

void mqe__on_unsubscribe(mqe_engine *e, mqe_conn *c, const mqc_packet *p) {
  const mqc_subscribe *sp = &p->subscribe;
  reasons out;
  if (!reasons_open(e, c, &out, sp->count, "out of memory for UNSUBACK")) return;
  uint8_t *rc = out.codes;
  mqc_list_iter it;
  mqc_bytes f;
  uint16_t i = 0;
  mqc_unsub_iter_init(&it, sp);
  while (i < sp->count && mqc_unsub_next(&it, &f)) {
    mqe_sub *sub = sess_find(c->sess, f);
    if (!sub && mqe__fault(e, MQE_FAULT_UNSUBSCRIBE_REMOVES_OTHER))
      sub = c->sess->subs; /* the newest */
    if (sub && !mqe__fault(e, MQE_FAULT_UNSUBSCRIBE_KEPT) &&
        !(i && mqe__fault(e, MQE_FAULT_UNSUBSCRIBE_FIRST_ONLY)))
      mqe__sub_remove(e, sub);
    rc[i++] = sub || mqe__fault(e, MQE_FAULT_UNSUBACK_ALWAYS_SUCCESS)
                  ? MQC_RC_SUCCESS
                  : MQC_RC_NO_SUBSCRIPTION_EXISTED;
  }
  if (mqe__fault(e, MQE_FAULT_UNSUBSCRIBE_DROPS_INFLIGHT))
    while (c->sess->inflight.head) { /* bounded by the list */
      mqe_qent *q = c->sess->inflight.head;
      mqe__qlist_remove(&c->sess->inflight, q);
      mqe__qent_free(e, q);
    }
  if (mqe__fault(e, MQE_FAULT_UNSUBACK_REVERSED)) reverse(rc, i);
  if (!mqe__fault(e, MQE_FAULT_NO_UNSUBACK) &&
      !(mqe__fault(e, MQE_FAULT_UNSUBACK_MISSING_WHEN_NONE) && none_removed(rc, i)))
    mqe__send_suback(e, c, MQC_UNSUBACK,
                     (uint16_t)(sp->packet_id + mqe__fault(e, MQE_FAULT_UNSUBACK_WRONG_ID)), rc, i);
  reasons_close(e, &out);
}
