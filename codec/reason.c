/* reason.c - MQTT 5.0 reason codes: names, and which packets may carry each. */
#include "internal.h"

#define P(t) (1u << (t))
#define ACK1 (P(MQC_PUBACK) | P(MQC_PUBREC))
#define ACK2 (P(MQC_PUBREL) | P(MQC_PUBCOMP))
#define C    1u /* sent by clients */
#define S    2u /* sent by servers */

typedef struct {
  uint8_t code;
  const char *name;
  uint32_t packets;
  uint8_t disconnect_senders; /* C|S for DISCONNECT, 0 if not allowed there */
} reason_row;

/* Codes shared between packets with different names are listed per name. */
static const reason_row ROWS[] = {
    {0x00, "Success", P(MQC_CONNACK) | ACK1 | ACK2 | P(MQC_UNSUBACK) | P(MQC_AUTH), 0},
    {0x00, "Normal disconnection", P(MQC_DISCONNECT), C | S},
    {0x00, "Granted QoS 0", P(MQC_SUBACK), 0},
    {0x01, "Granted QoS 1", P(MQC_SUBACK), 0},
    {0x02, "Granted QoS 2", P(MQC_SUBACK), 0},
    {0x04, "Disconnect with Will Message", P(MQC_DISCONNECT), C},
    {0x10, "No matching subscribers", ACK1, 0},
    {0x11, "No subscription existed", P(MQC_UNSUBACK), 0},
    {0x18, "Continue authentication", P(MQC_AUTH), 0},
    {0x19, "Re-authenticate", P(MQC_AUTH), 0},
    {0x80, "Unspecified error",
     P(MQC_CONNACK) | ACK1 | P(MQC_SUBACK) | P(MQC_UNSUBACK) | P(MQC_DISCONNECT), C | S},
    {0x81, "Malformed Packet", P(MQC_CONNACK) | P(MQC_DISCONNECT), C | S},
    {0x82, "Protocol Error", P(MQC_CONNACK) | P(MQC_DISCONNECT), C | S},
    {0x83, "Implementation specific error",
     P(MQC_CONNACK) | ACK1 | P(MQC_SUBACK) | P(MQC_UNSUBACK) | P(MQC_DISCONNECT), C | S},
    {0x84, "Unsupported Protocol Version", P(MQC_CONNACK), 0},
    {0x85, "Client Identifier not valid", P(MQC_CONNACK), 0},
    {0x86, "Bad User Name or Password", P(MQC_CONNACK), 0},
    {0x87, "Not authorized",
     P(MQC_CONNACK) | ACK1 | P(MQC_SUBACK) | P(MQC_UNSUBACK) | P(MQC_DISCONNECT), S},
    {0x88, "Server unavailable", P(MQC_CONNACK), 0},
    {0x89, "Server busy", P(MQC_CONNACK) | P(MQC_DISCONNECT), S},
    {0x8A, "Banned", P(MQC_CONNACK), 0},
    {0x8B, "Server shutting down", P(MQC_DISCONNECT), S},
    {0x8C, "Bad authentication method", P(MQC_CONNACK) | P(MQC_DISCONNECT), S},
    {0x8D, "Keep Alive timeout", P(MQC_DISCONNECT), S},
    {0x8E, "Session taken over", P(MQC_DISCONNECT), S},
    {0x8F, "Topic Filter invalid", P(MQC_SUBACK) | P(MQC_UNSUBACK) | P(MQC_DISCONNECT), S},
    {0x90, "Topic Name invalid", P(MQC_CONNACK) | ACK1 | P(MQC_DISCONNECT), C | S},
    {0x91, "Packet Identifier in use", ACK1 | P(MQC_SUBACK) | P(MQC_UNSUBACK), 0},
    {0x92, "Packet Identifier not found", ACK2, 0},
    {0x93, "Receive Maximum exceeded", P(MQC_DISCONNECT), C | S},
    {0x94, "Topic Alias invalid", P(MQC_DISCONNECT), C | S},
    {0x95, "Packet too large", P(MQC_CONNACK) | P(MQC_DISCONNECT), C | S},
    {0x96, "Message rate too high", P(MQC_DISCONNECT), C | S},
    {0x97, "Quota exceeded", P(MQC_CONNACK) | ACK1 | P(MQC_SUBACK) | P(MQC_DISCONNECT), C | S},
    {0x98, "Administrative action", P(MQC_DISCONNECT), C | S},
    {0x99, "Payload format invalid", P(MQC_CONNACK) | ACK1 | P(MQC_DISCONNECT), C | S},
    {0x9A, "Retain not supported", P(MQC_CONNACK) | P(MQC_DISCONNECT), S},
    {0x9B, "QoS not supported", P(MQC_CONNACK) | P(MQC_DISCONNECT), S},
    {0x9C, "Use another server", P(MQC_CONNACK) | P(MQC_DISCONNECT), S},
    {0x9D, "Server moved", P(MQC_CONNACK) | P(MQC_DISCONNECT), S},
    {0x9E, "Shared Subscriptions not supported", P(MQC_SUBACK) | P(MQC_DISCONNECT), S},
    {0x9F, "Connection rate exceeded", P(MQC_CONNACK) | P(MQC_DISCONNECT), S},
    {0xA0, "Maximum connect time", P(MQC_DISCONNECT), S},
    {0xA1, "Subscription Identifiers not supported", P(MQC_SUBACK) | P(MQC_DISCONNECT), S},
    {0xA2, "Wildcard Subscriptions not supported", P(MQC_SUBACK) | P(MQC_DISCONNECT), S},
};

static const reason_row *find(mqc_type t, uint8_t code) {
  for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++)
    if (ROWS[i].code == code && (ROWS[i].packets & P(t))) return &ROWS[i];
  return NULL;
}

const char *mqc_reason_name(mqc_type t, uint8_t code) {
  const reason_row *row = find(t, code);
  return row ? row->name : NULL;
}

bool mqc_reason_valid(mqc_type t, mqc_dir from, uint8_t code) {
  const reason_row *row = find(t, code);
  if (!row) return false;
  /* AUTH (Table 3-13): Success comes from the server, Re-authenticate from
   * the client, Continue authentication from either. */
  if (t == MQC_AUTH)
    return code == MQC_RC_CONTINUE_AUTHENTICATION ||
           (code == MQC_RC_SUCCESS) == (from == MQC_FROM_SERVER);
  if (t != MQC_DISCONNECT) return true;
  return row->disconnect_senders & (from == MQC_FROM_CLIENT ? C : S);
}

mqc_status mqc__check_reason(mqc__reader *r, const uint8_t *at, uint8_t code, const char *s3,
                             const char *s5) {
  if (mqc_reason_valid(r->type, r->from, code)) return MQC_OK;
  return MQC__PROTOCOL(r, at, s3, s5, "reason code is not defined for this packet");
}
