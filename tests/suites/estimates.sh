#!/usr/bin/env bash
# The turnaround estimates are calibrated (issue 4): on a throwaway cluster with generated history
# (`portald seed-history`), `portald backtest` must find p90 covering 85-95% and p50 42-58% of
# what happened, overall and for every modality with at least MIN_STUDIES studies scored (fewer
# make a coverage too noisy to judge: the entries of one study move together); asked at every hour
# of a week (issue 18), no hour may be far off. Also: the command refuses bad arguments, and
# seed-history is idempotent. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
DAYS=${ESTIMATES_BACKTEST_DAYS:-21}
MIN_STUDIES=100

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
# within V LO HI: whether LO <= V <= HI (decimals).
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
# check_range WHAT V LO HI: a test that V (a percentage) lies in LO-HI.
check_range() {
    if within "$2" "$3" "$4"; then ok "$1 $2% ($3-$4)"; else not_ok "$1 $2%, outside $3-$4"; fi
}
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }

dir=$(mktemp -d "${PORTAL_TEST_TMP:-/tmp}/estimates.XXXXXX")
trap 'tests/lib/pg_throwaway.sh stop "$dir" >/dev/null 2>&1' EXIT
mapfile -t urls < <(tests/lib/pg_throwaway.sh start "$dir" 2>/dev/null)
export PORTAL_MIGRATE_DATABASE_URL=${urls[0]} PORTAL_DATABASE_URL=${urls[1]}
export PORTAL_JWT_SECRET=estimates-suite-secret-0123456789abcdef
if ! "$B/portald" migrate >/dev/null 2>&1; then
    not_ok "migrations apply"
    echo "$passed passed, $failed failed"
    exit 1
fi

t0=$(date +%s)
if out=$("$B/portald" seed-history --days 120 2>&1) && [[ $out == "Synthetic history:"* ]]; then
    ok "seed-history generates history in $(($(date +%s) - t0)) s: $out"
else
    not_ok "seed-history: $out"
fi
out=$("$B/portald" seed-history 2>&1)
[[ $out == *"exists already"* ]] && ok "seed-history a second time changes nothing" ||
    not_ok "seed-history a second time: $out"

"$B/portald" backtest --days 0 >/dev/null 2>&1
[ $? -eq 2 ] && ok "backtest refuses --days 0" || not_ok "backtest accepted --days 0"
"$B/portald" backtest --by-hour >/dev/null 2>&1
[ $? -eq 2 ] && ok "backtest refuses --by-hour without --every-hour" ||
    not_ok "backtest accepted --by-hour alone"
"$B/portald" seed-history --shape tuesday >/dev/null 2>&1
[ $? -eq 2 ] && ok "seed-history refuses an unknown shape" ||
    not_ok "seed-history accepted --shape tuesday"
for bad in 0 -3 2147483648 7x ""; do
    out=$("$B/portald" seed-history --seed "$bad" 2>&1)
    [ $? -eq 2 ] && [[ $out == *"--seed must be from 1 to 2147483647"* ]] &&
        ok "seed-history refuses --seed '$bad', naming the option" ||
        not_ok "seed-history --seed '$bad': $out"
done

t0=$(date +%s)
report=$("$B/portald" backtest --days "$DAYS" --window-days 28 2>&1)
rc=$?
took=$(($(date +%s) - t0))
echo "$report" | sed 's/^/# /'
if [ $rc -ne 0 ]; then
    not_ok "backtest --days $DAYS exits 0 (got $rc)"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "backtest --days $DAYS ran in $took s"

# Columns: modality milestone studies scored p50% p90% err "h" unfinished too_few.
checked=0
while read -r modality milestone studies scored p50 p90 _; do
    [ "$milestone" = all ] || continue
    p50=${p50%\%}
    p90=${p90%\%}
    if [ "$modality" != all ] && [ "$studies" -lt "$MIN_STUDIES" ]; then
        echo "# $modality: $studies studies, too few to judge coverage"
        continue
    fi
    checked=$((checked + 1))
    check_range "$modality, $studies studies: p90 covers" "$p90" 85 95
    check_range "$modality, $studies studies: p50 covers" "$p50" 42 58
done < <(echo "$report" | grep -E '^[A-Za-z]+ +[a-z_]+ +[0-9]+ +[0-9]+ +[0-9.]+% +[0-9.]+%')
# Overall plus at least the four busiest modalities must have been judged.
[ "$checked" -ge 5 ] && ok "coverage judged overall and for $((checked - 1)) modalities" ||
    not_ok "coverage judged for only $checked rows"

# Every hour of the week (issue 18), the fast version: one replayed week (each hour of the week
# asked once), models of 28 days. One week holds 300-500 studies per hour, and those waiting at
# one hour share that day's backlog, so an hour's coverage moves by several points from one week
# to the next; the bounds here catch a broken clock or quantile (estimates
# all early or all late at some hours) and a model that misses the 45-55 / 87-93 % band at most
# hours, not the target at every hour, which needs the full run (`portald backtest --every-hour
# --days 35 --window-days 28`: each hour asked five times, docs/estimates.md).
t0=$(date +%s)
hours=$("$B/portald" backtest --every-hour --days 7 --window-days 28 2>&1)
rc=$?
echo "$hours" | sed 's/^/# /'
if [ $rc -ne 0 ]; then
    not_ok "backtest --every-hour exits 0 (got $rc)"
else
    ok "backtest --every-hour --days 7 ran in $(($(date +%s) - t0)) s"
fi
judged=0
# Columns: milestone hours in_band p50_all% worst_p50% day time p90_all% worst_p90% day time.
while read -r milestone nhours inband p50 w50 d50 h50 p90 w90 d90 h90; do
    judged=$((judged + 1))
    # Hours in the 45-55 / 87-93 % band, at least a quarter of those judged. The history ends
    # today and its weekdays shift with the day the suite runs, so the count moves with it:
    # available was in band at 125-127 of 168 hours on Saturday evenings, 72 on a Sunday just
    # after midnight; report_final (the clock, its p90 hovering at 87 %) at 69-126.
    share=4
    if [ $((inband * share)) -ge "$nhours" ]; then
        ok "$milestone in band at $inband of $nhours hours (at least 1/$share)"
    else
        not_ok "$milestone in band at only $inband of $nhours hours (fewer than 1/$share)"
    fi
    p50=${p50%\%} w50=${w50%\%} p90=${p90%\%} w90=${w90%\%}
    check_range "$milestone over $nhours hours: p50 covers" "$p50" 35 65
    check_range "$milestone over $nhours hours: p90 covers" "$p90" 80 96
    check_range "$milestone, worst hour for p50 ($d50 $h50): covers" "$w50" 15 85
    check_range "$milestone, worst hour for p90 ($d90 $h90): covers" "$w90" 70 100
done < <(echo "$hours" | grep -E '^(report_final|available) +[0-9]+ +[0-9]+ +[0-9.]+%')
[ "$judged" -eq 2 ] && ok "every-hour coverage judged for both milestones" ||
    not_ok "every-hour coverage judged for $judged milestones, not 2"

# PORTAL_TIME_ZONE is the clocks' zone too (portal.site_timezone in every session): the same day
# replayed for a site three hours east of UTC, without summer time or closed days, asks the same
# questions of the same models, each clock learned three hours later on the site's wall clock,
# so every hour's figures are the UTC run's of three hours before.
by_hour() {
    PORTAL_TIME_ZONE=$1 "$B/portald" backtest --every-hour --days 1 --window-days 28 --by-hour 2>&1 |
        awk -v shift="$2" 'BEGIN { split("Mon Tue Wed Thu Fri Sat Sun", d, " ");
                                   for (i = 1; i <= 7; i++) n[d[i]] = i - 1 }
            ($1 == "report_final" || $1 == "available") && $3 ~ /^[0-9][0-9]:00$/ {
                h = (n[$2] * 24 + substr($3, 1, 2) - shift + 168) % 168
                $2 = ""; $3 = sprintf("%03d", h); print }' | sort
}
# The replayed span ends at the hour a week ago: both runs must fall within one hour of the clock.
for attempt in 1 2; do
    hour=$(date -u +%Y%m%d%H)
    utc=$(by_hour UTC 0)
    east=$(by_hour Etc/GMT-3 3)
    [ "$(date -u +%Y%m%d%H)" = "$hour" ] && break
done
if [ -n "$utc" ] && [ "$utc" = "$east" ] && [ "$(echo "$utc" | wc -l)" -ge 24 ]; then
    ok "PORTAL_TIME_ZONE=Etc/GMT-3: each hour's figures are UTC's of three hours before ($(echo "$utc" | wc -l) hours)"
else
    not_ok "PORTAL_TIME_ZONE=Etc/GMT-3 does not shift the hours by three: $(diff <(echo "$utc") <(echo "$east") | head -5 | tr '\n' ' ')"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
