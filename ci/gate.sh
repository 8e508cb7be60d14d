#!/bin/sh
# ci/gate.sh - the conformance gate for a broker's CI (see ci/gate-example/).
#
#   ci/gate.sh TARGET BASELINE [REPORT_DIR] [-- extra mqcheck run options]
#
# Runs the whole suite against TARGET (e.g. tcp://127.0.0.1:1883), writes
# JUnit/JSON/Markdown reports to REPORT_DIR (default: out/gate) and compares
# with BASELINE: the gate fails (exit 1) only on regressions, i.e. cases that
# fail now but pass in the baseline. Known deviations listed in the baseline
# do not block. Fixed deviations are reported so the baseline can be updated
# with: mqcheck run ... --baseline BASELINE --write-baseline BASELINE.new
set -u
if [ $# -lt 2 ]; then
  echo "usage: ci/gate.sh TARGET BASELINE [REPORT_DIR] [-- mqcheck run options]" >&2
  exit 2
fi
target=$1; baseline=$2; shift 2
report=out/gate
if [ $# -gt 0 ] && [ "$1" != "--" ]; then report=$1; shift; fi
[ "${1:-}" = "--" ] && shift
mq=${MQCHECK:-mqcheck}
here=$(cd "$(dirname "$0")/.." && pwd)
exec "$mq" run "$here/suite" --target "$target" --baseline "$baseline" --report "$report" --quiet "$@"
