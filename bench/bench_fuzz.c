/* mqcheck bench fuzz - oracle-checked network fuzzing sessions per second
 * against `mqcheck serve` and the Debian mosquitto, side by side in one run
 * (docs/netfuzz.md, "Speed"). Session mixes:
 *   minimal  CONNECT, PUBLISH QoS 0, DISCONNECT from a fresh client: the
 *            ceiling of a connection-per-session fuzzer on this machine
 *   seeds    the suite's scenarios compiled to sessions, unchanged: what a
 *            user fuzzes with
 *   mutated  the same, mutated as `mqcheck fuzz` does
 * Both brokers run for the whole benchmark and the rounds interleave them,
 * so other work on the machine weighs on both alike. Each row gives
 * sessions/s, the CPU the fuzzer and the broker used per session (which
 * other load hardly changes, unlike sessions/s) and per second of wall time,
 * the time each waited for a CPU while runnable, and the cores the machine
 * left idle; the verdict says what bounded the rate: the fuzzer (a core
 * used), the broker, the machine (no idle CPU: other work) or latency
 * (everything idle: more sessions in flight would help). A benchmark, never
 * a timed test. */
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

#define MAX_BROKERS 4
#define MAX_ROUNDS  20
#define N_MIXES     3

static const char *const mix_names[N_MIXES] = {"minimal", "seeds", "mutated"};

static void usage(FILE *f) {
  fprintf(f,
          "usage: mqcheck bench fuzz [--seconds S] [--rounds R] [--concurrency N]\n"
          "                          [--mixes minimal,seeds,mutated] [--brokers serve,mosquitto]\n"
          "                          [--mosquitto PATH] [SEEDS...]\n"
          "  --seconds S      per broker, mix and round (default 3)\n"
          "  --rounds R       rounds, interleaving the brokers (default 1; medians printed)\n"
          "  --concurrency N  sessions in flight (default: mqcheck fuzz's)\n");
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

/* Idle CPU time of the whole machine so far, in seconds (all cores). */
static double machine_idle_s(void) {
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return -1;
  unsigned long long user, nice, sys, idle, iowait;
  int k = fscanf(f, "cpu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait);
  fclose(f);
  long hz = sysconf(_SC_CLK_TCK);
  return k == 5 && hz > 0 ? (double)(idle + iowait) / (double)hz : -1;
}

/* The machine's one-minute load average (-1 when unknown). */
static double load1(void) {
  FILE *f = fopen("/proc/loadavg", "r");
  if (!f) return -1;
  double l = -1;
  if (fscanf(f, "%lf", &l) != 1) l = -1;
  fclose(f);
  return l;
}

typedef struct {
  double rate;           /* sessions/s */
  double f_us, b_us;     /* CPU per session, fuzzer and broker, µs */
  double f_cpu, b_cpu;   /* CPU per second of wall */
  double f_wait, b_wait; /* runnable, waiting for a CPU, per second of wall */
  double idle;           /* idle cores */
  uint64_t findings;
  bool ok;
} row;

typedef struct {
  const char *name;
  pid_t pid;
  mqn_url url;
} broker;

static const char *verdict(const row *r) {
  if (r->f_cpu >= 0.85) return "fuzzer-bound";
  if (r->b_cpu >= 0.85) return "broker-bound";
  if (r->idle < 0.25) return "machine-bound (other load)";
  return "latency-bound";
}

static int measure(const broker *b, const mqz_corpus *corpus, bool mutate, unsigned concurrency,
                   double seconds, row *out) {
  memset(out, 0, sizeof *out);
  mqz_rate r;
  double b0 = lu_proc_cpu(b->pid), bw0 = lu_proc_runwait(b->pid), fw0 = lu_proc_runwait(0);
  double i0 = machine_idle_s();
  if (mqz_measure(&b->url, NULL, corpus, mutate, 1, concurrency, seconds, &r) || !r.sessions)
    return -1;
  double bcpu = lu_proc_cpu(b->pid) - b0, bw = lu_proc_runwait(b->pid) - bw0;
  double fw = lu_proc_runwait(0) - fw0, idle = machine_idle_s() - i0;
  double s = (double)r.sessions;
  *out = (row){.rate = s / r.wall_s,
               .f_us = r.cpu_s / s * 1e6,
               .b_us = bcpu / s * 1e6,
               .f_cpu = r.cpu_s / r.wall_s,
               .b_cpu = bcpu / r.wall_s,
               .f_wait = fw / r.wall_s,
               .b_wait = bw / r.wall_s,
               .idle = idle / r.wall_s,
               .findings = r.findings,
               .ok = true};
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The median of field (an offset into row) over the rounds that worked. */
static double median(const row *rs, size_t n, size_t field) {
  double v[MAX_ROUNDS];
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (rs[i].ok) v[k++] = *(const double *)((const char *)&rs[i] + field);
  if (!k) return 0;
  qsort(v, k, sizeof v[0], cmp_double);
  return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static bool start_broker(broker *b, const char *mosquitto) {
  uint16_t port = lu_free_port();
  char ports[16], listen[64];
  snprintf(ports, sizeof ports, "%u", port);
  snprintf(listen, sizeof listen, "tcp://127.0.0.1:%u", port);
  b->pid = -1;
  if (!strcmp(b->name, "serve")) {
    char *av[] = {"/proc/self/exe", "serve", "--quiet", "--listen", listen, NULL};
    b->pid = lu_spawn(av, port, NULL);
  } else if (!strcmp(b->name, "mosquitto")) {
    char *av[] = {(char *)mosquitto, "-p", ports, NULL};
    b->pid = lu_spawn(av, port, NULL);
  } else {
    fprintf(stderr, "bench fuzz: unknown broker '%s' (serve, mosquitto)\n", b->name);
    return false;
  }
  if (b->pid < 0) {
    fprintf(stderr, "bench fuzz: %s did not start on port %u\n", b->name, port);
    return false;
  }
  return mqn_url_parse(listen, &b->url) == MQN_OK;
}

int mqc_bench_fuzz(int argc, char **argv) {
  double seconds = 3;
  unsigned concurrency = 0, rounds = 1;
  const char *brokers = "serve,mosquitto", *mosquitto = "/usr/sbin/mosquitto";
  const char *mixes = "minimal,seeds,mutated";
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
    } else if (!strcmp(a, "--rounds") && v) {
      rounds = (unsigned)atoi(v);
      i++;
    } else if (!strcmp(a, "--concurrency") && v) {
      concurrency = (unsigned)atoi(v);
      i++;
    } else if (!strcmp(a, "--brokers") && v) {
      brokers = v;
      i++;
    } else if (!strcmp(a, "--mixes") && v) {
      mixes = v;
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
  if (seconds <= 0 || seconds > 3600) seconds = 3;
  if (rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr, "bench fuzz: --rounds takes 1 to %d\n", MAX_ROUNDS);
    return 2;
  }
  bool want[N_MIXES] = {false};
  for (int m = 0; m < N_MIXES; m++) {
    const char *p = strstr(mixes, mix_names[m]);
    size_t k = strlen(mix_names[m]);
    want[m] = p && (p == mixes || p[-1] == ',') && (p[k] == ',' || p[k] == '\0');
  }
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
  mqz_exec_opts dflt;
  mqz_exec_opts_default(&dflt);
  broker b[MAX_BROKERS];
  size_t nb = 0;
  char list[256];
  snprintf(list, sizeof list, "%s", brokers);
  int rc = 0;
  for (char *save = NULL, *name = strtok_r(list, ",", &save); name && nb < MAX_BROKERS;
       name = strtok_r(NULL, ",", &save)) {
    b[nb].name = name;
    if (start_broker(&b[nb], mosquitto))
      nb++;
    else
      rc = 1;
  }
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  double l0 = load1();
  printf("bench fuzz: %.0f s per broker and mix, %u round(s), %u sessions in flight, %zu seed "
         "sessions, %ld cores, load average %.2f\n",
         seconds, rounds, concurrency ? concurrency : dflt.concurrency, suite.count, ncpu, l0);
  printf("  us/s = CPU microseconds per session; cpu = CPU seconds per second (1.00 = a core);\n"
         "  wait = seconds per second runnable but waiting for a CPU; idle = cores left idle\n");
  printf("%-5s %-10s %-8s %10s %8s %8s %6s %6s %6s %6s %5s  %s\n", "round", "broker", "mix",
         "sessions/s", "fuzz us/s", "brk us/s", "f cpu", "b cpu", "f wait", "b wait", "idle",
         "bound by");
  static row res[MAX_BROKERS][N_MIXES][MAX_ROUNDS];
  for (unsigned r = 0; r < rounds; r++)
    for (int m = 0; m < N_MIXES; m++)
      for (size_t k = 0; want[m] && k < nb; k++) {
        row *w = &res[k][m][r];
        if (measure(&b[k], m ? &suite : &minimal, m == 2, concurrency, seconds, w)) {
          fprintf(stderr, "bench fuzz: %s %s: no session finished\n", b[k].name, mix_names[m]);
          rc = 1;
          continue;
        }
        printf("%-5u %-10s %-8s %10.0f %8.0f %8.0f %6.2f %6.2f %6.2f %6.2f %5.2f  %s\n", r + 1,
               b[k].name, mix_names[m], w->rate, w->f_us, w->b_us, w->f_cpu, w->b_cpu, w->f_wait,
               w->b_wait, w->idle, verdict(w));
        fflush(stdout);
      }
  printf("\nmedians over %u round(s), load average %.2f -> %.2f:\n", rounds, l0, load1());
  printf("%-8s", "mix");
  for (size_t k = 0; k < nb; k++)
    printf(" %12.12s/s %9.9s us", b[k].name, "fuzzer");
  for (size_t k = 0; k < nb; k++)
    printf(" %9.9s us", b[k].name);
  printf("\n");
  for (int m = 0; m < N_MIXES; m++) {
    if (!want[m]) continue;
    printf("%-8s", mix_names[m]);
    for (size_t k = 0; k < nb; k++)
      printf(" %14.0f %12.0f", median(res[k][m], rounds, offsetof(row, rate)),
             median(res[k][m], rounds, offsetof(row, f_us)));
    for (size_t k = 0; k < nb; k++)
      printf(" %12.0f", median(res[k][m], rounds, offsetof(row, b_us)));
    printf("\n");
  }
  for (size_t k = 0; k < nb; k++)
    lu_stop(b[k].pid);
  mqz_corpus_free(&minimal);
  mqz_corpus_free(&suite);
  return rc;
}
