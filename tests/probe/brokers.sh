#!/bin/sh
# tests/probe/brokers.sh CASE MQCHECK SOURCE_DIR OUT_DIR
# Starts a real broker on free loopback ports, probes it and checks the
# profile; for the brokers whose legal choices matter, runs the whole suite
# with the probe (no --profile) and gates on the committed baseline, so a
# failure caused by a legal choice is a regression and fails the test.
#   mosquitto             default config plus a WebSocket listener: every
#                         capability, both versions, transports that answer
#   mosquitto-restricted  max_qos 1, retain_available false: QoS 2 and
#                         retain cases skipped, declared values checked
#   mosquitto-auth        allow_anonymous false with a password file
#   mosquitto-limits      max_packet_size, max_keepalive, max_inflight_messages,
#                         max_topic_alias: the limits a 5.0 CONNACK announces
#   aedes                 3.1.1 only, no shared subscriptions
#   compare-targets       mosquitto and aedes compared by `report --compare
#                         --target A --target B` (each run probed first)
#   liar                  tests/probe/liar-broker.py: declarations its behaviour
#                         contradicts, each a finding with its statement
set -u
case_=$1; mq=$2; src=$3; out=$4
. "$src/tests/probe/common.sh"
rm -rf "$out"; mkdir -p "$out"
port=$(freeport)
target="tcp://127.0.0.1:$port"
case "$case_" in
  mosquitto)
    wsport=$(freeport); dead=$(freeport)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nlistener %s 127.0.0.1\nprotocol websockets\nallow_anonymous true\n' \
      "$port" "$wsport" > "$out/mosquitto.conf"
    start_mosquitto "$out/mosquitto.conf" "$out/broker.log" "$port"
    "$mq" probe --target "$target" --also "ws://127.0.0.1:$wsport/mqtt" --also "tcp://127.0.0.1:$dead" \
      --profile-out "$out/profile.yaml" > "$out/probe.out" 2> "$out/probe.err"
    rc=$?; [ $rc -eq 0 ] && ok "probe exit 0" || fail "probe exit $rc: $(cat "$out/probe.err")"
    p="$out/profile.yaml"
    expect_line "$p" '^versions: \[3\.1\.1, 5\.0, 3\.1\]$' "3.1.1, 5.0 and 3.1"
    expect_line "$p" '^#   version 3\.1 +yes' "3.1 accepted"
    expect_line "$p" '^#   authentication required +no' "anonymous"
    for c in qos1 qos2 retain wildcards shared-subscriptions subscription-identifiers topic-alias \
             assigned-client-id persistent-sessions session-expiry; do
      expect_line "$p" "^  $c: true$" "$c: true"
    done
    expect_line "$p" '^#   maximum QoS +2$' "maximum QoS 2"
    expect_line "$p" '^#   receive maximum +20$' "receive maximum 20 (max_inflight_messages default)"
    expect_line "$p" '^#   topic alias maximum +10$' "topic alias maximum 10"
    expect_line "$p" '^#   maximum packet size +no limit' "no maximum packet size"
    expect_line "$p" '^#   server keep alive +none' "no server keep alive"
    expect_line "$p" '^#   \$SYS topics +yes +received \$SYS/' "\$SYS seen"
    expect_line "$p" "^#   transport tcp://127.0.0.1:$port +answers" "tcp answers"
    expect_line "$p" "^#   transport ws://127.0.0.1:$wsport/mqtt +answers" "ws answers"
    expect_line "$p" "^#   transport tcp://127.0.0.1:$dead +no +.*refused" "closed port does not"
    if grep -q 'finding' "$p"; then fail "findings on a default mosquitto: $(grep finding "$p")"; else ok "no findings"; fi
    # the profile loads as a run profile
    "$mq" run "$src/suite/3.1-connect/basic.yaml" --profile "$p" -q > "$out/run.out" 2>&1
    rc=$?; [ $rc -eq 0 ] && ok "probed profile loads and runs" || fail "run --profile: exit $rc: $(cat "$out/run.out")"
    ;;
  mosquitto-restricted)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_qos 1\nretain_available false\n' "$port" > "$out/mosquitto.conf"
    start_mosquitto "$out/mosquitto.conf" "$out/broker.log" "$port"
    "$mq" probe --target "$target" --profile-out "$out/profile.yaml" > /dev/null 2> "$out/probe.err"
    p="$out/profile.yaml"
    expect_line "$p" '^  qos1: true$' "qos1 true"
    expect_line "$p" '^  qos2: false$' "qos2 false"
    expect_line "$p" '^  retain: false$' "retain false"
    expect_line "$p" '^#   maximum QoS +1$' "maximum QoS 1"
    expect_line "$p" '^#   CONNACK Maximum QoS +1$' "declared Maximum QoS 1"
    expect_line "$p" '^#   retain +no +CONNACK Retain Available 0' "declared Retain Available 0"
    expect_line "$p" '^#   qos2 +no +CONNACK Maximum QoS 1 ' "QoS 2 declared unavailable, not tried"
    cd "$src"
    "$mq" run suite --target "$target" --quiet --report "$out/report" \
      --baseline ci/baselines/mosquitto.baseline > "$out/run.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && ok "suite with the probe: no regression" || fail "suite exit $rc: $(grep -E '^(FAIL|ERROR|REGRESSION|baseline)' "$out/run.out")"
    expect_line "$out/run.out" '^no --profile: probed tcp://127\.0\.0\.1:[0-9]+ in [0-9.]+ s: MQTT .*QoS <= 1; retain no' "run says it probed, in one line"
    [ "$(grep -c '^no --profile' "$out/run.out")" -eq 1 ] && ok "one probe line" || fail "probe line count"
    expect_line "$out/report/report.json" '"message": "target lacks qos2"' "QoS 2 cases skipped with the reason"
    expect_line "$out/report/report.json" '"message": "target lacks retain"' "retain cases skipped with the reason"
    expect_line "$out/report/report.json" '"profile_text": "# mqcheck probe of' "the probed profile is in the JSON report"
    expect_line "$out/report/report.html" 'id="profile-text"># mqcheck probe of' "the probed profile is in the HTML report"
    ;;
  mosquitto-auth)
    /usr/bin/mosquitto_passwd -c -b "$out/passwd" alice s3cret > /dev/null 2>&1 || { fail "mosquitto_passwd"; finish; }
    chmod a+r "$out/passwd"
    printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\n' "$port" "$out/passwd" > "$out/mosquitto.conf"
    start_mosquitto "$out/mosquitto.conf" "$out/broker.log" "$port"
    "$mq" probe --target "$target" > "$out/anon.yaml" 2> "$out/anon.err"
    expect_line "$out/anon.yaml" '^#   authentication required +yes' "credentials needed"
    expect_line "$out/anon.yaml" '^#   version 5\.0 +yes +understood, but the credentials were refused' "5.0 still recognised"
    expect_line "$out/anon.yaml" '^#   qos2 +unknown +not probed: the broker refused the credentials' "undecidable says so"
    if grep -Eq '^  qos2:' "$out/anon.yaml"; then fail "an undecided capability was written"; else ok "undecided capabilities left out"; fi
    "$mq" probe --target "$target" --username alice --password s3cret > "$out/auth.yaml" 2> "$out/auth.err"
    expect_line "$out/auth.yaml" '^#   authentication required +yes +a CONNECT without credentials was refused' "anonymous refused"
    expect_line "$out/auth.yaml" '^  qos2: true$' "probed with credentials"
    if grep -q s3cret "$out/auth.yaml"; then fail "password in the profile"; else ok "no password in the profile"; fi
    ;;
  mosquitto-limits)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_packet_size 2000\nmax_keepalive 30\nmax_inflight_messages 5\nmax_topic_alias 3\n' \
      "$port" > "$out/mosquitto.conf"
    start_mosquitto "$out/mosquitto.conf" "$out/broker.log" "$port"
    "$mq" probe --target "$target" --profile-out "$out/profile.yaml" > /dev/null 2> "$out/probe.err"
    p="$out/profile.yaml"
    expect_line "$p" '^#   maximum packet size +2000 bytes$' "maximum packet size 2000"
    expect_line "$p" '^#   server keep alive +30 s \(asked 60 s\)$' "server keep alive 30"
    expect_line "$p" '^#   receive maximum +5$' "receive maximum 5"
    expect_line "$p" '^#   topic alias maximum +3$' "topic alias maximum 3"
    expect_line "$p" '^#   topic-alias +yes +Topic Alias 1 set and reused \(maximum 3\)' "topic alias used"
    ;;
  aedes)
    start_aedes "$src" "$port" "$out/broker.log"
    "$mq" probe --target "$target" --profile-out "$out/profile.yaml" > /dev/null 2> "$out/probe.err"
    p="$out/profile.yaml"
    expect_line "$p" '^versions: \[3\.1\.1, 3\.1\]$' "3.1.1 and 3.1, no 5.0"
    expect_line "$p" '^#   version 5\.0 +no +refused: CONNACK 0x01 in the 3\.1\.1 layout' "5.0 refused"
    expect_line "$p" '^  shared-subscriptions: false$' "no shared subscriptions"
    expect_line "$p" '^  qos2: true$' "QoS 2"
    expect_line "$p" '^  retain: true$' "retain"
    cd "$src"
    "$mq" run suite --target "$target" --quiet --report "$out/report" \
      --baseline ci/baselines/aedes.baseline > "$out/run.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && ok "suite with the probe: no regression" || fail "suite exit $rc: $(grep -E '^(FAIL|ERROR|REGRESSION|baseline)' "$out/run.out")"
    expect_line "$out/report/report.json" '"message": "the broker does not speak MQTT 5.0 \(probe: refused: CONNACK 0x01' "5.0 cases skipped with the reason"
    # only 5.0 asked of a broker without it: nothing can run, which is an error
    "$mq" run suite --target "$target" --version 5 > "$out/v5.out" 2> "$out/v5.err"
    rc=$?; [ $rc -eq 2 ] && ok "--version 5: exit 2" || fail "--version 5: exit $rc"
    expect_line "$out/v5.err" '^mqcheck run: no case selected: the broker does not speak MQTT 5\.0 \(probe: refused: CONNACK 0x01' "--version 5: the reason"
    ;;
  compare-targets)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$out/mosquitto.conf"
    start_mosquitto "$out/mosquitto.conf" "$out/mosquitto.log" "$port"
    aport=$(freeport)
    start_aedes "$src" "$aport" "$out/aedes.log"
    "$mq" report --compare --target "$target" --target "tcp://127.0.0.1:$aport" --out "$out/cmp" \
      --html "$out/compare.html" -- "$src/suite/3.1-connect" > "$out/compare.txt" 2> "$out/compare.err"
    rc=$?; [ $rc -eq 0 ] && ok "report --compare --target x2: exit 0" || fail "exit $rc: $(cat "$out/compare.err")"
    c="$out/compare.txt"
    expect_line "$c" "^\\[1\\] tcp-127\\.0\\.0\\.1-$port: [0-9]+ cases .*; profile probe of tcp://127\\.0\\.0\\.1:$port\$" "column 1: mosquitto, probed"
    expect_line "$c" "^\\[2\\] tcp-127\\.0\\.0\\.1-$aport: [0-9]+ cases .*; profile probe of tcp://127\\.0\\.0\\.1:$aport\$" "column 2: aedes, probed"
    expect_line "$c" '^connect/basic@5\.0 +pass +skip: the broker does not speak MQTT \.\.\.' "5.0: pass beside a skip with its reason"
    expect_line "$c" '^    versions: \[3\.1\.1, 3\.1\]$' "aedes' probed profile listed"
    [ -s "$out/compare.html" ] && ok "compare.html written" || fail "no compare.html"
    [ -s "$out/cmp/tcp-127.0.0.1-$port/report.html" ] && ok "per-target reports kept" || fail "no per-target report"
    ;;
  liar)
    /usr/bin/python3 "$src/tests/probe/liar-broker.py" "$port" > "$out/broker.log" 2>&1 &
    p=$!; pids="$pids $p"; wait_port "$port" "$p" "$out/broker.log"
    "$mq" probe --target "$target" --timeout 500 --profile-out "$out/profile.yaml" > /dev/null 2> "$out/probe.err"
    rc=$?; [ $rc -eq 0 ] && ok "probe exit 0" || fail "probe exit $rc: $(cat "$out/probe.err")"
    p="$out/profile.yaml"
    expect_line "$p" '^#   finding MQTT-3\.2\.2-9: CONNACK announces Maximum QoS 1, but SUBACK grants QoS 2' "Maximum QoS 1 declared, QoS 2 granted"
    expect_line "$p" '^#   finding MQTT-3\.3\.1-5: CONNACK Retain Available 1 \(or absent\)' "retain declared, nothing retained"
    expect_line "$p" '^#   finding MQTT-3\.3\.4-3: .*delivery lacks it' "subscription identifiers declared, not sent"
    expect_line "$p" '^#   finding MQTT-3\.2\.2-16: an empty client ID was accepted' "no Assigned Client Identifier"
    expect_line "$p" '^#   finding MQTT 5\.0 3\.2\.2\.3\.14: CONNACK declares wildcards available' "wildcards declared, not served"
    expect_line "$p" '^#   shared-subscriptions +no +SUBSCRIBE \$share/.*: the broker closed the connection' "a \$share SUBSCRIBE that closes the connection: no"
    expect_line "$p" '^#   finding MQTT 5\.0 3\.2\.2\.3\.16: CONNACK declares shared-subscriptions available, but SUBSCRIBE' "shared declared, connection closed"
    expect_line "$p" '^#   subscription-identifiers +no +delivery without' "the probe goes on after the close"
    expect_line "$p" '^  qos2: false$' "QoS 2 not offered (declared maximum 1)"
    expect_line "$p" '^  retain: false$' "retain false"
    expect_line "$out/probe.err" 'finding\(s\)' "the summary counts the findings"
    # the findings reach the first screen of the HTML report of a run
    "$mq" run "$src/suite/3.1-connect/basic.yaml" --profile "$p" --html "$out/report.html" > "$out/run.out" 2>&1
    expect_line "$out/report.html" '<div id="findings"><h2>Probe findings</h2>' "HTML report: findings section"
    expect_line "$out/report.html" '<li class="v-fail">MQTT-3\.2\.2-9: CONNACK announces Maximum QoS 1' "HTML report: a finding with its statement"
    ;;
  *) echo "unknown case $case_"; exit 2 ;;
esac
finish
