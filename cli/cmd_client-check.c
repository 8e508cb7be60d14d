/* mqcheck client-check - judges a real MQTT client program: each scripted
 * server behaviour of clientcheck/ (mqk.h) runs the program once per
 * protocol version and reports per statement with run's report writers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqk.h"
#include "mqr.h"

const char mqc_cmd_client_check_help[] =
    "judge a client program against scripted server behaviours (per statement)";

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck client-check --exec CMD | --pub CMD --sub CMD [options]\n"
             "  --exec CMD      the client program for every behaviour (use {role})\n"
             "  --pub CMD       for behaviours where the client publishes\n"
             "  --sub CMD       for behaviours where the client subscribes and prints payloads\n"
             "                  CMD runs with /bin/sh; placeholders: {host} {port} {role}\n"
             "                  (pub|sub) {version} (311|5) {qos} {count} {topic} {payload} {id}\n"
             "                  {session} (1: keep a session and reconnect when dropped)\n"
             "                  {auth} (mqcheck-challenge:SECRET when offered, else -)\n"
             "                  {keepalive} (the Keep Alive to ask for, seconds)\n"
             "                  {retain} (1: publish with RETAIN)\n"
             "  --version V     3.1.1 or 5 (default: both)\n"
             "  --filter WORD   only behaviours whose name contains WORD (repeatable)\n"
             "  --time-scale X  multiply every wait and deadline (slow clients)\n"
             "  --list          the behaviours, their role and statements\n"
             "  --junit F --json F --html F   reports; --report DIR writes junit.xml,\n"
             "                  report.json, matrix.md and report.html\n"
             "  -v, --verbose   every case's detail (client output, transcript)\n"
             "exit: 0 every judged statement held, 1 a statement broke or a case could not\n"
             "      run, 2 usage error\n");
}

static void list(void) {
  for (size_t i = 0; i < mqk_behaviour_count(); i++) {
    const mqk_behaviour *b = mqk_behaviour_at(i);
    printf("%-28s %s  ", b->name, b->role == MQK_PUB ? "pub" : "sub");
    for (unsigned v = 0; v < 2; v++) {
      if (!(b->versions & (v ? MQS_V5 : MQS_V311))) continue;
      printf(" %s:", v ? "5.0" : "3.1.1");
      for (size_t r = 0; r < 4 && b->rules[v][r]; r++)
        printf("%s%s", r ? "," : "", b->rules[v][r]);
    }
    printf("\n    %s\n", b->description);
  }
}

int mqc_cmd_client_check(int argc, char **argv) {
  mqk_opts o = {0};
  const char *exec = NULL, *junit = NULL, *json = NULL, *html = NULL, *report = NULL;
  const char *filters[16];
  size_t nfilters = 0;
  unsigned versions = MQS_V311 | MQS_V5;
  bool verbose = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--list")) {
      list();
      return 0;
    } else if (!strcmp(a, "--exec") && has)
      exec = argv[++i];
    else if (!strcmp(a, "--pub") && has)
      o.pub_cmd = argv[++i];
    else if (!strcmp(a, "--sub") && has)
      o.sub_cmd = argv[++i];
    else if (!strcmp(a, "--version") && has) {
      mqc_version v;
      const char *s = argv[++i];
      if (cli_parse_version(s, &v) || (v != MQC_V311 && v != MQC_V5))
        return cli_usage("client-check", "--version takes 3.1.1 or 5, not '%s'", s);
      versions = v == MQC_V5 ? MQS_V5 : MQS_V311;
    } else if (!strcmp(a, "--filter") && has) {
      if (nfilters == 16) return cli_usage("client-check", "more than 16 --filter");
      filters[nfilters++] = argv[++i];
    } else if (!strcmp(a, "--time-scale") && has) {
      char *end;
      o.time_scale = strtod(argv[++i], &end);
      if (*end || o.time_scale <= 0 || o.time_scale > 100)
        return cli_usage("client-check", "--time-scale takes a number in (0, 100], not '%s'",
                         argv[i]);
    } else if (!strcmp(a, "--junit") && has)
      junit = argv[++i];
    else if (!strcmp(a, "--json") && has)
      json = argv[++i];
    else if (!strcmp(a, "--html") && has)
      html = argv[++i];
    else if (!strcmp(a, "--report") && has)
      report = argv[++i];
    else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
      verbose = true;
    else if (a[0] == '-')
      return cli_bad_option("client-check", a, usage);
    else
      return cli_usage("client-check", "unexpected argument '%s'", a);
  }
  if (exec) {
    if (!o.pub_cmd) o.pub_cmd = exec;
    if (!o.sub_cmd) o.sub_cmd = exec;
  }
  if (!o.pub_cmd && !o.sub_cmd)
    return cli_usage("client-check", "no client program: give --exec, --pub or --sub");
  o.log = stdout;
  /* a template that cannot expand is a usage error, found before any case runs */
  const char *tmpls[2] = {o.pub_cmd, o.sub_cmd};
  for (size_t t = 0; t < 2; t++) {
    char buf[4096];
    if (tmpls[t] && mqk_expand(tmpls[t], mqk_behaviour_at(0), MQS_V5, 1883, buf, sizeof buf))
      return cli_usage("client-check", "%s: %s", tmpls[t], buf);
  }

  size_t cap = mqk_behaviour_count() * 2;
  mqs_result *res = calloc(cap, sizeof *res);
  mqr_case *cases = calloc(cap, sizeof *cases);
  mqr_stmt *stmts = calloc(cap * MQS_STMTS_MAX, sizeof *stmts);
  char(*ids)[64] = calloc(cap, sizeof *ids);
  const char *(*rules)[4] = calloc(cap, sizeof *rules);
  if (!res || !cases || !stmts || !ids || !rules) {
    fprintf(stderr, "mqcheck client-check: out of memory\n");
    free(res), free(cases), free(stmts), free(ids), free(rules);
    return 1;
  }
  size_t n = 0;
  struct timespec t0;
  clock_gettime(CLOCK_REALTIME, &t0);
  for (size_t i = 0; i < mqk_behaviour_count(); i++) {
    const mqk_behaviour *b = mqk_behaviour_at(i);
    bool keep = !nfilters;
    for (size_t f = 0; f < nfilters; f++)
      if (strstr(b->name, filters[f])) keep = true;
    if (!keep) continue;
    for (unsigned v = 0; v < 2; v++) {
      unsigned vbit = v ? MQS_V5 : MQS_V311;
      if (!(b->versions & vbit & versions)) continue;
      mqs_result *r = &res[n];
      if (mqk_run_case(b, vbit, &o, r) != 0) {
        fprintf(stderr, "mqcheck client-check: out of memory\n");
        continue;
      }
      snprintf(ids[n], sizeof ids[n], "%s@%s", b->name, v ? "5.0" : "3.1.1");
      size_t nr = 0;
      for (; nr < 4 && b->rules[v][nr]; nr++)
        rules[n][nr] = b->rules[v][nr];
      mqr_stmt *st = &stmts[n * MQS_STMTS_MAX];
      for (size_t k = 0; k < r->n_stmts; k++)
        st[k] = (mqr_stmt){r->stmts[k].id, mqs_stmt_verdict_name(r->stmts[k].verdict), 0};
      cases[n] = (mqr_case){
          .id = ids[n],
          .name = b->name,
          .version = v ? "5.0" : "3.1.1",
          .file = "clientcheck/behaviours.c",
          .description = b->description,
          .rules = rules[n],
          .n_rules = nr,
          .stmts = st,
          .n_stmts = r->n_stmts,
          .verdict = (mqr_verdict)r->verdict,
          .message = r->message,
          .detail = r->detail,
          .wall_ms = r->wall_ms,
      };
      if (verbose && r->detail) printf("%s\n", r->detail);
      n++;
    }
  }
  if (!n) {
    free(res), free(cases), free(stmts), free(ids), free(rules);
    return cli_usage("client-check", "no behaviour selected; --list names them");
  }
  char started[32], target[600];
  struct tm tmv;
  gmtime_r(&t0.tv_sec, &tmv);
  strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  snprintf(target, sizeof target, "client: %s%s%s", o.pub_cmd ? o.pub_cmd : "",
           o.pub_cmd && o.sub_cmd && strcmp(o.pub_cmd, o.sub_cmd) ? " | " : "",
           o.sub_cmd && (!o.pub_cmd || strcmp(o.pub_cmd, o.sub_cmd)) ? o.sub_cmd : "");
  double wall = 0;
  for (size_t i = 0; i < n; i++)
    wall += res[i].wall_ms;
  mqr_run run = {.tool = "mqcheck client-check",
                 .target = target,
                 .started = started,
                 .wall_ms = wall,
                 .jobs = 1,
                 .cases = cases,
                 .n = n};
  char summary[256];
  mqr_summary(&run, summary, sizeof summary);
  printf("%s\n", summary);
  int rc = 0;
  mqr_counts counts;
  mqr_count(&run, &counts);
  if (counts.fail || counts.error) rc = 1;
  if (cli_write_reports("client-check", &run, report, junit, json, html)) rc = 2;
  for (size_t i = 0; i < n; i++)
    mqs_result_free(&res[i]);
  free(res), free(cases), free(stmts), free(ids), free(rules);
  return rc;
}
