/* cli_table.h - the generated command and benchmark tables. */
#ifndef MQC_CLI_TABLE_H
#define MQC_CLI_TABLE_H

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv); /* argv[0] is the command name */
  const char *help;                  /* one line */
} mqc_cli_entry;

/* Terminated by an entry with name == NULL. */
extern const mqc_cli_entry mqc_cli_commands[];
extern const mqc_cli_entry mqc_cli_benches[];

#endif
