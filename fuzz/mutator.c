/* mutator.c - the structure-aware MQTT mutator (see mutator.h).
 *
 * An input is split into prefix + records; a record is a head (layout-defined)
 * plus one framed packet, or an unframeable tail. Packet-level operations
 * rearrange records; field-level operations copy one packet into an edit
 * buffer, locate its fields by decoding it with the reference codec (the
 * decoded views point into the edit buffer, so they double as offsets), edit,
 * and usually repair the enclosing lengths - sometimes deliberately not, so
 * the length checks of the target are attacked too. */
#include "mutator.h"

#include <string.h>

#include "fuzz.h" /* the selector byte layout */
#include "mqc.h"
#include "mutator_int.h"
#include "templates.h"

#define MAX_UNITS 128

/* ------------------------------------------------------------------------ */
/* Parsing into records                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
  const uint8_t *p; /* record start (head first) */
  size_t head;      /* head bytes */
  size_t len;       /* head + packet (or tail) bytes */
  bool packet;      /* a complete framed packet follows the head */
} unit;

static size_t parse(const mqf_layout *lay, const uint8_t *buf, size_t size, unit *u) {
  size_t pos = lay->prefix < size ? lay->prefix : size, n = 0;
  while (pos < size && n < MAX_UNITS) {
    size_t left = size - pos, head = 0;
    bool has = true;
    if (lay->record_head) {
      head = lay->record_head(buf + pos, left, &has);
      if (head > left) head = left;
      if (head == 0 && !has) head = 1; /* always make progress */
    }
    size_t body = left - head;
    unit x = {buf + pos, head, head, false};
    if (has && body > 0) {
      mqc_frame fr;
      mqc_error err;
      /* 3.1.1 framing accepts non-minimal lengths, so lies survive parsing. */
      if (n + 1 < MAX_UNITS &&
          mqc_frame_packet(buf + pos + head, body, MQC_V311, MQC_NO_LIMIT, &fr, &err) == MQC_OK) {
        x.len += fr.total_len;
        x.packet = true;
      } else {
        x.len = left; /* the rest is an unframeable tail */
      }
    }
    u[n++] = x;
    pos += x.len;
  }
  if (pos < size && n > 0) u[n - 1].len += size - pos; /* out of slots: fold into the last */
  return n;
}

/* ------------------------------------------------------------------------ */
/* Byte-level fallback                                                      */
/* ------------------------------------------------------------------------ */

size_t mqf_byte_mutate(uint8_t *data, size_t size, size_t max_size, uint64_t seed) {
  mqf__rng r = {seed};
  if (max_size == 0) return 0;
  if (size > max_size) size = max_size;
  if (size == 0) {
    data[0] = (uint8_t)mqf__rnd(&r);
    return 1;
  }
  static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF, 0x10, 0x20, 0x30, 0xE0};
  switch (mqf__below(&r, 6)) {
  case 0:
    data[mqf__below(&r, size)] ^= (uint8_t)(1u << mqf__below(&r, 8));
    break;
  case 1:
    data[mqf__below(&r, size)] = (uint8_t)mqf__rnd(&r);
    break;
  case 2:
    data[mqf__below(&r, size)] = interesting[mqf__below(&r, sizeof interesting)];
    break;
  case 3: /* insert bytes */
    if (size < max_size) {
      size_t at = mqf__below(&r, size + 1),
             n = 1 + mqf__below(&r, max_size - size < 8 ? max_size - size : 8);
      memmove(data + at + n, data + at, size - at);
      for (size_t i = 0; i < n; i++)
        data[at + i] = (uint8_t)mqf__rnd(&r);
      size += n;
    }
    break;
  case 4: /* delete bytes */
    if (size > 1) {
      size_t at = mqf__below(&r, size), n = 1 + mqf__below(&r, size - at < 8 ? size - at : 8);
      if (n >= size) n = size - 1;
      if (at + n > size) n = size - at;
      memmove(data + at, data + at + n, size - at - n);
      size -= n;
    }
    break;
  default: { /* copy a block within the input */
    size_t from = mqf__below(&r, size), to = mqf__below(&r, size);
    size_t n = 1 + mqf__below(&r, 16);
    if (n > size - from) n = size - from;
    if (n > size - to) n = size - to;
    memmove(data + to, data + from, n);
    break;
  }
  }
  return size;
}

/* ------------------------------------------------------------------------ */
/* Packet-level operations and the entry point                              */
/* ------------------------------------------------------------------------ */

typedef struct {
  const uint8_t *p;
  size_t n;
} piece;

/* Concatenates pieces into out (cap bytes), truncating at cap. */
static size_t join(const piece *pc, size_t n, uint8_t *out, size_t cap) {
  size_t len = 0;
  for (size_t i = 0; i < n && len < cap; i++) {
    size_t take = pc[i].n < cap - len ? pc[i].n : cap - len;
    if (take) memcpy(out + len, pc[i].p, take);
    len += take;
  }
  return len;
}

static size_t fallback(const mqf_mutator *m, uint8_t *data, size_t size, size_t max, mqf__rng *r) {
  if (m->fallback) return m->fallback(m->fallback_ctx, data, size, max);
  return mqf_byte_mutate(data, size, max, mqf__rnd(r));
}

/* force_op: -1 picks at random; 7 forces a splice from other. */
static size_t mutate_once(const mqf_mutator *m, const mqf_layout *lay, uint8_t *data, size_t size,
                          size_t max, const uint8_t *other, size_t other_size, mqf__rng *r,
                          int force_op) {
  unit u[MAX_UNITS], o[MAX_UNITS];
  size_t nu = parse(lay, data, size, u);
  size_t pre = lay->prefix < size ? lay->prefix : size;
  /* pieces: prefix, up to MAX_UNITS units (each head + packet), one insert */
  piece pc[2 * MAX_UNITS + 4];
  size_t np = 0;
  uint8_t *out = m->scratch;
  mqf__pbuf k = {m->scratch + max, 0, max + 2048};
  uint8_t head[8];

  unsigned op = force_op >= 0 ? (unsigned)force_op : (unsigned)mqf__below(r, 16);
  if (op == 3 && lay->prefix == 0) op = 0;
  if (op <= 2 || (op >= 4 && op <= 6 && nu == 0)) return fallback(m, data, size, max, r);
  if (op == 3) { /* a prefix byte: selectors and config are worth exploring */
    if (size < lay->prefix) {
      size_t want = lay->prefix < max ? lay->prefix : max;
      memset(data + size, 0, want - size);
      size = want;
    }
    data[mqf__below(r, lay->prefix < size ? lay->prefix : size)] = (uint8_t)mqf__rnd(r);
    return size;
  }

  pc[np++] = (piece){data, pre};
  size_t pick = mqf__below(r, nu), pick2 = mqf__below(r, nu);
  const uint8_t *ins = NULL;
  size_t ins_n = 0;
  if (op == 7 && other && other_size) { /* splice in a record from the other input */
    size_t no = parse(lay, other, other_size, o);
    if (no) {
      unit x = o[mqf__below(r, no)];
      ins = x.p, ins_n = x.len;
    }
  }
  if ((op == 7 && !ins) || op == 8) { /* insert a template packet, with a head */
    size_t t = mqf__below(r, sizeof MQF_TEMPLATES / sizeof MQF_TEMPLATES[0]);
    size_t hn = lay->make_head ? lay->make_head(mqf__rnd(r), head) : 0;
    if (hn > sizeof head) hn = sizeof head;
    size_t at = nu ? mqf__below(r, nu + 1) : 0;
    for (size_t i = 0; i <= nu; i++) {
      if (i == at) {
        pc[np++] = (piece){head, hn};
        pc[np++] = (piece){(const uint8_t *)MQF_TEMPLATES[t].b, MQF_TEMPLATES[t].n};
      }
      if (i < nu) pc[np++] = (piece){u[i].p, u[i].len};
    }
  } else if (op == 7) {
    size_t at = mqf__below(r, nu + 1);
    bool replace = nu && mqf__chance(r, 2);
    for (size_t i = 0; i <= nu; i++) {
      if (i == at) pc[np++] = (piece){ins, ins_n};
      if (i < nu && !(replace && i == at)) pc[np++] = (piece){u[i].p, u[i].len};
    }
  } else if (op == 4) { /* drop */
    for (size_t i = 0; i < nu; i++)
      if (i != pick) pc[np++] = (piece){u[i].p, u[i].len};
  } else if (op == 5) { /* duplicate */
    for (size_t i = 0; i < nu; i++) {
      pc[np++] = (piece){u[i].p, u[i].len};
      if (i == pick2) pc[np++] = (piece){u[pick].p, u[pick].len};
    }
  } else if (op == 6) { /* swap */
    for (size_t i = 0; i < nu; i++) {
      size_t j = i == pick ? pick2 : i == pick2 ? pick : i;
      pc[np++] = (piece){u[j].p, u[j].len};
    }
  } else { /* field-level edit of one record */
    size_t cand[MAX_UNITS], nc = 0;
    for (size_t i = 0; i < nu; i++)
      if (u[i].packet || u[i].head) cand[nc++] = i;
    if (!nc) return fallback(m, data, size, max, r);
    size_t e = cand[mqf__below(r, nc)];
    unit x = u[e];
    size_t body = x.len - x.head;
    if (body > k.cap) return fallback(m, data, size, max, r);
    bool head_edit = x.head && (!x.packet || mqf__chance(r, 8));
    if (head_edit) { /* a record head (op byte): replace it */
      size_t hn = lay->make_head ? lay->make_head(mqf__rnd(r), head) : 0;
      if (hn == 0 || hn > sizeof head) {
        hn = x.head < sizeof head ? x.head : sizeof head;
        memcpy(head, x.p, hn);
        head[mqf__below(r, hn)] ^= (uint8_t)mqf__rnd(r);
      }
      for (size_t i = 0; i < nu; i++) {
        if (i == e) {
          pc[np++] = (piece){head, hn};
          pc[np++] = (piece){x.p + x.head, body};
        } else {
          pc[np++] = (piece){u[i].p, u[i].len};
        }
      }
    } else {
      memcpy(k.b, x.p + x.head, body);
      k.len = body;
      mqf__try_as hint = {MQC_VERSION_AUTO, MQC_FROM_CLIENT};
      if (lay->selector && size > 0) {
        hint.v = mqf_sel_version(data[0]);
        hint.d = mqf_sel_dir(data[0]);
      }
      mqf__edit_packet(r, &k, hint);
      for (size_t i = 0; i < nu; i++) {
        if (i == e) {
          pc[np++] = (piece){x.p, x.head};
          pc[np++] = (piece){k.b, k.len};
        } else {
          pc[np++] = (piece){u[i].p, u[i].len};
        }
      }
    }
  }
  size_t len = join(pc, np, out, max);
  if (len == 0) return fallback(m, data, size, max, r);
  memcpy(data, out, len);
  return len;
}

/* op < 0: any operation, stacked 1-3 times (single edits rarely cross a
 * validation step); otherwise that one operation, once. */
static size_t mutate_with(const mqf_mutator *m, const mqf_layout *layout, uint8_t *data,
                          size_t size, size_t max_size, const uint8_t *other, size_t other_size,
                          uint64_t seed, int op) {
  mqf__rng r = {seed};
  if (max_size == 0) return 0;
  if (size > max_size) size = max_size;
  /* Too little scratch for structure: bytes only (still deterministic). */
  if (!m->scratch || m->scratch_cap < MQF_SCRATCH_FOR(max_size))
    return fallback(m, data, size, max_size, &r);
  size_t rounds = op < 0 ? 1 + mqf__below(&r, 3) : 1;
  for (size_t i = 0; i < rounds; i++)
    size = mutate_once(m, layout, data, size, max_size, other, other_size, &r, op);
  if (size == 0) size = mqf_byte_mutate(data, 0, max_size, mqf__rnd(&r));
  return size;
}

size_t mqf_mutate(const mqf_mutator *m, const mqf_layout *layout, uint8_t *data, size_t size,
                  size_t max_size, const uint8_t *other, size_t other_size, uint64_t seed) {
  return mutate_with(m, layout, data, size, max_size, other, other_size, seed, -1);
}

size_t mqf_crossover(const mqf_mutator *m, const mqf_layout *layout, uint8_t *data, size_t size,
                     size_t max_size, const uint8_t *other, size_t other_size, uint64_t seed) {
  return mutate_with(m, layout, data, size, max_size, other, other_size, seed, 7); /* splice */
}

mqf_layout mqf_layout_packets(size_t prefix) {
  mqf_layout l = {prefix, NULL, NULL, false};
  return l;
}
