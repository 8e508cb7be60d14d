/* gen.c - the C side of the mqtt-packet cross-check (see docs/crosscheck.md).
 *
 *   crosscheck-gen gen SEED COUNT VERSION
 *       COUNT random valid packets for VERSION (3, 4 or 5), one per line:
 *       "VERSION DIR HEX JSON" with DIR c (client to server) or s, and JSON the
 *       codec's view (mqc_print_json of the packet decoded back from HEX).
 *   crosscheck-gen decode
 *       reads "VERSION DIR HEX" lines and answers each with "ok JSON" or
 *       "err ERROR-JSON", so bytes made by another implementation are judged
 *       by the codec.
 *
 * gen also checks the codec against itself: every packet must decode, with
 * the version and direction it was built for, to a packet equal to the one
 * encoded. A failure there is a codec bug and stops the run (exit 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define ARENA_SIZE (1u << 20)
#define MAX_PACKET (1u << 20)

static uint8_t arena_buf[ARENA_SIZE];
static uint8_t wire[MAX_PACKET];

static void put_hex(FILE *f, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    fputc(digits[p[i] >> 4], f);
    fputc(digits[p[i] & 15], f);
  }
}

/* JSON printers have snprintf semantics: size first, then print. */
static void put_json(FILE *f, const mqc_packet *pkt, mqc_version v) {
  size_t n = mqc_print_json(pkt, v, NULL, 0);
  char *s = malloc(n + 1);
  if (!s) {
    fprintf(stderr, "crosscheck-gen: out of memory\n");
    exit(2);
  }
  mqc_print_json(pkt, v, s, n + 1);
  fputs(s, f);
  free(s);
}

static void put_error_json(FILE *f, const mqc_error *err) {
  char s[512];
  mqc_error_json(err, s, sizeof s);
  fputs(s, f);
}

static int parse_version(const char *s, mqc_version *v) {
  if (!strcmp(s, "3"))
    *v = MQC_V31;
  else if (!strcmp(s, "4"))
    *v = MQC_V311;
  else if (!strcmp(s, "5"))
    *v = MQC_V5;
  else
    return -1;
  return 0;
}

static int run_gen(uint64_t seed, unsigned long count, mqc_version v) {
  /* The version is mixed into the seed so the three versions do not walk the
   * same random sequence. */
  gen_rng rng = {seed * 0x100000001B3ull + (uint64_t)v};
  gen_arena arena = {arena_buf, sizeof arena_buf, 0};
  for (unsigned long i = 0; i < count; i++) {
    arena.used = 0;
    mqc_type t = gen_pick_type(&rng, v);
    mqc_dir dir = gen_pick_dir(&rng, t, v);
    mqc_packet built, back;
    if (gen_packet(&rng, &arena, t, v, dir, &built)) {
      fprintf(stderr, "crosscheck-gen: arena exhausted at packet %lu\n", i);
      return 2;
    }
    size_t len;
    mqc_status st = mqc_encode(&built, v, wire, sizeof wire, &len);
    if (st != MQC_OK) {
      fprintf(stderr, "crosscheck-gen: seed %llu packet %lu (%s): encode: %s\n",
              (unsigned long long)seed, i, mqc_type_name(t), mqc_strerror(st));
      return 1;
    }
    mqc_error err;
    st = mqc_decode(wire, len, v, dir, MQC_NO_LIMIT, &back, &err);
    if (st != MQC_OK || back.header_len + back.remaining_length != len ||
        !mqc_packet_equal(&built, &back)) {
      fprintf(stderr, "crosscheck-gen: seed %llu packet %lu (%s v%d from %s) does not round-trip: ",
              (unsigned long long)seed, i, mqc_type_name(t), (int)v,
              dir == MQC_FROM_CLIENT ? "client" : "server");
      if (st != MQC_OK)
        put_error_json(stderr, &err);
      else
        fputs("decoded packet differs", stderr);
      fputs("\n  hex ", stderr);
      put_hex(stderr, wire, len);
      fputc('\n', stderr);
      return 1;
    }
    printf("%d %c ", (int)v, dir == MQC_FROM_CLIENT ? 'c' : 's');
    put_hex(stdout, wire, len);
    putchar(' ');
    put_json(stdout, &back, v);
    putchar('\n');
  }
  return 0;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes one "VERSION DIR HEX" line; prints the verdict line. */
static int decode_line(char *line) {
  char *vs = strtok(line, " \t\r\n");
  char *ds = strtok(NULL, " \t\r\n");
  char *hex = strtok(NULL, " \t\r\n");
  mqc_version v;
  if (!vs || !ds || !hex || parse_version(vs, &v) || (strcmp(ds, "c") && strcmp(ds, "s"))) {
    fprintf(stderr, "crosscheck-gen: bad input line\n");
    return 2;
  }
  size_t n = strlen(hex) / 2;
  if (n > sizeof wire || strlen(hex) % 2) {
    fprintf(stderr, "crosscheck-gen: bad hex\n");
    return 2;
  }
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      fprintf(stderr, "crosscheck-gen: bad hex\n");
      return 2;
    }
    wire[i] = (uint8_t)(hi << 4 | lo);
  }
  mqc_dir dir = ds[0] == 'c' ? MQC_FROM_CLIENT : MQC_FROM_SERVER;
  mqc_packet pkt;
  mqc_error err;
  mqc_status st = mqc_decode(wire, n, v, dir, MQC_NO_LIMIT, &pkt, &err);
  if (st == MQC_OK && pkt.header_len + pkt.remaining_length != n) {
    /* One line is one packet: bytes after it are the other side's mistake. */
    fputs("err {\"status\":\"trailing bytes after the packet\"}\n", stdout);
    return 0;
  }
  if (st != MQC_OK) {
    fputs("err ", stdout);
    put_error_json(stdout, &err);
  } else {
    fputs("ok ", stdout);
    put_json(stdout, &pkt, v);
  }
  putchar('\n');
  return 0;
}

static int run_decode(void) {
  size_t cap = 2 * MAX_PACKET + 64;
  char *line = malloc(cap);
  if (!line) return 2;
  int rc = 0;
  while (rc == 0 && fgets(line, (int)cap, stdin))
    rc = decode_line(line);
  free(line);
  return rc;
}

int main(int argc, char **argv) {
  mqc_version v;
  if (argc == 5 && !strcmp(argv[1], "gen") && !parse_version(argv[4], &v)) {
    uint64_t seed = strtoull(argv[2], NULL, 0);
    unsigned long count = strtoul(argv[3], NULL, 0);
    int rc = run_gen(seed, count, v);
    fflush(stdout);
    return rc;
  }
  if (argc == 2 && !strcmp(argv[1], "decode")) return run_decode();
  fprintf(stderr, "usage: crosscheck-gen gen SEED COUNT VERSION(3|4|5)\n"
                  "       crosscheck-gen decode < lines of \"VERSION DIR(c|s) HEX\"\n");
  return 2;
}
