#!/bin/sh
# test_pytest_select.sh MQCHECK SOURCE_DIR - pytest's selection reaches the
# runner: with -k or a node ID, `mqcheck run` is given only the selected
# items' files and exact case IDs (a logging wrapper records its arguments),
# and the selected items pass.
set -u
mq=$1; src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
cat > "$tmp/mq" <<EOS
#!/bin/sh
[ "\$1" = run ] && printf '%s\n' "\$*" >> "$tmp/runs.log"
exec "$mq" "\$@"
EOS
chmod +x "$tmp/mq"
py() {
  : > "$tmp/runs.log"
  (cd "$tmp" && PYTHONPATH="$src/python" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q \
    -p pytest_mqcheck -p no:cacheprovider --mq-binary "$tmp/mq" --mq-target engine "$@") > "$tmp/out" 2>&1
}

py "$src/suite" -k "pubrel and 5.0"
grep -Eq '^[1-9][0-9]* passed, [1-9][0-9]* deselected' "$tmp/out" || { fail "-k pubrel-5.0"; tail -3 "$tmp/out"; }
[ "$(wc -l < "$tmp/runs.log")" = 1 ] || fail "-k pubrel-5.0: expected one mqcheck run, got $(wc -l < "$tmp/runs.log")"
selected=$(grep -Eo '^[0-9]+ passed' "$tmp/out" | cut -d' ' -f1)
filters=$(grep -o -- '--filter [^ ]*' "$tmp/runs.log" | wc -l)
[ "$filters" = "$selected" ] || fail "-k pubrel-5.0: $selected items selected, $filters --filter options passed"
grep -o -- '--filter [^ ]*' "$tmp/runs.log" | grep -v "pubrel.*@5.0" && fail "-k pubrel-5.0: a --filter for an unselected case"
files=$(tr ' ' '\n' < "$tmp/runs.log" | grep -c '\.yaml$')
[ "$files" -lt 20 ] || fail "-k pubrel-5.0: $files files passed to the runner"

id="qos/delivered-qos-sub0-pub1@5.0"
py "$src/suite/4.3-qos/downgrade-sub0-pub1.yaml::$id"
grep -Eq '^1 passed' "$tmp/out" || { fail "node ID"; tail -3 "$tmp/out"; }
grep -q -- "--filter \[q\]os/delivered-qos-sub0-pub1@5.0" "$tmp/runs.log" \
  || { fail "node ID: runner not given the exact case"; cat "$tmp/runs.log"; }

# The whole of a file selected: no filters at all.
py "$src/suite/4.3-qos/downgrade-sub0-pub1.yaml"
grep -Eq '^3 passed' "$tmp/out" || { fail "one file (3.1.1, 5.0 and 3.1)"; tail -3 "$tmp/out"; }
grep -q -- "--filter" "$tmp/runs.log" && fail "one whole file: filters passed anyway"

[ $fails = 0 ] && echo "pytest selection: all checks passed"
exit $((fails > 0))
