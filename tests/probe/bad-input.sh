#!/bin/sh
# tests/probe/bad-input.sh CASE MQCHECK SOURCE_DIR OUT_DIR
# One bad input per call: the exit code and the one-line message that names
# the reason. Every case must fail fast and say why; none may report "0
# cases" and pass, none may print one error per case.
set -u
case_=$1; mq=$2; src=$3; out=$4
. "$src/tests/probe/common.sh"
rm -rf "$out"; mkdir -p "$out"
# run_case EXPECTED_RC REGEX MAX_SECONDS COMMAND...: exit code, message on
# stderr, wall time, and a single error line.
run_case() {
  want=$1; re=$2; max=$3; shift 3
  t0=$(date +%s%N)
  "$@" > "$out/stdout" 2> "$out/stderr"
  rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$rc" -eq "$want" ] && ok "exit $rc" || fail "exit $rc, expected $want"
  if grep -Eq -- "$re" "$out/stderr"; then ok "message: $(grep -E -- "$re" "$out/stderr" | head -1)"
  else fail "stderr lacks /$re/: $(cat "$out/stderr")"; fi
  [ "$ms" -le $((max * 1000)) ] && ok "took $ms ms (<= $max s)" || fail "took $ms ms, more than $max s"
  n=$(grep -c '^mqcheck ' "$out/stderr")
  [ "$n" -eq 1 ] && ok "one error line" || fail "$n error lines"
  if grep -Eq '^(pass|FAIL|ERROR|skip) ' "$out/stdout"; then fail "cases were reported: $(head -3 "$out/stdout")"; else ok "no case ran"; fi
}
dead=$(freeport)
case "$case_" in
  empty-folder)
    mkdir -p "$out/empty"
    run_case 2 "^mqcheck run: no case selected: no scenario files \(\*\.yaml, \*\.yml\) under $out/empty$" 5 \
      "$mq" run "$out/empty" ;;
  no-yaml)
    mkdir -p "$out/noyaml"; echo "not a scenario" > "$out/noyaml/README.txt"
    run_case 2 "^mqcheck run: no case selected: no scenario files \(\*\.yaml, \*\.yml\) under $out/noyaml$" 5 \
      "$mq" run "$out/noyaml" ;;
  filter)
    run_case 2 "^mqcheck run: no case selected: --filter 'conect/\*' matches none of the [0-9]+ scenarios under $src/suite$" 5 \
      "$mq" run "$src/suite" --filter 'conect/*' ;;
  version)
    f="$src/suite/3.1-connect/client-id-empty-persistent.yaml"
    run_case 2 "^mqcheck run: no case selected: none of the 1 scenarios under $f runs for MQTT 5\.0 \(--version\)$" 5 \
      "$mq" run "$f" --version 5 ;;
  refused)
    # the probe path (no profile) and the profile path both stop up front
    run_case 2 "^mqcheck run: cannot reach tcp://127\.0\.0\.1:$dead \(127\.0\.0\.1 port $dead\): .*Connection refused" 5 \
      "$mq" run "$src/suite" --target "tcp://127.0.0.1:$dead"
    printf 'name: t\ntarget: tcp://127.0.0.1:%s\n' "$dead" > "$out/p.yaml"
    run_case 2 "^mqcheck run: cannot reach tcp://127\.0\.0\.1:$dead \(127\.0\.0\.1 port $dead\): .*Connection refused" 5 \
      "$mq" run "$src/suite" --profile "$out/p.yaml" ;;
  unresolvable)
    # .invalid never resolves (RFC 6761); bounded by the connect timeout (1 s here)
    printf 'name: t\ntarget: tcp://no-such-broker.invalid:1883\ntimeouts: {connect: 1000}\n' > "$out/p.yaml"
    run_case 2 "^mqcheck run: cannot reach tcp://no-such-broker\.invalid:1883: cannot resolve host 'no-such-broker\.invalid': " 3 \
      "$mq" run "$src/suite" --profile "$out/p.yaml"
    run_case 2 "^mqcheck run: cannot reach tcp://no-such-broker\.invalid:1883: cannot resolve host 'no-such-broker\.invalid': " 7 \
      "$mq" run "$src/suite" --target tcp://no-such-broker.invalid:1883 ;;
  slow-dns)
    # A resolver that never answers (the 55 s case): run in private mount and
    # network namespaces with /etc/resolv.conf pointing at a silent UDP port
    # on the namespace's own loopback. Exit 77 (a counted skip) when
    # namespaces are not available here.
    if ! unshare -m -n true 2>/dev/null; then echo "skip: unshare -m -n not permitted"; exit 77; fi
    exec unshare -m -n sh "$0" slow-dns-inside "$mq" "$src" "$out" ;;
  slow-dns-inside)
    ip link set lo up || exit 1
    echo "nameserver 127.0.0.1" > "$out/resolv.conf"
    mount --bind "$out/resolv.conf" /etc/resolv.conf || exit 1
    /usr/bin/python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53)); time.sleep(120)' &
    dns=$!; pids="$pids $dns"
    sleep 0.3
    printf 'name: t\ntarget: tcp://slow.example:1883\ntimeouts: {connect: 1000}\n' > "$out/p.yaml"
    run_case 2 "^mqcheck run: cannot reach tcp://slow\.example:1883: cannot resolve host 'slow\.example': no answer within 1000 ms$" 4 \
      "$mq" run "$src/suite" --profile "$out/p.yaml"
    run_case 2 "^mqcheck run: cannot reach tcp://slow\.example:1883: cannot resolve host 'slow\.example': no answer within 2000 ms$" 5 \
      "$mq" run "$src/suite" --target tcp://slow.example:1883
    run_case 2 "^mqcheck probe: cannot reach tcp://slow\.example:1883: cannot resolve host 'slow\.example': no answer within 1000 ms$" 3 \
      "$mq" probe --target tcp://slow.example:1883 --timeout 1000 ;;
  probe-refused)
    run_case 2 "^mqcheck probe: cannot reach tcp://127\.0\.0\.1:$dead \(127\.0\.0\.1 port $dead\): .*Connection refused" 5 \
      "$mq" probe --target "tcp://127.0.0.1:$dead" ;;
  probe-usage)
    run_case 2 "^mqcheck probe: missing '--target URL' \(see 'mqcheck probe --help'\)$" 2 "$mq" probe ;;
  report-bad-json)
    echo '{"schema_version": 1, "cases": [' > "$out/broken.json"
    run_case 2 "^mqcheck report: $out/broken.json:[0-9]+:[0-9]+: not valid JSON" 2 \
      "$mq" report --compare "$out/broken.json"
    run_case 2 "^mqcheck report: $out/missing.json: No such file or directory" 2 \
      "$mq" report --compare "$out/missing.json"
    echo '{"schema_version": 1, "cases": []}' > "$out/empty.json"
    run_case 2 "^mqcheck report: nothing to do \(give --compare REPORTS\.\.\.\)" 2 \
      "$mq" report "$out/empty.json" ;;
  *) echo "unknown case $case_"; exit 2 ;;
esac
finish
