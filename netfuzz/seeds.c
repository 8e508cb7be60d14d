/* seeds.c - the suite's scenarios compiled into sessions, and corpus files.
 *
 * Each case runs once on the engine (virtual clock, deterministic) with a tap
 * on its clients' I/O; the tap turns what the clients did into records. The
 * client and topic prefixes of the case carry MQZ_TOKEN, which the executor
 * replaces per session. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "mqs.h"

typedef struct {
  mqz_buf out;
  bool bad;       /* more clients than a session holds */
  uint32_t split; /* the scenario's `fragment:` */
  uint64_t wait;  /* ms passed since the last record */
  struct {
    mqz_buf tx, rx;  /* bytes not yet framed */
    uint32_t got;    /* packets received so far */
    uint32_t synced; /* count in the last SYNC emitted */
  } c[MQZ_MAX_CLIENTS];
} recorder;

/* Time that passed becomes one WAIT: the executor caps waits (a broker's
 * clock cannot be skipped), so only "some time passed here" is kept. */
static void flush_wait(recorder *r) {
  if (!r->wait) return;
  mqz_session_add(&r->out, MQZ_OP_WAIT, 0, NULL, 0, r->wait > 255 ? 255 : (uint32_t)r->wait);
  r->wait = 0;
}

/* Before a client acts: what every client had received by then. */
static void flush_syncs(recorder *r) {
  flush_wait(r);
  for (unsigned i = 0; i < MQZ_MAX_CLIENTS; i++)
    if (r->c[i].got != r->c[i].synced) {
      mqz_session_add(&r->out, MQZ_OP_SYNC, i, NULL, 0, r->c[i].got);
      r->c[i].synced = r->c[i].got;
    }
}

/* Whole packets of client's pending output become SEND/ACK records; bytes
 * that frame as no packet become RAW records when flush is set. */
static void emit_tx(recorder *r, unsigned client, bool flush) {
  mqz_buf *tx = &r->c[client].tx;
  size_t off = 0;
  while (off < tx->n) {
    mqc_frame f;
    mqc_error e;
    mqc_status st = mqc_frame_packet(tx->p + off, tx->n - off, MQC_V311, MQC_NO_LIMIT, &f, &e);
    if (st == MQC_OK) {
      uint8_t type = tx->p[off] >> 4;
      /* acks to what the server sent: their identifiers are the server's */
      bool ack = type == MQC_PUBACK || type == MQC_PUBREC || type == MQC_PUBCOMP;
      if (r->split) mqz_session_add(&r->out, MQZ_OP_SPLIT, client, NULL, 0, r->split);
      mqz_session_add(&r->out, ack ? MQZ_OP_ACK : MQZ_OP_SEND, client, tx->p + off, f.total_len, 0);
      off += f.total_len;
      continue;
    }
    if (st == MQC_INCOMPLETE && !flush) break;
    size_t n = tx->n - off > 255 ? 255 : tx->n - off;
    mqz_session_add(&r->out, MQZ_OP_RAW, client, tx->p + off, n, (uint32_t)n);
    off += n;
  }
  if (off) memmove(tx->p, tx->p + off, tx->n - off);
  tx->n -= off;
}

static bool client_ok(recorder *r, unsigned client) {
  if (client < MQZ_MAX_CLIENTS) return true;
  r->bad = true;
  return false;
}

static void tap_open(void *ctx, unsigned client) {
  recorder *r = ctx;
  if (!client_ok(r, client)) return;
  emit_tx(r, client, true);
  flush_syncs(r);
  mqz_session_add(&r->out, MQZ_OP_OPEN, client, NULL, 0, 0);
}

static void tap_send(void *ctx, unsigned client, const uint8_t *p, size_t n) {
  recorder *r = ctx;
  if (!client_ok(r, client)) return;
  flush_syncs(r);
  mqz_buf_append(&r->c[client].tx, p, n);
  emit_tx(r, client, false);
}

static void tap_close(void *ctx, unsigned client, bool abrupt) {
  recorder *r = ctx;
  if (!client_ok(r, client)) return;
  emit_tx(r, client, true);
  flush_syncs(r);
  mqz_session_add(&r->out, abrupt ? MQZ_OP_DROP : MQZ_OP_CLOSE, client, NULL, 0, 0);
}

static void tap_recv(void *ctx, unsigned client, const uint8_t *p, size_t n) {
  recorder *r = ctx;
  if (!client_ok(r, client)) return;
  mqz_buf *rx = &r->c[client].rx;
  mqz_buf_append(rx, p, n);
  size_t off = 0;
  mqc_frame f;
  mqc_error e;
  while (off < rx->n &&
         mqc_frame_packet(rx->p + off, rx->n - off, MQC_V311, MQC_NO_LIMIT, &f, &e) == MQC_OK) {
    off += f.total_len;
    r->c[client].got++;
  }
  if (off) memmove(rx->p, rx->p + off, rx->n - off);
  rx->n -= off;
}

static void tap_time(void *ctx, uint64_t ms) {
  recorder *r = ctx;
  r->wait += ms;
}

static void recorder_free(recorder *r) {
  mqz_buf_free(&r->out);
  for (unsigned i = 0; i < MQZ_MAX_CLIENTS; i++) {
    mqz_buf_free(&r->c[i].tx);
    mqz_buf_free(&r->c[i].rx);
  }
}

long mqz_seeds_from_scenarios(char *const *paths, size_t n_paths, unsigned versions,
                              mqz_corpus *out, FILE *errs) {
  mqs_suite suite;
  if (mqs_suite_load(paths, n_paths, &suite, errs)) return -1;
  mqs_target_spec *spec;
  char err[256];
  if (mqs_target_spec_new("engine", NULL, &spec, err, sizeof err)) {
    if (errs) fprintf(errs, "netfuzz: %s\n", err);
    mqs_suite_free(&suite);
    return -1;
  }
  long added = 0;
  bool cluster = versions & MQZ_SEEDS_CLUSTER;
  versions &= ~MQZ_SEEDS_CLUSTER;
  for (size_t i = 0; i < suite.n; i++) {
    const mqs_scenario *s = suite.s[i];
    for (unsigned vbit = MQS_V311; vbit <= MQS_V5; vbit <<= 1) {
      if (!(s->versions & vbit) || (versions && !(versions & vbit))) continue;
      if (s->n_clients > MQZ_MAX_CLIENTS) continue;
      recorder r;
      memset(&r, 0, sizeof r);
      r.split = s->fragment;
      mqz_session_begin(&r.out, mqs_version_codec(vbit), 0);
      mqs_tap tap = {tap_open, tap_send, tap_close, tap_recv, NULL, tap_time, &r};
      mqs_run_opts o;
      memset(&o, 0, sizeof o);
      o.target = spec;
      o.caps = mqs_target_spec_default_caps(spec);
      /* the engine is one broker: it keeps every cross-node promise */
      o.cluster = cluster ? MQS_CLUSTER_ALL : 0;
      o.run_id = MQZ_TOKEN;
      o.tap = &tap;
      mqs_case c = {s, vbit};
      mqs_result res;
      mqs_run_case(&c, 0, &o, &res);
      for (unsigned k = 0; k < MQZ_MAX_CLIENTS; k++)
        emit_tx(&r, k, true);
      bool keep = res.verdict == MQS_PASS && !r.bad && !r.out.oom && r.out.n <= MQZ_SESSION_MAX;
      mqs_result_free(&res);
      if (keep) {
        char name[300];
        snprintf(name, sizeof name, "%s@%s", s->name, mqs_version_label(vbit));
        if (mqz_corpus_add(out, r.out.p, r.out.n, name)) {
          recorder_free(&r);
          break;
        }
        added++;
      }
      recorder_free(&r);
    }
  }
  mqs_target_spec_free(spec);
  mqs_suite_free(&suite);
  return added;
}

void mqz_corpus_free(mqz_corpus *c) {
  for (size_t i = 0; i < c->count; i++) {
    free(c->s[i]);
    free(c->name[i]);
  }
  free(c->s);
  free(c->n);
  free(c->name);
  memset(c, 0, sizeof *c);
}

int mqz_corpus_add(mqz_corpus *c, const uint8_t *s, size_t n, const char *name) {
  if (c->count == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    uint8_t **ns = realloc(c->s, cap * sizeof *ns);
    if (!ns) return -1;
    c->s = ns;
    size_t *nn = realloc(c->n, cap * sizeof *nn);
    if (!nn) return -1;
    c->n = nn;
    char **nm = realloc(c->name, cap * sizeof *nm);
    if (!nm) return -1;
    c->name = nm;
    c->cap = cap;
  }
  uint8_t *copy = malloc(n ? n : 1);
  char *nm = strdup(name ? name : "");
  if (!copy || !nm) {
    free(copy);
    free(nm);
    return -1;
  }
  if (n) memcpy(copy, s, n);
  c->s[c->count] = copy;
  c->n[c->count] = n;
  c->name[c->count] = nm;
  c->count++;
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

long mqz_corpus_load_dir(const char *dir, bool create, mqz_corpus *out, char *err, size_t cap) {
  DIR *d = opendir(dir);
  if (!d && errno == ENOENT && create) {
    if (mkdir(dir, 0777) && errno != EEXIST) {
      snprintf(err, cap, "cannot create %s: %s", dir, strerror(errno));
      return -1;
    }
    return 0;
  }
  if (!d) {
    snprintf(err, cap, "cannot read %s: %s", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, ncap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == ncap) {
      ncap = ncap ? 2 * ncap : 64;
      char **nn = realloc(names, ncap * sizeof *nn);
      if (!nn) break;
      names = nn;
    }
    names[n] = strdup(e->d_name);
    if (names[n]) n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  long added = 0;
  uint8_t *buf = malloc(MQZ_SESSION_MAX);
  for (size_t i = 0; i < n && buf; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    struct stat st;
    FILE *f = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? fopen(path, "rb") : NULL;
    if (!f) continue;
    size_t got = fread(buf, 1, MQZ_SESSION_MAX, f);
    fclose(f);
    if (got >= 2 && !mqz_corpus_add(out, buf, got, names[i])) added++;
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  free(buf);
  return added;
}

int mqz_corpus_save(const char *dir, const char *prefix, const uint8_t *s, size_t n, char *err,
                    size_t cap) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s%016llx", dir, prefix ? prefix : "",
           (unsigned long long)mqz__hash64(s, n));
  struct stat st;
  if (stat(path, &st) == 0) return 0; /* the same session is there already */
  return mqz__write_file(path, s, n, err, cap);
}

long mqz__sync_load(const char *sync, const char *self, mqz_corpus *out, char *err, size_t cap) {
  DIR *d = opendir(sync);
  if (!d) {
    snprintf(err, cap, "cannot read %s: %s", sync, strerror(errno));
    return -1;
  }
  long total = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char q[4096];
    snprintf(q, sizeof q, "%s/%s/queue", sync, e->d_name);
    if (!strcmp(q, self)) continue;
    mqz_corpus part = {0};
    char perr[300];
    if (mqz_corpus_load_dir(q, false, &part, perr, sizeof perr) <= 0) {
      mqz_corpus_free(&part);
      continue;
    }
    for (size_t i = 0; i < part.count; i++) {
      char name[600];
      snprintf(name, sizeof name, "%s/%s", e->d_name, part.name[i]);
      if (!mqz_corpus_add(out, part.s[i], part.n[i], name)) total++;
    }
    mqz_corpus_free(&part);
  }
  closedir(d);
  return total;
}
