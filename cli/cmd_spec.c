/* mqcheck spec - the catalog of MQTT 3.1.1 and 5.0 normative statements, and
 * how much of it the codec (vectors) and the scenario suite cover.
 * Exit 0 on success, 1 when the catalog or an input cannot be read (or, with
 * --strict, when a vector or scenario cites an unknown statement), 2 on a
 * usage error. The catalog's columns are described in docs/spec-catalog.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqspec.h"

const char mqc_cmd_spec_help[] =
    "list the MQTT normative statements, or report their coverage (--coverage)";

#define MAX_SUITES 32

static void usage(FILE *f) {
  fprintf(f,
          "usage: mqcheck spec [--version 3.1.1|5] [--id ID] [--json]\n"
          "       mqcheck spec --coverage [--version 3.1.1|5] [--json] [--suite DIR...]\n"
          "                    [--vectors DIR] [--root DIR] [--strict]\n"
          "  --version V   one specification only (default: both)\n"
          "  --id ID       show one statement in full (\"MQTT-\" may be left out)\n"
          "  --coverage    per statement: codec (catalog column, vectors) and scenarios\n"
          "  --suite DIR   scenario YAML trees to scan for `rules:` (repeatable; default\n"
          "                ROOT/suite and ROOT/scenarios/suite where present)\n"
          "  --vectors DIR codec vectors to scan (default ROOT/tests/vectors)\n"
          "  --root DIR    project tree for the defaults (default: the current directory\n"
          "                if it holds tests/vectors, else the tree mqcheck was built from)\n"
          "  --catalog DIR read mqtt-3.1.1.tsv and mqtt-5.0.tsv from DIR, not the built-in copy\n"
          "  --strict      exit 1 if a vector or scenario cites an ID missing from the catalog\n"
          "exit: 0 ok, 1 unreadable input (or --strict finding), 2 usage\n");
}

typedef struct {
  bool coverage, json, strict, only_version;
  mqspec_version version;
  const char *id;
  const char *suites[MAX_SUITES];
  size_t nsuites;
  const char *vectors, *root, *catalog;
} options;

static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_arg = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--coverage")) {
      o->coverage = true;
    } else if (!strcmp(a, "--json")) {
      o->json = true;
    } else if (!strcmp(a, "--strict")) {
      o->strict = true;
    } else if (!strcmp(a, "--version") && has_arg) {
      if (mqspec_parse_version(argv[++i], &o->version)) {
        fprintf(stderr, "mqcheck spec: unknown version '%s' (3.1.1 or 5)\n", argv[i]);
        return -1;
      }
      o->only_version = true;
    } else if (!strcmp(a, "--id") && has_arg) {
      o->id = argv[++i];
    } else if (!strcmp(a, "--suite") && has_arg) {
      /* One or more directories, up to the next option. */
      while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
        if (o->nsuites == MAX_SUITES) {
          fprintf(stderr, "mqcheck spec: at most %d --suite directories\n", MAX_SUITES);
          return -1;
        }
        o->suites[o->nsuites++] = argv[++i];
      }
    } else if (!strcmp(a, "--vectors") && has_arg) {
      o->vectors = argv[++i];
    } else if (!strcmp(a, "--root") && has_arg) {
      o->root = argv[++i];
    } else if (!strcmp(a, "--catalog") && has_arg) {
      o->catalog = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      cli_bad_option("spec", a, usage);
      return -1;
    } else {
      cli_usage("spec", "unexpected argument '%s'", a);
      return -1;
    }
  }
  if (o->id && o->coverage) {
    fprintf(stderr, "mqcheck spec: --id and --coverage do not combine\n");
    return -1;
  }
  if (!o->coverage && (o->nsuites || o->vectors || o->root || o->strict)) {
    fprintf(stderr, "mqcheck spec: --suite, --vectors, --root and --strict need --coverage\n");
    return -1;
  }
  return 0;
}

static bool is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* ------------------------------------------------------------------------ */
/* JSON helpers                                                             */
/* ------------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", f);
    else if (*p == '\t')
      fputs("\\t", f);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void json_stmt_fields(FILE *f, const mqspec_stmt *s) {
  fputs("{\"id\": ", f);
  json_str(f, s->id);
  fputs(", \"section\": ", f);
  json_str(f, s->section);
  fprintf(f, ", \"level\": \"%s\", \"binds\": \"%s\", \"wire\": \"%s\", \"codec\": \"%s\"",
          mqspec_level_name(s->level), mqspec_binds_name(s->binds), mqspec_tri_name(s->wire),
          mqspec_tri_name(s->codec));
  fputs(", \"summary\": ", f);
  json_str(f, s->summary);
  fprintf(f, ", \"test\": \"%s\", \"why\": ", mqspec_test_name(s->test));
  json_str(f, s->why);
}

/* ------------------------------------------------------------------------ */
/* Listing                                                                  */
/* ------------------------------------------------------------------------ */

static void print_full(const mqspec_catalog *cat, const mqspec_stmt *s) {
  printf("%s (MQTT %s, section %s)\n", s->id, mqspec_version_name(cat->version), s->section);
  printf("  level:   %s\n  binds:   %s\n  wire:    %s\n  codec:   %s\n  summary: %s\n"
         "  test:    %s (%s)\n",
         mqspec_level_name(s->level), mqspec_binds_name(s->binds), mqspec_tri_name(s->wire),
         mqspec_tri_name(s->codec), s->summary, mqspec_test_name(s->test), s->why);
}

static int list(const options *o, mqspec_catalog cats[MQSPEC_NVERSIONS]) {
  bool first = true, found = false;
  if (o->json) printf("{\"versions\": [");
  for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
    if (o->only_version && (int)o->version != v) continue;
    const mqspec_catalog *cat = &cats[v];
    if (o->id) {
      const mqspec_stmt *s = mqspec_find(cat, o->id);
      if (!s) continue;
      found = true;
      if (o->json) {
        printf("%s{\"version\": \"%s\", \"statements\": [", first ? "" : ", ",
               mqspec_version_name(cat->version));
        json_stmt_fields(stdout, s);
        printf("}]}");
      } else {
        if (!first) printf("\n");
        print_full(cat, s);
      }
      first = false;
      continue;
    }
    if (o->json) {
      printf("%s{\"version\": \"%s\", \"statements\": [", first ? "" : ", ",
             mqspec_version_name(cat->version));
      for (size_t i = 0; i < cat->n; i++) {
        printf("%s\n  ", i ? "," : "");
        json_stmt_fields(stdout, &cat->stmts[i]);
        printf("}");
      }
      printf("]}");
    } else {
      printf("%s# MQTT %s: %zu normative statements\n", first ? "" : "\n",
             mqspec_version_name(cat->version), cat->n);
      for (size_t i = 0; i < cat->n; i++)
        printf("%-15s %-6s  %s\n", cat->stmts[i].id, mqspec_binds_name(cat->stmts[i].binds),
               cat->stmts[i].summary);
    }
    first = false;
  }
  if (o->json) printf("]}\n");
  if (o->id && !found) {
    fprintf(stderr, "mqcheck spec: no statement '%s'%s%s\n", o->id,
            o->only_version ? " in MQTT " : "",
            o->only_version ? mqspec_version_name(o->version) : "");
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Coverage                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
  unsigned vectors;   /* rejection vectors citing it */
  unsigned scenarios; /* scenario files listing it (distinct) */
} cov_row;

typedef struct {
  size_t statements, by_binds[3];
  size_t wire_yes, wire_partial, wire_testable;
  size_t codec_catalog, codec_vectors, codec, scenarios, either, uncovered_wire;
  size_t by_test[5];
  /* What this project owes: server and both statements need a scenario,
   * codec statements codec coverage (client ones are judged against clients). */
  size_t owed, owed_covered;
} totals;

typedef struct {
  const char *dir;
  int files; /* -1: not present (defaults only) */
} source;

static bool codec_covered(const mqspec_stmt *s, const cov_row *c) {
  return s->codec != MQSPEC_NO || c->vectors > 0;
}

static bool wire_testable(const mqspec_stmt *s) {
  return s->wire != MQSPEC_NO;
}

static bool owed(const mqspec_stmt *s) {
  return mqspec_test_needs_scenario(s->test) || s->test == MQSPEC_TEST_CODEC;
}

static bool owed_covered(const mqspec_stmt *s, const cov_row *c) {
  return mqspec_test_needs_scenario(s->test) ? c->scenarios > 0 : codec_covered(s, c);
}

/* Index of the statement ref r names in cat, or -1 (also when r does not
 * apply to cat's version). */
static long ref_index(const mqspec_catalog *cat, const mqspec_ref *r) {
  if (!(r->versions & MQSPEC_MASK(cat->version))) return -1;
  return mqspec_index(cat, r->id);
}

static cov_row *compute(const mqspec_catalog *cat, const mqspec_refs *refs, totals *t) {
  cov_row *rows = calloc(cat->n ? cat->n : 1, sizeof *rows);
  if (!rows) return NULL;
  for (size_t i = 0; i < refs->n; i++) {
    const mqspec_ref *r = &refs->v[i];
    long k = ref_index(cat, r);
    if (k < 0) continue;
    if (r->kind == MQSPEC_REF_VECTOR) {
      rows[k].vectors++;
      continue;
    }
    /* Count each scenario file once per statement. */
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = refs->v[j].kind == MQSPEC_REF_SCENARIO && !strcmp(refs->v[j].file, r->file) &&
             ref_index(cat, &refs->v[j]) == k;
    if (!seen) rows[k].scenarios++;
  }
  memset(t, 0, sizeof *t);
  t->statements = cat->n;
  for (size_t i = 0; i < cat->n; i++) {
    const mqspec_stmt *s = &cat->stmts[i];
    t->by_binds[s->binds]++;
    t->wire_yes += s->wire == MQSPEC_YES;
    t->wire_partial += s->wire == MQSPEC_PARTIAL;
    t->codec_catalog += s->codec != MQSPEC_NO;
    t->codec_vectors += rows[i].vectors > 0;
    bool c = codec_covered(s, &rows[i]), sc = rows[i].scenarios > 0;
    t->codec += c;
    t->scenarios += sc;
    t->either += c || sc;
    t->uncovered_wire += wire_testable(s) && !c && !sc;
    t->by_test[s->test]++;
    t->owed += owed(s);
    t->owed_covered += owed(s) && owed_covered(s, &rows[i]);
  }
  t->wire_testable = t->wire_yes + t->wire_partial;
  return rows;
}

static void json_totals(const totals *t) {
  printf("\"totals\": {\"statements\": %zu, \"binds\": {\"server\": %zu, \"client\": %zu, "
         "\"both\": %zu}, \"wire_testable\": %zu, \"wire_yes\": %zu, \"wire_partial\": %zu, "
         "\"codec_catalog\": %zu, \"codec_vectors\": %zu, \"codec\": %zu, \"scenarios\": %zu, "
         "\"either\": %zu, \"uncovered_wire\": %zu, \"test\": {\"server\": %zu, \"client\": %zu, "
         "\"both\": %zu, \"codec\": %zu, \"none\": %zu}, \"owed\": %zu, \"owed_covered\": %zu}",
         t->statements, t->by_binds[MQSPEC_SERVER], t->by_binds[MQSPEC_CLIENT],
         t->by_binds[MQSPEC_BOTH], t->wire_testable, t->wire_yes, t->wire_partial, t->codec_catalog,
         t->codec_vectors, t->codec, t->scenarios, t->either, t->uncovered_wire,
         t->by_test[MQSPEC_TEST_SERVER], t->by_test[MQSPEC_TEST_CLIENT],
         t->by_test[MQSPEC_TEST_BOTH], t->by_test[MQSPEC_TEST_CODEC], t->by_test[MQSPEC_TEST_NONE],
         t->owed, t->owed_covered);
}

static void json_version(const mqspec_catalog *cat, const cov_row *rows, const totals *t,
                         const mqspec_refs *refs) {
  printf("{\"version\": \"%s\",\n ", mqspec_version_name(cat->version));
  json_totals(t);
  printf(",\n \"uncovered_wire\": [");
  bool first = true;
  for (size_t i = 0; i < cat->n; i++) {
    const mqspec_stmt *s = &cat->stmts[i];
    if (!wire_testable(s) || codec_covered(s, &rows[i]) || rows[i].scenarios) continue;
    printf("%s", first ? "" : ", ");
    json_str(stdout, s->id);
    first = false;
  }
  printf("],\n \"uncovered_owed\": [");
  first = true;
  for (size_t i = 0; i < cat->n; i++) {
    const mqspec_stmt *s = &cat->stmts[i];
    if (!owed(s) || owed_covered(s, &rows[i])) continue;
    printf("%s", first ? "" : ", ");
    json_str(stdout, s->id);
    first = false;
  }
  printf("],\n \"statements\": [");
  for (size_t i = 0; i < cat->n; i++) {
    const mqspec_stmt *s = &cat->stmts[i];
    printf("%s\n  ", i ? "," : "");
    json_stmt_fields(stdout, s);
    printf(", \"vectors\": %u, \"scenarios\": [", rows[i].vectors);
    bool firstf = true;
    for (size_t j = 0; j < refs->n; j++) {
      const mqspec_ref *r = &refs->v[j];
      if (r->kind != MQSPEC_REF_SCENARIO || ref_index(cat, r) != (long)i) continue;
      bool dup = false;
      for (size_t k = 0; k < j && !dup; k++)
        dup = refs->v[k].kind == MQSPEC_REF_SCENARIO && !strcmp(refs->v[k].file, r->file) &&
              ref_index(cat, &refs->v[k]) == (long)i;
      if (dup) continue;
      printf("%s", firstf ? "" : ", ");
      json_str(stdout, r->file);
      firstf = false;
    }
    printf("], \"covered\": {\"codec\": %s, \"scenarios\": %s}}",
           codec_covered(s, &rows[i]) ? "true" : "false", rows[i].scenarios ? "true" : "false");
  }
  printf("]}");
}

static void text_version(const mqspec_catalog *cat, const cov_row *rows, const totals *t) {
  printf("# MQTT %s statement coverage\n", mqspec_version_name(cat->version));
  printf("%-15s %-6s %-7s %-7s %-6s %5s %5s\n", "id", "binds", "wire", "codec", "test", "vec",
         "scn");
  for (size_t i = 0; i < cat->n; i++) {
    const mqspec_stmt *s = &cat->stmts[i];
    printf("%-15s %-6s %-7s %-7s %-6s %5u %5u\n", s->id, mqspec_binds_name(s->binds),
           mqspec_tri_name(s->wire), mqspec_tri_name(s->codec), mqspec_test_name(s->test),
           rows[i].vectors, rows[i].scenarios);
  }
  printf("\nMQTT %s totals\n", mqspec_version_name(cat->version));
  printf("  statements             %4zu  (server %zu, client %zu, both %zu)\n", t->statements,
         t->by_binds[MQSPEC_SERVER], t->by_binds[MQSPEC_CLIENT], t->by_binds[MQSPEC_BOTH]);
  printf("  wire-testable          %4zu  (yes %zu, partial %zu)\n", t->wire_testable, t->wire_yes,
         t->wire_partial);
  printf("  covered by codec       %4zu  (catalog %zu, vectors %zu)\n", t->codec, t->codec_catalog,
         t->codec_vectors);
  printf("  covered by scenarios   %4zu\n", t->scenarios);
  printf("  covered by either      %4zu\n", t->either);
  printf("  wire-testable, uncovered %zu:", t->uncovered_wire);
  size_t k = 0;
  for (size_t i = 0; i < cat->n; i++) {
    const mqspec_stmt *s = &cat->stmts[i];
    if (!wire_testable(s) || codec_covered(s, &rows[i]) || rows[i].scenarios) continue;
    printf("%s%s", k % 5 == 0 ? "\n    " : " ", s->id);
    k++;
  }
  printf("\n");
  printf("  tested as             server %zu, both %zu, codec %zu, client %zu, none %zu\n",
         t->by_test[MQSPEC_TEST_SERVER], t->by_test[MQSPEC_TEST_BOTH],
         t->by_test[MQSPEC_TEST_CODEC], t->by_test[MQSPEC_TEST_CLIENT],
         t->by_test[MQSPEC_TEST_NONE]);
  printf("  wire-testable here    %4zu of %zu covered (%.1f%%): server and both by a scenario,"
         " codec by the codec; client ones are judged against clients\n",
         t->owed_covered, t->owed,
         t->owed ? 100.0 * (double)t->owed_covered / (double)t->owed : 100.0);
  if (t->owed_covered < t->owed) {
    printf("  owed, uncovered %zu:", t->owed - t->owed_covered);
    k = 0;
    for (size_t i = 0; i < cat->n; i++) {
      const mqspec_stmt *s = &cat->stmts[i];
      if (!owed(s) || owed_covered(s, &rows[i])) continue;
      printf("%s%s", k % 5 == 0 ? "\n    " : " ", s->id);
      k++;
    }
    printf("\n");
  }
}

/* References to IDs no applicable catalog has. */
static size_t report_unknown(const mqspec_catalog cats[MQSPEC_NVERSIONS], const mqspec_refs *refs,
                             bool json) {
  size_t n = 0;
  for (size_t i = 0; i < refs->n; i++) {
    const mqspec_ref *r = &refs->v[i];
    bool known = false;
    for (int v = 0; v < MQSPEC_NVERSIONS && !known; v++)
      known = ref_index(&cats[v], r) >= 0;
    if (known) continue;
    const char *kind = r->kind == MQSPEC_REF_VECTOR ? "vector" : "scenario";
    if (json) {
      printf("%s\n  {\"id\": ", n ? "," : "");
      json_str(stdout, r->id);
      printf(", \"kind\": \"%s\", \"file\": ", kind);
      json_str(stdout, r->file);
      printf(", \"line\": %u}", r->line);
    } else {
      fprintf(stderr, "mqcheck spec: %s:%u: %s cites %s, which the catalog%s lacks\n", r->file,
              r->line, kind, r->id,
              r->versions == MQSPEC_ALL_VERSIONS      ? "s"
              : r->versions == MQSPEC_MASK(MQSPEC_V5) ? " of 5.0"
                                                      : " of 3.1.1");
    }
    n++;
  }
  return n;
}

static void json_source(const source *s) {
  printf("{\"dir\": ");
  json_str(stdout, s->dir);
  printf(", \"files\": %d}", s->files < 0 ? 0 : s->files);
}

static int coverage(const options *o, mqspec_catalog cats[MQSPEC_NVERSIONS]) {
  char pathbuf[3][4096];
  const char *root = o->root;
  if (!root) root = is_dir("tests/vectors") ? "." : mqspec_source_dir();
  if (o->root && !is_dir(o->root)) {
    fprintf(stderr, "mqcheck spec: --root %s is not a directory\n", o->root);
    return 2;
  }
  mqspec_refs refs = {0};
  char err[512] = "";
  source vec = {o->vectors, 0};
  if (!vec.dir) {
    snprintf(pathbuf[0], sizeof pathbuf[0], "%s/tests/vectors", root);
    vec.dir = pathbuf[0];
  }
  if (o->vectors && !is_dir(o->vectors)) {
    fprintf(stderr, "mqcheck spec: --vectors %s is not a directory\n", o->vectors);
    return 2;
  }
  vec.files = is_dir(vec.dir) ? mqspec_scan_vectors(&refs, vec.dir, err, sizeof err) : -1;
  if (vec.files < 0 && is_dir(vec.dir)) {
    fprintf(stderr, "mqcheck spec: %s\n", err);
    mqspec_refs_free(&refs);
    return 1;
  }
  source suites[MAX_SUITES];
  size_t ns = 0;
  if (o->nsuites) {
    for (size_t i = 0; i < o->nsuites; i++) {
      if (!is_dir(o->suites[i])) {
        fprintf(stderr, "mqcheck spec: --suite %s is not a directory\n", o->suites[i]);
        mqspec_refs_free(&refs);
        return 2;
      }
      suites[ns++] = (source){o->suites[i], 0};
    }
  } else {
    snprintf(pathbuf[1], sizeof pathbuf[1], "%s/suite", root);
    snprintf(pathbuf[2], sizeof pathbuf[2], "%s/scenarios/suite", root);
    for (int i = 1; i <= 2; i++)
      if (is_dir(pathbuf[i])) suites[ns++] = (source){pathbuf[i], 0};
  }
  for (size_t i = 0; i < ns; i++) {
    suites[i].files = mqspec_scan_scenarios(&refs, suites[i].dir, err, sizeof err);
    if (suites[i].files < 0) {
      fprintf(stderr, "mqcheck spec: %s\n", err);
      mqspec_refs_free(&refs);
      return 1;
    }
  }

  int rc = 0;
  cov_row *rows[MQSPEC_NVERSIONS] = {0};
  totals t[MQSPEC_NVERSIONS];
  for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
    rows[v] = compute(&cats[v], &refs, &t[v]);
    if (!rows[v]) {
      fprintf(stderr, "mqcheck spec: out of memory\n");
      rc = 1;
      goto out;
    }
  }
  size_t unknown;
  if (o->json) {
    printf("{\"catalog\": ");
    json_str(stdout, o->catalog ? o->catalog : "built-in");
    printf(",\n \"sources\": {\"vectors\": ");
    if (vec.files >= 0)
      json_source(&vec);
    else
      printf("null");
    printf(", \"suites\": [");
    for (size_t i = 0; i < ns; i++) {
      printf("%s", i ? ", " : "");
      json_source(&suites[i]);
    }
    printf("]},\n \"versions\": [");
    bool first = true;
    for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
      if (o->only_version && (int)o->version != v) continue;
      printf("%s", first ? "\n" : ",\n");
      json_version(&cats[v], rows[v], &t[v], &refs);
      first = false;
    }
    printf("],\n \"unknown\": [");
    unknown = report_unknown(cats, &refs, true);
    printf("]}\n");
  } else {
    printf("# sources: vectors %s", vec.dir);
    if (vec.files >= 0)
      printf(" (%d files)", vec.files);
    else
      printf(" (absent)");
    printf("; scenarios ");
    if (ns == 0) printf("(none found)");
    for (size_t i = 0; i < ns; i++)
      printf("%s%s (%d files)", i ? ", " : "", suites[i].dir, suites[i].files);
    printf("\n");
    bool first = true;
    for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
      if (o->only_version && (int)o->version != v) continue;
      if (!first) printf("\n");
      text_version(&cats[v], rows[v], &t[v]);
      first = false;
    }
    unknown = report_unknown(cats, &refs, false);
  }
  if (unknown && o->strict) rc = 1;
out:
  for (int v = 0; v < MQSPEC_NVERSIONS; v++)
    free(rows[v]);
  mqspec_refs_free(&refs);
  return rc;
}

int mqc_cmd_spec(int argc, char **argv) {
  options o;
  if (parse_args(argc, argv, &o)) return 2;
  mqspec_catalog cats[MQSPEC_NVERSIONS];
  memset(cats, 0, sizeof cats);
  char err[512];
  for (int v = 0; v < MQSPEC_NVERSIONS; v++) {
    int rc = o.catalog ? mqspec_load_dir(&cats[v], (mqspec_version)v, o.catalog, err, sizeof err)
                       : mqspec_load_embedded(&cats[v], (mqspec_version)v, err, sizeof err);
    if (rc) {
      fprintf(stderr, "mqcheck spec: catalog %s: %s\n", mqspec_version_name((mqspec_version)v),
              err);
      for (int k = 0; k < v; k++)
        mqspec_free(&cats[k]);
      return 1;
    }
  }
  int rc = o.coverage ? coverage(&o, cats) : list(&o, cats);
  for (int v = 0; v < MQSPEC_NVERSIONS; v++)
    mqspec_free(&cats[v]);
  return rc;
}
