/* mutate.c - fuzz target for the mutator itself: it runs inside every
 * structured fuzzing session, so a crash or an out-of-bounds write there
 * would poison results.
 *
 * Input: a layout selector byte, a max-size byte, 4 seed bytes, then data
 * whose second half also serves as the splice source. Buffers are allocated
 * at their exact sizes so ASan sees any overrun. Oracles: the result fits
 * max_size and is non-empty, and the same seed gives the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("mutate");
}

static size_t run(const mqf_layout *l, const uint8_t *in, size_t n, size_t max, const uint8_t *o,
                  size_t on, uint64_t seed, bool cross, uint8_t **out) {
  mqf_mutator m = {malloc(MQF_SCRATCH_FOR(max)), MQF_SCRATCH_FOR(max), NULL, NULL};
  uint8_t *buf = malloc(max ? max : 1);
  MQF_CHECK(m.scratch && buf, "out of memory");
  size_t k = n < max ? n : max;
  memcpy(buf, in, k);
  size_t r = cross ? mqf_crossover(&m, l, buf, k, max, o, on, seed)
                   : mqf_mutate(&m, l, buf, k, max, o, on, seed);
  free(m.scratch);
  *out = buf;
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const names[] = {"decode", "stream", "engine", "packets"};
  if (size < 6) return 0;
  const mqf_layout *l = mqf_layout_by_name(names[data[0] & 3]);
  bool cross = data[0] & 4;
  size_t max = (size_t)data[1] * 4 + (data[0] >> 4);
  uint64_t seed = (uint64_t)data[2] << 24 | (uint64_t)data[3] << 16 | data[4] << 8 | data[5];
  const uint8_t *in = data + 6;
  size_t n = size - 6;
  const uint8_t *o = in + n / 2;
  size_t on = n - n / 2;
  uint8_t *a, *b;
  size_t na = run(l, in, n, max, o, on, seed, cross, &a);
  size_t nb = run(l, in, n, max, o, on, seed, cross, &b);
  MQF_CHECK(na <= max && (na > 0 || max == 0), "mutated to %zu bytes, max %zu", na, max);
  MQF_CHECK(na == nb && !memcmp(a, b, na), "the same seed gave different results");
  free(a);
  free(b);
  return 0;
}
