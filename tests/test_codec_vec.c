/*
 * test_codec_vec.c - loads tests/vectors/NAME.vec and checks decoded packets
 * against the expectations written there. See docs/vectors.md.
 */
#include "test_codec_vec.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "out of memory\n");
    abort();
  }
  return q;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = xrealloc(NULL, n);
  memcpy(d, s, n);
  return d;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long vec_unescape(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; s[i]; i++) {
    int c = (unsigned char)s[i];
    if (c == '%') {
      int h = s[i + 1] ? hexval(s[i + 1]) : -1;
      int l = (h >= 0 && s[i + 2]) ? hexval(s[i + 2]) : -1;
      if (h < 0 || l < 0) return -1;
      c = h * 16 + l;
      i += 2;
    }
    if (out && n < cap) out[n] = (uint8_t)c;
    n++;
  }
  return (long)n;
}

/* Hex with {XX..*N} repeat groups. Pass out == NULL to size. Returns -1 on a
 * syntax error. */
static long parse_hex(const char *s, uint8_t *out) {
  size_t n = 0;
  const char *p = s;
  while (*p) {
    if (*p == '{') {
      const char *star = strchr(p, '*');
      const char *close = strchr(p, '}');
      if (!star || !close || star > close || (star - p - 1) % 2 != 0 || star == p + 1) return -1;
      char *end;
      errno = 0;
      unsigned long reps = strtoul(star + 1, &end, 10);
      if (end != close || errno || reps > 300000000ul) return -1;
      size_t unit = (size_t)(star - p - 1) / 2;
      uint8_t tmp[64];
      if (unit > sizeof tmp) return -1;
      for (size_t k = 0; k < unit; k++) {
        int h = hexval(p[1 + 2 * k]), l = hexval(p[2 + 2 * k]);
        if (h < 0 || l < 0) return -1;
        tmp[k] = (uint8_t)(h * 16 + l);
      }
      for (unsigned long r = 0; r < reps; r++) {
        if (out) memcpy(out + n, tmp, unit);
        n += unit;
      }
      p = close + 1;
    } else if (*p == '_') {
      p++;
    } else {
      int h = hexval(p[0]);
      int l = p[1] ? hexval(p[1]) : -1;
      if (h < 0 || l < 0) return -1;
      if (out) out[n] = (uint8_t)(h * 16 + l);
      n++;
      p += 2;
    }
  }
  return (long)n;
}

static bool parse_version(const char *s, mqc_version *v) {
  if (!strcmp(s, "3.1"))
    *v = MQC_V31;
  else if (!strcmp(s, "3.1.1"))
    *v = MQC_V311;
  else if (!strcmp(s, "5") || !strcmp(s, "5.0"))
    *v = MQC_V5;
  else if (!strcmp(s, "auto"))
    *v = MQC_VERSION_AUTO;
  else
    return false;
  return true;
}

static bool parse_uint(const char *s, unsigned long long *out) {
  if (!*s || *s == '-' || *s == '+') return false;
  char *end;
  errno = 0;
  *out = strtoull(s, &end, 0);
  return !errno && *end == '\0';
}

static void parse_error(vec_set *set, const char *file, unsigned line, const char *why) {
  fprintf(stderr, "%s:%u: vector syntax error: %s\n", file, line, why);
  set->parse_errors++;
}

/* Parses one non-comment line into v. Tokens are separated by blanks. */
static bool parse_line(vec_set *set, vec *v, char *line) {
  char *save = NULL;
  char *tok[4];
  for (int i = 0; i < 4; i++) {
    tok[i] = strtok_r(i ? NULL : line, " \t", &save);
    if (!tok[i]) {
      parse_error(set, v->file, v->line, "expected: version direction hex ok|err ...");
      return false;
    }
  }
  if (!parse_version(tok[0], &v->version)) {
    parse_error(set, v->file, v->line, "version must be 3.1, 3.1.1, 5 or auto");
    return false;
  }
  if (!strcmp(tok[1], "client"))
    v->dir = MQC_FROM_CLIENT;
  else if (!strcmp(tok[1], "server"))
    v->dir = MQC_FROM_SERVER;
  else {
    parse_error(set, v->file, v->line, "direction must be client or server");
    return false;
  }
  long n = parse_hex(tok[2], NULL);
  if (n < 0) {
    parse_error(set, v->file, v->line, "bad hex");
    return false;
  }
  v->len = (size_t)n;
  v->bytes = xrealloc(NULL, v->len);
  parse_hex(tok[2], v->bytes);

  if (!strcmp(tok[3], "ok")) {
    v->ok = true;
    char *t;
    while ((t = strtok_r(NULL, " \t", &save))) {
      if (!strcmp(t, "noncanon")) {
        v->noncanon = true;
        continue;
      }
      char *eq = strchr(t, '=');
      if (!eq || eq == t) {
        parse_error(set, v->file, v->line, "expected key=value or a flag word");
        return false;
      }
      *eq = '\0';
      if (vec_unescape(eq + 1, NULL, 0) < 0) {
        parse_error(set, v->file, v->line, "bad %XX escape");
        return false;
      }
      v->fields = xrealloc(v->fields, (v->nfields + 1) * sizeof *v->fields);
      v->fields[v->nfields].key = xstrdup(t);
      v->fields[v->nfields].val = xstrdup(eq + 1);
      v->nfields++;
    }
  } else if (!strcmp(tok[3], "err")) {
    v->ok = false;
    char *st = strtok_r(NULL, " \t", &save);
    char *rc = strtok_r(NULL, " \t", &save);
    char *off = strtok_r(NULL, " \t", &save);
    unsigned long long u;
    if (!st || !rc || !parse_uint(rc, &u) || u > 255) {
      parse_error(set, v->file, v->line, "expected: err STATEMENT|- REASON [@OFFSET]");
      return false;
    }
    v->statement = strcmp(st, "-") ? xstrdup(st) : NULL;
    v->reason = (uint8_t)u;
    if (off) {
      if (off[0] != '@' || !parse_uint(off + 1, &u)) {
        parse_error(set, v->file, v->line, "offset must be @N");
        return false;
      }
      v->has_offset = true;
      v->offset = (size_t)u;
    }
    if (strtok_r(NULL, " \t", &save)) {
      parse_error(set, v->file, v->line, "trailing tokens after err");
      return false;
    }
  } else {
    parse_error(set, v->file, v->line, "result must be ok or err");
    return false;
  }
  return true;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_file(vec_set *set, const char *dir, const char *name) {
  size_t plen = strlen(dir) + strlen(name) + 2;
  char *path = xrealloc(NULL, plen);
  snprintf(path, plen, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    set->parse_errors++;
    free(path);
    return;
  }
  free(path);
  set->files = xrealloc(set->files, (set->nfiles + 1) * sizeof *set->files);
  char *fname = xstrdup(name);
  set->files[set->nfiles++] = fname;
  bool pending = strncmp(name, "pending-", 8) == 0;

  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  unsigned lineno = 0;
  while ((got = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
      line[--got] = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0' || *p == '#') continue;
    if (set->n == set->cap) {
      set->cap = set->cap ? set->cap * 2 : 256;
      set->v = xrealloc(set->v, set->cap * sizeof *set->v);
    }
    vec *v = &set->v[set->n];
    memset(v, 0, sizeof *v);
    v->file = fname;
    v->line = lineno;
    v->pending = pending;
    if (parse_line(set, v, p))
      set->n++;
    else {
      free(v->bytes);
      for (size_t i = 0; i < v->nfields; i++) {
        free(v->fields[i].key);
        free(v->fields[i].val);
      }
      free(v->fields);
      free(v->statement);
    }
  }
  free(line);
  fclose(f);
}

bool vec_load_dir(vec_set *set, const char *dir) {
  memset(set, 0, sizeof *set);
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "%s: %s\n", dir, strerror(errno));
    return false;
  }
  char **names = NULL;
  size_t nn = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l > 4 && !strcmp(e->d_name + l - 4, ".vec")) {
      names = xrealloc(names, (nn + 1) * sizeof *names);
      names[nn++] = xstrdup(e->d_name);
    }
  }
  closedir(d);
  if (nn) qsort(names, nn, sizeof *names, cmp_str);
  for (size_t i = 0; i < nn; i++) {
    load_file(set, dir, names[i]);
    free(names[i]);
  }
  free(names);
  return true;
}

bool vec_load_default(vec_set *set) {
  const char *src = getenv("MQC_SOURCE_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/vectors", src && *src ? src : ".");
  return vec_load_dir(set, path);
}

void vec_free(vec_set *set) {
  for (size_t i = 0; i < set->n; i++) {
    vec *v = &set->v[i];
    free(v->bytes);
    for (size_t k = 0; k < v->nfields; k++) {
      free(v->fields[k].key);
      free(v->fields[k].val);
    }
    free(v->fields);
    free(v->statement);
  }
  free(set->v);
  for (size_t i = 0; i < set->nfiles; i++)
    free(set->files[i]);
  free(set->files);
  memset(set, 0, sizeof *set);
}

const char *vec_where(const vec *v) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s:%u", v->file, v->line);
  return buf;
}

mqc_version vec_encode_version(const vec *v, const mqc_packet *p) {
  if (v->version != MQC_VERSION_AUTO) return v->version;
  if (p->type == MQC_CONNECT) return (mqc_version)p->connect.level;
  return MQC_V5;
}

/* ------------------------------------------------------------------------ */
/* Field extraction                                                         */
/* ------------------------------------------------------------------------ */

typedef struct {
  char *buf;
  size_t cap;
  bool ok;
} msgbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
failf(msgbuf *m, const char *fmt, ...) {
  if (!m->ok) return; /* keep the first complaint */
  m->ok = false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->buf, m->cap, fmt, ap);
  va_end(ap);
}

/* Renders bytes for a message, escaped like the vector files. */
static const char *show(mqc_bytes b, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < b.n && o + 4 < cap; i++) {
    uint8_t c = b.p[i];
    if (c > 0x20 && c < 0x7f && c != '%')
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
  }
  if (o + 4 >= cap && cap > 4) {
    out[cap - 4] = '.';
    out[cap - 3] = '.';
    out[cap - 2] = '.';
    o = cap - 1;
  }
  out[o < cap ? o : cap - 1] = '\0';
  return out;
}

static bool within(const vec *v, mqc_bytes b) {
  if (b.n == 0) return true;
  return b.p >= v->bytes && b.p + b.n <= v->bytes + v->len;
}

static void expect_int(msgbuf *m, const char *key, const char *val, unsigned long long actual) {
  unsigned long long want;
  if (!parse_uint(val, &want)) {
    failf(m, "%s: expected value '%s' is not an integer", key, val);
    return;
  }
  if (want != actual)
    failf(m, "%s: expected %llu (0x%llx), got %llu (0x%llx)", key, want, want, actual, actual);
}

static void expect_bytes(msgbuf *m, const vec *v, const char *key, const char *val,
                         mqc_bytes actual) {
  long n = vec_unescape(val, NULL, 0);
  uint8_t *want = malloc(n > 0 ? (size_t)n : 1);
  vec_unescape(val, want, (size_t)n);
  if (!within(v, actual))
    failf(m, "%s: view does not point into the input buffer", key);
  else if ((size_t)n != actual.n || (n && memcmp(want, actual.p, (size_t)n))) {
    char a[200];
    failf(m, "%s: expected '%s', got '%s'", key, val, show(actual, a, sizeof a));
  }
  free(want);
}

/* "key:value" with each half %-escaped. */
static void expect_pair(msgbuf *m, const vec *v, const char *key, const char *val, mqc_bytes k,
                        mqc_bytes value) {
  const char *colon = strchr(val, ':');
  if (!colon) {
    failf(m, "%s: expected value must be key:value", key);
    return;
  }
  size_t kl = (size_t)(colon - val);
  char *kk = malloc(kl + 1);
  memcpy(kk, val, kl);
  kk[kl] = '\0';
  expect_bytes(m, v, key, kk, k);
  expect_bytes(m, v, key, colon + 1, value);
  free(kk);
}

static void expect_reasons(msgbuf *m, const vec *v, const char *key, const char *val,
                           mqc_bytes actual) {
  uint8_t want[4096];
  size_t n = 0;
  const char *p = val;
  while (*p) {
    char *end;
    unsigned long b = strtoul(p, &end, 16);
    if (end == p || b > 255 || n == sizeof want) {
      failf(m, "%s: bad expected list '%s'", key, val);
      return;
    }
    want[n++] = (uint8_t)b;
    p = end;
    if (*p == ',') p++;
  }
  if (!within(v, actual))
    failf(m, "%s: view does not point into the input buffer", key);
  else if (n != actual.n || (n && memcmp(want, actual.p, n))) {
    char a[300];
    size_t o = 0;
    a[0] = '\0';
    for (size_t i = 0; i < actual.n && o + 4 < sizeof a; i++)
      o += (size_t)snprintf(a + o, sizeof a - o, "%s%02x", i ? "," : "", actual.p[i]);
    failf(m, "%s: expected '%s', got '%s'", key, val, a);
  }
}

/* prop.NAME or prop.NAME.N (N-th occurrence, 0-based) against block b. */
static void expect_prop(msgbuf *m, const vec *v, const char *key, const char *spec, const char *val,
                        const mqc_props *b) {
  char name[64];
  const char *dot = strchr(spec, '.');
  size_t nl = dot ? (size_t)(dot - spec) : strlen(spec);
  if (nl >= sizeof name) {
    failf(m, "%s: property name too long", key);
    return;
  }
  memcpy(name, spec, nl);
  name[nl] = '\0';
  const mqc_prop_info *info = mqc_prop_by_name(name);
  if (!info) {
    failf(m, "%s: mqc_prop_by_name(\"%s\") is NULL", key, name);
    return;
  }
  mqc_prop pr;
  memset(&pr, 0, sizeof pr);
  bool found = false;
  if (!dot) {
    found = mqc_props_get(b, info->id, &pr);
    if (found != mqc_props_has(b, info->id))
      failf(m, "%s: mqc_props_get and mqc_props_has disagree", key);
  } else {
    unsigned long long want_idx;
    if (!parse_uint(dot + 1, &want_idx)) {
      failf(m, "%s: bad occurrence index", key);
      return;
    }
    mqc_prop_iter it;
    mqc_prop_iter_init(&it, b);
    unsigned long long seen = 0;
    mqc_prop cur;
    while (mqc_prop_next(&it, &cur)) {
      if (cur.id != info->id) continue;
      if (seen++ == want_idx) {
        pr = cur;
        found = true;
        break;
      }
    }
  }
  if (!found) {
    failf(m, "%s: property absent", key);
    return;
  }
  if (pr.id != info->id) failf(m, "%s: got property id 0x%02x", key, (unsigned)pr.id);
  switch (info->type) {
  case MQC_PT_BYTE:
  case MQC_PT_U16:
  case MQC_PT_U32:
  case MQC_PT_VARINT:
    expect_int(m, key, val, pr.u);
    break;
  case MQC_PT_UTF8:
  case MQC_PT_BINARY:
    expect_bytes(m, v, key, val, pr.value);
    break;
  case MQC_PT_UTF8_PAIR:
    expect_pair(m, v, key, val, pr.key, pr.value);
    break;
  default:
    failf(m, "%s: table type %d", key, (int)info->type);
  }
}

static unsigned count_id(const mqc_props *b, mqc_prop_id id) {
  mqc_prop_iter it;
  mqc_prop_iter_init(&it, b);
  mqc_prop pr;
  unsigned n = 0;
  while (mqc_prop_next(&it, &pr))
    if (pr.id == id) n++;
  return n;
}

/* N-th entry of a SUBSCRIBE/UNSUBSCRIBE list. */
static bool list_entry(const mqc_packet *p, unsigned long long idx, mqc_sub_entry *out) {
  mqc_list_iter it;
  unsigned long long i = 0;
  if (p->type == MQC_SUBSCRIBE) {
    mqc_sub_iter_init(&it, &p->subscribe);
    mqc_sub_entry e;
    while (mqc_sub_next(&it, &e))
      if (i++ == idx) {
        *out = e;
        return true;
      }
  } else if (p->type == MQC_UNSUBSCRIBE) {
    mqc_unsub_iter_init(&it, &p->subscribe);
    mqc_bytes f;
    while (mqc_unsub_next(&it, &f))
      if (i++ == idx) {
        out->filter = f;
        out->options = 0;
        return true;
      }
  }
  return false;
}

static void check_one_field(msgbuf *m, const vec *v, const mqc_packet *p, const char *key,
                            const char *val) {
  const mqc_connect *c = &p->connect;
  const mqc_props *props = mqc_packet_props(p);
  bool is_connect = p->type == MQC_CONNECT, is_pub = p->type == MQC_PUBLISH;
  bool is_ack = p->type >= MQC_PUBACK && p->type <= MQC_PUBCOMP;
  bool is_sub = p->type == MQC_SUBSCRIBE || p->type == MQC_UNSUBSCRIBE;
  bool is_suback = p->type == MQC_SUBACK || p->type == MQC_UNSUBACK;

#define WRONG_TYPE()                                                                               \
  do {                                                                                             \
    failf(m, "%s: not a field of %s", key, mqc_type_name(p->type));                                \
    return;                                                                                        \
  } while (0)

  if (!strcmp(key, "type")) {
    if (strcmp(val, mqc_type_name(p->type)))
      failf(m, "type: expected %s, got %s", val, mqc_type_name(p->type));
  } else if (!strcmp(key, "flags"))
    expect_int(m, key, val, p->flags);
  else if (!strcmp(key, "remaining_length"))
    expect_int(m, key, val, p->remaining_length);
  else if (!strcmp(key, "header_len"))
    expect_int(m, key, val, p->header_len);
  else if (!strcmp(key, "props")) {
    if (!props) WRONG_TYPE();
    expect_int(m, key, val, props->count);
  } else if (!strcmp(key, "user_props")) {
    if (!props) WRONG_TYPE();
    expect_int(m, key, val, count_id(props, MQC_PROP_USER_PROPERTY));
  } else if (!strncmp(key, "prop.", 5)) {
    if (!props) WRONG_TYPE();
    expect_prop(m, v, key, key + 5, val, props);
  } else if (!strncmp(key, "will.prop.", 10)) {
    if (!is_connect) WRONG_TYPE();
    expect_prop(m, v, key, key + 10, val, &c->will_props);
  } else if (!strcmp(key, "will_props")) {
    if (!is_connect) WRONG_TYPE();
    expect_int(m, key, val, c->will_props.count);
  } else if (!strcmp(key, "will_user_props")) {
    if (!is_connect) WRONG_TYPE();
    expect_int(m, key, val, count_id(&c->will_props, MQC_PROP_USER_PROPERTY));
  } else if (!strcmp(key, "packet_id")) {
    if (is_pub)
      expect_int(m, key, val, p->publish.packet_id);
    else if (is_ack)
      expect_int(m, key, val, p->ack.packet_id);
    else if (is_sub)
      expect_int(m, key, val, p->subscribe.packet_id);
    else if (is_suback)
      expect_int(m, key, val, p->suback.packet_id);
    else
      WRONG_TYPE();
  } else if (!strcmp(key, "reason")) {
    if (p->type == MQC_CONNACK)
      expect_int(m, key, val, p->connack.reason);
    else if (is_ack)
      expect_int(m, key, val, p->ack.reason);
    else if (p->type == MQC_DISCONNECT)
      expect_int(m, key, val, p->disconnect.reason);
    else if (p->type == MQC_AUTH)
      expect_int(m, key, val, p->auth.reason);
    else
      WRONG_TYPE();
  } else if (is_connect) {
    if (!strcmp(key, "proto_name"))
      expect_bytes(m, v, key, val, c->protocol_name);
    else if (!strcmp(key, "level"))
      expect_int(m, key, val, c->level);
    else if (!strcmp(key, "connect_flags"))
      expect_int(m, key, val, c->flags);
    else if (!strcmp(key, "clean_start"))
      expect_int(m, key, val, c->clean_start);
    else if (!strcmp(key, "will"))
      expect_int(m, key, val, c->will);
    else if (!strcmp(key, "will_qos"))
      expect_int(m, key, val, c->will_qos);
    else if (!strcmp(key, "will_retain"))
      expect_int(m, key, val, c->will_retain);
    else if (!strcmp(key, "has_username"))
      expect_int(m, key, val, c->has_username);
    else if (!strcmp(key, "has_password"))
      expect_int(m, key, val, c->has_password);
    else if (!strcmp(key, "keep_alive"))
      expect_int(m, key, val, c->keep_alive);
    else if (!strcmp(key, "client_id"))
      expect_bytes(m, v, key, val, c->client_id);
    else if (!strcmp(key, "will_topic"))
      expect_bytes(m, v, key, val, c->will_topic);
    else if (!strcmp(key, "will_payload"))
      expect_bytes(m, v, key, val, c->will_payload);
    else if (!strcmp(key, "username"))
      expect_bytes(m, v, key, val, c->username);
    else if (!strcmp(key, "password"))
      expect_bytes(m, v, key, val, c->password);
    else
      failf(m, "%s: unknown key for CONNECT", key);
  } else if (p->type == MQC_CONNACK) {
    if (!strcmp(key, "session_present"))
      expect_int(m, key, val, p->connack.session_present);
    else if (!strcmp(key, "ack_flags"))
      expect_int(m, key, val, p->connack.flags);
    else
      failf(m, "%s: unknown key for CONNACK", key);
  } else if (is_pub) {
    const mqc_publish *pb = &p->publish;
    if (!strcmp(key, "dup"))
      expect_int(m, key, val, pb->dup);
    else if (!strcmp(key, "qos"))
      expect_int(m, key, val, pb->qos);
    else if (!strcmp(key, "retain"))
      expect_int(m, key, val, pb->retain);
    else if (!strcmp(key, "topic"))
      expect_bytes(m, v, key, val, pb->topic);
    else if (!strcmp(key, "payload"))
      expect_bytes(m, v, key, val, pb->payload);
    else if (!strcmp(key, "payload_len"))
      expect_int(m, key, val, pb->payload.n);
    else
      failf(m, "%s: unknown key for PUBLISH", key);
  } else if (is_sub) {
    if (!strcmp(key, "count")) {
      expect_int(m, key, val, p->subscribe.count);
      return;
    }
    const char *dot = strchr(key, '.');
    unsigned long long idx;
    if (!dot || !parse_uint(dot + 1, &idx)) {
      failf(m, "%s: unknown key for %s", key, mqc_type_name(p->type));
      return;
    }
    mqc_sub_entry e;
    if (!list_entry(p, idx, &e)) {
      failf(m, "%s: no entry %llu", key, idx);
      return;
    }
    size_t kl = (size_t)(dot - key);
    mqc_subopts o = mqc_subopts_unpack(e.options);
    if (kl == 6 && !strncmp(key, "filter", 6))
      expect_bytes(m, v, key, val, e.filter);
    else if (p->type != MQC_SUBSCRIBE)
      failf(m, "%s: UNSUBSCRIBE has no options", key);
    else if (kl == 4 && !strncmp(key, "opts", 4))
      expect_int(m, key, val, e.options);
    else if (kl == 3 && !strncmp(key, "qos", 3))
      expect_int(m, key, val, o.max_qos);
    else if (kl == 2 && !strncmp(key, "nl", 2))
      expect_int(m, key, val, o.no_local);
    else if (kl == 3 && !strncmp(key, "rap", 3))
      expect_int(m, key, val, o.retain_as_published);
    else if (kl == 2 && !strncmp(key, "rh", 2))
      expect_int(m, key, val, o.retain_handling);
    else
      failf(m, "%s: unknown key for SUBSCRIBE", key);
  } else if (is_suback) {
    if (!strcmp(key, "reasons"))
      expect_reasons(m, v, key, val, p->suback.reasons);
    else
      failf(m, "%s: unknown key for %s", key, mqc_type_name(p->type));
  } else {
    failf(m, "%s: unknown key for %s", key, mqc_type_name(p->type));
  }
#undef WRONG_TYPE
}

/* Structural invariants of a property block decoded from v. */
static void check_props_block(msgbuf *m, const vec *v, const char *what, const mqc_props *b,
                              uint32_t where) {
  if (!within(v, b->raw)) {
    failf(m, "%s: raw view outside the input", what);
    return;
  }
  mqc_prop_iter it;
  mqc_prop_iter_init(&it, b);
  mqc_prop pr;
  unsigned n = 0;
  uint64_t seen = 0;
  while (mqc_prop_next(&it, &pr) && n <= 70000) {
    n++;
    seen |= (uint64_t)1 << pr.id;
    const mqc_prop_info *info = mqc_prop_lookup(pr.id);
    if (!info) {
      failf(m, "%s: iterator yielded unknown id 0x%02x", what, (unsigned)pr.id);
      return;
    }
    if (info->type != pr.type)
      failf(m, "%s: id 0x%02x yielded with type %d", what, (unsigned)pr.id, (int)pr.type);
    if (!(info->allowed & where))
      failf(m, "%s: id 0x%02x accepted where the table forbids it", what, (unsigned)pr.id);
    if (!within(v, pr.key) || !within(v, pr.value))
      failf(m, "%s: property view outside the input", what);
  }
  if (n != b->count) failf(m, "%s: count %u but iterator yields %u", what, (unsigned)b->count, n);
  if (seen != b->present)
    failf(m, "%s: present bits 0x%llx but iterator saw 0x%llx", what,
          (unsigned long long)b->present, (unsigned long long)seen);
}

bool vec_check_fields(const vec *v, const mqc_packet *p, char *msg, size_t cap) {
  msgbuf m = {msg, cap, true};
  if (cap) msg[0] = '\0';
  /* invariants */
  if ((size_t)p->header_len + p->remaining_length != v->len)
    failf(&m, "header_len %u + remaining_length %u != vector length %zu", p->header_len,
          p->remaining_length, v->len);
  if (v->len && (p->type != (mqc_type)(v->bytes[0] >> 4) || p->flags != (v->bytes[0] & 0x0F)))
    failf(&m, "type/flags do not match the first byte");
  const mqc_props *props = mqc_packet_props(p);
  if (props) check_props_block(&m, v, "props", props, 1u << p->type);
  if (p->type == MQC_CONNECT)
    check_props_block(&m, v, "will_props", &p->connect.will_props, MQC_PROP_IN_WILL);
  if (p->type == MQC_SUBSCRIBE || p->type == MQC_UNSUBSCRIBE) {
    mqc_list_iter it;
    unsigned n = 0;
    if (p->type == MQC_SUBSCRIBE) {
      mqc_sub_entry e;
      mqc_sub_iter_init(&it, &p->subscribe);
      while (mqc_sub_next(&it, &e) && n <= 70000)
        n++;
    } else {
      mqc_bytes f;
      mqc_unsub_iter_init(&it, &p->subscribe);
      while (mqc_unsub_next(&it, &f) && n <= 70000)
        n++;
    }
    if (n != p->subscribe.count)
      failf(&m, "list count %u but iterator yields %u", (unsigned)p->subscribe.count, n);
    if (!within(v, p->subscribe.list)) failf(&m, "list view outside the input");
  }
  for (size_t i = 0; i < v->nfields; i++)
    check_one_field(&m, v, p, v->fields[i].key, v->fields[i].val);
  return m.ok;
}

static const char *status_name(mqc_status s) {
  switch (s) {
  case MQC_OK:
    return "OK";
  case MQC_INCOMPLETE:
    return "INCOMPLETE";
  case MQC_ERR_MALFORMED:
    return "MALFORMED";
  case MQC_ERR_PROTOCOL:
    return "PROTOCOL";
  case MQC_ERR_TOO_LARGE:
    return "TOO_LARGE";
  case MQC_ERR_NOSPACE:
    return "NOSPACE";
  case MQC_ERR_ARGUMENT:
    return "ARGUMENT";
  }
  return "?";
}

bool vec_check(const vec *v, char *msg, size_t cap) {
  mqc_packet pkt;
  mqc_error err;
  /* sentinels: both out-params must be reset on entry */
  memset(&pkt, 0xA5, sizeof pkt);
  memset(&err, 0xA5, sizeof err);
  mqc_status st = mqc_decode(v->bytes, v->len, v->version, v->dir, MQC_NO_LIMIT, &pkt, &err);
  msgbuf m = {msg, cap, true};
  if (cap) msg[0] = '\0';
  if (st != err.status)
    failf(&m, "returned %s but err.status is %d", status_name(st), (int)err.status);
  if (v->ok) {
    if (st != MQC_OK) {
      failf(&m, "expected ok, got %s %s 0x%02x @%zu (%s)", status_name(st),
            err.statement ? err.statement : "-", err.reason, err.offset,
            err.message ? err.message : "");
      return false;
    }
    if (err.statement) failf(&m, "decode OK but err.statement is %s", err.statement);
    if (!m.ok) return false;
    return vec_check_fields(v, &pkt, msg, cap);
  }
  if (st == MQC_OK || st == MQC_INCOMPLETE) {
    failf(&m, "expected err %s 0x%02x, got %s", v->statement ? v->statement : "-", v->reason,
          status_name(st));
    return false;
  }
  bool stmt_ok = (v->statement == NULL) == (err.statement == NULL) &&
                 (v->statement == NULL || !strcmp(v->statement, err.statement));
  bool reason_ok = v->reason == err.reason;
  bool off_ok = !v->has_offset || v->offset == err.offset;
  if (!stmt_ok || !reason_ok || !off_ok) {
    char want_off[32] = "", got_off[32];
    if (v->has_offset) snprintf(want_off, sizeof want_off, " @%zu", v->offset);
    snprintf(got_off, sizeof got_off, " @%zu", err.offset);
    failf(&m, "expected err %s 0x%02x%s, got %s %s 0x%02x%s (%s)",
          v->statement ? v->statement : "-", v->reason, want_off, status_name(st),
          err.statement ? err.statement : "-", err.reason, got_off, err.message ? err.message : "");
    return false;
  }
  /* status and reason code must agree: 0x81 is MALFORMED and only MALFORMED */
  if ((err.reason == MQC_RC_MALFORMED_PACKET) != (st == MQC_ERR_MALFORMED))
    failf(&m, "reason 0x%02x with status %s", err.reason, status_name(st));
  if (!err.message || strchr(err.message, '\n')) failf(&m, "err.message missing or multi-line");
  if (err.offset > v->len)
    failf(&m, "err.offset %zu beyond the input (%zu bytes)", err.offset, v->len);
  return m.ok;
}
