/* print.c - one-line, multi-line and JSON renderings of packets and errors.
 * All output goes through a bounded builder with snprintf semantics. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

typedef struct {
  char *out;
  size_t cap;
  size_t len; /* length the full text needs */
} sb;

static void sb_putn(sb *b, const char *s, size_t n) {
  if (b->len < b->cap) {
    size_t room = b->cap - b->len;
    memcpy(b->out + b->len, s, n < room ? n : room);
  }
  b->len += n;
}

static void sb_puts(sb *b, const char *s) {
  sb_putn(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(sb *b, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  assert(n >= 0 && (size_t)n < sizeof tmp && "only short numeric formats are used");
  sb_putn(b, tmp, (size_t)n);
}

static size_t sb_finish(sb *b) {
  if (b->cap > 0) b->out[b->len < b->cap ? b->len : b->cap - 1] = '\0';
  return b->len;
}

static bool printable_text(mqc_bytes s) {
  if (!mqc_utf8_valid(s)) return false;
  for (size_t i = 0; i < s.n; i++)
    if (s.p[i] < 0x20 || s.p[i] == 0x7F) return false;
  return true;
}

static void put_hex(sb *b, mqc_bytes s) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < s.n; i++) {
    char two[2] = {digits[s.p[i] >> 4], digits[s.p[i] & 15]};
    sb_putn(b, two, 2);
  }
}

/* Quoted for humans: printable text as is, anything else as \xNN. */
static void put_quoted(sb *b, mqc_bytes s, size_t limit) {
  sb_puts(b, "\"");
  bool text = mqc_utf8_valid(s);
  size_t n = s.n < limit ? s.n : limit;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s.p[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      sb_putn(b, esc, 2);
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && !text)) {
      sb_printf(b, "\\x%02x", c);
    } else {
      sb_putn(b, (const char *)&c, 1);
    }
  }
  sb_puts(b, n < s.n ? "\"..." : "\"");
}

static void put_json_string(sb *b, mqc_bytes s) {
  sb_puts(b, "\"");
  for (size_t i = 0; i < s.n; i++) {
    uint8_t c = s.p[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      sb_putn(b, esc, 2);
    } else if (c < 0x20) {
      sb_printf(b, "\\u%04x", c);
    } else {
      sb_putn(b, (const char *)&c, 1);
    }
  }
  sb_puts(b, "\"");
}

/* Bytes in JSON: a string when they are text, else {"hex": "..."}. */
static void put_json_bytes(sb *b, mqc_bytes s) {
  if (mqc_utf8_valid(s)) {
    put_json_string(b, s);
    return;
  }
  sb_puts(b, "{\"hex\":\"");
  put_hex(b, s);
  sb_puts(b, "\"}");
}

/* ---- properties ------------------------------------------------------ */

static void put_prop_value_line(sb *b, const mqc_prop *p) {
  switch (p->type) {
  case MQC_PT_UTF8:
  case MQC_PT_BINARY:
    put_quoted(b, p->value, 64);
    break;
  case MQC_PT_UTF8_PAIR:
    put_quoted(b, p->key, 64);
    sb_puts(b, ":");
    put_quoted(b, p->value, 64);
    break;
  default:
    sb_printf(b, "%u", p->u);
    break;
  }
}

static void put_props_line(sb *b, const char *label, const mqc_props *props) {
  if (props->count == 0) return;
  sb_puts(b, " ");
  sb_puts(b, label);
  sb_puts(b, "=[");
  mqc_prop_iter it;
  mqc_prop p;
  mqc_prop_iter_init(&it, props);
  for (bool first = true; mqc_prop_next(&it, &p); first = false) {
    if (!first) sb_puts(b, " ");
    sb_puts(b, mqc_prop_lookup(p.id)->name);
    sb_puts(b, "=");
    put_prop_value_line(b, &p);
  }
  sb_puts(b, "]");
}

static void put_props_json(sb *b, const mqc_props *props) {
  sb_puts(b, "[");
  mqc_prop_iter it;
  mqc_prop p;
  mqc_prop_iter_init(&it, props);
  for (bool first = true; mqc_prop_next(&it, &p); first = false) {
    if (!first) sb_puts(b, ",");
    sb_puts(b, "{\"");
    sb_puts(b, mqc_prop_lookup(p.id)->name);
    sb_puts(b, "\":");
    switch (p.type) {
    case MQC_PT_UTF8:
    case MQC_PT_BINARY:
      put_json_bytes(b, p.value);
      break;
    case MQC_PT_UTF8_PAIR:
      sb_puts(b, "[");
      put_json_string(b, p.key);
      sb_puts(b, ",");
      put_json_string(b, p.value);
      sb_puts(b, "]");
      break;
    default:
      sb_printf(b, "%u", p.u);
      break;
    }
    sb_puts(b, "}");
  }
  sb_puts(b, "]");
}

/* ---- one line --------------------------------------------------------- */

static void reason_line(sb *b, mqc_type t, uint8_t code, mqc_version v) {
  const char *name = v == MQC_V5 ? mqc_reason_name(t, code) : NULL;
  sb_printf(b, " rc=0x%02x", code);
  if (name) {
    sb_puts(b, "(");
    sb_puts(b, name);
    sb_puts(b, ")");
  }
}

size_t mqc_print_line(const mqc_packet *pkt, mqc_version v, char *out, size_t cap) {
  sb b = {out, cap, 0};
  sb_puts(&b, mqc_type_name(pkt->type));
  switch (pkt->type) {
  case MQC_CONNECT: {
    const mqc_connect *c = &pkt->connect;
    sb_printf(&b, " v%u clean=%d keepalive=%u id=", c->level, c->clean_start, c->keep_alive);
    put_quoted(&b, c->client_id, 64);
    if (c->will) {
      sb_printf(&b, " will=q%u%s:", c->will_qos, c->will_retain ? "r" : "");
      put_quoted(&b, c->will_topic, 64);
      sb_printf(&b, "/%zuB", c->will_payload.n);
    }
    if (c->has_username) {
      sb_puts(&b, " user=");
      put_quoted(&b, c->username, 64);
    }
    if (c->has_password) sb_printf(&b, " password=%zuB", c->password.n);
    put_props_line(&b, "props", &c->props);
    put_props_line(&b, "will_props", &c->will_props);
    break;
  }
  case MQC_CONNACK:
    sb_printf(&b, " sp=%d", pkt->connack.session_present);
    reason_line(&b, pkt->type, pkt->connack.reason, v);
    put_props_line(&b, "props", &pkt->connack.props);
    break;
  case MQC_PUBLISH: {
    const mqc_publish *p = &pkt->publish;
    sb_printf(&b, " q%u%s%s", p->qos, p->dup ? " dup" : "", p->retain ? " retain" : "");
    if (p->qos) sb_printf(&b, " id=%u", p->packet_id);
    sb_puts(&b, " topic=");
    put_quoted(&b, p->topic, 128);
    put_props_line(&b, "props", &p->props);
    sb_printf(&b, " payload=%zuB ", p->payload.n);
    put_quoted(&b, p->payload, 32);
    break;
  }
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    sb_printf(&b, " id=%u", pkt->ack.packet_id);
    if (v == MQC_V5) reason_line(&b, pkt->type, pkt->ack.reason, v);
    put_props_line(&b, "props", &pkt->ack.props);
    break;
  case MQC_SUBSCRIBE: {
    sb_printf(&b, " id=%u", pkt->subscribe.packet_id);
    put_props_line(&b, "props", &pkt->subscribe.props);
    mqc_list_iter it;
    mqc_sub_entry e;
    mqc_sub_iter_init(&it, &pkt->subscribe);
    while (mqc_sub_next(&it, &e)) {
      sb_puts(&b, " ");
      put_quoted(&b, e.filter, 128);
      mqc_subopts o = mqc_subopts_unpack(e.options);
      sb_printf(&b, ":q%u", o.max_qos);
      if (v == MQC_V5)
        sb_printf(&b, "%s%s rh%u", o.no_local ? " nl" : "", o.retain_as_published ? " rap" : "",
                  o.retain_handling);
    }
    break;
  }
  case MQC_UNSUBSCRIBE: {
    sb_printf(&b, " id=%u", pkt->subscribe.packet_id);
    put_props_line(&b, "props", &pkt->subscribe.props);
    mqc_list_iter it;
    mqc_bytes f;
    mqc_unsub_iter_init(&it, &pkt->subscribe);
    while (mqc_unsub_next(&it, &f)) {
      sb_puts(&b, " ");
      put_quoted(&b, f, 128);
    }
    break;
  }
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    sb_printf(&b, " id=%u", pkt->suback.packet_id);
    put_props_line(&b, "props", &pkt->suback.props);
    if (pkt->suback.reasons.n) {
      sb_puts(&b, " rc=[");
      for (size_t i = 0; i < pkt->suback.reasons.n; i++)
        sb_printf(&b, i ? ",0x%02x" : "0x%02x", pkt->suback.reasons.p[i]);
      sb_puts(&b, "]");
    }
    break;
  case MQC_DISCONNECT:
  case MQC_AUTH:
    if (v == MQC_V5) {
      reason_line(&b, pkt->type, pkt->disconnect.reason, v);
      put_props_line(&b, "props", &pkt->disconnect.props);
    }
    break;
  default:
    break;
  }
  return sb_finish(&b);
}

/* ---- structured forms ------------------------------------------------- */

/* The JSON and the multi-line forms carry the same fields, so one walk over
 * the packet feeds an emitter that knows the two styles. */
typedef struct {
  sb *b;
  bool json;
  int depth;
  bool first; /* no field written yet at this level (JSON commas) */
} emitter;

static void em_key(emitter *e, const char *key) {
  if (e->json) {
    if (!e->first) sb_puts(e->b, ",");
    sb_puts(e->b, "\"");
    sb_puts(e->b, key);
    sb_puts(e->b, "\":");
  } else {
    for (int i = 0; i < e->depth; i++)
      sb_puts(e->b, "  ");
    sb_puts(e->b, key);
    sb_puts(e->b, ": ");
  }
  e->first = false;
}

static void em_end_field(emitter *e) {
  if (!e->json) sb_puts(e->b, "\n");
}

static void em_uint(emitter *e, const char *key, unsigned long v) {
  em_key(e, key);
  sb_printf(e->b, "%lu", v);
  em_end_field(e);
}

static void em_bool(emitter *e, const char *key, bool v) {
  em_key(e, key);
  sb_puts(e->b, v ? "true" : "false");
  em_end_field(e);
}

static void em_str(emitter *e, const char *key, const char *v) {
  em_key(e, key);
  if (e->json)
    put_json_string(e->b, mqc_cstr(v));
  else
    sb_puts(e->b, v);
  em_end_field(e);
}

static void em_bytes(emitter *e, const char *key, mqc_bytes v) {
  em_key(e, key);
  if (e->json) {
    put_json_bytes(e->b, v);
  } else {
    if (printable_text(v) || v.n == 0)
      put_quoted(e->b, v, 4096);
    else {
      sb_printf(e->b, "%zu bytes hex ", v.n);
      put_hex(e->b, v);
    }
  }
  em_end_field(e);
}

static void em_reason(emitter *e, mqc_type t, uint8_t code, mqc_version v) {
  em_key(e, "reason_code");
  sb_printf(e->b, "%u", code);
  const char *name = v == MQC_V5 ? mqc_reason_name(t, code) : NULL;
  if (!e->json) {
    sb_printf(e->b, " (0x%02x%s%s)", code, name ? " " : "", name ? name : "");
  }
  em_end_field(e);
}

static void em_props(emitter *e, const char *key, const mqc_props *props) {
  em_key(e, key);
  if (e->json) {
    put_props_json(e->b, props);
    return;
  }
  if (props->count == 0) {
    sb_puts(e->b, "(none)\n");
    return;
  }
  sb_puts(e->b, "\n");
  mqc_prop_iter it;
  mqc_prop p;
  mqc_prop_iter_init(&it, props);
  while (mqc_prop_next(&it, &p)) {
    for (int i = 0; i <= e->depth; i++)
      sb_puts(e->b, "  ");
    sb_puts(e->b, mqc_prop_lookup(p.id)->name);
    sb_puts(e->b, ": ");
    put_prop_value_line(e->b, &p);
    sb_puts(e->b, "\n");
  }
}

static void em_open(emitter *e, const char *key, char bracket) {
  em_key(e, key);
  if (e->json) {
    char s[2] = {bracket, 0};
    sb_puts(e->b, s);
  } else {
    sb_puts(e->b, "\n");
  }
  e->depth++;
  e->first = true;
}

static void em_close(emitter *e, char bracket) {
  e->depth--;
  if (e->json) {
    char s[2] = {bracket, 0};
    sb_puts(e->b, s);
  }
  e->first = false;
}

/* A list element that is an object: JSON {...}, pretty "- " prefix. */
static void em_item_open(emitter *e) {
  if (e->json) {
    if (!e->first) sb_puts(e->b, ",");
    sb_puts(e->b, "{");
  } else {
    for (int i = 0; i < e->depth; i++)
      sb_puts(e->b, "  ");
    sb_puts(e->b, "-\n");
  }
  e->depth++;
  e->first = true;
}

static void em_item_close(emitter *e) {
  e->depth--;
  if (e->json) sb_puts(e->b, "}");
  e->first = false;
}

static void em_item_bytes(emitter *e, mqc_bytes v) {
  if (e->json) {
    if (!e->first) sb_puts(e->b, ",");
    put_json_bytes(e->b, v);
  } else {
    for (int i = 0; i < e->depth; i++)
      sb_puts(e->b, "  ");
    sb_puts(e->b, "- ");
    put_quoted(e->b, v, 65535);
    sb_puts(e->b, "\n");
  }
  e->first = false;
}

static void em_item_uint(emitter *e, unsigned v, mqc_type t, mqc_version ver) {
  if (e->json) {
    if (!e->first) sb_puts(e->b, ",");
    sb_printf(e->b, "%u", v);
  } else {
    const char *name = ver == MQC_V5 ? mqc_reason_name(t, (uint8_t)v) : NULL;
    for (int i = 0; i < e->depth; i++)
      sb_puts(e->b, "  ");
    sb_printf(e->b, "- 0x%02x", v);
    if (name) {
      sb_puts(e->b, " ");
      sb_puts(e->b, name);
    }
    sb_puts(e->b, "\n");
  }
  e->first = false;
}

static void emit_packet(emitter *e, const mqc_packet *pkt, mqc_version v) {
  bool v5 = v == MQC_V5;
  em_str(e, "type", mqc_type_name(pkt->type));
  switch (pkt->type) {
  case MQC_CONNECT: {
    const mqc_connect *c = &pkt->connect;
    em_bytes(e, "protocol_name", c->protocol_name);
    em_uint(e, "protocol_level", c->level);
    em_bool(e, "clean_start", c->clean_start);
    em_uint(e, "keep_alive", c->keep_alive);
    if (v5) em_props(e, "properties", &c->props);
    em_bytes(e, "client_id", c->client_id);
    if (c->will) {
      em_open(e, "will", '{');
      em_uint(e, "qos", c->will_qos);
      em_bool(e, "retain", c->will_retain);
      if (v5) em_props(e, "properties", &c->will_props);
      em_bytes(e, "topic", c->will_topic);
      em_bytes(e, "payload", c->will_payload);
      em_close(e, '}');
    }
    if (c->has_username) em_bytes(e, "username", c->username);
    if (c->has_password) em_bytes(e, "password", c->password);
    break;
  }
  case MQC_CONNACK:
    em_bool(e, "session_present", pkt->connack.session_present);
    em_reason(e, pkt->type, pkt->connack.reason, v);
    if (v5) em_props(e, "properties", &pkt->connack.props);
    break;
  case MQC_PUBLISH: {
    const mqc_publish *p = &pkt->publish;
    em_bool(e, "dup", p->dup);
    em_uint(e, "qos", p->qos);
    em_bool(e, "retain", p->retain);
    em_bytes(e, "topic", p->topic);
    if (p->qos) em_uint(e, "packet_id", p->packet_id);
    if (v5) em_props(e, "properties", &p->props);
    em_bytes(e, "payload", p->payload);
    break;
  }
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    em_uint(e, "packet_id", pkt->ack.packet_id);
    if (v5) {
      em_reason(e, pkt->type, pkt->ack.reason, v);
      em_props(e, "properties", &pkt->ack.props);
    }
    break;
  case MQC_SUBSCRIBE: {
    em_uint(e, "packet_id", pkt->subscribe.packet_id);
    if (v5) em_props(e, "properties", &pkt->subscribe.props);
    em_open(e, "subscriptions", '[');
    mqc_list_iter it;
    mqc_sub_entry s;
    mqc_sub_iter_init(&it, &pkt->subscribe);
    while (mqc_sub_next(&it, &s)) {
      mqc_subopts o = mqc_subopts_unpack(s.options);
      em_item_open(e);
      em_bytes(e, "topic_filter", s.filter);
      em_uint(e, "qos", o.max_qos);
      if (v5) {
        em_bool(e, "no_local", o.no_local);
        em_bool(e, "retain_as_published", o.retain_as_published);
        em_uint(e, "retain_handling", o.retain_handling);
      }
      em_item_close(e);
    }
    em_close(e, ']');
    break;
  }
  case MQC_UNSUBSCRIBE: {
    em_uint(e, "packet_id", pkt->subscribe.packet_id);
    if (v5) em_props(e, "properties", &pkt->subscribe.props);
    em_open(e, "topic_filters", '[');
    mqc_list_iter it;
    mqc_bytes f;
    mqc_unsub_iter_init(&it, &pkt->subscribe);
    while (mqc_unsub_next(&it, &f))
      em_item_bytes(e, f);
    em_close(e, ']');
    break;
  }
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    em_uint(e, "packet_id", pkt->suback.packet_id);
    if (v5) em_props(e, "properties", &pkt->suback.props);
    if (v5 || pkt->type == MQC_SUBACK) {
      em_open(e, "reason_codes", '[');
      for (size_t i = 0; i < pkt->suback.reasons.n; i++)
        em_item_uint(e, pkt->suback.reasons.p[i], pkt->type, v);
      em_close(e, ']');
    }
    break;
  case MQC_DISCONNECT:
  case MQC_AUTH:
    if (v5) {
      em_reason(e, pkt->type, pkt->disconnect.reason, v);
      em_props(e, "properties", &pkt->disconnect.props);
    }
    break;
  default:
    break;
  }
}

size_t mqc_print_pretty(const mqc_packet *pkt, mqc_version v, char *out, size_t cap) {
  sb b = {out, cap, 0};
  emitter e = {&b, false, 1, true};
  sb_puts(&b, mqc_type_name(pkt->type));
  sb_puts(&b, " (MQTT ");
  sb_puts(&b, mqc_version_name(v));
  sb_printf(&b, ", %u bytes)\n", pkt->header_len + pkt->remaining_length);
  emit_packet(&e, pkt, v);
  return sb_finish(&b);
}

size_t mqc_print_json(const mqc_packet *pkt, mqc_version v, char *out, size_t cap) {
  sb b = {out, cap, 0};
  emitter e = {&b, true, 0, true};
  sb_puts(&b, "{");
  emit_packet(&e, pkt, v);
  sb_puts(&b, "}");
  return sb_finish(&b);
}

size_t mqc_error_json(const mqc_error *err, char *out, size_t cap) {
  sb b = {out, cap, 0};
  sb_puts(&b, "{\"status\":");
  put_json_string(&b, mqc_cstr(mqc_strerror(err->status)));
  sb_printf(&b, ",\"offset\":%zu,\"reason_code\":%u,\"statement\":", err->offset, err->reason);
  if (err->statement)
    put_json_string(&b, mqc_cstr(err->statement));
  else
    sb_puts(&b, "null");
  sb_puts(&b, ",\"message\":");
  put_json_string(&b, mqc_cstr(err->message ? err->message : ""));
  sb_puts(&b, "}");
  return sb_finish(&b);
}
