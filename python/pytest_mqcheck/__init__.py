"""pytest_mqcheck - collects mqcheck scenario files as pytest items.

Each scenario file becomes one item per MQTT version it lists
(``name@3.1.1``, ``name@5.0``). Items run through the C runner: the first item
of a session that needs results runs ``mqcheck run FILES --json`` once for all
collected files; every item then reports its own verdict (failures carry the
runner's full report: step, fields, transcript; skips carry the reason).

Load it with ``-p pytest_mqcheck`` (PYTHONPATH=python) and point pytest at
scenario files or directories::

    /usr/bin/python3 -m pytest -p pytest_mqcheck suite --mq-target engine
    /usr/bin/python3 -m pytest -p pytest_mqcheck suite/3.1-connect \\
        --mq-target tcp://127.0.0.1:1883 --mq-option=--jobs=16

Options: --mq-target, --mq-binary (default: $MQCHECK or mqcheck on PATH),
--mq-profile, --mq-option (extra mqcheck run option, repeatable).
Works with Debian's python3-pytest and python3-yaml; no other dependency.
"""
import json
import os
import shutil
import subprocess
import tempfile

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("mqcheck")
    group.addoption("--mq-target", default="engine",
                    help="engine (default) or a broker URL: tcp://, mqtts://, ws://, wss://")
    group.addoption("--mq-binary", default=None, help="path of the mqcheck program")
    group.addoption("--mq-profile", default=None, help="mqcheck target profile (YAML)")
    group.addoption("--mq-option", action="append", default=[],
                    help="extra option passed to mqcheck run (repeatable)")


def _binary(config):
    b = config.getoption("--mq-binary") or os.environ.get("MQCHECK") or shutil.which("mqcheck")
    if not b:
        raise pytest.UsageError("mqcheck not found: use --mq-binary or $MQCHECK")
    return b


def _is_scenario(path):
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        with open(path, "r", encoding="utf-8") as f:
            head = f.read(200)
    except OSError:
        return False
    return "format:" in head


def pytest_collect_file(file_path, parent):
    if _is_scenario(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class _Session:
    """Runs mqcheck once per pytest session for every collected file."""

    def __init__(self, config):
        self.config = config
        self.files = []
        self.results = None
        self.error = None

    def run(self):
        if self.results is not None or self.error is not None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "report.json")
            cmd = [_binary(self.config), "run", *self.files, "--json", out, "--quiet",
                   "--target", self.config.getoption("--mq-target")]
            if self.config.getoption("--mq-profile"):
                cmd += ["--profile", self.config.getoption("--mq-profile")]
            cmd += self.config.getoption("--mq-option")
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True)
            if proc.returncode == 2 or not os.path.exists(out):
                self.error = "mqcheck run failed (exit %d):\n%s%s" % (
                    proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
                return
            with open(out, "r", encoding="utf-8") as f:
                report = json.load(f)
        self.results = {c["id"]: c for c in report["cases"]}


def _state(config):
    st = getattr(config, "_mqcheck_state", None)
    if st is None:
        st = _Session(config)
        config._mqcheck_state = st
    return st


class ScenarioFile(pytest.File):
    def collect(self):
        cmd = [_binary(self.config), "lint", "--list", "--json", str(self.path)]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
        if proc.returncode != 0:
            raise ScenarioLoadError(proc.stderr.strip())
        _state(self.config).files.append(str(self.path))
        for case in json.loads(proc.stdout or "[]"):
            yield ScenarioItem.from_parent(self, name=case["id"], case=case)


class ScenarioLoadError(Exception):
    pass


class ScenarioItem(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case
        for rule in case.get("rules", []):
            self.user_properties.append(("statement", rule))

    def runtest(self):
        st = _state(self.config)
        st.run()
        if st.error:
            raise ScenarioFailure(st.error)
        res = st.results.get(self.case["id"])
        if res is None:
            pytest.skip("not run by mqcheck (version or filter excluded it)")
        if res["verdict"] == "skip":
            pytest.skip(res.get("message") or "skipped")
        if res["verdict"] != "pass":
            raise ScenarioFailure(res.get("detail") or res.get("message") or res["verdict"])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.get("line", 1) - 1, "scenario %s" % self.case["id"]


class ScenarioFailure(Exception):
    pass
