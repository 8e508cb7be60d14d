#!/bin/sh
# tests/suite/stubs.sh MQCHECK SOURCE_DIR WORK_DIR
# The suite against broken brokers (tests/suite/stub-broker.py) must earn no
# pass: one that closes every connection (the run stops up front with one
# error; judged case by case with --no-preflight), one that goes silent
# after CONNACK, and one that refuses MQTT 5.0 (its 5.0 cases are skipped
# with that reason, never passed), and cases without a positive control fail
# on the silent one. Also the keep-alive tolerance, and a fence
# against a broker that delivers late.
set -u
mq=$1; src=$2; work=$3
mkdir -p "$work"
cd "$src" || exit 1
fail=0
. "$src/tests/broker.sh"
start() {
  port=$(freeport)
  /usr/bin/python3 tests/suite/stub-broker.py "$port" "$1" &
  pid=$!
  i=0
  until /usr/bin/python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 50 ] && { echo "stub $1 did not start"; exit 1; }
    sleep 0.1
  done
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
trap 'stop' EXIT INT TERM
run() { # MODE EXTRA... -> report in $work/MODE.json, exit code in $rc
  mode=$1; shift
  "$mq" run suite --target "tcp://127.0.0.1:$port" --profile ci/baselines/mosquitto.profile.yaml \
    --step-timeout 200 --jobs 64 --quiet --json "$work/$mode.json" "$@" > "$work/$mode.out" 2> "$work/$mode.err"
  rc=$?
}
count() { # FILE VERDICT
  /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['summary'][sys.argv[2]])" "$1" "$2"
}
check() { # what ok
  if [ "$2" = 1 ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
start close
run close
check "close: exit 2 ($rc)" "$([ $rc = 2 ] && echo 1)"
check "close: one error line" "$([ "$(wc -l < "$work/close.err")" = 1 ] && grep -q 'accepts no CONNECT' "$work/close.err" && echo 1)"
cat "$work/close.err"
run close-judged --no-preflight
check "close, judged: 0 passes ($(count "$work/close-judged.json" pass)), some cases ran" \
  "$([ "$(count "$work/close-judged.json" pass)" = 0 ] && [ "$(count "$work/close-judged.json" fail)" -gt 100 ] && echo 1)"
stop
start stall
run stall
check "stall: 0 passes ($(count "$work/stall.json" pass)), cases ran" \
  "$([ "$(count "$work/stall.json" pass)" = 0 ] && [ "$(count "$work/stall.json" fail)" -gt 200 ] && echo 1)"
# Cases without a positive control (tests/suite/no-control: a CONNACK alone,
# an absence check last) fail by the runner's rule alone: every suite case has
# a control of its own, so the run above passes even without the rule.
"$mq" run tests/suite/no-control --target "tcp://127.0.0.1:$port" --quiet \
  --profile ci/baselines/mosquitto.profile.yaml \
  --json "$work/no-control.json" > "$work/no-control.out" 2>&1
nc=$(/usr/bin/python3 -c "
import json,sys
r=json.load(open(sys.argv[1]))['cases']
# the failure points at the absence check left last (line 9), else the case
at={'no-control/absence-last':9,'no-control/connack-only':1}
print(len(r), sum(1 for c in r if c['verdict']=='fail' and 'no positive control' in (c['message'] or '')
                  and c['step_line']==at[c['name']]))" \
  "$work/no-control.json")
check "stall, no positive control: each of 4 cases fails for it, at its line ($nc)" "$([ "$nc" = "4 4" ] && echo 1)"
stop
start stall311
run stall311
skipped5=$(/usr/bin/python3 -c "
import json,sys
r=json.load(open(sys.argv[1]))
print(sum(1 for c in r['cases'] if c['version']=='5.0' and c['verdict']=='skip' and 'does not speak MQTT 5.0' in (c['message'] or '')))
print(sum(1 for c in r['cases'] if c['version']=='5.0' and c['verdict']!='skip'))" "$work/stall311.json")
check "stall311: 0 passes, every 5.0 case skipped as not spoken ($(echo $skipped5))" \
  "$([ "$(count "$work/stall311.json" pass)" = 0 ] && [ "$(echo "$skipped5" | sed -n 1p)" -gt 100 ] && [ "$(echo "$skipped5" | sed -n 2p)" = 0 ] && echo 1)"
stop
# The keep-alive tolerance (docs/scenarios.md, "Timing tolerances"): a close
# between Keep Alive and 1.5 x Keep Alive passes, one long after due + margin
# fails, and one before Keep Alive ran out fails. --timeout-scale 0.25 keeps
# the load-scaled margin (1 s x load per CPU) well under the late close even
# on a busy machine.
for f in 1.3:pass 6:fail 0.5:fail; do
  start "ka:${f%%:*}"
  "$mq" run tests/suite/keepalive --target "tcp://127.0.0.1:$port" --quiet --timeout-scale 0.25 \
    --json "$work/ka.json" > "$work/ka.out" 2>&1
  v=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cases'][0]['verdict'])" "$work/ka.json")
  check "keep-alive closed at ${f%%:*} x K: $v (want ${f#*:})" "$([ "$v" = "${f#*:}" ] && echo 1)"
  stop
done
# Issue 14: a fence catches an unwanted delivery that a 200 ms timer misses.
# The hold stub delivers every topic's stream 300 ms late, in order, at QoS 0, 1
# and 2.
start hold
"$mq" run tests/suite/fence --target "tcp://127.0.0.1:$port" --profile ci/baselines/mosquitto.profile.yaml \
  --quiet --json "$work/fence.json" > "$work/fence.out" 2>&1
verdicts=$(/usr/bin/python3 -c "import json,sys; print(' '.join(c['id'] + '=' + c['verdict'] for c in json.load(open(sys.argv[1]))['cases']))" "$work/fence.json")
# At each QoS: the sentinel fence fails the case, the timer passes it.
for q in "" -qos1 -qos2; do
  check "fence$q: $verdicts" "$(echo "$verdicts" | grep -q "test/fence-sentinel$q@3.1.1=fail" &&
    echo "$verdicts" | grep -q "test/fence-timer$q@3.1.1=pass" && echo 1)"
done
stop
exit $fail
