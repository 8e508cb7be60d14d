/*
 * test_net.c - net/ against real peers on loopback, nothing mocked.
 *
 * The group setup makes a throw-away PKI with the openssl CLI
 * (tests/net/mkcerts.sh), picks free ports and starts one mosquitto with a
 * listener per case: tcp, mqtts, ws, wss, and TLS listeners presenting an
 * expired, a wrong-name and a self-signed certificate, plus one demanding
 * client certificates. Independent WebSocket peers and the MQTT.js client
 * come from tests/net/ws_peer.js (node). Every child process dies with the
 * test (PR_SET_PDEATHSIG) and is killed in teardown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mqn.h"
#include "ws_http.h"

/* ---- fixtures ----------------------------------------------------------- */

typedef struct {
  char dir[256];
  char src[512];
  pid_t mosq;
  uint16_t p_tcp, p_tls, p_ws, p_wss, p_expired, p_wrongname, p_self, p_mtls;
  mqn_tls *cli; /* trusts the test CA */
} fixture;

static fixture F;

#define T_MS 5000

static const uint8_t CONNECT_311[] = {0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00,
                                      0x1e, 0x00, 0x08, 'm',  'q', 'n', '-', 't', 'e',  's',  't'};
static const uint8_t CONNACK_OK[] = {0x20, 0x02, 0x00, 0x00};
static const uint8_t PINGREQ[] = {0xc0, 0x00};
static const uint8_t PINGRESP[] = {0xd0, 0x00};

static void path_in(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", F.dir, name);
}

static uint16_t free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &l) != 0)
    abort();
  uint16_t p = ntohs(a.sin_port);
  close(fd);
  return p;
}

/* fork+exec with the child tied to our life; stdout to a pipe when out_fd. */
static pid_t spawn(char *const argv[], int *out_fd) {
  int pfd[2] = {-1, -1};
  if (out_fd && pipe2(pfd, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    if (out_fd)
      dup2(pfd[1], 1);
    else
      dup2(devnull, 1);
    if (!getenv("MQN_TEST_VERBOSE")) dup2(devnull, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  if (out_fd) {
    close(pfd[1]);
    *out_fd = pfd[0];
  }
  return pid;
}

static void stop_child(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 200; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid) return;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* Exit status of pid within timeout_ms, or -1 (then it is killed). */
static int wait_child(pid_t pid, int timeout_ms) {
  int st = 0;
  for (int i = 0; i < timeout_ms / 10; i++) {
    if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    usleep(10000);
  }
  stop_child(pid);
  return -1;
}

/* Reads one line from fd within timeout_ms into buf; false on EOF/timeout. */
static bool read_line(int fd, char *buf, size_t cap, int timeout_ms) {
  size_t n = 0;
  int64_t deadline = mqn_now_ms() + timeout_ms;
  while (n + 1 < cap) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t left = deadline - mqn_now_ms();
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
    char ch;
    if (read(fd, &ch, 1) != 1) break;
    if (ch == '\n') {
      buf[n] = '\0';
      return true;
    }
    buf[n++] = ch;
  }
  buf[n] = '\0';
  return false;
}

static bool port_open(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {
      .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static void teardown_all(void) {
  stop_child(F.mosq);
  F.mosq = 0;
  mqn_tls_free(F.cli);
  F.cli = NULL;
  if (F.dir[0] && !getenv("MQN_TEST_KEEP")) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", F.dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", F.dir);
  }
  F.dir[0] = '\0';
}

/* Starts mosquitto with every listener on a fresh free port. Returns 0, 1
 * when mosquitto exited before listening (another process may have taken a
 * port between free_port() and its bind: worth a retry), or -1. */
static int start_broker(void) {
  F.p_tcp = free_port(), F.p_tls = free_port(), F.p_ws = free_port(), F.p_wss = free_port();
  F.p_expired = free_port(), F.p_wrongname = free_port(), F.p_self = free_port();
  F.p_mtls = free_port();
  char conf[300];
  path_in(conf, sizeof conf, "mosquitto.conf");
  FILE *f = fopen(conf, "w");
  if (!f) return -1;
  const char *d = F.dir;
  /* mosquitto drops root to user "mosquitto", which could not read our 0700
   * directory: stay as whoever runs the test. */
  fprintf(f, "user root\nallow_anonymous true\npersistence false\nlog_dest stderr\n");
  fprintf(f, "listener %u 127.0.0.1\n", F.p_tcp);
  fprintf(
      f, "listener %u 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n",
      F.p_tls, d, d, d);
  fprintf(f, "listener %u 127.0.0.1\nprotocol websockets\n", F.p_ws);
  fprintf(f,
          "listener %u 127.0.0.1\nprotocol websockets\ncafile %s/ca.crt\ncertfile "
          "%s/server.crt\nkeyfile %s/server.key\n",
          F.p_wss, d, d, d);
  fprintf(f, "listener %u 127.0.0.1\ncertfile %s/expired.crt\nkeyfile %s/server.key\n", F.p_expired,
          d, d);
  fprintf(f, "listener %u 127.0.0.1\ncertfile %s/wrongname.crt\nkeyfile %s/server.key\n",
          F.p_wrongname, d, d);
  fprintf(f, "listener %u 127.0.0.1\ncertfile %s/selfsigned.crt\nkeyfile %s/server.key\n", F.p_self,
          d, d);
  fprintf(f,
          "listener %u 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile "
          "%s/server.key\nrequire_certificate true\n",
          F.p_mtls, d, d, d);
  fclose(f);
  char *argv[] = {"/usr/sbin/mosquitto", "-c", conf, NULL};
  F.mosq = spawn(argv, NULL);
  uint16_t ports[] = {F.p_tcp,     F.p_tls,       F.p_ws,   F.p_wss,
                      F.p_expired, F.p_wrongname, F.p_self, F.p_mtls};
  for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
    int64_t deadline = mqn_now_ms() + 5000;
    while (!port_open(ports[i])) {
      bool exited = waitpid(F.mosq, NULL, WNOHANG) == F.mosq;
      if (exited || mqn_now_ms() > deadline) {
        fprintf(stderr, "mosquitto did not open port %u%s\n", ports[i],
                exited ? " (it exited: the port may have been taken meanwhile)" : "");
        if (!exited) stop_child(F.mosq);
        F.mosq = 0;
        return exited ? 1 : -1;
      }
      usleep(20000);
    }
  }
  return 0;
}

static int group_setup(void **state) {
  (void)state;
  const char *src = getenv("MQC_SOURCE_DIR");
  snprintf(F.src, sizeof F.src, "%s", src ? src : ".");
  snprintf(F.dir, sizeof F.dir, "/tmp/mqn-test-XXXXXX");
  if (!mkdtemp(F.dir)) return -1;
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "sh '%s/tests/net/mkcerts.sh' '%s' >/dev/null", F.src, F.dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "mkcerts.sh failed\n");
    return -1;
  }
  int rc = 1;
  for (int attempt = 0; attempt < 3 && rc == 1; attempt++)
    rc = start_broker();
  if (rc) {
    teardown_all();
    return -1;
  }
  char ca[300];
  path_in(ca, sizeof ca, "ca.crt");
  mqn_tls_opts o = {.ca_file = ca};
  if (mqn_tls_new_client(&o, &F.cli, NULL, 0) != MQN_OK) return -1;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  teardown_all();
  return 0;
}

/* ---- helpers ------------------------------------------------------------ */

#define ASSERT_ST(got, want, detail)                                                               \
  do {                                                                                             \
    mqn_status g_ = (got), w_ = (want);                                                            \
    if (g_ != w_)                                                                                  \
      fail_msg("%s: got %s, want %s (%s)", #got, mqn_strerror(g_), mqn_strerror(w_), (detail));    \
  } while (0)

static mqn_url url_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static mqn_url url_of(const char *fmt, ...) {
  char s[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s, sizeof s, fmt, ap);
  va_end(ap);
  mqn_url u;
  assert_int_equal(mqn_url_parse(s, &u), MQN_OK);
  return u;
}

static mqn_tls *client_tls(const char *ca, const char *cert, const char *key, bool insecure,
                           uint16_t ver) {
  char a[300], c[300], k[300];
  mqn_tls_opts o = {.insecure = insecure, .min_version = ver, .max_version = ver};
  if (ca) path_in(a, sizeof a, ca), o.ca_file = a;
  if (cert) path_in(c, sizeof c, cert), o.cert_file = c;
  if (key) path_in(k, sizeof k, key), o.key_file = k;
  mqn_tls *t = NULL;
  char eb[200];
  ASSERT_ST(mqn_tls_new_client(&o, &t, eb, sizeof eb), MQN_OK, eb);
  return t;
}

static mqn_tls *server_tls(const char *cert, bool require_client, bool alpn) {
  char a[300], c[300], k[300];
  path_in(a, sizeof a, "ca.crt");
  path_in(c, sizeof c, cert);
  path_in(k, sizeof k, "server.key");
  mqn_tls_opts o = {.ca_file = a,
                    .cert_file = c,
                    .key_file = k,
                    .require_client_cert = require_client,
                    .alpn_mqtt = alpn};
  mqn_tls *t = NULL;
  char eb[200];
  ASSERT_ST(mqn_tls_new_server(&o, &t, eb, sizeof eb), MQN_OK, eb);
  return t;
}

/* Dials url, sends CONNECT and expects CONNACK 0 from the broker. */
static void connect_connack(const mqn_url *u, mqn_tls *tls, const mqn_conn_opts *opts) {
  mqn_conn *c = NULL;
  char eb[300];
  ASSERT_ST(mqn_dial_blocking(u, tls, opts, T_MS, &c, eb, sizeof eb), MQN_OK, eb);
  ASSERT_ST(mqn_send_all(c, CONNECT_311, sizeof CONNECT_311, T_MS), MQN_OK, mqn_conn_errmsg(c));
  uint8_t buf[64];
  size_t n = 0;
  ASSERT_ST(mqn_recv_packet(c, buf, sizeof buf, &n, T_MS), MQN_OK, mqn_conn_errmsg(c));
  assert_int_equal(n, sizeof CONNACK_OK);
  assert_memory_equal(buf, CONNACK_OK, n);
  /* Two packets in one write (one WS frame when ws): two answers. */
  uint8_t two[4];
  memcpy(two, PINGREQ, 2);
  memcpy(two + 2, PINGREQ, 2);
  ASSERT_ST(mqn_send_all(c, two, sizeof two, T_MS), MQN_OK, mqn_conn_errmsg(c));
  for (int i = 0; i < 2; i++) {
    ASSERT_ST(mqn_recv_packet(c, buf, sizeof buf, &n, T_MS), MQN_OK, mqn_conn_errmsg(c));
    assert_int_equal(n, 2);
    assert_memory_equal(buf, PINGRESP, 2);
  }
  const uint8_t disc[] = {0xe0, 0x00};
  ASSERT_ST(mqn_send_all(c, disc, sizeof disc, T_MS), MQN_OK, mqn_conn_errmsg(c));
  ASSERT_ST(mqn_close_blocking(c, T_MS), MQN_OK, mqn_conn_errmsg(c));
  mqn_conn_free(c);
}

/* Dials and expects the handshake (or the first exchange) to fail with want. */
static void expect_dial_error(const mqn_url *u, mqn_tls *tls, mqn_status want) {
  mqn_conn *c = NULL;
  char eb[300] = "";
  mqn_status st = mqn_dial_blocking(u, tls, NULL, T_MS, &c, eb, sizeof eb);
  if (st == MQN_OK) {
    /* TLS 1.3: a server judges the client certificate after the client
     * finished its handshake; the verdict arrives with the first read. */
    st = mqn_send_all(c, CONNECT_311, sizeof CONNECT_311, T_MS);
    if (st == MQN_OK) {
      uint8_t buf[64];
      size_t n = 0;
      st = mqn_recv_packet(c, buf, sizeof buf, &n, T_MS);
    }
    snprintf(eb, sizeof eb, "%s", mqn_conn_errmsg(c));
    mqn_conn_free(c);
  }
  ASSERT_ST(st, want, eb);
  assert_true(eb[0] != '\0'); /* every failure says why */
}

/* ---- pure parts --------------------------------------------------------- */

static void test_url_parse(void **state) {
  (void)state;
  static const struct {
    const char *s;
    mqn_status st;
    mqn_scheme scheme;
    const char *host;
    uint16_t port;
    const char *path;
  } cases[] = {
      {"tcp://127.0.0.1:1883", MQN_OK, MQN_TCP, "127.0.0.1", 1883, ""},
      {"mqtt://broker.example", MQN_OK, MQN_TCP, "broker.example", 1883, ""},
      {"mqtts://localhost", MQN_OK, MQN_MQTTS, "localhost", 8883, ""},
      {"ssl://h:1", MQN_OK, MQN_MQTTS, "h", 1, ""},
      {"ws://h:8080", MQN_OK, MQN_WS, "h", 8080, "/mqtt"},
      {"ws://h", MQN_OK, MQN_WS, "h", 80, "/mqtt"},
      {"wss://h/custom/path?x=1", MQN_OK, MQN_WSS, "h", 443, "/custom/path?x=1"},
      {"WS://[::1]:9001/", MQN_OK, MQN_WS, "::1", 9001, "/"},
      {"tcp://127.0.0.1:0", MQN_OK, MQN_TCP, "127.0.0.1", 0, ""},
      {"tcp://h:65535", MQN_OK, MQN_TCP, "h", 65535, ""},
      {"tcp://h:65536", MQN_ERR_URL, MQN_TCP, "", 0, ""},
      {"tcp://h:", MQN_ERR_URL, MQN_TCP, "", 0, ""},
      {"tcp://h/path", MQN_ERR_URL, MQN_TCP, "", 0, ""},
      {"http://h", MQN_ERR_URL, MQN_TCP, "", 0, ""},
      {"h:1883", MQN_ERR_URL, MQN_TCP, "", 0, ""},
      {"tcp://", MQN_ERR_URL, MQN_TCP, "", 0, ""},
      {"tcp://user@h", MQN_ERR_URL, MQN_TCP, "", 0, ""},
      {"ws://h/a b", MQN_ERR_URL, MQN_TCP, "", 0, ""},
      {"ws://[::1", MQN_ERR_URL, MQN_TCP, "", 0, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mqn_url u;
    memset(&u, 0xa5, sizeof u); /* sentinel: must be reset */
    mqn_status st = mqn_url_parse(cases[i].s, &u);
    if (st != cases[i].st) fail_msg("%s: %s", cases[i].s, mqn_strerror(st));
    if (st != MQN_OK) continue;
    assert_int_equal(u.scheme, cases[i].scheme);
    assert_string_equal(u.host, cases[i].host);
    assert_int_equal(u.port, cases[i].port);
    assert_string_equal(u.path, cases[i].path);
  }
  char longhost[400];
  memset(longhost, 'a', sizeof longhost);
  memcpy(longhost, "tcp://", 6);
  longhost[sizeof longhost - 1] = '\0';
  mqn_url u;
  assert_int_equal(mqn_url_parse(longhost, &u), MQN_ERR_URL);
  assert_int_equal(mqn_url_parse(NULL, &u), MQN_ERR_URL);
}

static void test_strerror_distinct(void **state) {
  (void)state;
  for (int a = 0; a < MQN_STATUS_COUNT; a++)
    for (int b = a + 1; b < MQN_STATUS_COUNT; b++)
      assert_string_not_equal(mqn_strerror((mqn_status)a), mqn_strerror((mqn_status)b));
  assert_string_equal(mqn_strerror(MQN_STATUS_COUNT), "unknown status");
}

static void test_http_parse(void **state) {
  (void)state;
  const char *req = "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\n"
                    "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: "
                    "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Protocol: chat, mqtt\r\n\r\nEXTRA";
  size_t len = strlen(req);
  long hl = mqn__http_head_len((const uint8_t *)req, len, 8192);
  assert_int_equal(hl, (long)(len - 5));
  /* Every strict prefix of the head is incomplete. */
  for (size_t i = 0; i < (size_t)hl; i++)
    assert_int_equal(mqn__http_head_len((const uint8_t *)req, i, 8192), 0);
  mqn__http_head h;
  assert_true(mqn__http_parse_request((const uint8_t *)req, (size_t)hl, &h));
  assert_true(h.is_get && h.upgrade_ws && h.connection_upgrade && h.proto_mqtt);
  assert_int_equal(h.version, 13);
  assert_string_equal(h.path, "/mqtt");
  char acc[29];
  mqn__ws_accept_for(h.key, acc);
  assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 1.3 */

  const char *resp = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
                     "connection: upgrade\r\nsec-websocket-accept: abc\r\n"
                     "Sec-WebSocket-Protocol: MQTT\r\n\r\n";
  assert_true(mqn__http_parse_response((const uint8_t *)resp, strlen(resp), &h));
  assert_int_equal(h.status, 101);
  assert_true(h.proto_present);
  assert_false(h.proto_mqtt); /* subprotocol tokens are case-sensitive */
  const char *bad = "HTTP/1.1 4x4 Nope\r\n\r\n";
  assert_false(mqn__http_parse_response((const uint8_t *)bad, strlen(bad), &h));
  const char *nocolon = "GET / HTTP/1.1\r\nBroken header\r\n\r\n";
  assert_false(mqn__http_parse_request((const uint8_t *)nocolon, strlen(nocolon), &h));
  uint8_t big[100];
  memset(big, 'a', sizeof big);
  assert_int_equal(mqn__http_head_len(big, sizeof big, 64), -1);
}

/* ---- against mosquitto -------------------------------------------------- */

static void test_mosquitto_tcp(void **state) {
  (void)state;
  mqn_url u = url_of("tcp://127.0.0.1:%u", F.p_tcp);
  connect_connack(&u, NULL, NULL);
  /* "localhost" may resolve to ::1 first; the dialer falls through to IPv4. */
  u = url_of("tcp://localhost:%u", F.p_tcp);
  connect_connack(&u, NULL, NULL);
}

static void test_mosquitto_mqtts(void **state) {
  (void)state;
  mqn_url u = url_of("mqtts://127.0.0.1:%u", F.p_tls);
  connect_connack(&u, F.cli, NULL);
  u = url_of("mqtts://localhost:%u", F.p_tls); /* SNI + DNS name check */
  connect_connack(&u, F.cli, NULL);
  static const struct {
    uint16_t v;
    const char *name;
  } vers[] = {{MQN_TLS_1_2, "TLSv1.2"}, {MQN_TLS_1_3, "TLSv1.3"}};
  for (size_t i = 0; i < 2; i++) {
    mqn_tls *t = client_tls("ca.crt", NULL, NULL, false, vers[i].v);
    mqn_conn *c = NULL;
    char eb[300];
    u = url_of("mqtts://127.0.0.1:%u", F.p_tls);
    ASSERT_ST(mqn_dial_blocking(&u, t, NULL, T_MS, &c, eb, sizeof eb), MQN_OK, eb);
    assert_string_equal(mqn_conn_tls_version(c), vers[i].name);
    mqn_conn_free(c);
    mqn_tls_free(t);
  }
  /* Mutual TLS with a certificate from the trusted CA. */
  mqn_tls *t = client_tls("ca.crt", "client.crt", "client.key", false, 0);
  u = url_of("mqtts://127.0.0.1:%u", F.p_mtls);
  connect_connack(&u, t, NULL);
  mqn_tls_free(t);
}

static void test_mosquitto_ws(void **state) {
  (void)state;
  mqn_url u = url_of("ws://127.0.0.1:%u/mqtt", F.p_ws);
  connect_connack(&u, NULL, NULL);
  /* CONNECT spread over 3-byte WebSocket messages: packets span frames. */
  mqn_conn_opts o = {.ws_frame_max = 3};
  connect_connack(&u, NULL, &o);
}

static void test_mosquitto_wss(void **state) {
  (void)state;
  mqn_url u = url_of("wss://127.0.0.1:%u/mqtt", F.p_wss);
  connect_connack(&u, F.cli, NULL);
  mqn_conn_opts o = {.ws_frame_max = 5};
  u = url_of("wss://localhost:%u/mqtt", F.p_wss);
  connect_connack(&u, F.cli, &o);
}

static void test_tls_errors(void **state) {
  (void)state;
  mqn_url u = url_of("mqtts://127.0.0.1:%u", F.p_self);
  expect_dial_error(&u, F.cli, MQN_ERR_TLS_UNTRUSTED); /* bad (self-signed) certificate */
  mqn_tls *other = client_tls("other-ca.crt", NULL, NULL, false, 0);
  u = url_of("mqtts://127.0.0.1:%u", F.p_tls);
  expect_dial_error(&u, other, MQN_ERR_TLS_UNTRUSTED); /* wrong CA */
  mqn_tls_free(other);
  u = url_of("mqtts://127.0.0.1:%u", F.p_expired);
  expect_dial_error(&u, F.cli, MQN_ERR_TLS_EXPIRED);
  u = url_of("mqtts://127.0.0.1:%u", F.p_wrongname);
  expect_dial_error(&u, F.cli, MQN_ERR_TLS_HOSTNAME); /* IP not in SAN */
  u = url_of("mqtts://localhost:%u", F.p_wrongname);
  expect_dial_error(&u, F.cli, MQN_ERR_TLS_HOSTNAME); /* DNS name not in SAN */
  u = url_of("wss://127.0.0.1:%u", F.p_self);
  expect_dial_error(&u, F.cli, MQN_ERR_TLS_UNTRUSTED); /* same classes over wss */
  /* The explicit insecure switch accepts the self-signed certificate. */
  mqn_tls *ins = client_tls(NULL, NULL, NULL, true, 0);
  u = url_of("mqtts://127.0.0.1:%u", F.p_self);
  connect_connack(&u, ins, NULL);
  mqn_tls_free(ins);
  /* The broker rejects a client certificate from another CA, and no cert. */
  for (int v = 0; v < 2; v++) {
    uint16_t ver = v ? MQN_TLS_1_3 : MQN_TLS_1_2;
    mqn_tls *bad = client_tls("ca.crt", "badclient.crt", "badclient.key", false, ver);
    u = url_of("mqtts://127.0.0.1:%u", F.p_mtls);
    expect_dial_error(&u, bad, MQN_ERR_TLS_REJECTED);
    mqn_tls_free(bad);
    mqn_tls *none = client_tls("ca.crt", NULL, NULL, false, ver);
    expect_dial_error(&u, none, MQN_ERR_TLS_REJECTED);
    mqn_tls_free(none);
  }
  /* A plain MQTT listener is no TLS server. */
  u = url_of("mqtts://127.0.0.1:%u", F.p_tcp);
  expect_dial_error(&u, F.cli, MQN_ERR_TLS_HANDSHAKE);
  /* Configuration problems are their own class. */
  mqn_tls_opts o = {.ca_file = "/nonexistent/ca.pem"};
  mqn_tls *t = NULL;
  char eb[200];
  assert_int_equal(mqn_tls_new_client(&o, &t, eb, sizeof eb), MQN_ERR_TLS_CONFIG);
  assert_null(t);
  assert_true(strstr(eb, "CA") != NULL);
  /* Refused TCP. */
  mqn_conn *c = NULL;
  u = url_of("tcp://127.0.0.1:%u", free_port());
  assert_int_equal(mqn_dial_blocking(&u, NULL, NULL, T_MS, &c, eb, sizeof eb), MQN_ERR_REFUSED);
  assert_null(c);
}

/* ---- independent WebSocket peers (node) --------------------------------- */

static pid_t start_peer(const char *mode, uint16_t *port, int *out) {
  char js[600];
  snprintf(js, sizeof js, "%s/tests/net/ws_peer.js", F.src);
  char *argv[] = {"node", js, (char *)mode, NULL};
  pid_t pid = spawn(argv, out);
  assert_true(pid > 0);
  char line[100];
  if (!read_line(*out, line, sizeof line, 10000) || strncmp(line, "port ", 5) != 0) {
    stop_child(pid);
    fail_msg("ws_peer.js %s did not start (%s)", mode, line);
  }
  *port = (uint16_t)atoi(line + 5);
  return pid;
}

static void test_ws_errors(void **state) {
  (void)state;
  static const struct {
    const char *mode;
    mqn_status want;
  } cases[] = {{"refuse", MQN_ERR_WS_REFUSED},
               {"wrongproto", MQN_ERR_WS_SUBPROTOCOL},
               {"noproto", MQN_ERR_WS_SUBPROTOCOL}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint16_t port = 0;
    int out = -1;
    pid_t pid = start_peer(cases[i].mode, &port, &out);
    mqn_url u = url_of("ws://127.0.0.1:%u/mqtt", port);
    mqn_conn *c = NULL;
    char eb[300] = "";
    mqn_status st = mqn_dial_blocking(&u, NULL, NULL, T_MS, &c, eb, sizeof eb);
    stop_child(pid);
    close(out);
    mqn_conn_free(c);
    ASSERT_ST(st, cases[i].want, eb);
  }
  /* A plain MQTT listener does not speak HTTP: the upgrade is refused. */
  mqn_url u = url_of("ws://127.0.0.1:%u/mqtt", F.p_tcp);
  expect_dial_error(&u, NULL, MQN_ERR_WS_REFUSED);
}

static void test_ws_frag_ping_close(void **state) {
  (void)state;
  uint16_t port = 0;
  int out = -1;
  pid_t pid = start_peer("frag", &port, &out);
  mqn_url u = url_of("ws://127.0.0.1:%u/mqtt", port);
  mqn_conn *c = NULL;
  char eb[300];
  ASSERT_ST(mqn_dial_blocking(&u, NULL, NULL, T_MS, &c, eb, sizeof eb), MQN_OK, eb);
  ASSERT_ST(mqn_send_all(c, CONNECT_311, sizeof CONNECT_311, T_MS), MQN_OK, mqn_conn_errmsg(c));
  uint8_t buf[64];
  size_t n = 0;
  /* CONNACK arrives as one message in two continuation frames. */
  ASSERT_ST(mqn_recv_packet(c, buf, sizeof buf, &n, T_MS), MQN_OK, mqn_conn_errmsg(c));
  assert_int_equal(n, 4);
  assert_memory_equal(buf, CONNACK_OK, 4);
  /* The peer pings; PINGRESP comes only after it got our pong. */
  ASSERT_ST(mqn_recv_packet(c, buf, sizeof buf, &n, T_MS), MQN_OK, mqn_conn_errmsg(c));
  assert_int_equal(n, 2);
  assert_memory_equal(buf, PINGRESP, 2);
  /* Then it closes with 1000; we answer the close frame. */
  ASSERT_ST(mqn_recv(c, buf, sizeof buf, &n, T_MS), MQN_CLOSED, mqn_conn_errmsg(c));
  char line[100];
  assert_true(read_line(out, line, sizeof line, T_MS));
  assert_string_equal(line, "pong hi");
  assert_true(read_line(out, line, sizeof line, T_MS));
  assert_string_equal(line, "closed 1000");
  mqn_conn_free(c);
  assert_int_equal(wait_child(pid, T_MS), 0);
  close(out);
}

/* ---- our server side ---------------------------------------------------- */

typedef struct {
  uint8_t in[4096];
  size_t in_len;
  bool connack_sent;
  bool got_publish;
  bool got_disconnect;
  bool closed;
} sess;

/* Minimal broker behaviour for one client: CONNACK after CONNECT, note a
 * PUBLISH with payload "hello", stop at DISCONNECT or close. */
static void serve_one(mqn_loop *loop, int64_t deadline, sess *s, mqn_status *hs_fail,
                      mqn_conn **failed_conn) {
  while (!s->closed && mqn_now_ms() < deadline) {
    mqn_event ev[8];
    size_t n = 0;
    assert_int_equal(mqn_loop_wait(loop, 100, ev, 8, &n), MQN_OK);
    for (size_t i = 0; i < n; i++) {
      mqn_conn *c = ev[i].conn;
      if (ev[i].kind == MQN_EV_ERROR || ev[i].kind == MQN_EV_TIMEOUT) {
        if (hs_fail) *hs_fail = ev[i].status;
        if (failed_conn) *failed_conn = c;
        s->closed = true;
        continue;
      }
      if (ev[i].kind != MQN_EV_READABLE) continue;
      for (;;) {
        size_t k = 0;
        if (s->in_len == sizeof s->in) s->in_len = 0;
        mqn_status st = mqn_conn_read(c, s->in + s->in_len, sizeof s->in - s->in_len, &k);
        if (st == MQN_AGAIN) break;
        if (st != MQN_OK) {
          s->closed = true;
          break;
        }
        s->in_len += k;
      }
      /* Walk complete packets (one-byte remaining lengths suffice here). */
      size_t off = 0;
      while (s->in_len - off >= 2 && s->in_len - off >= 2u + s->in[off + 1]) {
        uint8_t type = s->in[off] >> 4;
        size_t len = 2u + s->in[off + 1];
        if (type == 1 && !s->connack_sent) {
          size_t w = 0;
          assert_int_equal(mqn_conn_write(c, CONNACK_OK, 4, &w), MQN_OK);
          assert_int_equal(w, 4);
          mqn_loop_update(loop, c);
          s->connack_sent = true;
        } else if (type == 3) {
          s->got_publish = len >= 5 && memcmp(s->in + off + len - 5, "hello", 5) == 0;
        } else if (type == 14) {
          s->got_disconnect = true; /* then wait for the peer to close */
        }
        off += len;
      }
      memmove(s->in, s->in + off, s->in_len - off);
      s->in_len -= off;
    }
  }
}

static void test_server_mqtts_mosquitto_pub(void **state) {
  (void)state;
  mqn_tls *st = server_tls("server.crt", false, false);
  mqn_url u = url_of("mqtts://127.0.0.1:0");
  mqn_listener *lis = NULL;
  assert_int_equal(mqn_listener_open(&u, st, NULL, &lis), MQN_OK);
  uint16_t port = mqn_listener_port(lis);
  assert_true(port != 0);
  mqn_loop *loop = NULL;
  assert_int_equal(mqn_loop_new(0, &loop), MQN_OK);
  assert_int_equal(mqn_loop_add_listener(loop, lis, NULL), MQN_OK);
  char ca[300], ps[8];
  path_in(ca, sizeof ca, "ca.crt");
  snprintf(ps, sizeof ps, "%u", port);
  char *argv[] = {"mosquitto_pub", "--cafile", ca,       "-h", "127.0.0.1", "-p", ps,      "-V",
                  "mqttv311",      "-i",       "pubber", "-t", "mqcheck/t", "-m", "hello", NULL};
  pid_t pid = spawn(argv, NULL);
  sess s = {0};
  serve_one(loop, mqn_now_ms() + T_MS, &s, NULL, NULL);
  int rc = wait_child(pid, T_MS);
  mqn_loop_free(loop);
  mqn_tls_free(st);
  assert_true(s.connack_sent);
  assert_true(s.got_publish);
  assert_true(s.got_disconnect);
  assert_true(s.closed);
  assert_int_equal(rc, 0);
}

static void run_mqttjs_against(const char *scheme, mqn_tls *st) {
  mqn_url u = url_of("%s://127.0.0.1:0/mqtt", scheme);
  mqn_listener *lis = NULL;
  assert_int_equal(mqn_listener_open(&u, st, NULL, &lis), MQN_OK);
  mqn_loop *loop = NULL;
  assert_int_equal(mqn_loop_new(0, &loop), MQN_OK);
  uint16_t port = mqn_listener_port(lis);
  assert_int_equal(mqn_loop_add_listener(loop, lis, NULL), MQN_OK);
  char js[600], url[100], ca[300];
  snprintf(js, sizeof js, "%s/tests/net/ws_peer.js", F.src);
  snprintf(url, sizeof url, "%s://localhost:%u/mqtt", scheme, port);
  path_in(ca, sizeof ca, "ca.crt");
  char *argv[] = {"node", js, "client", url, st ? ca : NULL, NULL};
  int out = -1;
  pid_t pid = spawn(argv, &out);
  sess s = {0};
  serve_one(loop, mqn_now_ms() + 10000, &s, NULL, NULL);
  char line[200] = "";
  bool got = read_line(out, line, sizeof line, T_MS);
  int rc = wait_child(pid, T_MS);
  close(out);
  mqn_loop_free(loop);
  assert_true(s.connack_sent);
  assert_true(s.got_publish);
  assert_true(s.got_disconnect);
  assert_true(s.closed);
  assert_true(got);
  assert_string_equal(line, "connack");
  assert_int_equal(rc, 0);
}

static void test_server_ws_mqttjs(void **state) {
  (void)state;
  run_mqttjs_against("ws", NULL);
  mqn_tls *st = server_tls("server.crt", false, false);
  run_mqttjs_against("wss", st);
  mqn_tls_free(st);
}

/* Our client against our server through one loop holding four listeners:
 * bulk data both ways, ALPN, client certificates and server-side errors. */
typedef struct {
  mqn_conn *client, *server;
  uint8_t *sent, *got_srv, *got_cli;
  size_t len, cli_off, srv_read, cli_read, srv_echoed;
} pair;

static void pump_pair(mqn_loop *loop, pair *p, int64_t deadline) {
  while ((p->srv_read < p->len || p->cli_read < p->len) && mqn_now_ms() < deadline) {
    /* Client writes what fits; the server echoes what it read. */
    if (p->client && p->cli_off < p->len && mqn_conn_is_open(p->client)) {
      size_t w = 0;
      mqn_status st = mqn_conn_write(p->client, p->sent + p->cli_off, p->len - p->cli_off, &w);
      assert_true(st == MQN_OK || st == MQN_AGAIN);
      p->cli_off += w;
      mqn_loop_update(loop, p->client);
    }
    if (p->server && p->srv_echoed < p->srv_read) {
      size_t w = 0;
      mqn_status st =
          mqn_conn_write(p->server, p->got_srv + p->srv_echoed, p->srv_read - p->srv_echoed, &w);
      assert_true(st == MQN_OK || st == MQN_AGAIN);
      p->srv_echoed += w;
      mqn_loop_update(loop, p->server);
    }
    mqn_event ev[16];
    size_t n = 0;
    assert_int_equal(mqn_loop_wait(loop, 50, ev, 16, &n), MQN_OK);
    for (size_t i = 0; i < n; i++) {
      if (ev[i].kind == MQN_EV_ERROR)
        fail_msg("loop error: %s (%s)", mqn_strerror(ev[i].status), mqn_conn_errmsg(ev[i].conn));
      if (ev[i].kind == MQN_EV_OPEN && ev[i].listener) p->server = ev[i].conn;
      if (ev[i].kind != MQN_EV_READABLE) continue;
      bool srv = ev[i].conn == p->server;
      for (;;) {
        size_t k = 0;
        uint8_t *dst = srv ? p->got_srv + p->srv_read : p->got_cli + p->cli_read;
        size_t room = p->len - (srv ? p->srv_read : p->cli_read);
        if (room == 0) break;
        mqn_status st = mqn_conn_read(ev[i].conn, dst, room, &k);
        if (st == MQN_AGAIN) break;
        ASSERT_ST(st, MQN_OK, mqn_conn_errmsg(ev[i].conn));
        if (srv)
          p->srv_read += k;
        else
          p->cli_read += k;
      }
    }
  }
}

static void loop_roundtrip(mqn_loop *loop, const mqn_url *su, mqn_tls *ctls,
                           const mqn_conn_opts *co, size_t len) {
  pair p = {.len = len};
  p.sent = malloc(len), p.got_srv = malloc(len), p.got_cli = malloc(len);
  assert_non_null(p.sent), assert_non_null(p.got_srv), assert_non_null(p.got_cli);
  for (size_t i = 0; i < len; i++)
    p.sent[i] = (uint8_t)(i * 7 + (i >> 8));
  assert_int_equal(mqn_conn_dial(su, ctls, co, &p.client), MQN_OK);
  assert_int_equal(mqn_loop_add(loop, p.client, NULL), MQN_OK);
  pump_pair(loop, &p, mqn_now_ms() + 20000);
  assert_int_equal(p.srv_read, len);
  assert_int_equal(p.cli_read, len);
  assert_memory_equal(p.sent, p.got_srv, len);
  assert_memory_equal(p.sent, p.got_cli, len);
  if (mqn_scheme_is_tls(su->scheme)) {
    assert_string_equal(mqn_conn_alpn(p.client), "mqtt");
    assert_string_equal(mqn_conn_alpn(p.server), "mqtt");
  }
  if (mqn_scheme_is_ws(su->scheme)) assert_string_equal(mqn_conn_ws_path(p.server), "/mqtt");
  mqn_loop_close(loop, p.client);
  mqn_loop_close(loop, p.server);
  free(p.sent), free(p.got_srv), free(p.got_cli);
}

static void test_loop_own_client_server(void **state) {
  (void)state;
  mqn_tls *st = server_tls("server.crt", false, true);
  mqn_tls *mt = server_tls("server.crt", true, true);
  char a[300];
  path_in(a, sizeof a, "ca.crt");
  mqn_tls_opts co = {.ca_file = a, .alpn_mqtt = true};
  mqn_tls *ct = NULL;
  assert_int_equal(mqn_tls_new_client(&co, &ct, NULL, 0), MQN_OK);
  mqn_loop *loop = NULL;
  assert_int_equal(mqn_loop_new(16, &loop), MQN_OK);
  const char *schemes[] = {"tcp", "mqtts", "ws", "wss"};
  mqn_url lu[4];
  for (int i = 0; i < 4; i++) {
    mqn_url u = url_of(i >= 2 ? "%s://127.0.0.1:0/mqtt" : "%s://127.0.0.1:0", schemes[i]);
    mqn_listener *l = NULL;
    assert_int_equal(mqn_listener_open(&u, mqn_scheme_is_tls(u.scheme) ? st : NULL, NULL, &l),
                     MQN_OK);
    lu[i] = *mqn_listener_url(l);
    snprintf(lu[i].host, sizeof lu[i].host, "localhost");
    assert_int_equal(mqn_loop_add_listener(loop, l, NULL), MQN_OK);
  }
  for (int i = 0; i < 4; i++) {
    mqn_conn_opts small = {.ws_frame_max = 1000, .tx_cap = 4096};
    loop_roundtrip(loop, &lu[i], mqn_scheme_is_tls(lu[i].scheme) ? ct : NULL, NULL, 300000);
    loop_roundtrip(loop, &lu[i], mqn_scheme_is_tls(lu[i].scheme) ? ct : NULL, &small, 100000);
  }
  assert_int_equal(mqn_loop_count(loop), 0);
  mqn_loop_free(loop);

  /* Server side errors: a client whose certificate our server cannot trust,
   * and a WebSocket client that does not offer "mqtt". Both sides report. */
  assert_int_equal(mqn_loop_new(0, &loop), MQN_OK);
  mqn_url u = url_of("mqtts://127.0.0.1:0");
  mqn_listener *l = NULL;
  assert_int_equal(mqn_listener_open(&u, mt, NULL, &l), MQN_OK);
  uint16_t mport = mqn_listener_port(l);
  assert_int_equal(mqn_loop_add_listener(loop, l, NULL), MQN_OK);
  mqn_tls *bad = client_tls("ca.crt", "badclient.crt", "badclient.key", false, MQN_TLS_1_2);
  u = url_of("mqtts://127.0.0.1:%u", mport);
  mqn_conn *c = NULL;
  assert_int_equal(mqn_conn_dial(&u, bad, NULL, &c), MQN_OK);
  assert_int_equal(mqn_loop_add(loop, c, NULL), MQN_OK);
  mqn_status srv_st = MQN_OK, cli_st = MQN_OK;
  int64_t deadline = mqn_now_ms() + T_MS;
  while ((srv_st == MQN_OK || cli_st == MQN_OK) && mqn_now_ms() < deadline) {
    mqn_event ev[8];
    size_t n = 0;
    assert_int_equal(mqn_loop_wait(loop, 100, ev, 8, &n), MQN_OK);
    for (size_t i = 0; i < n; i++) {
      if (ev[i].kind != MQN_EV_ERROR) continue;
      if (ev[i].listener)
        srv_st = ev[i].status;
      else
        cli_st = ev[i].status;
      mqn_loop_close(loop, ev[i].conn);
    }
  }
  ASSERT_ST(srv_st, MQN_ERR_TLS_UNTRUSTED, "server verifying a foreign client cert");
  ASSERT_ST(cli_st, MQN_ERR_TLS_REJECTED, "client whose cert was refused");
  mqn_tls_free(bad);
  mqn_loop_free(loop);
  mqn_tls_free(st);
  mqn_tls_free(mt);
  mqn_tls_free(ct);
}

static void test_server_ws_subprotocol_refused(void **state) {
  (void)state;
  mqn_url u = url_of("ws://127.0.0.1:0/mqtt");
  mqn_listener *l = NULL;
  assert_int_equal(mqn_listener_open(&u, NULL, NULL, &l), MQN_OK);
  uint16_t port = mqn_listener_port(l);
  /* A raw client offering only "chat". */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {
      .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  const char *req = "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: "
                    "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
  assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
  mqn_conn *c = NULL;
  int64_t deadline = mqn_now_ms() + T_MS;
  while (mqn_listener_accept(l, &c) == MQN_AGAIN && mqn_now_ms() < deadline)
    usleep(5000);
  assert_non_null(c);
  assert_int_equal(mqn_handshake_blocking(c, T_MS), MQN_ERR_WS_SUBPROTOCOL);
  char resp[200] = "";
  ssize_t r = read(fd, resp, sizeof resp - 1);
  assert_true(r > 0);
  assert_true(strncmp(resp, "HTTP/1.1 400", 12) == 0);
  close(fd);
  mqn_conn_free(c);
  mqn_listener_free(l);
}

/* The planted WebSocket deviations (mqn_ws_fault, for mqcheck mutants): each
 * changes what its statement forbids and nothing else. A client of ours
 * (frame_max bytes per message) writes each of w[0..nw) (w[0] as one TEXT
 * message when text) to a ws listener planted with fault. */
typedef struct {
  mqn_status cli, srv; /* the first failure on each side, MQN_OK when none */
  bool cli_open;
  uint8_t got[64]; /* what the server read */
  size_t n;
} ws_seen;

static void ws_fault_case(unsigned fault, size_t frame_max, bool text, const uint8_t *const *w,
                          const size_t *wl, size_t nw, size_t until, ws_seen *out) {
  memset(out, 0, sizeof *out);
  mqn_loop *loop = NULL;
  assert_int_equal(mqn_loop_new(0, &loop), MQN_OK);
  mqn_url u = url_of("ws://127.0.0.1:0/mqtt");
  mqn_conn_opts so = {.ws_fault = fault}, co = {.ws_frame_max = frame_max};
  mqn_listener *l = NULL;
  assert_int_equal(mqn_listener_open(&u, NULL, &so, &l), MQN_OK);
  u = url_of("ws://127.0.0.1:%u/mqtt", mqn_listener_port(l));
  assert_int_equal(mqn_loop_add_listener(loop, l, NULL), MQN_OK);
  mqn_conn *c = NULL;
  assert_int_equal(mqn_conn_dial(&u, NULL, &co, &c), MQN_OK);
  assert_int_equal(mqn_loop_add(loop, c, NULL), MQN_OK);
  int64_t deadline = mqn_now_ms() + T_MS;
  while (out->n < until && !out->cli && !out->srv && mqn_now_ms() < deadline) {
    mqn_event ev[8];
    size_t n = 0;
    assert_int_equal(mqn_loop_wait(loop, 100, ev, 8, &n), MQN_OK);
    for (size_t i = 0; i < n; i++) {
      bool srv = ev[i].listener || ev[i].conn != c;
      if (ev[i].kind == MQN_EV_ERROR || ev[i].kind == MQN_EV_TIMEOUT) {
        *(srv ? &out->srv : &out->cli) = ev[i].status;
      } else if (ev[i].kind == MQN_EV_OPEN && !srv) {
        out->cli_open = true;
        for (size_t k = 0; k < nw; k++) {
          size_t done = 0;
          if (k == 0 && text) {
            assert_int_equal(mqn_conn_ws_send_text(c, w[k], wl[k]), MQN_OK);
            continue;
          }
          assert_int_equal(mqn_conn_write(c, w[k], wl[k], &done), MQN_OK);
          assert_int_equal(done, wl[k]);
        }
        mqn_loop_update(loop, c);
      } else if (ev[i].kind == MQN_EV_READABLE && srv) {
        for (;;) {
          size_t k = 0;
          mqn_status st =
              mqn_conn_read(ev[i].conn, out->got + out->n, sizeof out->got - out->n, &k);
          if (st == MQN_AGAIN || (st == MQN_OK && out->n + k == sizeof out->got)) break;
          if (st != MQN_OK) {
            out->srv = st;
            break;
          }
          out->n += k;
        }
      }
    }
  }
  mqn_loop_free(loop);
}

static void test_server_ws_faults(void **state) {
  (void)state;
  ws_seen s;
  static const uint8_t pingreq[] = {0xc0, 0}, publish[] = {0x30, 3, 0, 1, 't'},
                       disconnect[] = {0xe0, 0}, both[] = {0xc0, 0, 0xe0, 0};
  const uint8_t *ping[] = {pingreq}, *w[] = {pingreq, publish, disconnect}, *two[] = {both};
  const size_t ping_l[] = {2}, wl[] = {2, 5, 2}, two_l[] = {4};
  /* MQTT-6.0.0-1: a PUBLISH in a TEXT message (ASCII bytes, so valid UTF-8
   * text) closes the connection... */
  const uint8_t *pub[] = {publish};
  const size_t pub_l[] = {5};
  ws_fault_case(MQN_WS_FAULT_NONE, 0, true, pub, pub_l, 1, 5, &s);
  ASSERT_ST(s.srv, MQN_ERR_WS_PROTOCOL, "a TEXT message");
  assert_int_equal(s.n, 0);
  /* ...and is read as MQTT bytes with ws-accept-text */
  ws_fault_case(MQN_WS_FAULT_ACCEPT_TEXT, 0, true, pub, pub_l, 1, 5, &s);
  ASSERT_ST(s.srv, MQN_OK, "a TEXT message, ws-accept-text");
  assert_int_equal(s.n, 5);
  assert_memory_equal(s.got, publish, 5);
  /* MQTT-6.0.0-2: 2-byte messages; the PUBLISH between two PINGREQs spans
   * three of them. The server reassembles it; ws-aligned-packets drops the
   * messages that end inside it, but passes a whole packet per message, and
   * several in one. */
  ws_fault_case(MQN_WS_FAULT_NONE, 2, false, w, wl, 3, 9, &s);
  ASSERT_ST(s.srv, MQN_OK, "packets across messages");
  assert_int_equal(s.n, 9);
  assert_memory_equal(s.got, "\xc0\x00\x30\x03\x00\x01t\xe0\x00", 9);
  ws_fault_case(MQN_WS_FAULT_ALIGNED_PACKETS, 2, false, w, wl, 3, 4, &s);
  ASSERT_ST(s.srv, MQN_OK, "packets across messages, ws-aligned-packets");
  assert_int_equal(s.n, 4);
  assert_memory_equal(s.got, "\xc0\x00\xe0\x00", 4);
  ws_fault_case(MQN_WS_FAULT_ALIGNED_PACKETS, 0, false, two, two_l, 1, 4, &s);
  assert_int_equal(s.n, 4);
  /* MQTT-6.0.0-4: the 101 selects "mqtt"; with ws-no-subprotocol it selects
   * none, and our client refuses the upgrade. */
  ws_fault_case(MQN_WS_FAULT_NONE, 0, false, ping, ping_l, 1, 2, &s);
  assert_true(s.cli_open);
  ASSERT_ST(s.cli, MQN_OK, "upgrade");
  ws_fault_case(MQN_WS_FAULT_NO_SUBPROTOCOL, 0, false, ping, ping_l, 1, 2, &s);
  assert_false(s.cli_open);
  ASSERT_ST(s.cli, MQN_ERR_WS_SUBPROTOCOL, "upgrade, ws-no-subprotocol");
  /* the names and statements mutants reports */
  assert_int_equal(mqn_ws_fault_count(), MQN_WS_FAULT__END - 1);
  for (size_t i = 0; i < mqn_ws_fault_count(); i++) {
    const mqn_ws_fault_info *f = mqn_ws_fault_at(i);
    assert_int_equal(f->id, i + 1);
    assert_ptr_equal(mqn_ws_fault_lookup(f->name), f);
    assert_non_null(f->stmt_311), assert_non_null(f->stmt_5), assert_non_null(f->what);
  }
  assert_null(mqn_ws_fault_at(mqn_ws_fault_count()));
  assert_null(mqn_ws_fault_lookup("session-present-zero"));
}

static void test_timeouts(void **state) {
  (void)state;
  /* A listener that never answers: TCP connects (backlog), TLS waits. */
  mqn_url u = url_of("tcp://127.0.0.1:0");
  mqn_listener *silent = NULL;
  assert_int_equal(mqn_listener_open(&u, NULL, NULL, &silent), MQN_OK);
  u = url_of("mqtts://127.0.0.1:%u", mqn_listener_port(silent));
  mqn_conn *c = NULL;
  char eb[200];
  int64_t t0 = mqn_now_ms();
  assert_int_equal(mqn_dial_blocking(&u, F.cli, NULL, 300, &c, eb, sizeof eb), MQN_TIMEOUT);
  int64_t took = mqn_now_ms() - t0;
  assert_true(took >= 250 && took < 2000);
  assert_true(strstr(eb, "TLS handshake") != NULL);
  /* Through the loop: handshake_timeout_ms, then an application deadline. */
  mqn_loop *loop = NULL;
  assert_int_equal(mqn_loop_new(0, &loop), MQN_OK);
  mqn_conn_opts o = {.handshake_timeout_ms = 200};
  assert_int_equal(mqn_conn_dial(&u, F.cli, &o, &c), MQN_OK);
  assert_int_equal(mqn_loop_add(loop, c, NULL), MQN_OK);
  mqn_event ev[4];
  size_t n = 0;
  t0 = mqn_now_ms();
  while (n == 0 && mqn_now_ms() - t0 < 3000)
    assert_int_equal(mqn_loop_wait(loop, -1, ev, 4, &n), MQN_OK);
  assert_int_equal(n, 1);
  assert_int_equal(ev[0].kind, MQN_EV_TIMEOUT);
  assert_int_equal(ev[0].status, MQN_TIMEOUT);
  mqn_loop_close(loop, c);
  /* Open TCP connection whose peer stays silent: the deadline fires once. */
  u = url_of("tcp://127.0.0.1:%u", F.p_tcp);
  assert_int_equal(mqn_dial_blocking(&u, NULL, NULL, T_MS, &c, eb, sizeof eb), MQN_OK);
  mqn_conn_set_deadline(c, mqn_now_ms() + 150);
  assert_int_equal(mqn_loop_add(loop, c, NULL), MQN_OK);
  bool timed_out = false;
  t0 = mqn_now_ms();
  while (!timed_out && mqn_now_ms() - t0 < 3000) {
    assert_int_equal(mqn_loop_wait(loop, -1, ev, 4, &n), MQN_OK);
    for (size_t i = 0; i < n; i++) {
      if (ev[i].kind == MQN_EV_READABLE) {
        uint8_t b[16];
        size_t k;
        assert_int_equal(mqn_conn_read(c, b, sizeof b, &k), MQN_AGAIN);
      }
      if (ev[i].kind == MQN_EV_TIMEOUT) timed_out = true;
    }
  }
  assert_true(timed_out);
  assert_int_equal(mqn_conn_deadline(c), 0);
  /* Blocking receive with a deadline on a silent peer. */
  uint8_t b[16];
  size_t k = 0;
  mqn_loop_detach(loop, c);
  t0 = mqn_now_ms();
  assert_int_equal(mqn_recv(c, b, sizeof b, &k, 100), MQN_TIMEOUT);
  assert_true(mqn_now_ms() - t0 >= 90);
  mqn_conn_free(c);
  mqn_loop_free(loop);
  mqn_listener_free(silent);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest pure[] = {
      cmocka_unit_test(test_url_parse),
      cmocka_unit_test(test_strerror_distinct),
      cmocka_unit_test(test_http_parse),
  };
  const struct CMUnitTest live[] = {
      cmocka_unit_test(test_mosquitto_tcp),
      cmocka_unit_test(test_mosquitto_mqtts),
      cmocka_unit_test(test_mosquitto_ws),
      cmocka_unit_test(test_mosquitto_wss),
      cmocka_unit_test(test_tls_errors),
      cmocka_unit_test(test_ws_errors),
      cmocka_unit_test(test_ws_frag_ping_close),
      cmocka_unit_test(test_server_mqtts_mosquitto_pub),
      cmocka_unit_test(test_server_ws_mqttjs),
      cmocka_unit_test(test_loop_own_client_server),
      cmocka_unit_test(test_server_ws_subprotocol_refused),
      cmocka_unit_test(test_server_ws_faults),
      cmocka_unit_test(test_timeouts),
  };
  int fails = cmocka_run_group_tests_name("net_pure", pure, NULL, NULL);
  fails += cmocka_run_group_tests_name("net_live", live, group_setup, group_teardown);
  return fails ? 1 : 0;
}
