#!/usr/bin/python3
"""fuzz_options.py MQCHECK BROKER - options of `mqcheck fuzz` that the other
tests do not exercise, each in a few seconds against planted_broker (or the
Debian mosquitto for --jobs, which logs its connections):

  --json-stats F   every field is there and agrees with the run (sessions,
                   rate, findings by kind, corpus, seed, next session);
  --corpus DIR     with no suite seeds, the sessions in DIR are the corpus:
                   one session reaching the planted badwire bug is found
                   from it (and without --corpus the run has nothing to
                   start from);
  --jobs N --exec  N broker instances, each on its own port, each serving
                   sessions (its own DIR/broker-N.log);
  --findings DIR   missing parents are created (as mkdir -p); a path
                   through a regular file is exit 2 naming that file.

--sync-dir is tested in fuzz_coverage.py, where a first fuzzer's queue fills
with sessions that reached new edges. Exit 0 when all hold, 1 with a message.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nfutil import fail  # noqa: E402

MQCHECK, BROKER = sys.argv[1], sys.argv[2]


def fuzz(args, timeout=120):
    return subprocess.run([MQCHECK, "fuzz", "-q"] + args, capture_output=True, text=True,
                          timeout=timeout)


def json_stats(work):
    js = os.path.join(work, "stats.json")
    r = fuzz(["--exec", f"{BROKER} --port {{port}} --bugs none", "--seed", "5", "--sessions",
              "300", "--findings", os.path.join(work, "js"), "--json-stats", js])
    if r.returncode != 0:
        fail(f"--json-stats run exited {r.returncode}\n{r.stderr}")
    st = json.load(open(js))
    want = {"elapsed_s", "sessions", "sessions_per_s", "findings", "unique", "corpus", "edges",
            "seed", "next_session"}
    if set(st) != want:
        fail(f"--json-stats fields {sorted(st)}, want {sorted(want)}")
    if set(st["unique"]) != {"crash", "hang", "bad-wire", "spec", "leak"} or \
            any(st["unique"].values()) or st["findings"] != 0:
        fail(f"--json-stats findings: {st}")
    if st["sessions"] != 300 or st["seed"] != 5 or st["next_session"] != 300 or \
            st["edges"] != 0 or st["elapsed_s"] <= 0:
        fail(f"--json-stats does not match the run (300 sessions, seed 5): {st}")
    # elapsed_s is printed to 0.1 s
    lo = st["sessions"] / (st["elapsed_s"] + 0.05) - 0.1
    hi = st["sessions"] / max(st["elapsed_s"] - 0.05, 0.001) + 0.1
    if not lo <= st["sessions_per_s"] <= hi:
        fail(f"--json-stats sessions_per_s {st['sessions_per_s']}, sessions/elapsed "
             f"{lo:.1f}..{hi:.1f}")
    # the suite's seeds for 3.1.1 and 5.0, and 3.1 copies of the 3.1.1 ones
    if st["corpus"] < 300:
        fail(f"--json-stats corpus {st['corpus']}: the suite's seeds are missing")
    return st


def session_badwire():
    """A 3.1.1 session: CONNECT, then SUBSCRIBE with packet identifier 0x8001,
    which the planted badwire bug answers with an invalid SUBACK."""
    connect = bytes([0x10, 0x12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 6]) + b"Zq0000"
    sub = bytes([0x82, 0x0B, 0x80, 0x01, 0, 6]) + b"Zq0000" + bytes([1])
    OPEN, SEND, SYNC = 1, 2, 6
    s = bytes([2, 0])  # selector 3.1.1, no flags
    s += bytes([OPEN, 0]) + bytes([SEND, 0]) + connect + bytes([SYNC, 0, 0, 1])
    s += bytes([SEND, 0]) + sub + bytes([SYNC, 0, 0, 2])
    return s


def corpus(work):
    cdir, empty = os.path.join(work, "corpus"), os.path.join(work, "no-seeds")
    os.makedirs(cdir)
    os.makedirs(empty)
    with open(os.path.join(cdir, "badwire.bin"), "wb") as f:
        f.write(session_badwire())
    base = ["--exec", f"{BROKER} --port {{port}} --bugs badwire", "--seed", "3", "--sessions",
            "200", "--max-findings", "1"]
    r = fuzz(base + ["--findings", os.path.join(work, "c0"), empty])
    if r.returncode != 2 or "no seed sessions" not in r.stderr:
        fail(f"no seeds and no --corpus: exit {r.returncode}, want 2 and 'no seed sessions'\n"
             f"{r.stderr}")
    js = os.path.join(work, "corpus.json")
    out = os.path.join(work, "c1")
    r = fuzz(base + ["--findings", out, "--corpus", cdir, "--json-stats", js, empty])
    st = json.load(open(js)) if os.path.exists(js) else {}
    found = [d for d in os.listdir(out) if d.startswith("bad-wire-")] if os.path.isdir(out) else []
    if r.returncode != 1 or len(found) != 1:
        fail(f"--corpus: exit {r.returncode}, findings {found}; want 1 and one bad-wire\n{r.stderr}")
    # the one session, and its 3.1 copy (the planted broker speaks 3.1)
    if st.get("corpus") != 2:
        fail(f"--corpus: the corpus holds {st.get('corpus')} sessions, want 2")


def jobs(work):
    if not shutil.which("mosquitto"):
        fail("mosquitto is not installed (ci/bootstrap test installs it)")
    out = os.path.join(work, "jobs")
    js = os.path.join(work, "jobs.json")
    r = fuzz(["--exec", "mosquitto -v -p {port}", "--jobs", "2", "--no-spec", "--version", "3.1.1",
              "--seed", "2", "--sessions", "400", "--findings", out, "--json-stats", js])
    if r.returncode not in (0, 1):
        fail(f"--jobs 2: exit {r.returncode}\n{r.stderr}")
    ports = []
    for n in range(3):
        log = os.path.join(out, f"broker-{n}.log")
        if n == 2:
            if os.path.exists(log):
                fail("--jobs 2 started a third broker")
            break
        if not os.path.exists(log):
            fail(f"--jobs 2: {log} is missing: instance {n} was not started")
        text = open(log, errors="replace").read()
        m = re.search(r"listen socket on port (\d+)", text)
        conns = text.count("New client connected")
        if not m or conns < 10:
            fail(f"--jobs 2: instance {n} (port {m and m.group(1)}) served {conns} clients")
        ports.append(m.group(1))
    if ports[0] == ports[1]:
        fail(f"--jobs 2: both instances on port {ports[0]}")
    if json.load(open(js))["sessions"] != 400:
        fail("--jobs 2: the run did not finish its 400 sessions")


def findings_dir(work):
    deep = os.path.join(work, "a", "b", "c")
    r = fuzz(["--exec", f"{BROKER} --port {{port}} --bugs none", "--seed", "1", "--sessions", "30",
              "--findings", deep])
    if r.returncode != 0 or not os.path.isdir(os.path.join(deep, "queue")):
        fail(f"--findings {deep}: exit {r.returncode}, want 0 and the folder made\n{r.stderr}")
    blocker = os.path.join(work, "a", "file")
    open(blocker, "w").close()
    r = fuzz(["--exec", f"{BROKER} --port {{port}} --bugs none", "--sessions", "30",
              "--findings", os.path.join(blocker, "x")])
    if r.returncode != 2 or f"cannot create {blocker}" not in r.stderr:
        fail(f"--findings under a file: exit {r.returncode}, want 2 naming {blocker}\n{r.stderr}")


def main():
    work = tempfile.mkdtemp(prefix="mqz-opts-")
    try:
        json_stats(work)
        corpus(work)
        jobs(work)
        findings_dir(work)
        print("--json-stats, --corpus, --jobs with --exec and --findings' folders hold")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
