/* mqcheck bench suite [PATHS] [--target T ...] [--rounds N] [--jobs N]
 * [--mosquitto PATH] [--mosquitto-profile F] - times the whole scenario
 * suite against several targets in one run: by default the engine, `mqcheck
 * serve` (this binary, started on a free loopback port) and mosquitto
 * (started the same way when installed). Prints per target the wall time
 * per round, the verdict counts and the slowest 10 cases. A benchmark,
 * never a timed test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "load_util.h"
#include "mqs.h"

const char mqc_bench_suite_help[] =
    "time the scenario suite against the engine, serve and mosquitto in one run";

#define MAX_TARGETS 8

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck bench suite [PATHS] [--target T ...] [--rounds N] [--jobs N]\n"
             "                           [--mosquitto PATH] [--mosquitto-profile F]\n"
             "  PATHS    scenario files or directories (default: the suite mqcheck runs)\n"
             "  --target engine, serve, mosquitto or a broker URL; repeatable\n"
             "           (default: engine, serve and mosquitto)\n"
             "  --rounds runs per target (default 3); --jobs as for run (default: run's)\n"
             "  --mosquitto-profile  capabilities of mosquitto (default:\n"
             "           ci/baselines/mosquitto.profile.yaml when it exists)\n");
}

/* The suite's cases, as `mqcheck run` builds them: scenario x version. */
typedef struct {
  mqs_case *c;
  size_t n;
} case_list;

/* One target's figures, printed by bench_target. */
static int bench_target(const char *label, const char *url, uint32_t caps_on, uint32_t caps_off,
                        unsigned versions, const case_list *cl, unsigned rounds, unsigned jobs) {
  mqs_target_spec *spec;
  char err[300];
  if (mqs_target_spec_new(url, NULL, &spec, err, sizeof err)) {
    fprintf(stderr, "bench suite: %s: %s\n", label, err);
    return 2;
  }
  bool engine = mqs_target_spec_is_engine(spec);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (!jobs) { /* as `mqcheck run` chooses */
    jobs = ncpu > 0 ? (unsigned)ncpu : 1;
    if (!engine && jobs < MQS_NET_JOBS) jobs = MQS_NET_JOBS;
  }
  /* the versions the target speaks go first, as in `mqcheck run` */
  mqs_case *cases = calloc(cl->n + 1, sizeof *cases);
  mqs_result *res = calloc(cl->n + 1, sizeof *res);
  double *last = calloc(cl->n + 1, sizeof *last); /* each case's wall time, last round */
  size_t n = 0;
  for (size_t i = 0; cases && i < cl->n; i++)
    if (cl->c[i].version & versions) cases[n++] = cl->c[i];
  mqs_run_opts o = {.target = spec,
                    .caps = (mqs_target_spec_default_caps(spec) | caps_on) & ~caps_off,
                    .jobs = jobs,
                    /* as `mqcheck run`: the engine is one broker, where every
                     * cross-node promise holds; a single broker is no cluster */
                    .cluster = engine ? MQS_CLUSTER_ALL : 0};
  printf("\n%s (%s): %zu cases, %u jobs\n", label, url, n, jobs);
  double best = 1e18, total = 0;
  for (unsigned r = 0; r < rounds && cases && res && last; r++) {
    char rid[32];
    snprintf(rid, sizeof rid, "b%u%ld", r, (long)getpid() % 10000);
    o.run_id = engine ? "bench" : rid;
    double s = now_ms();
    mqs_run_cases(cases, n, &o, res, NULL, NULL);
    double d = now_ms() - s;
    total += d;
    if (d < best) best = d;
    size_t v[4] = {0, 0, 0, 0}; /* pass fail skip error */
    for (size_t i = 0; i < n; i++) {
      v[0] += res[i].verdict == MQS_PASS;
      v[1] += res[i].verdict == MQS_FAIL;
      v[2] += res[i].verdict == MQS_SKIP;
      v[3] += res[i].verdict == MQS_ERROR;
      last[i] = res[i].wall_ms;
      mqs_result_free(&res[i]);
    }
    printf("  round %u: %8.1f ms  (%zu pass, %zu fail, %zu skip, %zu error)\n", r + 1, d, v[0],
           v[1], v[2], v[3]);
  }
  if (rounds && cases && res && last) {
    printf("  wall: best %.1f ms, mean %.1f ms over %u rounds; %.0f cases/s\n", best,
           total / rounds, rounds, best > 0 ? (double)n * 1000.0 / best : 0.0);
    /* the slowest cases bound the wall time however many jobs run */
    for (size_t k = 0; k < 10 && k < n; k++) {
      size_t top = 0;
      for (size_t i = 1; i < n; i++)
        if (last[i] > last[top]) top = i;
      if (last[top] < 0) break;
      char id[400];
      mqs_case_id(&cases[top], id, sizeof id);
      printf("  %s %8.1f ms  %s\n", k ? "        " : "slowest:", last[top], id);
      last[top] = -1;
    }
  }
  int rc = cases && res && last ? 0 : 2;
  free(last);
  free(res);
  free(cases);
  mqs_target_spec_free(spec);
  return rc;
}

/* Starts `mqcheck serve` (this binary) or mosquitto on a free loopback
 * port; *url receives its address. Returns the pid, or -1. */
static pid_t start_broker(bool mosquitto, const char *mosq_bin, const char *dir, char *url,
                          size_t cap) {
  uint16_t port = lu_free_port();
  if (!port) return -1;
  snprintf(url, cap, "tcp://127.0.0.1:%u", port);
  char log[4200], listen[64];
  snprintf(log, sizeof log, "%s/%s.log", dir, mosquitto ? "mosquitto" : "serve");
  if (!mosquitto) {
    snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
    char *argv[] = {"/proc/self/exe", "serve", "--quiet", "--listen", listen, NULL};
    return lu_spawn(argv, port, log);
  }
  char conf[4200];
  snprintf(conf, sizeof conf, "%s/mosquitto.conf", dir);
  FILE *f = fopen(conf, "w");
  if (!f) return -1;
  /* nodelay as in tests/suite/run-broker.sh: small writes are not held */
  fprintf(f, "set_tcp_nodelay true\nlistener %u 127.0.0.1\nallow_anonymous true\n", port);
  fclose(f);
  char *argv[] = {(char *)mosq_bin, "-c", conf, NULL};
  return lu_spawn(argv, port, log);
}

int mqc_bench_suite(int argc, char **argv) {
  const char *targets[MAX_TARGETS];
  size_t nt = 0;
  unsigned rounds = 3, jobs = 0;
  const char *mosq = "/usr/sbin/mosquitto", *mosq_profile = NULL;
  /* every argument may be a path, and one more for the default suite */
  char **paths = calloc((size_t)argc + 1, sizeof *paths);
  size_t np = 0;
  if (!paths) return 2;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--target") && i + 1 < argc) {
      if (nt == MAX_TARGETS) {
        free(paths);
        return cli_usage("bench suite", "at most %d targets", MAX_TARGETS);
      }
      targets[nt++] = argv[++i];
    } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--jobs") && i + 1 < argc)
      jobs = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--mosquitto") && i + 1 < argc)
      mosq = argv[++i];
    else if (!strcmp(argv[i], "--mosquitto-profile") && i + 1 < argc)
      mosq_profile = argv[++i];
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      free(paths);
      return 0;
    } else if (argv[i][0] == '-') {
      free(paths);
      return cli_bad_option("bench suite", argv[i], usage);
    } else
      paths[np++] = argv[i];
  }
  if (!nt) {
    targets[nt++] = "engine";
    targets[nt++] = "serve";
    targets[nt++] = "mosquitto";
  }
  if (!rounds) rounds = 1;
  char suite_dir[4200];
  if (!np) {
    if (cli_suite_dir(suite_dir, sizeof suite_dir)) {
      fprintf(stderr, "mqcheck bench suite: no scenario suite installed (looked in %s)\n",
              suite_dir);
      free(paths);
      return 2;
    }
    paths[np++] = suite_dir;
  }
  if (!mosq_profile && !access("ci/baselines/mosquitto.profile.yaml", R_OK))
    mosq_profile = "ci/baselines/mosquitto.profile.yaml";
  double t0 = now_ms();
  mqs_suite suite;
  int loaded = mqs_suite_load(paths, np, &suite, stderr);
  free(paths); /* the suite keeps no pointer to them */
  if (loaded || suite.errors) {
    mqs_suite_free(&suite);
    return 2;
  }
  double load_ms = now_ms() - t0;
  case_list cl = {calloc(suite.n * 3 + 1, sizeof *cl.c), 0};
  for (size_t i = 0; cl.c && i < suite.n; i++)
    for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb))
      if (suite.s[i]->versions & vb) cl.c[cl.n++] = (mqs_case){suite.s[i], vb};
  char dir[] = "/tmp/mqcheck-bench-suite.XXXXXX";
  if (!cl.c || !mkdtemp(dir)) {
    free(cl.c);
    mqs_suite_free(&suite);
    fprintf(stderr, "bench suite: out of memory or no temporary directory\n");
    return 2;
  }
  printf("suite: %zu scenarios, %zu cases, loaded in %.1f ms; %u rounds per target\n", suite.n,
         cl.n, load_ms, rounds);
  int rc = 0;
  for (size_t t = 0; t < nt; t++) {
    bool is_serve = !strcmp(targets[t], "serve"), is_mosq = !strcmp(targets[t], "mosquitto");
    char url[64];
    const char *u = targets[t];
    uint32_t on = 0, off = 0;
    unsigned versions = MQS_VALL;
    pid_t pid = -1;
    if (is_serve || is_mosq) {
      if (is_mosq && access(mosq, X_OK)) {
        printf("\nmosquitto: not run (%s is not installed)\n", mosq);
        continue;
      }
      pid = start_broker(is_mosq, mosq, dir, url, sizeof url);
      if (pid < 0) {
        printf("\n%s: did not start (log in %s)\n", targets[t], dir);
        rc = 2;
        continue;
      }
      u = url;
    }
    if (is_mosq && mosq_profile) {
      mqs_profile prof;
      mqs_load_error le;
      if (mqs_profile_load(mosq_profile, &prof, &le)) {
        fprintf(stderr, "%s:%zu:%zu: error: %s\n", le.file, le.line, le.column, le.message);
        lu_stop(pid);
        rc = 2;
        continue;
      }
      on = prof.caps_on, off = prof.caps_off;
      versions = prof.versions ? prof.versions : MQS_VALL;
      mqs_profile_free(&prof);
    }
    rc |= bench_target(targets[t], u, on, off, versions, &cl, rounds, jobs);
    if (is_mosq)
      printf("  (capabilities from %s)\n", mosq_profile ? mosq_profile : "none: every one assumed");
    if (pid > 0) lu_stop(pid);
  }
  char rm[4300];
  snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
  if (system(rm)) fprintf(stderr, "bench suite: could not remove %s\n", dir);
  free(cl.c);
  mqs_suite_free(&suite);
  return rc;
}
