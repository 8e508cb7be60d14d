/* mutator.h - a structure-aware mutator for MQTT inputs.
 *
 * It parses an input as an optional opaque prefix followed by records, each an
 * optional record head (the engine target's op byte, say) and one MQTT packet,
 * and mutates at packet level (drop, duplicate, swap, splice from another
 * input, insert a template packet), at field level (fixed-header flags and
 * type, remaining length kept consistent or made inconsistent, strings,
 * packet identifiers, properties inserted/duplicated/dropped, property-length
 * lies, truncation, trailing bytes) and falls back to byte mutation.
 *
 * Determinism: the output depends only on the input bytes, the other input,
 * max_size and seed (and on the fallback, which the caller supplies).
 * Safety: every read and write is bounded by size/max_size and by the scratch
 * the caller provides; no allocation, no globals, no recursion. The mutator
 * is itself fuzzed by the `mutate` target.
 *
 * Linked as LLVMFuzzerCustomMutator by mutator_libfuzzer.c and as an AFL++
 * custom mutator library by mutator_afl.c. */
#ifndef MQF_MUTATOR_H
#define MQF_MUTATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a target's input is laid out. */
typedef struct {
  size_t prefix; /* opaque leading bytes (selector, config), byte-mutated only */
  /* Length of the record head at p (n > 0 bytes left), and whether an MQTT
   * packet follows it. NULL: every record is a bare packet. The returned
   * length must be <= n. */
  size_t (*record_head)(const uint8_t *p, size_t n, bool *has_packet);
  /* A record head to put before an inserted packet (writes <= 8 bytes into
   * out, returns the count). NULL: none. */
  size_t (*make_head)(uint64_t rnd, uint8_t *out);
  /* The first prefix byte is a selector (fuzz.h: version in bits 0-1,
   * direction in bit 2): fields are then located in that version first. */
  bool selector;
} mqf_layout;

/* Byte-level fallback: mutates data[0..size) in place, returns the new size
 * (<= max). */
typedef size_t (*mqf_byte_mutator)(void *ctx, uint8_t *data, size_t size, size_t max);

typedef struct {
  uint8_t *scratch; /* caller-owned working memory */
  size_t scratch_cap;
  mqf_byte_mutator fallback; /* NULL: the built-in byte mutator */
  void *fallback_ctx;
} mqf_mutator;

/* Scratch needed to mutate inputs up to max_size bytes. */
#define MQF_SCRATCH_FOR(max_size) (3 * (size_t)(max_size) + 4096)

/* Mutates data[0..size) in place (data has room for max_size bytes) and
 * returns the new size, 1..max_size (0 only when max_size is 0). other may be
 * NULL; it is the splice source. */
size_t mqf_mutate(const mqf_mutator *m, const mqf_layout *layout, uint8_t *data, size_t size,
                  size_t max_size, const uint8_t *other, size_t other_size, uint64_t seed);

/* Like mqf_mutate, but always splices a record of other into data (inserted
 * or replacing one); for LLVMFuzzerCustomCrossOver and AFL++ splicing. */
size_t mqf_crossover(const mqf_mutator *m, const mqf_layout *layout, uint8_t *data, size_t size,
                     size_t max_size, const uint8_t *other, size_t other_size, uint64_t seed);

/* The built-in byte mutator: bit flips, interesting values, byte insertions
 * and deletions, block copies; seed makes it deterministic. */
size_t mqf_byte_mutate(uint8_t *data, size_t size, size_t max_size, uint64_t seed);

/* Layout for bare packet streams: prefix bytes, then packets. */
mqf_layout mqf_layout_packets(size_t prefix);

/* The layouts of the in-tree targets (layouts.c), by target name: "decode",
 * "stream", "roundtrip", "engine", "mutate"; "packets" or NULL for bare
 * packets. NULL for an unknown name. */
const mqf_layout *mqf_layout_by_name(const char *name);

#endif
