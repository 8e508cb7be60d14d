# tests/probe/common.sh - helpers for the probe tests (sourced).
# freeport, start_mosquitto CONF LOG, start_aedes PORT LOG, wait_port PORT PID LOG,
# check DESC COMMAND..., fail MESSAGE. Brokers started here are stopped on exit.
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
freeport() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() { # PORT PID LOG
  i=0
  until /usr/bin/python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$1)))" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$2" 2>/dev/null; then
      echo "broker did not start on port $1:"; cat "$3"; exit 1
    fi
    sleep 0.1
  done
}
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
