#!/bin/bash -eu
# fuzz/build.sh - OSS-Fuzz / ClusterFuzzLite build script.
#
# Uses the infrastructure's $CC $CFLAGS (sanitizer and coverage flags),
# $CXX $CXXFLAGS to link, $LIB_FUZZING_ENGINE (libFuzzer, AFL++ driver,
# honggfuzz...) and writes to $OUT: one binary per target, named after it,
# with <target>.dict, <target>.options and <target>_seed_corpus.zip beside it.
# With libFuzzer, <target>_structured variants use the custom mutator.
# Outside OSS-Fuzz, defaults give a local libFuzzer+ASan build in
# build/ossfuzz (for checking this script: ci/fuzz-builds does). ws_http needs
# OpenSSL and wslay, the scenario targets also libyaml; each is skipped
# without its headers.
root=$(cd "$(dirname "$0")/.." && pwd)
: "${CC:=clang}" "${CXX:=clang++}"
: "${CFLAGS:=-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fsanitize=fuzzer-no-link}"
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${FUZZING_ENGINE:=libfuzzer}"
: "${OUT:=$root/build/ossfuzz}"
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

inc="-I$root/codec -I$root/engine -I$root/net -I$root/scenarios -I$root/fuzz"
cflags="$CFLAGS -std=c11 -D_POSIX_C_SOURCE=200809L $inc"

# [defs=FLAGS] lib NAME SOURCES...: one static library per module, with
# extra compile flags for it in $defs.
lib() {
  local name=$1
  shift
  mkdir -p "$work/$name"
  for src in "$@"; do
    # shellcheck disable=SC2086
    $CC $cflags ${defs:-} -c "$src" -o "$work/$name/$(basename "$src" .c).o"
  done
  ar rcs "$work/lib$name.a" "$work/$name"/*.o
}

lib mqc "$root"/codec/*.c
lib mqf "$root"/fuzz/mutator.c "$root"/fuzz/mutator_fields.c "$root"/fuzz/layouts.c
# The engine without compare tracing (fuzz/CMakeLists.txt says why).
defs=-fno-sanitize-coverage=trace-cmp lib mqe "$root"/engine/*.c
targets="decode stream roundtrip encode mutate engine"
libs_for() { echo "$work/libmqf.a $work/libmqc.a"; }
# net/ needs OpenSSL and wslay, scenarios/ also libyaml: those targets are
# built when the headers are there (the project's Dockerfile installs
# libssl-dev, libwslay-dev and libyaml-dev).
has() { printf '#include <%s>\n' "$@" | $CC -E - >/dev/null 2>&1; }
if has openssl/ssl.h wslay/wslay.h; then
  defs=-D_GNU_SOURCE lib mqn "$root"/net/*.c # accept4, as net/CMakeLists.txt says
  targets="$targets ws_http"
  if has yaml.h; then
    lib mqs "$root"/scenarios/*.c
    targets="$targets scenario scenario_file"
  fi
fi
netlibs="$work/libmqn.a -lssl -lcrypto -lwslay"

for t in $targets; do
  extra=""
  case $t in
    engine) extra="$work/libmqe.a" ;;
    ws_http) extra="$netlibs" ;;
    scenario*) extra="$work/libmqs.a $work/libmqe.a $netlibs -lyaml -lpthread" ;;
  esac
  # shellcheck disable=SC2086
  $CC $cflags -c "$root/fuzz/$t.c" -o "$work/$t.o"
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS "$work/$t.o" $extra $(libs_for) $LIB_FUZZING_ENGINE -o "$OUT/$t"
  cp "$root/fuzz/$t.dict" "$root/fuzz/$t.options" "$OUT/" 2>/dev/null || true
  if [ -d "$root/corpus/$t" ]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "$root/corpus" && /usr/bin/env python3 -c '
import os, sys, zipfile
t = sys.argv[1]; out = sys.argv[2]
with zipfile.ZipFile(out, "w") as z:
    for d in (t, os.path.join("regress", t)):
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                z.write(os.path.join(d, f), f)
' "$t" "$OUT/${t}_seed_corpus.zip")
  fi
  # The custom mutator needs LLVMFuzzerMutate, which only libFuzzer provides.
  case "$FUZZING_ENGINE:$t" in
    libfuzzer:decode | libfuzzer:stream | libfuzzer:roundtrip | libfuzzer:engine)
      # shellcheck disable=SC2086
      $CC $cflags -c "$root/fuzz/mutator_libfuzzer.c" -o "$work/mlf.o"
      # shellcheck disable=SC2086
      $CXX $CXXFLAGS "$work/$t.o" "$work/mlf.o" $extra $(libs_for) $LIB_FUZZING_ENGINE \
        -o "$OUT/${t}_structured"
      for f in dict options; do cp "$OUT/$t.$f" "$OUT/${t}_structured.$f" 2>/dev/null || true; done
      cp "$OUT/${t}_seed_corpus.zip" "$OUT/${t}_structured_seed_corpus.zip" 2>/dev/null || true
      ;;
  esac
done
echo "fuzz/build.sh: built $targets into $OUT"
