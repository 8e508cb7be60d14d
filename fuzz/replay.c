/* replay.c - runs a target's LLVMFuzzerTestOneInput over files and
 * directories, without any fuzzing engine: the seed corpora and every
 * regression input replay in the ordinary test suite (ASan+UBSan build).
 *
 * usage: replay_<target> PATH...   (directories are read one level deep)
 * exit: 0 all inputs ran; 1 an input could not be read, or a PATH not marked
 * --optional gave no input (a misspelled or emptied corpus). A failing input
 * (oracle abort, sanitizer report with abort_on_error=1, crash) prints its
 * file name from the signal handler. MQF_REPLAY_VERBOSE=1 lists every file. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_INPUT (1u << 20)

static char current[4096]; /* "replay: failing input: PATH\n" for the handler */
static size_t current_len;

static void on_fatal(int sig) {
  /* write(2) is async-signal-safe; then die the way we were going to. */
  ssize_t r = write(2, current, current_len);
  (void)r;
  signal(sig, SIG_DFL);
  raise(sig);
}

static int run_file(const char *path, size_t *count) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return 1;
  }
  uint8_t *buf = malloc(MAX_INPUT);
  if (!buf) {
    fclose(f);
    return 1;
  }
  size_t n = fread(buf, 1, MAX_INPUT, f);
  fclose(f);
  /* Exact-size copy, so ASan catches reads past the end as the fuzzer would. */
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) {
    free(buf);
    return 1;
  }
  memcpy(exact, buf, n);
  free(buf);
  int k = snprintf(current, sizeof current, "replay: failing input: %s\n", path);
  current_len = k < 0 ? 0 : (size_t)k < sizeof current ? (size_t)k : sizeof current - 1;
  if (getenv("MQF_REPLAY_VERBOSE")) fprintf(stderr, "replay: %s\n", path);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  (*count)++;
  return 0;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs a directory's regular files in name order (deterministic). */
static int run_dir(const char *path, size_t *count) {
  DIR *d = opendir(path);
  if (!d) return 1;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(names, cap * sizeof *names);
      if (!p) break;
      names = p;
    }
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    if (!names[n]) break;
    snprintf(names[n], len, "%s/%s", path, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp); /* names is NULL when n is 0 */
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) rc |= run_file(names[i], count);
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  static const int fatal[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
    signal(fatal[i], on_fatal);
  LLVMFuzzerInitialize(&argc, &argv);
  size_t count = 0;
  int rc = 0;
  bool optional = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--optional")) { /* the next path may not exist yet */
      optional = true;
      continue;
    }
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      if (!optional) {
        fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
        rc = 1;
      }
      optional = false;
      continue;
    }
    size_t before = count;
    rc |= S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i], &count);
    /* each required corpus must give inputs: another path's inputs must not
     * hide an emptied one */
    if (!optional && count == before) {
      fprintf(stderr, "replay: %s: no inputs\n", argv[i]);
      rc = 1;
    }
    optional = false;
  }
  /* zero inputs is a misspelled path or an emptied corpus, never a pass */
  if (!count) {
    fprintf(stderr, "replay: no inputs\n");
    rc = 1;
  }
  printf("replay: %zu inputs, %s\n", count, rc ? "FAILED" : "all passed");
  return rc;
}
