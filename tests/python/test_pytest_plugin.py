"""Tests of the pytest plugin itself (pytester): a scenario that fails, a run
that errors, a case that errors, one filtered out, and a case the runner leaves
out must each surface as such in pytest's result, never as a pass or a silent
skip.

Run: MQCHECK=build/ci/mqcheck PYTHONPATH=python /usr/bin/python3 -m pytest -p pytester tests/python
"""
import os
import stat

import pytest

pytest_plugins = ["pytester"]

MQ = os.environ.get("MQCHECK")

PASSING = """format: 1
name: t/ping
versions: [3.1.1, 5.0]
rules: [MQTT-3.12.4-1]
steps:
  - connect: {}
  - send: {type: PINGREQ}
  - expect: {type: PINGRESP}
"""

FAILING = """format: 1
name: t/never
versions: [5.0]
rules: [MQTT-3.3.4-1]
steps:
  - connect: {}
  - send: {type: PINGREQ}
  - expect: {type: PUBLISH, topic: never}
"""

# ws_frame: text needs a WebSocket target: on the engine this one case gets the
# runner's "error" verdict while the run itself completes
ERRORING = """format: 1
name: t/errs
versions: [5.0]
rules: [MQTT-3.12.4-1]
steps:
  - connect: {}
  - send: {type: PINGREQ}
    ws_frame: text
  - expect: {type: PINGRESP}
"""


@pytest.fixture
def suite(pytester):
    if not MQ:
        pytest.fail("set MQCHECK to the mqcheck binary")
    pytester.makefile(".yaml", ping=PASSING, never=FAILING)
    return pytester


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "pytest_mqcheck", "--mq-binary", MQ, *args)


def test_pass_and_fail(suite):
    r = run(suite)
    r.assert_outcomes(passed=2, failed=1)
    r.stdout.fnmatch_lines(["*t/never@5.0*", "*expected PUBLISH*"])


def test_runner_error_is_an_error(suite):
    # nothing listens on port 1: the run cannot start, every item errors
    r = run(suite, "--mq-target", "tcp://127.0.0.1:1")
    r.assert_outcomes(errors=3)
    r.stdout.fnmatch_lines(["*ERROR at setup of scenario t/never@5.0*", "mqcheck run failed (exit 2):"])


def test_case_error_is_an_error(suite):
    suite.makefile(".yaml", errs=ERRORING)
    r = run(suite)
    r.assert_outcomes(passed=2, failed=1, errors=1)
    r.stdout.fnmatch_lines(["*ERROR at setup of scenario t/errs@5.0*", "*needs a ws:// or wss:// target*"])


def test_filtered_out_is_deselected(suite):
    r = run(suite, "-k", "ping")
    r.assert_outcomes(passed=2, deselected=1)


def test_case_missing_from_the_report_is_an_error(suite, tmp_path):
    # an mqcheck that drops one case from its JSON report
    fake = tmp_path / "mqcheck-drops"
    fake.write_text("""#!/usr/bin/python3
import json, subprocess, sys
rc = subprocess.run([%r] + sys.argv[1:]).returncode
if sys.argv[1] == "run":
    out = sys.argv[sys.argv.index("--json") + 1]
    r = json.load(open(out))
    r["cases"] = [c for c in r["cases"] if "never" not in c["id"]]
    json.dump(r, open(out, "w"))
sys.exit(rc)
""" % MQ)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    r = suite.runpytest_subprocess("-p", "pytest_mqcheck", "--mq-binary", str(fake))
    r.assert_outcomes(passed=2, errors=1)
    r.stdout.fnmatch_lines(["*reported no verdict for t/never@5.0*"])


def test_excluded_by_option_is_a_skip(suite):
    r = run(suite, "-k", "ping", "--mq-option=--version", "--mq-option=5")
    r.assert_outcomes(passed=1, skipped=1, deselected=1)


# ---- several nodes: --mq-target NAME=URL, repeated ----

def _free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def two_mosquitto(tmp_path):
    """Starts two mosquitto on loopback: bridged(True) joins them as
    tests/cluster/topology.sh does; returns the --mq-target options."""
    import shutil
    import socket
    import subprocess
    import time
    if not shutil.which("mosquitto") and not os.path.exists("/usr/sbin/mosquitto"):
        pytest.fail("mosquitto is not installed (ci/bootstrap test)")
    procs = []

    def start(bridged):
        pa, pb = _free_port(), _free_port()
        logs = {}
        for name, port in (("b", pb), ("a", pa)):
            conf = tmp_path / f"{name}-{port}.conf"
            text = f"listener {port} 127.0.0.1\nallow_anonymous true\n"
            if name == "a" and bridged:
                text += f"connection to-b\naddress 127.0.0.1:{pb}\ntopic # both 2\n"
            conf.write_text(text)
            logs[name] = tmp_path / f"{name}-{port}.log"
            procs.append(subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)],
                                          stdout=open(logs[name], "w"), stderr=subprocess.STDOUT))
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                pytest.fail(f"mosquitto did not start on {port}")
        for _ in range(100 if bridged else 0):
            if "New bridge connected" in logs["b"].read_text():
                break
            time.sleep(0.1)
        else:
            if bridged:
                pytest.fail("the bridge did not connect")
        return ["--mq-target", f"a=tcp://127.0.0.1:{pa}", "--mq-target", f"b=tcp://127.0.0.1:{pb}"]

    yield start
    for p in procs:
        p.terminate()
        p.wait()


def cluster_case(pytester):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "suite", "cluster", "delivery-qos1.yaml")) as f:
        pytester.makefile(".yaml", delivery=f.read())
    pytester.makefile(".yaml", profile="name: test-pair\ncluster: {propagation_ms: 300}\n")


def test_nodes_of_a_bridge_pass(pytester, two_mosquitto):
    # both nodes reach mqcheck: the case puts its subscriber on a, its publisher on b
    cluster_case(pytester)
    r = run(pytester, *two_mosquitto(True), "--mq-profile", "profile.yaml")
    r.assert_outcomes(passed=2)


def test_unconnected_nodes_fail_on_propagation(pytester, two_mosquitto):
    cluster_case(pytester)
    r = run(pytester, *two_mosquitto(False), "--mq-profile", "profile.yaml")
    r.assert_outcomes(failed=2)
    r.stdout.fnmatch_lines(["*propagation from node b*never happened within the bound of 300 ms*"])


def test_one_node_skips_a_cluster_case(pytester, two_mosquitto):
    cluster_case(pytester)
    r = run(pytester, "-rs", "--mq-target", two_mosquitto(False)[1].split("=", 1)[1])
    r.assert_outcomes(skipped=2)
    r.stdout.fnmatch_lines(["*needs a cluster target*"])
