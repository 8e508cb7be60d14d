/* layouts.c - how each in-tree target lays out its input, for the mutator.
 * Kept apart from the targets so the AFL++ mutator library can offer the same
 * layouts without linking any target. */
#include <string.h>

#include "engine_ops.h"
#include "mutator.h"

static size_t engine_head(const uint8_t *p, size_t n, bool *has_packet) {
  (void)n;
  *has_packet = mqf_engine_op_has_packet(p[0]);
  return mqf_engine_op_head_len(p[0]) <= n ? mqf_engine_op_head_len(p[0]) : n;
}

/* Inserted packets get a FEED op towards a random connection. */
static size_t engine_make_head(uint64_t rnd, uint8_t *out) {
  out[0] = (uint8_t)(MQF_OP_FEED | (rnd & 0x3F));
  return 1;
}

static const mqf_layout BARE = {0, NULL, NULL, false};
static const mqf_layout ONE_BYTE = {1, NULL, NULL, true};  /* decode, roundtrip, mutate */
static const mqf_layout TWO_BYTES = {2, NULL, NULL, true}; /* stream */
static const mqf_layout ENGINE = {MQF_ENGINE_PREFIX, engine_head, engine_make_head, false};

const mqf_layout *mqf_layout_by_name(const char *name) {
  if (!name || !strcmp(name, "packets")) return &BARE;
  if (!strcmp(name, "decode") || !strcmp(name, "roundtrip") || !strcmp(name, "mutate"))
    return &ONE_BYTE;
  if (!strcmp(name, "stream")) return &TWO_BYTES;
  if (!strcmp(name, "engine")) return &ENGINE;
  return NULL;
}
