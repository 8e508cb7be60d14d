/* mqcheck run - plays scenarios against the built-in engine (default, on a
 * virtual clock) or a broker, writes JUnit/JSON/Markdown reports and gates
 * on a baseline. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqn.h"
#include "mqp.h"
#include "mqr.h"
#include "mqs.h"
#include "mqspec.h"

const char mqc_cmd_run_help[] =
    "run scenarios against the engine or a broker (reports, baseline gate)";

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck run [PATHS...] [options]\n"
             "  PATHS                 scenario files or directories (default: the suite\n"
             "                        installed with mqcheck, or the source tree's in a build)\n"
             "  --target T            engine (default) | tcp://HOST:PORT | mqtts://HOST:PORT |\n"
             "                        ws://HOST:PORT/PATH | wss://HOST:PORT/PATH; repeated\n"
             "                        as NAME=URL, the named nodes of a cluster (a cluster\n"
             "                        case puts its clients on different nodes,\n"
             "                        docs/cluster.md)\n"
             "  --profile F           target profile (YAML): address, credentials, TLS,\n"
             "                        capabilities, timeouts; options given here win.\n"
             "                        Without one, a broker target is probed first\n"
             "                        (mqcheck probe) and the run uses what it found\n"
             "  --no-probe            no profile and no probe: assume every capability\n"
             "  --cafile F --cert F --key F --insecure   TLS (mqtts://, wss://)\n"
             "  --username U --password P   for every CONNECT that sets none itself\n"
             "  --version V           3.1.1 or 5 (default: every version a scenario lists)\n"
             "  --jobs N              cases in parallel (default: CPUs, at least 32 against a\n"
             "                        broker, where cases mostly wait; 1 = serial)\n"
             "  --filter PAT          only matching cases (repeatable): a plain word matches\n"
             "                        anywhere in name@version, a glob (* ? [..]) the whole\n"
             "                        name or name@version\n"
             "  --timeout-scale X     multiply every timeout and wait (slow brokers)\n"
             "  --step-timeout MS     default expect timeout (2000)\n"
             "  --case-timeout MS     deadline of one case (60000)\n"
             "  --run-timeout MS      deadline of the whole run (none)\n"
             "  --with CAP / --without CAP   add/remove a target capability\n"
             "  --junit F --json F    reports; --report DIR writes junit.xml, report.json,\n"
             "                        matrix.md and report.html\n"
             "  --html F              self-contained HTML report (summary, statement matrix,\n"
             "                        filters, failures with transcripts, the profile)\n"
             "  --baseline F          gate: fail only on regressions against F\n"
             "  --write-baseline F    write this run's non-passing cases as a baseline\n"
             "  --run-id ID           prefix of client IDs and topics (default: random)\n"
             "  --no-preflight        judge every case even if the broker accepts no CONNECT\n"
             "                        (default: stop with one error; skip versions it refuses)\n"
             "  -v, --verbose         print every case's transcript\n"
             "  -q, --quiet           print only failures and the summary\n"
             "exit: 0 passed (or no regression), 1 failures/regressions, 2 usage or load errors,\n"
             "      no case selected, a broker target that cannot be reached or that\n"
             "      accepts no CONNECT\n");
}

typedef struct {
  pthread_mutex_t mu;
  bool quiet;
  size_t done, total;
} progress_ctx;

static void progress(void *ctx, size_t i, const mqs_result *r) {
  (void)i;
  progress_ctx *p = ctx;
  pthread_mutex_lock(&p->mu);
  p->done++;
  if (!p->quiet && isatty(fileno(stderr)))
    fprintf(stderr, "\r%zu/%zu %s   ", p->done, p->total, mqs_verdict_name(r->verdict));
  pthread_mutex_unlock(&p->mu);
}

static char *probe_text(const mqp_result *r) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  int rc = mqp_write_profile(r, f);
  if (fclose(f) || rc) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Why nothing was selected, for the one-line error. */
static void explain_empty(const mqs_suite *suite, char *const *paths, size_t n_paths,
                          const char **filters, size_t n_filters, unsigned versions, char *out,
                          size_t cap) {
  char where[600] = "";
  size_t w = 0;
  for (size_t i = 0; i < n_paths && w < sizeof where; i++)
    w += (size_t)snprintf(where + w, sizeof where - w, "%s%s", i ? ", " : "", paths[i]);
  if (!suite->n) {
    snprintf(out, cap, "no scenario files (*.yaml, *.yml) under %s", where);
    return;
  }
  size_t in_version = 0;
  for (size_t i = 0; i < suite->n; i++)
    in_version += (suite->s[i]->versions & versions) != 0;
  if (!in_version) {
    snprintf(out, cap, "none of the %zu scenarios under %s runs for MQTT %s (--version)", suite->n,
             where, versions == MQS_VALL ? "any version" : mqs_version_label(versions));
    return;
  }
  char fl[400] = "";
  size_t k = 0;
  for (size_t i = 0; i < n_filters && k < sizeof fl; i++)
    k += (size_t)snprintf(fl + k, sizeof fl - k, "%s'%s'", i ? ", " : "", filters[i]);
  snprintf(out, cap, "--filter %s matches none of the %zu scenarios under %s%s", fl, suite->n,
           where, versions != MQS_VALL ? " for that --version" : "");
}

/* One case's result as the reports see it; everything borrowed. */
static void report_case(const mqs_case *c, const mqs_result *r, const char *id, mqr_stmt *stmts,
                        mqr_case *out) {
  const mqs_scenario *s = c->scenario;
  for (size_t k = 0; k < r->n_stmts; k++)
    stmts[k] =
        (mqr_stmt){r->stmts[k].id, mqs_stmt_verdict_name(r->stmts[k].verdict), r->stmts[k].line};
  unsigned b = mqs_version_slot(c->version);
  *out = (mqr_case){
      .id = id,
      .name = s->name,
      .version = mqs_version_label(c->version),
      .file = s->path,
      .line = s->line,
      .step_line = r->step_line,
      .description = s->description,
      .rules = (const char *const *)s->rules[b],
      .n_rules = s->n_rules[b],
      .stmts = stmts,
      .n_stmts = r->n_stmts,
      .verdict = (mqr_verdict)r->verdict,
      .transport = r->transport,
      .message = r->message,
      .detail = r->detail,
      .wall_ms = r->wall_ms,
      .target_ms = (unsigned long long)r->target_ms,
      .has_propagation = r->has_propagation,
      .propagation_ms = r->propagation_ms,
  };
}

#define RERUNS 2

/* A case that regressed or changed against the baseline is run again (up to
 * RERUNS times, each with fresh client IDs and topics). If a rerun agrees
 * with the baseline, the verdict flips on an unchanged target: the case is
 * flaky, reported with both outcomes, never as a regression. flaky[i] gets
 * the note (owned) or stays NULL. */
static void rerun_flips(const mqs_case *cases, const mqr_case *first, size_t n,
                        const mqs_run_opts *opts, const mqr_baseline *base, char **flaky) {
  for (size_t i = 0; i < n; i++) {
    char why[400];
    mqr_gate_status st = mqr_baseline_judge(base, &first[i], why, sizeof why);
    if (st != MQR_GATE_REGRESSION && st != MQR_GATE_CHANGED) continue;
    for (unsigned a = 1; a <= RERUNS && !flaky[i]; a++) {
      mqs_result r;
      mqr_stmt st2[MQS_STMTS_MAX];
      mqr_case c2;
      mqs_run_case(&cases[i], n * a + i, opts, &r);
      report_case(&cases[i], &r, first[i].id, st2, &c2);
      mqr_gate_status again = mqr_baseline_judge(base, &c2, why, sizeof why);
      if (again != MQR_GATE_REGRESSION && again != MQR_GATE_CHANGED) {
        char note[1400];
        snprintf(note, sizeof note, "%s at line %u (%s), then %s on rerun %u%s%s",
                 mqr_verdict_name(first[i].verdict), first[i].step_line,
                 first[i].message ? first[i].message : "", mqr_verdict_name(c2.verdict), a,
                 c2.message ? ": " : "", c2.message ? c2.message : "");
        flaky[i] = strdup(note);
      }
      mqs_result_free(&r);
    }
  }
}

/* A statement ID not in the built-in catalog, or one that binds only the
 * client, is an error at its own line: a run must not pass a case whose
 * statement does not exist, nor fail a broker on a client's duty. */
static int bad_citations(const mqs_suite *suite) {
  mqspec_catalog cat[2];
  char err[200];
  memset(cat, 0, sizeof cat);
  size_t bad = 0;
  for (unsigned b = 0; b < 2; b++)
    if (mqspec_load_embedded(&cat[b], b ? MQSPEC_V5 : MQSPEC_V311, err, sizeof err)) {
      fprintf(stderr, "mqcheck run: built-in catalog: %s\n", err);
      bad++;
    }
  for (size_t i = 0; i < suite->n && !bad; i++) {
    const mqs_scenario *s = suite->s[i];
    for (unsigned b = 0; b < 2; b++)
      for (size_t r = 0; (s->versions & mqs_slot_versions(b)) && r < s->n_rules[b]; r++)
        if (!mqspec_find(&cat[b], s->rules[b][r])) {
          fprintf(stderr, "%s:%u:1: error: %s is not a statement of MQTT %s\n", s->path,
                  s->rule_lines[b][r], s->rules[b][r], b ? "5.0" : "3.1.1");
          bad++;
        }
  }
  if (!bad) bad += cli_client_only_citations(suite, cat);
  mqspec_free(&cat[0]);
  mqspec_free(&cat[1]);
  return bad ? -1 : 0;
}

int mqc_cmd_run(int argc, char **argv) {
  const char *target = NULL, *profile_path = NULL, *junit = NULL, *json = NULL, *report = NULL;
  const char *targets[MQS_NODES_MAX];
  size_t n_targets = 0;
  const char *baseline = NULL, *write_baseline = NULL, *run_id = NULL, *html = NULL;
  const char *username = NULL, *password = NULL;
  mqs_tls_opts tls = {0};
  bool verbose = false, quiet = false, preflight = true, no_probe = false;
  char *profile_text = NULL;
  mqp_result *probed = NULL;
  unsigned versions = MQS_VALL, jobs = 0;
  double scale = 0;
  uint32_t step_ms = 0, case_ms = 0, run_ms = 0;
  uint32_t with = 0, without = 0;
  char **paths = calloc((size_t)argc + 1, sizeof *paths);
  const char **filters = calloc((size_t)argc + 1, sizeof *filters);
  size_t n_paths = 0, n_filters = 0;
  int rc = 2;
  if (!paths || !filters) goto out_free;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has = i + 1 < argc;
#define ARG(name) (!strcmp(a, name) && has)
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      rc = 0;
      goto out_free;
    } else if (ARG("--target")) {
      if (n_targets == MQS_NODES_MAX) {
        rc = cli_usage("run", "at most %d --target nodes", MQS_NODES_MAX);
        goto out_free;
      }
      targets[n_targets++] = target = argv[++i];
    } else if (ARG("--profile"))
      profile_path = argv[++i];
    else if (ARG("--cafile"))
      tls.cafile = argv[++i];
    else if (ARG("--cert"))
      tls.cert = argv[++i];
    else if (ARG("--key"))
      tls.key = argv[++i];
    else if (!strcmp(a, "--insecure"))
      tls.insecure = true;
    else if (ARG("--username"))
      username = argv[++i];
    else if (ARG("--password"))
      password = argv[++i];
    else if (ARG("--version")) {
      const char *v = argv[++i];
      if (!strcmp(v, "3.1.1") || !strcmp(v, "4"))
        versions = MQS_V311;
      else if (!strcmp(v, "5") || !strcmp(v, "5.0"))
        versions = MQS_V5;
      else if (!strcmp(v, "3.1") || !strcmp(v, "3"))
        versions = MQS_V31;
      else if (!strcmp(v, "both"))
        versions = MQS_VBOTH;
      else if (!strcmp(v, "all"))
        versions = MQS_VALL;
      else {
        fprintf(stderr, "mqcheck run: unknown version '%s' (3.1.1, 5, 3.1, both or all)\n", v);
        goto out_free;
      }
    } else if (ARG("--jobs"))
      jobs = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (ARG("--filter"))
      filters[n_filters++] = argv[++i];
    else if (ARG("--timeout-scale")) {
      scale = strtod(argv[++i], NULL);
      if (scale <= 0) {
        fprintf(stderr, "mqcheck run: --timeout-scale takes a positive number\n");
        goto out_free;
      }
    } else if (ARG("--step-timeout"))
      step_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (ARG("--case-timeout"))
      case_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (ARG("--run-timeout"))
      run_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (ARG("--with") || ARG("--without")) {
      int c = mqs_cap_lookup(argv[i + 1]);
      if (c < 0) {
        fprintf(stderr, "mqcheck run: unknown capability '%s'\n", argv[i + 1]);
        goto out_free;
      }
      if (!strcmp(a, "--with"))
        with |= 1u << c;
      else
        without |= 1u << c;
      i++;
    } else if (ARG("--junit"))
      junit = argv[++i];
    else if (ARG("--json"))
      json = argv[++i];
    else if (ARG("--html"))
      html = argv[++i];
    else if (!strcmp(a, "--no-probe"))
      no_probe = true;
    else if (ARG("--report"))
      report = argv[++i];
    else if (ARG("--baseline"))
      baseline = argv[++i];
    else if (ARG("--write-baseline"))
      write_baseline = argv[++i];
    else if (ARG("--run-id"))
      run_id = argv[++i];
    else if (!strcmp(a, "--no-preflight"))
      preflight = false;
    else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
      verbose = true;
    else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
      quiet = true;
    else if (a[0] == '-' && a[1]) {
      rc = cli_bad_option("run", a, usage);
      goto out_free;
    } else
      paths[n_paths++] = argv[i];
#undef ARG
  }
  char suite_dir[2 * PATH_MAX];
  if (!n_paths) {
    if (cli_suite_dir(suite_dir, sizeof suite_dir)) {
      fprintf(stderr, "mqcheck run: no scenario suite installed (looked in %s); give PATHS\n",
              suite_dir);
      goto out_free;
    }
    paths[n_paths++] = suite_dir;
  }

  if (tls.cert && !tls.key) {
    rc = cli_usage("run", "--cert '%s' needs --key", tls.cert);
    goto out_free;
  }
  if (cli_check_file("run", "--cafile", tls.cafile) || cli_check_file("run", "--cert", tls.cert) ||
      cli_check_file("run", "--key", tls.key) || cli_check_file("run", "--profile", profile_path))
    goto out_free;
  /* The profile fills what the command line left open. */
  mqs_profile prof;
  memset(&prof, 0, sizeof prof);
  if (profile_path) {
    if (cli_profile_load(profile_path, &prof, &username, &password, &tls)) goto out_free;
    if (!target && prof.n_targets > 1) {
      n_targets = prof.n_targets;
      for (size_t k = 0; k < n_targets; k++)
        targets[k] = prof.targets[k];
    }
    if (!target) target = prof.target;
    if (!step_ms) step_ms = prof.step_timeout_ms;
    if (!case_ms) case_ms = prof.case_timeout_ms;
    if (!scale) scale = prof.timeout_scale;
    size_t tl = 0;
    profile_text = cli_read_all(profile_path, 1u << 20, &tl);
  }

  mqs_target_spec *spec = NULL;
  char err[512];
  if (n_targets < 2) {
    n_targets = 1;
    targets[0] = target;
  }
  if (mqs_target_spec_new_nodes(targets, n_targets, &tls, &spec, err, sizeof err)) {
    fprintf(stderr, "mqcheck run: %s\n", err);
    mqs_profile_free(&prof);
    goto out_free;
  }
  /* a cluster is probed and reached through its first node; the other
   * nodes are reached up front too */
  size_t n_nodes = mqs_target_spec_n_nodes(spec);
  if (!mqs_target_spec_is_engine(spec)) target = mqs_target_spec_node_url(spec, 0);
  mqs_suite suite;
  if (mqs_suite_load(paths, n_paths, &suite, stderr)) {
    fprintf(stderr, "mqcheck run: cannot read the scenario paths\n");
    goto out_spec;
  }
  if (suite.errors) {
    fprintf(stderr, "mqcheck run: %zu scenario file(s) did not load (see mqcheck lint)\n",
            suite.errors);
    if (!suite.errors) goto out_spec;
    mqs_suite_free(&suite);
    goto out_spec;
  }
  if (bad_citations(&suite)) {
    mqs_suite_free(&suite);
    goto out_spec;
  }
  /* cases: scenario x version, in file order */
  mqs_case *cases = calloc(suite.n * 3 + 1, sizeof *cases);
  size_t n = 0;
  for (size_t i = 0; cases && i < suite.n; i++)
    for (unsigned vb = MQS_V311; vb; vb = mqs_version_next(vb)) {
      if (!(suite.s[i]->versions & vb & versions)) continue;
      mqs_case c = {suite.s[i], vb};
      bool keep = !n_filters;
      for (size_t f = 0; f < n_filters && !keep; f++)
        keep = mqs_case_matches(&c, filters[f]);
      if (keep) cases[n++] = c;
    }
  if (cases && !n) {
    /* A CI gate with a typo must not pass on nothing. */
    char why[1200];
    explain_empty(&suite, paths, n_paths, filters, n_filters, versions, why, sizeof why);
    fprintf(stderr, "mqcheck run: no case selected: %s\n", why);
    free(cases);
    mqs_suite_free(&suite);
    goto out_spec;
  }
  /* A broker target is reached once, up front: one clear error instead of
   * one per case. Without a profile, the probe finds its capabilities. */
  if (!mqs_target_spec_is_engine(spec)) {
    double sc = scale > 0 ? scale : 1.0;
    uint32_t cto = (uint32_t)((prof.connect_timeout_ms ? prof.connect_timeout_ms : 5000) * sc);
    if (!profile_path && !no_probe) {
      mqp_opts po = {.target = target,
                     .cafile = tls.cafile,
                     .cert = tls.cert,
                     .key = tls.key,
                     .insecure = tls.insecure,
                     .username = username,
                     .password = password,
                     .timeout_ms = (uint32_t)((step_ms ? step_ms : 2000) * sc)};
      /* a cluster: its promises are probed across the nodes too */
      const char *node_names[MQS_NODES_MAX], *node_urls[MQS_NODES_MAX];
      for (size_t k = 0; n_nodes > 1 && k < n_nodes; k++) {
        node_names[k] = mqs_target_spec_node_name(spec, k);
        node_urls[k] = mqs_target_spec_node_url(spec, k);
        po.node_names = node_names;
        po.node_urls = node_urls;
        po.n_nodes = n_nodes;
      }
      probed = malloc(sizeof *probed);
      if (!probed || mqp_probe(&po, probed, err, sizeof err)) {
        fprintf(stderr, "mqcheck run: %s\n", probed ? err : "out of memory");
        free(cases);
        mqs_suite_free(&suite);
        goto out_spec;
      }
      char ps[1024];
      mqp_summary(probed, ps, sizeof ps);
      printf("no --profile: probed %s in %.1f s: %s\n", probed->target, probed->wall_ms / 1000.0,
             ps);
      mqs_profile_free(&prof);
      if (mqp_to_profile(probed, &prof)) {
        free(cases);
        mqs_suite_free(&suite);
        goto out_spec;
      }
      profile_text = probe_text(probed);
    } else if (mqp_reach(target, tls.cafile, tls.cert, tls.key, tls.insecure, cto, err,
                         sizeof err)) {
      fprintf(stderr, "mqcheck run: %s\n", err);
      free(cases);
      mqs_suite_free(&suite);
      goto out_spec;
    }
    for (size_t k = 1; k < n_nodes; k++)
      if (mqp_reach(mqs_target_spec_node_url(spec, k), tls.cafile, tls.cert, tls.key, tls.insecure,
                    cto, err, sizeof err)) {
        fprintf(stderr, "mqcheck run: node %s: %s\n", mqs_target_spec_node_name(spec, k), err);
        free(cases);
        mqs_suite_free(&suite);
        goto out_spec;
      }
  }
  /* Versions the broker does not speak (profile or probe) are a legal
   * choice: their cases are skipped with the reason, never failed. The
   * runnable cases go first; the version skips follow. */
  unsigned declared = prof.versions ? prof.versions : MQS_VALL;
  size_t n_run = 0;
  for (size_t i = 0; i < n; i++)
    if (cases[i].version & declared) {
      mqs_case t = cases[i];
      memmove(&cases[n_run + 1], &cases[n_run], (i - n_run) * sizeof *cases);
      cases[n_run++] = t;
    }
  mqs_result *results = calloc(n + 1, sizeof *results);
  if (!cases || !results) {
    free(cases);
    free(results);
    mqs_suite_free(&suite);
    goto out_spec;
  }
  for (size_t i = n_run; i < n; i++) {
    const char *why = probed ? mqp_version_skip_reason(probed, cases[i].version) : NULL;
    char m[400];
    snprintf(m, sizeof m, "the broker does not speak MQTT %s (%s%s)",
             mqs_version_label(cases[i].version), probed ? "probe: " : "profile versions",
             probed ? (why ? why : "unknown") : "");
    results[i].verdict = MQS_SKIP;
    results[i].message = strdup(m);
  }
  if (!n_run) {
    /* every selected case needs a version the broker does not speak */
    fprintf(stderr, "mqcheck run: no case selected: %s\n",
            results[0].message ? results[0].message : "the broker speaks no selected version");
    for (size_t i = 0; i < n; i++)
      mqs_result_free(&results[i]);
    free(results);
    free(cases);
    mqs_suite_free(&suite);
    goto out_spec;
  }
  char rid[32];
  if (!run_id) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long x =
        (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 12) ^ (unsigned long)ts.tv_sec;
    snprintf(rid, sizeof rid, "%05lx", x & 0xFFFFFul);
    run_id = mqs_target_spec_is_engine(spec) ? "mqc" : rid;
  }
  uint32_t caps =
      (mqs_target_spec_default_caps(spec) | prof.caps_on | with) & ~prof.caps_off & ~without;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (!jobs) {
    jobs = ncpu > 0 ? (unsigned)ncpu : 1;
    if (!mqs_target_spec_is_engine(spec) && jobs < MQS_NET_JOBS) jobs = MQS_NET_JOBS;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  mqs_run_opts opts = {
      .target = spec,
      .caps = caps,
      .username = username,
      .password = password,
      .step_timeout_ms = step_ms,
      .case_timeout_ms = case_ms,
      .timeout_scale = scale,
      .jobs = jobs,
      .run_id = run_id,
      .transcript_always = verbose,
      /* the engine is one broker: every cross-node promise holds trivially */
      .cluster = mqs_target_spec_is_engine(spec) ? MQS_CLUSTER_ALL
                 : n_nodes > 1                   ? MQS_CLUSTER_ALL & ~prof.cluster_off
                                                 : 0,
      .propagation_ms = prof.propagation_ms,
  };
  if (n_nodes > 1 && !prof.has_cluster)
    /* said once, never a silent guess: a bridge makes fewer promises */
    printf("%zu nodes and no cluster: section in a profile: every promise assumed (takeover, "
           "session_resume), propagation bound %u ms (docs/cluster.md)\n",
           n_nodes, MQS_PROPAGATION_DEFAULT_MS);
  if (run_ms)
    opts.run_deadline_ms = (uint64_t)t0.tv_sec * 1000u + (uint64_t)t0.tv_nsec / 1000000u + run_ms;
  /* a broker must accept a CONNECT before hundreds of cases are judged */
  char unspoken[600];
  if (preflight && !mqs_target_spec_is_engine(spec) && n_run) {
    unsigned want = 0;
    for (size_t i = 0; i < n_run; i++)
      want |= cases[i].version;
    unsigned spoken = 0;
    if (mqs_preflight(&opts, want, &spoken, unspoken, sizeof unspoken) || !spoken) {
      char shown[600];
      mqn_url_redact(target, shown, sizeof shown);
      fprintf(stderr, "mqcheck run: %s accepts no CONNECT: %s\n", shown, unspoken);
      free(cases);
      free(results);
      mqs_suite_free(&suite);
      rc = 2;
      goto out_spec;
    }
    opts.spoken = spoken;
    if (spoken != want) opts.unspoken_why = unspoken;
  }
  progress_ctx pc = {PTHREAD_MUTEX_INITIALIZER, quiet, 0, n_run};
  if (mqs_run_cases(cases, n_run, &opts, results, progress, &pc)) {
    fprintf(stderr, "mqcheck run: cannot start worker threads\n");
    free(cases);
    free(results);
    mqs_suite_free(&suite);
    goto out_spec;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (!quiet && isatty(fileno(stderr))) fprintf(stderr, "\r%40s\r", "");

  /* reports */
  mqr_case *rc_cases = calloc(n + 1, sizeof *rc_cases);
  mqr_stmt(*stmts)[MQS_STMTS_MAX] = calloc(n + 1, sizeof *stmts);
  char(*ids)[300] = calloc(n + 1, sizeof *ids);
  char shown_target[600];
  mqn_url_redact(target ? target : "engine", shown_target, sizeof shown_target);
  for (size_t k = 0, used = 0; n_nodes > 1 && k < n_nodes; k++) {
    char one[300];
    mqn_url_redact(mqs_target_spec_node_url(spec, k), one, sizeof one);
    int w = snprintf(shown_target + used, sizeof shown_target - used, "%s%s=%s", k ? "," : "",
                     mqs_target_spec_node_name(spec, k), one);
    if (w < 0 || (size_t)w >= sizeof shown_target - used) break;
    used += (size_t)w;
  }
  char started[32];
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  for (size_t i = 0; rc_cases && ids && stmts && i < n; i++) {
    mqs_case_id(&cases[i], ids[i], sizeof ids[i]);
    report_case(&cases[i], &results[i], ids[i], stmts[i], &rc_cases[i]);
  }
  mqr_run run = {
      .tool = "mqcheck " MQC_VERSION,
      .target = shown_target,
      .profile = prof.name,
      .profile_text = profile_text,
      .started = started,
      .wall_ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
      .jobs = jobs,
      .cases = rc_cases,
      .n = rc_cases && ids && stmts ? n : 0,
  };
  rc = 0;
  for (size_t i = 0; i < run.n; i++) {
    const mqr_case *c = &rc_cases[i];
    if (c->verdict == MQR_PASS) {
      if (verbose && c->detail)
        printf("%s\n", c->detail);
      else if (!quiet && results[i].has_propagation)
        printf("pass  %-60s %8.1f ms  propagation %.0f ms\n", c->id, c->wall_ms,
               results[i].propagation_ms);
      else if (!quiet)
        printf("pass  %-60s %8.1f ms\n", c->id, c->wall_ms);
    } else if (c->verdict == MQR_SKIP) {
      if (!quiet) printf("skip  %-60s %s\n", c->id, c->message ? c->message : "");
    } else {
      printf("%s  %-60s %s:%u: %s\n", c->verdict == MQR_FAIL ? "FAIL" : "ERROR", c->id, c->file,
             c->step_line, c->message ? c->message : "");
      if (c->detail) printf("%s\n", c->detail);
    }
  }
  if (cli_write_reports("run", &run, report, junit, json, html)) rc = 2;
  mqr_counts k;
  mqr_count(&run, &k);
  char sum[400];
  mqr_summary(&run, sum, sizeof sum);
  mqr_baseline base = {0};
  bool have_base = false;
  if (baseline) {
    if (mqr_baseline_load(baseline, &base, err, sizeof err)) {
      fprintf(stderr, "mqcheck run: %s\n", err);
      rc = 2;
    } else {
      have_base = true;
    }
  }
  if (write_baseline) {
    FILE *f = fopen(write_baseline, "w");
    char comment[900];
    snprintf(comment, sizeof comment,
             "mqcheck baseline for %s: each case that does not pass, the step and statements it "
             "fails, and why. Cases not listed must pass. Regenerate with --write-baseline and "
             "keep an explanation per entry.",
             shown_target);
    if (!f || mqr_baseline_write(&run, have_base ? &base : NULL, comment, f)) rc = 2;
    if (f) fclose(f);
  }
  printf("%s\n", sum);
  if (have_base) {
    char **flaky = calloc(run.n + 1, sizeof *flaky);
    if (flaky) rerun_flips(cases, rc_cases, run.n, &opts, &base, flaky);
    mqr_gate g;
    mqr_baseline_compare(&base, &run, (const char *const *)flaky, stdout, &g);
    /* a filtered run leaves baseline entries out on purpose */
    bool complete = !n_filters && versions == MQS_VALL;
    printf("baseline %s: %zu regression(s), %zu changed, %zu flaky, %zu known deviation(s), %zu "
           "fixed, %zu not run%s\n",
           baseline, g.regressions, g.changed, g.flaky, g.known, g.fixed, g.missing,
           complete || !g.missing ? "" : " (filtered run)");
    if (rc == 0) rc = g.regressions || g.changed || (complete && g.missing) ? 1 : 0;
    for (size_t i = 0; flaky && i < run.n; i++)
      free(flaky[i]);
    free(flaky);
    mqr_baseline_free(&base);
  } else if (rc == 0) {
    rc = (k.fail || k.error) ? 1 : 0;
  }
  free(rc_cases);
  free(stmts);
  free(ids);
  for (size_t i = 0; i < n; i++)
    mqs_result_free(&results[i]);
  free(results);
  free(cases);
  mqs_suite_free(&suite);
out_spec:
  mqs_target_spec_free(spec);
  mqs_profile_free(&prof);
out_free:
  free(profile_text);
  free(probed);
  free(paths);
  free(filters);
  return rc;
}
