/* behaviours.c - the scripted server behaviours of client-check and the
 * verdict each gives on the client's replies. docs/clients.md describes
 * each one; the statements are the client-side ones of spec/. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int64_t now(void) {
  return mqn_now_ms();
}

/* ---- connack-refused: CONNACK 0x87, the transport kept open 1 s ------------ */

/* A "never did X" statement passes only once the client was accepted and
 * had the chance: a client that never got a CONNACK proves nothing. */
static void pass_if_connected(mqk__case *k, const char *rule, const char *what) {
  for (size_t i = 0; i < k->nconns; i++)
    if (k->conns[i]->connack_at && !k->conns[i]->connack_reason) {
      mqk__judge(k, rule, true, "%s", what);
      return;
    }
  mqk__why(k, "no CONNACK reached the client");
}

static void cfg_refused(mqk__case *k, mqe_config *c) {
  k->user = (mqe_user){"mqk-user", "mqk-password"};
  c->allow_anonymous = false;
  c->users = &k->user;
  c->user_count = 1;
}

/* A connection the server ended (refusal or DISCONNECT) on which the client
 * then stayed quiet: the statement held. */
static void finish_silenced(mqk__case *k) {
  bool any = false;
  for (size_t i = 0; i < k->nconns; i++) {
    const mqk__conn *c = k->conns[i];
    if (!c->silenced_at) continue;
    any = true;
    mqk__judge(k, "MQTT-4.13.2-1", true, "nothing sent after reason 0x%02x; the client %s",
               c->connack_reason,
               c->client_closed ? "closed the connection" : "waited for the server to close");
  }
  if (!any) mqk__why(k, "the server's refusal or DISCONNECT never reached the client");
}

/* ---- session-present: Session Present 1 on a clean start -------------------
 * The client has 3 QoS 1 messages to publish and every PUBACK is held back
 * 1 s, so a client that goes on is still connected when the first arrives;
 * one that obeys closes at once. Packets within MQK__GRACE_MS of the CONNACK
 * may have left before the client read it (pipelining is allowed). */

static mqk__action srv_sp(mqk__case *k, mqk__conn *c, const mqc_packet *p, uint8_t *raw, size_t n) {
  if (p->type == MQC_PUBACK) return MQK__HOLD_IT;
  if (p->type != MQC_CONNACK || p->connack.reason || n < 3 || k->phase) return MQK__FORWARD;
  if (!c->clean_start) {
    mqk__why(k, "the client asked to resume a session (Clean Start 0); the check needs a "
                "clean start");
    return MQK__FORWARD;
  }
  raw[2] |= 1; /* acknowledge flags: Session Present */
  k->phase = 1;
  k->pid = (uint16_t)c->index;
  return MQK__FORWARD;
}

static mqk__action cli_sp(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  if (k->phase == 1 && c->index == k->pid && p->type != MQC_DISCONNECT &&
      now() > c->connack_at + mqk__ms(k, MQK__GRACE_MS))
    mqk__judge(k, "MQTT-3.2.2-4", false,
               "after Session Present 1 on a Clean Start 1 connection the client went on with %s "
               "instead of closing the connection",
               mqc_type_name(p->type));
  return MQK__FORWARD;
}

static void fin_sp(mqk__case *k) {
  if (k->phase != 1) return;
  const mqk__conn *c = k->conns[k->pid];
  int64_t took = c->gone_at - c->connack_at;
  if (c->client_closed && took < mqk__ms(k, 1000))
    mqk__judge(k, "MQTT-3.2.2-4", true, "the client closed the connection %lld ms after CONNACK",
               (long long)took);
  else
    mqk__judge(k, "MQTT-3.2.2-4", false,
               "the client kept the connection %lld ms after Session Present 1 (until its "
               "PUBACKs came, 1 s late)",
               (long long)took);
}

/* ---- redelivery after a dropped connection --------------------------------
 * variant 0 redelivery-dup: the first QoS 1 PUBLISH is withheld from the
 *   engine (no PUBACK) and the connection dropped; resumed, the client must
 *   re-send it with DUP 1 and the same Packet Identifier.
 * variant 1 pubrel-resend: the first PUBREL is withheld and the connection
 *   dropped; resumed, the client must re-send the PUBREL, never the PUBLISH.
 * variant 2 session-lost: as 0, but the reconnection is told Session Present
 *   0; the client must not re-send the old PUBLISH as a redelivery. */

#define REDELIVER_RULE "MQTT-4.4.0-1" /* the same number in 3.1.1 and 5.0 */

static mqk__action cli_redeliver(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  int v = k->b->variant;
  if (k->phase == 0) {
    if (v != 1 && p->type == MQC_PUBLISH && p->publish.qos > 0) {
      k->pid = p->publish.packet_id;
      k->phase = 1;
      k->t = now() + mqk__ms(k, 300);
      return MQK__SWALLOW;
    }
    if (v == 1 && p->type == MQC_PUBREL) {
      k->pid = p->ack.packet_id;
      k->phase = 1;
      k->t = now() + mqk__ms(k, 300);
      return MQK__SWALLOW;
    }
    return MQK__FORWARD;
  }
  if (k->phase != 3 || c->index == 0) return MQK__FORWARD;
  /* phase 3: a later connection that was told its session state */
  if (v == 0 && p->type == MQC_PUBLISH && k->count == 0) {
    k->count = 1;
    if (p->publish.packet_id != k->pid) {
      mqk__judge(k, REDELIVER_RULE, false,
                 "the first PUBLISH after resuming has id %u, not the unacknowledged %u",
                 p->publish.packet_id, k->pid);
    } else {
      mqk__judge(k, REDELIVER_RULE, true, "PUBLISH %u re-sent on the resumed session", k->pid);
      mqk__judge(k, "MQTT-3.3.1-1", p->publish.dup, "the re-sent PUBLISH %u has DUP %d", k->pid,
                 p->publish.dup);
    }
  }
  if (v == 1 && p->type == MQC_PUBLISH && p->publish.packet_id == k->pid)
    mqk__judge(k, k->v5 ? "MQTT-4.3.3-6" : "MQTT-4.3.3-1", false,
               "PUBLISH %u re-sent although its PUBREL had been sent", k->pid);
  if (v == 1 && p->type == MQC_PUBREL && p->ack.packet_id == k->pid && !k->count) {
    k->count = 1;
    mqk__judge(k, REDELIVER_RULE, true, "PUBREL %u re-sent on the resumed session", k->pid);
  }
  if (v == 2 && p->type == MQC_PUBLISH && p->publish.dup && p->publish.packet_id == k->pid) {
    mqk__judge(k, REDELIVER_RULE, false,
               "PUBLISH %u re-sent with DUP 1 although the server said Session Present 0", k->pid);
    if (k->v5) /* it kept the session state it had to discard */
      mqk__judge(k, "MQTT-3.2.2-5", false, "the old session's PUBLISH %u was redelivered", k->pid);
  }
  if (v == 2 && p->type == MQC_PUBLISH && !p->publish.dup)
    mqk__judge(k, REDELIVER_RULE, true, "after Session Present 0 the message went out as new");
  return MQK__FORWARD;
}

static mqk__action srv_redeliver(mqk__case *k, mqk__conn *c, const mqc_packet *p, uint8_t *raw,
                                 size_t n) {
  if (p->type != MQC_CONNACK || c->index == 0 || k->phase != 2 || p->connack.reason)
    return MQK__FORWARD;
  if (k->b->variant == 2) {
    if (!p->connack.session_present) {
      mqk__why(k, "the client reconnected without a session to lose (Clean Start 1 or Session "
                  "Expiry 0)");
      return MQK__FORWARD;
    }
    raw[2] &= (uint8_t)~1u; /* the server "lost" the session */
    k->phase = 3;
    return MQK__FORWARD;
  }
  (void)n;
  if (!p->connack.session_present) {
    mqk__why(k, "the client reconnected without a session (Clean Start 1%s), so nothing was owed",
             k->v5 ? " or Session Expiry 0" : "");
    return MQK__FORWARD;
  }
  k->phase = 3;
  return MQK__FORWARD;
}

static void tick_redeliver(mqk__case *k, int64_t t) {
  if (k->phase == 1 && t >= k->t && k->nconns) {
    mqk__logf(k, "dropping the connection with message %u unacknowledged", k->pid);
    mqk__drop(k, k->conns[0]);
    k->phase = 2;
  }
}

static void fin_redeliver(mqk__case *k) {
  if (k->phase == 0)
    mqk__why(k, "the client sent no %s", k->b->variant == 1 ? "PUBREL" : "QoS 1 PUBLISH");
  else if (k->phase <= 2 && k->nconns < 2)
    mqk__why(k, "the client did not reconnect after the connection was dropped");
  else if (k->phase == 3 && !k->count && k->b->variant != 2)
    mqk__judge(k, REDELIVER_RULE, false, "%s %u was not re-sent on the resumed session",
               k->b->variant == 1 ? "PUBREL" : "PUBLISH", k->pid);
  else if (k->phase == 3 && k->b->variant == 1)
    mqk__judge(k, k->v5 ? "MQTT-4.3.3-6" : "MQTT-4.3.3-1", true,
               "the PUBLISH was not sent again after its PUBREL");
  else if (k->phase == 3 && k->b->variant == 2) {
    mqk__judge(k, REDELIVER_RULE, true, "no redelivery after Session Present 0");
    if (k->v5) mqk__judge(k, "MQTT-3.2.2-5", true, "the old session's state was discarded");
  }
}

/* ---- maximum-qos: Maximum QoS 1, the client asked to publish at QoS 2 ---- */

static void cfg_maxqos(mqk__case *k, mqe_config *c) {
  (void)k;
  c->maximum_qos = 1;
}

static mqk__action cli_maxqos(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  (void)c;
  if (p->type == MQC_PUBLISH)
    mqk__judge(k, "MQTT-3.2.2-11", p->publish.qos <= 1, "PUBLISH at QoS %u after Maximum QoS 1",
               p->publish.qos);
  return MQK__FORWARD;
}

static void fin_maxqos(mqk__case *k) {
  pass_if_connected(k, "MQTT-3.2.2-11", "no PUBLISH above Maximum QoS 1");
}

/* ---- retain-unavailable: Retain Available 0, asked to publish retained ---- */

static void cfg_noretain(mqk__case *k, mqe_config *c) {
  (void)k;
  c->retain_available = false;
}

static mqk__action cli_noretain(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  (void)c;
  if (p->type == MQC_PUBLISH)
    mqk__judge(k, "MQTT-3.2.2-14", !p->publish.retain,
               "PUBLISH with RETAIN %d after Retain Available 0", p->publish.retain);
  return MQK__FORWARD;
}

static void fin_noretain(mqk__case *k) {
  pass_if_connected(k, "MQTT-3.2.2-14", "no PUBLISH with RETAIN 1");
}

/* ---- qos-downgrade: subscribed at 2, granted and delivered at 1 ----------- */

static mqk__action srv_downgrade(mqk__case *k, mqk__conn *c, const mqc_packet *p, uint8_t *raw,
                                 size_t n) {
  (void)c, (void)raw, (void)n;
  if (p->type == MQC_PUBLISH && p->publish.qos == 1 && !k->phase) {
    k->phase = 1;
    k->pid = p->publish.packet_id;
  }
  return MQK__FORWARD;
}

static const char *ack1_rule(const mqk__case *k) {
  return k->v5 ? "MQTT-4.3.2-4" : "MQTT-4.3.2-2";
}

static mqk__action cli_downgrade(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  (void)c;
  if (k->phase != 1) return MQK__FORWARD;
  if (p->type == MQC_PUBACK && p->ack.packet_id == k->pid) {
    k->phase = 2;
    mqk__judge(k, ack1_rule(k), true, "PUBACK %u for the QoS 1 delivery", k->pid);
  } else if (p->type == MQC_PUBREC && p->ack.packet_id == k->pid) {
    k->phase = 2;
    mqk__judge(k, ack1_rule(k), false, "PUBREC %u for a QoS 1 delivery (QoS 2 answer)", k->pid);
  }
  return MQK__FORWARD;
}

static void fin_downgrade(mqk__case *k) {
  if (k->phase == 1)
    mqk__judge(k, ack1_rule(k), false, "no PUBACK for the QoS 1 delivery %u", k->pid);
  else if (!k->phase)
    mqk__why(k, "no QoS 1 delivery reached the client (did it subscribe?)");
}

/* ---- server-topic-alias: the second delivery carries only the alias ------- */

static void cfg_alias(mqk__case *k, mqe_config *c) {
  (void)k;
  c->outbound_aliases = 8;
}

static mqk__action srv_alias(mqk__case *k, mqk__conn *c, const mqc_packet *p, uint8_t *raw,
                             size_t n) {
  (void)c, (void)raw, (void)n;
  if (p->type == MQC_PUBLISH && !p->publish.topic.n && !k->phase) {
    k->phase = 1;
    k->pid = p->publish.packet_id;
  }
  return MQK__FORWARD;
}

static mqk__action cli_alias(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  (void)c;
  if (p->type == MQC_DISCONNECT && p->disconnect.reason == 0x94)
    mqk__judge(k, "MQTT-3.3.2-10", false,
               "DISCONNECT 0x94 (Topic Alias invalid) for an alias it allowed");
  if (k->phase == 1 && p->type == MQC_PUBACK && p->ack.packet_id == k->pid) {
    k->phase = 2;
    mqk__judge(k, "MQTT-3.3.2-10", true, "PUBACK %u for a PUBLISH carrying only Topic Alias",
               k->pid);
  }
  return MQK__FORWARD;
}

static void fin_alias(mqk__case *k) {
  bool allows = false;
  for (size_t i = 0; i < k->nconns; i++)
    if (k->conns[i]->topic_alias_max) allows = true;
  if (!allows)
    mqk__why(k, "the client allows no topic aliases (no Topic Alias Maximum in CONNECT)");
  else if (k->phase == 1)
    mqk__judge(k, "MQTT-3.3.2-10", false, "no PUBACK for the PUBLISH carrying only its alias");
  else if (!k->phase)
    mqk__why(k, "no alias-only delivery reached the client");
}

/* ---- receive-maximum: Receive Maximum 1, PUBACKs held back 200 ms --------- */

static void cfg_recvmax(mqk__case *k, mqe_config *c) {
  (void)k;
  c->receive_maximum = 1;
}

static mqk__action srv_recvmax(mqk__case *k, mqk__conn *c, const mqc_packet *p, uint8_t *raw,
                               size_t n) {
  (void)k, (void)c, (void)raw, (void)n;
  return p->type == MQC_PUBACK ? MQK__HOLD_IT : MQK__FORWARD;
}

static mqk__action cli_recvmax(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  (void)c;
  if (p->type != MQC_PUBLISH || !p->publish.qos || p->publish.dup) return MQK__FORWARD;
  k->count++;
  unsigned inflight = k->count - k->released;
  if (inflight > k->max_seen) k->max_seen = inflight;
  if (inflight > 1) {
    mqk__judge(k, "MQTT-3.3.4-7", false, "%u QoS 1 PUBLISH unacknowledged with Receive Maximum 1",
               inflight);
    mqk__judge(k, "MQTT-4.9.0-2", false, "a QoS 1 PUBLISH sent with the send quota at 0");
  }
  return MQK__FORWARD;
}

static void fin_recvmax(mqk__case *k) {
  if (k->count < 2)
    mqk__why(k, "the client sent %u QoS 1 PUBLISH; the check needs 2 or more", k->count);
  else {
    mqk__judge(k, "MQTT-3.3.4-7", true, "%u QoS 1 PUBLISH, never more than %u unacknowledged",
               k->count, k->max_seen);
    mqk__judge(k, "MQTT-4.9.0-2", true, "it waited for each PUBACK before the next PUBLISH");
  }
}

/* ---- maximum-packet-size: Maximum Packet Size 128, a 300-byte payload ----- */

static void cfg_maxpkt(mqk__case *k, mqe_config *c) {
  (void)k;
  c->maximum_packet_size = 128;
}

static mqk__action cli_maxpkt(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  (void)c;
  size_t size = p->header_len + p->remaining_length;
  if (size > 128)
    mqk__judge(k, "MQTT-3.2.2-15", false, "a %s of %zu bytes after Maximum Packet Size 128",
               mqc_type_name(p->type), size);
  return MQK__FORWARD;
}

static void fin_maxpkt(mqk__case *k) {
  pass_if_connected(k, "MQTT-3.2.2-15", "nothing above Maximum Packet Size 128");
}

/* ---- server-keep-alive: Server Keep Alive 2, then 5 s of nothing to do --- */

static void cfg_keepalive(mqk__case *k, mqe_config *c) {
  (void)k;
  c->server_keep_alive = 2;
}

static void fin_keepalive(mqk__case *k) {
  if (k->client_keep_alive && k->client_keep_alive <= 2)
    mqk__why(k, "the client asked for Keep Alive %u itself", k->client_keep_alive);
  else if (k->keep_alive_closed)
    mqk__judge(k, "MQTT-3.2.2-21", false,
               "silent for over 3 s after Server Keep Alive 2 (it asked for %u)",
               k->client_keep_alive);
  else if (k->delivered)
    mqk__judge(k, "MQTT-3.2.2-21", true,
               "kept the connection alive for 5 s on Server Keep Alive 2");
  else
    mqk__why(k, "the connection did not last until the delivery");
}

/* ---- keep-alive: the client's own Keep Alive 5, nothing to do for 8.5 s ---- */

static void fin_own_keepalive(mqk__case *k) {
  const char *id = k->v5 ? "MQTT-3.1.2-20" : "MQTT-3.1.2-23";
  if (!k->client_keep_alive || k->client_keep_alive > 5)
    mqk__why(k, "the client asked for Keep Alive %u, not the 5 s of {keepalive}",
             k->client_keep_alive);
  else if (k->keep_alive_closed)
    mqk__judge(k, id, false, "silent for 1.5 x its own Keep Alive %u", k->client_keep_alive);
  else if (k->delivered)
    mqk__judge(k, id, true, "kept the connection alive for 8.5 s on Keep Alive %u",
               k->client_keep_alive);
  else
    mqk__why(k, "the connection did not last until the delivery");
}

/* ---- disconnect-reason: DISCONNECT 0x8B after the SUBACK ------------------ */

static mqk__action srv_disc(mqk__case *k, mqk__conn *c, const mqc_packet *p, uint8_t *raw,
                            size_t n) {
  (void)raw, (void)n;
  if (p->type == MQC_SUBACK && !k->phase) {
    k->phase = 1;
    k->pid = (uint16_t)c->index;
    k->t = now() + mqk__ms(k, 200);
  }
  return MQK__FORWARD;
}

static void tick_disc(mqk__case *k, int64_t t) {
  if (k->phase != 1 || t < k->t) return;
  k->phase = 2;
  mqk__conn *c = k->conns[k->pid];
  if (c->ec && !c->gone) mqe_conn_kick(k->e, c->ec, 0x8B, (uint64_t)t);
}

/* ---- auth-challenge: mqcheck-challenge offered ---------------------------- */

static void cfg_auth(mqk__case *k, mqe_config *c) {
  k->auth = mqe_auth_challenge_method("mqk-secret");
  c->auth_methods = &k->auth;
  c->auth_method_count = 1;
}

static mqk__action cli_auth(mqk__case *k, mqk__conn *c, const mqc_packet *p) {
  if (p->type != MQC_AUTH) return MQK__FORWARD;
  if (!c->has_auth_method) {
    mqk__judge(k, "MQTT-4.12.0-7", false, "AUTH without an Authentication Method in CONNECT");
    return MQK__FORWARD;
  }
  mqk__judge(k, "MQTT-4.12.0-3", p->auth.reason == 0x18, "AUTH reason 0x%02x in reply to 0x18",
             p->auth.reason);
  mqc_prop m;
  bool same = mqc_props_get(&p->auth.props, MQC_PROP_AUTHENTICATION_METHOD, &m) &&
              mqc_bytes_eq(m.value, mqc_cstr("mqcheck-challenge"));
  mqk__judge(k, "MQTT-4.12.0-5", same, "AUTH %s the method of CONNECT",
             same ? "repeats" : "does not repeat");
  return MQK__FORWARD;
}

static void fin_auth(mqk__case *k) {
  bool method = false;
  for (size_t i = 0; i < k->nconns; i++)
    if (k->conns[i]->has_auth_method) method = true;
  if (!method) {
    mqk__judge(k, "MQTT-4.12.0-7", true, "no Authentication Method and no AUTH");
    mqk__why(k, "the client named no Authentication Method (enhanced authentication unused)");
  }
}

/* ---- the table ------------------------------------------------------------ */

#define V311 MQS_V311
#define V5   MQS_V5
static const mqk__behaviour behaviours[] = {
    {{"connack-refused",
      "CONNACK 0x87 Not authorized; the transport stays open 1 s: the client "
      "must send nothing more on it",
      MQK_PUB,
      V5,
      {{NULL}, {"MQTT-4.13.2-1"}},
      1,
      1,
      0,
      5000,
      false,
      NULL,
      0,
      false},
     .close_delay_ms = 1000,
     .config = cfg_refused,
     .finish = finish_silenced},
    {{"session-present-unexpected",
      "Session Present 1 on a Clean Start 1 connection, its PUBACKs 1 s late: "
      "the client must close the connection at once",
      MQK_PUB,
      V5,
      {{NULL}, {"MQTT-3.2.2-4"}},
      1,
      3,
      0,
      5000,
      false,
      NULL,
      0,
      false},
     .hold_ms = 1000,
     .server_pkt = srv_sp,
     .client_pkt = cli_sp,
     .finish = fin_sp},
    {{"redelivery-dup",
      "the first QoS 1 PUBLISH gets no PUBACK and the connection drops: the "
      "resumed client re-sends it with DUP 1 and the same id",
      MQK_PUB,
      V311 | V5,
      {{"MQTT-4.4.0-1", "MQTT-3.3.1-1"}, {"MQTT-4.4.0-1", "MQTT-3.3.1-1"}},
      1,
      1,
      0,
      8000,
      true,
      NULL,
      0,
      false},
     .variant = 0,
     .client_pkt = cli_redeliver,
     .server_pkt = srv_redeliver,
     .tick = tick_redeliver,
     .finish = fin_redeliver},
    {{"pubrel-resend",
      "the first PUBREL gets no PUBCOMP and the connection drops: the resumed "
      "client re-sends the PUBREL, never the PUBLISH",
      MQK_PUB,
      V311 | V5,
      {{"MQTT-4.4.0-1", "MQTT-4.3.3-1"}, {"MQTT-4.4.0-1", "MQTT-4.3.3-6"}},
      2,
      1,
      0,
      8000,
      true,
      NULL,
      0,
      false},
     .variant = 1,
     .client_pkt = cli_redeliver,
     .server_pkt = srv_redeliver,
     .tick = tick_redeliver,
     .finish = fin_redeliver},
    {{"session-lost",
      "as redelivery-dup, but the reconnection gets Session Present 0: the "
      "client must not redeliver the old PUBLISH",
      MQK_PUB,
      V311 | V5,
      {{"MQTT-4.4.0-1"}, {"MQTT-4.4.0-1", "MQTT-3.2.2-5"}},
      1,
      1,
      0,
      8000,
      true,
      NULL,
      0,
      false},
     .variant = 2,
     .client_pkt = cli_redeliver,
     .server_pkt = srv_redeliver,
     .tick = tick_redeliver,
     .finish = fin_redeliver},
    {{"maximum-qos",
      "CONNACK Maximum QoS 1 to a client asked to publish at QoS 2: no PUBLISH "
      "above QoS 1",
      MQK_PUB,
      V5,
      {{NULL}, {"MQTT-3.2.2-11"}},
      2,
      1,
      0,
      5000,
      false,
      NULL,
      0,
      false},
     .config = cfg_maxqos,
     .client_pkt = cli_maxqos,
     .finish = fin_maxqos},
    {{"retain-unavailable",
      "CONNACK Retain Available 0 to a client asked to publish a retained message: no "
      "PUBLISH with RETAIN 1",
      MQK_PUB,
      V5,
      {{NULL}, {"MQTT-3.2.2-14"}},
      1,
      1,
      0,
      5000,
      false,
      NULL,
      0,
      true},
     .config = cfg_noretain,
     .client_pkt = cli_noretain,
     .finish = fin_noretain},
    {{"qos-downgrade",
      "a QoS 2 subscription granted QoS 1 and a message delivered at QoS 1: "
      "the client answers PUBACK",
      MQK_SUB,
      V311 | V5,
      {{"MQTT-4.3.2-2"}, {"MQTT-4.3.2-4"}},
      2,
      1,
      0,
      5000,
      false,
      NULL,
      0,
      false},
     .publish_delay_ms = 100,
     .config = cfg_maxqos,
     .server_pkt = srv_downgrade,
     .client_pkt = cli_downgrade,
     .finish = fin_downgrade},
    {{"server-topic-alias",
      "two deliveries, the second with only the Topic Alias the first set: "
      "the client accepts and acknowledges both",
      MQK_SUB,
      V5,
      {{NULL}, {"MQTT-3.3.2-10"}},
      1,
      2,
      0,
      5000,
      false,
      NULL,
      0,
      false},
     .publish_delay_ms = 100,
     .config = cfg_alias,
     .server_pkt = srv_alias,
     .client_pkt = cli_alias,
     .finish = fin_alias},
    {{"receive-maximum",
      "Receive Maximum 1 and every PUBACK 200 ms late: never two QoS 1 "
      "PUBLISH unacknowledged",
      MQK_PUB,
      V5,
      {{NULL}, {"MQTT-3.3.4-7", "MQTT-4.9.0-2"}},
      1,
      5,
      0,
      8000,
      false,
      NULL,
      0,
      false},
     .config = cfg_recvmax,
     .server_pkt = srv_recvmax,
     .client_pkt = cli_recvmax,
     .finish = fin_recvmax},
    {{"maximum-packet-size",
      "Maximum Packet Size 128 and a 300-byte message to publish: no "
      "packet above 128 bytes",
      MQK_PUB,
      V5,
      {{NULL}, {"MQTT-3.2.2-15"}},
      0,
      1,
      300,
      5000,
      false,
      NULL,
      0,
      false},
     .config = cfg_maxpkt,
     .client_pkt = cli_maxpkt,
     .finish = fin_maxpkt},
    {{"server-keep-alive",
      "Server Keep Alive 2 and the message only after 5 s: the client keeps "
      "the connection alive (PINGREQ) on the server's value",
      MQK_SUB,
      V5,
      {{NULL}, {"MQTT-3.2.2-21"}},
      0,
      1,
      0,
      9000,
      false,
      NULL,
      0,
      false},
     .publish_delay_ms = 5000,
     .config = cfg_keepalive,
     .finish = fin_keepalive},
    {{"keep-alive",
      "the client asks for Keep Alive 5 ({keepalive}); the message comes only after 8.5 s: "
      "it sends PINGREQ in time",
      MQK_SUB,
      V311 | V5,
      {{"MQTT-3.1.2-23"}, {"MQTT-3.1.2-20"}},
      0,
      1,
      0,
      11000,
      false,
      NULL,
      5,
      false},
     .publish_delay_ms = 8500,
     .finish = fin_own_keepalive},
    {{"disconnect-reason",
      "DISCONNECT 0x8B after the SUBACK, the transport open 1 s more: the "
      "client sends nothing more on it",
      MQK_SUB,
      V5,
      {{NULL}, {"MQTT-4.13.2-1"}},
      1,
      1,
      0,
      5000,
      false,
      NULL,
      0,
      false},
     .publish_delay_ms = 60000,
     .close_delay_ms = 1000,
     .server_pkt = srv_disc,
     .tick = tick_disc,
     .finish = finish_silenced},
    {{"auth-challenge",
      "mqcheck-challenge offered: a client naming it answers AUTH 0x18 with "
      "the same method; one naming none never sends AUTH",
      MQK_PUB,
      V5,
      {{NULL}, {"MQTT-4.12.0-7", "MQTT-4.12.0-3", "MQTT-4.12.0-5"}},
      0,
      1,
      0,
      5000,
      false,
      "mqcheck-challenge:mqk-secret",
      0,
      false},
     .config = cfg_auth,
     .client_pkt = cli_auth,
     .finish = fin_auth},
};

size_t mqk__behaviour_count(void) {
  return sizeof behaviours / sizeof behaviours[0];
}
const mqk__behaviour *mqk__behaviour_at(size_t i) {
  return i < mqk__behaviour_count() ? &behaviours[i] : NULL;
}
size_t mqk_behaviour_count(void) {
  return mqk__behaviour_count();
}
const mqk_behaviour *mqk_behaviour_at(size_t i) {
  return i < mqk__behaviour_count() ? &behaviours[i].pub : NULL;
}

/* ---- command templates ----------------------------------------------------- */

static bool put(char *out, size_t cap, size_t *n, const char *s) {
  size_t l = strlen(s);
  if (*n + l >= cap) return false;
  memcpy(out + *n, s, l);
  *n += l;
  out[*n] = 0;
  return true;
}

int mqk_expand(const char *tmpl, const mqk_behaviour *b, unsigned vbit, uint16_t port, char *out,
               size_t cap) {
  size_t n = 0;
  out[0] = 0;
  for (const char *p = tmpl; *p; p++) {
    if (p[0] == '{' && p[1] == '{') {
      if (!put(out, cap, &n, "{")) goto overflow;
      p++;
      continue;
    }
    if (p[0] == '}' && p[1] == '}') {
      if (!put(out, cap, &n, "}")) goto overflow;
      p++;
      continue;
    }
    if (*p != '{') {
      char c[2] = {*p, 0};
      if (!put(out, cap, &n, c)) goto overflow;
      continue;
    }
    const char *end = strchr(p, '}');
    if (!end) {
      snprintf(out, cap, "unterminated '{' in the command template");
      return -1;
    }
    char name[32], val[1100];
    size_t ln = (size_t)(end - p - 1);
    if (ln >= sizeof name) ln = sizeof name - 1;
    memcpy(name, p + 1, ln);
    name[ln] = 0;
    if (!strcmp(name, "host"))
      snprintf(val, sizeof val, "127.0.0.1");
    else if (!strcmp(name, "port"))
      snprintf(val, sizeof val, "%u", port);
    else if (!strcmp(name, "role"))
      snprintf(val, sizeof val, "%s", b->role == MQK_PUB ? "pub" : "sub");
    else if (!strcmp(name, "version"))
      snprintf(val, sizeof val, "%s", vbit == MQS_V5 ? "5" : "311");
    else if (!strcmp(name, "qos"))
      snprintf(val, sizeof val, "%u", b->qos);
    else if (!strcmp(name, "count"))
      snprintf(val, sizeof val, "%u", b->count);
    else if (!strcmp(name, "topic"))
      snprintf(val, sizeof val, "mqk/%s", b->name);
    else if (!strcmp(name, "retain"))
      snprintf(val, sizeof val, "%d", b->retain ? 1 : 0);
    else if (!strcmp(name, "keepalive"))
      snprintf(val, sizeof val, "%u", b->keep_alive ? b->keep_alive : 60);
    else if (!strcmp(name, "auth"))
      snprintf(val, sizeof val, "%s", b->auth ? b->auth : "-");
    else if (!strcmp(name, "session"))
      snprintf(val, sizeof val, "%d", b->session ? 1 : 0);
    else if (!strcmp(name, "id"))
      snprintf(val, sizeof val, "mqk-%.18s", b->name);
    else if (!strcmp(name, "payload")) {
      size_t pl = b->payload_len ? b->payload_len : 7;
      if (pl >= sizeof val) pl = sizeof val - 1;
      memset(val, 'x', pl);
      val[pl] = 0;
      if (!b->payload_len) memcpy(val, "mqcheck", 7);
    } else {
      snprintf(out, cap, "unknown placeholder {%s} in the command template", name);
      return -1;
    }
    if (!put(out, cap, &n, val)) goto overflow;
    p = end;
  }
  return 0;
overflow:
  snprintf(out, cap, "the expanded command is longer than %zu bytes", cap);
  return -1;
}
