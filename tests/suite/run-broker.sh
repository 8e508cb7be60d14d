#!/bin/sh
# tests/suite/run-broker.sh BROKER MQCHECK SOURCE_DIR REPORT_DIR
# Starts BROKER (mosquitto | aedes) on a free loopback port, runs the whole
# scenario suite against it with the committed baseline
# ci/baselines/BROKER.baseline (the test fails only on regressions), writes
# reports to REPORT_DIR and stops the broker.
set -u
broker=$1; mq=$2; src=$3; report=$4
mkdir -p "$report"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log="$report/broker.log"
case "$broker" in
  mosquitto)
    conf="$report/mosquitto.conf"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$conf"
    /usr/sbin/mosquitto -c "$conf" > "$log" 2>&1 &
    ;;
  aedes)
    node "$src/tests/suite/aedes-broker.js" "$port" > "$log" 2>&1 &
    ;;
  *) echo "unknown broker $broker" >&2; exit 2 ;;
esac
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT INT TERM
# Wait (bounded) until the port accepts connections.
i=0
until /usr/bin/python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
    echo "$broker did not start on port $port:"; cat "$log"; exit 1
  fi
  sleep 0.1
done
cd "$src"
"$mq" run suite --target "tcp://127.0.0.1:$port" --quiet --report "$report" \
  --baseline "ci/baselines/$broker.baseline" --profile "ci/baselines/$broker.profile.yaml"
