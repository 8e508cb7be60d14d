/* mqcheck gate - the conformance gate for a broker's CI: the installed suite
 * against TARGET, reports in REPORT_DIR, and a verdict against BASELINE that
 * fails only on regressions. It is `mqcheck run` with the gate's options, so
 * both share one runner and one baseline comparison (reports/mqr.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_decls.h"
#include "cli_util.h"

const char mqc_cmd_gate_help[] =
    "CI gate: the suite against a broker, failing only on regressions against a baseline";

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck gate TARGET BASELINE [REPORT_DIR] [-- mqcheck run options]\n"
             "  TARGET      the broker: tcp://HOST:PORT, mqtts://, ws://, wss:// (or engine)\n"
             "  BASELINE    the committed baseline: cases known not to pass, with reasons\n"
             "  REPORT_DIR  junit.xml, report.json and matrix.md (default: out/gate)\n"
             "  after --    any `mqcheck run` option, e.g. --profile F, --filter PAT, --jobs N\n"
             "Runs the suite installed with mqcheck (the source tree's from a build tree).\n"
             "Cases that fail but are listed in BASELINE do not fail the gate; cases listed\n"
             "there that now pass are reported as fixed, so the baseline can be tightened:\n"
             "  mqcheck run --target TARGET --baseline BASELINE --write-baseline NEW\n"
             "exit: 0 no regression, 1 regressions, 2 usage, load or report errors\n");
}

int mqc_cmd_gate(int argc, char **argv) {
  const char *pos[3] = {0};
  int npos = 0, rest = argc;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) {
      rest = i + 1;
      break;
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    if (a[0] == '-' && a[1])
      return cli_usage("gate", "unknown option '%s' (run options go after --)", a);
    if (npos == 3) return cli_usage("gate", "unexpected argument '%s'", a);
    pos[npos++] = a;
  }
  if (npos < 1) return cli_usage("gate", "missing TARGET and BASELINE");
  if (npos < 2) return cli_usage("gate", "missing BASELINE after TARGET '%s'", pos[0]);
  const char *fixed[] = {
      "run",    "--target", pos[0], "--baseline", pos[1], "--report", pos[2] ? pos[2] : "out/gate",
      "--quiet"};
  size_t nfixed = sizeof fixed / sizeof *fixed;
  size_t nrest = rest < argc ? (size_t)(argc - rest) : 0;
  char **av = calloc(nfixed + nrest + 1, sizeof *av);
  if (!av) {
    fprintf(stderr, "mqcheck gate: out of memory\n");
    return 2;
  }
  for (size_t i = 0; i < nfixed; i++)
    av[i] = (char *)fixed[i];
  for (size_t i = 0; i < nrest; i++)
    av[nfixed + i] = argv[rest + (int)i];
  int rc = mqc_cmd_run((int)(nfixed + nrest), av);
  free(av);
  return rc;
}
