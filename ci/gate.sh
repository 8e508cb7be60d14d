#!/bin/sh
# ci/gate.sh - the conformance gate for a broker's CI (see ci/gate-example/),
# a thin wrapper of `mqcheck gate`:
#
#   ci/gate.sh TARGET BASELINE [REPORT_DIR] [-- extra mqcheck run options]
#
# Runs the whole suite against TARGET (e.g. tcp://127.0.0.1:1883), writes
# JUnit/JSON/Markdown reports to REPORT_DIR (default: out/gate) and compares
# with BASELINE: the gate fails (exit 1) only on regressions, i.e. cases that
# fail now but pass in the baseline. See `mqcheck gate --help`.
# The program is $MQCHECK, else mqcheck on PATH, else this checkout's build.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
mq=${MQCHECK:-}
if [ -z "$mq" ]; then
  for c in "$(command -v mqcheck 2>/dev/null)" "$here/build/release/mqcheck" "$here/build/ci/mqcheck" \
           "$here/build/debug/mqcheck"; do
    if [ -n "$c" ] && [ -x "$c" ]; then mq=$c; break; fi
  done
fi
if [ -z "$mq" ]; then
  echo "ci/gate.sh: mqcheck not found: install it (apt install ./mqcheck_*.deb), build it (make release) or set MQCHECK" >&2
  exit 2
fi
exec "$mq" gate "$@"
