/* planted_reach [--seeds FILE] [TRIALS] - are the planted faults reachable by
 * mutation from the suite's seeds? Takes client streams (built in: those of
 * the scenarios next to each fault, docs/netfuzz-planted.md; with --seeds,
 * the "name hex" lines of FILE, e.g. from suite_streams.py: the whole suite),
 * mutates them with fuzz/mutator (1 to 4 stacked mutations, splicing from
 * another seed), feeds each result to a planted connection's inbound tap and
 * counts the streams that meet each inbound trigger (overflow, hang, badwire;
 * qos2loss and leak need no mutation). Trial t starts from seed t mod the
 * seed count and uses mutator seed t, so runs are deterministic.
 *
 * Exit 0 when no unmutated seed meets a trigger and (built-in seeds only)
 * every trigger is met within TRIALS (default 20000) mutated streams; 1
 * otherwise. Prints, per fault, the streams that met it and the first trial
 * that did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"
#include "planted.h"

/* Client streams of the seed scenarios, encoded by `mqcheck encode` from their
 * send steps (topic prefix "p/", client "sub"). */
static const char *const SEEDS[] = {
    /* 5-features/request-response.yaml, pub: PUBLISH with Response Topic
     * "p/reply" and 3 bytes of Correlation Data */
    "101000044d5154540502003c00000373756230190003702f7410080007702f7265706c7909000300ff1072"
    "6571",
    /* 2-packet-ids/acks-echo-packet-id.yaml, sub, 3.1.1 and 5.0: SUBSCRIBE
     * 0x7f01, PUBACK, PUBREC, PUBCOMP, UNSUBSCRIBE 0x0102 */
    "100f00044d5154540402003c000373756282087f010003702f7402400200015002000270020002a207010200"
    "03702f74",
    "101000044d5154540502003c00000373756282097f01000003702f7402400200015002000270020002a20801"
    "02000003702f74",
    /* 3.10-unsubscribe/inflight-completes.yaml, sub, 3.1.1 and 5.0:
     * SUBSCRIBE, UNSUBSCRIBE, PUBACK, PINGREQ */
    "100f00044d5154540402003c0003737562820800010003702f7401a20700040003702f7440020001c000",
    "101000044d5154540502003c00000373756282090001000003702f7401a2080004000003702f7440020001"
    "c000",
};
#define NBUILTIN  (sizeof SEEDS / sizeof SEEDS[0])
#define MAX       4096
#define MAX_SEEDS 4096

static size_t unhex(const char *h, uint8_t *out) {
  size_t n = 0;
  for (; h[0] && h[1]; h += 2) {
    unsigned b;
    if (sscanf(h, "%2x", &b) != 1) break;
    out[n++] = (uint8_t)b;
  }
  return n;
}

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Which triggers the stream meets (PB_* bits). Armed: hang and badwire,
 * which only set state; the overflow is counted, never run. */
static unsigned meets(const uint8_t *p, size_t n) {
  pb_conn c;
  if (!pb_conn_init(&c, PB_HANG | PB_BADWIRE)) return 0;
  pb_inbound(&c, p, n);
  unsigned met = c.met;
  pb_conn_free(&c);
  return met;
}

/* Reads "name hex" lines; returns the count, or -1 when FILE cannot be read. */
static long load_seeds(const char *path, char **names, uint8_t **seed, size_t *len) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  static char line[2 * MAX + 1024];
  long n = 0;
  while (n < MAX_SEEDS && fgets(line, sizeof line, f)) { /* bounded by MAX_SEEDS */
    char *sp = strchr(line, ' ');
    if (!sp || strlen(sp + 1) > 2 * MAX + 1) continue; /* too long: left out */
    *sp = 0;
    seed[n] = malloc(MAX);
    names[n] = strdup(line);
    if (!seed[n] || !names[n]) break;
    len[n] = unhex(sp + 1, seed[n]);
    n++;
  }
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  const char *file = NULL;
  long trials = 20000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
      file = argv[++i];
    else if ((trials = strtol(argv[i], NULL, 10)) <= 0) {
      fprintf(stderr, "usage: planted_reach [--seeds FILE] [TRIALS]\n");
      return 2;
    }
  }
  static uint8_t data[MAX], scratch[MQF_SCRATCH_FOR(MAX)];
  static char *names[MAX_SEEDS];
  static uint8_t *seed[MAX_SEEDS];
  static size_t len[MAX_SEEDS];
  long nseeds = 0;
  if (file) {
    nseeds = load_seeds(file, names, seed, len);
    if (nseeds <= 0) {
      fprintf(stderr, "planted_reach: no seeds in %s\n", file);
      return 2;
    }
  } else {
    static uint8_t builtin[NBUILTIN][MAX];
    for (size_t i = 0; i < NBUILTIN; i++) {
      seed[i] = builtin[i];
      len[i] = unhex(SEEDS[i], builtin[i]);
      names[i] = "built-in";
    }
    nseeds = (long)NBUILTIN;
  }
  int rc = 0;
  for (long i = 0; i < nseeds; i++) {
    unsigned met = meets(seed[i], len[i]);
    if (met) {
      printf("FAIL: seed %ld (%s) meets trigger 0x%x unmutated\n", i, names[i], met);
      rc = 1;
    }
  }
  mqf_mutator m = {scratch, sizeof scratch, NULL, NULL};
  mqf_layout layout = mqf_layout_packets(0);
  static const struct {
    unsigned bit;
    const char *name;
  } faults[] = {{PB_OVERFLOW, "overflow"}, {PB_HANG, "hang"}, {PB_BADWIRE, "badwire"}};
  long hits[3] = {0}, first[3] = {-1, -1, -1};
  for (long t = 0; t < trials; t++) {
    uint64_t x = (uint64_t)t;
    size_t s = (size_t)(t % nseeds), o = (size_t)(splitmix(&x) % (uint64_t)nseeds);
    memcpy(data, seed[s], len[s]);
    size_t n = len[s];
    int stack = 1 + (int)(splitmix(&x) % 4);
    for (int k = 0; k < stack; k++)
      n = mqf_mutate(&m, &layout, data, n, MAX, seed[o], len[o], splitmix(&x));
    unsigned met = meets(data, n);
    for (int f = 0; f < 3; f++) {
      if (!(met & faults[f].bit)) continue;
      hits[f]++;
      if (first[f] < 0) first[f] = t;
    }
  }
  for (int f = 0; f < 3; f++) {
    printf("%-9s %6ld of %ld mutated streams from %ld seeds (%.3f%%), first at trial %ld\n",
           faults[f].name, hits[f], trials, nseeds, 100.0 * (double)hits[f] / (double)trials,
           first[f]);
    if (!hits[f] && !file) rc = 1; /* the whole suite: rates are reported only */
  }
  return rc;
}
