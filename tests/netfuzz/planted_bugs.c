/* planted_bugs.c - the planted faults (planted.h). Triggers, precisely, and
 * the statements each one breaks: the comment at the top of
 * planted_broker.c and docs/netfuzz-planted.md. Everything here is wrong on
 * purpose in exactly one place per fault, marked "PLANTED"; the rest is the
 * careful code the faults hide in. */
#include "planted.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The inbound tap frames packets itself; beyond this size it stops (the
 * engine refuses such packets anyway: its default cap is 1 MiB). */
#define PB_IN_MAX (2u << 20)

bool pb_parse_bugs(const char *list, unsigned *bugs) {
  static const struct {
    const char *name;
    unsigned bit;
  } names[] = {{"overflow", PB_OVERFLOW}, {"hang", PB_HANG},
               {"badwire", PB_BADWIRE},   {"qos2loss", PB_QOS2LOSS},
               {"leak", PB_LEAK},         {"nowill", PB_NOWILL},
               {"exitleak", PB_EXITLEAK}, {"stale", PB_STALE},
               {"bigalloc", PB_BIGALLOC}, {"cpuburn", PB_CPUBURN},
               {"heldgrowth", PB_HELD},   {"idlespin", PB_IDLESPIN},
               {"all", PB_ALL},           {"none", 0}};
  *bugs = 0;
  const char *p = list;
  while (*p) { /* bounded by the string */
    size_t n = strcspn(p, ",");
    bool known = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
      if (strlen(names[i].name) == n && !strncmp(p, names[i].name, n)) {
        *bugs |= names[i].bit;
        known = true;
      }
    }
    if (!known) return false;
    p += n;
    if (*p == ',') p++;
  }
  return true;
}

bool pb_conn_init(pb_conn *c, unsigned bugs) {
  memset(c, 0, sizeof *c);
  c->bugs = bugs;
  if (bugs & PB_QOS2LOSS) {
    c->q2_sent = calloc(1, 65536 / 8);
    if (!c->q2_sent) return false;
  }
  if (bugs & PB_HELD) {
    c->q2_in = calloc(1, 65536 / 8);
    if (!c->q2_in) {
      free(c->q2_sent);
      return false;
    }
  }
  return true;
}

void pb_conn_free(pb_conn *c) {
  free(c->in);
  free(c->q2_sent);
  free(c->route_key);
  free(c->big);
  free(c->q2_in);
  while (c->held) { /* bounded by n_held */
    void **b = c->held;
    c->held = *b;
    free(b);
  }
  memset(c, 0, sizeof *c);
}

static uint64_t fnv1a(mqc_bytes b) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < b.n; i++)
    h = (h ^ b.p[i]) * 1099511628211ull;
  return h;
}

static bool q2_test(const pb_conn *c, uint16_t id) {
  return (c->q2_sent[id >> 3] >> (id & 7)) & 1u;
}

static void q2_set(pb_conn *c, uint16_t id, bool on) {
  if (on)
    c->q2_sent[id >> 3] |= (uint8_t)(1u << (id & 7));
  else
    c->q2_sent[id >> 3] &= (uint8_t) ~(1u << (id & 7));
}

/* A reply-routing key for request/response traffic, kept per connection. */
static void overflow_fault(pb_conn *c, const mqc_publish *p) {
  mqc_prop rt = {0}, cd;
  if (!mqc_props_get(&p->props, MQC_PROP_CORRELATION_DATA, &cd)) return;
  (void)mqc_props_get(&p->props, MQC_PROP_RESPONSE_TOPIC, &rt); /* absent: length 0 */
  if (cd.value.n > rt.value.n + 1) c->met |= PB_OVERFLOW;
  if (!(c->bugs & PB_OVERFLOW)) return;
  uint8_t *key = malloc(rt.value.n + 1); /* sized by the Response Topic ... */
  if (!key) return;
  /* PLANTED: ... filled with the Correlation Data: a heap-buffer-overflow
   * whenever the Correlation Data is longer than the Response Topic + 1,
   * e.g. Correlation Data of 2+ bytes without a Response Topic. */
  memcpy(key, cd.value.p, cd.value.n);
  free(c->route_key);
  c->route_key = key; /* kept, so the copy cannot be optimised away */
}

/* Returns true when the hang fires. */
static bool hang_fault(pb_conn *c, const mqc_packet *p) {
  uint8_t step = c->hang_step;
  c->hang_step = 0;
  if (p->type == MQC_SUBSCRIBE) {
    mqc_list_iter it;
    mqc_sub_entry e;
    mqc_sub_iter_init(&it, &p->subscribe);
    if (mqc_sub_next(&it, &e)) {
      c->hang_filter = fnv1a(e.filter);
      c->hang_step = 1;
    }
  } else if (p->type == MQC_UNSUBSCRIBE && step == 1) {
    mqc_list_iter it;
    mqc_bytes f;
    mqc_unsub_iter_init(&it, &p->subscribe);
    while (mqc_unsub_next(&it, &f)) /* bounded by the decoded list */
      if (fnv1a(f) == c->hang_filter) c->hang_step = 2;
  } else if (p->type == MQC_PINGREQ && step == 2) {
    c->met |= PB_HANG;
    return (c->bugs & PB_HANG) != 0; /* PLANTED: the caller stops serving */
  }
  return false;
}

/* A second CONNECT after one with a Will: the Will is dropped for the new
 * one. */
static void exitleak_fault(pb_conn *c) {
  c->met |= PB_EXITLEAK;
  if (!(c->bugs & PB_EXITLEAK)) return;
  /* PLANTED: the first CONNECT's Will is forgotten, not freed: a block no
   * pointer reaches, which LeakSanitizer reports when the broker exits */
  volatile uint8_t *lost = malloc(96);
  if (lost) lost[0] = 1; /* a volatile store: the allocation stays */
}

/* A retained message on a topic with an empty level, kept for whoever
 * subscribes next. */
static void stale_fault(pb_conn *c, const mqc_packet *p) {
  if (!c->shared) return;
  if (p->type == MQC_PUBLISH && p->publish.retain) {
    mqc_bytes t = p->publish.topic;
    for (size_t i = 0; i + 1 < t.n; i++)
      if (t.p[i] == '/' && t.p[i + 1] == '/') c->shared->armed_by = c;
    return;
  }
  if (p->type != MQC_SUBSCRIBE || !c->shared->armed_by || c->shared->armed_by == c) return;
  c->met |= PB_STALE;
  if (!(c->bugs & PB_STALE)) return;
  /* PLANTED: the subscription list is copied into a block sized for an
   * empty one: a heap-buffer-overflow on the first SUBSCRIBE from another
   * connection (every list is longer than 4 bytes) */
  uint8_t *entry = malloc(4);
  if (!entry) return;
  memcpy(entry, p->subscribe.list.p, p->subscribe.list.n);
  free(c->route_key);
  c->route_key = entry;
}

/* The packet whose header starts at p[0..n) claims its remaining length:
 * room for it is made before the bytes come. */
static void bigalloc_fault(pb_conn *c, const uint8_t *p, size_t n) {
  mqc_frame fr;
  mqc_error err;
  mqc_status st = mqc_frame_packet(p, n, MQC_V311, MQC_NO_LIMIT, &fr, &err);
  if ((st != MQC_OK && st != MQC_INCOMPLETE) || !fr.header_len || c->big) return;
  if (fr.remaining_length < PB_BIG_CLAIM) return;
  c->met |= PB_BIGALLOC;
  /* PLANTED: whatever the header claims (up to 256 MiB), before a byte of
   * it arrived, even before CONNECT; never touched, so RSS does not show
   * it (ASan's max_allocation_size_mb does) */
  c->big = malloc(fr.remaining_length);
}

/* Checks a 5.0 packet's properties for duplicates. */
static void cpuburn_fault(pb_conn *c, const mqc_props *pr) {
  mqc_prop_iter it;
  mqc_prop one;
  size_t n = 0;
  mqc_prop_iter_init(&it, pr);
  while (mqc_prop_next(&it, &one)) /* bounded by the block */
    n++;
  if (n < 2) return;
  uint8_t *ids = malloc(n);
  if (!ids) return;
  size_t k = 0;
  mqc_prop_iter_init(&it, pr);
  while (k < n && mqc_prop_next(&it, &one))
    ids[k++] = (uint8_t)one.id;
  unsigned long dups = 0;
  /* PLANTED: every property against every later one, User Properties too
   * (which may repeat): quadratic in their number, seconds of CPU for a
   * packet of a megabyte */
  for (size_t i = 0; i < k; i++)
    for (size_t j = i + 1; j < k; j++)
      dups += ids[i] == ids[j] && ids[i] != MQC_PROP_USER_PROPERTY;
  c->burn += dups;
  free(ids);
}

/* Inbound QoS 2: a PUBLISH whose identifier awaits PUBREL is a re-send. */
static void held_fault(pb_conn *c, const mqc_packet *p) {
  if (p->type == MQC_PUBREL) {
    c->q2_in[p->ack.packet_id >> 3] &= (uint8_t) ~(1u << (p->ack.packet_id & 7));
    return;
  }
  if (p->type != MQC_PUBLISH || p->publish.qos != 2) return;
  uint16_t id = p->publish.packet_id;
  if (!((c->q2_in[id >> 3] >> (id & 7)) & 1u)) {
    c->q2_in[id >> 3] |= (uint8_t)(1u << (id & 7));
    return;
  }
  c->met |= PB_HELD;
  if (c->n_held >= PB_HELD_MAX) return;
  /* PLANTED: each re-send is stored again, as a new message, and kept
   * until the connection closes (touched: RSS grows) */
  void **b = malloc(PB_HELD_BYTES);
  if (!b) return;
  memset(b, 0x5a, PB_HELD_BYTES);
  *b = c->held;
  c->held = b;
  c->n_held++;
}

/* Remembers an UNSUBSCRIBE; a PINGREQ right after it fires. */
static void idlespin_fault(pb_conn *c, const mqc_packet *p) {
  bool armed = c->after_unsub;
  c->after_unsub = p->type == MQC_UNSUBSCRIBE;
  if (!armed || p->type != MQC_PINGREQ || !c->shared) return;
  c->met |= PB_IDLESPIN;
  /* PLANTED: the server's loop stops sleeping in its poll for good (the
   * caller's wait timeout becomes 0), still serving every connection */
  if (c->bugs & PB_IDLESPIN) c->shared->spinning = true;
}

static bool on_client_packet(pb_conn *c, const mqc_packet *p) {
  idlespin_fault(c, p);
  if (c->bugs & PB_HELD) held_fault(c, p);
  mqc_version v = p->type == MQC_CONNECT ? (mqc_version)p->connect.level : c->version;
  if ((c->bugs & PB_CPUBURN) && v == MQC_V5 && mqc_packet_props(p))
    cpuburn_fault(c, mqc_packet_props(p));
  if (c->bugs & PB_STALE) stale_fault(c, p);
  if (p->type == MQC_CONNECT && c->version && c->will_kept) exitleak_fault(c);
  if (p->type == MQC_CONNECT && !c->version) c->will_kept = p->connect.will;
  if (p->type == MQC_CONNECT) c->version = (mqc_version)p->connect.level;
  if (p->type == MQC_PUBLISH && c->version == MQC_V5) overflow_fault(c, &p->publish);
  if (p->type == MQC_SUBSCRIBE && p->subscribe.packet_id >= 0x8000) { /* top bit set */
    c->met |= PB_BADWIRE;
    if (c->bugs & PB_BADWIRE) {
      c->bad_suback = true;
      c->bad_suback_id = p->subscribe.packet_id;
    }
  }
  if ((c->bugs & PB_QOS2LOSS) && p->type == MQC_PUBCOMP && q2_test(c, p->ack.packet_id)) {
    q2_set(c, p->ack.packet_id, false);
    c->q2_inflight--;
  }
  return hang_fault(c, p);
}

bool pb_inbound(pb_conn *c, const uint8_t *buf, size_t len) {
  if (!c->bugs || c->tap_off || !len) return false;
  if (len > PB_IN_MAX - c->in_n) {
    c->tap_off = true;
    return false;
  }
  if (c->in_n + len > c->in_cap) {
    size_t cap = c->in_cap ? c->in_cap : 4096;
    while (cap < c->in_n + len) /* bounded: cap doubles up to PB_IN_MAX */
      cap *= 2;
    uint8_t *in = realloc(c->in, cap);
    if (!in) {
      c->tap_off = true;
      return false;
    }
    c->in = in;
    c->in_cap = cap;
  }
  memcpy(c->in + c->in_n, buf, len);
  c->in_n += len;
  size_t off = 0;
  bool hang = false;
  while (off < c->in_n && !hang) { /* bounded: each turn consumes a packet */
    if (c->bugs & PB_BIGALLOC) bigalloc_fault(c, c->in + off, c->in_n - off);
    mqc_frame fr;
    mqc_error err;
    mqc_status st =
        mqc_frame_packet(c->in + off, c->in_n - off, MQC_VERSION_AUTO, PB_IN_MAX, &fr, &err);
    if (st == MQC_INCOMPLETE) break;
    if (st != MQC_OK) { /* the engine closes this connection: stay quiet */
      c->tap_off = true;
      return false;
    }
    mqc_packet p;
    /* A packet that does not decode is the engine's business (it closes or
     * answers); the faults only look at valid ones. */
    if (mqc_decode(c->in + off, fr.total_len, c->version, MQC_FROM_CLIENT, MQC_NO_LIMIT, &p,
                   &err) == MQC_OK)
      hang = on_client_packet(c, &p);
    off += fr.total_len;
  }
  memmove(c->in, c->in + off, c->in_n - off);
  c->in_n -= off;
  return hang;
}

size_t pb_outbound(pb_conn *c, uint8_t *pkt, size_t len) {
  c->dropped_by = 0;
  if (!c->bugs || !c->version) return len;
  mqc_packet p;
  mqc_error err;
  if (mqc_decode(pkt, len, c->version, MQC_FROM_SERVER, MQC_NO_LIMIT, &p, &err) != MQC_OK)
    return len;
  if ((c->bugs & PB_BADWIRE) && c->bad_suback && p.type == MQC_SUBACK &&
      p.suback.packet_id == c->bad_suback_id && p.suback.reasons.n > 0) {
    c->bad_suback = false;
    /* PLANTED: 0x03 is no Subscribe Reason Code (MQTT-3.9.3-2). */
    pkt[p.suback.reasons.p - pkt] = 0x03;
  }
  if ((c->bugs & PB_QOS2LOSS) && p.type == MQC_PUBLISH && p.publish.qos == 2) {
    uint16_t id = p.publish.packet_id;
    if (q2_test(c, id)) return len; /* a re-send of one in flight */
    if (c->q2_inflight >= PB_Q2_LIMIT) {
      c->q2_dropped++;
      c->dropped_by = PB_QOS2LOSS;
      return 0; /* PLANTED: the delivery is lost; the engine thinks it was sent */
    }
    q2_set(c, id, true);
    c->q2_inflight++;
  }
  if ((c->bugs & PB_NOWILL) && p.type == MQC_PUBLISH && p.publish.topic.n >= 4 &&
      !memcmp(p.publish.topic.p + p.publish.topic.n - 4, "will", 4)) {
    c->dropped_by = PB_NOWILL;
    return 0; /* PLANTED: the suite's wills go to "...will": none arrives (MQTT-3.1.2-8) */
  }
  return len;
}

void pb_leak(pb_leaks *l) {
  if (l->count >= l->cap && l->count >= l->fd_cap) return;
  if (l->count < l->cap) {
    void **block = malloc(PB_LEAK_BYTES);
    if (!block) return;
    memset(block, 0xa5, PB_LEAK_BYTES); /* touched, so RSS grows */
    *block = l->head;                   /* threaded, so it stays reachable */
    l->head = block;
  }
  /* PLANTED: a descriptor per connection, never closed. */
  if (l->count < l->fd_cap) (void)open("/dev/null", O_RDONLY | O_CLOEXEC);
  l->count++;
}
