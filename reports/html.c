/* html.c - the self-contained HTML report: one file, inline CSS and script,
 * no external assets, so it opens offline and can be mailed as is. */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "html.h"
#include "mqr.h"
#include "stmt.h"

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.4em 0 .4em}"
    "code,pre{font:12px/1.35 ui-monospace,monospace}"
    "pre{background:#f6f6f6;padding:.6em;overflow:auto;white-space:pre-wrap;"
    "border:1px solid #ddd}"
    "table{border-collapse:collapse;margin:.3em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
    "th{background:#eee}.meta{color:#555}"
    ".boxes span{display:inline-block;padding:.3em .8em;margin:0 .4em .4em 0;border-radius:4px;"
    "font-weight:600}"
    ".v-pass{background:#dff3df}.v-fail{background:#f9d6d5}.v-skip{background:#eeeeee}"
    ".v-error{background:#fbe7c6}.v-cases{background:#dde8f6}"
    ".v-not-reached,.v-not-checked{background:#f3ecd2}"
    "#filters{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ccc}"
    "#filters label{margin-right:.7em}.failure{border-left:4px solid #d33;padding-left:.6em;"
    "margin:1em 0}.cols{display:flex;gap:2em;flex-wrap:wrap}[hidden]{display:none!important}";

/* Applies the section and verdict filters to every element that carries
 * data-verdict; the state lives in the URL hash so a filtered view can be
 * linked to (and a test can open one). */
static const char script[] =
    "(function(){\n"
    "var sel=document.getElementById('f-section');\n"
    "var boxes=[].slice.call(document.querySelectorAll('input.f-verdict'));\n"
    "function apply(){\n"
    " var sec=sel.value,on={};boxes.forEach(function(b){on[b.value]=b.checked;});\n"
    " var n={st:0,sts:0,c:0,cs:0};\n"
    " [].forEach.call(document.querySelectorAll('[data-verdict]'),function(r){\n"
    "  var secs=(r.getAttribute('data-section')||'').split(' ');\n"
    "  var ok=r.getAttribute('data-verdict').split(' ').some(function(v){return on[v];})&&\n"
    "   (sec==='all'||secs.indexOf(sec)>=0);\n"
    "  r.hidden=!ok;\n"
    "  if(r.classList.contains('st')){n.st++;if(ok)n.sts++;}\n"
    "  if(r.classList.contains('case')){n.c++;if(ok)n.cs++;}\n"
    " });\n"
    " document.getElementById('shown').textContent=n.sts+' of '+n.st+' statements, '+n.cs+"
    "' of '+n.c+' cases shown';\n"
    " var v=boxes.filter(function(b){return b.checked;}).map(function(b){return b.value;});\n"
    " try{history.replaceState(null,'','#section='+encodeURIComponent(sec)+'&verdict='+"
    "v.join(','));}catch(e){}\n"
    "}\n"
    "location.hash.replace(/^#/,'').split('&').forEach(function(kv){\n"
    " var p=kv.split('='),val=decodeURIComponent(p[1]||'');\n"
    " if(p[0]==='section')[].forEach.call(sel.options,function(o){if(o.value===val)sel.value=val;})"
    ";\n"
    " if(p[0]==='verdict'){var vs=val.split(',');boxes.forEach(function(b){"
    "b.checked=vs.indexOf(b.value)>=0;});}\n"
    "});\n"
    "sel.addEventListener('change',apply);\n"
    "boxes.forEach(function(b){b.addEventListener('change',apply);});\n"
    "apply();\n"
    "})();\n";

void mqr__html_head(FILE *f, const char *title) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width\">\n<title>",
        f);
  mqr__xml(f, title);
  fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n", css);
}

void mqr__html_filters(FILE *f, char (*sections)[16], size_t n_sections) {
  fputs("<div id=\"filters\"><label>Section <select id=\"f-section\">"
        "<option value=\"all\">all</option>",
        f);
  for (size_t i = 0; i < n_sections; i++) {
    fputs("<option value=\"", f);
    mqr__xml(f, sections[i]);
    fputs("\">", f);
    mqr__xml(f, sections[i]);
    fputs("</option>", f);
  }
  fputs("</select></label> Verdict:", f);
  /* case verdicts and statement verdicts (not-reached, not-checked) */
  static const char *const verdicts[] = {"pass", "fail",        "error",
                                         "skip", "not-reached", "not-checked"};
  for (size_t v = 0; v < sizeof verdicts / sizeof verdicts[0]; v++)
    fprintf(f,
            " <label><input type=\"checkbox\" class=\"f-verdict\" id=\"f-%s\" value=\"%s\" "
            "checked> %s</label>",
            verdicts[v], verdicts[v], verdicts[v]);
  fputs(" <span id=\"shown\" class=\"meta\"></span></div>\n", f);
}

void mqr__html_tail(FILE *f) {
  fprintf(f, "<script>\n%s</script>\n</body></html>\n", script);
}

static int cmp_section(const void *a, const void *b) {
  return mqr_statement_cmp((const char *)a, (const char *)b);
}

int mqr__html_sections(const char *const *ids, size_t n, char (**out)[16], size_t *n_out) {
  char(*s)[16] = calloc(n + 1, sizeof *s);
  if (!s) return -1;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    char sec[16];
    mqr__section(ids[i], sec, sizeof sec);
    size_t j = 0;
    while (j < k && strcmp(s[j], sec))
      j++;
    if (j == k) memcpy(s[k++], sec, sizeof sec);
  }
  if (k) qsort(s, k, sizeof *s, cmp_section);
  *out = s;
  *n_out = k;
  return 0;
}

/* data-section: the sections of every statement the case cites. */
void mqr__html_case_sections(FILE *f, const mqr_case *c) {
  fputs(" data-section=\"", f);
  for (size_t k = 0; k < c->n_rules; k++) {
    char sec[16];
    mqr__section(c->rules[k], sec, sizeof sec);
    bool dup = false;
    for (size_t j = 0; j < k && !dup; j++) {
      char other[16];
      mqr__section(c->rules[j], other, sizeof other);
      dup = !strcmp(other, sec);
    }
    if (dup) continue;
    if (k) fputc(' ', f);
    mqr__xml(f, sec);
  }
  fputc('"', f);
}

static void summary(FILE *f, const mqr_run *run) {
  mqr_counts k;
  mqr_count(run, &k);
  char sum[400];
  mqr_summary(run, sum, sizeof sum);
  fprintf(f,
          "<div class=\"boxes\" id=\"summary\"><span class=\"v-cases\">%zu cases</span>"
          "<span class=\"v-pass\">%zu passed</span><span class=\"v-fail\">%zu failed</span>"
          "<span class=\"v-skip\">%zu skipped</span><span class=\"v-error\">%zu errors</span>"
          "</div>\n<p>",
          run->n, k.pass, k.fail, k.skip, k.error);
  mqr__xml(f, sum);
  fputs("</p>\n", f);
}

/* The probe writes each declared-against-done contradiction into the
 * profile as "#   finding STATEMENT: text"; they belong on the first screen. */
static void findings(FILE *f, const char *profile) {
  static const char tag[] = "#   finding ";
  size_t shown = 0;
  for (const char *p = profile; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (len > sizeof tag - 1 && !strncmp(p, tag, sizeof tag - 1)) {
      if (!shown++)
        fputs("<div id=\"findings\"><h2>Probe findings</h2>\n<p class=\"meta\">What the broker "
              "declares (CONNACK properties) against what it does.</p>\n<ul>\n",
              f);
      char line[600];
      snprintf(line, sizeof line, "%.*s", (int)(len - (sizeof tag - 1)), p + sizeof tag - 1);
      fputs("<li class=\"v-fail\">", f);
      mqr__xml(f, line);
      fputs("</li>\n", f);
    }
    p += len + (nl ? 1 : 0);
  }
  if (shown) fputs("</ul></div>\n", f);
}

static void matrix(FILE *f, const mqr_run *run, const mqr__stmt *rows, size_t n) {
  static const char *const vname[2] = {"MQTT 3.1.1", "MQTT 5.0"};
  fputs("<h2 id=\"matrix\">Statements</h2>\n<p class=\"meta\">One row per normative statement "
        "cited by a case, per version. A statement fails when a case checking it fails; the "
        "failing cases are linked.</p>\n<div class=\"cols\">\n",
        f);
  for (int vi = 0; vi < 2; vi++) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
      count += rows[i].vi == vi;
    if (!count) continue;
    fprintf(f,
            "<div><h3>%s</h3>\n<table class=\"matrix\" id=\"matrix-%s\"><tr><th>Statement</th>"
            "<th>Verdict</th><th>Cases</th></tr>\n",
            vname[vi], vi ? "5" : "311");
    for (size_t i = 0; i < n; i++) {
      const mqr__stmt *r = &rows[i];
      if (r->vi != vi) continue;
      char sec[16];
      mqr__section(r->id, sec, sizeof sec);
      const char *v = r->verdict;
      fprintf(f, "<tr class=\"st v-%s\" data-section=\"", v);
      mqr__xml(f, sec);
      fprintf(f, "\" data-verdict=\"%s\"><td>", v);
      mqr__xml(f, r->id);
      fprintf(f, "</td><td>%s</td><td>%zu", v, r->cases);
      if (r->failing) {
        fprintf(f, ", %zu failing:", r->failing);
        for (size_t c = 0; c < run->n; c++) {
          const mqr_case *x = &run->cases[c];
          if (mqr__version_index(x->version) != vi) continue;
          mqr_stmt st[64];
          size_t m = mqr__case_stmts(x, st, sizeof st / sizeof st[0]);
          for (size_t k = 0; k < m; k++) {
            if (strcmp(st[k].id, r->id) || strcmp(st[k].verdict, "fail")) continue;
            fprintf(f, " <a href=\"#case-%zu\">", c);
            mqr__xml(f, x->id);
            fputs("</a>", f);
          }
        }
      }
      fputs("</td></tr>\n", f);
    }
    fputs("</table></div>\n", f);
  }
  fputs("</div>\n", f);
}

static void cases(FILE *f, const mqr_run *run) {
  fputs("<h2 id=\"cases\">Cases</h2>\n<table id=\"case-list\"><tr><th>Case</th><th>Verdict</th>"
        "<th>Where</th><th>Statements</th><th>Why</th></tr>\n",
        f);
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    const char *v = mqr_verdict_name(c->verdict);
    fprintf(f, "<tr class=\"case v-%s\" data-verdict=\"%s\"", v, v);
    mqr__html_case_sections(f, c);
    fputs("><td>", f);
    if (c->verdict == MQR_FAIL || c->verdict == MQR_ERROR) fprintf(f, "<a href=\"#case-%zu\">", i);
    mqr__xml(f, c->id);
    if (c->verdict == MQR_FAIL || c->verdict == MQR_ERROR) fputs("</a>", f);
    fprintf(f, "</td><td>%s</td><td>", v);
    mqr__xml(f, c->file);
    fprintf(f, ":%u</td><td>", c->step_line ? c->step_line : c->line);
    /* each statement with its own verdict where it differs from the case's */
    mqr_stmt st[64];
    size_t m = mqr__case_stmts(c, st, sizeof st / sizeof st[0]);
    for (size_t k = 0; k < m; k++) {
      if (k) fputs(", ", f);
      mqr__xml(f, st[k].id);
      if (strcmp(st[k].verdict, v))
        fprintf(f, " <span class=\"v-%s\">%s</span>", st[k].verdict, st[k].verdict);
    }
    fputs("</td><td>", f);
    mqr__xml(f, c->message ? c->message : "");
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

static void failures(FILE *f, const mqr_run *run) {
  fputs("<h2 id=\"failures\">Failures</h2>\n", f);
  size_t shown = 0;
  for (size_t i = 0; i < run->n; i++) {
    const mqr_case *c = &run->cases[i];
    if (c->verdict != MQR_FAIL && c->verdict != MQR_ERROR) continue;
    const char *v = mqr_verdict_name(c->verdict);
    fprintf(f, "<div class=\"failure\" id=\"case-%zu\" data-verdict=\"%s\"", i, v);
    mqr__html_case_sections(f, c);
    fputs("><h3>", f);
    mqr__xml(f, c->id);
    fprintf(f, " &mdash; %s%s</h3>\n<p>Step <code>", v, c->transport ? " (transport)" : "");
    mqr__xml(f, c->file);
    fprintf(f, ":%u</code>: ", c->step_line ? c->step_line : c->line);
    mqr__xml(f, c->message ? c->message : "");
    fputs("</p>\n", f);
    if (c->description) {
      fputs("<p class=\"meta\">", f);
      mqr__xml(f, c->description);
      fputs("</p>\n", f);
    }
    /* the runner's report: expected against received, then the decoded
     * transcript of every client */
    fputs("<pre>", f);
    mqr__xml(f, c->detail ? c->detail : "(no failure report recorded)");
    fputs("</pre></div>\n", f);
    shown++;
  }
  if (!shown) fputs("<p>None.</p>\n", f);
}

int mqr_write_html(const mqr_run *run, FILE *f) {
  mqr__stmt *rows = NULL;
  size_t n = 0;
  if (mqr__stmts(run, &rows, &n)) return -1;
  const char **ids = calloc(n + 1, sizeof *ids);
  char(*sections)[16] = NULL;
  size_t n_sections = 0;
  for (size_t i = 0; ids && i < n; i++)
    ids[i] = rows[i].id;
  if (!ids || mqr__html_sections(ids, n, &sections, &n_sections)) {
    free(ids);
    free(rows);
    return -1;
  }
  char title[400];
  snprintf(title, sizeof title, "mqcheck report: %s", run->target ? run->target : "?");
  mqr__html_head(f, title);
  fputs("<h1>mqcheck conformance report</h1>\n<p class=\"meta\">Target <code>", f);
  mqr__xml(f, run->target ? run->target : "?");
  fputs("</code> &middot; profile ", f);
  mqr__xml(f, run->profile ? run->profile : "none");
  fputs(" &middot; started ", f);
  mqr__xml(f, run->started ? run->started : "?");
  fputs(" &middot; ", f);
  mqr__xml(f, run->tool ? run->tool : "mqcheck");
  fprintf(f,
          " &middot; %u jobs &middot; <a href=\"#matrix\">statements</a> &middot; "
          "<a href=\"#failures\">failures</a> &middot; <a href=\"#cases\">cases</a> &middot; "
          "<a href=\"#profile\">profile</a></p>\n",
          run->jobs);
  summary(f, run);
  findings(f, run->profile_text);
  mqr__html_filters(f, sections, n_sections);
  matrix(f, run, rows, n);
  failures(f, run);
  cases(f, run);
  fputs("<h2 id=\"profile\">Profile</h2>\n", f);
  if (run->profile_text) {
    fputs("<pre id=\"profile-text\">", f);
    mqr__xml(f, run->profile_text);
    fputs("</pre>\n", f);
  } else {
    fputs("<p>No profile: every capability the target type has was assumed.</p>\n", f);
  }
  mqr__html_tail(f);
  free(sections);
  free(ids);
  free(rows);
  return ferror(f) ? -1 : 0;
}
