/* decode.c - fuzz target: mqc_decode on one packet.
 *
 * Input: a selector byte (fuzz.h: version, direction, small size cap; bits
 * 4 and 5 both set: also run the printers, into a buffer sized by bits 6-7)
 * and the packet bytes. Beyond "no crash", it checks
 * the decoder's contract: a successful decode lies within the input and
 * agrees with the framer, errors carry an offset inside the input and a
 * message, and the iterators a decode validated walk to the end without
 * failing. */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("decode");
}

/* Walks a validated property block; every property must come out. */
static void walk_props(const mqc_props *props) {
  mqc_prop_iter it;
  mqc_prop p;
  uint32_t n = 0;
  mqc_prop_iter_init(&it, props);
  while (mqc_prop_next(&it, &p)) {
    MQF_CHECK(mqc_props_has(props, p.id), "iterated property 0x%02x not in present mask", p.id);
    n++;
  }
  MQF_CHECK(n == props->count, "iterated %u properties, decode counted %u", n, props->count);
}

static void walk_lists(const mqc_packet *pkt) {
  mqc_list_iter it;
  uint32_t n = 0;
  if (pkt->type == MQC_SUBSCRIBE) {
    mqc_sub_entry e;
    mqc_sub_iter_init(&it, &pkt->subscribe);
    while (mqc_sub_next(&it, &e)) {
      MQF_CHECK(mqc_topic_filter_valid(e.filter), "decode accepted an invalid filter");
      n++;
    }
    MQF_CHECK(n == pkt->subscribe.count, "SUBSCRIBE walked %u of %u", n, pkt->subscribe.count);
  } else if (pkt->type == MQC_UNSUBSCRIBE) {
    mqc_bytes f;
    mqc_unsub_iter_init(&it, &pkt->subscribe);
    while (mqc_unsub_next(&it, &f))
      n++;
    MQF_CHECK(n == pkt->subscribe.count, "UNSUBSCRIBE walked %u of %u", n, pkt->subscribe.count);
  }
}

static void check_props_of(const mqc_packet *pkt) {
  const mqc_props *pr = mqc_packet_props(pkt);
  if (pr) walk_props(pr);
  if (pkt->type == MQC_CONNECT) walk_props(&pkt->connect.will_props);
}

/* Printers have snprintf semantics; a small buffer exercises truncation. */
static void print_all(const mqc_packet *pkt, mqc_version v, size_t cap) {
  static char out[8192];
  size_t n;
  n = mqc_print_line(pkt, v, out, cap);
  MQF_CHECK(cap == 0 || strlen(out) == (n < cap ? n : cap - 1), "print_line length");
  n = mqc_print_pretty(pkt, v, out, cap);
  MQF_CHECK(cap == 0 || strlen(out) == (n < cap ? n : cap - 1), "print_pretty length");
  n = mqc_print_json(pkt, v, out, cap);
  MQF_CHECK(cap == 0 || strlen(out) == (n < cap ? n : cap - 1), "print_json length");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  const uint8_t *buf = data + 1;
  size_t len = size - 1;
  mqc_version v = mqf_sel_version(sel);
  mqc_packet pkt;
  mqc_error err;
  mqc_status st = mqc_decode(buf, len, v, mqf_sel_dir(sel), mqf_sel_max(sel), &pkt, &err);
  MQF_CHECK(err.status == st, "err.status %d differs from the returned %d", err.status, st);
  if (st == MQC_INCOMPLETE) {
    MQF_CHECK(err.offset == len, "INCOMPLETE offset %zu, input %zu", err.offset, len);
    return 0;
  }
  if (st != MQC_OK) {
    MQF_CHECK(st == MQC_ERR_MALFORMED || st == MQC_ERR_PROTOCOL || st == MQC_ERR_TOO_LARGE,
              "decode returned encoder status %d", st);
    MQF_CHECK(err.offset <= len, "error offset %zu outside %zu input bytes", err.offset, len);
    MQF_CHECK(err.message && err.message[0], "error without a message");
    MQF_CHECK(err.reason >= 0x80, "error reason 0x%02x is not a failure code", err.reason);
    return 0;
  }
  size_t total = (size_t)pkt.header_len + pkt.remaining_length;
  MQF_CHECK(total <= len, "packet of %zu bytes in %zu input bytes", total, len);
  mqc_frame fr;
  MQF_CHECK(mqc_frame_packet(buf, len, v, mqf_sel_max(sel), &fr, &err) == MQC_OK &&
                fr.total_len == total,
            "framer disagrees with decode");
  check_props_of(&pkt);
  walk_lists(&pkt);
  /* Printing costs more than decoding, so only a quarter of the inputs print
   * (throughput is what finds decoder bugs); bits 6-7 pick a tiny buffer to
   * exercise truncation, 0 the full one. */
  if ((sel & 0x30) == 0x30) {
    mqc_version pv = v == MQC_VERSION_AUTO ? (mqc_version)pkt.connect.level : v;
    print_all(&pkt, pv, (sel >> 6) ? (size_t)(sel >> 6) * 7 : 8192);
  }
  return 0;
}
