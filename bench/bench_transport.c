/*
 * mqcheck bench transport - connection setup rate (TCP connect, TLS handshake,
 * WebSocket upgrade) and MQTT message throughput over tcp://, mqtts://, ws://
 * and wss:// against a mosquitto the benchmark starts on loopback with a
 * throw-away certificate (openssl CLI). Prints figures; it is not a test.
 *
 * Throughput: one connection subscribes to its own topic and publishes QoS 0
 * messages with a bounded window of messages in flight; a message counts when
 * it has come back through the broker.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_decls.h"
#include "mqc.h"
#include "mqn.h"

const char mqc_bench_transport_help[] =
    "handshake rate and throughput over tcp/mqtts/ws/wss vs a local mosquitto";

typedef struct {
  double seconds;   /* per dial measurement */
  size_t msgs;      /* per throughput measurement */
  size_t size;      /* payload bytes */
  size_t window;    /* messages in flight */
  const char *mosq; /* broker binary */
} opts;

static const uint8_t CONNECT_311[] = {0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00,
                                      0x3c, 0x00, 0x08, 'm',  'q', 'c', 'b', 'e', 'n',  'c',  'h'};
static const uint8_t SUBSCRIBE_T[] = {0x82, 0x0c, 0x00, 0x01, 0x00, 0x07, 'b',
                                      'e',  'n',  'c',  'h',  '/',  't',  0x00};

static uint16_t free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  uint16_t p = 0;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &l) == 0)
    p = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return p;
}

static bool port_open(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {
      .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

static int run_quiet(const char *cmd) {
  char full[2048];
  snprintf(full, sizeof full, "( %s ) >/dev/null 2>&1", cmd);
  return system(full);
}

/* A CA and a server certificate for localhost/127.0.0.1 in dir. */
static bool make_certs(const char *d) {
  char cmd[1500];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
           "-keyout ca.key -out ca.crt -days 2 -subj '/CN=mqcheck bench CA' "
           "-addext basicConstraints=critical,CA:TRUE && "
           "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
           "-out server.csr -subj /CN=localhost && "
           "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
           "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
           "-extfile san.ext -out server.crt",
           d);
  return run_quiet(cmd) == 0;
}

static pid_t start_mosquitto(const char *bin, const char *d, const uint16_t port[4]) {
  char conf[400];
  snprintf(conf, sizeof conf, "%s/mosquitto.conf", d);
  FILE *f = fopen(conf, "w");
  if (!f) return -1;
  /* Without set_tcp_nodelay, mosquitto's CONNACK waits behind its TLS 1.3
   * session tickets for our delayed ACK (Nagle): ~40 ms per TLS connect,
   * which would measure the kernel's timer rather than the transport. */
  fprintf(f, "user root\nallow_anonymous true\npersistence false\nlog_dest none\n"
             "set_tcp_nodelay true\n");
  fprintf(f, "listener %u 127.0.0.1\n", port[0]);
  fprintf(f, "listener %u 127.0.0.1\ncertfile %s/server.crt\nkeyfile %s/server.key\n", port[1], d,
          d);
  fprintf(f, "listener %u 127.0.0.1\nprotocol websockets\n", port[2]);
  fprintf(f,
          "listener %u 127.0.0.1\nprotocol websockets\ncertfile %s/server.crt\nkeyfile "
          "%s/server.key\n",
          port[3], d, d);
  fclose(f);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
    int dn = open("/dev/null", O_RDWR);
    dup2(dn, 0), dup2(dn, 1), dup2(dn, 2);
    execl(bin, bin, "-c", conf, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 4; i++) {
    int64_t deadline = mqn_now_ms() + 5000;
    while (!port_open(port[i])) {
      if (mqn_now_ms() > deadline || waitpid(pid, NULL, WNOHANG) == pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
      }
      usleep(20000);
    }
  }
  return pid;
}

static void stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 200 && waitpid(pid, NULL, WNOHANG) != pid; i++)
    usleep(10000);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, WNOHANG);
}

/* ---- the mqn server side as a target: a minimal MQTT responder ---------- */

typedef struct {
  uint8_t buf[65536];
  size_t len;
} peer_buf;

/* Answers CONNECT with CONNACK, SUBSCRIBE with SUBACK and echoes PUBLISH as
 * if the sender subscribed to its own topic; enough for the figures above,
 * and no broker logic in the way of measuring the transport. */
static void respond(mqn_conn *c, peer_buf *p) {
  size_t off = 0;
  for (;;) {
    mqc_frame fr;
    mqc_error e;
    if (mqc_frame_packet(p->buf + off, p->len - off, MQC_V311, MQC_NO_LIMIT, &fr, &e) != MQC_OK)
      break;
    const uint8_t *pk = p->buf + off;
    uint8_t ans[8];
    size_t an = 0, w = 0;
    switch (pk[0] >> 4) {
    case MQC_CONNECT:
      ans[0] = 0x20, ans[1] = 2, ans[2] = 0, ans[3] = 0, an = 4;
      break;
    case MQC_SUBSCRIBE:
      ans[0] = 0x90, ans[1] = 3, ans[2] = pk[fr.header_len], ans[3] = pk[fr.header_len + 1];
      ans[4] = 0, an = 5;
      break;
    case MQC_PUBLISH:
      (void)mqn_conn_write(c, pk, fr.total_len, &w);
      break;
    default:
      break;
    }
    if (an) (void)mqn_conn_write(c, ans, an, &w);
    off += fr.total_len;
  }
  memmove(p->buf, p->buf + off, p->len - off);
  p->len -= off;
}

/* Runs in the forked child: the listeners and their server TLS context were
 * made before fork and are this process's copies now. */
static void serve_child(mqn_listener *lis[4]) {
  mqn_loop *loop = NULL;
  if (mqn_loop_new(0, &loop) != MQN_OK) _exit(1);
  for (int i = 0; i < 4; i++)
    if (mqn_loop_add_listener(loop, lis[i], NULL) != MQN_OK) _exit(1);
  for (;;) {
    mqn_event ev[64];
    size_t n = 0;
    if (mqn_loop_wait(loop, 1000, ev, 64, &n) != MQN_OK) _exit(1);
    for (size_t i = 0; i < n; i++) {
      mqn_conn *c = ev[i].conn;
      peer_buf *p = ev[i].udata;
      if (ev[i].kind == MQN_EV_OPEN && !p) {
        p = calloc(1, sizeof *p);
        if (!p) _exit(1);
        mqn_loop_set_udata(loop, c, p);
        continue;
      }
      if (ev[i].kind == MQN_EV_ERROR || ev[i].kind == MQN_EV_TIMEOUT) {
        free(p);
        mqn_loop_close(loop, c);
        continue;
      }
      if (ev[i].kind != MQN_EV_READABLE || !p) continue;
      bool gone = false;
      for (;;) {
        size_t k = 0;
        mqn_status rs = mqn_conn_read(c, p->buf + p->len, sizeof p->buf - p->len, &k);
        if (rs == MQN_AGAIN) break;
        if (rs != MQN_OK) {
          gone = true;
          break;
        }
        p->len += k;
        respond(c, p);
      }
      if (gone) {
        free(p);
        mqn_loop_close(loop, c);
      }
    }
  }
}

/* Opens the four listeners on free ports and forks the responder. */
static pid_t start_self(const char *dir, uint16_t port[4]) {
  static const char *const us[] = {"tcp://127.0.0.1:0", "mqtts://127.0.0.1:0",
                                   "ws://127.0.0.1:0/mqtt", "wss://127.0.0.1:0/mqtt"};
  mqn_listener *lis[4] = {0};
  char cert[300], key[300];
  snprintf(cert, sizeof cert, "%s/server.crt", dir);
  snprintf(key, sizeof key, "%s/server.key", dir);
  mqn_tls_opts so = {.cert_file = cert, .key_file = key};
  mqn_tls *st = NULL;
  if (mqn_tls_new_server(&so, &st, NULL, 0) != MQN_OK) return -1;
  mqn_conn_opts co = {.tx_cap = 4u << 20};
  for (int i = 0; i < 4; i++) {
    mqn_url u;
    if (mqn_url_parse(us[i], &u) != MQN_OK || mqn_listener_open(&u, st, &co, &lis[i]) != MQN_OK)
      return -1;
    port[i] = mqn_listener_port(lis[i]);
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    serve_child(lis);
    _exit(0);
  }
  for (int i = 0; i < 4; i++)
    mqn_listener_free(lis[i]);
  mqn_tls_free(st);
  return pid;
}

/* Starts `mqcheck serve` (this very binary) with the four listeners. Returns
 * -1 when it does not come up (e.g. the tree has no serve command). */
static pid_t start_serve(const char *dir, uint16_t port[4]) {
  char conf[400], l[4][120];
  snprintf(conf, sizeof conf, "%s/serve.conf", dir);
  FILE *f = fopen(conf, "w");
  if (!f) return -1;
  fprintf(f, "tls_cert %s/server.crt\ntls_key %s/server.key\n", dir, dir);
  fclose(f);
  for (int i = 0; i < 4; i++)
    port[i] = free_port();
  snprintf(l[0], sizeof l[0], "tcp://127.0.0.1:%u", port[0]);
  snprintf(l[1], sizeof l[1], "mqtts://127.0.0.1:%u", port[1]);
  snprintf(l[2], sizeof l[2], "ws://127.0.0.1:%u/mqtt", port[2]);
  snprintf(l[3], sizeof l[3], "wss://127.0.0.1:%u/mqtt", port[3]);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int dn = open("/dev/null", O_RDWR);
    dup2(dn, 0), dup2(dn, 1), dup2(dn, 2);
    execl("/proc/self/exe", "mqcheck", "serve", "--quiet", "--config", conf, "--listen", l[0],
          "--listen", l[1], "--listen", l[2], "--listen", l[3], (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 4; i++) {
    int64_t deadline = mqn_now_ms() + 3000;
    while (!port_open(port[i])) {
      if (mqn_now_ms() > deadline || waitpid(pid, NULL, WNOHANG) == pid) {
        stop(pid);
        return -1;
      }
      usleep(20000);
    }
  }
  return pid;
}

/* Dials repeatedly for o->seconds; with mqtt, also CONNECT/CONNACK. */
static double dial_rate(const mqn_url *u, mqn_tls *tls, const opts *o, bool mqtt, double *avg_ms,
                        char *err, size_t errcap) {
  int64_t t0 = mqn_now_ms(), end = t0 + (int64_t)(o->seconds * 1000);
  size_t n = 0;
  while (mqn_now_ms() < end && n < 1000000) {
    mqn_conn *c = NULL;
    if (mqn_dial_blocking(u, tls, NULL, 5000, &c, err, errcap) != MQN_OK) return -1;
    if (mqtt) {
      uint8_t b[16];
      size_t k = 0;
      if (mqn_send_all(c, CONNECT_311, sizeof CONNECT_311, 5000) != MQN_OK ||
          mqn_recv_packet(c, b, sizeof b, &k, 5000) != MQN_OK || k != 4 || b[3] != 0) {
        snprintf(err, errcap, "CONNECT failed: %s", mqn_conn_errmsg(c));
        mqn_conn_free(c);
        return -1;
      }
      const uint8_t disc[] = {0xe0, 0x00};
      (void)mqn_send_all(c, disc, sizeof disc, 1000);
    }
    mqn_conn_free(c);
    n++;
  }
  double secs = (double)(mqn_now_ms() - t0) / 1000.0;
  *avg_ms = n ? secs * 1000.0 / (double)n : 0;
  return (double)n / secs;
}

/* Publishes o->msgs messages to a topic the same connection subscribes to. */
static double throughput(const mqn_url *u, mqn_tls *tls, const opts *o, double *mbps, char *err,
                         size_t errcap) {
  mqn_conn *c = NULL;
  if (mqn_dial_blocking(u, tls, NULL, 5000, &c, err, errcap) != MQN_OK) return -1;
  uint8_t b[64];
  size_t k = 0;
  if (mqn_send_all(c, CONNECT_311, sizeof CONNECT_311, 5000) != MQN_OK ||
      mqn_recv_packet(c, b, sizeof b, &k, 5000) != MQN_OK ||
      mqn_send_all(c, SUBSCRIBE_T, sizeof SUBSCRIBE_T, 5000) != MQN_OK ||
      mqn_recv_packet(c, b, sizeof b, &k, 5000) != MQN_OK || (b[0] >> 4) != MQC_SUBACK) {
    snprintf(err, errcap, "CONNECT/SUBSCRIBE failed: %s", mqn_conn_errmsg(c));
    mqn_conn_free(c);
    return -1;
  }
  /* One PUBLISH, QoS 0, topic "bench/t", encoded once. */
  size_t rem = 2 + 7 + o->size;
  uint8_t *msg = malloc(rem + 5);
  size_t rx_cap = 1u << 20;
  uint8_t *rx = malloc(rx_cap);
  if (!msg || !rx) {
    free(msg), free(rx), mqn_conn_free(c);
    return -1;
  }
  size_t h = 0;
  msg[h++] = 0x30;
  for (size_t r = rem;; r >>= 7) {
    msg[h++] = (uint8_t)((r & 0x7f) | (r > 0x7f ? 0x80 : 0));
    if (r <= 0x7f) break;
  }
  msg[h++] = 0, msg[h++] = 7;
  memcpy(msg + h, "bench/t", 7), h += 7;
  memset(msg + h, 'x', o->size), h += o->size;
  size_t sent = 0, got = 0, part = 0, rx_len = 0;
  int64_t t0 = mqn_now_ms(), deadline = t0 + 60000;
  double result = -1;
  while (got < o->msgs) {
    if (mqn_now_ms() > deadline) {
      snprintf(err, errcap, "timed out after %zu of %zu messages", got, o->msgs);
      goto out;
    }
    bool progress = false;
    /* Write while the window allows; part tracks a partly taken message. */
    while (sent < o->msgs && sent - got < o->window) {
      size_t w = 0;
      mqn_status st = mqn_conn_write(c, msg + part, h - part, &w);
      if (st != MQN_OK && st != MQN_AGAIN) {
        snprintf(err, errcap, "write: %s", mqn_conn_errmsg(c));
        goto out;
      }
      if (w == 0) break;
      progress = true;
      part += w;
      if (part == h) part = 0, sent++;
    }
    mqn_status fs = mqn_conn_flush(c);
    if (fs != MQN_OK && fs != MQN_AGAIN) {
      snprintf(err, errcap, "flush: %s", mqn_conn_errmsg(c));
      goto out;
    }
    for (;;) {
      size_t n = 0;
      mqn_status st = mqn_conn_read(c, rx + rx_len, rx_cap - rx_len, &n);
      if (st == MQN_AGAIN) break;
      if (st != MQN_OK) {
        snprintf(err, errcap, "read: %s %s", mqn_strerror(st), mqn_conn_errmsg(c));
        goto out;
      }
      progress = true;
      rx_len += n;
      size_t off = 0;
      for (;;) {
        mqc_frame fr;
        mqc_error e;
        if (mqc_frame_packet(rx + off, rx_len - off, MQC_V311, MQC_NO_LIMIT, &fr, &e) != MQC_OK)
          break;
        if ((rx[off] >> 4) == MQC_PUBLISH) got++;
        off += fr.total_len;
      }
      memmove(rx, rx + off, rx_len - off);
      rx_len -= off;
      if (rx_len == rx_cap) {
        snprintf(err, errcap, "packet larger than the receive buffer");
        goto out;
      }
    }
    if (!progress) {
      struct pollfd p = {.fd = mqn_conn_fd(c), .events = POLLIN};
      if (mqn_conn_want(c) & MQN_WANT_WRITE) p.events |= POLLOUT;
      poll(&p, 1, 100);
    }
  }
  {
    double secs = (double)(mqn_now_ms() - t0) / 1000.0;
    if (secs <= 0) secs = 0.001;
    result = (double)got / secs;
    *mbps = result * (double)o->size / 1e6;
  }
out:
  free(msg);
  free(rx);
  mqn_conn_free(c);
  return result;
}

static int measure(const char *target, const uint16_t port[4], mqn_tls *tls, const opts *o) {
  static const char *const schemes[] = {"tcp", "mqtts", "ws", "wss"};
  int rc = 0;
  char err[300] = "";
  for (int i = 0; i < 4; i++) {
    char us[100], label[40];
    snprintf(us, sizeof us, "%s://127.0.0.1:%u", schemes[i], port[i]);
    snprintf(label, sizeof label, "%s %s", target, schemes[i]);
    mqn_url u;
    if (mqn_url_parse(us, &u) != MQN_OK) abort();
    mqn_tls *t = mqn_scheme_is_tls(u.scheme) ? tls : NULL;
    double dms = 0, cms = 0, mbps = 0;
    double dial = dial_rate(&u, t, o, false, &dms, err, sizeof err);
    double conn = dial >= 0 ? dial_rate(&u, t, o, true, &cms, err, sizeof err) : -1;
    double tput = conn >= 0 ? throughput(&u, t, o, &mbps, err, sizeof err) : -1;
    if (tput < 0) {
      printf("%-16s failed: %s\n", label, err);
      rc = 1;
      continue;
    }
    const char *ver = "-";
    mqn_conn *c = NULL;
    if (t && mqn_dial_blocking(&u, t, NULL, 5000, &c, err, sizeof err) == MQN_OK)
      ver = mqn_conn_tls_version(c) ? mqn_conn_tls_version(c) : "-";
    printf("%-16s %9.0f %8.3f %10.0f %8.3f %9.0f %7.2f %8s\n", label, dial, dms, conn, cms, tput,
           mbps, ver);
    fflush(stdout);
    mqn_conn_free(c);
  }
  return rc;
}

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck bench transport [--seconds S] [--msgs N] [--size BYTES] "
             "[--window N] [--mosquitto PATH]\n"
             "  defaults: --seconds 1 --msgs 50000 --size 256 --window 500 "
             "--mosquitto /usr/sbin/mosquitto\n");
}

int mqc_bench_transport(int argc, char **argv) {
  opts o = {
      .seconds = 1.0, .msgs = 50000, .size = 256, .window = 500, .mosq = "/usr/sbin/mosquitto"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    if (!v) {
      usage(stderr);
      return 2;
    }
    if (!strcmp(a, "--seconds"))
      o.seconds = atof(v);
    else if (!strcmp(a, "--msgs"))
      o.msgs = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--size"))
      o.size = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--window"))
      o.window = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--mosquitto"))
      o.mosq = v;
    else {
      usage(stderr);
      return 2;
    }
    i++;
  }
  if (o.seconds <= 0 || o.seconds > 600 || o.msgs == 0 || o.size > 1000000 || o.window == 0) {
    usage(stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char dir[] = "/tmp/mqcheck-bench-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  int rc = 1;
  pid_t pid = -1;
  mqn_tls *tls = NULL;
  char ca[300];
  snprintf(ca, sizeof ca, "%s/ca.crt", dir);
  if (!make_certs(dir)) {
    fprintf(stderr, "bench transport: openssl could not make certificates\n");
    goto done;
  }
  uint16_t port[4] = {free_port(), free_port(), free_port(), free_port()};
  pid = start_mosquitto(o.mosq, dir, port);
  if (pid < 0) {
    fprintf(stderr, "bench transport: cannot start %s\n", o.mosq);
    goto done;
  }
  mqn_tls_opts to = {.ca_file = ca};
  char err[300] = "";
  if (mqn_tls_new_client(&to, &tls, err, sizeof err) != MQN_OK) {
    fprintf(stderr, "bench transport: %s\n", err);
    goto done;
  }
  printf("mqcheck bench transport: %zu x %zu-byte QoS 0 messages (window %zu), %.1f s per rate\n",
         o.msgs, o.size, o.window, o.seconds);
  printf("%-16s %9s %8s %10s %8s %9s %7s %8s\n", "target", "dial/s", "ms/dial", "connect/s",
         "ms/conn", "msgs/s", "MB/s", "TLS");
  rc = measure("mosquitto", port, tls, &o);
  stop(pid);
  pid = start_self(dir, port);
  if (pid < 0) {
    fprintf(stderr, "bench transport: cannot start the mqn responder\n");
    rc = 1;
    goto done;
  }
  rc |= measure("mqn-responder", port, tls, &o);
  stop(pid);
  pid = start_serve(dir, port);
  bool serve_ok = pid > 0;
  if (serve_ok) rc |= measure("mqcheck serve", port, tls, &o);
  printf("dial = TCP connect (+ TLS handshake, + WebSocket upgrade); connect = dial + MQTT "
         "CONNECT/CONNACK.\n"
         "mqn-responder = net/'s own server side in a child process (CONNACK, SUBACK, echoes "
         "PUBLISH).\n");
  if (!serve_ok)
    printf("mqcheck serve: did not start (no serve command in this binary, or it failed), so "
           "it is not measured.\n");
done:
  mqn_tls_free(tls);
  stop(pid);
  char rm[400];
  snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
  (void)run_quiet(rm);
  return rc;
}
