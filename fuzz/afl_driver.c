/* afl_driver.c - AFL++ persistent-mode main for a target: test cases come
 * through shared memory and run in a loop of up to 10000 per fork.
 * Built only by afl-build.sh with afl-clang-fast, which defines the
 * __AFL_* macros. Also accepts a file argument to replay one input. */
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

__AFL_FUZZ_INIT();

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  if (argc > 1) { /* replay one file outside afl-fuzz */
    static uint8_t buf[1 << 20];
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 1;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
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
