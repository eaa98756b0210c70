#!/usr/bin/env bash
# SQL-level tests (pgTAP) of the schema and the release gate, on a throwaway cluster migrated by
# the real `portald migrate`. Each sql/tests/*.sql prints TAP; its plan must be met.
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
for t in sql/tests/*.sql; do
    out=$(psql -X -q -t -A -v ON_ERROR_STOP=1 "$super" -f "$t" 2>&1)
    rc=$?
    ok=$(grep -cE '^ok [0-9]+' <<<"$out")
    nok=$(grep -cE '^not ok [0-9]+' <<<"$out")
    plan=$(grep -oE '^1\.\.[0-9]+' <<<"$out" | head -1 | cut -d. -f3)
    grep -E '^not ok|^#' <<<"$out" | sed "s|^|$(basename "$t"): |"
    p=$((p + ok))
    f=$((f + nok))
    if [ $rc -ne 0 ] || [ -z "$plan" ] || [ $((ok + nok)) -ne "$plan" ]; then
        echo "not ok - $(basename "$t") stopped early (exit $rc, plan ${plan:-none}, ran $((ok + nok)))"
        echo "$out" | tail -5
        f=$((f + 1))
    fi
done
echo "$p passed, $f failed"
[ $f -eq 0 ]
