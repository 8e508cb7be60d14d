#!/bin/sh
# tests/clients/clients.sh CLIENT MQCHECK OUTDIR [PROGRAM] - `mqcheck client-check`
# against one real client (mosquitto, paho-python, mqttjs, paho-c) or the
# deliberately broken one, then every case's verdict and failing statements
# compared with tests/clients/expected/CLIENT.txt (docs/clients.md explains each
# deviation). A client that is not installed is a counted skip (77).
set -u
CLIENT=${1:?usage: clients.sh CLIENT MQCHECK OUTDIR [PROGRAM]}
MQCHECK=${2:?}
OUT=${3:?}
PROG=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
A='{role} {host} {port} {version} {qos} {count} {topic} {payload} {id} {session} {auth} {keepalive} {retain}'
have() { command -v "$1" >/dev/null 2>&1; }
skip() { echo "SKIP: $1"; exit 77; }
case "$CLIENT" in
  mosquitto)
    have mosquitto_pub && have mosquitto_sub || skip "mosquitto_pub/mosquitto_sub (mosquitto-clients) not installed"
    set -- --pub "mosquitto_pub -h {host} -p {port} -V {version} -q {qos} -t {topic} -m {payload} -i {id} -k {keepalive} --repeat {count} \$([ {session} = 1 ] && echo -c) \$([ {retain} = 1 ] && echo -r)" \
           --sub "mosquitto_sub -h {host} -p {port} -V {version} -q {qos} -t {topic} -i {id} -k {keepalive} -C {count} -W 12 \$([ {version} = 5 ] && echo -D connect topic-alias-maximum 10)" ;;
  paho-python)
    /usr/bin/python3 -c 'import paho.mqtt.client' 2>/dev/null || skip "python3-paho-mqtt not installed"
    set -- --exec "/usr/bin/python3 $HERE/paho_client.py $A" ;;
  mqttjs)
    have node && [ -d "$HERE/../../ci/npm/node_modules/mqtt" ] || skip "node or MQTT.js (ci/npm) not installed"
    set -- --exec "node $HERE/mqttjs_client.js $A" ;;
  paho-c)
    [ -n "$PROG" ] && [ -x "$PROG" ] || skip "paho_c_client not built (libpaho-mqtt-dev missing)"
    set -- --exec "$PROG $A" ;;
  broken)
    set -- --exec "/usr/bin/python3 $HERE/broken_client.py $A" ;;
  *) echo "unknown client $CLIENT"; exit 2 ;;
esac
rm -rf "$OUT" && mkdir -p "$OUT"
"$MQCHECK" client-check "$@" --report "$OUT" >"$OUT/stdout.txt" 2>&1
rc=$?
cat "$OUT/stdout.txt"
[ -f "$OUT/report.json" ] || { echo "FAIL: no report.json (exit $rc)"; exit 1; }
/usr/bin/python3 "$HERE/compare.py" "$OUT/report.json" "$HERE/expected/$CLIENT.txt" || exit 1
# the exit status says the same as the verdicts: 1 when a case fails or errs
want=0
grep -Eq '[[:space:]](fail|error)([[:space:]]|$)' "$HERE/expected/$CLIENT.txt" && want=1
[ "$rc" = "$want" ] || { echo "FAIL: client-check exited $rc, want $want"; exit 1; }
