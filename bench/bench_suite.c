/* mqcheck bench suite [PATHS] [--target T] [--rounds N] [--jobs N] - times
 * the whole scenario suite against a target and prints the figures (cases,
 * wall time per round, cases per second). A benchmark, never a timed test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqs.h"

const char mqc_bench_suite_help[] = "time the scenario suite against the engine or a broker";

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck bench suite [PATHS] [--target T] [--rounds N] [--jobs N]\n"
             "  PATHS  scenario files or directories (default: the suite mqcheck runs)\n");
}

int mqc_bench_suite(int argc, char **argv) {
  const char *target = "engine";
  unsigned rounds = 5, jobs = 0;
  char *paths[64];
  size_t np = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--target") && i + 1 < argc)
      target = argv[++i];
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--jobs") && i + 1 < argc)
      jobs = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] == '-')
      return cli_bad_option("bench suite", argv[i], usage);
    else if (np < 64)
      paths[np++] = argv[i];
  }
  char suite_dir[4200];
  if (!np) {
    if (cli_suite_dir(suite_dir, sizeof suite_dir)) {
      fprintf(stderr, "mqcheck bench suite: no scenario suite installed (looked in %s)\n",
              suite_dir);
      return 2;
    }
    paths[np++] = suite_dir;
  }
  if (!rounds) rounds = 1;
  double t0 = now_ms();
  mqs_suite suite;
  if (mqs_suite_load(paths, np, &suite, stderr) || suite.errors) {
    mqs_suite_free(&suite);
    return 2;
  }
  double load_ms = now_ms() - t0;
  mqs_target_spec *spec;
  char err[300];
  if (mqs_target_spec_new(target, NULL, &spec, err, sizeof err)) {
    fprintf(stderr, "bench suite: %s\n", err);
    mqs_suite_free(&suite);
    return 2;
  }
  mqs_case *cases = calloc(suite.n * 3 + 1, sizeof *cases);
  size_t n = 0;
  for (size_t i = 0; cases && i < suite.n; i++)
    for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb))
      if (suite.s[i]->versions & vb) cases[n++] = (mqs_case){suite.s[i], vb};
  mqs_result *res = calloc(n + 1, sizeof *res);
  double *last = calloc(n + 1, sizeof *last); /* each case's wall time, last round */
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  bool engine = mqs_target_spec_is_engine(spec);
  if (!jobs) jobs = engine ? (ncpu > 0 ? (unsigned)ncpu : 1) : 16;
  mqs_run_opts o = {
      .target = spec, .caps = mqs_target_spec_default_caps(spec), .jobs = jobs, .run_id = "bench"};
  printf("suite: %zu scenarios, %zu cases, loaded in %.1f ms; target %s, %u jobs\n", suite.n, n,
         load_ms, target, jobs);
  double best = 1e18, total = 0;
  size_t pass = 0, fail = 0, skip = 0, error = 0;
  for (unsigned r = 0; r < rounds && res && cases; r++) {
    char rid[16];
    snprintf(rid, sizeof rid, "b%u%ld", r, (long)getpid() % 1000);
    o.run_id = engine ? "bench" : rid;
    double s = now_ms();
    mqs_run_cases(cases, n, &o, res, NULL, NULL);
    double d = now_ms() - s;
    total += d;
    if (d < best) best = d;
    pass = fail = skip = error = 0;
    for (size_t i = 0; i < n; i++) {
      pass += res[i].verdict == MQS_PASS;
      fail += res[i].verdict == MQS_FAIL;
      skip += res[i].verdict == MQS_SKIP;
      error += res[i].verdict == MQS_ERROR;
      if (last) last[i] = res[i].wall_ms;
      mqs_result_free(&res[i]);
    }
    printf("round %u: %.1f ms (%zu pass, %zu fail, %zu skip, %zu error)\n", r + 1, d, pass, fail,
           skip, error);
  }
  printf("whole suite against %s: best %.1f ms, mean %.1f ms over %u rounds; %.0f cases/s\n",
         target, best, total / rounds, rounds, best > 0 ? (double)n * 1000.0 / best : 0.0);
  /* the slowest cases bound the wall time however many jobs run */
  for (size_t k = 0; last && cases && k < 10 && k < n; k++) {
    size_t top = 0;
    for (size_t i = 1; i < n; i++)
      if (last[i] > last[top]) top = i;
    if (last[top] < 0) break;
    char id[400];
    mqs_case_id(&cases[top], id, sizeof id);
    printf("%s %8.1f ms  %s\n", k ? "         " : "slowest: ", last[top], id);
    last[top] = -1;
  }
  free(last);
  free(res);
  free(cases);
  mqs_target_spec_free(spec);
  mqs_suite_free(&suite);
  return 0;
}
