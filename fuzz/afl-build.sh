#!/bin/sh
# fuzz/afl-build.sh [OUT] - AFL++ builds of every target (persistent mode,
# shared-memory test cases: afl_driver.c) into build/afl/<target>, plus the
# structure-aware custom mutator as build/afl/libmqf_afl_mutator.so.
#
#   MQF_AFL_SAN=1   also instrument with ASan+UBSan (slower; for triage)
#
# Run, e.g.:
#   AFL_CUSTOM_MUTATOR_LIBRARY=build/afl/libmqf_afl_mutator.so MQF_LAYOUT=decode \
#     afl-fuzz -i corpus/decode -o /tmp/afl-decode -x fuzz/decode.dict -- build/afl/decode
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/afl}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CC=${AFL_CC:-afl-clang-fast}
command -v "$CC" >/dev/null || { echo "afl-build: $CC not found (ci/bootstrap fuzz)" >&2; exit 2; }
if [ "${MQF_AFL_SAN:-0}" = 1 ]; then
  export AFL_USE_ASAN=1 AFL_USE_UBSAN=1
fi
export AFL_QUIET=1
inc="-I$root/codec -I$root/engine -I$root/scenarios -I$root/fuzz"
cflags="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L $inc"

objs() { # objs NAME SOURCES... -> $work/NAME/*.o, instrumented
  name=$1
  shift
  mkdir -p "$work/$name"
  for src in "$@"; do
    # shellcheck disable=SC2086
    "$CC" $cflags -c "$src" -o "$work/$name/$(basename "$src" .c).o"
  done
}

objs mqc "$root"/codec/*.c
objs mqf "$root"/fuzz/mutator.c "$root"/fuzz/mutator_fields.c "$root"/fuzz/layouts.c
objs drv "$root"/fuzz/afl_driver.c
targets="decode stream roundtrip encode mutate"
[ -f "$root/engine/mqe.h" ] && { objs mqe "$root"/engine/*.c; targets="$targets engine"; }
if echo '#include <yaml.h>' | cc -E - >/dev/null 2>&1; then
  # packet descriptions (and the variables they expand, once vars.c exists)
  objs mqs "$root"/scenarios/packet_spec.c $(ls "$root"/scenarios/vars.c 2>/dev/null || true)
  targets="$targets scenario"
fi

for t in $targets; do
  extra=""
  case $t in
    engine) extra="$work/mqe/*.o" ;;
    scenario) extra="$work/mqs/*.o -lyaml" ;;
  esac
  # shellcheck disable=SC2086
  "$CC" $cflags "$root/fuzz/$t.c" "$work"/drv/*.o "$work"/mqf/*.o "$work"/mqc/*.o $extra \
    -o "$out/$t"
done

# The mutator library runs inside afl-fuzz: plain, uninstrumented, PIC.
# shellcheck disable=SC2086
${MQF_HOST_CC:-cc} -O2 -g -fPIC -shared -std=c11 -D_POSIX_C_SOURCE=200809L $inc \
  "$root"/fuzz/mutator_afl.c "$root"/fuzz/mutator.c "$root"/fuzz/mutator_fields.c \
  "$root"/fuzz/layouts.c "$root"/codec/*.c \
  -o "$out/libmqf_afl_mutator.so"
echo "afl-build: $targets and libmqf_afl_mutator.so in $out"
