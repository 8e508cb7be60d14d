/* mqcheck bench codec - decode (full validation) and encode speed of the codec
 * on a fixed client-to-server mix, next to two floors measured in the same
 * run and to mqtt-packet's parser on the same bytes.
 *
 * The mix is one each of PUBLISH (QoS 1, two properties), CONNECT, SUBSCRIBE
 * (two filters) and PUBACK: the packets a broker reads most. It is measured
 * for MQTT 5.0 and for the same shapes in 3.1.1. Figures are per packet,
 * averaged over the mix. Each timing is calibrated to last about --seconds
 * (default 1); --repeat N keeps the best of N runs.
 *
 * The floors are what any reader of the same bytes pays: memcpy of each
 * packet into a buffer, and a byte-by-byte sum of each packet. With valgrind
 * on PATH (or MQC_VALGRIND naming it), the program also counts instructions
 * per packet: it runs itself under callgrind once per kernel (decode and the
 * two floors), counting only that kernel's function. Instruction counts are
 * exact and repeatable where timings on a shared machine are not, so they
 * are the figures to compare between builds.
 *
 * The mqtt-packet figure comes from bench/mqtt-packet-bench.js run by node;
 * when node or mqtt-packet is missing the C figures are printed anyway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_decls.h"
#include "mqc.h"

const char mqc_bench_codec_help[] =
    "codec decode/encode ns and instructions per packet, memcpy and byte-sum floors, "
    "vs mqtt-packet (node)";

#define MIX_SIZE 4

/* Kept out of line so callgrind can count one kernel alone. */
#if defined(__GNUC__) || defined(__clang__)
#define KERNEL __attribute__((noinline))
#else
#define KERNEL
#endif

typedef struct {
  const char *name;
  mqc_version version;
  const char *hex[MIX_SIZE];
} mix_spec;

static const mix_spec MIXES[] = {
    {"5.0",
     MQC_V5,
     {/* PUBLISH q1 id=42 "sensors/room1/temp" user a=b content_type "21.5" */
      "322f001273656e736f72732f726f6f6d312f74656d70002a142600016100016203000a746578742f706c61696e"
      "32312e35",
      /* CONNECT clean keepalive=60 session_expiry=300 id "client-123" */
      "101c00044d5154540502003c05110000012c000a636c69656e742d313233",
      /* SUBSCRIBE id=7 "a/+/c" q1, "x/#" q2 */
      "82110007000005612f2b2f63010003782f2302",
      /* PUBACK id=42 */
      "4002002a"}},
    {"3.1.1",
     MQC_V311,
     {/* the same shapes without properties */
      "321a001273656e736f72732f726f6f6d312f74656d70002a32312e35",
      "101600044d5154540402003c000a636c69656e742d313233", "821000070005612f2b2f63010003782f2302",
      "4002002a"}},
};
#define NMIXES (sizeof MIXES / sizeof MIXES[0])

typedef struct {
  uint8_t bytes[MIX_SIZE][64];
  size_t len[MIX_SIZE];
  size_t total; /* bytes in one pass over the mix */
  mqc_packet decoded[MIX_SIZE];
} mix;

/* Results feed this so the compiler cannot drop the work being measured. */
static volatile uint64_t sink;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int unhex(const char *hex, uint8_t *out, size_t cap, size_t *n) {
  size_t len = strlen(hex);
  if (len % 2 || len / 2 > cap) return -1;
  for (size_t i = 0; i < len / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  *n = len / 2;
  return 0;
}

/* Loads a mix and checks every packet decodes, as sent by a client. */
static int load_mix(const mix_spec *spec, mix *m) {
  m->total = 0;
  for (int k = 0; k < MIX_SIZE; k++) {
    mqc_error err;
    if (unhex(spec->hex[k], m->bytes[k], sizeof m->bytes[k], &m->len[k]) ||
        mqc_decode(m->bytes[k], m->len[k], spec->version, MQC_FROM_CLIENT, MQC_NO_LIMIT,
                   &m->decoded[k], &err) != MQC_OK) {
      fprintf(stderr, "bench codec: %s mix packet %d does not decode: %s\n", spec->name, k,
              err.message ? err.message : "bad hex");
      return -1;
    }
    m->total += m->len[k];
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Kernels: one pass per round over the mix, as lean as the loop can be, so  */
/* their instruction counts are the work on the packets.                     */
/* ------------------------------------------------------------------------ */

static KERNEL uint64_t kernel_decode(const mix *m, mqc_version v, unsigned long rounds) {
  unsigned acc = 0;
  mqc_packet pkt;
  mqc_error err;
  for (unsigned long i = 0; i < rounds; i++)
    for (int k = 0; k < MIX_SIZE; k++)
      acc |= mqc_decode(m->bytes[k], m->len[k], v, MQC_FROM_CLIENT, MQC_NO_LIMIT, &pkt, &err);
  return acc;
}

static KERNEL uint64_t kernel_encode(const mix *m, mqc_version v, unsigned long rounds) {
  uint64_t acc = 0;
  uint8_t out[128];
  for (unsigned long i = 0; i < rounds; i++)
    for (int k = 0; k < MIX_SIZE; k++) {
      size_t len;
      acc += mqc_encode(&m->decoded[k], v, out, sizeof out, &len) + len + out[0];
    }
  return acc;
}

/* The memcpy floor: every packet copied out of the input buffer. */
static KERNEL uint64_t kernel_memcpy(const mix *m, mqc_version v, unsigned long rounds) {
  (void)v;
  uint64_t acc = 0;
  uint8_t out[64];
  for (unsigned long i = 0; i < rounds; i++)
    for (int k = 0; k < MIX_SIZE; k++) {
      memcpy(out, m->bytes[k], m->len[k]);
      acc += out[0];
    }
  return acc;
}

/* The byte-sum floor: every byte of every packet read once. */
static KERNEL uint64_t kernel_bytesum(const mix *m, mqc_version v, unsigned long rounds) {
  (void)v;
  uint64_t acc = 0;
  for (unsigned long i = 0; i < rounds; i++)
    for (int k = 0; k < MIX_SIZE; k++)
      for (size_t j = 0; j < m->len[k]; j++)
        acc += m->bytes[k][j];
  return acc;
}

typedef uint64_t (*kernel_fn)(const mix *, mqc_version, unsigned long);

static const struct {
  const char *name;  /* as printed, and as passed to the counting child */
  const char *label; /* the line's text */
  kernel_fn fn;
  const char *symbol; /* for callgrind's --toggle-collect (clones get suffixes) */
} KERNELS[] = {
    {"decode", "decode (mqc_decode, full validation)", kernel_decode, "kernel_decode*"},
    {"encode", "encode (mqc_encode)", kernel_encode, "kernel_encode*"},
    {"memcpy", "floor: memcpy of each packet", kernel_memcpy, "kernel_memcpy*"},
    {"bytesum", "floor: byte-by-byte sum", kernel_bytesum, "kernel_bytesum*"},
};
#define NKERNELS (sizeof KERNELS / sizeof KERNELS[0])

static double time_kernel(kernel_fn fn, const mix *m, mqc_version v, unsigned long rounds) {
  double t0 = now_s();
  sink += fn(m, v, rounds);
  return now_s() - t0;
}

/* Grows the round count until a run takes a tenth of the target, scales it
 * to the target, then keeps the best of 'repeat' runs. Returns ns/packet. */
static double measure(kernel_fn fn, const mix *m, mqc_version v, double seconds, int repeat) {
  unsigned long rounds = 1000;
  double dt;
  while ((dt = time_kernel(fn, m, v, rounds)) < seconds / 10 && rounds < (1ul << 40))
    rounds *= 2;
  rounds = (unsigned long)((double)rounds * seconds / (dt > 0 ? dt : 1e-9)) + 1;
  double best = 0;
  for (int r = 0; r < repeat; r++) {
    dt = time_kernel(fn, m, v, rounds);
    if (r == 0 || dt < best) best = dt;
  }
  return best * 1e9 / ((double)rounds * MIX_SIZE);
}

static double mb_per_s(const mix *m, double ns_per_packet) {
  double bytes_per_packet = (double)m->total / MIX_SIZE;
  return bytes_per_packet / ns_per_packet * 1e3; /* bytes/ns -> MB/s (1e6) */
}

/* ------------------------------------------------------------------------ */
/* Instruction counts under callgrind                                       */
/* ------------------------------------------------------------------------ */

#define IR_ROUNDS 2000ul

/* The valgrind to use, or NULL when there is none. */
static const char *find_valgrind(void) {
  const char *env = getenv("MQC_VALGRIND");
  if (env) return env[0] ? env : NULL;
  const char *path = getenv("PATH");
  static char buf[1024];
  while (path && *path) {
    size_t n = strcspn(path, ":");
    snprintf(buf, sizeof buf, "%.*s/valgrind", (int)n, path);
    if (n && access(buf, X_OK) == 0) return buf;
    path += n + (path[n] == ':');
  }
  return NULL;
}

/* Instructions per packet of one kernel on one mix: this program runs itself
 * under callgrind (--count, below), collecting only inside the kernel.
 * Returns a negative value after saying why it could not. */
static double count_instructions(const char *valgrind, size_t kernel, size_t mix_index) {
  char cmd[4096], self[1024];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    printf("  instructions: not counted (cannot find this program)\n");
    return -1;
  }
  self[n] = '\0';
  snprintf(cmd, sizeof cmd,
           "'%s' --tool=callgrind --callgrind-out-file=/dev/null '--toggle-collect=%s' "
           "'%s' bench codec --count %s %zu %lu 2>&1",
           valgrind, KERNELS[kernel].symbol, self, KERNELS[kernel].name, mix_index, IR_ROUNDS);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[512];
  double collected = -1;
  while (fgets(line, sizeof line, p)) {
    const char *at = strstr(line, "Collected : ");
    if (at) collected = atof(at + 12);
  }
  int rc = pclose(p);
  if (rc != 0 || collected <= 0) {
    printf("  instructions: not counted (%s exited %d)\n", valgrind,
           WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
    return -1;
  }
  return collected / ((double)IR_ROUNDS * MIX_SIZE);
}

/* The child side of count_instructions: runs one kernel, nothing else. */
static int run_counted(const char *kernel, const char *mix_arg, const char *rounds_arg) {
  size_t s = (size_t)atoi(mix_arg);
  unsigned long rounds = strtoul(rounds_arg, NULL, 10);
  for (size_t k = 0; k < NKERNELS; k++) {
    mix m;
    if (strcmp(kernel, KERNELS[k].name) || s >= NMIXES || load_mix(&MIXES[s], &m)) continue;
    sink += KERNELS[k].fn(&m, MIXES[s].version, rounds);
    return 0;
  }
  fprintf(stderr, "bench codec: --count %s %s: no such kernel or mix\n", kernel, mix_arg);
  return 2;
}

/* ------------------------------------------------------------------------ */
/* mqtt-packet through node                                                 */
/* ------------------------------------------------------------------------ */

/* Runs mqtt-packet's parser on the same bytes through node. Returns ns per
 * packet, or a negative value after saying why it could not. */
static double node_ns(const mix_spec *spec, double seconds, int repeat, char *version,
                      size_t vcap) {
  char script[1024];
  const char *src = getenv("MQC_SOURCE_DIR");
  if (src) {
    snprintf(script, sizeof script, "%s/bench/mqtt-packet-bench.js", src);
  } else {
    /* This file's own directory: CMake compiles sources by absolute path. */
    snprintf(script, sizeof script, "%s", __FILE__);
    char *slash = strrchr(script, '/');
    snprintf(slash ? slash + 1 : script, sizeof script - (size_t)(slash ? slash + 1 - script : 0),
             "mqtt-packet-bench.js");
  }
  FILE *probe = fopen(script, "r");
  if (!probe) {
    printf("  mqtt-packet: not measured (%s not found; set MQC_SOURCE_DIR)\n", script);
    return -1;
  }
  fclose(probe);
  const char *node = getenv("MQC_NODE") ? getenv("MQC_NODE") : "node";
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s '%s' --version %d --seconds %.2f --repeat %d %s %s %s %s 2>&1",
           node, script, (int)spec->version, seconds, repeat, spec->hex[0], spec->hex[1],
           spec->hex[2], spec->hex[3]);
  FILE *p = popen(cmd, "r");
  if (!p) {
    printf("  mqtt-packet: not measured (cannot run %s)\n", node);
    return -1;
  }
  char line[1024] = "";
  char all[2048] = "";
  while (fgets(line, sizeof line, p))
    strncat(all, line, sizeof all - strlen(all) - 1);
  int rc = pclose(p);
  double ns = -1;
  const char *at = strstr(all, "\"ns_per_packet\":");
  const char *ver = strstr(all, "\"mqtt_packet\":\"");
  if (rc != 0 || !at || sscanf(at + 16, "%lf", &ns) != 1) {
    all[strcspn(all, "\n")] = '\0';
    printf("  mqtt-packet: not measured (%s)\n", all[0] ? all : "node not available");
    return -1;
  }
  if (ver) snprintf(version, vcap, "%.*s", (int)strcspn(ver + 15, "\""), ver + 15);
  return ns;
}

static void usage(void) {
  fprintf(stderr, "usage: mqcheck bench codec [--seconds S] [--repeat N] [--no-node] "
                  "[--no-valgrind]\n");
}

int mqc_bench_codec(int argc, char **argv) {
  double seconds = 1.0;
  int repeat = 1, use_node = 1, use_valgrind = 1;
  if (argc == 5 && !strcmp(argv[1], "--count")) return run_counted(argv[2], argv[3], argv[4]);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
      repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-node"))
      use_node = 0;
    else if (!strcmp(argv[i], "--no-valgrind"))
      use_valgrind = 0;
    else {
      usage();
      return 2;
    }
  }
  if (seconds <= 0 || repeat < 1) {
    usage();
    return 2;
  }
  const char *valgrind = use_valgrind ? find_valgrind() : NULL;
  printf("codec benchmark: client-to-server mix PUBLISH+CONNECT+SUBSCRIBE+PUBACK, "
         "~%.2g s per timing, best of %d\n",
         seconds, repeat);
  if (!valgrind)
    printf("instructions per packet: not counted (%s)\n",
           use_valgrind ? "valgrind not found" : "--no-valgrind");
  else
    printf("instructions per packet: callgrind (%s), %lu rounds of the mix per kernel\n", valgrind,
           IR_ROUNDS);
  for (size_t s = 0; s < NMIXES; s++) {
    const mix_spec *spec = &MIXES[s];
    mix m;
    if (load_mix(spec, &m)) return 1;
    printf("MQTT %s (%zu bytes per mix, %.1f per packet)\n", spec->name, m.total,
           (double)m.total / MIX_SIZE);
    double dec_ns = 0;
    for (size_t k = 0; k < NKERNELS; k++) {
      double ns = measure(KERNELS[k].fn, &m, spec->version, seconds, repeat);
      double ir = valgrind ? count_instructions(valgrind, k, s) : -1;
      if (k == 0) dec_ns = ns;
      printf("  %-38s %7.1f ns/packet %8.1f MB/s", KERNELS[k].label, ns, mb_per_s(&m, ns));
      if (ir > 0) printf("  %6.1f instructions/packet", ir);
      printf("\n");
    }
    if (!use_node) continue;
    char version[32] = "?";
    double js = node_ns(spec, seconds, repeat, version, sizeof version);
    if (js > 0)
      printf("  mqtt-packet %s parser (node):       %7.1f ns/packet  -> codec decode is %.0fx "
             "faster\n",
             version, js, js / dec_ns);
  }
  return 0;
}
