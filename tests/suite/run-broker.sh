#!/bin/sh
# tests/suite/run-broker.sh BROKER MQCHECK SOURCE_DIR REPORT_DIR [TRANSPORT]
# Starts BROKER (mosquitto | aedes) on a free loopback port, runs the whole
# scenario suite against it with the committed baseline
# ci/baselines/BROKER.baseline (the test fails only on regressions), writes
# reports to REPORT_DIR and stops the broker.
# TRANSPORT (mosquitto only): tcp (default), mqtts, ws or wss. The suite must
# give the same verdicts over every transport, so all use the same baseline;
# TLS certificates are made fresh by tests/net/mkcerts.sh. mosquitto 2.0
# refuses to start with a websockets listener alone, so a plain listener is
# always configured as well.
set -u
broker=$1; mq=$2; src=$3; report=$4; transport=${5:-tcp}
mkdir -p "$report"
. "$src/tests/broker.sh"
port=$(freeport)
log="$report/broker.log"
extra=""
target="tcp://127.0.0.1:$port"
case "$broker" in
  mosquitto)
    conf="$report/mosquitto.conf"
    # nodelay: without it each TLS CONNECT waits ~40 ms for a delayed ACK
    printf 'set_tcp_nodelay true\nlistener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$conf"
    if [ "$transport" != tcp ]; then
      tport=$(freeport)
      case "$transport" in
        mqtts|wss)
          sh "$src/tests/net/mkcerts.sh" "$report/pki" || exit 1
          # mosquitto started as root drops to its own user: the throw-away
          # test key must stay readable for it
          chmod a+r "$report/pki"/*.key
          extra="--cafile $report/pki/ca.crt" ;;
      esac
      printf 'listener %s 127.0.0.1\n' "$tport" >> "$conf"
      case "$transport" in
        ws|wss) printf 'protocol websockets\n' >> "$conf" ;;
        mqtts) ;;
        *) echo "unknown transport $transport" >&2; exit 2 ;;
      esac
      case "$transport" in
        mqtts|wss) printf 'certfile %s\nkeyfile %s\n' "$report/pki/server.crt" "$report/pki/server.key" >> "$conf" ;;
      esac
      case "$transport" in
        mqtts) target="mqtts://127.0.0.1:$tport" ;;
        ws) target="ws://127.0.0.1:$tport/mqtt" ;;
        wss) target="wss://127.0.0.1:$tport/mqtt" ;;
      esac
      # mosquitto's websockets listener takes 0.2-0.3 s per upgrade (its
      # libwebsockets service loop), so more cases run side by side there
      case "$transport" in ws|wss) extra="$extra --jobs 48" ;; esac
    fi
    /usr/sbin/mosquitto -c "$conf" > "$log" 2>&1 &
    ;;
  aedes)
    [ "$transport" = tcp ] || { echo "aedes runs over tcp only" >&2; exit 2; }
    node "$src/tests/suite/aedes-broker.js" "$port" > "$log" 2>&1 &
    ;;
  *) echo "unknown broker $broker" >&2; exit 2 ;;
esac
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT INT TERM
# Wait (bounded) until the port accepts connections.
wait_port "$port" "$pid" "$log"
cd "$src"
# shellcheck disable=SC2086 # extra holds separate options
"$mq" run suite --target "$target" $extra --quiet --report "$report" \
  --baseline "ci/baselines/$broker.baseline" --profile "ci/baselines/$broker.profile.yaml"
