#!/bin/sh
# fuzz/measure.sh TARGET SECONDS [plain|structured] [BUILD_DIR]
# Runs one libFuzzer target from a fresh copy of its seed corpus for SECONDS
# and prints one line: target, variant, seconds, edges (cov), features (ft),
# corpus size, runs, exec/s, the CPU seconds the fuzzer used and runs per CPU
# second (with /usr/bin/time), and the 1-minute load average at the start and
# the end: on a shared machine exec/s follows the load, runs per CPU second
# much less. Used for the figures in docs/fuzzing.md. Runs a single process: the machine is shared.
# MQF_KEEP=DIR keeps the final corpus and the log there.
set -eu
target=$1
secs=$2
variant=${3:-plain}
build=${4:-build/fuzz}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/fuzz/fuzz_$target"
[ "$variant" = structured ] && bin="${bin}_structured"
work=$(mktemp -d /tmp/mqf-measure.XXXXXX)
trap 'if [ -n "${MQF_KEEP:-}" ]; then mkdir -p "$MQF_KEEP"; cp -r "$work/." "$MQF_KEEP/"; fi; rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp -r "$root/corpus/$target/." "$work/corpus/"
opts=""
[ -f "$root/fuzz/$target.dict" ] && opts="-dict=$root/fuzz/$target.dict"
if [ -f "$root/fuzz/$target.options" ]; then
  # [libfuzzer] "key = value" lines become -key=value (dict handled above)
  opts="$opts $(grep -v '^dict' "$root/fuzz/$target.options" |
    sed -n 's/^\([a-z_]*\) *= *\(.*\)$/-\1=\2/p' | tr '\n' ' ')"
fi
log="$work/log"
# shellcheck disable=SC2086
# Each output line is stamped with seconds since start, so one run also
# gives the edge count at earlier checkpoints (printed as cov@SECONDS).
start=$(date +%s)
load0=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?)
timer=""
[ -x /usr/bin/time ] && timer="/usr/bin/time -o $work/cpu -f %U+%S"
# shellcheck disable=SC2086
$timer "$bin" $opts -seed=1 -max_total_time="$secs" -print_final_stats=1 \
  -artifact_prefix=/tmp/mqf-measure-"$target"- "$work/corpus" 2>&1 |
  while IFS= read -r line; do echo "$(($(date +%s) - start)) $line"; done >"$log.t" || true
sed 's/^[0-9]* //' "$log.t" >"$log"
checkpoints=""
for c in 60 300 600 1800; do
  [ "$c" -le "$secs" ] || continue
  v=$(awk -v c="$c" '$1 <= c && /cov: / { for (i = 1; i < NF; i++) if ($i == "cov:") v = $(i + 1) } END { print v }' "$log.t")
  checkpoints="$checkpoints cov@$c=$v"
done
last=$(grep -aE '^#[0-9]+' "$log" | tail -1)
cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
runs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log")
eps=$(sed -n 's/^stat::average_exec_per_sec: //p' "$log")
cpu=""
[ -s "$work/cpu" ] && cpu=$(tail -1 "$work/cpu" | awk -F+ -v r="$runs" '{ c = $1 + $2; printf " cpu=%.1fs runs/cpu-s=%.0f", c, (c > 0 ? r / c : 0) }')
load1=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?)
crash=$(grep -acE '^==[0-9]+==ERROR|runtime error|oracle failed|deadly signal' "$log" || true)
echo "$target $variant ${secs}s$checkpoints cov=$cov ft=$ft corpus=$corp runs=$runs exec/s=$eps$cpu load=$load0-$load1 crashes=$crash"
[ "$crash" = 0 ] || { grep -aE 'ERROR|runtime error|oracle failed|Test unit written' "$log" | head -5; exit 1; }
