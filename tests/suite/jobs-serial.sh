#!/bin/sh
# tests/suite/jobs-serial.sh MQCHECK SOURCE_DIR - `mqcheck run --jobs N` runs
# N cases at a time against a network target too (it was once raised to 8).
# The two cases of tests/suite/jobs/ connect under one fixed Client Identifier
# and hold the connection 1 s: run one after the other both pass; run at
# once, the second CONNECT takes the first one's connection over and that
# case fails. So --jobs 1 must pass both, and --jobs 2 (the control: the
# overlap is seen) must fail one. The target is `mqcheck serve` on a free
# loopback port; no timing is judged, only the takeover.
set -u
mq=$1; src=$2
. "$src/tests/broker.sh"
work=$(mktemp -d)
port=$(freeport)
"$mq" serve --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT INT TERM
wait_port "$port" "$pid" "$work/serve.log"
cd "$src" || exit 1
fail=0
run() {
  "$mq" run tests/suite/jobs --target "tcp://127.0.0.1:$port" --no-probe --jobs "$1" --quiet 2>&1 |
    grep -E '^(FAIL|ERROR) |^[0-9]+ cases'
}
out=$(run 1)
echo "--jobs 1: $out"
echo "$out" | grep -q ' 2 passed, 0 failed, 0 skipped, 0 errors' ||
  { echo "FAIL: --jobs 1 ran the cases at once (a takeover failed one)"; fail=1; }
out=$(run 2)
echo "--jobs 2: $out"
echo "$out" | grep -q ' 1 passed, 1 failed, 0 skipped, 0 errors' ||
  { echo "FAIL: --jobs 2 did not overlap the two cases (the control)"; fail=1; }
exit $fail
