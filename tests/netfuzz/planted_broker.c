/* planted_broker - the reference engine (engine/mqe.h) behind net/'s loop
 * (net/mqn.h) on one loopback TCP listener, with faults planted for the
 * network fuzzer (`mqcheck fuzz`) to find. A test fixture, not a product.
 *
 *   planted_broker --port P [--bugs LIST] [--leak-cap N]
 *
 * LIST is a comma list of overflow, hang, badwire, qos2loss, leak, nowill, exitleak,
 * stale, bigalloc, cpuburn, heldgrowth, idlespin (planted.h says what each does),
 * or "all" (the first five, the default), or "none": then no fault is armed and the broker sends
 * exactly what the engine sends. It listens on 127.0.0.1:P (MQTT 3.1, 3.1.1
 * and 5.0 over plain TCP; P = 0 picks a free port), prints
 * "listening on 127.0.0.1:P" on stdout once ready, and exits 0 on SIGTERM or
 * SIGINT. Each fault prints one "planted_broker: <fault> triggered" line on
 * stderr when it first fires on a connection.
 *
 * The faults, one per oracle kind. Each fires only on its condition; no
 * scenario of suite/ meets one by itself, except qos2loss (a session with
 * more than 20 QoS 2 deliveries unacknowledged) and leak (any connection).
 *
 * overflow (crash): a 5.0 PUBLISH from a client carrying Correlation Data
 *   (0x09) longer than its Response Topic (0x08) plus one byte, an absent
 *   Response Topic counting as empty: so Correlation Data of 2 bytes or more
 *   without a Response Topic, or with a short one. The broker copies the
 *   Correlation Data into a heap buffer sized Response Topic + 1: a real
 *   heap-buffer-overflow (ASan reports it and stops the process; without ASan
 *   the heap is corrupted). Seed near it: 5-features/request-response.yaml
 *   (Response Topic "${topic_prefix}reply", 3 bytes of Correlation Data):
 *   dropping its Response Topic reaches it, and so does adding Correlation
 *   Data to any other 5.0 PUBLISH. A valid packet must never bring a server
 *   down; the message it carried is lost against MQTT-3.3.2-16 (5.0:
 *   Correlation Data reaches every subscriber unchanged).
 *
 * hang: one connection sends, as three consecutive packets, SUBSCRIBE whose
 *   first filter is F, UNSUBSCRIBE listing F, PINGREQ (any version). The
 *   broker then stops serving every connection (its loop sleeps until
 *   SIGTERM); the process stays alive and the listening socket open, so new
 *   connections complete the TCP handshake and get no CONNACK. Breaks
 *   MQTT-3.12.4-1 (PINGRESP), and every answer after it (3.1.1 and 5.0).
 *   Seed near it: 3.10-unsubscribe/inflight-completes.yaml sends SUBSCRIBE t,
 *   UNSUBSCRIBE t, PUBACK, PINGREQ; dropping (or moving) its PUBACK reaches it.
 *
 * badwire: a SUBSCRIBE whose Packet Identifier has its top bit set (0x8000 or
 *   more; any version). The SUBACK for it goes out with its first reason
 *   code set to 0x03, which is neither a Subscribe Reason Code (5.0) nor a
 *   SUBACK return code (3.1.1): our codec rejects it (`mqcheck decode
 *   --from server`), breaking MQTT-3.9.3-2 (both versions). Seed near it:
 *   2-packet-ids/acks-echo-packet-id.yaml subscribes with identifier 0x7f01;
 *   one bit flip (0xff01) or any identifier mutation to 0x8000+ reaches it.
 *
 * qos2loss (spec): while 20 QoS 2 PUBLISHes sent to a connection are not yet
 *   completed by its PUBCOMP, every further new QoS 2 delivery to that
 *   connection is silently discarded (the engine believes it was sent; the
 *   publisher got its PUBREC and completed). A subscriber that receives 25
 *   QoS 2 messages without answering gets 20. Breaks MQTT-4.5.0-1 (the
 *   message joins every matching subscriber's session and is delivered) and
 *   QoS 2 exactly-once delivery (section 4.3.3: MQTT-4.3.3-1 in 3.1.1), in
 *   3.1.1 and 5.0.
 *
 * leak: every accepted connection leaks PB_LEAK_BYTES (64 KiB) of heap that
 *   it touches (RSS grows) and one descriptor on /dev/null, for the first
 *   --leak-cap connections (default 16384: 1 GiB at most, so that a long fuzz
 *   run cannot exhaust a shared machine, yet the leak still grows after a
 *   leak oracle's warm-up of a few thousand sessions). Descriptors leak only
 *   while 1024 of the (raised) descriptor limit stay free, so the broker
 *   keeps accepting: a leak must not turn into a hang. The blocks stay
 *   reachable from a list in the server state, so LeakSanitizer does not
 *   report them at exit: the leak is visible only to the fuzzer's leak
 *   oracle (/proc/PID/status VmRSS, /proc/PID/fd). No statement covers it.
 *
 * nowill (spec, not part of "all"): every PUBLISH the broker sends on a
 *   topic ending in "will" is discarded. The suite's wills go to
 *   "${topic_prefix}will" and nothing else does, so a will is never
 *   delivered: a connection that ends without DISCONNECT (or with 0x04 in
 *   5.0) breaks MQTT-3.1.2-8. Seed: 3.1.2-will/will-qos1.yaml itself.
 *
 * stale (not part of "all"): a retained PUBLISH on a topic with an empty
 *   level ("a//b") arms it; the next SUBSCRIBE from another connection
 *   writes 16 bytes into an 8-byte block (heap-buffer-overflow). Neither
 *   session crashes alone: the fuzzer's triage must find both and merge them.
 *
 * exitleak (not part of "all"): a second CONNECT on a connection whose
 *   first CONNECT carried a Will loses a 96-byte block: no pointer reaches it, so LeakSanitizer
 * reports it when the broker exits (SIGTERM), as real brokers' leaks show (mosquitto 2.0.15 forgets
 * the first CONNECT's Will this way). RSS barely grows: only the fuzzer's exit check (stop, read
 * LeakSanitizer's report) sees it.
 *
 * idlespin (not part of "all"): one connection sends an UNSUBSCRIBE and, as
 *   the very next packet, a PINGREQ (any version). From then on the server's
 *   loop polls with a zero timeout: every connection is still served (the
 *   liveness probe passes), but the process burns a core while nothing is
 *   asked of it, until it is restarted. Only the idle-CPU oracle sees it.
 *   Seed near it: 3.10-unsubscribe/inflight-completes.yaml (UNSUBSCRIBE,
 *   PUBACK, PINGREQ): dropping or moving its PUBACK reaches it.
 *
 * Greybox: tests/netfuzz/build-afl.sh builds the same program with AFL++'s
 * instrumentation as planted_broker_afl (see docs/netfuzz-planted.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mqe.h"
#include "mqn.h"
#include "planted.h"

#define READ_BUF 65536
#define PULL_MAX 65536 /* engine bytes taken per step */

/* A byte buffer the connection owns. */
typedef struct {
  uint8_t *p;
  size_t n, cap;
} buf;

static bool buf_append(buf *b, const uint8_t *p, size_t n) {
  if (n > b->cap - b->n) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->n < n) { /* bounded: doubles until it fits */
      if (cap > SIZE_MAX / 2) return false;
      cap *= 2;
    }
    uint8_t *q = realloc(b->p, cap);
    if (!q) return false;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
  return true;
}

static void buf_consume(buf *b, size_t n) {
  memmove(b->p, b->p + n, b->n - n);
  b->n -= n;
}

typedef struct pconn {
  struct pconn *next, *prev; /* every live connection */
  struct pconn *dnext;       /* dead list, freed by reap() */
  mqn_conn *nc;
  mqe_conn *ec;
  bool shutting, dead, paused;
  /* Engine output passes through the faults one whole packet at a time:
   * raw holds engine bytes not yet a whole packet, wire the filtered bytes
   * the transport has not taken yet. The engine is drained only while wire
   * is empty, so its back-pressure (max_output_bytes) still holds. */
  buf raw, wire;
  pb_conn bug;
  unsigned fired; /* PB_* faults already reported for this connection */
} pconn;

typedef struct {
  mqe_engine *e;
  mqn_loop *loop;
  unsigned bugs;
  bool hung;
  pconn *all, *dead;
  pb_leaks leaks;
  pb_shared shared; /* the faults' state across connections */
  uint8_t rbuf[READ_BUF];
} server;

static volatile sig_atomic_t g_stop; /* the only global: a signal flag */

/* ASan's quarantine keeps freed memory from reuse, so under connection churn
 * RSS climbs by some 65 MiB with nothing leaked; this broker's RSS must show
 * the planted leak and nothing else. Read by ASan at startup (ignored in
 * builds without it); ASAN_OPTIONS from the environment still wins. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "quarantine_size_mb=0";
}

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static uint64_t now_ms(void) {
  return (uint64_t)mqn_now_ms();
}

static void fired(pconn *pc, unsigned bug, const char *name) {
  if (pc->fired & bug) return;
  pc->fired |= bug;
  fprintf(stderr, "planted_broker: %s triggered\n", name);
}

static void drop(server *S, pconn *pc, bool abrupt) {
  if (pc->ec) mqe_conn_close(S->e, pc->ec, abrupt, now_ms());
  pc->ec = NULL;
  if (pc->dead) return;
  pc->dead = true;
  pc->dnext = S->dead;
  S->dead = pc;
}

static void reap(server *S) {
  pconn *pc;
  while ((pc = S->dead)) { /* bounded by the dead list */
    S->dead = pc->dnext;
    if (pc->prev)
      pc->prev->next = pc->next;
    else
      S->all = pc->next;
    if (pc->next) pc->next->prev = pc->prev;
    mqn_loop_close(S->loop, pc->nc);
    pb_conn_free(&pc->bug);
    free(pc->raw.p);
    free(pc->wire.p);
    free(pc);
  }
}

static void pace(server *S, pconn *pc) {
  if (!pc->ec || pc->dead) return;
  bool pause = !mqe_conn_wants_input(S->e, pc->ec);
  if (pause == pc->paused) return;
  pc->paused = pause;
  mqn_loop_pause_read(S->loop, pc->nc, pause);
}

/* Moves whole packets from raw through the faults into wire. */
static bool filter_packets(pconn *pc) {
  size_t off = 0;
  while (off < pc->raw.n) { /* bounded: each turn consumes a packet */
    mqc_frame fr;
    mqc_error err;
    mqc_status st = mqc_frame_packet(pc->raw.p + off, pc->raw.n - off, MQC_VERSION_AUTO,
                                     MQC_NO_LIMIT, &fr, &err);
    if (st == MQC_INCOMPLETE) break;
    if (st != MQC_OK) return false; /* the engine never frames badly */
    uint8_t *pkt = pc->raw.p + off;
    bool armed = pc->bug.bad_suback;
    size_t keep = pb_outbound(&pc->bug, pkt, fr.total_len);
    if (!keep)
      fired(pc, pc->bug.dropped_by, pc->bug.dropped_by == PB_NOWILL ? "nowill" : "qos2loss");
    if (armed && !pc->bug.bad_suback) fired(pc, PB_BADWIRE, "badwire");
    if (keep && !buf_append(&pc->wire, pkt, keep)) return false;
    off += fr.total_len;
  }
  buf_consume(&pc->raw, off);
  return true;
}

/* Hands the engine's output, filtered, to the transport; starts the graceful
 * close once the engine is done with the connection. */
static void flush(server *S, pconn *pc) {
  if (!pc->ec || pc->dead) return;
  for (int i = 0; i < 64; i++) { /* bounded; DRAINED resumes */
    if (pc->wire.n) {
      size_t w = 0;
      mqn_status st = mqn_conn_write(pc->nc, pc->wire.p, pc->wire.n, &w);
      if (st != MQN_OK && st != MQN_AGAIN) {
        drop(S, pc, true);
        return;
      }
      buf_consume(&pc->wire, w);
      if (pc->wire.n) break; /* the transport is full */
    }
    const uint8_t *p;
    size_t n;
    mqe_conn_pending(pc->ec, &p, &n);
    if (!n) break;
    if (n > PULL_MAX) n = PULL_MAX;
    if (!buf_append(&pc->raw, p, n)) {
      drop(S, pc, true);
      return;
    }
    mqe_conn_consumed(S->e, pc->ec, n, now_ms());
    if (!filter_packets(pc)) {
      drop(S, pc, true);
      return;
    }
  }
  mqn_status st = mqn_conn_flush(pc->nc);
  if (st != MQN_OK && st != MQN_AGAIN) {
    drop(S, pc, true);
    return;
  }
  const uint8_t *p;
  size_t n;
  mqe_conn_pending(pc->ec, &p, &n);
  if (mqe_conn_should_close(pc->ec) && !n && !pc->raw.n && !pc->wire.n) {
    mqe_conn_close(S->e, pc->ec, false, now_ms());
    pc->ec = NULL;
    pc->shutting = true;
    if (pc->paused) { /* read on, to see the peer's EOF */
      pc->paused = false;
      mqn_loop_pause_read(S->loop, pc->nc, false);
    }
    mqn_status sst = mqn_conn_shutdown(pc->nc);
    if (sst != MQN_OK && sst != MQN_AGAIN) {
      drop(S, pc, false);
      return;
    }
    mqn_conn_set_deadline(pc->nc, mqn_now_ms() + 2000);
  }
  pace(S, pc);
  mqn_loop_update(S->loop, pc->nc);
}

static void flush_dirty(server *S) {
  mqe_conn *ec;
  while ((ec = mqe_next_output(S->e))) /* bounded by the connections with output */
    flush(S, mqe_conn_user(ec));
}

static void on_readable(server *S, pconn *pc) {
  for (int i = 0; i < 64; i++) { /* bounded: the loop reports again */
    size_t n = 0;
    mqn_status st = mqn_conn_read(pc->nc, S->rbuf, sizeof S->rbuf, &n);
    if (st == MQN_AGAIN) return;
    if (st != MQN_OK) {
      drop(S, pc, true);
      return;
    }
    if (!pc->ec) continue; /* closing: discard */
    if (pb_inbound(&pc->bug, S->rbuf, n)) {
      fired(pc, PB_HANG, "hang");
      S->hung = true;
      return;
    }
    if (mqe_conn_recv(S->e, pc->ec, S->rbuf, n, now_ms()) == MQE_CLOSE) {
      flush(S, pc);
      return;
    }
    if (!mqe_conn_wants_input(S->e, pc->ec)) {
      flush(S, pc);
      if (pc->dead || !pc->ec || !mqe_conn_wants_input(S->e, pc->ec)) return;
    }
  }
}

static void on_open(server *S, mqn_conn *nc) {
  pconn *pc = calloc(1, sizeof *pc);
  if (!pc || !pb_conn_init(&pc->bug, S->bugs)) {
    free(pc);
    mqn_loop_close(S->loop, nc);
    return;
  }
  pc->nc = nc;
  pc->bug.shared = &S->shared;
  if (mqe_conn_open(S->e, pc, now_ms(), &pc->ec) != MQE_OK) {
    pb_conn_free(&pc->bug);
    free(pc);
    mqn_loop_close(S->loop, nc);
    return;
  }
  if (S->bugs & PB_LEAK) pb_leak(&S->leaks);
  pc->next = S->all;
  if (S->all) S->all->prev = pc;
  S->all = pc;
  mqn_loop_set_udata(S->loop, nc, pc);
}

/* The planted hang: nothing is served any more, but the process and its
 * listening socket live on until SIGTERM. */
static void hang(void) {
  struct timespec ts = {0, 50 * 1000 * 1000};
  while (!g_stop) /* ends on a signal only: the fault */
    nanosleep(&ts, NULL);
}

static int usage(void) {
  fprintf(stderr, "usage: planted_broker --port P [--bugs LIST] [--leak-cap N]\n"
                  "  LIST: comma list of overflow,hang,badwire,qos2loss,leak,nowill,exitleak,stale,"
                  "bigalloc,cpuburn,heldgrowth,idlespin; all (the "
                  "first five, default); "
                  "none\n");
  return 2;
}

int main(int argc, char **argv) {
  long port = -1;
  const char *bugs = "all";
  long leak_cap = 16384;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc)
      port = strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--bugs") && i + 1 < argc)
      bugs = argv[++i];
    else if (!strcmp(argv[i], "--leak-cap") && i + 1 < argc)
      leak_cap = strtol(argv[++i], NULL, 10);
    else
      return usage();
  }
  static server S; /* large read buffer; one per process */
  if (port < 0 || port > 65535 || leak_cap < 0 || !pb_parse_bugs(bugs, &S.bugs)) return usage();
  S.leaks.cap = S.leaks.fd_cap = (size_t)leak_cap;
  /* the leaked descriptors come out of the limit: raise it, keep 1024 free */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    size_t room = rl.rlim_cur > 2048 ? (size_t)rl.rlim_cur - 1024 : (size_t)rl.rlim_cur / 2;
    if (S.leaks.fd_cap > room) S.leaks.fd_cap = room;
  }

  mqe_config cfg;
  mqe_config_default(&cfg);
  int rc = 1;
  if (mqe_engine_new(&cfg, &S.e) != MQE_OK) goto out;
  if (mqn_loop_new(4096, &S.loop) != MQN_OK) goto out;
  char u[64];
  snprintf(u, sizeof u, "tcp://127.0.0.1:%ld", port);
  mqn_url url;
  mqn_listener *lis;
  mqn_status st = MQN_ERR_URL;
  if (mqn_url_parse(u, &url) != MQN_OK ||
      (st = mqn_listener_open(&url, NULL, NULL, &lis)) != MQN_OK) {
    fprintf(stderr, "planted_broker: cannot listen on %s: %s\n", u, mqn_strerror(st));
    goto out;
  }
  mqn_loop_add_listener(S.loop, lis, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  printf("listening on 127.0.0.1:%u\n", (unsigned)mqn_listener_port(lis));
  fflush(stdout);

  mqn_event evs[256];
  while (!g_stop) {
    if (S.hung) {
      hang();
      break;
    }
    uint64_t dl = mqe_next_deadline(S.e), t = now_ms();
    int timeout = dl == UINT64_MAX ? 1000 : dl <= t ? 0 : dl - t > 1000 ? 1000 : (int)(dl - t);
    if (S.shared.spinning) timeout = 0; /* the idlespin fault (planted_bugs.c) */
    size_t n = 0;
    if (mqn_loop_wait(S.loop, timeout, evs, 256, &n) != MQN_OK) break;
    for (size_t i = 0; i < n && !S.hung; i++) {
      mqn_event *ev = &evs[i];
      pconn *pc = ev->udata;
      if (pc && pc->dead) continue;
      switch (ev->kind) {
      case MQN_EV_OPEN:
        on_open(&S, ev->conn);
        break;
      case MQN_EV_READABLE:
        if (pc) on_readable(&S, pc);
        break;
      case MQN_EV_DRAINED:
        if (pc && !pc->shutting) flush(&S, pc);
        break;
      case MQN_EV_ERROR:
      case MQN_EV_TIMEOUT:
        if (pc)
          drop(&S, pc, true);
        else
          mqn_loop_close(S.loop, ev->conn);
        break;
      }
    }
    if (S.hung) continue;
    flush_dirty(&S);
    reap(&S);
    mqe_tick(S.e, now_ms());
    flush_dirty(&S);
    reap(&S);
  }
  mqe_shutdown(S.e, now_ms());
  flush_dirty(&S);
  for (pconn *pc = S.all; pc; pc = pc->next)
    drop(&S, pc, false);
  reap(&S);
  rc = 0;
out:
  if (S.loop) mqn_loop_free(S.loop);
  mqe_engine_free(S.e);
  return rc;
}
