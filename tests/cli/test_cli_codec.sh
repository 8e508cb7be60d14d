#!/bin/sh
# test_cli_codec.sh MQCHECK - end-to-end checks of `mqcheck decode` and
# `mqcheck encode`: exit codes, error reports (offset, reason, statement),
# JSON shape, YAML error positions and the decode/encode round trip.
set -u
mq=$1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name expected-exit command...
  name=$1; want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: exit $got, expected $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err"
    fails=$((fails + 1))
  fi
}
expect_out() { # name pattern (grep -E on stdout+stderr of the last check)
  if ! cat "$tmp/out" "$tmp/err" | grep -Eq -- "$2"; then
    echo "FAIL $1: output lacks /$2/"; sed 's/^/  | /' "$tmp/out" "$tmp/err"
    fails=$((fails + 1))
  fi
}

PUB5=322f001273656e736f72732f726f6f6d312f74656d70002a142600016100016203000a746578742f706c61696e32312e35
CONN5=101c00044d5154540502003c05110000012c000a636c69656e742d313233

check valid-stream 0 "$mq" decode --version 5 --from client "$PUB5" 4002002a
expect_out valid-stream '^@0 PUBLISH q1 id=42 topic="sensors/room1/temp"'
expect_out valid-stream '^@49 PUBACK id=42'

check auto-version 0 "$mq" decode "$CONN5" 4002002a
expect_out auto-version 'CONNECT v5'

check auto-needs-connect 1 "$mq" decode 4002002a
expect_out auto-needs-connect 'MQTT-3.1.0-1'

check wildcard 1 "$mq" decode --version 5 3007000361 2f23 0000
expect_out wildcard 'at byte 6 .*reason 0x82 .*\[MQTT-3.3.2-2\]'

check wildcard-json 1 "$mq" decode --json --version 5 30070003612f230000
expect_out wildcard-json '"error":\{"status":"protocol error","offset":6,"reason_code":130,"statement":"MQTT-3.3.2-2","message":"[^"]+"\}'

check second-packet-offset 1 "$mq" decode --json --version 3.1.1 c000 3603000161
expect_out second-packet-offset '"offset":2,"reason_code":129,"statement":"MQTT-3.3.1-4"'

check incomplete 1 "$mq" decode --version 5 320a0003
expect_out incomplete 'needed'

check wrong-direction 1 "$mq" decode --version 3.1.1 --from server e000
expect_out wrong-direction 'not sent by a server'

check bad-hex 1 "$mq" decode --version 5 3g00
check bad-version 2 "$mq" decode --version 7 c000
check no-input 2 "$mq" decode --version 5

check stdin-raw 0 sh -c "printf '\300\000' | '$mq' decode --version 5 --raw -"
expect_out stdin-raw '^@0 PINGREQ'

# encode: description to hex, and the JSON of decode back to the same hex.
check encode 0 "$mq" encode --version 5 --text '{type: PUBLISH, qos: 1, packet_id: 42, topic: sensors/room1/temp, properties: [{user_property: [a, b]}, {content_type: text/plain}], payload: "21.5"}'
expect_out encode "^$PUB5\$"

"$mq" decode --json --version 5 "$PUB5" >"$tmp/dec.json"
/usr/bin/python3 - "$tmp/dec.json" >"$tmp/pkt.json" <<'PY'
import json, sys
print(json.dumps(json.load(open(sys.argv[1]))["packets"][0]["packet"]))
PY
check roundtrip 0 "$mq" encode --version 5 "$tmp/pkt.json"
expect_out roundtrip "^$PUB5\$"

check encode-faults 0 "$mq" encode --version 5 --text '{type: PUBLISH, topic: a, faults: {flags: 6}}'
expect_out encode-faults '^36'

printf 'type: PUBLISH\ntopic: a\nqoss: 1\n' >"$tmp/bad.yaml"
check encode-unknown-key 1 "$mq" encode "$tmp/bad.yaml"
expect_out encode-unknown-key "bad.yaml:3:1: unknown key 'qoss'"

printf '{type: PUBLISH, topic: [a\n' >"$tmp/broken.yaml"
check encode-syntax 1 "$mq" encode "$tmp/broken.yaml"
expect_out encode-syntax 'broken.yaml:2:1: '

check encode-missing-file 1 "$mq" encode "$tmp/nope.yaml"
expect_out encode-missing-file 'cannot open'

# encode refuses invalid packets unless asked, and never drops a field.
check encode-pid0 1 "$mq" encode --text '{type: PUBLISH, topic: a/b, qos: 1}'
expect_out encode-pid0 'refusing an invalid PUBLISH for MQTT 5.0: packet identifier is 0 .*\[MQTT-2\.2\.1-3\]'
check encode-pid0-allowed 0 "$mq" encode --allow-invalid --text '{type: PUBLISH, topic: a/b, qos: 1}'
expect_out encode-pid0-allowed '^32080003612f62000000$'
check encode-pid0-faults 0 "$mq" encode --text '{type: PUBLISH, topic: a/b, qos: 1, faults: {}}'
expect_out encode-pid0-faults '^32080003612f62000000$'
check encode-list-one-bad 1 "$mq" encode --text '[{type: PINGREQ}, {type: SUBSCRIBE, packet_id: 1}]'
expect_out encode-list-one-bad '<text>:1:19: refusing an invalid SUBSCRIBE'
check encode-311-props 1 "$mq" encode --version 3.1.1 --text '{type: PUBLISH, topic: a, properties: [{raw_hex: "2300"}]}'
expect_out encode-311-props '<text>:1:27: properties: MQTT 3.1.1 has no properties, so they would be dropped'
check encode-311-reason 1 "$mq" encode --version 3.1.1 --text '{type: PUBACK, packet_id: 1, reason_code: 16}'
expect_out encode-311-reason 'reason_code: an MQTT 3.1.1 PUBACK has no reason code'
check encode-311-auth 1 "$mq" encode --version 3.1.1 --text '{type: AUTH}'
expect_out encode-311-auth 'refusing an invalid AUTH for MQTT 3.1.1: reserved packet type'
check encode-311-auth-allowed 0 "$mq" encode --version 3.1.1 --allow-invalid --text '{type: AUTH}'
expect_out encode-311-auth-allowed '^f000$'
check encode-field-of-other-type 1 "$mq" encode --text '{type: PINGREQ, topic: x}'
expect_out encode-field-of-other-type "topic: PINGREQ has no such field"
check encode-help 0 "$mq" encode --help
expect_out encode-help 'default: 5'

if [ $fails -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all CLI codec checks passed"
