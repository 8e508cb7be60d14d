/* mqcheck - MQTT conformance and fuzz-testing harness. Dispatches to the
 * subcommands in cli/cmd_*.c. Exit codes: 0 success, 1 a check failed or the
 * input was invalid, 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli_table.h"

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck <command> [options]\n\ncommands:\n");
  for (const mqc_cli_entry *e = mqc_cli_commands; e->name; e++)
    fprintf(f, "  %-10s %s\n", e->name, e->help);
  fprintf(f, "\nRun 'mqcheck <command> --help' for a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("mqcheck 0.1.0\n");
    return 0;
  }
  for (const mqc_cli_entry *e = mqc_cli_commands; e->name; e++)
    if (!strcmp(argv[1], e->name)) return e->run(argc - 1, argv + 1);
  fprintf(stderr, "mqcheck: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
