/*
 * mqspec.h - mqcheck's catalog of the normative statements of MQTT 3.1.1 and
 * 5.0, and the scanners that find which codec vectors and scenarios cite them.
 *
 * The catalog lives in spec/mqtt-3.1.1.tsv and spec/mqtt-5.0.tsv (columns in
 * docs/spec-catalog.md). The build embeds both files in the library, so a
 * binary needs no source tree to list statements; a catalog directory can
 * also be loaded at run time (mqspec_load_dir) while editing the files.
 *
 * MQTT 3.1 has no numbered statements of its own: codec and scenarios cite the
 * 3.1.1 ones for it, so 3.1 references count towards the 3.1.1 catalog.
 *
 * Memory: a loaded catalog owns one copy of its text and an array of rows
 * pointing into it; mqspec_free releases both. Reference lists own their
 * strings; mqspec_refs_free releases them. No global state.
 */
#ifndef MQSPEC_H
#define MQSPEC_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MQSPEC_V311 = 0, MQSPEC_V5 = 1 } mqspec_version;
#define MQSPEC_NVERSIONS 2
/* Bit masks of versions, for references whose version is known or not. */
#define MQSPEC_MASK(v)      (1u << (unsigned)(v))
#define MQSPEC_ALL_VERSIONS (MQSPEC_MASK(MQSPEC_V311) | MQSPEC_MASK(MQSPEC_V5))

typedef enum { MQSPEC_MUST, MQSPEC_MUSTNOT, MQSPEC_MAY, MQSPEC_SHOULD } mqspec_level;
typedef enum { MQSPEC_SERVER, MQSPEC_CLIENT, MQSPEC_BOTH } mqspec_binds;
/* wire and codec columns. */
typedef enum { MQSPEC_NO, MQSPEC_PARTIAL, MQSPEC_YES } mqspec_tri;
/* test column: how the project tests the statement. SERVER and BOTH need a
 * scenario (a broker's side is provoked and judged); CLIENT is judged
 * against clients (serve --strict, client-check); CODEC is a format rule the
 * codec judges on every packet received; NONE cannot be tested. */
typedef enum {
  MQSPEC_TEST_SERVER,
  MQSPEC_TEST_CLIENT,
  MQSPEC_TEST_BOTH,
  MQSPEC_TEST_CODEC,
  MQSPEC_TEST_NONE
} mqspec_test;

typedef struct {
  const char *id;      /* "MQTT-3.1.2-3" */
  const char *section; /* "3.1" */
  const char *summary; /* the project's own one-line wording */
  mqspec_level level;
  mqspec_binds binds;
  mqspec_tri wire;  /* can a black-box tester on the network observe it? */
  mqspec_tri codec; /* does the codec's validation detect violations? */
  mqspec_test test; /* how it is tested */
  const char *why;  /* one line: the reason for test */
  unsigned line;    /* line in the TSV, for messages */
} mqspec_stmt;

typedef struct {
  mqspec_version version;
  mqspec_stmt *stmts; /* in file order */
  size_t n;
  char *text; /* owned; the rows' strings point into it */
} mqspec_catalog;

/* "3.1.1" or "5.0". */
const char *mqspec_version_name(mqspec_version v);
/* Accepts 3.1.1, 311, 4, 3.1, 3 (-> 3.1.1) and 5, 5.0, v5 (-> 5.0).
 * Returns 0, or -1 when s names no version. */
int mqspec_parse_version(const char *s, mqspec_version *out);
const char *mqspec_level_name(mqspec_level l);
const char *mqspec_binds_name(mqspec_binds b);
const char *mqspec_tri_name(mqspec_tri t);
const char *mqspec_test_name(mqspec_test t);
/* True for the tests a scenario must cover (SERVER, BOTH). */
bool mqspec_test_needs_scenario(mqspec_test t);

/* The catalog text embedded at build time (a TSV file, not NUL-terminated). */
const char *mqspec_embedded_tsv(mqspec_version v, size_t *len);
/* The source tree the library was built from (for default paths). */
const char *mqspec_source_dir(void);

/* Parses catalog text (copied; tsv may be freed afterwards) into cat, which is
 * reset on entry. Checks every row: nine tab-separated columns, a well-formed
 * ID, known values in the enumerated columns, a non-empty summary and reason
 * of at most MQSPEC_SUMMARY_MAX bytes, a test consistent with wire and binds
 * (none exactly when wire is no; server and both never for a client-bound
 * statement) and no duplicate IDs. Returns 0, or -1 with a
 * "line N: ..." message in err (cat is then empty). */
#define MQSPEC_SUMMARY_MAX 120
int mqspec_parse(mqspec_catalog *cat, mqspec_version v, const char *tsv, size_t len, char *err,
                 size_t errcap);
/* Parses the embedded catalog of v. */
int mqspec_load_embedded(mqspec_catalog *cat, mqspec_version v, char *err, size_t errcap);
/* Reads dir/mqtt-3.1.1.tsv or dir/mqtt-5.0.tsv. */
int mqspec_load_dir(mqspec_catalog *cat, mqspec_version v, const char *dir, char *err,
                    size_t errcap);
void mqspec_free(mqspec_catalog *cat);

/* Looks an ID up; "MQTT-" may be omitted and surrounding [ ] are ignored.
 * Returns NULL when absent. */
const mqspec_stmt *mqspec_find(const mqspec_catalog *cat, const char *id);
/* Index of the row in cat->stmts, or -1. */
long mqspec_index(const mqspec_catalog *cat, const char *id);

/* True when s[0..n) has the shape MQTT-<digits>(.<digits>)*-<digits>. */
bool mqspec_id_shaped(const char *s, size_t n);

/* ------------------------------------------------------------------------ */
/* References: where codec vectors and scenarios cite statements             */
/* ------------------------------------------------------------------------ */

typedef enum { MQSPEC_REF_VECTOR, MQSPEC_REF_SCENARIO } mqspec_ref_kind;

typedef struct {
  mqspec_ref_kind kind;
  unsigned versions; /* MQSPEC_MASK bits of the catalogs it applies to */
  char id[40];
  char *file; /* owned: the path as scanned */
  unsigned line;
} mqspec_ref;

typedef struct {
  mqspec_ref *v;
  size_t n, cap;
  unsigned files; /* files scanned so far */
} mqspec_refs;

/* Scans every *.vec file of dir (not pending-*.vec, whose vectors are not yet
 * expected to pass) for rejection vectors naming a statement, i.e. lines
 * "<version> <dir> <hex> err MQTT-x.y.z-n ...". Version "5" counts for 5.0,
 * "3.1.1" and "3.1" for 3.1.1, "auto" for both. Returns the number of files
 * read, or -1 (message in err) when dir cannot be opened. */
int mqspec_scan_vectors(mqspec_refs *refs, const char *dir, char *err, size_t errcap);

/* Scans the scenario YAML files (*.yaml, *.yml) under dir, recursively, for
 * IDs listed under a `rules:` key (docs/scenarios.md): a list for every
 * version the scenario runs in (`rules: [MQTT-1, MQTT-2]`, flow or block,
 * possibly over several lines), or a mapping from version to list
 * (`rules: {3.1.1: [MQTT-1], 5.0: [MQTT-2]}`, flow or block). A list's
 * versions come from the document's top-level `versions:` (or `version:`,
 * `protocol:`, `protocol_version:`) key, else from a directory on the path
 * below dir named like v5, 5.0, mqtt5, v311, 3.1.1 or mqtt311, else both.
 * Returns the number of files read, or -1 (message in err) when dir cannot
 * be opened. */
int mqspec_scan_scenarios(mqspec_refs *refs, const char *dir, char *err, size_t errcap);

/* Scans one scenario file (as above); path is recorded as given. */
int mqspec_scan_scenario_file(mqspec_refs *refs, const char *path, char *err, size_t errcap);
/* Scans one YAML text (the scanner itself; path only labels the refs and
 * gives the directory version hint). Returns 0, or -1 on allocation failure. */
int mqspec_scan_scenario_text(mqspec_refs *refs, const char *path, const char *text, size_t len);

void mqspec_refs_free(mqspec_refs *refs);

#ifdef __cplusplus
}
#endif

#endif
