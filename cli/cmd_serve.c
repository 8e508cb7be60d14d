/* mqcheck serve - a real broker: the engine (engine/mqe.h) behind net/'s epoll
 * loop (net/mqn.h). All socket work is net/'s; this file moves bytes between
 * the two, drives the engine's timers from the monotonic clock, logs, and
 * shuts down cleanly on SIGINT/SIGTERM.
 *
 *   mqcheck serve --listen 127.0.0.1:1883 [--listen ws://127.0.0.1:8080/mqtt]
 *                 [--config FILE] [--strict] [--quiet] [--cert F --key F [--cafile F]]
 *                 [--stats MS] [--fault NAME]
 *
 * Slow readers: a connection whose engine output reaches max_output_bytes
 * (mqe_conn_wants_input() false) is no longer read (mqn_loop_pause_read);
 * reading resumes once its output drains. Its memory is therefore bounded by
 * net/'s tx_cap + max_output_bytes + one read buffer, and the rest of the
 * server keeps going (see docs/engine.md, "Slow readers").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "cli_util.h"
#include "mqe.h"
#include "mqn.h"

int mqc_cmd_serve(int argc, char **argv);
extern const char mqc_cmd_serve_help[];
const char mqc_cmd_serve_help[] = "run the reference broker (engine) on tcp/tls/ws listeners";

#define MAX_LISTEN 16
#define MAX_USERS  64
#define MAX_DENY   64
#define READ_BUF   65536

typedef struct sconn {
  struct sconn *next, *prev; /* every live sconn */
  mqn_conn *nc;
  mqe_conn *ec;
  struct sconn *dnext; /* dead list (reap) */
  bool shutting;       /* engine finished; graceful transport close under way */
  bool dead;           /* freed after the current event batch */
  bool paused;         /* reading paused for back-pressure */
  bool close_deadline; /* engine done, output still pending: deadline set */
  char peer[64];
} sconn;

typedef struct {
  mqe_engine *e;
  mqn_loop *loop;
  bool strict, quiet;
  unsigned long violations, limits, drops;
  sconn *all;
  sconn *dead;                  /* freed by reap(): O(dead), not O(connections) */
  unsigned long paused, pauses; /* now, and ever */
  uint8_t rbuf[READ_BUF];
} server;

static volatile sig_atomic_t g_stop; /* the only global: a signal flag */

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static uint64_t now_ms(void) {
  return (uint64_t)mqn_now_ms();
}

static const char *ev_name(mqe_event_type t) {
  switch (t) {
  case MQE_EV_CONNECTED:
    return "CONNECTED";
  case MQE_EV_REFUSED:
    return "REFUSED";
  case MQE_EV_DISCONNECTED:
    return "DISCONNECT";
  case MQE_EV_CLOSED:
    return "CLOSED";
  case MQE_EV_LOST:
    return "LOST";
  case MQE_EV_VIOLATION:
    return "VIOLATION";
  case MQE_EV_LIMIT:
    return "LIMIT";
  case MQE_EV_WILL:
    return "WILL";
  case MQE_EV_SESSION_EXPIRED:
    return "EXPIRED";
  case MQE_EV_TAKEOVER:
    return "TAKEOVER";
  case MQE_EV_DROPPED:
    return "DROPPED";
  case MQE_EV_DROP_TOTAL:
    return "DROPTOTAL";
  }
  return "EVENT";
}

static void on_event(void *ctx, const mqe_event *ev) {
  server *S = ctx;
  const sconn *sc = ev->conn_user;
  const char *peer = sc ? sc->peer : "-";
  if (ev->type == MQE_EV_VIOLATION) {
    S->violations++;
    if (!S->strict) return;
    fprintf(stderr, "serve: VIOLATION %s peer=%s client=\"%s\" reason=0x%02x: %s\n",
            ev->statement ? ev->statement : "(unnumbered)", peer, ev->client_id, ev->reason,
            ev->message);
    return;
  }
  if (ev->type == MQE_EV_DROPPED) { /* one per message: the first, then 1 in 10000 */
    S->drops++;
    if (S->drops > 20 && S->drops % 10000) return;
    fprintf(stderr,
            "serve: DROPPED    peer=%s client=\"%s\" reason=0x%02x %s (%llu for this "
            "session, %lu in all%s)\n",
            peer, ev->client_id, ev->reason, ev->message, (unsigned long long)ev->dropped, S->drops,
            S->drops > 20 ? ", logged 1 in 10000" : "");
    return;
  }
  if (ev->type == MQE_EV_DROP_TOTAL) { /* once per session: always, even --quiet */
    fprintf(stderr, "serve: DROPTOTAL  client=\"%s\" n=%llu (session ended)\n", ev->client_id,
            (unsigned long long)ev->dropped);
    return;
  }
  if (ev->type == MQE_EV_LIMIT) { /* can be one per message: rate-limit */
    S->limits++;
    if (S->limits > 20 && S->limits % 10000) return;
  } else if (S->quiet) {
    return;
  }
  fprintf(stderr, "serve: %-10s peer=%s client=\"%s\" v=%s reason=0x%02x %s%s\n", ev_name(ev->type),
          peer, ev->client_id, ev->version ? mqc_version_name(ev->version) : "-", ev->reason,
          ev->message, ev->type == MQE_EV_LIMIT && S->limits > 20 ? " (logged 1 in 10000)" : "");
}

/* ---- config file: "key value" lines, '#' comments -------------------------- */
typedef struct {
  mqe_user users[MAX_USERS];
  size_t nusers;
  const char *deny[MAX_DENY];
  uint8_t deny_reason[MAX_DENY];
  size_t ndeny;
  mqe_auth_method auth;
  char *text; /* owns every string above */
  const char *tls_cert, *tls_key, *tls_ca;
  long tcp_buffer; /* SO_RCVBUF/SO_SNDBUF of accepted sockets; 0 = kernel's;
                     default 128 KiB (see set_tcp_buffer) */
} file_cfg;

static bool parse_bool(const char *v) {
  return !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes");
}

static int load_config(const char *path, mqe_config *c, file_cfg *fc) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "serve: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  fc->text = calloc(1, 1 << 20);
  size_t n = fc->text ? fread(fc->text, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (!fc->text) return -1;
  fc->text[n] = 0;
  char *save = NULL;
  int lineno = 0;
  for (char *line = strtok_r(fc->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    while (*line == ' ' || *line == '\t')
      line++;
    if (!*line || *line == '#') continue;
    char *key = line, *val = line;
    while (*val && *val != ' ' && *val != '\t')
      val++;
    if (*val) *val++ = 0;
    while (*val == ' ' || *val == '\t')
      val++;
    char *end = val + strlen(val);
    while (end > val && (end[-1] == ' ' || end[-1] == '\r' || end[-1] == '\t'))
      *--end = 0;
    unsigned long u = strtoul(val, NULL, 0);
    if (!strcmp(key, "maximum_qos"))
      c->maximum_qos = (uint8_t)(u > 2 ? 2 : u);
    else if (!strcmp(key, "retain_available"))
      c->retain_available = parse_bool(val);
    else if (!strcmp(key, "wildcard_available"))
      c->wildcard_available = parse_bool(val);
    else if (!strcmp(key, "sub_id_available"))
      c->sub_id_available = parse_bool(val);
    else if (!strcmp(key, "shared_available"))
      c->shared_available = parse_bool(val);
    else if (!strcmp(key, "maximum_packet_size"))
      c->maximum_packet_size = (uint32_t)u;
    else if (!strcmp(key, "receive_maximum"))
      c->receive_maximum = (uint16_t)u;
    else if (!strcmp(key, "topic_alias_maximum"))
      c->topic_alias_maximum = (uint16_t)u;
    else if (!strcmp(key, "outbound_aliases"))
      c->outbound_aliases = (uint16_t)u;
    else if (!strcmp(key, "server_keep_alive"))
      c->server_keep_alive = (int32_t)strtol(val, NULL, 0);
    else if (!strcmp(key, "max_keep_alive"))
      c->max_keep_alive = (uint16_t)(u > 65535 ? 65535 : u);
    else if (!strcmp(key, "max_session_expiry"))
      c->max_session_expiry = (uint32_t)u;
    else if (!strcmp(key, "assign_client_ids"))
      c->assign_client_ids = parse_bool(val);
    else if (!strcmp(key, "strict_client_ids"))
      c->strict_client_ids = parse_bool(val);
    else if (!strcmp(key, "response_information"))
      c->response_information = val;
    else if (!strcmp(key, "allow_anonymous"))
      c->allow_anonymous = parse_bool(val);
    else if (!strcmp(key, "max_connections"))
      c->max_connections = (uint32_t)u;
    else if (!strcmp(key, "max_sessions"))
      c->max_sessions = (uint32_t)u;
    else if (!strcmp(key, "max_queued"))
      c->max_queued = (uint32_t)u;
    else if (!strcmp(key, "max_inflight"))
      c->max_inflight = (uint16_t)u;
    else if (!strcmp(key, "max_retained"))
      c->max_retained = (uint32_t)u;
    else if (!strcmp(key, "max_retained_bytes"))
      c->max_retained_bytes = u;
    else if (!strcmp(key, "max_topic_levels"))
      c->max_topic_levels = (uint16_t)u;
    else if (!strcmp(key, "max_subscriptions"))
      c->max_subscriptions = (uint32_t)u;
    else if (!strcmp(key, "max_output_bytes"))
      c->max_output_bytes = u;
    else if (!strcmp(key, "connect_timeout_ms"))
      c->connect_timeout_ms = (uint32_t)u;
    else if (!strcmp(key, "tcp_buffer"))
      fc->tcp_buffer = (long)u;
    else if (!strcmp(key, "slow_subscriber_ms"))
      c->slow_subscriber_ms = (uint32_t)u;
    else if (!strcmp(key, "overload")) {
      if (!strcmp(val, "backpressure"))
        c->overload = MQE_OVERLOAD_BACKPRESSURE;
      else if (!strcmp(val, "drop-qos0"))
        c->overload = MQE_OVERLOAD_DROP_QOS0;
      else if (!strcmp(val, "drop"))
        c->overload = MQE_OVERLOAD_DROP;
      else {
        fprintf(stderr, "serve: %s:%d: overload backpressure | drop-qos0 | drop, not '%s'\n", path,
                lineno, val);
        return -1;
      }
    } else if (!strcmp(key, "seed"))
      c->seed = strtoull(val, NULL, 0);
    else if (!strcmp(key, "tls_cert"))
      fc->tls_cert = val;
    else if (!strcmp(key, "tls_key"))
      fc->tls_key = val;
    else if (!strcmp(key, "tls_ca"))
      fc->tls_ca = val;
    else if (!strcmp(key, "deny") && fc->ndeny < MAX_DENY) {
      /* deny FILTER [REASON]: the 5.0 SUBACK code, 0x87 Not authorized unless
       * given (Paho's interop suite expects 0x80 for its no-subscribe filter) */
      char *sp = strpbrk(val, " \t");
      unsigned long r = 0x87;
      if (sp) {
        *sp++ = 0;
        char *endp;
        r = strtoul(sp + strspn(sp, " \t"), &endp, 0);
        if (*endp || r < 0x80 || r > 0xff ||
            !mqc_reason_valid(MQC_SUBACK, MQC_FROM_SERVER, (uint8_t)r)) {
          fprintf(stderr, "serve: %s:%d: deny FILTER [REASON]: '%s' is not a SUBACK failure code\n",
                  path, lineno, sp);
          return -1;
        }
      }
      fc->deny_reason[fc->ndeny] = (uint8_t)r;
      fc->deny[fc->ndeny++] = val;
    } else if (!strcmp(key, "auth_challenge_secret")) {
      fc->auth = mqe_auth_challenge_method(val);
      c->auth_methods = &fc->auth;
      c->auth_method_count = 1;
    } else if (!strcmp(key, "user") && fc->nusers < MAX_USERS) {
      char *sp = strchr(val, ' ');
      if (!sp) {
        fprintf(stderr, "serve: %s:%d: user NAME PASSWORD\n", path, lineno);
        return -1;
      }
      *sp = 0;
      fc->users[fc->nusers].username = val;
      fc->users[fc->nusers].password = sp + 1;
      fc->nusers++;
    } else {
      fprintf(stderr, "serve: %s:%d: unknown key '%s'\n", path, lineno, key);
      return -1;
    }
  }
  if (fc->nusers) {
    c->users = fc->users;
    c->user_count = fc->nusers;
  }
  if (fc->ndeny) {
    c->deny_filters = fc->deny;
    c->deny_reasons = fc->deny_reason;
    c->deny_filter_count = fc->ndeny;
  }
  return 0;
}

/* Kernel socket buffers bound what waits between a client and the engine:
 * a stalled publisher's bytes sit in serve's receive buffer, a subscriber's
 * deliveries in its send buffer. Autotuned, each grows to megabytes (seconds
 * of latency past saturation); a fixed size bounds it. */
static void set_tcp_buffer(int fd, int bytes) {
  if (fd < 0) return;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

/* ---- moving bytes ---------------------------------------------------------- */

/* Ends a connection. The transport and sconn are freed by reap() after the
 * event batch, so later events in the same batch never see freed memory. */
static void drop(server *S, sconn *sc, bool abrupt) {
  if (sc->ec) mqe_conn_close(S->e, sc->ec, abrupt, now_ms());
  sc->ec = NULL;
  if (sc->dead) return;
  sc->dead = true;
  sc->dnext = S->dead;
  S->dead = sc;
  if (sc->paused) S->paused--;
  sc->paused = false;
}

static void reap(server *S) {
  sconn *sc;
  while ((sc = S->dead)) { /* bounded by the dead list */
    S->dead = sc->dnext;
    if (sc->prev)
      sc->prev->next = sc->next;
    else
      S->all = sc->next;
    if (sc->next) sc->next->prev = sc->prev;
    mqn_loop_close(S->loop, sc->nc);
    free(sc);
  }
}

/* Back-pressure: read from sc only while the engine wants its input. */
static void pace(server *S, sconn *sc) {
  if (!sc->ec || sc->dead) return;
  bool pause = !mqe_conn_wants_input(S->e, sc->ec);
  if (pause == sc->paused) return;
  sc->paused = pause;
  if (pause) {
    S->paused++;
    S->pauses++;
  } else {
    S->paused--;
  }
  mqn_loop_pause_read(S->loop, sc->nc, pause);
}

/* Hands the engine's pending output to the transport, then starts the
 * graceful close once the engine is finished with the connection. */
static void flush(server *S, sconn *sc) {
  if (!sc->ec || sc->dead) return;
  for (int i = 0; i < 64; i++) { /* bounded; DRAINED resumes */
    const uint8_t *p;
    size_t n, w = 0;
    mqe_conn_pending(sc->ec, &p, &n);
    if (!n) break;
    mqn_status st = mqn_conn_write(sc->nc, p, n, &w);
    if (st != MQN_OK && st != MQN_AGAIN) {
      drop(S, sc, true);
      return;
    }
    if (!w) break;
    mqe_conn_consumed(S->e, sc->ec, w, now_ms());
  }
  mqn_status st = mqn_conn_flush(sc->nc);
  if (st != MQN_OK && st != MQN_AGAIN) {
    drop(S, sc, true);
    return;
  }
  const uint8_t *p;
  size_t n;
  mqe_conn_pending(sc->ec, &p, &n);
  if (mqe_conn_should_close(sc->ec) && n && !sc->close_deadline) {
    /* e.g. a slow subscriber disconnected for not reading: its DISCONNECT
     * may never leave; 2 s, then the transport goes (MQN_EV_TIMEOUT) */
    sc->close_deadline = true;
    mqn_conn_set_deadline(sc->nc, mqn_now_ms() + 2000);
  }
  if (mqe_conn_should_close(sc->ec) && n == 0) {
    mqe_conn_close(S->e, sc->ec, false, now_ms());
    sc->ec = NULL;
    sc->shutting = true;
    if (sc->paused) { /* read on, to see the peer's EOF */
      sc->paused = false;
      S->paused--;
      mqn_loop_pause_read(S->loop, sc->nc, false);
    }
    mqn_status sst = mqn_conn_shutdown(sc->nc);
    if (sst != MQN_OK && sst != MQN_AGAIN) {
      drop(S, sc, false);
      return;
    }
    mqn_conn_set_deadline(sc->nc, mqn_now_ms() + 2000);
  }
  pace(S, sc);
  mqn_loop_update(S->loop, sc->nc);
}

static void flush_dirty(server *S) {
  mqe_conn *ec;
  /* bounded by the connection count per round: a conn re-enters only after
   * new output, which flush() itself does not create for others */
  while ((ec = mqe_next_output(S->e)))
    flush(S, mqe_conn_user(ec));
}

/* At most READS_PER_TURN reads of READ_BUF bytes per connection per loop turn.
 * READABLE is level triggered, so the rest waits for the next turn while what
 * was read is written out (flush_dirty after each event). Reading a flooding
 * publisher without bound before writing starves its subscribers: the receive
 * livelock of docs/engine.md, "Overload". */
#define READS_PER_TURN 4

static void on_readable(server *S, sconn *sc) {
  for (int i = 0; i < READS_PER_TURN; i++) { /* bounded: the loop reports again */
    size_t n = 0;
    mqn_status st = mqn_conn_read(sc->nc, S->rbuf, sizeof S->rbuf, &n);
    if (st == MQN_AGAIN) return;
    if (st != MQN_OK) { /* peer closed or failed */
      drop(S, sc, true);
      return;
    }
    if (!sc->ec) continue; /* closing: discard */
    if (mqe_conn_recv(S->e, sc->ec, S->rbuf, n, now_ms()) == MQE_CLOSE) {
      flush(S, sc);
      return;
    }
    if (!mqe_conn_wants_input(S->e, sc->ec)) {
      flush(S, sc); /* may drain at once; else pace() pauses reading */
      if (sc->dead || !sc->ec || !mqe_conn_wants_input(S->e, sc->ec)) return;
    }
  }
}

static void print_drop(void *ctx, const char *client_id, uint64_t dropped) {
  (void)ctx;
  fprintf(stderr, "serve: STATS dropped client=\"%s\" n=%llu\n", client_id,
          (unsigned long long)dropped);
}

/* One line of figures for tests and operators: memory stays bounded when
 * clients do not read (max_conn_buf), the engine's live allocation. */
static void print_stats(server *S) {
  mqe_stats st;
  mqe_get_stats(S->e, &st);
  size_t max_buf = 0, in = 0, out = 0, stalled = 0;
  for (sconn *sc = S->all; sc; sc = sc->next) { /* once per interval */
    if (!sc->ec) continue;
    if (mqe_conn_stalled(sc->ec)) stalled++;
    mqe_conn_buffered(sc->ec, &in, &out);
    size_t b = in + out + mqn_conn_pending_out(sc->nc);
    if (b > max_buf) max_buf = b;
  }
  fprintf(stderr,
          "serve: STATS conns=%llu sessions=%llu subs=%llu bytes_allocated=%llu "
          "bytes_peak=%llu max_conn_buf=%zu paused=%lu pauses=%lu stalled=%zu msgs_in=%llu "
          "msgs_out=%llu dropped=%llu queued=%llu\n",
          (unsigned long long)st.connections, (unsigned long long)st.sessions,
          (unsigned long long)st.subscriptions, (unsigned long long)st.bytes_allocated,
          (unsigned long long)st.bytes_peak, max_buf, S->paused, S->pauses, stalled,
          (unsigned long long)st.msgs_in, (unsigned long long)st.msgs_out,
          (unsigned long long)st.msgs_dropped, (unsigned long long)st.queued);
  if (st.msgs_dropped) mqe_each_dropped(S->e, 50, print_drop, NULL);
}

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck serve [--listen [tcp://]HOST:PORT ...] [--config FILE]\n"
             "                     [--strict] [--quiet] [--max-conns N] [--stats MS]\n"
             "                     [--cert FILE --key FILE [--cafile FILE]] [--fault NAME]\n"
             "  --listen   tcp://, mqtts://, ws://, wss:// (repeatable; TLS needs --cert/--key\n"
             "             or tls_cert/tls_key in --config)\n"
             "  --cafile   require client certificates signed by this CA on TLS listeners\n"
             "  --stats    print a STATS line every MS milliseconds\n"
             "  --strict   print every normative statement a client breaks\n"
             "  --config   'key value' lines; see docs/engine.md\n"
             "  --fault    plant one deviation of `mqcheck mutants --list` (engine, or ws-*\n"
             "             on the WebSocket listeners): a broken broker, for testing tests\n"
             "  without --listen: tcp://127.0.0.1:1883 (said on stderr)\n"
             "exit: 0 clean shutdown (SIGINT/SIGTERM), 1 cannot start, 2 usage\n");
}

int mqc_cmd_serve(int argc, char **argv) {
  const char *listen[MAX_LISTEN];
  int nlisten = 0;
  const char *cfg_path = NULL;
  size_t max_conns = 20000;
  const char *cert = NULL, *key = NULL, *cafile = NULL;
  long stats_ms = 0;
  const mqe_fault_info *efault = NULL;
  const mqn_ws_fault_info *wsfault = NULL;
  static server S; /* large read buffer; zeroed, one per process */
  memset(&S, 0, sizeof S);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
      if (nlisten == MAX_LISTEN)
        return cli_usage("serve", "more than %d --listen addresses", MAX_LISTEN);
      listen[nlisten++] = argv[++i];
    } else if (!strcmp(argv[i], "--config") && i + 1 < argc)
      cfg_path = argv[++i];
    else if (!strcmp(argv[i], "--strict"))
      S.strict = true;
    else if (!strcmp(argv[i], "--quiet"))
      S.quiet = true;
    else if (!strcmp(argv[i], "--cert") && i + 1 < argc)
      cert = argv[++i];
    else if (!strcmp(argv[i], "--key") && i + 1 < argc)
      key = argv[++i];
    else if (!strcmp(argv[i], "--cafile") && i + 1 < argc)
      cafile = argv[++i];
    else if (!strcmp(argv[i], "--stats") && i + 1 < argc)
      stats_ms = strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--max-conns") && i + 1 < argc)
      max_conns = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--fault") && i + 1 < argc) {
      const char *f = argv[++i];
      efault = mqe_fault_lookup(f);
      wsfault = mqn_ws_fault_lookup(f);
      if (!efault && !wsfault)
        return cli_usage("serve", "unknown fault '%s' (see mqcheck mutants --list)", f);
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1])
      return cli_bad_option("serve", argv[i], usage);
    else
      return cli_usage("serve", "unexpected argument '%s' (addresses go after --listen)", argv[i]);
  }
  if (cert && !key) return cli_usage("serve", "--cert '%s' needs --key", cert);
  if (!nlisten) {
    listen[nlisten++] = "127.0.0.1:1883";
    fprintf(stderr, "serve: no --listen given, using the default tcp://127.0.0.1:1883\n");
  }
  /* Every address is checked before anything starts, so a typo is a usage
   * error (exit 2) and not a half-started server. */
  for (int i = 0; i < nlisten; i++) {
    char buf[300];
    mqn_url url;
    const char *u = listen[i];
    if (!strstr(u, "://")) {
      snprintf(buf, sizeof buf, "tcp://%s", u);
      u = buf;
    }
    if (mqn_url_parse(u, &url) != MQN_OK)
      return cli_usage("serve", "bad --listen address '%s'", listen[i]);
    if (mqn_scheme_is_tls(url.scheme) && !cfg_path && (!cert || !key))
      return cli_usage("serve", "--listen '%s' needs --cert FILE and --key FILE", listen[i]);
  }
  if (cli_check_file("serve", "--cert", cert) || cli_check_file("serve", "--key", key) ||
      cli_check_file("serve", "--cafile", cafile) || cli_check_file("serve", "--config", cfg_path))
    return 1;
  mqe_config cfg;
  mqe_config_default(&cfg);
  cfg.max_connections = (uint32_t)max_conns;
  file_cfg fc;
  memset(&fc, 0, sizeof fc);
  fc.tcp_buffer = 128 << 10;
  int rc = 1;
  mqn_tls *tls = NULL;
  if (cfg_path && load_config(cfg_path, &cfg, &fc) != 0) goto out;
  /* the command line wins over the config file */
  if (cert) fc.tls_cert = cert;
  if (key) fc.tls_key = key;
  if (cafile) fc.tls_ca = cafile;
  cfg.on_event = on_event;
  cfg.event_ctx = &S;
  if (efault) cfg.fault = efault->id;
  mqn_conn_opts lopts = {.ws_fault = wsfault ? wsfault->id : MQN_WS_FAULT_NONE};
  if (efault || wsfault)
    fprintf(stderr, "serve: planted deviation %s (a broken broker, on purpose)\n",
            efault ? efault->name : wsfault->name);
  /* raise the descriptor limit for thousands of connections */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (mqe_engine_new(&cfg, &S.e) != MQE_OK) {
    fprintf(stderr, "serve: invalid engine configuration\n");
    goto out;
  }
  if (mqn_loop_new(max_conns, &S.loop) != MQN_OK) goto out;
  for (int i = 0; i < nlisten; i++) {
    char buf[300];
    const char *u = listen[i];
    if (!strstr(u, "://")) {
      snprintf(buf, sizeof buf, "tcp://%s", u);
      u = buf;
    }
    mqn_url url;
    if (mqn_url_parse(u, &url) != MQN_OK) {
      fprintf(stderr, "serve: bad --listen address '%s'\n", listen[i]);
      goto out;
    }
    if (mqn_scheme_is_tls(url.scheme) && !tls) {
      if (!fc.tls_cert || !fc.tls_key) {
        fprintf(stderr,
                "serve: --listen %s needs --cert FILE and --key FILE (or tls_cert and "
                "tls_key in --config)\n",
                listen[i]);
        goto out;
      }
      mqn_tls_opts to = {.cert_file = fc.tls_cert,
                         .key_file = fc.tls_key,
                         .ca_file = fc.tls_ca,
                         .require_client_cert = fc.tls_ca != NULL,
                         .alpn_mqtt = true};
      char err[256] = "";
      if (mqn_tls_new_server(&to, &tls, err, sizeof err) != MQN_OK) {
        fprintf(stderr, "serve: TLS: %s\n", err);
        goto out;
      }
    }
    mqn_listener *l;
    errno = 0;
    mqn_status st = mqn_listener_open(&url, tls, &lopts, &l);
    if (st != MQN_OK) {
      int e = errno; /* MQN_ERR_LISTEN: the system's reason, e.g. address in use */
      fprintf(stderr, "serve: cannot listen on %s: %s\n", u,
              st == MQN_ERR_LISTEN && e ? strerror(e) : mqn_strerror(st));
      goto out;
    }
    fprintf(stderr, "serve: listening on %s://%s:%u%s\n", mqn_scheme_name(url.scheme), url.host,
            (unsigned)mqn_listener_port(l), url.path);
    mqn_loop_add_listener(S.loop, l, NULL);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  mqn_event evs[256];
  int64_t next_stats = stats_ms > 0 ? mqn_now_ms() + stats_ms : INT64_MAX;
  while (!g_stop) {
    if (mqn_now_ms() >= next_stats) {
      print_stats(&S);
      next_stats = mqn_now_ms() + stats_ms;
    }
    uint64_t dl = mqe_next_deadline(S.e), t = now_ms();
    int timeout = dl == UINT64_MAX ? 1000 : dl <= t ? 0 : dl - t > 1000 ? 1000 : (int)(dl - t);
    size_t n = 0;
    if (mqn_loop_wait(S.loop, timeout, evs, 256, &n) != MQN_OK) break;
    for (size_t i = 0; i < n; i++) {
      mqn_event *ev = &evs[i];
      sconn *sc = ev->udata;
      if (sc && sc->dead) continue;
      switch (ev->kind) {
      case MQN_EV_OPEN: {
        sc = calloc(1, sizeof *sc);
        if (!sc) {
          mqn_loop_close(S.loop, ev->conn);
          break;
        }
        sc->nc = ev->conn;
        mqn_conn_peer(ev->conn, sc->peer, sizeof sc->peer);
        if (fc.tcp_buffer > 0) set_tcp_buffer(mqn_conn_fd(ev->conn), (int)fc.tcp_buffer);
        if (mqe_conn_open(S.e, sc, now_ms(), &sc->ec) != MQE_OK) {
          fprintf(stderr, "serve: refusing %s: connection limit or memory\n", sc->peer);
          mqn_loop_close(S.loop, ev->conn);
          free(sc);
          break;
        }
        sc->next = S.all;
        if (S.all) S.all->prev = sc;
        S.all = sc;
        mqn_loop_set_udata(S.loop, ev->conn, sc);
        break;
      }
      case MQN_EV_READABLE:
        if (sc) on_readable(&S, sc);
        flush_dirty(&S); /* interleave: what this read produced goes out now */
        break;
      case MQN_EV_DRAINED:
        /* shutting: our close is out; wait (2 s at most, the deadline) for
         * the peer's EOF so that its last bytes (a WebSocket close frame)
         * are read, not answered with a reset */
        if (sc && !sc->shutting) flush(&S, sc);
        break;
      case MQN_EV_ERROR:
      case MQN_EV_TIMEOUT:
        if (sc)
          drop(&S, sc, true);
        else
          mqn_loop_close(S.loop, ev->conn);
        break;
      }
    }
    flush_dirty(&S);
    reap(&S);
    mqe_tick(S.e, now_ms());
    flush_dirty(&S);
    reap(&S);
  }
  if (stats_ms > 0) print_stats(&S); /* final figures */
  fprintf(stderr, "serve: shutting down (%lu client violations seen)\n", S.violations);
  mqe_shutdown(S.e, now_ms());
  flush_dirty(&S);
  /* give the DISCONNECTs a moment to leave (bounded) */
  for (int k = 0; k < 20 && S.all; k++) {
    size_t n = 0;
    mqn_event evs2[64];
    if (mqn_loop_wait(S.loop, 50, evs2, 64, &n) != MQN_OK) break;
    bool pending = false;
    for (sconn *sc = S.all; sc; sc = sc->next)
      if (!sc->dead && mqn_conn_pending_out(sc->nc)) pending = true;
    if (!pending) break;
  }
  for (sconn *sc = S.all; sc; sc = sc->next) {
    if (sc->ec) mqe_conn_close(S.e, sc->ec, false, now_ms());
    sc->ec = NULL;
    drop(&S, sc, false);
  }
  reap(&S);
  rc = 0;
out:
  if (S.loop) mqn_loop_free(S.loop); /* frees transports; sconns below */
  mqe_engine_free(S.e);
  mqn_tls_free(tls);
  free(fc.text);
  return rc;
}
