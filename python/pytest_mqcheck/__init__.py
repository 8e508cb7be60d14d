"""pytest_mqcheck - collects mqcheck scenario files as pytest items.

Each scenario file becomes one item per MQTT version it lists
(``name@3.1.1``, ``name@5.0``). Items run through the C runner: the first item
of a session that needs results runs ``mqcheck run FILES --json`` once for the
selected items only (after ``-k``, ``-m`` and node IDs such as
``suite/4.3-qos/x.yaml::qos/x@5.0`` have narrowed the collection, their files
and exact case IDs are passed on, so deselected cases never run); every item
then reports its own verdict (failures carry the runner's full report: step,
fields, transcript; skips carry the reason).

Installed with mqcheck, the plugin is registered through a ``pytest11`` entry
point and finds ``mqcheck`` on PATH::

    pytest /usr/share/mqcheck/suite --mq-target tcp://127.0.0.1:1883 -k pubrel

From a source tree, load it with ``-p pytest_mqcheck`` (PYTHONPATH=python)::

    /usr/bin/python3 -m pytest -p pytest_mqcheck suite --mq-target engine \\
        --mq-binary build/release/mqcheck
    /usr/bin/python3 -m pytest -p pytest_mqcheck suite/3.1-connect \\
        --mq-target tcp://127.0.0.1:1883 --mq-option=--jobs=16

A cluster is several nodes, each ``--mq-target NAME=URL`` (as ``mqcheck run
--target`` takes them; docs/cluster.md), or the ``target:`` list of
``--mq-profile``; the suite's cluster cases then put their clients on
different nodes::

    pytest suite/cluster --mq-target a=tcp://10.0.0.1:1883 \\
        --mq-target b=tcp://10.0.0.2:1883 --mq-profile mycluster.yaml

Options: --mq-target (repeatable: the nodes of a cluster), --mq-binary
(default: $MQCHECK, else mqcheck on PATH), --mq-profile, --mq-option (extra
mqcheck run option, repeatable).
Works with Debian's python3-pytest and python3-yaml; no other dependency.
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("mqcheck")
    group.addoption("--mq-target", action="append", default=[],
                    help="engine (default) or a broker URL: tcp://, mqtts://, ws://, wss://; "
                         "repeated as NAME=URL, the nodes of a cluster")
    group.addoption("--mq-binary", default=None, help="path of the mqcheck program")
    group.addoption("--mq-profile", default=None, help="mqcheck target profile (YAML)")
    group.addoption("--mq-option", action="append", default=[],
                    help="extra option passed to mqcheck run (repeatable)")


def _binary(config):
    b = config.getoption("--mq-binary") or os.environ.get("MQCHECK") or shutil.which("mqcheck")
    if not b:
        raise pytest.UsageError("mqcheck not found on PATH: install it, or give --mq-binary "
                                "or $MQCHECK")
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
        self.selected = None  # the ScenarioItems left after -k/-m/node IDs
        self.results = None
        self.error = None

    def _selection(self):
        """Files and --filter options for exactly the selected items."""
        if self.selected is None:
            return list(self.files), []
        files, ids, wanted = [], [], set()
        for item in self.selected:
            path = str(item.path)
            if path not in wanted:
                wanted.add(path)
                files.append(path)
            ids.append(item.case["id"])
        everything = sum(len(f.case_ids) for f in self.file_nodes if str(f.path) in wanted)
        if len(ids) == everything:
            return files, []
        return files, [opt for i in ids for opt in ("--filter", _exact_glob(i))]

    def run(self):
        if self.results is not None or self.error is not None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "report.json")
            files, filters = self._selection()
            cmd = [_binary(self.config), "run", *files, *filters, "--json", out, "--quiet"]
            profile = self.config.getoption("--mq-profile")
            targets = self.config.getoption("--mq-target")
            if not targets and not profile:
                targets = ["engine"]
            for t in targets:  # no target with a profile: its own target or node list
                cmd += ["--target", t]
            if profile:
                cmd += ["--profile", profile]
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
        st.file_nodes = []
        st.dir_cases = {}
        config._mqcheck_state = st
    return st


def _exact_glob(case_id):
    """A --filter glob matching case_id alone: mqcheck treats a plain word as a
    substring, so the first character goes in brackets to make it a glob, and
    glob characters in the ID are bracketed so they match themselves."""
    out = "".join("[%s]" % c if c in "*?[" else c for c in case_id)
    if case_id and case_id[0] not in "*?[":
        out = "[%s]%s" % (case_id[0], out[1:])
    return out


def pytest_collection_finish(session):
    # Runs after -k, -m and node-ID selection: remember what is left so the
    # runner plays only that.
    if hasattr(session.config, "_mqcheck_state"):
        session.config._mqcheck_state.selected = [
            i for i in session.items if isinstance(i, ScenarioItem)]


def _lint_list(config, paths):
    cmd = [_binary(config), "lint", "--list", "--json", *paths]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def _cases_in_folder(config, path):
    """The cases of every scenario file next to path, from one `mqcheck lint`
    (one process per folder, not per file: collecting the suite is 20
    processes, not 200). None when a file there does not load; the caller
    then lints path alone for its own error."""
    st = _state(config)
    folder = os.path.dirname(os.path.realpath(str(path)))
    if folder not in st.dir_cases:
        st.dir_cases[folder] = None
        files = sorted(os.path.join(folder, n) for n in os.listdir(folder))
        files = [f for f in files if _is_scenario(pathlib.Path(f))]
        proc = _lint_list(config, files)
        if proc.returncode == 0:
            by_file = {}
            for case in json.loads(proc.stdout or "[]"):
                by_file.setdefault(os.path.realpath(case["file"]), []).append(case)
            st.dir_cases[folder] = by_file
    by_file = st.dir_cases[folder]
    if by_file is None:
        return None
    return by_file.get(os.path.realpath(str(path)), [])


class ScenarioFile(pytest.File):
    def collect(self):
        cases = _cases_in_folder(self.config, self.path)
        if cases is None:
            proc = _lint_list(self.config, [str(self.path)])
            if proc.returncode != 0:
                raise ScenarioLoadError(proc.stderr.strip())
            cases = json.loads(proc.stdout or "[]")
        st = _state(self.config)
        st.files.append(str(self.path))
        st.file_nodes.append(self)
        self.case_ids = []
        for case in cases:
            self.case_ids.append(case["id"])
            yield ScenarioItem.from_parent(self, name=case["id"], case=case)


class ScenarioLoadError(Exception):
    pass


class ScenarioItem(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case
        for rule in case.get("rules", []):
            self.user_properties.append(("statement", rule))

    def setup(self):
        # The runner's own failures and "error" verdicts (transport, setup) are
        # errors in pytest's result, not failures and never passes or skips.
        st = _state(self.config)
        st.run()
        if st.error:
            raise ScenarioError(st.error)
        res = st.results.get(self.case["id"])
        if res is None:
            if _options_exclude(self.config):
                pytest.skip("not run by mqcheck: --mq-option excluded it")
            raise ScenarioError("mqcheck ran but reported no verdict for %s" % self.case["id"])
        if res["verdict"] == "error":
            raise ScenarioError(res.get("detail") or res.get("message") or "error")

    def runtest(self):
        res = _state(self.config).results[self.case["id"]]
        if res["verdict"] == "skip":
            pytest.skip(res.get("message") or "skipped")
        if res["verdict"] != "pass":
            raise ScenarioFailure(res.get("detail") or res.get("message") or res["verdict"])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, (ScenarioFailure, ScenarioError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def _repr_failure_py(self, excinfo, style=None):
        # setup errors are rendered here (pytest calls repr_failure only for
        # the call phase): the runner's message, not a plugin traceback
        if isinstance(excinfo.value, ScenarioError):
            return str(excinfo.value)
        return super()._repr_failure_py(excinfo, style)

    def reportinfo(self):
        return self.path, self.case.get("line", 1) - 1, "scenario %s" % self.case["id"]


class ScenarioFailure(Exception):
    pass


class ScenarioError(Exception):
    pass


def _options_exclude(config):
    """Does an --mq-option narrow the run (so a case may rightly be absent)?"""
    narrowing = ("--version", "--filter", "--without")
    return any(o.split("=")[0] in narrowing for o in config.getoption("--mq-option"))
