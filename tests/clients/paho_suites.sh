#!/bin/sh
# tests/clients/paho_suites.sh MQCHECK - Eclipse Paho's interop suites
# (client_test.py, 3.1.1; client_test5.py, 5.0) against `mqcheck serve` with
# tests/clients/paho-serve.conf, each on its own serve and free loopback port,
# one after the other (~3.5 min).
# The suites are not part of the project: MQC_PAHO_TESTING names a checkout of
# github.com/eclipse/paho.mqtt.testing (its interoperability/ folder is used
# in place, never copied). Without it the test is skipped (exit 77, counted).
set -u
MQCHECK=${1:?usage: paho_suites.sh path/to/mqcheck}
HERE=$(cd "$(dirname "$0")" && pwd)
PAHO=${MQC_PAHO_TESTING:-}
if [ -z "$PAHO" ] || [ ! -f "$PAHO/interoperability/client_test5.py" ]; then
  echo "SKIP: set MQC_PAHO_TESTING to a checkout of eclipse/paho.mqtt.testing"
  exit 77
fi
WORK=$(mktemp -d)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
. "$HERE/../broker.sh" # freeport

start_serve() { # NAME -> prints the port
  port=$(freeport)
  "$MQCHECK" serve --listen "127.0.0.1:$port" --config "$HERE/paho-serve.conf" --quiet \
    >"$WORK/serve-$1.log" 2>&1 &
  PIDS="$PIDS $!"
  i=0
  while ! grep -q listening "$WORK/serve-$1.log" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 50 ] && { echo "serve did not start" >&2; cat "$WORK/serve-$1.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$port"
}

P3=$(start_serve v311) || exit 1
P5=$(start_serve v5) || exit 1
cd "$PAHO/interoperability" || exit 1
# client_test.py hands its own -p option on to unittest, which refuses it;
# unittest is given the program name alone (the suite's tests are untouched).
timeout 400 /usr/bin/python3 -c 'import runpy, sys, unittest
main = unittest.main
unittest.main = lambda *a, **k: main(argv=sys.argv[:1], **k)
runpy.run_path("client_test.py", run_name="__main__")' -p "$P3" >"$WORK/v311.log" 2>&1
R3=$?
# one after the other: test_request_response waits for the wrong client's
# SUBACK (callback, not callback2) and loses the race on a busy machine
timeout 400 /usr/bin/python3 client_test5.py -p "$P5" >"$WORK/v5.log" 2>&1
R5=$?
fails=0
for v in v311 v5; do
  eval rc=\$R$( [ $v = v311 ] && echo 3 || echo 5 )
  summary=$(grep -E '^(Ran|OK|FAILED)' "$WORK/$v.log" | tr '\n' ' ')
  if [ "$rc" -eq 0 ] && grep -q '^OK' "$WORK/$v.log"; then
    echo "ok   paho $v: $summary"
  else
    echo "FAIL paho $v (exit $rc): $summary"
    grep -E '^(FAIL|ERROR):' "$WORK/$v.log"
    tail -40 "$WORK/$v.log"
    fails=$((fails + 1))
  fi
done
[ $fails -eq 0 ]
