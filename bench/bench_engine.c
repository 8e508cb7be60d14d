/* mqcheck bench engine - in-process engine throughput and memory figures.
 *   throughput: msgs/s through the engine for 1->1, 1->100 fan-out and
 *   100->1 fan-in at QoS 0/1/2 (clients ack everything; the codec decodes
 *   every packet the engine emits, as a client would);
 *   memory: bytes per idle session, per subscription, per retained message,
 *   counted through the engine's injectable allocator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "mqe.h"

int mqc_bench_engine(int argc, char **argv);
extern const char mqc_bench_engine_help[];
const char mqc_bench_engine_help[] =
    "engine msgs/s (1->1, fan-out, fan-in, QoS 0-2) and bytes/session";

typedef struct {
  size_t live;
} counter;

static void *c_malloc(void *ctx, size_t n) {
  ((counter *)ctx)->live += n;
  return malloc(n);
}
static void c_free(void *ctx, void *p, size_t n) {
  ((counter *)ctx)->live -= n;
  free(p);
}

static double secs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
  mqe_conn *c;
  uint64_t got;
} bclient;

static uint8_t g_out[1 << 20];

static size_t enc(const mqc_packet *p, uint8_t *b, size_t cap) {
  size_t n = 0;
  if (mqc_encode(p, MQC_V311, b, cap, &n) != MQC_OK) return 0;
  return n;
}

/* Drains c's output, acking PUBLISH/PUBREC/PUBREL as a client would. */
static void service(mqe_engine *e, bclient *bc) {
  for (int round = 0; round < 1000; round++) {
    size_t n = mqe_conn_send(e, bc->c, g_out, sizeof g_out, 0);
    if (!n) return;
    uint8_t acks[1 << 16];
    size_t an = 0;
    size_t off = 0;
    while (off < n) {
      mqc_packet p;
      mqc_error err;
      if (mqc_decode(g_out + off, n - off, MQC_V311, MQC_FROM_SERVER, 0, &p, &err) != MQC_OK) {
        fprintf(stderr, "bench: undecodable output: %s\n", err.message);
        exit(1);
      }
      off += p.header_len + p.remaining_length;
      mqc_packet a;
      if (p.type == MQC_PUBLISH) {
        bc->got++;
        if (p.publish.qos == 0) continue;
        mqc_packet_init(&a, p.publish.qos == 1 ? MQC_PUBACK : MQC_PUBREC, MQC_V311);
        a.ack.packet_id = p.publish.packet_id;
      } else if (p.type == MQC_PUBREC || p.type == MQC_PUBREL) {
        mqc_packet_init(&a, p.type == MQC_PUBREC ? MQC_PUBREL : MQC_PUBCOMP, MQC_V311);
        a.ack.packet_id = p.ack.packet_id;
      } else {
        continue;
      }
      an += enc(&a, acks + an, sizeof acks - an);
      if (an > sizeof acks - 16) {
        mqe_conn_recv(e, bc->c, acks, an, 0);
        an = 0;
      }
    }
    if (an) mqe_conn_recv(e, bc->c, acks, an, 0);
  }
}

static void service_all(mqe_engine *e) {
  mqe_conn *c;
  while ((c = mqe_next_output(e)))
    service(e, mqe_conn_user(c));
}

static bclient *mk(mqe_engine *e, const char *id) {
  bclient *bc = calloc(1, sizeof *bc);
  mqe_conn_open(e, bc, 0, &bc->c);
  mqc_packet p;
  mqc_packet_init(&p, MQC_CONNECT, MQC_V311);
  p.connect.clean_start = true;
  p.connect.client_id = mqc_cstr(id);
  uint8_t b[256];
  mqe_conn_recv(e, bc->c, b, enc(&p, b, sizeof b), 0);
  service(e, bc);
  return bc;
}

static void sub(mqe_engine *e, bclient *bc, const char *filter, uint8_t qos) {
  uint8_t list[128], b[256];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr(filter), qos);
  mqc_packet p;
  mqc_packet_init(&p, MQC_SUBSCRIBE, MQC_V311);
  p.subscribe.packet_id = 1;
  p.subscribe.list = (mqc_bytes){list, w.len};
  p.subscribe.count = 1;
  mqe_conn_recv(e, bc->c, b, enc(&p, b, sizeof b), 0);
  service(e, bc);
}

static double run(int npub, int nsub, uint8_t qos, long msgs) {
  mqe_config cfg;
  mqe_config_default(&cfg);
  cfg.max_output_bytes = 1 << 20;
  mqe_engine *e;
  mqe_engine_new(&cfg, &e);
  bclient **pubs = calloc((size_t)npub, sizeof *pubs), **subs = calloc((size_t)nsub, sizeof *subs);
  char id[32];
  for (int i = 0; i < nsub; i++) {
    snprintf(id, sizeof id, "s%d", i);
    subs[i] = mk(e, id);
    sub(e, subs[i], "bench/+", qos);
  }
  for (int i = 0; i < npub; i++) {
    snprintf(id, sizeof id, "p%d", i);
    pubs[i] = mk(e, id);
  }
  uint8_t payload[64];
  memset(payload, 'x', sizeof payload);
  uint8_t buf[256];
  double t0 = secs();
  for (long k = 0; k < msgs; k++) {
    bclient *pb = pubs[k % npub];
    mqc_packet p;
    mqc_packet_init(&p, MQC_PUBLISH, MQC_V311);
    p.flags = (uint8_t)(qos << 1);
    p.publish.qos = qos;
    p.publish.packet_id = (uint16_t)(qos ? k % 60000 + 1 : 0);
    p.publish.topic = mqc_cstr("bench/t");
    p.publish.payload = (mqc_bytes){payload, sizeof payload};
    mqe_conn_recv(e, pb->c, buf, enc(&p, buf, sizeof buf), 0);
    service_all(e);
  }
  double dt = secs() - t0;
  uint64_t got = 0;
  for (int i = 0; i < nsub; i++)
    got += subs[i]->got;
  if (got != (uint64_t)msgs * (uint64_t)nsub)
    fprintf(stderr, "bench: delivered %llu of %llu\n", (unsigned long long)got,
            (unsigned long long)msgs * (unsigned long long)nsub);
  for (int i = 0; i < nsub; i++) {
    mqe_conn_close(e, subs[i]->c, false, 0);
    free(subs[i]);
  }
  for (int i = 0; i < npub; i++) {
    mqe_conn_close(e, pubs[i]->c, false, 0);
    free(pubs[i]);
  }
  free(subs);
  free(pubs);
  mqe_engine_free(e);
  return (double)got / dt;
}

static void memory(void) {
  counter cnt = {0};
  mqe_config cfg;
  mqe_config_default(&cfg);
  cfg.alloc.malloc = c_malloc;
  cfg.alloc.free = c_free;
  cfg.alloc.ctx = &cnt;
  mqe_engine *e;
  mqe_engine_new(&cfg, &e);
  enum { N = 1000 };
  bclient *cl[N];
  size_t base = cnt.live;
  char id[32];
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof id, "idle-client-%06d", i);
    cl[i] = mk(e, id);
  }
  size_t after_sessions = cnt.live;
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof id, "sensors/room%d/temp", i);
    sub(e, cl[i], id, 1);
  }
  size_t after_subs = cnt.live;
  uint8_t buf[256];
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof id, "retained/%d/value", i);
    mqc_packet p;
    mqc_packet_init(&p, MQC_PUBLISH, MQC_V311);
    p.flags = 1;
    p.publish.retain = true;
    p.publish.topic = mqc_cstr(id);
    p.publish.payload = mqc_cstr("21.5");
    mqe_conn_recv(e, cl[0]->c, buf, enc(&p, buf, sizeof buf), 0);
  }
  size_t after_ret = cnt.live;
  printf("memory (counted by the allocator; 1000 of each, 3.1.1 clients):\n");
  printf("  per idle connected session: %zu bytes (client id 18 bytes)\n",
         (after_sessions - base) / N);
  printf("  per subscription:           %zu bytes (3-level filter, one node per level)\n",
         (after_subs - after_sessions) / N);
  printf("  per retained message:       %zu bytes (3-level topic, 4-byte payload)\n",
         (after_ret - after_subs) / N);
  for (int i = 0; i < N; i++) {
    mqe_conn_close(e, cl[i]->c, false, 0);
    free(cl[i]);
  }
  mqe_engine_free(e);
}

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck bench engine [MSGS]\n"
             "  MSGS  publishes per case (default 200000, at least 1000)\n");
}

int mqc_bench_engine(int argc, char **argv) {
  long msgs = 200000;
  for (int i = 1; i < argc; i++) {
    char *end;
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] == '-') {
      return cli_bad_option("bench engine", argv[i], usage);
    } else if (i > 1 || (msgs = strtol(argv[i], &end, 10), *end || msgs < 1)) {
      return cli_usage("bench engine", "unexpected argument '%s' (MSGS is a count)", argv[i]);
    }
  }
  if (msgs < 1000) msgs = 1000;
  printf("engine throughput (in-process, 64-byte payload, %ld publishes per case;\n"
         "msgs/s counts deliveries, acks included in the work):\n",
         msgs);
  static const struct {
    const char *name;
    int pubs, subs;
  } cases[] = {{"1->1", 1, 1}, {"1->100 fan-out", 1, 100}, {"100->1 fan-in", 100, 1}};
  for (size_t c = 0; c < 3; c++) {
    printf("  %-15s", cases[c].name);
    for (uint8_t q = 0; q <= 2; q++) {
      long m = cases[c].subs > 1 ? msgs / 20 : msgs;
      printf("  QoS%u %10.0f msg/s", (unsigned)q, run(cases[c].pubs, cases[c].subs, q, m));
      fflush(stdout);
    }
    printf("\n");
  }
  memory();
  return 0;
}
