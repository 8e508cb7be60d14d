#!/bin/sh
# tests/cluster/cluster.sh KIND MQCHECK SOURCE_DIR REPORT_DIR
# Starts a two-node topology (tests/cluster/topology.sh), runs the suite's
# cluster section against it and checks each case's verdict and reason with
# tests/cluster/check.py: the aedes cluster passes every case it can run, the
# bridge fails only its documented deviation and skips only what it does not
# promise, two unconnected brokers fail every case on propagation.
set -u
kind=$1; mq=$2; src=$3; report=$4
. "$src/tests/cluster/topology.sh"
start_topology "$kind" "$report" "$src"
cd "$src"
# shellcheck disable=SC2086 # targets holds separate options
"$mq" run suite/cluster $targets --profile "$profile" --quiet --json "$report/report.json" \
  --junit "$report/junit.xml"
echo "mqcheck run exit: $?"
if [ "$kind" != unconnected ] && ! grep -q 'property name="propagation_ms"' "$report/junit.xml"; then
  echo "FAIL: no measured propagation in junit.xml"; exit 1
fi
/usr/bin/python3 "$src/tests/cluster/check.py" "$kind" "$report/report.json"
