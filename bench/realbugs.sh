#!/bin/sh
# realbugs.sh - does `mqcheck fuzz` rediscover real, published bugs in past
# broker releases? Builds each given mosquitto release with ASan (outside
# this repository), fuzzes it from the suite's seeds alone with a time
# budget, and prints one table row per finding, marking the rows that match
# the bug expected in that release.
#
#   bench/realbugs.sh [-m MQCHECK] [-w WORKDIR] [-d DURATION] [-s SEED] [-t]
#                     [-x "FUZZ OPTIONS"] MOSQUITTO_GIT_DIR TAG[=LABEL=REGEX] ...
#
#   MOSQUITTO_GIT_DIR  a clone or mirror of eclipse/mosquitto holding the tags
#   TAG                a release tag (v2.0.15); built once into
#                      WORKDIR/bin/mosquitto-TAG (make, WITH_TLS=no ...)
#   LABEL=REGEX        the bug expected: a finding whose signature matches
#                      the extended regex REGEX is that bug (for example
#                      v2.0.15='will-leak=will__read')
#   -t                 TLS: build WITH_TLS=yes (needs libssl-dev) into
#                      WORKDIR/bin/mosquitto-TAG-tls and fuzz it through a
#                      TLS listener (--exec-url mqtts://, a throw-away
#                      certificate made with openssl): bugs on the TLS path
#                      only, such as CVE-2023-5632
#
# Defaults: MQCHECK build/ci/mqcheck, WORKDIR /tmp/mqcheck-realbugs, DURATION
# 15m, SEED 1, FUZZ OPTIONS "--stack-kib 1024" (the broker on a 1 MiB stack,
# as docs/netfuzz.md recommends for C brokers). Runs one release at a time (one broker, one fuzzer). Nothing
# here runs in `make test`: it needs the broker's sources and minutes of CPU.
# docs/netfuzz.md ("Real bugs in past releases") has the figures measured.
set -eu

MQCHECK=build/ci/mqcheck
WORK=/tmp/mqcheck-realbugs
DURATION=15m
SEED=1
EXTRA="--stack-kib 1024"
TLS=no
while getopts m:w:d:s:x:t opt; do
  case $opt in
  m) MQCHECK=$OPTARG ;;
  w) WORK=$OPTARG ;;
  d) DURATION=$OPTARG ;;
  s) SEED=$OPTARG ;;
  x) EXTRA=$OPTARG ;;
  t) TLS=yes ;;
  *) sed -n 2,29p "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n 2,29p "$0" >&2; exit 2; }
SRC=$1
shift
MQCHECK=$(cd "$(dirname "$MQCHECK")" && pwd)/$(basename "$MQCHECK")
[ -x "$MQCHECK" ] || { echo "realbugs: no mqcheck at $MQCHECK" >&2; exit 2; }
git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1 || { echo "realbugs: $SRC is not a git repository" >&2; exit 2; }
mkdir -p "$WORK/src" "$WORK/bin" "$WORK/out"

# The recommended sanitizer options (docs/netfuzz.md): LeakSanitizer on, so
# the fuzzer's exit check sees leaks; allocations over 64 MiB are reports
# (a broker allocating what a header claims, untouched, shows in no RSS);
# a 64 MiB quarantine, so RSS (--held-rss, --leak-rss) is not mostly ASan's.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:symbolize=1:handle_abort=1:max_allocation_size_mb=64:allocator_may_return_null=0:quarantine_size_mb=64}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

# -t: a certificate, and a wrapper that starts the broker with one TLS
# listener on the port the fuzzer gives it (its configuration next to it)
if [ $TLS = yes ]; then
  mkdir -p "$WORK/tls"
  [ -f "$WORK/tls/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 7 \
    -subj /CN=127.0.0.1 -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null
  # mosquitto started as root drops to its own user: the throw-away key must
  # stay readable for it
  chmod a+r "$WORK/tls/key.pem" "$WORK/tls/cert.pem"
  {
    echo '#!/bin/sh'
    echo '# run.sh PORT BROKER: BROKER with one TLS listener on 127.0.0.1:PORT'
    echo 'd=$(dirname "$0")'
    echo "printf 'listener %s 127.0.0.1\\nallow_anonymous true\\ncertfile %s/cert.pem\\nkeyfile %s/key.pem\\n' \"\$1\" \"\$d\" \"\$d\" >\"\$d/m-\$1.conf\""
    echo 'exec "$2" -c "$d/m-$1.conf"'
  } >"$WORK/tls/run.sh"
  chmod +x "$WORK/tls/run.sh"
fi

build() { # TAG -> WORK/bin/mosquitto-TAG (-TAG-tls with -t)
  tag=$1
  bin=$WORK/bin/mosquitto-$tag
  [ $TLS = yes ] && bin=$bin-tls
  [ -x "$bin" ] && return 0
  dir=$WORK/src/$tag
  rm -rf "$dir" && mkdir -p "$dir"
  git -C "$SRC" archive "$tag" | tar -x -C "$dir"
  # only the broker; every optional dependency off, ASan on
  if ! make -C "$dir/src" -j2 WITH_TLS=$TLS WITH_TLS_PSK=no WITH_CJSON=no WITH_DOCS=no \
    WITH_SOCKS=no WITH_WEBSOCKETS=no WITH_SRV=no WITH_EC=no WITH_BUNDLED_DEPS=yes \
    WITH_SYSTEMD=no WITH_UUID=no WITH_MEMORY_TRACKING=no WITH_SYS_TREE=no \
    CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address" LDFLAGS="-fsanitize=address" \
    mosquitto >"$WORK/build-$tag.log" 2>&1; then
    echo "realbugs: building $tag failed, see $WORK/build-$tag.log" >&2
    return 1
  fi
  cp "$dir/src/mosquitto" "$bin"
}

printf '%-9s %-12s %-6s %8s %9s %-6s %s\n' release bug found time sessions kind signature
for arg in "$@"; do
  tag=${arg%%=*}
  label=-
  regex=
  case $arg in *=*=*)
    rest=${arg#*=}
    label=${rest%%=*}
    regex=${rest#*=}
    ;;
  esac
  build "$tag" || continue
  out=$WORK/out/$tag-seed$SEED
  [ $TLS = yes ] && out=$WORK/out/$tag-tls-seed$SEED
  rm -rf "$out"
  log=$out.log
  set +e
  if [ $TLS = yes ]; then
    "$MQCHECK" fuzz --exec "$WORK/tls/run.sh {port} $bin" --exec-url "mqtts://127.0.0.1:{port}" \
      --insecure --seed "$SEED" --duration "$DURATION" --no-spec --findings "$out" $EXTRA \
      >"$log" 2>&1
  else
    "$MQCHECK" fuzz --exec "$bin -p {port}" --seed "$SEED" \
      --duration "$DURATION" --no-spec --findings "$out" $EXTRA >"$log" 2>&1
  fi
  set -e
  rows=$out.rows
  : >"$rows"
  # "fuzz: FINDING kind ...: msg -> DIR (after T s, N sessions)"
  grep 'fuzz: FINDING ' "$log" | while IFS= read -r line; do
    kind=$(printf '%s\n' "$line" | sed 's/^fuzz: FINDING \([a-z-]*\).*/\1/')
    dirn=$(printf '%s\n' "$line" | sed 's/.* -> \([^ ]*\) (after.*/\1/')
    t=$(printf '%s\n' "$line" | sed 's/.*(after \([0-9.]*\) s, \([0-9]*\) sessions)$/\1/')
    n=$(printf '%s\n' "$line" | sed 's/.*(after \([0-9.]*\) s, \([0-9]*\) sessions)$/\2/')
    sig=$(sed -n 's/.*(\(leak:[^)]*\)).*/\1/p; s/.*: \(AddressSanitizer: [a-z-]*\).*/\1/p' \
      "$dirn/README" | head -1)
    [ -n "$sig" ] || sig=$(head -c 100 "$dirn/README")
    # the crash signature is in the finding's log: the first frames
    if [ "$kind" = crash ]; then
      fr=$(sed -n '/ERROR: AddressSanitizer/,/^$/p' "$dirn/broker.log" 2>/dev/null |
        grep -o '#[0-9]* 0x[0-9a-f]* in [A-Za-z_][A-Za-z0-9_]*' | sed 's/.* in //' |
        grep -v -e __interceptor -e __asan -e Interceptor -e '^str' -e '^mem' |
        head -3 | tr '\n' ':')
      sig="$sig:$fr"
    fi
    bug=-
    if [ -n "$regex" ] && printf '%s\n' "$sig" | grep -Eq "$regex"; then
      bug=$label
    fi
    printf '%-9s %-12s %-6s %7ss %9s %-6s %s\n' "$tag" "$bug" yes "$t" "$n" "$kind" "$sig" >>"$rows"
  done
  cat "$rows"
  if [ -n "$regex" ] && ! grep -q "^$tag *$label " "$rows"; then
    total=$(sed -n 's/^fuzz: \([0-9]*\) sessions in \([0-9.]*\) s.*/\1 sessions, \2 s/p' "$log")
    printf '%-9s %-12s %-6s %s\n' "$tag" "$label" no "not found in $DURATION ($total)"
  fi
done
