/* mutator_int.h - shared between the mutator's files; not public API. */
#ifndef MQF_MUTATOR_INT_H
#define MQF_MUTATOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqc.h"

/* Deterministic randomness: splitmix64, tiny, full period, seedable. */
typedef struct {
  uint64_t s;
} mqf__rng;

static inline uint64_t mqf__rnd(mqf__rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform-enough in [0, n); n == 0 gives 0. */
static inline size_t mqf__below(mqf__rng *r, size_t n) {
  return n ? (size_t)(mqf__rnd(r) % n) : 0;
}

static inline bool mqf__chance(mqf__rng *r, unsigned one_in) {
  return mqf__below(r, one_in) == 0;
}

/* One packet being edited, in caller-owned memory. */
typedef struct {
  uint8_t *b;
  size_t len, cap;
} mqf__pbuf;

/* The version and direction to decode a packet in (v == 0: no preference). */
typedef struct {
  mqc_version v;
  mqc_dir d;
} mqf__try_as;

/* One field-level edit of the packet in k (mutator_fields.c): fields are
 * located by decoding, tried first as hint. Lengths are usually repaired. */
void mqf__edit_packet(mqf__rng *r, mqf__pbuf *k, mqf__try_as hint);

#endif
