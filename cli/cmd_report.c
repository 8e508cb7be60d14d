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
             "       mqcheck report --compare --target URL --target URL ... [--out DIR]\n"
             "                      [--html F] [-- mqcheck run options]\n"
             "  --compare R...   JSON reports (run --json F), or --report folders holding a\n"
             "                   report.json; one column per report\n"
             "  --target URL     run the suite against URL first (mqcheck run: probed\n"
             "                   unless a run option gives --profile), one column per target\n"
             "  --out DIR        where those runs write their reports, one folder per\n"
             "                   target (default: out/compare)\n"
             "  after --         any `mqcheck run` option for every target run\n"
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

/* "tcp://127.0.0.1:1883/x" -> "tcp-127.0.0.1-1883-x": a folder name, never
 * with credentials. */
static void target_folder(const char *url, char *out, size_t cap) {
  const char *sep = strstr(url, "://");
  const char *rest = sep ? sep + 3 : url;
  const char *at = strchr(rest, '@'), *slash = strchr(rest, '/');
  if (at && (!slash || at < slash)) rest = at + 1;
  size_t k = 0;
  if (sep) k = (size_t)snprintf(out, cap, "%.*s-", (int)(sep - url), url);
  if (k >= cap) k = cap - 1;
  for (; *rest && k + 1 < cap; rest++)
    out[k++] = (*rest == ':' || *rest == '/') ? '-' : *rest;
  while (k && out[k - 1] == '-')
    k--;
  out[k] = '\0';
}

/* Runs the suite against each target (mqcheck run --report OUT/FOLDER), so
 * the comparison reads their report.json. Returns 0, or 2 when a run could
 * not produce a report. */
static int run_targets(const char **targets, size_t n, const char *out, char **run_args,
                       int n_run_args, char (*dirs)[1100]) {
  for (size_t t = 0; t < n; t++) {
    char folder[600];
    target_folder(targets[t], folder, sizeof folder);
    snprintf(dirs[t], sizeof dirs[t], "%s/%s", out, folder);
    for (size_t u = 0; u < t; u++) /* the same target twice: its own folder */
      if (!strcmp(dirs[u], dirs[t]))
        snprintf(dirs[t], sizeof dirs[t], "%s/%s-%zu", out, folder, t + 1);
    const char *fixed[] = {"run", "--target", targets[t], "--report", dirs[t], "--quiet"};
    size_t nf = sizeof fixed / sizeof *fixed;
    char **av = calloc(nf + (size_t)n_run_args + 1, sizeof *av);
    if (!av) return 2;
    for (size_t i = 0; i < nf; i++)
      av[i] = (char *)fixed[i];
    for (int i = 0; i < n_run_args; i++)
      av[nf + (size_t)i] = run_args[i];
    printf("mqcheck report: running the suite against %s (reports in %s)\n", targets[t], dirs[t]);
    fflush(stdout);
    int rc = mqc_cmd_run((int)nf + n_run_args, av);
    free(av);
    if (rc == 2) {
      fprintf(stderr, "mqcheck report: the run against %s failed (see above)\n", targets[t]);
      return 2;
    }
  }
  return 0;
}

int mqc_cmd_report(int argc, char **argv) {
  const char *html = NULL, *out_dir = "out/compare";
  const char **targets = calloc((size_t)argc + 1, sizeof *targets);
  char(*dirs)[1100] = calloc((size_t)argc + 1, sizeof *dirs);
  size_t n_targets = 0;
  int rest = argc;
  size_t n = 0;
  mqr_loaded *loaded = calloc((size_t)argc + 1, sizeof *loaded);
  const mqr_run **runs = calloc((size_t)argc + 1, sizeof *runs);
  char(*labels)[256] = calloc((size_t)argc + 1, sizeof *labels);
  const char **label_ptrs = calloc((size_t)argc + 1, sizeof *label_ptrs);
  const char *next_label = NULL;
  bool compare = false;
  int rc = 2;
  if (!loaded || !runs || !labels || !label_ptrs || !targets || !dirs) goto out;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) {
      rest = i + 1;
      break;
    } else if (!strcmp(a, "--target") && i + 1 < argc) {
      targets[n_targets++] = argv[++i];
      continue;
    } else if (!strcmp(a, "--out") && i + 1 < argc) {
      out_dir = argv[++i];
      continue;
    }
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
  if (rest < argc && !n_targets) {
    rc = cli_usage("report", "run options after '--' need '--target'");
    goto out;
  }
  if (n_targets) {
    if (run_targets(targets, n_targets, out_dir, argv + rest, argc - rest, dirs)) goto out;
    for (size_t t = 0; t < n_targets; t++) {
      char path[1200], err[1300];
      snprintf(path, sizeof path, "%s/report.json", dirs[t]);
      if (mqr_load_json(path, &loaded[n], err, sizeof err)) {
        fprintf(stderr, "mqcheck report: %s\n", err);
        goto out;
      }
      default_label(path, labels[n], sizeof labels[n]);
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
  free(targets);
  free(dirs);
  return rc;
}
