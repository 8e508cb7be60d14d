/* mqcheck bench NAME [options] - runs one benchmark program from bench/.
 * Benchmarks print their figures; they are never timed tests. */
#include <stdio.h>
#include <string.h>

#include "cli_decls.h"
#include "cli_table.h"

const char mqc_cmd_bench_help[] = "run a benchmark and print its figures (bench --list)";

int mqc_cmd_bench(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--list") || !strcmp(argv[1], "--help")) {
    FILE *f = argc < 2 ? stderr : stdout;
    fprintf(f, "usage: mqcheck bench NAME [options]\n\nbenchmarks:\n");
    for (const mqc_cli_entry *e = mqc_cli_benches; e->name; e++)
      fprintf(f, "  %-10s %s\n", e->name, e->help);
    return argc < 2 ? 2 : 0;
  }
  for (const mqc_cli_entry *e = mqc_cli_benches; e->name; e++)
    if (!strcmp(argv[1], e->name)) return e->run(argc - 1, argv + 1);
  fprintf(stderr, "mqcheck bench: unknown benchmark '%s' (try --list)\n", argv[1]);
  return 2;
}
