/* wire.c - the probe's client side: one blocking MQTT connection over net/,
 * packets built and judged by the codec, and a resolver bounded by a
 * deadline (getaddrinfo alone may block for a minute on a dead DNS). */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe_int.h"

/* ---- resolution with a deadline ---- */

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs; /* the waiter and the resolver thread; the last one frees */
  bool done;
  int gai;
  char host[MQN_HOST_MAX];
} resolve_job;

static void job_release(resolve_job *j) {
  pthread_mutex_lock(&j->mu);
  int left = --j->refs;
  pthread_mutex_unlock(&j->mu);
  if (left) return;
  pthread_mutex_destroy(&j->mu);
  pthread_cond_destroy(&j->cv);
  free(j);
}

static void *resolve_thread(void *arg) {
  resolve_job *j = arg;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int gai = getaddrinfo(j->host, NULL, &hints, &res);
  if (res) freeaddrinfo(res);
  pthread_mutex_lock(&j->mu);
  j->gai = gai;
  j->done = true;
  pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
  job_release(j);
  return NULL;
}

int mqp__resolve(const char *host, uint32_t timeout_ms, char *err, size_t cap) {
  resolve_job *j = calloc(1, sizeof *j);
  if (!j) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  pthread_mutex_init(&j->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&j->cv, &ca);
  pthread_condattr_destroy(&ca);
  j->refs = 2;
  snprintf(j->host, sizeof j->host, "%s", host);
  pthread_t t;
  if (pthread_create(&t, NULL, resolve_thread, j)) {
    j->refs = 1;
    job_release(j);
    snprintf(err, cap, "cannot start a resolver thread");
    return -1;
  }
  /* A resolver stuck past the deadline is left to finish on its own. */
  pthread_detach(t);
  struct timespec dl;
  clock_gettime(CLOCK_MONOTONIC, &dl);
  dl.tv_sec += timeout_ms / 1000;
  dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (dl.tv_nsec >= 1000000000L) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&j->mu);
  while (!j->done)
    if (pthread_cond_timedwait(&j->cv, &j->mu, &dl) == ETIMEDOUT) break;
  bool done = j->done;
  int gai = j->gai;
  pthread_mutex_unlock(&j->mu);
  job_release(j);
  if (!done) {
    snprintf(err, cap, "cannot resolve host '%s': no answer within %u ms", host, timeout_ms);
    return -1;
  }
  if (gai) {
    snprintf(err, cap, "cannot resolve host '%s': %s", host, gai_strerror(gai));
    return -1;
  }
  return 0;
}

/* ---- one connection ---- */

int mqp__dial(mqp__probe *p, const mqn_url *url, mqp__conn **out, char *err, size_t cap) {
  *out = NULL;
  mqp__conn *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  mqn_conn_opts co = {.handshake_timeout_ms = p->tmo};
  char e[256];
  mqn_status st = mqn_dial_blocking(url, mqn_scheme_is_tls(url->scheme) ? p->tls : NULL, &co,
                                    (int)p->tmo, &c->c, e, sizeof e);
  if (st != MQN_OK) {
    snprintf(err, cap, "%s", e[0] ? e : mqn_strerror(st));
    free(c);
    return -1;
  }
  *out = c;
  return 0;
}

void mqp__close(mqp__conn *c) {
  if (!c) return;
  if (c->c) {
    if (c->v) {
      mqc_packet d;
      mqc_packet_init(&d, MQC_DISCONNECT, c->v);
      (void)mqp__send(c, &d);
    }
    (void)mqn_close_blocking(c->c, 200);
    mqn_conn_free(c->c);
  }
  free(c);
}

int mqp__send(mqp__conn *c, const mqc_packet *pkt) {
  uint8_t buf[4096];
  size_t n = 0;
  if (mqc_encode(pkt, c->v, buf, sizeof buf, &n) != MQC_OK) return -1;
  return mqn_send_all(c->c, buf, n, 2000) == MQN_OK ? 0 : -1;
}

int mqp__recv(mqp__conn *c, uint32_t timeout_ms) {
  size_t n = 0;
  c->raw_len = 0;
  mqn_status st = mqn_recv_packet(c->c, c->rx, sizeof c->rx, &n, (int)timeout_ms);
  if (st == MQN_TIMEOUT) return MQP__TIMEOUT;
  if (st == MQN_CLOSED) return MQP__CLOSED;
  if (st != MQN_OK) {
    snprintf(c->why, sizeof c->why, "%s", mqn_strerror(st));
    return MQP__BROKEN;
  }
  c->raw_len = n;
  mqc_error e;
  if (mqc_decode(c->rx, n, c->v, MQC_FROM_SERVER, MQC_NO_LIMIT, &c->pkt, &e) != MQC_OK) {
    snprintf(c->why, sizeof c->why, "invalid packet: %s%s%s", e.message, e.statement ? " " : "",
             e.statement ? e.statement : "");
    return MQP__BROKEN;
  }
  return MQP__GOT;
}

/* Answers what a delivery at QoS 1/2 needs so the broker keeps sending. */
static int ack_delivery(mqp__conn *c) {
  const mqc_publish *pub = &c->pkt.publish;
  if (pub->qos == 0) return 0;
  mqc_packet a;
  mqc_packet_init(&a, pub->qos == 1 ? MQC_PUBACK : MQC_PUBREC, c->v);
  a.ack.packet_id = pub->packet_id;
  return mqp__send(c, &a);
}

int mqp__await(mqp__conn *c, mqc_type type, const char *topic, uint32_t timeout_ms) {
  int64_t deadline = mqn_now_ms() + timeout_ms;
  for (;;) {
    int64_t left = deadline - mqn_now_ms();
    if (left <= 0) return MQP__TIMEOUT;
    int r = mqp__recv(c, (uint32_t)left);
    if (r != MQP__GOT) return r;
    mqc_type t = c->pkt.type;
    if (t == MQC_PUBLISH) {
      if (ack_delivery(c)) return MQP__BROKEN;
      if (type == MQC_PUBLISH && (!topic || mqc_bytes_eq(c->pkt.publish.topic, mqc_cstr(topic))))
        return MQP__GOT;
      continue;
    }
    if (t == MQC_PUBREL) { /* second half of a QoS 2 delivery to us */
      mqc_packet a;
      mqc_packet_init(&a, MQC_PUBCOMP, c->v);
      a.ack.packet_id = c->pkt.ack.packet_id;
      if (mqp__send(c, &a)) return MQP__BROKEN;
      if (type != MQC_PUBREL) continue;
    }
    if (t == MQC_DISCONNECT) {
      snprintf(c->why, sizeof c->why, "DISCONNECT 0x%02x", c->pkt.disconnect.reason);
      if (type != MQC_DISCONNECT) return MQP__CLOSED;
    }
    if (t == type) return MQP__GOT;
  }
}

static void take_props(const mqc_props *pr, mqp__ack *a) {
  mqc_prop q;
  a->props = pr->present;
#define U(id, field)                                                                               \
  if (mqc_props_get(pr, id, &q)) a->field = q.u
  U(MQC_PROP_MAXIMUM_QOS, max_qos);
  U(MQC_PROP_RETAIN_AVAILABLE, retain);
  U(MQC_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, wildcards);
  U(MQC_PROP_SHARED_SUBSCRIPTION_AVAILABLE, shared);
  U(MQC_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, sub_ids);
  U(MQC_PROP_TOPIC_ALIAS_MAXIMUM, topic_alias_max);
  U(MQC_PROP_RECEIVE_MAXIMUM, receive_max);
  U(MQC_PROP_MAXIMUM_PACKET_SIZE, max_packet);
  U(MQC_PROP_SESSION_EXPIRY_INTERVAL, session_expiry);
  U(MQC_PROP_SERVER_KEEP_ALIVE, server_keep_alive);
#undef U
  if (mqc_props_get(pr, MQC_PROP_ASSIGNED_CLIENT_IDENTIFIER, &q)) {
    size_t n = q.value.n < sizeof a->assigned - 1 ? q.value.n : sizeof a->assigned - 1;
    memcpy(a->assigned, q.value.p, n);
    a->assigned[n] = '\0';
  }
}

int mqp__connect(mqp__probe *p, const mqn_url *url, const mqp__connect_args *args, mqp__conn **out,
                 mqp__ack *ack, char *why, size_t cap) {
  *out = NULL;
  memset(ack, 0, sizeof *ack);
  mqp__conn *c;
  if (mqp__dial(p, url, &c, why, cap)) return MQP__TRANSPORT;
  c->v = args->version;
  mqc_packet pkt;
  mqc_packet_init(&pkt, MQC_CONNECT, args->version);
  pkt.connect.clean_start = args->clean;
  pkt.connect.keep_alive = 60;
  pkt.connect.client_id = mqc_cstr(args->client_id);
  bool creds = args->credentials && p->o->username;
  if (creds) {
    pkt.connect.has_username = true;
    pkt.connect.username = mqc_cstr(p->o->username);
    if (p->o->password) {
      pkt.connect.has_password = true;
      pkt.connect.password = mqc_cstr(p->o->password);
    }
  }
  uint8_t props[16];
  mqc_writer w;
  mqc_writer_init(&w, props, sizeof props);
  if (args->version == MQC_V5 && args->session_expiry)
    mqc_put_prop_u32(&w, MQC_PROP_SESSION_EXPIRY_INTERVAL, args->session_expiry);
  pkt.connect.props.raw = (mqc_bytes){props, w.len};
  if (mqp__send(c, &pkt)) {
    snprintf(why, cap, "the connection closed while sending CONNECT");
    mqp__conn_drop(c);
    return MQP__NO_ANSWER;
  }
  int r = mqp__recv(c, p->tmo);
  if (r == MQP__BROKEN && c->raw_len == 4 && c->rx[0] == 0x20 && c->rx[1] == 2 &&
      args->version == MQC_V5) {
    /* A 3.x-layout CONNACK to a 5.0 CONNECT: a refusal in the layout the
     * broker knows (3.1.1 section 3.1.2.2 invites return code 0x01). */
    ack->reason = c->rx[3];
    ack->old_layout = true;
    snprintf(why, cap, "CONNACK 0x%02x in the 3.1.1 layout", ack->reason);
    mqp__conn_drop(c);
    return MQP__REFUSED;
  }
  if (r != MQP__GOT || c->pkt.type != MQC_CONNACK) {
    if (r == MQP__TIMEOUT)
      snprintf(why, cap, "no CONNACK within %u ms", p->tmo);
    else if (r == MQP__CLOSED)
      snprintf(why, cap, "the broker closed the connection without a CONNACK");
    else if (r == MQP__BROKEN)
      snprintf(why, cap, "%s", c->why);
    else
      snprintf(why, cap, "%s instead of CONNACK", mqc_type_name(c->pkt.type));
    mqp__conn_drop(c);
    return MQP__NO_ANSWER;
  }
  ack->reason = c->pkt.connack.reason;
  ack->session_present = c->pkt.connack.session_present;
  ack->receive_max = 65535;
  ack->max_qos = 2;
  ack->retain = ack->wildcards = ack->shared = ack->sub_ids = 1;
  if (args->version == MQC_V5) take_props(&c->pkt.connack.props, ack);
  if (ack->reason) {
    snprintf(why, cap, "CONNACK 0x%02x", ack->reason);
    mqp__conn_drop(c);
    return MQP__REFUSED;
  }
  *out = c;
  return MQP__ACCEPTED;
}

void mqp__conn_drop(mqp__conn *c) {
  if (!c) return;
  mqn_conn_free(c->c);
  free(c);
}

int mqp__subscribe(mqp__conn *c, uint16_t pid, const char *filter, uint8_t qos, uint32_t sub_id,
                   uint32_t timeout_ms, uint8_t *granted) {
  uint8_t list[300], props[8];
  mqc_writer w, pw;
  mqc_writer_init(&w, list, sizeof list);
  mqc_put_sub_entry(&w, mqc_cstr(filter), qos);
  mqc_writer_init(&pw, props, sizeof props);
  if (sub_id) mqc_put_prop_u32(&pw, MQC_PROP_SUBSCRIPTION_IDENTIFIER, sub_id);
  if (!mqc_writer_ok(&w)) return MQP__BROKEN;
  mqc_packet s;
  mqc_packet_init(&s, MQC_SUBSCRIBE, c->v);
  s.subscribe.packet_id = pid;
  s.subscribe.list = (mqc_bytes){list, w.len};
  s.subscribe.count = 1;
  s.subscribe.props.raw = (mqc_bytes){props, pw.len};
  if (mqp__send(c, &s)) return MQP__CLOSED;
  int r = mqp__await(c, MQC_SUBACK, NULL, timeout_ms);
  if (r != MQP__GOT) return r;
  if (c->pkt.suback.packet_id != pid || c->pkt.suback.reasons.n != 1) {
    snprintf(c->why, sizeof c->why, "SUBACK for packet %u with %zu codes", c->pkt.suback.packet_id,
             c->pkt.suback.reasons.n);
    return MQP__BROKEN;
  }
  *granted = c->pkt.suback.reasons.p[0];
  return MQP__GOT;
}

int mqp__publish(mqp__conn *c, const char *topic, const char *payload, uint8_t qos, bool retain,
                 uint16_t pid, uint16_t alias, uint32_t timeout_ms) {
  uint8_t props[8];
  mqc_writer pw;
  mqc_writer_init(&pw, props, sizeof props);
  if (alias) mqc_put_prop_u32(&pw, MQC_PROP_TOPIC_ALIAS, alias);
  mqc_packet m;
  mqc_packet_init(&m, MQC_PUBLISH, c->v);
  m.publish.qos = qos;
  m.publish.retain = retain;
  m.publish.topic = mqc_cstr(topic);
  m.publish.packet_id = qos ? pid : 0;
  m.publish.payload = mqc_cstr(payload);
  m.publish.props.raw = (mqc_bytes){props, pw.len};
  if (mqp__send(c, &m)) return MQP__CLOSED;
  if (qos == 0) return MQP__GOT;
  int r = mqp__await(c, qos == 1 ? MQC_PUBACK : MQC_PUBREC, NULL, timeout_ms);
  if (r != MQP__GOT) return r;
  if (c->pkt.ack.reason >= 0x80) {
    snprintf(c->why, sizeof c->why, "%s 0x%02x", mqc_type_name(c->pkt.type), c->pkt.ack.reason);
    return MQP__REFUSED;
  }
  if (qos == 1) return MQP__GOT;
  mqc_packet rel;
  mqc_packet_init(&rel, MQC_PUBREL, c->v);
  rel.ack.packet_id = pid;
  if (mqp__send(c, &rel)) return MQP__CLOSED;
  return mqp__await(c, MQC_PUBCOMP, NULL, timeout_ms);
}
