#!/usr/bin/python3
"""fuzz_mosquitto.py MQCHECK DOC - `mqcheck fuzz` against the Debian mosquitto,
started here on a free loopback port, reports nothing that docs/netfuzz.md
does not explain: every finding's statement (and, for a protocol violation
the broker let pass, the rule the packet broke) must be listed in DOC's
"Findings on mosquitto" table. Also: the fuzzer's bad-input exits (no target,
an unreachable target, --exec without {port}, an exec'd command that dies).
Exit 0 when all hold, 1 with a message otherwise. A missing mosquitto fails.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nfutil import fail, free_port  # noqa: E402
import time

MQCHECK, DOC = sys.argv[1], sys.argv[2]
SESSIONS = 4000
KINDS = ("crash", "hang", "bad-wire", "leak")




def documented():
    """The (statement, rule) pairs of the doc's mosquitto table."""
    text = open(DOC).read()
    part = text.split("## Findings on mosquitto", 1)
    if len(part) < 2:
        fail(f"{DOC} has no 'Findings on mosquitto' section")
    rows = set()
    for line in part[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.split("|")[1:3]]
        if len(cells) == 2 and (cells[0].startswith("MQTT-") or cells[0] in KINDS):
            rows.add((cells[0], cells[1]))
    if not rows:
        fail(f"{DOC}: the mosquitto table lists nothing")
    return rows


def bad_inputs(work):
    cases = [
        ([], "give --target URL or --exec"),
        (["--target", f"tcp://127.0.0.1:{free_port()}"], "accepts no MQTT version"),
        (["--exec", "/bin/true"], "{port}"),
        (["--exec", "/bin/false {port}"], "exited"),
        (["--target", "nonsense"], "not a target"),
    ]
    for args, words in cases:
        r = subprocess.run([MQCHECK, "fuzz", "--findings", os.path.join(work, "bad"), "-q"] + args,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 2 or words not in r.stderr:
            fail(f"mqcheck fuzz {' '.join(args)}: exit {r.returncode}, want 2 and '{words}' in:\n"
                 f"{r.stderr}")


def state(path):
    out = {}
    for line in open(path):
        k, _, v = line.strip().partition(" ")
        if k in ("seed", "next", "sessions"):
            out[k] = int(v)
    return out


def interrupt_and_resume(port, work):
    """Ctrl-C stops cleanly and writes the state; --resume goes on from it."""
    out = os.path.join(work, "resume")
    stats = os.path.join(work, "resume-stats.json")
    p = subprocess.Popen([MQCHECK, "fuzz", "--target", f"tcp://127.0.0.1:{port}", "--seed", "7",
                          "--no-spec", "--findings", out, "-q", "--json-stats", stats],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Interrupt once sessions have run, not after a fixed time: seeding takes
    # longer on a loaded machine.
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None:
        try:
            if json.load(open(stats)).get("sessions", 0) >= 20:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    else:
        p.kill()
        fail("mqcheck fuzz ran no 20 sessions within 60 s")
    p.send_signal(2)  # SIGINT
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("mqcheck fuzz did not stop within 30 s of SIGINT")
    if p.returncode not in (0, 1):
        fail(f"SIGINT: exit {p.returncode}")
    st = state(os.path.join(out, "fuzz.state"))
    if st.get("seed") != 7 or st.get("sessions", 0) < 10:
        fail(f"SIGINT: the state file says {st}")
    r = subprocess.run([MQCHECK, "fuzz", "--target", f"tcp://127.0.0.1:{port}", "--resume",
                        "--no-spec", "--sessions", str(st["sessions"] + 200), "--findings", out,
                        "-q"], capture_output=True, text=True, timeout=120)
    st2 = state(os.path.join(out, "fuzz.state"))
    if r.returncode not in (0, 1) or st2["seed"] != 7 or st2["next"] <= st["next"] or \
            st2["sessions"] < st["sessions"] + 200:
        fail(f"--resume: exit {r.returncode}, state {st} then {st2}\n{r.stderr}")


def main():
    if not shutil.which("mosquitto"):
        fail("mosquitto is not installed (ci/bootstrap test installs it)")
    work = tempfile.mkdtemp(prefix="mqz-mosq-")
    bad_inputs(work)
    allowed = documented()
    broker = None
    try:
        for _ in range(3):
            port = free_port()
            broker = subprocess.Popen(["mosquitto", "-p", str(port)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            if broker.poll() is None:
                break
        out = os.path.join(work, "findings")
        r = subprocess.run([MQCHECK, "fuzz", "--target", f"tcp://127.0.0.1:{port}", "--seed", "1",
                            "--sessions", str(SESSIONS), "--findings", out, "-q"],
                           capture_output=True, text=True, timeout=240)
        if r.returncode not in (0, 1):
            fail(f"mqcheck fuzz exited {r.returncode}\n{r.stderr}")
        index = os.path.join(out, "README")
        lines = open(index).read().splitlines() if os.path.exists(index) else []
        for line in lines:
            # "<folder>  <kind> [<statement>]: <message with the rule's ID>"
            ids = re.findall(r"MQTT-[0-9.]+-[0-9]+", line)
            kind = line.split()[1].rstrip(":")
            key = (ids[0] if ids else kind, ids[1] if len(ids) > 1 else "")
            if key not in allowed:
                fail(f"a finding docs/netfuzz.md does not explain: {line}")
        print(f"{SESSIONS} sessions against mosquitto: {len(lines)} finding(s), all documented")
        if r.returncode != (1 if lines else 0):
            fail(f"exit {r.returncode} with {len(lines)} findings")
        interrupt_and_resume(port, work)
    finally:
        if broker:
            broker.terminate()
            broker.wait()
        shutil.rmtree(work, ignore_errors=True)


main()
