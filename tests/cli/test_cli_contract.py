#!/usr/bin/python3
"""test_cli_contract.py MQCHECK - holds every command to one CLI contract.

The commands come from `mqcheck --help`, so a new cli/cmd_*.c is held to the
contract without editing this file:
  - `mqcheck CMD --help`: usage on stdout, nothing on stderr, exit 0;
  - an unknown option: exit 2, nothing on stdout, one line on stderr,
    "mqcheck CMD: ...", naming the option;
  - every option the help shows with a value ("--target T"), given without
    one: exit 2, one line naming the option;
then a table of cases per command: missing arguments, bad values (exit 2,
one line naming the argument), invalid input and failed checks (exit 1),
and --filter selection (plain word = substring, globs whole-name).
"""
import os
import re
import socket
import subprocess
import sys
import tempfile

MQ = sys.argv[1]
failures = []


def run(args, timeout=20, stdin=None):
    try:
        p = subprocess.run([MQ] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=timeout, stdin=subprocess.DEVNULL
                           if stdin is None else stdin)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


def check(name, ok, rc, out, err, why):
    if not ok:
        failures.append("%s: %s\n  exit: %s\n  stdout: %r\n  stderr: %r" % (
            name, why, rc, out[-400:], err[-400:]))


def prefix(cmd):
    return "mqcheck %s: " % cmd if cmd else "mqcheck: "


def expect_usage_error(name, cmd, args, must_name):
    rc, out, err = run(([cmd] if cmd else []) + args)
    lines = err.splitlines()
    check(name, rc == 2, rc, out, err, "exit must be 2 (usage error)")
    check(name, out == "", rc, out, err, "a usage error prints nothing on stdout")
    check(name, len(lines) == 1 and err.endswith("\n"), rc, out, err,
          "a usage error is one line on stderr")
    check(name, err.startswith(prefix(cmd)), rc, out, err, "message starts with %r" % prefix(cmd))
    named = must_name in err
    if must_name.startswith("'--"):  # an option may be named with or without quotes
        named = re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(must_name.strip("'")), err)
    check(name, named, rc, out, err, "message must name %r" % must_name)


def expect_exit(name, cmd, args, code, stderr_has=None, stdout_has=None, timeout=20):
    rc, out, err = run([cmd] + args, timeout=timeout)
    check(name, rc == code, rc, out, err, "exit must be %d" % code)
    if stderr_has:
        check(name, re.search(stderr_has, err) is not None, rc, out, err,
              "stderr must match /%s/" % stderr_has)
    if stdout_has:
        check(name, re.search(stdout_has, out) is not None, rc, out, err,
              "stdout must match /%s/" % stdout_has)
    return out, err


# mqcheck itself
rc, main_help, err = run(["--help"])
check("mqcheck --help", rc == 0 and main_help.startswith("usage: mqcheck") and err == "",
      rc, main_help, err, "usage on stdout, exit 0")
rc, out, err = run(["--version"])
check("mqcheck --version", rc == 0 and re.match(r"^mqcheck \d+\.\d+\.\d+\n$", out) and err == "",
      rc, out, err, "'mqcheck X.Y.Z' on stdout, exit 0")
expect_usage_error("mqcheck (no command)", "", [], "missing command")
expect_usage_error("mqcheck frobnicate", "", ["frobnicate"], "'frobnicate'")
expect_usage_error("mqcheck --frobnicate", "", ["--frobnicate"], "'--frobnicate'")

commands = re.findall(r"^  ([a-z][a-z0-9-]*) ", main_help.split("commands:", 1)[-1], re.M)
check("command list", len(commands) >= 8, 0, main_help, "", "mqcheck --help lists the commands")

# The generic contract, for whatever commands exist.
VALUE = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)[ =](?:[A-Z][A-Z_]*\b|\[?[a-z]+://|\d[\d.]*\||"
                   r"client\|)")
for cmd in commands:
    rc, out, err = run([cmd, "--help"])
    check("%s --help" % cmd, rc == 0, rc, out, err, "exit must be 0")
    check("%s --help" % cmd, out.startswith("usage: mqcheck %s" % cmd), rc, out, err,
          "stdout must start with 'usage: mqcheck %s'" % cmd)
    check("%s --help" % cmd, err == "", rc, out, err, "nothing on stderr")
    expect_usage_error("%s --no-such-option" % cmd, cmd, ["--no-such-option"], "'--no-such-option'")
    for opt in sorted(set(VALUE.findall(out))):
        expect_usage_error("%s %s (no value)" % (cmd, opt), cmd, [opt], "'%s'" % opt)

# Per-command cases: missing arguments and bad values (exit 2), invalid input and
# failed checks (exit 1).
tmp = tempfile.mkdtemp()
bad_profile = os.path.join(tmp, "profile.yaml")
with open(bad_profile, "w") as f:
    f.write("name: x\ncapabilities: {qos2: true, teleportation: false}\n")
bad_scenario = os.path.join(tmp, "bad.yaml")
with open(bad_scenario, "w") as f:
    f.write("format: 1\nname: x/y\nversions: [5.0]\nsteps: [{nonsense: 1}]\n")

usage_cases = [
    ("gate", [], "TARGET"),
    ("gate", ["tcp://127.0.0.1:1"], "BASELINE"),
    ("gate", ["--jobs", "2"], "'--jobs'"),
    ("bench", [], "NAME"),
    ("bench", ["warp-drive"], "'warp-drive'"),
    ("decode", [], "input"),
    ("decode", ["--version", "7", "c000"], "'7'"),
    ("decode", ["--from", "sideways", "c000"], "'sideways'"),
    ("encode", ["a.yaml", "b.yaml"], "'b.yaml'"),
    ("encode", ["--version", "9", "--text", "{type: PINGREQ}"], "'9'"),
    ("run", ["--with", "teleportation"], "'teleportation'"),
    ("run", ["--version", "4.2"], "'4.2'"),
    ("run", ["--cert", "/nonexistent/c.pem"], "needs --key"),
    ("serve", ["--cert", "/nonexistent/c.pem"], "needs --key"),
    ("serve", ["--listen", "nope:x:y"], "'nope:x:y'"),
    ("serve", ["--listen", "mqtts://127.0.0.1:0"], "--cert"),
    ("serve", ["stray"], "'stray'"),
    ("spec", ["stray"], "'stray'"),
]
for cmd, args, must in usage_cases:
    if cmd in commands:
        expect_usage_error("%s %s" % (cmd, " ".join(args)), cmd, args, must)

if "run" in commands:
    # A bad profile names the capability it does not know, at its line.
    expect_exit("run --profile (unknown capability)", "run", ["--profile", bad_profile], 2,
                stderr_has=r"profile\.yaml:2:\d+: .*unknown capability 'teleportation'")
    # Errors name the flag the user typed, not a library's field name.
    expect_exit("run --cert (missing file)", "run",
                ["--cert", "/nonexistent/c.pem", "--key", "/nonexistent/c.key"], 2,
                stderr_has=r"^mqcheck run: --cert '/nonexistent/c\.pem': No such file")
if "serve" in commands:
    expect_exit("serve --key (missing file)", "serve",
                ["--listen", "mqtts://127.0.0.1:0", "--cert", "/etc/hostname", "--key",
                 "/nonexistent/c.key"], 1,
                stderr_has=r"^mqcheck serve: --key '/nonexistent/c\.key': No such file", timeout=10)
if "decode" in commands:
    expect_exit("decode (not hex)", "decode", ["--version", "5", "3g00"], 1,
                stderr_has="not hex")
    expect_exit("decode (invalid packet)", "decode", ["--version", "5", "30070003612f230000"], 1,
                stdout_has=r"MQTT-3\.3\.2-2")
if "lint" in commands:
    expect_exit("lint (invalid scenario)", "lint", [bad_scenario], 1, stderr_has=r"bad\.yaml:")
if "encode" in commands:
    expect_exit("encode (bad YAML)", "encode", ["--text", "{type: [PUBLISH"], 1,
                stderr_has=r"<text>:\d+:\d+: ")
if "serve" in commands:
    # A port in use: the address and the system's reason.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    expect_exit("serve (port in use)", "serve", ["--listen", "127.0.0.1:%d" % port], 1,
                stderr_has=r"127\.0\.0\.1:%d: Address already in use" % port, timeout=10)
    s.close()

# Selection: a plain word is a substring, a glob matches the whole ID.
if "run" in commands:
    def cases(args):
        rc, out, err = run(["run", "--quiet"] + args)
        m = re.search(r"^(\d+) cases", out, re.M)
        return rc, (int(m.group(1)) if m else -1), out, err

    rc, n, out, err = cases(["--filter", "pubrel"])
    check("run --filter pubrel", rc == 0 and n > 0, rc, out, err, "a plain word matches substrings")
    rc, n_all, out, err = cases([])
    check("run (whole suite)", rc == 0 and n_all > n, rc, out, err, "more cases than the filter")
    rc, n, out, err = cases(["--filter", "qos/*@5.0"])
    check("run --filter 'qos/*@5.0'", rc == 0 and n > 0, rc, out, err, "globs keep working")
    # ...so this selects nothing, which is an error naming the filter (issue 12)
    rc, n, out, err = cases(["--filter", "*pubrel"])
    check("run --filter '*pubrel'", rc == 2 and "no case selected: --filter '*pubrel'" in err,
          rc, out, err, "a glob must match the whole name or name@version")

if failures:
    print("%d contract failure(s):" % len(failures))
    for f in failures:
        print("FAIL " + f)
    sys.exit(1)
print("cli contract: %d commands held to it (%s)" % (len(commands), ", ".join(commands)))
