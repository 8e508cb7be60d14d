/* cli_util.c - helpers shared by the subcommands. */
#include "cli_util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long cli_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *bad_at) {
  size_t len = 0;
  int hi = -1;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '#') { /* comment to the end of the line */
      while (i < n && s[i] != '\n')
        i++;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == '-') {
      if (hi >= 0) {
        *bad_at = i;
        return -1;
      }
      continue;
    }
    int v = hex_val(c);
    if (v < 0) {
      *bad_at = i;
      return -1;
    }
    if (hi < 0) {
      hi = v;
      continue;
    }
    if (len >= cap) {
      *bad_at = i;
      return -1;
    }
    out[len++] = (uint8_t)(hi << 4 | v);
    hi = -1;
  }
  if (hi >= 0) {
    *bad_at = n;
    return -1;
  }
  return (long)len;
}

char *cli_read_all(const char *path, size_t max, size_t *out_len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) {
    fprintf(stderr, "mqcheck: cannot open %s: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    if (len == cap) {
      if (cap >= max) {
        fprintf(stderr, "mqcheck: %s is larger than %zu bytes\n", path, max);
        free(buf);
        buf = NULL;
        break;
      }
      cap = cap * 2 > max ? max : cap * 2;
      char *nb = realloc(buf, cap + 1);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        fprintf(stderr, "mqcheck: error reading %s: %s\n", path, strerror(errno));
        free(buf);
        buf = NULL;
      }
      break;
    }
  }
  if (f != stdin) fclose(f);
  if (!buf) return NULL;
  buf[len] = '\0';
  *out_len = len;
  return buf;
}

int cli_parse_version(const char *s, mqc_version *out) {
  if (!strcmp(s, "3.1") || !strcmp(s, "3"))
    *out = MQC_V31;
  else if (!strcmp(s, "3.1.1") || !strcmp(s, "4"))
    *out = MQC_V311;
  else if (!strcmp(s, "5") || !strcmp(s, "5.0"))
    *out = MQC_V5;
  else if (!strcmp(s, "auto"))
    *out = MQC_VERSION_AUTO;
  else
    return -1;
  return 0;
}

int cli_usage(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "mqcheck%s%s: ", *cmd ? " " : "", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (see 'mqcheck%s%s --help')\n", *cmd ? " " : "", cmd);
  va_end(ap);
  return 2;
}

static bool is_option_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int cli_bad_option(const char *cmd, const char *arg, void (*usage)(FILE *)) {
  char *help = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&help, &n);
  bool documented = false;
  if (f) {
    usage(f);
    if (!fclose(f) && help) {
      size_t len = strlen(arg);
      for (const char *p = strstr(help, arg); p && !documented; p = strstr(p + 1, arg))
        documented = (p == help || !is_option_char(p[-1])) && !is_option_char(p[len]);
    }
  }
  free(help);
  if (documented) return cli_usage(cmd, "option '%s' needs a value", arg);
  return cli_usage(cmd, "unknown option '%s'", arg);
}

int cli_check_file(const char *cmd, const char *flag, const char *path) {
  if (!path || !access(path, R_OK)) return 0;
  fprintf(stderr, "mqcheck %s: %s '%s': %s\n", cmd, flag, path, strerror(errno));
  return -1;
}

static bool has_suite(const char *root, char *out, size_t cap) {
  struct stat st;
  int n = snprintf(out, cap, "%s/suite", root);
  return n > 0 && (size_t)n < cap && !stat(out, &st) && S_ISDIR(st.st_mode);
}

static bool same_dir(const char *a, const char *b) {
  struct stat sa, sb;
  return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cli_suite_dir(char *out, size_t cap) {
  /* The program's own location decides, not the working directory: a user's
   * repository may have a folder called suite of its own. */
  char exe[PATH_MAX], dir[PATH_MAX + 64] = "(unknown)";
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    if (same_dir(MQC_BUILD_DIR, exe) && has_suite(MQC_SOURCE_DIR, out, cap)) return 0;
    snprintf(dir, sizeof dir, "%s/%s", exe, MQC_DATADIR_FROM_BINDIR);
    if (has_suite(dir, out, cap)) return 0;
  }
  if (has_suite(MQC_DATADIR, out, cap)) return 0;
  snprintf(out, cap, "%s/suite, %s/suite", dir, MQC_DATADIR);
  return -1;
}

static void make_dirs(const char *dir) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(tmp, 0777);
      *p = '/';
    }
  mkdir(tmp, 0777);
}

static int write_report(const char *cmd, const char *path, int (*fn)(const mqr_run *, FILE *),
                        const mqr_run *run) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "mqcheck %s: cannot write %s: %s\n", cmd, path, strerror(errno));
    return -1;
  }
  int rc = fn(run, f);
  if (fclose(f) || rc) {
    fprintf(stderr, "mqcheck %s: error writing %s\n", cmd, path);
    return -1;
  }
  return 0;
}

int cli_write_reports(const char *cmd, const mqr_run *run, const char *dir, const char *junit,
                      const char *json, const char *html) {
  static const struct {
    const char *name;
    int (*fn)(const mqr_run *, FILE *);
  } in_dir[] = {{"junit.xml", mqr_write_junit},
                {"report.json", mqr_write_json},
                {"matrix.md", mqr_write_matrix_md},
                {"report.html", mqr_write_html}};
  int rc = 0;
  if (dir) {
    make_dirs(dir);
    for (size_t i = 0; i < sizeof in_dir / sizeof in_dir[0]; i++) {
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", dir, in_dir[i].name);
      if (write_report(cmd, p, in_dir[i].fn, run)) rc = -1;
    }
  }
  if (junit && write_report(cmd, junit, mqr_write_junit, run)) rc = -1;
  if (json && write_report(cmd, json, mqr_write_json, run)) rc = -1;
  if (html && write_report(cmd, html, mqr_write_html, run)) rc = -1;
  return rc;
}

int cli_profile_load(const char *path, mqs_profile *prof, const char **username,
                     const char **password, mqs_tls_opts *tls) {
  mqs_load_error le;
  if (mqs_profile_load(path, prof, &le)) {
    fprintf(stderr, "%s:%zu:%zu: error: %s\n", le.file, le.line, le.column, le.message);
    return -1;
  }
  if (!*username) *username = prof->username;
  if (!*password) *password = prof->password;
  if (!tls->cafile) tls->cafile = prof->cafile;
  if (!tls->cert) tls->cert = prof->cert;
  if (!tls->key) tls->key = prof->key;
  if (!tls->insecure) tls->insecure = prof->insecure;
  return 0;
}

size_t cli_client_only_citations(const mqs_suite *suite,
                                 const mqspec_catalog cat[MQSPEC_NVERSIONS]) {
  size_t bad = 0;
  for (size_t i = 0; i < suite->n; i++) {
    const mqs_scenario *s = suite->s[i];
    for (unsigned b = 0; b < MQSPEC_NVERSIONS; b++)
      for (size_t r = 0; (s->versions & mqs_slot_versions(b)) && r < s->n_rules[b]; r++) {
        const mqspec_stmt *st = mqspec_find(&cat[b], s->rules[b][r]);
        if (!st || st->binds != MQSPEC_CLIENT) continue;
        fprintf(stderr,
                "%s:%u:1: error: %s binds only the client in MQTT %s (%s): a broker cannot "
                "break it; cite the server statement this case judges, such as its close on "
                "the violation (docs/scenarios.md, \"Citing statements\")\n",
                s->path, s->rule_lines[b][r], st->id, b ? "5.0" : "3.1.1", st->summary);
        bad++;
      }
  }
  return bad;
}
