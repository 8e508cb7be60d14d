/* mutator_afl.c - the structure-aware mutator as an AFL++ custom mutator
 * library (AFL_CUSTOM_MUTATOR_LIBRARY=libmqf_afl_mutator.so).
 *
 * Environment:
 *   MQF_LAYOUT  the input layout: packets (default: bare MQTT packets),
 *               decode, roundtrip, stream, engine (this project's targets), or
 *               packets:N for N opaque leading bytes before the packets.
 * AFL++ passes a seed at init; each call derives its own from it and a
 * counter, so a run is reproducible given AFL's seed (-s). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

typedef struct {
  mqf_mutator m;
  mqf_layout layout;
  uint8_t *out;
  size_t out_cap;
  uint64_t seed, calls;
} afl_state;

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed) {
  (void)afl; /* opaque: we need nothing from AFL's state */
  afl_state *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  const char *name = getenv("MQF_LAYOUT");
  const mqf_layout *l = NULL;
  if (name && !strncmp(name, "packets:", 8)) {
    s->layout = mqf_layout_packets((size_t)strtoul(name + 8, NULL, 10));
  } else if ((l = mqf_layout_by_name(name))) {
    s->layout = *l;
  } else {
    s->layout = mqf_layout_packets(0);
  }
  s->seed = seed;
  return s;
}

/* Grows both buffers to serve max_size; false on allocation failure. */
static bool reserve(afl_state *s, size_t max_size) {
  if (s->out_cap >= max_size && s->m.scratch_cap >= MQF_SCRATCH_FOR(max_size)) return true;
  uint8_t *out = realloc(s->out, max_size);
  if (!out) return false;
  s->out = out;
  s->out_cap = max_size;
  uint8_t *scr = realloc(s->m.scratch, MQF_SCRATCH_FOR(max_size));
  if (!scr) return false;
  s->m.scratch = scr;
  s->m.scratch_cap = MQF_SCRATCH_FOR(max_size);
  return true;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size) {
  afl_state *s = data;
  if (max_size == 0 || !reserve(s, max_size)) {
    *out_buf = buf; /* leave the input unchanged rather than fail the run */
    return buf_size;
  }
  size_t n = buf_size < max_size ? buf_size : max_size;
  memcpy(s->out, buf, n);
  uint64_t seed = s->seed * 0x100000001B3ull ^ ++s->calls;
  if (add_buf && add_buf_size && (seed & 7) == 0)
    n = mqf_crossover(&s->m, &s->layout, s->out, n, max_size, add_buf, add_buf_size, seed);
  else
    n = mqf_mutate(&s->m, &s->layout, s->out, n, max_size, add_buf, add_buf_size, seed);
  *out_buf = s->out;
  return n;
}

void afl_custom_deinit(void *data) {
  afl_state *s = data;
  if (!s) return;
  free(s->m.scratch);
  free(s->out);
  free(s);
}
