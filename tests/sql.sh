#!/usr/bin/env bash
# SQL-level tests (pgTAP) of the schema and the release gate, on a throwaway cluster migrated by
# the real `portald migrate`. Each sql/tests/*.sql prints TAP; its plan must be met.
#
# Then every file runs again with the server's clock set by libfaketime to fixed moments of the
# week. CI runs at whatever hour it is: estimates.sql once failed only between 12:00 and 13:00 on
# Mondays (UTC), when its fixtures' clock runs fastest.
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

# The moments: the coming Monday at 12:34 (the fixtures' history was signed on Mondays from 10:00
# on) and the coming Sunday at 22:30, a quiet night. Always ahead of the real clock, so nothing
# the migration wrote lies in the faked future; the clock runs on from each.
faketime_lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
if [ -z "$faketime_lib" ]; then
    echo "not ok - libfaketime is not installed (scripts/deps.sh test installs it)"
    f=$((f + 1))
else
    for moment in "$(date -ud 'next monday 12:34' '+%F %T')" "$(date -ud 'next sunday 22:30' '+%F %T')"; do
        label="at $(date -ud "$moment" '+%a %F %H:%M') UTC"
        offset=$(printf '%+d' $(($(date -ud "$moment" +%s) - $(date +%s))))
        # A server that did not restart, or started on the real clock (the loader only warns when
        # it cannot preload), would pass these files without testing the moment.
        if ! tests/lib/pg_throwaway.sh restart "$dir" "LD_PRELOAD=$faketime_lib FAKETIME=$offset" ||
            [ "$(psql -X -t -A "$super" -c "SELECT abs(extract(epoch FROM now() - '$moment+00'::timestamptz)) < 120")" != t ]; then
            echo "not ok - the server's clock set $label"
            f=$((f + 1))
            continue
        fi
        for t in sql/tests/*.sql; do
            run_file "$t" "$(basename "$t") $label"
        done
    done
fi
echo "$p passed, $f failed"
[ $f -eq 0 ]
