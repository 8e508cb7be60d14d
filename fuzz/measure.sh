#!/bin/sh
# fuzz/measure.sh TARGET SECONDS [plain|structured] [BUILD_DIR]
# Runs one libFuzzer target from a fresh copy of its seed corpus for SECONDS
# and prints one line: target, variant, seconds, edges (cov), features (ft),
# corpus size, runs and exec/s. Used for the with/without-mutator comparison
# in docs/fuzzing.md. Runs a single process: the machine is shared.
set -eu
target=$1
secs=$2
variant=${3:-plain}
build=${4:-build/fuzz}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/fuzz/fuzz_$target"
[ "$variant" = structured ] && bin="${bin}_structured"
work=$(mktemp -d /tmp/mqf-measure.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$root/corpus/$target/." "$work/"
opts=""
[ -f "$root/fuzz/$target.dict" ] && opts="-dict=$root/fuzz/$target.dict"
if [ -f "$root/fuzz/$target.options" ]; then
  # [libfuzzer] "key = value" lines become -key=value (dict handled above)
  opts="$opts $(grep -v '^dict' "$root/fuzz/$target.options" |
    sed -n 's/^\([a-z_]*\) *= *\(.*\)$/-\1=\2/p' | tr '\n' ' ')"
fi
log="$work/log"
# shellcheck disable=SC2086
"$bin" $opts -seed=1 -max_total_time="$secs" -print_final_stats=1 \
  -artifact_prefix=/tmp/mqf-measure-"$target"- "$work" >"$log" 2>&1 || true
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
runs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log")
eps=$(sed -n 's/^stat::average_exec_per_sec: //p' "$log")
crash=$(grep -cE '^==[0-9]+==ERROR|runtime error|oracle failed|deadly signal' "$log" || true)
echo "$target $variant ${secs}s cov=$cov ft=$ft corpus=$corp runs=$runs exec/s=$eps crashes=$crash"
[ "$crash" = 0 ] || { grep -E 'ERROR|runtime error|oracle failed|Test unit written' "$log" | head -5; exit 1; }
