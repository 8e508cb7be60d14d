#!/bin/sh
# fuzz/afl-build.sh [OUT] - AFL++ builds of every target (persistent mode,
# shared-memory test cases: afl_driver.c) into build/afl/<target>, plus the
# structure-aware custom mutator as build/afl/libmqf_afl_mutator.so.
#
#   MQF_AFL_SAN=1   also instrument with ASan+UBSan (slower; for triage)
#
# The targets are built by fuzz/build.sh, the OSS-Fuzz script, with
# afl-clang-fast as the compiler and afl_driver.c as the fuzzing engine, so
# the list of targets and how each links live in one place.
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

cc=${AFL_CC:-afl-clang-fast}
cxx=${AFL_CXX:-afl-clang-fast++}
command -v "$cc" >/dev/null || { echo "afl-build: $cc not found (ci/bootstrap fuzz)" >&2; exit 2; }
if [ "${MQF_AFL_SAN:-0}" = 1 ]; then
  export AFL_USE_ASAN=1 AFL_USE_UBSAN=1
fi
export AFL_QUIET=1
flags="-O2 -g"
# shellcheck disable=SC2086
"$cc" $flags -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/fuzz" -I"$root/codec" \
  -c "$root/fuzz/afl_driver.c" -o "$work/afl_driver.o"
CC=$cc CXX=$cxx CFLAGS=$flags CXXFLAGS=$flags LIB_FUZZING_ENGINE="$work/afl_driver.o" \
  FUZZING_ENGINE=afl OUT=$out "$root/fuzz/build.sh"

# The mutator library runs inside afl-fuzz: plain, uninstrumented, PIC.
${MQF_HOST_CC:-cc} -O2 -g -fPIC -shared -std=c11 -D_POSIX_C_SOURCE=200809L \
  -I"$root/codec" -I"$root/fuzz" \
  "$root"/fuzz/mutator_afl.c "$root"/fuzz/mutator.c "$root"/fuzz/mutator_fields.c \
  "$root"/fuzz/layouts.c "$root"/codec/*.c \
  -o "$out/libmqf_afl_mutator.so"
echo "afl-build: targets and libmqf_afl_mutator.so in $out"
