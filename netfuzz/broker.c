/*
 * broker.c - the exec'd broker under test: process lifecycle, log capture,
 * /proc sampling and the AFL shared-memory map; the sanitizer-report parser;
 * the coverage accumulator. See broker.h for the contracts.
 */
#define _GNU_SOURCE /* close_range */
#include "broker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define LOG_TAIL_MAX (1u << 20)
#define START_TRIES  3

struct mqz_broker {
  char *cmd, *log_path;
  uint32_t start_timeout_ms;
  bool afl_map;
  uint32_t stack_kib; /* RLIMIT_STACK for the broker; 0 = inherited */
  size_t map_size;
  uint16_t port;
  pid_t pid;         /* current or last broker; 0 before any start */
  bool running;      /* pid not yet reaped */
  bool stopped;      /* by mqz_broker_stop, not by itself */
  int status;        /* waitpid status once reaped */
  bool status_known; /* false when someone else reaped it */
  off_t log_off;     /* log size when the current run started */
  int shm_id;        /* -1 when none */
  uint8_t *map;      /* attached map, or NULL */
};

/* ---- small helpers --------------------------------------------------------- */

static void sleep_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *signal_name(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
               {SIGILL, "SIGILL"},   {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},
               {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
               {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
               {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
               {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].sig == sig) return names[i].name;
  return "?";
}

static void describe_status(int st, char *out, size_t cap) {
  if (WIFEXITED(st))
    snprintf(out, cap, "exited with status %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(st), signal_name(WTERMSIG(st)));
  else
    snprintf(out, cap, "stopped (wait status 0x%x)", (unsigned)st);
}

static uint16_t pick_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  uint16_t port = 0;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &l) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

static bool port_accepts(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {
      .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

/* cmd with every "{port}" replaced, prefixed by "exec ". Caller frees. */
static char *expand_cmd(const char *cmd, uint16_t port) {
  char p[8];
  int pl = snprintf(p, sizeof p, "%u", port);
  size_t n = 5, len = strlen(cmd);
  for (const char *s = cmd; (s = strstr(s, "{port}")); s += 6)
    n += (size_t)pl;
  char *out = malloc(n + len + 1);
  if (!out) return NULL;
  char *w = out;
  memcpy(w, "exec ", 5), w += 5;
  for (const char *s = cmd; *s;) {
    if (!strncmp(s, "{port}", 6)) {
      memcpy(w, p, (size_t)pl), w += pl, s += 6;
    } else {
      *w++ = *s++;
    }
  }
  *w = '\0';
  return out;
}

/* environ with the extra "NAME=value" strings (borrowed) in place of
 * inherited ones of the same names. Caller frees the array only. */
static char **build_env(char *const extra[], size_t nextra) {
  size_t n = 0;
  while (environ && environ[n])
    n++;
  char **env = calloc(n + nextra + 1, sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    bool replaced = false;
    for (size_t x = 0; x < nextra && !replaced; x++) {
      size_t name = (size_t)(strchr(extra[x], '=') - extra[x]) + 1;
      replaced = !strncmp(environ[i], extra[x], name);
    }
    if (!replaced) env[k++] = environ[i];
  }
  for (size_t x = 0; x < nextra; x++)
    env[k++] = extra[x];
  env[k] = NULL;
  return env;
}

/* The last lines of the current run's log (up to ~cap bytes) into out. */
static void log_tail(const mqz_broker *b, char *out, size_t cap) {
  out[0] = '\0';
  char *text = NULL;
  size_t n = 0;
  if (mqz_broker_log_since_start(b, &text, &n) != 0) return;
  size_t keep = cap > 1 ? cap - 1 : 0, from = n > keep ? n - keep : 0;
  /* Start at a line boundary when one is near. */
  for (size_t i = from; from && i < n; i++)
    if (text[i] == '\n') {
      from = i + 1;
      break;
    }
  size_t w = 0;
  for (size_t i = from; i < n && w + 1 < cap; i++)
    out[w++] = text[i] ? text[i] : ' ';
  while (w && (out[w - 1] == '\n' || out[w - 1] == ' '))
    w--;
  out[w] = '\0';
  free(text);
}

static void fail(const mqz_broker *b, char *err, size_t cap, const char *what) {
  if (!err || !cap) return;
  char tail[600];
  log_tail(b, tail, sizeof tail);
  snprintf(err, cap, "broker `%s` %s%s%s", b->cmd, what, tail[0] ? "; its log ends:\n" : "", tail);
}

/* ---- the process ------------------------------------------------------------ */

static int map_attach(mqz_broker *b, char *err, size_t cap) {
  if (!b->afl_map || b->map) return 0;
  b->shm_id = shmget(IPC_PRIVATE, b->map_size, IPC_CREAT | IPC_EXCL | 0600);
  if (b->shm_id < 0) {
    snprintf(err, cap, "shmget(%zu bytes): %s", b->map_size, strerror(errno));
    return -1;
  }
  void *p = shmat(b->shm_id, NULL, 0);
  /* Marked for removal now: Linux still lets the broker attach by id while we
   * hold it, and the segment cannot outlive us even if we are killed. */
  shmctl(b->shm_id, IPC_RMID, NULL);
  if (p == (void *)-1) {
    snprintf(err, cap, "shmat: %s", strerror(errno));
    b->shm_id = -1;
    return -1;
  }
  b->map = p;
  memset(b->map, 0, b->map_size);
  return 0;
}

static void map_detach(mqz_broker *b) {
  if (b->map) shmdt(b->map);
  b->map = NULL;
  b->shm_id = -1;
}

/* Kills the whole group (sig) and reaps the leader within wait_ms (SIGKILL
 * after that). No-op when not running. */
static void kill_group(mqz_broker *b, int sig, unsigned wait_ms) {
  if (!b->running) return;
  /* No group (setpgid lost to an early exec'd failure): the process alone. */
  if (kill(-b->pid, sig) != 0 && errno == ESRCH) kill(b->pid, sig);
  int st = 0;
  int64_t until = now_ms() + wait_ms;
  for (;;) {
    pid_t r = waitpid(b->pid, &st, WNOHANG);
    if (r == b->pid || (r < 0 && errno != EINTR)) break;
    if (now_ms() >= until) {
      kill(-b->pid, SIGKILL);
      kill(b->pid, SIGKILL);
      if (waitpid(b->pid, &st, 0) != b->pid) st = 0;
      break;
    }
    sleep_ms(5);
  }
  kill(-b->pid, SIGKILL); /* stragglers the leader left in its group */
  b->running = false;
  b->status = st;
  b->status_known = true;
}

/* In the child: never returns. Only async-signal-safe calls. */
static void child_exec(int log_fd, char *const argv[], char *const envp[], uint32_t stack_kib) {
  if (stack_kib) {
    struct rlimit rl = {(rlim_t)stack_kib * 1024, (rlim_t)stack_kib * 1024};
    struct rlimit old;
    if (getrlimit(RLIMIT_STACK, &old) == 0 && old.rlim_max != RLIM_INFINITY &&
        rl.rlim_max > old.rlim_max)
      rl.rlim_cur = rl.rlim_max = old.rlim_max;
    (void)setrlimit(RLIMIT_STACK, &rl);
  }
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL), signal(SIGINT, SIG_DFL), signal(SIGTERM, SIG_DFL);
  int in = open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) _exit(126);
  if (close_range(3, ~0u, 0) != 0)
    for (int fd = 3; fd < 4096; fd++)
      close(fd);
  execve("/bin/sh", argv, envp);
  _exit(127);
}

/* Forks `/bin/sh -c "exec CMD"` ({port} replaced) in its own process group
 * with stdout and stderr on out_fd and the extra environment strings.
 * returns the pid, or -1 with errno set. */
static pid_t spawn(const mqz_broker *b, uint16_t port, int out_fd, char *const extra[],
                   size_t nextra) {
  char *script = expand_cmd(b->cmd, port);
  char **env = script ? build_env(extra, nextra) : NULL;
  pid_t pid = env ? fork() : -1;
  if (pid == 0) {
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    child_exec(out_fd, argv, env, b->stack_kib);
  }
  int saved = env ? errno : ENOMEM;
  free(script);
  free(env);
  if (pid > 0) setpgid(pid, pid); /* also in the child: whichever runs first wins */
  errno = saved;
  return pid;
}

/* Asks an AFL++-instrumented broker how big its map must be:
 * AFL_DUMP_MAP_SIZE=1 makes its runtime print the size and exit before
 * main. 0 when the command prints no number within 2 s (not instrumented,
 * or a wrapper that hides it). */
static size_t dump_map_size(const mqz_broker *b) {
  int pfd[2];
  if (pipe(pfd) != 0) return 0;
  fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
  char dump[] = "AFL_DUMP_MAP_SIZE=1";
  char *const extra[] = {dump};
  pid_t pid = spawn(b, 0, pfd[1], extra, 1);
  close(pfd[1]);
  char out[64];
  size_t n = 0;
  int64_t until = now_ms() + 2000;
  while (pid > 0 && n + 1 < sizeof out && !memchr(out, '\n', n)) {
    struct pollfd p = {.fd = pfd[0], .events = POLLIN};
    int64_t left = until - now_ms();
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
    ssize_t r = read(pfd[0], out + n, sizeof out - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(pfd[0]);
  if (pid > 0) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  out[n] = '\0';
  char *end = NULL;
  unsigned long v = strtoul(out, &end, 10);
  return end != out && (*end == '\n' || *end == '\0') && v <= (1ul << 28) ? (size_t)v : 0;
}

/* One start on port. returns 0 (accepting), 1 (exited before accepting),
 * -1 (timeout or local failure). err filled on failure. */
static int start_once(mqz_broker *b, uint16_t port, char *err, size_t cap) {
  b->port = port;
  if (map_attach(b, err, cap) != 0) return -1;
  if (b->map) memset(b->map, 0, b->map_size);
  int log_fd = open(b->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    snprintf(err, cap, "cannot open log %s: %s", b->log_path, strerror(errno));
    return -1;
  }
  struct stat sb;
  b->log_off = fstat(log_fd, &sb) == 0 ? sb.st_size : 0;
  char shm[32], size[48];
  snprintf(shm, sizeof shm, "__AFL_SHM_ID=%d", b->shm_id);
  snprintf(size, sizeof size, "AFL_MAP_SIZE=%zu", b->map_size);
  char *const afl[] = {shm, size};
  pid_t pid = spawn(b, port, log_fd, afl, b->map ? 2 : 0);
  int spawn_errno = errno;
  close(log_fd);
  if (pid < 0) {
    snprintf(err, cap, "cannot start broker: %s", strerror(spawn_errno));
    return -1;
  }
  b->pid = pid;
  b->running = true;
  b->stopped = false;
  b->status = 0;

  int64_t until = now_ms() + b->start_timeout_ms;
  for (unsigned naps = 0;; naps++) {
    char why[64];
    if (mqz_broker_dead(b, why, sizeof why)) {
      char what[160];
      snprintf(what, sizeof what, "%s before accepting on 127.0.0.1:%u", why, port);
      fail(b, err, cap, what);
      return 1;
    }
    if (port_accepts(port)) return 0;
    if (now_ms() >= until) break;
    sleep_ms(naps < 20 ? 2 : 20); /* most brokers listen within milliseconds */
  }
  kill_group(b, SIGKILL, 1000);
  char what[160];
  snprintf(what, sizeof what, "did not accept on 127.0.0.1:%u within %u ms", port,
           b->start_timeout_ms);
  fail(b, err, cap, what);
  return -1;
}

/* Up to START_TRIES starts: the first on first_port (0: a fresh one). */
static int start_tries(mqz_broker *b, uint16_t first_port, char *err, size_t cap) {
  int r = -1;
  for (int i = 0; i < START_TRIES; i++) {
    uint16_t port = i == 0 && first_port ? first_port : pick_port();
    if (!port) {
      snprintf(err, cap, "no free loopback port: %s", strerror(errno));
      return -1;
    }
    r = start_once(b, port, err, cap);
    if (r <= 0) break;
  }
  return r == 0 ? 0 : -1;
}

int mqz_broker_start(const mqz_broker_opts *o, mqz_broker **out, char *err, size_t cap) {
  char scratch[8];
  if (!err || !cap) err = scratch, cap = sizeof scratch;
  err[0] = '\0';
  if (!out) return -1;
  *out = NULL;
  if (!o || !o->cmd || !o->cmd[0] || !o->log_path || !o->log_path[0]) {
    snprintf(err, cap, "broker: a command and a log path are required");
    return -1;
  }
  mqz_broker *b = calloc(1, sizeof *b);
  if (!b || !(b->cmd = strdup(o->cmd)) || !(b->log_path = strdup(o->log_path))) {
    if (b) free(b->cmd);
    free(b);
    snprintf(err, cap, "out of memory");
    return -1;
  }
  b->start_timeout_ms = o->start_timeout_ms ? o->start_timeout_ms : 10000;
  b->afl_map = o->afl_map;
  b->stack_kib = o->stack_kib;
  b->map_size = o->afl_map_size;
  b->shm_id = -1;
  if (b->afl_map && !b->map_size) {
    size_t need = dump_map_size(b);
    b->map_size = need > 65536 ? (need + 63) / 64 * 64 : 65536;
  }
  if (start_tries(b, 0, err, cap) != 0) {
    mqz_broker_free(b);
    return -1;
  }
  *out = b;
  return 0;
}

uint16_t mqz_broker_port(const mqz_broker *b) {
  return b ? b->port : 0;
}

int mqz_broker_pid(const mqz_broker *b) {
  return b ? (int)b->pid : 0;
}

bool mqz_broker_dead(mqz_broker *b, char *why, size_t cap) {
  if (why && cap) why[0] = '\0';
  if (!b || !b->pid || b->stopped) {
    if (why && cap) snprintf(why, cap, "not running");
    return true;
  }
  if (b->running) {
    int st = 0;
    pid_t r = waitpid(b->pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) return false;
    /* r < 0 otherwise: someone else reaped it (ECHILD); no status to tell. */
    b->running = false;
    b->status = st;
    b->status_known = r == b->pid;
    kill(-b->pid, SIGKILL); /* what it left behind in its group */
  }
  if (why && cap && !b->status_known)
    snprintf(why, cap, "exited (status unknown)");
  else if (why && cap)
    describe_status(b->status, why, cap);
  return true;
}

int mqz_broker_restart(mqz_broker *b, char *err, size_t cap) {
  char scratch[8];
  if (!err || !cap) err = scratch, cap = sizeof scratch;
  err[0] = '\0';
  if (!b) return -1;
  kill_group(b, SIGKILL, 2000);
  return start_tries(b, b->port, err, cap);
}

int mqz_broker_term(mqz_broker *b, unsigned wait_ms) {
  if (!b || !b->running) return -1;
  kill_group(b, SIGTERM, wait_ms);
  /* kill_group's SIGKILL after the wait shows as a signal status */
  return b->status_known && WIFSIGNALED(b->status) && WTERMSIG(b->status) == SIGKILL ? -1 : 0;
}

void mqz_broker_stop(mqz_broker *b) {
  if (!b) return;
  kill_group(b, SIGTERM, 2000);
  map_detach(b);
  b->stopped = true;
}

void mqz_broker_free(mqz_broker *b) {
  if (!b) return;
  mqz_broker_stop(b);
  free(b->cmd);
  free(b->log_path);
  free(b);
}

int mqz_broker_log_since_start(const mqz_broker *b, char **text, size_t *n) {
  if (text) *text = NULL;
  if (n) *n = 0;
  if (!b || !text || !n) return -1;
  int fd = open(b->log_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    close(fd);
    return -1;
  }
  off_t from = b->log_off;
  if (sb.st_size < from) from = 0; /* truncated or replaced behind our back */
  if (sb.st_size - from > (off_t)LOG_TAIL_MAX) from = sb.st_size - (off_t)LOG_TAIL_MAX;
  size_t want = (size_t)(sb.st_size - from), got = 0;
  char *buf = malloc(want + 1);
  if (!buf) {
    close(fd);
    return -1;
  }
  while (got < want) {
    ssize_t r = pread(fd, buf + got, want - got, from + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  *text = buf;
  *n = got;
  return 0;
}

int mqz_broker_log_trim(mqz_broker *b, uint64_t max_bytes) {
  struct stat sb;
  if (!b || stat(b->log_path, &sb) != 0) return -1;
  if ((uint64_t)sb.st_size <= max_bytes) return 0;
  /* a broker that died since the caller last looked has its sanitizer
   * report at the end of the log: emptying it would leave the crash a
   * signature without one ("exited with status 1"), as it did */
  if (mqz_broker_dead(b, NULL, 0)) return 0;
  if (truncate(b->log_path, 0) != 0) return -1;
  b->log_off = 0;
  return 1;
}

int mqz_broker_sample(const mqz_broker *b, uint64_t *rss_kib, unsigned *fds) {
  if (!b || !b->running) return -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)b->pid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  char line[256];
  bool have_rss = false;
  unsigned long long kib = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %llu", &kib) == 1) {
      have_rss = true;
      break;
    }
  fclose(f);
  if (!have_rss) return -1; /* a zombie has no VmRSS */
  snprintf(path, sizeof path, "/proc/%d/fd", (int)b->pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  unsigned count = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') count++;
  closedir(d);
  if (rss_kib) *rss_kib = kib;
  if (fds) *fds = count;
  return 0;
}

int mqz_broker_rss(const mqz_broker *b, uint64_t *rss_kib) {
  if (!b || !b->running) return -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/statm", (int)b->pid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  unsigned long long size, resident;
  int got = fscanf(f, "%llu %llu", &size, &resident);
  fclose(f);
  if (got != 2) return -1;
  long page = sysconf(_SC_PAGESIZE);
  *rss_kib = resident * (unsigned long long)(page > 0 ? page : 4096) / 1024;
  return 0;
}

uint8_t *mqz_broker_cov(mqz_broker *b, size_t *n) {
  if (n) *n = b && b->map ? b->map_size : 0;
  return b ? b->map : NULL;
}

/* ---- sanitizer reports -------------------------------------------------------- */

typedef struct {
  const char *p, *end;
} span;

static span next_line(const char **cur, const char *end) {
  span s = {*cur, *cur};
  while (s.end < end && *s.end != '\n')
    s.end++;
  *cur = s.end < end ? s.end + 1 : end;
  return s;
}

static const char *find_in(span s, const char *needle) {
  size_t k = strlen(needle);
  for (const char *p = s.p; p + k <= s.end; p++)
    if (!memcmp(p, needle, k)) return p;
  return NULL;
}

static bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void append(char *out, size_t cap, size_t *w, const char *p, size_t n) {
  for (size_t i = 0; i < n && *w + 1 < cap; i++)
    out[(*w)++] = p[i];
  if (cap) out[*w < cap ? *w : cap - 1] = '\0';
}

/* Words of p..end as a dash-joined type: letters, '_' and '-' kept, numbers
 * and 0x-addresses dropped, stops at ':', quote, '(' or ". ". */
static void norm_type(const char *p, const char *end, char *out, size_t cap) {
  size_t w = 0;
  bool dash = false;
  out[0] = '\0';
  while (p < end && *p == ' ')
    p++;
  for (; p < end && w + 1 < cap && w < 48; p++) {
    char c = *p;
    if (c == ':' || c == '\'' || c == '(' || c == '"') break;
    if (c == '0' && p + 1 < end && (p[1] == 'x' || p[1] == 'X')) {
      for (p += 2; p < end && is_hex(*p);)
        p++;
      p--;
      continue;
    }
    if (c >= '0' && c <= '9') continue;
    if (c == ' ' || c == '-' || c == '.' || c == ',') {
      dash = w > 0;
      continue;
    }
    if (dash && w + 2 < cap) out[w++] = '-';
    dash = false;
    out[w++] = c;
  }
  out[w] = '\0';
}

/* One stack frame line ("#N 0xADDR in fn file:line", "#N fn file (mod+0x..)"
 * (TSan), "#N 0xADDR (mod+0xOFF)"): its name into out, or false when the
 * line is not a frame or the frame belongs to the sanitizer runtime or libc. */
static bool frame_name(span l, char *out, size_t cap, bool *is_frame) {
  const char *p = l.p;
  while (p < l.end && (*p == ' ' || *p == '\t'))
    p++;
  *is_frame = false;
  if (p + 1 >= l.end || *p != '#' || p[1] < '0' || p[1] > '9') return false;
  *is_frame = true;
  static const char *const runtime[] = {
      "libsanitizer", "sanitizer_common", "compiler-rt", "libasan.so", "libubsan.so",
      "liblsan.so",   "libtsan.so",       "libclang_rt", "/libc.so",   "(libc.so"};
  for (size_t i = 0; i < sizeof runtime / sizeof runtime[0]; i++)
    if (find_in(l, runtime[i])) return false;
  while (p < l.end && *p != ' ')
    p++; /* "#N" */
  while (p < l.end && *p == ' ')
    p++;
  if (p + 1 < l.end && p[0] == '0' && p[1] == 'x') {
    while (p < l.end && *p != ' ')
      p++;
    while (p < l.end && *p == ' ')
      p++;
  }
  if (l.end - p > 3 && !memcmp(p, "in ", 3)) p += 3;
  const char *s = p, *e = p;
  if (s < l.end && *s == '(') { /* unsymbolised: "(/path/mod+0xOFF)" */
    s++;
    for (e = s; e < l.end && *e != ')'; e++)
      if (*e == '/') s = e + 1;
  } else {
    int depth = 0; /* C++ names hold spaces inside () and <> */
    for (; e < l.end; e++) {
      if (*e == '(' || *e == '<') depth++;
      if ((*e == ')' || *e == '>') && depth > 0) depth--;
      if (*e == ' ' && depth == 0) break;
    }
    for (const char *q = s; q + 2 < e; q++) /* "fn+0x1f": offsets move between builds */
      if (q[0] == '+' && q[1] == '0' && q[2] == 'x') {
        e = q;
        break;
      }
  }
  if (e == s) return false;
  static const char *const skip[] = {
      "__interceptor_", "___interceptor_", "__interception", "__asan",  "__lsan", "__msan",
      "__tsan",         "__ubsan",         "__sanitizer",    "__libc_", "__GI_",  "_start"};
  for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
    if ((size_t)(e - s) >= strlen(skip[i]) && !memcmp(s, skip[i], strlen(skip[i]))) return false;
  /* the runtime's own C++ helpers ("MemcmpInterceptorCommon(void*, ...)"):
   * which of them a stack overflow lands in varies from run to run */
  if (memmem(s, (size_t)(e - s), "Interceptor", 11)) return false;
  static const char *const libc[] = {"malloc",  "calloc", "realloc", "free",   "memcpy",
                                     "memmove", "memset", "strlen",  "strcpy", "strncpy",
                                     "strcmp",  "memcmp", "strdup",  "abort",  "raise"};
  for (size_t i = 0; i < sizeof libc / sizeof libc[0]; i++)
    if ((size_t)(e - s) == strlen(libc[i]) && !memcmp(s, libc[i], strlen(libc[i]))) return false;
  size_t w = 0;
  append(out, cap, &w, s, (size_t)(e - s));
  return true;
}

/* Where a report starts in line l: the sanitizer's name into name. */
static bool report_start(span l, char *name, size_t cap) {
  if (find_in(l, ": runtime error: ")) {
    snprintf(name, cap, "UndefinedBehaviorSanitizer");
    return true;
  }
  static const char *const heads[] = {"ERROR: ", "WARNING: "};
  for (size_t i = 0; i < 2; i++) {
    const char *h = find_in(l, heads[i]);
    if (!h) continue;
    h += strlen(heads[i]);
    span rest = {h, l.end};
    const char *s = find_in(rest, "Sanitizer: ");
    if (!s) continue;
    for (const char *q = h; q < s; q++)
      if (*q == ' ') return false; /* "Sanitizer" is not the first word */
    size_t w = 0;
    append(name, cap, &w, h, (size_t)(s - h) + 9);
    return true;
  }
  return false;
}

bool mqz_sanitizer_report(const char *log, size_t n, char *sig, size_t sig_cap, char *summary,
                          size_t sum_cap) {
  if (sig && sig_cap) sig[0] = '\0';
  if (summary && sum_cap) summary[0] = '\0';
  if (!log) return false;
  const char *cur = log, *end = log + n;
  char name[40];
  span head = {NULL, NULL};
  while (cur < end) {
    span l = next_line(&cur, end);
    if (report_start(l, name, sizeof name)) {
      head = l;
      break;
    }
  }
  if (!head.p) return false;

  /* The rest of this report: until the next report starts. */
  char type[64] = "", frames[3][128], ubsan_loc[128] = "", tmp[40];
  int nf = 0;
  bool stack_done = false;
  span sum = {NULL, NULL};
  bool ubsan = !strcmp(name, "UndefinedBehaviorSanitizer");
  bool lsan = !strcmp(name, "LeakSanitizer");
  for (const char *c = cur; c < end;) {
    span l = next_line(&c, end);
    if (report_start(l, tmp, sizeof tmp)) break;
    if (!sum.p && find_in(l, "SUMMARY: ")) {
      sum.p = find_in(l, "SUMMARY: "), sum.end = l.end;
      continue;
    }
    if (lsan && !type[0] && find_in(l, " leak of ")) {
      norm_type(l.p, find_in(l, " leak of "), type, sizeof type);
      size_t w = strlen(type);
      append(type, sizeof type, &w, "-leak", 5);
      for (char *q = type; *q; q++)
        if (*q >= 'A' && *q <= 'Z') *q = (char)(*q - 'A' + 'a');
    }
    bool is_frame = false;
    if (!stack_done && nf < 3 && frame_name(l, frames[nf], sizeof frames[0], &is_frame))
      nf++;
    else if (!is_frame && nf > 0)
      stack_done = true; /* the first stack ended */
    if (is_frame && nf == 3) stack_done = true;
  }

  if (ubsan) {
    const char *re = find_in(head, ": runtime error: ");
    norm_type(re + 17, head.end, type, sizeof type);
    /* "path/file.c:12:5: runtime error" -> "file.c:12" */
    const char *s = head.p, *colon = NULL;
    for (const char *q = head.p; q < re; q++) {
      if (*q == '/' || *q == ' ') s = q + 1;
    }
    for (const char *q = s; q < re; q++)
      if (*q == ':') {
        colon = q;
        break;
      }
    const char *stop = colon ? colon + 1 : re;
    while (stop < re && *stop >= '0' && *stop <= '9')
      stop++;
    size_t w = 0;
    append(ubsan_loc, sizeof ubsan_loc, &w, s, (size_t)(stop - s));
  } else if (!type[0] && sum.p) { /* "data race /src/x.c:12:5 in f": words until a place */
    span rest = {sum.p, sum.end};
    const char *t = find_in(rest, "Sanitizer: ");
    if (t) {
      const char *e = t += 11;
      for (const char *w = t; w < sum.end; e = w) {
        const char *we = w;
        bool place = *w >= '0' && *w <= '9';
        for (; we < sum.end && *we != ' '; we++)
          place = place || *we == '/' || *we == '.' || *we == ':' || *we == '(';
        if (place) break;
        for (w = we; w < sum.end && *w == ' ';)
          w++;
      }
      norm_type(t, e, type, sizeof type);
    }
  }
  if (!type[0]) { /* "heap-buffer-overflow on address 0x.. at pc .." */
    const char *t = find_in(head, "Sanitizer: ");
    if (t) {
      span rest = {t + 11, head.end};
      const char *cut = head.end;
      static const char *const stops[] = {" on ", " at ", " (", " in "};
      for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        const char *q = find_in(rest, stops[i]);
        if (q && q < cut) cut = q;
      }
      norm_type(rest.p, cut, type, sizeof type);
    }
  }
  if (!type[0]) snprintf(type, sizeof type, "unknown");

  if (sig && sig_cap) {
    size_t w = 0;
    append(sig, sig_cap, &w, name, strlen(name));
    append(sig, sig_cap, &w, ":", 1);
    append(sig, sig_cap, &w, type, strlen(type));
    if (nf == 0 && ubsan_loc[0]) {
      append(sig, sig_cap, &w, ":", 1);
      append(sig, sig_cap, &w, ubsan_loc, strlen(ubsan_loc));
    }
    for (int i = 0; i < nf; i++) {
      append(sig, sig_cap, &w, ":", 1);
      append(sig, sig_cap, &w, frames[i], strlen(frames[i]));
    }
  }
  if (summary && sum_cap) {
    span s = sum.p ? sum : head;
    if (!sum.p) { /* from the sanitizer's own text on, without "==123==" */
      const char *t = find_in(head, "ERROR: ");
      if (!t) t = find_in(head, "WARNING: ");
      if (t && !ubsan) s.p = t;
    }
    while (s.end > s.p && (s.end[-1] == '\r' || s.end[-1] == ' '))
      s.end--;
    size_t w = 0;
    append(summary, sum_cap, &w, s.p, (size_t)(s.end - s.p));
  }
  return true;
}

/* ---- coverage ------------------------------------------------------------------ */

int mqz_cov_init(mqz_cov *c, size_t n) {
  if (!c) return -1;
  memset(c, 0, sizeof *c);
  if (n == 0 || !(c->virgin = malloc(n))) return -1;
  memset(c->virgin, 0xff, n);
  c->n = n;
  return 0;
}

void mqz_cov_free(mqz_cov *c) {
  if (!c) return;
  free(c->virgin);
  memset(c, 0, sizeof *c);
}

static uint8_t bucket(uint8_t hits) {
  if (hits <= 3) return hits == 3 ? 4 : hits; /* 0, 1, 2 stay; 3 -> 4 */
  if (hits <= 7) return 8;
  if (hits <= 15) return 16;
  if (hits <= 31) return 32;
  if (hits <= 127) return 64;
  return 128;
}

/* One map byte: 1 when its bucket is new. */
static size_t merge_byte(mqz_cov *c, size_t i, uint8_t hits) {
  uint8_t b = bucket(hits);
  if (!(b & c->virgin[i])) return 0;
  if (c->virgin[i] == 0xff) c->edges++;
  c->virgin[i] &= (uint8_t)~b;
  return 1;
}

size_t mqz_cov_merge(mqz_cov *c, uint8_t *map, size_t n) {
  if (!c || !c->virgin || !map) return 0;
  size_t m = n < c->n ? n : c->n, fresh = 0, i = 0;
  /* Maps are mostly zero: look at eight bytes at a time. */
  for (; i + 8 <= m; i += 8) {
    uint64_t word;
    memcpy(&word, map + i, 8);
    if (!word) continue;
    for (size_t k = i; k < i + 8; k++)
      if (map[k]) fresh += merge_byte(c, k, map[k]);
  }
  for (; i < m; i++)
    if (map[i]) fresh += merge_byte(c, i, map[i]);
  memset(map, 0, n);
  return fresh;
}

size_t mqz_leak_sigs(const char *log, size_t n, char (*sigs)[256], size_t max) {
  if (!log || !max) return 0;
  const char *cur = log, *end = log + n;
  span head = {NULL, NULL};
  char name[40];
  while (cur < end && !head.p) {
    span l = next_line(&cur, end);
    if (report_start(l, name, sizeof name) && !strcmp(name, "LeakSanitizer")) head = l;
  }
  if (!head.p) return 0;
  size_t got = 0;
  char *one = malloc(LOG_TAIL_MAX);
  if (!one) return 0;
  for (int pass = 0; pass < 2 && !got; pass++) {
    const char *want = pass ? "Indirect leak of " : "Direct leak of ";
    for (const char *c = cur; c < end;) {
      span l = next_line(&c, end);
      if (report_start(l, name, sizeof name)) break; /* the next report */
      if (!find_in(l, want)) continue;
      /* this leak alone: the header, its line and its stack (up to the
       * blank line that ends it) */
      size_t w = 0, hl = (size_t)(head.end - head.p);
      if (hl + 2 >= LOG_TAIL_MAX) continue;
      memcpy(one, head.p, hl), w = hl, one[w++] = '\n';
      for (span k = l;;) {
        size_t kl = (size_t)(k.end - k.p);
        if (w + kl + 2 >= LOG_TAIL_MAX) break;
        memcpy(one + w, k.p, kl), w += kl, one[w++] = '\n';
        if (c >= end) break;
        const char *save = c;
        k = next_line(&c, end);
        if (k.p == k.end || (k.end - k.p == 1 && k.p[0] == '\r')) break;
        if (find_in(k, " leak of ")) {
          c = save;
          break;
        }
      }
      char sig[256];
      if (!mqz_sanitizer_report(one, w, sig, sizeof sig, NULL, 0)) continue;
      bool dup = false;
      for (size_t i = 0; i < got && !dup; i++)
        dup = !strcmp(sigs[i], sig);
      if (!dup && got < max) snprintf(sigs[got++], 256, "%s", sig);
    }
  }
  free(one);
  return got;
}

/* Does the file at path hold needle? Read in overlapping chunks. */
static bool file_holds(const char *path, const char *needle) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t nl = strlen(needle), keep = 0;
  char *buf = malloc((1u << 16) + nl);
  bool hit = false;
  for (ssize_t r; buf && !hit && (r = read(fd, buf + keep, 1u << 16)) > 0;) {
    size_t have = keep + (size_t)r;
    hit = memmem(buf, have, needle, nl) != NULL;
    keep = have < nl - 1 ? have : nl - 1;
    memmove(buf, buf + have - keep, keep);
  }
  free(buf);
  close(fd);
  return hit;
}

static bool leaks_off(const char *var) {
  const char *v = getenv(var);
  return v && strstr(v, "detect_leaks=0");
}

bool mqz_broker_has_lsan(const mqz_broker *b) {
  if (!b || !b->running || leaks_off("ASAN_OPTIONS") || leaks_off("LSAN_OPTIONS")) return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/maps", (long)b->pid);
  if (file_holds(path, "/libasan.so") || file_holds(path, "/liblsan.so")) return true;
  snprintf(path, sizeof path, "/proc/%ld/exe", (long)b->pid);
  return file_holds(path, "LeakSanitizer");
}
