/* afl_mutator_check.c - loads the AFL++ custom mutator library the way
 * afl-fuzz does (dlopen + the afl_custom_* symbols) and drives it over
 * inputs: results must fit max_size, and two instances with the same seed
 * must produce the same sequence. Runs under ctest (fuzz_afl_mutator).
 *
 * usage: afl_mutator_check LIB.so FILE... */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*init_fn)(void *, unsigned int);
typedef size_t (*fuzz_fn)(void *, uint8_t *, size_t, uint8_t **, uint8_t *, size_t, size_t);
typedef void (*deinit_fn)(void *);

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s LIB.so FILE...\n", argv[0]);
    return 2;
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
  for (int i = 2; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) continue;
    size_t n = fread(in, 1, sizeof in, f);
    fclose(f);
    setenv("MQF_LAYOUT", layouts[i % 4], 1);
    void *a = init(NULL, (unsigned)i), *b = init(NULL, (unsigned)i);
    if (!a || !b) return 1;
    for (size_t round = 0; round < 64; round++) {
      size_t max = 1 + (round * 37 + n) % 2048;
      uint8_t *oa, *ob;
      size_t na = fuzz(a, in, n, &oa, other_n ? other : NULL, other_n, max);
      size_t nb = fuzz(b, in, n, &ob, other_n ? other : NULL, other_n, max);
      if (na > max || na != nb || memcmp(oa, ob, na)) {
        fprintf(stderr, "%s: round %zu: size %zu/%zu (max %zu) or contents differ\n", argv[i],
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
  printf("afl_mutator_check: %zu mutations, all within bounds and deterministic\n", calls);
  return 0;
}
