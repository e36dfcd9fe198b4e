#!/bin/sh
# fuzz_front.sh: runs the front end's libFuzzer target for a given time.
#
# Builds tests/fuzz/fuzz_front.c with clang-19 (-DNASC_FUZZ=ON: ASan, UBSan
# and coverage instrumentation) in BUILD_DIR, seeds a corpus from examples/,
# stdlib/ and every .nas under tests/fixtures/, and runs the target at low
# priority.  Crashing inputs land in ARTIFACTS (crash-*, timeout-*, oom-*):
# copy each into tests/fixtures/fuzz/ once fixed, where ctest's fuzz_replay
# keeps them as regression tests.  At the end it prints the executions and
# the coverage (libFuzzer's cov: edges and ft: features).
#
# Needs Debian's clang-19 and libclang-rt-19-dev
# (NASC_WITH_FUZZ=1 scripts/install-deps.sh installs them).
#
# usage: bench/fuzz_front.sh [-t SECONDS] [-d BUILD_DIR] [-c CORPUS_DIR] [-a ARTIFACTS]
#   defaults: 600 s, build-fuzz, build-fuzz/corpus, build-fuzz/artifacts
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
secs=600
bdir=$root/build-fuzz
corpus=""
art=""
while getopts t:d:c:a:h opt; do
    case $opt in
        t) secs=$OPTARG ;;
        d) bdir=$OPTARG ;;
        c) corpus=$OPTARG ;;
        a) art=$OPTARG ;;
        *) sed -n '2,17p' "$0"; exit 2 ;;
    esac
done
case $secs in ''|*[!0-9]*|0) echo "fuzz_front: -t needs a positive number of seconds" >&2; exit 2 ;; esac
corpus=${corpus:-$bdir/corpus}
art=${art:-$bdir/artifacts}
if ! command -v clang-19 > /dev/null 2>&1; then
    echo "fuzz_front: clang-19 not found (NASC_WITH_FUZZ=1 scripts/install-deps.sh)" >&2
    exit 2
fi

CC=clang-19 nice -n 19 cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNASC_FUZZ=ON > /dev/null
nice -n 19 cmake --build "$bdir" --target nasc_fuzz_front -j1 > "$bdir/build.log" 2>&1 ||
    { tail -30 "$bdir/build.log" >&2; exit 1; }

mkdir -p "$corpus" "$art"
# Seeds: every .nas the project has (copied, so the fuzzer may add to the dir).
find "$root/examples" "$root/stdlib" "$root/tests/fixtures" -name '*.nas' | while read -r f; do
    cp "$f" "$corpus/seed-$(echo "$f" | sed "s|$root/||; s|/|_|g")"
done

lscpu | grep 'Model name' || true
log=$bdir/fuzz.log
# -fork=1: one worker process at a time (the machine is shared) that is
# restarted after a crash, so one run collects every finding instead of
# stopping at the first; -timeout flags hangs, -rss_limit_mb memory blowups.
ASAN_OPTIONS=detect_leaks=1 nice -n 19 "$bdir/nasc_fuzz_front" "$corpus" \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -dict="$root/tests/fuzz/nasc.dict" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="$art/" -print_final_stats=1 > "$log" 2>&1 || true
tail -25 "$log"
echo "fuzz_front: log $log, artifacts in $art:"
ls "$art"
