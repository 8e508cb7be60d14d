/* summary.c - verdict names, counts and the summary line. */
#include <string.h>

#include "mqr.h"

const char *mqr_verdict_name(mqr_verdict v) {
  switch (v) {
  case MQR_PASS:
    return "pass";
  case MQR_FAIL:
    return "fail";
  case MQR_SKIP:
    return "skip";
  case MQR_ERROR:
    return "error";
  }
  return "?";
}

int mqr_verdict_parse(const char *s, mqr_verdict *out) {
  for (int v = MQR_PASS; v <= MQR_ERROR; v++)
    if (!strcmp(s, mqr_verdict_name((mqr_verdict)v))) {
      *out = (mqr_verdict)v;
      return 0;
    }
  return -1;
}

void mqr_count(const mqr_run *run, mqr_counts *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    switch (c->verdict) {
    case MQR_PASS:
      out->pass++;
      break;
    case MQR_FAIL:
      out->fail++;
      break;
    case MQR_SKIP:
      out->skip++;
      break;
    case MQR_ERROR:
      out->error++;
      break;
    }
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = !strcmp(run->cases[j].name, c->name);
    if (!seen) out->scenarios++;
  }
}

void mqr_summary(const mqr_run *run, char *out, size_t cap) {
  mqr_counts k;
  mqr_count(run, &k);
  snprintf(out, cap,
           "%zu cases (%zu scenarios) against %s: %zu passed, %zu failed, %zu skipped, "
           "%zu errors in %.2f s",
           run->n, k.scenarios, run->target ? run->target : "?", k.pass, k.fail, k.skip, k.error,
           run->wall_ms / 1000.0);
}
