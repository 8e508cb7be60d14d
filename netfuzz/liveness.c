/*
 * liveness.c - the hang oracle's probe client (see liveness.h). Blocking
 * helpers of net/ under one overall deadline; packets built and judged by the
 * codec.
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

typedef struct {
  mqn_conn *c;
  mqc_version v;
  int64_t deadline;
  uint32_t budget_ms;
  uint8_t *rx;
  char *why;
  size_t cap;
} probe;

__attribute__((format(printf, 2, 3))) static int failf(probe *p, const char *fmt, ...) {
  if (p->why && p->cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, p->cap, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int left_ms(const probe *p) {
  int64_t left = p->deadline - mqn_now_ms();
  return left > 0 ? (int)left : 0;
}

static int send_pkt(probe *p, const mqc_packet *pkt) {
  uint8_t buf[TX_CAP];
  size_t len = 0;
  mqc_status cs = mqc_encode(pkt, p->v, buf, sizeof buf, &len);
  if (cs != MQC_OK)
    return failf(p, "cannot encode %s: %s", mqc_type_name(pkt->type), mqc_strerror(cs));
  mqn_status st = mqn_send_all(p->c, buf, len, left_ms(p));
  if (st == MQN_TIMEOUT)
    return failf(p, "%s not sent within %u ms", mqc_type_name(pkt->type), p->budget_ms);
  if (st != MQN_OK)
    return failf(p, "sending %s: %s%s%s", mqc_type_name(pkt->type), mqn_strerror(st),
                 mqn_conn_errmsg(p->c)[0] ? ": " : "", mqn_conn_errmsg(p->c));
  return 0;
}

/* Receives and decodes the next packet from the broker; waiting names what
 * we are waiting for, for the failure text. */
static int recv_pkt(probe *p, mqc_packet *pkt, const char *waiting) {
  size_t n = 0;
  mqn_status st = mqn_recv_packet(p->c, p->rx, RX_CAP, &n, left_ms(p));
  if (st == MQN_TIMEOUT) return failf(p, "no %s within %u ms", waiting, p->budget_ms);
  if (st == MQN_CLOSED) return failf(p, "connection closed while waiting for %s", waiting);
  if (st == MQN_ERR_LIMIT)
    return failf(p, "waiting for %s: packet over %u bytes or malformed length", waiting, RX_CAP);
  if (st != MQN_OK)
    return failf(p, "waiting for %s: %s%s%s", waiting, mqn_strerror(st),
                 mqn_conn_errmsg(p->c)[0] ? ": " : "", mqn_conn_errmsg(p->c));
  mqc_error e;
  if (mqc_decode(p->rx, n, p->v, MQC_FROM_SERVER, MQC_NO_LIMIT, pkt, &e) != MQC_OK)
    return failf(p, "undecodable packet while waiting for %s: %s", waiting,
                 e.message ? e.message : mqc_strerror(e.status));
  if (pkt->type == MQC_DISCONNECT)
    return failf(p, "broker sent DISCONNECT (code 0x%02x) while waiting for %s",
                 pkt->disconnect.reason, waiting);
  return 0;
}

/* Acknowledges a QoS 1 PUBLISH from the broker (QoS 2 ones are not ours:
 * we only subscribed at QoS 1). */
static int ack_publish(probe *p, const mqc_packet *pub) {
  if (pub->publish.qos != 1) return 0;
  mqc_packet ack;
  mqc_packet_init(&ack, MQC_PUBACK, p->v);
  ack.ack.packet_id = pub->publish.packet_id;
  return send_pkt(p, &ack);
}

static int run(probe *p, const char *client_id, const char *username, const char *password,
               const char *topic) {
  mqc_packet pkt;
  mqc_packet_init(&pkt, MQC_CONNECT, p->v);
  pkt.connect.clean_start = true;
  pkt.connect.keep_alive = 60;
  pkt.connect.client_id = mqc_cstr(client_id);
  if (username) pkt.connect.has_username = true, pkt.connect.username = mqc_cstr(username);
  if (password) pkt.connect.has_password = true, pkt.connect.password = mqc_cstr(password);
  if (send_pkt(p, &pkt) != 0) return -1;
  if (recv_pkt(p, &pkt, "CONNACK") != 0) return -1;
  if (pkt.type != MQC_CONNACK) return failf(p, "%s instead of CONNACK", mqc_type_name(pkt.type));
  if (pkt.connack.reason != 0) return failf(p, "CONNACK refused: code 0x%02x", pkt.connack.reason);
  /* A 5.0 server may support QoS 0 only; QoS 1 would then be a protocol
   * error, not a sign of life. */
  mqc_prop maxq;
  uint8_t qos = 1;
  if (p->v == MQC_V5 && mqc_props_get(&pkt.connack.props, MQC_PROP_MAXIMUM_QOS, &maxq) &&
      maxq.u == 0)
    qos = 0;

  uint8_t list[TX_CAP];
  mqc_writer w;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr(topic), qos);
  if (!mqc_writer_ok(&w)) return failf(p, "topic too long");
  mqc_packet_init(&pkt, MQC_SUBSCRIBE, p->v);
  pkt.subscribe.packet_id = SUB_ID;
  pkt.subscribe.list = (mqc_bytes){list, w.len};
  pkt.subscribe.count = 1;
  if (send_pkt(p, &pkt) != 0) return -1;
  /* A retained message may come before the SUBACK: acknowledged, skipped. */
  for (;;) {
    if (recv_pkt(p, &pkt, "SUBACK") != 0) return -1;
    if (pkt.type == MQC_PUBLISH && ack_publish(p, &pkt) != 0) return -1;
    if (pkt.type != MQC_SUBACK || pkt.suback.packet_id != SUB_ID) continue;
    if (pkt.suback.reasons.n != 1 || pkt.suback.reasons.p[0] >= 0x80)
      return failf(p, "SUBACK refused the subscription (%zu codes, first 0x%02x)",
                   pkt.suback.reasons.n, pkt.suback.reasons.n ? pkt.suback.reasons.p[0] : 0);
    break;
  }

  /* Unique per probe, so a stale copy (retained, or queued by an earlier
   * probe that timed out) is never mistaken for this one. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char payload[PAYLOAD + 1];
  snprintf(payload, sizeof payload, "mqz-%08lx-%06lx%05x", (unsigned long)ts.tv_sec & 0xffffffffu,
           (unsigned long)(ts.tv_nsec / 1000) & 0xffffffu, (unsigned)getpid() & 0xfffffu);
  mqc_packet_init(&pkt, MQC_PUBLISH, p->v);
  pkt.publish.qos = qos;
  pkt.publish.topic = mqc_cstr(topic);
  pkt.publish.packet_id = qos ? PUB_ID : 0;
  pkt.publish.payload = mqc_cstr(payload);
  if (send_pkt(p, &pkt) != 0) return -1;
  bool acked = qos == 0, echoed = false;
  while (!acked || !echoed) {
    const char *waiting = !acked && !echoed ? "PUBACK or PUBLISH echo"
                          : !acked          ? "PUBACK"
                                            : "PUBLISH echo";
    if (recv_pkt(p, &pkt, waiting) != 0) return -1;
    if (pkt.type == MQC_PUBACK && pkt.ack.packet_id == PUB_ID) {
      if (pkt.ack.reason >= 0x80) return failf(p, "PUBACK refused: code 0x%02x", pkt.ack.reason);
      acked = true;
    } else if (pkt.type == MQC_PUBLISH) {
      if (ack_publish(p, &pkt) != 0) return -1;
      if (mqc_bytes_eq(pkt.publish.topic, mqc_cstr(topic)) &&
          mqc_bytes_eq(pkt.publish.payload, mqc_cstr(payload)))
        echoed = true;
    }
  }
  mqc_packet_init(&pkt, MQC_DISCONNECT, p->v);
  uint8_t buf[8];
  size_t len = 0;
  if (mqc_encode(&pkt, p->v, buf, sizeof buf, &len) == MQC_OK)
    (void)mqn_send_all(p->c, buf, len, left_ms(p) > 50 ? left_ms(p) : 50);
  (void)mqn_conn_shutdown(p->c); /* FIN now; the broker's close is not awaited */
  return 0;
}

int mqz_liveness(const mqn_url *url, mqn_tls *tls, mqc_version v, const char *client_id,
                 const char *username, const char *password, const char *topic,
                 uint32_t deadline_ms, char *why, size_t cap) {
  probe p = {.v = v, .budget_ms = deadline_ms, .why = why, .cap = cap};
  if (why && cap) why[0] = '\0';
  p.deadline = mqn_now_ms() + deadline_ms;
  if (!url || !client_id || !topic || !topic[0] || (v != MQC_V31 && v != MQC_V311 && v != MQC_V5))
    return failf(&p, "liveness probe: bad arguments");
  if (!(p.rx = malloc(RX_CAP))) return failf(&p, "out of memory");
  char err[256] = "";
  mqn_status st = mqn_dial_blocking(url, tls, NULL, left_ms(&p), &p.c, err, sizeof err);
  int r;
  if (st == MQN_TIMEOUT)
    r = failf(&p, "connect: no connection within %u ms%s%s", deadline_ms, err[0] ? ": " : "", err);
  else if (st != MQN_OK)
    r = failf(&p, "connect: %s%s%s", mqn_strerror(st), err[0] ? ": " : "", err);
  else
    r = run(&p, client_id, username, password, topic);
  mqn_conn_free(p.c);
  free(p.rx);
  return r;
}
