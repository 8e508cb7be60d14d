/* mqcheck bench NAME [options] - runs one benchmark program from bench/.
 * Benchmarks print their figures; they are never timed tests. */
#include <stdio.h>
#include <string.h>

#include "cli_decls.h"
#include "cli_table.h"
#include "cli_util.h"

const char mqc_cmd_bench_help[] = "run a benchmark and print its figures (bench --list)";

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck bench NAME [options]   (mqcheck bench NAME --help: its options)\n"
             "       mqcheck bench --list\n\nbenchmarks:\n");
  for (const mqc_cli_entry *e = mqc_cli_benches; e->name; e++)
    fprintf(f, "  %-10s %s\n", e->name, e->help);
}

int mqc_cmd_bench(int argc, char **argv) {
  if (argc < 2) return cli_usage("bench", "missing benchmark NAME");
  if (!strcmp(argv[1], "--list") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(stdout);
    return 0;
  }
  if (argv[1][0] == '-') return cli_bad_option("bench", argv[1], usage);
  for (const mqc_cli_entry *e = mqc_cli_benches; e->name; e++)
    if (!strcmp(argv[1], e->name)) return e->run(argc - 1, argv + 1);
  return cli_usage("bench", "unknown benchmark '%s' (mqcheck bench --list)", argv[1]);
}
