/* session.c - the session byte format (mqz.h): records, building, tokens. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <stdio.h>

#include "fuzz.h"
#include "internal.h"

/* Bytes after [op][client] for ops with a fixed argument. */
static size_t arg_len(mqz_op op) {
  switch (op) {
  case MQZ_OP_SYNC:
    return 2;
  case MQZ_OP_WAIT:
  case MQZ_OP_SPLIT:
  case MQZ_OP_SLOWREAD:
  case MQZ_OP_RAW:
  case MQZ_OP_NODE:
  case MQZ_OP_RCVBUF:
    return 1;
  case MQZ_OP_REPEAT:
    return 4;
  default:
    return 0;
  }
}

static bool has_packet(mqz_op op) {
  return op == MQZ_OP_SEND || op == MQZ_OP_ACK;
}

const char *mqz_op_name(mqz_op op) {
  static const char *const names[MQZ_OP_COUNT] = {
      "?",     "open",      "send",     "ack", "close",  "drop", "sync",  "wait",
      "split", "halfclose", "slowread", "raw", "repeat", "node", "rcvbuf"};
  return op > 0 && op < MQZ_OP_COUNT ? names[op] : "?";
}

mqc_version mqz_session_version(const uint8_t *s, size_t n) {
  mqc_version v = n ? mqf_sel_version(s[0]) : MQC_V5;
  return v == MQC_VERSION_AUTO ? MQC_V5 : v;
}

uint8_t mqz_session_flags(const uint8_t *s, size_t n) {
  return n > 1 ? s[1] : 0;
}

uint8_t mqz_selector(mqc_version v) {
  return v == MQC_V31 ? 1 : v == MQC_V311 ? 2 : 3;
}

void mqz_iter_init(mqz_iter *it, const uint8_t *s, size_t n) {
  it->base = s;
  it->p = n > 2 ? s + 2 : s + n;
  it->end = s + n;
}

bool mqz_iter_next(mqz_iter *it, mqz_rec *out) {
  while (it->p < it->end) {
    const uint8_t *p = it->p;
    size_t left = (size_t)(it->end - p);
    mqz_op op = (mqz_op)p[0];
    if (op < MQZ_OP_OPEN || op >= MQZ_OP_COUNT || left < 2) {
      it->p++; /* not a record: skip a byte */
      continue;
    }
    memset(out, 0, sizeof *out);
    out->op = op;
    out->client = p[1] % MQZ_MAX_CLIENTS;
    out->offset = (size_t)(p - it->base);
    size_t head = 2 + arg_len(op);
    if (left < head) {
      it->p++;
      continue;
    }
    if (arg_len(op) == 2) out->arg = (uint32_t)p[2] << 8 | p[3];
    if (arg_len(op) == 1) out->arg = p[2];
    if (op == MQZ_OP_REPEAT) out->arg = (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    if (op == MQZ_OP_RAW || op == MQZ_OP_REPEAT) {
      size_t len = op == MQZ_OP_RAW ? out->arg : p[5];
      out->pkt = p + head;
      out->pkt_len = len < left - head ? len : left - head;
      head += out->pkt_len;
    } else if (has_packet(op)) {
      mqc_frame f;
      mqc_error e;
      /* framing as 3.1.1 accepts padded lengths: the packet is judged by the
       * broker, not by us */
      if (mqc_frame_packet(p + head, left - head, MQC_V311, MQC_NO_LIMIT, &f, &e) != MQC_OK) {
        /* a truncated or unframeable packet: send what is there */
        out->pkt = p + head;
        out->pkt_len = left - head;
      } else {
        out->pkt = p + head;
        out->pkt_len = f.total_len;
      }
      head += out->pkt_len;
    }
    out->len = head;
    it->p = p + head;
    return true;
  }
  return false;
}

void mqz_buf_free(mqz_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

void mqz_buf_reset(mqz_buf *b) {
  b->n = 0;
  b->oom = false;
}

void mqz_buf_append(mqz_buf *b, const void *p, size_t n) {
  if (b->oom || !n) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n)
      cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q) {
      b->oom = true;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

void mqz_session_begin(mqz_buf *b, mqc_version v, uint8_t flags) {
  mqz_buf_reset(b);
  uint8_t h[2] = {mqz_selector(v), flags};
  mqz_buf_append(b, h, 2);
}

void mqz_session_add(mqz_buf *b, mqz_op op, unsigned client, const uint8_t *pkt, size_t pkt_len,
                     uint32_t arg) {
  assert(op >= MQZ_OP_OPEN && op < MQZ_OP_COUNT && client < MQZ_MAX_CLIENTS);
  uint8_t h[4] = {(uint8_t)op, (uint8_t)client, 0, 0};
  size_t hn = op == MQZ_OP_REPEAT ? 2 : 2 + arg_len(op); /* REPEAT's arguments: below */
  if (arg_len(op) == 2) {
    if (arg > 0xFFFF) arg = 0xFFFF;
    h[2] = (uint8_t)(arg >> 8);
    h[3] = (uint8_t)arg;
  } else if (arg_len(op) == 1) {
    h[2] = (uint8_t)(arg > 0xFF ? 0xFF : arg);
  }
  mqz_buf_append(b, h, hn);
  if (op == MQZ_OP_RAW) {
    assert(pkt_len <= 0xFF && pkt_len == arg);
    mqz_buf_append(b, pkt, pkt_len);
  }
  if (op == MQZ_OP_REPEAT) {
    assert(pkt_len <= 0xFF && arg <= 0xFFFFFF);
    uint8_t r[4] = {(uint8_t)(arg >> 16), (uint8_t)(arg >> 8), (uint8_t)arg, (uint8_t)pkt_len};
    mqz_buf_append(b, r, 4);
    mqz_buf_append(b, pkt, pkt_len);
  }
  if (has_packet(op)) mqz_buf_append(b, pkt, pkt_len);
}

/* The mutator's view: a record head is [op][client][arg], and SEND/ACK
 * heads are followed by a packet. Junk bytes are one-byte heads. */
static size_t rec_head(const uint8_t *p, size_t n, bool *pkt) {
  mqz_op op = (mqz_op)p[0];
  *pkt = false;
  if (op < MQZ_OP_OPEN || op >= MQZ_OP_COUNT) return 1;
  size_t h = 2 + arg_len(op);
  if (h > n) return n;
  *pkt = has_packet(op);
  return h;
}

/* Inserted packets become a SEND from a random client (mostly the first). */
static size_t rec_make_head(uint64_t rnd, uint8_t *out) {
  out[0] = MQZ_OP_SEND;
  out[1] = (uint8_t)((rnd & 3) == 0 ? (rnd >> 2) % 3 : 0);
  return 2;
}

const mqf_layout *mqz_session_layout(void) {
  static const mqf_layout L = {2, rec_head, rec_make_head, true};
  return &L;
}

void mqz_token_apply(uint8_t *p, size_t n, const char token[MQZ_TOKEN_LEN]) {
  if (n < MQZ_TOKEN_LEN) return;
  for (size_t i = 0; i + MQZ_TOKEN_LEN <= n; i++) {
    if (p[i] != 'Z' || memcmp(p + i, MQZ_TOKEN, MQZ_TOKEN_LEN)) continue;
    memcpy(p + i, token, MQZ_TOKEN_LEN);
    i += MQZ_TOKEN_LEN - 1;
  }
}

void mqz_token_make(uint32_t k, char out[MQZ_TOKEN_LEN + 1]) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  out[0] = 'Z';
  out[1] = 'q';
  for (int i = 5; i >= 2; i--) {
    out[i] = digits[k % 36];
    k /= 36;
  }
  out[MQZ_TOKEN_LEN] = '\0';
}

int mqz_session_to_v31(const uint8_t *s, size_t n, mqz_buf *out) {
  memset(out, 0, sizeof *out);
  if (mqz_session_version(s, n) != MQC_V311) return -1;
  mqz_session_begin(out, MQC_V31, mqz_session_flags(s, n));
  uint8_t pkt[1024];
  mqz_iter it;
  mqz_rec r;
  mqz_iter_init(&it, s, n);
  while (mqz_iter_next(&it, &r)) {
    mqc_packet p;
    mqc_error e;
    size_t len;
    if (r.op == MQZ_OP_SEND && r.pkt_len && (r.pkt[0] >> 4) == MQC_CONNECT &&
        mqc_decode(r.pkt, r.pkt_len, MQC_V311, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p, &e) == MQC_OK) {
      p.connect.protocol_name = mqc_cstr("MQIsdp");
      p.connect.level = 3;
      if (mqc_encode(&p, MQC_V31, pkt, sizeof pkt, &len) == MQC_OK) {
        mqz_session_add(out, MQZ_OP_SEND, r.client, pkt, len, 0);
        continue;
      }
    }
    mqz_buf_append(out, s + r.offset, r.len);
  }
  if (out->oom) {
    mqz_buf_free(out);
    return -1;
  }
  return 0;
}

uint64_t mqz__hash64(const void *p, size_t n) {
  const uint8_t *b = p;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

int mqz__write_file(const char *path, const void *p, size_t n, char *err, size_t cap) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    snprintf(err, cap, "cannot write %s: %s", tmp, strerror(errno));
    return -1;
  }
  bool ok = fwrite(p, 1, n, f) == n;
  ok = fflush(f) == 0 && ok;
  int e = errno;
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path)) {
    snprintf(err, cap, "cannot write %s: %s", path, strerror(e ? e : EIO));
    remove(tmp);
    return -1;
  }
  return 0;
}

size_t mqz__header_len(const uint8_t *p, size_t n) {
  mqc_frame f;
  mqc_error e;
  memset(&f, 0, sizeof f);
  mqc_status st = mqc_frame_packet(p, n, MQC_V311, MQC_NO_LIMIT, &f, &e);
  /* a packet cut short still has its header when the length is complete */
  return st == MQC_OK || st == MQC_INCOMPLETE ? f.header_len : 0;
}

void mqz__patch_ack_id(uint8_t *p, size_t n, uint16_t id) {
  size_t hl = mqz__header_len(p, n);
  if (!id || !hl || hl + 2 > n) return;
  p[hl] = (uint8_t)(id >> 8);
  p[hl + 1] = (uint8_t)id;
}

size_t mqz__after_first_string(const uint8_t *p, size_t n) {
  size_t hl = mqz__header_len(p, n);
  if (!hl || hl + 2 > n) return 0;
  size_t at = hl + 2 + ((size_t)p[hl] << 8 | p[hl + 1]);
  return at <= n ? at : 0;
}
