/* run.c - one client-check case: the engine behind a loopback listener, a
 * behaviour's script between the two, the client program started with
 * /bin/sh, and the verdicts per statement. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

int64_t mqk__ms(const mqk__case *k, unsigned ms) {
  return (int64_t)(ms * k->scale);
}

void mqk__logf(mqk__case *k, const char *fmt, ...) {
  char line[600];
  int64_t t = mqn_now_ms() - k->start;
  int h = snprintf(line, sizeof line, "%6lld ms  ", (long long)t);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + h, sizeof line - (size_t)h, fmt, ap);
  va_end(ap);
  size_t n = strlen(line);
  if (k->log_n + n + 2 > k->log_cap) {
    if (k->log_cap >= (1u << 20)) return; /* transcript is bounded */
    size_t cap = k->log_cap ? k->log_cap * 2 : 8192;
    char *p = realloc(k->log, cap);
    if (!p) return;
    k->log = p;
    k->log_cap = cap;
  }
  memcpy(k->log + k->log_n, line, n);
  k->log_n += n;
  k->log[k->log_n++] = '\n';
  k->log[k->log_n] = 0;
}

void mqk__why(mqk__case *k, const char *fmt, ...) {
  if (k->why[0]) return; /* the first reason is the real one */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->why, sizeof k->why, fmt, ap);
  va_end(ap);
}

void mqk__judge(mqk__case *k, const char *id, bool ok, const char *fmt, ...) {
  mqk__stmt *s = NULL;
  for (size_t i = 0; i < k->nst; i++)
    if (!strcmp(k->st[i].id, id)) s = &k->st[i];
  if (!s) {
    if (k->nst == MQK__STMTS) return;
    s = &k->st[k->nst++];
    s->id = id;
  }
  char note[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(note, sizeof note, fmt, ap);
  va_end(ap);
  mqk__logf(k, "%s %s: %s", ok ? "HELD " : "BROKE", id, note);
  if (s->mark == MQK__FAIL) return;
  if (!ok || s->mark == MQK__NONE) snprintf(s->note, sizeof s->note, "%s", note);
  s->mark = ok ? MQK__PASS : MQK__FAIL;
}

static void log_packet(mqk__case *k, const mqk__conn *c, bool from_client, const uint8_t *raw,
                       size_t n, const mqc_packet *p, const char *what) {
  char line[400];
  if (p)
    mqc_print_line(p, c->ver ? c->ver : MQC_V311, line, sizeof line);
  else
    snprintf(line, sizeof line, "(%zu bytes, undecodable, first 0x%02x)", n, n ? raw[0] : 0);
  mqk__logf(k, "conn%u %s %s%s", c->index, from_client ? "client ->" : "<- server", line,
            what ? what : "");
}

void mqk__send_raw(mqk__case *k, mqk__conn *c, const uint8_t *p, size_t n) {
  if (c->gone) return;
  size_t w = 0;
  mqn_status st = mqn_conn_write(c->nc, p, n, &w);
  if (st != MQN_OK && st != MQN_AGAIN) {
    mqk__logf(k, "conn%u write failed: %s", c->index, mqn_strerror(st));
    return;
  }
  /* net/ buffers 256 KiB per connection, far more than any behaviour sends;
   * a short write would cut a packet, so it is said, not hidden */
  if (w < n) mqk__logf(k, "conn%u: %zu of %zu bytes not written (buffer full)", c->index, n - w, n);
  mqn_conn_flush(c->nc);
  mqn_loop_update(k->loop, c->nc);
}

static void conn_gone(mqk__case *k, mqk__conn *c, bool by_client) {
  if (c->gone) return;
  c->gone = true;
  c->client_closed = by_client;
  c->gone_at = mqn_now_ms();
  mqk__logf(k, "conn%u closed by the %s", c->index, by_client ? "client" : "server");
  if (c->ec) mqe_conn_close(k->e, c->ec, true, (uint64_t)mqn_now_ms());
  c->ec = NULL;
  mqn_loop_close(k->loop, c->nc);
  c->nc = NULL;
}

void mqk__drop(mqk__case *k, mqk__conn *c) {
  conn_gone(k, c, false);
}

/* ---- the harness's own publisher (SUB behaviours) ------------------------ */

static void harness_feed(mqk__case *k, const mqc_packet *p) {
  uint8_t buf[2048];
  size_t n = 0;
  if (mqc_encode(p, MQC_V5, buf, sizeof buf, &n) != MQC_OK) return;
  mqe_conn_recv(k->e, k->harness, buf, n, (uint64_t)mqn_now_ms());
}

static void harness_publish(mqk__case *k) {
  const mqk_behaviour *b = &k->b->pub;
  if (!k->harness) {
    if (mqe_conn_open(k->e, NULL, (uint64_t)mqn_now_ms(), &k->harness) != MQE_OK) return;
    mqc_packet p;
    mqc_packet_init(&p, MQC_CONNECT, MQC_V5);
    p.connect.protocol_name = mqc_cstr("MQTT");
    p.connect.level = 5;
    p.connect.clean_start = true;
    p.connect.client_id = mqc_cstr("mqk-harness");
    harness_feed(k, &p);
  }
  char topic[64], payload[1024];
  snprintf(topic, sizeof topic, "mqk/%s", b->name);
  size_t plen = b->payload_len ? b->payload_len : 7;
  if (plen > sizeof payload) plen = sizeof payload;
  memset(payload, 'x', plen);
  if (!b->payload_len) memcpy(payload, "mqcheck", 7);
  for (unsigned i = 0; i < b->count; i++) {
    mqc_packet p;
    mqc_packet_init(&p, MQC_PUBLISH, MQC_V5);
    p.publish.qos = 1; /* at most what any behaviour's Maximum QoS allows */
    p.publish.packet_id = ++k->harness_pid;
    p.publish.topic = mqc_cstr(topic);
    p.publish.payload = (mqc_bytes){(const uint8_t *)payload, plen};
    harness_feed(k, &p);
  }
  mqk__logf(k, "harness published %u message(s) to %s", b->count, topic);
}

/* The harness's engine connection: PUBREC is answered with PUBREL, the rest
 * is read and dropped. */
static void harness_output(mqk__case *k) {
  const uint8_t *p;
  size_t n;
  mqe_conn_pending(k->harness, &p, &n);
  uint8_t rel[64][4];
  size_t nrel = 0;
  for (size_t off = 0; off + 2 <= n;) {
    mqc_frame fr;
    mqc_error err;
    if (mqc_frame_packet(p + off, n - off, MQC_V5, 0, &fr, &err) != MQC_OK) break;
    if ((p[off] >> 4) == MQC_PUBREC && fr.total_len >= 4 && nrel < 64) {
      uint8_t r[4] = {0x62, 0x02, p[off + 2], p[off + 3]};
      memcpy(rel[nrel++], r, 4);
    }
    off += fr.total_len;
  }
  mqe_conn_consumed(k->e, k->harness, n, (uint64_t)mqn_now_ms());
  for (size_t i = 0; i < nrel; i++) /* after consuming: recv may move the output */
    mqe_conn_recv(k->e, k->harness, rel[i], 4, (uint64_t)mqn_now_ms());
}

/* ---- moving bytes ----------------------------------------------------------- */

static void server_output(mqk__case *k, mqk__conn *c) {
  if (!c->ec || c->gone) return;
  const uint8_t *p;
  size_t n;
  mqe_conn_pending(c->ec, &p, &n);
  size_t off = 0;
  while (off < n) {
    mqc_frame fr;
    mqc_error err;
    if (mqc_frame_packet(p + off, n - off, c->ver ? c->ver : MQC_V311, 0, &fr, &err) != MQC_OK)
      break;
    uint8_t raw[4096];
    uint8_t *bytes = fr.total_len <= sizeof raw ? raw : NULL;
    if (bytes) memcpy(bytes, p + off, fr.total_len);
    mqc_packet pkt;
    bool ok = bytes && mqc_decode(bytes, fr.total_len, c->ver ? c->ver : MQC_V311, MQC_FROM_SERVER,
                                  0, &pkt, &err) == MQC_OK;
    mqk__action a = MQK__FORWARD;
    if (ok) {
      if (pkt.type == MQC_CONNACK) {
        c->connack_at = mqn_now_ms();
        c->connack_reason = pkt.connack.reason;
        c->session_present = pkt.connack.session_present;
      }
      if (k->b->server_pkt) a = k->b->server_pkt(k, c, &pkt, bytes, fr.total_len);
      if (a != MQK__SWALLOW) { /* what the client sees, after any rewrite */
        mqc_decode(bytes, fr.total_len, c->ver, MQC_FROM_SERVER, 0, &pkt, &err);
        if (pkt.type == MQC_CONNACK) c->session_present = pkt.connack.session_present;
        if (pkt.type == MQC_SUBACK && !k->subscribed) {
          k->subscribed = true;
          k->pub_at = mqn_now_ms() + mqk__ms(k, k->b->publish_delay_ms);
        }
        if (pkt.type == MQC_PUBLISH) k->delivered++;
        /* after a refusal or a DISCONNECT the client must go quiet */
        if ((pkt.type == MQC_CONNACK && pkt.connack.reason >= 0x80) ||
            (pkt.type == MQC_DISCONNECT && pkt.disconnect.reason >= 0x80)) {
          c->silenced_at = mqn_now_ms();
          if (pkt.type == MQC_DISCONNECT) c->connack_reason = pkt.disconnect.reason;
        }
      }
    }
    const char *what = a == MQK__SWALLOW ? "   [withheld]" : a == MQK__HOLD_IT ? "   [held]" : NULL;
    log_packet(k, c, false, bytes ? bytes : p + off, fr.total_len, ok ? &pkt : NULL, what);
    if (c->gone) return; /* p belonged to the engine connection */
    bool holdable = c->nhold < MQK__HOLD && fr.total_len <= sizeof c->hold[0].b;
    if (a == MQK__FORWARD || (a == MQK__HOLD_IT && !holdable)) { /* cannot hold: send now */
      mqk__send_raw(k, c, bytes ? bytes : p + off, fr.total_len);
    } else if (a == MQK__HOLD_IT) {
      mqk__held *h = &c->hold[c->nhold++];
      h->at = mqn_now_ms() + mqk__ms(k, k->b->hold_ms ? k->b->hold_ms : 200);
      h->n = fr.total_len;
      memcpy(h->b, bytes, fr.total_len);
    }
    off += fr.total_len;
  }
  if (off < n) { /* not framable: pass it on untouched */
    mqk__send_raw(k, c, p + off, n - off);
    off = n;
  }
  if (c->gone) return;
  mqe_conn_consumed(k->e, c->ec, off, (uint64_t)mqn_now_ms());
  if (mqe_conn_should_close(c->ec) && !c->close_at)
    c->close_at = mqn_now_ms() + mqk__ms(k, k->b->close_delay_ms) + 1;
}

static void pump(mqk__case *k) {
  mqe_conn *ec;
  for (int i = 0; i < 1000 && (ec = mqe_next_output(k->e)); i++) {
    mqk__conn *c = mqe_conn_user(ec);
    if (!c)
      harness_output(k);
    else
      server_output(k, c);
  }
}

static mqc_version connect_version(const uint8_t *p, size_t n, const mqc_frame *fr) {
  size_t h = fr->header_len;
  if (n < h + 2) return MQC_V311;
  size_t len = (size_t)p[h] << 8 | p[h + 1];
  if (n < h + 2 + len + 1) return MQC_V311;
  uint8_t level = p[h + 2 + len];
  return level == 5 ? MQC_V5 : level == 3 ? MQC_V31 : MQC_V311;
}

static void client_packet(mqk__case *k, mqk__conn *c, const uint8_t *raw, size_t n,
                          const mqc_frame *fr) {
  if (!c->ver && (raw[0] >> 4) == MQC_CONNECT) c->ver = connect_version(raw, n, fr);
  mqc_packet pkt;
  mqc_error err;
  bool ok =
      mqc_decode(raw, n, c->ver ? c->ver : MQC_V311, MQC_FROM_CLIENT, 0, &pkt, &err) == MQC_OK;
  log_packet(k, c, true, raw, n, ok ? &pkt : NULL, NULL);
  if (!ok) {
    if (err.statement)
      mqk__judge(k, err.statement, false, "undecodable packet from the client: %s", err.message);
    mqk__logf(k, "conn%u client packet rejected by the codec: %s", c->index, err.message);
  }
  if (c->silenced_at && mqn_now_ms() > c->silenced_at + mqk__ms(k, MQK__GRACE_MS) && k->v5)
    mqk__judge(k, "MQTT-4.13.2-1", false,
               "the client sent %s on a connection the server had closed with reason 0x%02x",
               ok ? mqc_type_name(pkt.type) : "bytes", c->connack_reason);
  mqk__action a = MQK__FORWARD;
  if (ok) {
    if (pkt.type == MQC_CONNECT) {
      c->clean_start = pkt.connect.clean_start;
      mqc_prop pr;
      if (mqc_props_get(&pkt.connect.props, MQC_PROP_TOPIC_ALIAS_MAXIMUM, &pr))
        c->topic_alias_max = (uint16_t)pr.u;
      c->has_auth_method = mqc_props_has(&pkt.connect.props, MQC_PROP_AUTHENTICATION_METHOD);
      k->client_keep_alive = pkt.connect.keep_alive;
    }
    if ((pkt.type == MQC_PUBACK || pkt.type == MQC_PUBREC) && k->delivered) k->acked++;
    if (k->b->client_pkt) a = k->b->client_pkt(k, c, &pkt);
  }
  if (a == MQK__FORWARD && c->ec && !c->gone)
    mqe_conn_recv(k->e, c->ec, raw, n, (uint64_t)mqn_now_ms());
}

static void client_bytes(mqk__case *k, mqk__conn *c, const uint8_t *p, size_t n) {
  c->last_rx = mqn_now_ms();
  if (c->in_n + n > MQK__IN_CAP) { /* larger than any case needs: hand it over */
    mqk__logf(k, "conn%u: more than %u bytes in one packet; passed on unjudged", c->index,
              MQK__IN_CAP);
    if (c->ec) mqe_conn_recv(k->e, c->ec, c->in, c->in_n, (uint64_t)mqn_now_ms());
    if (c->ec) mqe_conn_recv(k->e, c->ec, p, n, (uint64_t)mqn_now_ms());
    c->in_n = 0;
    return;
  }
  memcpy(c->in + c->in_n, p, n);
  c->in_n += n;
  size_t off = 0;
  while (off < c->in_n && !c->gone) {
    mqc_frame fr;
    mqc_error err;
    mqc_status st =
        mqc_frame_packet(c->in + off, c->in_n - off, c->ver ? c->ver : MQC_V311, 0, &fr, &err);
    if (st == MQC_INCOMPLETE) break;
    if (st != MQC_OK) { /* unframable: the engine judges and closes */
      if (err.statement) mqk__judge(k, err.statement, false, "%s", err.message);
      if (c->ec) mqe_conn_recv(k->e, c->ec, c->in + off, c->in_n - off, (uint64_t)mqn_now_ms());
      off = c->in_n;
      break;
    }
    client_packet(k, c, c->in + off, fr.total_len, &fr);
    off += fr.total_len;
  }
  if (c->gone) return;
  memmove(c->in, c->in + off, c->in_n - off);
  c->in_n -= off;
}

static void on_event(void *ctx, const mqe_event *ev) {
  mqk__case *k = ctx;
  if (!ev->conn_user && ev->conn) return; /* the harness's own connection */
  if (ev->type == MQE_EV_VIOLATION) {
    /* statement strings of the engine are string literals (static) */
    if (ev->statement)
      mqk__judge(k, ev->statement, false, "engine: %s", ev->message);
    else
      mqk__logf(k, "engine: violation without a statement: %s", ev->message);
  } else if (ev->type == MQE_EV_CLOSED && ev->reason == 0x8D) {
    k->keep_alive_closed = true;
    mqk__logf(k, "engine: keep-alive timeout: %s", ev->message);
  } else if (ev->type == MQE_EV_REFUSED || ev->type == MQE_EV_CLOSED) {
    mqk__logf(k, "engine: %s (0x%02x)", ev->message, ev->reason);
  }
}

/* ---- the client program ------------------------------------------------ */

static pid_t spawn(const char *cmd, int out_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) _exit(126);
    signal(SIGPIPE, SIG_DFL);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  if (pid > 0) setpgid(pid, pid);
  return pid;
}

static char *read_all(int fd, size_t cap) {
  char *s = calloc(1, cap + 1);
  if (!s) return NULL;
  size_t n = 0;
  lseek(fd, 0, SEEK_SET);
  while (n < cap) {
    ssize_t r = read(fd, s + n, cap - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  return s;
}

/* ---- the case ------------------------------------------------------------ */

static mqk__conn *find_conn(mqk__case *k, mqn_conn *nc) {
  for (size_t i = 0; i < k->nconns; i++)
    if (k->conns[i]->nc == nc) return k->conns[i];
  return NULL;
}

static bool all_gone(const mqk__case *k) {
  for (size_t i = 0; i < k->nconns; i++)
    if (!k->conns[i]->gone) return false;
  return true;
}

static void tick(mqk__case *k, int64_t now) {
  for (size_t i = 0; i < k->nconns; i++) {
    mqk__conn *c = k->conns[i];
    if (c->gone) continue;
    size_t kept = 0;
    for (size_t j = 0; j < c->nhold; j++) {
      if (c->hold[j].at <= now) {
        mqk__send_raw(k, c, c->hold[j].b, c->hold[j].n);
        k->released++;
      } else
        c->hold[kept++] = c->hold[j];
    }
    c->nhold = kept;
    if (c->close_at && now >= c->close_at) conn_gone(k, c, false);
  }
  if (k->pub_at && now >= k->pub_at && !k->published) {
    k->published = true;
    harness_publish(k);
  }
  if (k->b->tick) k->b->tick(k, now);
}

static void conn_open(mqk__case *k, mqn_conn *nc) {
  if (k->nconns == MQK__CONNS) {
    mqk__logf(k, "more than %d connections: refused", MQK__CONNS);
    mqn_loop_close(k->loop, nc);
    return;
  }
  mqk__conn *c = calloc(1, sizeof *c);
  uint8_t *in = malloc(MQK__IN_CAP);
  if (!c || !in || mqe_conn_open(k->e, c, (uint64_t)mqn_now_ms(), &c->ec) != MQE_OK) {
    free(c);
    free(in);
    mqn_loop_close(k->loop, nc);
    return;
  }
  c->in = in;
  c->index = (unsigned)k->nconns;
  c->nc = nc;
  c->opened = c->last_rx = mqn_now_ms();
  k->conns[k->nconns++] = c;
  mqn_loop_set_udata(k->loop, nc, c);
  mqk__logf(k, "conn%u opened", c->index);
}

static void fill_result(mqk__case *k, const char *cmd, int status, bool killed, const char *output,
                        mqs_result *out) {
  const mqk_behaviour *b = &k->b->pub;
  unsigned vi = k->v5 ? 1 : 0;
  bool any_pass = false, any_fail = false;
  out->n_stmts = 0;
  for (size_t i = 0; i < 4 && b->rules[vi][i]; i++) { /* cited first */
    mqs_stmt_result *r = &out->stmts[out->n_stmts++];
    r->id = b->rules[vi][i];
    r->verdict = MQS_ST_NOT_CHECKED;
    for (size_t j = 0; j < k->nst; j++)
      if (!strcmp(k->st[j].id, r->id))
        r->verdict = k->st[j].mark == MQK__FAIL ? MQS_ST_FAIL : MQS_ST_PASS;
  }
  for (size_t j = 0; j < k->nst && out->n_stmts < MQS_STMTS_MAX; j++) {
    bool cited = false;
    for (size_t i = 0; i < 4 && b->rules[vi][i]; i++)
      if (!strcmp(b->rules[vi][i], k->st[j].id)) cited = true;
    if (cited) continue;
    mqs_stmt_result *r = &out->stmts[out->n_stmts++];
    r->id = k->st[j].id;
    r->verdict = k->st[j].mark == MQK__FAIL ? MQS_ST_FAIL : MQS_ST_PASS;
  }
  const mqk__stmt *first_fail = NULL;
  for (size_t j = 0; j < k->nst; j++) {
    if (k->st[j].mark == MQK__FAIL && !first_fail) first_fail = &k->st[j];
    if (k->st[j].mark == MQK__FAIL) any_fail = true;
  }
  for (size_t i = 0; i < out->n_stmts; i++)
    if (out->stmts[i].verdict == MQS_ST_PASS && i < 4 && b->rules[vi][i]) any_pass = true;
  char msg[400];
  if (!k->nconns) {
    out->verdict = MQS_ERROR;
    /* its first line of output usually says why (command not found, refused) */
    int ln = (int)strcspn(output, "\n");
    snprintf(msg, sizeof msg, "the client never connected (%s %d%s%.*s)",
             killed ? "killed after ms" : "exit", killed ? (int)(b->ms * k->scale) : status,
             ln ? "; it said: " : "", ln > 200 ? 200 : ln, output);
  } else if (any_fail) {
    out->verdict = MQS_FAIL;
    snprintf(msg, sizeof msg, "%s: %s", first_fail->id, first_fail->note);
  } else if (any_pass) {
    out->verdict = MQS_PASS;
    msg[0] = 0;
  } else {
    out->verdict = MQS_SKIP;
    snprintf(msg, sizeof msg, "nothing to judge: %s", k->why[0] ? k->why : "no check applied");
    for (size_t i = 0; i < out->n_stmts; i++)
      if (out->stmts[i].verdict == MQS_ST_NOT_CHECKED) out->stmts[i].verdict = MQS_ST_SKIP;
  }
  out->message = msg[0] ? strdup(msg) : NULL;
  size_t cap = 4096 + k->log_n + strlen(output) + 64 * MQK__STMTS * 3;
  char *d = malloc(cap);
  if (d) {
    size_t n = (size_t)snprintf(d, cap, "client: %s\nclient %s %d\n", cmd,
                                killed ? "killed (still running at the end of the case); status"
                                       : "exited with status",
                                status);
    for (size_t j = 0; j < k->nst && n < cap; j++)
      n += (size_t)snprintf(d + n, cap - n, "%s %s: %s\n",
                            k->st[j].mark == MQK__FAIL ? "FAIL" : "pass", k->st[j].id,
                            k->st[j].note);
    if (k->why[0] && n < cap) n += (size_t)snprintf(d + n, cap - n, "note: %s\n", k->why);
    if (n < cap)
      n += (size_t)snprintf(d + n, cap - n, "client output:\n%s%s", output,
                            output[0] && output[strlen(output) - 1] != '\n' ? "\n" : "");
    if (n < cap) snprintf(d + n, cap - n, "transcript:\n%s", k->log ? k->log : "");
  }
  out->detail = d;
}

int mqk_run_case(const mqk_behaviour *pb, unsigned vbit, const mqk_opts *opts, mqs_result *out) {
  memset(out, 0, sizeof *out);
  const mqk__behaviour *b = (const mqk__behaviour *)pb; /* pb is the first member */
  mqk__case *k = calloc(1, sizeof *k);
  if (!k) return -1;
  k->b = b;
  k->vbit = vbit;
  k->v5 = vbit == MQS_V5;
  k->scale = opts->time_scale > 0 ? opts->time_scale : 1;
  k->start = mqn_now_ms();
  const char *tmpl = pb->role == MQK_PUB ? opts->pub_cmd : opts->sub_cmd;
  if (!tmpl) {
    out->verdict = MQS_SKIP;
    out->message = strdup(pb->role == MQK_PUB ? "no command for the pub role (--pub or --exec)"
                                              : "no command for the sub role (--sub or --exec)");
    free(k);
    return 0;
  }
  mqe_config cfg;
  mqe_config_default(&cfg);
  if (b->config) b->config(k, &cfg);
  cfg.on_event = on_event;
  cfg.event_ctx = k;
  char cmd[4096] = "";
  int rc = 0, out_fd = -1, status = -1;
  bool killed = false;
  pid_t pid = -1;
  char *output = NULL;
  mqn_url url;
  mqn_listener *lis = NULL;
  if (mqe_engine_new(&cfg, &k->e) != MQE_OK || mqn_loop_new(16, &k->loop) != MQN_OK ||
      mqn_url_parse("tcp://127.0.0.1:0", &url) != MQN_OK ||
      mqn_listener_open(&url, NULL, NULL, &lis) != MQN_OK) {
    out->verdict = MQS_ERROR;
    out->message = strdup("cannot start the engine or a loopback listener");
    mqn_listener_free(lis);
    goto done;
  }
  uint16_t port = mqn_listener_port(lis);
  mqn_loop_add_listener(k->loop, lis, NULL);
  if (mqk_expand(tmpl, pb, vbit, port, cmd, sizeof cmd) != 0) {
    out->verdict = MQS_ERROR;
    out->message = strdup(cmd);
    goto done;
  }
  char tmp[] = "/tmp/mqk-client-XXXXXX";
  out_fd = mkstemp(tmp);
  if (out_fd >= 0) unlink(tmp);
  pid = out_fd >= 0 ? spawn(cmd, out_fd) : -1;
  if (pid < 0) {
    out->verdict = MQS_ERROR;
    out->message = strdup("cannot start the client program");
    goto done;
  }
  mqk__logf(k, "started: %s", cmd);
  int64_t deadline = k->start + mqk__ms(k, pb->ms);
  int64_t exited_at = 0, idle_since = 0;
  mqn_event evs[16];
  uint8_t buf[16384];
  bool extended = false;
  while (mqn_now_ms() < deadline) {
    /* a slow start (a loaded machine, an interpreter) must not eat the time
     * a behaviour leaves between the SUBACK and its delivery */
    if (!extended && k->pub_at && b->publish_delay_ms < pb->ms) {
      extended = true;
      int64_t need = k->pub_at + mqk__ms(k, 3000);
      if (need > deadline) deadline = need;
    }
    size_t n = 0;
    if (mqn_loop_wait(k->loop, 10, evs, 16, &n) != MQN_OK) break;
    for (size_t i = 0; i < n; i++) {
      mqn_event *ev = &evs[i];
      mqk__conn *c = find_conn(k, ev->conn);
      if (ev->kind == MQN_EV_OPEN && ev->listener) {
        conn_open(k, ev->conn);
      } else if (!c) {
        if (ev->kind == MQN_EV_ERROR || ev->kind == MQN_EV_TIMEOUT)
          mqn_loop_close(k->loop, ev->conn);
      } else if (ev->kind == MQN_EV_READABLE) {
        for (int r = 0; r < 8 && !c->gone; r++) {
          size_t got = 0;
          mqn_status st = mqn_conn_read(c->nc, buf, sizeof buf, &got);
          if (st == MQN_AGAIN) break;
          if (st != MQN_OK) {
            conn_gone(k, c, true);
            break;
          }
          client_bytes(k, c, buf, got);
        }
      } else if (ev->kind == MQN_EV_ERROR || ev->kind == MQN_EV_TIMEOUT) {
        conn_gone(k, c, true);
      }
    }
    int64_t now = mqn_now_ms();
    mqe_tick(k->e, (uint64_t)now);
    pump(k);
    tick(k, now);
    pump(k);
    if (!exited_at && waitpid(pid, &status, WNOHANG) == pid) {
      exited_at = now;
      mqk__logf(k, "client exited with status %d",
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    /* done: the program ended and its connections are closed (a little
     * grace for its last bytes) */
    if (exited_at && all_gone(k) && now > exited_at + 100) break;
    if (exited_at && now > exited_at + 1000) break;
    /* a program still running 2 s after its last connection closed is not
     * coming back (reconnecting clients here take 1 s at most) */
    if (!exited_at && k->nconns && all_gone(k)) {
      if (!idle_since) idle_since = now;
      if (now - idle_since > mqk__ms(k, 2000)) break;
    } else {
      idle_since = 0;
    }
  }
  if (!exited_at) {
    killed = true;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    mqk__logf(k, "client still running %s: killed",
              mqn_now_ms() < deadline ? "2 s after its last connection closed" : "at the deadline");
  }
  for (size_t i = 0; i < k->nconns; i++)
    if (!k->conns[i]->gone) conn_gone(k, k->conns[i], false);
  if (b->finish) b->finish(k);
  output = read_all(out_fd, 8192);
  status = killed ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fill_result(k, cmd, status, killed, output ? output : "", out);
done:
  out->wall_ms = (double)(mqn_now_ms() - k->start);
  if (opts->log)
    fprintf(opts->log, "%-28s %-5s %s%s%s\n", pb->name, vbit == MQS_V5 ? "5.0" : "3.1.1",
            mqs_verdict_name(out->verdict), out->message ? "  " : "",
            out->message ? out->message : "");
  if (out_fd >= 0) close(out_fd);
  free(output);
  for (size_t i = 0; i < k->nconns; i++) {
    free(k->conns[i]->in);
    free(k->conns[i]);
  }
  if (k->harness) mqe_conn_close(k->e, k->harness, true, (uint64_t)mqn_now_ms());
  mqn_loop_free(k->loop);
  mqe_engine_free(k->e);
  free(k->log);
  free(k);
  return rc;
}
