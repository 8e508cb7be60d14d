/*
 * test_codec_vec.h - loader and checker for the codec's table-driven test
 * vectors (tests/vectors/NAME.vec; the line format is documented in
 * docs/vectors.md). Shared by test_codec and test_codec_noalloc.
 */
#ifndef TEST_CODEC_VEC_H
#define TEST_CODEC_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqc.h"

typedef struct {
  char *key;
  char *val; /* still %-escaped */
} vec_field;

typedef struct {
  const char *file; /* base name, owned by the set */
  unsigned line;
  bool pending; /* from a pending-*.vec file: reported, never fatal */
  mqc_version version;
  mqc_dir dir;
  uint8_t *bytes;
  size_t len;
  bool ok;       /* "ok" (decodes) or "err" (rejected) */
  bool noncanon; /* valid but not what the encoder produces */
  vec_field *fields;
  size_t nfields;
  char *statement; /* err: expected statement, NULL for "-" */
  uint8_t reason;  /* err: expected reason code */
  bool has_offset;
  size_t offset;
} vec;

typedef struct {
  vec *v;
  size_t n, cap;
  char **files;
  size_t nfiles;
  unsigned parse_errors;
} vec_set;

/* Loads every *.vec file of dir (sorted by name). Parse errors are printed to
 * stderr and counted in set->parse_errors. Returns false if dir can't be read. */
bool vec_load_dir(vec_set *set, const char *dir);
/* Loads $MQC_SOURCE_DIR/tests/vectors (or ./tests/vectors). */
bool vec_load_default(vec_set *set);
void vec_free(vec_set *set);

/* Decodes v and compares with its expectation. On mismatch returns false and
 * writes one line (no newline) to msg. */
bool vec_check(const vec *v, char *msg, size_t cap);

/* Checks expected fields and structural invariants of a decoded packet. */
bool vec_check_fields(const vec *v, const mqc_packet *p, char *msg, size_t cap);

/* Version to encode a decoded packet with (AUTO: the CONNECT's level). */
mqc_version vec_encode_version(const vec *v, const mqc_packet *p);

/* "file:line" for messages; returns a static buffer. */
const char *vec_where(const vec *v);

/* Decodes an escaped value (%XX) into out; returns the length or -1. */
long vec_unescape(const char *s, uint8_t *out, size_t cap);

#endif
