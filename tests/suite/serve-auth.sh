#!/bin/sh
# tests/suite/serve-auth.sh MQCHECK SOURCE_DIR - the enhanced-authentication
# section (suite/4.12-auth: challenge, re-authentication success and
# failure, AUTH within the client's Maximum Packet Size) against `mqcheck
# serve` configured with `auth_challenge_secret s3cret` (the secret the
# scenarios answer with), over tcp. Every case must pass; at least 6 must
# run (a profile declares the enhanced-auth capability, so none is skipped
# for want of it).
set -u
mq=$1; src=$2
. "$src/tests/broker.sh"
work=$(mktemp -d)
port=$(freeport)
printf 'auth_challenge_secret s3cret\n' > "$work/serve.conf"
printf 'name: serve-auth\nversions: [3.1.1, 5.0, 3.1]\ncapabilities: {enhanced-auth: true}\n' > "$work/profile.yaml"
"$mq" serve --listen "tcp://127.0.0.1:$port" --config "$work/serve.conf" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT INT TERM
wait_port "$port" "$pid" "$work/serve.log"
cd "$src" || exit 1
out=$("$mq" run suite/4.12-auth --version 5 --target "tcp://127.0.0.1:$port" \
  --profile "$work/profile.yaml" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "FAIL: exit $rc"; exit 1; }
passed=$(echo "$out" | sed -n 's/.* \([0-9][0-9]*\) passed, 0 failed.*/\1/p' | tail -1)
[ "${passed:-0}" -ge 6 ] || { echo "FAIL: only ${passed:-0} cases passed, want 6 or more"; exit 1; }
