/* finding.c - a finding written as files, and as a scenario in the suite's
 * format that asserts what a correct broker does.
 *
 * The scenario replays the session's bytes (send_hex, with the session token
 * fixed), and after each record expects what the reference engine sends for
 * the same bytes (engine_replay.c): the packet types, the topics and
 * payloads of deliveries, CONNACK 0x00, and closes as expect_disconnect.
 * Those expectations skip other packets, except for bad-wire findings (any
 * packet that does not decode must fail the step) and for unwanted deliveries
 * (a PINGREQ fence at the end, that nothing else may precede). Crashes, hangs
 * and leaks end with a fresh client that must connect and get a PINGRESP. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_replay.h"
#include "internal.h"
#include "mqs.h"

const char *mqz_kind_name(mqz_kind k) {
  static const char *const names[MQZ_KIND_COUNT] = {"none",     "crash", "hang",
                                                    "bad-wire", "spec",  "leak"};
  return k < MQZ_KIND_COUNT ? names[k] : "?";
}

typedef struct {
  char *p;
  size_t n, cap;
  bool oom;
} text;

static void tprintf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tprintf(text *t, const char *fmt, ...) {
  if (t->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if (t->p && t->n + (size_t)k < t->cap) {
      t->n += (size_t)k;
      return;
    }
    size_t cap = t->cap ? t->cap * 2 : 4096;
    while (cap < t->n + (size_t)k + 1)
      cap *= 2;
    char *q = realloc(t->p, cap);
    if (!q) {
      t->oom = true;
      return;
    }
    t->p = q;
    t->cap = cap;
  }
}

static void thex(text *t, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    tprintf(t, "%s%02x", i ? " " : "", p[i]);
}

/* A send_hex step of client: p[0..n) times times, in one write. */
static void tsend_times(text *t, unsigned client, const uint8_t *p, size_t n, uint64_t times,
                        const char *indent) {
  tprintf(t, "%s- {client: c%u, send_hex: \"", indent, client);
  for (uint64_t k = 0; k < times; k++) {
    if (k) tprintf(t, " ");
    thex(t, p, n);
  }
  tprintf(t, "\"}\n");
}

/* YAML double-quoted text: printable ASCII kept, the rest escaped. */
static void tquote(text *t, const char *s) {
  tprintf(t, "\"");
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      tprintf(t, "\\%c", ch);
    else if (ch >= 0x20 && ch < 0x7F)
      tprintf(t, "%c", ch);
    else
      tprintf(t, "\\x%02x", ch);
  }
  tprintf(t, "\"");
}

/* What the engine sent, per record, collected before writing. */
typedef struct {
  size_t rec;
  unsigned client;
  uint8_t *p; /* owned; NULL = the engine closed the connection */
  size_t n;
} eng_ev;

typedef struct {
  eng_ev *e;
  size_t n, cap;
} eng_log;

static void on_engine(void *ctx, size_t rec, unsigned client, const uint8_t *p, size_t n) {
  eng_log *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    eng_ev *q = realloc(l->e, cap * sizeof *q);
    if (!q) return;
    l->e = q;
    l->cap = cap;
  }
  eng_ev *ev = &l->e[l->n];
  ev->rec = rec;
  ev->client = client;
  ev->n = n;
  ev->p = NULL;
  if (p) {
    ev->p = malloc(n);
    if (!ev->p) return;
    memcpy(ev->p, p, n);
  }
  l->n++;
}

static void eng_log_free(eng_log *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->e[i].p);
  free(l->e);
}

/* The token a finding's scenario uses: fixed, derived from its signature. */
static void finding_token(const mqz_finding *f, char out[MQZ_TOKEN_LEN + 1]) {
  uint32_t h = 2166136261u;
  for (const char *s = f->signature; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  mqz_token_make(h % (36u * 36 * 36 * 36), out);
}

/* One expectation for a packet the engine sent; with auto_ack, the answer
 * the client owes it follows (with the engine's packet identifier: brokers
 * that number differently ignore it, which the expectations still judge). */
/* The rules: of a check when the scenario cites several statements (each
 * must be named by the check that verifies it); "" when it cites one. */
typedef struct {
  const char *vlabel, *stmt;
  bool named; /* some check named stmt */
} step_rules;

static void trules(text *t, step_rules *sr) {
  if (!sr->stmt) return;
  tprintf(t, ", rules: {%s: [%s]}", sr->vlabel, sr->stmt);
  sr->named = true;
}

static void expect_step(text *t, unsigned client, const uint8_t *p, size_t n, mqc_version v,
                        bool strict, bool auto_ack, step_rules *sr) {
  mqc_packet pkt;
  mqc_error err;
  if (mqc_decode(p, n, v, MQC_FROM_SERVER, MQC_NO_LIMIT, &pkt, &err) != MQC_OK) return;
  const char *answer = NULL;
  uint16_t id = 0;
  if (auto_ack && pkt.type == MQC_PUBLISH && pkt.publish.qos) {
    answer = pkt.publish.qos == 1 ? "PUBACK" : "PUBREC";
    id = pkt.publish.packet_id;
  } else if (auto_ack && (pkt.type == MQC_PUBREL || pkt.type == MQC_PUBREC)) {
    answer = pkt.type == MQC_PUBREL ? "PUBCOMP" : "PUBREL";
    id = pkt.ack.packet_id;
  }
  /* refusals and server DISCONNECTs vary legally between brokers: the close
   * that follows them is expected instead */
  if (pkt.type == MQC_DISCONNECT || (pkt.type == MQC_CONNACK && pkt.connack.reason)) return;
  tprintf(t, "  - {client: c%u, expect: {type: %s", client, mqc_type_name(pkt.type));
  if (pkt.type == MQC_CONNACK) tprintf(t, ", reason_code: 0");
  if (pkt.type == MQC_PUBLISH) {
    tprintf(t, ", topic: {hex: \"");
    thex(t, pkt.publish.topic.p, pkt.publish.topic.n);
    tprintf(t, "\"}, payload: {hex: \"");
    thex(t, pkt.publish.payload.p, pkt.publish.payload.n);
    tprintf(t, "\"}");
  }
  tprintf(t, "}%s", strict ? "" : ", ignore_others: true");
  trules(t, sr);
  tprintf(t, "}\n");
  if (answer)
    tprintf(t, "  - {client: c%u, send: {type: %s, packet_id: %u}}\n", client, answer, id);
}

/* The version the session's clients speak: that of its first CONNECT that
 * decodes (a mutation may change the session's selector alone), else the
 * selector's. The engine's answers decode only in it. */
static mqc_version wire_version(const uint8_t *s, size_t n) {
  mqz_iter it;
  mqz_rec r;
  mqz_iter_init(&it, s, n);
  while (mqz_iter_next(&it, &r)) {
    mqc_packet pkt;
    mqc_error e;
    if (r.op != MQZ_OP_SEND || !r.pkt_len || (r.pkt[0] >> 4) != MQC_CONNECT) continue;
    if (mqc_decode(r.pkt, r.pkt_len, MQC_VERSION_AUTO, MQC_FROM_CLIENT, MQC_NO_LIMIT, &pkt, &e) ==
        MQC_OK)
      return pkt.connect.level == MQC_V5 ? MQC_V5 : MQC_V311;
  }
  return mqz_session_version(s, n);
}

char *mqz_scenario_yaml(const mqz_finding *f) {
  char token[MQZ_TOKEN_LEN + 1];
  finding_token(f, token);
  mqc_version v = wire_version(f->session, f->session_n);
  const char *vlabel = v == MQC_V5 ? "5.0" : "3.1.1";
  eng_log log = {0};
  uint8_t *how = calloc(f->session_n + 1, 1); /* more than the records */
  if (!how ||
      mqz_engine_replay(f->session, f->session_n, token, on_engine, &log, how, f->session_n + 1)) {
    free(how);
    eng_log_free(&log);
    return NULL;
  }
  /* which clients the session uses, and on a cluster the nodes they open
   * on: client c's home is node c mod n_nodes, a NODE record moves it */
  bool used[MQZ_MAX_CLIENTS] = {0};
  unsigned nn = f->n_nodes > 1 && f->node_names ? f->n_nodes : 1, nodes_used = 0;
  uint8_t place[MQZ_MAX_CLIENTS];
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
    place[k] = (uint8_t)(k % nn);
  mqz_iter it;
  mqz_rec r;
  mqz_iter_init(&it, f->session, f->session_n);
  while (mqz_iter_next(&it, &r)) {
    used[r.client] = true;
    if (r.op == MQZ_OP_NODE) place[r.client] = (uint8_t)(r.arg % nn);
    if (r.op == MQZ_OP_OPEN) nodes_used |= 1u << place[r.client];
  }
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
    place[k] = (uint8_t)(k % nn);
  bool strict = f->kind == MQZ_BADWIRE;
  bool auto_ack = (mqz_session_flags(f->session, f->session_n) & MQZ_F_AUTO_ACK) != 0;
  bool fence = f->kind == MQZ_SPEC &&
               (!strcmp(f->statement, "MQTT-3.3.2-3") || !strcmp(f->statement, "MQTT-4.7.2-1") ||
                !strcmp(f->statement, "MQTT-4.3.3-10") || !strcmp(f->statement, "MQTT-4.3.3-2") ||
                !strcmp(f->statement, "MQTT-3.14.4-3") ||
                !strcmp(f->statement, v == MQC_V5 ? "MQTT-3.3.1-6" : "MQTT-3.3.1-10"));
  const char *stmt = f->statement[0] ? f->statement : "MQTT-3.12.4-1";
  text t = {0};
  tprintf(&t, "# Written by mqcheck fuzz: a %s finding (seed %llu, session %llu).\n",
          mqz_kind_name(f->kind), (unsigned long long)f->seed, (unsigned long long)f->number);
  tprintf(&t, "# It replays the session's bytes and expects what the reference engine answers.\n");
  tprintf(&t, "format: 1\nname: fuzz/%s-%.12s\ndescription: ", mqz_kind_name(f->kind), token);
  char desc[400];
  snprintf(desc, sizeof desc, "%s: %s", mqz_kind_name(f->kind), f->message);
  tquote(&t, desc);
  bool two = strcmp(stmt, "MQTT-3.12.4-1") && f->kind != MQZ_SPEC;
  step_rules sr = {vlabel, two ? stmt : NULL, false};
  tprintf(&t, "\nversions: [%s]\n", vlabel);
  /* clients on several nodes: a cluster case (docs/cluster.md), skipped on
   * one broker, waits grown by the propagation bound */
  if (nodes_used & (nodes_used - 1)) tprintf(&t, "requires: [cluster]\n");
  tprintf(&t, "rules:\n  %s: [%s%s]\nclients: [", vlabel, stmt, two ? ", MQTT-3.12.4-1" : "");
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
    if (used[k] && nn > 1)
      tprintf(&t, "{name: c%u, node: %s}, ", k, f->node_names[k % nn]);
    else if (used[k])
      tprintf(&t, "c%u, ", k);
  tprintf(&t, "check]\nsteps:\n");
  bool open[MQZ_MAX_CLIENTS] = {0};
  bool repeated[MQZ_MAX_CLIENTS] = {0};
  unsigned subscribed_on = 0; /* nodes with a SUBSCRIBE since the last wait */
  size_t ev = 0, idx = 0;
  uint8_t buf[MQZ_SESSION_MAX];
  mqz_iter_init(&it, f->session, f->session_n);
  /* The fuzzer sends every record up to the next SYNC or WAIT without
   * waiting for answers; the engine replay reads answers there too, so the
   * expectations of a stretch (in the order the engine answered) follow its
   * sends. */
  for (;; idx++) {
    bool more = mqz_iter_next(&it, &r);
    if (!more) break;
    switch (r.op) {
    case MQZ_OP_OPEN:
      if (open[r.client]) /* the fuzzer drops an open transport first */
        tprintf(&t, "  - {client: c%u, drop: true}\n", r.client);
      if (place[r.client] != r.client % nn)
        tprintf(&t, "  - {client: c%u, open: true, node: %s}\n", r.client,
                f->node_names[place[r.client]]);
      else
        tprintf(&t, "  - {client: c%u, open: true}\n", r.client);
      open[r.client] = true;
      break;
    case MQZ_OP_NODE:
      place[r.client] = (uint8_t)(r.arg % nn);
      break;
    case MQZ_OP_SEND:
    case MQZ_OP_ACK:
    case MQZ_OP_RAW:
      if (r.op == MQZ_OP_ACK && auto_ack) break;    /* answered by the steps below */
      if (how[idx] == MQZ_REPLAY_SUPPRESSED) break; /* the fuzzer did not send it either */
      if (!r.pkt_len) break;                        /* nothing went out (a RAW shrunk to no byte) */
      /* as the fuzzer held it (netfuzz/exec.c): a PUBLISH waits until the
       * subscriptions made on other nodes can have got to its node */
      if ((r.pkt[0] >> 4) == MQC_SUBSCRIBE) subscribed_on |= 1u << place[r.client];
      if ((r.pkt[0] >> 4) == MQC_PUBLISH && (subscribed_on & ~(1u << place[r.client]))) {
        tprintf(&t, "  - {wait: %u, comment: \"the subscriptions reach the other nodes\"}\n",
                f->propagation_ms);
        subscribed_on = 0;
      }
      memcpy(buf, r.pkt, r.pkt_len);
      mqz_token_apply(buf, r.pkt_len, token);
      tprintf(&t, "  - {client: c%u, send_hex: \"", r.client);
      thex(&t, buf, r.pkt_len);
      if (how[idx] == MQZ_REPLAY_PROBED) /* in the same write, as the fuzzer sent it */
        tprintf(&t, " c0 00\", comment: \"then the fuzzer's PINGREQ after a protocol "
                    "violation\"}\n");
      else
        tprintf(&t, "\"}\n");
      break;
    case MQZ_OP_REPEAT: {
      /* count units in at most MQS_REPEAT_MAX iterations of equal sends,
       * the remainder in one send after them */
      if (!r.pkt_len || !r.arg) break;
      repeated[r.client] = true;
      memcpy(buf, r.pkt, r.pkt_len);
      mqz_token_apply(buf, r.pkt_len, token);
      uint64_t units = r.arg;
      if (units * r.pkt_len > MQZ_REPEAT_MAX) units = MQZ_REPEAT_MAX / r.pkt_len;
      uint64_t iters = units < MQS_REPEAT_MAX ? units : MQS_REPEAT_MAX, per = units / iters;
      uint64_t rest = units - iters * per;
      tprintf(&t, "  - repeat: {count: %llu}\n    comment: \"%llu times the same %zu bytes\"\n",
              (unsigned long long)iters, (unsigned long long)units, r.pkt_len);
      tprintf(&t, "    steps:\n");
      tsend_times(&t, r.client, buf, r.pkt_len, per, "      ");
      if (rest) tsend_times(&t, r.client, buf, r.pkt_len, rest, "  ");
      break;
    }
    case MQZ_OP_CLOSE:
    case MQZ_OP_HALFCLOSE:
    case MQZ_OP_DROP:
      if (open[r.client]) tprintf(&t, "  - {client: c%u, drop: true}\n", r.client);
      open[r.client] = false;
      break;
    case MQZ_OP_WAIT:
      tprintf(&t, "  - {wait: %u}\n", r.arg);
      if (r.arg >= f->propagation_ms) subscribed_on = 0;
      break;
    default:
      break;
    }
    for (; ev < log.n && log.e[ev].rec == idx; ev++) {
      const eng_ev *e = &log.e[ev];
      /* answers to repeated bytes are too many to list (a scenario has at
       * most 1024 steps): after a REPEAT, its client's answers are not
       * expected one by one (its closes still are) */
      if (repeated[e->client] && e->p) continue;
      text *out = &t;
      if (!e->p) {
        if (open[e->client]) {
          tprintf(out, "  - {client: c%u, expect_disconnect: true", e->client);
          trules(out, &sr);
          tprintf(out, "}\n");
        }
        open[e->client] = false;
        continue;
      }
      expect_step(out, e->client, e->p, e->n, v == MQC_V31 ? MQC_V311 : v, strict, auto_ack, &sr);
    }
  }
  for (; ev < log.n; ev++) { /* after the last record */
    const eng_ev *e = &log.e[ev];
    if (!e->p) {
      if (open[e->client]) {
        tprintf(&t, "  - {client: c%u, expect_disconnect: true", e->client);
        trules(&t, &sr);
        tprintf(&t, "}\n");
      }
      open[e->client] = false;
    } else if (!repeated[e->client]) {
      expect_step(&t, e->client, e->p, e->n, v == MQC_V31 ? MQC_V311 : v, strict, auto_ack, &sr);
    }
  }
  if (fence)
    for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
      if (open[k])
        tprintf(&t,
                "  - {client: c%u, send: {type: PINGREQ}, comment: \"fence: nothing else may "
                "come before its PINGRESP\"}\n  - {client: c%u, expect: {type: PINGRESP}}\n",
                k, k);
  tprintf(&t, "  - {client: check, connect: {}, comment: \"the broker is still alive\"}\n");
  /* a crash or hang was judged by the fuzzer's liveness probe, which also
   * routes a QoS 1 message through the broker: its SUBSCRIBE or PUBLISH may
   * be what sets the broken state off, so the scenario does the same */
  bool as_probe = f->kind == MQZ_CRASH || f->kind == MQZ_HANG;
  if (as_probe)
    tprintf(&t,
            "  - {client: check, send: {type: SUBSCRIBE, packet_id: 1, subscriptions: "
            "[{topic_filter: \"mqc/%s/alive\", qos: 1}]}}\n"
            "  - {client: check, expect: {type: SUBACK}, ignore_others: true}\n"
            "  - {client: check, send: {type: PUBLISH, qos: 1, packet_id: 2, topic: "
            "\"mqc/%s/alive\", payload: \"alive\"}}\n"
            "  - {client: check, expect: {type: PUBLISH, payload: \"alive\"}, ignore_others: "
            "true}\n",
            token, token);
  /* its PUBACK may come before or after the message */
  tprintf(&t,
          "  - {client: check, send: {type: PINGREQ}}\n"
          "  - {client: check, expect: {type: PINGRESP}%s",
          as_probe ? ", ignore_others: true" : "");
  if (two) /* the liveness check names its statement, and stmt if no check did */
    tprintf(&t, ", rules: {%s: [%s%s%s]}", vlabel, sr.named ? "" : stmt, sr.named ? "" : ", ",
            "MQTT-3.12.4-1");
  tprintf(&t, "}\n");
  eng_log_free(&log);
  free(how);
  if (t.oom) {
    free(t.p);
    return NULL;
  }
  return t.p;
}

int mqz__make_dirs(const char *dir, char *err, size_t err_cap) {
  char tmp[4096];
  if (!*dir || (size_t)snprintf(tmp, sizeof tmp, "%s", dir) >= sizeof tmp) {
    snprintf(err, err_cap, "cannot create \"%.200s\": an empty or too long path", dir);
    return -1;
  }
  /* Each parent in turn, as mkdir -p: the path's last component after them. */
  for (char *p = tmp + 1;; p++) {
    bool last = !*p;
    if (!last && *p != '/') continue;
    *p = '\0';
    struct stat st;
    if (mkdir(tmp, 0777) && (errno != EEXIST || stat(tmp, &st) || !S_ISDIR(st.st_mode))) {
      snprintf(err, err_cap, "cannot create %s: %s", tmp,
               errno == EEXIST ? "it exists and is not a directory" : strerror(errno));
      return -1;
    }
    if (last) return 0;
    *p = '/';
  }
}

int mqz_finding_write(const char *dir, const mqz_finding *f, char *path_out, size_t cap, char *err,
                      size_t err_cap) {
  if (mqz__make_dirs(dir, err, err_cap)) return -1;
  uint64_t h = mqz__hash64(f->signature, strlen(f->signature));
  char fdir[4096];
  snprintf(fdir, sizeof fdir, "%s/%s-%012llx", dir, mqz_kind_name(f->kind),
           (unsigned long long)(h & 0xFFFFFFFFFFFFull));
  if (mkdir(fdir, 0777) && errno != EEXIST) {
    snprintf(err, err_cap, "cannot create %s: %s", fdir, strerror(errno));
    return -1;
  }
  snprintf(path_out, cap, "%s", fdir);
  char path[4200];
  char *yaml = mqz_scenario_yaml(f);
  if (!yaml) {
    snprintf(err, err_cap, "out of memory writing the scenario");
    return -1;
  }
  snprintf(path, sizeof path, "%s/scenario.yaml", fdir);
  int rc = mqz__write_file(path, yaml, strlen(yaml), err, err_cap);
  free(yaml);
  if (rc) return -1;
  snprintf(path, sizeof path, "%s/session.bin", fdir);
  if (mqz__write_file(path, f->session, f->session_n, err, err_cap)) return -1;
  /* the raw bytes each client sent (the session token fixed as in the
   * scenario) */
  char token[MQZ_TOKEN_LEN + 1];
  finding_token(f, token);
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++) {
    mqz_buf b = {0};
    mqz_iter it;
    mqz_rec r;
    mqz_iter_init(&it, f->session, f->session_n);
    while (mqz_iter_next(&it, &r))
      if (r.client == k && r.pkt_len) mqz_buf_append(&b, r.pkt, r.pkt_len);
    if (b.n) {
      mqz_token_apply(b.p, b.n, token);
      snprintf(path, sizeof path, "%s/client-%u.bin", fdir, k);
      rc = b.oom ? -1 : mqz__write_file(path, b.p, b.n, err, err_cap);
    }
    mqz_buf_free(&b);
    if (rc) return -1;
  }
  if (f->broker_log && f->broker_log_n) {
    snprintf(path, sizeof path, "%s/broker.log", fdir);
    if (mqz__write_file(path, f->broker_log, f->broker_log_n, err, err_cap)) return -1;
  }
  char line[1000], sizes[120] = "";
  if (f->found_n)
    snprintf(sizes, sizeof sizes,
             "; minimised from %zu bytes to %zu after clients and records, %zu after bytes",
             f->found_n, f->records_n, f->session_n);
  int ln = snprintf(line, sizeof line, "%s%s%s: %s (seed %llu, session %llu%s)\n",
                    mqz_kind_name(f->kind), f->statement[0] ? " " : "", f->statement, f->message,
                    (unsigned long long)f->seed, (unsigned long long)f->number, sizes);
  snprintf(path, sizeof path, "%s/README", fdir);
  if (f->replay_args) {
    /* the scenario replays only what a client sees: the broker stays up */
    size_t bcap = sizeof line + 2 * sizeof fdir + strlen(f->replay_args) + 400;
    char *both = malloc(bcap);
    if (!both) {
      snprintf(err, err_cap, "out of memory writing the README");
      return -1;
    }
    int bn =
        snprintf(both, bcap,
                 "%sIts scenario.yaml only checks that the broker stays up: it cannot show "
                 "%s. This replays the session and judges it (exit 1 when the broker still "
                 "has the bug; run it with the same environment, ASAN_OPTIONS included):\n"
                 "  mqcheck fuzz --replay %s/session.bin %s\n",
                 line, f->kind == MQZ_LEAK ? "memory the broker holds or leaks" : "this finding",
                 fdir, f->replay_args);
    rc = mqz__write_file(path, both, bn > 0 && (size_t)bn < bcap ? (size_t)bn : 0, err, err_cap);
    free(both);
    if (rc) return -1;
  } else if (mqz__write_file(path, line, (size_t)ln < sizeof line ? (size_t)ln : sizeof line - 1,
                             err, err_cap)) {
    return -1;
  }
  /* the run's index: one line per finding */
  snprintf(path, sizeof path, "%s/README", dir);
  FILE *idx = fopen(path, "a");
  if (!idx || fprintf(idx, "%s  %s", fdir + strlen(dir) + 1, line) < 0 || fclose(idx)) {
    snprintf(err, err_cap, "cannot append to %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}
