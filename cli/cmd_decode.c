/* mqcheck decode - decodes every packet of an MQTT byte stream.
 * Exit 0 when every packet is valid, 1 on a malformed, invalid or incomplete
 * packet, 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqc.h"

const char mqc_cmd_decode_help[] = "decode an MQTT byte stream (hex) and validate every packet";

#define MAX_INPUT (64u << 20)

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck decode [--version 3.1|3.1.1|5|auto] [--from client|server]\n"
             "                      [--json | --pretty] [--raw] [--max-packet-size N] HEX|-\n"
             "  HEX     the stream as hex digits (spaces allowed); '-' reads stdin\n"
             "  --raw   the input (stdin with '-') is binary, not hex\n"
             "  --version defaults to auto: the stream must start with CONNECT\n"
             "exit: 0 all packets valid, 1 malformed/invalid/incomplete or not hex, 2 usage\n");
}

typedef struct {
  mqc_version version;
  mqc_dir from;
  bool json, pretty, raw;
  uint32_t max_packet_size;
  const char *input;
  int first_input; /* argv index of the first HEX argument */
  int n_inputs;    /* further HEX arguments after it */
  char **argv;
} options;

static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->argv = argv;
  o->version = MQC_VERSION_AUTO;
  o->from = MQC_FROM_CLIENT;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else if (!strcmp(a, "--version") && i + 1 < argc) {
      if (cli_parse_version(argv[++i], &o->version)) {
        fprintf(stderr, "mqcheck decode: unknown version '%s'\n", argv[i]);
        return -1;
      }
    } else if (!strcmp(a, "--from") && i + 1 < argc) {
      const char *d = argv[++i];
      if (!strcmp(d, "client"))
        o->from = MQC_FROM_CLIENT;
      else if (!strcmp(d, "server"))
        o->from = MQC_FROM_SERVER;
      else {
        fprintf(stderr, "mqcheck decode: --from takes client or server, not '%s'\n", d);
        return -1;
      }
    } else if (!strcmp(a, "--max-packet-size") && i + 1 < argc) {
      char *end;
      unsigned long v = strtoul(argv[++i], &end, 10);
      if (*end || v == 0 || v > 0xFFFFFFFFul) {
        fprintf(stderr, "mqcheck decode: bad --max-packet-size '%s'\n", argv[i]);
        return -1;
      }
      o->max_packet_size = (uint32_t)v;
    } else if (!strcmp(a, "--json")) {
      o->json = true;
    } else if (!strcmp(a, "--pretty")) {
      o->pretty = true;
    } else if (!strcmp(a, "--raw")) {
      o->raw = true;
    } else if (a[0] == '-' && a[1] != '\0') {
      cli_bad_option("decode", a, usage);
      return -1;
    } else if (!o->input) {
      o->input = a;
      o->first_input = i;
    } else if (!strcmp(a, "-") || !strcmp(o->input, "-")) {
      fprintf(stderr, "mqcheck decode: '-' cannot be combined with other inputs\n");
      return -1;
    } else {
      o->n_inputs++; /* further hex arguments continue the stream */
    }
  }
  if (!o->input) {
    cli_usage("decode", "missing input: give HEX or - (stdin)");
    return -1;
  }
  if (o->json && o->pretty) {
    fprintf(stderr, "mqcheck decode: --json and --pretty exclude each other\n");
    return -1;
  }
  return 0;
}

/* Loads the input as bytes; returns NULL (message printed) on failure. */
static uint8_t *load_input(const options *o, size_t *len, int *usage_error) {
  size_t text_len;
  char *text;
  *usage_error = 0;
  if (!strcmp(o->input, "-")) {
    text = cli_read_all("-", MAX_INPUT, &text_len);
    if (!text) return NULL;
  } else {
    if (o->raw) {
      fprintf(stderr, "mqcheck decode: --raw needs '-' (binary on stdin)\n");
      *usage_error = 1;
      return NULL;
    }
    /* Every HEX argument is part of one stream; options may sit between. */
    text_len = 0;
    for (int i = o->first_input; o->argv[i]; i++)
      text_len += strlen(o->argv[i]) + 1;
    text = malloc(text_len + 1);
    if (!text) return NULL;
    text_len = 0;
    for (int i = o->first_input; o->argv[i]; i++) {
      const char *a = o->argv[i];
      if (a[0] == '-' && a[1]) {
        if (!strcmp(a, "--version") || !strcmp(a, "--from") || !strcmp(a, "--max-packet-size")) i++;
        continue;
      }
      size_t n = strlen(a);
      memcpy(text + text_len, a, n);
      text_len += n;
      text[text_len++] = ' ';
    }
    text[text_len] = '\0';
  }
  if (o->raw) {
    *len = text_len;
    return (uint8_t *)text;
  }
  uint8_t *bytes = malloc(text_len / 2 + 1);
  size_t bad = 0;
  long n = bytes ? cli_hex_decode(text, text_len, bytes, text_len / 2 + 1, &bad) : -1;
  if (n < 0) {
    if (bytes)
      fprintf(stderr,
              "mqcheck decode: input is not hex: bad character or odd digit count at "
              "character %zu\n",
              bad);
    free(bytes);
    free(text);
    return NULL; /* invalid input, not a usage error */
  }
  free(text);
  *len = (size_t)n;
  return bytes;
}

static void print_error_text(const mqc_error *err, size_t base, mqc_type type) {
  const char *name = mqc_reason_name(MQC_DISCONNECT, err->reason);
  printf("error: %s at byte %zu", err->message ? err->message : mqc_strerror(err->status),
         base + err->offset);
  if (type != MQC_RESERVED0) printf(" (in %s at byte %zu)", mqc_type_name(type), base);
  printf(": %s, reason 0x%02x%s%s", mqc_strerror(err->status), err->reason, name ? " " : "",
         name ? name : "");
  if (err->statement) printf(" [%s]", err->statement);
  printf("\n");
}

int mqc_cmd_decode(int argc, char **argv) {
  options o;
  if (parse_args(argc, argv, &o)) return 2;
  size_t len = 0;
  int usage_error;
  uint8_t *buf = load_input(&o, &len, &usage_error);
  if (!buf) return usage_error ? 2 : 1;

  size_t text_cap = 1 << 16;
  char *text = malloc(text_cap);
  if (!text) {
    free(buf);
    return 1;
  }
  mqc_version version = o.version;
  size_t off = 0, count = 0;
  int rc = 0;
  if (o.json) printf("{\"packets\":[");
  while (off < len) {
    mqc_packet pkt;
    mqc_error err;
    mqc_status st =
        mqc_decode(buf + off, len - off, version, o.from, o.max_packet_size, &pkt, &err);
    if (st == MQC_INCOMPLETE) {
      mqc_frame fr;
      mqc_error ferr;
      mqc_frame_packet(buf + off, len - off, version, MQC_NO_LIMIT, &fr, &ferr);
      err.status = MQC_INCOMPLETE;
      err.offset = len;
      err.reason = MQC_RC_MALFORMED_PACKET;
      err.statement = NULL;
      err.message = "stream ends inside a packet";
      if (!o.json)
        printf("error: stream ends inside a packet at byte %zu: %zu more byte%s needed\n", len,
               fr.needed, fr.needed == 1 ? "" : "s");
      rc = 1;
      if (o.json) {
        mqc_error_json(&err, text, text_cap);
        printf("],\"error\":%s,\"needed\":%zu", text, fr.needed);
      }
      break;
    }
    if (st != MQC_OK) {
      rc = 1;
      mqc_type type = (mqc_type)(buf[off] >> 4);
      if (o.json) {
        mqc_error stream_err = err;
        stream_err.offset += off;
        mqc_error_json(&stream_err, text, text_cap);
        printf("],\"error\":%s", text);
      } else {
        print_error_text(&err, off, type);
      }
      break;
    }
    if (pkt.type == MQC_CONNECT && version == MQC_VERSION_AUTO)
      version = (mqc_version)pkt.connect.level;
    size_t plen = pkt.header_len + (size_t)pkt.remaining_length;
    if (o.json) {
      mqc_print_json(&pkt, version, text, text_cap);
      printf("%s{\"offset\":%zu,\"length\":%zu,\"packet\":%s}", count ? "," : "", off, plen, text);
    } else if (o.pretty) {
      size_t need = mqc_print_pretty(&pkt, version, text, text_cap);
      printf("@%zu %s%s", off, text, need >= text_cap ? "  ...(truncated)\n" : "");
    } else {
      mqc_print_line(&pkt, version, text, text_cap);
      printf("@%zu %s\n", off, text);
    }
    off += plen;
    count++;
  }
  if (o.json) {
    if (rc == 0) printf("]");
    printf(",\"version\":\"%s\",\"from\":\"%s\",\"count\":%zu}\n", mqc_version_name(version),
           o.from == MQC_FROM_CLIENT ? "client" : "server", count);
  }
  free(text);
  free(buf);
  return rc;
}
