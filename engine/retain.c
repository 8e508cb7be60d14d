/* retain.c - retained messages: store/replace/clear (MQTT-3.3.1-5..7) and
 * delivery on subscribe. Stored on the topic tree's nodes. */
#include "internal.h"

void mqe__retain_drop(mqe_engine *e, mqe_node *n) {
  mqe_msg *m = n->retained;
  assert(m && e->nretained > 0 && e->retained_bytes >= m->size);
  e->nretained--;
  e->retained_bytes -= m->size;
  n->retained = NULL;
  mqe__msg_unref(e, m);
}

uint8_t mqe__retain(mqe_engine *e, mqe_msg *m, uint32_t nlev) {
  mqe_node *n = mqe__node_find(e, nlev);
  mqe_msg *old = n ? n->retained : NULL;
  if (mqe__fault(e, MQE_FAULT_RETAIN_NOT_STORED) && m->payload_len) return 0;
  if (old && m->qos == 0 && m->payload_len && mqe__fault(e, MQE_FAULT_RETAIN_QOS0_KEEPS_OLD))
    return 0;
  if (m->payload_len == 0 &&
      !mqe__fault(e, MQE_FAULT_RETAIN_EMPTY_STORED)) { /* clear: never stored */
    if (old && !mqe__fault(e, MQE_FAULT_RETAIN_EMPTY_NOT_CLEARED)) {
      mqe__retain_drop(e, n);
      mqe__node_prune(e, n);
    }
    return 0;
  }
  uint64_t count = e->nretained + (old ? 0u : 1u);
  uint64_t bytes = e->retained_bytes - (old ? old->size : 0) + m->size;
  if (count > e->cfg.max_retained || bytes > e->cfg.max_retained_bytes)
    return MQC_RC_QUOTA_EXCEEDED;
  if (!n) n = mqe__node_get(e, nlev);
  if (!n) return MQC_RC_QUOTA_EXCEEDED;
  if (old) mqe__retain_drop(e, n);
  n->retained = m;
  m->refs++;
  e->nretained++;
  e->retained_bytes += m->size;
  return 0;
}

void mqe__retain_drop_origin(mqe_engine *e, const mqe_session *s) {
  mqe_node *cur = e->root;
  for (;;) { /* iterative pre-order walk of the whole tree; nodes stay */
    mqe_msg *m = cur->retained;
    if (m && m->origin_len == s->id_len && !memcmp(mqe__msg_origin(m), s->client_id, s->id_len))
      mqe__retain_drop(e, cur);
    if (cur->child) {
      cur = cur->child;
      continue;
    }
    while (cur != e->root && !cur->next)
      cur = cur->parent;
    if (cur == e->root) return;
    cur = cur->next;
  }
}

static void give(mqe_engine *e, mqe_sub *sub, mqe_node *n) {
  mqe_msg *m = n->retained;
  if (!m || mqe__msg_expired(m, e->now)) return;
  uint8_t q = m->qos < sub->opts.max_qos ? m->qos : sub->opts.max_qos;
  mqe__deliver_one(e, sub->sess, m, q, !mqe__fault(e, MQE_FAULT_RETAINED_FLAG_CLEARED), sub->subid);
}

static bool dollar(const mqe_node *n) {
  return n->len && n->name[0] == '$';
}

/* Every retained message in the subtree at top ("#"). */
static void give_subtree(mqe_engine *e, mqe_sub *sub, mqe_node *top) {
  mqe_node *cur = top;
  for (;;) { /* iterative pre-order walk bounded to the subtree */
    bool skip = cur != top && cur->parent == e->root && dollar(cur); /* MQTT-4.7.2-1 */
    if (!skip) give(e, sub, cur);
    if (!skip && cur->child) {
      cur = cur->child;
      continue;
    }
    while (cur != top && !cur->next)
      cur = cur->parent;
    if (cur == top) return;
    cur = cur->next;
  }
}

void mqe__retain_deliver(mqe_engine *e, mqe_sub *sub, uint32_t nlev) {
  uint32_t sp = 0;
  e->stack[sp].n = e->root;
  e->stack[sp].d = 0;
  e->stack[sp].sib = false;
  sp++;
  while (sp) {
    sp--;
    mqe_node *n = e->stack[sp].n;
    uint16_t d = e->stack[sp].d;
    if (e->stack[sp].sib) {
      if (n->next) { /* continue with the next sibling later */
        e->stack[sp].n = n->next;
        sp++;
      }
      mqe_node *p = n->parent;
      if (n == p->plus || n == p->hash || (p == e->root && dollar(n))) continue;
    }
    if (d == nlev) {
      give(e, sub, n);
      continue;
    }
    mqc_bytes lv = e->levels[d];
    if (lv.n == 1 && lv.p[0] == '#') {
      give_subtree(e, sub, n);
      continue;
    }
    if (lv.n == 1 && lv.p[0] == '+') {
      if (n->child) {
        assert(sp < e->stack_cap);
        e->stack[sp].n = n->child;
        e->stack[sp].d = (uint16_t)(d + 1);
        e->stack[sp].sib = true;
        sp++;
      }
      continue;
    }
    mqe_node *x = NULL;
    for (mqe_node *c = n->child; c; c = c->next)
      if (c->len == lv.n && (lv.n == 0 || !memcmp(c->name, lv.p, lv.n))) {
        x = c;
        break;
      }
    if (x) {
      assert(sp < e->stack_cap);
      e->stack[sp].n = x;
      e->stack[sp].d = (uint16_t)(d + 1);
      e->stack[sp].sib = false;
      sp++;
    }
  }
}
