/*
 * test_netfuzz_broker.c - netfuzz/broker.h and netfuzz/liveness.h.
 *
 * Pure cases: sanitizer-report signatures on canned ASan/UBSan/LSan/MSan/TSan
 * texts written for this test, and AFL bucket logic of the coverage
 * accumulator. Live cases run real processes on loopback: Debian's mosquitto
 * (absent = failure), a small Python fake broker (tests write it to a temp
 * directory) that crashes, prints a sanitizer report, ignores SIGTERM, forks
 * a child or answers only part of the liveness handshake, and a tiny broker
 * compiled with afl-clang-fast to show the coverage map filling.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker.h"
#include "liveness.h"

static char tmpdir[128];

static void path_in(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void sleep_ms(unsigned ms) {
  usleep(ms * 1000u);
}

/* ---- sanitizer reports ------------------------------------------------------ */

static const char ASAN_HBO[] =
    "1796644151: mosquitto-like broker starting\n"
    "=================================================================\n"
    "==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000031 at pc "
    "0x55d5c4a1b2c3 bp 0x7ffd1 sp 0x7ffd0\n"
    "READ of size 4 at 0x602000000031 thread T0\n"
    "    #0 0x7f11aa in __interceptor_memcpy "
    "../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:827\n"
    "    #1 0x55d5c4a1b2c3 in props_copy /src/brk/props.c:42:10\n"
    "    #2 0x55d5c4a1b400 in handle_publish /src/brk/publish.c:120:3\n"
    "    #3 0x55d5c4a1b500 in packet_dispatch /src/brk/read.c:88:5\n"
    "    #4 0x55d5c4a1b600 in main /src/brk/main.c:10:3\n"
    "    #5 0x7f11bb in __libc_start_main (/lib/x86_64-linux-gnu/libc.so.6+0x29d90)\n"
    "\n"
    "0x602000000031 is located 0 bytes to the right of 1-byte region\n"
    "allocated by thread T0 here:\n"
    "    #0 0x7f11cc in malloc (/lib/x86_64-linux-gnu/libasan.so.8+0xbd8a8)\n"
    "    #1 0x55d5c4a1b700 in props_new /src/brk/props.c:12:9\n"
    "\n"
    "SUMMARY: AddressSanitizer: heap-buffer-overflow /src/brk/props.c:42:10 in props_copy\n"
    "Shadow bytes around the buggy address:\n"
    "==4242==ABORTING\n";

/* The same bug in another run: other pid, addresses and ASLR base. */
static const char ASAN_HBO_RERUN[] =
    "==917==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x603000000771 at pc "
    "0x5612aa000010 bp 0x7ffe9 sp 0x7ffe8\n"
    "READ of size 4 at 0x603000000771 thread T0\n"
    "    #0 0x7f2299 in __interceptor_memcpy "
    "../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:827\n"
    "    #1 0x5612aa000010 in props_copy /src/brk/props.c:42:10\n"
    "    #2 0x5612aa000110 in handle_publish /src/brk/publish.c:120:3\n"
    "    #3 0x5612aa000210 in packet_dispatch /src/brk/read.c:88:5\n"
    "SUMMARY: AddressSanitizer: heap-buffer-overflow /src/brk/props.c:42:10 in props_copy\n";

static const char ASAN_SEGV_UNSYMBOLISED[] =
    "AddressSanitizer:DEADLYSIGNAL\n"
    "=================================================================\n"
    "==77==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc 0x4f00 bp 0x1 sp "
    "0x2 T0)\n"
    "==77==The signal is caused by a READ memory access.\n"
    "==77==Hint: address points to the zero page.\n"
    "    #0 0x4a in __asan_memcpy (/opt/brokerd/bin/brokerd+0x4a)\n"
    "    #1 0x4f00 (/opt/brokerd/bin/brokerd+0x4f00)\n"
    "    #2 0x5a10 in route_message+0x1f (/opt/brokerd/bin/brokerd+0x5a10)\n"
    "    #3 0x7f00 (/lib/x86_64-linux-gnu/libc.so.6+0x29d90)\n"
    "\n"
    "AddressSanitizer can not provide additional info.\n"
    "SUMMARY: AddressSanitizer: SEGV (/opt/brokerd/bin/brokerd+0x4f00)\n"
    "==77==ABORTING\n";

static const char UBSAN_NOSTACK[] =
    "listening on 1883\n"
    "/home/ci/brk/src/topic.c:88:17: runtime error: signed integer overflow: 2147483647 + 1 "
    "cannot be represented in type 'int'\n"
    "SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior /home/ci/brk/src/topic.c:88:17 in \n";

static const char UBSAN_STACK[] =
    "src/alias.c:31:9: runtime error: index 70 out of bounds for type 'uint16_t [64]'\n"
    "    #0 0x4a in alias_set /src/alias.c:31:9\n"
    "    #1 0x4b in handle_publish /src/publish.c:77:5\n"
    "    #2 0x4c in packet_dispatch /src/read.c:88:5\n"
    "    #3 0x4d in main /src/main.c:10:3\n";

static const char LSAN[] = "clean shutdown\n"
                           "\n"
                           "=================================================================\n"
                           "==31==ERROR: LeakSanitizer: detected memory leaks\n"
                           "\n"
                           "Direct leak of 96 byte(s) in 2 object(s) allocated from:\n"
                           "    #0 0x7f01 in __interceptor_calloc "
                           "../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:77\n"
                           "    #1 0x5501 in session_new /src/session.c:20:14\n"
                           "    #2 0x5502 in on_connect /src/connect.c:51:7\n"
                           "    #3 0x5503 in loop_run /src/loop.c:300:9\n"
                           "    #4 0x5504 in main /src/main.c:12:3\n"
                           "\n"
                           "Indirect leak of 8 byte(s) in 1 object(s) allocated from:\n"
                           "    #0 0x7f02 in malloc (/usr/lib/libasan.so.8+0xbd8a8)\n"
                           "    #1 0x5505 in str_dup /src/util.c:5:3\n"
                           "\n"
                           "SUMMARY: AddressSanitizer: 104 byte(s) leaked in 3 allocation(s).\n";

static const char TSAN_CPP[] =
    "==================\n"
    "WARNING: ThreadSanitizer: data race (pid=5150)\n"
    "  Write of size 4 at 0x7b0400000000 by thread T1:\n"
    "    #0 pthread_mutex_lock <null> (libtsan.so.2+0x5a2b1)\n"
    "    #1 Broker::route(Message const&, int) /src/broker.cc:12:5 (brokerd+0x4f1a)\n"
    "    #2 std::vector<int, std::allocator<int> >::push_back(int&&) /usr/include/c++/12/bits/"
    "stl_vector.h:1294 (brokerd+0x4f2b)\n"
    "\n"
    "  Previous read of size 4 at 0x7b0400000000 by main thread:\n"
    "    #0 Broker::stats() /src/broker.cc:40:10 (brokerd+0x5000)\n"
    "SUMMARY: ThreadSanitizer: data race /src/broker.cc:12:5 in Broker::route(Message const&, "
    "int)\n";

static const char MSAN_NO_SUMMARY[] = "==9==WARNING: MemorySanitizer: use-of-uninitialized-value\n"
                                      "    #0 0x1 in parse_connect /src/connect.c:9:3\n";

static const char NO_REPORT[] = "1796644151: mosquitto version 2.0.11 starting\n"
                                "1796644151: Opening ipv4 listen socket on port 1883.\n"
                                "Segmentation fault (core dumped)\n"
                                "AddressSanitizer:DEADLYSIGNAL\n"
                                "WARNING: AddressSanitizer failed to allocate 0x100 bytes\n";

static void check_report(const char *log, const char *want_sig, const char *want_summary) {
  char sig[256], sum[256];
  memset(sig, 'x', sizeof sig), memset(sum, 'x', sizeof sum);
  assert_true(mqz_sanitizer_report(log, strlen(log), sig, sizeof sig, sum, sizeof sum));
  assert_string_equal(sig, want_sig);
  assert_string_equal(sum, want_summary);
}

static void test_sanitizer_asan(void **state) {
  (void)state;
  check_report(ASAN_HBO,
               "AddressSanitizer:heap-buffer-overflow:props_copy:handle_publish:packet_dispatch",
               "SUMMARY: AddressSanitizer: heap-buffer-overflow /src/brk/props.c:42:10 in "
               "props_copy");
  /* Dedupe: another run of the same bug gives the same signature. */
  char a[256], b[256];
  assert_true(mqz_sanitizer_report(ASAN_HBO, strlen(ASAN_HBO), a, sizeof a, NULL, 0));
  assert_true(mqz_sanitizer_report(ASAN_HBO_RERUN, strlen(ASAN_HBO_RERUN), b, sizeof b, NULL, 0));
  assert_string_equal(a, b);
  check_report(ASAN_SEGV_UNSYMBOLISED, "AddressSanitizer:SEGV:brokerd+0x4f00:route_message",
               "SUMMARY: AddressSanitizer: SEGV (/opt/brokerd/bin/brokerd+0x4f00)");
}

static void test_sanitizer_ubsan(void **state) {
  (void)state;
  check_report(UBSAN_NOSTACK, "UndefinedBehaviorSanitizer:signed-integer-overflow:topic.c:88",
               "SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior "
               "/home/ci/brk/src/topic.c:88:17 in");
  check_report(UBSAN_STACK,
               "UndefinedBehaviorSanitizer:index-out-of-bounds-for-type:alias_set:handle_"
               "publish:packet_dispatch",
               "src/alias.c:31:9: runtime error: index 70 out of bounds for type 'uint16_t [64]'");
}

/* Every direct leak is named, not only the biggest (listed first): which one
 * comes first changes with the sessions that ran. Indirect leaks only when
 * there is no direct one. */
static void test_leak_sigs(void **state) {
  (void)state;
  static const char two[] = "==7==ERROR: LeakSanitizer: detected memory leaks\n"
                            "\n"
                            "Direct leak of 800 byte(s) in 9 object(s) allocated from:\n"
                            "    #0 0x1 in __interceptor_calloc x.cpp:77\n"
                            "    #1 0x2 in will_read /src/connect.c:343\n"
                            "    #2 0x3 in handle_connect /src/connect.c:657\n"
                            "\n"
                            "Indirect leak of 8 byte(s) in 1 object(s) allocated from:\n"
                            "    #0 0x4 in malloc x.cpp:69\n"
                            "    #1 0x5 in str_dup /src/util.c:5\n"
                            "\n"
                            "Direct leak of 40 byte(s) in 1 object(s) allocated from:\n"
                            "    #0 0x6 in malloc x.cpp:69\n"
                            "    #1 0x7 in msg_store /src/db.c:12\n"
                            "    #2 0x8 in handle_publish /src/pub.c:99\n"
                            "\n"
                            "SUMMARY: AddressSanitizer: 848 byte(s) leaked in 11 allocation(s).\n";
  char sigs[4][256];
  assert_int_equal(mqz_leak_sigs(two, strlen(two), sigs, 4), 2);
  assert_string_equal(sigs[0], "LeakSanitizer:direct-leak:will_read:handle_connect");
  assert_string_equal(sigs[1], "LeakSanitizer:direct-leak:msg_store:handle_publish");
  assert_int_equal(mqz_leak_sigs(two, strlen(two), sigs, 1), 1);
  assert_int_equal(mqz_leak_sigs(LSAN, strlen(LSAN), sigs, 4), 1);
  assert_string_equal(sigs[0], "LeakSanitizer:direct-leak:session_new:on_connect:loop_run");
  static const char indirect[] = "==7==ERROR: LeakSanitizer: detected memory leaks\n\n"
                                 "Indirect leak of 8 byte(s) in 1 object(s) allocated from:\n"
                                 "    #0 0x4 in malloc x.cpp:69\n"
                                 "    #1 0x5 in str_dup /src/util.c:5\n\n";
  assert_int_equal(mqz_leak_sigs(indirect, strlen(indirect), sigs, 4), 1);
  assert_string_equal(sigs[0], "LeakSanitizer:indirect-leak:str_dup");
  assert_int_equal(mqz_leak_sigs(ASAN_HBO, strlen(ASAN_HBO), sigs, 4), 0);
  assert_int_equal(mqz_leak_sigs(NULL, 0, sigs, 4), 0);
}

static void test_sanitizer_lsan_tsan_msan(void **state) {
  (void)state;
  check_report(LSAN, "LeakSanitizer:direct-leak:session_new:on_connect:loop_run",
               "SUMMARY: AddressSanitizer: 104 byte(s) leaked in 3 allocation(s).");
  check_report(TSAN_CPP,
               "ThreadSanitizer:data-race:Broker::route(Message const&, int):std::vector<int, "
               "std::allocator<int> >::push_back(int&&)",
               "SUMMARY: ThreadSanitizer: data race /src/broker.cc:12:5 in Broker::route(Message "
               "const&, int)");
  check_report(MSAN_NO_SUMMARY, "MemorySanitizer:use-of-uninitialized-value:parse_connect",
               "WARNING: MemorySanitizer: use-of-uninitialized-value");
}

static void test_sanitizer_edges(void **state) {
  (void)state;
  char sig[64] = "junk", sum[64] = "junk";
  /* A plain crash: no report, outputs cleared. */
  assert_false(
      mqz_sanitizer_report(NO_REPORT, strlen(NO_REPORT), sig, sizeof sig, sum, sizeof sum));
  assert_string_equal(sig, "");
  assert_string_equal(sum, "");
  assert_false(mqz_sanitizer_report(NULL, 0, sig, sizeof sig, sum, sizeof sum));
  assert_false(mqz_sanitizer_report("", 0, NULL, 0, NULL, 0));
  /* The first report wins when two are in the log. */
  char two[4096];
  snprintf(two, sizeof two, "%s%s", UBSAN_NOSTACK, ASAN_HBO);
  assert_true(mqz_sanitizer_report(two, strlen(two), sig, sizeof sig, NULL, 0));
  assert_string_equal(sig, "UndefinedBehaviorSanitizer:signed-integer-overflow:topic.c:88");
  /* Small buffers truncate and stay terminated. */
  char tiny[12];
  assert_true(mqz_sanitizer_report(ASAN_HBO, strlen(ASAN_HBO), tiny, sizeof tiny, NULL, 0));
  assert_string_equal(tiny, "AddressSani");
  /* Every prefix of a report is handled without reading past n (ASan
   * checks: the copy has no terminator). */
  size_t n = strlen(ASAN_HBO);
  for (size_t k = 0; k <= n; k++) {
    char *copy = malloc(k ? k : 1);
    assert_non_null(copy);
    memcpy(copy, ASAN_HBO, k);
    (void)mqz_sanitizer_report(copy, k, sig, sizeof sig, sum, sizeof sum);
    assert_true(strlen(sig) < sizeof sig && strlen(sum) < sizeof sum);
    free(copy);
  }
  /* Without SUMMARY the type comes from the header, addresses dropped. */
  const char *uaf = "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x6 at pc 0x7\n"
                    "    #0 0x1 in will_send /src/will.c:3:1\n";
  assert_true(mqz_sanitizer_report(uaf, strlen(uaf), sig, sizeof sig, NULL, 0));
  assert_string_equal(sig, "AddressSanitizer:heap-use-after-free:will_send");
}

/* ---- coverage -------------------------------------------------------------- */

static void test_cov_buckets(void **state) {
  (void)state;
  mqz_cov c;
  assert_int_equal(mqz_cov_init(&c, 64), 0);
  uint8_t map[64] = {0};
  assert_int_equal(mqz_cov_merge(&c, map, sizeof map), 0); /* nothing hit */
  map[3] = 1, map[40] = 1;
  assert_int_equal(mqz_cov_merge(&c, map, sizeof map), 2);
  assert_int_equal(c.edges, 2);
  for (size_t i = 0; i < sizeof map; i++)
    assert_int_equal(map[i], 0); /* cleared */
  map[3] = 1;
  assert_int_equal(mqz_cov_merge(&c, map, sizeof map), 0); /* same edge, same bucket */
  /* Each bucket is new once: 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
  static const struct {
    uint8_t hits;
    size_t fresh;
  } steps[] = {{2, 1},  {3, 1},  {4, 1},   {7, 0},   {5, 0},   {8, 1},   {15, 0}, {16, 1},
               {31, 0}, {32, 1}, {127, 0}, {128, 1}, {255, 0}, {200, 0}, {1, 0},  {6, 0}};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    map[3] = steps[i].hits;
    assert_int_equal(mqz_cov_merge(&c, map, sizeof map), steps[i].fresh);
  }
  assert_int_equal(c.edges, 2); /* still two edges: buckets are not edges */
  /* Several at once, in the zero-skipping words and the tail alike. */
  map[0] = 1, map[9] = 2, map[63] = 3, map[40] = 1;
  assert_int_equal(mqz_cov_merge(&c, map, sizeof map), 3);
  assert_int_equal(c.edges, 5);
  /* A bigger map than the accumulator: the extra is cleared, not counted. */
  uint8_t big[80] = {0};
  big[70] = 1, big[62] = 1;
  assert_int_equal(mqz_cov_merge(&c, big, sizeof big), 1);
  assert_int_equal(big[70], 0);
  assert_int_equal(c.edges, 6);
  mqz_cov_free(&c);
  assert_null(c.virgin);
  mqz_cov_free(&c);
  assert_int_equal(mqz_cov_init(&c, 0), -1);
  assert_int_equal(mqz_cov_merge(&c, map, sizeof map), 0);
}

/* ---- live: helpers --------------------------------------------------------- */

/* The fake broker: python3 fake.py PORT MODE. Listens on PORT, then:
 *   serve    accept and hold connections (prints its open fds first)
 *   segv     dies by SIGSEGV 200 ms after listening
 *   asan     prints a canned ASan report and exits 1 after 200 ms
 *   noterm   ignores SIGTERM
 *   child    starts `sleep 30` in its group and prints "child PID"
 *   half     answers CONNACK and SUBACK, then never the PUBLISH
 *   qos0     5.0 with Maximum QoS 0: echoes a QoS 0 PUBLISH, drops QoS 1
 *   stale    acknowledges the PUBLISH but delivers another payload instead */
static const char FAKE_PY[] =
    "import os, signal, socket, subprocess, sys, time\n"
    "if os.environ.get('AFL_DUMP_MAP_SIZE'): print(100000); sys.exit(255)\n"
    "port, mode = int(sys.argv[1]), sys.argv[2]\n"
    "print('fds', sorted(int(f) for f in os.listdir('/proc/self/fd')), flush=True)\n"
    "print('env', os.environ.get('MQZ_TEST_ENV'), os.environ.get('__AFL_SHM_ID'),"
    " os.environ.get('AFL_MAP_SIZE'), flush=True)\n"
    "if mode == 'noterm': signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "if mode == 'child':\n"
    "    p = subprocess.Popen(['sleep', '30'])\n"
    "    print('child', p.pid, flush=True)\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', port)); s.listen(64)\n"
    "print('listening', port, flush=True)\n"
    "if mode == 'segv': time.sleep(0.2); os.kill(os.getpid(), signal.SIGSEGV)\n"
    "if mode == 'asan':\n"
    "    time.sleep(0.2)\n"
    "    sys.stderr.write('==5==ERROR: AddressSanitizer: heap-use-after-free on address 0x6 "
    "at pc 0x7\\n    #0 0x1 in will_send /src/will.c:3:1\\n    #1 0x2 in session_end "
    "/src/s.c:9:2\\nSUMMARY: AddressSanitizer: heap-use-after-free /src/will.c:3:1 in "
    "will_send\\n')\n"
    "    sys.exit(1)\n"
    "def packet(c):\n"
    "    h = c.recv(1)\n"
    "    if not h: return None, None\n"
    "    n, m = 0, 1\n"
    "    while True:\n"
    "        b = c.recv(1)[0]; n += (b & 127) * m; m *= 128\n"
    "        if b < 128: break\n"
    "    body = b''\n"
    "    while len(body) < n: body += c.recv(n - len(body))\n"
    "    return h[0] >> 4, h + bytes([n]) + body if n < 128 else None\n"
    "held = []\n"
    "while True:\n"
    "    c, _ = s.accept(); held.append(c)\n"
    "    if mode == 'qos0':\n"
    "        c.settimeout(2)\n"
    "        try:\n"
    "            if packet(c)[0] == 1: c.sendall(bytes([0x20, 5, 0, 0, 2, 0x24, 0]))\n"
    "            if packet(c)[0] == 8: c.sendall(bytes([0x90, 4, 0, 1, 0, 0]))\n"
    "            t, raw = packet(c)\n"
    "            if t == 3 and raw[0] == 0x30: c.sendall(raw)\n"
    "        except Exception: pass\n"
    "    if mode == 'stale':\n"
    "        c.settimeout(2)\n"
    "        try:\n"
    "            if packet(c)[0] == 1: c.sendall(bytes([0x20, 2, 0, 0]))\n"
    "            if packet(c)[0] == 8: c.sendall(bytes([0x90, 3, 0, 1, 1]))\n"
    "            t, raw = packet(c)\n"
    "            tl = raw[2] * 256 + raw[3]\n"
    "            topic, pid = raw[4:4 + tl], raw[4 + tl:6 + tl]\n"
    "            body = bytes([0, tl]) + topic + b'stale'\n"
    "            c.sendall(bytes([0x30, len(body)]) + body + bytes([0x40, 2]) + pid)\n"
    "        except Exception: pass\n"
    "    if mode != 'half': continue\n"
    "    c.settimeout(2)\n"
    "    try:\n"
    "        if packet(c)[0] == 1: c.sendall(bytes([0x20, 2, 0, 0]))\n"
    "        if packet(c)[0] == 8: c.sendall(bytes([0x90, 3, 0, 1, 1]))\n"
    "    except Exception: pass\n";

static void fake_cmd(char *out, size_t cap, const char *mode) {
  snprintf(out, cap, "/usr/bin/python3 %s/fake.py {port} %s", tmpdir, mode);
}

/* Every broker a test starts, so the group teardown stops what a failing
 * test (cmocka jumps out of it) left running: mosquitto drops root to its own
 * user, which clears PR_SET_PDEATHSIG, so it would outlive us. */
static mqz_broker *started[16];

static void track(mqz_broker *b) {
  for (size_t i = 0; i < sizeof started / sizeof started[0]; i++)
    if (!started[i]) {
      started[i] = b;
      return;
    }
  fail_msg("more than 16 brokers at once");
}

static void release(mqz_broker *b) {
  for (size_t i = 0; i < sizeof started / sizeof started[0]; i++)
    if (started[i] == b) started[i] = NULL;
  mqz_broker_free(b);
}

/* afl: 0 no map, 1 a map of the size the broker asks for, else that size. */
static mqz_broker *start_ok(const char *cmd, const char *log, size_t afl) {
  char path[256], err[1024];
  path_in(path, sizeof path, log);
  mqz_broker_opts o = {.cmd = cmd,
                       .log_path = path,
                       .start_timeout_ms = 5000,
                       .afl_map = afl != 0,
                       .afl_map_size = afl > 1 ? afl : 0};
  mqz_broker *b = NULL;
  int r = mqz_broker_start(&o, &b, err, sizeof err);
  if (r != 0) fail_msg("start `%s`: %s", cmd, err);
  assert_non_null(b);
  track(b);
  return b;
}

static bool wait_dead(mqz_broker *b, char *why, size_t cap, unsigned ms) {
  for (unsigned i = 0; i < ms / 10; i++) {
    if (mqz_broker_dead(b, why, cap)) return true;
    sleep_ms(10);
  }
  return mqz_broker_dead(b, why, cap);
}

static char *log_text(mqz_broker *b) {
  char *text = NULL;
  size_t n = 0;
  assert_int_equal(mqz_broker_log_since_start(b, &text, &n), 0);
  assert_non_null(text);
  assert_int_equal(strlen(text), n);
  return text;
}

/* Waits until the log holds needle (the broker writes it asynchronously). */
static char *log_wait_for(mqz_broker *b, const char *needle) {
  for (int i = 0; i < 200; i++) {
    char *t = log_text(b);
    if (strstr(t, needle)) return t;
    free(t);
    sleep_ms(10);
  }
  char *t = log_text(b);
  fail_msg("log never showed \"%s\"; it has:\n%s", needle, t);
  free(t);
  return NULL;
}

static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

static int dial_raw(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {
      .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static uint16_t free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
  close(fd);
  return ntohs(a.sin_port);
}

static mqn_url url_for(uint16_t port) {
  char s[64];
  mqn_url u;
  snprintf(s, sizeof s, "tcp://127.0.0.1:%u", port);
  assert_int_equal(mqn_url_parse(s, &u), MQN_OK);
  return u;
}

/* ---- live: mosquitto --------------------------------------------------------- */

static void test_mosquitto_lifecycle(void **state) {
  (void)state;
  mqz_broker *b = start_ok("/usr/sbin/mosquitto -p {port}", "mosq.log", 0);
  uint16_t port = mqz_broker_port(b);
  int pid = mqz_broker_pid(b);
  assert_true(port > 0);
  assert_true(pid > 0);
  char why[128];
  assert_false(mqz_broker_dead(b, why, sizeof why));
  assert_string_equal(why, "");
  char *t = log_wait_for(b, "mosquitto version");
  free(t);

  /* Alive by the probe, in 3.1.1 and 5.0. */
  mqn_url u = url_for(port);
  assert_int_equal(mqz_liveness(&u, NULL, MQC_V311, "mqz-live-4", NULL, NULL, "mqz/live/4", 2000,
                                why, sizeof why),
                   0);
  assert_string_equal(why, "");
  assert_int_equal(mqz_liveness(&u, NULL, MQC_V5, "mqz-live-5", "user", "pass", "mqz/live/5", 2000,
                                why, sizeof why),
                   0);

  /* Descriptors and memory grow with held connections. */
  uint64_t rss0 = 0, rss1 = 0;
  unsigned fds0 = 0, fds1 = 0;
  assert_int_equal(mqz_broker_sample(b, &rss0, &fds0), 0);
  assert_true(rss0 > 0 && fds0 >= 3);
  int socks[40];
  for (int i = 0; i < 40; i++)
    assert_true((socks[i] = dial_raw(port)) >= 0);
  /* The probes' connections may still be closing in fds0: some slack. */
  for (int i = 0; i < 200 && fds1 < fds0 + 36; i++) {
    sleep_ms(10);
    assert_int_equal(mqz_broker_sample(b, &rss1, &fds1), 0);
  }
  assert_true(fds1 >= fds0 + 36);
  for (int i = 0; i < 40; i++)
    close(socks[i]);

  /* Trimming the log: nothing to do under the bound; over it the file is
   * emptied and the broker goes on appending from the start. */
  char path[256];
  struct stat sb;
  path_in(path, sizeof path, "mosq.log");
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(mqz_broker_log_trim(b, (uint64_t)sb.st_size + 4096), 0);
  assert_int_equal(mqz_broker_log_trim(b, 10), 1);
  t = log_text(b);
  assert_null(strstr(t, "mosquitto version"));
  free(t);
  assert_int_equal(mqz_liveness(&u, NULL, MQC_V311, "mqz-live-t", NULL, NULL, "mqz/live/t", 2000,
                                why, sizeof why),
                   0);
  free(log_wait_for(b, "mqz-live-t"));
  assert_int_equal(stat(path, &sb), 0);
  assert_true(sb.st_size < 4096); /* appended at the new start, no hole */

  /* Restart: a new process, the log starts afresh, alive again. */
  assert_int_equal(mqz_broker_restart(b, why, sizeof why), 0);
  assert_true(mqz_broker_pid(b) != pid);
  assert_int_equal(kill(pid, 0), -1); /* the old one is gone (and reaped) */
  t = log_wait_for(b, "mosquitto version");
  assert_int_equal(count_of(t, " starting"), 1);
  free(t);
  u = url_for(mqz_broker_port(b));
  assert_int_equal(mqz_liveness(&u, NULL, MQC_V311, "mqz-live-r", NULL, NULL, "mqz/live/r", 2000,
                                why, sizeof why),
                   0);

  /* Stop: gone, port closed, reported as not running; idempotent. */
  pid = mqz_broker_pid(b);
  port = mqz_broker_port(b);
  mqz_broker_stop(b);
  assert_true(mqz_broker_dead(b, why, sizeof why));
  assert_string_equal(why, "not running");
  assert_int_equal(kill(pid, 0), -1);
  assert_int_equal(dial_raw(port), -1);
  assert_int_equal(mqz_broker_sample(b, NULL, NULL), -1);
  mqz_broker_stop(b);
  release(b);
  mqz_broker_free(NULL);
}

/* The probe over WebSocket, against mosquitto started the way a broker that
 * needs a config file is: a wrapper that writes it, then execs the broker.
 * (mosquitto 2.0 will not run with only WebSocket listeners: a plain one
 * keeps it up.) */
static void test_mosquitto_ws(void **state) {
  (void)state;
  char cmd[1024], why[256];
  snprintf(cmd, sizeof cmd,
           "sh -c 'printf \"listener {port} 127.0.0.1\\nprotocol websockets\\n"
           "allow_anonymous true\\nlistener %u 127.0.0.1\\n\" >%s/ws.conf && "
           "exec /usr/sbin/mosquitto -c %s/ws.conf'",
           free_port(), tmpdir, tmpdir);
  mqz_broker *b = start_ok(cmd, "mosq-ws.log", 0);
  char url[64];
  mqn_url u;
  snprintf(url, sizeof url, "ws://127.0.0.1:%u/mqtt", mqz_broker_port(b));
  assert_int_equal(mqn_url_parse(url, &u), MQN_OK);
  int r = mqz_liveness(&u, NULL, MQC_V5, "mqz-ws", NULL, NULL, "mqz/ws", 2000, why, sizeof why);
  if (r != 0) fail_msg("ws probe: %s", why);
  release(b);
}

/* ---- live: crashes and process handling ---------------------------------------- */

static void test_crash_before_listening(void **state) {
  (void)state;
  char path[256], err[1024];
  path_in(path, sizeof path, "crash.log");
  mqz_broker_opts o = {.cmd = "sh -c 'echo about to crash on {port}; kill -SEGV $$'",
                       .log_path = path};
  mqz_broker *b = (mqz_broker *)&o; /* must be reset to NULL */
  assert_int_equal(mqz_broker_start(&o, &b, err, sizeof err), -1);
  assert_null(b);
  assert_non_null(strstr(err, "killed by signal 11 (SIGSEGV) before accepting"));
  assert_non_null(strstr(err, "about to crash on "));
  /* Exit status, and a command that is not there. */
  o.cmd = "sh -c 'exit 3'";
  assert_int_equal(mqz_broker_start(&o, &b, err, sizeof err), -1);
  assert_non_null(strstr(err, "exited with status 3"));
  o.cmd = "/nonexistent/brokerd -p {port}";
  assert_int_equal(mqz_broker_start(&o, &b, err, sizeof err), -1);
  assert_non_null(strstr(err, "exited with status 127"));
  assert_non_null(strstr(err, "nonexistent"));
  /* Bad options. */
  o.cmd = NULL;
  assert_int_equal(mqz_broker_start(&o, &b, err, sizeof err), -1);
  assert_non_null(strstr(err, "required"));
}

/* Waits until pid has exited and is not reaped yet (state Z in
 * /proc/PID/stat). */
static bool wait_zombie(int pid, int ms) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  for (int waited = 0; waited < ms; waited += 10) {
    FILE *f = fopen(path, "re");
    char line[512] = "";
    if (f) {
      if (!fgets(line, sizeof line, f)) line[0] = '\0';
      fclose(f);
    }
    const char *close_paren = strrchr(line, ')');
    if (close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z') return true;
    usleep(10000);
  }
  return false;
}

static void test_crash_while_running(void **state) {
  (void)state;
  char cmd[512], why[128];
  fake_cmd(cmd, sizeof cmd, "segv");
  mqz_broker *b = start_ok(cmd, "segv.log", 0);
  assert_true(wait_dead(b, why, sizeof why, 3000));
  assert_string_equal(why, "killed by signal 11 (SIGSEGV)");
  assert_true(mqz_broker_dead(b, why, sizeof why)); /* stays dead, same text */
  assert_string_equal(why, "killed by signal 11 (SIGSEGV)");
  char *t = log_text(b);
  assert_non_null(strstr(t, "listening"));
  assert_false(mqz_sanitizer_report(t, strlen(t), NULL, 0, NULL, 0));
  free(t);
  /* Restart after a crash brings it back. */
  assert_int_equal(mqz_broker_restart(b, why, sizeof why), 0);
  assert_false(mqz_broker_dead(b, NULL, 0));
  release(b);

  /* A sanitizer report: exit status 1 and the report in the log. */
  fake_cmd(cmd, sizeof cmd, "asan");
  b = start_ok(cmd, "asan.log", 0);
  assert_true(wait_dead(b, why, sizeof why, 3000));
  assert_string_equal(why, "exited with status 1");
  t = log_text(b);
  char sig[128];
  assert_true(mqz_sanitizer_report(t, strlen(t), sig, sizeof sig, NULL, 0));
  assert_string_equal(sig, "AddressSanitizer:heap-use-after-free:will_send:session_end");
  free(t);
  release(b);

  /* A log trimmed between sessions while the broker has just died, not yet
   * seen dead (a zombie): the report stays, the crash keeps its signature. */
  b = start_ok(cmd, "asan-trim.log", 0);
  free(log_wait_for(b, "SUMMARY: AddressSanitizer"));
  assert_true(wait_zombie(mqz_broker_pid(b), 3000));
  assert_int_equal(mqz_broker_log_trim(b, 10), 0);
  assert_true(mqz_broker_dead(b, why, sizeof why));
  assert_string_equal(why, "exited with status 1");
  t = log_text(b);
  assert_true(mqz_sanitizer_report(t, strlen(t), sig, sizeof sig, NULL, 0));
  assert_string_equal(sig, "AddressSanitizer:heap-use-after-free:will_send:session_end");
  free(t);
  release(b);
}

static void test_start_timeout(void **state) {
  (void)state;
  char path[256], err[1024];
  path_in(path, sizeof path, "slow.log");
  mqz_broker_opts o = {
      .cmd = "sh -c 'echo never listening; sleep 30'", .log_path = path, .start_timeout_ms = 300};
  mqz_broker *b = NULL;
  int64_t t0 = mqn_now_ms();
  assert_int_equal(mqz_broker_start(&o, &b, err, sizeof err), -1);
  int64_t took = mqn_now_ms() - t0;
  assert_true(took >= 300 && took < 2000);
  assert_non_null(strstr(err, "did not accept on 127.0.0.1:"));
  assert_non_null(strstr(err, "within 300 ms"));
  assert_non_null(strstr(err, "never listening"));
}

/* --stack-kib: the broker runs with that stack limit (and without it, with
 * ours). */
static void test_stack_limit(void **state) {
  (void)state;
  char fake[512], cmd[700], path[256], err[1024];
  fake_cmd(fake, sizeof fake, "serve");
  snprintf(cmd, sizeof cmd, "/bin/sh -c 'echo stack $(ulimit -s); exec %s'", fake);
  for (int limited = 0; limited < 2; limited++) {
    path_in(path, sizeof path, limited ? "stack-1024.log" : "stack-default.log");
    mqz_broker_opts o = {
        .cmd = cmd, .log_path = path, .start_timeout_ms = 5000, .stack_kib = limited ? 1024 : 0};
    mqz_broker *b = NULL;
    if (mqz_broker_start(&o, &b, err, sizeof err)) fail_msg("start: %s", err);
    track(b);
    char *t = log_wait_for(b, "listening");
    if (limited)
      assert_non_null(strstr(t, "stack 1024\n"));
    else
      assert_null(strstr(t, "stack 1024\n"));
    free(t);
    release(b);
  }
}

static void test_environment_and_fds(void **state) {
  (void)state;
  /* A descriptor of ours without close-on-exec must not reach the broker. */
  int devnull = open("/dev/null", O_RDONLY);
  int leak = fcntl(devnull, F_DUPFD, 100); /* above what Python opens itself */
  close(devnull);
  assert_true(leak >= 100);
  setenv("MQZ_TEST_ENV", "passed-through", 1);
  char cmd[512], want[64];
  fake_cmd(cmd, sizeof cmd, "serve");
  mqz_broker *b = start_ok(cmd, "env.log", 0);
  char *t = log_wait_for(b, "listening");
  assert_non_null(strstr(t, "env passed-through None None"));
  char *fds = strstr(t, "fds [");
  assert_non_null(fds);
  snprintf(want, sizeof want, " %d,", leak);
  assert_null(strstr(fds, want));
  snprintf(want, sizeof want, " %d]", leak);
  assert_null(strstr(fds, want));
  free(t);
  release(b);
  close(leak);
  unsetenv("MQZ_TEST_ENV");
  /* The AFL variables reach the broker when a map is asked for. */
  b = start_ok(cmd, "env-afl.log", 70000);
  t = log_wait_for(b, "listening");
  int shm = -1;
  char *e = strstr(t, "env None ");
  assert_non_null(e);
  assert_int_equal(sscanf(e, "env None %d 70000", &shm), 1);
  assert_true(shm >= 0);
  free(t);
  size_t n = 0;
  assert_non_null(mqz_broker_cov(b, &n));
  assert_int_equal(n, 70000);
  release(b);
  /* Size 0: the broker's AFL runtime is asked (AFL_DUMP_MAP_SIZE=1; the fake
   * answers 100000), rounded up to 64 bytes. */
  b = start_ok(cmd, "env-afl-auto.log", 1);
  t = log_wait_for(b, "listening");
  assert_non_null(strstr(t, " 100032\n"));
  free(t);
  assert_non_null(mqz_broker_cov(b, &n));
  assert_int_equal(n, 100032);
  release(b);
}

static void test_group_and_term(void **state) {
  (void)state;
  char cmd[512];
  /* The broker's own children die with it (process group). */
  fake_cmd(cmd, sizeof cmd, "child");
  mqz_broker *b = start_ok(cmd, "child.log", 0);
  char *t = log_wait_for(b, "listening");
  int child = 0;
  char *c = strstr(t, "child ");
  assert_non_null(c);
  assert_int_equal(sscanf(c, "child %d", &child), 1);
  free(t);
  assert_int_equal(kill(child, 0), 0);
  release(b);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; i++) {
    char path[64], st[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", child);
    FILE *f = fopen(path, "r");
    /* Gone, or a zombie waiting for init to reap it. */
    gone = !f || (fgets(st, sizeof st, f) && strstr(st, ") Z "));
    if (f) fclose(f);
    if (!gone) sleep_ms(10);
  }
  assert_true(gone);

  /* A broker that ignores SIGTERM is killed after the grace period. */
  fake_cmd(cmd, sizeof cmd, "noterm");
  b = start_ok(cmd, "noterm.log", 0);
  free(log_wait_for(b, "listening"));
  int pid = mqz_broker_pid(b);
  int64_t t0 = mqn_now_ms();
  mqz_broker_stop(b);
  int64_t took = mqn_now_ms() - t0;
  assert_true(took >= 1900 && took < 4000);
  assert_int_equal(kill(pid, 0), -1);
  char why[64];
  assert_true(mqz_broker_dead(b, why, sizeof why));
  release(b);
}

/* ---- live: liveness failures ---------------------------------------------------- */

static void test_liveness_not_alive(void **state) {
  (void)state;
  char why[256];
  /* A listener that never answers: the TCP handshake completes in the
   * kernel, CONNACK never comes. */
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s, 8), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
  uint16_t port = ntohs(a.sin_port);
  mqn_url u = url_for(port);
  int64_t t0 = mqn_now_ms();
  assert_int_equal(
      mqz_liveness(&u, NULL, MQC_V311, "mqz-l", NULL, NULL, "mqz/l", 300, why, sizeof why), -1);
  int64_t took = mqn_now_ms() - t0;
  assert_true(took >= 290 && took < 1500);
  assert_string_equal(why, "no CONNACK within 300 ms");
  close(s);

  /* Nothing listening any more: refused at once, long before the deadline. */
  t0 = mqn_now_ms();
  assert_int_equal(
      mqz_liveness(&u, NULL, MQC_V5, "mqz-l", NULL, NULL, "mqz/l", 5000, why, sizeof why), -1);
  assert_true(mqn_now_ms() - t0 < 1500);
  assert_non_null(strstr(why, "connect: "));

  /* A broker that connects and subscribes but never routes. */
  char cmd[512];
  fake_cmd(cmd, sizeof cmd, "half");
  mqz_broker *b = start_ok(cmd, "half.log", 0);
  int r;
  u = url_for(mqz_broker_port(b));
  t0 = mqn_now_ms();
  assert_int_equal(
      mqz_liveness(&u, NULL, MQC_V311, "mqz-h", NULL, NULL, "mqz/h", 400, why, sizeof why), -1);
  assert_true(mqn_now_ms() - t0 < 1500);
  assert_string_equal(why, "no PUBACK or PUBLISH echo within 400 ms");
  release(b);

  /* A broker that acknowledges but delivers something else is not alive. */
  fake_cmd(cmd, sizeof cmd, "stale");
  b = start_ok(cmd, "stale.log", 0);
  u = url_for(mqz_broker_port(b));
  assert_int_equal(
      mqz_liveness(&u, NULL, MQC_V311, "mqz-s", NULL, NULL, "mqz/s", 400, why, sizeof why), -1);
  assert_string_equal(why, "no PUBLISH echo within 400 ms");
  release(b);

  /* A QoS-0-only 5.0 server is alive when the QoS 0 message comes back. */
  fake_cmd(cmd, sizeof cmd, "qos0");
  b = start_ok(cmd, "qos0.log", 0);
  u = url_for(mqz_broker_port(b));
  r = mqz_liveness(&u, NULL, MQC_V5, "mqz-q", NULL, NULL, "mqz/q", 2000, why, sizeof why);
  if (r != 0) fail_msg("QoS 0 probe: %s", why);
  release(b);

  /* Bad arguments are an error, not a crash. */
  assert_int_equal(mqz_liveness(NULL, NULL, MQC_V311, "x", NULL, NULL, "t", 100, why, sizeof why),
                   -1);
  assert_int_equal(mqz_liveness(&u, NULL, MQC_V311, "x", NULL, NULL, "", 100, why, sizeof why), -1);
}

/* ---- live: AFL coverage map ------------------------------------------------------- */

/* A tiny broker, built with afl-clang-fast for the coverage test and with
 * -fsanitize=address for the real-report test: reads a few bytes per
 * connection, branches on them, answers "ok"; a first byte 'B' makes it
 * write past a 4-byte heap block (the planted bug). */
static const char TINY_C[] =
    "#include <arpa/inet.h>\n#include <netinet/in.h>\n#include <stdlib.h>\n"
    "#include <sys/socket.h>\n#include <unistd.h>\n"
    "static void store_byte(unsigned char *h, long at, unsigned char v) { h[at] = v; }\n"
    "static int handle(const unsigned char *b, long n) {\n"
    "  int score = 0;\n"
    "  if (n > 0 && b[0] == 'B') {\n"
    "    unsigned char *h = malloc(4);\n"
    "    store_byte(h, n, b[0]);\n"
    "    free(h);\n"
    "  }\n"
    "  if (n > 0 && b[0] == 'M') {\n"
    "    score++;\n"
    "    if (n > 1 && b[1] == 'Q') {\n"
    "      score++;\n"
    "      if (n > 2 && b[2] == 'T') score++;\n"
    "    }\n"
    "  }\n"
    "  return score;\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;\n"
    "  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);\n"
    "  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),\n"
    "                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};\n"
    "  if (argc < 2 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 8)) return 2;\n"
    "  for (;;) {\n"
    "    int c = accept(s, 0, 0);\n"
    "    unsigned char b[16];\n"
    "    long n = read(c, b, sizeof b);\n"
    "    int score = handle(b, n);\n"
    "    if (n > 0) write(c, score > 2 ? \"deep\" : \"ok\", score > 2 ? 4 : 2);\n"
    "    close(c);\n"
    "  }\n"
    "}\n";

/* Writes TINY_C and compiles it with cc_and_flags into tmpdir/name. */
static void build_tiny(const char *cc_and_flags, const char *name, char *bin, size_t cap) {
  char src[256], cmd[1024];
  path_in(src, sizeof src, "tiny.c");
  path_in(bin, cap, name);
  FILE *f = fopen(src, "w");
  assert_non_null(f);
  fputs(TINY_C, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s -w -o '%s' '%s' >'%s.out' 2>&1", cc_and_flags, bin, src, bin);
  if (system(cmd) != 0) fail_msg("cannot build the tiny broker: %s", cmd);
}

/* Waits until the broker sleeps (blocked in accept: it has nothing else to
 * wait for), so every edge of the last connection is in the map. */
static void cov_settle(int pid) {
  char path[64], st[256];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  for (int i = 0; i < 500; i++) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    bool got = fgets(st, sizeof st, f) != NULL;
    fclose(f);
    char *paren = got ? strrchr(st, ')') : NULL;
    if (paren && paren[1] == ' ' && paren[2] == 'S') return;
    sleep_ms(2);
  }
  fail_msg("broker %d never went back to sleep", pid);
}

/* Sends msg on a fresh connection and reads until the broker closes it. */
static void cov_poke(mqz_broker *b, const char *msg) {
  int fd = dial_raw(mqz_broker_port(b));
  assert_true(fd >= 0);
  assert_int_equal(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
  char buf[8];
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
  cov_settle(mqz_broker_pid(b));
}

static void test_afl_coverage(void **state) {
  (void)state;
  char bin[256], cmd[512];
  /* Debian's afl++ package; AFL_QUIET keeps its banner out. */
  build_tiny("AFL_QUIET=1 afl-clang-fast -O1", "tiny-afl", bin, sizeof bin);
  snprintf(cmd, sizeof cmd, "'%s' {port}", bin);
  mqz_broker *b = start_ok(cmd, "cov.log", 1);
  size_t n = 0;
  uint8_t *map = mqz_broker_cov(b, &n);
  assert_non_null(map);
  assert_int_equal(n, 65536);
  mqz_cov c;
  assert_int_equal(mqz_cov_init(&c, n), 0);
  /* Startup and the start probe's connection. */
  cov_settle(mqz_broker_pid(b));
  assert_true(mqz_cov_merge(&c, map, n) > 0);
  size_t base = c.edges;
  cov_poke(b, "xyz");
  size_t fresh = mqz_cov_merge(&c, map, n); /* the read-and-answer path */
  assert_true(fresh > 0);
  cov_poke(b, "xyz");
  assert_int_equal(mqz_cov_merge(&c, map, n), 0); /* same path, nothing new */
  cov_poke(b, "MQT");
  assert_true(mqz_cov_merge(&c, map, n) > 0); /* the nested branches */
  assert_true(c.edges > base);
  /* Restart keeps the map, cleared, and the new process fills it again. */
  char err[512];
  assert_int_equal(mqz_broker_restart(b, err, sizeof err), 0);
  map = mqz_broker_cov(b, &n);
  assert_non_null(map);
  cov_poke(b, "MQT");
  size_t hit = 0;
  for (size_t i = 0; i < n; i++)
    hit += map[i] != 0;
  assert_true(hit > 0);
  mqz_broker_stop(b);
  assert_null(mqz_broker_cov(b, &n));
  assert_int_equal(n, 0);
  release(b);
  mqz_cov_free(&c);
}

/* A real AddressSanitizer report from a real crash: the process exits 1,
 * the report is in the log, and the same bug gives the same signature after
 * a restart (new pid, new addresses). */
static void test_asan_broker(void **state) {
  (void)state;
  char bin[256], cmd[512], why[128], sig[2][256], sum[256];
  build_tiny("cc -g -O0 -fsanitize=address -fno-omit-frame-pointer", "tiny-asan", bin, sizeof bin);
  snprintf(cmd, sizeof cmd, "env ASAN_OPTIONS=detect_leaks=0 '%s' {port}", bin);
  mqz_broker *b = start_ok(cmd, "asan-real.log", 0);
  for (int run = 0; run < 2; run++) {
    if (run) assert_int_equal(mqz_broker_restart(b, why, sizeof why), 0);
    int fd = dial_raw(mqz_broker_port(b));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "BAD-overflow", 12), 12);
    char buf[8];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
    assert_true(wait_dead(b, why, sizeof why, 5000));
    assert_string_equal(why, "exited with status 1");
    char *t = log_text(b);
    if (!mqz_sanitizer_report(t, strlen(t), sig[run], sizeof sig[0], sum, sizeof sum))
      fail_msg("no report found in:\n%s", t);
    free(t);
  }
  assert_string_equal(sig[0], "AddressSanitizer:heap-buffer-overflow:store_byte:handle:main");
  assert_string_equal(sig[1], sig[0]);
  assert_non_null(strstr(sum, "SUMMARY: AddressSanitizer: heap-buffer-overflow"));
  release(b);
}

/* ---- main ------------------------------------------------------------------------ */

static int live_setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/mqz-broker-test-XXXXXX");
  if (!mkdtemp(tmpdir)) return -1;
  char path[256];
  path_in(path, sizeof path, "fake.py");
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(FAKE_PY, f);
  fclose(f);
  if (access("/usr/sbin/mosquitto", X_OK) != 0) {
    fprintf(stderr, "/usr/sbin/mosquitto is missing: run ci/bootstrap test\n");
    return -1;
  }
  return 0;
}

static int live_teardown(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof started / sizeof started[0]; i++)
    release(started[i]);
  if (tmpdir[0] && !getenv("MQZ_TEST_KEEP")) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
  }
  return 0;
}

int main(void) {
  const struct CMUnitTest pure[] = {
      cmocka_unit_test(test_sanitizer_asan),           cmocka_unit_test(test_sanitizer_ubsan),
      cmocka_unit_test(test_sanitizer_lsan_tsan_msan), cmocka_unit_test(test_leak_sigs),
      cmocka_unit_test(test_sanitizer_edges),          cmocka_unit_test(test_cov_buckets),
  };
  const struct CMUnitTest live[] = {
      cmocka_unit_test(test_mosquitto_lifecycle),
      cmocka_unit_test(test_mosquitto_ws),
      cmocka_unit_test(test_crash_before_listening),
      cmocka_unit_test(test_crash_while_running),
      cmocka_unit_test(test_start_timeout),
      cmocka_unit_test(test_environment_and_fds),
      cmocka_unit_test(test_group_and_term),
      cmocka_unit_test(test_stack_limit),
      cmocka_unit_test(test_liveness_not_alive),
      cmocka_unit_test(test_afl_coverage),
      cmocka_unit_test(test_asan_broker),
  };
  int fails = cmocka_run_group_tests_name("netfuzz_broker_pure", pure, NULL, NULL);
  fails += cmocka_run_group_tests_name("netfuzz_broker_live", live, live_setup, live_teardown);
  return fails ? 1 : 0;
}
