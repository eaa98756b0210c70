#!/usr/bin/env bash
# The libFuzzer harnesses (tests/fuzz/fuzz_*.c, ASan and UBSan): each replays its seed corpus
# (tests/fuzz/corpus/NAME/), then fuzzes for FUZZ_SECONDS (default 10, `make fuzz` 600) with new
# inputs kept in a scratch directory, never in the repository. A crash, a sanitizer report or a
# leak fails it, and the input that did it is kept in $B/fuzz/crashes/. Last line: "N passed, N
# failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
seconds=${FUZZ_SECONDS:-10}
passed=0
failed=0
mkdir -p "$B/fuzz/crashes"
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    bin=$B/fuzz/$name
    corpus=tests/fuzz/corpus/${name#fuzz_}
    if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then
        echo "not ok - $name: no binary $bin or no corpus $corpus"
        failed=$((failed + 1))
        continue
    fi
    log=$(mktemp)
    if "$bin" -runs=0 -artifact_prefix="$B/fuzz/crashes/$name-" "$corpus" >"$log" 2>&1; then
        echo "ok - $name replays its $(find "$corpus" -type f | wc -l) seeds"
        passed=$((passed + 1))
    else
        echo "not ok - $name on its seed corpus:"
        tail -20 "$log" | sed 's/^/# /'
        failed=$((failed + 1))
    fi
    scratch=$(mktemp -d)
    if "$bin" -max_total_time="$seconds" -max_len=65536 -artifact_prefix="$B/fuzz/crashes/$name-" \
        "$scratch" "$corpus" >"$log" 2>&1; then
        runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+')
        echo "ok - $name: ${runs:-?} executions in ${seconds} s, no crash"
        passed=$((passed + 1))
    else
        echo "not ok - $name crashed; the input is in $B/fuzz/crashes/:"
        grep -E 'ERROR|SUMMARY|runtime error|deadly signal' "$log" | head -5 | sed 's/^/# /'
        failed=$((failed + 1))
    fi
    rm -rf "$scratch" "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
