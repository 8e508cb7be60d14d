/* mutator_libfuzzer.c - plugs the structure-aware mutator into libFuzzer as
 * LLVMFuzzerCustomMutator/LLVMFuzzerCustomCrossOver. Linked only into the
 * *_structured binaries, so the same target can be measured with and without
 * it. The byte-level fallback is libFuzzer's own LLVMFuzzerMutate, which keeps
 * its dictionary and compare-tracing mutations. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed);

static size_t libfuzzer_bytes(void *ctx, uint8_t *data, size_t size, size_t max) {
  (void)ctx;
  return LLVMFuzzerMutate(data, size, max);
}

/* Scratch grows with -max_len; the process is single-threaded per worker. */
static mqf_mutator *mutator_for(size_t max_size) {
  static mqf_mutator m;
  static uint8_t *scratch;
  size_t want = MQF_SCRATCH_FOR(max_size);
  if (m.scratch_cap < want) {
    uint8_t *p = realloc(scratch, want);
    if (!p) return NULL;
    scratch = p;
    m.scratch = p;
    m.scratch_cap = want;
    m.fallback = libfuzzer_bytes;
  }
  return &m;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  mqf_mutator *m = mutator_for(max_size);
  if (!m) return LLVMFuzzerMutate(data, size, max_size);
  return mqf_mutate(m, mqf_target_layout(), data, size, max_size, NULL, 0, seed);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed) {
  mqf_mutator *m = mutator_for(max_out_size);
  size_t n = size1 < max_out_size ? size1 : max_out_size;
  memcpy(out, data1, n);
  if (!m) return n;
  return mqf_crossover(m, mqf_target_layout(), out, n, max_out_size, data2, size2, seed);
}
