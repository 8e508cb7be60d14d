/* alloc.c - allocation through the injectable allocator, and the PRNG. */
#include <stdlib.h>

#include "internal.h"

void *mqe__alloc(mqe_engine *e, size_t n) {
  assert(n > 0);
  void *p = e->cfg.alloc.malloc(e->cfg.alloc.ctx, n);
  if (!p) {
    e->st.alloc_failures++;
    return NULL;
  }
  e->st.bytes_allocated += n;
  if (e->st.bytes_allocated > e->st.bytes_peak) e->st.bytes_peak = e->st.bytes_allocated;
  e->st.allocations++;
  return p;
}

void *mqe__zalloc(mqe_engine *e, size_t n) {
  void *p = mqe__alloc(e, n);
  if (p) memset(p, 0, n);
  return p;
}

void mqe__free(mqe_engine *e, void *p, size_t n) {
  if (!p) return;
  assert(e->st.bytes_allocated >= n && e->st.allocations > 0);
  e->st.bytes_allocated -= n;
  e->st.allocations--;
  e->cfg.alloc.free(e->cfg.alloc.ctx, p, n);
}

/* splitmix64: small, seeded, deterministic. */
uint64_t mqe__rand(mqe_engine *e) {
  uint64_t z = (e->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
