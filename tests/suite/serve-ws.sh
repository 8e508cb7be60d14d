#!/bin/sh
# tests/suite/serve-ws.sh MQCHECK SOURCE_DIR - the WebSocket section of the
# suite (suite/6-websocket: subprotocol, packets split across messages, a
# TEXT message refused) against `mqcheck serve` over ws://, which the
# engine target cannot reach. Every case must pass and none may be skipped:
# a skip would mean the transport was never exercised.
set -u
mq=$1; src=$2
. "$src/tests/broker.sh"
port=$(freeport)
log=$(mktemp)
"$mq" serve --listen "ws://127.0.0.1:$port" > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT INT TERM
wait_port "$port" "$pid" "$log"
cd "$src" || exit 1
out=$("$mq" run suite/6-websocket --target "ws://127.0.0.1:$port/mqtt" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || exit 1
echo "$out" | grep -qE ': [1-9][0-9]* passed, 0 failed, 0 skipped, 0 errors' || {
  echo "FAIL: cases were skipped or none passed"; exit 1; }
