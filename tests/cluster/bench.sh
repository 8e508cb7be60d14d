#!/bin/sh
# tests/cluster/bench.sh MQCHECK SOURCE_DIR REPORT_DIR - `mqcheck bench load`
# over the two bridged mosquitto (1 s, light load): the cross-node figures
# are there and count what crossed (not a timing test: no figure is judged
# but the accounting). Fails when every delivery was counted as same-node or
# a QoS 1 message was lost or duplicated across the bridge.
set -u
mq=$1; src=$2; report=$3
. "$src/tests/cluster/topology.sh"
start_topology bridge "$report" "$src"
# shellcheck disable=SC2086 # targets holds separate options
urls=$(echo $targets | sed 's/--target/--url/g')
# shellcheck disable=SC2086
"$mq" bench load $urls --pubs 2 --subs 2 --qos 1 --rate 100 --duration 1 > "$report/bench.txt" 2>&1
rc=$?
cat "$report/bench.txt"
[ $rc = 0 ] || { echo "FAIL: bench load exited $rc"; exit 1; }
line=$(grep '^result: nodes=2 spread=1 ' "$report/bench.txt")
[ -n "$line" ] || { echo "FAIL: no cross-node result line"; exit 1; }
get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
xe=$(get x_expected); xd=$(get x_delivered); xl=$(get x_loss); xu=$(get x_dups)
[ "$xe" -gt 0 ] || { echo "FAIL: no delivery was expected across nodes"; exit 1; }
[ "$xd" = "$xe" ] && [ "$xl" = 0 ] && [ "$xu" = 0 ] || {
  echo "FAIL: cross-node $xd of $xe delivered, loss $xl, duplicates $xu"; exit 1; }
grep -q '^cluster vs single node:' "$report/bench.txt" || { echo "FAIL: no single-node reference"; exit 1; }
echo "ok: $xd of $xe cross-node deliveries, no loss, no duplicate"
