#!/usr/bin/env bash
# SQL-level tests (pgTAP) of the schema and the release gate, on a throwaway cluster migrated by
# the real `portald migrate`. Each sql/tests/*.sql prints TAP; its plan must be met.
#
# Then every file that reads the clock (now()) runs again with the server's clock set by
# libfaketime to fixed moments of the week. CI runs at whatever hour it is: estimates.sql once
# failed only between 12:00 and 13:00 on Mondays (UTC), when its fixtures' clock runs fastest.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
dir=$(mktemp -d "${PORTAL_TEST_TMP:-/tmp}/sqlpg.XXXXXX")
mapfile -t urls < <(tests/lib/pg_throwaway.sh start "$dir")
trap 'tests/lib/pg_throwaway.sh stop "$dir"' EXIT
if ! PORTAL_MIGRATE_DATABASE_URL=${urls[0]} "$B/portald" migrate >/dev/null; then
    echo "not ok - migrations apply"
    echo "0 passed, 1 failed"
    exit 1
fi
super="host=$dir/run port=$(cat "$dir/port") dbname=portal user=postgres"
p=0
f=0

# run_file FILE LABEL: runs one file, counts its TAP lines, names LABEL in what it prints.
run_file() {
    local t=$1 label=$2 out rc ok nok plan
    out=$(psql -X -q -t -A -v ON_ERROR_STOP=1 "$super" -f "$t" 2>&1)
    rc=$?
    ok=$(grep -cE '^ok [0-9]+' <<<"$out")
    nok=$(grep -cE '^not ok [0-9]+' <<<"$out")
    plan=$(grep -oE '^1\.\.[0-9]+' <<<"$out" | head -1 | cut -d. -f3)
    grep -E '^not ok|^#' <<<"$out" | sed "s|^|$label: |"
    p=$((p + ok))
    f=$((f + nok))
    if [ $rc -ne 0 ] || [ -z "$plan" ] || [ $((ok + nok)) -ne "$plan" ]; then
        echo "not ok - $label stopped early (exit $rc, plan ${plan:-none}, ran $((ok + nok)))"
        echo "$out" | tail -5
        f=$((f + 1))
    fi
}

for t in sql/tests/*.sql; do
    run_file "$t" "$(basename "$t")"
done

# The moments: Monday 12:34 (the fixtures' history was signed on Mondays from 10:00 on) and
# Sunday 23:59:50, a quiet night from which the run crosses into a new week. Dates after any
# fixed date a fixture names; the clock runs on from each.
faketime_lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [ ! -r "$faketime_lib" ]; then
    echo "not ok - libfaketime is not installed (scripts/deps.sh test installs it)"
    f=$((f + 1))
else
    mapfile -t clocked < <(grep -l 'now()' sql/tests/*.sql)
    for moment in "2026-12-14 12:34:00Z" "2026-12-20 23:59:50Z"; do
        tests/lib/pg_throwaway.sh restart "$dir" \
            "LD_PRELOAD=$faketime_lib FAKETIME=$(printf '%+d' $(($(date -d "$moment" +%s) - $(date +%s))))"
        for t in "${clocked[@]}"; do
            run_file "$t" "$(basename "$t") at ${moment%:*Z} UTC"
        done
    done
fi
echo "$p passed, $f failed"
[ $f -eq 0 ]
