/* mutate.c - session mutations at three levels: the session (records and
 * clients), the packet and its fields (fuzz/'s structure-aware mutator on the
 * session layout) and timing (split writes, waits, half-close, RST, slow
 * reads). Deterministic: the output depends only on the inputs and seed. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_RECS 1024
#define DICT_MAX 512 /* properties learnt from the seeds */
#define DICT_LEN 96  /* longest property kept */
/* Sessions that fuzz/'s mutator may grow to: the big ones come only from the
 * deliberate stretches below, not from byte-level growth. */
#define FIELD_MAX 16384

/* A property seen in a seed, with the packet type it came in. */
typedef struct {
  uint8_t type;
  uint8_t len;
  uint8_t b[DICT_LEN];
} dict_prop;

struct mqz_mutator {
  dict_prop dict[DICT_MAX];
  size_t n_dict;
  uint8_t pkt[MQZ_SESSION_MAX]; /* a packet being re-encoded */
  mqf_mutator field;
  uint8_t *scratch; /* field mutator's working memory */
  uint8_t out[MQZ_SESSION_MAX];
  uint8_t block[MQZ_SESSION_MAX]; /* a property block being built */
  mqz_rec recs[MAX_RECS];
  size_t n_recs;
  unsigned n_nodes; /* of a cluster target; 0 or 1: one broker */
};

int mqz_mutator_new(mqz_mutator **out) {
  *out = NULL;
  mqz_mutator *m = calloc(1, sizeof *m);
  if (!m) return -1;
  m->scratch = malloc(MQF_SCRATCH_FOR(MQZ_SESSION_MAX));
  if (!m->scratch) {
    free(m);
    return -1;
  }
  m->field.scratch = m->scratch;
  m->field.scratch_cap = MQF_SCRATCH_FOR(MQZ_SESSION_MAX);
  *out = m;
  return 0;
}

void mqz_mutator_set_nodes(mqz_mutator *m, unsigned n_nodes) {
  m->n_nodes = n_nodes;
}

void mqz_mutator_free(mqz_mutator *m) {
  if (!m) return;
  free(m->scratch);
  free(m);
}

/* Decodes a session's packet as 5.0 from a client: props is its property
 * block (NULL when it has none or does not decode). */
static const mqc_props *packet_props(const uint8_t *p, size_t n, mqc_packet *pkt) {
  mqc_error e;
  if (mqc_decode(p, n, MQC_V5, MQC_FROM_CLIENT, MQC_NO_LIMIT, pkt, &e) != MQC_OK) return NULL;
  return mqc_packet_props(pkt);
}

void mqz_mutator_learn(mqz_mutator *m, const uint8_t *s, size_t n) {
  if (mqz_session_version(s, n) != MQC_V5) return;
  mqz_iter it;
  mqz_rec r;
  mqz_iter_init(&it, s, n);
  while (mqz_iter_next(&it, &r)) {
    if (r.op != MQZ_OP_SEND) continue;
    mqc_packet pkt;
    const mqc_props *pr = packet_props(r.pkt, r.pkt_len, &pkt);
    if (!pr) continue;
    mqc_prop_iter pi;
    mqc_prop one;
    mqc_prop_iter_init(&pi, pr);
    const uint8_t *at = pi.p;
    while (mqc_prop_next(&pi, &one)) {
      size_t len = (size_t)(pi.p - at);
      /* up to four values per property and packet type: picking by
       * identifier then stays fair however many values seeds use */
      size_t same = 0;
      bool dup = false;
      for (size_t i = 0; i < m->n_dict && !dup; i++) {
        const dict_prop *d = &m->dict[i];
        if (d->type != pkt.type || d->b[0] != at[0]) continue;
        same++;
        dup = d->len == len && !memcmp(d->b, at, len);
      }
      if (!dup && same < 4 && len <= DICT_LEN && m->n_dict < DICT_MAX) {
        dict_prop *d = &m->dict[m->n_dict++];
        d->type = (uint8_t)pkt.type;
        d->len = (uint8_t)len;
        memcpy(d->b, at, len);
      }
      at = pi.p;
    }
  }
}

static uint64_t next(uint64_t *st) {
  uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static size_t below(uint64_t *st, size_t n) {
  return n ? (size_t)(next(st) % n) : 0;
}

/* A dictionary property for packet type (0: any): an identifier first,
 * uniformly among those seen, then one of its values. NULL when none. */
static const dict_prop *pick_prop(const mqz_mutator *m, uint8_t type, uint64_t *st) {
  uint8_t ids[DICT_MAX];
  size_t n = 0;
  for (size_t i = 0; i < m->n_dict; i++) {
    if (type && m->dict[i].type != type) continue;
    bool seen = false;
    for (size_t k = 0; k < n && !seen; k++)
      seen = ids[k] == m->dict[i].b[0];
    if (!seen) ids[n++] = m->dict[i].b[0];
  }
  if (!n) return NULL;
  uint8_t id = ids[below(st, n)];
  size_t vals = 0;
  for (size_t i = 0; i < m->n_dict; i++)
    vals += (!type || m->dict[i].type == type) && m->dict[i].b[0] == id;
  size_t k = below(st, vals);
  for (size_t i = 0; i < m->n_dict; i++)
    if ((!type || m->dict[i].type == type) && m->dict[i].b[0] == id && k-- == 0) return &m->dict[i];
  return NULL;
}

/* Writes dictionary property d into out (room for 256 bytes), its string or
 * binary value stretched half of the time (a longer value than any seed's:
 * where buffers are sized by another field). Returns the bytes written. */
static size_t graft_one(const dict_prop *d, uint8_t *out, uint64_t *st) {
  const mqc_prop_info *info = d->len ? mqc_prop_lookup(d->b[0]) : NULL;
  bool stretchy = info && (info->type == MQC_PT_UTF8 || info->type == MQC_PT_BINARY) && d->len >= 3;
  bool numeric = info && (info->type == MQC_PT_BYTE || info->type == MQC_PT_U16 ||
                          info->type == MQC_PT_U32 || info->type == MQC_PT_VARINT);
  if (numeric && below(st, 2)) { /* a boundary value instead of the seed's */
    static const uint32_t edges[] = {0,     1,     2,     127,     128,        255,        16383,
                                     16384, 65535, 65536, 2097151, 268435455u, 0xFFFFFFFFu};
    uint32_t v = edges[below(st, sizeof edges / sizeof edges[0])];
    mqc_writer w;
    mqc_writer_init(&w, out, 256);
    mqc_put_varint(&w, d->b[0]);
    if (info->type == MQC_PT_BYTE)
      mqc_put_u8(&w, (uint8_t)v);
    else if (info->type == MQC_PT_U16)
      mqc_put_u16(&w, (uint16_t)v);
    else if (info->type == MQC_PT_U32)
      mqc_put_u32(&w, v);
    else
      mqc_put_varint(&w, v > 268435455u ? 268435455u : v);
    return w.len;
  }
  if (!stretchy || below(st, 2)) {
    memcpy(out, d->b, d->len);
    return d->len;
  }
  size_t vlen = (size_t)d->b[1] << 8 | d->b[2];
  const uint8_t *v = d->b + 3;
  if (3 + vlen > d->len) vlen = d->len - 3;
  size_t want = vlen + 1 + below(st, 200);
  if (want > 250) want = 250;
  out[0] = d->b[0];
  out[1] = (uint8_t)(want >> 8);
  out[2] = (uint8_t)want;
  for (size_t i = 0; i < want; i++)
    out[3 + i] = vlen ? v[i % vlen] : 'a';
  return 3 + want;
}

/* The string field a stretch grows in packet p (decoded as version v): a
 * PUBLISH topic, the first SUBSCRIBE/UNSUBSCRIBE filter, or a CONNECT's
 * client or will identifier. false when the packet has none. */
static bool string_field(const uint8_t *p, size_t n, mqc_version v, mqc_bytes *out, uint64_t *st) {
  mqc_packet pkt;
  mqc_error e;
  bool conn = n && (p[0] >> 4) == MQC_CONNECT;
  if (mqc_decode(p, n, conn ? MQC_VERSION_AUTO : v, MQC_FROM_CLIENT, MQC_NO_LIMIT, &pkt, &e) !=
      MQC_OK)
    return false;
  mqc_list_iter it;
  mqc_sub_entry se;
  switch (pkt.type) {
  case MQC_PUBLISH:
    *out = pkt.publish.topic;
    return true;
  case MQC_SUBSCRIBE:
    mqc_sub_iter_init(&it, &pkt.subscribe);
    if (!mqc_sub_next(&it, &se)) return false;
    *out = se.filter;
    return true;
  case MQC_UNSUBSCRIBE:
    mqc_unsub_iter_init(&it, &pkt.subscribe);
    return mqc_unsub_next(&it, out);
  case MQC_CONNECT:
    *out = pkt.connect.will && below(st, 2) ? pkt.connect.will_topic : pkt.connect.client_id;
    return true;
  default:
    return false;
  }
}

/* Writes packet p with its string field f (a view into p, its two-byte
 * length just before it) spelt r[0..rn) instead into dst (room for cap).
 * Returns the new packet's length, 0 when it does not fit. */
static size_t respell(const uint8_t *p, size_t n, mqc_bytes f, const uint8_t *r, size_t rn,
                      uint8_t *dst, size_t cap) {
  size_t at = (size_t)(f.p - p); /* where the string's bytes start */
  size_t body0 = 1;
  while (body0 < n && body0 < 5 && (p[body0] & 0x80))
    body0++;
  body0++; /* after the remaining length */
  if (at < body0 + 2 || at + f.n > n || rn > 65535) return 0;
  size_t body = n - body0 - f.n + rn;
  mqc_writer w;
  mqc_writer_init(&w, dst, cap);
  mqc_put_u8(&w, p[0]);
  mqc_put_varint(&w, (uint32_t)body);
  mqc_put_bytes(&w, (mqc_bytes){p + body0, at - 2 - body0});
  mqc_put_u16(&w, (uint16_t)rn);
  mqc_put_bytes(&w, (mqc_bytes){r, rn});
  mqc_put_bytes(&w, (mqc_bytes){p + at + f.n, n - at - f.n});
  return mqc_writer_ok(&w) ? w.len : 0;
}

/* Packet p with its string field f grown to len bytes (into dst, room for
 * cap): f itself, then '/' (shape 0: a deep hierarchy of empty levels), its
 * first byte and '/' in turn (1: many short levels) or its first byte (2:
 * one long level). f stays a prefix, so the session's token and isolation
 * stay. Returns the new packet's length, 0 when it does not fit. */
static size_t stretch(const uint8_t *p, size_t n, mqc_bytes f, size_t len, unsigned shape,
                      uint8_t *dst, size_t cap) {
  uint8_t grown[65535];
  if (len <= f.n || len > sizeof grown) return 0;
  memcpy(grown, f.p, f.n);
  uint8_t first = f.n ? f.p[0] : 'a';
  for (size_t i = f.n; i < len; i++)
    grown[i] = shape == 0 ? '/' : shape == 1 ? ((i - f.n) % 2 ? first : '/') : first;
  return respell(p, n, f, grown, len, dst, cap);
}

static void parse(mqz_mutator *m, const uint8_t *s, size_t n) {
  mqz_iter it;
  mqz_iter_init(&it, s, n);
  m->n_recs = 0;
  while (m->n_recs < MAX_RECS && mqz_iter_next(&it, &m->recs[m->n_recs]))
    m->n_recs++;
}

/* Output builder over m->out. */
typedef struct {
  uint8_t *p;
  size_t n, cap;
} outbuf;

static void put(outbuf *o, const uint8_t *p, size_t n) {
  if (o->n + n > o->cap) return; /* full: the rest is left out */
  memcpy(o->p + o->n, p, n);
  o->n += n;
}

static void put_rec(outbuf *o, const uint8_t *s, const mqz_rec *r) {
  put(o, s + r->offset, r->len);
}

static void put_op(outbuf *o, mqz_op op, unsigned client, uint32_t arg, size_t arg_n) {
  uint8_t h[4] = {(uint8_t)op, (uint8_t)client, (uint8_t)(arg_n == 2 ? arg >> 8 : arg),
                  (uint8_t)arg};
  put(o, h, 2 + arg_n);
}

/* Bytes p[0..n) as RAW records of client (255 bytes each at most). */
static void put_raw(outbuf *o, unsigned client, const uint8_t *p, size_t n) {
  for (size_t at = 0; at < n; at += 255) {
    size_t piece = n - at < 255 ? n - at : 255;
    put_op(o, MQZ_OP_RAW, client, (uint32_t)piece, 1);
    put(o, p + at, piece);
  }
}

/* A REPEAT record: unit[0..n) (n <= 255) sent count times. */
static void put_repeat(outbuf *o, unsigned client, const uint8_t *unit, size_t n, uint32_t count) {
  uint8_t h[6] = {MQZ_OP_REPEAT,         (uint8_t)client, (uint8_t)(count >> 16),
                  (uint8_t)(count >> 8), (uint8_t)count,  (uint8_t)n};
  put(o, h, 6);
  put(o, unit, n);
}

static size_t varint_len(size_t v) {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* The session's records with record at replaced by a SEND of p. */
static void put_replacing(outbuf *o, const uint8_t *s, const mqz_mutator *m, size_t at,
                          const uint8_t *p, size_t n) {
  for (size_t i = 0; i < m->n_recs; i++) {
    if (i == at) {
      put_op(o, MQZ_OP_SEND, m->recs[at].client, 0, 0);
      put(o, p, n);
    } else {
      put_rec(o, s, &m->recs[i]);
    }
  }
}

/* A record of client c that sends a packet of type t, or -1. */
static long find_send(const mqz_mutator *m, const uint8_t *s, unsigned c, uint8_t t) {
  for (size_t i = 0; i < m->n_recs; i++) {
    const mqz_rec *r = &m->recs[i];
    if ((r->op == MQZ_OP_SEND) && (c == MQZ_MAX_CLIENTS || r->client == c) && r->pkt_len &&
        (s[r->offset + 2] >> 4) == t)
      return (long)i;
  }
  return -1;
}

/* A cluster's own session mutation: a client moves to another node (a NODE
 * record before one of its records), half the time by dropping its
 * connection and coming back there to its session (clean start 0): a
 * session resumed on another node. Returns the new length, or 0. */
static size_t move_node(mqz_mutator *m, const uint8_t *s, outbuf *o, uint64_t *st) {
  size_t nr = m->n_recs;
  if (!nr) return 0;
  size_t pick = below(st, nr);
  unsigned c = m->recs[pick].client;
  uint32_t to = (uint32_t)below(st, m->n_nodes);
  long ci = below(st, 2) ? find_send(m, s, c, MQC_CONNECT) : -1;
  for (size_t i = 0; i < nr; i++) {
    if (i == pick) put_op(o, MQZ_OP_NODE, c, to, 1);
    put_rec(o, s, &m->recs[i]);
    if (i != pick || ci < 0) continue;
    const mqz_rec *cr = &m->recs[ci];
    put_op(o, MQZ_OP_DROP, c, 0, 0);
    put_op(o, MQZ_OP_OPEN, c, 0, 0);
    put_op(o, MQZ_OP_SEND, c, 0, 0);
    size_t at_pkt = o->n;
    put(o, cr->pkt, cr->pkt_len);
    size_t name_end = mqz__after_first_string(cr->pkt, cr->pkt_len);
    size_t flags = at_pkt + name_end + 1;
    if (name_end && flags < o->n) o->p[flags] &= (uint8_t)~0x02;
  }
  return o->n;
}

/* Session-level and timing mutations. Returns the new length, or 0 when the
 * chosen mutation does not apply (the caller then tries another). */
static size_t mutate_session(mqz_mutator *m, const uint8_t *s, size_t n, const uint8_t *other,
                             size_t other_n, uint64_t *st) {
  parse(m, s, n);
  outbuf o = {m->out, 0, sizeof m->out};
  put(&o, s, n < 2 ? n : 2);
  if (n < 2) {
    uint8_t h[2] = {3, 0};
    put(&o, h + n, 2 - n);
  }
  /* drawn only on a cluster: a one-broker run draws as it always did */
  if (m->n_nodes > 1 && below(st, 8) == 0) return move_node(m, s, &o, st);
  size_t nr = m->n_recs;
  size_t pick = below(st, nr ? nr : 1);
  /* grafting weighs four: property combinations are where parsers break */
  unsigned choice = (unsigned)below(st, 20);
  /* half of one of grafting's four shares: a filter's shared twin (23) */
  if (choice == 19 && (*st >> 7 & 1)) choice = 23;
  if (choice >= 17 && choice < 20) choice = 13;
  /* half of the floods are resource mutations (20-22) instead: drawn only
   * here, so that every other session mutates as it did before them */
  if (choice == 16 && below(st, 2)) choice = 20 + (unsigned)below(st, 3);
  switch (choice) {
  case 0: /* drop a record */
    if (!nr) return 0;
    for (size_t i = 0; i < nr; i++)
      if (i != pick) put_rec(&o, s, &m->recs[i]);
    break;
  case 1: /* duplicate a record */
    if (!nr) return 0;
    for (size_t i = 0; i < nr; i++) {
      put_rec(&o, s, &m->recs[i]);
      if (i == pick) put_rec(&o, s, &m->recs[i]);
    }
    break;
  case 2: { /* move a record elsewhere */
    if (nr < 2) return 0;
    size_t to = below(st, nr);
    for (size_t i = 0; i < nr; i++) {
      if (i == to) put_rec(&o, s, &m->recs[pick]);
      if (i != pick) put_rec(&o, s, &m->recs[i]);
    }
    break;
  }
  case 3: { /* a record moves to another client */
    if (!nr) return 0;
    unsigned c = (unsigned)below(st, 3);
    for (size_t i = 0; i < nr; i++) {
      size_t at = o.n;
      put_rec(&o, s, &m->recs[i]);
      if (i == pick && at + 1 < o.n) o.p[at + 1] = (uint8_t)c;
    }
    break;
  }
  case 4: { /* another client with the same CONNECT: session takeover */
    long ci = find_send(m, s, MQZ_MAX_CLIENTS, MQC_CONNECT);
    if (ci < 0) return 0;
    unsigned c = (m->recs[ci].client + 1 + (unsigned)below(st, 3)) % MQZ_MAX_CLIENTS;
    size_t at = below(st, nr + 1);
    for (size_t i = 0; i <= nr; i++) {
      if (i == at) {
        put_op(&o, MQZ_OP_OPEN, c, 0, 0);
        put_op(&o, MQZ_OP_SEND, c, 0, 0);
        put(&o, m->recs[ci].pkt, m->recs[ci].pkt_len);
        put_op(&o, MQZ_OP_SYNC, c, 1, 2);
      }
      if (i < nr) put_rec(&o, s, &m->recs[i]);
    }
    break;
  }
  case 5: { /* a client drops and comes back to its session (clean start 0) */
    long ci = find_send(m, s, MQZ_MAX_CLIENTS, MQC_CONNECT);
    if (ci < 0) return 0;
    const mqz_rec *cr = &m->recs[ci];
    size_t at = (size_t)ci + 1 + below(st, nr - (size_t)ci);
    for (size_t i = 0; i <= nr; i++) {
      if (i == at) {
        put_op(&o, below(st, 2) ? MQZ_OP_DROP : MQZ_OP_CLOSE, cr->client, 0, 0);
        put_op(&o, MQZ_OP_OPEN, cr->client, 0, 0);
        put_op(&o, MQZ_OP_SEND, cr->client, 0, 0);
        size_t at_pkt = o.n;
        put(&o, cr->pkt, cr->pkt_len);
        /* connect flags: after the protocol name and level */
        size_t name_end = mqz__after_first_string(cr->pkt, cr->pkt_len);
        size_t flags = at_pkt + name_end + 1;
        if (name_end && flags < o.n) o.p[flags] &= (uint8_t)~0x02;
      }
      if (i < nr) put_rec(&o, s, &m->recs[i]);
    }
    break;
  }
  case 6: { /* withhold every answer of one client, or answer everything */
    if (below(st, 2)) {
      o.p[1] ^= MQZ_F_AUTO_ACK;
      for (size_t i = 0; i < nr; i++)
        put_rec(&o, s, &m->recs[i]);
    } else {
      unsigned c = nr ? m->recs[pick].client : 0;
      for (size_t i = 0; i < nr; i++)
        if (!(m->recs[i].op == MQZ_OP_ACK && m->recs[i].client == c)) put_rec(&o, s, &m->recs[i]);
    }
    break;
  }
  case 7: { /* splice: a run of records from other */
    if (!other || other_n < 3) return 0;
    mqz_rec tmp[64];
    size_t nt = 0;
    mqz_iter it;
    mqz_iter_init(&it, other, other_n);
    while (nt < 64 && mqz_iter_next(&it, &tmp[nt]))
      nt++;
    if (!nt) return 0;
    size_t from = below(st, nt), len = 1 + below(st, nt - from);
    size_t at = below(st, nr + 1);
    for (size_t i = 0; i <= nr; i++) {
      if (i == at)
        for (size_t k = from; k < from + len; k++)
          put(&o, other + tmp[k].offset, tmp[k].len);
      if (i < nr) put_rec(&o, s, &m->recs[i]);
    }
    break;
  }
  case 8: { /* a burst: one QoS 1/2 PUBLISH many times, fresh identifiers */
    size_t cand[64], nc = 0;
    for (size_t i = 0; i < nr && nc < 64; i++)
      if (m->recs[i].op == MQZ_OP_SEND && m->recs[i].pkt_len &&
          (m->recs[i].pkt[0] >> 4) == MQC_PUBLISH && ((m->recs[i].pkt[0] >> 1) & 3))
        cand[nc++] = i;
    if (!nc) return 0;
    long pi = (long)cand[below(st, nc)];
    const mqz_rec *pr = &m->recs[pi];
    size_t copies = 2 + below(st, 39);
    /* a third of the time one identifier over and over, its PUBRELs
     * withheld: retransmissions of a message the broker is still holding */
    bool same_id = below(st, 3) == 0;
    if (!same_id)
      o.p[1] |= MQZ_F_AUTO_ACK; /* the delivery oracles judge only clients that answer */
    /* half the time the other clients stop reading meanwhile, so the burst
     * piles up unacknowledged in the broker (in-flight windows, queues) */
    bool stall = below(st, 2);
    for (size_t i = 0; i < nr; i++) {
      const mqz_rec *ri = &m->recs[i];
      if (same_id && ri->client == pr->client && ri->op == MQZ_OP_SEND && ri->pkt_len &&
          (ri->pkt[0] >> 4) == MQC_PUBREL)
        continue;
      if (i == (size_t)pi && stall)
        for (unsigned c = 0; c < MQZ_MAX_CLIENTS; c++)
          if (c != pr->client) put_op(&o, MQZ_OP_SLOWREAD, c, (uint32_t)(5 + below(st, 16)), 1);
      put_rec(&o, s, &m->recs[i]);
      if (i != (size_t)pi || ((pr->pkt[0] >> 1) & 3) == 0) continue;
      /* the packet identifier follows the topic */
      size_t idpos = mqz__after_first_string(pr->pkt, pr->pkt_len);
      for (size_t k = 1; k < copies; k++) {
        put_op(&o, MQZ_OP_SEND, pr->client, 0, 0);
        size_t at_pkt = o.n;
        put(&o, pr->pkt, pr->pkt_len);
        if (idpos && idpos + 1 < pr->pkt_len && at_pkt + idpos + 1 < o.n) {
          uint16_t id =
              (uint16_t)(((size_t)pr->pkt[idpos] << 8 | pr->pkt[idpos + 1]) + (same_id ? 0 : k));
          if (!id) id = 1;
          o.p[at_pkt + idpos] = (uint8_t)(id >> 8);
          o.p[at_pkt + idpos + 1] = (uint8_t)id;
        }
      }
    }
    break;
  }
  case 9:  /* split the next send of a client into small writes */
  case 10: /* a pause */
  case 11: /* half-close, RST or a slow reader */
    if (!nr) return 0;
    for (size_t i = 0; i < nr; i++) {
      if (i == pick) {
        unsigned c = m->recs[i].client;
        if (choice == 9)
          put_op(&o, MQZ_OP_SPLIT, c, (uint32_t)below(st, 4), 1);
        else if (choice == 10)
          put_op(&o, MQZ_OP_WAIT, 0, (uint32_t)(1 + below(st, 20)), 1);
        else {
          static const mqz_op ops[3] = {MQZ_OP_HALFCLOSE, MQZ_OP_DROP, MQZ_OP_SLOWREAD};
          mqz_op op = ops[below(st, 3)];
          put_op(&o, op, c, (uint32_t)(1 + below(st, 10)), op == MQZ_OP_SLOWREAD ? 1 : 0);
        }
      }
      put_rec(&o, s, &m->recs[i]);
    }
    break;
  case 13: { /* graft: properties seeds used, into a packet of the same type */
    if (!m->n_dict) return 0;
    /* a 5.0 packet with a property block */
    size_t cand[64], nc = 0;
    mqc_packet pkt;
    for (size_t i = 0; i < nr && nc < 64; i++)
      if (m->recs[i].op == MQZ_OP_SEND && packet_props(m->recs[i].pkt, m->recs[i].pkt_len, &pkt))
        cand[nc++] = i;
    if (!nc) return 0;
    size_t at = cand[below(st, nc)];
    const mqz_rec *pr = &m->recs[at];
    const mqc_props *props = packet_props(pr->pkt, pr->pkt_len, &pkt);
    if (!props) return 0;
    /* a CONNECT's Will has a property block of its own: half the time the
     * graft goes there, with properties of any packet (few belong there) */
    bool will = pkt.type == MQC_CONNECT && pkt.connect.will && below(st, 2);
    if (will) props = &pkt.connect.will_props;
    if (props->raw.n > 4096) return 0;
    uint8_t *block = m->block;
    size_t bn = 0;
    if (props->raw.n) memcpy(block, props->raw.p, props->raw.n);
    bn = props->raw.n;
    for (size_t k = 1 + below(st, 3); k > 0; k--) {
      const dict_prop *d = pick_prop(m, below(st, 8) && !will ? (uint8_t)pkt.type : 0, st);
      if (d) bn += graft_one(d, block + bn, st);
    }
    mqc_props *w = (mqc_props *)(uintptr_t)props; /* points into our own pkt */
    w->raw.p = block;
    w->raw.n = bn;
    size_t len;
    if (mqc_encode(&pkt, MQC_V5, m->pkt, sizeof m->pkt, &len) != MQC_OK) return 0;
    put_replacing(&o, s, m, at, m->pkt, len);
    break;
  }
  case 15: { /* a string field at a length no seed has: up to 65535 bytes */
    size_t cand[64], nc = 0;
    mqc_bytes f;
    mqc_version v = mqz_session_version(s, n);
    for (size_t i = 0; i < nr && nc < 64; i++)
      if (m->recs[i].op == MQZ_OP_SEND &&
          string_field(m->recs[i].pkt, m->recs[i].pkt_len, v, &f, st))
        cand[nc++] = i;
    if (!nc) return 0;
    size_t at = cand[below(st, nc)];
    const mqz_rec *pr = &m->recs[at];
    if (!string_field(pr->pkt, pr->pkt_len, v, &f, st)) return 0;
    static const size_t lens[] = {300, 4096, 32767, 65535};
    size_t len = lens[below(st, 4)];
    size_t room = sizeof m->out - n - 64;
    if (len > room) len = room;
    size_t pn =
        stretch(pr->pkt, pr->pkt_len, f, len, (unsigned)below(st, 3), m->pkt, sizeof m->pkt);
    if (!pn) return 0;
    put_replacing(&o, s, m, at, m->pkt, pn);
    break;
  }
  case 16: { /* a flood: one property repeated up to tens of thousands of bytes */
    if (!m->n_dict) return 0;
    size_t cand[64], nc = 0;
    mqc_packet pkt;
    for (size_t i = 0; i < nr && nc < 64; i++)
      if (m->recs[i].op == MQZ_OP_SEND && packet_props(m->recs[i].pkt, m->recs[i].pkt_len, &pkt))
        cand[nc++] = i;
    if (!nc) return 0;
    size_t at = cand[below(st, nc)];
    const mqz_rec *pr = &m->recs[at];
    const mqc_props *props = packet_props(pr->pkt, pr->pkt_len, &pkt);
    if (!props) return 0;
    /* User Properties may repeat by the specification: most of the time
     * those, else any property of this packet type (a repeated one that
     * must not repeat) */
    const dict_prop *d = NULL;
    for (size_t i = 0; i < m->n_dict && !d && below(st, 4); i++)
      if (m->dict[i].b[0] == MQC_PROP_USER_PROPERTY) d = &m->dict[i];
    if (!d) d = pick_prop(m, (uint8_t)pkt.type, st);
    if (!d || !d->len) return 0;
    static const size_t sizes[] = {512, 4096, 16384, 60000};
    size_t want = sizes[below(st, 4)];
    size_t room = sizeof m->out - n - 64;
    if (want > room) want = room;
    if (props->raw.n + d->len > want) return 0;
    uint8_t *block = m->block;
    if (props->raw.n) memcpy(block, props->raw.p, props->raw.n);
    size_t bn = props->raw.n;
    while (bn + d->len <= want) {
      memcpy(block + bn, d->b, d->len);
      bn += d->len;
    }
    mqc_props *w = (mqc_props *)(uintptr_t)props; /* points into our own pkt */
    w->raw.p = block;
    w->raw.n = bn;
    size_t len;
    if (mqc_encode(&pkt, MQC_V5, m->pkt, sizeof m->pkt, &len) != MQC_OK) return 0;
    put_replacing(&o, s, m, at, m->pkt, len);
    break;
  }
  case 20: { /* a claim: a header announcing a huge remaining length, little of it sent */
    size_t cand[64], nc = 0;
    for (size_t i = 0; i < nr && nc < 64; i++)
      if (m->recs[i].op == MQZ_OP_SEND && m->recs[i].pkt_len >= 2) cand[nc++] = i;
    if (!nc) return 0;
    size_t at = cand[below(st, nc)];
    const mqz_rec *pr = &m->recs[at];
    size_t hl = mqz__header_len(pr->pkt, pr->pkt_len);
    if (!hl) return 0;
    /* brokers that allocate what a header claims before the bytes come
     * (found by ASan's max_allocation_size_mb: docs/netfuzz.md) */
    static const uint32_t claims[] = {1u << 16, 1u << 20, 1u << 24, 268435455u};
    uint32_t claim = claims[below(st, 4)];
    if (claim < 268435455u) claim += (uint32_t)below(st, 4096);
    uint8_t raw[64];
    mqc_writer w;
    mqc_writer_init(&w, raw, sizeof raw);
    mqc_put_u8(&w, pr->pkt[0]);
    mqc_put_varint(&w, claim);
    size_t body = pr->pkt_len - hl < 32 ? pr->pkt_len - hl : 32;
    mqc_put_bytes(&w, (mqc_bytes){pr->pkt + hl, body});
    if (!mqc_writer_ok(&w)) return 0;
    /* half the time as the connection's first packet: before its CONNECT */
    size_t where = at;
    if (below(st, 2)) {
      long ci = find_send(m, s, pr->client, MQC_CONNECT);
      if (ci >= 0 && (size_t)ci < at) where = (size_t)ci;
    }
    for (size_t i = 0; i < nr; i++) {
      if (i == where) put_raw(&o, pr->client, raw, w.len);
      if (i != at) put_rec(&o, s, &m->recs[i]);
    }
    break;
  }
  case 21: { /* an expansion: a packet of megabytes from a few bytes of session */
    size_t cand[64], nc = 0;
    mqc_packet pkt;
    mqc_version v = mqz_session_version(s, n);
    for (size_t i = 0; i < nr && nc < 64; i++) {
      const mqz_rec *ri = &m->recs[i];
      if (ri->op == MQZ_OP_SEND && ri->pkt_len &&
          (packet_props(ri->pkt, ri->pkt_len, &pkt) || (ri->pkt[0] >> 4) == MQC_PUBLISH))
        cand[nc++] = i;
    }
    if (!nc) return 0;
    size_t at = cand[below(st, nc)];
    const mqz_rec *pr = &m->recs[at];
    /* enough for quadratic work to take seconds, not so much that a loaded
     * broker takes seconds to read it */
    static const size_t sizes[] = {256u << 10, 256u << 10, 1u << 20};
    size_t want = sizes[below(st, 3)];
    /* the packet in canonical form, so the property length's varint has its
     * minimal width and the offsets below hold */
    const mqc_props *props = packet_props(pr->pkt, pr->pkt_len, &pkt);
    bool in_props = props && (pkt.type != MQC_PUBLISH || below(st, 2));
    size_t len;
    if (in_props) {
      if (mqc_encode(&pkt, MQC_V5, m->pkt, sizeof m->pkt, &len) != MQC_OK) return 0;
    } else {
      mqc_error e;
      if (mqc_decode(pr->pkt, pr->pkt_len, v == MQC_V5 ? MQC_V5 : MQC_V311, MQC_FROM_CLIENT,
                     MQC_NO_LIMIT, &pkt, &e) != MQC_OK ||
          pkt.type != MQC_PUBLISH ||
          mqc_encode(&pkt, v == MQC_V5 ? MQC_V5 : MQC_V311, m->pkt, sizeof m->pkt, &len) != MQC_OK)
        return 0;
    }
    mqc_packet canon;
    mqc_error e;
    if (mqc_decode(m->pkt, len,
                   in_props      ? MQC_V5
                   : v == MQC_V5 ? MQC_V5
                                 : MQC_V311,
                   MQC_FROM_CLIENT, MQC_NO_LIMIT, &canon, &e) != MQC_OK)
      return 0;
    size_t hl = mqz__header_len(m->pkt, len);
    /* where the repeated bytes go (split), the varint before them that
     * counts them (vat, vlen wide, value old), and the unit */
    uint8_t unit[255];
    size_t un, split, vat = 0, vlen = 0, old = 0;
    if (in_props) {
      const mqc_props *cp = mqc_packet_props(&canon);
      if (!cp) return 0;
      old = cp->raw.n;
      vlen = varint_len(old);
      split = (size_t)(cp->raw.p - m->pkt) + old;
      vat = split - old - vlen;
      /* User Properties may repeat: most of the time those, else any
       * property seeds sent in this packet type */
      const dict_prop *d = NULL;
      if (below(st, 4)) {
        static const uint8_t up[] = {MQC_PROP_USER_PROPERTY, 0, 1, 'k', 0, 1, 'v'};
        memcpy(unit, up, sizeof up);
        un = sizeof up;
      } else if ((d = pick_prop(m, (uint8_t)canon.type, st)) && d->len) {
        memcpy(unit, d->b, d->len);
        un = d->len;
      } else {
        return 0;
      }
    } else { /* a payload of megabytes */
      split = len;
      memset(unit, 'x', sizeof unit);
      un = sizeof unit;
    }
    size_t count = want / un, extra = count * un;
    size_t rem = len - hl - vlen + varint_len(old + extra) + extra;
    if (rem > 268435455u || vat < hl || split > len) return 0;
    uint8_t head[4096];
    if (split + 8 > sizeof head) return 0;
    mqc_writer w;
    mqc_writer_init(&w, head, sizeof head);
    mqc_put_u8(&w, m->pkt[0]);
    mqc_put_varint(&w, (uint32_t)rem);
    if (in_props) {
      mqc_put_bytes(&w, (mqc_bytes){m->pkt + hl, vat - hl});
      mqc_put_varint(&w, (uint32_t)(old + extra));
      mqc_put_bytes(&w, (mqc_bytes){m->pkt + vat + vlen, split - vat - vlen});
    } else {
      mqc_put_bytes(&w, (mqc_bytes){m->pkt + hl, split - hl});
    }
    if (!mqc_writer_ok(&w)) return 0;
    for (size_t i = 0; i < nr; i++) {
      if (i != at) {
        put_rec(&o, s, &m->recs[i]);
        continue;
      }
      put_raw(&o, pr->client, head, w.len);
      put_repeat(&o, pr->client, unit, un, (uint32_t)count);
      put_raw(&o, pr->client, m->pkt + split, len - split);
    }
    break;
  }
  case 22: { /* one packet thousands of times: per-message state that piles up */
    size_t cand[64], nc = 0;
    for (size_t i = 0; i < nr && nc < 64; i++)
      if (m->recs[i].op == MQZ_OP_SEND && m->recs[i].pkt_len && m->recs[i].pkt_len <= 255 &&
          (m->recs[i].pkt[0] >> 4) != MQC_CONNECT && (m->recs[i].pkt[0] >> 4) != MQC_DISCONNECT)
        cand[nc++] = i;
    if (!nc) return 0;
    size_t at = cand[below(st, nc)];
    const mqz_rec *pr = &m->recs[at];
    static const uint32_t counts[] = {100, 300, 1000, 3000};
    uint32_t count = counts[below(st, 4)];
    /* half the time the sender neither reads nor answers meanwhile: what
     * the broker owes it (PUBRECs, PUBACKs, deliveries) piles up too, and
     * with a receive buffer of 2 KiB its writes to the sender block within
     * a few hundred answers (loopback buffers would take megabytes of
     * them first), so a queue the broker never bounds shows */
    bool mute = below(st, 2);
    if (mute) {
      o.p[1] &= (uint8_t)~MQZ_F_AUTO_ACK;
      put_op(&o, MQZ_OP_RCVBUF, pr->client, 2, 1);
    }
    for (size_t i = 0; i < nr; i++) {
      const mqz_rec *ri = &m->recs[i];
      if (mute && ri->client == pr->client && ri->op == MQZ_OP_ACK) continue;
      if (i != at) {
        put_rec(&o, s, ri);
        continue;
      }
      if (mute) put_op(&o, MQZ_OP_SLOWREAD, pr->client, 255, 1);
      put_repeat(&o, pr->client, pr->pkt, pr->pkt_len, count);
      /* the connection stays a quarter of a second (WAITs are capped at
       * 10 ms each): what the broker keeps per packet is held meanwhile,
       * whenever it gets to read them */
      for (int k = 0; k < 25; k++)
        put_op(&o, MQZ_OP_WAIT, pr->client, 10, 1);
    }
    break;
  }
  case 23: { /* a filter's twin: the same filter shared and not */
    /* brokers keep shared subscriptions apart from the others; a client
     * holding $share/<name>/F and F at once, or unsubscribing the one it
     * does not hold, meets the code that must tell them apart */
    size_t cand[64], nc = 0;
    mqc_bytes f;
    mqc_version v = mqz_session_version(s, n);
    for (size_t i = 0; i < nr && nc < 64; i++)
      if (m->recs[i].op == MQZ_OP_SEND && m->recs[i].pkt_len &&
          ((m->recs[i].pkt[0] >> 4) == MQC_SUBSCRIBE ||
           (m->recs[i].pkt[0] >> 4) == MQC_UNSUBSCRIBE))
        cand[nc++] = i;
    if (!nc) return 0;
    size_t at = cand[below(st, nc)];
    const mqz_rec *pr = &m->recs[at];
    if (!string_field(pr->pkt, pr->pkt_len, v == MQC_V31 ? MQC_V311 : v, &f, st)) return 0;
    uint8_t twin[512];
    size_t tn;
    static const char share[] = "$share/";
    const size_t sl = sizeof share - 1;
    if (f.n > sl && !memcmp(f.p, share, sl)) { /* $share/<name>/F: F */
      const uint8_t *slash = memchr(f.p + sl, '/', f.n - sl);
      if (!slash) return 0;
      tn = f.n - (size_t)(slash + 1 - f.p);
      if (tn > sizeof twin) return 0;
      memcpy(twin, slash + 1, tn);
    } else { /* F: $share/<name>/F */
      static const char name[] = "$share/mqz/";
      tn = sizeof name - 1 + f.n;
      if (tn > sizeof twin) return 0;
      memcpy(twin, name, sizeof name - 1);
      memcpy(twin + sizeof name - 1, f.p, f.n);
    }
    size_t pn = respell(pr->pkt, pr->pkt_len, f, twin, tn, m->pkt, sizeof m->pkt);
    if (!pn) return 0;
    /* the twin after the packet, or before it */
    bool after = below(st, 2);
    uint8_t h[2] = {MQZ_OP_SEND, (uint8_t)pr->client};
    for (size_t i = 0; i < nr; i++) {
      if (i == at && !after) put(&o, h, 2), put(&o, m->pkt, pn);
      put_rec(&o, s, &m->recs[i]);
      if (i == at && after) put(&o, h, 2), put(&o, m->pkt, pn);
    }
    break;
  }
  case 12: /* the version of the whole session */
    o.p[0] = (uint8_t)((o.p[0] & ~3u) | (1 + below(st, 3)));
    for (size_t i = 0; i < nr; i++)
      put_rec(&o, s, &m->recs[i]);
    break;
  default: { /* two records swap */
    if (nr < 2) return 0;
    size_t b = below(st, nr);
    for (size_t i = 0; i < nr; i++)
      put_rec(&o, s, &m->recs[i == pick ? b : i == b ? pick : i]);
    break;
  }
  }
  return o.n;
}

size_t mqz_mutate(mqz_mutator *m, uint8_t *s, size_t n, const uint8_t *other, size_t other_n,
                  uint64_t seed) {
  uint64_t st = seed;
  if (n > MQZ_SESSION_MAX) n = MQZ_SESSION_MAX;
  size_t rounds = 1 + below(&st, 3);
  for (size_t r = 0; r < rounds; r++) {
    if (below(&st, 2)) {
      size_t k = mutate_session(m, s, n, other, other_n, &st);
      if (k >= 2) {
        memcpy(s, m->out, k);
        n = k;
        continue;
      }
    }
    /* packets and fields: fuzz/'s mutator on the session layout */
    size_t cap = n > FIELD_MAX ? MQZ_SESSION_MAX : FIELD_MAX;
    n = mqf_mutate(&m->field, mqz_session_layout(), s, n, cap, other, other_n, next(&st));
  }
  if (n < 2) {
    s[0] = 3;
    s[1] = 0;
    n = 2;
  }
  return n;
}
