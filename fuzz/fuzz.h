/* fuzz.h - shared by the in-process fuzz targets in fuzz/.
 *
 * Every target exports the libFuzzer entry point and a description of its
 * input layout for the structure-aware mutator (mutator.h). The same source
 * builds for libFuzzer, for AFL++ (afl_driver.c) and for the plain replay
 * driver (replay.c), so nothing here may depend on a fuzzing engine. */
#ifndef MQF_FUZZ_H
#define MQF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mqc.h"
#include "mutator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional one-time setup; every target defines it (possibly empty) so the
 * drivers need not guess. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input layout of this target, used by the custom mutator. */
const mqf_layout *mqf_target_layout(void);

/* A failed oracle check. abort() so every engine (libFuzzer, AFL++, the replay
 * driver under ctest) records it as a crash with a stack. */
#define MQF_CHECK(cond, ...)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "mqcheck fuzz oracle failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);   \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* The selector byte that starts the decode, stream and roundtrip inputs:
 *   bits 0-1  version: 0 AUTO (first packet must be CONNECT), 1 3.1, 2 3.1.1, 3 5.0
 *   bit  2    direction: 0 client-to-server, 1 server-to-client
 *   bit  3    enforce a small maximum packet size (MQF_SMALL_MAX)
 *   bits 4-7  target-specific */
#define MQF_SMALL_MAX 64u

static inline mqc_version mqf_sel_version(uint8_t sel) {
  static const mqc_version v[4] = {MQC_VERSION_AUTO, MQC_V31, MQC_V311, MQC_V5};
  return v[sel & 3u];
}
static inline mqc_dir mqf_sel_dir(uint8_t sel) {
  return (sel & 4u) ? MQC_FROM_SERVER : MQC_FROM_CLIENT;
}
static inline uint32_t mqf_sel_max(uint8_t sel) {
  return (sel & 8u) ? MQF_SMALL_MAX : MQC_NO_LIMIT;
}

/* A cursor that hands out input bytes and returns zeros once exhausted, so
 * targets never branch on "enough input left" everywhere. */
typedef struct {
  const uint8_t *p, *end;
} mqf_in;

static inline uint8_t mqf_u8(mqf_in *in) {
  return in->p < in->end ? *in->p++ : 0;
}
static inline uint16_t mqf_u16(mqf_in *in) {
  uint16_t hi = mqf_u8(in);
  return (uint16_t)(hi << 8 | mqf_u8(in));
}
static inline size_t mqf_left(const mqf_in *in) {
  return (size_t)(in->end - in->p);
}
/* Takes up to n bytes as a view. */
static inline mqc_bytes mqf_take(mqf_in *in, size_t n) {
  size_t left = mqf_left(in);
  mqc_bytes b = {in->p, n < left ? n : left};
  in->p += b.n;
  return b;
}

#endif
