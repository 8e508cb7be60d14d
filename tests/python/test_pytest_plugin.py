"""Tests of the pytest plugin itself (pytester): a scenario that fails, one
whose run errors, one filtered out, and a case the runner leaves out must
each surface as such in pytest's result, never as a pass or a silent skip.

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
