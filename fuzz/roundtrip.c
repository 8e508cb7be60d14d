/* roundtrip.c - fuzz target: decode -> encode -> decode, differential.
 *
 * Input: selector byte (fuzz.h) and one packet. Whatever decodes must encode
 * (the encoder can represent everything the decoder accepts), the encoding
 * must decode in the same version and direction to an equal packet
 * (mqc_packet_equal), encoding that again must give the same bytes (the
 * encoder's form is canonical), and the size-only pass must agree with the
 * real one. The input itself need not come back byte for byte: 3.x accepts
 * non-minimal lengths and 5.0 acks may carry redundant reason codes. */
#include <string.h>

#include "fuzz.h"

#define OUT_MAX (1u << 16)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("roundtrip");
}

static void hexdump(const char *what, const uint8_t *p, size_t n) {
  fprintf(stderr, "%s (%zu bytes): ", what, n);
  for (size_t i = 0; i < n && i < 256; i++)
    fprintf(stderr, "%02x", p[i]);
  fputc('\n', stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static uint8_t out1[OUT_MAX], out2[OUT_MAX];
  uint8_t sel = data[0];
  mqc_version v = mqf_sel_version(sel);
  mqc_dir dir = mqf_sel_dir(sel);
  mqc_packet a, b;
  mqc_error err;
  if (mqc_decode(data + 1, size - 1, v, dir, MQC_NO_LIMIT, &a, &err) != MQC_OK) return 0;
  /* Under AUTO only a CONNECT decodes; it then fixes the version. */
  mqc_version ev = v == MQC_VERSION_AUTO ? (mqc_version)a.connect.level : v;

  size_t need = 0, n1 = 0, n2 = 0;
  mqc_status st = mqc_encode(&a, ev, NULL, 0, &need);
  MQF_CHECK(st == MQC_ERR_NOSPACE || (st == MQC_OK && need == 0),
            "sizing a decoded packet failed: %s", mqc_strerror(st));
  if (need > OUT_MAX) return 0; /* inputs are far smaller; keep the buffers static */
  st = mqc_encode(&a, ev, out1, sizeof out1, &n1);
  MQF_CHECK(st == MQC_OK, "encoding a decoded %s failed: %s", mqc_type_name(a.type),
            mqc_strerror(st));
  MQF_CHECK(n1 == need, "sizing said %zu bytes, encoding wrote %zu", need, n1);

  st = mqc_decode(out1, n1, v, dir, MQC_NO_LIMIT, &b, &err);
  if (st != MQC_OK) {
    hexdump("input", data + 1, size - 1);
    hexdump("encoded", out1, n1);
  }
  MQF_CHECK(st == MQC_OK, "re-decoding the encoding failed: %s at %zu (%s, %s)", mqc_strerror(st),
            err.offset, err.message ? err.message : "", err.statement ? err.statement : "-");
  MQF_CHECK(b.header_len + (size_t)b.remaining_length == n1, "re-decode used %zu of %zu bytes",
            b.header_len + (size_t)b.remaining_length, n1);
  if (!mqc_packet_equal(&a, &b)) {
    hexdump("input", data + 1, size - 1);
    hexdump("encoded", out1, n1);
  }
  MQF_CHECK(mqc_packet_equal(&a, &b), "%s differs after a round trip", mqc_type_name(a.type));

  st = mqc_encode(&b, ev, out2, sizeof out2, &n2);
  MQF_CHECK(st == MQC_OK && n2 == n1 && !memcmp(out1, out2, n1),
            "encoding is not canonical: a second round trip changed the bytes");
  return 0;
}
