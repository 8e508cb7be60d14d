/* mqcheck report - works on JSON reports already written: --compare puts
 * several runs side by side, one column per broker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_decls.h"
#include "cli_util.h"
#include "mqr.h"

const char mqc_cmd_report_help[] = "compare JSON reports side by side (--compare, text and HTML)";

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck report --compare A.json B.json ... [--html F] [--label NAME ...]\n"
             "  --compare R...   JSON reports (run --json F), or --report folders holding a\n"
             "                   report.json; one column per report\n"
             "  --html F         also write the comparison as one self-contained HTML page\n"
             "  --label NAME     column title of the next report (default: its file name,\n"
             "                   or the folder name for .../report.json)\n"
             "Text goes to stdout: each run's totals and profile name, then per statement and\n"
             "per case each run's verdict with the reason for anything but a pass, then the\n"
             "profiles.\n"
             "exit: 0 written, 2 usage error or a report that cannot be read\n");
}

/* "out/mosquitto.json" -> "mosquitto"; "out/aedes/report.json" -> "aedes". */
static void default_label(const char *path, char *out, size_t cap) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", path);
  size_t n = strlen(tmp);
  while (n > 1 && tmp[n - 1] == '/')
    tmp[--n] = '\0';
  char *base = strrchr(tmp, '/');
  base = base ? base + 1 : tmp;
  if (!strcmp(base, "report.json") && base != tmp) {
    base[-1] = '\0';
    char *parent = strrchr(tmp, '/');
    base = parent ? parent + 1 : tmp;
  }
  char *dot = strrchr(base, '.');
  if (dot && !strcmp(dot, ".json")) *dot = '\0';
  snprintf(out, cap, "%s", base);
}

int mqc_cmd_report(int argc, char **argv) {
  const char *html = NULL;
  size_t n = 0;
  mqr_loaded *loaded = calloc((size_t)argc + 1, sizeof *loaded);
  const mqr_run **runs = calloc((size_t)argc + 1, sizeof *runs);
  char(*labels)[256] = calloc((size_t)argc + 1, sizeof *labels);
  const char **label_ptrs = calloc((size_t)argc + 1, sizeof *label_ptrs);
  const char *next_label = NULL;
  bool compare = false;
  int rc = 2;
  if (!loaded || !runs || !labels || !label_ptrs) goto out;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      rc = 0;
      goto out;
    } else if (!strcmp(a, "--compare")) {
      compare = true;
    } else if (!strcmp(a, "--html") && i + 1 < argc) {
      html = argv[++i];
    } else if (!strcmp(a, "--label") && i + 1 < argc) {
      next_label = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      rc = cli_bad_option("report", a, usage);
      goto out;
    } else {
      char path[1100];
      struct stat st;
      if (!stat(a, &st) && S_ISDIR(st.st_mode))
        snprintf(path, sizeof path, "%s/report.json", a);
      else
        snprintf(path, sizeof path, "%s", a);
      char err[1300];
      if (mqr_load_json(path, &loaded[n], err, sizeof err)) {
        fprintf(stderr, "mqcheck report: %s\n", err);
        goto out;
      }
      if (next_label)
        snprintf(labels[n], sizeof labels[n], "%s", next_label);
      else
        default_label(path, labels[n], sizeof labels[n]);
      next_label = NULL;
      runs[n] = &loaded[n].run;
      label_ptrs[n] = labels[n];
      n++;
    }
  }
  if (!compare) {
    rc = cli_usage("report", "nothing to do (give --compare REPORTS...)");
    goto out;
  }
  if (n < 1) {
    rc = cli_usage("report", "'--compare' needs at least one JSON report");
    goto out;
  }
  rc = 0;
  if (mqr_write_compare_text(runs, label_ptrs, n, stdout) || fflush(stdout)) rc = 2;
  if (html) {
    FILE *f = fopen(html, "w");
    if (!f) {
      fprintf(stderr, "mqcheck report: cannot write %s: %s\n", html, strerror(errno));
      rc = 2;
    } else {
      int wr = mqr_write_compare_html(runs, label_ptrs, n, f);
      if (fclose(f) || wr) {
        fprintf(stderr, "mqcheck report: error writing %s\n", html);
        rc = 2;
      }
    }
  }
out:
  for (size_t i = 0; loaded && i < n; i++)
    mqr_loaded_free(&loaded[i]);
  free(loaded);
  free(runs);
  free(labels);
  free(label_ptrs);
  return rc;
}
