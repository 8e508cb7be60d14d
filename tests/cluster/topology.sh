# tests/cluster/topology.sh - two-node topologies on loopback (sourced).
# start_topology KIND DIR SRC starts one and sets $targets to the mqcheck
# options naming its nodes ("--target a=tcp://... --target b=tcp://...") and
# $profile to its profile (tests/cluster/KIND.yaml). Everything it starts is
# stopped on exit.
#   aedes        two aedes nodes sharing one redis-server (mqemitter-redis,
#                aedes-persistence-redis): a true cluster
#   bridge       two mosquitto joined by a bridge (connection, topic # both 2)
#   unconnected  two mosquitto that know nothing of each other: every
#                cross-node case must fail
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
. "$src/tests/broker.sh"
need() { command -v "$1" >/dev/null 2>&1 || { echo "FAIL: $1 is not installed (ci/bootstrap test)"; exit 1; }; }
mosquitto_node() { # CONF LOG PORT
  /usr/sbin/mosquitto -c "$1" > "$2" 2>&1 &
  p=$!; pids="$pids $p"; wait_port "$3" "$p" "$2"
}
start_topology() { # KIND DIR SRC
  kind=$1; dir=$2; src=$3
  mkdir -p "$dir"
  pa=$(freeport); pb=$(freeport)
  while [ "$pb" = "$pa" ]; do pb=$(freeport); done
  case "$kind" in
    aedes)
      need redis-server; need node
      pr=$(freeport)
      redis-server --port "$pr" --bind 127.0.0.1 --save '' --appendonly no > "$dir/redis.log" 2>&1 &
      p=$!; pids="$pids $p"; wait_port "$pr" "$p" "$dir/redis.log"
      for n in a b; do
        port=$pa; [ $n = b ] && port=$pb
        node "$src/tests/cluster/aedes-node.js" "$port" "$pr" > "$dir/aedes-$n.log" 2>&1 &
        p=$!; pids="$pids $p"; wait_port "$port" "$p" "$dir/aedes-$n.log"
      done ;;
    bridge|unconnected)
      need /usr/sbin/mosquitto
      printf 'listener %s 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n' "$pb" > "$dir/b.conf"
      mosquitto_node "$dir/b.conf" "$dir/mosquitto-b.log" "$pb"
      printf 'listener %s 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n' "$pa" > "$dir/a.conf"
      if [ "$kind" = bridge ]; then
        printf 'connection to-b\naddress 127.0.0.1:%s\ntopic # both 2\ncleansession true\n' "$pb" >> "$dir/a.conf"
      fi
      mosquitto_node "$dir/a.conf" "$dir/mosquitto-a.log" "$pa"
      if [ "$kind" = bridge ]; then
        # the bridge connects within a moment; the cases measure propagation
        # themselves, this only keeps the first one from racing it
        i=0
        until grep -q "New bridge connected" "$dir/mosquitto-b.log"; do
          i=$((i + 1)); [ $i -gt 50 ] && { echo "the bridge did not connect:"; cat "$dir"/mosquitto-*.log; exit 1; }
          sleep 0.1
        done
      fi ;;
    *) echo "unknown topology $kind" >&2; exit 2 ;;
  esac
  targets="--target a=tcp://127.0.0.1:$pa --target b=tcp://127.0.0.1:$pb"
  profile="$src/tests/cluster/$kind.yaml"
}
