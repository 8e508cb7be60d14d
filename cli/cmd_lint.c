/* mqcheck lint - checks scenario files without running them: YAML shape,
 * steps, packet descriptions for each version, expectations, capability
 * names, statement IDs (against the built-in catalog, or the statement
 * lists in --spec-dir; none that binds only the client), unique names.
 * --list prints the cases (scenario x version), --json for tools. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqs.h"
#include "mqspec.h"

const char mqc_cmd_lint_help[] = "check scenario files without running them (--list: cases)";

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck lint [--spec-dir DIR] [--list] [--json] [PATHS...]\n"
             "  PATHS        scenario files or directories (default: the installed suite,\n"
             "               or the source tree's for a build-tree mqcheck)\n"
             "  --spec-dir   check statement IDs against mqtt-3.1.1-statements.tsv and\n"
             "               mqtt-5.0-statements.tsv in DIR (default: $MQCHECK_SPEC_DIR,\n"
             "               else the catalog built into mqcheck)\n"
             "  --list       print the cases, one 'name@version' per line\n"
             "  --json       with --list: a JSON array of cases\n"
             "exit: 0 all valid, 1 errors found, 2 usage\n");
}

/* Where statement IDs are checked: the upstream statement lists of a
 * directory, or the built-in catalog (test_spec keeps its IDs equal to those
 * lists, so a binary run from anywhere checks them). Whom a statement binds
 * is the built-in catalog's reading in either case (the upstream 3.1.1 list
 * has no such column), so it is always loaded. */
typedef struct {
  bool from_dir;
  mqs_catalog lists[2];
  mqspec_catalog builtin[MQSPEC_NVERSIONS];
} id_catalog;

static int id_catalog_load(id_catalog *ic, const char *dir) {
  memset(ic, 0, sizeof *ic);
  ic->from_dir = dir != NULL;
  for (unsigned b = 0; b < 2; b++) {
    const char *ver = b ? "5.0" : "3.1.1";
    if (dir) {
      char path[1024];
      snprintf(path, sizeof path, "%s/mqtt-%s-statements.tsv", dir, ver);
      if (mqs_catalog_load(path, &ic->lists[b])) {
        fprintf(stderr, "lint: cannot read the statement list %s\n", path);
        return -1;
      }
    }
    char err[256];
    if (mqspec_load_embedded(&ic->builtin[b], b ? MQSPEC_V5 : MQSPEC_V311, err, sizeof err)) {
      fprintf(stderr, "lint: built-in %s catalog: %s\n", ver, err);
      return -1;
    }
  }
  return 0;
}

static bool id_known(const id_catalog *ic, unsigned b, const char *id) {
  return ic->from_dir ? mqs_catalog_has(&ic->lists[b], id)
                      : mqspec_find(&ic->builtin[b], id) != NULL;
}

static void id_catalog_free(id_catalog *ic) {
  for (unsigned b = 0; b < 2; b++) {
    mqs_catalog_free(&ic->lists[b]);
    mqspec_free(&ic->builtin[b]);
  }
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      printf("\\%c", *s);
    else if (*s == '\n')
      printf("\\n");
    else if ((unsigned char)*s < 0x20)
      printf("\\u%04x", *s);
    else
      putchar(*s);
  }
  putchar('"');
}

int mqc_cmd_lint(int argc, char **argv) {
  const char *spec_dir = getenv("MQCHECK_SPEC_DIR");
  bool list = false, json = false;
  char *def[] = {(char *)"suite"};
  char **paths = def;
  size_t n_paths = 1;
  char **pv = calloc((size_t)argc + 1, sizeof *pv);
  size_t np = 0;
  if (!pv) return 2;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      free(pv);
      return 0;
    } else if (!strcmp(argv[i], "--spec-dir") && i + 1 < argc) {
      spec_dir = argv[++i];
    } else if (!strcmp(argv[i], "--list")) {
      list = true;
    } else if (!strcmp(argv[i], "--json")) {
      json = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      free(pv);
      return cli_bad_option("lint", argv[i], usage);
    } else {
      pv[np++] = argv[i];
    }
  }
  char suite_dir[2 * PATH_MAX];
  if (np) {
    paths = pv;
    n_paths = np;
  } else if (cli_suite_dir(suite_dir, sizeof suite_dir)) {
    fprintf(stderr, "mqcheck lint: no scenario suite installed (looked in %s); give PATHS\n",
            suite_dir);
    free(pv);
    return 2;
  } else {
    def[0] = suite_dir;
  }
  id_catalog ids;
  if (id_catalog_load(&ids, spec_dir)) {
    id_catalog_free(&ids);
    free(pv);
    return 2;
  }
  mqs_suite suite;
  if (mqs_suite_load(paths, n_paths, &suite, stderr)) {
    id_catalog_free(&ids);
    free(pv);
    return 2;
  }
  size_t errors = suite.errors, cases = 0;
  for (size_t i = 0; i < suite.n; i++) {
    mqs_scenario *s = suite.s[i];
    for (unsigned b = 0; b < 2; b++)
      for (size_t r = 0; (s->versions & mqs_slot_versions(b)) && r < s->n_rules[b]; r++)
        if (!id_known(&ids, b, s->rules[b][r])) {
          fprintf(stderr, "%s:%u:1: error: %s is not a statement of MQTT %s\n", s->path,
                  s->rule_lines[b][r], s->rules[b][r], b ? "5.0" : "3.1.1");
          errors++;
        }
    for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb))
      cases += (s->versions & vb) ? 1u : 0u;
  }
  errors += cli_client_only_citations(&suite, ids.builtin);
  if (list) {
    if (json) printf("[");
    bool first = true;
    for (size_t i = 0; i < suite.n; i++) {
      mqs_scenario *s = suite.s[i];
      for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb)) {
        if (!(s->versions & vb)) continue;
        if (!json) {
          printf("%s@%s\t%s:%u\n", s->name, mqs_version_label(vb), s->path, s->line);
          continue;
        }
        printf("%s\n  {\"id\": ", first ? "" : ",");
        first = false;
        char id[512];
        snprintf(id, sizeof id, "%s@%s", s->name, mqs_version_label(vb));
        json_str(id);
        printf(", \"name\": ");
        json_str(s->name);
        printf(", \"version\": \"%s\", \"file\": ", mqs_version_label(vb));
        json_str(s->path);
        printf(", \"line\": %u, \"description\": ", s->line);
        json_str(s->description);
        printf(", \"rules\": [");
        unsigned b = mqs_version_slot(vb);
        for (size_t r = 0; r < s->n_rules[b]; r++) {
          if (r) printf(", ");
          json_str(s->rules[b][r]);
        }
        printf("], \"requires\": [");
        bool f2 = true;
        for (int c = 0; c < MQS_CAP_COUNT; c++)
          if (s->requires & (1u << c)) {
            printf("%s\"%s\"", f2 ? "" : ", ", mqs_cap_name((mqs_cap)c));
            f2 = false;
          }
        printf("]}");
      }
    }
    if (json) printf("\n]\n");
  }
  fprintf(stderr, "lint: %zu scenario(s), %zu case(s), %zu error(s)\n", suite.n, cases, errors);
  mqs_suite_free(&suite);
  id_catalog_free(&ids);
  free(pv);
  return errors ? 1 : 0;
}
