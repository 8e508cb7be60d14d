#!/usr/bin/python3
"""fuzz_coverage.py MQCHECK SRCDIR - greybox `mqcheck fuzz --coverage`: the
planted broker built with AFL++'s instrumentation (tests/netfuzz/build-afl.sh)
gets a shared-memory map, the fuzzer counts its edges and keeps the sessions
that reach new ones (the corpus grows); with --no-feedback it counts the same
edges and keeps the corpus as it was. The feedback run writes its queue under
--sync-dir in AFL++'s layout (SYNC/mqcheck-PID/queue/), and a second fuzzer
on the same --sync-dir imports every entry of it. Exit 0 when all hold, 1
otherwise.
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
        sync = os.path.join(work, "sync")
        for mode in ("--coverage", "--no-feedback"):
            out = os.path.join(work, mode.strip("-"))
            js = out + ".json"
            extra = ["--sync-dir", sync] if mode == "--coverage" else []
            r = subprocess.run([MQCHECK, "fuzz", "--exec", f"{broker} --port {{port}} --bugs none",
                                mode, "--seed", "1", "--sessions", "3000", "--findings", out,
                                "--json-stats", js, "-q"] + extra, capture_output=True, text=True,
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
        fuzzers = os.listdir(sync)
        if len(fuzzers) != 1 or not fuzzers[0].startswith("mqcheck-"):
            fail(f"--sync-dir {sync} holds {fuzzers}, want one mqcheck-PID folder")
        queue = os.path.join(sync, fuzzers[0], "queue")
        queued = len(os.listdir(queue))
        if not 0 < queued <= fb["corpus"] - nofb["corpus"]:
            fail(f"{queued} sessions in {queue}, {fb['corpus'] - nofb['corpus']} kept")
        # a second fuzzer on the same sync folder starts from the first's queue
        js = os.path.join(work, "second.json")
        r = subprocess.run([MQCHECK, "fuzz", "--exec", f"{broker} --port {{port}} --bugs none",
                            "--no-feedback", "--sync-dir", sync, "--seed", "2", "--sessions", "50",
                            "--findings", os.path.join(work, "second"), "--json-stats", js, "-q"],
                           capture_output=True, text=True, timeout=300)
        second = json.load(open(js)) if os.path.exists(js) else {}
        if r.returncode != 0 or second.get("corpus") != nofb["corpus"] + queued:
            fail(f"--sync-dir: the second fuzzer's corpus is {second.get('corpus')}, want "
                 f"{nofb['corpus']} seeds + {queued} imported (exit {r.returncode})\n{r.stderr}")
        if len(os.listdir(sync)) != 2:
            fail(f"--sync-dir: the second fuzzer has no queue folder of its own: "
                 f"{os.listdir(sync)}")
        print(f"--sync-dir: a second fuzzer imported the first's {queued} queued sessions")
        if os.path.exists(os.path.join(work, "no-feedback", "queue")) and \
                os.listdir(os.path.join(work, "no-feedback", "queue")):
            fail("--no-feedback saved sessions")
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
