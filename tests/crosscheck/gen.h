/* gen.h - random valid MQTT packets for the mqtt-packet cross-check.
 *
 * The generator builds packets through the public codec API only (mqc.h), so
 * what it produces is what any codec user would produce. Everything it
 * generates must be a packet the specification allows for the given version
 * and direction: the cross-check compares two implementations on valid input,
 * it does not probe error handling (the fuzz targets do that). */
#ifndef MQC_CROSSCHECK_GEN_H
#define MQC_CROSSCHECK_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "mqc.h"

/* splitmix64: tiny, seedable, and identical on every platform, so a seed
 * printed in a failure message reproduces the same packet anywhere. */
typedef struct {
  uint64_t s;
} gen_rng;

uint64_t gen_next(gen_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t gen_below(gen_rng *r, uint32_t n);
/* True with probability num/den. */
int gen_chance(gen_rng *r, uint32_t num, uint32_t den);

/* Bump allocator for the strings, property blocks and lists a packet's views
 * point into. Reset before each packet. */
typedef struct {
  uint8_t *buf;
  size_t cap, used;
} gen_arena;

/* Builds one random valid packet of type t for version v sent from dir.
 * Views in *out point into arena. Returns 0, or -1 if the arena ran out. */
int gen_packet(gen_rng *r, gen_arena *a, mqc_type t, mqc_version v, mqc_dir dir, mqc_packet *out);

/* Picks a type that version v allows, and a direction that may send it. */
mqc_type gen_pick_type(gen_rng *r, mqc_version v);
mqc_dir gen_pick_dir(gen_rng *r, mqc_type t, mqc_version v);

#endif
