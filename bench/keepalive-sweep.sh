#!/bin/sh
# keepalive-sweep.sh - when does a broker close a silent client, and does it
# keep a pinging one, at Keep Alive 1 and 2? The floor of the suite's wall
# time against a real broker is its keep-alive cases (docs/speed.md), and
# mosquitto closes idle clients from a periodic sweep, so the answer depends
# on how long after the broker's start the case runs. For each DELAY this
# starts a fresh mosquitto on a free loopback port, waits DELAY seconds, runs
# three cases at once and prints their verdicts and wall times:
#   expiry-ka1   CONNECT Keep Alive 1, then silence: the close (due 1.5 s)
#   expiry-ka2   the suite's ping/keepalive-expiry-2s (3.1.1): due 3 s
#   alive-ka1    Keep Alive 1, PINGREQ every 0.75 s, alive at 2.2 s
#
#   bench/keepalive-sweep.sh [-m MQCHECK] [DELAY ...]   (default: 0 1 2 3 4 5)
#
# An experiment, never a test: a few seconds per delay, on loopback only.
set -u
mq=build/release/mqcheck
if [ "${1:-}" = -m ]; then mq=$2; shift 2; fi
[ $# -gt 0 ] || set -- 0 1 2 3 4 5
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
. tests/broker.sh
work=$(mktemp -d /tmp/mqcheck-keepalive-sweep.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT INT TERM
mkdir "$work/cases"
cat >"$work/cases/expiry-ka1.yaml" <<'EOF'
format: 1
name: expiry-ka1
description: "Keep Alive 1, then silence: the close is due 1.5 s after CONNECT."
versions: [3.1.1]
rules: [MQTT-3.1.2-24]
steps:
  - connect: {keep_alive: 1}
  - expect_disconnect: {keep_alive: 1}
  - control: true
EOF
cat >"$work/cases/alive-ka1.yaml" <<'EOF'
format: 1
name: alive-ka1
description: "Keep Alive 1, a PINGREQ every 0.75 s: still open at 2.2 s."
versions: [3.1.1]
rules: [MQTT-3.1.2-24, MQTT-3.12.4-1]
steps:
  - connect: {keep_alive: 1}
  - wait: 750
  - send: {type: PINGREQ}
  - expect: {type: PINGRESP}
    rules: [MQTT-3.12.4-1]
  - wait: 750
  - send: {type: PINGREQ}
  - expect: {type: PINGRESP}
    rules: [MQTT-3.12.4-1]
  - expect_none: 700
    rules: [MQTT-3.1.2-24]
  - control: true
EOF
sed -e 's/^name: .*/name: expiry-ka2/' -e 's/^versions: .*/versions: [3.1.1]/' \
  suite/3.12-ping/keepalive-expiry-2s.yaml >"$work/cases/expiry-ka2.yaml"
echo "delay  expiry-ka1        expiry-ka2        alive-ka1"
for d in "$@"; do
  port=$(freeport)
  printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/mosquitto.conf"
  mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
  pid=$!
  wait_port "$port" "$pid" "$work/mosquitto.log"
  sleep "$d"
  "$mq" run "$work/cases" --target "tcp://127.0.0.1:$port" --json "$work/r.json" >/dev/null 2>&1
  kill "$pid"
  wait "$pid" 2>/dev/null
  pid=""
  /usr/bin/python3 -c '
import json, sys
cases = {c["name"]: c for c in json.load(open(sys.argv[1]))["cases"]}
row = ["%s %6.0f ms" % (cases[n]["verdict"], cases[n]["wall_ms"]) for n in ("expiry-ka1", "expiry-ka2", "alive-ka1")]
print("%3s s  " % sys.argv[2] + "  ".join("%-16s" % r for r in row))' "$work/r.json" "$d"
done
