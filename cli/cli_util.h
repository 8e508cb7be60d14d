/* cli_util.h - small helpers shared by the subcommands. */
#ifndef MQC_CLI_UTIL_H
#define MQC_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mqc.h"
#include "mqr.h"
#include "mqs.h"
#include "mqspec.h"

/* Parses hex digits (whitespace, ':' and '-' between bytes and '#' comments
 * to the end of a line are ignored) into
 * out (cap bytes). Returns the byte count, or -1 on a bad digit, odd digit
 * count or overflow; *bad_at then holds the character index at fault. */
long cli_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *bad_at);

/* Reads all of a file ("-" for stdin) into a malloc'd buffer (caller frees).
 * Returns NULL with a message on stderr. max bounds the size read. */
char *cli_read_all(const char *path, size_t max, size_t *out_len);

/* "3.1" "3.1.1" "5" "5.0" -> version; MQC_VERSION_AUTO on "auto". Returns -1
 * when unknown. */
int cli_parse_version(const char *s, mqc_version *out);

/* Usage error of command cmd ("run", or "" for mqcheck itself): prints one
 * line, "mqcheck CMD: MESSAGE (see 'mqcheck CMD --help')", to stderr and
 * returns 2, the usage exit code, so callers can `return cli_usage(...)`. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The usage error for an option the command did not accept: "option '--x'
 * needs a value" when arg is one its help text (printed by usage into a
 * buffer) documents, since a known option only falls through when its value is
 * missing; else "unknown option '--x'". Returns 2. */
int cli_bad_option(const char *cmd, const char *arg, void (*usage)(FILE *));

/* Checks that the file a flag names can be read, so a typo is reported with
 * the flag the user typed ("mqcheck run: --cert 'x.pem': No such file or
 * directory") before a library reports it in its own terms. A NULL path is
 * fine. Returns 0, or -1 after printing the message. */
int cli_check_file(const char *cmd, const char *flag, const char *path);

/* The scenario suite that ships with this mqcheck: the source tree's when the
 * program runs from its own build tree, else the installed one
 * (BINDIR/../share/mqcheck/suite, then the configured install prefix's).
 * Writes the directory into out (cap bytes) and returns 0, or -1 when there is
 * none; out then lists the places looked at. */
int cli_suite_dir(char *out, size_t cap);

/* Loads the target profile at path into *prof (free it with
 * mqs_profile_free, also after an error) and fills what the command line
 * left open: *username, *password and tls's files and insecure flag. The
 * strings filled in are borrowed from *prof. Returns 0, or -1 after printing
 * the error at its file, line and column. */
int cli_profile_load(const char *path, mqs_profile *prof, const char **username,
                     const char **password, mqs_tls_opts *tls);

/* Writes run's reports for command cmd: under dir (made with its parents)
 * junit.xml, report.json, matrix.md and report.html, then each of the single
 * files junit, json and html that is not NULL. Says on stderr what could not
 * be written. Returns 0, or -1 when some file could not be written. */
int cli_write_reports(const char *cmd, const mqr_run *run, const char *dir, const char *junit,
                      const char *json, const char *html);

/* Every scenario file is a server case (clients are judged by client-check
 * from clientcheck/'s own table), so a statement that binds only the client
 * is one the broker under test cannot break: a failure would blame the broker
 * for the client's duty. Prints an error for each such citation of suite at
 * the line of its ID, as "mqcheck CMD" would ("FILE:LINE:1: error: ..."), and
 * returns their count. cat holds both versions' catalogs (borrowed); IDs it
 * lacks are left to the unknown-ID check. */
size_t cli_client_only_citations(const mqs_suite *suite,
                                 const mqspec_catalog cat[MQSPEC_NVERSIONS]);

#endif
