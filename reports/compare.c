/* compare.c - several runs side by side, one column per broker: every
 * statement (per version) and every case with each run's verdict and the
 * reason for what did not pass, then totals and profiles. Text and HTML. */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "html.h"
#include "mqr.h"
#include "stmt.h"

typedef struct {
  const char *id;
  int vi;
} srow_t;

/* The union of the runs' statements and case IDs; per run, the index of
 * the matching statement row / case, or -1. */
typedef struct {
  size_t n_runs;
  mqr__stmt **st; /* per run */
  size_t *n_st;
  srow_t *srow;
  size_t n_srow;
  long *sidx; /* n_srow * n_runs */
  const char **crow;
  size_t n_crow;
  long *cidx; /* n_crow * n_runs */
} grid;

static void grid_free(grid *g) {
  for (size_t r = 0; g->st && r < g->n_runs; r++)
    free(g->st[r]);
  free(g->st);
  free(g->n_st);
  free(g->srow);
  free(g->sidx);
  free(g->crow);
  free(g->cidx);
}

static int cmp_srow(const void *x, const void *y) {
  const srow_t *a = x, *b = y;
  if (a->vi != b->vi) return a->vi - b->vi;
  return mqr_statement_cmp(a->id, b->id);
}

static int grid_build(const mqr_run *const *runs, size_t n, grid *g) {
  memset(g, 0, sizeof *g);
  g->n_runs = n;
  size_t max_s = 0, max_c = 0;
  g->st = calloc(n + 1, sizeof *g->st);
  g->n_st = calloc(n + 1, sizeof *g->n_st);
  if (!g->st || !g->n_st) return -1;
  for (size_t r = 0; r < n; r++) {
    if (mqr__stmts(runs[r], &g->st[r], &g->n_st[r])) return -1;
    max_s += g->n_st[r];
    max_c += runs[r]->n;
  }
  g->srow = calloc(max_s + 1, sizeof *g->srow);
  g->crow = calloc(max_c + 1, sizeof *g->crow);
  if (!g->srow || !g->crow) return -1;
  for (size_t r = 0; r < n; r++) {
    for (size_t i = 0; i < g->n_st[r]; i++) {
      size_t j = 0;
      while (j < g->n_srow &&
             (g->srow[j].vi != g->st[r][i].vi || strcmp(g->srow[j].id, g->st[r][i].id)))
        j++;
      if (j == g->n_srow) {
        g->srow[j].id = g->st[r][i].id;
        g->srow[j].vi = g->st[r][i].vi;
        g->n_srow++;
      }
    }
    for (size_t i = 0; i < runs[r]->n; i++) {
      size_t j = 0;
      while (j < g->n_crow && strcmp(g->crow[j], runs[r]->cases[i].id))
        j++;
      if (j == g->n_crow) g->crow[g->n_crow++] = runs[r]->cases[i].id;
    }
  }
  if (g->n_srow) qsort(g->srow, g->n_srow, sizeof *g->srow, cmp_srow);
  g->sidx = calloc(g->n_srow * n + 1, sizeof *g->sidx);
  g->cidx = calloc(g->n_crow * n + 1, sizeof *g->cidx);
  if (!g->sidx || !g->cidx) return -1;
  for (size_t j = 0; j < g->n_srow; j++)
    for (size_t r = 0; r < n; r++) {
      long at = -1;
      for (size_t i = 0; i < g->n_st[r] && at < 0; i++)
        if (g->st[r][i].vi == g->srow[j].vi && !strcmp(g->st[r][i].id, g->srow[j].id)) at = (long)i;
      g->sidx[j * n + r] = at;
    }
  for (size_t j = 0; j < g->n_crow; j++)
    for (size_t r = 0; r < n; r++) {
      long at = -1;
      for (size_t i = 0; i < runs[r]->n && at < 0; i++)
        if (!strcmp(runs[r]->cases[i].id, g->crow[j])) at = (long)i;
      g->cidx[j * n + r] = at;
    }
  return 0;
}

static const char *vlabel(int vi) {
  return vi ? "5.0" : "3.1.1";
}

/* One text cell: verdict, and the reason for anything but a pass. */
static void text_cell(FILE *f, const mqr_case *c, int width) {
  char buf[256];
  if (!c)
    snprintf(buf, sizeof buf, "-");
  else if (c->verdict == MQR_PASS || !c->message)
    snprintf(buf, sizeof buf, "%s", mqr_verdict_name(c->verdict));
  else
    snprintf(buf, sizeof buf, "%s: %s", mqr_verdict_name(c->verdict), c->message);
  if ((int)strlen(buf) > width) memcpy(buf + width - 3, "...", 4);
  fprintf(f, "  %-*s", width, buf);
}

static void totals_text(FILE *f, const mqr_run *const *runs, const char *const *labels, size_t n) {
  for (size_t r = 0; r < n; r++) {
    char sum[400];
    mqr_summary(runs[r], sum, sizeof sum);
    fprintf(f, "[%zu] %s: %s; profile %s\n", r + 1, labels[r], sum,
            runs[r]->profile ? runs[r]->profile : "none");
  }
}

int mqr_write_compare_text(const mqr_run *const *runs, const char *const *labels, size_t n,
                           FILE *f) {
  grid g;
  if (grid_build(runs, n, &g)) {
    grid_free(&g);
    return -1;
  }
  fprintf(f, "mqcheck comparison of %zu runs\n", n);
  totals_text(f, runs, labels, n);
  fprintf(f, "\nStatements (a statement fails when a case checking it fails)\n%-22s %-7s",
          "statement", "version");
  for (size_t r = 0; r < n; r++)
    fprintf(f, "  [%zu] %-8.8s", r + 1, labels[r]);
  fputc('\n', f);
  for (size_t j = 0; j < g.n_srow; j++) {
    fprintf(f, "%-22s %-7s", g.srow[j].id, vlabel(g.srow[j].vi));
    for (size_t r = 0; r < n; r++) {
      long at = g.sidx[j * n + r];
      fprintf(f, "  %-12s", at < 0 ? "-" : g.st[r][at].verdict);
    }
    fputc('\n', f);
  }
  fprintf(f, "\nCases (verdict, and the reason for anything but a pass)\n%-50s", "case");
  for (size_t r = 0; r < n; r++)
    fprintf(f, "  [%zu] %-36.36s", r + 1, labels[r]);
  fputc('\n', f);
  for (size_t j = 0; j < g.n_crow; j++) {
    fprintf(f, "%-50s", g.crow[j]);
    for (size_t r = 0; r < n; r++) {
      long at = g.cidx[j * n + r];
      text_cell(f, at < 0 ? NULL : &runs[r]->cases[at], 40);
    }
    fputc('\n', f);
  }
  fputs("\nProfiles\n", f);
  for (size_t r = 0; r < n; r++) {
    fprintf(f, "[%zu] %s:\n", r + 1, labels[r]);
    const char *p = runs[r]->profile_text;
    if (!p) {
      fputs("    (none: every capability assumed)\n", f);
      continue;
    }
    while (*p) {
      const char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      fprintf(f, "    %.*s\n", (int)len, p);
      p += len + (nl ? 1 : 0);
    }
  }
  grid_free(&g);
  return ferror(f) ? -1 : 0;
}

/* data-verdict: every column's verdict, so a verdict filter keeps a row
 * when any broker has it. */
static void html_verdicts(FILE *f, const char *const *v, size_t n) {
  fputs(" data-verdict=\"", f);
  for (size_t r = 0; r < n; r++)
    fprintf(f, "%s%s", r ? " " : "", v[r]);
  fputc('"', f);
}

int mqr_write_compare_html(const mqr_run *const *runs, const char *const *labels, size_t n,
                           FILE *f) {
  grid g;
  const char **vs = calloc(n + 1, sizeof *vs);
  const char **ids = NULL;
  char(*sections)[16] = NULL;
  size_t n_sections = 0;
  if (!vs || grid_build(runs, n, &g)) {
    free(vs);
    if (vs) grid_free(&g);
    return -1;
  }
  ids = calloc(g.n_srow + 1, sizeof *ids);
  for (size_t j = 0; ids && j < g.n_srow; j++)
    ids[j] = g.srow[j].id;
  if (!ids || mqr__html_sections(ids, g.n_srow, &sections, &n_sections)) {
    free(ids);
    free(vs);
    grid_free(&g);
    return -1;
  }
  mqr__html_head(f, "mqcheck comparison");
  fprintf(f,
          "<h1>mqcheck comparison of %zu runs</h1>\n<table id=\"totals\"><tr><th>#</th>"
          "<th>Broker</th><th>Target</th><th>Profile</th><th>Cases</th><th>Pass</th>"
          "<th>Fail</th><th>Skip</th><th>Error</th></tr>\n",
          n);
  for (size_t r = 0; r < n; r++) {
    mqr_counts k;
    mqr_count(runs[r], &k);
    fprintf(f, "<tr><td>%zu</td><td>", r + 1);
    mqr__xml(f, labels[r]);
    fputs("</td><td><code>", f);
    mqr__xml(f, runs[r]->target ? runs[r]->target : "?");
    fputs("</code></td><td><a href=\"#profile-", f);
    fprintf(f, "%zu\">", r + 1);
    mqr__xml(f, runs[r]->profile ? runs[r]->profile : "none");
    fprintf(f,
            "</a></td><td>%zu</td><td class=\"v-pass\">%zu</td><td class=\"v-fail\">%zu</td>"
            "<td class=\"v-skip\">%zu</td><td class=\"v-error\">%zu</td></tr>\n",
            runs[r]->n, k.pass, k.fail, k.skip, k.error);
  }
  fputs("</table>\n", f);
  mqr__html_filters(f, sections, n_sections);
  fputs("<h2 id=\"matrix\">Statements</h2>\n<table class=\"matrix\" id=\"compare-statements\">"
        "<tr><th>Statement</th><th>Version</th>",
        f);
  for (size_t r = 0; r < n; r++) {
    fputs("<th>", f);
    mqr__xml(f, labels[r]);
    fputs("</th>", f);
  }
  fputs("</tr>\n", f);
  for (size_t j = 0; j < g.n_srow; j++) {
    char sec[16];
    mqr__section(g.srow[j].id, sec, sizeof sec);
    for (size_t r = 0; r < n; r++) {
      long at = g.sidx[j * n + r];
      vs[r] = at < 0 ? "skip" : g.st[r][at].verdict;
    }
    fputs("<tr class=\"st\" data-section=\"", f);
    mqr__xml(f, sec);
    fputc('"', f);
    html_verdicts(f, vs, n);
    fputs("><td>", f);
    mqr__xml(f, g.srow[j].id);
    fprintf(f, "</td><td>%s</td>", vlabel(g.srow[j].vi));
    for (size_t r = 0; r < n; r++) {
      long at = g.sidx[j * n + r];
      if (at < 0)
        fputs("<td>&ndash;</td>", f);
      else
        fprintf(f, "<td class=\"v-%s\">%s (%zu)</td>", vs[r], vs[r], g.st[r][at].cases);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table>\n<h2 id=\"cases\">Cases</h2>\n<table id=\"compare-cases\"><tr><th>Case</th>", f);
  for (size_t r = 0; r < n; r++) {
    fputs("<th>", f);
    mqr__xml(f, labels[r]);
    fputs("</th>", f);
  }
  fputs("</tr>\n", f);
  for (size_t j = 0; j < g.n_crow; j++) {
    const mqr_case *any = NULL;
    for (size_t r = 0; r < n; r++) {
      long at = g.cidx[j * n + r];
      vs[r] = at < 0 ? "skip" : mqr_verdict_name(runs[r]->cases[at].verdict);
      if (at >= 0 && !any) any = &runs[r]->cases[at];
    }
    fputs("<tr class=\"case\"", f);
    mqr__html_case_sections(f, any);
    html_verdicts(f, vs, n);
    fputs("><td>", f);
    mqr__xml(f, g.crow[j]);
    fputs("</td>", f);
    for (size_t r = 0; r < n; r++) {
      long at = g.cidx[j * n + r];
      if (at < 0) {
        fputs("<td>not run</td>", f);
        continue;
      }
      const mqr_case *c = &runs[r]->cases[at];
      fprintf(f, "<td class=\"v-%s\">%s", mqr_verdict_name(c->verdict),
              mqr_verdict_name(c->verdict));
      if (c->verdict != MQR_PASS && c->message) {
        fputs(": ", f);
        mqr__xml(f, c->message);
      }
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table>\n<h2>Profiles</h2>\n", f);
  for (size_t r = 0; r < n; r++) {
    fprintf(f, "<h3 id=\"profile-%zu\">", r + 1);
    mqr__xml(f, labels[r]);
    fputs("</h3>\n", f);
    if (runs[r]->profile_text) {
      fputs("<pre>", f);
      mqr__xml(f, runs[r]->profile_text);
      fputs("</pre>\n", f);
    } else {
      fputs("<p>No profile: every capability assumed.</p>\n", f);
    }
  }
  mqr__html_tail(f);
  free(sections);
  free(ids);
  free(vs);
  grid_free(&g);
  return ferror(f) ? -1 : 0;
}
