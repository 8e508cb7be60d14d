/* test_spec - the statement catalog (spec/mqtt-*.tsv) and its scanners.
 *
 * The catalog must hold every ID of the upstream lists exactly once, with the
 * same section; its columns must parse; every statement the codec cites must
 * be one the catalog says the codec checks; vectors must cite known IDs; and
 * the scenario scanner must find `rules:` IDs in the YAML shapes it claims. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <dirent.h>

#include "mqspec.h"

static const size_t EXPECTED[MQSPEC_NVERSIONS] = {141, 251};

static const char *source_dir(void) {
  const char *s = getenv("MQC_SOURCE_DIR");
  return s && *s ? s : ".";
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = '\0';
  if (len) *len = got;
  return buf;
}

static void load(mqspec_catalog cats[MQSPEC_NVERSIONS]) {
  char err[256];
  for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
    int rc = mqspec_load_embedded(&cats[v], (mqspec_version)v, err, sizeof err);
    if (rc) fail_msg("embedded catalog %d: %s", v, err);
  }
}

static void unload(mqspec_catalog cats[MQSPEC_NVERSIONS]) {
  for (int v = 0; v < MQSPEC_NVERSIONS; v++)
    mqspec_free(&cats[v]);
}

/* ------------------------------------------------------------------------ */
/* Upstream ID lists: "id<TAB>section[<TAB>...]" rows after '#' comments and */
/* a header row.                                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
  char id[40], section[16];
  char level[16], party[16]; /* 5.0 only */
} upstream_row;

static size_t read_upstream(const char *path, upstream_row *rows, size_t cap) {
  char *text = slurp(path, NULL);
  if (!text) fail_msg("cannot read %s", path);
  size_t n = 0;
  bool header = false;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#' || line[0] == '\0') continue;
    if (!header) {
      header = true;
      continue;
    }
    assert_true(n < cap);
    upstream_row *r = &rows[n++];
    memset(r, 0, sizeof *r);
    char *f[4] = {0};
    size_t nf = 0;
    for (char *p = line; nf < 4;) {
      f[nf++] = p;
      char *tab = strchr(p, '\t');
      if (!tab) break;
      *tab = '\0';
      p = tab + 1;
    }
    assert_true(nf >= 2);
    snprintf(r->id, sizeof r->id, "%s", f[0]);
    snprintf(r->section, sizeof r->section, "%s", f[1]);
    if (nf >= 4) {
      snprintf(r->level, sizeof r->level, "%s", f[2]);
      snprintf(r->party, sizeof r->party, "%s", f[3]);
    }
  }
  free(text);
  return n;
}

static void check_against(const mqspec_catalog *cat, const char *path) {
  static upstream_row rows[512];
  size_t n = read_upstream(path, rows, 512);
  assert_int_equal(n, EXPECTED[cat->version]);
  assert_int_equal(cat->n, n);
  /* Same set (sizes equal, every upstream ID found, no upstream duplicates)
   * and same sections. */
  for (size_t i = 0; i < n; i++) {
    const mqspec_stmt *s = mqspec_find(cat, rows[i].id);
    if (!s)
      fail_msg("%s: %s is missing from the %s catalog", path, rows[i].id,
               mqspec_version_name(cat->version));
    if (strcmp(s->section, rows[i].section) != 0)
      fail_msg("%s: section %s in the catalog, %s upstream", s->id, s->section, rows[i].section);
    for (size_t j = 0; j < i; j++)
      if (!strcmp(rows[i].id, rows[j].id)) fail_msg("%s: %s listed twice", path, rows[i].id);
  }
}

static void catalog_matches_upstream(void **state) {
  (void)state;
  mqspec_catalog cats[MQSPEC_NVERSIONS];
  load(cats);
  char path[4096];
  for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
    assert_int_equal(cats[v].n, EXPECTED[v]);
    /* The copy kept in the repository... */
    snprintf(path, sizeof path, "%s/spec/upstream/mqtt-%s-statements.tsv", source_dir(),
             mqspec_version_name((mqspec_version)v));
    check_against(&cats[v], path);
    /* ...and the shared original when this checkout sits next to it. */
    const char *shared = getenv("MQC_SHARED_SPEC_DIR");
    if (shared && *shared) {
      snprintf(path, sizeof path, "%s/mqtt-%s-statements.tsv", shared,
               mqspec_version_name((mqspec_version)v));
      struct stat sb;
      if (stat(path, &sb) == 0) check_against(&cats[v], path);
    }
  }
  unload(cats);
}

/* The source files and the embedded copy agree (the build is not stale), and
 * loading from a directory works. */
static void catalog_dir_equals_embedded(void **state) {
  (void)state;
  char dir[4096], err[256];
  snprintf(dir, sizeof dir, "%s/spec", source_dir());
  for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
    mqspec_catalog a, b;
    assert_int_equal(mqspec_load_embedded(&a, (mqspec_version)v, err, sizeof err), 0);
    if (mqspec_load_dir(&b, (mqspec_version)v, dir, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
      assert_string_equal(a.stmts[i].id, b.stmts[i].id);
      assert_string_equal(a.stmts[i].summary, b.stmts[i].summary);
      assert_int_equal(a.stmts[i].codec, b.stmts[i].codec);
    }
    mqspec_free(&a);
    mqspec_free(&b);
  }
}

/* Column sanity beyond what the parser enforces. */
static void catalog_columns_consistent(void **state) {
  (void)state;
  mqspec_catalog cats[MQSPEC_NVERSIONS];
  load(cats);
  for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
    size_t by_binds[3] = {0}, wire[3] = {0}, codec[3] = {0};
    for (size_t i = 0; i < cats[v].n; i++) {
      const mqspec_stmt *s = &cats[v].stmts[i];
      by_binds[s->binds]++;
      wire[s->wire]++;
      codec[s->codec]++;
      /* What the codec checks is on the wire by definition. */
      if (s->codec != MQSPEC_NO && s->wire == MQSPEC_NO)
        fail_msg("%s: codec %s but wire no", s->id, mqspec_tri_name(s->codec));
      /* Summaries are single sentences of the project's own words: no
       * verbatim spec keywords in capitals, no tabs. */
      if (strstr(s->summary, "MUST") || strstr(s->summary, "SHALL") || strstr(s->why, "MUST") ||
          strstr(s->why, "SHALL"))
        fail_msg("%s: summary or why shouts the spec's keywords", s->id);
    }
    /* Every party and every answer occurs; nothing degenerate. */
    for (int k = 0; k < 3; k++) {
      assert_true(by_binds[k] > 0);
      assert_true(wire[k] > 0);
      assert_true(codec[k] > 0);
    }
    print_message("MQTT %s: %zu statements; binds server %zu client %zu both %zu; "
                  "wire yes %zu partial %zu no %zu; codec yes %zu partial %zu no %zu\n",
                  mqspec_version_name((mqspec_version)v), cats[v].n, by_binds[0], by_binds[1],
                  by_binds[2], wire[2], wire[1], wire[0], codec[2], codec[1], codec[0]);
  }
  unload(cats);
}

/* Every statement ID in a string literal of the codec's C files is in a catalog that
 * says the codec checks it (codec yes or partial). */
static void codec_citations_agree(void **state) {
  (void)state;
  mqspec_catalog cats[MQSPEC_NVERSIONS];
  load(cats);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/codec", source_dir());
  DIR *d = opendir(dir);
  if (!d) fail_msg("cannot open %s", dir);
  struct dirent *e;
  size_t cited = 0;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0) continue;
    char path[4096 + 256];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    char *text = slurp(path, NULL);
    assert_non_null(text);
    for (char *p = strstr(text, "\"MQTT-"); p; p = strstr(p + 1, "\"MQTT-")) {
      char *q = strchr(p + 1, '"');
      assert_non_null(q);
      char id[40];
      size_t len = (size_t)(q - p - 1);
      if (len >= sizeof id || !mqspec_id_shaped(p + 1, len)) continue;
      memcpy(id, p + 1, len);
      id[len] = '\0';
      cited++;
      bool ok = false;
      for (int v = 0; v < MQSPEC_NVERSIONS && !ok; v++) {
        const mqspec_stmt *s = mqspec_find(&cats[v], id);
        ok = s && s->codec != MQSPEC_NO;
      }
      if (!ok)
        fail_msg("codec/%s cites %s, which no catalog marks codec yes/partial", e->d_name, id);
    }
    free(text);
  }
  closedir(d);
  assert_true(cited > 30);
  unload(cats);
}

/* Vectors cite IDs of the right catalog, and only ones the codec checks. */
static void vectors_cite_known_statements(void **state) {
  (void)state;
  mqspec_catalog cats[MQSPEC_NVERSIONS];
  load(cats);
  char dir[4096], err[256];
  snprintf(dir, sizeof dir, "%s/tests/vectors", source_dir());
  mqspec_refs refs = {0};
  int files = mqspec_scan_vectors(&refs, dir, err, sizeof err);
  if (files < 0) fail_msg("%s", err);
  assert_true(files > 5);
  assert_true(refs.n > 50);
  for (size_t i = 0; i < refs.n; i++) {
    const mqspec_ref *r = &refs.v[i];
    assert_int_equal(r->kind, MQSPEC_REF_VECTOR);
    bool found = false;
    for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
      if (!(r->versions & MQSPEC_MASK(v))) continue;
      const mqspec_stmt *s = mqspec_find(&cats[v], r->id);
      if (!s) continue;
      found = true;
      if (s->codec == MQSPEC_NO)
        fail_msg("%s:%u: vector expects %s, which the %s catalog marks codec no", r->file, r->line,
                 r->id, mqspec_version_name((mqspec_version)v));
    }
    if (!found) fail_msg("%s:%u: %s is in no applicable catalog", r->file, r->line, r->id);
  }
  mqspec_refs_free(&refs);
  unload(cats);
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */
/* ------------------------------------------------------------------------ */

#define HDR "id\tsection\tlevel\tbinds\twire\tcodec\tsummary\ttest\twhy\n"
#define CL  "\tclient\tr" /* test and why of a client-bound wire-testable row */

static int parse(const char *text, char *err, size_t cap) {
  mqspec_catalog c;
  int rc = mqspec_parse(&c, MQSPEC_V5, text, strlen(text), err, cap);
  if (rc == 0) {
    assert_true(c.n > 0);
    mqspec_free(&c);
  } else {
    assert_null(c.stmts);
  }
  return rc;
}

static void parser_rejects_bad_rows(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(
      parse("# c\n" HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\tok" CL "\n", err, sizeof err),
      0);
  assert_int_equal(
      parse(HDR "MQTT-4.2-1\t4.2\tmust\tboth\tno\tno\tok\tnone\tr\r\n", err, sizeof err), 0);
  static const char *const bad[] = {
      "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\tno header" CL "\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\tx" CL "\textra\n",
      HDR "MQTT-3.1.0\t3.1\tmust\tclient\tyes\tyes\tbad id" CL "\n",
      HDR "MQTT-3.1.0-1\t3.2\tmust\tclient\tyes\tyes\twrong section" CL "\n",
      HDR "MQTT-3.10.0-1\t3.1\tmust\tclient\tyes\tyes\tsection is a prefix only" CL "\n",
      HDR "MQTT-3.1.0-1\t3.1\tMUST\tclient\tyes\tyes\tlevel" CL "\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tbroker\tyes\tyes\tbinds" CL "\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tmaybe\tyes\twire" CL "\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\t1\tcodec" CL "\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\t" CL "\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\tempty why\tclient\t\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\tunknown test\tbroker\tr\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\tclient needs no scenario\tserver\tr\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tserver\tyes\tyes\tnone only without wire\tnone\tr\n",
      HDR "MQTT-4.2-1\t4.2\tmust\tboth\tno\tno\tno wire is none\tboth\tr\n",
      HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\ta" CL "\nMQTT-3.1.0-1\t3."
          "1\tmust\tclient\tyes\tyes\tb" CL "\n",
      HDR,
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    if (parse(bad[i], err, sizeof err) == 0) fail_msg("accepted bad catalog #%zu", i);
    assert_true(err[0] != '\0');
  }
  char longrow[512];
  snprintf(longrow, sizeof longrow, HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\t%0121d" CL "\n",
           0);
  assert_int_equal(parse(longrow, err, sizeof err), -1);
  snprintf(longrow, sizeof longrow,
           HDR "MQTT-3.1.0-1\t3.1\tmust\tclient\tyes\tyes\ts\tclient\t%0121d\n", 0);
  assert_int_equal(parse(longrow, err, sizeof err), -1);
}

static void lookup_forms(void **state) {
  (void)state;
  mqspec_catalog cats[MQSPEC_NVERSIONS];
  load(cats);
  const mqspec_stmt *s = mqspec_find(&cats[MQSPEC_V5], "MQTT-3.1.0-1");
  assert_non_null(s);
  assert_ptr_equal(mqspec_find(&cats[MQSPEC_V5], "3.1.0-1"), s);
  assert_ptr_equal(mqspec_find(&cats[MQSPEC_V5], "[MQTT-3.1.0-1]"), s);
  assert_null(mqspec_find(&cats[MQSPEC_V5], "MQTT-3.1.0-99"));
  assert_null(mqspec_find(&cats[MQSPEC_V311], "MQTT-4.2-1"));
  assert_non_null(mqspec_find(&cats[MQSPEC_V5], "MQTT-4.2-1"));
  assert_true(mqspec_id_shaped("MQTT-4.2-1", 10));
  assert_false(mqspec_id_shaped("MQTT-4.2", 8));
  assert_false(mqspec_id_shaped("MQTT-4.2-1-2", 12));
  assert_false(mqspec_id_shaped("MQTT--1", 7));
  mqspec_version v;
  assert_int_equal(mqspec_parse_version("5", &v), 0);
  assert_int_equal(v, MQSPEC_V5);
  assert_int_equal(mqspec_parse_version("3.1", &v), 0);
  assert_int_equal(v, MQSPEC_V311);
  assert_int_equal(mqspec_parse_version("6", &v), -1);
  unload(cats);
}

/* ------------------------------------------------------------------------ */
/* Scenario scanner                                                         */
/* ------------------------------------------------------------------------ */

typedef struct {
  const char *id;
  unsigned versions;
} want_ref;

#define V3 MQSPEC_MASK(MQSPEC_V311)
#define V5 MQSPEC_MASK(MQSPEC_V5)
#define VA MQSPEC_ALL_VERSIONS

static void expect_refs(const char *path, const char *yaml, const want_ref *want, size_t n) {
  mqspec_refs refs = {0};
  assert_int_equal(mqspec_scan_scenario_text(&refs, path, yaml, strlen(yaml)), 0);
  if (refs.n != n) {
    for (size_t i = 0; i < refs.n; i++)
      print_message("  got %s (versions %u) line %u\n", refs.v[i].id, refs.v[i].versions,
                    refs.v[i].line);
    fail_msg("%s: %zu refs, want %zu", path, refs.n, n);
  }
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(refs.v[i].id, want[i].id);
    if (refs.v[i].versions != want[i].versions)
      fail_msg("%s: %s has versions %u, want %u", path, want[i].id, refs.v[i].versions,
               want[i].versions);
    assert_int_equal(refs.v[i].kind, MQSPEC_REF_SCENARIO);
    assert_string_equal(refs.v[i].file, path);
  }
  mqspec_refs_free(&refs);
}

static void scanner_flow_and_block_lists(void **state) {
  (void)state;
  const want_ref flow[] = {{"MQTT-3.1.0-1", V5}, {"MQTT-3.1.0-2", V5}};
  expect_refs("a.yaml",
              "name: connect twice\n"
              "version: 5\n"
              "rules: [MQTT-3.1.0-1, \"MQTT-3.1.0-2\"]  # both\n"
              "steps:\n"
              "  - send: {type: CONNECT}   # MQTT-9.9.9-9 in a comment is ignored\n",
              flow, 2);
  const want_ref block[] = {{"MQTT-3.8.4-1", V3}, {"MQTT-3.8.4-2", V3}, {"MQTT-3.9.3-1", V3}};
  expect_refs("b.yaml",
              "rules:\n"
              "  - MQTT-3.8.4-1\n"
              "  - '[MQTT-3.8.4-2]'\n"
              "  # - MQTT-1.1.1-1 commented out\n"
              "\n"
              "  - MQTT-3.9.3-1\n"
              "steps:\n"
              "  - expect: SUBACK          # rules: not here\n"
              "    note: MQTT-3.8.4-5 is mentioned but not listed\n"
              "protocol: 3.1.1\n",
              block, 3);
  /* Same-indent block list, multi-line flow list, no version: both. */
  const want_ref same[] = {
      {"MQTT-4.7.1-1", VA}, {"MQTT-4.7.1-2", VA}, {"MQTT-4.7.2-1", VA}, {"MQTT-4.7.3-1", VA}};
  expect_refs("c.yml",
              "rules:\n"
              "- MQTT-4.7.1-1\n"
              "- MQTT-4.7.1-2\n"
              "other:\n"
              "- MQTT-1.5.4-1\n"
              "more_rules: [MQTT-1.5.4-2]\n"
              "step:\n"
              "  rules: [MQTT-4.7.2-1,\n"
              "          MQTT-4.7.3-1]\n",
              same, 4);
}

static void scanner_versions(void **state) {
  (void)state;
  /* The directory names the version; a key overrides it. */
  const want_ref dir5[] = {{"MQTT-3.3.1-5", V5}};
  expect_refs("suite/v5/retain.yaml", "rules: [MQTT-3.3.1-5]\n", dir5, 1);
  const want_ref key[] = {{"MQTT-3.3.1-5", V3}};
  expect_refs("suite/v5/retain.yaml", "versions: [3.1.1]\nrules: [MQTT-3.3.1-5]\n", key, 1);
  /* A block list of versions, and "all". */
  const want_ref both[] = {{"MQTT-3.12.4-1", VA}};
  expect_refs("p.yaml", "versions:\n  - 3.1.1\n  - 5\nrules:\n  - MQTT-3.12.4-1\n", both, 1);
  expect_refs("p.yaml", "rules: [MQTT-3.12.4-1]\nversion: all\n", both, 1);
  /* Documents keep their own versions. */
  const want_ref docs[] = {{"MQTT-3.1.2-3", V5}, {"MQTT-3.1.2-3", V3}};
  expect_refs("d.yaml",
              "version: 5\nrules: [MQTT-3.1.2-3]\n---\nversion: 3.1.1\nrules: [MQTT-3.1.2-3]\n",
              docs, 2);
  /* A file that is a list of scenarios, each with its version. */
  const want_ref items[] = {{"MQTT-3.2.2-1", V3}, {"MQTT-3.2.2-2", V5}, {"MQTT-3.2.2-3", VA}};
  expect_refs("l.yaml",
              "- name: one\n"
              "  version: 3.1.1\n"
              "  rules: [MQTT-3.2.2-1]\n"
              "- version: 5\n"
              "  name: two\n"
              "  rules:\n"
              "  - MQTT-3.2.2-2\n"
              "- name: three\n"
              "  rules: MQTT-3.2.2-3\n",
              items, 3);
}

/* The suite's own shape (docs/scenarios.md): versions, then rules as a
 * mapping from version to IDs, in block or flow style. */
static void scanner_version_mapped_rules(void **state) {
  (void)state;
  const want_ref mapped[] = {{"MQTT-3.1.2-24", V3}, {"MQTT-3.1.2-22", V5}};
  expect_refs("suite/3.12-ping/keepalive-expiry.yaml",
              "format: 1\n"
              "name: ping/keepalive-expiry-60s\n"
              "versions: [3.1.1, 5.0]\n"
              "rules:\n"
              "  3.1.1: [MQTT-3.1.2-24]\n"
              "  5.0: [MQTT-3.1.2-22]\n"
              "requires: [keep-alive, long-waits]\n"
              "steps:\n"
              "  - connect: {keep_alive: 60}\n"
              "  - {client: a, version: 5.0, expect_none: 85s}\n",
              mapped, 2);
  const want_ref flow[] = {{"MQTT-3.2.2-1", V3}, {"MQTT-3.2.2-2", V5}, {"MQTT-3.2.2-3", V5}};
  expect_refs("x.yaml",
              "rules: {\"3.1.1\": [MQTT-3.2.2-1],\n"
              "        5.0: [MQTT-3.2.2-2,\n"
              "              MQTT-3.2.2-3]}\n"
              "versions: [3.1.1, 5.0]\n",
              flow, 3);
  /* A block mapping of block lists; a plain list runs in the declared versions. */
  const want_ref blocks[] = {{"MQTT-4.3.2-1", V3}, {"MQTT-4.3.2-2", V3}, {"MQTT-4.3.2-4", V5}};
  expect_refs("y.yaml",
              "versions: [3.1.1, 5.0]\n"
              "rules:\n"
              "  3.1.1:\n"
              "    - MQTT-4.3.2-1\n"
              "    - MQTT-4.3.2-2\n"
              "  5.0:\n"
              "    - MQTT-4.3.2-4\n"
              "steps: []\n",
              blocks, 3);
  const want_ref plain[] = {{"MQTT-3.1.0-2", V5}};
  expect_refs("suite/v311/z.yaml", "versions: [5.0]\nrules: [MQTT-3.1.0-2]\n", plain, 1);
  /* A key for a version the scenario does not run keeps its own version. */
  const want_ref odd[] = {{"MQTT-3.1.0-2", V5}};
  expect_refs("w.yaml", "versions: [3.1.1]\nrules: {5.0: [MQTT-3.1.0-2]}\n", odd, 1);
}

static void scanner_walks_directories(void **state) {
  (void)state;
  const char *bin = getenv("MQC_BINARY_DIR");
  char root[4096], path[4200], err[256];
  snprintf(root, sizeof root, "%s/test_spec_suite", bin && *bin ? bin : ".");
  mkdir(root, 0777);
  snprintf(path, sizeof path, "%s/5.0", root);
  mkdir(path, 0777);
  snprintf(path, sizeof path, "%s/5.0/a.yaml", root);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("rules: [MQTT-3.12.4-1]\n", f);
  fclose(f);
  snprintf(path, sizeof path, "%s/notes.txt", root);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("rules: [MQTT-1.5.4-1]\n", f);
  fclose(f);
  mqspec_refs refs = {0};
  assert_int_equal(mqspec_scan_scenarios(&refs, root, err, sizeof err), 1);
  assert_int_equal(refs.n, 1);
  assert_string_equal(refs.v[0].id, "MQTT-3.12.4-1");
  assert_int_equal(refs.v[0].versions, V5);
  mqspec_refs_free(&refs);
  assert_int_equal(mqspec_scan_scenarios(&refs, "/nonexistent/dir", err, sizeof err), -1);
  mqspec_refs_free(&refs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(catalog_matches_upstream),
      cmocka_unit_test(catalog_dir_equals_embedded),
      cmocka_unit_test(catalog_columns_consistent),
      cmocka_unit_test(codec_citations_agree),
      cmocka_unit_test(vectors_cite_known_statements),
      cmocka_unit_test(parser_rejects_bad_rows),
      cmocka_unit_test(lookup_forms),
      cmocka_unit_test(scanner_flow_and_block_lists),
      cmocka_unit_test(scanner_versions),
      cmocka_unit_test(scanner_version_mapped_rules),
      cmocka_unit_test(scanner_walks_directories),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
