#!/usr/bin/env bash
# The libFuzzer harnesses (tests/fuzz/fuzz_*.c, ASan and UBSan): each replays its seed corpus
# (tests/fuzz/corpus/NAME/), then fuzzes for FUZZ_SECONDS (default 10, `make fuzz` 600) with new
# inputs kept in a scratch directory, never in the repository. A crash, a sanitizer report or a
# leak fails it, and the input that did it is kept in $B/fuzz/crashes/. Harnesses run FUZZ_JOBS
# (default 2) at a time. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
seconds=${FUZZ_SECONDS:-10}
mkdir -p "$B/fuzz/crashes"
jobs_at_once=${FUZZ_JOBS:-2}
if ! [[ $jobs_at_once =~ ^[1-9][0-9]*$ ]]; then
    echo "not ok - FUZZ_JOBS must be a whole number from 1, not '$jobs_at_once'"
    echo "0 passed, 1 failed"
    exit 1
fi
out=$(mktemp -d "${PORTAL_TEST_TMP:-/tmp}/fuzz.XXXXXX") || exit 1
# Stopped early (make fuzz runs 600 s a harness), the harnesses still running stop too.
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT

# One harness: its corpus replayed, then fuzzed; its result lines go to $out/NAME.
fuzz_one() {
    local src=$1 name bin corpus log scratch runs
    name=$(basename "$src" .c)
    bin=$B/fuzz/$name
    corpus=tests/fuzz/corpus/${name#fuzz_}
    exec >"$out/$name" 2>&1
    if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then
        echo "not ok - $name: no binary $bin or no corpus $corpus"
        touch "$out/$name.done"
        return
    fi
    log=$(mktemp "$out/$name.log.XXXXXX")
    if "$bin" -runs=0 -artifact_prefix="$B/fuzz/crashes/$name-" "$corpus" >"$log" 2>&1; then
        echo "ok - $name replays its $(find "$corpus" -type f | wc -l) seeds"
    else
        echo "not ok - $name on its seed corpus:"
        tail -20 "$log" | sed 's/^/# /'
    fi
    scratch=$(mktemp -d "$out/$name.corpus.XXXXXX")
    if "$bin" -max_total_time="$seconds" -max_len=65536 -artifact_prefix="$B/fuzz/crashes/$name-" \
        "$scratch" "$corpus" >"$log" 2>&1; then
        runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+')
        echo "ok - $name: ${runs:-?} executions in ${seconds} s, no crash"
    else
        echo "not ok - $name crashed; the input is in $B/fuzz/crashes/:"
        grep -E 'ERROR|SUMMARY|runtime error|deadly signal' "$log" | head -5 | sed 's/^/# /'
    fi
    rm -rf "$scratch" "$log"
    touch "$out/$name.done"
}

# FUZZ_JOBS at a time (two by default): each harness is one process on one core, and make test's
# other suites are not running meanwhile. Results are printed in the harnesses' order.
for src in tests/fuzz/fuzz_*.c; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_at_once" ]; do
        wait -n
    done
    fuzz_one "$src" &
done
wait
# A harness without its done mark died on the way, whatever it had said.
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    cat "$out/$name" 2>/dev/null
    [ -e "$out/$name.done" ] || echo "not ok - $name: no result (its run ended early)"
done | tee "$out/all"
passed=$(grep -c '^ok - ' "$out/all")
failed=$(grep -c '^not ok - ' "$out/all")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
