#!/bin/sh
# tests/net/serve_tls_ws.sh MQCHECK - transports end to end through
# `mqcheck serve` itself (not net/'s test listener): one serve process with
# mqtts, ws, wss and tcp listeners at once; mosquitto_pub/sub over TLS and
# MQTT.js over ws/wss; messages must cross from a TLS client to a ws client
# and back. Then a client that trusts the wrong CA must see an untrusted-
# certificate error, and a serve started with --cafile must demand client
# certificates. Certificates come from tests/net/mkcerts.sh; every server is
# stopped on exit.
set -u
MQCHECK=${1:?usage: serve_tls_ws.sh path/to/mqcheck}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${MQC_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
export NODE_PATH="$SRC/ci/npm/node_modules"
WORK=$(mktemp -d)
fails=0
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "${MQC_TEST_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
have() { command -v "$1" >/dev/null 2>&1; }
for t in openssl mosquitto_pub mosquitto_sub node; do
  have $t || { echo "skip: $t not installed"; exit 77; }
done
[ -d "$NODE_PATH/mqtt" ] || { echo "skip: $NODE_PATH/mqtt missing"; exit 77; }
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

sh "$HERE/mkcerts.sh" "$WORK/pki" >/dev/null || { echo "mkcerts failed"; exit 1; }
P=$WORK/pki

start_serve() { # log args...
  log=$1; shift
  "$MQCHECK" serve "$@" >"$log" 2>&1 &
  PIDS="$PIDS $!"
  i=0
  # grep -c prints nothing while the log does not exist yet: count that as 0,
  # or the test would race ahead of a slow-starting serve.
  while n=$(grep -c listening "$log" 2>/dev/null); [ "${n:-0}" -lt "$NLISTEN" ]; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "serve did not start"; cat "$log"; exit 1; }
    sleep 0.1
  done
}

TLS=$(port); WS=$(port); WSS=$(port); TCP=$(port)
NLISTEN=4
start_serve "$WORK/serve.log" --strict --listen "mqtts://127.0.0.1:$TLS" \
  --listen "ws://127.0.0.1:$WS/mqtt" --listen "wss://127.0.0.1:$WSS/mqtt" \
  --listen "127.0.0.1:$TCP" --cert "$P/server.crt" --key "$P/server.key"

# 1. TLS subscriber (mosquitto_sub) gets what ws and wss publishers send
mosquitto_sub -h 127.0.0.1 -p "$TLS" --cafile "$P/ca.crt" -V mqttv5 -q 1 -t 'e2e/tls/#' -C 3 -W 10 \
  >"$WORK/tls-sub.out" 2>&1 &
SUB=$!
sleep 0.5
node "$HERE/serve_js_client.js" "ws://127.0.0.1:$WS/mqtt" pub e2e/tls/a from-ws >"$WORK/ws-pub.out" 2>&1 \
  || bad "MQTT.js ws publish: $(cat "$WORK/ws-pub.out")"
node "$HERE/serve_js_client.js" "wss://localhost:$WSS/mqtt" pub e2e/tls/b from-wss "$P/ca.crt" \
  >"$WORK/wss-pub.out" 2>&1 || bad "MQTT.js wss publish: $(cat "$WORK/wss-pub.out")"
mosquitto_pub -h 127.0.0.1 -p "$TCP" -V mqttv311 -q 1 -t e2e/tls/c -m from-tcp
wait $SUB
got=$(sort "$WORK/tls-sub.out" | tr '\n' ' ')
[ "$got" = "from-tcp from-ws from-wss " ] && ok "ws + wss + tcp -> mqtts (mosquitto_sub over TLS)" \
  || bad "mqtts subscriber got: $got"

# 2. ws and wss subscribers (MQTT.js) get what a TLS publisher sends
for kind in ws wss; do
  if [ $kind = ws ]; then url="ws://127.0.0.1:$WS/mqtt"; ca=""; else url="wss://localhost:$WSS/mqtt"; ca="$P/ca.crt"; fi
  node "$HERE/serve_js_client.js" "$url" sub "e2e/$kind" "from-tls-$kind" $ca >"$WORK/$kind-sub.out" 2>&1 &
  js=$!
  i=0
  while ! grep -q ready "$WORK/$kind-sub.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && break
    sleep 0.1
  done
  mosquitto_pub -h localhost -p "$TLS" --cafile "$P/ca.crt" -V mqttv5 -q 1 -t "e2e/$kind" -m "from-tls-$kind" \
    >"$WORK/tls-pub-$kind.out" 2>&1 || bad "mosquitto_pub over TLS: $(cat "$WORK/tls-pub-$kind.out")"
  if wait $js; then ok "mqtts -> $kind (MQTT.js)"; else bad "$kind subscriber: $(cat "$WORK/$kind-sub.out")"; fi
done

# 3. a client that trusts another CA sees an untrusted certificate
out=$(mosquitto_pub -d -h 127.0.0.1 -p "$TLS" --cafile "$P/other-ca.crt" -t e2e/x -m no 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -qi "certificate verify failed"; then
  ok "wrong CA -> untrusted certificate ($(echo "$out" | grep -i "verify failed" | head -1))"
else
  bad "wrong CA: rc=$rc: $out"
fi
node "$HERE/serve_js_client.js" "wss://localhost:$WSS/mqtt" pub e2e/x no "$P/other-ca.crt" >"$WORK/wss-bad.out" 2>&1
if grep -qi "self.signed\|unable to verify\|unable to get local issuer" "$WORK/wss-bad.out"; then
  ok "wss wrong CA -> untrusted ($(head -1 "$WORK/wss-bad.out"))"
else
  bad "wss wrong CA: $(cat "$WORK/wss-bad.out")"
fi
grep -q "VIOLATION" "$WORK/serve.log" && { echo "note: violations:"; grep VIOLATION "$WORK/serve.log" | head -3; }

# 4. serve --cafile demands client certificates
CT=$(port)
NLISTEN=1
start_serve "$WORK/serve-ca.log" --listen "mqtts://127.0.0.1:$CT" --cert "$P/server.crt" \
  --key "$P/server.key" --cafile "$P/ca.crt"
if mosquitto_pub -h 127.0.0.1 -p "$CT" --cafile "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" \
  -t e2e/cert -m yes >"$WORK/cert-ok.out" 2>&1; then ok "--cafile: client certificate accepted"
else bad "--cafile with a good client cert: $(cat "$WORK/cert-ok.out")"; fi
if mosquitto_pub -h 127.0.0.1 -p "$CT" --cafile "$P/ca.crt" -t e2e/cert -m no >"$WORK/cert-none.out" 2>&1; then
  bad "--cafile: a client without certificate got in"
else ok "--cafile: client without certificate refused"; fi
if mosquitto_pub -h 127.0.0.1 -p "$CT" --cafile "$P/ca.crt" --cert "$P/badclient.crt" --key "$P/badclient.key" \
  -t e2e/cert -m no >"$WORK/cert-bad.out" 2>&1; then
  bad "--cafile: a client certificate from another CA got in"
else ok "--cafile: client certificate from another CA refused"; fi

if [ $fails -ne 0 ]; then echo "$fails check(s) failed"; [ -n "${MQC_TEST_VERBOSE:-}" ] && cat "$WORK"/serve*.log; exit 1; fi
echo "all serve transport checks passed"
