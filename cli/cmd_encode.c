/* mqcheck encode - packets described in YAML or JSON in, hex out. The
 * description has the shape `mqcheck decode --json` prints, plus an optional
 * `faults` mapping for deliberately invalid packets.
 *
 * Building a broken packet is a feature only when asked for: every packet
 * encoded without faults is decoded again, and one the codec rejects for the
 * version is refused with the codec's reason and statement unless
 * --allow-invalid (or `faults:` on the packet) says so. A field the version
 * or the packet type cannot carry is refused always, never dropped. */
#include <stdarg.h>
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
      "usage: mqcheck encode [--version 3.1|3.1.1|5] [--allow-invalid] [--raw] [FILE|-|--text "
      "YAML]\n"
      "  input: one packet mapping, or a list of them, in YAML or JSON\n"
      "         (default: stdin). Example:\n"
      "    mqcheck encode --text '{type: PUBLISH, qos: 1, packet_id: 7, topic: a/b, payload: hi}'\n"
      "  --version V      protocol version to encode for (default: 5)\n"
      "  --allow-invalid  encode packets the codec would reject for that version (packet\n"
      "                   ID 0, AUTH in 3.1.1...); without it they are refused, naming the\n"
      "                   field and the statement. `faults:` on a packet (even `faults: {}`)\n"
      "                   allows it for that packet alone\n"
      "  --raw            write binary instead of one hex line per packet\n"
      "A field the version or packet type cannot carry (properties in 3.1.1, a topic on\n"
      "PINGREQ) is an error, never dropped.\n"
      "exit: 0 encoded, 1 invalid or refused description, 2 usage\n");
}

/* The fields each packet type carries, besides type and faults. */
static const char *type_fields(mqc_type t) {
  switch (t) {
  case MQC_CONNECT:
    return " protocol_name protocol_level clean_start keep_alive properties client_id will "
           "username password ";
  case MQC_CONNACK:
    return " session_present reason_code properties ";
  case MQC_PUBLISH:
    return " dup qos retain topic packet_id payload properties ";
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    return " packet_id reason_code properties ";
  case MQC_SUBSCRIBE:
    return " packet_id subscriptions properties ";
  case MQC_UNSUBSCRIBE:
    return " packet_id topic_filters properties ";
  case MQC_SUBACK:
  case MQC_UNSUBACK:
    return " packet_id reason_codes properties ";
  case MQC_DISCONNECT:
  case MQC_AUTH:
    return " reason_code properties ";
  default:
    return " ";
  }
}

/* The key node named key in mapping node, or NULL. */
static yaml_node_t *key_node(yaml_document_t *doc, yaml_node_t *node, const char *key) {
  for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < node->data.mapping.pairs.top;
       q++) {
    yaml_node_t *k = yaml_document_get_node(doc, q->key);
    if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
      return k;
  }
  return NULL;
}

__attribute__((format(printf, 3, 4))) static void at(const char *name, const yaml_node_t *n,
                                                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s:%zu:%zu: ", name, n->start_mark.line + 1, n->start_mark.column + 1);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

/* Refuses fields that would be lost: keys the type has no field for, and
 * 5.0-only content encoded for 3.x. Returns 0 when nothing would be lost. */
static int check_dropped(yaml_document_t *doc, yaml_node_t *node, const mqc_packet *pkt,
                         mqc_version v, const char *name) {
  const char *fields = type_fields(pkt->type);
  const char *tname = mqc_type_name(pkt->type);
  for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < node->data.mapping.pairs.top;
       q++) {
    yaml_node_t *k = yaml_document_get_node(doc, q->key);
    if (!k || k->type != YAML_SCALAR_NODE) continue;
    const char *key = (const char *)k->data.scalar.value;
    char word[64];
    snprintf(word, sizeof word, " %s ", key);
    if (strcmp(key, "type") && strcmp(key, "faults") && !strstr(fields, word)) {
      at(name, k, "%s: %s has no such field, so it would be dropped", key, tname);
      return -1;
    }
  }
  if (v == MQC_V5) return 0;
  const char *vname = mqc_version_name(v);
  const mqc_props *props = mqc_packet_props(pkt);
  yaml_node_t *k;
  if (props && props->raw.n && (k = key_node(doc, node, "properties"))) {
    at(name, k, "properties: MQTT %s has no properties, so they would be dropped%s", vname,
       " (encode for --version 5, or send raw bytes with faults: {trailing: ...})");
    return -1;
  }
  if (pkt->type == MQC_CONNECT && pkt->connect.will_props.raw.n &&
      (k = key_node(doc, node, "will"))) {
    at(name, k, "will.properties: MQTT %s has no will properties, so they would be dropped", vname);
    return -1;
  }
  bool reason = false, reasons = false;
  switch (pkt->type) {
  case MQC_PUBACK:
  case MQC_PUBREC:
  case MQC_PUBREL:
  case MQC_PUBCOMP:
    reason = pkt->ack.reason != 0;
    break;
  case MQC_DISCONNECT:
    reason = pkt->disconnect.reason != 0;
    break;
  case MQC_UNSUBACK:
    reasons = pkt->suback.reasons.n != 0;
    break;
  default:
    break;
  }
  if (reason && (k = key_node(doc, node, "reason_code"))) {
    at(name, k, "reason_code: an MQTT %s %s has no reason code, so it would be dropped", vname,
       tname);
    return -1;
  }
  if (reasons && (k = key_node(doc, node, "reason_codes"))) {
    at(name, k, "reason_codes: an MQTT %s %s has no reason codes, so they would be dropped", vname,
       tname);
    return -1;
  }
  return 0;
}

/* Decodes what was encoded, in the direction(s) the type travels; 0 when the
 * codec accepts it, else -1 with *err from the first direction tried. */
static int check_valid(const uint8_t *bytes, size_t len, mqc_version v, mqc_type t,
                       mqc_error *err) {
  bool server_only = t == MQC_CONNACK || t == MQC_SUBACK || t == MQC_UNSUBACK || t == MQC_PINGRESP;
  bool client_only =
      t == MQC_CONNECT || t == MQC_SUBSCRIBE || t == MQC_UNSUBSCRIBE || t == MQC_PINGREQ;
  mqc_packet back;
  mqc_error other;
  mqc_dir first = server_only ? MQC_FROM_SERVER : MQC_FROM_CLIENT;
  if (mqc_decode(bytes, len, v, first, MQC_NO_LIMIT, &back, err) == MQC_OK) return 0;
  if (server_only || client_only) return -1;
  return mqc_decode(bytes, len, v, MQC_FROM_SERVER, MQC_NO_LIMIT, &back, &other) == MQC_OK ? 0 : -1;
}

static int encode_one(yaml_document_t *doc, yaml_node_t *node, mqc_version v, bool raw,
                      bool allow_invalid, const char *name) {
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
  if (check_dropped(doc, node, &pkt, v, name)) goto out;
  /* faults: on the packet says the breakage is wanted, as --allow-invalid does */
  if (key_node(doc, node, "faults")) allow_invalid = true;
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
  mqc_error verr;
  if (st == MQC_OK && !allow_invalid && check_valid(bytes, len, v, pkt.type, &verr)) {
    fprintf(stderr,
            "%s:%zu:%zu: refusing an invalid %s for MQTT %s: %s (byte %zu)%s%s%s; "
            "--allow-invalid or faults: {} on the packet encodes it anyway\n",
            name, node->start_mark.line + 1, node->start_mark.column + 1, mqc_type_name(pkt.type),
            mqc_version_name(v), verr.message ? verr.message : mqc_strerror(verr.status),
            verr.offset, verr.statement ? " [" : "", verr.statement ? verr.statement : "",
            verr.statement ? "]" : "");
  } else if (st == MQC_OK) {
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
  bool raw = false, allow_invalid = false;
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
    } else if (!strcmp(argv[i], "--allow-invalid")) {
      allow_invalid = true;
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
        rc = encode_one(&doc, yaml_document_get_node(&doc, *it), v, raw, allow_invalid, name);
    } else {
      rc = encode_one(&doc, root, v, raw, allow_invalid, name);
    }
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  free(input);
  return rc;
}
