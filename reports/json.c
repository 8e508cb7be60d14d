/* json.c - the JSON report (docs/report.schema.json, schema_version 1). */
#include "escape.h"
#include "mqr.h"

int mqr_write_json(const mqr_run *run, FILE *f) {
  mqr_counts k;
  mqr_count(run, &k);
  fprintf(f, "{\n  \"schema_version\": %d,\n  \"tool\": ", MQR_SCHEMA_VERSION);
  mqr__json(f, run->tool);
  fprintf(f, ",\n  \"target\": ");
  mqr__json(f, run->target);
  fprintf(f, ",\n  \"profile\": ");
  mqr__json(f, run->profile);
  fprintf(f, ",\n  \"profile_text\": ");
  mqr__json(f, run->profile_text);
  fprintf(f, ",\n  \"started\": ");
  mqr__json(f, run->started);
  fprintf(f, ",\n  \"wall_ms\": %.3f,\n  \"jobs\": %u,\n", run->wall_ms, run->jobs);
  fprintf(f,
          "  \"summary\": {\"cases\": %zu, \"scenarios\": %zu, \"pass\": %zu, \"fail\": %zu, "
          "\"skip\": %zu, \"error\": %zu},\n  \"cases\": [",
          run->n, k.scenarios, k.pass, k.fail, k.skip, k.error);
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
    mqr__json(f, c->id);
    fprintf(f, ", \"name\": ");
    mqr__json(f, c->name);
    fprintf(f, ", \"version\": ");
    mqr__json(f, c->version);
    fprintf(f, ", \"file\": ");
    mqr__json(f, c->file);
    fprintf(f, ", \"line\": %u, \"verdict\": \"%s\", \"transport_error\": %s,\n     \"rules\": [",
            c->line, mqr_verdict_name(c->verdict), c->transport ? "true" : "false");
    for (size_t r = 0; r < c->n_rules; r++) {
      if (r) fputs(", ", f);
      mqr__json(f, c->rules[r]);
    }
    fprintf(f, "],\n     \"statements\": [");
    for (size_t r = 0; r < c->n_stmts; r++) {
      fprintf(f, "%s{\"id\": ", r ? ", " : "");
      mqr__json(f, c->stmts[r].id);
      fprintf(f, ", \"verdict\": ");
      mqr__json(f, c->stmts[r].verdict);
      if (c->stmts[r].line)
        fprintf(f, ", \"line\": %u}", c->stmts[r].line);
      else
        fprintf(f, ", \"line\": null}");
    }
    fprintf(f, "], \"step_line\": ");
    if (c->step_line)
      fprintf(f, "%u", c->step_line);
    else
      fputs("null", f);
    fprintf(f, ", \"wall_ms\": %.3f, \"target_ms\": %llu,", c->wall_ms, c->target_ms);
    if (c->has_propagation) fprintf(f, " \"propagation_ms\": %.1f,", c->propagation_ms);
    fprintf(f, "\n     \"message\": ");
    mqr__json(f, c->message);
    fprintf(f, ", \"detail\": ");
    mqr__json(f, c->detail);
    fputc('}', f);
  }
  fprintf(f, "\n  ]\n}\n");
  return ferror(f) ? -1 : 0;
}
