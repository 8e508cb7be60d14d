/* gen_packets.c - random valid packets of every type, built with the codec's
 * writer helpers. The rules each builder follows are the specification's, so
 * the comments cite what keeps a packet valid. */
#include <string.h>

#include "gen.h"

uint64_t gen_next(gen_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint32_t gen_below(gen_rng *r, uint32_t n) {
  return (uint32_t)(gen_next(r) % n);
}

int gen_chance(gen_rng *r, uint32_t num, uint32_t den) {
  return gen_below(r, den) < num;
}

/* ---- arena --------------------------------------------------------------- */

static uint8_t *take(gen_arena *a, size_t n) {
  if (a->cap - a->used < n) return NULL;
  uint8_t *p = a->buf + a->used;
  a->used += n;
  return p;
}

/* A writer over the rest of the arena; commit() claims what was written. */
static void writer_open(gen_arena *a, mqc_writer *w) {
  mqc_writer_init(w, a->buf + a->used, a->cap - a->used);
}

static int commit(gen_arena *a, const mqc_writer *w, mqc_bytes *out) {
  if (!mqc_writer_ok(w)) return -1;
  out->p = a->buf + a->used;
  out->n = w->len;
  a->used += w->len;
  return 0;
}

/* ---- text ---------------------------------------------------------------- */

/* Lengths: mostly short, sometimes past 127 (two-byte lengths and varints),
 * rarely long. */
static size_t pick_len(gen_rng *r, size_t max) {
  size_t n;
  uint32_t k = gen_below(r, 100);
  if (k < 70)
    n = gen_below(r, 12);
  else if (k < 95)
    n = gen_below(r, 200);
  else
    n = gen_below(r, 1200);
  return n < max ? n : max;
}

/* Appends the UTF-8 form of cp (never a surrogate, never U+0000). */
static size_t put_cp(uint8_t *p, uint32_t cp) {
  if (cp < 0x80) {
    p[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    p[0] = (uint8_t)(0xC0 | cp >> 6);
    p[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    p[0] = (uint8_t)(0xE0 | cp >> 12);
    p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    p[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  p[0] = (uint8_t)(0xF0 | cp >> 18);
  p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  p[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* A code point for a string: mostly printable ASCII, then the edges of each
 * UTF-8 length class. Controls (U+0001..U+001F, U+007F..U+009F) and
 * non-characters are allowed by both versions (SHOULD NOT, not MUST NOT), so
 * they appear too. 'banned' lists ASCII characters to avoid (wildcards, '/'). */
static uint32_t pick_cp(gen_rng *r, const char *banned) {
  for (;;) {
    uint32_t cp;
    uint32_t k = gen_below(r, 100);
    if (k < 75)
      cp = 0x20 + gen_below(r, 0x5F);
    else if (k < 78)
      cp = 1 + gen_below(r, 0x1F);
    else if (k < 86)
      cp = 0x80 + gen_below(r, 0x780);
    else if (k < 94)
      cp = 0x800 + gen_below(r, 0xF800);
    else
      cp = 0x10000 + gen_below(r, 0x100000);
    if (cp >= 0xD800 && cp <= 0xDFFF) continue; /* surrogates are ill-formed */
    if (cp < 0x80 && banned && strchr(banned, (int)cp)) continue;
    return cp;
  }
}

/* Writes up to max_chars random characters into dst (room for 4 bytes per
 * character); returns the byte count. */
static size_t text_into(gen_rng *r, uint8_t *dst, size_t chars, const char *banned) {
  size_t n = 0;
  for (size_t i = 0; i < chars; i++)
    n += put_cp(dst + n, pick_cp(r, banned));
  return n;
}

static int copy_out(gen_arena *a, const uint8_t *src, size_t n, mqc_bytes *out) {
  uint8_t *p = take(a, n);
  if (!p && n) return -1;
  if (n) memcpy(p, src, n);
  out->p = p;
  out->n = n;
  return 0;
}

static int rand_text(gen_rng *r, gen_arena *a, size_t max_chars, const char *banned,
                     mqc_bytes *out) {
  size_t chars = pick_len(r, max_chars);
  uint8_t *p = take(a, chars * 4);
  if (!p && chars) return -1;
  size_t n = text_into(r, p, chars, banned);
  a->used -= chars * 4 - n; /* give back what the characters did not need */
  out->p = p;
  out->n = n;
  return 0;
}

/* Binary data: any bytes, zero included. Sometimes valid text, which the
 * JSON printers render as a string rather than hex. */
static int rand_binary(gen_rng *r, gen_arena *a, size_t max, mqc_bytes *out) {
  if (gen_chance(r, 1, 3)) return rand_text(r, a, max / 4, NULL, out);
  size_t n = pick_len(r, max);
  uint8_t *p = take(a, n);
  if (!p && n) return -1;
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)gen_next(r);
  out->p = p;
  out->n = n;
  return 0;
}

#define LEVEL_CHARS 10
#define MAX_LEVELS  5
#define TOPIC_ROOM  (MAX_LEVELS * (LEVEL_CHARS * 4 + 1) + 64)

/* Topic name: levels separated by '/', empty levels allowed, no wildcards
 * (MQTT-3.3.2-2), at least one character (MQTT-4.7.3-1). A leading '$' level
 * is a valid name too (reserved for server use, MQTT-4.7.2-1, but legal). */
static int rand_topic(gen_rng *r, gen_arena *a, mqc_bytes *out) {
  uint8_t tmp[TOPIC_ROOM];
  size_t n = 0;
  do {
    n = 0;
    uint32_t levels = 1 + gen_below(r, MAX_LEVELS);
    for (uint32_t i = 0; i < levels; i++) {
      if (i) tmp[n++] = '/';
      n += text_into(r, tmp + n, gen_below(r, LEVEL_CHARS + 1), "+#/");
    }
  } while (n == 0);
  return copy_out(a, tmp, n, out);
}

/* Topic filter: whole-level '+' anywhere, '#' only as the last level
 * (MQTT-4.7.1-1/2); in 5.0 sometimes a shared subscription
 * "$share/{name}/{filter}" with a non-empty, wildcard-free name
 * (MQTT-4.8.2-1/2). *shared tells the caller, which must not set No Local on
 * it (MQTT-3.8.3-4). */
static int rand_filter(gen_rng *r, gen_arena *a, mqc_version v, int *shared, mqc_bytes *out) {
  uint8_t tmp[TOPIC_ROOM + LEVEL_CHARS * 4 + 16];
  size_t n = 0;
  *shared = v == MQC_V5 && gen_chance(r, 1, 8);
  if (*shared) {
    memcpy(tmp, "$share/", 7);
    n = 7;
    n += text_into(r, tmp + n, 1 + gen_below(r, LEVEL_CHARS), "+#/");
    tmp[n++] = '/';
  }
  size_t body = n;
  do {
    n = body;
    uint32_t levels = 1 + gen_below(r, MAX_LEVELS);
    for (uint32_t i = 0; i < levels; i++) {
      if (i) tmp[n++] = '/';
      uint32_t k = gen_below(r, 10);
      if (k < 2)
        tmp[n++] = '+';
      else if (k < 3 && i + 1 == levels)
        tmp[n++] = '#';
      else
        n += text_into(r, tmp + n, gen_below(r, LEVEL_CHARS + 1), "+#/");
    }
  } while (n == body);
  return copy_out(a, tmp, n, out);
}

/* ---- properties ---------------------------------------------------------- */

#define MAX_PROPS 40

typedef struct {
  mqc_prop items[MAX_PROPS];
  size_t n;
} prop_list;

static void add(prop_list *l, mqc_prop p) {
  if (l->n < MAX_PROPS) l->items[l->n++] = p;
}

/* A value in the range the specification gives for property id. */
static int prop_value(gen_rng *r, gen_arena *a, const mqc_prop_info *info, mqc_prop *p) {
  memset(p, 0, sizeof *p);
  p->id = info->id;
  p->type = info->type;
  switch (info->id) {
  case MQC_PROP_RECEIVE_MAXIMUM: /* 0 is a Protocol Error (3.1.2.11.3, 3.2.2.3.3) */
  case MQC_PROP_TOPIC_ALIAS:     /* 0 is not permitted (MQTT-3.3.2-8) */
    p->u = 1 + gen_below(r, 0xFFFF);
    return 0;
  case MQC_PROP_MAXIMUM_PACKET_SIZE: /* 0 is a Protocol Error */
    p->u = 1 + (uint32_t)(gen_next(r) % 0xFFFFFFFFu);
    return 0;
  case MQC_PROP_SUBSCRIPTION_IDENTIFIER: /* 1..268,435,455 (3.8.2.1.2) */
    p->u = 1 + gen_below(r, gen_chance(r, 1, 2) ? 127 : MQC_MAX_REMAINING_LENGTH);
    return 0;
  case MQC_PROP_RESPONSE_TOPIC: /* a Topic Name (MQTT-3.3.2-14) */
    return rand_topic(r, a, &p->value);
  default:
    break;
  }
  switch (info->type) {
  case MQC_PT_BYTE:
    p->u = gen_below(r, 2);
    return 0; /* all byte properties are 0 or 1 */
  case MQC_PT_U16:
    p->u = gen_below(r, 0x10000);
    return 0;
  case MQC_PT_U32:
    p->u = (uint32_t)gen_next(r);
    return 0;
  case MQC_PT_VARINT:
    p->u = gen_below(r, MQC_MAX_REMAINING_LENGTH + 1);
    return 0;
  case MQC_PT_UTF8:
    return rand_text(r, a, 40, NULL, &p->value);
  case MQC_PT_BINARY:
    return rand_binary(r, a, 120, &p->value);
  case MQC_PT_UTF8_PAIR:
    if (rand_text(r, a, 12, NULL, &p->key)) return -1;
    return rand_text(r, a, 40, NULL, &p->value);
  case MQC_PT_NONE:
    break;
  }
  return -1;
}

/* A random property block for 'where' (a packet bit, or MQC_PROP_IN_WILL).
 * Each allowed property appears at most once, except User Property (any
 * number, keys may repeat: 3.1.2.11.8) and Subscription Identifier in a
 * server's PUBLISH (one per matching subscription, 3.3.2.3.8). The order is
 * shuffled: the specification fixes none. */
static int rand_props(gen_rng *r, gen_arena *a, mqc_type t, uint32_t where, mqc_dir dir,
                      mqc_props *out) {
  prop_list l = {.n = 0};
  memset(out, 0, sizeof *out);
  uint32_t density = gen_below(r, 4); /* 0: none; 3: most of them */
  if (density == 0) return 0;
  int have_method = 0;
  for (uint32_t id = 1; id <= MQC_PROP_ID_MAX; id++) {
    const mqc_prop_info *info = mqc_prop_lookup(id);
    if (!info || !(info->allowed & where)) continue;
    if (id == MQC_PROP_AUTHENTICATION_DATA) continue; /* decided with the method below */
    /* MQTT-3.3.4-6: a client's PUBLISH carries no Subscription Identifier. */
    if (id == MQC_PROP_SUBSCRIPTION_IDENTIFIER && t == MQC_PUBLISH && dir == MQC_FROM_CLIENT)
      continue;
    /* MQTT-3.14.2-2: the server sends no Session Expiry Interval in DISCONNECT. */
    if (id == MQC_PROP_SESSION_EXPIRY_INTERVAL && t == MQC_DISCONNECT && dir == MQC_FROM_SERVER)
      continue;
    if (!gen_chance(r, density, 5)) continue;
    uint32_t copies = 1;
    if (id == MQC_PROP_USER_PROPERTY) copies = 1 + gen_below(r, 4);
    if (id == MQC_PROP_SUBSCRIPTION_IDENTIFIER && t == MQC_PUBLISH) copies = 1 + gen_below(r, 3);
    mqc_prop p = {.id = info->id};
    for (uint32_t c = 0; c < copies; c++) {
      /* Repeated user-property keys are legal and worth covering. */
      if (c > 0 && id == MQC_PROP_USER_PROPERTY && gen_chance(r, 1, 2)) {
        mqc_bytes key = p.key;
        if (prop_value(r, a, info, &p)) return -1;
        p.key = key;
      } else if (prop_value(r, a, info, &p)) {
        return -1;
      }
      add(&l, p);
    }
    if (id == MQC_PROP_AUTHENTICATION_METHOD) have_method = 1;
  }
  /* Authentication Data only travels with an Authentication Method. */
  if (have_method && gen_chance(r, 1, 2)) {
    mqc_prop p;
    if (prop_value(r, a, mqc_prop_lookup(MQC_PROP_AUTHENTICATION_DATA), &p)) return -1;
    add(&l, p);
  }
  for (size_t i = l.n; i > 1; i--) {
    size_t j = gen_below(r, (uint32_t)i);
    mqc_prop tmp = l.items[i - 1];
    l.items[i - 1] = l.items[j];
    l.items[j] = tmp;
  }
  mqc_writer w;
  writer_open(a, &w);
  for (size_t i = 0; i < l.n; i++)
    mqc_put_prop(&w, &l.items[i]);
  if (commit(a, &w, &out->raw)) return -1;
  out->count = (uint32_t)l.n;
  return 0;
}

/* ---- packets ------------------------------------------------------------- */

static uint16_t rand_id(gen_rng *r) {
  return (uint16_t)(1 + gen_below(r, 0xFFFF)); /* non-zero (MQTT-2.2.1-3) */
}

/* A 5.0 reason code the specification allows in t sent from dir, biased to
 * success; the codec's own table decides, and mqtt-packet's tables are
 * compared against it by the cross-check. */
static uint8_t rand_reason(gen_rng *r, mqc_type t, mqc_dir dir) {
  uint8_t ok[256];
  size_t n = 0;
  for (unsigned c = 0; c < 256; c++)
    if (mqc_reason_valid(t, dir, (uint8_t)c)) ok[n++] = (uint8_t)c;
  if (n == 0 || gen_chance(r, 1, 3)) return ok[0];
  return ok[gen_below(r, (uint32_t)n)];
}

static int gen_connect(gen_rng *r, gen_arena *a, mqc_version v, mqc_connect *c) {
  c->clean_start = gen_chance(r, 1, 2);
  c->keep_alive = (uint16_t)gen_below(r, 0x10000);
  if (v == MQC_V5 && rand_props(r, a, MQC_CONNECT, 1u << MQC_CONNECT, MQC_FROM_CLIENT, &c->props))
    return -1;
  if (v == MQC_V31) {
    /* 3.1: 1 to 23 characters (3.1 spec, 3.1 CONNECT payload). */
    uint8_t tmp[23];
    size_t n = 1 + gen_below(r, 23);
    for (size_t i = 0; i < n; i++)
      tmp[i] = (uint8_t)('0' + gen_below(r, 75));
    if (copy_out(a, tmp, n, &c->client_id)) return -1;
  } else {
    if (rand_text(r, a, 30, NULL, &c->client_id)) return -1;
    /* MQTT-3.1.3-7 (3.1.1): a zero-length ClientId needs CleanSession 1. */
    if (v == MQC_V311 && c->client_id.n == 0) c->clean_start = true;
  }
  c->will = gen_chance(r, 2, 5);
  if (c->will) {
    c->will_qos = (uint8_t)gen_below(r, 3);
    c->will_retain = gen_chance(r, 1, 2);
    if (v == MQC_V5 &&
        rand_props(r, a, MQC_CONNECT, MQC_PROP_IN_WILL, MQC_FROM_CLIENT, &c->will_props))
      return -1;
    if (rand_topic(r, a, &c->will_topic) || rand_binary(r, a, 300, &c->will_payload)) return -1;
  }
  c->has_username = gen_chance(r, 1, 2);
  /* 3.x: no password without a user name (MQTT-3.1.2-22); 5.0 allows it. */
  c->has_password = (v == MQC_V5 || c->has_username) && gen_chance(r, 1, 2);
  if (c->has_username && rand_text(r, a, 20, NULL, &c->username)) return -1;
  if (c->has_password && rand_binary(r, a, 60, &c->password)) return -1;
  return 0;
}

static int gen_connack(gen_rng *r, gen_arena *a, mqc_version v, mqc_connack *c) {
  if (v == MQC_V5) {
    c->reason = rand_reason(r, MQC_CONNACK, MQC_FROM_SERVER);
    if (rand_props(r, a, MQC_CONNACK, 1u << MQC_CONNACK, MQC_FROM_SERVER, &c->props)) return -1;
  } else {
    c->reason = gen_chance(r, 1, 2) ? 0 : (uint8_t)gen_below(r, 6); /* 0..5 defined */
  }
  /* Session Present only with success (MQTT-3.2.2-4 / -6); 3.1 has no flag. */
  c->session_present = v != MQC_V31 && c->reason == 0 && gen_chance(r, 1, 2);
  return 0;
}

static int gen_publish(gen_rng *r, gen_arena *a, mqc_version v, mqc_dir dir, mqc_publish *p) {
  p->qos = (uint8_t)gen_below(r, 3);
  p->dup = p->qos > 0 && gen_chance(r, 1, 3); /* no DUP on QoS 0 (MQTT-3.3.1-2) */
  p->retain = gen_chance(r, 1, 2);
  if (p->qos) p->packet_id = rand_id(r);
  if (v == MQC_V5 && rand_props(r, a, MQC_PUBLISH, 1u << MQC_PUBLISH, dir, &p->props)) return -1;
  /* 5.0: an empty topic is valid when a Topic Alias is present (3.3.2.3.4). */
  int alias = v == MQC_V5 && mqc_props_has(&p->props, MQC_PROP_TOPIC_ALIAS);
  if (!alias || gen_chance(r, 1, 2)) {
    if (rand_topic(r, a, &p->topic)) return -1;
  }
  /* Now and then a payload big enough for a three-byte remaining length. */
  if (gen_chance(r, 1, 150)) {
    size_t n = 16384 + gen_below(r, 8000);
    uint8_t *b = take(a, n);
    if (!b) return -1;
    for (size_t i = 0; i < n; i++)
      b[i] = (uint8_t)gen_next(r);
    p->payload = (mqc_bytes){b, n};
    return 0;
  }
  return rand_binary(r, a, 400, &p->payload);
}

static int gen_ack(gen_rng *r, gen_arena *a, mqc_type t, mqc_version v, mqc_dir dir, mqc_ack *k) {
  k->packet_id = rand_id(r);
  if (v != MQC_V5) return 0;
  k->reason = rand_reason(r, t, dir);
  return rand_props(r, a, t, 1u << t, dir, &k->props);
}

static int gen_subscribe(gen_rng *r, gen_arena *a, mqc_type t, mqc_version v, mqc_subscribe *s) {
  s->packet_id = rand_id(r);
  if (v == MQC_V5 && rand_props(r, a, t, 1u << t, MQC_FROM_CLIENT, &s->props)) return -1;
  uint32_t count = 1 + gen_below(r, gen_chance(r, 1, 4) ? 12 : 3);
  /* Filters first (each into the arena), then the list that copies them. */
  mqc_bytes filters[12];
  uint8_t options[12];
  for (uint32_t i = 0; i < count; i++) {
    int shared;
    if (rand_filter(r, a, v, &shared, &filters[i])) return -1;
    mqc_subopts o = {.max_qos = (uint8_t)gen_below(r, 3)};
    if (v == MQC_V5) {
      o.no_local = !shared && gen_chance(r, 1, 2);
      o.retain_as_published = gen_chance(r, 1, 2);
      o.retain_handling = (uint8_t)gen_below(r, 3);
    }
    options[i] = mqc_subopts_pack(o);
  }
  mqc_writer w;
  writer_open(a, &w);
  for (uint32_t i = 0; i < count; i++) {
    if (t == MQC_SUBSCRIBE)
      mqc_put_sub_entry(&w, filters[i], options[i]);
    else
      mqc_put_str(&w, filters[i]);
  }
  if (commit(a, &w, &s->list)) return -1;
  s->count = count;
  return 0;
}

static int gen_suback(gen_rng *r, gen_arena *a, mqc_type t, mqc_version v, mqc_suback *s) {
  s->packet_id = rand_id(r);
  if (v != MQC_V5 && t == MQC_UNSUBACK) return 0; /* 3.x UNSUBACK is just the id */
  if (v == MQC_V5 && rand_props(r, a, t, 1u << t, MQC_FROM_SERVER, &s->props)) return -1;
  size_t n = 1 + gen_below(r, gen_chance(r, 1, 4) ? 12 : 3);
  uint8_t *codes = take(a, n);
  if (!codes) return -1;
  for (size_t i = 0; i < n; i++) {
    if (v == MQC_V5)
      codes[i] = rand_reason(r, t, MQC_FROM_SERVER);
    else if (v == MQC_V311)
      codes[i] = gen_chance(r, 1, 4) ? 0x80 : (uint8_t)gen_below(r, 3);
    else
      codes[i] = (uint8_t)gen_below(r, 3); /* 3.1 has no failure code */
  }
  s->reasons = (mqc_bytes){codes, n};
  return 0;
}

static int gen_reasoned(gen_rng *r, gen_arena *a, mqc_type t, mqc_version v, mqc_dir dir,
                        mqc_reasoned *d) {
  if (v != MQC_V5) return 0;
  d->reason = rand_reason(r, t, dir);
  return rand_props(r, a, t, 1u << t, dir, &d->props);
}

int gen_packet(gen_rng *r, gen_arena *a, mqc_type t, mqc_version v, mqc_dir dir, mqc_packet *out) {
  mqc_packet_init(out, t, v);
  switch (t) {
  case MQC_CONNECT:
    return gen_connect(r, a, v, &out->connect);
  case MQC_CONNACK:
    return gen_connack(r, a, v, &out->connack);
  case MQC_PUBLISH:
    return gen_publish(r, a, v, dir, &out->publish);
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    return gen_ack(r, a, t, v, dir, &out->ack);
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
    return gen_subscribe(r, a, t, v, &out->subscribe);
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    return gen_suback(r, a, t, v, &out->suback);
  case MQC_DISCONNECT:
    return gen_reasoned(r, a, t, v, dir, &out->disconnect);
  case MQC_AUTH:
    return gen_reasoned(r, a, t, v, dir, &out->auth);
  case MQC_PINGREQ:
  case MQC_PINGRESP:
  case MQC_RESERVED0:
    return 0;
  }
  return 0;
}

mqc_type gen_pick_type(gen_rng *r, mqc_version v) {
  /* AUTH exists only in 5.0. */
  return (mqc_type)(1 + gen_below(r, v == MQC_V5 ? 15 : 14));
}

mqc_dir gen_pick_dir(gen_rng *r, mqc_type t, mqc_version v) {
  switch (t) {
  case MQC_CONNECT:
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
  case MQC_PINGREQ:
    return MQC_FROM_CLIENT;
  case MQC_CONNACK:
  case MQC_SUBACK:
  case MQC_UNSUBACK:
  case MQC_PINGRESP:
    return MQC_FROM_SERVER;
  case MQC_DISCONNECT: /* a 3.x server closes the connection instead */
    return v == MQC_V5 && gen_chance(r, 1, 2) ? MQC_FROM_SERVER : MQC_FROM_CLIENT;
  default:
    return gen_chance(r, 1, 2) ? MQC_FROM_SERVER : MQC_FROM_CLIENT;
  }
}
