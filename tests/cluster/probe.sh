#!/bin/sh
# tests/cluster/probe.sh KIND MQCHECK SOURCE_DIR REPORT_DIR
# `mqcheck probe --target a=URL --target b=URL` on a two-node topology
# (tests/cluster/topology.sh) must find the promises it keeps and write them as
# the profile's cluster: section: the aedes cluster keeps delivery, retained
# messages, takeover and sessions across nodes; the bridge delivers and shares retained messages
# but takes no client ID over, keeps no session across and has a group per
# node; two unconnected brokers keep nothing. On the bridge the probed profile
# then drives the cluster section to the same verdicts as tests/cluster/bridge.yaml.
set -u
kind=$1; mq=$2; src=$3; report=$4
rm -rf "$report"
. "$src/tests/cluster/topology.sh"
start_topology "$kind" "$report" "$src"
cd "$src"
out="$report/probed.yaml"
# shellcheck disable=SC2086 # targets holds separate options
"$mq" probe $targets --profile-out "$out" > /dev/null || { echo "FAIL: probe exited $?"; exit 1; }
failures=0
want() { # ITEM STATE
  if grep -Eq "^#   $1 +$2 " "$out"; then echo "ok: $1 $2"; else
    echo "FAIL: want '$1 $2' in the profile:"; grep "^#   $1" "$out"; failures=$((failures + 1)); fi
}
key() { # LINE
  if grep -qx "  $1" "$out"; then echo "ok: $1"; else
    echo "FAIL: want '  $1' in the profile's cluster section"; failures=$((failures + 1)); fi
}
case "$kind" in
  aedes)
    want "cross-node delivery" yes; want "retained across nodes" yes
    want "takeover across nodes" yes; want "session on another node" yes
    key "takeover: true"; key "session_resume: true" ;;
  bridge)
    want "cross-node delivery" yes; want "retained across nodes" yes
    want "takeover across nodes" no; want "shared group across nodes" no
    want "session on another node" no
    key "takeover: false"; key "session_resume: false" ;;
  unconnected)
    want "cross-node delivery" no; want "retained across nodes" no
    want "takeover across nodes" no; want "session on another node" no
    grep -q "do not route to each other" "$out" || { echo "FAIL: no warning that nothing routes"; failures=$((failures + 1)); } ;;
esac
grep -q '^target: \["a=tcp://127.0.0.1:[0-9]*", "b=tcp://127.0.0.1:[0-9]*"\]$' "$out" ||
  { echo "FAIL: the profile does not list the nodes"; failures=$((failures + 1)); }
if [ "$kind" = bridge ]; then
  # the probed profile alone (its own node list) gives the bridge's verdicts,
  # and so does a run without a profile (it probes the same promises)
  "$mq" run suite/cluster --profile "$out" --quiet --json "$report/report.json" > /dev/null
  /usr/bin/python3 "$src/tests/cluster/check.py" bridge "$report/report.json" ||
    failures=$((failures + 1))
  # shellcheck disable=SC2086
  "$mq" run suite/cluster $targets --quiet --json "$report/report-probed.json" > /dev/null
  /usr/bin/python3 "$src/tests/cluster/check.py" bridge "$report/report-probed.json" ||
    failures=$((failures + 1))
fi
cat "$out"
[ $failures = 0 ] || { echo "FAIL: $failures problem(s)"; exit 1; }
