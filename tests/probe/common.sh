# tests/probe/common.sh - helpers for the probe tests (sourced).
# freeport, start_mosquitto CONF LOG, start_aedes PORT LOG, wait_port PORT PID LOG,
# check DESC COMMAND..., fail MESSAGE. Brokers started here are stopped on exit.
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
. "$src/tests/broker.sh"
start_mosquitto() { # CONF LOG PORT
  /usr/sbin/mosquitto -c "$1" > "$2" 2>&1 &
  p=$!; pids="$pids $p"; wait_port "$3" "$p" "$2"
}
start_aedes() { # SRC PORT LOG
  node "$1/tests/suite/aedes-broker.js" "$2" > "$3" 2>&1 &
  p=$!; pids="$pids $p"; wait_port "$2" "$p" "$3"
}
# expect_line FILE REGEX DESC: FILE has a line matching REGEX (grep -E)
expect_line() {
  if grep -Eq -- "$2" "$1"; then ok "$3"; else fail "$3: no line matching /$2/ in $1"; fi
}
finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
}
