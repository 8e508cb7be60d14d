#!/bin/sh
# tests/probe/html.sh MQCHECK SOURCE_DIR OUT_DIR
# Writes an HTML report (engine run with a profile, plus a scenario that
# fails on purpose) and a comparison of two runs, then checks both pages in
# headless chromium (tests/probe/html-check.js): offline rendering, a real
# click on the verdict filter, the section filter, linked views, numeric
# statement order; screenshots are left in OUT_DIR as test artefacts.
set -u
mq=$1; src=$2; out=$3
. "$src/tests/probe/common.sh"
rm -rf "$out"; mkdir -p "$out"
chromium=$(command -v chromium || true)
[ -n "$chromium" ] || { echo "FAIL: chromium is not installed (ci/bootstrap test installs it)"; exit 1; }
cd "$src"
"$mq" run suite/3.1-connect tests/probe/fixtures --target engine \
  --profile ci/baselines/aedes.profile.yaml --quiet --report "$out/a" > "$out/a.out" 2>&1
rc=$?; [ $rc -eq 1 ] && ok "run with a deliberate failure exits 1" || fail "run exit $rc"
"$mq" run suite/3.1-connect --quiet --json "$out/b.json" --html "$out/b.html" > "$out/b.out" 2>&1
rc=$?; [ $rc -eq 0 ] && ok "second run exits 0" || fail "second run exit $rc"
for f in "$out/a/report.html" "$out/b.html"; do
  [ -s "$f" ] && ok "$f written" || fail "$f missing"
done
# numeric statement order in the Markdown matrix too (sort -V is numeric
# per dot/dash field), and not merely text order
grep -o '^| MQTT-[0-9.]*-[0-9]* ' "$out/a/matrix.md" | tr -d '| ' > "$out/ids.txt"
if sort -V -c "$out/ids.txt" 2>/dev/null && ! sort -c "$out/ids.txt" 2>/dev/null; then
  ok "matrix.md statement IDs in numeric order ($(wc -l < "$out/ids.txt"))"
else
  fail "matrix.md order: $(tr '\n' ' ' < "$out/ids.txt" | head -c 400)"
fi
"$mq" report --compare "$out/a" --label engine "$out/b.json" --html "$out/compare.html" > "$out/compare.txt" 2> "$out/compare.err"
rc=$?; [ $rc -eq 0 ] && ok "report --compare exits 0" || fail "report --compare exit $rc: $(cat "$out/compare.err")"
expect_line "$out/compare.txt" '^\[1\] a: [0-9]+ cases .*; profile aedes-0\.51$' "column 1 totals and profile"
expect_line "$out/compare.txt" '^\[2\] engine: [0-9]+ cases .*; profile none$' "column 2 label and totals"
expect_line "$out/compare.txt" '^connect/basic@5\.0 +skip: the broker does not speak MQTT \.\.\. +pass' "a case: skip with its reason beside a pass"
expect_line "$out/compare.txt" '^report-fixture/deliberate-failure@3\.1\.1 +fail: .* +- *$' "a case one run lacks"
expect_line "$out/compare.txt" '^MQTT-3\.2\.2-4 +3\.1\.1 +fail +pass' "a statement: fail beside pass"
expect_line "$out/compare.txt" '^    name: aedes-0\.51$' "profiles listed"
NODE_PATH="$src/ci/npm/node_modules" node "$src/tests/probe/html-check.js" "$chromium" \
  "$out/a/report.html" "$out" report > "$out/report-check.log" 2>&1
rc=$?; cat "$out/report-check.log"
[ $rc -eq 0 ] && ok "report.html checked in chromium" || fail "report.html in chromium"
NODE_PATH="$src/ci/npm/node_modules" node "$src/tests/probe/html-check.js" "$chromium" \
  "$out/compare.html" "$out" compare > "$out/compare-check.log" 2>&1
rc=$?; cat "$out/compare-check.log"
[ $rc -eq 0 ] && ok "compare.html checked in chromium" || fail "compare.html in chromium"
finish
