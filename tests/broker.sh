# tests/broker.sh - helpers for the shell tests that start a broker (sourced;
# $src must name the source tree).
#   freeport            prints a free loopback TCP port
#   wait_port PORT PID LOG
#                       waits (10 s at most) until PORT accepts connections;
#                       exits 1 with LOG when PID exited first or time ran out
freeport() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  _i=0
  until /usr/bin/python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$1)))" 2>/dev/null; do
    _i=$((_i + 1))
    if [ $_i -gt 100 ] || ! kill -0 "$2" 2>/dev/null; then
      echo "the broker did not start on port $1:"; cat "$3"; exit 1
    fi
    sleep 0.1
  done
}
