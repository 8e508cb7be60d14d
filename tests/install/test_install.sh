#!/bin/sh
# test_install.sh BUILD_DIR SOURCE_DIR - installs the build into a temporary
# prefix and uses it as a user would, from an unrelated folder with a bare
# environment (no MQCHECK, no PYTHONPATH, no --mq-binary):
#   - `mqcheck run` finds the installed suite (against the engine);
#   - `mqcheck gate` passes against mosquitto (started here on a free
#     loopback port) with the installed baseline and profile;
#   - pytest loads the plugin through its pytest11 entry point, finds mqcheck
#     on PATH and runs installed scenarios;
#   - the man pages and the bash completion are installed and usable;
#   - the build tree's binary, run from elsewhere, finds the source suite.
set -u
build=$1; src=$2
fails=0
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log"; echo "FAIL cmake --install"; exit 1; }
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere" || exit 1
bare() { env -i PATH="$prefix/bin:/usr/bin:/bin" HOME="$tmp" "$@"; }

for f in bin/mqcheck share/mqcheck/suite/4.3-qos/downgrade-sub0-pub1.yaml share/mqcheck/spec/mqtt-3.1.1.tsv \
         share/mqcheck/schemas/report.schema.json share/mqcheck/baselines/mosquitto.baseline \
         share/man/man1/mqcheck.1 share/man/man1/mqcheck-run.1 share/bash-completion/completions/mqcheck; do
  [ -f "$prefix/$f" ] || fail "installed: $f missing"
done

# run: the installed suite, against the engine
bare mqcheck run --quiet > run.out 2>&1
rc=$?
[ $rc = 0 ] || { fail "mqcheck run from elsewhere: exit $rc"; tail -5 run.out; }
grep -Eq '^[0-9]+ cases \([0-9]+ scenarios\) against engine: [1-9][0-9]* passed, 0 failed' run.out \
  || { fail "mqcheck run: no passing summary"; tail -3 run.out; }
bare mqcheck lint > lint.out 2>&1 || { fail "mqcheck lint (installed suite) from elsewhere"; tail -3 lint.out; }
# with the suite gone, a clear error and exit 2 (not "0 scenario files")
mv "$prefix/share/mqcheck/suite" "$prefix/share/mqcheck/suite.away"
bare mqcheck run --quiet > nosuite.out 2>&1
rc=$?
[ $rc = 2 ] && grep -q "no scenario suite installed" nosuite.out \
  || { fail "mqcheck run without a suite: exit $rc"; cat nosuite.out; }
mv "$prefix/share/mqcheck/suite.away" "$prefix/share/mqcheck/suite"

# gate: against mosquitto, with the installed baseline and profile
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > mosquitto.conf
/usr/sbin/mosquitto -c mosquitto.conf > mosquitto.log 2>&1 &
pid=$!
i=0
until /usr/bin/python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
    echo "FAIL mosquitto did not start on port $port:"; cat mosquitto.log; exit 1
  fi
  sleep 0.1
done
share=$prefix/share/mqcheck
bare mqcheck gate "tcp://127.0.0.1:$port" "$share/baselines/mosquitto.baseline" gate-out \
  -- --profile "$share/baselines/mosquitto.profile.yaml" --filter subscribe > gate.out 2>&1
rc=$?
[ $rc = 0 ] || { fail "mqcheck gate against mosquitto: exit $rc"; tail -20 gate.out; }
grep -q '^baseline .*: 0 regression(s)' gate.out || { fail "gate: no baseline verdict"; tail -5 gate.out; }
[ -s gate-out/junit.xml ] && [ -s gate-out/report.json ] || fail "gate: reports not written to gate-out/"
# a baseline that expects every case to pass turns mosquitto's deviations into regressions
bare mqcheck run --quiet --filter connect --write-baseline empty.baseline > wb.out 2>&1 \
  || { fail "writing a baseline of passing cases"; cat wb.out; }
bare mqcheck gate "tcp://127.0.0.1:$port" empty.baseline gate-out2 -- --filter shared-subscription-no-local-error > gate2.out 2>&1
rc=$?
[ $rc = 1 ] || { fail "gate with an empty baseline: exit $rc, expected 1 (regressions)"; tail -5 gate2.out; }
kill $pid; wait $pid 2>/dev/null; pid=""

# pytest: the plugin through its entry point, mqcheck from PATH. The prefix's
# python folder is a site folder the way /usr/lib/python3/dist-packages is.
site=$(ls -d "$prefix"/lib/python*/dist-packages 2>/dev/null | head -n 1)
[ -n "$site" ] && [ -f "$site/pytest_mqcheck/__init__.py" ] || fail "pytest plugin not installed under $prefix/lib"
bare /usr/bin/python3 -c "import site, sys; site.addsitedir('$site'); import pytest
sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '$share/suite/3.1-connect', '--mq-target', 'engine']))" \
  > pytest.out 2>&1
rc=$?
[ $rc = 0 ] && grep -Eq '^[1-9][0-9]* passed' pytest.out || { fail "pytest via the entry point: exit $rc"; tail -5 pytest.out; }

# man pages and completion
MANPAGER=cat MANWIDTH=100 man -l "$prefix/share/man/man1/mqcheck-gate.1" 2>/dev/null | grep -q 'BASELINE' \
  || fail "man mqcheck-gate lacks the synopsis"
out=$(bash -c ". '$prefix/share/bash-completion/completions/mqcheck'
COMP_WORDS=(mqcheck run --fil); COMP_CWORD=2; _mqcheck; echo \"\${COMPREPLY[*]}\"
COMP_WORDS=(mqcheck ga); COMP_CWORD=1; _mqcheck; echo \"\${COMPREPLY[*]}\"")
[ "$out" = "--filter
gate" ] || fail "bash completion: got '$out'"

# the build tree's own binary, from elsewhere, runs the source tree's suite
env -i PATH=/usr/bin:/bin "$build/mqcheck" run --quiet --filter connect > build-run.out 2>&1
rc=$?
[ $rc = 0 ] && grep -q "against engine: [1-9]" build-run.out || { fail "build-tree mqcheck run: exit $rc"; tail -3 build-run.out; }

[ $fails = 0 ] && echo "install: all checks passed"
exit $((fails > 0))
