/* encode.c - fuzz target: random valid packets built from the input with the
 * codec's writer functions, encoded, and decoded back.
 *
 * The input is not a packet but a stream of choices (mqf_in): packet type,
 * version, flags, field values, how many properties of which kind. The
 * generator keeps to what the specification allows, so every packet it
 * builds must encode, the size-only pass must agree with the real one, and
 * the bytes must decode (in the right version and direction) to a packet
 * mqc_packet_equal to the one built. A failure is a disagreement between the
 * encoder, the decoder and the writer helpers - or a generator bug; the
 * message says which packet. */
#include <string.h>

#include "fuzz.h"

#define ARENA   8192
#define OUT_MAX (ARENA * 4)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("packets");
}

/* Storage for generated strings, property blocks and lists. */
typedef struct {
  uint8_t buf[ARENA];
  size_t used;
} arena;

static mqc_bytes arena_put(arena *a, const uint8_t *p, size_t n) {
  mqc_bytes b = {a->buf + a->used, 0};
  if (n > ARENA - a->used) n = ARENA - a->used;
  if (n) memcpy(a->buf + a->used, p, n);
  a->used += n;
  b.n = n;
  return b;
}

/* Valid UTF-8 text without U+0000 or wildcards: a level word. */
static size_t gen_word(mqf_in *in, uint8_t *out, size_t cap) {
  static const char *const words[] = {"a",
                                      "b",
                                      "sensor",
                                      "$SYS",
                                      "x y",
                                      "\xC3\xA9t\xC3\xA9",
                                      "\xE2\x82\xAC",
                                      "\xF0\x9F\x98\x80",
                                      "",
                                      "room1",
                                      "MQTT"};
  uint8_t c = mqf_u8(in);
  if (c < 200) {
    const char *w = words[c % (sizeof words / sizeof words[0])];
    size_t n = strlen(w) < cap ? strlen(w) : cap;
    memcpy(out, w, n);
    return n;
  }
  size_t n = (size_t)(c - 200) * 5; /* runs up to 275 bytes cross 127/128 */
  if (n > cap) n = cap;
  memset(out, 'k', n);
  return n;
}

static mqc_bytes gen_text(mqf_in *in, arena *a) {
  uint8_t tmp[300];
  return arena_put(a, tmp, gen_word(in, tmp, sizeof tmp));
}

/* A topic name: 1..4 levels, never empty, no wildcards. */
static mqc_bytes gen_topic(mqf_in *in, arena *a) {
  uint8_t tmp[1200];
  size_t n = 0, levels = 1 + mqf_u8(in) % 4;
  for (size_t i = 0; i < levels; i++) {
    if (i) tmp[n++] = '/';
    n += gen_word(in, tmp + n, 290);
  }
  if (n == 0) tmp[n++] = 't';
  return arena_put(a, tmp, n);
}

/* A topic filter: levels of words and '+', maybe a final '#', maybe shared. */
static mqc_bytes gen_filter(mqf_in *in, arena *a, mqc_version v, bool *shared) {
  uint8_t tmp[1300];
  size_t n = 0, levels = 1 + mqf_u8(in) % 4;
  uint8_t shape = mqf_u8(in);
  *shared = v == MQC_V5 && (shape & 0x80);
  if (*shared) {
    memcpy(tmp, "$share/g/", 9); /* a fixed ShareName: it must be non-empty */
    n = 9;
  }
  for (size_t i = 0; i < levels; i++) {
    if (i) tmp[n++] = '/';
    if (shape & (1u << i))
      tmp[n++] = '+';
    else
      n += gen_word(in, tmp + n, 290);
  }
  if (shape & 0x40) {
    tmp[n++] = '/';
    tmp[n++] = '#';
  }
  if (n == (*shared ? 9u : 0u)) tmp[n++] = 'f'; /* one empty level: an empty filter */
  return arena_put(a, tmp, n);
}

/* A property block for packet type t (or the will) with valid values. */
static mqc_props gen_props(mqf_in *in, arena *a, uint32_t allowed, mqc_type t, mqc_dir dir) {
  uint8_t blk[2048];
  mqc_writer w;
  mqc_writer_init(&w, blk, sizeof blk);
  uint64_t seen = 0;
  size_t count = mqf_u8(in) % 6;
  for (size_t i = 0; i < count && w.len < 1200; i++) {
    uint32_t id = 1 + mqf_u8(in) % MQC_PROP_ID_MAX;
    const mqc_prop_info *info = mqc_prop_lookup(id);
    if (!info || !(info->allowed & allowed)) continue;
    bool repeatable = id == MQC_PROP_USER_PROPERTY;
    if ((seen >> id & 1) && !repeatable) continue;
    /* Combinations a decoder must refuse. */
    if (id == MQC_PROP_SUBSCRIPTION_IDENTIFIER && t == MQC_PUBLISH && dir == MQC_FROM_CLIENT)
      continue;
    if (id == MQC_PROP_SESSION_EXPIRY_INTERVAL && t == MQC_DISCONNECT && dir == MQC_FROM_SERVER)
      continue;
    seen |= 1ull << id;
    mqc_prop p = {.id = (mqc_prop_id)id, .type = info->type};
    uint32_t u = (uint32_t)mqf_u16(in) << 16 | mqf_u16(in);
    uint8_t tmp[300], tmp2[300];
    switch (info->type) {
    case MQC_PT_BYTE:
      p.u = u & 1;
      break;
    case MQC_PT_U16:
      p.u = (u & 0xFFFF) ? (u & 0xFFFF) : 1;
      break;
    case MQC_PT_U32:
      p.u = u ? u : 1;
      break;
    case MQC_PT_VARINT:
      p.u = (u & 0x0FFFFFFF) ? (u & 0x0FFFFFFF) : 1;
      break;
    case MQC_PT_UTF8:
      if (id == MQC_PROP_RESPONSE_TOPIC) {
        mqc_bytes tp = gen_topic(in, a);
        p.value = tp;
      } else {
        p.value.p = tmp;
        p.value.n = gen_word(in, tmp, sizeof tmp);
      }
      break;
    case MQC_PT_BINARY:
      p.value = mqf_take(in, mqf_u8(in) % 32);
      break;
    case MQC_PT_UTF8_PAIR:
      p.key.p = tmp;
      p.key.n = gen_word(in, tmp, sizeof tmp);
      p.value.p = tmp2;
      p.value.n = gen_word(in, tmp2, sizeof tmp2);
      break;
    default:
      continue;
    }
    mqc_put_prop(&w, &p);
  }
  /* Authentication Data needs an Authentication Method alongside (CONNECT). */
  if (t == MQC_CONNECT && (seen >> MQC_PROP_AUTHENTICATION_DATA & 1) &&
      !(seen >> MQC_PROP_AUTHENTICATION_METHOD & 1))
    mqc_put_prop_str(&w, MQC_PROP_AUTHENTICATION_METHOD, mqc_cstr("m"));
  mqc_props out = {{NULL, 0}, 0, 0};
  if (mqc_writer_ok(&w)) out.raw = arena_put(a, blk, w.len);
  return out;
}

/* A reason code valid for type t from dir (5.0), chosen by the input. */
static uint8_t gen_reason(mqf_in *in, mqc_type t, mqc_dir dir) {
  uint8_t start = mqf_u8(in);
  for (unsigned i = 0; i < 256; i++) {
    uint8_t c = (uint8_t)(start + i);
    if (mqc_reason_valid(t, dir, c)) return c;
  }
  return 0;
}

static mqc_dir dir_of(mqc_type t, uint8_t choice) {
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
  default:
    return (choice & 1) ? MQC_FROM_SERVER : MQC_FROM_CLIENT;
  }
}

#define P(t) (1u << (t))

static void gen_connect(mqf_in *in, arena *a, mqc_version v, mqc_connect *c) {
  uint8_t f = mqf_u8(in);
  c->will = f & 1;
  c->will_qos = c->will ? (uint8_t)((f >> 1) % 3) : 0;
  c->will_retain = c->will && (f & 8);
  c->clean_start = f & 16;
  c->has_username = f & 32;
  c->has_password = (f & 64) && (v == MQC_V5 || c->has_username);
  c->keep_alive = mqf_u16(in);
  if (v == MQC_V5) c->props = gen_props(in, a, P(MQC_CONNECT), MQC_CONNECT, MQC_FROM_CLIENT);
  c->client_id = gen_text(in, a);
  if (c->will) {
    if (v == MQC_V5)
      c->will_props = gen_props(in, a, MQC_PROP_IN_WILL, MQC_CONNECT, MQC_FROM_CLIENT);
    c->will_topic = gen_topic(in, a);
    c->will_payload = mqf_take(in, mqf_u8(in) % 64);
  }
  if (c->has_username) c->username = gen_text(in, a);
  if (c->has_password) c->password = mqf_take(in, mqf_u8(in) % 16);
}

static void gen_subscribe(mqf_in *in, arena *a, mqc_version v, mqc_packet *p) {
  uint8_t lst[4096];
  mqc_writer w;
  mqc_writer_init(&w, lst, sizeof lst);
  size_t n = 1 + mqf_u8(in) % 4;
  for (size_t i = 0; i < n; i++) {
    bool shared;
    mqc_bytes f = gen_filter(in, a, v, &shared);
    uint8_t o = mqf_u8(in);
    mqc_subopts so = {(uint8_t)(o % 3), false, false, 0};
    if (v == MQC_V5) {
      so.no_local = (o & 4) && !shared;
      so.retain_as_published = o & 8;
      so.retain_handling = (uint8_t)((o >> 4) % 3);
    }
    if (p->type == MQC_SUBSCRIBE)
      mqc_put_sub_entry(&w, f, mqc_subopts_pack(so));
    else
      mqc_put_str(&w, f);
    p->subscribe.count++;
  }
  if (mqc_writer_ok(&w)) p->subscribe.list = arena_put(a, lst, w.len);
}

static void gen_reasons(mqf_in *in, mqc_version v, mqc_packet *p, uint8_t *buf) {
  size_t n = 1 + mqf_u8(in) % 8;
  if (p->type == MQC_UNSUBACK && v != MQC_V5) return; /* 3.x UNSUBACK has no payload */
  for (size_t i = 0; i < n; i++) {
    if (v == MQC_V5)
      buf[i] = gen_reason(in, p->type, MQC_FROM_SERVER);
    else
      buf[i] = (uint8_t[]){0, 1, 2, 0x80}[mqf_u8(in) % (v == MQC_V31 ? 3 : 4)];
  }
  p->suback.reasons.p = buf;
  p->suback.reasons.n = n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static arena a;
  static uint8_t out[OUT_MAX], reasons[8];
  mqf_in in = {data, data + size};
  a.used = 0;
  uint8_t head = mqf_u8(&in);
  mqc_version v = (mqc_version)(3 + head % 3);
  mqc_type t = (mqc_type)(1 + (head >> 2) % 15);
  if (t == MQC_AUTH && v != MQC_V5) t = MQC_PINGREQ;
  mqc_dir dir = dir_of(t, mqf_u8(&in));
  if (t == MQC_DISCONNECT && v != MQC_V5) dir = MQC_FROM_CLIENT;
  mqc_packet p;
  mqc_packet_init(&p, t, v);
  uint16_t id = mqf_u16(&in);
  if (id == 0) id = 1;
  switch (t) {
  case MQC_CONNECT:
    gen_connect(&in, &a, v, &p.connect);
    break;
  case MQC_CONNACK: {
    uint8_t c = mqf_u8(&in);
    p.connack.reason = v == MQC_V5 ? gen_reason(&in, t, dir) : (uint8_t)(c % 6);
    p.connack.session_present = v != MQC_V31 && (c & 0x80) && p.connack.reason == 0;
    if (v == MQC_V5) p.connack.props = gen_props(&in, &a, P(t), t, dir);
    break;
  }
  case MQC_PUBLISH: {
    uint8_t f = mqf_u8(&in);
    p.publish.qos = f % 3;
    p.publish.dup = p.publish.qos && (f & 4);
    p.publish.retain = f & 8;
    p.publish.packet_id = p.publish.qos ? id : 0;
    p.publish.topic = gen_topic(&in, &a);
    if (v == MQC_V5) p.publish.props = gen_props(&in, &a, P(t), t, dir);
    p.publish.payload = mqf_take(&in, mqf_u16(&in) % 512);
    break;
  }
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    p.ack.packet_id = id;
    if (v == MQC_V5) {
      p.ack.reason = gen_reason(&in, t, dir);
      p.ack.props = gen_props(&in, &a, P(t), t, dir);
    }
    break;
  case MQC_SUBSCRIBE:
  case MQC_UNSUBSCRIBE:
    p.subscribe.packet_id = id;
    if (v == MQC_V5) p.subscribe.props = gen_props(&in, &a, P(t), t, dir);
    gen_subscribe(&in, &a, v, &p);
    break;
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    p.suback.packet_id = id;
    if (v == MQC_V5) p.suback.props = gen_props(&in, &a, P(t), t, dir);
    gen_reasons(&in, v, &p, reasons);
    break;
  case MQC_DISCONNECT:
  case MQC_AUTH:
    if (v == MQC_V5) {
      p.disconnect.reason = gen_reason(&in, t, dir);
      p.disconnect.props = gen_props(&in, &a, P(t), t, dir);
    }
    break;
  default:
    break;
  }
  if (a.used >= ARENA) return 0; /* the arena filled up: fields were cut short */

  size_t need = 0, n = 0;
  mqc_status st = mqc_encode(&p, v, NULL, 0, &need);
  MQF_CHECK(st == MQC_ERR_NOSPACE, "sizing %s failed: %s", mqc_type_name(t), mqc_strerror(st));
  MQF_CHECK(need <= sizeof out, "%s needs %zu bytes", mqc_type_name(t), need);
  st = mqc_encode(&p, v, out, sizeof out, &n);
  MQF_CHECK(st == MQC_OK && n == need, "encoding %s: %s, %zu vs %zu bytes", mqc_type_name(t),
            mqc_strerror(st), n, need);
  /* A buffer one byte short must be refused, and report the full size. */
  size_t n2 = 0;
  st = mqc_encode(&p, v, out, n - 1, &n2);
  MQF_CHECK(st == MQC_ERR_NOSPACE && n2 == n, "encode into %zu bytes: %s, size %zu", n - 1,
            mqc_strerror(st), n2);
  st = mqc_encode(&p, v, out, sizeof out, &n);

  mqc_packet q;
  mqc_error err;
  st = mqc_decode(out, n, v, dir, MQC_NO_LIMIT, &q, &err);
  if (st != MQC_OK) {
    fprintf(stderr, "%s %s from %s: ", mqc_version_name(v), mqc_type_name(t),
            dir == MQC_FROM_CLIENT ? "client" : "server");
    for (size_t i = 0; i < n && i < 512; i++)
      fprintf(stderr, "%02x", out[i]);
    fputc('\n', stderr);
  }
  MQF_CHECK(st == MQC_OK, "a generated %s does not decode: %s at %zu: %s (%s)", mqc_type_name(t),
            mqc_strerror(st), err.offset, err.message ? err.message : "",
            err.statement ? err.statement : "-");
  MQF_CHECK(mqc_packet_equal(&p, &q), "generated %s decodes to a different packet",
            mqc_type_name(t));
  return 0;
}
