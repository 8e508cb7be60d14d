/* engine_replay.c - plays a session on the reference engine, in process, on
 * a virtual clock, and reports what each client received. Findings use it to
 * write what a correct broker answers into their scenarios, and to check that
 * the scenario they write passes on the engine. */
#include <stdlib.h>
#include <string.h>

#include "engine_replay.h"
#include "internal.h"
#include "mqe.h"

typedef struct {
  mqe_conn *conn;
  mqz_buf rx;
} eclient;

typedef struct {
  mqe_engine *e;
  uint64_t now;
  eclient c[MQZ_MAX_CLIENTS];
  mqz__model model;
  mqz_outcome out;
  mqz_engine_rx_fn fn;
  void *ctx;
  size_t rec; /* index of the record being played */
} replay;

/* Reads what the engine sent client k; returns how many packets came. */
static size_t drain(replay *r, unsigned k) {
  eclient *c = &r->c[k];
  size_t got = 0;
  if (!c->conn) return 0;
  const uint8_t *p;
  size_t n;
  for (int guard = 0; guard < 1024; guard++) {
    mqe_conn_pending(c->conn, &p, &n);
    if (!n) break;
    mqz_buf_append(&c->rx, p, n);
    mqe_conn_consumed(r->e, c->conn, n, r->now);
  }
  size_t off = 0;
  mqc_frame f;
  mqc_error err;
  while (off < c->rx.n && mqc_frame_packet(c->rx.p + off, c->rx.n - off, MQC_V311, MQC_NO_LIMIT, &f,
                                           &err) == MQC_OK) {
    uint8_t ack[4];
    size_t ack_n;
    (void)mqz__model_received(&r->model, k, c->rx.p + off, f.total_len, ack, &ack_n);
    if (r->fn) r->fn(r->ctx, r->rec, k, c->rx.p + off, f.total_len);
    off += f.total_len;
    got++;
    if (ack_n && c->conn) (void)mqe_conn_recv(r->e, c->conn, ack, ack_n, r->now);
  }
  if (off) memmove(c->rx.p, c->rx.p + off, c->rx.n - off);
  c->rx.n -= off;
  if (mqe_conn_should_close(c->conn)) {
    mqe_conn_close(r->e, c->conn, false, r->now);
    c->conn = NULL;
    if (r->fn) r->fn(r->ctx, r->rec, k, NULL, 0);
  }
  return got;
}

/* Reads everything until the engine is quiet: answers (auto-ack) free
 * windows and release more. */
static void drain_all(replay *r) {
  for (int round = 0; round < 256; round++) {
    size_t got = 0;
    for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
      got += drain(r, k);
    if (!got) return;
  }
}

int mqz_engine_replay(const uint8_t *s, size_t n, const char *token, mqz_engine_rx_fn fn, void *ctx,
                      uint8_t *how, size_t how_cap) {
  replay *r = calloc(1, sizeof *r);
  if (!r) return -1;
  mqe_config cfg;
  mqe_config_default(&cfg);
  if (mqe_engine_new(&cfg, &r->e) != MQE_OK) {
    free(r);
    return -1;
  }
  r->fn = fn;
  r->ctx = ctx;
  r->now = 1000;
  mqz__model_init(&r->model, mqz_session_version(s, n), token, true,
                  (mqz_session_flags(s, n) & MQZ_F_AUTO_ACK) != 0, &r->out);
  uint8_t *buf = malloc(MQZ_SESSION_MAX);
  mqz_iter it;
  mqz_rec rec;
  mqz_iter_init(&it, s, n);
  for (r->rec = 0; buf && mqz_iter_next(&it, &rec); r->rec++) {
    eclient *c = &r->c[rec.client];
    switch (rec.op) {
    case MQZ_OP_OPEN:
      if (c->conn) mqe_conn_close(r->e, c->conn, true, r->now);
      c->conn = NULL;
      c->rx.n = 0;
      mqz__model_open(&r->model, rec.client);
      (void)mqe_conn_open(r->e, c, r->now, &c->conn);
      break;
    case MQZ_OP_SEND:
    case MQZ_OP_ACK:
    case MQZ_OP_RAW: {
      if (!c->conn || (rec.op == MQZ_OP_ACK && r->model.auto_ack)) break;
      memcpy(buf, rec.pkt, rec.pkt_len);
      mqz_token_apply(buf, rec.pkt_len, token);
      if (rec.op == MQZ_OP_ACK) mqz__model_answer(&r->model, rec.client, buf, rec.pkt_len);
      bool probe = false;
      if (rec.op == MQZ_OP_RAW) mqz__model_sent_raw(&r->model, rec.client); /* as the executor */
      if (rec.op != MQZ_OP_RAW &&
          mqz__model_sent(&r->model, rec.client, buf, rec.pkt_len, &probe) == MQZ__SUPPRESS) {
        if (how && r->rec < how_cap) how[r->rec] = MQZ_REPLAY_SUPPRESSED;
        break;
      }
      (void)mqe_conn_recv(r->e, c->conn, buf, rec.pkt_len, r->now);
      if (probe && c->conn) {
        static const uint8_t pingreq[2] = {0xC0, 0};
        (void)mqe_conn_recv(r->e, c->conn, pingreq, 2, r->now);
      }
      if (how && r->rec < how_cap) how[r->rec] = probe ? MQZ_REPLAY_PROBED : MQZ_REPLAY_SENT;
      break;
    }
    case MQZ_OP_REPEAT: { /* the unit, count times, as the executor streams it */
      if (!c->conn || !rec.pkt_len) break;
      memcpy(buf, rec.pkt, rec.pkt_len);
      mqz_token_apply(buf, rec.pkt_len, token);
      mqz__model_sent_raw(&r->model, rec.client);
      uint64_t total = (uint64_t)rec.arg * rec.pkt_len;
      if (total > MQZ_REPEAT_MAX) total = MQZ_REPEAT_MAX;
      for (uint64_t done = 0; done < total && c->conn; done += rec.pkt_len) {
        size_t k = total - done < rec.pkt_len ? (size_t)(total - done) : rec.pkt_len;
        if (mqe_conn_recv(r->e, c->conn, buf, k, r->now) != MQE_OK) break;
      }
      if (how && r->rec < how_cap) how[r->rec] = MQZ_REPLAY_SENT;
      break;
    }
    case MQZ_OP_CLOSE:
    case MQZ_OP_DROP:
    case MQZ_OP_HALFCLOSE:
      if (c->conn) {
        drain(r, rec.client);
        if (c->conn) mqe_conn_close(r->e, c->conn, rec.op == MQZ_OP_DROP, r->now);
        c->conn = NULL;
      }
      break;
    case MQZ_OP_WAIT:
      r->now += rec.arg;
      mqe_tick(r->e, r->now);
      break;
    default:
      break;
    }
    /* the executor sends a stretch of records without waiting for answers:
     * the engine's answers are read where the session waits */
    if (rec.op == MQZ_OP_SYNC || rec.op == MQZ_OP_WAIT) drain_all(r);
  }
  drain_all(r); /* r->rec is now the record count */
  for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++) {
    if (r->c[k].conn) mqe_conn_close(r->e, r->c[k].conn, false, r->now);
    mqz_buf_free(&r->c[k].rx);
  }
  mqe_engine_free(r->e);
  free(buf);
  free(r);
  return 0;
}
