/* scenario.c - fuzz target: the YAML packet descriptions (scenarios/
 * packet_spec.h) as a parser of untrusted text.
 *
 * Input: YAML or JSON text, loaded with libyaml as `mqcheck encode` does; the
 * root (or each item of a root sequence) goes through mqs_packet_from_yaml
 * for 5.0 and for 3.1.1, and whatever it accepts is encoded with its faults.
 * Oracles: no crash or leak, the arena is never overrun, and a described
 * packet always sizes and encodes (the encoder refuses only what the wire
 * cannot carry).
 *
 * TODO(scenario loader): when scenarios/ exposes a scenario loader API, fuzz
 * it here as well (or in a sibling target `scenario_file`). */
#include <string.h>
#include <yaml.h>

#include "fuzz.h"
#include "packet_spec.h"

#define ARENA   (1u << 16)
#define OUT_MAX (1u << 18)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

const mqf_layout *mqf_target_layout(void) {
  return mqf_layout_by_name("packets");
}

static void build(yaml_document_t *doc, yaml_node_t *node, mqc_version v) {
  static uint8_t arena_buf[ARENA], out[OUT_MAX];
  mqs_arena arena = {arena_buf, sizeof arena_buf, 0};
  mqc_packet pkt;
  mqc_faults faults;
  mqs_spec_error err;
  if (mqs_packet_from_yaml(doc, node, v, &arena, &pkt, &faults, &err) != 0) {
    MQF_CHECK(memchr(err.message, 0, sizeof err.message), "error message not terminated");
    return;
  }
  MQF_CHECK(arena.used <= arena.cap, "arena overrun: %zu of %zu", arena.used, arena.cap);
  size_t need = 0, n = 0;
  mqc_status st = mqc_encode_faulty(&pkt, v, &faults, NULL, 0, &need);
  if (st == MQC_ERR_ARGUMENT) return; /* e.g. a string over 65535 bytes: refused, fine */
  MQF_CHECK(st == MQC_ERR_NOSPACE || st == MQC_OK, "sizing: %s", mqc_strerror(st));
  if (need > sizeof out) return;
  st = mqc_encode_faulty(&pkt, v, &faults, out, sizeof out, &n);
  MQF_CHECK(st == MQC_OK && n == need, "encode: %s, %zu vs %zu bytes", mqc_strerror(st), n, need);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) return 0;
  yaml_parser_set_input_string(&parser, data, size);
  if (yaml_parser_load(&parser, &doc)) {
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    static const mqc_version versions[] = {MQC_V5, MQC_V311};
    for (size_t i = 0; root && i < 2; i++) {
      if (root->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = root->data.sequence.items.start;
             it < root->data.sequence.items.top; it++)
          build(&doc, yaml_document_get_node(&doc, *it), versions[i]);
      } else {
        build(&doc, root, versions[i]);
      }
    }
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  return 0;
}
