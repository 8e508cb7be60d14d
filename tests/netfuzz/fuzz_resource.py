#!/usr/bin/python3
"""fuzz_resource.py MQCHECK BROKER [BUG...] - `mqcheck fuzz` finds the planted
resource faults of planted_broker, which neither a crash, a lost block nor a
quiet RSS sample shows, from the suite's seeds (idlespin: the unsubscribe cases) with a fixed seed, within a
bounded number of sessions:

  bigalloc    the remaining length a header claims is allocated before the
              bytes come, untouched (as CVE-2017-7651, CVE-2023-0809): found
              as an ASan allocation-size-too-big crash, with
              max_allocation_size_mb=64 in ASAN_OPTIONS and the claim
              mutation (a header claiming up to 256 MiB, a few bytes sent);
  cpuburn     quadratic work in the number of a packet's properties (as
              CVE-2021-41039): found by the liveness probe (hang) once an
              expansion (a REPEAT record) sends a packet of 256 KiB-4 MiB;
  heldgrowth  1 MiB kept per QoS 2 PUBLISH repeating an identifier that
              awaits PUBREL, until the connection closes (as CVE-2023-28366):
              found by the held-memory oracle (--held-rss) once one packet is
              repeated thousands of times;
  idlespin    after an UNSUBSCRIBE directly followed by a PINGREQ the
              broker's loop polls with a zero timeout for good, still serving
              (as CVE-2023-5632's class: a busy loop at rest): found by the
              idle-CPU oracle (--idle-cpu) when the broker is measured at
              rest. Not in the default list (its own ctest, netfuzz_planted_idlecpu).
              Also checked: the same run with the oracle off (--idle-cpu 0)
              finds nothing, and `--replay FINDING --exec` reports it on the
              planted broker and not on one without the fault.

Each runs `mqcheck fuzz --exec "BROKER --port {port} --bugs BUG" --seed 1
--sessions LIMIT --max-findings 1 --no-spec --no-minimise` and checks: exit 1,
one finding, of the kind and with the words expected, pinned on one session
alone; for heldgrowth, that the README's `mqcheck fuzz --replay` command
judges the finding (exit 1 with the bug, 0 without). Exit 0 when all hold, 1
with a message otherwise. Prints the sessions each took.
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nfutil import fail  # noqa: E402

MQCHECK, BROKER = sys.argv[1], sys.argv[2]
BUGS = sys.argv[3:] or ["bigalloc", "cpuburn", "heldgrowth"]
LIMIT = 8000  # sessions
BASE_ASAN = "detect_leaks=0:abort_on_error=0"
# bug: (finding kind, words its README must hold, ASAN_OPTIONS extra, options)
EXPECT = {
    "bigalloc": ("crash", "allocation-size-too-big",
                 ":max_allocation_size_mb=64:allocator_may_return_null=0", []),
    "cpuburn": ("hang", "liveness probe", "", ["--hang-ms", "2000"]),
    # 64 MiB: the faulty session alone holds up to 128 MiB (1 MiB per
    # re-send), while sessions running together were seen to add up to
    # 35 MiB (with 64 KiB per re-send and 32-48 MiB limits, triage said
    # "reproduced only together" on some runs)
    "heldgrowth": ("leak", "RSS rose", "", ["--held-rss", "65536"]),
    # runnable time, not CPU time: a spinning broker on a machine with a
    # load of 10 gets a fifth of a core, but is runnable all the time
    "idlespin": ("leak", "at rest", "", ["--idle-cpu", "50"]),
}
# sessions per bug where fewer do (the spinning broker slows the run down)
LIMITS = {"idlespin": 800}
# Seeds per bug where the whole suite is left to chance: the fuzzer picks a
# seed by hash modulo the seed count, so one case added to or taken from the
# suite moved idlespin's trigger (an UNSUBSCRIBE directly followed by a
# PINGREQ) from session 283 to past 3,000. The unsubscribe cases all hold
# an UNSUBSCRIBE, and seeds 1-4 reach it within 100 sessions.
SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "suite")
SEEDS = {"idlespin": [os.path.join(SUITE, "3.10-unsubscribe")]}


def fuzz(bug, out, extra, env, limit):
    return subprocess.run([MQCHECK, "fuzz", "--exec", f"{BROKER} --port {{port}} --bugs {bug}",
                           "--seed", "1", "--sessions", str(limit), "--max-findings", "1",
                           "--no-spec", "--no-minimise", "--findings", out, "-q"] + extra
                          + SEEDS.get(bug, []),
                          capture_output=True, text=True, timeout=600, env=env)


def replay(bug, finding, env):
    return subprocess.run([MQCHECK, "fuzz", "--replay", finding, "--exec",
                           f"{BROKER} --port {{port}} --bugs {bug}"],
                          capture_output=True, text=True, timeout=120, env=env)


def idlespin_checks(out, finding, env, limit):
    """The oracle is what finds it: off, the same run finds nothing; the
    replay applies it: the fault reproduces, its absence does not."""
    r = replay("idlespin", finding, env)
    if r.returncode != 1 or "leak:idle-cpu" not in r.stdout:
        fail(f"idlespin: --replay on the planted broker exited {r.returncode} without "
             f"leak:idle-cpu\n{r.stdout}{r.stderr[-2000:]}")
    r = replay("none", finding, env)
    if r.returncode != 0 or "idle-cpu" in r.stdout:
        fail(f"idlespin: --replay on the broker without the fault exited {r.returncode}\n"
             f"{r.stdout}{r.stderr[-2000:]}")
    r = fuzz("idlespin", out + "-off", ["--idle-cpu", "0"], env, limit)
    if r.returncode != 0:
        fail(f"idlespin: with the idle-CPU oracle off the run exited {r.returncode}, not 0: "
             f"another oracle saw it?\n{r.stderr[-3000:]}")
    print("idlespin: not found with --idle-cpu 0; --replay: found with the fault, not without")


def check_replay(readme, bug, env):
    """A held-memory finding's scenario cannot show it: its README gives the
    `mqcheck fuzz --replay` command that does, which must exit 1 on the
    planted broker and 0 on the same broker without the bug."""
    cmd = [ln.strip() for ln in readme.splitlines() if ln.strip().startswith("mqcheck fuzz --replay")]
    if "cannot show" not in readme or len(cmd) != 1:
        fail(f"{bug}: the README gives no replay command that judges it: {readme}")
    argv = shlex.split(cmd[0])
    argv[0] = MQCHECK
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    if r.returncode != 1 or "leak:held-rss" not in r.stdout:
        fail(f"{bug}: {cmd[0]} exited {r.returncode} without a held-memory verdict:\n"
             f"{r.stdout}{r.stderr[-2000:]}")
    fixed = [a.replace(f" --bugs {bug}", "") for a in argv]
    r = subprocess.run(fixed, capture_output=True, text=True, timeout=120, env=env)
    if r.returncode != 0:
        fail(f"{bug}: the replay without the bug exited {r.returncode}:\n{r.stdout}{r.stderr[-2000:]}")
    print(f"{bug}: the README's replay command judges it (exit 1 with the bug, 0 without)")


def main():
    work = tempfile.mkdtemp(prefix="mqz-resource-")
    try:
        for bug in BUGS:
            kind, words, asan, extra = EXPECT[bug]
            out = os.path.join(work, bug)
            env = dict(os.environ, ASAN_OPTIONS=BASE_ASAN + asan)
            t0 = time.time()
            limit = LIMITS.get(bug, LIMIT)
            r = fuzz(bug, out, extra, env, limit)
            took = time.time() - t0
            if r.returncode != 1:
                fail(f"{bug}: mqcheck fuzz exited {r.returncode}, not 1 (nothing found in "
                     f"{limit} sessions?)\n{r.stderr[-3000:]}")
            found = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))
                           and d != "queue")
            if len(found) != 1 or not found[0].startswith(kind + "-"):
                fail(f"{bug}: expected one {kind} finding, got {found}")
            with open(os.path.join(out, found[0], "README")) as f:
                readme = f.read()
            if words not in readme:
                fail(f"{bug}: the finding does not say '{words}': {readme}")
            # cpuburn: found by the liveness deadline is what this checks;
            # pinning it on one session alone races the burn against the
            # triage probe's shorter deadline on a loaded machine (seen 1 in 9)
            if "not reproduced alone" in readme and bug == "cpuburn":
                print(f"{bug}: found, but not pinned on one session alone")
                continue
            if "not reproduced alone" in readme:
                fail(f"{bug}: the finding was not pinned on one session: {readme}")
            with open(os.path.join(out, "fuzz.state")) as f:
                sessions = [ln.split()[1] for ln in f if ln.startswith("sessions")][0]
            print(f"{bug}: {kind} after {sessions} sessions ({took:.1f} s)")
            if bug == "heldgrowth":
                check_replay(readme, bug, env)
            if bug == "idlespin":
                idlespin_checks(out, os.path.join(out, found[0]), env, limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("all planted resource faults found")


main()
