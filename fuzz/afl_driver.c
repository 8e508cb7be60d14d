/* afl_driver.c - AFL++ persistent-mode main for a target: test cases come
 * through shared memory and run in a loop of up to 10000 per fork.
 * Built only by afl-build.sh with afl-clang-fast, which defines the
 * __AFL_* macros. File arguments are replayed instead, one input each. */
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

__AFL_FUZZ_INIT();

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  if (argc > 1) { /* replay files outside afl-fuzz, each as one input */
    static uint8_t buf[1 << 20];
    for (int i = 1; i < argc; i++) {
      FILE *f = fopen(argv[i], "rb");
      if (!f) {
        fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[i]);
        return 1;
      }
      size_t n = fread(buf, 1, sizeof buf, f);
      fclose(f);
      LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
  }
#ifdef __AFL_HAVE_MANUAL_CONTROL
  __AFL_INIT();
#endif
  unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF; /* after __AFL_INIT */
  while (__AFL_LOOP(10000)) {
    size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
    LLVMFuzzerTestOneInput(buf, len);
  }
  return 0;
}
