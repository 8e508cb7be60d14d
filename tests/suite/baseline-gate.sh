#!/bin/sh
# tests/suite/baseline-gate.sh MQCHECK SOURCE_DIR - the baseline gate through
# `mqcheck run --baseline`, on the engine: a known failure that fails as
# recorded passes the gate; one that fails at another step, on another
# statement or with another verdict is CHANGED; a baseline entry that no
# longer runs is NOT RUN; a failure the baseline does not list is a
# REGRESSION. Each of those must exit 1 (the unit test test_baseline_json
# checks the judging; this checks the exit code CI gates on).
set -u
mq=$1; src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cd "$src" || exit 1
fail=0
# the baseline as written: gate/fails@5.0 fails MQTT-3.3.4-1 at line 11
"$mq" run tests/suite/baseline --target engine --quiet --write-baseline "$work/base.json" >/dev/null 2>&1
[ -s "$work/base.json" ] || { echo "FAIL: --write-baseline wrote nothing"; exit 1; }
# edit KEY=VALUE of the one entry, or add an entry (ADD=CASE)
variant() {
  /usr/bin/python3 - "$work/base.json" "$work/$1.json" "$2" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
key, value = sys.argv[3].split("=", 1)
if key == "ADD":
    b["entries"].append(dict(b["entries"][0], case=value))
elif key == "CLEAR":
    b["entries"] = []
else:
    b["entries"][0][key] = json.loads(value)
json.dump(b, open(sys.argv[2], "w"))
PY
}
# gate NAME WANT_RC WANT_LINE: the run against baseline NAME
gate() {
  out=$("$mq" run tests/suite/baseline --target engine --quiet --baseline "$work/$1.json" 2>&1)
  rc=$?
  if [ "$rc" != "$2" ]; then
    echo "FAIL $1: exit $rc, expected $2"; echo "$out" | tail -5; fail=1
  elif ! echo "$out" | grep -q "$3"; then
    echo "FAIL $1: no line matching '$3'"; echo "$out" | tail -5; fail=1
  else
    echo "ok   $1: exit $rc, $(echo "$out" | grep "$3" | head -1)"
  fi
}
cp "$work/base.json" "$work/same.json"
gate same 0 '^baseline .*: 0 regression(s), 0 changed, 0 flaky, 1 known deviation(s), 0 fixed, 0 not run'
variant step 'step_line=9'
gate step 1 '^CHANGED    gate/fails@5.0: fails at line 11 now, at line 9 in the baseline'
variant statement 'statements=["MQTT-3.12.4-1"]'
gate statement 1 '^CHANGED    gate/fails@5.0: fails MQTT-3.3.4-1 now; in the baseline MQTT-3.12.4-1'
variant verdict 'verdict="error"'
gate verdict 1 '^CHANGED    gate/fails@5.0: fail now, error in the baseline'
variant gone 'ADD=gate/gone@5.0'
gate gone 1 '^NOT RUN    gate/gone@5.0: in the baseline, but no such case ran'
variant empty 'CLEAR=1'
gate empty 1 '^REGRESSION gate/fails@5.0: fail'
exit $fail
