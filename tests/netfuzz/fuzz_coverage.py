#!/usr/bin/python3
"""fuzz_coverage.py MQCHECK SRCDIR - greybox `mqcheck fuzz --coverage`: the
planted broker built with AFL++'s instrumentation (tests/netfuzz/build-afl.sh)
gets a shared-memory map, the fuzzer counts its edges and keeps the sessions
that reach new ones (the corpus grows); with --no-feedback it counts the same
edges and keeps the corpus as it was. Exit 0 when both hold, 1 otherwise.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nfutil import fail  # noqa: E402

MQCHECK, SRC = sys.argv[1], sys.argv[2]



def main():
    if not shutil.which("afl-clang-fast"):
        fail("afl-clang-fast is not installed (ci/bootstrap test installs afl++)")
    work = tempfile.mkdtemp(prefix="mqz-cov-")
    try:
        r = subprocess.run(["sh", os.path.join(SRC, "tests/netfuzz/build-afl.sh"), work],
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            fail("build-afl.sh failed\n" + r.stderr)
        broker = os.path.join(work, "planted_broker_afl")
        stats = {}
        for mode in ("--coverage", "--no-feedback"):
            out = os.path.join(work, mode.strip("-"))
            js = out + ".json"
            r = subprocess.run([MQCHECK, "fuzz", "--exec", f"{broker} --port {{port}} --bugs none",
                                mode, "--seed", "1", "--sessions", "3000", "--findings", out,
                                "--json-stats", js, "-q"], capture_output=True, text=True,
                               timeout=300)
            if r.returncode != 0:
                fail(f"mqcheck fuzz {mode} exited {r.returncode}\n{r.stderr}")
            stats[mode] = json.load(open(js))
        fb, nofb = stats["--coverage"], stats["--no-feedback"]
        print(f"3000 sessions: with feedback {fb['edges']} edges, corpus {fb['corpus']}; "
              f"without {nofb['edges']} edges, corpus {nofb['corpus']}")
        if fb["edges"] < 500 or nofb["edges"] < 500:
            fail("the instrumented broker's map shows too few edges: is it written?")
        if fb["corpus"] <= nofb["corpus"]:
            fail("sessions reaching new edges did not join the corpus")
        # kept sessions are saved by content: equal ones share a file
        queued = len(os.listdir(os.path.join(work, "coverage", "queue")))
        if not 0 < queued <= fb["corpus"] - nofb["corpus"]:
            fail(f"{queued} sessions in queue/, {fb['corpus'] - nofb['corpus']} kept")
        if os.path.exists(os.path.join(work, "no-feedback", "queue")) and \
                os.listdir(os.path.join(work, "no-feedback", "queue")):
            fail("--no-feedback saved sessions")
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
