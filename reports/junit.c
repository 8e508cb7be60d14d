/* junit.c - JUnit XML: one <testsuite> per version, one <testcase> per
 * scenario x version; failures carry the full report (step, fields,
 * transcript) as text. */
#include <string.h>

#include "escape.h"
#include "mqr.h"

static void suite(const mqr_run *run, FILE *f, const char *version) {
  size_t n = 0, fail = 0, skip = 0, err = 0;
  double t = 0;
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    if (strcmp(c->version, version)) continue;
    n++;
    fail += c->verdict == MQR_FAIL;
    skip += c->verdict == MQR_SKIP;
    err += c->verdict == MQR_ERROR;
    t += c->wall_ms;
  }
  if (!n) return;
  fprintf(f,
          "  <testsuite name=\"mqcheck MQTT %s\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
          "skipped=\"%zu\" time=\"%.3f\">\n",
          version, n, fail, err, skip, t / 1000.0);
  fprintf(f, "    <properties><property name=\"target\" value=\"");
  mqr__xml(f, run->target);
  fprintf(f, "\"/></properties>\n");
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    if (strcmp(c->version, version)) continue;
    fprintf(f, "    <testcase classname=\"mqcheck.%s\" name=\"", version);
    mqr__xml(f, c->name);
    fprintf(f, "\" file=\"");
    mqr__xml(f, c->file);
    fprintf(f, "\" line=\"%u\" time=\"%.3f\">\n", c->step_line ? c->step_line : c->line,
            c->wall_ms / 1000.0);
    const char *tag = c->verdict == MQR_FAIL    ? "failure"
                      : c->verdict == MQR_ERROR ? "error"
                      : c->verdict == MQR_SKIP  ? "skipped"
                                                : NULL;
    if (tag) {
      fprintf(f, "      <%s message=\"", tag);
      for (size_t r = 0; r < c->n_stmts; r++)
        if (!strcmp(c->stmts[r].verdict, "fail")) {
          mqr__xml(f, c->stmts[r].id);
          fprintf(f, " fails; ");
        }
      mqr__xml(f, c->message ? c->message : "");
      if (c->verdict == MQR_SKIP || !c->detail) {
        fprintf(f, "\"/>\n");
      } else {
        fprintf(f, "\" type=\"%s\">", c->transport ? "transport" : "protocol");
        mqr__xml(f, c->detail);
        fprintf(f, "</%s>\n", tag);
      }
    }
    fprintf(f, "      <properties>");
    if (c->has_propagation)
      fprintf(f, "<property name=\"propagation_ms\" value=\"%.1f\"/>", c->propagation_ms);
    for (size_t r = 0; r < c->n_rules; r++) {
      fprintf(f, "<property name=\"statement\" value=\"");
      mqr__xml(f, c->rules[r]);
      fprintf(f, "\"/>");
    }
    /* the per-statement verdicts, as the matrix and JSON report show them */
    for (size_t r = 0; r < c->n_stmts; r++) {
      fprintf(f, "<property name=\"verdict:");
      mqr__xml(f, c->stmts[r].id);
      fprintf(f, "\" value=\"");
      mqr__xml(f, c->stmts[r].verdict);
      fprintf(f, "\"/>");
    }
    fprintf(f, "</properties>\n    </testcase>\n");
  }
  fprintf(f, "  </testsuite>\n");
}

int mqr_write_junit(const mqr_run *run, FILE *f) {
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mqcheck\">\n");
  suite(run, f, "3.1.1");
  suite(run, f, "5.0");
  suite(run, f, "3.1");
  fprintf(f, "</testsuites>\n");
  return ferror(f) ? -1 : 0;
}
