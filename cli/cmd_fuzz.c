/* cmd_fuzz.c - mqcheck fuzz: the network broker fuzzer (docs/netfuzz.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqs.h"
#include "mqz.h"

const char mqc_cmd_fuzz_help[] =
    "fuzz a broker over the network, oracle-judged; findings as scenarios";

static volatile int stop_flag;
static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck fuzz (--target URL | --exec \"CMD ... {port}\") [options] [SEED...]\n"
             "       mqcheck fuzz --target a=URL --target b=URL [--profile F] [options] [SEED...]\n"
             "\n"
             "Fuzzes an MQTT broker with sessions compiled from the scenario suite (SEED files\n"
             "or folders; default: the suite mqcheck run uses) and mutated at session, packet and "
             "timing level.\n"
             "Oracles: crash (exec'd broker exits or prints a sanitizer report), hang (liveness\n"
             "probe), bad-wire (server bytes that do not decode), spec (statements the\n"
             "specification fixes), leak (exec'd broker's RSS/descriptors grow, or it\n"
             "burns CPU at rest).\n"
             "\n"
             "target:\n"
             "  --target URL          tcp://, mqtts://, ws://, wss:// (as for run); given\n"
             "                        several times as NAME=URL, the nodes of a cluster: the\n"
             "                        clients of a session are spread over them\n"
             "                        (docs/cluster.md)\n"
             "  --profile F           target profile (as for run): its target list, its\n"
             "                        cluster: promises and propagation_ms, credentials, TLS\n"
             "  --exec \"CMD {port}\"   start the broker on a free loopback port, restart it\n"
             "                        after each crash; its output goes to DIR/broker-N.log\n"
             "  --jobs N              exec: N broker instances, one port each (default 1)\n"
             "  --exec-url URL        exec: how the broker is reached, with {port} (default\n"
             "                        tcp://127.0.0.1:{port}; e.g. mqtts://127.0.0.1:{port}\n"
             "                        for a TLS listener, with --cafile or --insecure)\n"
             "  --cafile/--cert/--key F, --insecure   TLS, as for run\n"
             "  --username U --password P              for the liveness probe\n"
             "  --version V           3.1, 3.1.1 or 5, repeatable (default: every version the\n"
             "                        target accepts)\n");
  fprintf(f,
          "run:\n"
          "  --findings DIR        where findings go, made with its parents (default: findings)\n"
          "  --corpus DIR          extra sessions to start from\n"
          "  --seed N              (default 1): session k is regenerated from N and k\n"
          "  --duration T          stop after T (e.g. 90s, 30m, 8h)\n"
          "  --sessions N          stop after N sessions\n"
          "  --max-findings N      stop after N unique findings\n"
          "  --concurrency N       sessions in flight per instance (default 64)\n"
          "  --coverage            exec'd broker built with AFL++ instrumentation: keep\n"
          "                        sessions that reach new edges\n"
          "  --no-feedback         --coverage that only counts edges (for comparisons)\n"
          "  --sync-dir DIR        share the corpus with other fuzzers (AFL++ queue layout)\n"
          "  --resume              continue the run recorded in --findings DIR\n"
          "  --json-stats F        write the statistics as JSON every second\n"
          "  --no-spec             only crash, hang, bad-wire and leak\n"
          "  --no-minimise         keep findings as found\n"
          "  --hang-ms MS          liveness deadline (default 2000)\n"
          "  --drain-ms MS         how long deliveries owed to a leaving subscriber may take\n"
          "                        (default 500)\n"
          "  --leak-rss KIB --leak-fds N --leak-window SESSIONS\n"
          "                        leak thresholds (default 32768 KiB, 64, 2000)\n"
          "  --held-rss KIB        exec: the broker's RSS rising this far over its lowest\n"
          "                        while sessions run is a finding, even if freed after\n"
          "                        (default 262144)\n"
          "  --exit-every N        a broker built with LeakSanitizer is stopped with SIGTERM\n"
          "                        every N sessions (default 10000) and at the end; its\n"
          "                        leak and shutdown reports are findings\n"
          "  --no-exit-check       never stop it for that\n"
          "  --idle-cpu PCT        exec: the broker at rest (no session, idle connections)\n"
          "                        runnable more than PCT%% of a core is a finding, checked\n"
          "                        every 10 s and at the end (default 50; 0 turns it off)\n"
          "  --idle-cpu-ms MS      how long it is measured at rest (default 300)\n"
          "  --stack-kib N         the exec'd broker's stack limit (RLIMIT_STACK), so that\n"
          "                        unbounded recursion crashes at depths inputs reach\n"
          "  --replay FILE|DIR     run one session file (a finding's session.bin, or its\n"
          "                        folder) and exit; with --exec, the crash, leak-at-exit\n"
          "                        and idle-CPU oracles judge the broker afterwards\n"
          "  -q                    no status line\n"
          "\n"
          "Exit: 0 no finding, 1 a finding was made, 2 usage or setup error.\n");
}

/* Does url (a --target, or an --exec-url template whose "{port}" is not a
 * port yet) name a TLS scheme? As net/ reads schemes, not by prefix. */
static bool url_is_tls(const char *url) {
  if (!url) return false;
  char text[600];
  const char *at = strstr(url, "{port}");
  if (at)
    snprintf(text, sizeof text, "%.*s1%s", (int)(at - url), url, at + 6);
  else
    snprintf(text, sizeof text, "%s", url);
  mqn_url u;
  return mqn_url_parse(text, &u) == MQN_OK && mqn_scheme_is_tls(u.scheme);
}

static int parse_duration(const char *s, uint64_t *ms) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  double mult = 1000;
  if (!strcmp(end, "ms"))
    mult = 1;
  else if (!strcmp(end, "s") || !*end)
    mult = 1000;
  else if (!strcmp(end, "m"))
    mult = 60000;
  else if (!strcmp(end, "h"))
    mult = 3600000;
  else
    return -1;
  *ms = (uint64_t)(v * mult);
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end || s[0] == '-') return -1;
  *out = v;
  return 0;
}

/* Options into o, tls, replay and seeds (room for argc). Returns -1 to go
 * on, 0 after --help, 2 on a usage error (reported). */
static int parse_args(int argc, char **argv, mqz_opts *o, mqs_tls_opts *tls, const char **replay,
                      char **seeds, size_t *n_seeds, const char **targets, size_t *n_targets,
                      const char **profile) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t u;
#define NEED_ARG                                                                                   \
  do {                                                                                             \
    if (!v) return cli_usage("fuzz", "option '%s' needs a value", a);                              \
    i++;                                                                                           \
  } while (0)
#define BAD_VALUE return cli_usage("fuzz", "bad value '%s' for %s", v, a)
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--target")) {
      NEED_ARG;
      if (*n_targets == MQS_NODES_MAX)
        return cli_usage("fuzz", "at most %d --target nodes", MQS_NODES_MAX);
      targets[(*n_targets)++] = o->target = v;
    } else if (!strcmp(a, "--profile")) {
      NEED_ARG;
      *profile = v;
    } else if (!strcmp(a, "--exec")) {
      NEED_ARG;
      o->exec = v;
    } else if (!strcmp(a, "--exec-url")) {
      NEED_ARG;
      o->exec_url = v;
    } else if (!strcmp(a, "--jobs")) {
      NEED_ARG;
      if (parse_u64(v, &u) || !u || u > 16) BAD_VALUE;
      o->jobs = (unsigned)u;
    } else if (!strcmp(a, "--cafile")) {
      NEED_ARG;
      tls->cafile = v;
    } else if (!strcmp(a, "--cert")) {
      NEED_ARG;
      tls->cert = v;
    } else if (!strcmp(a, "--key")) {
      NEED_ARG;
      tls->key = v;
    } else if (!strcmp(a, "--insecure")) {
      tls->insecure = true;
    } else if (!strcmp(a, "--username")) {
      NEED_ARG;
      o->username = v;
    } else if (!strcmp(a, "--password")) {
      NEED_ARG;
      o->password = v;
    } else if (!strcmp(a, "--version")) {
      NEED_ARG;
      mqc_version ver;
      if (cli_parse_version(v, &ver) || ver == MQC_VERSION_AUTO) BAD_VALUE;
      o->versions |= ver == MQC_V5 ? MQS_V5 : ver == MQC_V31 ? MQZ_V31 : MQS_V311;
    } else if (!strcmp(a, "--findings")) {
      NEED_ARG;
      o->findings_dir = v;
    } else if (!strcmp(a, "--corpus")) {
      NEED_ARG;
      o->corpus_dir = v;
    } else if (!strcmp(a, "--seed")) {
      NEED_ARG;
      if (parse_u64(v, &o->seed)) BAD_VALUE;
    } else if (!strcmp(a, "--duration")) {
      NEED_ARG;
      if (parse_duration(v, &o->duration_ms)) BAD_VALUE;
    } else if (!strcmp(a, "--sessions")) {
      NEED_ARG;
      if (parse_u64(v, &o->max_sessions) || !o->max_sessions) BAD_VALUE;
    } else if (!strcmp(a, "--max-findings")) {
      NEED_ARG;
      if (parse_u64(v, &u) || !u) BAD_VALUE;
      o->max_findings = (unsigned)u;
    } else if (!strcmp(a, "--concurrency")) {
      NEED_ARG;
      if (parse_u64(v, &u) || !u || u > 1024) BAD_VALUE;
      o->concurrency = (unsigned)u;
    } else if (!strcmp(a, "--coverage")) {
      o->coverage = true;
    } else if (!strcmp(a, "--no-feedback")) {
      o->coverage = true;
      o->no_feedback = true;
    } else if (!strcmp(a, "--sync-dir")) {
      NEED_ARG;
      o->sync_dir = v;
    } else if (!strcmp(a, "--resume")) {
      o->resume = true;
    } else if (!strcmp(a, "--json-stats")) {
      NEED_ARG;
      o->stats_json = v;
    } else if (!strcmp(a, "--no-spec")) {
      o->no_spec = true;
    } else if (!strcmp(a, "--no-minimise")) {
      o->no_minimise = true;
    } else if (!strcmp(a, "--hang-ms")) {
      NEED_ARG;
      if (parse_u64(v, &u) || !u) BAD_VALUE;
      o->hang_ms = (uint32_t)u;
    } else if (!strcmp(a, "--drain-ms")) {
      NEED_ARG;
      if (parse_u64(v, &u) || !u) BAD_VALUE;
      o->drain_ms = (uint32_t)u;
    } else if (!strcmp(a, "--leak-rss")) {
      NEED_ARG;
      if (parse_u64(v, &o->leak_rss_kib) || !o->leak_rss_kib) BAD_VALUE;
    } else if (!strcmp(a, "--held-rss")) {
      NEED_ARG;
      if (parse_u64(v, &o->held_rss_kib) || !o->held_rss_kib) BAD_VALUE;
    } else if (!strcmp(a, "--leak-fds")) {
      NEED_ARG;
      if (parse_u64(v, &u) || !u) BAD_VALUE;
      o->leak_fds = (unsigned)u;
    } else if (!strcmp(a, "--leak-window")) {
      NEED_ARG;
      if (parse_u64(v, &o->leak_window) || !o->leak_window) BAD_VALUE;
    } else if (!strcmp(a, "--exit-every")) {
      NEED_ARG;
      if (parse_u64(v, &o->exit_every) || !o->exit_every) BAD_VALUE;
    } else if (!strcmp(a, "--stack-kib")) {
      NEED_ARG;
      if (parse_u64(v, &u) || !u || u > 4194304) BAD_VALUE;
      o->stack_kib = (uint32_t)u;
    } else if (!strcmp(a, "--idle-cpu")) {
      NEED_ARG;
      if (parse_u64(v, &u) || u > 6400) BAD_VALUE;
      o->idle_cpu_pct = (unsigned)u;
      o->no_idle_cpu = u == 0;
    } else if (!strcmp(a, "--idle-cpu-ms")) {
      NEED_ARG;
      if (parse_u64(v, &u) || u < 50 || u > 60000) BAD_VALUE;
      o->idle_cpu_ms = (uint32_t)u;
    } else if (!strcmp(a, "--no-exit-check")) {
      o->no_exit_check = true;
    } else if (!strcmp(a, "--replay")) {
      NEED_ARG;
      *replay = v;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      o->quiet = true;
    } else if (a[0] == '-') {
      return cli_bad_option("fuzz", a, usage);
    } else {
      seeds[(*n_seeds)++] = argv[i];
    }
  }
  return -1;
}
#undef NEED_ARG
#undef BAD_VALUE

/* The profile fills what the command line left open (as for run); several
 * targets, given or from the profile, are the nodes of a cluster, named as
 * run names them, with the profile's promises and propagation bound. names
 * and urls (MQS_NODES_MAX entries) borrow from *spec. Returns 0, or -1
 * after reporting the error. */
static int cluster_setup(mqz_opts *o, mqs_tls_opts *tls, const char *profile, mqs_profile *prof,
                         const char **targets, size_t n_targets, mqs_target_spec **spec,
                         const char **names, const char **urls) {
  if (profile) {
    if (cli_check_file("fuzz", "--profile", profile) ||
        cli_profile_load(profile, prof, &o->username, &o->password, tls))
      return -1;
    if (!n_targets && !o->exec && prof->n_targets > 1) {
      n_targets = prof->n_targets;
      for (size_t k = 0; k < n_targets && k < MQS_NODES_MAX; k++)
        targets[k] = prof->targets[k];
    }
    if (!n_targets && !o->exec && prof->target) targets[n_targets++] = o->target = prof->target;
    if (!o->versions) o->versions = prof->versions; /* MQS_V31 is MQZ_V31 */
    o->propagation_ms = prof->propagation_ms;
    o->cluster_off = prof->cluster_off;
  }
  if (n_targets < 2) return 0;
  if (o->exec) {
    fprintf(stderr,
            "mqcheck fuzz: several --target nodes make a cluster; --exec starts one broker\n");
    return -1;
  }
  char err[512];
  if (mqs_target_spec_new_nodes(targets, n_targets, NULL, spec, err, sizeof err)) {
    fprintf(stderr, "mqcheck fuzz: %s\n", err);
    return -1;
  }
  o->n_nodes = (unsigned)mqs_target_spec_n_nodes(*spec);
  for (unsigned k = 0; k < o->n_nodes; k++) {
    names[k] = mqs_target_spec_node_name(*spec, k);
    urls[k] = mqs_target_spec_node_url(*spec, k);
  }
  o->node_names = names;
  o->node_urls = urls;
  o->target = urls[0];
  if (!prof->has_cluster)
    fprintf(stderr,
            "fuzz: %u nodes and no cluster: section in a profile: every promise assumed, "
            "propagation bound %u ms (docs/cluster.md)\n",
            o->n_nodes, MQZ_PROPAGATION_DEFAULT_MS);
  return 0;
}

int mqc_cmd_fuzz(int argc, char **argv) {
  mqz_opts o;
  memset(&o, 0, sizeof o);
  o.seed = 1;
  o.findings_dir = "findings";
  mqs_tls_opts tls = {0};
  const char *replay = NULL, *profile = NULL;
  const char *targets[MQS_NODES_MAX];
  size_t n_targets = 0;
  char **seeds = calloc((size_t)argc + 1, sizeof *seeds);
  size_t n_seeds = 0;
  if (!seeds) return 2;
  int parsed =
      parse_args(argc, argv, &o, &tls, &replay, seeds, &n_seeds, targets, &n_targets, &profile);
  if (parsed >= 0) {
    free(seeds);
    return parsed;
  }
  mqs_profile prof;
  memset(&prof, 0, sizeof prof);
  mqs_target_spec *spec = NULL;
  const char *names[MQS_NODES_MAX], *urls[MQS_NODES_MAX];
  if (cluster_setup(&o, &tls, profile, &prof, targets, n_targets, &spec, names, urls)) {
    mqs_profile_free(&prof);
    free(seeds);
    return 2;
  }
  if (!o.target == !o.exec) {
    fprintf(stderr, "mqcheck fuzz: give --target URL or --exec \"CMD ... {port}\" (one of them)\n");
    free(seeds);
    return 2;
  }
  char suite_dir[4200];
  if (!n_seeds && !replay) { /* the suite mqcheck runs: installed, or the source tree's */
    if (cli_suite_dir(suite_dir, sizeof suite_dir)) {
      fprintf(stderr, "mqcheck fuzz: no scenario suite to seed from (looked in %s); name one\n",
              suite_dir);
      free(seeds);
      return 2;
    }
    seeds[n_seeds++] = suite_dir;
  }
  o.seed_paths = seeds;
  o.n_seed_paths = n_seeds;
  char err[600];
  mqn_tls *ctx = NULL;
  if (url_is_tls(o.exec_url ? o.exec_url : o.target)) {
    mqn_tls_opts to = {.ca_file = tls.cafile,
                       .cert_file = tls.cert,
                       .key_file = tls.key,
                       .insecure = tls.insecure};
    if (mqn_tls_new_client(&to, &ctx, err, sizeof err) != MQN_OK) {
      fprintf(stderr, "mqcheck fuzz: TLS (--cafile/--cert/--key): %s\n", err);
      free(seeds);
      return 2;
    }
    o.tls = ctx;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  o.stop = &stop_flag;
  int rc;
  if (replay) {
    rc = mqz_replay(&o, replay, err, sizeof err);
  } else {
    mqz_stats st;
    rc = mqz_fuzz(&o, &st, err, sizeof err);
    if (rc != 2 && !o.quiet)
      fprintf(stderr, "fuzz: %llu sessions in %.1f s (%.0f/s), %llu finding(s) in %s\n",
              (unsigned long long)st.sessions, st.elapsed_s,
              st.elapsed_s > 0 ? (double)st.sessions / st.elapsed_s : 0.0,
              (unsigned long long)st.findings, o.findings_dir);
  }
  if (rc == 2) fprintf(stderr, "mqcheck fuzz: %s\n", err);
  mqn_tls_free(ctx);
  mqs_target_spec_free(spec);
  mqs_profile_free(&prof);
  free(seeds);
  return rc;
}
