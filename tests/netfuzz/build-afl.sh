#!/bin/sh
# tests/netfuzz/build-afl.sh OUTDIR - the planted-bug broker compiled with
# AFL++'s edge instrumentation (afl-clang-fast; no sanitizers) as
# OUTDIR/planted_broker_afl: the codec, engine and net sources and the broker,
# one program.
#
# Started with __AFL_SHM_ID naming a SysV shared-memory segment of 65536
# bytes, it records edge coverage there while it serves connections; without
# a forkserver on its control descriptors (the network fuzzer starts it as a
# plain process) AFL++'s runtime notices and carries on. Without __AFL_SHM_ID
# it runs like planted_broker. See docs/netfuzz-planted.md.
#
#   PB_AFL_CC compiler (default afl-clang-fast; not AFL_CC, which names the
#             compiler afl-clang-fast itself wraps)
#   JOBS     parallel compiles (default 2)
set -eu
[ $# -eq 1 ] || { echo "usage: build-afl.sh OUTDIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
cc=${PB_AFL_CC:-afl-clang-fast}
command -v "$cc" >/dev/null || { echo "build-afl: $cc not found (ci/bootstrap test)" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/planted-afl.XXXXXX")
trap 'rm -rf "$work"' EXIT
export AFL_QUIET=1

# One object per source, named after its folder, so codec/connect.c and
# engine/connect.c do not collide. net/ alone needs _GNU_SOURCE (accept4).
for f in "$root"/codec/*.c "$root"/engine/*.c "$root"/net/*.c \
  "$root"/tests/netfuzz/planted_broker.c "$root"/tests/netfuzz/planted_bugs.c; do
  echo "$f"
done | xargs -P "${JOBS:-2}" -I{} sh -c '
  f={}; dir=$(basename "$(dirname "$f")"); o='"$work"'/$dir-$(basename "$f" .c).o
  extra=; [ "$dir" = net ] && extra=-D_GNU_SOURCE
  exec '"$cc"' -O1 -g -std=c11 -D_POSIX_C_SOURCE=200809L $extra \
    -I'"$root"'/codec -I'"$root"'/engine -I'"$root"'/net -c "$f" -o "$o"'
"$cc" -O1 -g "$work"/*.o -lssl -lcrypto -lwslay -o "$work/planted_broker_afl"
mv "$work/planted_broker_afl" "$out/planted_broker_afl"
echo "build-afl: $out/planted_broker_afl"
