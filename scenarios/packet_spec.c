/* packet_spec.c - structured packet descriptions (YAML/JSON) to mqc_packet. */
#include "packet_spec.h"

#include "internal.h"
#include "mqe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
  yaml_document_t *doc;
  mqs_arena *arena;
  mqs_spec_error *err;
  mqc_version v;
  const mqs_vars *vars; /* NULL: scalars are used as written */
} ctx;

static const char *text(ctx *c, yaml_node_t *n, size_t *len);

static int get_uint(ctx *c, yaml_node_t *n, unsigned long max, const char *what,
                    unsigned long *out) {
  if (!mqs__is_scalar(n)) return mqs__spec_fail(c->err, n, "%s must be a number", what);
  size_t len;
  const char *s = text(c, n, &len);
  if (!s) return -1;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 0);
  if (!*s || *end || s[0] == '-' || errno)
    return mqs__spec_fail(c->err, n, "%s: '%s' is not a number", what, s);
  if (v > max) return mqs__spec_fail(c->err, n, "%s: %lu is over the maximum %lu", what, v, max);
  *out = v;
  return 0;
}

static int get_bool(ctx *c, yaml_node_t *n, const char *what, bool *out) {
  if (mqs__is_scalar(n)) {
    size_t len;
    const char *s = text(c, n, &len);
    if (!s) return -1;
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes")) {
      *out = true;
      return 0;
    }
    if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no")) {
      *out = false;
      return 0;
    }
  }
  return mqs__spec_fail(c->err, n, "%s must be true or false", what);
}

static uint8_t *arena_take(ctx *c, size_t n) {
  mqs_arena *a = c->arena;
  if (a->cap - a->used < n) return NULL;
  uint8_t *p = a->buf + a->used;
  a->used += n;
  return p;
}

/* The text of a scalar value with ${name} references expanded (into the
 * arena when it contains any). NULL after mqs__spec_fail() on an unbound name. */
static const char *text(ctx *c, yaml_node_t *n, size_t *len) {
  const char *s = mqs__scalar(n);
  *len = n->data.scalar.length;
  if (!c->vars || !memchr(s, '$', *len)) return s;
  size_t cap = c->arena->cap - c->arena->used;
  char bad[64];
  long k = mqs_vars_expand(c->vars, s, *len, (char *)c->arena->buf + c->arena->used, cap, bad);
  if (k < 0) {
    mqs__spec_fail(c->err, n, "unbound variable '%s'", bad);
    return NULL;
  }
  s = (const char *)c->arena->buf + c->arena->used;
  c->arena->used += (size_t)k + 1;
  *len = (size_t)k;
  return s;
}

static int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static int hex_into_arena(ctx *c, yaml_node_t *n, mqc_bytes *out) {
  if (!mqs__is_scalar(n)) return mqs__spec_fail(c->err, n, "hex must be a string of hex digits");
  size_t len;
  const char *s = text(c, n, &len);
  if (!s) return -1;
  uint8_t *dst = arena_take(c, len / 2 + 1);
  if (!dst) return mqs__spec_fail(c->err, n, "packet description is too large");
  size_t k = 0;
  int hi = -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == ' ' || s[i] == ':') continue;
    int v = hex_value(s[i]);
    if (v < 0) return mqs__spec_fail(c->err, n, "'%c' is not a hex digit", s[i]);
    if (hi < 0)
      hi = v;
    else {
      dst[k++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  if (hi >= 0) return mqs__spec_fail(c->err, n, "odd number of hex digits");
  c->arena->used -= len / 2 + 1 - k; /* give back what was not used */
  out->p = dst;
  out->n = k;
  return 0;
}

/* {mqcheck_challenge: {secret: S, nonce: "${n}"}}: the answer to the engine's
 * built-in AUTH method (docs/engine.md), so scenarios can complete an
 * enhanced authentication whose nonce they captured. */
static int challenge_into_arena(ctx *c, yaml_node_t *n, mqc_bytes *out) {
  yaml_node_t *sn = n && n->type == YAML_MAPPING_NODE ? mqs__map_get(c->doc, n, "secret") : NULL;
  yaml_node_t *nn = n && n->type == YAML_MAPPING_NODE ? mqs__map_get(c->doc, n, "nonce") : NULL;
  if (!mqs__is_scalar(sn) || !mqs__is_scalar(nn))
    return mqs__spec_fail(c->err, n, "mqcheck_challenge is {secret: S, nonce: N}");
  size_t sl, nl;
  const char *secret = text(c, sn, &sl);
  if (!secret) return -1;
  const char *nonce = text(c, nn, &nl);
  if (!nonce) return -1;
  uint8_t *dst = arena_take(c, 8);
  if (!dst) return mqs__spec_fail(c->err, n, "packet description is too large");
  mqe_challenge_response((mqc_bytes){(const uint8_t *)secret, sl},
                         (mqc_bytes){(const uint8_t *)nonce, nl}, dst);
  out->p = dst;
  out->n = 8;
  return 0;
}

/* Bytes: a string (used as is, borrowed from the document), {hex: "..."} or
 * {mqcheck_challenge: ...}. */
static int get_bytes(ctx *c, yaml_node_t *n, const char *what, mqc_bytes *out) {
  if (mqs__is_scalar(n)) {
    size_t len;
    const char *s = text(c, n, &len);
    if (!s) return -1;
    out->p = (const uint8_t *)s;
    out->n = len;
    return 0;
  }
  if (n && n->type == YAML_MAPPING_NODE) {
    yaml_node_t *hex = mqs__map_get(c->doc, n, "hex");
    if (hex) return hex_into_arena(c, hex, out);
    yaml_node_t *ch = mqs__map_get(c->doc, n, "mqcheck_challenge");
    if (ch) return challenge_into_arena(c, ch, out);
  }
  return mqs__spec_fail(c->err, n,
                        "%s must be a string, {hex: \"...\"} or "
                        "{mqcheck_challenge: {secret: S, nonce: N}}",
                        what);
}

static int check_keys(ctx *c, yaml_node_t *map, const char *const *allowed) {
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    if (!mqs__is_scalar(k)) return mqs__spec_fail(c->err, k, "keys must be plain strings");
    bool ok = false;
    for (const char *const *a = allowed; *a && !ok; a++)
      ok = !strcmp(*a, mqs__scalar(k));
    if (!ok) return mqs__spec_fail(c->err, k, "unknown key '%s'", mqs__scalar(k));
  }
  return 0;
}

/* Starts a writer over the free part of the arena; arena_commit claims it. */
static void arena_writer(ctx *c, mqc_writer *w) {
  mqc_writer_init(w, c->arena->buf + c->arena->used, c->arena->cap - c->arena->used);
}

static int arena_commit(ctx *c, yaml_node_t *n, mqc_writer *w, mqc_bytes *out) {
  if (!mqc_writer_ok(w)) return mqs__spec_fail(c->err, n, "packet description is too large");
  out->p = c->arena->buf + c->arena->used;
  out->n = w->len;
  c->arena->used += w->len;
  return 0;
}

static int build_prop_value(ctx *c, yaml_node_t *item, mqc_writer *w);

/* Hex-decoded values live in the arena only until they are copied into the
 * block, so each property gives its scratch space back. */
static int build_prop(ctx *c, yaml_node_t *item, mqc_writer *w) {
  size_t mark = c->arena->used;
  int rc = build_prop_value(c, item, w);
  c->arena->used = mark;
  return rc;
}

static int build_prop_value(ctx *c, yaml_node_t *item, mqc_writer *w) {
  if (!item || item->type != YAML_MAPPING_NODE ||
      item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
    return mqs__spec_fail(c->err, item,
                          "a property is a mapping with one key, e.g. {topic_alias: 1}");
  yaml_node_pair_t *pair = item->data.mapping.pairs.start;
  yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
  yaml_node_t *v = yaml_document_get_node(c->doc, pair->value);
  if (!mqs__is_scalar(k)) return mqs__spec_fail(c->err, k, "property name must be a string");
  if (!strcmp(mqs__scalar(k), "raw_hex")) {
    /* Raw bytes appended to the block: unknown ids, bad lengths, ... */
    mqc_bytes raw;
    if (hex_into_arena(c, v, &raw)) return -1;
    mqc_put_bytes(w, raw);
    return 0;
  }
  const mqc_prop_info *info = mqc_prop_by_name(mqs__scalar(k));
  if (!info) return mqs__spec_fail(c->err, k, "unknown property '%s'", mqs__scalar(k));
  mqc_prop p = {.id = info->id, .type = info->type};
  unsigned long u;
  switch (info->type) {
  case MQC_PT_BYTE:
    if (get_uint(c, v, 0xFF, info->name, &u)) return -1;
    p.u = (uint32_t)u;
    break;
  case MQC_PT_U16:
    if (get_uint(c, v, 0xFFFF, info->name, &u)) return -1;
    p.u = (uint32_t)u;
    break;
  case MQC_PT_U32:
    if (get_uint(c, v, 0xFFFFFFFFul, info->name, &u)) return -1;
    p.u = (uint32_t)u;
    break;
  case MQC_PT_VARINT:
    if (get_uint(c, v, MQC_MAX_REMAINING_LENGTH, info->name, &u)) return -1;
    p.u = (uint32_t)u;
    break;
  case MQC_PT_UTF8:
  case MQC_PT_BINARY:
    if (get_bytes(c, v, info->name, &p.value)) return -1;
    break;
  case MQC_PT_UTF8_PAIR:
    if (!v || v->type != YAML_SEQUENCE_NODE ||
        v->data.sequence.items.top - v->data.sequence.items.start != 2)
      return mqs__spec_fail(c->err, v, "user_property takes [key, value]");
    if (get_bytes(c, yaml_document_get_node(c->doc, v->data.sequence.items.start[0]), "key",
                  &p.key) ||
        get_bytes(c, yaml_document_get_node(c->doc, v->data.sequence.items.start[1]), "value",
                  &p.value))
      return -1;
    break;
  case MQC_PT_NONE:
    return mqs__spec_fail(c->err, k, "unknown property '%s'", mqs__scalar(k));
  }
  mqc_put_prop(w, &p);
  return 0;
}

/* A property block is sized by a dry run, then written into arena space. */
static int build_props(ctx *c, yaml_node_t *n, mqc_props *out) {
  memset(out, 0, sizeof *out);
  if (!n) return 0;
  if (n->type != YAML_SEQUENCE_NODE)
    return mqs__spec_fail(c->err, n, "properties must be a list like [{content_type: text}]");
  size_t items = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
  if (items > 4096) return mqs__spec_fail(c->err, n, "too many properties");
  mqc_writer w;
  uint8_t *scratch = NULL;
  size_t scratch_cap = 0;
  mqc_writer_init(&w, NULL, 0);
  for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
    if (build_prop(c, yaml_document_get_node(c->doc, *it), &w)) return -1;
  scratch_cap = w.len;
  scratch = arena_take(c, scratch_cap);
  if (!scratch && scratch_cap) return mqs__spec_fail(c->err, n, "packet description is too large");
  mqc_writer_init(&w, scratch, scratch_cap);
  for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
    if (build_prop(c, yaml_document_get_node(c->doc, *it), &w)) return -1;
  if (!mqc_writer_ok(&w) || w.len != scratch_cap)
    return mqs__spec_fail(c->err, n, "property sizing mismatch");
  out->raw.p = scratch;
  out->raw.n = scratch_cap;
  out->count = (uint32_t)items;
  return 0;
}

static int build_subscriptions(ctx *c, yaml_node_t *n, mqc_subscribe *s) {
  static const char *const keys[] = {
      "topic_filter", "qos", "no_local", "retain_as_published", "retain_handling", "options", NULL};
  if (!n || n->type != YAML_SEQUENCE_NODE)
    return mqs__spec_fail(c->err, n, "subscriptions must be a list");
  /* Filters borrow from the document or the arena; collect them first. */
  mqc_bytes filters[256];
  uint8_t opts[256];
  size_t count = 0;
  for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
    yaml_node_t *e = yaml_document_get_node(c->doc, *it);
    if (count == 256) return mqs__spec_fail(c->err, e, "at most 256 subscriptions per description");
    if (!e || e->type != YAML_MAPPING_NODE)
      return mqs__spec_fail(c->err, e, "a subscription is a mapping");
    if (check_keys(c, e, keys)) return -1;
    yaml_node_t *f = mqs__map_get(c->doc, e, "topic_filter");
    if (!f) return mqs__spec_fail(c->err, e, "subscription needs topic_filter");
    if (get_bytes(c, f, "topic_filter", &filters[count])) return -1;
    mqc_subopts o = {0};
    unsigned long u;
    yaml_node_t *x;
    if ((x = mqs__map_get(c->doc, e, "qos"))) {
      if (get_uint(c, x, 3, "qos", &u)) return -1;
      o.max_qos = (uint8_t)u;
    }
    if ((x = mqs__map_get(c->doc, e, "no_local")) && get_bool(c, x, "no_local", &o.no_local))
      return -1;
    if ((x = mqs__map_get(c->doc, e, "retain_as_published")) &&
        get_bool(c, x, "retain_as_published", &o.retain_as_published))
      return -1;
    if ((x = mqs__map_get(c->doc, e, "retain_handling"))) {
      if (get_uint(c, x, 3, "retain_handling", &u)) return -1;
      o.retain_handling = (uint8_t)u;
    }
    opts[count] = mqc_subopts_pack(o);
    if ((x = mqs__map_get(c->doc, e, "options"))) { /* the raw byte, reserved bits included */
      if (get_uint(c, x, 0xFF, "options", &u)) return -1;
      opts[count] = (uint8_t)u;
    }
    count++;
  }
  mqc_writer w;
  arena_writer(c, &w);
  for (size_t i = 0; i < count; i++)
    mqc_put_sub_entry(&w, filters[i], opts[i]);
  s->count = (uint32_t)count;
  return arena_commit(c, n, &w, &s->list);
}

static int build_filters(ctx *c, yaml_node_t *n, mqc_subscribe *s) {
  if (!n || n->type != YAML_SEQUENCE_NODE)
    return mqs__spec_fail(c->err, n, "topic_filters must be a list");
  mqc_bytes filters[256];
  size_t count = 0;
  for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
    yaml_node_t *e = yaml_document_get_node(c->doc, *it);
    if (count == 256) return mqs__spec_fail(c->err, e, "at most 256 topic filters per description");
    if (get_bytes(c, e, "topic filter", &filters[count++])) return -1;
  }
  mqc_writer w;
  arena_writer(c, &w);
  for (size_t i = 0; i < count; i++)
    mqc_put_str(&w, filters[i]);
  s->count = (uint32_t)count;
  return arena_commit(c, n, &w, &s->list);
}

static int build_reason_list(ctx *c, yaml_node_t *n, mqc_bytes *out) {
  if (!n || n->type != YAML_SEQUENCE_NODE)
    return mqs__spec_fail(c->err, n, "reason_codes must be a list");
  mqc_writer w;
  arena_writer(c, &w);
  for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
    unsigned long u;
    if (get_uint(c, yaml_document_get_node(c->doc, *it), 0xFF, "reason code", &u)) return -1;
    mqc_put_u8(&w, (uint8_t)u);
  }
  return arena_commit(c, n, &w, out);
}

static int build_faults(ctx *c, yaml_node_t *n, mqc_faults *f) {
  static const char *const keys[] = {
      "flags",         "type",        "remaining_length", "length_bytes",
      "connect_flags", "omit_reason", "trailing",         NULL};
  if (n->type != YAML_MAPPING_NODE) return mqs__spec_fail(c->err, n, "faults must be a mapping");
  if (check_keys(c, n, keys)) return -1;
  unsigned long u;
  yaml_node_t *x;
  if ((x = mqs__map_get(c->doc, n, "flags"))) {
    if (get_uint(c, x, 15, "flags", &u)) return -1;
    f->set_flags = true;
    f->flags = (uint8_t)u;
  }
  if ((x = mqs__map_get(c->doc, n, "type"))) {
    if (get_uint(c, x, 15, "type", &u)) return -1;
    f->set_type = true;
    f->type = (uint8_t)u;
  }
  if ((x = mqs__map_get(c->doc, n, "remaining_length"))) {
    if (get_uint(c, x, MQC_MAX_REMAINING_LENGTH, "remaining_length", &u)) return -1;
    f->set_remaining_length = true;
    f->remaining_length = (uint32_t)u;
  }
  if ((x = mqs__map_get(c->doc, n, "length_bytes"))) {
    if (get_uint(c, x, 5, "length_bytes", &u)) return -1;
    f->length_bytes = (uint8_t)u;
  }
  if ((x = mqs__map_get(c->doc, n, "connect_flags"))) {
    if (get_uint(c, x, 0xFF, "connect_flags", &u)) return -1;
    f->set_connect_flags = true;
    f->connect_flags = (uint8_t)u;
  }
  if ((x = mqs__map_get(c->doc, n, "omit_reason")) &&
      get_bool(c, x, "omit_reason", &f->omit_reason))
    return -1;
  if ((x = mqs__map_get(c->doc, n, "trailing")) && get_bytes(c, x, "trailing", &f->trailing))
    return -1;
  return 0;
}

static int type_from_name(const char *s, mqc_type *out) {
  for (unsigned t = 1; t < 16; t++)
    if (!strcasecmp(s, mqc_type_name((mqc_type)t))) {
      *out = (mqc_type)t;
      return 0;
    }
  return -1;
}

static int build_connect(ctx *c, yaml_node_t *n, mqc_connect *p) {
  static const char *const will_keys[] = {"qos", "retain", "properties", "topic", "payload", NULL};
  unsigned long u;
  yaml_node_t *x;
  if ((x = mqs__map_get(c->doc, n, "protocol_name")) &&
      get_bytes(c, x, "protocol_name", &p->protocol_name))
    return -1;
  if ((x = mqs__map_get(c->doc, n, "protocol_level"))) {
    if (get_uint(c, x, 0xFF, "protocol_level", &u)) return -1;
    p->level = (uint8_t)u;
  }
  if ((x = mqs__map_get(c->doc, n, "clean_start")) &&
      get_bool(c, x, "clean_start", &p->clean_start))
    return -1;
  if ((x = mqs__map_get(c->doc, n, "keep_alive"))) {
    if (get_uint(c, x, 0xFFFF, "keep_alive", &u)) return -1;
    p->keep_alive = (uint16_t)u;
  }
  if (build_props(c, mqs__map_get(c->doc, n, "properties"), &p->props)) return -1;
  if ((x = mqs__map_get(c->doc, n, "client_id")) && get_bytes(c, x, "client_id", &p->client_id))
    return -1;
  if ((x = mqs__map_get(c->doc, n, "will"))) {
    if (x->type != YAML_MAPPING_NODE) return mqs__spec_fail(c->err, x, "will must be a mapping");
    if (check_keys(c, x, will_keys)) return -1;
    p->will = true;
    yaml_node_t *y;
    if ((y = mqs__map_get(c->doc, x, "qos"))) {
      if (get_uint(c, y, 3, "will qos", &u)) return -1;
      p->will_qos = (uint8_t)u;
    }
    if ((y = mqs__map_get(c->doc, x, "retain")) && get_bool(c, y, "will retain", &p->will_retain))
      return -1;
    if (build_props(c, mqs__map_get(c->doc, x, "properties"), &p->will_props)) return -1;
    if ((y = mqs__map_get(c->doc, x, "topic")) && get_bytes(c, y, "will topic", &p->will_topic))
      return -1;
    if ((y = mqs__map_get(c->doc, x, "payload")) &&
        get_bytes(c, y, "will payload", &p->will_payload))
      return -1;
  }
  if ((x = mqs__map_get(c->doc, n, "username"))) {
    p->has_username = true;
    if (get_bytes(c, x, "username", &p->username)) return -1;
  }
  if ((x = mqs__map_get(c->doc, n, "password"))) {
    p->has_password = true;
    if (get_bytes(c, x, "password", &p->password)) return -1;
  }
  return 0;
}

int mqs_packet_from_yaml(yaml_document_t *doc, yaml_node_t *node, mqc_version v, mqs_arena *arena,
                         mqc_packet *pkt, mqc_faults *faults, mqs_spec_error *err) {
  return mqs_packet_from_yaml_vars(doc, node, v, arena, NULL, MQC_RESERVED0, pkt, faults, err);
}

int mqs_packet_from_yaml_vars(yaml_document_t *doc, yaml_node_t *node, mqc_version v,
                              mqs_arena *arena, const mqs_vars *vars, mqc_type default_type,
                              mqc_packet *pkt, mqc_faults *faults, mqs_spec_error *err) {
  static const char *const keys[] = {"type",
                                     "protocol_name",
                                     "protocol_level",
                                     "clean_start",
                                     "keep_alive",
                                     "properties",
                                     "client_id",
                                     "will",
                                     "username",
                                     "password",
                                     "session_present",
                                     "reason_code",
                                     "dup",
                                     "qos",
                                     "retain",
                                     "topic",
                                     "packet_id",
                                     "payload",
                                     "subscriptions",
                                     "topic_filters",
                                     "reason_codes",
                                     "faults",
                                     NULL};
  ctx c = {doc, arena, err, v, vars};
  memset(err, 0, sizeof *err);
  memset(faults, 0, sizeof *faults);
  if (!node || node->type != YAML_MAPPING_NODE)
    return mqs__spec_fail(c.err, node, "a packet is a mapping with at least a 'type' key");
  if (check_keys(&c, node, keys)) return -1;
  yaml_node_t *tn = mqs__map_get(c.doc, node, "type");
  mqc_type type = default_type;
  if (!tn && default_type != MQC_RESERVED0) {
    /* the step names the type */
  } else if (!mqs__is_scalar(tn) || type_from_name(mqs__scalar(tn), &type))
    return mqs__spec_fail(c.err, tn ? tn : node, "'type' must name a packet type such as PUBLISH");
  mqc_packet_init(pkt, type, v);
  unsigned long u;
  yaml_node_t *x;
  uint16_t *packet_id = NULL;
  mqc_props *props = NULL;
  uint8_t *reason = NULL;
  switch (type) {
  case MQC_CONNECT:
    return build_connect(&c, node, &pkt->connect)      ? -1
           : (x = mqs__map_get(c.doc, node, "faults")) ? build_faults(&c, x, faults)
                                                       : 0;
  case MQC_CONNACK:
    props = &pkt->connack.props;
    reason = &pkt->connack.reason;
    if ((x = mqs__map_get(c.doc, node, "session_present")) &&
        get_bool(&c, x, "session_present", &pkt->connack.session_present))
      return -1;
    break;
  case MQC_PUBLISH: {
    mqc_publish *p = &pkt->publish;
    props = &p->props;
    packet_id = &p->packet_id;
    if ((x = mqs__map_get(c.doc, node, "dup")) && get_bool(&c, x, "dup", &p->dup)) return -1;
    if ((x = mqs__map_get(c.doc, node, "retain")) && get_bool(&c, x, "retain", &p->retain))
      return -1;
    if ((x = mqs__map_get(c.doc, node, "qos"))) {
      if (get_uint(&c, x, 3, "qos", &u)) return -1;
      p->qos = (uint8_t)u;
    }
    if ((x = mqs__map_get(c.doc, node, "topic")) && get_bytes(&c, x, "topic", &p->topic)) return -1;
    if ((x = mqs__map_get(c.doc, node, "payload")) && get_bytes(&c, x, "payload", &p->payload))
      return -1;
    break;
  }
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    props = &pkt->ack.props;
    packet_id = &pkt->ack.packet_id;
    reason = &pkt->ack.reason;
    break;
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
    props = &pkt->subscribe.props;
    packet_id = &pkt->subscribe.packet_id;
    if (type == MQC_SUBSCRIBE && (x = mqs__map_get(c.doc, node, "subscriptions")) &&
        build_subscriptions(&c, x, &pkt->subscribe))
      return -1;
    if (type == MQC_UNSUBSCRIBE && (x = mqs__map_get(c.doc, node, "topic_filters")) &&
        build_filters(&c, x, &pkt->subscribe))
      return -1;
    break;
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    props = &pkt->suback.props;
    packet_id = &pkt->suback.packet_id;
    if ((x = mqs__map_get(c.doc, node, "reason_codes")) &&
        build_reason_list(&c, x, &pkt->suback.reasons))
      return -1;
    break;
  case MQC_DISCONNECT:
  case MQC_AUTH:
    props = &pkt->disconnect.props;
    reason = &pkt->disconnect.reason;
    break;
  default:
    break;
  }
  if (packet_id && (x = mqs__map_get(c.doc, node, "packet_id"))) {
    if (get_uint(&c, x, 0xFFFF, "packet_id", &u)) return -1;
    *packet_id = (uint16_t)u;
  }
  if (reason && (x = mqs__map_get(c.doc, node, "reason_code"))) {
    if (get_uint(&c, x, 0xFF, "reason_code", &u)) return -1;
    *reason = (uint8_t)u;
  }
  if (props && build_props(&c, mqs__map_get(c.doc, node, "properties"), props)) return -1;
  if ((x = mqs__map_get(c.doc, node, "faults")) && build_faults(&c, x, faults)) return -1;
  return 0;
}
