/* mqcheck bench fuzz - oracle-checked network fuzzing sessions per second
 * against `mqcheck serve` and the Debian mosquitto, side by side in one run
 * (docs/netfuzz.md, "Speed"). Three session mixes per broker:
 *   minimal  CONNECT, PUBLISH QoS 0, DISCONNECT from a fresh client: the
 *            ceiling of a connection-per-session fuzzer on this machine
 *   seeds    the suite's scenarios compiled to sessions, unchanged
 *   mutated  the same, mutated as `mqcheck fuzz` does
 * For each it prints sessions/s, packets/s, and the CPU the fuzzer and the
 * broker used: a fuzzer CPU near 100% of a core means the fuzzer, not the
 * broker, is the bottleneck. A benchmark, never a timed test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "load_util.h"
#include "mqs.h"
#include "mqz.h"

const char mqc_bench_fuzz_help[] =
    "network fuzzing sessions/s (oracle-checked) against serve and mosquitto";

static void usage(FILE *f) {
  fprintf(f,
          "usage: mqcheck bench fuzz [--seconds S] [--concurrency N] [--brokers serve,mosquitto]\n"
          "                          [--mosquitto PATH] [SEEDS...]\n"
          "  --seconds S      per broker and mix (default 5)\n"
          "  --concurrency N  sessions in flight (default 64)\n");
}

/* CONNECT (3.1.1, client ID with the session token), PUBLISH QoS 0,
 * DISCONNECT, close. */
static void minimal_session(mqz_corpus *c) {
  static const uint8_t connect[] = {0x10, 0x12, 0, 4, 'M', 'Q', 'T', 'T', 4,   2,
                                    0,    60,   0, 6, 'Z', 'q', '0', '0', '0', '0'};
  static const uint8_t publish[] = {0x30, 0x0A, 0, 6, 'Z', 'q', '0', '0', '0', '0', 'h', 'i'};
  static const uint8_t disconnect[] = {0xE0, 0};
  mqz_buf b = {0};
  mqz_session_begin(&b, MQC_V311, 0);
  mqz_session_add(&b, MQZ_OP_OPEN, 0, NULL, 0, 0);
  mqz_session_add(&b, MQZ_OP_SEND, 0, connect, sizeof connect, 0);
  mqz_session_add(&b, MQZ_OP_SYNC, 0, NULL, 0, 1);
  mqz_session_add(&b, MQZ_OP_SEND, 0, publish, sizeof publish, 0);
  mqz_session_add(&b, MQZ_OP_SEND, 0, disconnect, sizeof disconnect, 0);
  mqz_session_add(&b, MQZ_OP_CLOSE, 0, NULL, 0, 0);
  if (!b.oom) (void)mqz_corpus_add(c, b.p, b.n, "minimal");
  mqz_buf_free(&b);
}

int mqc_bench_fuzz(int argc, char **argv) {
  double seconds = 5;
  unsigned concurrency = 0;
  const char *brokers = "serve,mosquitto", *mosquitto = "/usr/sbin/mosquitto";
  char *seeds[64];
  size_t ns = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--seconds") && v) {
      seconds = atof(v);
      i++;
    } else if (!strcmp(a, "--concurrency") && v) {
      concurrency = (unsigned)atoi(v);
      i++;
    } else if (!strcmp(a, "--brokers") && v) {
      brokers = v;
      i++;
    } else if (!strcmp(a, "--mosquitto") && v) {
      mosquitto = v;
      i++;
    } else if (a[0] == '-') {
      return cli_bad_option("bench fuzz", a, usage);
    } else if (ns < 64) {
      seeds[ns++] = argv[i];
    }
  }
  if (seconds <= 0) seconds = 5;
  char suite_dir[4200];
  if (!ns) {
    if (cli_suite_dir(suite_dir, sizeof suite_dir)) {
      fprintf(stderr, "mqcheck bench fuzz: no scenario suite found (looked in %s)\n", suite_dir);
      return 2;
    }
    seeds[ns++] = suite_dir;
  }
  mqz_corpus minimal = {0}, suite = {0};
  minimal_session(&minimal);
  if (mqz_seeds_from_scenarios(seeds, ns, 0, &suite, stderr) <= 0) {
    fprintf(stderr, "mqcheck bench fuzz: the seeds gave no session\n");
    return 2;
  }
  printf("bench fuzz: %.0f s per mix, %u sessions in flight, %zu seed sessions; "
         "cpu = seconds of CPU per second of wall (1.00 = one core)\n",
         seconds, concurrency ? concurrency : 64, suite.count);
  printf("%-10s %-8s %10s %12s %9s %10s %9s\n", "broker", "mix", "sessions/s", "packets/s",
         "findings", "fuzzer cpu", "broker cpu");
  char list[256];
  snprintf(list, sizeof list, "%s", brokers);
  int rc = 0;
  for (char *save = NULL, *name = strtok_r(list, ",", &save); name;
       name = strtok_r(NULL, ",", &save)) {
    uint16_t port = lu_free_port();
    char ports[16], listen[64];
    snprintf(ports, sizeof ports, "%u", port);
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%u", port);
    pid_t pid = -1;
    if (!strcmp(name, "serve")) {
      char *av[] = {"/proc/self/exe", "serve", "--quiet", "--listen", listen, NULL};
      pid = lu_spawn(av, port, NULL);
    } else if (!strcmp(name, "mosquitto")) {
      char *av[] = {(char *)mosquitto, "-p", ports, NULL};
      pid = lu_spawn(av, port, NULL);
    } else {
      fprintf(stderr, "bench fuzz: unknown broker '%s' (serve, mosquitto)\n", name);
      rc = 2;
      continue;
    }
    if (pid < 0) {
      fprintf(stderr, "bench fuzz: %s did not start on port %u\n", name, port);
      rc = 1;
      continue;
    }
    mqn_url url;
    mqn_url_parse(listen, &url);
    static const char *const mixes[3] = {"minimal", "seeds", "mutated"};
    for (int mix = 0; mix < 3; mix++) {
      mqz_rate r;
      double b0 = lu_proc_cpu(pid);
      if (mqz_measure(&url, NULL, mix ? &suite : &minimal, mix == 2, 1, concurrency, seconds, &r)) {
        rc = 1;
        continue;
      }
      double bcpu = lu_proc_cpu(pid) - b0;
      printf("%-10s %-8s %10.0f %12.0f %9llu %10.2f %9.2f%s\n", name, mixes[mix],
             (double)r.sessions / r.wall_s, (double)r.packets / r.wall_s,
             (unsigned long long)r.findings, r.cpu_s / r.wall_s, bcpu / r.wall_s,
             r.cpu_s / r.wall_s > 0.9 ? "  (the fuzzer is the bottleneck)" : "");
      fflush(stdout);
    }
    lu_stop(pid);
  }
  mqz_corpus_free(&minimal);
  mqz_corpus_free(&suite);
  return rc;
}
