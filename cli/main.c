/* mqcheck - MQTT conformance and fuzz-testing harness. Dispatches to the
 * subcommands in cli/cmd_*.c. Exit codes: 0 success, 1 a check failed or the
 * input was invalid, 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli_table.h"
#include "cli_util.h"

static void usage(FILE *f) {
  fprintf(f, "usage: mqcheck <command> [options]\n       mqcheck --help | --version\n\n");
  fprintf(f, "commands:\n");
  for (const mqc_cli_entry *e = mqc_cli_commands; e->name; e++)
    fprintf(f, "  %-10s %s\n", e->name, e->help);
  fprintf(f, "\nRun 'mqcheck <command> --help' for a command's options.\n"
             "exit: 0 success, 1 a check failed or an input was invalid, 2 usage error\n");
}

int main(int argc, char **argv) {
  if (argc < 2) return cli_usage("", "missing command");
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("mqcheck %s\n", MQC_VERSION);
    return 0;
  }
  for (const mqc_cli_entry *e = mqc_cli_commands; e->name; e++)
    if (!strcmp(argv[1], e->name)) return e->run(argc - 1, argv + 1);
  if (argv[1][0] == '-') return cli_usage("", "unknown option '%s'", argv[1]);
  return cli_usage("", "unknown command '%s'", argv[1]);
}
