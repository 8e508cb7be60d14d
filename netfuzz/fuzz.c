/* fuzz.c - the fuzzing run: instances (an exec'd broker, or the target URL,
 * each with its executor), scheduling, the crash, hang and leak oracles,
 * triage of who did it, deduplication, minimisation, the corpus, stats.
 * The idle-CPU oracle's measurements are in cpu.c.
 *
 * Determinism: session k of a run is the seed corpus entry
 * pick(seed, k) mutated with seed mix(seed, k), so without coverage feedback
 * any session can be regenerated from --seed and its number. With feedback
 * the corpus grows in the order sessions finish, so a finding's session is
 * kept in its folder (session.bin) rather than regenerated. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "internal.h"
#include "liveness.h"
#include "mqs.h"

#define HIST     16384 /* sessions remembered per instance for triage */
#define MAX_JOBS 16
#define MAX_SIGS 256

typedef struct {
  uint8_t *s;
  size_t n;
  uint64_t number;
  int64_t t; /* when it was submitted */
} held;

/* Memory an exec'd broker holds: its lowest and highest RSS (KiB) since
 * it started, 0 before the first sample; when the next sample is due. The
 * run's held oracle and --replay's watch a broker the same way. */
typedef struct {
  uint64_t base, peak;
  int64_t next;
} held_watch;

typedef struct run run;

typedef struct {
  run *owner;
  unsigned no;
  mqz_broker *broker; /* exec only */
  mqz_exec *x;
  mqz_exec *tx; /* one session at a time: triage and minimisation */
  mqn_url url;
  mqn_url nodes[MQZ_MAX_NODES]; /* a cluster target: url is nodes[0] */
  char log_path[4096];
  int64_t next_probe;
  mqz_probe *probe[MQZ_MAX_NODES]; /* the hang oracle's probes in flight (one per node) */
  bool probing;
  int64_t probe_t0; /* when they started */
  mqz_exec *bx;     /* many at once, no oracle callback: triage batches */
  held hist[HIST];  /* ring of submitted sessions, oldest overwritten */
  size_t hist_at;
  int64_t last_ok; /* last liveness probe that passed */
  unsigned silent; /* sessions in a row that received nothing */
  uint64_t leak_base_sessions, leak_next, leak_rss0;
  unsigned leak_fds0;
  bool leak_primed, leak_reported;
  bool quiescing;     /* no new sessions: the leak sample waits for a quiet broker */
  bool exit_due;      /* no new sessions: a clean stop waits for a quiet broker */
  bool lsan;          /* the broker carries LeakSanitizer: exit checks apply */
  uint64_t exit_next; /* session count of the next clean stop */
  int64_t born;       /* when the broker (re)started: leaks are since then */
  held_watch held;    /* memory held since the broker started */
  /* idle CPU: when the broker at rest is measured next; due: no new
   * sessions until those in flight end and it is measured */
  int64_t cpu_next;
  bool cpu_due;
  bool dead;  /* --target only: the broker stopped answering for good */
  bool fresh; /* exec: restarted, and no session ran on it since */
} instance;

struct run {
  const mqz_opts *o;
  mqz_stats *st;
  mqz_corpus corpus;
  size_t n_seeds; /* corpus entries that came from seeds (not grown) */
  mqz_mutator *mut;
  instance inst[MAX_JOBS];
  unsigned n_inst;
  mqz_cov cov;
  uint64_t next_number;
  uint64_t token_salt; /* from the clock: see token_for */
  uint64_t submitted;  /* sessions handed to executors (not triage runs) */
  char sigs[MAX_SIGS][256];
  size_t n_sigs;
  char flaky[MAX_SIGS][256]; /* seen, but not reproduced alone: tried 3 times */
  unsigned flaky_tries[MAX_SIGS];
  size_t n_flaky;
  unsigned held_unpinned; /* held-memory findings no session held alone */
  uint8_t work[MQZ_SESSION_MAX];
  int64_t t0, last_status, last_sync;
  bool tty;
  char queue_dir[4096];
  unsigned versions; /* MQS_V* the target accepts */
  char *event_log;   /* the broker's log when it crashed or hung (owned) */
  size_t event_log_n;
  FILE *log; /* stderr */
};

/* ---- helpers ---- */

static uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void say(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(run *r, const char *fmt, ...) {
  if (r->o->quiet) return;
  if (r->tty) fputs("\r\033[K", r->log);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(r->log, fmt, ap);
  va_end(ap);
  fputc('\n', r->log);
  fflush(r->log);
}

static bool seen_sig(run *r, const char *sig) {
  for (size_t i = 0; i < r->n_sigs; i++)
    if (!strcmp(r->sigs[i], sig)) return true;
  return false;
}

static void add_sig(run *r, const char *sig) {
  if (r->n_sigs < MAX_SIGS) snprintf(r->sigs[r->n_sigs++], sizeof r->sigs[0], "%.255s", sig);
}

static void held_set(held *h, const uint8_t *s, size_t n, uint64_t number) {
  uint8_t *c = realloc(h->s, n ? n : 1);
  if (!c) return;
  h->s = c;
  memcpy(h->s, s, n);
  h->n = n;
  h->number = number;
}

static void held_free(held *h) {
  free(h->s);
  memset(h, 0, sizeof *h);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Tokens differ between runs too: a broker keeps persistent sessions of
 * earlier runs, and a new session must not inherit them. */
static uint32_t token_for(const run *r, uint64_t number) {
  return (uint32_t)((number + r->token_salt) % (36u * 36 * 36 * 36 - 1)) + 1;
}

/* ---- instances ---- */

/* How an exec'd broker is reached, as text: --exec-url with its "{port}"
 * replaced (plain TCP on loopback by default); the port changes on
 * restart. */
static void broker_url_text(const mqz_opts *o, uint16_t port, char *out, size_t cap) {
  const char *t = o->exec_url ? o->exec_url : "tcp://127.0.0.1:{port}";
  const char *at = strstr(t, "{port}");
  if (!at) {
    snprintf(out, cap, "%s", t);
    return;
  }
  snprintf(out, cap, "%.*s%u%s", (int)(at - t), t, (unsigned)port, at + 6);
}

static mqn_url broker_url(const mqz_opts *o, const mqz_broker *b) {
  char text[600];
  broker_url_text(o, mqz_broker_port(b), text, sizeof text);
  mqn_url u;
  if (mqn_url_parse(text, &u) == MQN_OK) return u;
  /* mqz_fuzz and mqz_replay checked the template: not reached */
  memset(&u, 0, sizeof u);
  u.scheme = MQN_TCP;
  snprintf(u.host, sizeof u.host, "127.0.0.1");
  u.port = mqz_broker_port(b);
  return u;
}

/* The --exec-url template parses once its port is filled in. */
static int exec_url_ok(const mqz_opts *o, char *err, size_t cap) {
  if (!o->exec_url) return 0;
  char text[600];
  mqn_url u;
  broker_url_text(o, 1883, text, sizeof text);
  if (!strstr(o->exec_url, "{port}") || mqn_url_parse(text, &u) != MQN_OK) {
    snprintf(err, cap,
             "--exec-url: '%s' is not a URL with {port} where the port goes (e.g. "
             "mqtts://127.0.0.1:{port})",
             o->exec_url);
    return -1;
  }
  return 0;
}

static int instance_start(run *r, instance *in, char *err, size_t cap) {
  if (r->o->exec) {
    snprintf(in->log_path, sizeof in->log_path, "%s/broker-%u.log", r->o->findings_dir, in->no);
    mqz_broker_opts bo = {r->o->exec, in->log_path, 0, r->o->coverage, 0, r->o->stack_kib};
    if (mqz_broker_start(&bo, &in->broker, err, cap)) return -1;
    in->url = broker_url(r->o, in->broker);
  } else if (mqn_url_parse(r->o->target, &in->url) != MQN_OK) {
    snprintf(err, cap, "'%s' is not a target URL (tcp://, mqtts://, ws://, wss://)", r->o->target);
    return -1;
  }
  for (unsigned k = 0; k < r->o->n_nodes && k < MQZ_MAX_NODES; k++)
    if (mqn_url_parse(r->o->node_urls[k], &in->nodes[k]) != MQN_OK) {
      snprintf(err, cap, "node %s: '%s' is not a target URL (tcp://, mqtts://, ws://, wss://)",
               r->o->node_names[k], r->o->node_urls[k]);
      return -1;
    }
  if (r->o->n_nodes > 1) in->url = in->nodes[0];
  return 0;
}

/* The executor options every executor of an instance starts from. */
static void exec_opts(const run *r, const instance *in, mqz_exec_opts *xo) {
  mqz_exec_opts_default(xo);
  xo->url = in->url;
  xo->tls = r->o->tls;
  if (r->o->concurrency) xo->concurrency = r->o->concurrency;
  xo->spec_oracle = !r->o->no_spec;
  if (r->o->drain_ms) xo->drain_ms = r->o->drain_ms;
  if (r->o->n_nodes > 1) {
    xo->nodes = in->nodes;
    xo->node_names = r->o->node_names;
    xo->n_nodes = r->o->n_nodes;
    xo->propagation_ms = r->o->propagation_ms;
    xo->cluster_off = r->o->cluster_off;
  }
}

/* After every (re)start: the new port, and a broker nothing ran on yet. */
static void instance_url(instance *in) {
  if (!in->broker) return;
  in->fresh = true;
  in->url = broker_url(in->owner->o, in->broker);
  mqz_exec_set_url(in->x, &in->url);
  mqz_exec_set_url(in->tx, &in->url);
  mqz_exec_set_url(in->bx, &in->url);
}

/* Did the broker die (or is it dying)? A sanitizer takes its time to write
 * and symbolise a report before the process exits: once a report has
 * begun, wait for the exit. */
static bool broker_died(mqz_broker *b, char *why, size_t cap) {
  /* 300 ms: a crash may come a while after the session's last byte (a walk
   * of a deep topic tree under ASan takes that long) */
  for (int i = 0; i < 60; i++) {
    if (mqz_broker_dead(b, why, cap)) return true;
    sleep_ms(5);
  }
  char *log = NULL;
  size_t n = 0;
  bool report = !mqz_broker_log_since_start(b, &log, &n) && log &&
                mqz_sanitizer_report(log, n, NULL, 0, NULL, 0);
  free(log);
  for (int i = 0; report && i < 2000; i++) {
    if (mqz_broker_dead(b, why, cap)) return true;
    sleep_ms(5);
  }
  return false;
}

static int alive_within(run *r, instance *in, mqc_version v, uint32_t ms, char *why, size_t cap);
static int alive(run *r, instance *in, mqc_version v, char *why, size_t cap) {
  return alive_within(r, in, v, r->o->hang_ms ? r->o->hang_ms : 2000, why, cap);
}

/* A cluster is alive when every node is: a hang of any node is a hang. */
static int alive_within(run *r, instance *in, mqc_version v, uint32_t ms, char *why, size_t cap) {
  char cid[40], topic[64];
  unsigned n = r->o->n_nodes > 1 ? r->o->n_nodes : 1;
  for (unsigned k = 0; k < n; k++) {
    snprintf(cid, sizeof cid, "mqcheck-liveness-%u-%u", in->no, k);
    snprintf(topic, sizeof topic, "mqcheck/liveness/%u/%u", in->no, k);
    const mqn_url *u = n > 1 ? &in->nodes[k] : &in->url;
    if (mqz_liveness(u, r->o->tls, v, cid, r->o->username, r->o->password, topic, ms, why, cap)) {
      if (n > 1) { /* name the node */
        char one[300];
        snprintf(one, sizeof one, "node %s: %s", r->o->node_names[k], why);
        snprintf(why, cap, "%s", one);
      }
      return -1;
    }
  }
  return 0;
}

static mqc_version probe_version(const run *r) {
  return (r->versions & MQS_V311) ? MQC_V311 : (r->versions & MQS_V5) ? MQC_V5 : MQC_V31;
}

/* The scenario versions to compile: 3.1 sessions are made from 3.1.1 ones. */
static unsigned seed_versions(unsigned want) {
  if (!want) return 0;
  return (want & (MQS_V311 | MQS_V5)) | ((want & MQZ_V31) ? MQS_V311 : 0);
}

static unsigned version_bit(mqc_version v) {
  return v == MQC_V5 ? MQS_V5 : v == MQC_V31 ? MQZ_V31 : MQS_V311;
}

/* ---- findings ---- */

static void outcome_sig(const mqz_outcome *o, char *sig, size_t cap) {
  snprintf(sig, cap, "%s:%s", mqz_kind_name(o->kind), o->statement);
  /* a protocol violation the broker let pass: which rule it let pass */
  const char *m = strstr(o->message, "MQTT-");
  if (o->kind == MQZ_SPEC && m && strcmp(o->statement, "MQTT-4.5.0-1") &&
      strcmp(o->statement, "MQTT-3.3.2-3")) {
    size_t k = strspn(m, "MQTT-0123456789.");
    size_t used = strlen(sig);
    snprintf(sig + used, cap - used, ":%.*s", (int)k, m);
  }
  if (o->kind == MQZ_BADWIRE) {
    /* the packet type named in the message */
    const char *t = strstr(o->message, "sent a ");
    if (t) {
      size_t used = strlen(sig);
      snprintf(sig + used, cap - used, ":%.*s", (int)strcspn(t + 7, " "), t + 7);
    }
  }
}

/* ---- held memory ---- */

#define HELD_EVERY_MS 20

/* Memory a broker holds while sessions run and gives back when they end
 * (per-message state a client makes it keep: CVE-2023-28366) shows in no
 * quiet sample and in no LeakSanitizer report: RSS is sampled while the
 * sessions run, against the lowest since the broker started. */
static bool held_sig(const char *sig) {
  return !strcmp(sig, "leak:held-rss");
}

static uint64_t held_limit(const mqz_opts *o) {
  return o->held_rss_kib ? o->held_rss_kib : 262144;
}

static void held_sample(held_watch *h, const mqz_broker *b) {
  uint64_t rss;
  if (!b || mqz_broker_rss(b, &rss)) return;
  if (!h->base || rss < h->base) h->base = rss;
  if (rss > h->peak) h->peak = rss;
}

/* held_sample at most every HELD_EVERY_MS; true when it sampled */
static bool held_step(held_watch *h, const mqz_broker *b, int64_t now) {
  if (now < h->next) return false;
  h->next = now + HELD_EVERY_MS;
  held_sample(h, b);
  return true;
}

static bool held_over(const held_watch *h, uint64_t limit_kib) {
  return h->base && h->peak > h->base + limit_kib;
}

static void restart(run *r, instance *in);

/* Runs s alone on a freshly started broker, sampling its RSS: does it make
 * the broker hold more than the limit? */
static bool held_reproduces(run *r, instance *in, const uint8_t *s, size_t n) {
  restart(r, in);
  if (in->dead) return false;
  held_sample(&in->held, in->broker);
  in->fresh = false;
  if (mqz_exec_submit(in->tx, 0, token_for(r, r->next_number++), s, n)) return false;
  while (mqz_exec_running(in->tx)) {
    mqz_exec_poll(in->tx, 5);
    held_sample(&in->held, in->broker);
  }
  return held_over(&in->held, held_limit(r->o));
}

/* ---- idle CPU ---- */

#define CPU_EVERY_MS  10000 /* a broker at rest is measured this often, and at the end */
#define CPU_SETTLE_MS 50

/* A broker that burns CPU while nothing is asked of it (a loop polling a
 * dead socket, a poll set that keeps firing, a spinning thread) still
 * answers the liveness probe: it is measured at rest, sessions drained,
 * holding only idle connections (cpu.c). */
static bool cpu_sig(const char *sig) {
  return !strcmp(sig, "leak:idle-cpu");
}

static unsigned cpu_limit(const run *r) {
  return r->o->idle_cpu_pct ? r->o->idle_cpu_pct : 50;
}

static uint32_t cpu_window(const run *r) {
  return r->o->idle_cpu_ms ? r->o->idle_cpu_ms : 300;
}

/* Measures the broker of in at rest: no session running (the caller's
 * business), what the sessions left handled (a liveness round trip), and
 * the idle connections open. Returns 1 when it was runnable more than the
 * limit over the window, 0 when not, -1 when it cannot tell (not running,
 * not answering: the hang and crash oracles' business). msg (may be NULL)
 * gets the figures. */
static int cpu_idle_over(run *r, instance *in, char *msg, size_t cap) {
  if (!in->broker || in->dead) return -1;
  sleep_ms(CPU_SETTLE_MS); /* the broker closes what we closed */
  char why[300];
  uint32_t hang = r->o->hang_ms ? r->o->hang_ms : 2000;
  if (alive_within(r, in, probe_version(r), hang, why, sizeof why)) return -1;
  mqz__idlers d;
  char cid[40];
  snprintf(cid, sizeof cid, "mqcheck-idle-%u", in->no);
  unsigned open = mqz__idlers_open(&d, &in->url, r->o->tls, probe_version(r), cid, r->o->username,
                                   r->o->password, (int)hang);
  sleep_ms(CPU_SETTLE_MS); /* the broker takes them in */
  int pid = mqz_broker_pid(in->broker), rc = -1;
  mqz__cpu a, b;
  if (!mqz__cpu_sample(pid, &a)) {
    sleep_ms((long)cpu_window(r));
    if (!mqz__cpu_sample(pid, &b)) {
      double used, busy;
      mqz__cpu_share(&a, &b, &used, &busy);
      rc = busy * 100.0 > (double)cpu_limit(r);
      if (msg && cap)
        snprintf(msg, cap,
                 "the broker at rest (no session, %u idle connections) was %s %.0f%% of a core "
                 "(on a CPU %.0f%%) over %lld ms (limit %u%%)",
                 open, a.has_runnable && b.has_runnable ? "runnable" : "on a CPU", busy * 100.0,
                 used * 100.0, (long long)(b.at_ms - a.at_ms), cpu_limit(r));
    }
  }
  mqz__idlers_close(&d);
  return rc;
}

/* Runs s alone on a freshly started broker, then measures it at rest. */
static bool cpu_reproduces(run *r, instance *in, const uint8_t *s, size_t n) {
  restart(r, in);
  if (in->dead) return false;
  in->fresh = false;
  mqz_outcome out;
  mqz_exec_one(in->tx, token_for(r, r->next_number++), s, n, &out);
  return cpu_idle_over(r, in, NULL, 0) == 1;
}

/* ---- what the broker reports when it is stopped ---- */

#define MAX_EXIT_SIGS 16
#define EXIT_WAIT_MS  20000 /* LeakSanitizer scans the whole heap on the way out */

/* Signatures of reports made at a clean stop: leaks, and sanitizer errors in
 * the broker's shutdown code ("crash:exit:..."). */
static bool at_exit_sig(const char *sig) {
  return !strncmp(sig, "leak:LeakSanitizer:", 19) || !strncmp(sig, "crash:exit:", 11);
}

/* Stops the broker with SIGTERM and reads its report: the signature of each
 * distinct leak ("leak:LeakSanitizer:direct-leak:f1:f2:f3"), or of a
 * sanitizer error during shutdown ("crash:exit:..."), into sigs. msg (may be
 * NULL) gets the report's summary; log/ln (may be NULL) the broker's log
 * (caller frees). The broker is left stopped. Returns how many signatures. */
static size_t exit_report(instance *in, char (*sigs)[256], char *msg, size_t mcap, char **log,
                          size_t *ln) {
  if (log) *log = NULL;
  if (msg && mcap) msg[0] = '\0';
  /* the broker handles what the session just ended sent, and its closes,
   * first: a leak on a connection's error path happens only once it has. A
   * liveness round trip after them says the broker got that far (a busy
   * machine can take longer than any fixed pause). */
  sleep_ms(50);
  if (in->owner) {
    char why[200];
    (void)alive_within(in->owner, in, probe_version(in->owner), 2000, why, sizeof why);
  }
  (void)mqz_broker_term(in->broker, EXIT_WAIT_MS);
  char *text = NULL;
  size_t n = 0;
  if (mqz_broker_log_since_start(in->broker, &text, &n) || !text) return 0;
  char one[256], summary[256];
  size_t got = 0;
  if (mqz_sanitizer_report(text, n, one, sizeof one, summary, sizeof summary)) {
    if (!strncmp(one, "LeakSanitizer:", 14)) {
      char leaks[MAX_EXIT_SIGS][256];
      size_t k = mqz_leak_sigs(text, n, leaks, MAX_EXIT_SIGS);
      for (size_t i = 0; i < k; i++)
        snprintf(sigs[got++], 256, "leak:%.250s", leaks[i]);
    } else {
      snprintf(sigs[got++], 256, "crash:exit:%.240s", one);
    }
    if (msg && mcap) snprintf(msg, mcap, "stopped with SIGTERM, the broker reported: %s", summary);
  }
  if (log) {
    *log = text;
    *ln = n;
  } else {
    free(text);
  }
  return got;
}

/* Does s reproduce sig on this instance, alone? For crashes and hangs the
 * broker is checked (and restarted) afterwards. */
static bool reproduces(run *r, instance *in, const uint8_t *s, size_t n, mqz_kind kind,
                       const char *sig) {
  if (held_sig(sig)) return in->broker && held_reproduces(r, in, s, n);
  if (cpu_sig(sig)) return in->broker && cpu_reproduces(r, in, s, n);
  mqz_outcome out;
  in->fresh = false;
  mqz_exec_one(in->tx, token_for(r, r->next_number++), s, n, &out);
  if (at_exit_sig(sig)) {
    if (!in->broker) return false;
    char sigs[MAX_EXIT_SIGS][256];
    size_t ns = exit_report(in, sigs, NULL, 0, NULL, NULL);
    bool hit = false;
    for (size_t i = 0; i < ns && !hit; i++)
      hit = !strcmp(sigs[i], sig);
    char err[300];
    if (mqz_broker_restart(in->broker, err, sizeof err)) say(r, "fuzz: %s", err);
    instance_url(in);
    in->born = mqn_now_ms();
    return hit;
  }
  if (kind == MQZ_CRASH || kind == MQZ_HANG) {
    if (!in->broker) return false;
    /* the liveness probe follows, as it follows sessions in the run: its
     * SUBSCRIBE or PUBLISH may be what sets a broken state off. Triage and
     * minimisation know the broker was fast before: a shorter deadline than
     * the run's keeps them quick. */
    uint32_t quick = r->o->hang_ms && r->o->hang_ms < 500 ? r->o->hang_ms : 500;
    char why[200], probe_why[200];
    bool stuck = alive_within(r, in, probe_version(r), quick, probe_why, sizeof probe_why) != 0;
    /* give a crash a moment to happen and be reported */
    bool dead = broker_died(in->broker, why, sizeof why);
    bool hit = false;
    if (kind == MQZ_CRASH && dead) {
      char *log = NULL;
      size_t ln = 0;
      char s2[256] = "", summary[256];
      if (!mqz_broker_log_since_start(in->broker, &log, &ln) && log &&
          mqz_sanitizer_report(log, ln, s2, sizeof s2, summary, sizeof summary)) {
        char full[300];
        snprintf(full, sizeof full, "crash:%s", s2);
        hit = !strcmp(full, sig);
      } else {
        char full[300];
        snprintf(full, sizeof full, "crash:%s", why);
        hit = !strcmp(full, sig);
      }
      free(log);
    }
    if (kind == MQZ_HANG && !dead) hit = stuck;
    if (dead || kind == MQZ_HANG) {
      char err[300];
      if (hit || dead) {
        if (mqz_broker_restart(in->broker, err, sizeof err)) say(r, "fuzz: %s", err);
        instance_url(in);
      }
    }
    return hit;
  }
  if (out.kind != kind) return false;
  char got[256];
  outcome_sig(&out, got, sizeof got);
  return !strcmp(got, sig);
}

/* reproduces, for a crash or hang on a broker that ran nothing since it
 * started: what an earlier candidate left there (a retained message, a
 * session, a broken structure) must not make a later one crash, else
 * minimisation keeps a session that does nothing alone. */
static bool fresh_reproduces(run *r, instance *in, const uint8_t *s, size_t n, mqz_kind kind,
                             const char *sig) {
  if (in->broker && !in->fresh && (kind == MQZ_CRASH || kind == MQZ_HANG) && !held_sig(sig) &&
      !at_exit_sig(sig))
    restart(r, in);
  return reproduces(r, in, s, n, kind, sig);
}

/* A smaller session is kept only when it reproduces twice in a row: our
 * oracles are deterministic, but what the broker does is not always (a
 * packet boundary or a race can make a crash come and go, and how many
 * messages are in flight at once depends on when the broker reads). */
static bool still_reproduces(run *r, instance *in, const uint8_t *s, size_t n, mqz_kind kind,
                             const char *sig) {
  return fresh_reproduces(r, in, s, n, kind, sig) && fresh_reproduces(r, in, s, n, kind, sig);
}

/* The protocol level the client of record idx speaks there: its last
 * CONNECT's level byte before it, else the session's version. */
static mqc_version level_at(const uint8_t *s, size_t n, size_t idx, unsigned client) {
  mqc_version v = mqz_session_version(s, n);
  mqz_iter it;
  mqz_rec rec;
  mqz_iter_init(&it, s, n);
  for (size_t i = 0; i < idx && mqz_iter_next(&it, &rec); i++) {
    if (rec.client != client || rec.op != MQZ_OP_SEND || !rec.pkt_len ||
        (rec.pkt[0] >> 4) != MQC_CONNECT)
      continue;
    size_t at = mqz__after_first_string(rec.pkt, rec.pkt_len);
    if (at && at < rec.pkt_len && rec.pkt[at] >= 3 && rec.pkt[at] <= 5)
      v = (mqc_version)rec.pkt[at];
  }
  return v;
}

/* Byte level: every packet (and RAW run) in turn is replaced by its smaller
 * variants (mqz__shrink_packet), each kept when the finding still
 * reproduces: the field variants of every packet first (fields_pass), the
 * runs of bytes after, so that the budget goes where shrinking pays most. */
/* Ctrl-C (or SIGTERM): a minimisation under way ends at the smallest
 * session it has kept so far, so the finding is written and the run stops
 * within a candidate's time. */
static bool interrupted(const run *r) {
  return r->o->stop && *r->o->stop;
}

static size_t shrink_bytes(run *r, instance *in, uint8_t *s, size_t n, uint8_t *cand, mqz_kind kind,
                           const char *sig, unsigned *budget, bool once, bool fields_pass) {
  uint8_t pkt[MQZ_SESSION_MAX];
  for (size_t idx = 0; *budget && !interrupted(r); idx++) {
    mqz_iter it;
    mqz_rec rec;
    size_t i = 0;
    bool found = false;
    mqz_iter_init(&it, s, n);
    while (!found && mqz_iter_next(&it, &rec))
      found = i++ == idx;
    if (!found) break;
    if (rec.op != MQZ_OP_SEND && rec.op != MQZ_OP_ACK && rec.op != MQZ_OP_RAW) continue;
    mqc_version v = level_at(s, n, idx, rec.client);
    unsigned fields = rec.op == MQZ_OP_RAW ? 0 : mqz__shrink_fields(rec.pkt, rec.pkt_len, v);
    for (unsigned k = fields_pass ? 0 : fields;
         *budget && !interrupted(r) && (!fields_pass || k < fields); k++) {
      size_t pn = 0;
      bool more = rec.op == MQZ_OP_RAW ? mqz__shrink_raw(rec.pkt, rec.pkt_len, k, pkt, &pn)
                                       : mqz__shrink_packet(rec.pkt, rec.pkt_len, v, k, pkt, &pn);
      if (!more) break;
      if (!pn || pn >= rec.pkt_len) continue;
      /* the record, rebuilt around the smaller packet */
      size_t head = rec.op == MQZ_OP_RAW ? 3 : 2, m = rec.offset;
      memcpy(cand, s, m);
      cand[m] = s[rec.offset];
      cand[m + 1] = s[rec.offset + 1];
      if (rec.op == MQZ_OP_RAW) cand[m + 2] = (uint8_t)pn;
      memcpy(cand + m + head, pkt, pn);
      m += head + pn;
      memcpy(cand + m, s + rec.offset + rec.len, n - rec.offset - rec.len);
      m += n - rec.offset - rec.len;
      (*budget)--;
      if (!(once ? fresh_reproduces(r, in, cand, m, kind, sig)
                 : still_reproduces(r, in, cand, m, kind, sig)))
        continue;
      memcpy(s, cand, m);
      n = m;
      /* the record shrank: its variants start over */
      mqz_iter_init(&it, s, n);
      for (i = 0; i <= idx; i++)
        (void)mqz_iter_next(&it, &rec);
      fields = rec.op == MQZ_OP_RAW ? 0 : mqz__shrink_fields(rec.pkt, rec.pkt_len, v);
      k = (fields_pass ? 0 : fields) - 1;
    }
  }
  return n;
}

/* Replays: how many times a finding's scenario is run against the broker
 * before it is said to pass there. */
#define SCENARIO_REPLAYS 3

/* Does f's scenario, as it would be written, fail against this instance?
 * A user keeps the scenario as a regression test, so what counts is the
 * scenario, not the session it came from: the runner paces a case step by
 * step, the fuzzer's clients run at once, and a finding that depends on
 * timing can show in one and not the other. A crash or hang is replayed
 * on a fresh broker (an exec'd one only: it is restarted afterwards); a
 * leak is not replayed (one run shows nothing). Returns 1 when some replay
 * failed, 0 when every replay passed, -1 when it could not tell. */
static int scenario_fails(run *r, instance *in, const mqz_finding *f) {
  bool downs = f->kind == MQZ_CRASH || f->kind == MQZ_HANG;
  if (f->kind == MQZ_LEAK || (downs && !in->broker)) return -1;
  char *yaml = mqz_scenario_yaml(f);
  if (!yaml) return -1;
  mqs_scenario *sc = NULL;
  mqs_load_error lerr;
  int rc = mqs_scenario_load_text("finding.yaml", yaml, strlen(yaml), &sc, &lerr);
  free(yaml);
  if (rc) return -1;
  unsigned vbit = sc->versions & -sc->versions;
  mqs_case c = {sc, vbit};
  int verdict = 0;
  for (unsigned i = 0; i < SCENARIO_REPLAYS && verdict == 0; i++) {
    if (downs && !in->fresh) restart(r, in);
    /* an exec'd broker's port changes on restart; a cluster: the
     * scenario's clients go to the nodes the session used */
    char url[600], err[256], nodes[MQZ_MAX_NODES][400];
    if (in->broker)
      broker_url_text(r->o, mqz_broker_port(in->broker), url, sizeof url);
    else
      snprintf(url, sizeof url, "%s", r->o->target ? r->o->target : "");
    const char *targets[MQZ_MAX_NODES] = {url};
    size_t nt = 1;
    for (unsigned k = 0; r->o->n_nodes > 1 && k < r->o->n_nodes && k < MQZ_MAX_NODES; k++) {
      snprintf(nodes[k], sizeof nodes[k], "%s=%s", r->o->node_names[k], r->o->node_urls[k]);
      targets[k] = nodes[k];
      nt = k + 1;
    }
    mqs_target_spec *spec = NULL;
    if (mqs_target_spec_new_nodes(targets, nt, NULL, &spec, err, sizeof err)) {
      verdict = -1;
      break;
    }
    mqs_run_opts o;
    memset(&o, 0, sizeof o);
    o.target = spec;
    o.caps = mqs_target_spec_default_caps(spec);
    o.username = r->o->username;
    o.password = r->o->password;
    o.step_timeout_ms = 1000;
    if (nt > 1) {
      o.cluster = MQS_CLUSTER_ALL & ~r->o->cluster_off;
      o.propagation_ms = r->o->propagation_ms;
    }
    mqs_result res;
    in->fresh = false;
    mqs_run_case(&c, i, &o, &res);
    /* a broker taken down makes the case err: that is the finding */
    verdict = res.verdict == MQS_PASS             ? 0
              : res.verdict == MQS_FAIL           ? 1
              : res.verdict == MQS_ERROR && downs ? 1
                                                  : -1;
    mqs_result_free(&res);
    mqs_target_spec_free(spec);
  }
  if (downs && verdict != 0) restart(r, in);
  mqs_scenario_free(sc);
  return verdict;
}

/* A smaller session is kept when it still reproduces the finding and,
 * for a finding the scenario judges on the wire, its scenario still fails:
 * the scenario is what the user keeps (its pacing differs from the
 * session's, so a race the session won may not happen in it). */
static bool keeps(run *r, instance *in, const uint8_t *s, size_t n, const mqz_finding *proto) {
  if (interrupted(r)) return false;
  if (!still_reproduces(r, in, s, n, proto->kind, proto->signature)) return false;
  mqz_finding f = *proto;
  f.session = s;
  f.session_n = n;
  return scenario_fails(r, in, &f) != 0;
}

/* Delta debugging: clients, then runs of records, then single records,
 * each kept out when the finding still reproduces (keeps); then bytes.
 * proto is the finding as it would be written (its session unused). */
static size_t minimise(run *r, instance *in, uint8_t *s, size_t n, const mqz_finding *proto,
                       size_t *after_records) {
  *after_records = n;
  if (r->o->no_minimise) return n;
  mqz_kind kind = proto->kind;
  const char *sig = proto->signature;
  mqz_rec recs[512];
  uint8_t *cand = malloc(MQZ_SESSION_MAX);
  if (!cand) return n;
  unsigned budget = 400;
  /* clients that answer nothing unless told: a finding that depends on how
   * fast the answers come back then stops depending on it */
  if (n >= 2 && (s[1] & MQZ_F_AUTO_ACK) && budget--) {
    memcpy(cand, s, n);
    cand[1] &= (uint8_t)~MQZ_F_AUTO_ACK;
    if (keeps(r, in, cand, n, proto)) s[1] = cand[1];
  }
  /* each client, then each client's answers, all at once */
  for (unsigned pass = 0; pass < 2; pass++)
    for (unsigned k = 0; k < MQZ_MAX_CLIENTS && budget; k++) {
      size_t m = 2;
      memcpy(cand, s, 2);
      mqz_iter it;
      mqz_rec rec;
      bool had = false;
      mqz_iter_init(&it, s, n);
      while (mqz_iter_next(&it, &rec)) {
        if (rec.client == k && (pass ? rec.op == MQZ_OP_ACK : rec.op != MQZ_OP_WAIT)) {
          had = true;
          continue;
        }
        memcpy(cand + m, s + rec.offset, rec.len);
        m += rec.len;
      }
      if (!had) continue;
      budget--;
      if (keeps(r, in, cand, m, proto)) {
        memcpy(s, cand, m);
        n = m;
      }
    }
  /* records: chunks of halving size */
  for (size_t chunk = 16; chunk >= 1 && budget; chunk /= 2) {
    bool progress = true;
    while (progress && budget) {
      progress = false;
      size_t nr = 0;
      mqz_iter it;
      mqz_iter_init(&it, s, n);
      while (nr < 512 && mqz_iter_next(&it, &recs[nr]))
        nr++;
      for (size_t from = 0; from < nr && budget; from += chunk) {
        size_t m = 2;
        memcpy(cand, s, 2);
        for (size_t i = 0; i < nr; i++)
          if (i < from || i >= from + chunk) {
            memcpy(cand + m, s + recs[i].offset, recs[i].len);
            m += recs[i].len;
          }
        budget--;
        if (keeps(r, in, cand, m, proto)) {
          memcpy(s, cand, m);
          n = m;
          progress = true;
          break;
        }
      }
    }
    if (chunk == 1) break;
  }
  *after_records = n;
  uint8_t *before = malloc(n);
  if (!before) {
    free(cand);
    return n;
  }
  memcpy(before, s, n);
  /* a crash or hang costs a broker restart per run (an exit-time leak one
   * per run, found or not): fewer runs, each candidate tried once, and the
   * result checked at the end (else the bytes stay as the records left
   * them); the scenario too is checked once, at the end */
  bool slow =
      kind == MQZ_CRASH || kind == MQZ_HANG || at_exit_sig(sig) || held_sig(sig) || cpu_sig(sig);
  unsigned bytes_budget = slow ? 40 : 200;
  size_t m = shrink_bytes(r, in, s, n, cand, kind, sig, &bytes_budget, slow, true);
  m = shrink_bytes(r, in, s, m, cand, kind, sig, &bytes_budget, slow, false);
  if (m < n && (interrupted(r) || !keeps(r, in, s, m, proto))) {
    memcpy(s, before, n);
    m = n;
  }
  free(before);
  free(cand);
  return m;
}

/* The options that make `mqcheck fuzz --replay` judge a finding no scenario
 * shows (memory held, a leak at exit), into out; "" when there are none. */
static void replay_args(const run *r, const char *sig, char *out, size_t cap) {
  out[0] = '\0';
  if (!r->o->exec || (!held_sig(sig) && !at_exit_sig(sig))) return;
  size_t n = (size_t)snprintf(out, cap, "--exec '");
  /* the command in single quotes for a POSIX shell: ' as '\'' */
  for (const char *p = r->o->exec; *p && n + 8 < cap; p++)
    n += (size_t)(*p == '\'' ? snprintf(out + n, cap - n, "'\\''")
                             : snprintf(out + n, cap - n, "%c", *p));
  n += (size_t)snprintf(out + n, cap - n, "'");
  if (n < cap && r->o->stack_kib)
    n += (size_t)snprintf(out + n, cap - n, " --stack-kib %u", (unsigned)r->o->stack_kib);
  if (n < cap && held_sig(sig))
    snprintf(out + n, cap - n, " --held-rss %llu", (unsigned long long)held_limit(r->o));
}

static void record_finding(run *r, instance *in, mqz_kind kind, const char *sig, const char *stmt,
                           const char *msg, const uint8_t *s, size_t n, uint64_t number,
                           bool reproduced) {
  /* memory held by sessions running together that none holds alone is
   * kept (said so), but its signature stays open, three times, for a
   * session that does hold it alone */
  char fsig[300];
  snprintf(fsig, sizeof fsig, "%s", sig);
  if (held_sig(sig) && !reproduced && r->held_unpinned < 3)
    snprintf(fsig, sizeof fsig, "%s:unpinned-%u", sig, ++r->held_unpinned);
  else
    add_sig(r, sig);
  uint8_t *copy = malloc(MQZ_SESSION_MAX);
  if (!copy) return;
  memcpy(copy, s, n);
  mqz_finding f;
  memset(&f, 0, sizeof f);
  f.kind = kind;
  snprintf(f.signature, sizeof f.signature, "%.255s", fsig);
  snprintf(f.statement, sizeof f.statement, "%s", stmt ? stmt : "");
  snprintf(f.message, sizeof f.message, "%s", msg);
  f.seed = r->o->seed;
  f.number = number;
  if (r->o->n_nodes > 1) {
    f.node_names = r->o->node_names;
    f.n_nodes = r->o->n_nodes;
    f.propagation_ms = r->o->propagation_ms ? r->o->propagation_ms : MQZ_PROPAGATION_DEFAULT_MS;
  }
  size_t m = n, mid = 0;
  if (reproduced && (kind != MQZ_LEAK || at_exit_sig(sig) || held_sig(sig) || cpu_sig(sig))) {
    m = minimise(r, in, copy, n, &f, &mid);
    size_t nr = 0;
    mqz_iter it;
    mqz_rec rec;
    mqz_iter_init(&it, copy, m);
    while (mqz_iter_next(&it, &rec))
      if (rec.op == MQZ_OP_SEND || rec.op == MQZ_OP_ACK || rec.op == MQZ_OP_RAW) nr++;
    say(r,
        "fuzz: minimised %s finding from %zu to %zu bytes (%zu packets): %zu after clients and "
        "records, %zu after bytes",
        mqz_kind_name(kind), n, m, nr, mid, m);
  }
  f.session = copy;
  f.session_n = m;
  if (mid && !r->o->no_minimise) {
    f.found_n = n;
    f.records_n = mid;
  }
  /* minimisation kept only sessions whose scenario fails; the one as found
   * was never replayed as a scenario (its finding is still real) */
  char replay[120] = "";
  if (reproduced && m == n && scenario_fails(r, in, &f) == 0)
    snprintf(replay, sizeof replay,
             " (its scenario passed %d replays against this broker: the finding depends on timing)",
             SCENARIO_REPLAYS);
  snprintf(f.message, sizeof f.message, "%s%s%s", msg,
           reproduced ? ""
           : kind == MQZ_LEAK && !at_exit_sig(sig) && !held_sig(sig) && !cpu_sig(sig)
               ? " (one session of the window; a leak needs many)"
               : " (not reproduced alone)",
           replay);
  /* the log of the crash or hang itself, else what the broker printed now */
  char *log = NULL;
  size_t ln = 0;
  if (r->event_log) {
    log = r->event_log;
    ln = r->event_log_n;
    r->event_log = NULL;
  } else if (in->broker) {
    (void)mqz_broker_log_since_start(in->broker, &log, &ln);
  }
  f.broker_log = log;
  f.broker_log_n = ln;
  char args[4400];
  replay_args(r, sig, args, sizeof args);
  f.replay_args = args[0] ? args : NULL;
  char path[4096], err[512];
  if (mqz_finding_write(r->o->findings_dir, &f, path, sizeof path, err, sizeof err))
    say(r, "fuzz: cannot write a finding: %s", err);
  else
    say(r, "fuzz: FINDING %s%s%s: %s -> %s (after %.1f s, %llu sessions)", mqz_kind_name(kind),
        stmt && *stmt ? " " : "", stmt ? stmt : "", msg, path,
        (double)(mqn_now_ms() - r->t0) / 1000.0, (unsigned long long)r->st->sessions);
  r->st->findings++;
  r->st->unique[kind]++;
  free(log);
  free(copy);
}

/* ---- the crash, hang and leak oracles ---- */

static void restart(run *r, instance *in) {
  char err[300];
  mqz_exec_abort_all(in->x);
  if (in->broker && mqz_broker_restart(in->broker, err, sizeof err)) {
    say(r, "fuzz: cannot restart the broker: %s", err);
    in->dead = true;
  }
  instance_url(in);
  in->born = mqn_now_ms();
  /* a new process: RSS and descriptors are measured from a new baseline */
  in->held = (held_watch){0};
  in->leak_primed = false;
  in->leak_next = r->st->sessions;
}

/* Runs set[0..n) (newest first) at once on a fresh broker: does the crash
 * or hang of sig happen? */
static bool batch_reproduces(run *r, instance *in, held *set, size_t n, mqz_kind kind,
                             const char *sig) {
  restart(r, in);
  if (in->dead) return false;
  bool watch_rss = held_sig(sig);
  if (watch_rss) held_sample(&in->held, in->broker);
  size_t next = 0;
  int64_t give_up = mqn_now_ms() + 30000;
  while ((next < n || mqz_exec_running(in->bx)) && mqn_now_ms() < give_up) {
    while (next < n && mqz_exec_has_room(in->bx)) {
      /* set is newest first: the oldest goes first, as it did in the run,
       * so state an earlier session left (a retained message, a session)
       * is there for the later ones */
      const held *h = &set[n - 1 - next];
      in->fresh = false;
      (void)mqz_exec_submit(in->bx, h->number, token_for(r, r->next_number++), h->s, h->n);
      next++;
    }
    mqz_exec_poll(in->bx, 10);
    if (watch_rss) held_sample(&in->held, in->broker);
    if (mqz_broker_dead(in->broker, NULL, 0)) break;
  }
  mqz_exec_abort_all(in->bx);
  if (watch_rss) return held_over(&in->held, held_limit(r->o));
  if (cpu_sig(sig)) return cpu_idle_over(r, in, NULL, 0) == 1;
  /* the single-session check, with an empty session, does the judging */
  static const uint8_t empty[2] = {3, 0};
  return reproduces(r, in, empty, 2, kind, sig);
}

/* sessions (newest first) into one: the oldest first, each ending with its
 * clients closed as the executor closes them, so what one leaves in the
 * broker is there for the next. The newest decides version and flags.
 * Returns the length, 0 when it needs more room than cap. */
static size_t merge_sessions(const held *set, size_t n, uint8_t *out, size_t cap) {
  if (!n || cap < 2 || set[0].n < 2) return 0;
  memcpy(out, set[0].s, 2);
  size_t w = 2;
  for (size_t k = n; k-- > 0;) {
    bool used[MQZ_MAX_CLIENTS] = {0};
    mqz_iter it;
    mqz_rec rec;
    mqz_iter_init(&it, set[k].s, set[k].n);
    while (mqz_iter_next(&it, &rec)) {
      used[rec.client] = true;
      mqc_frame f;
      mqc_error e;
      bool swallows =
          k && rec.pkt_len && rec.op != MQZ_OP_RAW &&
          mqc_frame_packet(rec.pkt, rec.pkt_len, MQC_V311, MQC_NO_LIMIT, &f, &e) != MQC_OK;
      if (!swallows) {
        if (w + rec.len > cap) return 0;
        memcpy(out + w, set[k].s + rec.offset, rec.len);
        w += rec.len;
        continue;
      }
      /* an unframeable packet runs to the end of its session: as raw
       * pieces it stays the same bytes and the next session stays apart */
      for (size_t at = 0; at < rec.pkt_len; at += 255) {
        size_t piece = rec.pkt_len - at < 255 ? rec.pkt_len - at : 255;
        if (w + 3 + piece > cap) return 0;
        out[w++] = MQZ_OP_RAW;
        out[w++] = (uint8_t)rec.client;
        out[w++] = (uint8_t)piece;
        memcpy(out + w, rec.pkt + at, piece);
        w += piece;
      }
    }
    for (unsigned c = 0; c < MQZ_MAX_CLIENTS && k; c++) {
      if (!used[c]) continue;
      if (w + 2 > cap) return 0;
      out[w++] = MQZ_OP_CLOSE;
      out[w++] = (uint8_t)c;
    }
  }
  return w;
}

/* The broker of in died or hung: which sessions did it? Group testing over
 * the sessions submitted since `since` (the most recent first, in growing
 * groups), then delta debugging: parts of the group are left out while the
 * rest still does it. A crash may need state an earlier session left (a
 * retained message on a deep topic, a subscription): then the few sessions
 * left are merged into one, which must do it alone. */
static void triage(run *r, instance *in, mqz_kind kind, const char *sig, const char *stmt,
                   const char *msg, int64_t since) {
  held *c = calloc(HIST, sizeof *c);
  size_t nc = 0;
  for (size_t k = 0; c && k < HIST; k++) {
    held *h = &in->hist[(in->hist_at + HIST - 1 - k) % HIST];
    if (!h->s || h->t < since) break;
    c[nc] = *h;
    c[nc].s = malloc(h->n ? h->n : 1);
    if (!c[nc].s) break;
    memcpy(c[nc].s, h->s, h->n);
    nc++;
  }
  size_t hi = 0;
  bool hit = false;
  /* newest first, in growing groups: the culprit is usually recent */
  for (size_t g = 64; !hit && hi < nc; g *= 4) {
    hi = g < nc ? g : nc;
    hit = batch_reproduces(r, in, c, hi, kind, sig);
  }
  /* delta debugging over c[0..keep): leave chunks out, halving them */
  held *keep = calloc(hi ? hi : 1, sizeof *keep), *cand = calloc(hi ? hi : 1, sizeof *cand);
  size_t nk = 0;
  if (hit && keep && cand) {
    memcpy(keep, c, hi * sizeof *c); /* views: c owns the bytes */
    nk = hi;
    unsigned budget = 64;
    for (size_t chunk = (nk + 1) / 2; chunk >= 1 && nk > 1 && budget;) {
      bool progress = false;
      for (size_t from = 0; from < nk && nk > 1 && budget; from += chunk) {
        size_t m = 0;
        for (size_t i = 0; i < nk; i++)
          if (i < from || i >= from + chunk) cand[m++] = keep[i];
        budget--;
        if (m && batch_reproduces(r, in, cand, m, kind, sig)) {
          memcpy(keep, cand, m * sizeof *cand);
          nk = m;
          progress = true;
          break;
        }
      }
      if (!progress) {
        if (chunk == 1) break;
        chunk = (chunk + 1) / 2;
      } else if (chunk > (nk + 1) / 2) {
        chunk = (nk + 1) / 2;
      }
    }
  }
  /* what is left, alone or merged into one session */
  uint8_t *merged = NULL;
  size_t mn = 0;
  bool alone = false;
  if (hit && nk == 1) {
    alone = reproduces(r, in, keep[0].s, keep[0].n, kind, sig);
  } else if (hit && nk > 1 && (merged = malloc(MQZ_SESSION_MAX))) {
    mn = merge_sessions(keep, nk, merged, MQZ_SESSION_MAX);
    alone = mn && reproduces(r, in, merged, mn, kind, sig);
  }
  restart(r, in);
  say(r, "fuzz: triage: %zu candidate sessions, %s%s (%zu left%s)", nc,
      hit ? "reproduced" : "not reproduced",
      !hit      ? ""
      : !alone  ? " only together"
      : nk == 1 ? " by one alone"
                : " by sessions merged into one",
      nk, nk > 1 && !mn ? ", too big to merge" : "");
  if (nc) {
    const held *f = hit && nk ? &keep[0] : &c[0];
    if (alone && nk > 1)
      record_finding(r, in, kind, sig, stmt, msg, merged, mn, f->number, true);
    else
      record_finding(r, in, kind, sig, stmt, msg, f->s, f->n, f->number, alone);
  } else {
    add_sig(r, sig);
  }
  free(merged);
  free(keep);
  free(cand);
  for (size_t i = 0; i < nc; i++)
    free(c[i].s);
  free(c);
}

static void check_crash(run *r, instance *in) {
  if (!in->broker) return;
  char why[200];
  if (!mqz_broker_dead(in->broker, why, sizeof why)) return;
  char *log = NULL;
  size_t ln = 0;
  char s2[256], summary[256], sig[300], msg[700];
  (void)mqz_broker_log_since_start(in->broker, &log, &ln);
  if (log && mqz_sanitizer_report(log, ln, s2, sizeof s2, summary, sizeof summary)) {
    snprintf(sig, sizeof sig, "crash:%s", s2);
    snprintf(msg, sizeof msg, "the broker %s: %s", why, summary);
  } else {
    snprintf(sig, sizeof sig, "crash:%s", why);
    snprintf(msg, sizeof msg, "the broker %s", why);
  }
  if (seen_sig(r, sig)) { /* known: restart and go on */
    free(log);
    restart(r, in);
    in->last_ok = mqn_now_ms();
    return;
  }
  say(r, "fuzz: crash: %s; finding the session that did it", msg);
  free(r->event_log);
  r->event_log = log;
  r->event_log_n = ln;
  /* every session since the broker started: what crashed it may need what
   * an earlier one left behind */
  triage(r, in, MQZ_CRASH, sig, "", msg, in->born);
  in->last_ok = mqn_now_ms();
}

static void probes_free(instance *in) {
  for (unsigned k = 0; k < MQZ_MAX_NODES; k++) {
    mqz_probe_free(in->probe[k]);
    in->probe[k] = NULL;
  }
  in->probing = false;
}

/* Starts a probe on every node, or steps those in flight (never waiting).
 * Returns 1 while they run (or none is due), 0 when all passed, -1 when one
 * failed. */
static int probes_step(run *r, instance *in, int64_t now) {
  unsigned n = r->o->n_nodes > 1 ? r->o->n_nodes : 1;
  if (!in->probing) {
    if (now < in->next_probe) return 1;
    in->next_probe = now + 250; /* often: fewer suspects when it fails */
    in->probing = true;
    in->probe_t0 = now;
    uint32_t ms = r->o->hang_ms ? r->o->hang_ms : 2000;
    for (unsigned k = 0; k < n; k++) {
      char cid[40], topic[64];
      snprintf(cid, sizeof cid, "mqcheck-liveness-%u-%u", in->no, k);
      snprintf(topic, sizeof topic, "mqcheck/liveness/%u/%u", in->no, k);
      in->probe[k] = mqz_probe_start(n > 1 ? &in->nodes[k] : &in->url, r->o->tls, probe_version(r),
                                     cid, r->o->username, r->o->password, topic, ms);
    }
  }
  bool running = false;
  for (unsigned k = 0; k < n; k++) {
    if (!in->probe[k]) continue; /* out of memory: not judged */
    int st = mqz_probe_step(in->probe[k], 0, NULL, 0);
    if (st < 0) {
      probes_free(in);
      return -1;
    }
    running = running || st == 1;
  }
  if (running) return 1;
  probes_free(in);
  return 0;
}

/* The hang oracle. Probes run alongside the sessions (a blocking probe held
 * every session in flight for its round trips, four times a second); one
 * that fails is confirmed by a blocking probe, which also rules out a broker
 * restarted while it ran. */
static void check_hang(run *r, instance *in, int64_t now) {
  if (in->dead) return;
  int st = probes_step(r, in, now);
  if (st == 1) return;
  if (st == 0) {
    in->last_ok = in->probe_t0;
    return;
  }
  char why[300];
  if (!alive(r, in, probe_version(r), why, sizeof why)) {
    in->last_ok = now;
    return;
  }
  /* a crash (perhaps still writing its report) is for check_crash */
  if (in->broker && broker_died(in->broker, NULL, 0)) return;
  char sig[64] = "hang:", msg[400];
  snprintf(msg, sizeof msg, "the broker stopped serving: liveness probe: %s", why);
  if (seen_sig(r, sig)) {
    if (in->broker)
      restart(r, in);
    else
      in->dead = true;
    in->last_ok = mqn_now_ms();
    return;
  }
  say(r, "fuzz: hang: %s; finding the session that did it", msg);
  free(r->event_log);
  r->event_log = NULL;
  if (in->broker) (void)mqz_broker_log_since_start(in->broker, &r->event_log, &r->event_log_n);
  if (!in->broker) {
    /* not ours to restart: keep the newest session and stop using it */
    held *h = &in->hist[(in->hist_at + HIST - 1) % HIST];
    if (h->s) record_finding(r, in, MQZ_HANG, sig, "", msg, h->s, h->n, h->number, false);
    in->dead = true;
    return;
  }
  /* sessions run for up to session_ms: any started that long before the
   * last good probe may have done it */
  triage(r, in, MQZ_HANG, sig, "", msg, in->last_ok - 6000);
  in->last_ok = mqn_now_ms();
}

/* Leaks: RSS and descriptors sampled on a quiet broker (no session running,
 * connections closed) every window of sessions, against the first sample. */
static void check_leak(run *r, instance *in) {
  if (!in->broker || in->leak_reported || in->dead) return;
  uint64_t window = r->o->leak_window ? r->o->leak_window : 2000;
  uint64_t done = r->st->sessions;
  if (!in->quiescing) {
    if (done >= in->leak_next + window) in->quiescing = true;
    return;
  }
  if (mqz_exec_running(in->x)) return;
  sleep_ms(50); /* the broker closes what we closed */
  in->quiescing = false;
  in->leak_next = done;
  char why[300];
  if (alive(r, in, probe_version(r), why, sizeof why)) return; /* a hang: check_hang's */
  uint64_t rss;
  unsigned fds;
  if (mqz_broker_sample(in->broker, &rss, &fds)) return;
  if (!in->leak_primed) { /* the first window warms caches and pools up */
    in->leak_primed = true;
    in->leak_rss0 = rss;
    in->leak_fds0 = fds;
    in->leak_base_sessions = done;
    return;
  }
  uint64_t rss_lim = r->o->leak_rss_kib ? r->o->leak_rss_kib : 32768;
  unsigned fd_lim = r->o->leak_fds ? r->o->leak_fds : 64;
  bool grew_rss = rss > in->leak_rss0 + rss_lim, grew_fds = fds > in->leak_fds0 + fd_lim;
  if (!grew_rss && !grew_fds) return;
  char msg[300];
  snprintf(msg, sizeof msg,
           "the broker grows by %lld KiB RSS and %d descriptors over %llu sessions (limits %llu "
           "KiB, %u)",
           (long long)rss - (long long)in->leak_rss0, (int)fds - (int)in->leak_fds0,
           (unsigned long long)(done - in->leak_base_sessions), (unsigned long long)rss_lim,
           fd_lim);
  in->leak_reported = true;
  const char *sig = grew_fds ? "leak:fds" : "leak:rss";
  held *h = &in->hist[(in->hist_at + HIST - 1) % HIST];
  if (h->s) record_finding(r, in, MQZ_LEAK, sig, "", msg, h->s, h->n, h->number, false);
}

/* A resource oracle (held memory, idle CPU) fired on in's broker. A known
 * signature only costs a restart (a fresh broker, a fresh baseline): false.
 * Else it is said and the event log dropped (triage replays on fresh
 * brokers): true, and the caller pins it, then calls resource_done. */
static bool resource_new(run *r, instance *in, const char *sig, const char *what, const char *msg) {
  if (seen_sig(r, sig)) {
    restart(r, in);
    return false;
  }
  say(r, "fuzz: %s: %s; finding the session that did it", what, msg);
  free(r->event_log);
  r->event_log = NULL;
  return true;
}

static void resource_done(run *r, instance *in) {
  restart(r, in);
  in->last_ok = mqn_now_ms();
}

/* Held memory: RSS sampled while sessions run (held_sample); a rise past
 * the limit is pinned on sessions by triage, as a crash is, each run on a
 * freshly started broker. */
static void check_held(run *r, instance *in, int64_t now) {
  if (!in->broker || in->dead || !held_step(&in->held, in->broker, now) ||
      !held_over(&in->held, held_limit(r->o)))
    return;
  const char *sig = "leak:held-rss";
  char msg[300];
  snprintf(msg, sizeof msg,
           "the broker's RSS rose from %llu KiB to %llu KiB while sessions ran (limit %llu KiB "
           "over its lowest)",
           (unsigned long long)in->held.base, (unsigned long long)in->held.peak,
           (unsigned long long)held_limit(r->o));
  if (!resource_new(r, in, sig, "held memory", msg)) return;
  triage(r, in, MQZ_LEAK, sig, "", msg, in->born);
  resource_done(r, in);
}

/* Idle CPU: every CPU_EVERY_MS (and at the run's end) no new sessions are
 * started, and once those in flight have ended the broker is measured at
 * rest; over the limit twice in a row is a finding, pinned on sessions by
 * triage (each group, and each minimisation candidate, run on a freshly
 * started broker that is then measured at rest). final: the run's end
 * (sessions still in flight are aborted). */
static void check_cpu(run *r, instance *in, bool final) {
  if (!in->broker || in->dead || r->o->no_idle_cpu) return;
  int64_t now = mqn_now_ms();
  if (!final) {
    if (!in->cpu_due) {
      if (now >= in->cpu_next) in->cpu_due = true;
      return;
    }
    if (mqz_exec_running(in->x)) return;
  }
  mqz_exec_abort_all(in->x);
  in->cpu_due = false;
  char msg[300];
  bool over = cpu_idle_over(r, in, msg, sizeof msg) == 1 && cpu_idle_over(r, in, NULL, 0) == 1;
  in->cpu_next = mqn_now_ms() + CPU_EVERY_MS;
  if (!over) return;
  const char *sig = "leak:idle-cpu";
  if (!resource_new(r, in, sig, "idle CPU", msg)) return;
  /* a broker that does it at rest with no session at all (its idle
   * connections are enough) leaves triage nothing to pin it on; that check
   * restarts the broker, so the candidates are those since the one that
   * showed it started */
  int64_t since = in->born;
  const uint8_t empty[2] = {mqz_selector(probe_version(r)), 0};
  bool none = cpu_reproduces(r, in, empty, sizeof empty);
  char m[512];
  snprintf(m, sizeof m,
           "%s%s; a scenario cannot measure CPU: `mqcheck fuzz --replay DIR --exec CMD`", msg,
           none ? ", a fresh broker with no session too" : "");
  if (none)
    record_finding(r, in, MQZ_LEAK, sig, "", m, empty, sizeof empty, 0, true);
  else
    triage(r, in, MQZ_LEAK, sig, "", m, since);
  resource_done(r, in);
}

/* LeakSanitizer reports only when the process exits: every exit_every
 * sessions (and at the end of the run) a quiet broker is stopped with
 * SIGTERM, what it reports is judged, and it is started again. Each leak
 * not seen before is pinned on a session by triage, as a crash is. final:
 * the run's end (sessions may still be in flight: they are aborted). */
static void check_exit(run *r, instance *in, bool final) {
  if (!in->broker || !in->lsan || in->dead || r->o->no_exit_check) return;
  if (!final) {
    if (!in->exit_due) {
      if (r->st->sessions >= in->exit_next) in->exit_due = true;
      return;
    }
    if (mqz_exec_running(in->x)) return;
  }
  mqz_exec_abort_all(in->x);
  in->exit_due = false;
  in->exit_next = r->st->sessions + (r->o->exit_every ? r->o->exit_every : 10000);
  sleep_ms(50); /* the broker closes what we closed */
  char sigs[MAX_EXIT_SIGS][256], msg[400];
  char *log = NULL;
  size_t ln = 0;
  size_t ns = exit_report(in, sigs, msg, sizeof msg, &log, &ln);
  int64_t since = in->born;
  bool fresh = false;
  for (size_t i = 0; i < ns; i++)
    fresh = fresh || !seen_sig(r, sigs[i]);
  if (!fresh) {
    free(log);
    if (!final) restart(r, in);
    return;
  }
  for (size_t i = 0; i < ns; i++) {
    if (seen_sig(r, sigs[i])) continue;
    bool leak = !strncmp(sigs[i], "leak:", 5);
    char m[700];
    snprintf(m, sizeof m, "%s (%s)", msg, sigs[i]);
    say(r, "fuzz: %s: %s; finding the session that did it", leak ? "leak" : "crash at exit", m);
    free(r->event_log);
    r->event_log = malloc(ln ? ln : 1);
    if (r->event_log) memcpy(r->event_log, log, ln), r->event_log_n = ln;
    triage(r, in, leak ? MQZ_LEAK : MQZ_CRASH, sigs[i], "", m, since);
  }
  free(log);
  if (final) (void)mqz_broker_term(in->broker, EXIT_WAIT_MS);
  in->last_ok = mqn_now_ms();
}

/* ---- the executor's callback ---- */

static void on_done(void *ctx, uint64_t id, const uint8_t *s, size_t n, const mqz_outcome *out) {
  instance *in = ctx;
  run *r = in->owner;
  r->st->sessions++;
  /* sessions that hear nothing: probe now rather than pile up suspects */
  in->silent = out->packets_sent && !out->packets_received ? in->silent + 1 : 0;
  if (in->silent >= 8) {
    in->next_probe = 0;
    in->silent = 0;
  }
  if (out->kind == MQZ_BADWIRE || out->kind == MQZ_SPEC) {
    char sig[256];
    outcome_sig(out, sig, sizeof sig);
    if (!seen_sig(r, sig)) {
      say(r, "fuzz: %s %s: %s", mqz_kind_name(out->kind), out->statement, out->message);
      /* reproduce alone before keeping it: our oracles are deterministic,
       * so what does not reproduce came from concurrency or timing */
      uint8_t *copy = malloc(n ? n : 1);
      if (copy) {
        memcpy(copy, s, n);
        if (reproduces(r, in, copy, n, out->kind, sig)) {
          record_finding(r, in, out->kind, sig, out->statement, out->message, copy, n, id, true);
        } else {
          say(r, "fuzz: not reproduced alone, not kept: %s", out->message);
          size_t f = 0;
          while (f < r->n_flaky && strcmp(r->flaky[f], sig))
            f++;
          if (f == r->n_flaky && f < MAX_SIGS)
            snprintf(r->flaky[r->n_flaky++], sizeof r->flaky[0], "%s", sig);
          if (f < MAX_SIGS && ++r->flaky_tries[f] >= 3) add_sig(r, sig);
        }
        free(copy);
      }
    }
  }
  /* greybox: keep sessions that reached new edges */
  if (r->o->coverage && in->broker && r->cov.virgin) {
    size_t mn;
    uint8_t *map = mqz_broker_cov(in->broker, &mn);
    if (map && mqz_cov_merge(&r->cov, map, mn)) {
      r->st->edges = r->cov.edges;
      if (!r->o->no_feedback && !mqz_corpus_add(&r->corpus, s, n, "cov")) {
        char err[300];
        if (mqz_corpus_save(r->queue_dir, "id-", s, n, err, sizeof err)) say(r, "fuzz: %s", err);
      }
    }
  }
}

/* ---- scheduling ---- */

static void submit_one(run *r, instance *in) {
  uint64_t k = r->next_number++;
  uint64_t h = mix(r->o->seed, k);
  size_t pick = (size_t)(h % r->corpus.count);
  /* the grown part of the corpus is favoured: it holds what is new */
  if (r->corpus.count > r->n_seeds && (h >> 32) % 2) {
    size_t grown = r->corpus.count - r->n_seeds;
    pick = r->n_seeds + (size_t)((h >> 33) % grown);
  }
  size_t n = r->corpus.n[pick];
  memcpy(r->work, r->corpus.s[pick], n);
  size_t other = (size_t)(mix(h, 1) % r->corpus.count);
  if ((h & 0xF) != 0) /* one session in 16 runs a seed unchanged */
    n = mqz_mutate(r->mut, r->work, n, r->corpus.s[other], r->corpus.n[other], mix(h, 2));
  if (!(r->versions & version_bit(mqz_session_version(r->work, n)))) {
    /* a version the target does not speak: retarget the session (the
     * CONNECT says otherwise: then it is a test of version refusal) */
    r->work[0] = mqz_selector((r->versions & MQS_V5)     ? MQC_V5
                              : (r->versions & MQS_V311) ? MQC_V311
                                                         : MQC_V31);
  }
  in->fresh = false;
  if (mqz_exec_submit(in->x, k, token_for(r, k), r->work, n)) return;
  held *slot = &in->hist[in->hist_at];
  held_set(slot, r->work, n, k);
  slot->t = mqn_now_ms();
  in->hist_at = (in->hist_at + 1) % HIST;
}

static void write_stats(run *r) {
  if (!r->o->stats_json) return;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", r->o->stats_json);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f,
          "{\"elapsed_s\": %.1f, \"sessions\": %llu, \"sessions_per_s\": %.1f, \"findings\": "
          "%llu, \"unique\": {",
          r->st->elapsed_s, (unsigned long long)r->st->sessions,
          r->st->elapsed_s > 0 ? (double)r->st->sessions / r->st->elapsed_s : 0.0,
          (unsigned long long)r->st->findings);
  for (int k = 1; k < MQZ_KIND_COUNT; k++)
    fprintf(f, "%s\"%s\": %llu", k > 1 ? ", " : "", mqz_kind_name((mqz_kind)k),
            (unsigned long long)r->st->unique[k]);
  fprintf(f, "}, \"corpus\": %llu, \"edges\": %llu, \"seed\": %llu, \"next_session\": %llu}\n",
          (unsigned long long)r->corpus.count, (unsigned long long)r->st->edges,
          (unsigned long long)r->o->seed, (unsigned long long)r->next_number);
  if (fclose(f) == 0) rename(tmp, r->o->stats_json);
}

static void status(run *r, bool final) {
  int64_t now = mqn_now_ms();
  r->st->elapsed_s = (double)(now - r->t0) / 1000.0;
  r->st->corpus = r->corpus.count;
  if (!final && now - r->last_status < (r->tty ? 1000 : 10000)) return;
  r->last_status = now;
  write_stats(r);
  if (r->o->quiet) return;
  double rate = r->st->elapsed_s > 0 ? (double)r->st->sessions / r->st->elapsed_s : 0;
  char edges[48] = "";
  if (r->o->coverage)
    snprintf(edges, sizeof edges, "  edges %llu", (unsigned long long)r->st->edges);
  fprintf(r->log,
          "%s[%6.0fs] sessions %llu (%.0f/s)  findings %llu (crash %llu hang %llu bad-wire %llu "
          "spec %llu leak %llu)  corpus %llu%s%s",
          r->tty ? "\r\033[K" : "", r->st->elapsed_s, (unsigned long long)r->st->sessions, rate,
          (unsigned long long)r->st->findings, (unsigned long long)r->st->unique[MQZ_CRASH],
          (unsigned long long)r->st->unique[MQZ_HANG],
          (unsigned long long)r->st->unique[MQZ_BADWIRE],
          (unsigned long long)r->st->unique[MQZ_SPEC], (unsigned long long)r->st->unique[MQZ_LEAK],
          (unsigned long long)r->corpus.count, edges, r->tty && !final ? "" : "\n");
  fflush(r->log);
}

/* AFL++'s layout: <sync>/<fuzzer>/queue/id:...; ours is <sync>/mqcheck-<pid>. */
static void sync_in(run *r) {
  if (!r->o->sync_dir) return;
  int64_t now = mqn_now_ms();
  if (now - r->last_sync < 5000) return;
  r->last_sync = now;
  mqz_corpus other = {0};
  char err[300];
  if (mqz__sync_load(r->o->sync_dir, r->queue_dir, &other, err, sizeof err) < 0) {
    say(r, "fuzz: --sync-dir: %s", err);
    return;
  }
  for (size_t i = 0; i < other.count; i++) {
    bool known = false;
    for (size_t j = r->n_seeds; j < r->corpus.count && !known; j++)
      known = !strcmp(r->corpus.name[j], other.name[i]);
    if (!known) (void)mqz_corpus_add(&r->corpus, other.s[i], other.n[i], other.name[i]);
  }
  mqz_corpus_free(&other);
}

/* ---- state for --resume ---- */

static void save_state(run *r) {
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/fuzz.state", r->o->findings_dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "seed %llu\nnext %llu\nsessions %llu\n", (unsigned long long)r->o->seed,
          (unsigned long long)r->next_number, (unsigned long long)r->st->sessions);
  for (size_t i = 0; i < r->n_sigs; i++)
    fprintf(f, "sig %s\n", r->sigs[i]);
  if (fclose(f) == 0) rename(tmp, path);
}

static int load_state(run *r, uint64_t *seed, char *err, size_t cap) {
  char path[4200], line[400];
  snprintf(path, sizeof path, "%s/fuzz.state", r->o->findings_dir);
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, cap, "--resume: cannot read %s: %s", path, strerror(errno));
    return -1;
  }
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    unsigned long long v;
    if (sscanf(line, "seed %llu", &v) == 1)
      *seed = v;
    else if (sscanf(line, "next %llu", &v) == 1)
      r->next_number = v;
    else if (sscanf(line, "sessions %llu", &v) == 1)
      r->st->sessions = v;
    else if (!strncmp(line, "sig ", 4))
      add_sig(r, line + 4);
  }
  fclose(f);
  return 0;
}

/* ---- the run ---- */

static bool should_stop(run *r) {
  const mqz_opts *o = r->o;
  if (o->stop && *o->stop) return true;
  if (o->max_sessions && r->st->sessions >= o->max_sessions) return true;
  if (o->duration_ms && (uint64_t)(mqn_now_ms() - r->t0) >= o->duration_ms) return true;
  if (o->max_findings && r->st->findings >= o->max_findings) return true;
  bool any = false;
  for (unsigned i = 0; i < r->n_inst; i++)
    if (!r->inst[i].dead) any = true;
  return !any;
}

int mqz_fuzz(const mqz_opts *o, mqz_stats *stats, char *err, size_t cap) {
  memset(stats, 0, sizeof *stats);
  if (!o->findings_dir) {
    snprintf(err, cap, "no findings folder (--findings DIR)");
    return 2;
  }
  if (!o->target == !o->exec) {
    snprintf(err, cap, "give exactly one of --target URL and --exec \"CMD ... {port}\"");
    return 2;
  }
  if (o->n_nodes > MQZ_MAX_NODES || (o->n_nodes > 1 && o->exec)) {
    snprintf(err, cap, "a cluster target is 2 to %d --target nodes, and not --exec", MQZ_MAX_NODES);
    return 2;
  }
  if (o->exec && !strstr(o->exec, "{port}")) {
    snprintf(err, cap, "--exec: the command must contain {port}, where the broker's port goes");
    return 2;
  }
  if (exec_url_ok(o, err, cap)) return 2;
  if (mqz__make_dirs(o->findings_dir, err, cap)) return 2;
  run *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, cap, "out of memory");
    return 2;
  }
  r->o = o;
  r->st = stats;
  r->log = stderr;
  r->tty = isatty(2);
  int rc = 2;
  uint64_t seed = o->seed;
  mqz_opts oo = *o;
  r->o = &oo;
  if (o->resume && load_state(r, &seed, err, cap)) goto out;
  oo.seed = seed;
  snprintf(r->queue_dir, sizeof r->queue_dir, "%s/queue", o->findings_dir);
  if (o->sync_dir) {
    if (mqz__make_dirs(o->sync_dir, err, cap)) goto out;
    snprintf(r->queue_dir, sizeof r->queue_dir, "%s/mqcheck-%ld", o->sync_dir, (long)getpid());
    (void)mkdir(r->queue_dir, 0777);
    strncat(r->queue_dir, "/queue", sizeof r->queue_dir - strlen(r->queue_dir) - 1);
  }
  if (mkdir(r->queue_dir, 0777) && errno != EEXIST) {
    snprintf(err, cap, "cannot create %s: %s", r->queue_dir, strerror(errno));
    goto out;
  }
  /* seeds */
  long got = mqz_seeds_from_scenarios(
      o->seed_paths, o->n_seed_paths,
      seed_versions(o->versions) | (o->n_nodes > 1 ? MQZ_SEEDS_CLUSTER : 0u), &r->corpus, stderr);
  if (got < 0) {
    snprintf(err, cap, "cannot read the seed scenarios");
    goto out;
  }
  if (o->corpus_dir && mqz_corpus_load_dir(o->corpus_dir, false, &r->corpus, err, cap) < 0)
    goto out;
  r->n_seeds = r->corpus.count;
  if (o->resume && mqz_corpus_load_dir(r->queue_dir, true, &r->corpus, err, cap) < 0) goto out;
  if (!r->corpus.count) {
    snprintf(err, cap, "no seed sessions: the scenarios and --corpus gave nothing to start from");
    goto out;
  }
  if (mqz_mutator_new(&r->mut)) {
    snprintf(err, cap, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < r->corpus.count; i++)
    mqz_mutator_learn(r->mut, r->corpus.s[i], r->corpus.n[i]);
  mqz_mutator_set_nodes(r->mut, o->n_nodes);
  if (o->coverage && mqz_cov_init(&r->cov, 1u << 20)) { /* maps up to 1 MiB */
    snprintf(err, cap, "out of memory");
    goto out;
  }
  r->n_inst = o->exec ? (o->jobs ? o->jobs : 1) : 1;
  if (r->n_inst > MAX_JOBS) r->n_inst = MAX_JOBS;
  for (unsigned i = 0; i < r->n_inst; i++) {
    instance *in = &r->inst[i];
    in->owner = r;
    in->no = i;
    if (instance_start(r, in, err, cap)) goto out;
    mqz_exec_opts xo;
    exec_opts(r, in, &xo);
    mqz_exec_opts one = xo;
    one.concurrency = 1;
    if (mqz_exec_new(&xo, on_done, in, &in->x) || mqz_exec_new(&one, NULL, NULL, &in->tx) ||
        mqz_exec_new(&xo, NULL, NULL, &in->bx)) {
      snprintf(err, cap, "out of memory");
      goto out;
    }
    in->last_ok = in->born = mqn_now_ms();
    in->cpu_next = in->born + CPU_EVERY_MS;
    in->lsan = mqz_broker_has_lsan(in->broker);
    in->exit_next = o->exit_every ? o->exit_every : 10000;
  }
  /* which versions the target speaks */
  r->versions = 0;
  static const struct {
    unsigned bit;
    mqc_version v;
    const char *name;
  } vs[3] = {{MQS_V311, MQC_V311, "3.1.1"}, {MQS_V5, MQC_V5, "5.0"}, {MQZ_V31, MQC_V31, "3.1"}};
  char why[300] = "";
  for (int k = 0; k < 3; k++) {
    if (o->versions && !(o->versions & vs[k].bit)) continue;
    if (alive(r, &r->inst[0], vs[k].v, why, sizeof why))
      say(r, "fuzz: the target does not serve MQTT %s: %s", vs[k].name, why);
    else
      r->versions |= vs[k].bit;
  }
  /* 3.1: the 3.1.1 seeds with their CONNECTs re-encoded */
  for (size_t i = 0, seeds = r->corpus.count; (r->versions & MQZ_V31) && i < seeds; i++) {
    mqz_buf b;
    if (mqz_session_to_v31(r->corpus.s[i], r->corpus.n[i], &b)) continue;
    char name[320];
    snprintf(name, sizeof name, "%s@3.1", r->corpus.name[i]);
    (void)mqz_corpus_add(&r->corpus, b.p, b.n, name);
    mqz_buf_free(&b);
  }
  r->n_seeds = o->resume ? r->n_seeds : r->corpus.count;

  if (!r->versions) {
    /* the last reason says which node, on a cluster */
    snprintf(err, cap, "the target accepts no MQTT version it was asked to fuzz (%s): %s",
             o->target ? o->target : o->exec, why);
    goto out;
  }
  say(r,
      "fuzz: %zu seed sessions, %zu in the corpus, %u instance(s) x %u sessions in flight, seed "
      "%llu",
      r->n_seeds, r->corpus.count, r->n_inst, o->concurrency ? o->concurrency : 64,
      (unsigned long long)oo.seed);
  r->t0 = mqn_now_ms();
  r->token_salt = (uint64_t)time(NULL) * 7919u + (uint64_t)getpid();
  while (!should_stop(r)) {
    for (unsigned i = 0; i < r->n_inst; i++) {
      instance *in = &r->inst[i];
      if (in->dead) continue;
      while (!in->quiescing && !in->exit_due && !in->cpu_due && mqz_exec_has_room(in->x) &&
             !should_stop(r) && (!o->max_sessions || r->submitted < o->max_sessions)) {
        submit_one(r, in);
        r->submitted++;
      }
      mqz_exec_poll(in->x, r->n_inst > 1 ? 0 : 10);
      check_crash(r, in);
      check_hang(r, in, mqn_now_ms());
      check_leak(r, in);
      check_held(r, in, mqn_now_ms());
      check_cpu(r, in, false);
      check_exit(r, in, false);
    }
    sync_in(r);
    status(r, false);
    /* a chatty broker (mosquitto logs every connection) must not fill the
     * disk overnight: keep the last 16 MiB of each log */
    if (mqn_now_ms() - r->last_status < 20)
      for (unsigned i = 0; i < r->n_inst; i++)
        if (r->inst[i].broker) (void)mqz_broker_log_trim(r->inst[i].broker, 16u << 20);
    if (o->max_sessions && r->submitted >= o->max_sessions) {
      /* let what runs finish */
      bool busy = false;
      for (unsigned i = 0; i < r->n_inst; i++)
        if (mqz_exec_running(r->inst[i].x)) busy = true;
      if (!busy) break;
    }
  }
  for (unsigned i = 0; i < r->n_inst; i++) {
    if (!(o->stop && *o->stop)) check_cpu(r, &r->inst[i], true);
    check_exit(r, &r->inst[i], true);
  }
  status(r, true);
  save_state(r);
  rc = stats->findings ? 1 : 0;
out:
  for (unsigned i = 0; i < r->n_inst; i++) {
    instance *in = &r->inst[i];
    probes_free(in);
    mqz_exec_free(in->x);
    mqz_exec_free(in->tx);
    mqz_exec_free(in->bx);
    mqz_broker_free(in->broker);
    for (size_t k = 0; k < HIST; k++)
      held_free(&in->hist[k]);
  }
  mqz_cov_free(&r->cov);
  free(r->event_log);
  mqz_mutator_free(r->mut);
  mqz_corpus_free(&r->corpus);
  free(r);
  return rc;
}

/* ---- --replay: the oracles a session's own judgement does not hold ---- */

/* Held memory (the run's held oracle on one session: a held_watch sampled
 * while the session runs). Prints the verdict; returns 1 when the broker
 * held more than the limit. */
static int replay_held_judge(const held_watch *h, uint64_t limit_kib, const char *log_path) {
  if (!held_over(h, limit_kib)) return 0;
  printf("leak leak:held-rss: the broker's RSS rose from %llu to %llu KiB while the session ran "
         "(limit %llu KiB over its lowest; log: %s)\n",
         (unsigned long long)h->base, (unsigned long long)h->peak, (unsigned long long)limit_kib,
         log_path);
  return 1;
}

/* Liveness (the hang oracle, on one session): a probe every 250 ms while
 * the session runs and one after it; a failed probe is confirmed by a
 * second, blocking one, as in a run. */
typedef struct {
  const mqn_url *url;
  mqn_tls *tls;
  const mqz_opts *o;
  mqc_version v;
  mqz_probe *p;
  int64_t next;
  bool failed;
  char why[300];
} replay_live;

static int replay_probe(replay_live *l, char *why, size_t cap) {
  return mqz_liveness(l->url, l->tls, l->v, "mqcheck-replay-liveness", l->o->username,
                      l->o->password, "mqcheck/replay/liveness",
                      l->o->hang_ms ? l->o->hang_ms : 2000, why, cap);
}

static void replay_live_step(replay_live *l, int64_t now) {
  if (l->failed) return;
  if (!l->p) {
    if (now < l->next) return;
    l->p = mqz_probe_start(l->url, l->tls, l->v, "mqcheck-replay-liveness", l->o->username,
                           l->o->password, "mqcheck/replay/liveness",
                           l->o->hang_ms ? l->o->hang_ms : 2000);
    if (!l->p) return;
  }
  int st = mqz_probe_step(l->p, 0, l->why, sizeof l->why);
  if (st == 1) return;
  mqz_probe_free(l->p);
  l->p = NULL;
  l->next = now + 250;
  if (st == -1 && replay_probe(l, l->why, sizeof l->why)) l->failed = true;
}

/* After the session: one more probe unless one failed already. Prints the
 * verdict; returns 1 on a hang. A broker that died is the crash oracle's. */
static int replay_live_judge(replay_live *l) {
  mqz_probe_free(l->p);
  l->p = NULL;
  if (!l->failed && replay_probe(l, l->why, sizeof l->why)) l->failed = true;
  if (!l->failed) return 0;
  printf("hang MQTT-3.12.4-1: the broker stopped serving: liveness probe: %s\n", l->why);
  return 1;
}

static void replay_done(void *ctx, uint64_t id, const uint8_t *s, size_t n,
                        const mqz_outcome *out) {
  (void)id;
  (void)s;
  (void)n;
  *(mqz_outcome *)ctx = *out;
}

/* The idle-CPU oracle after a replay on an exec'd broker: the session has
 * ended; is the broker busy at rest? Prints and returns true when it is,
 * twice in a row. */
static bool replay_idle_cpu(const mqz_opts *o, mqz_broker *b, const uint8_t *s, size_t n) {
  if (o->no_idle_cpu) return false;
  run *r = calloc(1, sizeof *r);
  if (!r) return false;
  r->o = o;
  r->versions = version_bit(mqz_session_version(s, n));
  instance in = {.broker = b, .url = broker_url(o, b)};
  char msg[300] = "";
  int first = cpu_idle_over(r, &in, msg, sizeof msg);
  bool over = first == 1 && cpu_idle_over(r, &in, NULL, 0) == 1;
  if (over)
    printf("leak:idle-cpu: %s\n", msg);
  else if (first >= 0) /* the figure, for whoever confirms a finding */
    printf("idle CPU: %s%s\n", msg, first ? " (the second measurement was under it)" : "");
  free(r);
  return over;
}

int mqz_replay(const mqz_opts *o, const char *session_file, char *err, size_t cap) {
  /* a finding's folder stands for its session.bin */
  char in_dir[4000];
  struct stat sb;
  if (!stat(session_file, &sb) && S_ISDIR(sb.st_mode)) {
    snprintf(in_dir, sizeof in_dir, "%s/session.bin", session_file);
    session_file = in_dir;
  }
  FILE *f = fopen(session_file, "rb");
  if (!f) {
    snprintf(err, cap, "cannot read %s: %s", session_file, strerror(errno));
    return 2;
  }
  uint8_t *s = malloc(MQZ_SESSION_MAX);
  size_t n = s ? fread(s, 1, MQZ_SESSION_MAX, f) : 0;
  fclose(f);
  if (!s || n < 2) {
    free(s);
    snprintf(err, cap, "%s is not a session", session_file);
    return 2;
  }
  mqz_exec_opts xo;
  mqz_exec_opts_default(&xo);
  xo.tls = o->tls;
  xo.concurrency = 1;
  xo.spec_oracle = !o->no_spec;
  if (o->drain_ms) xo.drain_ms = o->drain_ms;
  mqz_broker *b = NULL;
  char log_path[4200] = "";
  if (o->exec) {
    snprintf(log_path, sizeof log_path, "%s.broker.log", session_file);
    if (exec_url_ok(o, err, cap)) {
      free(s);
      return 2;
    }
    mqz_broker_opts bo = {o->exec, log_path, 0, false, 0, o->stack_kib};
    if (mqz_broker_start(&bo, &b, err, cap)) {
      free(s);
      return 2;
    }
    xo.url = broker_url(o, b);
  } else if (!o->target || mqn_url_parse(o->target, &xo.url) != MQN_OK) {
    snprintf(err, cap, "--replay needs --target URL or --exec CMD");
    free(s);
    return 2;
  }
  mqn_url nodes[MQZ_MAX_NODES];
  for (unsigned k = 0; !o->exec && o->n_nodes > 1 && k < o->n_nodes && k < MQZ_MAX_NODES; k++) {
    if (mqn_url_parse(o->node_urls[k], &nodes[k]) != MQN_OK) {
      snprintf(err, cap, "node %s: '%s' is not a target URL", o->node_names[k], o->node_urls[k]);
      free(s);
      return 2;
    }
    xo.nodes = nodes;
    xo.node_names = o->node_names;
    xo.n_nodes = k + 1;
    xo.propagation_ms = o->propagation_ms;
    xo.cluster_off = o->cluster_off;
  }
  mqz_exec *x;
  mqz_outcome out;
  memset(&out, 0, sizeof out);
  if (mqz_exec_new(&xo, replay_done, &out, &x)) {
    snprintf(err, cap, "out of memory");
    mqz_broker_free(b);
    free(s);
    return 2;
  }
  held_watch rh = {0}; /* b NULL (a --target): no /proc to sample, never over */
  mqc_version sv = mqz_session_version(s, n);
  replay_live live = {&xo.url, o->tls, o, sv == MQC_V31 ? MQC_V311 : sv, NULL, 0, false, ""};
  /* a fresh token per replay: sessions a broker keeps from an earlier
   * replay must not meet this one */
  if (mqz_exec_submit(x, 0,
                      (uint32_t)(((uint64_t)time(NULL) * 1000 + (uint64_t)getpid()) % 1679615) + 1,
                      s, n)) {
    snprintf(out.message, sizeof out.message, "out of memory");
    out.refused = true;
  }
  (void)held_step(&rh, b, mqn_now_ms());
  while (mqz_exec_running(x)) {
    mqz_exec_poll(x, 5);
    int64_t now = mqn_now_ms();
    (void)held_step(&rh, b, now);
    replay_live_step(&live, now);
  }
  int rc = out.kind != MQZ_NONE;
  if (b) {
    char why[200];
    if (broker_died(b, why, sizeof why)) {
      printf("crash: the broker %s (log: %s)\n", why, log_path);
      rc = 1;
    } else {
      rc |= replay_live_judge(&live);
      rc |= replay_held_judge(&rh, held_limit(o), log_path);
      if (replay_idle_cpu(o, b, s, n)) rc = 1;
    }
    if (!broker_died(b, NULL, 0) && !o->no_exit_check && mqz_broker_has_lsan(b)) {
      /* a leak shows only when the broker exits */
      instance in = {.broker = b};
      char sigs[MAX_EXIT_SIGS][256], msg[400];
      size_t ns = exit_report(&in, sigs, msg, sizeof msg, NULL, NULL);
      for (size_t i = 0; i < ns; i++)
        printf("%s (log: %s)\n", sigs[i], log_path);
      if (ns) rc = 1;
    }
  } else {
    rc |= replay_live_judge(&live);
  }
  mqz_probe_free(live.p);
  if (out.kind != MQZ_NONE)
    printf("%s %s: %s\n", mqz_kind_name(out.kind), out.statement, out.message);
  else if (!rc)
    printf("nothing found: %u packets sent, %u received%s\n", out.packets_sent,
           out.packets_received, out.timed_out ? " (the session ran into its deadline)" : "");
  mqz_exec_free(x);
  mqz_broker_free(b);
  free(s);
  return rc;
}
