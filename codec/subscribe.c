/* subscribe.c - SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK. */
#include "internal.h"

uint8_t mqc_subopts_pack(mqc_subopts o) {
  return (uint8_t)((o.max_qos & 3) | (o.no_local ? 4 : 0) | (o.retain_as_published ? 8 : 0) |
                   (o.retain_handling & 3) << 4);
}

mqc_subopts mqc_subopts_unpack(uint8_t b) {
  mqc_subopts o = {
      .max_qos = b & 3,
      .no_local = b & 4,
      .retain_as_published = b & 8,
      .retain_handling = (b >> 4) & 3,
  };
  return o;
}

/* The option checks, in the order that decides which fault is reported.
 * Out of line: subscribe_body first admits the common options itself. */
MQC__COLD static mqc_status check_options(mqc__reader *r, const uint8_t *at, uint8_t o,
                                          mqc_bytes filter) {
  if (r->v != MQC_V5) {
    if (o & 0xFC)
      return MQC__MALFORMED(r, at, "MQTT-3.8.3-4", NULL, "reserved subscription option bits set");
    if ((o & 3) == 3) return MQC__MALFORMED(r, at, "MQTT-3.8.3-4", NULL, "requested QoS is 3");
    return MQC_OK;
  }
  if (o & 0xC0)
    return MQC__MALFORMED(r, at, NULL, "MQTT-3.8.3-5", "reserved subscription option bits set");
  if ((o & 3) == 3) return MQC__PROTOCOL(r, at, NULL, NULL, "Maximum QoS is 3");
  if (((o >> 4) & 3) == 3) return MQC__PROTOCOL(r, at, NULL, NULL, "Retain Handling is 3");
  if ((o & 4) && mqc__is_shared(filter))
    return MQC__PROTOCOL(r, at, NULL, "MQTT-3.8.3-4", "No Local set on a shared subscription");
  return MQC_OK;
}

/* The 5.0 options admitted inline, one bit per options byte below 0x40
 * (bits 6-7 are reserved): in each group of 16 (Retain Handling 0, 1, 2),
 * the low nibbles 0-2 and 8-10, i.e. QoS 0..2, No Local clear (set, the
 * filter must not be shared: check_options decides), either Retain As
 * Published. 3.x admits QoS 0..2 and nothing else. */
#define OPTIONS_5_RH ((uint64_t)0x0707)
#define OPTIONS_5    (OPTIONS_5_RH | OPTIONS_5_RH << 16 | OPTIONS_5_RH << 32)

static mqc_status subscribe_body(mqc__reader *r, mqc_subscribe *s) {
  MQC__TRY(mqc__read_packet_id(r, &s->packet_id));
  if (r->v == MQC_V5) MQC__TRY(mqc__read_props(r, 1u << MQC_SUBSCRIBE, &s->props));
  s->list.p = r->p;
  s->list.n = mqc__left(r);
  if (s->list.n == 0)
    return MQC__PROTOCOL(r, r->p, "MQTT-3.8.3-3", "MQTT-3.8.3-2", "SUBSCRIBE has no topic filter");
  /* The list is walked through locals; the reader is brought up to date
   * only for the functions that report a fault. */
  const mqc_version v = r->v;
  const uint8_t *p = r->p, *const end = r->end;
  uint32_t count = 0;
  while (p < end) {
    if (end - p < 2) return mqc__truncated((r->p = p, r), "MQTT-3.8.3-1", "MQTT-3.8.3-1");
    mqc_bytes filter = {p + 2, (size_t)(p[0] << 8 | p[1])};
    if ((size_t)(end - p) - 2 < filter.n)
      return mqc__bin_overrun((r->p = p, r), "MQTT-3.8.3-1", "MQTT-3.8.3-1");
    p += 2 + filter.n;
    if (!mqc__plain_filter(filter.p, filter.n, v))
      MQC__TRY(mqc__topic_fault((r->p = p, r), filter, true));
    if (p >= end) return mqc__truncated((r->p = p, r), NULL, NULL);
    uint8_t o = *p++;
    if (v != MQC_V5 ? o > 2 : o >= 0x40 || !(OPTIONS_5 >> o & 1))
      MQC__TRY(check_options((r->p = p, r), p - 1, o, filter));
    count++;
  }
  r->p = p;
  s->count = count;
  return MQC_OK;
}

mqc_status mqc__decode_subscribe(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                                 mqc_packet *pkt, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, v, from, err);
  memset(&pkt->subscribe, 0, sizeof pkt->subscribe);
  return subscribe_body(&r, &pkt->subscribe);
}

static mqc_status unsubscribe_body(mqc__reader *r, mqc_subscribe *s) {
  MQC__TRY(mqc__read_packet_id(r, &s->packet_id));
  if (r->v == MQC_V5) MQC__TRY(mqc__read_props(r, 1u << MQC_UNSUBSCRIBE, &s->props));
  s->list.p = r->p;
  s->list.n = mqc__left(r);
  if (s->list.n == 0)
    return MQC__PROTOCOL(r, r->p, "MQTT-3.10.3-2", "MQTT-3.10.3-2",
                         "UNSUBSCRIBE has no topic filter");
  while (r->p < r->end) {
    mqc_bytes filter;
    MQC__TRY(mqc__read_topic(r, &filter, true, "MQTT-3.10.3-1", "MQTT-3.10.3-1"));
    s->count++;
  }
  return MQC_OK;
}

mqc_status mqc__decode_unsubscribe(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                                   mqc_packet *pkt, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, v, from, err);
  memset(&pkt->subscribe, 0, sizeof pkt->subscribe);
  return unsubscribe_body(&r, &pkt->subscribe);
}

static bool suback_code_ok(mqc_version v, uint8_t code) {
  if (v == MQC_V31) return code <= 2;
  return code <= 2 || code == 0x80;
}

static mqc_status suback_body(mqc__reader *r, mqc_suback *s) {
  MQC__TRY(mqc__read_packet_id(r, &s->packet_id));
  bool unsub = r->type == MQC_UNSUBACK;
  if (r->v == MQC_V5)
    MQC__TRY(mqc__read_props(r, 1u << r->type, &s->props));
  else if (unsub)
    return mqc__expect_end(r);
  s->reasons.p = r->p;
  s->reasons.n = mqc__left(r);
  if (s->reasons.n == 0)
    return MQC__PROTOCOL(r, r->p, unsub ? NULL : "MQTT-3.9.3-2",
                         unsub ? "MQTT-3.11.3-2" : "MQTT-3.9.3-2",
                         "acknowledgement carries no reason code");
  for (size_t i = 0; i < s->reasons.n; i++) {
    uint8_t code = s->reasons.p[i];
    if (r->v == MQC_V5) {
      MQC__TRY(mqc__check_reason(r, s->reasons.p + i, code, NULL,
                                 unsub ? "MQTT-3.11.3-2" : "MQTT-3.9.3-2"));
    } else if (!suback_code_ok(r->v, code)) {
      return MQC__PROTOCOL(r, s->reasons.p + i, "MQTT-3.9.3-2", NULL,
                           "SUBACK return code is reserved");
    }
  }
  r->p = r->end;
  return MQC_OK;
}

mqc_status mqc__decode_suback(const uint8_t *buf, size_t extent, mqc_version v, mqc_dir from,
                              mqc_packet *pkt, mqc_error *err) {
  mqc__reader r = mqc__body_reader(buf, extent, v, from, err);
  memset(&pkt->suback, 0, sizeof pkt->suback);
  return suback_body(&r, &pkt->suback);
}

void mqc_sub_iter_init(mqc_list_iter *it, const mqc_subscribe *s) {
  it->p = s->list.p;
  it->end = s->list.p ? s->list.p + s->list.n : NULL;
  it->has_options = true;
}

void mqc_unsub_iter_init(mqc_list_iter *it, const mqc_subscribe *s) {
  it->p = s->list.p;
  it->end = s->list.p ? s->list.p + s->list.n : NULL;
  it->has_options = false;
}

/* Lists were validated by decode; the bounds checks only keep hand-built
 * lists safe. */
static bool next_filter(mqc_list_iter *it, mqc_bytes *filter) {
  if (!it->p || it->end - it->p < 2) return false;
  size_t n = (size_t)(it->p[0] << 8 | it->p[1]);
  if ((size_t)(it->end - it->p) - 2 < n) return false;
  filter->p = it->p + 2;
  filter->n = n;
  it->p += 2 + n;
  return true;
}

bool mqc_sub_next(mqc_list_iter *it, mqc_sub_entry *out) {
  if (!next_filter(it, &out->filter) || it->p >= it->end) {
    it->p = it->end;
    return false;
  }
  out->options = *it->p++;
  return true;
}

bool mqc_unsub_next(mqc_list_iter *it, mqc_bytes *filter) {
  if (!next_filter(it, filter)) {
    it->p = it->end;
    return false;
  }
  return true;
}

void mqc__encode_subscribe(mqc_writer *w, const mqc_subscribe *s, mqc_version v) {
  mqc__w_u16(w, s->packet_id);
  if (v == MQC_V5) mqc__put_props(w, &s->props);
  mqc__w_bytes(w, s->list);
}

void mqc__encode_suback(mqc_writer *w, mqc_type t, const mqc_suback *s, mqc_version v) {
  mqc__w_u16(w, s->packet_id);
  if (v == MQC_V5) mqc__put_props(w, &s->props);
  if (v == MQC_V5 || t == MQC_SUBACK) mqc__w_bytes(w, s->reasons);
}

void mqc_put_sub_entry(mqc_writer *w, mqc_bytes filter, uint8_t options) {
  mqc__w_str(w, filter);
  mqc__w_u8(w, options);
}
