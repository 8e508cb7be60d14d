/*
 * ws.c - MQTT over WebSocket (RFC 6455; MQTT 5.0 section 6).
 *
 * The opening handshake is ours (ws_http.c parses it); framing, masking,
 * continuation frames, ping/pong and the close handshake are wslay's. wslay
 * runs in no-buffering mode: payload chunks of binary messages are appended
 * to the bounded rx buffer as they arrive, so an MQTT packet may span any
 * number of frames/messages and one message may hold several packets.
 *
 * The planted deviations (mqn_ws_fault, server side only, for mqcheck
 * mutants) are in the table below and marked "fault:" where they act.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mqc.h"
#include "net_int.h"
#include "ws_http.h"

/* ---- planted deviations ------------------------------------------------- */

static const mqn_ws_fault_info FAULTS[] = {
    {"ws-accept-text", MQN_WS_FAULT_ACCEPT_TEXT, "MQTT-6.0.0-1", "MQTT-6.0.0-1",
     "a TEXT data message is read as MQTT bytes instead of closing the connection"},
    {"ws-aligned-packets", MQN_WS_FAULT_ALIGNED_PACKETS, "MQTT-6.0.0-2", "MQTT-6.0.0-2",
     "assumes packets are aligned on WebSocket messages: a message ending inside a packet is "
     "dropped"},
    {"ws-no-subprotocol", MQN_WS_FAULT_NO_SUBPROTOCOL, "MQTT-6.0.0-4", "MQTT-6.0.0-4",
     "the upgrade answer (101) selects no subprotocol instead of \"mqtt\""},
};

size_t mqn_ws_fault_count(void) {
  return sizeof FAULTS / sizeof FAULTS[0];
}

const mqn_ws_fault_info *mqn_ws_fault_at(size_t i) {
  return i < mqn_ws_fault_count() ? &FAULTS[i] : NULL;
}

const mqn_ws_fault_info *mqn_ws_fault_lookup(const char *name) {
  for (size_t i = 0; name && i < mqn_ws_fault_count(); i++)
    if (!strcmp(FAULTS[i].name, name)) return &FAULTS[i];
  return NULL;
}

static bool fault(const mqn_conn *c, mqn_ws_fault f) {
  return c->server && c->opts.ws_fault == (unsigned)f;
}

/* Where the bytes the reader may take end: with the aligned-packets fault,
 * only whole messages are handed on. */
static size_t rx_ready(const mqn_conn *c) {
  return fault(c, MQN_WS_FAULT_ALIGNED_PACKETS) ? c->ws_msg_start : c->rx_end;
}

/* ---- wslay callbacks ---------------------------------------------------- */

static ssize_t cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud) {
  (void)flags;
  mqn_conn *c = ud;
  /* Only read what the rx buffer can take: back-pressure goes to TCP. */
  size_t used = c->rx_end - c->rx_start;
  size_t room = used < c->rx_cap ? c->rx_cap - used : 0;
  if (room == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  if (len > room) len = room;
  size_t n = 0;
  mqn_status st = mqn__raw_read(c, buf, len, &n);
  if (st == MQN_OK) return (ssize_t)n;
  if (st == MQN_AGAIN) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  c->raw_status = st;
  if (st == MQN_CLOSED) c->eof = true;
  wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud) {
  (void)flags;
  mqn_conn *c = ud;
  size_t n = mqn__tx_put(c, data, len);
  if (n == 0) {
    /* Make room by pushing what is buffered towards the kernel. */
    mqn_status st = mqn__tx_flush(c);
    if (st != MQN_OK && st != MQN_AGAIN) {
      c->raw_status = st;
      wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
      return -1;
    }
    n = mqn__tx_put(c, data, len);
    if (n == 0) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
  }
  return (ssize_t)n;
}

static int cb_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud) {
  (void)ud;
  if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return 0;
}

static void cb_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *a, void *ud) {
  mqn_conn *c = ud;
  c->ws_frame_data = !(a->opcode & 0x8);
  if (!c->ws_frame_data) return;
  c->ws_msg_fin = a->fin;
  if (a->opcode != WSLAY_CONTINUATION_FRAME) c->ws_msg_op = a->opcode;
  /* fault: a TEXT message passes as if it were binary */
  if (c->ws_msg_op != WSLAY_BINARY_FRAME && !fault(c, MQN_WS_FAULT_ACCEPT_TEXT)) {
    /* MQTT-6.0.0-1: a data frame that is not binary closes the connection. */
    c->ws_violation = true;
    wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA, NULL, 0);
    wslay_event_shutdown_read(ctx);
  }
}

static void cb_frame_chunk(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_chunk_arg *a, void *ud) {
  mqn_conn *c = ud;
  if (!c->ws_frame_data || c->ws_violation || a->data_length == 0) return;
  size_t alloc = c->rx_cap + MQN__WS_SLACK;
  if (c->rx_end + a->data_length > alloc && c->rx_start > 0) {
    memmove(c->rx, c->rx + c->rx_start, c->rx_end - c->rx_start);
    c->rx_end -= c->rx_start;
    if (fault(c, MQN_WS_FAULT_ALIGNED_PACKETS)) c->ws_msg_start -= c->rx_start; /* never passed */
    c->rx_start = 0;
  }
  if (c->rx_end + a->data_length > alloc) {
    /* Cannot happen while cb_recv limits reads to the free room (see the
     * header comment of MQN__WS_SLACK); refuse rather than overflow. */
    c->raw_status = MQN_ERR_LIMIT;
    wslay_event_shutdown_read(ctx);
    return;
  }
  memcpy(c->rx + c->rx_end, a->data, a->data_length);
  c->rx_end += a->data_length;
}

/* fault (aligned packets): at the end of each message, its bytes go to the
 * reader if they are whole packets, and are dropped if the message ends
 * inside one (a broker that parses each message as packets of its own). A
 * message bigger than rx_cap (1 MiB here, see ws_attach) never ends: the
 * connection stalls, which is no concern of a deviation planted for the
 * suite. */
static void cb_frame_end(wslay_event_context_ptr ctx, void *ud) {
  (void)ctx;
  mqn_conn *c = ud;
  if (!c->ws_frame_data || !c->ws_msg_fin || !fault(c, MQN_WS_FAULT_ALIGNED_PACKETS)) return;
  size_t off = c->ws_msg_start;
  while (off < c->rx_end) {
    mqc_frame fr;
    mqc_error err;
    mqc_status st =
        mqc_frame_packet(c->rx + off, c->rx_end - off, MQC_VERSION_AUTO, MQC_NO_LIMIT, &fr, &err);
    if (st == MQC_INCOMPLETE) {
      c->rx_end = c->ws_msg_start;
      return;
    }
    if (st != MQC_OK) break; /* malformed: the engine judges it */
    off += fr.total_len;
  }
  c->ws_msg_start = c->rx_end;
}

static mqn_status ws_attach(mqn_conn *c) {
  struct wslay_event_callbacks cbs = {
      .recv_callback = cb_recv,
      .send_callback = cb_send,
      .genmask_callback = cb_genmask,
      .on_frame_recv_start_callback = cb_frame_start,
      .on_frame_recv_chunk_callback = cb_frame_chunk,
      .on_frame_recv_end_callback = cb_frame_end,
  };
  int r = c->server ? wslay_event_context_server_init(&c->ws, &cbs, c)
                    : wslay_event_context_client_init(&c->ws, &cbs, c);
  if (r != 0) return mqn__fail(c, MQN_ERR_NOMEM, "wslay context");
  wslay_event_config_set_no_buffering(c->ws, 1);
  /* fault (aligned packets): whole messages wait in rx, so it holds 1 MiB
   * (the suite's largest packet is 64 KiB and some bytes) */
  if (fault(c, MQN_WS_FAULT_ALIGNED_PACKETS) && c->rx_cap < (1u << 20)) c->rx_cap = 1u << 20;
  /* Control frames are at most 125 bytes; data frames stream through. */
  c->rx = malloc(c->rx_cap + MQN__WS_SLACK);
  if (!c->rx) return mqn__fail(c, MQN_ERR_NOMEM, "ws rx buffer");
  c->rx_start = c->rx_end = c->ws_msg_start = 0;
  return MQN_OK;
}

/* ---- opening handshake -------------------------------------------------- */

mqn_status mqn__ws_client_start(mqn_conn *c) {
  uint8_t nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return mqn__fail(c, MQN_ERR_IO, "RAND_bytes");
  EVP_EncodeBlock((unsigned char *)c->ws_key, nonce, sizeof nonce);
  char req[1024];
  /* IPv6 literals need brackets in Host. */
  bool v6 = strchr(c->host, ':') != NULL;
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\n"
                   "Host: %s%s%s:%u\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: mqtt\r\n"
                   "\r\n",
                   c->path[0] ? c->path : "/mqtt", v6 ? "[" : "", c->host, v6 ? "]" : "", c->port,
                   c->ws_key);
  if (n < 0 || (size_t)n >= sizeof req) return mqn__fail(c, MQN_ERR_ARGUMENT, "request too long");
  if (mqn__tx_put(c, (const uint8_t *)req, (size_t)n) != (size_t)n)
    return mqn__fail(c, MQN_ERR_LIMIT, "tx buffer too small for the upgrade request");
  c->phase = MQN__PH_WS_SEND;
  return MQN_OK;
}

/* Reads until the head is complete. Returns OK with *len set, AGAIN, or a
 * failure. Reads at most what hs can hold: bytes after the head stay in hs
 * and are handed to wslay first (mqn__raw_read). */
static mqn_status read_head(mqn_conn *c, size_t *len) {
  for (;;) {
    long hl = mqn__http_head_len(c->hs, c->hs_len, MQN__HS_MAX);
    if (hl > 0) {
      *len = (size_t)hl;
      return MQN_OK;
    }
    if (hl < 0)
      return mqn__fail(c, MQN_ERR_WS_REFUSED, "HTTP head longer than %d bytes", MQN__HS_MAX);
    size_t n = 0;
    /* Nothing to replay while the head is incomplete: read the wire. */
    c->hs_off = c->hs_len;
    mqn_status st = mqn__raw_read(c, c->hs + c->hs_len, MQN__HS_MAX - c->hs_len, &n);
    if (st == MQN_AGAIN) return st;
    if (st == MQN_ERR_IO && !c->server) {
      /* A peer that resets the connection instead of answering the upgrade
       * (e.g. a plain MQTT listener) has refused it. TLS failures keep
       * their own status. */
      c->status = MQN_ERR_WS_REFUSED;
      char prev[sizeof c->errmsg];
      memcpy(prev, c->errmsg, sizeof prev);
      snprintf(c->errmsg, sizeof c->errmsg, "no answer to the upgrade request (%.200s)", prev);
      return c->status;
    }
    if (st == MQN_CLOSED) {
      if (c->server)
        return mqn__fail(c, MQN_ERR_WS_PROTOCOL, "peer closed before the upgrade request");
      return mqn__fail(c, MQN_ERR_WS_REFUSED, "peer closed without answering the upgrade");
    }
    if (st != MQN_OK) return st;
    c->hs_len += n;
    c->hs_off = c->hs_len;
  }
}

static mqn_status client_recv(mqn_conn *c) {
  size_t hl = 0;
  mqn_status st = read_head(c, &hl);
  if (st != MQN_OK) return st;
  mqn__http_head h;
  if (!mqn__http_parse_response(c->hs, hl, &h))
    return mqn__fail(c, MQN_ERR_WS_REFUSED, "not an HTTP response to the upgrade request");
  if (h.status != 101)
    return mqn__fail(c, MQN_ERR_WS_REFUSED, "server answered \"%s\"", h.status_line);
  char want[29];
  mqn__ws_accept_for(c->ws_key, want);
  if (!h.upgrade_ws || !h.connection_upgrade)
    return mqn__fail(c, MQN_ERR_WS_REFUSED, "101 without Upgrade: websocket / Connection: upgrade");
  if (strcmp(h.accept, want) != 0)
    return mqn__fail(c, MQN_ERR_WS_REFUSED, "wrong Sec-WebSocket-Accept \"%s\"", h.accept);
  if (!h.proto_present)
    return mqn__fail(c, MQN_ERR_WS_SUBPROTOCOL, "server selected no subprotocol (wanted \"mqtt\")");
  if (!h.proto_mqtt)
    return mqn__fail(c, MQN_ERR_WS_SUBPROTOCOL, "server selected subprotocol \"%s\", not \"mqtt\"",
                     h.proto);
  /* What followed the head is frame data: raw_read serves it first. */
  c->hs_off = hl;
  st = ws_attach(c);
  if (st != MQN_OK) return st;
  c->phase = MQN__PH_OPEN;
  return MQN_OK;
}

static mqn_status server_reply(mqn_conn *c, const char *status, mqn_status fail, const char *why) {
  char resp[256];
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
  assert(n > 0 && (size_t)n < sizeof resp);
  mqn__tx_put(c, (const uint8_t *)resp, (size_t)n);
  (void)mqn__tx_flush(c); /* best effort: the peer learns why */
  return mqn__fail(c, fail, "%s (answered %s)", why, status);
}

static mqn_status server_recv(mqn_conn *c) {
  size_t hl = 0;
  mqn_status st = read_head(c, &hl);
  if (st != MQN_OK) return st;
  mqn__http_head h;
  if (!mqn__http_parse_request(c->hs, hl, &h))
    return server_reply(c, "400 Bad Request", MQN_ERR_WS_PROTOCOL, "malformed upgrade request");
  if (!h.is_get || !h.upgrade_ws || !h.connection_upgrade || h.key[0] == '\0')
    return server_reply(c, "400 Bad Request", MQN_ERR_WS_PROTOCOL, "not a WebSocket upgrade");
  if (h.version != 13)
    return server_reply(c, "426 Upgrade Required\r\nSec-WebSocket-Version: 13", MQN_ERR_WS_PROTOCOL,
                        "unsupported Sec-WebSocket-Version");
  if (!h.proto_mqtt)
    return server_reply(c, "400 Bad Request", MQN_ERR_WS_SUBPROTOCOL,
                        "client did not offer subprotocol \"mqtt\"");
  snprintf(c->ws_req_path, sizeof c->ws_req_path, "%s", h.path);
  char acc[29];
  mqn__ws_accept_for(h.key, acc);
  char resp[256];
  /* fault: the answer selects no subprotocol */
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n"
                   "%s"
                   "\r\n",
                   acc,
                   fault(c, MQN_WS_FAULT_NO_SUBPROTOCOL) ? "" : "Sec-WebSocket-Protocol: mqtt\r\n");
  assert(n > 0 && (size_t)n < sizeof resp);
  if (mqn__tx_put(c, (const uint8_t *)resp, (size_t)n) != (size_t)n)
    return mqn__fail(c, MQN_ERR_LIMIT, "tx buffer too small for the upgrade response");
  c->hs_off = hl;
  st = ws_attach(c);
  if (st != MQN_OK) return st;
  /* The 101 leaves with the first flush; frames queue behind it in order. */
  c->phase = MQN__PH_OPEN;
  st = mqn__tx_flush(c);
  return st == MQN_AGAIN ? MQN_OK : st;
}

mqn_status mqn__ws_step(mqn_conn *c) {
  if (c->phase == MQN__PH_WS_SEND) {
    mqn_status st = mqn__tx_flush(c);
    if (st != MQN_OK) return st;
    c->phase = MQN__PH_WS_RECV;
  }
  assert(c->phase == MQN__PH_WS_RECV);
  return c->server ? server_recv(c) : client_recv(c);
}

/* ---- open connection ---------------------------------------------------- */

/* Status of the connection after wslay stopped reading. */
static mqn_status ws_end_status(mqn_conn *c) {
  if (c->ws_violation)
    return mqn__fail(c, MQN_ERR_WS_PROTOCOL, "peer sent a non-binary data frame");
  if (c->raw_status != MQN_OK && c->raw_status != MQN_CLOSED) {
    if (c->phase != MQN__PH_FAILED)
      return mqn__fail(c, c->raw_status, "%s", mqn_strerror(c->raw_status));
    return c->status;
  }
  if (wslay_event_get_close_received(c->ws)) {
    /* Close handshake complete once our reply left: nothing more may be
     * sent, so end our half of TCP (RFC 6455 7.1.1 lets the server close
     * first; peers such as `ws` wait for our FIN). */
    if (wslay_event_get_close_sent(c->ws) && c->tx_end == c->tx_start) mqn__finish_shutdown(c);
    return MQN_CLOSED;
  }
  if (c->eof) return MQN_CLOSED; /* TCP closed without a close frame */
  /* wslay stopped on a framing error (it queued close 1002 itself). */
  return mqn__fail(c, MQN_ERR_WS_PROTOCOL, "WebSocket framing error from peer");
}

mqn_status mqn__ws_pump_out(mqn_conn *c) {
  if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0) {
    if (c->raw_status != MQN_OK && c->phase != MQN__PH_FAILED)
      return mqn__fail(c, c->raw_status, "%s", mqn_strerror(c->raw_status));
    if (c->phase == MQN__PH_FAILED) return c->status;
    return mqn__fail(c, MQN_ERR_WS_PROTOCOL, "wslay send failed");
  }
  mqn_status st = mqn__tx_flush(c);
  if (st == MQN_OK && wslay_event_want_write(c->ws)) {
    /* tx drained but wslay still holds frames (tx was full): go again once;
     * the caller's next flush continues. */
    if (wslay_event_send(c->ws) != 0) return mqn__fail(c, MQN_ERR_IO, "wslay send failed");
    st = mqn__tx_flush(c);
    if (st == MQN_OK && wslay_event_want_write(c->ws)) st = MQN_AGAIN;
  }
  return st;
}

bool mqn__ws_wants_write(const mqn_conn *c) {
  return c->ws && wslay_event_want_write(c->ws);
}

mqn_status mqn__ws_read(mqn_conn *c, uint8_t *buf, size_t cap, size_t *n) {
  if (rx_ready(c) == c->rx_start && wslay_event_get_read_enabled(c->ws)) {
    if (c->rx_end == c->rx_start) c->rx_start = c->rx_end = c->ws_msg_start = 0;
    (void)wslay_event_recv(c->ws);
    /* Pongs and close replies that wslay queued go out now. */
    mqn_status ps = mqn__ws_pump_out(c);
    if (ps != MQN_OK && ps != MQN_AGAIN && rx_ready(c) == c->rx_start) return ps;
  }
  if (rx_ready(c) > c->rx_start) {
    size_t k = rx_ready(c) - c->rx_start;
    if (k > cap) k = cap;
    memcpy(buf, c->rx + c->rx_start, k);
    c->rx_start += k;
    *n = k;
    return MQN_OK;
  }
  if (!wslay_event_get_read_enabled(c->ws)) return ws_end_status(c);
  c->rd_want = c->ssl ? c->rd_want : MQN_WANT_READ;
  return MQN_AGAIN;
}

mqn_status mqn__ws_write(mqn_conn *c, const uint8_t *buf, size_t len, size_t *n) {
  if (!wslay_event_get_write_enabled(c->ws) || wslay_event_get_close_sent(c->ws))
    return mqn__fail(c, MQN_ERR_ARGUMENT, "write after the WebSocket close");
  /* Bound what waits inside wslay by the same tx_cap as the byte buffer. */
  size_t queued = wslay_event_get_queued_msg_length(c->ws);
  size_t room = queued < c->tx_cap ? c->tx_cap - queued : 0;
  if (len > room) len = room;
  if (len == 0) {
    mqn_status st = mqn__ws_pump_out(c);
    return st == MQN_OK || st == MQN_AGAIN ? MQN_AGAIN : st;
  }
  size_t chunk = c->opts.ws_frame_max ? c->opts.ws_frame_max : len;
  size_t done = 0;
  while (done < len) {
    size_t k = len - done < chunk ? len - done : chunk;
    struct wslay_event_msg m = {WSLAY_BINARY_FRAME, buf + done, k};
    int r = wslay_event_queue_msg(c->ws, &m);
    if (r == WSLAY_ERR_NOMEM) return mqn__fail(c, MQN_ERR_NOMEM, "wslay queue");
    if (r != 0) return mqn__fail(c, MQN_ERR_ARGUMENT, "cannot queue WebSocket message");
    done += k;
  }
  *n = len;
  mqn_status st = mqn__ws_pump_out(c);
  return st == MQN_AGAIN ? MQN_OK : st;
}

mqn_status mqn__ws_close(mqn_conn *c) {
  if (!wslay_event_get_close_sent(c->ws) && wslay_event_get_write_enabled(c->ws))
    (void)wslay_event_queue_close(c->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
  return mqn__ws_pump_out(c);
}

/* Queues one message of the given opcode on an open c and flushes what the
 * socket takes (the loop flushes the rest). */
static mqn_status ws_queue_msg(mqn_conn *c, uint8_t opcode, const uint8_t *data, size_t len) {
  mqn__loop_touch(c);
  struct wslay_event_msg m = {opcode, data, len};
  if (wslay_event_queue_msg(c->ws, &m) != 0) return MQN_ERR_ARGUMENT;
  mqn_status st = mqn__ws_pump_out(c);
  return st == MQN_AGAIN ? MQN_OK : st;
}

mqn_status mqn_conn_ws_ping(mqn_conn *c, const uint8_t *data, size_t len) {
  if (!c || !c->ws || c->phase != MQN__PH_OPEN || len > 125 || (len && !data))
    return MQN_ERR_ARGUMENT;
  return ws_queue_msg(c, WSLAY_PING, data, len);
}

mqn_status mqn_conn_ws_send_text(mqn_conn *c, const uint8_t *data, size_t len) {
  if (!c || !c->ws || c->phase != MQN__PH_OPEN || !data || len == 0 || len > 65536)
    return MQN_ERR_ARGUMENT;
  if (!wslay_event_get_write_enabled(c->ws) || wslay_event_get_close_sent(c->ws))
    return MQN_ERR_ARGUMENT;
  return ws_queue_msg(c, WSLAY_TEXT_FRAME, data, len);
}

const char *mqn_conn_ws_path(const mqn_conn *c) {
  if (!c || !c->ws) return NULL;
  return c->server ? c->ws_req_path : c->path;
}
