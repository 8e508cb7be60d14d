/* refs.c - finding statement IDs cited by codec vectors and scenario files.
 *
 * Both scanners are line-based on purpose: they need to find IDs, not to load
 * the files, and must keep working while the formats grow. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mqspec.h"
#include "spec_int.h"

#define MAX_FILE    (16u << 20) /* bytes per scanned file */
#define MAX_DEPTH   12          /* directory nesting under a scenario root */
#define MAX_ENTRIES 100000      /* names per directory */

void mqspec_refs_free(mqspec_refs *refs) {
  for (size_t i = 0; i < refs->n; i++)
    free(refs->v[i].file);
  free(refs->v);
  memset(refs, 0, sizeof *refs);
}

static int add_ref(mqspec_refs *refs, mqspec_ref_kind kind, unsigned versions, const char *id,
                   size_t idlen, const char *file, unsigned line) {
  if (idlen >= sizeof refs->v[0].id) return 0; /* not an ID we could hold: skip */
  if (refs->n == refs->cap) {
    size_t cap = refs->cap ? refs->cap * 2 : 64;
    mqspec_ref *v = realloc(refs->v, cap * sizeof *v);
    if (!v) return -1;
    refs->v = v;
    refs->cap = cap;
  }
  mqspec_ref *r = &refs->v[refs->n];
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->versions = versions;
  memcpy(r->id, id, idlen);
  r->file = strdup(file);
  if (!r->file) return -1;
  r->line = line;
  refs->n++;
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

/* Sorted names in dir (without . and ..); NULL with err when unreadable. */
static char **list_dir(const char *dir, size_t *count, char *err, size_t errcap) {
  DIR *d = opendir(dir);
  if (!d) {
    mqspec__errf(err, errcap, "%s: cannot open directory", dir);
    return NULL;
  }
  size_t n = 0, cap = 16;
  char **names = malloc(cap * sizeof *names);
  struct dirent *e;
  while (names && (e = readdir(d)) != NULL && n < MAX_ENTRIES) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) {
      char **bigger = realloc(names, cap * 2 * sizeof *names);
      if (!bigger) break;
      names = bigger;
      cap *= 2;
    }
    names[n] = strdup(e->d_name);
    if (!names[n]) break;
    n++;
  }
  closedir(d);
  if (!names) {
    mqspec__errf(err, errcap, "%s: out of memory", dir);
    return NULL;
  }
  qsort(names, n, sizeof *names, cmp_names);
  *count = n;
  return names;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* ------------------------------------------------------------------------ */
/* Vectors                                                                  */
/* ------------------------------------------------------------------------ */

static unsigned vector_versions(const char *tok, size_t n) {
  if ((n == 1 && tok[0] == '5') || (n == 3 && !memcmp(tok, "5.0", 3)))
    return MQSPEC_MASK(MQSPEC_V5);
  if ((n == 5 && !memcmp(tok, "3.1.1", 5)) || (n == 3 && !memcmp(tok, "3.1", 3)))
    return MQSPEC_MASK(MQSPEC_V311);
  if (n == 4 && !memcmp(tok, "auto", 4)) return MQSPEC_ALL_VERSIONS;
  return 0;
}

static int scan_vector_text(mqspec_refs *refs, const char *path, const char *text) {
  unsigned lineno = 0;
  for (const char *p = text; *p;) {
    const char *eol = strchr(p, '\n');
    if (!eol) eol = p + strlen(p);
    lineno++;
    /* Up to five whitespace-separated tokens: version dir hex ok|err stmt. */
    const char *tok[5];
    size_t len[5], nt = 0;
    const char *q = p;
    while (q < eol && nt < 5) {
      while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
        q++;
      if (q == eol || *q == '#') break;
      tok[nt] = q;
      while (q < eol && *q != ' ' && *q != '\t' && *q != '\r')
        q++;
      len[nt] = (size_t)(q - tok[nt]);
      nt++;
    }
    if (nt == 5 && len[3] == 3 && !memcmp(tok[3], "err", 3) && mqspec_id_shaped(tok[4], len[4])) {
      unsigned versions = vector_versions(tok[0], len[0]);
      if (versions && add_ref(refs, MQSPEC_REF_VECTOR, versions, tok[4], len[4], path, lineno))
        return -1;
    }
    p = *eol ? eol + 1 : eol;
  }
  return 0;
}

int mqspec_scan_vectors(mqspec_refs *refs, const char *dir, char *err, size_t errcap) {
  size_t n;
  char **names = list_dir(dir, &n, err, errcap);
  if (!names) return -1;
  int files = 0;
  for (size_t i = 0; i < n; i++) {
    if (!has_suffix(names[i], ".vec") || !strncmp(names[i], "pending-", 8)) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    size_t len;
    char *text = mqspec__read_file(path, MAX_FILE, &len, err, errcap);
    if (!text) {
      free_names(names, n);
      return -1;
    }
    int rc = scan_vector_text(refs, path, text);
    free(text);
    if (rc) {
      mqspec__errf(err, errcap, "out of memory");
      free_names(names, n);
      return -1;
    }
    files++;
    refs->files++;
  }
  free_names(names, n);
  return files;
}

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                */
/* ------------------------------------------------------------------------ */

/* Versions named by one token of a version value ("5", "3.1.1", "all"...). */
static unsigned token_versions(const char *s, size_t n) {
  char buf[16];
  if (n == 0 || n >= sizeof buf) return 0;
  for (size_t i = 0; i < n; i++)
    buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
  buf[n] = '\0';
  if (!strcmp(buf, "all") || !strcmp(buf, "any") || !strcmp(buf, "both"))
    return MQSPEC_ALL_VERSIONS;
  mqspec_version v;
  return mqspec_parse_version(buf, &v) == 0 ? MQSPEC_MASK(v) : 0;
}

/* Versions named anywhere in s[0..n): tokens split at spaces, commas,
 * brackets and quotes. */
static unsigned value_versions(const char *s, size_t n) {
  unsigned mask = 0;
  size_t i = 0;
  while (i < n) {
    while (i < n && strchr(" \t,[]\"'{}", s[i]))
      i++;
    size_t start = i;
    while (i < n && !strchr(" \t,[]\"'{}", s[i]))
      i++;
    mask |= token_versions(s + start, i - start);
  }
  return mask;
}

/* A version hint from the directories on path ("suite/v5/x.yaml"). */
static unsigned path_versions(const char *path) {
  unsigned mask = 0;
  const char *p = path;
  for (;;) {
    const char *slash = strchr(p, '/');
    if (!slash) break; /* the last component is the file name */
    mask |= token_versions(p, (size_t)(slash - p));
    p = slash + 1;
  }
  return mask;
}

static bool is_version_key(const char *k, size_t n) {
  static const char *const keys[] = {"version",          "versions",          "protocol",
                                     "protocol_version", "protocol_versions", "mqtt_version",
                                     "mqtt_versions"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strlen(keys[i]) == n && !memcmp(keys[i], k, n)) return true;
  return false;
}

/* Per reference of the current document: what decides its versions. */
typedef struct {
  size_t item;       /* top-level list item it sits in (0: none) */
  unsigned explicit; /* versions named by a key inside rules ({5.0: [...]}), or 0 */
} ref_ctx;

typedef struct {
  mqspec_refs *refs;
  const char *path;
  unsigned path_mask;
  size_t doc_start; /* first ref of the current document */
  unsigned doc_mask;
  /* Per top-level list item of the document, the version it declares. */
  unsigned *item_mask;
  size_t items, item_cap;
  ref_ctx *ctx; /* [refs->n - doc_start] */
  size_t ctx_cap;
  size_t item; /* current item, 0 outside any */
  /* Inside a rules value: versions of the current sub-key, bracket depth. */
  unsigned rule_mask;
  int depth;
} scan_state;

static int note_id(scan_state *st, const char *id, size_t n, unsigned line) {
  size_t k = st->refs->n - st->doc_start;
  if (k == st->ctx_cap) {
    size_t cap = st->ctx_cap ? st->ctx_cap * 2 : 32;
    ref_ctx *v = realloc(st->ctx, cap * sizeof *v);
    if (!v) return -1;
    st->ctx = v;
    st->ctx_cap = cap;
  }
  st->ctx[k] = (ref_ctx){st->item, st->rule_mask};
  return add_ref(st->refs, MQSPEC_REF_SCENARIO, 0, id, n, st->path, line);
}

/* Scans part of a rules value: IDs are recorded under the versions of the
 * latest version key ("5.0:" or "5.0" followed by ":"); brackets update the
 * depth that tells a multi-line flow value when it ends. */
static int rules_segment(scan_state *st, const char *s, size_t n, unsigned line) {
  static const char delims[] = " \t,[]{}\"'";
  unsigned prev = 0; /* versions named by the previous token */
  size_t i = 0;
  while (i < n) {
    char c = s[i];
    if (c == '[' || c == '{') st->depth++;
    if ((c == ']' || c == '}') && st->depth > 0) st->depth--;
    if (strchr(delims, c)) {
      i++;
      continue;
    }
    size_t start = i;
    while (i < n && !strchr(delims, s[i]))
      i++;
    const char *t = s + start;
    size_t tn = i - start;
    if (tn == 1 && t[0] == ':') { /* "5.0": */
      if (prev) st->rule_mask = prev;
      continue;
    }
    if (tn > 1 && t[tn - 1] == ':') {
      unsigned m = token_versions(t, tn - 1);
      if (m) st->rule_mask = m;
      prev = 0;
      continue;
    }
    prev = token_versions(t, tn);
    if (mqspec_id_shaped(t, tn) && note_id(st, t, tn, line)) return -1;
  }
  return 0;
}

static int set_item_mask(scan_state *st, unsigned mask) {
  if (st->item == 0) return 0;
  while (st->items < st->item) {
    if (st->items == st->item_cap) {
      size_t cap = st->item_cap ? st->item_cap * 2 : 8;
      unsigned *v = realloc(st->item_mask, cap * sizeof *v);
      if (!v) return -1;
      st->item_mask = v;
      st->item_cap = cap;
    }
    st->item_mask[st->items++] = 0;
  }
  st->item_mask[st->item - 1] |= mask;
  return 0;
}

/* Gives the document's refs their versions and starts a new document. A
 * version key inside rules wins (narrowed to the versions the scenario
 * declares, when that leaves any); then the item's, the document's and the
 * path's versions; with none of them, both. */
static void end_doc(scan_state *st) {
  for (size_t i = st->doc_start; i < st->refs->n; i++) {
    const ref_ctx *c = &st->ctx[i - st->doc_start];
    unsigned scope = 0;
    if (c->item && c->item <= st->items) scope = st->item_mask[c->item - 1];
    if (!scope) scope = st->doc_mask;
    unsigned mask = c->explicit;
    if (mask && (mask & scope)) mask &= scope;
    if (!mask) mask = scope;
    if (!mask) mask = st->path_mask;
    if (!mask) mask = MQSPEC_ALL_VERSIONS;
    st->refs->v[i].versions = mask;
  }
  st->doc_start = st->refs->n;
  st->doc_mask = 0;
  st->items = 0;
  st->item = 0;
}

/* Length of s[0..n) without a trailing comment (a '#' at the start or after
 * blank space) and trailing blanks. */
static size_t strip_comment(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
      n = i;
      break;
    }
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    n--;
  return n;
}

/* Finds "key:" in s at a key position (start, or after "- ", "{", ","). On a
 * hit returns the column of the key and sets *value to what follows the
 * colon. */
static long find_key(const char *s, size_t n, const char *key, const char **value) {
  size_t k = strlen(key);
  for (size_t i = 0; i + k + 1 <= n; i++) {
    if (memcmp(s + i, key, k) != 0 || s[i + k] != ':') continue;
    if (i + k + 1 < n && s[i + k + 1] != ' ' && s[i + k + 1] != '\t') continue;
    size_t b = i;
    while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '\t'))
      b--;
    if (b == 0 || s[b - 1] == '-' || s[b - 1] == '{' || s[b - 1] == ',') {
      if (b > 0 && s[b - 1] == '-' && b >= 2 && s[b - 2] != ' ' && s[b - 2] != '\t') continue;
      *value = s + i + k + 1;
      return (long)i;
    }
  }
  return -1;
}

static const char *skip_blanks(const char *v, const char *end) {
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  return v;
}

/* hint is the part of path whose directories may name a version. */
static int scan_text(mqspec_refs *refs, const char *path, const char *hint, const char *text,
                     size_t len) {
  scan_state st = {
      .refs = refs, .path = path, .path_mask = path_versions(hint), .doc_start = refs->n};
  /* What the lines being read belong to: nothing, a block value (lines
   * indented past key_col), or a flow value still open ([ or { unclosed). */
  enum { NONE, RULES_BLOCK, RULES_FLOW, VERSIONS_BLOCK, VERSIONS_FLOW } mode = NONE;
  size_t key_col = 0;
  unsigned lineno = 0;
  int rc = 0;
  const char *end = text + len;
  for (const char *p = text; p < end && rc == 0;) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    lineno++;
    const char *line = p;
    size_t n = (size_t)(eol - p);
    p = eol < end ? eol + 1 : end;
    if (n >= 3 && (!memcmp(line, "---", 3) || !memcmp(line, "...", 3)) &&
        (n == 3 || line[3] == ' ' || line[3] == '\r')) {
      end_doc(&st);
      mode = NONE;
      continue;
    }
    size_t indent = 0;
    while (indent < n && line[indent] == ' ')
      indent++;
    const char *s = line + indent;
    size_t sn = strip_comment(s, n - indent);
    if (sn == 0) continue;
    const char *se = s + sn;
    bool dash = s[0] == '-' && (sn == 1 || s[1] == ' ');

    if (mode == RULES_FLOW) {
      rc = rules_segment(&st, s, sn, lineno);
      if (st.depth == 0) mode = NONE;
      continue;
    }
    if (mode == VERSIONS_FLOW) {
      unsigned m = value_versions(s, sn);
      if (st.item)
        rc = set_item_mask(&st, m);
      else
        st.doc_mask |= m;
      if (memchr(s, ']', sn)) mode = NONE;
      continue;
    }
    if (mode == RULES_BLOCK || mode == VERSIONS_BLOCK) {
      if (indent > key_col || (indent == key_col && dash)) {
        if (mode == RULES_BLOCK) {
          rc = rules_segment(&st, s, sn, lineno);
        } else {
          unsigned m = value_versions(s, sn);
          if (st.item)
            rc = set_item_mask(&st, m);
          else
            st.doc_mask |= m;
        }
        continue;
      }
      mode = NONE;
    }

    if (indent == 0) {
      if (dash)
        st.item++; /* a new top-level list item */
      else
        st.item = 0; /* back on the document's own keys */
    }
    /* A version key on the document (column 0) or on a top-level item. */
    if (indent == 0 || (st.item && indent == 2)) {
      const char *k = dash ? s + 2 : s;
      const char *colon = k < se ? memchr(k, ':', (size_t)(se - k)) : NULL;
      if (colon && is_version_key(k, (size_t)(colon - k))) {
        const char *value = skip_blanks(colon + 1, se);
        unsigned m = value_versions(value, (size_t)(se - value));
        if (st.item && (dash || indent == 2))
          rc = set_item_mask(&st, m);
        else
          st.doc_mask |= m;
        if (value == se) {
          mode = VERSIONS_BLOCK;
          key_col = indent + (size_t)(k - s);
        } else if (*value == '[' && !memchr(value, ']', (size_t)(se - value))) {
          mode = VERSIONS_FLOW;
        }
        continue;
      }
    }
    const char *value = NULL;
    long at = find_key(s, sn, "rules", &value);
    if (at < 0) continue;
    value = skip_blanks(value, se);
    st.rule_mask = 0;
    st.depth = 0;
    if (value == se) {
      mode = RULES_BLOCK;
      key_col = indent + (size_t)at;
      continue;
    }
    rc = rules_segment(&st, value, (size_t)(se - value), lineno);
    if (st.depth > 0) mode = RULES_FLOW;
  }
  end_doc(&st);
  free(st.item_mask);
  free(st.ctx);
  return rc;
}

int mqspec_scan_scenario_text(mqspec_refs *refs, const char *path, const char *text, size_t len) {
  return scan_text(refs, path, path, text, len);
}

static int scan_file(mqspec_refs *refs, const char *path, const char *hint, char *err,
                     size_t errcap) {
  size_t len;
  char *text = mqspec__read_file(path, MAX_FILE, &len, err, errcap);
  if (!text) return -1;
  int rc = scan_text(refs, path, hint, text, len);
  free(text);
  if (rc) {
    mqspec__errf(err, errcap, "out of memory");
    return -1;
  }
  refs->files++;
  return 0;
}

int mqspec_scan_scenario_file(mqspec_refs *refs, const char *path, char *err, size_t errcap) {
  return scan_file(refs, path, path, err, errcap);
}

/* rootlen: where the part of a path that may give version hints begins. */
static int scan_tree(mqspec_refs *refs, const char *dir, size_t rootlen, int depth, char *err,
                     size_t errcap) {
  size_t n;
  char **names = list_dir(dir, &n, err, errcap);
  if (!names) return -1;
  int files = 0;
  for (size_t i = 0; i < n && files >= 0; i++) {
    if (names[i][0] == '.') continue;
    char path[4096];
    int w = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (w < 0 || (size_t)w >= sizeof path) continue;
    struct stat sb;
    if (lstat(path, &sb) != 0) continue;
    if (S_ISDIR(sb.st_mode)) {
      if (depth >= MAX_DEPTH) continue;
      int sub = scan_tree(refs, path, rootlen, depth + 1, err, errcap);
      files = sub < 0 ? -1 : files + sub;
    } else if (S_ISREG(sb.st_mode) &&
               (has_suffix(names[i], ".yaml") || has_suffix(names[i], ".yml"))) {
      files = scan_file(refs, path, path + rootlen, err, errcap) ? -1 : files + 1;
    }
  }
  free_names(names, n);
  return files;
}

int mqspec_scan_scenarios(mqspec_refs *refs, const char *dir, char *err, size_t errcap) {
  /* The root's own name counts ("--suite suite/v5"), its parents do not. */
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  while (n > 0 && dir[n - 1] != '/')
    n--;
  return scan_tree(refs, dir, n, 0, err, errcap);
}
