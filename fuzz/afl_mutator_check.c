/* afl_mutator_check.c - loads the AFL++ custom mutator library the way
 * afl-fuzz does (dlopen + the afl_custom_* symbols) and drives it over
 * inputs: results must fit max_size, and two instances with the same seed
 * must produce the same sequence. Runs under ctest (fuzz_afl_mutator).
 *
 * usage: afl_mutator_check LIB.so PATH...
 * A PATH is a file or a directory (its first 30 regular files in name order,
 * dot files skipped). An unreadable path, or an empty directory (an emptied
 * seed corpus must not hide behind another's seeds), fails. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_DIR 30
#define MAX_IN  256

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends path, or the first PER_DIR files of directory path, to in[].
 * Returns -1 when path cannot be read, -2 when the directory has no file.
 * Strings are malloc'd. */
static int add_inputs(const char *path, char **in, size_t *n) {
  DIR *d = opendir(path);
  if (!d) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fclose(f);
    if (*n < MAX_IN && (in[*n] = strdup(path))) (*n)++;
    return 0;
  }
  char *names[1024];
  size_t k = 0;
  struct dirent *e;
  while ((e = readdir(d)) && k < 1024)
    if (e->d_name[0] != '.' && (names[k] = strdup(e->d_name))) k++;
  closedir(d);
  if (!k) return -2;
  qsort(names, k, sizeof *names, cmp);
  for (size_t i = 0; i < k; i++) {
    size_t len = strlen(path) + strlen(names[i]) + 2;
    char *full = malloc(len);
    if (full && i < PER_DIR && *n < MAX_IN) {
      snprintf(full, len, "%s/%s", path, names[i]);
      in[(*n)++] = full;
    } else {
      free(full);
    }
    free(names[i]);
  }
  return 0;
}

typedef void *(*init_fn)(void *, unsigned int);
typedef size_t (*fuzz_fn)(void *, uint8_t *, size_t, uint8_t **, uint8_t *, size_t, size_t);
typedef void (*deinit_fn)(void *);

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s LIB.so PATH...\n", argv[0]);
    return 2;
  }
  static char *files[MAX_IN];
  size_t n_files = 0;
  for (int i = 2; i < argc; i++) {
    int rc = add_inputs(argv[i], files, &n_files);
    if (rc) {
      fprintf(stderr, "%s: %s\n", argv[i], rc == -2 ? "no inputs" : "cannot read");
      return 1;
    }
  }
  if (!n_files) {
    fprintf(stderr, "no inputs\n");
    return 1;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  init_fn init;
  fuzz_fn fuzz;
  deinit_fn deinit;
  /* POSIX: function pointers round-trip through dlsym's void *. */
  *(void **)&init = dlsym(lib, "afl_custom_init");
  *(void **)&fuzz = dlsym(lib, "afl_custom_fuzz");
  *(void **)&deinit = dlsym(lib, "afl_custom_deinit");
  if (!init || !fuzz || !deinit) {
    fprintf(stderr, "missing afl_custom_* symbols\n");
    return 1;
  }
  static const char *const layouts[] = {"decode", "stream", "engine", "packets:3"};
  static uint8_t in[4096], other[4096];
  size_t other_n = 0, calls = 0;
  for (size_t i = 0; i < n_files; i++) {
    FILE *f = fopen(files[i], "rb");
    if (!f) {
      fprintf(stderr, "%s: cannot read\n", files[i]);
      return 1;
    }
    size_t n = fread(in, 1, sizeof in, f);
    fclose(f);
    setenv("MQF_LAYOUT", layouts[(i + 2) % 4], 1);
    void *a = init(NULL, (unsigned)i + 2), *b = init(NULL, (unsigned)i + 2);
    if (!a || !b) return 1;
    for (size_t round = 0; round < 64; round++) {
      size_t max = 1 + (round * 37 + n) % 2048;
      uint8_t *oa, *ob;
      size_t na = fuzz(a, in, n, &oa, other_n ? other : NULL, other_n, max);
      size_t nb = fuzz(b, in, n, &ob, other_n ? other : NULL, other_n, max);
      if (na > max || na != nb || memcmp(oa, ob, na)) {
        fprintf(stderr, "%s: round %zu: size %zu/%zu (max %zu) or contents differ\n", files[i],
                round, na, nb, max);
        return 1;
      }
      calls += 2;
    }
    deinit(a);
    deinit(b);
    memcpy(other, in, n);
    other_n = n;
  }
  dlclose(lib);
  for (size_t i = 0; i < n_files; i++)
    free(files[i]);
  printf("afl_mutator_check: %zu inputs, %zu mutations, all within bounds and deterministic\n",
         n_files, calls);
  return 0;
}
