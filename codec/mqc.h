/*
 * mqc.h - the mqcheck reference codec for MQTT 3.1, 3.1.1 and 5.0.
 *
 * The codec is pure: it never allocates, never touches I/O and keeps no global
 * state. Decoded strings, binary data, property blocks and lists are views into
 * the caller's input buffer; they are valid exactly as long as that buffer is.
 *
 * Decoding validates every field once. Property blocks, subscription lists and
 * reason-code lists are then walked with iterators that cannot fail.
 *
 * Every rejection carries a status, the byte offset of the offending field, the
 * MQTT 5.0 reason code a receiver must answer with, the normative statement ID
 * (for the version being decoded; NULL where the specification has no numbered
 * statement for the rule) and a one-line message.
 *
 * Encoding is size-then-encode into a buffer owned by the caller. The encoder
 * writes what it is given without judging it, so a conformance tool can produce
 * invalid packets on purpose (see mqc_faults); decode is where judgement lives.
 */
#ifndef MQC_H
#define MQC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Basic types                                                              */
/* ------------------------------------------------------------------------ */

/* Protocol level as carried in CONNECT. MQC_VERSION_AUTO is accepted only by
 * mqc_decode() for CONNECT, where the packet's own name/level decide. */
typedef enum {
  MQC_VERSION_AUTO = 0,
  MQC_V31 = 3,  /* MQTT 3.1, protocol name "MQIsdp" */
  MQC_V311 = 4, /* MQTT 3.1.1 */
  MQC_V5 = 5    /* MQTT 5.0 */
} mqc_version;

/* Who sent the bytes being decoded. Some packets are legal in one direction
 * only (CONNECT from client, CONNACK from server, ...). */
typedef enum { MQC_FROM_CLIENT = 0, MQC_FROM_SERVER = 1 } mqc_dir;

typedef enum {
  MQC_OK = 0,
  MQC_INCOMPLETE,    /* more bytes are needed; see mqc_frame.needed */
  MQC_ERR_MALFORMED, /* cannot be parsed per the specification (0x81) */
  MQC_ERR_PROTOCOL,  /* parsed, but carries data the protocol forbids */
  MQC_ERR_TOO_LARGE, /* over the caller's maximum packet size (0x95) */
  MQC_ERR_NOSPACE,   /* encode: output buffer too small */
  MQC_ERR_ARGUMENT   /* encode: the structure cannot be represented */
} mqc_status;

const char *mqc_strerror(mqc_status s);

typedef enum {
  MQC_RESERVED0 = 0,
  MQC_CONNECT = 1,
  MQC_CONNACK = 2,
  MQC_PUBLISH = 3,
  MQC_PUBACK = 4,
  MQC_PUBREC = 5,
  MQC_PUBREL = 6,
  MQC_PUBCOMP = 7,
  MQC_SUBSCRIBE = 8,
  MQC_SUBACK = 9,
  MQC_UNSUBSCRIBE = 10,
  MQC_UNSUBACK = 11,
  MQC_PINGREQ = 12,
  MQC_PINGRESP = 13,
  MQC_DISCONNECT = 14,
  MQC_AUTH = 15
} mqc_type;

/* Upper-case packet name, "RESERVED" for 0. Never NULL. */
const char *mqc_type_name(mqc_type t);

/* A borrowed view of bytes. p may be NULL only when n == 0. */
typedef struct {
  const uint8_t *p;
  size_t n;
} mqc_bytes;

/* Builds a view of a NUL-terminated C string (borrowed). */
mqc_bytes mqc_cstr(const char *s);
bool mqc_bytes_eq(mqc_bytes a, mqc_bytes b);

/* Why a decode (or encode) was refused. Reset on entry by every function that
 * takes one. statement and message point to static storage. */
typedef struct {
  mqc_status status;
  size_t offset;         /* byte offset from the start of the packet/stream */
  uint8_t reason;        /* MQTT 5.0 reason code the receiver answers with */
  const char *statement; /* "MQTT-3.3.2-2", or NULL when none is numbered */
  const char *message;   /* one line, no trailing newline */
} mqc_error;

/* ------------------------------------------------------------------------ */
/* Reason codes and properties (MQTT 5.0)                                   */
/* ------------------------------------------------------------------------ */

enum {
  MQC_RC_SUCCESS = 0x00,
  MQC_RC_GRANTED_QOS1 = 0x01,
  MQC_RC_GRANTED_QOS2 = 0x02,
  MQC_RC_DISCONNECT_WITH_WILL = 0x04,
  MQC_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
  MQC_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
  MQC_RC_CONTINUE_AUTHENTICATION = 0x18,
  MQC_RC_REAUTHENTICATE = 0x19,
  MQC_RC_UNSPECIFIED_ERROR = 0x80,
  MQC_RC_MALFORMED_PACKET = 0x81,
  MQC_RC_PROTOCOL_ERROR = 0x82,
  MQC_RC_IMPLEMENTATION_SPECIFIC_ERROR = 0x83,
  MQC_RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84,
  MQC_RC_CLIENT_IDENTIFIER_NOT_VALID = 0x85,
  MQC_RC_BAD_USER_NAME_OR_PASSWORD = 0x86,
  MQC_RC_NOT_AUTHORIZED = 0x87,
  MQC_RC_SERVER_UNAVAILABLE = 0x88,
  MQC_RC_SERVER_BUSY = 0x89,
  MQC_RC_BANNED = 0x8A,
  MQC_RC_SERVER_SHUTTING_DOWN = 0x8B,
  MQC_RC_BAD_AUTHENTICATION_METHOD = 0x8C,
  MQC_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
  MQC_RC_SESSION_TAKEN_OVER = 0x8E,
  MQC_RC_TOPIC_FILTER_INVALID = 0x8F,
  MQC_RC_TOPIC_NAME_INVALID = 0x90,
  MQC_RC_PACKET_IDENTIFIER_IN_USE = 0x91,
  MQC_RC_PACKET_IDENTIFIER_NOT_FOUND = 0x92,
  MQC_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93,
  MQC_RC_TOPIC_ALIAS_INVALID = 0x94,
  MQC_RC_PACKET_TOO_LARGE = 0x95,
  MQC_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
  MQC_RC_QUOTA_EXCEEDED = 0x97,
  MQC_RC_ADMINISTRATIVE_ACTION = 0x98,
  MQC_RC_PAYLOAD_FORMAT_INVALID = 0x99,
  MQC_RC_RETAIN_NOT_SUPPORTED = 0x9A,
  MQC_RC_QOS_NOT_SUPPORTED = 0x9B,
  MQC_RC_USE_ANOTHER_SERVER = 0x9C,
  MQC_RC_SERVER_MOVED = 0x9D,
  MQC_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E,
  MQC_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
  MQC_RC_MAXIMUM_CONNECT_TIME = 0xA0,
  MQC_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1,
  MQC_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2
};

/* Name of a 5.0 reason code as used in a given packet type ("Granted QoS 1"
 * in SUBACK, "Normal disconnection" in DISCONNECT, ...). NULL if the code is
 * not defined for that packet type. */
const char *mqc_reason_name(mqc_type t, uint8_t code);
/* True when the code is one the specification allows in packet type t sent in
 * direction from. */
bool mqc_reason_valid(mqc_type t, mqc_dir from, uint8_t code);

typedef enum {
  MQC_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,
  MQC_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,
  MQC_PROP_CONTENT_TYPE = 0x03,
  MQC_PROP_RESPONSE_TOPIC = 0x08,
  MQC_PROP_CORRELATION_DATA = 0x09,
  MQC_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,
  MQC_PROP_SESSION_EXPIRY_INTERVAL = 0x11,
  MQC_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,
  MQC_PROP_SERVER_KEEP_ALIVE = 0x13,
  MQC_PROP_AUTHENTICATION_METHOD = 0x15,
  MQC_PROP_AUTHENTICATION_DATA = 0x16,
  MQC_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,
  MQC_PROP_WILL_DELAY_INTERVAL = 0x18,
  MQC_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,
  MQC_PROP_RESPONSE_INFORMATION = 0x1A,
  MQC_PROP_SERVER_REFERENCE = 0x1C,
  MQC_PROP_REASON_STRING = 0x1F,
  MQC_PROP_RECEIVE_MAXIMUM = 0x21,
  MQC_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
  MQC_PROP_TOPIC_ALIAS = 0x23,
  MQC_PROP_MAXIMUM_QOS = 0x24,
  MQC_PROP_RETAIN_AVAILABLE = 0x25,
  MQC_PROP_USER_PROPERTY = 0x26,
  MQC_PROP_MAXIMUM_PACKET_SIZE = 0x27,
  MQC_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,
  MQC_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29,
  MQC_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A
} mqc_prop_id;

#define MQC_PROP_ID_MAX 0x2A

typedef enum {
  MQC_PT_NONE = 0, /* not a property identifier */
  MQC_PT_BYTE,
  MQC_PT_U16,
  MQC_PT_U32,
  MQC_PT_VARINT,
  MQC_PT_UTF8,
  MQC_PT_BINARY,
  MQC_PT_UTF8_PAIR
} mqc_prop_type;

/* Where a property may appear: the packet types plus the will properties of
 * CONNECT, which have their own set. */
#define MQC_PROP_IN_WILL (1u << 16)

typedef struct {
  mqc_prop_id id;
  const char *name; /* snake_case, e.g. "message_expiry_interval" */
  mqc_prop_type type;
  uint32_t allowed; /* bit (1u << mqc_type) per packet, plus MQC_PROP_IN_WILL */
} mqc_prop_info;

/* Table entry for id, or NULL if id is not a 5.0 property identifier. */
const mqc_prop_info *mqc_prop_lookup(uint32_t id);
/* Lookup by snake_case name; NULL if unknown. */
const mqc_prop_info *mqc_prop_by_name(const char *name);

/* A validated property block: a view of the bytes after the property length.
 * present has bit (1 << id) set for every identifier seen. */
typedef struct {
  mqc_bytes raw;
  uint64_t present;
  uint32_t count; /* number of properties, repeats included */
} mqc_props;

/* One property as yielded by the iterator. For MQC_PT_UTF8_PAIR, key and
 * value are both set; for strings and binary, value is set; for integers, u
 * is set. Views borrow from the decoded buffer. */
typedef struct {
  mqc_prop_id id;
  mqc_prop_type type;
  uint32_t u;
  mqc_bytes key;
  mqc_bytes value;
} mqc_prop;

typedef struct {
  const uint8_t *p, *end;
} mqc_prop_iter;

/* Iteration over a block produced by mqc_decode() cannot fail. On a block the
 * caller built by hand, iteration stops at the first ill-formed property. */
void mqc_prop_iter_init(mqc_prop_iter *it, const mqc_props *props);
bool mqc_prop_next(mqc_prop_iter *it, mqc_prop *out);

static inline bool mqc_props_has(const mqc_props *props, mqc_prop_id id) {
  return (props->present >> id) & 1u;
}
/* First occurrence of id. Returns false (out untouched) when absent. */
bool mqc_props_get(const mqc_props *props, mqc_prop_id id, mqc_prop *out);

/* ------------------------------------------------------------------------ */
/* Packets                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
  mqc_bytes protocol_name; /* "MQTT" or "MQIsdp" */
  uint8_t level;           /* 3, 4 or 5 */
  uint8_t flags;           /* the connect-flags byte as received */
  bool clean_start;        /* Clean Session in 3.x */
  bool will;
  uint8_t will_qos;
  bool will_retain;
  bool has_username;
  bool has_password;
  uint16_t keep_alive;
  mqc_props props; /* 5.0 only */
  mqc_bytes client_id;
  mqc_props will_props; /* 5.0 only, when will */
  mqc_bytes will_topic;
  mqc_bytes will_payload;
  mqc_bytes username;
  mqc_bytes password;
} mqc_connect;

typedef struct {
  bool session_present;
  uint8_t flags;  /* acknowledge-flags byte as received */
  uint8_t reason; /* 5.0 reason code, or 3.x return code */
  mqc_props props;
} mqc_connack;

typedef struct {
  bool dup;
  uint8_t qos;
  bool retain;
  mqc_bytes topic;
  uint16_t packet_id; /* 0 when qos == 0 */
  mqc_props props;
  mqc_bytes payload;
} mqc_publish;

/* PUBACK, PUBREC, PUBREL, PUBCOMP. In 5.0 a missing reason code decodes as
 * 0x00 and the encoder omits reason and properties when it can. */
typedef struct {
  uint16_t packet_id;
  uint8_t reason;
  mqc_props props;
} mqc_ack;

/* Subscription options byte, split into its fields. */
typedef struct {
  uint8_t max_qos;
  bool no_local;
  bool retain_as_published;
  uint8_t retain_handling;
} mqc_subopts;

uint8_t mqc_subopts_pack(mqc_subopts o);
mqc_subopts mqc_subopts_unpack(uint8_t b);

/* SUBSCRIBE and UNSUBSCRIBE keep their payload as a view (list) validated at
 * decode; count is the number of entries. */
typedef struct {
  uint16_t packet_id;
  mqc_props props;
  mqc_bytes list;
  uint32_t count;
} mqc_subscribe;

typedef struct {
  mqc_bytes filter;
  uint8_t options; /* raw byte (3.x: requested QoS) */
} mqc_sub_entry;

typedef struct {
  const uint8_t *p, *end;
  bool has_options; /* SUBSCRIBE lists carry an options byte per filter */
} mqc_list_iter;

void mqc_sub_iter_init(mqc_list_iter *it, const mqc_subscribe *s);
bool mqc_sub_next(mqc_list_iter *it, mqc_sub_entry *out);
void mqc_unsub_iter_init(mqc_list_iter *it, const mqc_subscribe *s);
bool mqc_unsub_next(mqc_list_iter *it, mqc_bytes *filter);

/* SUBACK and UNSUBACK: one reason code per filter, as a view. A 3.x UNSUBACK
 * has none. */
typedef struct {
  uint16_t packet_id;
  mqc_props props;
  mqc_bytes reasons;
} mqc_suback;

/* DISCONNECT and AUTH (5.0 reason and properties; empty in 3.x). */
typedef struct {
  uint8_t reason;
  mqc_props props;
} mqc_reasoned;

typedef struct {
  mqc_type type;
  uint8_t flags;             /* fixed-header low nibble */
  uint32_t remaining_length; /* set by decode */
  uint8_t header_len;        /* set by decode: 2..5 */
  union {
    mqc_connect connect;
    mqc_connack connack;
    mqc_publish publish;
    mqc_ack ack;             /* PUBACK PUBREC PUBREL PUBCOMP */
    mqc_subscribe subscribe; /* SUBSCRIBE, UNSUBSCRIBE */
    mqc_suback suback;       /* SUBACK, UNSUBACK */
    mqc_reasoned disconnect; /* DISCONNECT */
    mqc_reasoned auth;       /* AUTH */
  };
} mqc_packet;

/* Zeroes p and sets type and the fixed-header flags the spec requires. For
 * CONNECT it also sets the protocol name and level for version v. */
void mqc_packet_init(mqc_packet *p, mqc_type t, mqc_version v);

/* The packet's 5.0 property block (empty for 3.x packets), or NULL for the
 * types that have none (PINGREQ, PINGRESP, reserved). Borrowed from pkt. */
const mqc_props *mqc_packet_props(const mqc_packet *pkt);

/* Field-by-field semantic equality (views compared by content). */
bool mqc_packet_equal(const mqc_packet *a, const mqc_packet *b);

/* ------------------------------------------------------------------------ */
/* Framing and decoding                                                     */
/* ------------------------------------------------------------------------ */

#define MQC_MAX_REMAINING_LENGTH 268435455u
#define MQC_NO_LIMIT             0u

typedef struct {
  uint8_t header_len; /* fixed header: type byte + length bytes */
  uint32_t remaining_length;
  size_t total_len; /* header_len + remaining_length */
  size_t needed;    /* MQC_INCOMPLETE: minimum bytes still missing */
} mqc_frame;

/* Finds the extent of the packet at the start of buf.
 * in:  buf/len (borrowed), version (5.0 rejects non-minimal lengths; AUTO and
 *      3.x accept them), max_packet_size (MQC_NO_LIMIT or a total-size cap).
 * out: frame, err: reset on entry.
 * returns MQC_OK (frame->total_len <= len), MQC_INCOMPLETE (frame->needed > 0;
 *      the packet needs at least that many more bytes), MQC_ERR_MALFORMED (a
 *      length over 4 bytes, or non-minimal in 5.0), MQC_ERR_TOO_LARGE (the
 *      header announces more than max_packet_size; reported as soon as the
 *      header is complete, without waiting for the body). */
mqc_status mqc_frame_packet(const uint8_t *buf, size_t len, mqc_version version,
                            uint32_t max_packet_size, mqc_frame *frame, mqc_error *err);

/* Decodes and fully validates the one packet at the start of buf.
 * in:  buf/len (borrowed; out's views point into it), version (the session's
 *      version; MQC_VERSION_AUTO only for a CONNECT, whose name/level then
 *      decide), from (direction), max_packet_size as for mqc_frame_packet.
 * out: pkt (reset on entry; meaningful only on MQC_OK), err (reset on entry).
 * returns MQC_OK, MQC_INCOMPLETE (err->offset = len, nothing else decoded) or
 *      an error status with err filled in. On MQC_OK the packet occupies
 *      pkt->header_len + pkt->remaining_length bytes of buf. */
mqc_status mqc_decode(const uint8_t *buf, size_t len, mqc_version version, mqc_dir from,
                      uint32_t max_packet_size, mqc_packet *pkt, mqc_error *err);

/* Text validators used by decode, exposed for the engine and the runner. */
bool mqc_utf8_valid(mqc_bytes s);         /* well-formed, no U+0000, no surrogates */
bool mqc_topic_name_valid(mqc_bytes s);   /* non-empty, no wildcards */
bool mqc_topic_filter_valid(mqc_bytes s); /* wildcard placement */

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

/* A small bounded writer over a caller-owned buffer. Writes past cap are
 * counted but not stored, so a first pass with cap 0 gives the size. */
typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t len; /* bytes that would have been written */
} mqc_writer;

void mqc_writer_init(mqc_writer *w, uint8_t *buf, size_t cap);
bool mqc_writer_ok(const mqc_writer *w); /* len <= cap */
void mqc_put_u8(mqc_writer *w, uint8_t v);
void mqc_put_u16(mqc_writer *w, uint16_t v);
void mqc_put_u32(mqc_writer *w, uint32_t v);
void mqc_put_varint(mqc_writer *w, uint32_t v); /* v <= MQC_MAX_REMAINING_LENGTH */
void mqc_put_bytes(mqc_writer *w, mqc_bytes b); /* raw, no length prefix */
void mqc_put_str(mqc_writer *w, mqc_bytes s);   /* 2-byte length + bytes */
/* One property: identifier plus value in the id's type (u for integers, value
 * for strings/binary, key+value for pairs). No validation: an unknown id is
 * written with the type given in p->type. */
void mqc_put_prop(mqc_writer *w, const mqc_prop *p);
/* Convenience builders for property blocks and lists. mqc_put_prop_u32
 * writes u in the wire type the property table gives id (byte, two-byte,
 * four-byte or variable byte integer; the value is truncated to that width),
 * or as four bytes when id is unknown. mqc_put_prop_str writes a
 * length-prefixed value whatever id's type (use it for strings and binary). */
void mqc_put_prop_u32(mqc_writer *w, mqc_prop_id id, uint32_t u);
void mqc_put_prop_str(mqc_writer *w, mqc_prop_id id, mqc_bytes value);
void mqc_put_prop_pair(mqc_writer *w, mqc_bytes key, mqc_bytes value);
void mqc_put_sub_entry(mqc_writer *w, mqc_bytes filter, uint8_t options);

/* Deliberate violations applied by mqc_encode_faulty(). Zero means "none". */
typedef struct {
  bool set_flags;
  uint8_t flags; /* fixed-header low nibble to write instead */
  bool set_type;
  uint8_t type; /* packet type nibble to write instead */
  bool set_remaining_length;
  uint32_t remaining_length; /* lie about the length (body unchanged) */
  uint8_t length_bytes;      /* pad the length varint to 1..5 bytes */
  bool set_connect_flags;
  uint8_t connect_flags; /* CONNECT flags byte to write instead */
  bool omit_reason;      /* 5.0 acks/DISCONNECT/AUTH: stop after id */
  mqc_bytes trailing;    /* bytes appended after the last field */
} mqc_faults;

/* Encodes pkt for version v into buf (caller-owned, cap bytes).
 * Properties and lists are written from their raw views; a props.raw with
 * p == NULL and n == 0 writes an empty block. Strings are written as given:
 * the encoder does not validate content.
 * out: *out_len = bytes the packet occupies (also on MQC_ERR_NOSPACE, so a
 *      call with cap 0 sizes the packet).
 * returns MQC_OK, MQC_ERR_NOSPACE, MQC_ERR_ARGUMENT (a field over its wire
 *      limit, e.g. a string over 65535 bytes or a body over 268435455). */
mqc_status mqc_encode(const mqc_packet *pkt, mqc_version v, uint8_t *buf, size_t cap,
                      size_t *out_len);
mqc_status mqc_encode_faulty(const mqc_packet *pkt, mqc_version v, const mqc_faults *faults,
                             uint8_t *buf, size_t cap, size_t *out_len);

/* ------------------------------------------------------------------------ */
/* Printers                                                                 */
/* ------------------------------------------------------------------------ */

/* All printers have snprintf semantics: they write at most cap bytes including
 * a terminating NUL (when cap > 0) and return the length the full text needs.
 * Output is deterministic. */

/* One line, fields separated by spaces, e.g.
 *   PUBLISH q1 id=42 topic="a/b" props=[topic_alias=1] payload=4B "21.5" */
size_t mqc_print_line(const mqc_packet *pkt, mqc_version v, char *out, size_t cap);
/* Multi-line, indented, one field per line. */
size_t mqc_print_pretty(const mqc_packet *pkt, mqc_version v, char *out, size_t cap);
/* A JSON object; mqcheck encode accepts the same form. */
size_t mqc_print_json(const mqc_packet *pkt, mqc_version v, char *out, size_t cap);
/* {"status": "...", "offset": N, "reason_code": N, "statement": "..."|null,
 *  "message": "..."} */
size_t mqc_error_json(const mqc_error *err, char *out, size_t cap);

const char *mqc_version_name(mqc_version v); /* "3.1", "3.1.1", "5.0" */

#ifdef __cplusplus
}
#endif

#endif /* MQC_H */
