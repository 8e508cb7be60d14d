/* catalog.c - parsing and looking up the statement catalog (spec/mqtt-*.tsv). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqspec.h"
#include "spec_int.h"

static const char *const LEVELS[] = {"must", "mustnot", "may", "should"};
static const char *const BINDS[] = {"server", "client", "both"};
static const char *const TRIS[] = {"no", "partial", "yes"};
static const char *const TESTS[] = {"server", "client", "both", "codec", "none"};

const char *mqspec_version_name(mqspec_version v) {
  return v == MQSPEC_V5 ? "5.0" : "3.1.1";
}

int mqspec_parse_version(const char *s, mqspec_version *out) {
  static const char *const v311[] = {"3.1.1", "311", "4", "3.1", "3", "v311", "mqtt311"};
  static const char *const v5[] = {"5", "5.0", "v5", "mqtt5", "50"};
  for (size_t i = 0; i < sizeof v311 / sizeof v311[0]; i++)
    if (!strcmp(s, v311[i])) {
      *out = MQSPEC_V311;
      return 0;
    }
  for (size_t i = 0; i < sizeof v5 / sizeof v5[0]; i++)
    if (!strcmp(s, v5[i])) {
      *out = MQSPEC_V5;
      return 0;
    }
  return -1;
}

const char *mqspec_level_name(mqspec_level l) {
  return (unsigned)l < 4 ? LEVELS[l] : "?";
}
const char *mqspec_binds_name(mqspec_binds b) {
  return (unsigned)b < 3 ? BINDS[b] : "?";
}
const char *mqspec_tri_name(mqspec_tri t) {
  return (unsigned)t < 3 ? TRIS[t] : "?";
}
const char *mqspec_test_name(mqspec_test t) {
  return (unsigned)t < 5 ? TESTS[t] : "?";
}
bool mqspec_test_needs_scenario(mqspec_test t) {
  return t == MQSPEC_TEST_SERVER || t == MQSPEC_TEST_BOTH;
}

void mqspec__errf(char *err, size_t cap, const char *fmt, ...) {
  if (!err || !cap) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
}

bool mqspec_id_shaped(const char *s, size_t n) {
  if (n < 8 || memcmp(s, "MQTT-", 5) != 0) return false;
  /* digits ( '.' digits )* '-' digits, with the final '-' group required */
  size_t i = 5;
  bool dash = false;
  while (i < n) {
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == start || i - start > 4) return false;
    if (i == n) return dash;
    if (dash) return false; /* something after the final number */
    if (s[i] == '-')
      dash = true;
    else if (s[i] != '.')
      return false;
    i++;
  }
  return false;
}

static int lookup(const char *const *names, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(names[i], s)) return (int)i;
  return -1;
}

void mqspec_free(mqspec_catalog *cat) {
  free(cat->stmts);
  free(cat->text);
  cat->stmts = NULL;
  cat->text = NULL;
  cat->n = 0;
}

/* Splits line in place at tabs into at most cap fields; returns the count. */
static size_t split_tabs(char *line, char **fields, size_t cap) {
  size_t n = 0;
  char *p = line;
  for (;;) {
    if (n == cap) return cap + 1; /* too many */
    fields[n++] = p;
    char *tab = strchr(p, '\t');
    if (!tab) return n;
    *tab = '\0';
    p = tab + 1;
  }
}

static int parse_row(mqspec_catalog *cat, char *line, unsigned lineno, mqspec_stmt *row, char *err,
                     size_t errcap) {
  char *f[9];
  size_t nf = split_tabs(line, f, 9);
  if (nf != 9) {
    mqspec__errf(err, errcap, "line %u: %zu columns, want 9", lineno, nf > 9 ? (size_t)10 : nf);
    return -1;
  }
  if (!mqspec_id_shaped(f[0], strlen(f[0]))) {
    mqspec__errf(err, errcap, "line %u: '%s' is not a statement ID", lineno, f[0]);
    return -1;
  }
  /* The section is the ID's first two numbers ("MQTT-3.10.4-1" -> "3.10";
   * "MQTT-4.2-1" -> "4.2"). */
  size_t sl = strlen(f[1]);
  if (sl == 0 || strncmp(f[0] + 5, f[1], sl) != 0 || (f[0][5 + sl] != '.' && f[0][5 + sl] != '-')) {
    mqspec__errf(err, errcap, "line %u: section '%s' does not match %s", lineno, f[1], f[0]);
    return -1;
  }
  int lv = lookup(LEVELS, 4, f[2]), bd = lookup(BINDS, 3, f[3]);
  int wr = lookup(TRIS, 3, f[4]), cd = lookup(TRIS, 3, f[5]);
  if (lv < 0 || bd < 0 || wr < 0 || cd < 0) {
    mqspec__errf(err, errcap,
                 "line %u: %s: bad value in level/binds/wire/codec ('%s' '%s' '%s' '%s')", lineno,
                 f[0], f[2], f[3], f[4], f[5]);
    return -1;
  }
  size_t len = strlen(f[6]), wlen = strlen(f[8]);
  if (len == 0 || len > MQSPEC_SUMMARY_MAX || wlen == 0 || wlen > MQSPEC_SUMMARY_MAX) {
    mqspec__errf(err, errcap, "line %u: %s: summary/why are %zu/%zu bytes (1..%d allowed)", lineno,
                 f[0], len, wlen, MQSPEC_SUMMARY_MAX);
    return -1;
  }
  int ts = lookup(TESTS, 5, f[7]);
  if (ts < 0 || (ts == MQSPEC_TEST_NONE) != (wr == MQSPEC_NO) ||
      (bd == MQSPEC_CLIENT && mqspec_test_needs_scenario((mqspec_test)ts))) {
    mqspec__errf(err, errcap,
                 "line %u: %s: test '%s' (server, client, both, codec, none) does not fit "
                 "wire '%s' binds '%s'",
                 lineno, f[0], f[7], f[4], f[3]);
    return -1;
  }
  if (mqspec_find(cat, f[0])) {
    mqspec__errf(err, errcap, "line %u: %s appears twice", lineno, f[0]);
    return -1;
  }
  row->id = f[0];
  row->section = f[1];
  row->level = (mqspec_level)lv;
  row->binds = (mqspec_binds)bd;
  row->wire = (mqspec_tri)wr;
  row->codec = (mqspec_tri)cd;
  row->summary = f[6];
  row->test = (mqspec_test)ts;
  row->why = f[8];
  row->line = lineno;
  return 0;
}

int mqspec_parse(mqspec_catalog *cat, mqspec_version v, const char *tsv, size_t len, char *err,
                 size_t errcap) {
  memset(cat, 0, sizeof *cat);
  cat->version = v;
  cat->text = malloc(len + 1);
  size_t lines = 1;
  for (size_t i = 0; i < len; i++)
    lines += tsv[i] == '\n';
  cat->stmts = calloc(lines, sizeof *cat->stmts);
  if (!cat->text || !cat->stmts) {
    mqspec_free(cat);
    mqspec__errf(err, errcap, "out of memory");
    return -1;
  }
  memcpy(cat->text, tsv, len);
  cat->text[len] = '\0';
  if (memchr(cat->text, '\0', len)) {
    mqspec_free(cat);
    mqspec__errf(err, errcap, "catalog contains a NUL byte");
    return -1;
  }
  bool header = false;
  unsigned lineno = 0;
  char *p = cat->text;
  while (*p) {
    char *nl = strchr(p, '\n');
    char *next = nl ? nl + 1 : p + strlen(p);
    if (nl) *nl = '\0';
    if (nl && nl > p && nl[-1] == '\r') nl[-1] = '\0';
    lineno++;
    if (*p == '\0' || *p == '#') {
      p = next;
      continue;
    }
    if (!header) {
      if (strcmp(p, "id\tsection\tlevel\tbinds\twire\tcodec\tsummary\ttest\twhy") != 0) {
        mqspec_free(cat);
        mqspec__errf(err, errcap,
                     "line %u: expected the header row "
                     "'id section level binds wire codec summary test why'",
                     lineno);
        return -1;
      }
      header = true;
      p = next;
      continue;
    }
    if (parse_row(cat, p, lineno, &cat->stmts[cat->n], err, errcap) != 0) {
      mqspec_free(cat);
      return -1;
    }
    cat->n++;
    p = next;
  }
  if (cat->n == 0) {
    mqspec_free(cat);
    mqspec__errf(err, errcap, "catalog has no statements");
    return -1;
  }
  return 0;
}

int mqspec_load_embedded(mqspec_catalog *cat, mqspec_version v, char *err, size_t errcap) {
  size_t len;
  const char *text = mqspec_embedded_tsv(v, &len);
  return mqspec_parse(cat, v, text, len, err, errcap);
}

char *mqspec__read_file(const char *path, size_t max, size_t *len, char *err, size_t errcap) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    mqspec__errf(err, errcap, "%s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    if (n == cap) {
      if (cap >= max) {
        mqspec__errf(err, errcap, "%s: larger than %zu bytes", path, max);
        free(buf);
        buf = NULL;
        break;
      }
      cap *= 2;
      char *bigger = realloc(buf, cap + 1);
      if (!bigger) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (buf && ferror(f)) {
    mqspec__errf(err, errcap, "%s: read error", path);
    free(buf);
    buf = NULL;
  } else if (!buf && err && !*err) {
    mqspec__errf(err, errcap, "%s: out of memory", path);
  }
  fclose(f);
  if (buf) {
    buf[n] = '\0';
    *len = n;
  }
  return buf;
}

int mqspec_load_dir(mqspec_catalog *cat, mqspec_version v, const char *dir, char *err,
                    size_t errcap) {
  char path[4096];
  snprintf(path, sizeof path, "%s/mqtt-%s.tsv", dir, mqspec_version_name(v));
  if (err && errcap) err[0] = '\0';
  size_t len;
  char *text = mqspec__read_file(path, 1u << 22, &len, err, errcap);
  if (!text) {
    memset(cat, 0, sizeof *cat);
    return -1;
  }
  char sub[512];
  int rc = mqspec_parse(cat, v, text, len, sub, sizeof sub);
  if (rc != 0) mqspec__errf(err, errcap, "%s: %s", path, sub);
  free(text);
  return rc;
}

long mqspec_index(const mqspec_catalog *cat, const char *id) {
  char buf[64];
  size_t n = strlen(id);
  if (n && id[0] == '[') {
    id++;
    n--;
  }
  if (n && id[n - 1] == ']') n--;
  if (n + 6 > sizeof buf) return -1;
  if (n >= 5 && !memcmp(id, "MQTT-", 5)) {
    memcpy(buf, id, n);
    buf[n] = '\0';
  } else {
    memcpy(buf, "MQTT-", 5);
    memcpy(buf + 5, id, n);
    buf[n + 5] = '\0';
  }
  for (size_t i = 0; i < cat->n; i++)
    if (!strcmp(cat->stmts[i].id, buf)) return (long)i;
  return -1;
}

const mqspec_stmt *mqspec_find(const mqspec_catalog *cat, const char *id) {
  long i = mqspec_index(cat, id);
  return i < 0 ? NULL : &cat->stmts[i];
}
