/*
 * liveness.c - the hang oracle's probe client (see liveness.h): a state
 * machine on a loop of its own, so the fuzzing run steps it between sessions
 * without ever waiting for it; the blocking mqz_liveness steps it until it
 * ends. Packets built and judged by the codec.
 */
#include "liveness.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RX_CAP  (64u * 1024)
#define TX_CAP  4096
#define SUB_ID  1
#define PUB_ID  2
#define PAYLOAD 24

typedef enum {
  ST_DIAL,    /* transport handshake */
  ST_CONNACK, /* CONNECT sent */
  ST_SUBACK,  /* SUBSCRIBE sent */
  ST_ECHO,    /* PUBLISH sent: its PUBACK and the message itself are due */
  ST_ALIVE,
  ST_FAILED,
} step;

struct mqz_probe {
  mqn_loop *loop; /* owns conn */
  mqn_conn *conn;
  mqc_version v;
  uint8_t qos; /* of the subscription and the message: 0 when the server allows no more */
  step st;
  bool acked, echoed;
  int64_t deadline;
  uint32_t budget_ms;
  char *client_id, *username, *password, *topic; /* owned copies */
  char payload[PAYLOAD + 1];
  uint8_t *rx; /* RX_CAP bytes */
  size_t rx_n;
  char why[300];
};

__attribute__((format(printf, 2, 3))) static void failf(mqz_probe *p, const char *fmt, ...) {
  if (p->st == ST_FAILED) return; /* the first reason stands */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->why, sizeof p->why, fmt, ap);
  va_end(ap);
  p->st = ST_FAILED;
}

static const char *waiting_for(const mqz_probe *p) {
  switch (p->st) {
  case ST_CONNACK:
    return "CONNACK";
  case ST_SUBACK:
    return "SUBACK";
  case ST_ECHO:
    return !p->acked && !p->echoed ? "PUBACK or PUBLISH echo"
           : !p->acked             ? "PUBACK"
                                   : "PUBLISH echo";
  default:
    return "the connection";
  }
}

static void send_pkt(mqz_probe *p, const mqc_packet *pkt) {
  uint8_t buf[TX_CAP];
  size_t len = 0, took = 0;
  mqc_status cs = mqc_encode(pkt, p->v, buf, sizeof buf, &len);
  if (cs != MQC_OK) {
    failf(p, "cannot encode %s: %s", mqc_type_name(pkt->type), mqc_strerror(cs));
    return;
  }
  /* a few hundred bytes on a fresh connection: the outbound buffer takes
   * them whole, and the loop flushes what the socket does not */
  mqn_status st = mqn_conn_write(p->conn, buf, len, &took);
  if ((st != MQN_OK && st != MQN_AGAIN) || took != len) {
    failf(p, "sending %s: %s%s%s", mqc_type_name(pkt->type),
          st == MQN_OK || st == MQN_AGAIN ? "outbound buffer full" : mqn_strerror(st),
          mqn_conn_errmsg(p->conn)[0] ? ": " : "", mqn_conn_errmsg(p->conn));
    return;
  }
  (void)mqn_conn_flush(p->conn);
  mqn_loop_update(p->loop, p->conn);
}

/* Acknowledges a QoS 1 PUBLISH from the broker (QoS 2 ones are not ours:
 * we only subscribed at QoS 1). */
static void ack_publish(mqz_probe *p, const mqc_packet *pub) {
  if (pub->publish.qos != 1) return;
  mqc_packet ack;
  mqc_packet_init(&ack, MQC_PUBACK, p->v);
  ack.ack.packet_id = pub->publish.packet_id;
  send_pkt(p, &ack);
}

static void send_connect(mqz_probe *p) {
  mqc_packet pkt;
  mqc_packet_init(&pkt, MQC_CONNECT, p->v);
  pkt.connect.clean_start = true;
  pkt.connect.keep_alive = 60;
  pkt.connect.client_id = mqc_cstr(p->client_id);
  if (p->username) pkt.connect.has_username = true, pkt.connect.username = mqc_cstr(p->username);
  if (p->password) pkt.connect.has_password = true, pkt.connect.password = mqc_cstr(p->password);
  p->st = ST_CONNACK;
  send_pkt(p, &pkt);
}

static void send_subscribe(mqz_probe *p) {
  uint8_t list[TX_CAP];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr(p->topic), p->qos);
  if (!mqc_writer_ok(&w)) {
    failf(p, "topic too long");
    return;
  }
  mqc_packet pkt;
  mqc_packet_init(&pkt, MQC_SUBSCRIBE, p->v);
  pkt.subscribe.packet_id = SUB_ID;
  pkt.subscribe.list = (mqc_bytes){list, w.len};
  pkt.subscribe.count = 1;
  p->st = ST_SUBACK;
  send_pkt(p, &pkt);
}

static void send_publish(mqz_probe *p) {
  /* Unique per probe, so a stale copy (retained, or queued by an earlier
   * probe that timed out) is never mistaken for this one. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(p->payload, sizeof p->payload, "mqz-%08lx-%06lx%05x",
           (unsigned long)ts.tv_sec & 0xffffffffu, (unsigned long)(ts.tv_nsec / 1000) & 0xffffffu,
           (unsigned)getpid() & 0xfffffu);
  mqc_packet pkt;
  mqc_packet_init(&pkt, MQC_PUBLISH, p->v);
  pkt.publish.qos = p->qos;
  pkt.publish.topic = mqc_cstr(p->topic);
  pkt.publish.packet_id = p->qos ? PUB_ID : 0;
  pkt.publish.payload = mqc_cstr(p->payload);
  p->st = ST_ECHO;
  p->acked = p->qos == 0;
  p->echoed = false;
  send_pkt(p, &pkt);
}

/* The probe passed: DISCONNECT and FIN; the broker's close is not awaited. */
static void finish_alive(mqz_probe *p) {
  mqc_packet pkt;
  mqc_packet_init(&pkt, MQC_DISCONNECT, p->v);
  send_pkt(p, &pkt);
  if (p->st == ST_FAILED) return;
  (void)mqn_conn_shutdown(p->conn);
  p->st = ST_ALIVE;
}

static void on_packet(mqz_probe *p, const mqc_packet *pkt) {
  if (pkt->type == MQC_DISCONNECT) {
    failf(p, "broker sent DISCONNECT (code 0x%02x) while waiting for %s", pkt->disconnect.reason,
          waiting_for(p));
    return;
  }
  switch (p->st) {
  case ST_CONNACK: {
    if (pkt->type != MQC_CONNACK) {
      failf(p, "%s instead of CONNACK", mqc_type_name(pkt->type));
      return;
    }
    if (pkt->connack.reason != 0) {
      failf(p, "CONNACK refused: code 0x%02x", pkt->connack.reason);
      return;
    }
    /* A 5.0 server may support QoS 0 only; QoS 1 would then be a protocol
     * error, not a sign of life. */
    mqc_prop maxq;
    p->qos = 1;
    if (p->v == MQC_V5 && mqc_props_get(&pkt->connack.props, MQC_PROP_MAXIMUM_QOS, &maxq) &&
        maxq.u == 0)
      p->qos = 0;
    send_subscribe(p);
    return;
  }
  case ST_SUBACK:
    /* A retained message may come before the SUBACK: acknowledged, skipped. */
    if (pkt->type == MQC_PUBLISH) ack_publish(p, pkt);
    if (pkt->type != MQC_SUBACK || pkt->suback.packet_id != SUB_ID) return;
    if (pkt->suback.reasons.n != 1 || pkt->suback.reasons.p[0] >= 0x80) {
      failf(p, "SUBACK refused the subscription (%zu codes, first 0x%02x)", pkt->suback.reasons.n,
            pkt->suback.reasons.n ? pkt->suback.reasons.p[0] : 0);
      return;
    }
    send_publish(p);
    return;
  case ST_ECHO:
    if (pkt->type == MQC_PUBACK && pkt->ack.packet_id == PUB_ID) {
      if (pkt->ack.reason >= 0x80) {
        failf(p, "PUBACK refused: code 0x%02x", pkt->ack.reason);
        return;
      }
      p->acked = true;
    } else if (pkt->type == MQC_PUBLISH) {
      ack_publish(p, pkt);
      if (mqc_bytes_eq(pkt->publish.topic, mqc_cstr(p->topic)) &&
          mqc_bytes_eq(pkt->publish.payload, mqc_cstr(p->payload)))
        p->echoed = true;
    }
    if (p->acked && p->echoed && p->st == ST_ECHO) finish_alive(p);
    return;
  default:
    return;
  }
}

/* Reads what arrived and handles every whole packet. */
static void on_readable(mqz_probe *p) {
  for (int rounds = 0; rounds < 64 && p->st < ST_ALIVE; rounds++) {
    if (p->rx_n == RX_CAP) {
      failf(p, "waiting for %s: packet over %u bytes or malformed length", waiting_for(p), RX_CAP);
      return;
    }
    size_t got = 0;
    mqn_status st = mqn_conn_read(p->conn, p->rx + p->rx_n, RX_CAP - p->rx_n, &got);
    if (st == MQN_AGAIN) return;
    if (st == MQN_CLOSED) {
      failf(p, "connection closed while waiting for %s", waiting_for(p));
      return;
    }
    if (st != MQN_OK) {
      failf(p, "waiting for %s: %s%s%s", waiting_for(p), mqn_strerror(st),
            mqn_conn_errmsg(p->conn)[0] ? ": " : "", mqn_conn_errmsg(p->conn));
      return;
    }
    p->rx_n += got;
    size_t off = 0;
    while (p->st < ST_ALIVE && off < p->rx_n) {
      mqc_frame f;
      mqc_error e;
      mqc_status fs = mqc_frame_packet(p->rx + off, p->rx_n - off, p->v, MQC_NO_LIMIT, &f, &e);
      if (fs == MQC_INCOMPLETE) break;
      if (fs != MQC_OK || f.total_len > RX_CAP) {
        failf(p, "waiting for %s: packet over %u bytes or malformed length", waiting_for(p),
              RX_CAP);
        return;
      }
      mqc_packet pkt;
      if (mqc_decode(p->rx + off, f.total_len, p->v, MQC_FROM_SERVER, MQC_NO_LIMIT, &pkt, &e) !=
          MQC_OK) {
        failf(p, "undecodable packet while waiting for %s: %s", waiting_for(p),
              e.message ? e.message : mqc_strerror(e.status));
        return;
      }
      on_packet(p, &pkt);
      off += f.total_len;
    }
    memmove(p->rx, p->rx + off, p->rx_n - off);
    p->rx_n -= off;
  }
}

void mqz_probe_free(mqz_probe *p) {
  if (!p) return;
  mqn_loop_free(p->loop); /* closes the connection */
  free(p->client_id);
  free(p->username);
  free(p->password);
  free(p->topic);
  free(p->rx);
  free(p);
}

static char *dup_or_null(const char *s, bool *oom) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *oom = true;
  return d;
}

mqz_probe *mqz_probe_start(const mqn_url *url, mqn_tls *tls, mqc_version v, const char *client_id,
                           const char *username, const char *password, const char *topic,
                           uint32_t deadline_ms) {
  mqz_probe *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->v = v;
  p->budget_ms = deadline_ms;
  p->deadline = mqn_now_ms() + deadline_ms;
  p->st = ST_DIAL;
  bool oom = false;
  p->client_id = dup_or_null(client_id, &oom);
  p->username = dup_or_null(username, &oom);
  p->password = dup_or_null(password, &oom);
  p->topic = dup_or_null(topic, &oom);
  p->rx = malloc(RX_CAP);
  if (oom || !p->rx || mqn_loop_new(4, &p->loop) != MQN_OK) {
    mqz_probe_free(p);
    return NULL;
  }
  if (!url || !client_id || !topic || !topic[0] || (v != MQC_V31 && v != MQC_V311 && v != MQC_V5)) {
    failf(p, "liveness probe: bad arguments");
    return p;
  }
  mqn_conn_opts co = {.handshake_timeout_ms = (int)deadline_ms};
  mqn_status st = mqn_conn_dial(url, tls, &co, &p->conn);
  if (st != MQN_OK) {
    failf(p, "connect: %s %s:%u: %s", mqn_scheme_name(url->scheme), url->host, url->port,
          mqn_strerror(st));
    return p;
  }
  if (mqn_loop_add(p->loop, p->conn, p) != MQN_OK) {
    mqn_conn_free(p->conn);
    p->conn = NULL;
    failf(p, "connect: cannot watch the connection");
  }
  return p;
}

int mqz_probe_step(mqz_probe *p, int wait_ms, char *why, size_t cap) {
  if (why && cap) why[0] = '\0';
  int64_t left = p->deadline - mqn_now_ms();
  if (p->st < ST_ALIVE && left > 0) {
    mqn_event ev[8];
    size_t n = 0;
    int t = wait_ms < left ? wait_ms : (int)left;
    if (mqn_loop_wait(p->loop, t < 0 ? 0 : t, ev, 8, &n) != MQN_OK) n = 0;
    for (size_t i = 0; i < n && p->st < ST_ALIVE; i++) {
      switch (ev[i].kind) {
      case MQN_EV_OPEN:
        if (p->st == ST_DIAL) send_connect(p);
        break;
      case MQN_EV_READABLE:
        on_readable(p);
        break;
      case MQN_EV_DRAINED:
        break;
      case MQN_EV_ERROR:
      case MQN_EV_TIMEOUT:
        if (p->st == ST_DIAL && ev[i].kind == MQN_EV_TIMEOUT)
          failf(p, "connect: no connection within %u ms", p->budget_ms);
        else if (p->st == ST_DIAL)
          failf(p, "connect: %s%s%s", mqn_strerror(ev[i].status),
                mqn_conn_errmsg(p->conn)[0] ? ": " : "", mqn_conn_errmsg(p->conn));
        else
          failf(p, "connection closed while waiting for %s", waiting_for(p));
        break;
      }
    }
  }
  if (p->st < ST_ALIVE && mqn_now_ms() >= p->deadline) {
    if (p->st == ST_DIAL)
      failf(p, "connect: no connection within %u ms", p->budget_ms);
    else
      failf(p, "no %s within %u ms", waiting_for(p), p->budget_ms);
  }
  if (p->st == ST_FAILED) {
    if (why && cap) snprintf(why, cap, "%s", p->why);
    return -1;
  }
  return p->st == ST_ALIVE ? 0 : 1;
}

int mqz_liveness(const mqn_url *url, mqn_tls *tls, mqc_version v, const char *client_id,
                 const char *username, const char *password, const char *topic,
                 uint32_t deadline_ms, char *why, size_t cap) {
  if (why && cap) why[0] = '\0';
  mqz_probe *p = mqz_probe_start(url, tls, v, client_id, username, password, topic, deadline_ms);
  if (!p) {
    if (why && cap) snprintf(why, cap, "out of memory");
    return -1;
  }
  int r;
  /* bounded: every step waits until the deadline at most, and the deadline
   * ends the probe */
  while ((r = mqz_probe_step(p, (int)deadline_ms, why, cap)) == 1)
    ;
  if (r == 0) {
    /* hand the DISCONNECT and FIN to the kernel (instant on loopback) */
    int64_t until = mqn_now_ms() + 50;
    while (mqn_conn_pending_out(p->conn) && mqn_now_ms() < until) {
      mqn_event ev[4];
      size_t n = 0;
      (void)mqn_loop_wait(p->loop, 10, ev, 4, &n);
    }
  }
  mqz_probe_free(p);
  return r;
}
