/* topic.c - the topic tree shared by subscriptions and retained messages,
 * and matching (MQTT 4.7). Iterative throughout: depth is bounded by
 * max_topic_levels and no function recurses. */
#include "internal.h"

uint32_t mqe__split(mqe_engine *e, mqc_bytes topic) {
  uint32_t n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= topic.n; i++) { /* bounded by the topic length */
    if (i == topic.n || topic.p[i] == '/') {
      if (n >= e->cfg.max_topic_levels) return 0;
      e->levels[n].p = topic.p ? topic.p + start : NULL;
      e->levels[n].n = i - start;
      n++;
      start = i + 1;
    }
  }
  return n;
}

static bool is(mqc_bytes b, char ch) {
  return b.n == 1 && b.p[0] == (uint8_t)ch;
}

/* FNV-1a over the parent's serial and the level name. Serials, not
 * pointers, so the table's layout is reproducible run to run. */
static uint32_t node_hash(uint32_t parent_serial, mqc_bytes name) {
  uint32_t h = 2166136261u;
  for (int i = 0; i < 4; i++)
    h = (h ^ ((parent_serial >> (8 * i)) & 0xffu)) * 16777619u;
  for (size_t i = 0; i < name.n; i++)
    h = (h ^ name.p[i]) * 16777619u; /* bounded */
  return h;
}

/* ASCII letters compared without case: planted deviation TOPIC_CASE_INSENSITIVE only. */
static bool same_nocase(const char *a, mqc_bytes b) {
  for (size_t i = 0; i < b.n; i++) {
    uint8_t x = (uint8_t)a[i], y = b.p[i];
    if (x >= 'A' && x <= 'Z') x = (uint8_t)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (uint8_t)(y + 32);
    if (x != y) return false;
  }
  return true;
}

static mqe_node *child(const mqe_engine *e, const mqe_node *n, mqc_bytes name) {
  if (is(name, '+')) return n->plus;
  if (is(name, '#')) return n->hash;
  if (!n->nchildren) return NULL;
  uint32_t h = node_hash(n->serial, name);
  for (mqe_node *c = e->ntab[h & (e->ntab_cap - 1)]; c; c = c->hnext) /* one chain */
    if (c->hkey == h && c->parent == n && c->len == name.n &&
        (name.n == 0 || !memcmp(c->name, name.p, name.n)))
      return c;
  if (mqe__fault(e, MQE_FAULT_TOPIC_CASE_INSENSITIVE))
    for (mqe_node *c = n->child; c; c = c->next)
      if (c->len == name.n && same_nocase(c->name, name)) return c;
  return NULL;
}

/* Doubles the table when it is fuller than one node per bucket. Failure to
 * grow only lengthens chains: lookups stay correct. */
static void ntab_grow(mqe_engine *e) {
  if (e->nnodes <= e->ntab_cap || e->ntab_cap > UINT32_MAX / 2) return;
  uint32_t cap = e->ntab_cap * 2;
  mqe_node **t = mqe__zalloc(e, cap * sizeof *t);
  if (!t) return;
  for (uint32_t i = 0; i < e->ntab_cap; i++) { /* every node moves once */
    mqe_node *c = e->ntab[i];
    while (c) {
      mqe_node *next = c->hnext;
      c->hnext = t[c->hkey & (cap - 1)];
      t[c->hkey & (cap - 1)] = c;
      c = next;
    }
  }
  mqe__free(e, e->ntab, e->ntab_cap * sizeof *e->ntab);
  e->ntab = t;
  e->ntab_cap = cap;
}

static void ntab_remove(mqe_engine *e, mqe_node *c) {
  mqe_node **pp = &e->ntab[c->hkey & (e->ntab_cap - 1)];
  while (*pp && *pp != c)
    pp = &(*pp)->hnext; /* bounded by the chain */
  assert(*pp == c);
  *pp = c->hnext;
  c->hnext = NULL;
  e->nnodes--;
}

mqe_node *mqe__node_find(mqe_engine *e, uint32_t nlev) {
  mqe_node *n = e->root;
  for (uint32_t i = 0; i < nlev && n; i++)
    n = child(e, n, e->levels[i]);
  return n;
}

mqe_node *mqe__node_get(mqe_engine *e, uint32_t nlev) {
  mqe_node *n = e->root;
  for (uint32_t i = 0; i < nlev; i++) {
    mqc_bytes name = e->levels[i];
    mqe_node *c = child(e, n, name);
    if (!c) {
      c = mqe__zalloc(e, sizeof *c + name.n);
      if (!c) {
        mqe__node_prune(e, n);
        return NULL;
      }
      c->len = (uint16_t)name.n;
      if (name.n) memcpy(c->name, name.p, name.n);
      c->parent = n;
      c->serial = ++e->node_serial;
      if (!is(name, '+') && !is(name, '#')) {
        c->hkey = node_hash(n->serial, name);
        c->hnext = e->ntab[c->hkey & (e->ntab_cap - 1)];
        e->ntab[c->hkey & (e->ntab_cap - 1)] = c;
        e->nnodes++;
        ntab_grow(e);
      }
      /* append: children keep creation order (deterministic walks) */
      if (!n->child) {
        n->child = c;
      } else {
        mqe_node *last = n->child->prev; /* head->prev caches the tail */
        last->next = c;
        c->prev = last;
      }
      n->child->prev = c;
      n->nchildren++;
      if (is(name, '+')) n->plus = c;
      if (is(name, '#')) n->hash = c;
    }
    n = c;
  }
  return n;
}

static void unlink_child(mqe_engine *e, mqe_node *p, mqe_node *c) {
  if (p->plus != c && p->hash != c) ntab_remove(e, c);
  if (p->child == c) {
    p->child = c->next;
    if (p->child) p->child->prev = c->prev == c ? p->child->prev : c->prev;
  } else {
    c->prev->next = c->next;
    if (c->next)
      c->next->prev = c->prev;
    else
      p->child->prev = c->prev; /* new tail */
  }
  if (p->plus == c) p->plus = NULL;
  if (p->hash == c) p->hash = NULL;
  p->nchildren--;
}

void mqe__node_prune(mqe_engine *e, mqe_node *n) {
  /* bounded by the depth */
  while (n && n != e->root && !n->child && !n->subs && !n->groups && !n->retained) {
    mqe_node *p = n->parent;
    unlink_child(e, p, n);
    mqe__free(e, n, sizeof *n + n->len);
    n = p;
  }
}

bool mqe__hits_reserve(mqe_engine *e, uint32_t n) {
  if (n <= e->hits_cap) return true;
  uint32_t cap = e->hits_cap ? e->hits_cap : 16;
  while (cap < n)
    cap *= 2;
  struct mqe_hit *h = mqe__alloc(e, cap * sizeof *h);
  if (!h) return false;
  if (e->hits_cap) {
    memcpy(h, e->hits, e->hits_cap * sizeof *h);
    mqe__free(e, e->hits, e->hits_cap * sizeof *h);
  }
  e->hits = h;
  e->hits_cap = cap;
  return true;
}

static void hit(mqe_engine *e, uint32_t *nh, mqe_sub *sub) {
  if (*nh >= e->hits_cap && !mqe__hits_reserve(e, *nh + 1)) {
    e->st.msgs_dropped++;
    return;
  }
  e->hits[*nh].sess = sub->sess;
  e->hits[*nh].sub = sub;
  (*nh)++;
}

/* Shared subscriptions: one member per group, round-robin in subscription
 * order, preferring members whose session is online. */
static mqe_sub *group_pick(mqe_group *g) {
  if (!g->n) return NULL;
  if (g->rr >= g->n) g->rr = 0;
  mqe_sub *start = g->members;
  for (uint32_t i = 0; i < g->rr; i++)
    start = start->nnext;
  mqe_sub *m = start;
  uint32_t idx = g->rr;
  for (uint32_t i = 0; i < g->n; i++) {
    if (m->sess->conn) {
      g->rr = (idx + 1) % g->n;
      return m;
    }
    m = m->nnext ? m->nnext : g->members;
    idx = m == g->members ? 0 : idx + 1;
  }
  g->rr = (g->rr + 1) % g->n;
  return start;
}

static void collect(mqe_engine *e, uint32_t *nh, mqe_node *n) {
  for (mqe_sub *s = n->subs; s; s = s->nnext)
    hit(e, nh, s);
  for (mqe_group *g = n->groups; g; g = g->next) {
    if (mqe__fault(e, MQE_FAULT_SHARED_TO_ALL)) {
      for (mqe_sub *s = g->members; s; s = s->nnext)
        hit(e, nh, s);
      continue;
    }
    mqe_sub *m = group_pick(g);
    if (m) hit(e, nh, m);
  }
}

uint32_t mqe__match(mqe_engine *e, uint32_t nlev, bool dollar) {
  uint32_t nh = 0, sp = 0;
  e->stack[sp].n = e->root;
  e->stack[sp].d = 0;
  sp++;
  while (sp) { /* each node of the tree is visited at most once */
    sp--;
    mqe_node *n = e->stack[sp].n;
    uint16_t d = e->stack[sp].d;
    if (d == nlev) {
      collect(e, &nh, n);
      /* "a/#" matches "a" (MQTT-3.3.2-3; a planted deviation does not) */
      if (n->hash && !mqe__fault(e, MQE_FAULT_HASH_NOT_PARENT)) collect(e, &nh, n->hash);
      /* a planted deviation takes "a/+" for "a/#" */
      if (n->plus && mqe__fault(e, MQE_FAULT_PLUS_MATCHES_PARENT)) collect(e, &nh, n->plus);
      continue;
    }
    bool wild = !(d == 0 && dollar) || mqe__fault(e, MQE_FAULT_DOLLAR_MATCHED); /* MQTT-4.7.2-1 */
    if (wild && n->hash) collect(e, &nh, n->hash);
    mqe_node *x = child(e, n, e->levels[d]);
    if (x && x != n->plus && x != n->hash) {
      assert(sp < e->stack_cap);
      e->stack[sp].n = x;
      e->stack[sp].d = (uint16_t)(d + 1);
      sp++;
    }
    /* '+' fills a level, an empty one too (a planted deviation skips those) */
    if (wild && n->plus && (e->levels[d].n || !mqe__fault(e, MQE_FAULT_PLUS_NOT_EMPTY_LEVEL))) {
      assert(sp < e->stack_cap);
      e->stack[sp].n = n->plus;
      e->stack[sp].d = (uint16_t)(d + 1);
      sp++;
    }
  }
  return nh;
}

void mqe__tree_free(mqe_engine *e) {
  mqe_node *n = e->root;
  while (n) { /* iterative post-order */
    if (n->child) {
      n = n->child;
      continue;
    }
    mqe_node *p = n->parent;
    assert(!n->subs && !n->groups);
    if (n->retained) mqe__retain_drop(e, n);
    if (p) unlink_child(e, p, n);
    mqe__free(e, n, sizeof *n + n->len);
    n = p;
  }
  e->root = NULL;
}
