#!/bin/sh
# tests/cluster/bad-input.sh MQCHECK SOURCE_DIR REPORT_DIR - clear errors, never
# a crash or a hang, for bad cluster targets: a node that does not answer (named
# in the error, up front), a node name given twice, the engine as a node, a bad
# node name, an unknown key in a profile's cluster section; the same for
# mqcheck fuzz and mqcheck probe with several nodes.
set -u
mq=$1; src=$2; report=$3
. "$src/tests/cluster/topology.sh"
start_topology unconnected "$report" "$src"
failures=0
check() { # DESC EXPECTED_RC REGEX COMMAND...
  desc=$1; want=$2; re=$3; shift 3
  out=$(timeout 30 "$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ] && echo "$out" | grep -Eq -- "$re"; then
    echo "ok: $desc"
  else
    echo "FAIL: $desc: exit $rc (want $want), output:"; echo "$out" | tail -5
    failures=$((failures + 1))
  fi
}
a=$(echo $targets | sed 's/.*a=\(tcp:[^ ]*\).*/\1/')
dead=$(freeport)
check "a node that does not answer is named" 2 "node b: .*127.0.0.1:$dead" \
  "$mq" run suite/cluster --target "a=$a" --target "b=tcp://127.0.0.1:$dead" --no-probe
check "a node name given twice" 2 "node name 'a' is given twice" \
  "$mq" run suite/cluster --target "a=$a" --target "a=$a"
check "the engine is not a node" 2 "the engine is one node" \
  "$mq" run suite/cluster --target "a=$a" --target b=engine
check "a bad node name" 2 "is not a node name" \
  "$mq" run suite/cluster --target "a b=$a" --target "c=$a"
printf 'cluster: {propagation: 5}\n' > "$report/bad.yaml"
check "an unknown cluster key in a profile" 2 "unknown cluster key 'propagation'" \
  "$mq" run suite/cluster --profile "$report/bad.yaml" --target "a=$a" --target "b=$a"
check "one named node is one broker: cluster cases skip" 0 "needs a cluster target" \
  "$mq" run suite/cluster --target "a=$a" --no-probe --filter delivery-qos0
# fuzz and probe take the same nodes and refuse the same mistakes
check "fuzz: a node name given twice" 2 "node name 'a' is given twice" \
  "$mq" fuzz --target "a=$a" --target "a=$a" --findings "$report/f1" -q
check "fuzz: a cluster is not --exec" 2 "one broker" \
  "$mq" fuzz --exec "/bin/true {port}" --target "a=$a" --target "b=$a" --findings "$report/f2" -q
check "fuzz: a node that does not answer is named" 2 "node b" \
  "$mq" fuzz --target "a=$a" --target "b=tcp://127.0.0.1:$dead" --findings "$report/f3" -q \
  --sessions 10
check "probe: a bad node name" 2 "is not a node name" \
  "$mq" probe --target "a b=$a" --target "c=$a"
check "probe: a node that does not answer is named" 2 "node b: .*127.0.0.1:$dead" \
  "$mq" probe --target "a=$a" --target "b=tcp://127.0.0.1:$dead" --timeout 500
[ $failures = 0 ] || { echo "$failures check(s) failed"; exit 1; }
