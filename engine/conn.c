/* conn.c - connection lifetime: open, receive/frame/dispatch, output
 * draining, failure handling, keep-alive, close. */
#include <stdio.h>

#include "internal.h"

mqe_status mqe_conn_open(mqe_engine *e, void *user, uint64_t now, mqe_conn **out) {
  *out = NULL;
  e->now = now;
  if (e->nconns >= e->cfg.max_connections) return MQE_ERR_LIMIT;
  mqe_conn *c = mqe__zalloc(e, sizeof *c);
  if (!c) return MQE_ERR_NOMEM;
  if (!mqe__heap_reserve(e, 1)) {
    mqe__free(e, c, sizeof *c);
    return MQE_ERR_NOMEM;
  }
  c->user = user;
  c->opened = now;
  c->last_rx = now;
  c->client_max_packet = UINT32_MAX;
  c->problem_info = true; /* the 5.0 default */
  c->timer.idx = MQE__NOT_SCHEDULED;
  c->timer.kind = MQE__T_CONN;
  c->next = e->conns;
  if (e->conns) e->conns->prev = c;
  e->conns = c;
  e->nconns++;
  mqe__note_load(e);
  if (e->cfg.connect_timeout_ms) mqe__timer_set(e, &c->timer, now + e->cfg.connect_timeout_ms);
  *out = c;
  return MQE_OK;
}

void *mqe_conn_user(const mqe_conn *c) {
  return c->user;
}

const char *mqe_conn_client_id(const mqe_conn *c) {
  return c->sess ? c->sess->client_id : c->noid;
}

bool mqe_conn_should_close(const mqe_conn *c) {
  return c->state == MQE__S_CLOSING;
}

bool mqe__problem_info(const mqe_conn *c) {
  return c->problem_info;
}

/* "message (statement)": what the client reads as the Reason String. */
static const char *why_text(char *buf, size_t cap, const char *statement, const char *message) {
  if (!message) message = "";
  if (!statement) return message;
  snprintf(buf, cap, "%s (%s)", message, statement);
  return buf;
}

void mqe__fail(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *statement,
               const char *message) {
  if (c->state == MQE__S_CLOSING || c->failing) return;
  c->failing = true;
  char buf[MQE__REASON_MAX + 1];
  const char *why = why_text(buf, sizeof buf, statement, message);
  if (c->connack_sent || mqe__fault(e, MQE_FAULT_DISCONNECT_BEFORE_CONNACK))
    mqe__send_disconnect(e, c, reason, why);
  if (!c->connack_sent) {
    (void)mqe__send_connack_refusal(e, c, reason, why); /* NOMEM: the close still happens */
  } else if (c->ver == MQC_V5) {
    if (mqe__fault(e, MQE_FAULT_PACKET_AFTER_DISCONNECT))
      mqe__send_simple(e, c, MQC_PINGRESP, 0, 0);
    if ((reason == MQC_RC_MALFORMED_PACKET || reason == MQC_RC_PROTOCOL_ERROR) &&
        mqe__fault(e, MQE_FAULT_DISCONNECT_KEEPS_OPEN)) {
      c->failing = false;
      return;
    }
  }
  c->state = MQE__S_CLOSING;
  c->failing = false;
  mqe__timer_clear(e, &c->timer);
  mqe__mark_output(e, c);
  mqe__event(e, MQE_EV_CLOSED, c, reason, statement, message);
  if (c->sess && !c->detach_pending) {
    c->detach_pending = true;
    c->detach_will = !c->will_cancelled;
    c->dnext = e->dhead;
    e->dhead = c;
  }
}

void mqe__violation(mqe_engine *e, mqe_conn *c, uint8_t reason, const char *statement,
                    const char *message) {
  if (c->state == MQE__S_CLOSING) return;
  mqe__event(e, MQE_EV_VIOLATION, c, reason, statement, message);
  mqe__fail(e, c, reason, statement, message);
}

void mqe__alias_table_free(mqe_engine *e, mqe_alias *a) {
  if (!a) return;
  for (uint16_t i = 0; i < e->cfg.topic_alias_maximum; i++)
    mqe__free(e, a[i].p, a[i].n);
  mqe__free(e, a, e->cfg.topic_alias_maximum * sizeof *a);
}

static void detach(mqe_engine *e, mqe_conn *c, bool will) {
  mqe_session *s = c->sess;
  if (!s) return;
  assert(s->conn == c);
  if (s->expiry && mqe__fault(e, MQE_FAULT_SHARED_MOVED_ON_DROP)) { /* the session stays */
    mqe_qent *next;
    for (mqe_qent *q = s->inflight.head; q; q = next) {
      next = q->next;
      if (!q->msg || !mqe__shared_reoffer(e, s, q->msg)) continue;
      mqe__qlist_remove(&s->inflight, q);
      mqe__qent_free(e, q);
    }
  }
  if (c->in_alias && mqe__fault(e, MQE_FAULT_ALIAS_KEPT_ACROSS_CONNECTIONS)) {
    mqe__alias_table_free(e, s->kept_alias);
    s->kept_alias = c->in_alias;
    c->in_alias = NULL;
  }
  s->conn = NULL;
  c->sess = NULL;
  mqe__wake_all(e, s); /* offline sessions drop at the cap, they hold no one back */
  mqe__will_on_close(e, s, will);
  mqe__session_offline(e, s, e->now);
}

void mqe__flush_detach(mqe_engine *e) {
  /* bounded: each pass removes one entry; detaching never fails a conn */
  while (e->dhead) {
    mqe_conn *c = e->dhead;
    e->dhead = c->dnext;
    c->dnext = NULL;
    c->detach_pending = false;
    detach(e, c, c->detach_will);
  }
}

void mqe__conn_timer(mqe_engine *e, mqe_conn *c) {
  if (c->state == MQE__S_AWAIT_CONNECT || c->state == MQE__S_AUTH) {
    mqe__fail(e, c, MQC_RC_MAXIMUM_CONNECT_TIME, NULL, "no CONNECT/AUTH completion in time");
    return;
  }
  if (c->state != MQE__S_CONNECTED || !c->keep_alive) return;
  if (mqe__fault(e, MQE_FAULT_KEEPALIVE_IGNORED)) return;
  uint64_t due = c->last_rx + (uint64_t)c->keep_alive * 1500u;
  if (e->now >= due) {
    mqe__violation(e, c, MQC_RC_KEEP_ALIVE_TIMEOUT,
                   c->ver == MQC_V5 ? "MQTT-3.1.2-20" : "MQTT-3.1.2-23",
                   "keep-alive: nothing received within 1.5 x Keep Alive");
    return;
  }
  mqe__timer_set(e, &c->timer, due);
}

/* Type nibble of the packet at p. */
static void dispatch(mqe_engine *e, mqe_conn *c, const uint8_t *p, size_t n) {
  c->last_rx = e->now;
  mqc_type t = (mqc_type)(p[0] >> 4);
  if (c->state == MQE__S_AWAIT_CONNECT) {
    if (t != MQC_CONNECT) {
      if (mqe__fault(e, MQE_FAULT_FIRST_PACKET_IGNORED)) return;
      mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, "MQTT-3.1.0-1", "first packet is not CONNECT");
      return;
    }
    mqe__on_connect(e, c, p, n);
    return;
  }
  if (t == MQC_CONNECT) {
    if (mqe__fault(e, MQE_FAULT_SECOND_CONNECT_IGNORED)) return;
    mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, "MQTT-3.1.0-2", "second CONNECT");
    return;
  }
  mqc_packet pkt;
  mqc_error err;
  mqc_status st = mqc_decode(p, n, c->ver, MQC_FROM_CLIENT, e->cfg.maximum_packet_size, &pkt, &err);
  if (st != MQC_OK) {
    if (mqe__fault_codec(e, c->ver, err.statement)) return;
    uint8_t reason = err.reason ? err.reason : MQC_RC_MALFORMED_PACKET;
    mqe__violation(e, c, reason, err.statement, err.message ? err.message : mqc_strerror(st));
    return;
  }
  if (c->state == MQE__S_AUTH) {
    if (t == MQC_AUTH)
      mqe__on_auth(e, c, &pkt);
    else if (t == MQC_DISCONNECT)
      mqe__on_disconnect(e, c, &pkt);
    else
      mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, "MQTT-3.1.2-30",
                     "packet other than AUTH/DISCONNECT during authentication");
    return;
  }
  assert(c->state == MQE__S_CONNECTED);
  switch (t) {
  case MQC_PUBLISH:
    mqe__on_publish(e, c, &pkt);
    break;
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    mqe__on_ack(e, c, &pkt);
    break;
  case MQC_SUBSCRIBE:
    mqe__on_subscribe(e, c, &pkt);
    break;
  case MQC_UNSUBSCRIBE:
    mqe__on_unsubscribe(e, c, &pkt);
    break;
  case MQC_PINGREQ:
    if (!mqe__fault(e, MQE_FAULT_NO_PINGRESP)) mqe__send_simple(e, c, MQC_PINGRESP, 0, 0);
    break;
  case MQC_DISCONNECT:
    mqe__on_disconnect(e, c, &pkt);
    break;
  case MQC_AUTH:
    mqe__on_auth(e, c, &pkt);
    break;
  default:
    mqe__violation(e, c, MQC_RC_PROTOCOL_ERROR, NULL, "packet type not allowed from a client");
    break;
  }
}

static bool in_reserve(mqe_engine *e, mqe_conn *c, size_t need) {
  if (c->in_cap >= need) return true;
  size_t cap = c->in_cap ? c->in_cap : 64;
  while (cap < need)
    cap *= 2;
  uint8_t *b = mqe__alloc(e, cap);
  if (!b) return false;
  if (c->in_len) memcpy(b, c->in, c->in_len);
  mqe__free(e, c->in, c->in_cap);
  c->in = b;
  c->in_cap = cap;
  return true;
}

static void in_release(mqe_engine *e, mqe_conn *c) {
  mqe__free(e, c->in, c->in_cap);
  c->in = NULL;
  c->in_cap = c->in_len = 0;
}

/* Frames the bytes at p. Returns total length (> 0), 0 when incomplete with
 * *needed set, or -1 after failing the connection. */
static long frame(mqe_engine *e, mqe_conn *c, const uint8_t *p, size_t n, size_t *needed) {
  mqc_frame f;
  mqc_error err;
  mqc_version v = c->state == MQE__S_AWAIT_CONNECT ? MQC_VERSION_AUTO : c->ver;
  mqc_status st = mqc_frame_packet(p, n, v, e->cfg.maximum_packet_size, &f, &err);
  if (st == MQC_OK) return (long)f.total_len;
  if (st == MQC_INCOMPLETE) {
    *needed = f.needed ? f.needed : 1;
    return 0;
  }
  uint8_t reason = st == MQC_ERR_TOO_LARGE ? MQC_RC_PACKET_TOO_LARGE
                   : err.reason            ? err.reason
                                           : MQC_RC_MALFORMED_PACKET;
  const char *stmt = err.statement;
  if (st == MQC_ERR_TOO_LARGE && !stmt && c->ver == MQC_V5) stmt = "MQTT-3.2.2-15";
  mqe__violation(e, c, reason, stmt, err.message ? err.message : mqc_strerror(st));
  return -1;
}

/* ---- back-pressure -------------------------------------------------------
 * Output is hard-bounded. A connection whose pending output has reached
 * max_output_bytes is not fed from its session queue (mqe__pump) and its own
 * input is no longer dispatched: the bytes are held, undecoded, in c->in and
 * dispatched from mqe_conn_consumed once the output drains below the cap.
 * mqe_conn_wants_input() tells the caller to stop reading meanwhile, so the
 * kernel's buffers and TCP flow control slow the client down. Hence:
 *   pending output <= max_output_bytes + the reply to one packet
 *   held input     <= max_output_bytes + maximum_packet_size
 * A caller that keeps feeding past the second bound has the connection
 * closed (0x97 Quota exceeded, MQE_EV_LIMIT). */

static bool out_full(const mqe_engine *e, const mqe_conn *c) {
  return !mqe__out_room(e, c);
}

static size_t hold_limit(const mqe_engine *e) {
  return e->cfg.max_output_bytes + e->cfg.maximum_packet_size;
}

/* Appends buf to the held input. false after failing the connection. */
static bool hold(mqe_engine *e, mqe_conn *c, const uint8_t *buf, size_t len) {
  if (!len) return true;
  if (c->in_len + len > hold_limit(e)) {
    mqe__event(e, MQE_EV_LIMIT, c, MQC_RC_QUOTA_EXCEEDED, NULL,
               "input held beyond max_output_bytes + maximum_packet_size: the client does "
               "not read and the caller ignores mqe_conn_wants_input");
    mqe__fail(e, c, MQC_RC_QUOTA_EXCEEDED, NULL, "client does not read its output");
    return false;
  }
  if (!in_reserve(e, c, c->in_len + len)) {
    mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for input");
    return false;
  }
  memcpy(c->in + c->in_len, buf, len);
  c->in_len += len;
  c->in_held = true;
  c->last_rx = e->now; /* the client is talking: keep-alive holds */
  return true;
}

/* Dispatched even while stalled: they only concern deliveries to the client
 * (or its QoS 2 handshakes), so a client that publishes and subscribes keeps
 * draining the queue it waits for. No held PUBLISH can share their packet
 * identifiers (the client cannot reuse one before the flow completes). */
static bool dispatch_early(uint8_t first) {
  mqc_type t = (mqc_type)(first >> 4);
  return t == MQC_PUBACK || t == MQC_PUBREC || t == MQC_PUBREL || t == MQC_PUBCOMP ||
         t == MQC_PINGREQ;
}

/* Stalled: dispatches the acknowledgements among the held bytes not yet
 * scanned and closes the gaps they leave (one pass, O(new bytes)). */
static void held_acks(mqe_engine *e, mqe_conn *c) {
  size_t r = c->in_scan, w = c->in_scan;
  while (r < c->in_len && c->stall_on && c->state != MQE__S_CLOSING && !out_full(e, c)) {
    size_t needed = 0;
    long total = frame(e, c, c->in + r, c->in_len - r, &needed);
    if (total <= 0) break;
    if (dispatch_early(c->in[r])) {
      dispatch(e, c, c->in + r, (size_t)total);
    } else {
      if (w != r) memmove(c->in + w, c->in + r, (size_t)total);
      w += (size_t)total;
    }
    r += (size_t)total;
  }
  if (c->state == MQE__S_CLOSING) {
    c->in_len = c->in_scan = 0;
    c->in_held = false;
    return;
  }
  if (r != w) {
    memmove(c->in + w, c->in + r, c->in_len - r);
    c->in_len -= r - w;
  }
  c->in_scan = w;
  if (c->in_len == 0) {
    c->in_held = false;
    in_release(e, c);
  }
}

static bool blocked(const mqe_engine *e, const mqe_conn *c) {
  return c->stall_on || out_full(e, c);
}

/* Dispatches held packets while the output has room and no subscriber queue
 * holds the connection back. Each iteration consumes one whole packet or
 * stops. */
void mqe__run_held(mqe_engine *e, mqe_conn *c) {
  size_t off = 0;
  bool partial = false;
  while (off < c->in_len && c->state != MQE__S_CLOSING && !blocked(e, c)) {
    size_t needed = 0;
    long total = frame(e, c, c->in + off, c->in_len - off, &needed);
    if (total < 0) break;
    if (total == 0) {
      partial = true;
      break;
    }
    dispatch(e, c, c->in + off, (size_t)total);
    off += (size_t)total;
  }
  if (c->state == MQE__S_CLOSING) {
    c->in_len = c->in_scan = 0;
    c->in_held = false;
    return;
  }
  if (off) {
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_scan = 0; /* the rest is scanned afresh if stalled */
  }
  c->in_len -= off;
  /* only an incomplete packet left: back to the ordinary path, which
   * completes it from the next call's bytes */
  if (!c->stall_on && (partial || c->in_len == 0)) c->in_held = false;
  if (c->in_len == 0) {
    c->in_held = false;
    if (c->in) in_release(e, c);
    return;
  }
  if (c->stall_on && !out_full(e, c)) held_acks(e, c);
}

bool mqe_conn_wants_input(const mqe_engine *e, const mqe_conn *c) {
  if (out_full(e, c)) return false;
  if (!c->in_held) return true;
  /* stalled: read on (for the acks among the input) up to a bound */
  return c->stall_on && c->in_len < e->cfg.max_output_bytes;
}

void mqe_conn_buffered(const mqe_conn *c, size_t *in, size_t *out) {
  if (in) *in = c->in_cap;
  if (out) *out = c->out_cap;
}

/* MQE_FAULT_REFUSED_CONNECT_ACTS_ON_REST: a retained PUBLISH that came in
 * the same read as a refused CONNECT is stored, as if the connection had
 * been accepted. Only whole packets of this read; the rest is ignored. */
static void act_on_rest(mqe_engine *e, mqe_conn *c, const uint8_t *p, size_t n) {
  size_t off = 0;
  while (off < n) {
    mqc_frame f;
    mqc_error err;
    if (mqc_frame_packet(p + off, n - off, c->ver, e->cfg.maximum_packet_size, &f, &err) != MQC_OK)
      return;
    mqc_packet pkt;
    if (mqc_decode(p + off, f.total_len, c->ver, MQC_FROM_CLIENT, e->cfg.maximum_packet_size, &pkt,
                   &err) == MQC_OK &&
        pkt.type == MQC_PUBLISH && pkt.publish.retain) {
      uint32_t nlev = mqe__split(e, pkt.publish.topic);
      mqe_msg *m =
          nlev ? mqe__msg_new(e, pkt.publish.topic, (mqc_bytes){0}, &pkt.publish.props,
                              c->ver == MQC_V5, pkt.publish.payload, pkt.publish.qos, true, false)
               : NULL;
      if (m) {
        (void)mqe__retain(e, m, nlev);
        mqe__msg_unref(e, m);
      }
    }
    off += f.total_len;
  }
}

mqe_status mqe_conn_recv(mqe_engine *e, mqe_conn *c, const uint8_t *buf, size_t len, uint64_t now) {
  e->now = now;
  size_t off = 0;
  if (c->in_held || (blocked(e, c) && c->state != MQE__S_CLOSING)) {
    /* back-pressured: keep order, queue behind what is held */
    if (c->state != MQE__S_CLOSING && hold(e, c, buf, len)) mqe__run_held(e, c);
    mqe__settle(e);
    return c->state == MQE__S_CLOSING ? MQE_CLOSE : MQE_OK;
  }
  /* 1. complete a packet left over from an earlier call. Each iteration
   *    consumes input or finishes the packet. */
  while (c->in_len && c->state != MQE__S_CLOSING) {
    size_t needed = 0;
    long total = frame(e, c, c->in, c->in_len, &needed);
    if (total < 0) break;
    if (total > 0 && (size_t)total <= c->in_len) {
      assert(c->in_len == (size_t)total);
      dispatch(e, c, c->in, (size_t)total);
      c->in_len = 0;
      break;
    }
    if (off == len) break;
    size_t want = total > 0 ? (size_t)total - c->in_len : needed;
    size_t take = len - off < want ? len - off : want;
    if (!in_reserve(e, c, c->in_len + (total > 0 ? want : take))) {
      mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for input");
      break;
    }
    memcpy(c->in + c->in_len, buf + off, take);
    c->in_len += take;
    off += take;
  }
  if (c->in_len == 0 && c->in) in_release(e, c);
  /* 2. packets straight from the caller's buffer; each iteration consumes a
   *    whole packet or stores the tail. */
  while (off < len && c->state != MQE__S_CLOSING && c->in_len == 0) {
    if (blocked(e, c)) { /* back-pressure: the rest waits, undecoded */
      if (hold(e, c, buf + off, len - off)) mqe__run_held(e, c);
      break;
    }
    size_t needed = 0;
    long total = frame(e, c, buf + off, len - off, &needed);
    if (total < 0) break;
    if (total == 0) {
      size_t rest = len - off;
      if (!in_reserve(e, c, rest + needed)) {
        mqe__fail(e, c, MQC_RC_SERVER_BUSY, NULL, "out of memory for input");
        break;
      }
      memcpy(c->in, buf + off, rest);
      c->in_len = rest;
      off = len;
      break;
    }
    dispatch(e, c, buf + off, (size_t)total);
    off += (size_t)total;
    if (c->refused && mqe__fault(e, MQE_FAULT_REFUSED_CONNECT_ACTS_ON_REST))
      act_on_rest(e, c, buf + off, len - off);
  }
  mqe__settle(e);
  return c->state == MQE__S_CLOSING ? MQE_CLOSE : MQE_OK;
}

void mqe_conn_pending(const mqe_conn *c, const uint8_t **buf, size_t *len) {
  *buf = c->out ? c->out + c->out_off : NULL;
  *len = c->out_len - c->out_off;
}

void mqe_conn_consumed(mqe_engine *e, mqe_conn *c, size_t n, uint64_t now) {
  e->now = now;
  size_t live = c->out_len - c->out_off;
  if (n > live) n = live;
  c->out_off += n;
  if (c->out_off == c->out_len) {
    c->out_off = c->out_len = 0;
    if (c->out_cap > 4096) {
      mqe__free(e, c->out, c->out_cap);
      c->out = NULL;
      c->out_cap = 0;
    }
  }
  /* held input first: its acks free the in-flight window the pump needs */
  if (c->in_held && c->state != MQE__S_CLOSING) mqe__run_held(e, c);
  if (c->sess && c->state == MQE__S_CONNECTED) mqe__pump(e, c->sess);
  mqe__settle(e);
}

size_t mqe_conn_send(mqe_engine *e, mqe_conn *c, uint8_t *buf, size_t cap, uint64_t now) {
  size_t total = 0;
  /* bounded: each iteration copies bytes or stops */
  for (;;) {
    const uint8_t *p;
    size_t n;
    mqe_conn_pending(c, &p, &n);
    if (!n || total == cap) break;
    if (n > cap - total) n = cap - total;
    memcpy(buf + total, p, n);
    total += n;
    mqe_conn_consumed(e, c, n, now);
  }
  return total;
}

void mqe_conn_kick(mqe_engine *e, mqe_conn *c, uint8_t reason, uint64_t now) {
  e->now = now;
  if (c->state == MQE__S_CLOSING) return;
  /* input checked: a code DISCONNECT does not define becomes 0x80 */
  if (!mqc_reason_valid(MQC_DISCONNECT, MQC_FROM_SERVER, reason)) reason = MQC_RC_UNSPECIFIED_ERROR;
  mqe__fail(e, c, reason, NULL, "closed by the server");
  mqe__settle(e);
}

void mqe_conn_close(mqe_engine *e, mqe_conn *c, bool abrupt, uint64_t now) {
  e->now = now;
  if (c->state != MQE__S_CLOSING) {
    mqe__event(e, MQE_EV_LOST, c, 0, NULL, abrupt ? "connection lost" : "closed by the caller");
    c->state = MQE__S_CLOSING;
    if (c->sess && !c->detach_pending) {
      c->detach_pending = true;
      c->detach_will = abrupt && !c->will_cancelled;
      c->dnext = e->dhead;
      e->dhead = c;
    }
  }
  mqe__unstall(e, c);
  if (c->wake_pending) { /* bounded by the wake list */
    mqe_conn **pp = &e->wkhead;
    while (*pp != c)
      pp = &(*pp)->wknext;
    *pp = c->wknext;
    c->wake_pending = false;
  }
  mqe__settle(e);
  assert(!c->sess && !c->detach_pending && !c->stall_on);
  mqe__timer_clear(e, &c->timer);
  mqe__heap_release(e, 1);
  if (c->in_olist) {
    if (c->oprev)
      c->oprev->onext = c->onext;
    else
      e->ohead = c->onext;
    if (c->onext)
      c->onext->oprev = c->oprev;
    else
      e->otail = c->oprev;
  }
  if (c->prev)
    c->prev->next = c->next;
  else
    e->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  e->nconns--;
  mqe__alias_table_free(e, c->in_alias);
  if (c->out_alias) {
    for (uint16_t i = 0; i < c->out_alias_used; i++)
      mqe__free(e, c->out_alias[i].p, c->out_alias[i].n);
    mqe__free(e, c->out_alias, c->out_alias_max * sizeof *c->out_alias);
  }
  mqe__free(e, c->in, c->in_cap);
  mqe__free(e, c->out, c->out_cap);
  mqe__free(e, c->username, c->username_len ? c->username_len : 0);
  mqe__free(e, c->connect_copy, c->connect_copy_len);
  mqe__free(e, c, sizeof *c);
}
