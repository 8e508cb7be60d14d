/*
 * broker.h - the broker under test when the fuzzer runs it itself
 * (`mqcheck fuzz --exec "CMD ... {port}"`), the sanitizer-report parser that
 * turns its log into a dedupe signature, and the AFL-style coverage
 * accumulator fed from its shared-memory map. Internal to netfuzz/.
 *
 * Process model. The command runs as `/bin/sh -c "exec CMD"`: the shell
 * replaces itself with the broker, so mqz_broker_pid() is the broker's own pid
 * and its death signal is seen directly. CMD is therefore one simple command:
 * "exec" applies to its first word, so `a; b` or `VAR=x ./broker` do not work
 * as written; use `env VAR=x ./broker -p {port}`, or `sh -c '...'` / a
 * wrapper script ending in `exec ./broker` (then the pid is that shell's
 * until it execs). Each start puts the broker in a new process group and
 * every kill goes to the whole group, so its children die with it. The
 * environment is inherited, so ASAN_OPTIONS/UBSAN_OPTIONS/LSAN_OPTIONS pass
 * through; the broker gets stdin from /dev/null, an empty signal mask and
 * default SIGINT/SIGTERM/SIGPIPE, no descriptor of ours but its log, and
 * PR_SET_PDEATHSIG SIGKILL (which a broker that changes user, such as
 * mosquitto started as root, loses: stop it before exiting).
 *
 * Reaping is ours: a caller must not reap other children with waitpid(-1)
 * (or SIG_IGN SIGCHLD), or exit statuses are lost ("exited (status
 * unknown)").
 *
 * AFL++ coverage. With afl_map the broker gets __AFL_SHM_ID and
 * AFL_MAP_SIZE. The segment is marked for removal as soon as we attach it
 * (Linux still lets the broker attach by id), so it never outlives us. With
 * afl_map_size 0 the command is first run once with AFL_DUMP_MAP_SIZE=1, which
 * makes an AFL++ runtime print the map size it needs and exit; the map is
 * that (rounded up to 64 bytes) or 65536, whichever is larger. A command that
 * prints no number is killed after 2 s and gets 65536.
 *
 * Nothing here is thread-safe per object; distinct objects are independent.
 * No globals.
 */
#ifndef MQZ_BROKER_H
#define MQZ_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mqz_broker mqz_broker;

typedef struct {
  const char *cmd;           /* shell command; every "{port}" becomes the port. Required. */
  const char *log_path;      /* the broker's stdout+stderr are appended here (created). Required. */
  uint32_t start_timeout_ms; /* until 127.0.0.1:port accepts a TCP connection; 0 = 10000 */
  bool afl_map;              /* give the broker a SysV shm coverage map: __AFL_SHM_ID=<id> */
  size_t afl_map_size;       /* exported as AFL_MAP_SIZE; 0 = ask the broker: see below */
  /* The broker's stack limit (RLIMIT_STACK, KiB; 0 = inherited): a smaller
   * stack makes unbounded recursion on input (deep topic hierarchies) crash
   * at a depth the fuzzer's inputs reach, well inside the protocol's limits. */
  uint32_t stack_kib;
} mqz_broker_opts;

/* Picks a free loopback port, starts the broker on it and waits until
 * 127.0.0.1:port accepts a TCP connection. The port is probed by a connect
 * and an immediate close. When the broker exits before accepting (another
 * process may have taken the port between our pick and its bind) it is tried
 * again on a fresh port, three starts in all.
 * in:  o and its strings are borrowed (copied).
 * out: *out (caller owns: mqz_broker_free) only on success; err (cap bytes,
 *      may be NULL) says what happened on failure: the exit status or the
 *      timeout, and the last lines of the log.
 * returns 0, or -1 (bad options, fork/shm failure, exit, timeout). */
int mqz_broker_start(const mqz_broker_opts *o, mqz_broker **out, char *err, size_t cap);

/* The current port. It may change across mqz_broker_restart(). */
uint16_t mqz_broker_port(const mqz_broker *b);
/* The pid of the current (or last) broker process; 0 before any start. */
int mqz_broker_pid(const mqz_broker *b);

/* Nonblocking: true when the broker is not running. why (may be NULL) gets
 * "exited with status 1", "killed by signal 11 (SIGSEGV)" or "not running"
 * (after mqz_broker_stop). The first call that sees the exit reaps the
 * process; later calls repeat the same text. */
bool mqz_broker_dead(mqz_broker *b, char *why, size_t cap);

/* SIGKILLs the process group (if running), reaps it, and starts the broker
 * again, on the same port when it comes up there, else on fresh ports as
 * mqz_broker_start does. The log offset and the coverage map (cleared) start
 * afresh. returns 0, or -1 with err as for mqz_broker_start (the broker is
 * then not running; restart may be called again). */
int mqz_broker_restart(mqz_broker *b, char *err, size_t cap);

/* SIGTERM to the group, up to 2 s for the broker to exit, then SIGKILL; reaps
 * it and detaches the coverage map. Idempotent. A broker that exits cleanly
 * on SIGTERM runs LeakSanitizer then: its report is in the log, which
 * mqz_broker_log_since_start() still reads after the stop. Afterwards
 * mqz_broker_dead() says "not running". */
void mqz_broker_stop(mqz_broker *b);

/* SIGTERM to the group and up to wait_ms for the broker to exit (SIGKILL
 * after that), so that LeakSanitizer and the broker's own shutdown code run
 * and their reports land in the log (read it with
 * mqz_broker_log_since_start before the next restart). Unlike
 * mqz_broker_stop, mqz_broker_restart brings it back. returns 0 when it
 * exited by itself within wait_ms, -1 when it had to be killed or was not
 * running. */
int mqz_broker_term(mqz_broker *b, unsigned wait_ms);
/* Stops the broker if running and frees b. NULL is fine. */
void mqz_broker_free(mqz_broker *b);

/* What the broker wrote to the log since its last (re)start: at most the last
 * 1 MiB of it. out: *text (caller frees; NUL-terminated, may hold NULs
 * inside, so use *n) and *n. returns 0, or -1 (cannot read the log; *text is
 * NULL). */
int mqz_broker_log_since_start(const mqz_broker *b, char **text, size_t *n);

/* Bounds the log on disk: a broker that logs every connection writes
 * gigabytes overnight at thousands of sessions per second. When the log file
 * is larger than max_bytes it is truncated to empty (the broker appends with
 * O_APPEND, so its next line lands at the new start) and the since-start
 * offset moves to 0. A broker that is dead (it may have died since the
 * caller last asked: its crash report is in the log) is never trimmed; the
 * death is reaped and mqz_broker_dead() reports it as usual. Left is a
 * window of microseconds between that check and the truncation.
 * returns 1 (trimmed), 0 (under max_bytes, or dead), -1 (cannot stat or truncate). */
int mqz_broker_log_trim(mqz_broker *b, uint64_t max_bytes);

/* The running broker's resident set (VmRSS, KiB) from /proc/<pid>/status and
 * its open descriptors (entries of /proc/<pid>/fd). Both out-params may be
 * NULL. returns 0, or -1 (not running, or /proc unreadable). */
int mqz_broker_sample(const mqz_broker *b, uint64_t *rss_kib, unsigned *fds);

/* Only the resident set (KiB), from /proc/<pid>/statm: cheap enough to call
 * every few milliseconds (the held-memory oracle samples it while sessions
 * run). returns 0, or -1 (not running, or /proc unreadable). */
int mqz_broker_rss(const mqz_broker *b, uint64_t *rss_kib);

/* The AFL coverage map the broker writes (valid until mqz_broker_stop or
 * _free; owned by b), with *n its size; NULL (and *n = 0) when afl_map is
 * false or the broker is stopped. The fuzzer reads it after each session and
 * hands it to mqz_cov_merge(), which clears it. */
uint8_t *mqz_broker_cov(mqz_broker *b, size_t *n);

/* Whether the running broker carries LeakSanitizer: a sanitizer runtime
 * mapped into it (libasan/liblsan) or linked into its executable, and
 * ASAN_OPTIONS/LSAN_OPTIONS in our environment not saying detect_leaks=0.
 * false when not running or /proc cannot tell. */
bool mqz_broker_has_lsan(const mqz_broker *b);

/* ---- sanitizer reports ---------------------------------------------------- */

/* Finds the first sanitizer report in log (n bytes, borrowed; need not be
 * NUL-terminated): AddressSanitizer, LeakSanitizer, MemorySanitizer,
 * ThreadSanitizer ("ERROR:"/"WARNING: <name>: ...") or UndefinedBehaviorSanitizer
 * ("file:line:col: runtime error: ...").
 * out: sig (sig_cap bytes, may be NULL) gets the dedupe signature
 *      "<sanitizer>:<bug-type>:<fn1>:<fn2>:<fn3>": the bug type from the
 *      report's SUMMARY line (else its header, digits and addresses dropped),
 *      the functions from the top three frames of the report's first stack
 *      that are not sanitizer runtime or libc frames, "+0x.." offsets
 *      stripped (an unsymbolised frame is named by module basename+offset,
 *      which ASLR does not change). A UBSan report without a stack is named
 *      by its source location (file basename:line). Fewer frames give fewer
 *      fields. summary (sum_cap, may be NULL) gets the SUMMARY line (from
 *      "SUMMARY:") or else the report's first line. Both are truncated to
 *      fit, always NUL-terminated when cap > 0, and "" when no report.
 * returns true when a report was found. A plain crash leaves no report:
 *      false, and the caller uses the exit signal instead. */
/* The distinct signatures of the leaks in the first LeakSanitizer report of
 * log: one per "Direct leak" stack (per "Indirect leak" stack when there is
 * no direct one), each as mqz_sanitizer_report would name that leak alone
 * ("LeakSanitizer:direct-leak:<fn1>:<fn2>:<fn3>"). LeakSanitizer lists the
 * biggest leak first, so the first stack alone would name a different leak
 * when sessions are run together than when run apart. out: up to max
 * signatures of 256 bytes. Returns how many were written. */
size_t mqz_leak_sigs(const char *log, size_t n, char (*sigs)[256], size_t max);

bool mqz_sanitizer_report(const char *log, size_t n, char *sig, size_t sig_cap, char *summary,
                          size_t sum_cap);

/* ---- coverage accumulator (AFL++ edge maps) -------------------------------- */

typedef struct {
  uint8_t *virgin; /* n bytes, AFL-style: a bit still set = that bucket unseen */
  size_t n;
  size_t edges; /* distinct edges (map bytes) seen so far */
} mqz_cov;

/* Allocates the virgin map (owned by c). returns 0, or -1 (n == 0, no
 * memory; c is then zeroed). */
int mqz_cov_init(mqz_cov *c, size_t n);
void mqz_cov_free(mqz_cov *c); /* zeroes c; a zeroed c is fine */

/* Classifies each hit count of map into AFL's buckets (1, 2, 3, 4-7, 8-15,
 * 16-31, 32-127, 128+), merges them into the virgin map, counts edges seen
 * for the first time into c->edges, then clears the whole map (n bytes) so
 * the next session's hits are its own. Only min(n, c->n) bytes are compared.
 * returns the number of (edge, bucket) pairs not seen before: > 0 means the
 * session found new coverage. */
size_t mqz_cov_merge(mqz_cov *c, uint8_t *map, size_t n);

#endif /* MQZ_BROKER_H */
