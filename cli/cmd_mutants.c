/* mqcheck mutants - mutation testing of the conformance suite: the suite
 * runs against the engine once per planted deviation (engine/faults.c), and
 * for each the statement it breaks must fail in some case (caught) while no
 * other statement is blamed (collateral). docs/mutants.md has the table.
 * The WebSocket deviations (net/'s mqn_ws_fault) live in the transport, which
 * the engine target does not have: for them the suite runs over ws:// against
 * a `mqcheck serve --fault NAME` child on a free loopback port. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqe.h"
#include "mqn.h"
#include "mqs.h"
#include "mqspec.h"

const char mqc_cmd_mutants_help[] =
    "mutation testing: the suite against the engine (and serve over "
    "ws://) with each planted deviation";

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck mutants [PATHS...] [--fault NAME]... [--min-caught N]\n"
             "                       [--max-collateral N] [--markdown]\n"
             "  PATHS           scenario files or directories (default: the suite)\n"
             "  --fault NAME    only this planted deviation (repeatable; --list names them;\n"
             "                  a ws-* one runs the suite over ws:// against a serve child)\n"
             "  --list          list the deviations and the statement each breaks (with\n"
             "                  --markdown: docs/mutants.md's list)\n"
             "  --uncovered     list the wire-testable statements binding the server that\n"
             "                  no deviation breaks yet (the catalog's wire yes or partial)\n"
             "  --also          list the other statements each deviation breaks too (the\n"
             "                  reviewed table of engine/faults.c, with the reason of each);\n"
             "                  'restates' marks the deviation's own duty stated again: a\n"
             "                  row of its own, caught only when the run fails it too\n"
             "  --min-caught N  exit 1 when fewer than N statements are caught\n"
             "  --max-collateral N  exit 1 when more than N rows have collateral\n"
             "  --markdown      print the table as Markdown (docs/mutants.md)\n"
             "  -v              list each failing case with its failed statements\n"
             "  --case-level    blame every statement a failing case cites (verdicts as\n"
             "                  they were before per-statement verdicts, to compare)\n"
             "A statement is caught when some case fails it with the deviation planted;\n"
             "collateral lists the other statements (and cases failing without one) blamed,\n"
             "except those --also lists (shown as 'also').\n"
             "exit: 0 done, 1 under --min-caught, over --max-collateral or the suite fails\n"
             "      without a deviation (on the engine, or over ws:// on serve),\n"
             "      2 usage or load errors\n");
}

/* Statements failed by the run, per version: "ID" or "case@v (no statement)". */
typedef struct {
  char **s;
  size_t n;
} strset;

static void set_add(strset *set, const char *s) {
  for (size_t i = 0; i < set->n; i++)
    if (!strcmp(set->s[i], s)) return;
  char **a = realloc(set->s, (set->n + 1) * sizeof *a);
  if (!a) return;
  set->s = a;
  if ((a[set->n] = strdup(s))) set->n++;
}

static void set_free(strset *set) {
  for (size_t i = 0; i < set->n; i++)
    free(set->s[i]);
  free(set->s);
  memset(set, 0, sizeof *set);
}

/* case_level: blame every statement a failing case cites, as reports did
 * before per-statement verdicts (for comparison). */
static void failed_stmts(const mqs_case *cases, const mqs_result *res, size_t n, unsigned vb,
                         bool case_level, strset *out) {
  for (size_t i = 0; i < n; i++) {
    if (cases[i].version != vb || res[i].verdict == MQS_PASS || res[i].verdict == MQS_SKIP)
      continue;
    if (case_level) {
      unsigned b = vb == MQS_V311 ? 0 : 1;
      for (size_t k = 0; k < cases[i].scenario->n_rules[b]; k++)
        set_add(out, cases[i].scenario->rules[b][k]);
      continue;
    }
    bool any = false;
    for (size_t k = 0; k < res[i].n_stmts; k++)
      if (res[i].stmts[k].verdict == MQS_ST_FAIL) {
        set_add(out, res[i].stmts[k].id);
        any = true;
      }
    if (!any) {
      char id[400], line[460];
      mqs_case_id(&cases[i], id, sizeof id);
      snprintf(line, sizeof line, "%s (%s, no statement)", id, mqs_verdict_name(res[i].verdict));
      set_add(out, line);
    }
  }
}

/* stmt is a reviewed restatement of the deviation's own statement */
static bool restated(const char *fault, bool v5, const char *stmt) {
  for (size_t i = 0; i < mqe_fault_also_count(); i++) {
    const mqe_fault_also *a = mqe_fault_also_at(i);
    if (a->restates && a->v5 == v5 && !strcmp(a->fault, fault) && !strcmp(a->stmt, stmt))
      return true;
  }
  return false;
}

/* The catalog's statements a scenario judges on the server (test server or
 * both, wire yes or partial) that no deviation names for that version. */
static int list_uncovered(void) {
  size_t n = 0, total = 0;
  for (unsigned b = 0; b < MQSPEC_NVERSIONS; b++) {
    mqspec_catalog cat;
    char err[200];
    if (mqspec_load_embedded(&cat, b ? MQSPEC_V5 : MQSPEC_V311, err, sizeof err)) {
      fprintf(stderr, "mqcheck mutants: the built-in catalog: %s\n", err);
      return 2;
    }
    for (size_t i = 0; i < cat.n; i++) {
      const mqspec_stmt *st = &cat.stmts[i];
      if ((st->test != MQSPEC_TEST_SERVER && st->test != MQSPEC_TEST_BOTH) || st->wire == MQSPEC_NO)
        continue;
      total++;
      bool named = false;
      for (size_t k = 0; k < mqe_fault_count() && !named; k++) {
        const char *id = b ? mqe_fault_at(k)->stmt_5 : mqe_fault_at(k)->stmt_311;
        named = id && !strcmp(id, st->id);
      }
      for (size_t k = 0; k < mqn_ws_fault_count() && !named; k++) {
        const char *id = b ? mqn_ws_fault_at(k)->stmt_5 : mqn_ws_fault_at(k)->stmt_311;
        named = id && !strcmp(id, st->id);
      }
      /* a reviewed restatement of a deviation's own statement is covered
       * by it (and caught only when a run fails it: see the rows) */
      for (size_t k = 0; k < mqe_fault_also_count() && !named; k++) {
        const mqe_fault_also *a = mqe_fault_also_at(k);
        named = a->restates && a->v5 == (b == 1) && !strcmp(a->stmt, st->id);
      }
      if (named) continue;
      n++;
      printf("%-5s %-14s %-7s %s\n", b ? "5.0" : "3.1.1", st->id, mqspec_tri_name(st->wire),
             st->summary);
    }
    mqspec_free(&cat);
  }
  printf("%zu of %zu wire-testable server statements have no deviation\n", n, total);
  return 0;
}

/* The reviewed table of statements a deviation breaks too must name a
 * deviation with a statement in that version, another catalog statement,
 * and a reason: an entry that drifted would hide a real collateral. */
static int check_also(bool print, bool markdown) {
  mqspec_catalog cat[MQSPEC_NVERSIONS];
  char err[200];
  for (unsigned b = 0; b < MQSPEC_NVERSIONS; b++)
    if (mqspec_load_embedded(&cat[b], b ? MQSPEC_V5 : MQSPEC_V311, err, sizeof err)) {
      fprintf(stderr, "mqcheck mutants: the built-in catalog: %s\n", err);
      if (b) mqspec_free(&cat[0]);
      return 2;
    }
  int rc = 0;
  if (print && markdown)
    printf(
        "| Deviation | Version | Also breaks | Restates its own | Why |\n|---|---|---|---|---|\n");
  for (size_t i = 0; i < mqe_fault_also_count(); i++) {
    const mqe_fault_also *a = mqe_fault_also_at(i);
    const mqe_fault_info *f = mqe_fault_lookup(a->fault);
    const char *own = f ? (a->v5 ? f->stmt_5 : f->stmt_311) : NULL;
    const mqspec_stmt *st = mqspec_find(&cat[a->v5 ? 1 : 0], a->stmt);
    bool known = st != NULL;
    /* a restatement covers a statement: it must be one a deviation could */
    if (st && a->restates &&
        ((st->test != MQSPEC_TEST_SERVER && st->test != MQSPEC_TEST_BOTH) || st->wire == MQSPEC_NO))
      known = false;
    if (!own || !strcmp(own, a->stmt) || !known || !a->why || !a->why[0]) {
      fprintf(stderr,
              "mqcheck mutants: engine/faults.c: '%s' %s %s is not a deviation's other "
              "statement in the catalog%s\n",
              a->fault, a->v5 ? "5.0" : "3.1.1", a->stmt,
              st && a->restates ? " (a restatement must bind the server and be wire-testable)"
                                : "");
      rc = 2;
    }
    if (print)
      printf(markdown ? "| `%s` | %s | %s | %s | %s |\n" : "%-29s %-5s %-14s %-8s %s\n", a->fault,
             a->v5 ? "5.0" : "3.1.1", a->stmt, a->restates ? "restates" : (markdown ? "" : "-"),
             a->why);
  }
  for (unsigned b = 0; b < MQSPEC_NVERSIONS; b++)
    mqspec_free(&cat[b]);
  return rc;
}

/* ---- WebSocket deviations: the suite over ws:// against serve ---------- */

/* A `mqcheck serve --fault NAME` child listening on ws://127.0.0.1:PORT. */
typedef struct {
  pid_t pid;
  unsigned port;
} ws_server;

/* Starts this program's serve with fault (NULL: none) on a free port and
 * waits (10 s at most) for the line naming it. Returns 0, or -1 after
 * printing why. */
static int ws_server_start(ws_server *w, const char *fault) {
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  int fds[2];
  if (len <= 0 || pipe(fds)) {
    fprintf(stderr, "mqcheck mutants: cannot start serve: %s\n", strerror(errno));
    return -1;
  }
  exe[len] = '\0';
  char *args[] = {exe,       "serve", "--quiet", "--listen", "ws://127.0.0.1:0/mqtt",
                  "--fault", NULL,    NULL};
  if (fault)
    args[6] = (char *)fault;
  else
    args[5] = NULL;
  w->pid = fork();
  if (w->pid == 0) {
    /* never outlive mutants (killed by a ctest timeout, say) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(fds[1], 2) < 0) _exit(126);
    close(fds[0]);
    execv(exe, args);
    _exit(127);
  }
  int e = errno;
  close(fds[1]);
  if (w->pid < 0) {
    close(fds[0]);
    fprintf(stderr, "mqcheck mutants: cannot start serve: %s\n", strerror(e));
    return -1;
  }
  /* serve says "serve: listening on ws://127.0.0.1:PORT/mqtt" once bound */
  char out[2048];
  size_t n = 0;
  w->port = 0;
  int64_t end = mqn_now_ms() + 10000;
  while (!w->port && n + 1 < sizeof out) {
    int64_t left = end - mqn_now_ms();
    struct pollfd p = {fds[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
    ssize_t k = read(fds[0], out + n, sizeof out - 1 - n);
    if (k <= 0) break;
    n += (size_t)k;
    out[n] = '\0';
    const char *at = strstr(out, "listening on ws://127.0.0.1:");
    if (at && strchr(at, '\n')) w->port = (unsigned)strtoul(at + 28, NULL, 10);
  }
  /* the rest of its stderr is not needed: once closed, writes fail (EPIPE) */
  close(fds[0]);
  if (!w->port) {
    out[n] = '\0';
    fprintf(stderr, "mqcheck mutants: serve did not start listening: %s\n", n ? out : "(silent)");
    kill(w->pid, SIGKILL);
    waitpid(w->pid, NULL, 0);
    return -1;
  }
  return 0;
}

static void ws_server_stop(ws_server *w) {
  kill(w->pid, SIGTERM);
  waitpid(w->pid, NULL, 0);
}

/* Runs cases over ws:// against serve with fault (NULL: a conformant one).
 * Returns 0, or -1 after printing why. */
static int ws_run(const char *fault, const mqs_case *cases, size_t n, mqs_result *res) {
  ws_server w;
  if (ws_server_start(&w, fault)) return -1;
  char url[64], err[300];
  snprintf(url, sizeof url, "ws://127.0.0.1:%u/mqtt", w.port);
  mqs_target_spec *spec = NULL;
  int rc = -1;
  if (mqs_target_spec_new(url, NULL, &spec, err, sizeof err)) {
    fprintf(stderr, "mqcheck mutants: %s: %s\n", url, err);
  } else {
    /* real time: cases wait on the broker, not on a CPU (as `run` does) */
    mqs_run_opts o = {
        .target = spec, .caps = mqs_target_spec_default_caps(spec), .jobs = MQS_NET_JOBS};
    rc = mqs_run_cases(cases, n, &o, res, NULL, NULL);
    if (rc) fprintf(stderr, "mqcheck mutants: cannot start the runner's threads\n");
  }
  mqs_target_spec_free(spec);
  ws_server_stop(&w);
  return rc;
}

/* The control run over ws://: the WebSocket deviations are measured against a
 * suite that passes over ws:// on a conformant serve. */
static int ws_control(const mqs_case *cases, size_t n, mqs_result *res) {
  if (ws_run(NULL, cases, n, res)) return -1;
  strset clean = {0};
  for (unsigned vb = MQS_V311; vb <= MQS_V5; vb <<= 1)
    failed_stmts(cases, res, n, vb, false, &clean);
  for (size_t i = 0; i < n; i++)
    mqs_result_free(&res[i]);
  if (clean.n)
    fprintf(stderr,
            "mqcheck mutants: the suite fails over ws:// on the conformant serve (%s ...)\n",
            clean.s[0]);
  int rc = clean.n ? -1 : 0;
  set_free(&clean);
  return rc;
}

int mqc_cmd_mutants(int argc, char **argv) {
  char **paths = calloc((size_t)argc + 1, sizeof *paths);
  const char **only = calloc((size_t)argc + 1, sizeof *only);
  size_t n_paths = 0, n_only = 0;
  long min_caught = -1, max_collateral = -1;
  bool markdown = false, case_level = false, verbose = false, list = false, list_also = false;
  int rc = 2;
  char suite_dir[1024];
  if (!paths || !only) goto out;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      rc = 0;
      goto out;
    } else if (!strcmp(a, "--list")) {
      list = true;
    } else if (!strcmp(a, "--uncovered")) {
      rc = list_uncovered();
      goto out;
    } else if (!strcmp(a, "--fault") && i + 1 < argc) {
      if (!mqe_fault_lookup(argv[i + 1]) && !mqn_ws_fault_lookup(argv[i + 1])) {
        rc = cli_usage("mutants", "unknown fault '%s' (see --list)", argv[i + 1]);
        goto out;
      }
      only[n_only++] = argv[++i];
    } else if (!strcmp(a, "--min-caught") && i + 1 < argc) {
      min_caught = strtol(argv[++i], NULL, 10);
    } else if (!strcmp(a, "--max-collateral") && i + 1 < argc) {
      max_collateral = strtol(argv[++i], NULL, 10);
    } else if (!strcmp(a, "--also")) {
      list_also = true;
    } else if (!strcmp(a, "--markdown")) {
      markdown = true;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      verbose = true;
    } else if (!strcmp(a, "--case-level")) {
      case_level = true;
    } else if (a[0] == '-') {
      rc = cli_bad_option("mutants", a, usage);
      goto out;
    } else {
      paths[n_paths++] = argv[i];
    }
  }
  if (list_also) {
    rc = check_also(true, markdown);
    goto out;
  }
  if (check_also(false, false)) goto out;
  if (list) {
    if (markdown)
      printf("| Deviation | 3.1.1 | 5.0 | What the engine does wrong |\n|---|---|---|---|\n");
    for (size_t k = 0; k < mqe_fault_count(); k++) {
      const mqe_fault_info *f = mqe_fault_at(k);
      const char *a311 = f->stmt_311 ? f->stmt_311 : "-", *a5 = f->stmt_5 ? f->stmt_5 : "-";
      printf(markdown ? "| `%s` | %s | %s | %s%s |\n" : "%-29s 3.1.1 %-14s 5.0 %-14s %s%s\n",
             f->name, a311, a5, f->codec_311 || f->codec_5 ? "(codec) " : "", f->what);
    }
    for (size_t k = 0; k < mqn_ws_fault_count(); k++) {
      const mqn_ws_fault_info *f = mqn_ws_fault_at(k);
      printf(markdown ? "| `%s` | %s | %s | (WebSocket) %s |\n"
                      : "%-29s 3.1.1 %-14s 5.0 %-14s (WebSocket) %s\n",
             f->name, f->stmt_311, f->stmt_5, f->what);
    }
    rc = 0;
    goto out;
  }
  if (!n_paths) {
    if (cli_suite_dir(suite_dir, sizeof suite_dir)) goto out;
    paths[n_paths++] = suite_dir;
  }
  mqs_suite suite;
  if (mqs_suite_load(paths, n_paths, &suite, stderr) || suite.errors) {
    if (!suite.errors) goto out;
    fprintf(stderr, "mqcheck mutants: %zu scenario file(s) did not load\n", suite.errors);
    mqs_suite_free(&suite);
    goto out;
  }
  mqs_case *cases = calloc(suite.n * 2 + 1, sizeof *cases);
  mqs_result *res = calloc(suite.n * 2 + 1, sizeof *res);
  mqs_target_spec *spec = NULL;
  char err[300];
  if (!cases || !res || mqs_target_spec_new("engine", NULL, &spec, err, sizeof err)) goto out_suite;
  /* grouped by version: 3.1.1 cases, then 5.0 cases from n311 on */
  size_t n = 0, n311 = 0;
  for (unsigned vb = MQS_V311; vb <= MQS_V5; vb <<= 1) {
    for (size_t i = 0; i < suite.n; i++)
      if (suite.s[i]->versions & vb) cases[n++] = (mqs_case){suite.s[i], vb};
    if (vb == MQS_V311) n311 = n;
  }
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  mqs_run_opts o = {.target = spec,
                    .caps = mqs_target_spec_default_caps(spec),
                    .jobs = ncpu > 0 ? (unsigned)ncpu : 1};
  /* the control run: a deviation is only measured against a clean suite */
  mqs_run_cases(cases, n, &o, res, NULL, NULL);
  strset clean = {0};
  for (unsigned vb = MQS_V311; vb <= MQS_V5; vb <<= 1)
    failed_stmts(cases, res, n, vb, false, &clean);
  for (size_t i = 0; i < n; i++)
    mqs_result_free(&res[i]);
  if (clean.n) {
    fprintf(stderr, "mqcheck mutants: the suite fails on the conformant engine (%s ...)\n",
            clean.s[0]);
    set_free(&clean);
    rc = 1;
    goto out_suite;
  }
  if (markdown)
    printf("| Deviation | Version | Statement | Caught | Collateral | Also (--also) |\n"
           "|---|---|---|---|---|---|\n");
  size_t with_fault = 0, caught = 0, collateral = 0, blames = 0, n_also = 0, n_restated = 0;
  strset distinct = {0}, distinct_caught = {0}; /* "version statement": rows may share one */
  /* the engine's deviations, then the WebSocket ones (rows past the engine's) */
  bool ws_ready = false; /* the control run over ws:// passed */
  for (size_t k = 0; k < mqe_fault_count() + mqn_ws_fault_count(); k++) {
    const mqe_fault_info *f = mqe_fault_at(k);
    const mqn_ws_fault_info *wf = f ? NULL : mqn_ws_fault_at(k - mqe_fault_count());
    const char *name = f ? f->name : wf->name;
    const char *s311 = f ? f->stmt_311 : wf->stmt_311, *s5 = f ? f->stmt_5 : wf->stmt_5;
    bool want = !n_only;
    for (size_t j = 0; j < n_only; j++)
      want |= !strcmp(only[j], name);
    if (!want) continue;
    /* only the versions the deviation has a statement in: a third fewer runs */
    size_t from = s311 ? 0 : n311, to = s5 ? n : n311;
    if (f) {
      o.engine_fault = f->id;
      mqs_run_cases(cases + from, to - from, &o, res + from, NULL, NULL);
    } else if ((!ws_ready && ws_control(cases, n, res)) ||
               ws_run(name, cases + from, to - from, res + from)) {
      rc = 1;
      goto out_rows;
    } else {
      ws_ready = true;
    }
    for (unsigned vb = MQS_V311; vb <= MQS_V5; vb <<= 1) {
      const char *stmt = vb == MQS_V311 ? s311 : s5;
      if (!stmt) continue;
      strset failed = {0};
      failed_stmts(cases, res, n, vb, case_level, &failed);
      bool hit = false;
      size_t also = 0, again = 0; /* failed statements it breaks too; restatements */
      for (size_t i = 0; i < failed.n; i++) {
        hit |= !strcmp(failed.s[i], stmt);
        bool r = restated(name, vb == MQS_V5, failed.s[i]);
        again += r;
        also += !r && mqe_fault_breaks_also(name, vb == MQS_V5, failed.s[i]);
      }
      size_t other = failed.n - (hit ? 1u : 0u) - also - again;
      char key[64];
      snprintf(key, sizeof key, "%s %s", mqs_version_label(vb), stmt);
      set_add(&distinct, key);
      if (hit) set_add(&distinct_caught, key);
      with_fault++;
      caught += hit;
      collateral += other > 0;
      blames += other;
      n_also += also;
      printf(markdown ? "| `%s` | %s | %s | %s | " : "%-26s %-5s %-14s %-6s ", name,
             mqs_version_label(vb), stmt, hit ? "caught" : "MISSED");
      bool first = true;
      for (size_t i = 0; i < failed.n; i++) {
        if (!strcmp(failed.s[i], stmt) || mqe_fault_breaks_also(name, vb == MQS_V5, failed.s[i]))
          continue;
        printf("%s%s", first ? "" : ", ", failed.s[i]);
        first = false;
      }
      if (first) printf("%s", markdown ? "none" : "-");
      first = true;
      for (size_t i = 0; i < failed.n; i++) {
        if (!mqe_fault_breaks_also(name, vb == MQS_V5, failed.s[i]) ||
            restated(name, vb == MQS_V5, failed.s[i]))
          continue;
        printf("%s%s", first ? (markdown ? " | " : "  also: ") : ", ", failed.s[i]);
        first = false;
      }
      printf(markdown ? "%s |\n" : "\n", first ? " | " : "");
      /* a restatement of the row's statement is a row of its own, caught
       * only when the run fails it too (its collateral is the row's) */
      for (size_t j = 0; j < mqe_fault_also_count(); j++) {
        const mqe_fault_also *a = mqe_fault_also_at(j);
        if (!a->restates || a->v5 != (vb == MQS_V5) || strcmp(a->fault, name)) continue;
        bool rhit = false;
        for (size_t i = 0; i < failed.n; i++)
          rhit |= !strcmp(failed.s[i], a->stmt);
        snprintf(key, sizeof key, "%s %s", mqs_version_label(vb), a->stmt);
        set_add(&distinct, key);
        if (rhit) set_add(&distinct_caught, key);
        with_fault++;
        caught += rhit;
        n_restated++;
        printf(markdown ? "| `%s` | %s | %s | %s | restates %s (as above) | |\n"
                        : "%-26s %-5s %-14s %-6s restates %s\n",
               name, mqs_version_label(vb), a->stmt, rhit ? "caught" : "MISSED", stmt);
      }
      set_free(&failed);
      for (size_t i = 0; verbose && i < n; i++) {
        if (cases[i].version != vb || res[i].verdict == MQS_PASS || res[i].verdict == MQS_SKIP)
          continue;
        char id[400];
        mqs_case_id(&cases[i], id, sizeof id);
        printf("    %s %s:%u:", id, cases[i].scenario->path, res[i].step_line);
        for (size_t j = 0; j < res[i].n_stmts; j++)
          if (res[i].stmts[j].verdict == MQS_ST_FAIL) printf(" %s", res[i].stmts[j].id);
        printf("  (%s)\n", res[i].message ? res[i].message : "");
      }
    }
    for (size_t i = 0; i < n; i++)
      mqs_result_free(&res[i]);
  }
  printf("%s%zu statements with a fault (%zu of them restatements): %zu caught, %zu with "
         "collateral (%zu other statements blamed in all; %zu more the deviations break too, "
         "--also; %zu cases in the suite%s); %zu distinct statements, %zu of them caught\n",
         markdown ? "\n" : "", with_fault, n_restated, caught, collateral, blames, n_also, n,
         ws_ready ? ", run over ws:// too for the WebSocket deviations" : "", distinct.n,
         distinct_caught.n);
  rc = min_caught >= 0 && (long)caught < min_caught ? 1 : 0;
  fflush(stdout); /* the table first: a gate's message after it, not inside it */
  if (rc) fprintf(stderr, "mqcheck mutants: %zu caught, fewer than %ld\n", caught, min_caught);
  if (max_collateral >= 0 && (long)collateral > max_collateral) {
    fprintf(stderr, "mqcheck mutants: %zu rows with collateral, more than %ld\n", collateral,
            max_collateral);
    rc = 1;
  }
out_rows:
  set_free(&distinct);
  set_free(&distinct_caught);
out_suite:
  mqs_target_spec_free(spec);
  free(cases);
  free(res);
  mqs_suite_free(&suite);
out:
  free(paths);
  free(only);
  return rc;
}
