/* mqcheck bench load - the project's MQTT load generator; it can overload
 * any broker and says when it cannot.
 *
 *   mqcheck bench load [--url tcp://127.0.0.1:1883] [--pubs N] [--subs M]
 *        [--qos Q] [--size BYTES] [--duration S] [--window W] [--rate R]
 *        [--flood] [--idle N] [--broker-pid PID]
 *   mqcheck bench load --compare | --brokers serve,mosquitto,aedes  [load options]
 *   mqcheck bench load --table [--brokers LIST] [--duration S]
 *   mqcheck bench load --sweep [--brokers LIST] [--svg FILE] [load options]
 *   mqcheck bench load --url a=tcp://H1:P --url b=tcp://H2:P [load options]
 *
 * N publishers publish to bench/<i>, M subscribers subscribe to bench/# (each
 * message fans out to M). One thread, one net/ epoll loop, MQTT 3.1.1. The
 * payload carries the send time (ns), the publisher and a sequence number:
 * subscribers count loss (gaps), duplicates and reordering per publisher and
 * sample latency uniformly (reservoir) over every delivery.
 *
 * Speed: a publisher's PUBLISH is encoded once (a template); each message is
 * a copy with its packet id, time and sequence patched in, batched up to
 * 64 KiB per write. Subscribers parse PUBLISH in place and batch their acks.
 * The generator measures its own CPU time: at 90 % of a core or more it, not
 * the broker, may be the bottleneck, and the output says so. With a broker
 * it started (or --broker-pid) it also reports the broker's CPU and peak RSS.
 *
 * Loops: closed (default) keeps each publisher at most W messages ahead of
 * the slowest subscriber (on sequence numbers, so a loss does not shrink the
 * window for good); --flood is open loop: publishers write as fast as TCP
 * takes it (and, at QoS > 0, W PUBLISH in flight); --rate R caps each
 * publisher at R msg/s.
 *
 * Brokers (--brokers/--compare/--table/--sweep) are started fresh for every
 * run on a free loopback port, so peak RSS is per load: `serve` is this
 * binary (or --serve PATH, with --serve-config FILE; `serve@PATH` in the list
 * runs another mqcheck binary's serve, for before/after; LABEL=SPEC names a
 * broker in the output), mosquitto is
 * --mosquitto PATH (default /usr/sbin/mosquitto, max_queued_messages 1000,
 * its default), aedes is node with tests/suite/aedes-broker.js (--aedes FILE).
 *
 * Several --url (NAME=URL) are the nodes of one cluster (docs/cluster.md):
 * publisher i connects to node i mod K and subscriber j to node (j+1) mod K,
 * so deliveries cross nodes; loss, duplicates and p50/p99 are reported for
 * the cross-node deliveries apart. The same load then runs with every
 * client on the first node, the single-node reference in the same run.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load_util.h"
#include "mqc.h"
#include "mqn.h"

int mqc_bench_load(int argc, char **argv);
extern const char mqc_bench_load_help[];
const char mqc_bench_load_help[] =
    "load generator: N pubs, M subs, QoS, rate/flood, sweep and table vs serve/mosquitto/aedes";

#define RXCAP     (1 << 20)
#define BATCH     (64 << 10)  /* bytes per write */
#define TX_ROOM   (160 << 10) /* write only while net/'s buffer holds less */
#define ACKCAP    (64 << 10)
#define MAX_TOPIC 32

typedef struct {
  mqn_conn *nc;
  bool pub;
  int idx;
  /* publisher */
  uint8_t tmpl[MAX_TOPIC + 70016]; /* one encoded PUBLISH */
  size_t tlen, pid_off, pl_off;
  uint32_t inflight, next_seq;
  uint16_t next_pid;
  uint64_t published;
  /* subscriber */
  uint8_t *rx;
  size_t rxn;
  uint8_t *ack;
  size_t ackn;
  uint32_t *last_seq; /* per publisher */
  uint64_t got, dups;
  bool in_loop;
  int node;             /* index into load.node_url */
  uint64_t xgot, xdups; /* subscriber: deliveries from publishers on other nodes */
} lclient;

typedef struct {
  /* the load */
  int npub, nsub, qos, size, duration, window, idle;
  long drain_ms; /* after publishing: stop once nothing arrived for this long */
  int sndbuf;    /* publishers' SO_SNDBUF; 0 = the kernel's (autotuned) */
  mqn_tls *tls;  /* client context for mqtts:// and wss:// URLs */
  double rate;   /* per publisher, msg/s; 0 = unlimited */
  bool flood;
  int nnodes;              /* > 1: a cluster, clients spread over node_url */
  const char *node_url[8]; /* "NAME=URL" or a URL, borrowed from argv */
  bool spread;             /* clients spread over the nodes (else all on the first) */
  /* run state */
  lclient *cl;
  uint32_t *lat; /* microseconds (reservoir) */
  size_t nlat, lat_cap;
  uint32_t *xlat; /* the same for cross-node deliveries */
  size_t nxlat;
  uint64_t xdelivered;
  uint64_t rng, delivered, first_delivery, last_delivery;
  uint32_t *floor; /* per publisher: lowest sequence every subscriber has */
  uint8_t *batch;
  bool failed;
} load;

typedef struct {
  double offered, pub_rate, del_rate, p50, p99, first_ms, pub_secs;
  uint64_t published, delivered, expect, loss, dups;
  double cpu, broker_cpu;                     /* share of one core; broker -1 = unknown */
  double wait, broker_wait;                   /* share of the time runnable but without a CPU */
  long rss_kb;                                /* broker VmHWM, -1 unknown */
  uint64_t xexpect, xdelivered, xloss, xdups; /* cross-node deliveries */
  double xp50, xp99;
} result;

static uint64_t ns_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* ---- setup (blocking) ------------------------------------------------------ */

static int blocking_connect(const mqn_url *url, mqn_tls *tls, mqn_conn **nc, const char *id) {
  char err[256];
  if (mqn_dial_blocking(url, tls, NULL, 5000, nc, err, sizeof err) != MQN_OK) {
    fprintf(stderr, "bench load: cannot connect: %s\n", err);
    return -1;
  }
  mqc_packet p;
  mqc_packet_init(&p, MQC_CONNECT, MQC_V311);
  p.connect.clean_start = true;
  p.connect.keep_alive = 60;
  p.connect.client_id = mqc_cstr(id);
  uint8_t b[512];
  size_t n;
  mqc_encode(&p, MQC_V311, b, sizeof b, &n);
  if (mqn_send_all(*nc, b, n, 5000) != MQN_OK) return -1;
  if (mqn_recv_packet(*nc, b, sizeof b, &n, 5000) != MQN_OK || b[0] != 0x20 || b[3] != 0) {
    fprintf(stderr, "bench load: CONNECT refused\n");
    return -1;
  }
  return 0;
}

static int blocking_subscribe(mqn_conn *nc, int qos) {
  uint8_t list[64], b[512];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr("bench/#"), (uint8_t)qos);
  mqc_packet p;
  mqc_packet_init(&p, MQC_SUBSCRIBE, MQC_V311);
  p.subscribe.packet_id = 1;
  p.subscribe.list = (mqc_bytes){list, w.len};
  p.subscribe.count = 1;
  size_t n;
  mqc_encode(&p, MQC_V311, b, sizeof b, &n);
  if (mqn_send_all(nc, b, n, 5000) != MQN_OK) return -1;
  if (mqn_recv_packet(nc, b, sizeof b, &n, 5000) != MQN_OK || b[0] != 0x90) return -1;
  return 0;
}

/* Encodes the publisher's PUBLISH once; messages patch pid and payload. */
static void make_template(load *L, lclient *c) {
  char topic[MAX_TOPIC];
  snprintf(topic, sizeof topic, "bench/%d", c->idx);
  static uint8_t payload[70000];
  memset(payload, 'p', (size_t)L->size);
  mqc_packet p;
  mqc_packet_init(&p, MQC_PUBLISH, MQC_V311);
  p.flags = (uint8_t)(L->qos << 1);
  p.publish.qos = (uint8_t)L->qos;
  p.publish.packet_id = L->qos ? 1 : 0;
  p.publish.topic = mqc_cstr(topic);
  p.publish.payload = (mqc_bytes){payload, (size_t)L->size};
  if (mqc_encode(&p, MQC_V311, c->tmpl, sizeof c->tmpl, &c->tlen) != MQC_OK) c->tlen = 0;
  c->pl_off = c->tlen - (size_t)L->size;
  c->pid_off = c->pl_off - 2; /* only meaningful at QoS > 0 */
}

/* ---- subscriber side --------------------------------------------------------- */

static void ack_out(lclient *c, uint8_t type_byte, uint16_t pid) {
  if (c->ackn + 4 > ACKCAP) {
    size_t w = 0;
    mqn_conn_write(c->nc, c->ack, c->ackn, &w);
    c->ackn = 0;
  }
  uint8_t *a = c->ack + c->ackn;
  a[0] = type_byte;
  a[1] = 2;
  a[2] = (uint8_t)(pid >> 8);
  a[3] = (uint8_t)pid;
  c->ackn += 4;
}

/* Reservoir sampling: each of the `seen` deliveries equally likely kept. */
static void sample(load *L, uint32_t *lat, size_t *n, uint64_t seen, uint32_t us) {
  if (*n < L->lat_cap) {
    lat[(*n)++] = us;
    return;
  }
  L->rng = L->rng * 6364136223846793005ull + 1442695040888963407ull;
  uint64_t j = (L->rng >> 11) % seen;
  if (j < L->lat_cap) lat[j] = us;
}

static void on_delivery(load *L, lclient *c, const uint8_t *pl, size_t n) {
  if (n < 16) return;
  uint64_t sent = 0;
  uint32_t pub = 0, seq = 0;
  memcpy(&sent, pl, 8);
  memcpy(&pub, pl + 8, 4);
  memcpy(&seq, pl + 12, 4);
  if (pub >= (uint32_t)L->npub) return;
  c->got++;
  L->delivered++;
  bool cross = c->node != L->cl[pub].node; /* publishers come first in L->cl */
  uint32_t *last = &c->last_seq[pub];
  if (seq <= *last) {
    c->dups++; /* duplicate or out of order: sequences only grow */
    c->xdups += cross;
  } else {
    *last = seq; /* a gap is loss, counted at the end */
  }
  c->xgot += cross;
  uint64_t now = ns_now();
  if (!L->first_delivery) L->first_delivery = now;
  L->last_delivery = now;
  uint64_t d = now > sent ? (now - sent) / 1000u : 0;
  uint32_t us = (uint32_t)(d > UINT32_MAX ? UINT32_MAX : d);
  sample(L, L->lat, &L->nlat, L->delivered, us);
  if (cross) sample(L, L->xlat, &L->nxlat, ++L->xdelivered, us);
}

/* Parses whole packets in c->rx in place. Returns bytes consumed. */
static size_t parse(load *L, lclient *c) {
  size_t off = 0;
  while (off + 2 <= c->rxn) { /* bounded: each pass consumes a packet or stops */
    const uint8_t *p = c->rx + off;
    size_t avail = c->rxn - off, rem = 0, hl = 1;
    unsigned mult = 1;
    bool done = false;
    for (; hl <= 4 && hl < avail; hl++) {
      rem += (size_t)(p[hl] & 0x7f) * mult;
      mult *= 128;
      if (!(p[hl] & 0x80)) {
        done = true;
        break;
      }
    }
    if (!done) {
      if (hl > 4) L->failed = true; /* malformed length */
      break;
    }
    size_t total = 1 + hl + rem;
    if (total > avail) break;
    const uint8_t *b = p + 1 + hl;
    uint8_t type = p[0] >> 4;
    uint16_t pid = 0;
    if (rem >= 2) pid = (uint16_t)(b[0] << 8 | b[1]);
    switch (type) {
    case MQC_PUBLISH: {
      uint8_t qos = (p[0] >> 1) & 3;
      size_t tl = rem >= 2 ? (size_t)(b[0] << 8 | b[1]) : 0;
      size_t hdr = 2 + tl + (qos ? 2 : 0);
      if (hdr > rem) {
        L->failed = true;
        break;
      }
      if (qos) {
        uint16_t id = (uint16_t)(b[2 + tl] << 8 | b[3 + tl]);
        ack_out(c, qos == 1 ? 0x40 : 0x50, id); /* PUBACK / PUBREC */
      }
      on_delivery(L, c, b + hdr, rem - hdr);
      break;
    }
    case MQC_PUBACK:
    case MQC_PUBCOMP:
      if (c->inflight) c->inflight--;
      break;
    case MQC_PUBREC:
      ack_out(c, 0x62, pid); /* PUBREL */
      break;
    case MQC_PUBREL:
      ack_out(c, 0x70, pid); /* PUBCOMP */
      break;
    default:
      break;
    }
    off += total;
  }
  return off;
}

static void on_readable(load *L, lclient *c) {
  for (int k = 0; k < 16; k++) { /* bounded; the loop reports again */
    size_t n = 0;
    if (mqn_conn_read(c->nc, c->rx + c->rxn, RXCAP - c->rxn, &n) != MQN_OK) break;
    c->rxn += n;
    size_t off = parse(L, c);
    memmove(c->rx, c->rx + off, c->rxn - off);
    c->rxn -= off;
  }
  if (c->ackn) {
    size_t w = 0;
    mqn_conn_write(c->nc, c->ack, c->ackn, &w);
    c->ackn = 0;
  }
}

/* ---- publisher side ------------------------------------------------------------ */

/* Writes as many messages as the window, the rate and net/'s buffer allow.
 * Returns how many. */
static uint32_t publish_some(load *L, lclient *c, uint64_t start, uint64_t now) {
  if (mqn_conn_pending_out(c->nc) > TX_ROOM) return 0;
  uint64_t can = BATCH / c->tlen;
  if (!can) can = 1;
  if (L->qos) {
    if (c->inflight >= (uint32_t)L->window) return 0;
    if (can > (uint64_t)L->window - c->inflight) can = (uint64_t)L->window - c->inflight;
  }
  if (!L->flood && L->nsub) { /* closed loop, on sequence numbers */
    uint32_t ahead = c->next_seq - L->floor[c->idx];
    if (ahead >= (uint32_t)L->window) return 0;
    if (can > (uint64_t)L->window - ahead) can = (uint64_t)L->window - ahead;
  }
  if (L->rate > 0) {
    double allowed = L->rate * (double)(now - start) / 1e9 + 1;
    if ((double)c->published >= allowed) return 0;
    double room = allowed - (double)c->published;
    if ((double)can > room) can = (uint64_t)room;
    if (!can) return 0;
  }
  uint64_t t = ns_now();
  uint32_t idx = (uint32_t)c->idx;
  size_t len = 0;
  for (uint64_t i = 0; i < can; i++) {
    uint8_t *m = L->batch + len;
    memcpy(m, c->tmpl, c->tlen);
    uint32_t seq = ++c->next_seq;
    if (L->qos) {
      c->next_pid = (uint16_t)(c->next_pid == 65535 ? 1 : c->next_pid + 1);
      m[c->pid_off] = (uint8_t)(c->next_pid >> 8);
      m[c->pid_off + 1] = (uint8_t)c->next_pid;
    }
    memcpy(m + c->pl_off, &t, 8);
    memcpy(m + c->pl_off + 8, &idx, 4);
    memcpy(m + c->pl_off + 12, &seq, 4);
    len += c->tlen;
  }
  size_t w = 0;
  mqn_status st = mqn_conn_write(c->nc, L->batch, len, &w);
  if ((st != MQN_OK && st != MQN_AGAIN) || w != len) {
    /* net/ took less than its free room: cannot happen below TX_ROOM */
    L->failed = true;
    return 0;
  }
  c->published += can;
  if (L->qos) c->inflight += (uint32_t)can;
  return (uint32_t)can;
}

/* ---- one run ---------------------------------------------------------------- */

static void free_clients(load *L, int n) {
  if (!L->cl) return;
  for (int i = 0; i < n; i++) {
    if (L->cl[i].nc && !L->cl[i].in_loop) mqn_conn_free(L->cl[i].nc);
    free(L->cl[i].rx);
    free(L->cl[i].ack);
    free(L->cl[i].last_seq);
  }
  free(L->cl);
  L->cl = NULL;
}

/* The URL of "NAME=URL" (a name has no ':' or '/' before its '='). */
static const char *node_address(const char *arg) {
  const char *eq = strchr(arg, '=');
  return eq && strcspn(arg, ":/") > (size_t)(eq - arg) ? eq + 1 : arg;
}

/* Runs the load against url, or against the nodes L->node_url when
 * L->nnodes > 1. broker_pid > 0: its CPU and peak RSS too. */
static int run_load(load *L, const char *urls, const char *label, pid_t broker_pid, result *R) {
  memset(R, 0, sizeof *R);
  R->broker_cpu = -1;
  R->rss_kb = -1;
  L->nlat = 0;
  L->delivered = 0;
  L->first_delivery = L->last_delivery = 0;
  L->rng = 0x6d71636865636bull;
  L->failed = false;
  L->nxlat = 0;
  L->xdelivered = 0;
  int nn = L->nnodes > 1 ? L->nnodes : 1;
  mqn_url nurl[8];
  for (int i = 0; i < nn; i++) {
    const char *u = nn > 1 ? node_address(L->node_url[i]) : urls;
    if (mqn_url_parse(u, &nurl[i]) != MQN_OK) {
      fprintf(stderr, "bench load: bad url %s\n", u);
      return 2;
    }
    if (mqn_scheme_is_tls(nurl[i].scheme) && !L->tls) {
      fprintf(stderr, "bench load: %s needs --cafile FILE or --insecure\n", u);
      return 2;
    }
  }
  int n = L->npub + L->nsub;
  L->cl = calloc((size_t)n, sizeof *L->cl);
  free(L->floor);
  L->floor = calloc((size_t)L->npub, sizeof *L->floor);
  mqn_conn **idle = L->idle ? calloc((size_t)L->idle, sizeof *idle) : NULL;
  mqn_loop *loop = NULL;
  int rc = 1;
  if (!L->cl || !L->floor || (L->idle && !idle) || mqn_loop_new((size_t)n + 16, &loop) != MQN_OK)
    goto out;
  char id[64];
  for (int i = 0; i < L->idle; i++) { /* held open, never in the loop */
    snprintf(id, sizeof id, "bench-idle-%d-%ld", i, (long)(ns_now() % 100000));
    if (blocking_connect(&nurl[L->spread ? i % nn : 0], L->tls, &idle[i], id) != 0) goto out;
  }
  for (int i = 0; i < n; i++) {
    lclient *c = &L->cl[i];
    c->pub = i < L->npub;
    c->idx = c->pub ? i : i - L->npub;
    /* spread: subscriber j sits one node after publisher j, so deliveries cross */
    c->node = !L->spread ? 0 : c->pub ? c->idx % nn : (c->idx + 1) % nn;
    c->rx = malloc(RXCAP);
    c->ack = malloc(ACKCAP);
    if (!c->pub) c->last_seq = calloc((size_t)L->npub, sizeof *c->last_seq);
    snprintf(id, sizeof id, "bench-%s-%d-%ld", c->pub ? "pub" : "sub", c->idx,
             (long)(ns_now() % 100000));
    if (!c->rx || !c->ack || (!c->pub && !c->last_seq) ||
        blocking_connect(&nurl[c->node], L->tls, &c->nc, id) != 0)
      goto out;
    if (!c->pub && blocking_subscribe(c->nc, L->qos) != 0) goto out;
    if (c->pub) make_template(L, c);
    if (c->pub && L->sndbuf > 0) /* what waits in our own kernel buffer is not the broker's */
      setsockopt(mqn_conn_fd(c->nc), SOL_SOCKET, SO_SNDBUF, &L->sndbuf, sizeof L->sndbuf);
    mqn_loop_add(loop, c->nc, c);
    c->in_loop = true;
  }
  double cpu0 = lu_self_cpu(), wait0 = lu_proc_runwait(0);
  double bcpu0 = broker_pid > 0 ? lu_proc_cpu(broker_pid) : -1;
  double bwait0 = broker_pid > 0 ? lu_proc_runwait(broker_pid) : -1;
  uint64_t start = ns_now(), stop = start + (uint64_t)L->duration * 1000000000ull;
  uint64_t pub_end = 0, hard_end = stop + 10000000000ull + (uint64_t)L->drain_ms * 1000000ull;
  mqn_event evs[256];
  for (;;) {
    uint64_t now = ns_now();
    bool publishing = now < stop;
    if (!publishing && !pub_end) pub_end = now;
    if (!publishing) {
      /* drain: stop once everything arrived, or nothing for drain_ms */
      uint64_t published = 0;
      for (int i = 0; i < L->npub; i++)
        published += L->cl[i].published;
      uint64_t quiet_since = L->last_delivery > pub_end ? L->last_delivery : pub_end;
      if (L->delivered >= published * (uint64_t)L->nsub || now >= hard_end ||
          now - quiet_since > (uint64_t)L->drain_ms * 1000000ull)
        break;
    }
    for (int p = 0; publishing && !L->flood && L->nsub && p < L->npub; p++) { /* O(pubs x subs) */
      uint32_t lo = UINT32_MAX;
      for (int s2 = L->npub; s2 < n; s2++)
        if (L->cl[s2].last_seq[p] < lo) lo = L->cl[s2].last_seq[p];
      L->floor[p] = lo;
    }
    uint32_t sent = 0;
    if (publishing)
      for (int i = 0; i < L->npub; i++)
        sent += publish_some(L, &L->cl[i], start, now);
    if (L->failed) {
      fprintf(stderr, "bench load: protocol or buffer error\n");
      goto out;
    }
    size_t k = 0;
    /* busy only while productive, so the CPU figure means something */
    int wait = sent ? 0 : publishing && L->rate > 0 ? 1 : 10;
    if (mqn_loop_wait(loop, wait, evs, 256, &k) != MQN_OK) break;
    for (size_t e = 0; e < k; e++) {
      lclient *c = evs[e].udata;
      if (evs[e].kind == MQN_EV_READABLE)
        on_readable(L, c);
      else if (evs[e].kind == MQN_EV_ERROR || evs[e].kind == MQN_EV_TIMEOUT) {
        fprintf(stderr, "bench load: connection failed: %s\n", mqn_conn_errmsg(evs[e].conn));
        goto out;
      }
    }
  }
  uint64_t end = ns_now();
  double wall = (double)(end - start) / 1e9;
  R->cpu = (lu_self_cpu() - cpu0) / wall;
  double w1 = lu_proc_runwait(0);
  R->wait = wait0 >= 0 && w1 >= 0 ? (w1 - wait0) / wall : 0;
  R->broker_wait = -1;
  if (broker_pid > 0) {
    double b1 = lu_proc_cpu(broker_pid), bw1 = lu_proc_runwait(broker_pid);
    R->broker_cpu = bcpu0 >= 0 && b1 >= 0 ? (b1 - bcpu0) / wall : -1;
    R->broker_wait = bwait0 >= 0 && bw1 >= 0 ? (bw1 - bwait0) / wall : -1;
    R->rss_kb = lu_proc_hwm_kb(broker_pid);
  }
  uint64_t published = 0;
  for (int i = 0; i < L->npub; i++)
    published += L->cl[i].published;
  uint64_t dups = 0, expect = published * (uint64_t)L->nsub, uniq = 0;
  for (int i = L->npub; i < n; i++) {
    dups += L->cl[i].dups;
    uniq += L->cl[i].got - L->cl[i].dups;
    R->xdelivered += L->cl[i].xgot;
    R->xdups += L->cl[i].xdups;
    for (int p = 0; p < L->npub; p++)
      if (L->cl[p].node != L->cl[i].node) R->xexpect += L->cl[p].published;
  }
  uint64_t xuniq = R->xdelivered - R->xdups;
  R->xloss = R->xexpect > xuniq ? R->xexpect - xuniq : 0;
  qsort(L->lat, L->nlat, sizeof *L->lat, cmp_u32);
  qsort(L->xlat, L->nxlat, sizeof *L->xlat, cmp_u32);
  R->xp50 = L->nxlat ? L->xlat[L->nxlat / 2] / 1000.0 : 0.0;
  R->xp99 = L->nxlat ? L->xlat[(size_t)((double)L->nxlat * 0.99)] / 1000.0 : 0.0;
  double secs = (double)(pub_end - start) / 1e9;
  double del_secs = L->last_delivery > start ? (double)(L->last_delivery - start) / 1e9 : secs;
  if (del_secs < secs) del_secs = secs;
  R->published = published;
  R->delivered = L->delivered;
  R->expect = expect;
  R->pub_secs = secs;
  R->offered = L->rate > 0 ? L->rate * L->npub : (double)published / secs;
  R->pub_rate = (double)published / secs;
  R->del_rate = (double)L->delivered / del_secs;
  R->p50 = L->nlat ? L->lat[L->nlat / 2] / 1000.0 : 0.0;
  R->p99 = L->nlat ? L->lat[(size_t)((double)L->nlat * 0.99)] / 1000.0 : 0.0;
  R->loss = expect > uniq ? expect - uniq : 0;
  R->dups = dups;
  R->first_ms = L->first_delivery ? (double)(L->first_delivery - start) / 1e6 : -1;
  printf("load: %s%s%s pubs=%d subs=%d idle=%d qos=%d size=%d duration=%ds window=%d %s",
         label ? label : "", label ? " " : "", urls, L->npub, L->nsub, L->idle, L->qos, L->size,
         L->duration, L->window, L->flood ? "open-loop" : "closed-loop");
  if (L->rate > 0) printf(" rate=%.0f/pub", L->rate);
  printf("\n  published   %12.0f msg/s  (%llu)\n", R->pub_rate, (unsigned long long)published);
  printf("  delivered   %12.0f msg/s  (%llu of %llu expected, over %.2f s)\n", R->del_rate,
         (unsigned long long)L->delivered, (unsigned long long)expect, del_secs);
  printf("  latency     p50 %.3f ms  p99 %.3f ms  (%zu samples of %llu)\n", R->p50, R->p99, L->nlat,
         (unsigned long long)L->delivered);
  printf("  loss        %llu  duplicates/reordered %llu\n", (unsigned long long)R->loss,
         (unsigned long long)dups);
  if (nn > 1 && L->spread)
    printf("  cross-node  %llu of %llu expected delivered across nodes, loss %llu, "
           "duplicates/reordered %llu, p50 %.3f ms p99 %.3f ms (%zu samples)\n",
           (unsigned long long)R->xdelivered, (unsigned long long)R->xexpect,
           (unsigned long long)R->xloss, (unsigned long long)R->xdups, R->xp50, R->xp99, L->nxlat);
  printf("  first       delivery after %.1f ms; publishers ran %.0f ms\n", R->first_ms,
         secs * 1000);
  printf("  cpu         generator %.0f%% of a core (+%.0f%% waiting for one)", R->cpu * 100,
         R->wait * 100);
  if (R->broker_cpu >= 0)
    printf(", broker %.0f%% (+%.0f%% waiting)", R->broker_cpu * 100, R->broker_wait * 100);
  if (R->rss_kb >= 0) printf(", broker peak RSS %ld KiB", R->rss_kb);
  printf("\n");
  /* one thread: busy or runnable (the machine's other work took the CPU)
   * most of the time means the generator, not the broker, set the pace */
  if (R->cpu + R->wait >= 0.9)
    printf("  NOTE        the generator was busy %.0f%% and waiting for a CPU %.0f%% of the "
           "time: it may be the bottleneck, not the broker\n",
           R->cpu * 100, R->wait * 100);
  printf("result: broker=%s published=%llu delivered=%llu expected=%llu loss=%llu dups=%llu "
         "pub_rate=%.0f del_rate=%.0f p50_ms=%.3f p99_ms=%.3f first_ms=%.1f pub_ms=%.0f "
         "cpu=%.2f wait=%.2f broker_cpu=%.2f broker_wait=%.2f rss_kb=%ld\n",
         label ? label : "url", (unsigned long long)published, (unsigned long long)L->delivered,
         (unsigned long long)expect, (unsigned long long)R->loss, (unsigned long long)dups,
         R->pub_rate, R->del_rate, R->p50, R->p99, R->first_ms, secs * 1000, R->cpu, R->wait,
         R->broker_cpu, R->broker_wait, R->rss_kb);
  if (nn > 1 && L->spread)
    printf("result: nodes=%d spread=%d x_expected=%llu x_delivered=%llu x_loss=%llu x_dups=%llu "
           "x_p50_ms=%.3f x_p99_ms=%.3f\n",
           nn, L->spread, (unsigned long long)R->xexpect, (unsigned long long)R->xdelivered,
           (unsigned long long)R->xloss, (unsigned long long)R->xdups, R->xp50, R->xp99);
  fflush(stdout);
  rc = 0;
out:
  if (loop) mqn_loop_free(loop); /* frees the connections it holds */
  free_clients(L, n);
  for (int i = 0; idle && i < L->idle; i++)
    mqn_conn_free(idle[i]);
  free(idle);
  return rc;
}

/* ---- brokers started per run ---------------------------------------------------- */

typedef struct {
  const char *self, *serve, *serve_config, *mosquitto, *aedes;
} brokers;

/* Starts broker `name` on a free port; *url gets its address. */
static pid_t start_broker(const brokers *B, const char *name, char *url, size_t cap, char *conf,
                          size_t conf_cap) {
  for (int attempt = 0; attempt < 3; attempt++) { /* a parallel test may take the port */
    uint16_t port = lu_free_port();
    if (!port) return -1;
    char listen[64], pstr[16];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
    snprintf(pstr, sizeof pstr, "%u", port);
    snprintf(url, cap, "tcp://127.0.0.1:%u", port);
    pid_t pid = -1;
    if (!strcmp(name, "serve") || !strncmp(name, "serve@", 6)) {
      /* serve@PATH: serve from another mqcheck binary (before/after) */
      const char *bin = name[5] == '@' ? name + 6 : B->serve ? B->serve : B->self;
      char *argv[] = {(char *)bin, "serve", "--quiet", "--listen", listen, NULL, NULL, NULL};
      if (B->serve_config) {
        argv[5] = "--config";
        argv[6] = (char *)B->serve_config;
      }
      pid = lu_spawn(argv, port, NULL);
    } else if (!strcmp(name, "mosquitto")) {
      snprintf(conf, conf_cap, "/tmp/mqc-load-XXXXXX");
      int fd = mkstemp(conf);
      if (fd < 0) return -1;
      dprintf(fd,
              "listener %u 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
              "max_queued_messages 1000\n",
              port);
      close(fd);
      char *argv[] = {(char *)B->mosquitto, "-c", conf, NULL};
      pid = lu_spawn(argv, port, NULL);
    } else if (!strcmp(name, "aedes")) {
      char *argv[] = {"/usr/bin/node", (char *)B->aedes, pstr, NULL};
      pid = lu_spawn(argv, port, NULL);
    } else {
      fprintf(stderr, "bench load: unknown broker '%s' (serve, mosquitto, aedes)\n", name);
      return -1;
    }
    if (pid > 0) return pid;
    if (conf[0]) unlink(conf), conf[0] = 0;
  }
  fprintf(stderr, "bench load: could not start %s\n", name);
  return -1;
}

/* LABEL=SPEC names a broker SPEC (serve, serve@PATH, mosquitto, aedes) LABEL
 * in the output; without '=' the spec is its own label. */
static const char *spec_of(const char *name) {
  const char *eq = strchr(name, '=');
  return eq ? eq + 1 : name;
}
static const char *label_of(const char *name, char *buf, size_t cap) {
  const char *eq = strchr(name, '=');
  if (!eq) return name;
  snprintf(buf, cap, "%.*s", (int)(eq - name), name);
  return buf;
}

/* One run of the load against a fresh broker. */
static int run_on(load *L, const brokers *B, const char *name, result *R) {
  char url[64], conf[64] = "", lb[64];
  pid_t pid = start_broker(B, spec_of(name), url, sizeof url, conf, sizeof conf);
  if (pid < 0) return 1;
  int rc = run_load(L, url, label_of(name, lb, sizeof lb), pid, R);
  lu_stop(pid);
  if (conf[0]) unlink(conf);
  return rc;
}

/* Splits LIST at commas into names[] and their labels[] (in place). */
static int split_brokers(char *list, const char **names, const char **labels, int cap) {
  int n = 0;
  for (char *s = strtok(list, ","); s && n < cap; s = strtok(NULL, ","))
    names[n++] = s;
  static char lbuf[8][64];
  for (int i = 0; i < n; i++)
    labels[i] = label_of(names[i], lbuf[i], sizeof lbuf[i]);
  return n;
}

static int compare(load *L, const brokers *B, const char **names, const char **labels, int nb) {
  result R[8];
  for (int i = 0; i < nb; i++)
    if (run_on(L, B, names[i], &R[i]) != 0) return 1;
  printf("compare qos=%d %d->%d %s:", L->qos, L->npub, L->nsub,
         L->flood ? "open-loop" : "closed-loop");
  for (int i = 0; i < nb; i++)
    printf(" %s %.0f msg/s p99 %.2f ms loss %llu;", labels[i], R[i].del_rate, R[i].p99,
           (unsigned long long)R[i].loss);
  printf("\n");
  return 0;
}

/* ---- --table: the loads of docs/engine.md, open and closed loop ------------------- */

static const struct {
  int pubs, subs, qos;
} table_loads[] = {{1, 50, 1}, {50, 1, 1}, {1, 1, 0}, {1, 50, 0}, {10, 10, 0}, {1, 1, 2}};

static void fmt_rss(char *b, size_t n, long kb) {
  if (kb < 0)
    snprintf(b, n, "-");
  else
    snprintf(b, n, "%.1f MiB", (double)kb / 1024.0);
}

static int table(load *L, const brokers *B, const char **names, const char **labels, int nb) {
  printf("| load | loop | broker | published msg/s | delivered msg/s | loss | p50 ms | p99 ms | "
         "peak RSS | generator CPU (+wait) |\n|---|---|---|---|---|---|---|---|---|---|\n");
  fflush(stdout);
  for (size_t k = 0; k < sizeof table_loads / sizeof *table_loads; k++)
    for (int loop = 0; loop < 2; loop++)
      for (int b = 0; b < nb; b++) {
        L->npub = table_loads[k].pubs;
        L->nsub = table_loads[k].subs;
        L->qos = table_loads[k].qos;
        L->flood = loop == 1;
        result R;
        /* the run's own report goes to stderr; the table row to stdout */
        fflush(stdout);
        int saved = dup(1);
        dup2(2, 1);
        int rc = run_on(L, B, names[b], &R);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        char rss[32];
        fmt_rss(rss, sizeof rss, R.rss_kb);
        if (rc != 0) {
          printf("| %d → %d QoS %d | %s | %s | failed | | | | | | |\n", L->npub, L->nsub, L->qos,
                 L->flood ? "open" : "closed", labels[b]);
          continue;
        }
        printf("| %d → %d QoS %d | %s | %s | %.0f | %.0f | %llu | %.2f | %.2f | %s | %.0f%% "
               "(+%.0f%%) |\n",
               L->npub, L->nsub, L->qos, L->flood ? "open" : "closed", labels[b], R.pub_rate,
               R.del_rate, (unsigned long long)R.loss, R.p50, R.p99, rss, R.cpu * 100,
               R.wait * 100);
        fflush(stdout);
      }
  return 0;
}

/* ---- --sweep: offered rate stepped up past saturation ------------------------------ */

#define SWEEP_MAX 16

static int sweep(load *L, const brokers *B, const char **names, const char **labels, int nb,
                 double start_rate, const char *svg) {
  static double off[8][SWEEP_MAX], del[8][SWEEP_MAX], p99[8][SWEEP_MAX];
  static uint64_t loss[8][SWEEP_MAX], dups[8][SWEEP_MAX];
  size_t np[8] = {0};
  double per_sub = L->nsub ? L->nsub : 1;
  for (int b = 0; b < nb && b < 8; b++) {
    double rate = start_rate;
    int past = 0;
    for (int step = 0; step <= SWEEP_MAX; step++, rate *= 2) {
      /* rated steps until two are saturated, then one unlimited point */
      bool last = past >= 2 || step >= SWEEP_MAX - 1;
      L->flood = true; /* open loop: the offer does not wait for deliveries */
      L->rate = last ? 0 : rate / L->npub;
      result R;
      if (run_on(L, B, names[b], &R) != 0) return 1;
      size_t i = np[b]++;
      off[b][i] = last ? R.pub_rate : rate;
      del[b][i] = R.del_rate / per_sub;
      p99[b][i] = R.p99 > 0.001 ? R.p99 : 0.001;
      loss[b][i] = R.loss;
      dups[b][i] = R.dups;
      if (last) break;
      /* saturated: the publishers got out, or the subscribers received, well
       * short of the offer */
      if (R.pub_rate < 0.8 * rate || R.del_rate < 0.8 * rate * per_sub) past++;
    }
    L->rate = 0;
  }
  printf("\nsweep qos=%d %d->%d size=%d, open loop: per step, offered msg/s -> delivered msg/s "
         "(per subscriber), p99 ms, loss, duplicates/reordered; the last step (flood) is "
         "unlimited\n",
         L->qos, L->npub, L->nsub, L->size);
  for (int b = 0; b < nb && b < 8; b++) {
    printf("%s\n", labels[b]);
    for (size_t i = 0; i < np[b]; i++)
      printf("  %-5s %10.0f -> %10.0f  p99 %9.2f ms  loss %llu  dup %llu\n",
             i + 1 == np[b] ? "flood" : "", off[b][i], del[b][i], p99[b][i],
             (unsigned long long)loss[b][i], (unsigned long long)dups[b][i]);
  }
  if (svg) {
    lu_series s[8]; /* the rated steps as a curve, the last (flood) step apart */
    for (int b = 0; b < nb && b < 8; b++)
      s[b] = (lu_series){labels[b],         np[b] - 1,         off[b],           del[b], p99[b],
                         off[b][np[b] - 1], del[b][np[b] - 1], p99[b][np[b] - 1]};
    char title[128];
    snprintf(title, sizeof title, "bench load --sweep: %d -> %d, QoS %d, %d-byte payloads", L->npub,
             L->nsub, L->qos, L->size);
    if (lu_svg_write(svg, title, s, (size_t)(nb < 8 ? nb : 8)) != 0) {
      fprintf(stderr, "bench load: cannot write %s\n", svg);
      return 1;
    }
    printf("plot written to %s\n", svg);
  }
  return 0;
}

/* ---- command line ---------------------------------------------------------------------- */

/* The load spread over the nodes, then on the first node alone: what
 * crossing nodes costs, measured against the same broker in the same run. */
static int cluster_load(load *L, pid_t broker_pid) {
  char all[1200];
  size_t used = 0;
  for (int i = 0; i < L->nnodes; i++) {
    int w = snprintf(all + used, sizeof all - used, "%s%s", i ? "," : "", L->node_url[i]);
    if (w < 0 || (size_t)w >= sizeof all - used) break;
    used += (size_t)w;
  }
  result spread, single;
  L->spread = true;
  int rc = run_load(L, all, "cluster", broker_pid, &spread);
  if (rc) return rc;
  L->spread = false;
  rc = run_load(L, node_address(L->node_url[0]), "single-node", broker_pid, &single);
  if (rc) return rc;
  printf("cluster vs single node: delivered %.0f vs %.0f msg/s, p99 %.3f ms (cross-node %.3f) "
         "vs %.3f ms, cross-node loss %llu, duplicates %llu\n",
         spread.del_rate, single.del_rate, spread.p99, spread.xp99, single.p99,
         (unsigned long long)spread.xloss, (unsigned long long)spread.xdups);
  return 0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: mqcheck bench load [--url tcp://H:P]... [--pubs N] [--subs M] [--qos Q]\n"
          "       [--size B] [--duration S] [--window W] [--rate msgs/s/publisher] [--flood]\n"
          "       [--idle N] [--broker-pid PID] [--drain MS (quiet time that ends a run)]\n"
          "       [--sndbuf BYTES (publishers' SO_SNDBUF, default 131072; 0 = kernel)]\n"
          "       [--cafile FILE | --insecure]  (mqtts:// and wss:// URLs)\n"
          "       [--compare | --brokers serve,mosquitto,aedes | --table | --sweep [--svg F]\n"
          "        [--sweep-start MSGS_PER_S]] [--serve PATH] [--serve-config F]\n"
          "       [--mosquitto PATH] [--aedes SCRIPT]\n"
          "  default: closed loop (each publisher at most W messages ahead of the slowest\n"
          "  subscriber); --flood: open loop (as fast as TCP takes it, W in flight at QoS>0)\n"
          "  several --url NAME=URL: the nodes of a cluster; clients spread over them,\n"
          "  cross-node loss, duplicates and latency reported, then the same load on the\n"
          "  first node alone\n");
  return 2;
}

int mqc_bench_load(int argc, char **argv) {
  load L;
  memset(&L, 0, sizeof L);
  L.npub = 10;
  L.nsub = 10;
  L.size = 64;
  L.duration = 5;
  L.window = 64;
  L.drain_ms = 500;
  L.sndbuf = 128 << 10;
  bool cmp = false, do_table = false, do_sweep = false, insecure = false;
  const char *cafile = NULL;
  const char *urls = "tcp://127.0.0.1:1883", *list = NULL, *svg = NULL;
  double sweep_start = 5000;
  long broker_pid = 0;
  brokers B = {0};
  B.mosquitto = "/usr/sbin/mosquitto";
  char self[4096], aedes[4200];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  if (k <= 0) return 1;
  self[k] = 0;
  B.self = self;
  /* build/<preset>/mqcheck -> <source>/tests/suite/aedes-broker.js */
  snprintf(aedes, sizeof aedes, "%s", self);
  char *slash = strrchr(aedes, '/');
  if (slash)
    snprintf(slash, sizeof aedes - (size_t)(slash - aedes), "/../../tests/suite/aedes-broker.js");
  B.aedes = aedes;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool flag = true;
    if (!strcmp(a, "--flood"))
      L.flood = true;
    else if (!strcmp(a, "--compare"))
      cmp = true;
    else if (!strcmp(a, "--table"))
      do_table = true;
    else if (!strcmp(a, "--sweep"))
      do_sweep = true;
    else if (!strcmp(a, "--insecure"))
      insecure = true;
    else
      flag = false;
    if (flag) continue;
    if (!v) return usage();
    i++;
    if (!strcmp(a, "--mosquitto"))
      B.mosquitto = v;
    else if (!strcmp(a, "--aedes"))
      B.aedes = v;
    else if (!strcmp(a, "--serve"))
      B.serve = v;
    else if (!strcmp(a, "--serve-config"))
      B.serve_config = v;
    else if (!strcmp(a, "--brokers"))
      list = v;
    else if (!strcmp(a, "--svg"))
      svg = v;
    else if (!strcmp(a, "--sweep-start"))
      sweep_start = atof(v);
    else if (!strcmp(a, "--broker-pid"))
      broker_pid = atol(v);
    else if (!strcmp(a, "--idle"))
      L.idle = atoi(v);
    else if (!strcmp(a, "--url")) {
      if (L.nnodes == 8) return usage();
      urls = L.node_url[L.nnodes++] = v;
    } else if (!strcmp(a, "--pubs"))
      L.npub = atoi(v);
    else if (!strcmp(a, "--subs"))
      L.nsub = atoi(v);
    else if (!strcmp(a, "--qos"))
      L.qos = atoi(v);
    else if (!strcmp(a, "--size"))
      L.size = atoi(v);
    else if (!strcmp(a, "--duration"))
      L.duration = atoi(v);
    else if (!strcmp(a, "--window"))
      L.window = atoi(v);
    else if (!strcmp(a, "--rate"))
      L.rate = atof(v);
    else if (!strcmp(a, "--cafile"))
      cafile = v;
    else if (!strcmp(a, "--sndbuf"))
      L.sndbuf = atoi(v);
    else if (!strcmp(a, "--drain"))
      L.drain_ms = atol(v);
    else
      return usage();
  }
  if (L.npub < 1 || L.npub > 10000 || L.nsub < 0 || L.nsub > 10000 || L.qos < 0 || L.qos > 2 ||
      L.size < 16 || L.size > 60000 || L.duration < 1 || L.window < 1 || L.window > 65535 ||
      L.idle < 0 || L.rate < 0 || L.sndbuf < 0 || L.drain_ms < 1 || L.drain_ms > 600000 ||
      sweep_start <= 0 || broker_pid < 0) {
    fprintf(stderr, "bench load: bad arguments\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl; /* --idle: thousands of descriptors */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (cafile || insecure) { /* mqtts:// and wss:// */
    mqn_tls_opts to = {.ca_file = cafile, .insecure = insecure && !cafile, .alpn_mqtt = true};
    char err[256] = "";
    if (mqn_tls_new_client(&to, &L.tls, err, sizeof err) != MQN_OK) {
      fprintf(stderr, "bench load: TLS: %s\n", err);
      return 2;
    }
  }
  L.lat_cap = 2000000;
  L.lat = malloc(L.lat_cap * sizeof *L.lat);
  L.xlat = malloc(L.lat_cap * sizeof *L.xlat);
  L.batch = malloc(BATCH + 70100);
  if (!L.lat || !L.xlat || !L.batch) return 1;
  if (L.nnodes > 1 && (list || cmp || do_table || do_sweep)) {
    fprintf(stderr, "bench load: several --url (a cluster) go with a plain load only\n");
    return 2;
  }
  char names_buf[256];
  const char *names[8], *labels[8];
  int nb = 0;
  if (list || cmp || do_table || do_sweep) {
    snprintf(names_buf, sizeof names_buf, "%s",
             list  ? list
             : cmp ? "serve,mosquitto"
                   : "serve,mosquitto,aedes");
    nb = split_brokers(names_buf, names, labels, 8);
    if (!nb) return usage();
  }
  int rc;
  result R;
  if (do_table)
    rc = table(&L, &B, names, labels, nb);
  else if (do_sweep)
    rc = sweep(&L, &B, names, labels, nb, sweep_start, svg);
  else if (nb)
    rc = compare(&L, &B, names, labels, nb);
  else if (L.nnodes > 1)
    rc = cluster_load(&L, (pid_t)broker_pid);
  else
    rc = run_load(&L, urls, NULL, (pid_t)broker_pid, &R);
  free(L.lat);
  free(L.xlat);
  free(L.batch);
  free(L.floor);
  mqn_tls_free(L.tls);
  return rc;
}
