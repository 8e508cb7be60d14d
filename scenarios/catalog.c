/* catalog.c - capability names, statement catalogues (for lint), the
 * built-in variables, and collecting scenario files from paths. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static const struct {
  const char *name, *help;
} caps[MQS_CAP_COUNT] = {
    [MQS_CAP_QOS1] = {"qos1", "QoS 1 delivery"},
    [MQS_CAP_QOS2] = {"qos2", "QoS 2 delivery"},
    [MQS_CAP_RETAIN] = {"retain", "retained messages"},
    [MQS_CAP_WILDCARDS] = {"wildcards", "wildcard subscriptions (+ and #)"},
    [MQS_CAP_SHARED_SUBSCRIPTIONS] = {"shared-subscriptions", "$share/GROUP/filter (5.0)"},
    [MQS_CAP_TOPIC_ALIAS] = {"topic-alias", "inbound topic aliases (5.0)"},
    [MQS_CAP_SUBSCRIPTION_IDENTIFIERS] = {"subscription-identifiers",
                                          "subscription identifiers (5.0)"},
    [MQS_CAP_WILL] = {"will", "Last Will messages"},
    [MQS_CAP_WILL_DELAY] = {"will-delay", "will delay interval (5.0)"},
    [MQS_CAP_MESSAGE_EXPIRY] = {"message-expiry", "message expiry interval (5.0)"},
    [MQS_CAP_PERSISTENT_SESSIONS] = {"persistent-sessions", "sessions that outlive the connection"},
    [MQS_CAP_SESSION_EXPIRY] = {"session-expiry", "session expiry interval (5.0)"},
    [MQS_CAP_KEEP_ALIVE] = {"keep-alive", "the server enforces keep-alive"},
    [MQS_CAP_ASSIGNED_CLIENT_ID] = {"assigned-client-id", "empty client IDs are assigned one"},
    [MQS_CAP_DOLLAR_TOPICS] = {"dollar-topics", "publishing to $-topics is allowed"},
    [MQS_CAP_LONG_WAITS] = {"long-waits",
                            "waits of tens of seconds (free on the engine's virtual clock)"},
    [MQS_CAP_REQUEST_RESPONSE] = {"request-response", "response information (5.0)"},
    [MQS_CAP_MAX_PACKET_SIZE] = {"max-packet-size", "a small server maximum packet size"},
    [MQS_CAP_RECEIVE_MAXIMUM] = {"receive-maximum", "a small server receive maximum"},
    [MQS_CAP_TOPIC_ALIAS_MAXIMUM] = {"topic-alias-maximum",
                                     "the server's topic alias maximum is configured (5.0)"},
    [MQS_CAP_MAXIMUM_QOS] = {"maximum-qos", "the server is limited to a maximum QoS below 2"},
    [MQS_CAP_RETAIN_UNAVAILABLE] = {"retain-unavailable", "the server has retain turned off"},
    [MQS_CAP_WILDCARDS_UNAVAILABLE] = {"wildcards-unavailable",
                                       "the server has wildcard subscriptions turned off"},
    [MQS_CAP_SERVER_KEEP_ALIVE] = {"server-keep-alive",
                                   "the server overrides the client's keep alive (5.0)"},
    [MQS_CAP_CLIENT_ID_RESTRICTIONS] = {"client-id-restrictions",
                                        "the server refuses empty client IDs"},
    [MQS_CAP_AUTHENTICATION] = {"authentication", "the server checks usernames and passwords"},
    [MQS_CAP_ENHANCED_AUTH] = {"enhanced-auth",
                               "the server offers the mqcheck-challenge AUTH method (5.0)"},
    [MQS_CAP_AUTHORIZATION] =
        {"authorization", "the server refuses publishing to some topics (server: deny_publish)"},
    [MQS_CAP_WEBSOCKET] = {"websocket", "the target is reached over MQTT over WebSocket"},
};

const char *mqs_cap_name(mqs_cap c) {
  return (unsigned)c < MQS_CAP_COUNT ? caps[c].name : "?";
}

const char *mqs_cap_help(mqs_cap c) {
  return (unsigned)c < MQS_CAP_COUNT ? caps[c].help : "?";
}

int mqs_cap_lookup(const char *name) {
  for (int i = 0; i < MQS_CAP_COUNT; i++)
    if (!strcmp(caps[i].name, name)) return i;
  return -1;
}

void mqs__vars_builtins(mqs_vars *vars, unsigned vbit, const char *client_prefix,
                        const char *topic_prefix) {
  mqs_vars_init(vars);
  const char *label = mqs_version_label(vbit);
  (void)mqs_vars_set(vars, "client_prefix", client_prefix, strlen(client_prefix));
  (void)mqs_vars_set(vars, "topic_prefix", topic_prefix, strlen(topic_prefix));
  (void)mqs_vars_set(vars, "version", label, strlen(label));
  (void)mqs_vars_set(vars, "protocol_level",
                     vbit == MQS_V311  ? "4"
                     : vbit == MQS_V31 ? "3"
                                       : "5",
                     1);
  /* client_prefix without its separators: for rules that allow only [0-9a-zA-Z] */
  char alnum[MQS_VAR_VALUE_MAX];
  size_t n = 0;
  for (const char *p = client_prefix; *p && n + 1 < sizeof alnum; p++)
    if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
      alnum[n++] = *p;
  (void)mqs_vars_set(vars, "client_alnum", alnum, n);
  /* exactly 23 characters, the longest Client Identifier a server must
   * accept (MQTT 3.1 refuses longer ones): client_alnum padded with 'x', or
   * its last 23 characters, which keep the unique case index */
  char id23[24];
  if (n >= 23) {
    memcpy(id23, alnum + n - 23, 23);
  } else {
    memcpy(id23, alnum, n);
    memset(id23 + n, 'x', 23 - n);
  }
  (void)mqs_vars_set(vars, "client_alnum23", id23, 23);
}

void mqs__vars_placeholders(mqs_vars *vars, unsigned vbit) {
  mqs__vars_builtins(vars, vbit, "mqc-x-", "mqc/x/");
}

/* ---- statement catalogues ---- */

int mqs_catalog_load(const char *tsv_path, mqs_catalog *out) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(tsv_path, "r");
  if (!f) return -1;
  char line[512];
  size_t cap = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "MQTT-", 5)) continue;
    line[strcspn(line, "\t \r\n")] = '\0';
    if (out->n == cap) {
      cap = cap ? cap * 2 : 256;
      char **ids = realloc(out->ids, cap * sizeof *ids);
      if (!ids) break;
      out->ids = ids;
    }
    size_t n = strlen(line) + 1;
    if (!(out->ids[out->n] = malloc(n))) break;
    memcpy(out->ids[out->n++], line, n);
  }
  fclose(f);
  return 0;
}

bool mqs_catalog_has(const mqs_catalog *c, const char *id) {
  for (size_t i = 0; i < c->n; i++)
    if (!strcmp(c->ids[i], id)) return true;
  return false;
}

void mqs_catalog_free(mqs_catalog *c) {
  for (size_t i = 0; i < c->n; i++)
    free(c->ids[i]);
  free(c->ids);
  memset(c, 0, sizeof *c);
}

/* ---- files ---- */

typedef struct {
  char **v;
  size_t n, cap;
} strvec;

static int vec_push(strvec *s, const char *str) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    char **v = realloc(s->v, cap * sizeof *v);
    if (!v) return -1;
    s->v = v;
    s->cap = cap;
  }
  size_t n = strlen(str) + 1;
  if (!(s->v[s->n] = malloc(n))) return -1;
  memcpy(s->v[s->n++], str, n);
  return 0;
}

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_yaml(const char *name) {
  size_t n = strlen(name);
  return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Directory walk with an explicit stack (no recursion on input). */
static int walk(const char *root, strvec *out, char *err, size_t cap) {
  strvec stack = {0};
  if (vec_push(&stack, root)) return -1;
  size_t guard = 0;
  while (stack.n) {
    char *dir = stack.v[--stack.n];
    if (++guard > 100000) {
      free(dir);
      break;
    }
    DIR *d = opendir(dir);
    if (!d) {
      snprintf(err, cap, "%s: %s", dir, strerror(errno));
      free(dir);
      while (stack.n)
        free(stack.v[--stack.n]);
      free(stack.v);
      return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) continue;
      struct stat st;
      if (stat(path, &st)) continue;
      if (S_ISDIR(st.st_mode))
        (void)vec_push(&stack, path);
      else if (S_ISREG(st.st_mode) && is_yaml(e->d_name))
        (void)vec_push(out, path);
    }
    closedir(d);
    free(dir);
  }
  free(stack.v);
  return 0;
}

long mqs_collect_files(char *const *paths, size_t n_paths, char ***files, char *err, size_t cap) {
  strvec out = {0};
  *files = NULL;
  for (size_t i = 0; i < n_paths; i++) {
    struct stat st;
    if (stat(paths[i], &st)) {
      snprintf(err, cap, "%s: %s", paths[i], strerror(errno));
      goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
      size_t before = out.n;
      if (walk(paths[i], &out, err, cap)) goto fail;
      if (out.n > before) qsort(out.v + before, out.n - before, sizeof *out.v, cmpstr);
    } else if (vec_push(&out, paths[i])) {
      snprintf(err, cap, "out of memory");
      goto fail;
    }
  }
  *files = out.v;
  return (long)out.n;
fail:
  for (size_t i = 0; i < out.n; i++)
    free(out.v[i]);
  free(out.v);
  return -1;
}

/* ---- cases ---- */

size_t mqs_case_id(const mqs_case *c, char *buf, size_t cap) {
  int n = snprintf(buf, cap, "%s@%s", c->scenario->name, mqs_version_label(c->version));
  return n < 0 ? 0 : (size_t)n;
}

bool mqs_case_matches(const mqs_case *c, const char *pattern) {
  char id[512];
  mqs_case_id(c, id, sizeof id);
  /* A plain word is what people type to narrow a run ("pubrel"); only a
   * pattern with glob characters has to match the whole name. */
  if (!strpbrk(pattern, "*?[")) return strstr(id, pattern) != NULL;
  return !fnmatch(pattern, id, 0) || !fnmatch(pattern, c->scenario->name, 0);
}

const char *mqs_verdict_name(mqs_verdict v) {
  switch (v) {
  case MQS_PASS:
    return "pass";
  case MQS_FAIL:
    return "fail";
  case MQS_SKIP:
    return "skip";
  case MQS_ERROR:
    return "error";
  }
  return "?";
}

const char *mqs_stmt_verdict_name(mqs_stmt_verdict v) {
  switch (v) {
  case MQS_ST_PASS:
    return "pass";
  case MQS_ST_FAIL:
    return "fail";
  case MQS_ST_NOT_REACHED:
    return "not-reached";
  case MQS_ST_NOT_CHECKED:
    return "not-checked";
  case MQS_ST_SKIP:
    return "skip";
  }
  return "?";
}

void mqs_result_free(mqs_result *r) {
  free(r->message);
  free(r->detail);
  memset(r, 0, sizeof *r);
}
