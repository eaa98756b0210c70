#!/usr/bin/env bash
# Every test, fastest first: unit (C, under ASan+UBSan), SQL (pgTAP on a throwaway cluster),
# HTTP integration (the ASan binary against a real PostgreSQL), then the slower suites. Each suite
# prints "N passed, N failed" as its last line; this script adds them up and ends with the same
# line. Any sanitizer report fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
export B=${B:-build}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}

TMP=$(mktemp -d /tmp/portal-test.XXXXXX)
chmod 755 "$TMP"
export PORTAL_TEST_TMP=$TMP
total_passed=0
total_failed=0
broken=()

cleanup() {
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

# failures_of NAME LOG: the suite's first failing lines, cut short, for the recap at the end.
failures_of() {
    grep -E '^([^#]*: )?(not ok|FAIL)' "$2" | head -10 | cut -c1-200 | sed "s/^/   $1: /" >>"$TMP/failures"
}

# Runs one suite; its last "N passed, N failed" line is its count. A suite that dies without
# that line counts as one failure.
suite() {
    local name=$1
    shift
    local log="$TMP/suite-$name.log"
    echo "== $name"
    local started=$SECONDS
    "$@" 2>&1 | tee "$log" | grep -E '^(not ok|#|FAIL)' | head -40
    local rc=${PIPESTATUS[0]}
    local took=$((SECONDS - started))
    printf '%6d s  %s\n' "$took" "$name" >>"$TMP/durations"
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "   $name: no result line (exit $rc); last lines:"
        tail -15 "$log" | sed 's/^/   | /'
        echo "   $name: no result line (exit $rc)" >>"$TMP/failures"
        failures_of "$name" "$log"
        total_failed=$((total_failed + 1))
        broken+=("$name")
        return
    fi
    local p f
    p=$(echo "$line" | awk '{print $1}')
    f=$(echo "$line" | awk '{print $3}')
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        total_failed=$((total_failed + 1))
        broken+=("$name (exit $rc)")
    fi
    echo "   $name: $line"
    if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
        failures_of "$name" "$log"
    fi
    if [ "$f" -gt 0 ]; then
        echo "   last lines of $name:"
        tail -25 "$log" | sed 's/^/   | /'
    fi
}

unit() {
    local p=0 f=0
    for t in "$B"/asan/tests/test_*; do
        [ -x "$t" ] || continue
        local out
        out=$("$t" 2>&1)
        local rc=$?
        echo "$out" | grep -E '^(not ok|FAIL|.*(AddressSanitizer|runtime error|LeakSanitizer))'
        local line
        line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
        if [ -z "$line" ] || [ $rc -ne 0 ]; then
            echo "not ok - $(basename "$t") exited $rc"
            echo "$out" | tail -20
            f=$((f + 1))
        fi
        p=$((p + $(echo "${line:-0 passed, 0 failed}" | awk '{print $1}')))
        f=$((f + $(echo "${line:-0 passed, 0 failed}" | awk '{print $3}')))
    done
    echo "$p passed, $f failed"
}

format_check() {
    if make --no-print-directory format-check >/dev/null 2>&1; then
        echo "ok - clang-format"
        echo "1 passed, 0 failed"
    else
        make --no-print-directory format-check 2>&1 | head -20
        echo "not ok - clang-format"
        echo "0 passed, 1 failed"
    fi
}

suite unit unit
suite sql tests/sql.sh
suite integration python3 tests/integration/run.py
for extra in tests/suites/*.sh; do
    [ -x "$extra" ] || continue
    suite "$(basename "$extra" .sh)" "$extra"
done
suite format format_check

echo
# Where the time went, so a slow suite is seen before make test outgrows its budget.
echo "time per suite:"
cat "$TMP/durations"
echo "$SECONDS s in all"
# Repeated at the end because CI may keep only the last lines of a long run.
if [ -s "$TMP/failures" ]; then
    echo "what failed:"
    cat "$TMP/failures"
fi
[ ${#broken[@]} -eq 0 ] || echo "suites that did not finish cleanly: ${broken[*]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
