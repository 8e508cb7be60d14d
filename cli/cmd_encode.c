/* mqcheck encode - packets described in YAML or JSON in, hex out. The
 * description has the shape `mqcheck decode --json` prints, plus an optional
 * `faults` mapping for deliberately invalid packets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "packet_spec.h"

const char mqc_cmd_encode_help[] = "encode packets described in YAML/JSON to hex";

#define MAX_INPUT (16u << 20)

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: mqcheck encode [--version 3.1|3.1.1|5] [--raw] [FILE|-|--text YAML]\n"
      "  input: one packet mapping, or a list of them, in YAML or JSON\n"
      "         (default: stdin). Example:\n"
      "    mqcheck encode --text '{type: PUBLISH, qos: 1, packet_id: 7, topic: a/b, payload: hi}'\n"
      "  --raw  write binary instead of one hex line per packet\n"
      "exit: 0 encoded, 1 invalid description, 2 usage\n");
}

static int encode_one(yaml_document_t *doc, yaml_node_t *node, mqc_version v, bool raw,
                      const char *name) {
  size_t arena_cap = 1u << 20;
  uint8_t *arena_buf = malloc(arena_cap);
  if (!arena_buf) return 1;
  mqs_arena arena = {arena_buf, arena_cap, 0};
  mqc_packet pkt;
  mqc_faults faults;
  mqs_spec_error err;
  int rc = 1;
  if (mqs_packet_from_yaml(doc, node, v, &arena, &pkt, &faults, &err)) {
    fprintf(stderr, "%s:%zu:%zu: %s\n", name, err.line, err.column, err.message);
    goto out;
  }
  size_t len = 0;
  mqc_status st = mqc_encode_faulty(&pkt, v, &faults, NULL, 0, &len);
  if (st != MQC_OK && st != MQC_ERR_NOSPACE) {
    fprintf(stderr, "%s:%zu:%zu: cannot encode: %s\n", name, node->start_mark.line + 1,
            node->start_mark.column + 1, mqc_strerror(st));
    goto out;
  }
  uint8_t *bytes = malloc(len ? len : 1);
  if (!bytes) goto out;
  st = mqc_encode_faulty(&pkt, v, &faults, bytes, len, &len);
  if (st == MQC_OK) {
    if (raw) {
      fwrite(bytes, 1, len, stdout);
    } else {
      for (size_t i = 0; i < len; i++)
        printf("%02x", bytes[i]);
      printf("\n");
    }
    rc = 0;
  }
  free(bytes);
out:
  free(arena_buf);
  return rc;
}

int mqc_cmd_encode(int argc, char **argv) {
  mqc_version v = MQC_V5;
  bool raw = false;
  const char *path = NULL, *text = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--version") && i + 1 < argc) {
      if (cli_parse_version(argv[++i], &v) || v == MQC_VERSION_AUTO) {
        return cli_usage("encode", "unknown --version '%s' (3.1, 3.1.1 or 5)", argv[i]);
      }
    } else if (!strcmp(argv[i], "--raw")) {
      raw = true;
    } else if (!strcmp(argv[i], "--text") && i + 1 < argc) {
      text = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return cli_bad_option("encode", argv[i], usage);
    } else if (!path) {
      path = argv[i];
    } else {
      return cli_usage("encode", "unexpected argument '%s': one input (FILE, - or --text)",
                       argv[i]);
    }
  }
  if (path && text) return cli_usage("encode", "give FILE '%s' or --text, not both", path);
  size_t len;
  char *input;
  const char *name = text ? "<text>" : path ? path : "<stdin>";
  if (text) {
    len = strlen(text);
    input = malloc(len + 1);
    if (!input) return 1;
    memcpy(input, text, len + 1);
  } else {
    input = cli_read_all(path ? path : "-", MAX_INPUT, &len);
    if (!input) return 1;
  }
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, (const unsigned char *)input, len);
  int rc = 0;
  if (!yaml_parser_load(&parser, &doc)) {
    fprintf(stderr, "%s:%zu:%zu: %s%s%s\n", name, parser.problem_mark.line + 1,
            parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
            parser.context ? " " : "", parser.context ? parser.context : "");
    rc = 1;
  } else {
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
      fprintf(stderr, "%s: no packet description\n", name);
      rc = 1;
    } else if (root->type == YAML_SEQUENCE_NODE) {
      for (yaml_node_item_t *it = root->data.sequence.items.start;
           it < root->data.sequence.items.top && rc == 0; it++)
        rc = encode_one(&doc, yaml_document_get_node(&doc, *it), v, raw, name);
    } else {
      rc = encode_one(&doc, root, v, raw, name);
    }
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  free(input);
  return rc;
}
