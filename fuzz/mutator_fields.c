/* mutator_fields.c - the mutator's field-level edits: locating fields by
 * decoding, generating values (strings, integers, properties) and editing one
 * packet with its lengths repaired or, on purpose, left lying. */
#include <string.h>

#include "mutator_int.h"

#define MAX_BLOCKS 2 /* property blocks per packet: props and will props */

/* ------------------------------------------------------------------------ */
/* Varints and the packet edit buffer                                       */
/* ------------------------------------------------------------------------ */

/* Writes v as a varint padded to at least min_bytes (non-minimal when over
 * the value's size; up to 5 bytes, which no reader accepts). */
static size_t put_varint(uint8_t *out, uint32_t v, size_t min_bytes) {
  size_t n = 0;
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    out[n] = (uint8_t)(b | 0x80);
    n++;
  } while ((v || n < min_bytes) && n < 5);
  out[n - 1] &= 0x7F;
  return n;
}

static size_t varint_size(uint32_t v) {
  size_t n = 1;
  while (v > 127 && n < 4)
    v >>= 7, n++;
  return n;
}

/* Replaces b[off, off+del) with ins[0, n). Fails (no change) when it would
 * not fit or the range is outside the buffer. */
static bool splice(mqf__pbuf *k, size_t off, size_t del, const uint8_t *ins, size_t n) {
  if (off > k->len || del > k->len - off) return false;
  if (n > del && n - del > k->cap - k->len) return false;
  memmove(k->b + off + n, k->b + off + del, k->len - off - del);
  if (n) memcpy(k->b + off, ins, n);
  k->len = k->len - del + n;
  return true;
}

/* Length of the fixed header at b (type byte + up to 4 length bytes). */
static size_t header_len(const mqf__pbuf *k) {
  size_t i = 1;
  while (i < k->len && i < 5 && (k->b[i] & 0x80))
    i++;
  return i < k->len ? i + 1 : k->len;
}

/* Rewrites the remaining length to the body's true length. */
static void fix_remaining(mqf__pbuf *k) {
  size_t h = header_len(k);
  if (h < 2) return;
  size_t body = k->len - h;
  if (body > 268435455u) return;
  uint8_t v[5];
  size_t n = put_varint(v, (uint32_t)body, 1);
  splice(k, 1, h - 1, v, n);
}

/* ------------------------------------------------------------------------ */
/* Field discovery                                                          */
/* ------------------------------------------------------------------------ */

/* Offsets (into the edit buffer) of what decode found. */
typedef struct {
  bool ok;
  mqc_version v;
  mqc_packet pkt;
  size_t id_off;             /* packet identifier, or 0 */
  size_t str_off[16], str_n; /* start of 2-byte length prefix of each string */
  size_t blk_off[MAX_BLOCKS], blk_len[MAX_BLOCKS], blk_n; /* property block contents */
} fields;

static void add_str(fields *f, const mqf__pbuf *k, mqc_bytes s) {
  if (!s.p || f->str_n >= 16) return;
  size_t off = (size_t)(s.p - k->b);
  if (off >= 2 && off <= k->len) f->str_off[f->str_n++] = off - 2;
}

static void add_block(fields *f, const mqf__pbuf *k, const mqc_props *p) {
  if (!p->raw.p || f->blk_n >= MAX_BLOCKS) return;
  f->blk_off[f->blk_n] = (size_t)(p->raw.p - k->b);
  f->blk_len[f->blk_n++] = p->raw.n;
}

/* hint: the version/direction the target will decode with, tried first
 * (v == 0: none). */
static void discover(const mqf__pbuf *k, fields *f, mqf__try_as hint) {
  static const mqf__try_as tries[] = {
      {MQC_V5, MQC_FROM_CLIENT},   {MQC_V5, MQC_FROM_SERVER},  {MQC_V311, MQC_FROM_CLIENT},
      {MQC_V311, MQC_FROM_SERVER}, {MQC_V31, MQC_FROM_CLIENT}, {MQC_VERSION_AUTO, MQC_FROM_CLIENT}};
  memset(f, 0, sizeof *f);
  mqc_error err;
  if (hint.v) {
    f->ok = mqc_decode(k->b, k->len, hint.v, hint.d, MQC_NO_LIMIT, &f->pkt, &err) == MQC_OK;
    f->v = hint.v;
  }
  for (size_t i = 0; i < sizeof tries / sizeof tries[0] && !f->ok; i++) {
    f->ok = mqc_decode(k->b, k->len, tries[i].v, tries[i].d, MQC_NO_LIMIT, &f->pkt, &err) == MQC_OK;
    f->v = tries[i].v;
  }
  if (!f->ok) return;
  const mqc_packet *p = &f->pkt;
  size_t h = p->header_len;
  switch (p->type) {
  case MQC_CONNECT:
    add_str(f, k, p->connect.protocol_name);
    add_str(f, k, p->connect.client_id);
    add_str(f, k, p->connect.will_topic);
    add_str(f, k, p->connect.will_payload);
    add_str(f, k, p->connect.username);
    add_str(f, k, p->connect.password);
    add_block(f, k, &p->connect.props);
    add_block(f, k, &p->connect.will_props);
    break;
  case MQC_CONNACK:
    add_block(f, k, &p->connack.props);
    break;
  case MQC_PUBLISH:
    add_str(f, k, p->publish.topic);
    if (p->publish.qos) f->id_off = (size_t)(p->publish.topic.p - k->b) + p->publish.topic.n;
    add_block(f, k, &p->publish.props);
    break;
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    f->id_off = h;
    add_block(f, k, &p->ack.props);
    break;
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE: {
    f->id_off = h;
    add_block(f, k, &p->subscribe.props);
    mqc_list_iter it;
    mqc_sub_entry e;
    mqc_bytes flt;
    if (p->type == MQC_SUBSCRIBE) {
      mqc_sub_iter_init(&it, &p->subscribe);
      while (mqc_sub_next(&it, &e))
        add_str(f, k, e.filter);
    } else {
      mqc_unsub_iter_init(&it, &p->subscribe);
      while (mqc_unsub_next(&it, &flt))
        add_str(f, k, flt);
    }
    break;
  }
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    f->id_off = h;
    add_block(f, k, &p->suback.props);
    break;
  case MQC_DISCONNECT:
  case MQC_AUTH:
    add_block(f, k, &p->disconnect.props);
    break;
  default:
    break;
  }
}

/* ------------------------------------------------------------------------ */
/* Generated field values                                                   */
/* ------------------------------------------------------------------------ */

/* Strings that matter to MQTT parsers and brokers. */
static const char *const TOKENS[] = {
    "MQTT",
    "MQIsdp",
    "$share/g/a/b",
    "$share//x",
    "$share/g",
    "$SYS/broker",
    "#",
    "+",
    "+/+/#",
    "a/#",
    "a/+/c",
    "/",
    "//",
    "a",
    "sport/tennis/player1",
    "\xC0\x80",
    "\xED\xA0\x80",
    "\xEF\xBF\xBF",
    "\xF4\x90\x80\x80",
    ("a\x00"
     "b"),
    "\x7F",
    "\xC2\xA9",
    "text/plain",
    "SCRAM-SHA-1",
    "mqcheck-challenge",
};
static const size_t TOKEN_LENS[] = {
    4, 6, 12, 9, 8, 11, 1, 1, 5, 3, 5, 1, 2, 1, 20, 2, 3, 3, 4, 3, 1, 2, 10, 11, 17,
};

static size_t gen_string(mqf__rng *r, uint8_t *out, size_t cap) {
  size_t n;
  switch (mqf__below(r, 4)) {
  case 0: /* a long run, crossing 127/128 and the like */
    n = (size_t[]){0, 127, 128, 300}[mqf__below(r, 4)];
    if (n > cap) n = cap;
    memset(out, 'a', n);
    return n;
  case 1: /* random bytes */
    n = mqf__below(r, 9);
    if (n > cap) n = cap;
    for (size_t i = 0; i < n; i++)
      out[i] = (uint8_t)mqf__rnd(r);
    return n;
  default: {
    size_t t = mqf__below(r, sizeof TOKENS / sizeof TOKENS[0]);
    n = TOKEN_LENS[t] < cap ? TOKEN_LENS[t] : cap;
    memcpy(out, TOKENS[t], n);
    return n;
  }
  }
}

static uint32_t gen_int(mqf__rng *r, uint32_t max) {
  static const uint32_t edges[] = {0, 1, 2, 127, 128, 16383, 16384, 65535, 2097151, 268435455u};
  uint32_t v = mqf__chance(r, 3) ? (uint32_t)mqf__rnd(r)
                                 : edges[mqf__below(r, sizeof edges / sizeof edges[0])];
  return max == UINT32_MAX ? v : v % (max + 1);
}

/* One property (id + value) into out (cap >= 1024); returns its length. */
static size_t gen_prop(mqf__rng *r, uint8_t *out) {
  mqc_writer w;
  mqc_writer_init(&w, out, 1024);
  uint32_t id = mqf__chance(r, 16) ? (uint32_t)mqf__below(r, 200)
                                   : 1 + (uint32_t)mqf__below(r, MQC_PROP_ID_MAX);
  const mqc_prop_info *info = mqc_prop_lookup(id);
  mqc_put_varint(&w, id);
  uint8_t s1[320], s2[320];
  mqc_prop_type t = info ? info->type : (mqc_prop_type)(1 + mqf__below(r, 7));
  switch (t) {
  case MQC_PT_BYTE:
    mqc_put_u8(&w, (uint8_t)gen_int(r, 2));
    break;
  case MQC_PT_U16:
    mqc_put_u16(&w, (uint16_t)gen_int(r, 65535));
    break;
  case MQC_PT_U32:
    mqc_put_u32(&w, gen_int(r, UINT32_MAX));
    break;
  case MQC_PT_VARINT:
    mqc_put_varint(&w, gen_int(r, 268435455u));
    break;
  case MQC_PT_UTF8:
  case MQC_PT_BINARY: {
    mqc_bytes b = {s1, gen_string(r, s1, sizeof s1)};
    mqc_put_str(&w, b);
    break;
  }
  case MQC_PT_UTF8_PAIR:
  default: {
    mqc_bytes a = {s1, gen_string(r, s1, sizeof s1)}, b = {s2, gen_string(r, s2, sizeof s2)};
    mqc_put_str(&w, a);
    mqc_put_str(&w, b);
    break;
  }
  }
  return w.len <= w.cap ? w.len : 0;
}

/* Property boundaries inside a block: starts[i], plus the end. */
static size_t prop_bounds(const mqf__pbuf *k, size_t off, size_t len, size_t *starts, size_t max) {
  mqc_props pr = {{k->b + off, len}, 0, 0};
  mqc_prop_iter it;
  mqc_prop p;
  size_t n = 0;
  mqc_prop_iter_init(&it, &pr);
  starts[n++] = off;
  while (n < max && mqc_prop_next(&it, &p))
    starts[n++] = (size_t)(it.p - k->b);
  return n; /* starts[0..n): n-1 properties, starts[n-1] is where walking stopped */
}

/* ------------------------------------------------------------------------ */
/* Field-level edits                                                        */
/* ------------------------------------------------------------------------ */

/* Edits one property block; returns the change in block length through
 * *delta. */
static bool edit_props(mqf__rng *r, mqf__pbuf *k, size_t off, size_t len, long *delta) {
  size_t st[64];
  size_t n = prop_bounds(k, off, len, st, 64);
  size_t before = k->len;
  uint8_t tmp[1024];
  bool ok = false;
  switch (mqf__below(r, 5)) {
  case 0:
  case 1: { /* insert a generated property at a boundary */
    size_t plen = gen_prop(r, tmp);
    ok = plen && splice(k, st[mqf__below(r, n)], 0, tmp, plen);
    break;
  }
  case 2: /* duplicate a property */
    if (n >= 2) {
      size_t i = mqf__below(r, n - 1), pl = st[i + 1] - st[i];
      if (pl <= sizeof tmp) {
        memcpy(tmp, k->b + st[i], pl);
        ok = splice(k, st[mqf__below(r, n)], 0, tmp, pl);
      }
    }
    break;
  case 3: /* drop a property */
    if (n >= 2) {
      size_t i = mqf__below(r, n - 1);
      ok = splice(k, st[i], st[i + 1] - st[i], NULL, 0);
    }
    break;
  default: /* overwrite one value byte with an edge value */
    if (len > 0) {
      k->b[off + mqf__below(r, len)] = (uint8_t[]){0x00, 0x01, 0x7F, 0x80, 0xFF}[mqf__below(r, 5)];
      ok = true;
    }
    break;
  }
  *delta = (long)k->len - (long)before;
  return ok;
}

/* Rewrites the property-length varint in front of a block that grew or shrank
 * by delta. The varint is minimal on input (5.0 decode demands it). */
static void fix_block_len(mqf__pbuf *k, size_t off, size_t old_len, long delta) {
  size_t vl = varint_size((uint32_t)old_len);
  if (off < vl) return;
  long nl = (long)old_len + delta;
  if (nl < 0) return;
  uint8_t v[5];
  size_t n = put_varint(v, (uint32_t)nl, 1);
  splice(k, off - vl, vl, v, n);
}

/* One field-level edit of the packet in k. */
void mqf__edit_packet(mqf__rng *r, mqf__pbuf *k, mqf__try_as hint) {
  fields f;
  discover(k, &f, hint);
  bool repair = !mqf__chance(r, 8); /* sometimes leave lengths lying */
  unsigned op = (unsigned)mqf__below(r, f.ok ? 9 : 4);
  switch (op) {
  case 0: /* fixed-header flags, or the whole type nibble */
    if (mqf__chance(r, 4))
      k->b[0] = (uint8_t)((k->b[0] & 0x0F) | mqf__below(r, 16) << 4);
    else
      k->b[0] ^= (uint8_t)(1u << mqf__below(r, 4));
    return;
  case 1: { /* remaining length: padded (non-minimal), off by a little, or wild */
    size_t h = header_len(k);
    if (h < 2) return;
    size_t body = k->len - h;
    uint32_t rl = body > 268435455u ? 268435455u : (uint32_t)body;
    size_t pad = 1;
    switch (mqf__below(r, 3)) {
    case 0:
      pad = 2 + mqf__below(r, 4);
      break; /* 2..5 bytes */
    case 1:
      rl = (uint32_t)((long)rl + (long)mqf__below(r, 7) - 3) & 0x0FFFFFFFu;
      break;
    default:
      rl = gen_int(r, 268435455u);
      break;
    }
    uint8_t v[5];
    size_t n = put_varint(v, rl, pad);
    splice(k, 1, h - 1, v, n);
    return;
  }
  case 2: /* truncate the body */
    if (k->len > 2) k->len = 2 + mqf__below(r, k->len - 2);
    break;
  case 3: { /* trailing bytes */
    uint8_t t[4];
    size_t n = 1 + mqf__below(r, 4);
    for (size_t i = 0; i < n; i++)
      t[i] = (uint8_t)mqf__rnd(r);
    splice(k, k->len, 0, t, n);
    break;
  }
  case 4: /* packet identifier */
    if (!f.id_off || f.id_off + 2 > k->len) return;
    {
      uint16_t id = (uint16_t)gen_int(r, 65535);
      k->b[f.id_off] = (uint8_t)(id >> 8);
      k->b[f.id_off + 1] = (uint8_t)id;
    }
    return;
  case 5:
  case 6: { /* replace a string (length prefix included) */
    if (!f.str_n) return;
    size_t so = f.str_off[mqf__below(r, f.str_n)];
    if (so + 2 > k->len) return;
    size_t old = (size_t)k->b[so] << 8 | k->b[so + 1];
    if (old > k->len - so - 2) return;
    uint8_t s[2 + 320];
    size_t n = gen_string(r, s + 2, sizeof s - 2);
    size_t claimed =
        mqf__chance(r, 8) ? n + mqf__below(r, 3) - 1 : n; /* sometimes a lying prefix */
    s[0] = (uint8_t)(claimed >> 8);
    s[1] = (uint8_t)claimed;
    long before = (long)k->len;
    if (!splice(k, so, 2 + old, s, 2 + n)) return;
    /* A string inside a property block changes that block's length too. */
    for (size_t i = 0; i < f.blk_n && repair; i++)
      if (so >= f.blk_off[i] && so < f.blk_off[i] + f.blk_len[i])
        fix_block_len(k, f.blk_off[i], f.blk_len[i], (long)k->len - before);
    break;
  }
  default: { /* properties: insert, duplicate, drop, poke */
    if (!f.blk_n) {
      /* No block (3.x, or a 5.0 ack in its short form): poke the body. */
      if (k->len > 2) k->b[2 + mqf__below(r, k->len - 2)] ^= (uint8_t)(1u << mqf__below(r, 8));
      break;
    }
    size_t i = mqf__below(r, f.blk_n);
    long delta = 0;
    if (!edit_props(r, k, f.blk_off[i], f.blk_len[i], &delta)) return;
    if (repair && delta)
      fix_block_len(k, f.blk_off[i], f.blk_len[i], delta);
    else if (!repair && mqf__chance(r, 2))
      fix_block_len(k, f.blk_off[i], f.blk_len[i], delta + 1);
    break;
  }
  }
  if (repair) fix_remaining(k);
}
