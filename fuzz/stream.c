/* stream.c - fuzz target: the framer and decoder as a receiver uses them,
 * with the byte stream arriving in chunks.
 *
 * Input: selector byte (fuzz.h), a chunking seed byte, then the stream. The
 * stream is first framed in one piece (the reference), then fed in chunks
 * whose sizes come from a PRNG seeded by the seed byte and the input length,
 * through a bounded receive buffer, as a connection would. Oracles:
 *   - chunked and one-piece processing find the same packets and stop at the
 *     same place with the same status;
 *   - MQC_INCOMPLETE's `needed` is honest: fewer bytes than that never
 *     complete the frame, and the frame says incomplete while short;
 *   - decode says INCOMPLETE exactly when the framer does;
 *   - after CONNECT under AUTO, the session's version is the CONNECT's. */
#include <string.h>

#include "fuzz.h"

#define MAX_PACKETS 256
#define RXBUF       4096 /* a connection's receive buffer: bigger packets are refused */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("stream");
}

typedef struct {
  size_t ends[MAX_PACKETS]; /* stream offset after each packet */
  size_t count;
  mqc_status last; /* status that stopped the walk (MQC_INCOMPLETE at the end) */
  size_t stop;     /* stream offset where it stopped */
} result;

/* Frames and decodes one packet at buf; updates the session version. */
static mqc_status one(const uint8_t *buf, size_t len, mqc_version *v, mqc_dir dir, uint32_t max,
                      size_t *used) {
  mqc_frame fr;
  mqc_error err;
  mqc_packet pkt;
  mqc_status fs = mqc_frame_packet(buf, len, *v, max, &fr, &err);
  mqc_status ds = mqc_decode(buf, len, *v, dir, max, &pkt, &err);
  MQF_CHECK((fs == MQC_INCOMPLETE) == (ds == MQC_INCOMPLETE), "framer says %s, decoder says %s",
            mqc_strerror(fs), mqc_strerror(ds));
  if (fs == MQC_INCOMPLETE) {
    MQF_CHECK(fr.needed > 0, "INCOMPLETE with needed == 0");
    return fs;
  }
  if (fs != MQC_OK) return fs;
  if (ds != MQC_OK) return ds;
  MQF_CHECK((size_t)pkt.header_len + pkt.remaining_length == fr.total_len, "decode/frame length");
  if (*v == MQC_VERSION_AUTO) *v = (mqc_version)pkt.connect.level;
  *used = fr.total_len;
  return MQC_OK;
}

static void whole(const uint8_t *s, size_t n, mqc_version v, mqc_dir dir, uint32_t max, result *r) {
  size_t pos = 0, used = 0;
  r->count = 0;
  for (;;) {
    /* The receiver only ever looks at RXBUF bytes at a time. */
    size_t win = n - pos < RXBUF ? n - pos : RXBUF;
    mqc_status st = one(s + pos, win, &v, dir, max, &used);
    if (st != MQC_OK || r->count == MAX_PACKETS) {
      r->last = st == MQC_OK ? MQC_INCOMPLETE : st;
      r->stop = pos;
      return;
    }
    pos += used;
    r->ends[r->count++] = pos;
  }
}

static uint32_t xorshift(uint32_t *x) {
  *x ^= *x << 13, *x ^= *x >> 17, *x ^= *x << 5;
  return *x;
}

static void chunked(const uint8_t *s, size_t n, uint8_t seed, mqc_version v, mqc_dir dir,
                    uint32_t max, result *r) {
  static uint8_t rx[RXBUF];
  size_t have = 0, fed = 0, consumed = 0, used = 0, needed = 0;
  uint32_t x = 0x9E3779B9u ^ seed ^ (uint32_t)n << 8;
  r->count = 0;
  while (fed < n || have) {
    /* Chunk sizes: mostly small (header splits), sometimes large. */
    size_t c = (xorshift(&x) & 3) ? 1 + xorshift(&x) % 7 : 1 + xorshift(&x) % 512;
    if (c > n - fed) c = n - fed;
    if (c > RXBUF - have) c = RXBUF - have;
    memcpy(rx + have, s + fed, c);
    have += c, fed += c;
    size_t arrived = c;
    for (;;) {
      mqc_status st = one(rx, have, &v, dir, max, &used);
      if (st == MQC_INCOMPLETE) {
        mqc_frame fr;
        mqc_error err;
        (void)mqc_frame_packet(rx, have, v, max, &fr, &err);
        needed = fr.needed;
        if (have == RXBUF || fed == n) { /* cannot grow: the stream stops here */
          r->last = MQC_INCOMPLETE;
          r->stop = consumed;
          return;
        }
        break;
      }
      if (needed) { /* the earlier promise: fewer than `needed` new bytes cannot finish */
        MQF_CHECK(arrived >= needed, "frame completed after %zu bytes, %zu were needed", arrived,
                  needed);
        needed = 0;
      }
      if (st != MQC_OK || r->count == MAX_PACKETS) {
        r->last = st == MQC_OK ? MQC_INCOMPLETE : st;
        r->stop = consumed;
        return;
      }
      consumed += used;
      r->ends[r->count++] = consumed;
      memmove(rx, rx + used, have - used);
      have -= used;
      arrived = 0;
    }
  }
  r->last = MQC_INCOMPLETE;
  r->stop = consumed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  uint8_t sel = data[0];
  mqc_version v = mqf_sel_version(sel);
  mqc_dir dir = mqf_sel_dir(sel);
  uint32_t max = mqf_sel_max(sel);
  static result a, b;
  whole(data + 2, size - 2, v, dir, max, &a);
  chunked(data + 2, size - 2, data[1], v, dir, max, &b);
  MQF_CHECK(a.count == b.count, "one piece found %zu packets, chunked %zu", a.count, b.count);
  for (size_t i = 0; i < a.count; i++)
    MQF_CHECK(a.ends[i] == b.ends[i], "packet %zu ends at %zu vs %zu", i, a.ends[i], b.ends[i]);
  MQF_CHECK(a.last == b.last && a.stop == b.stop, "stopped with %s at %zu vs %s at %zu",
            mqc_strerror(a.last), a.stop, mqc_strerror(b.last), b.stop);
  return 0;
}
