#!/bin/sh
# tests/suite/v31-mosquitto.sh MQCHECK SOURCE_DIR - the MQTT 3.1 (MQIsdp)
# cases of the connect sections against Debian's mosquitto, started on a
# free loopback port and stopped afterwards. The full suite run
# (scenarios_mosquitto) gates every 3.1 case on the baseline; this test makes
# sure they really ran: a broker refusing MQIsdp would only skip them there.
# At least 10 cases must pass, and the gate must find no regression.
set -u
mq=$1; src=$2
. "$src/tests/broker.sh"
[ -x /usr/sbin/mosquitto ] || { echo "skip: /usr/sbin/mosquitto not installed"; exit 77; }
work=$(mktemp -d)
port=$(freeport)
printf 'set_tcp_nodelay true\nlistener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$work/mosquitto.conf"
/usr/sbin/mosquitto -c "$work/mosquitto.conf" > "$work/broker.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT INT TERM
wait_port "$port" "$pid" "$work/broker.log"
cd "$src" || exit 1
out=$("$mq" run suite/3.1-mqisdp suite/3.1-connect suite/3.12-ping --version 3.1 \
  --target "tcp://127.0.0.1:$port" --profile ci/baselines/mosquitto.profile.yaml \
  --baseline ci/baselines/mosquitto.baseline 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "FAIL: exit $rc"; exit 1; }
passed=$(echo "$out" | sed -n 's/.* \([0-9][0-9]*\) passed,.*/\1/p' | tail -1)
[ "${passed:-0}" -ge 10 ] || { echo "FAIL: only ${passed:-0} MQTT 3.1 cases passed, want 10 or more"; exit 1; }
