/* match.c - "the next packet looks like this": field-by-field comparison of
 * a received packet with an expectation written in the packet-description
 * shape. Only the fields the expectation names are compared. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* ---- text buffer ---- */

void mqs__buf_printf(mqs__buf *b, const char *fmt, ...) {
  if (b->oom) return;
  for (int pass = 0; pass < 2; pass++) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->cap - b->n;
    int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < room) {
      b->n += (size_t)k;
      return;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->n <= (size_t)k)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
}

void mqs__buf_free(mqs__buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

char *mqs__buf_take(mqs__buf *b) {
  char *p = b->p;
  if (!p) {
    p = malloc(1);
    if (p) p[0] = '\0';
  }
  memset(b, 0, sizeof *b);
  return p;
}

/* ---- values ---- */

typedef enum { V_NONE, V_NUM, V_BOOL, V_STR, V_LIST, V_PROPS } vkind;

typedef struct {
  vkind kind;
  uint32_t u;  /* NUM, BOOL */
  mqc_bytes s; /* STR; LIST: reason code bytes; PROPS: nothing */
} actual;

static const char *const k_common[] = {"type", "properties", "no_properties", "user_properties",
                                       NULL};

static const char *const *keys_for(mqc_type t) {
  static const char *const connack[] = {"session_present", "reason_code", NULL};
  static const char *const publish[] = {
      "dup", "qos", "retain", "topic", "packet_id", "payload", "subscription_identifiers", NULL};
  static const char *const ack[] = {"packet_id", "reason_code", NULL};
  static const char *const suback[] = {"packet_id", "reason_codes", NULL};
  static const char *const reasoned[] = {"reason_code", NULL};
  static const char *const none[] = {NULL};
  switch (t) {
  case MQC_CONNACK:
    return connack;
  case MQC_PUBLISH:
    return publish;
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    return ack;
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    return suback;
  case MQC_DISCONNECT:
  case MQC_AUTH:
    return reasoned;
  default:
    return none;
  }
}

static bool in_list(const char *const *l, const char *k) {
  for (; *l; l++)
    if (!strcmp(*l, k)) return true;
  return false;
}

static mqc_type type_from_name(const char *s) {
  for (unsigned t = 1; t < 16; t++)
    if (!strcasecmp(s, mqc_type_name((mqc_type)t))) return (mqc_type)t;
  return MQC_RESERVED0;
}

mqc_type mqs__match_type(yaml_document_t *doc, yaml_node_t *exp) {
  yaml_node_t *t = mqs__map_get(doc, exp, "type");
  if (!t) return MQC_CONNACK; /* only connack: {...} may omit it (load.c) */
  return mqs__is_scalar(t) ? type_from_name(mqs__scalar(t)) : MQC_RESERVED0;
}

static actual field_of(const mqc_packet *p, const char *key) {
  actual a = {V_NONE, 0, {NULL, 0}};
  switch (p->type) {
  case MQC_CONNACK:
    if (!strcmp(key, "session_present")) a = (actual){V_BOOL, p->connack.session_present, {0, 0}};
    if (!strcmp(key, "reason_code")) a = (actual){V_NUM, p->connack.reason, {0, 0}};
    break;
  case MQC_PUBLISH:
    if (!strcmp(key, "dup")) a = (actual){V_BOOL, p->publish.dup, {0, 0}};
    if (!strcmp(key, "qos")) a = (actual){V_NUM, p->publish.qos, {0, 0}};
    if (!strcmp(key, "retain")) a = (actual){V_BOOL, p->publish.retain, {0, 0}};
    if (!strcmp(key, "topic")) a = (actual){V_STR, 0, p->publish.topic};
    if (!strcmp(key, "packet_id")) a = (actual){V_NUM, p->publish.packet_id, {0, 0}};
    if (!strcmp(key, "payload")) a = (actual){V_STR, 0, p->publish.payload};
    break;
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    if (!strcmp(key, "packet_id")) a = (actual){V_NUM, p->ack.packet_id, {0, 0}};
    if (!strcmp(key, "reason_code")) a = (actual){V_NUM, p->ack.reason, {0, 0}};
    break;
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    if (!strcmp(key, "packet_id")) a = (actual){V_NUM, p->suback.packet_id, {0, 0}};
    if (!strcmp(key, "reason_codes")) a = (actual){V_LIST, 0, p->suback.reasons};
    break;
  case MQC_DISCONNECT:
  case MQC_AUTH:
    if (!strcmp(key, "reason_code")) a = (actual){V_NUM, p->disconnect.reason, {0, 0}};
    break;
  default:
    break;
  }
  return a;
}

/* Pending captures of one match attempt. */
typedef struct {
  size_t n;
  struct {
    char name[64];
    char value[MQS_VAR_VALUE_MAX];
    size_t len;
  } c[8];
} captures;

typedef struct {
  yaml_document_t *doc;
  mqs_vars *vars;
  captures cap;
  mqs__buf *diff;
  int mismatches;
  mqc_version v;
  char sids[160]; /* subscription_identifiers as text, for the actual value */
} mctx;

static void print_bytes(mqs__buf *b, mqc_bytes s) {
  mqs__buf_printf(b, "\"");
  for (size_t i = 0; i < s.n && i < 200; i++) {
    uint8_t ch = s.p[i];
    if (ch == '"' || ch == '\\')
      mqs__buf_printf(b, "\\%c", ch);
    else if (ch >= 0x20 && ch < 0x7f)
      mqs__buf_printf(b, "%c", ch);
    else
      mqs__buf_printf(b, "\\x%02x", ch);
  }
  mqs__buf_printf(b, s.n > 200 ? "\"...(%zu bytes)" : "\"", s.n);
}

static void print_actual(mqs__buf *b, const actual *a) {
  switch (a->kind) {
  case V_NUM:
    mqs__buf_printf(b, "%u (0x%02x)", a->u, a->u);
    break;
  case V_BOOL:
    mqs__buf_printf(b, "%s", a->u ? "true" : "false");
    break;
  case V_STR:
    print_bytes(b, a->s);
    break;
  case V_LIST:
    mqs__buf_printf(b, "[");
    for (size_t i = 0; i < a->s.n; i++)
      mqs__buf_printf(b, "%s0x%02x", i ? ", " : "", a->s.p[i]);
    mqs__buf_printf(b, "]");
    break;
  default:
    mqs__buf_printf(b, "(absent)");
    break;
  }
}

/* Expanded text of an expected scalar into out; a capture reference returns
 * 1 with the name in capname. -1 on an unbound name inside longer text. */
static int expected_text(mctx *m, yaml_node_t *n, char *out, size_t cap, size_t *len,
                         char capname[64]) {
  const char *s = mqs__scalar(n);
  size_t sl = n->data.scalar.length;
  if (mqs_vars_is_ref(s, sl, capname) && !mqs_vars_get(m->vars, capname, NULL)) return 1;
  char bad[64];
  long k = mqs_vars_expand(m->vars, s, sl, out, cap, bad);
  if (k < 0) {
    snprintf(capname, 64, "%s", bad);
    return -1;
  }
  *len = (size_t)k;
  return 0;
}

static void add_capture(mctx *m, const char *name, const actual *a) {
  if (!strcmp(name, "_") || m->cap.n == 8) return; /* ${_}: present, any value */
  captures *c = &m->cap;
  snprintf(c->c[c->n].name, sizeof c->c[c->n].name, "%s", name);
  if (a->kind == V_STR) {
    size_t n = a->s.n < MQS_VAR_VALUE_MAX - 1 ? a->s.n : MQS_VAR_VALUE_MAX - 1;
    if (n) memcpy(c->c[c->n].value, a->s.p, n);
    c->c[c->n].len = n;
  } else {
    c->c[c->n].len = (size_t)snprintf(c->c[c->n].value, MQS_VAR_VALUE_MAX, "%u", a->u);
  }
  c->n++;
}

static bool parse_num(const char *s, uint32_t *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 0);
  if (!*s || *end || errno || v > 0xFFFFFFFFul || s[0] == '-') return false;
  *out = (uint32_t)v;
  return true;
}

static bool parse_bool(const char *s, uint32_t *out) {
  if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes")) return *out = 1, true;
  if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no")) return *out = 0, true;
  return false;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Do the hex digits h[0..n) (spaces and colons skipped) spell exactly the
 * bytes of a? Streamed, so an expected payload of any size compares (a
 * buffer of MQS_VAR_VALUE_MAX made every payload longer than that differ).
 * Returns 1 equal, 0 different, -1 not hex. */
static int hex_equal(const char *h, size_t n, mqc_bytes a) {
  size_t k = 0;
  int hi = -1;
  bool same = true;
  for (size_t i = 0; i < n; i++) {
    if (h[i] == ' ' || h[i] == ':') continue;
    int v = hexval(h[i]);
    if (v < 0) return -1;
    if (hi < 0) {
      hi = v;
      continue;
    }
    same = same && k < a.n && a.p[k] == (uint8_t)(hi << 4 | v);
    k++;
    hi = -1;
  }
  if (hi >= 0) return -1;
  return same && k == a.n;
}

/* Does one expected scalar (or {hex: ...}) equal the actual value? Sets
 * *capture when it is a capture. Returns 1 equal, 0 different, -1 bad. */
static int scalar_equal(mctx *m, yaml_node_t *n, const actual *a, bool *captured) {
  char buf[MQS_VAR_VALUE_MAX * 2];
  size_t len = 0;
  char name[64];
  *captured = false;
  if (n && n->type == YAML_MAPPING_NODE && a->kind == V_STR) {
    yaml_node_t *h = mqs__map_get(m->doc, n, "hex");
    if (!mqs__is_scalar(h)) return -1;
    if (!memchr(mqs__scalar(h), '$', h->data.scalar.length)) /* no expansion needed */
      return hex_equal(mqs__scalar(h), h->data.scalar.length, a->s);
    int rc = expected_text(m, h, buf, sizeof buf, &len, name);
    if (rc) return -1;
    return hex_equal(buf, len, a->s);
  }
  if (!mqs__is_scalar(n)) return -1;
  if (a->kind == V_STR && !memchr(mqs__scalar(n), '$', n->data.scalar.length)) {
    /* plain text of any length: no expansion needed */
    len = n->data.scalar.length;
    return len == a->s.n && (!len || !memcmp(mqs__scalar(n), a->s.p, len));
  }
  int rc = expected_text(m, n, buf, sizeof buf, &len, name);
  if (rc < 0) return -1;
  if (rc == 1) {
    add_capture(m, name, a);
    *captured = true;
    return 1;
  }
  uint32_t u;
  switch (a->kind) {
  case V_NUM:
    return parse_num(buf, &u) ? u == a->u : -1;
  case V_BOOL:
    return parse_bool(buf, &u) ? u == a->u : -1;
  case V_STR:
    return len == a->s.n && (!len || !memcmp(buf, a->s.p, len));
  default:
    return 0;
  }
}

static void mismatch(mctx *m, const char *field, yaml_node_t *exp, const actual *a) {
  m->mismatches++;
  if (!m->diff) return;
  mqs__buf_printf(m->diff, "      %-16s expected ", field);
  if (mqs__is_scalar(exp)) {
    char buf[MQS_VAR_VALUE_MAX];
    char bad[64];
    long k =
        mqs_vars_expand(m->vars, mqs__scalar(exp), exp->data.scalar.length, buf, sizeof buf, bad);
    mqs__buf_printf(m->diff, "%s", k < 0 ? mqs__scalar(exp) : buf);
  } else if (exp && exp->type == YAML_SEQUENCE_NODE) {
    mqs__buf_printf(m->diff, "[");
    for (size_t i = 0; i < mqs__seq_size(exp); i++) {
      yaml_node_t *e = mqs__seq_at(m->doc, exp, i);
      mqs__buf_printf(m->diff, "%s%s", i ? ", " : "", mqs__is_scalar(e) ? mqs__scalar(e) : "[..]");
    }
    mqs__buf_printf(m->diff, "]");
  } else {
    mqs__buf_printf(m->diff, "(see step)");
  }
  mqs__buf_printf(m->diff, ", received ");
  print_actual(m->diff, a);
  mqs__buf_printf(m->diff, "\n");
}

/* An expected value: a scalar, {hex:}, or for reason codes a list of
 * alternatives. */
static void compare_field(mctx *m, const char *key, yaml_node_t *exp, const actual *a) {
  bool cap;
  if (a->kind == V_LIST) {
    /* reason_codes: each entry a code or a list of acceptable codes */
    bool ok = exp && exp->type == YAML_SEQUENCE_NODE && mqs__seq_size(exp) == a->s.n;
    for (size_t i = 0; ok && i < a->s.n; i++) {
      yaml_node_t *e = mqs__seq_at(m->doc, exp, i);
      actual one = {V_NUM, a->s.p[i], {0, 0}};
      bool any = false;
      if (e && e->type == YAML_SEQUENCE_NODE) {
        for (size_t j = 0; j < mqs__seq_size(e) && !any; j++)
          any = scalar_equal(m, mqs__seq_at(m->doc, e, j), &one, &cap) == 1;
      } else {
        any = scalar_equal(m, e, &one, &cap) == 1;
      }
      ok = any;
    }
    if (!ok) mismatch(m, key, exp, a);
    return;
  }
  if (exp && exp->type == YAML_SEQUENCE_NODE && a->kind == V_NUM) {
    for (size_t j = 0; j < mqs__seq_size(exp); j++)
      if (scalar_equal(m, mqs__seq_at(m->doc, exp, j), a, &cap) == 1) return;
    mismatch(m, key, exp, a);
    return;
  }
  if (scalar_equal(m, exp, a, &cap) != 1) mismatch(m, key, exp, a);
}

static void print_props(mqs__buf *b, const mqc_props *props) {
  mqc_prop_iter it;
  mqc_prop p;
  mqc_prop_iter_init(&it, props);
  mqs__buf_printf(b, "[");
  bool first = true;
  while (mqc_prop_next(&it, &p)) {
    const mqc_prop_info *info = mqc_prop_lookup(p.id);
    mqs__buf_printf(b, "%s%s=", first ? "" : ", ", info ? info->name : "?");
    first = false;
    if (p.type == MQC_PT_UTF8_PAIR) {
      print_bytes(b, p.key);
      mqs__buf_printf(b, ":");
      print_bytes(b, p.value);
    } else if (p.type == MQC_PT_UTF8 || p.type == MQC_PT_BINARY) {
      print_bytes(b, p.value);
    } else {
      mqs__buf_printf(b, "%u", p.u);
    }
  }
  mqs__buf_printf(b, "]");
}

/* One expected property {name: value} against every occurrence received. */
static bool prop_present(mctx *m, const mqc_props *props, yaml_node_t *item) {
  yaml_node_pair_t *pair = item->data.mapping.pairs.start;
  yaml_node_t *k = yaml_document_get_node(m->doc, pair->key);
  yaml_node_t *v = yaml_document_get_node(m->doc, pair->value);
  const mqc_prop_info *info = mqc_prop_by_name(mqs__scalar(k));
  if (!info) return false;
  mqc_prop_iter it;
  mqc_prop p;
  mqc_prop_iter_init(&it, props);
  while (mqc_prop_next(&it, &p)) {
    if (p.id != info->id) continue;
    bool cap;
    size_t before = m->cap.n;
    if (p.type == MQC_PT_UTF8_PAIR) {
      if (!v || v->type != YAML_SEQUENCE_NODE || mqs__seq_size(v) != 2) return false;
      actual ka = {V_STR, 0, p.key}, va = {V_STR, 0, p.value};
      if (scalar_equal(m, mqs__seq_at(m->doc, v, 0), &ka, &cap) == 1 &&
          scalar_equal(m, mqs__seq_at(m->doc, v, 1), &va, &cap) == 1)
        return true;
    } else {
      actual a = (p.type == MQC_PT_UTF8 || p.type == MQC_PT_BINARY) ? (actual){V_STR, 0, p.value}
                                                                    : (actual){V_NUM, p.u, {0, 0}};
      if (scalar_equal(m, v, &a, &cap) == 1) return true;
    }
    m->cap.n = before;
  }
  return false;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* "1,7,9": sorted numbers as text (the order of Subscription Identifiers in
 * one PUBLISH carries no meaning). n is bounded by the caller. */
static void join_sorted(uint32_t *ids, size_t n, char *out, size_t cap) {
  qsort(ids, n, sizeof *ids, cmp_u32);
  size_t k = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && k + 12 < cap; i++)
    k += (size_t)snprintf(out + k, cap - k, "%s%u", i ? "," : "", ids[i]);
}

/* subscription_identifiers: [1, 2] (exactly this set, any order), or a
 * scalar ("1,2", or a capture "${ids}" which binds the sorted text). */
static void match_sub_ids(mctx *m, const mqc_props *props, yaml_node_t *val) {
  uint32_t got[16];
  size_t n = 0;
  mqc_prop_iter it;
  mqc_prop p;
  mqc_prop_iter_init(&it, props);
  while (mqc_prop_next(&it, &p))
    if (p.id == MQC_PROP_SUBSCRIPTION_IDENTIFIER && n < 16) got[n++] = p.u;
  join_sorted(got, n, m->sids, sizeof m->sids);
  actual a = {V_STR, 0, {(const uint8_t *)m->sids, strlen(m->sids)}};
  bool cap;
  if (val->type == YAML_SEQUENCE_NODE) {
    uint32_t want[16];
    size_t wn = 0;
    bool ok = mqs__seq_size(val) <= 16;
    for (size_t i = 0; ok && i < mqs__seq_size(val); i++) {
      yaml_node_t *e = mqs__seq_at(m->doc, val, i);
      char buf[64], name[64];
      size_t len;
      ok = mqs__is_scalar(e) && expected_text(m, e, buf, sizeof buf, &len, name) == 0 &&
           parse_num(buf, &want[wn++]);
    }
    char w[160];
    if (ok) join_sorted(want, wn, w, sizeof w);
    if (!ok || strcmp(w, m->sids)) mismatch(m, "subscription_identifiers", val, &a);
    return;
  }
  if (scalar_equal(m, val, &a, &cap) != 1) mismatch(m, "subscription_identifiers", val, &a);
}

/* user_properties: [[k, v], ...] - exactly these User Properties, in this
 * order (the order is part of the message: MQTT-3.3.2-18). */
static void match_user_props(mctx *m, const mqc_props *props, yaml_node_t *val) {
  mqc_prop_iter it;
  mqc_prop p;
  mqc_prop_iter_init(&it, props);
  size_t i = 0, n = mqs__seq_size(val);
  bool ok = true;
  while (ok && mqc_prop_next(&it, &p)) {
    if (p.id != MQC_PROP_USER_PROPERTY) continue;
    if (i == n) {
      ok = false;
      break;
    }
    yaml_node_t *pair = mqs__seq_at(m->doc, val, i++);
    actual ka = {V_STR, 0, p.key}, va = {V_STR, 0, p.value};
    bool cap;
    ok = scalar_equal(m, mqs__seq_at(m->doc, pair, 0), &ka, &cap) == 1 &&
         scalar_equal(m, mqs__seq_at(m->doc, pair, 1), &va, &cap) == 1;
  }
  if (ok && i == n) return;
  m->mismatches++;
  if (m->diff) {
    mqs__buf_printf(m->diff, "      %-16s expected exactly the listed pairs in order, received ",
                    "user_properties");
    print_props(m->diff, props);
    mqs__buf_printf(m->diff, "\n");
  }
}

static int match(yaml_document_t *doc, yaml_node_t *exp, const mqc_packet *pkt, mqc_version v,
                 mqs_vars *vars, mqs__buf *diff, bool bind_anyway) {
  mctx m = {doc, vars, {0}, diff, 0, v, {0}};
  mqc_type want = mqs__match_type(doc, exp);
  if (want != pkt->type) {
    m.mismatches++;
    if (diff)
      mqs__buf_printf(diff, "      %-16s expected %s, received %s\n", "type", mqc_type_name(want),
                      mqc_type_name(pkt->type));
    return m.mismatches;
  }
  const mqc_props *props = mqc_packet_props(pkt);
  for (yaml_node_pair_t *p = exp->data.mapping.pairs.start; p < exp->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *val = yaml_document_get_node(doc, p->value);
    const char *key = mqs__scalar(k);
    if (!strcmp(key, "type")) continue;
    if (!strcmp(key, "properties")) {
      bool all = true;
      for (size_t i = 0; props && i < mqs__seq_size(val); i++)
        if (!prop_present(&m, props, mqs__seq_at(doc, val, i))) {
          yaml_node_t *item = mqs__seq_at(doc, val, i);
          yaml_node_t *pk = yaml_document_get_node(doc, item->data.mapping.pairs.start->key);
          yaml_node_t *pv = yaml_document_get_node(doc, item->data.mapping.pairs.start->value);
          m.mismatches++;
          all = false;
          if (diff) {
            mqs__buf_printf(diff, "      %-16s expected %s=%s among ", "properties",
                            mqs__scalar(pk), mqs__is_scalar(pv) ? mqs__scalar(pv) : "[..]");
            print_props(diff, props);
            mqs__buf_printf(diff, "\n");
          }
        }
      (void)all;
      continue;
    }
    if (!strcmp(key, "user_properties")) {
      static const mqc_props none;
      match_user_props(&m, props ? props : &none, val);
      continue;
    }
    if (!strcmp(key, "subscription_identifiers")) {
      match_sub_ids(&m, props, val);
      continue;
    }
    if (!strcmp(key, "no_properties")) {
      for (size_t i = 0; props && i < mqs__seq_size(val); i++) {
        const mqc_prop_info *info = mqc_prop_by_name(mqs__scalar(mqs__seq_at(doc, val, i)));
        if (info && mqc_props_has(props, info->id)) {
          m.mismatches++;
          if (diff) {
            mqs__buf_printf(diff, "      %-16s expected no %s, received ", "properties",
                            info->name);
            print_props(diff, props);
            mqs__buf_printf(diff, "\n");
          }
        }
      }
      continue;
    }
    actual a = field_of(pkt, key);
    compare_field(&m, key, val, &a);
  }
  if (m.mismatches == 0 || bind_anyway)
    for (size_t i = 0; i < m.cap.n; i++)
      (void)mqs_vars_set(vars, m.cap.c[i].name, m.cap.c[i].value, m.cap.c[i].len);
  return m.mismatches;
}

int mqs__match(yaml_document_t *doc, yaml_node_t *exp, const mqc_packet *pkt, mqc_version v,
               mqs_vars *vars, mqs__buf *diff) {
  return match(doc, exp, pkt, v, vars, diff, false);
}

void mqs__match_bind(yaml_document_t *doc, yaml_node_t *exp, const mqc_packet *pkt, mqc_version v,
                     mqs_vars *vars) {
  (void)match(doc, exp, pkt, v, vars, NULL, true);
}

void mqs__match_describe(yaml_document_t *doc, yaml_node_t *exp, const mqs_vars *vars,
                         mqs__buf *out) {
  mqc_type t = mqs__match_type(doc, exp);
  mqs__buf_printf(out, "%s", mqc_type_name(t));
  for (yaml_node_pair_t *p = exp->data.mapping.pairs.start; p < exp->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);
    if (!strcmp(mqs__scalar(k), "type")) continue;
    if (mqs__is_scalar(v)) {
      char buf[MQS_VAR_VALUE_MAX];
      char bad[64];
      long n = mqs_vars_expand(vars, mqs__scalar(v), v->data.scalar.length, buf, sizeof buf, bad);
      mqs__buf_printf(out, " %s=%s", mqs__scalar(k), n < 0 ? mqs__scalar(v) : buf);
    } else {
      mqs__buf_printf(out, " %s=[..]", mqs__scalar(k));
    }
  }
}

/* ---- load-time checks ---- */

static int check_scalar(yaml_document_t *doc, yaml_node_t *n, mqs_vars *vars, vkind kind,
                        mqs_spec_error *err, const char *key) {
  if (kind == V_STR && n && n->type == YAML_MAPPING_NODE && mqs__map_get(doc, n, "hex")) return 0;
  if (!mqs__is_scalar(n)) return mqs__spec_fail(err, n, "%s: expected a single value", key);
  char name[64];
  const char *s = mqs__scalar(n);
  size_t sl = n->data.scalar.length;
  if (mqs_vars_is_ref(s, sl, name) && !mqs_vars_get(vars, name, NULL)) {
    if (strcmp(name, "_")) (void)mqs_vars_set(vars, name, "1", 1);
    return 0;
  }
  if (kind == V_STR && !memchr(s, '$', sl)) return 0;
  char buf[MQS_VAR_VALUE_MAX];
  char bad[64];
  long k = mqs_vars_expand(vars, s, sl, buf, sizeof buf, bad);
  if (k < 0) return mqs__spec_fail(err, n, "%s: unbound variable '%s'", key, bad);
  uint32_t u;
  if (kind == V_NUM && !parse_num(buf, &u))
    return mqs__spec_fail(err, n, "%s: '%s' is not a number", key, buf);
  if (kind == V_BOOL && !parse_bool(buf, &u))
    return mqs__spec_fail(err, n, "%s must be true or false", key);
  return 0;
}

int mqs__match_check(yaml_document_t *doc, yaml_node_t *exp, mqs_vars *vars, mqs_spec_error *err) {
  memset(err, 0, sizeof *err);
  if (!exp || exp->type != YAML_MAPPING_NODE)
    return mqs__spec_fail(err, exp, "expected a packet mapping");
  mqc_type t = mqs__match_type(doc, exp);
  yaml_node_t *tn = mqs__map_get(doc, exp, "type");
  if (!tn) {
    /* connack: {...} may omit the type */
    t = MQC_CONNACK;
  } else if (t == MQC_RESERVED0) {
    return mqs__spec_fail(err, tn, "'type' must name a packet type such as PUBLISH");
  }
  const char *const *keys = keys_for(t);
  for (yaml_node_pair_t *p = exp->data.mapping.pairs.start; p < exp->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);
    if (!mqs__is_scalar(k)) return mqs__spec_fail(err, k, "keys must be plain strings");
    const char *key = mqs__scalar(k);
    if (!in_list(keys, key) && !in_list(k_common, key))
      return mqs__spec_fail(err, k, "%s has no field '%s' to match", mqc_type_name(t), key);
    if (!strcmp(key, "type")) continue;
    if (!strcmp(key, "user_properties")) {
      if (!v || v->type != YAML_SEQUENCE_NODE)
        return mqs__spec_fail(err, v, "user_properties: [[k, v], ...]");
      for (size_t i = 0; i < mqs__seq_size(v); i++) {
        yaml_node_t *pv = mqs__seq_at(doc, v, i);
        if (!pv || pv->type != YAML_SEQUENCE_NODE || mqs__seq_size(pv) != 2)
          return mqs__spec_fail(err, pv ? pv : v, "user_properties: [[k, v], ...]");
        for (size_t j = 0; j < 2; j++)
          if (check_scalar(doc, mqs__seq_at(doc, pv, j), vars, V_STR, err, key)) return -1;
      }
      continue;
    }
    if (!strcmp(key, "subscription_identifiers")) {
      if (v && v->type == YAML_SEQUENCE_NODE) {
        if (mqs__seq_size(v) > 16)
          return mqs__spec_fail(err, v, "at most 16 subscription identifiers");
        for (size_t j = 0; j < mqs__seq_size(v); j++)
          if (check_scalar(doc, mqs__seq_at(doc, v, j), vars, V_NUM, err, key)) return -1;
      } else if (check_scalar(doc, v, vars, V_STR, err, key)) {
        return -1;
      }
      continue;
    }
    if (!strcmp(key, "properties") || !strcmp(key, "no_properties")) {
      if (!v || v->type != YAML_SEQUENCE_NODE)
        return mqs__spec_fail(err, v, "%s must be a list", key);
      for (size_t i = 0; i < mqs__seq_size(v); i++) {
        yaml_node_t *it = mqs__seq_at(doc, v, i);
        if (!strcmp(key, "no_properties")) {
          if (!mqs__is_scalar(it) || !mqc_prop_by_name(mqs__scalar(it)))
            return mqs__spec_fail(err, it, "no_properties lists property names");
          continue;
        }
        if (!it || it->type != YAML_MAPPING_NODE || mqs__map_size(it) != 1)
          return mqs__spec_fail(err, it, "a property is {name: value}");
        yaml_node_t *pk = yaml_document_get_node(doc, it->data.mapping.pairs.start->key);
        yaml_node_t *pv = yaml_document_get_node(doc, it->data.mapping.pairs.start->value);
        const mqc_prop_info *info = mqs__is_scalar(pk) ? mqc_prop_by_name(mqs__scalar(pk)) : NULL;
        if (!info) return mqs__spec_fail(err, pk, "unknown property");
        if (info->type == MQC_PT_UTF8_PAIR) {
          if (!pv || pv->type != YAML_SEQUENCE_NODE || mqs__seq_size(pv) != 2)
            return mqs__spec_fail(err, pv, "user_property takes [key, value]");
          for (size_t j = 0; j < 2; j++)
            if (check_scalar(doc, mqs__seq_at(doc, pv, j), vars, V_STR, err, "user_property"))
              return -1;
        } else if (check_scalar(doc, pv, vars,
                                info->type == MQC_PT_UTF8 || info->type == MQC_PT_BINARY ? V_STR
                                                                                         : V_NUM,
                                err, info->name)) {
          return -1;
        }
      }
      continue;
    }
    mqc_packet probe;
    memset(&probe, 0, sizeof probe);
    probe.type = t;
    actual a = field_of(&probe, key);
    if (a.kind == V_LIST) {
      if (!v || v->type != YAML_SEQUENCE_NODE)
        return mqs__spec_fail(err, v, "%s must be a list", key);
      for (size_t i = 0; i < mqs__seq_size(v); i++) {
        yaml_node_t *e = mqs__seq_at(doc, v, i);
        if (e && e->type == YAML_SEQUENCE_NODE) {
          for (size_t j = 0; j < mqs__seq_size(e); j++)
            if (check_scalar(doc, mqs__seq_at(doc, e, j), vars, V_NUM, err, key)) return -1;
        } else if (check_scalar(doc, e, vars, V_NUM, err, key)) {
          return -1;
        }
      }
    } else if (v && v->type == YAML_SEQUENCE_NODE && a.kind == V_NUM) {
      for (size_t j = 0; j < mqs__seq_size(v); j++)
        if (check_scalar(doc, mqs__seq_at(doc, v, j), vars, V_NUM, err, key)) return -1;
    } else if (check_scalar(doc, v, vars, a.kind, err, key)) {
      return -1;
    }
  }
  return 0;
}
