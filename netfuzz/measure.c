/* measure.c - sessions per second through the executor and its oracles, for
 * `mqcheck bench fuzz`. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "mqz.h"

typedef struct {
  mqz_rate *r;
} counter;

static void on_done(void *ctx, uint64_t id, const uint8_t *s, size_t n, const mqz_outcome *out) {
  (void)id;
  (void)s;
  (void)n;
  counter *c = ctx;
  c->r->sessions++;
  c->r->packets += out->packets_sent + out->packets_received;
  c->r->findings += out->kind != MQZ_NONE;
  c->r->refused += out->refused;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
         (double)u.ru_stime.tv_usec / 1e6;
}

int mqz_measure(const mqn_url *url, mqn_tls *tls, const mqz_corpus *corpus, bool mutate,
                uint64_t seed, unsigned concurrency, double seconds, mqz_rate *out) {
  memset(out, 0, sizeof *out);
  if (!corpus->count) return -1;
  counter c = {out};
  mqz_exec_opts o;
  mqz_exec_opts_default(&o);
  o.url = *url;
  o.tls = tls;
  if (concurrency) o.concurrency = concurrency;
  mqz_exec *x;
  mqz_mutator *m = NULL;
  uint8_t *work = malloc(MQZ_SESSION_MAX);
  if (!work || (mutate && mqz_mutator_new(&m)) || mqz_exec_new(&o, on_done, &c, &x)) {
    free(work);
    mqz_mutator_free(m);
    return -1;
  }
  for (size_t i = 0; m && i < corpus->count; i++)
    mqz_mutator_learn(m, corpus->s[i], corpus->n[i]);
  double c0 = cpu_s();
  int64_t t0 = mqn_now_ms(), end = t0 + (int64_t)(seconds * 1000);
  uint64_t k = 0;
  while (mqn_now_ms() < end) {
    while (mqz_exec_has_room(x)) {
      size_t pick = (size_t)(k % corpus->count);
      size_t n = corpus->n[pick];
      memcpy(work, corpus->s[pick], n);
      if (m) {
        size_t other = (size_t)((k * 7919) % corpus->count);
        n = mqz_mutate(m, work, n, corpus->s[other], corpus->n[other], seed + k);
      }
      if (mqz_exec_submit(x, k, (uint32_t)(k % 1679615) + 1, work, n)) break;
      k++;
    }
    mqz_exec_poll(x, 5);
  }
  out->wall_s = (double)(mqn_now_ms() - t0) / 1000.0;
  out->cpu_s = cpu_s() - c0;
  mqz_exec_free(x); /* sessions still running are not counted */
  mqz_mutator_free(m);
  free(work);
  return 0;
}
