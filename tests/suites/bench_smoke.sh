#!/usr/bin/env bash
# A quick check that `make bench`'s tooling still works against today's schema and SQL, without
# measuring anything: seed.sql on 1,000 studies (half with a final report, a quarter released),
# the detail statement extracted from queries.c and run through pgbench as the ceiling runs it,
# tokens the server accepts, the wrk Lua script parsing, the ingest load (ingest_load.c) over HL7
# and over the JSON API for a second each, the peer (tests/bench/peer) answering the same page,
# the argon2id load (argon_load.py) for two seconds, the results-go-out burst (one release sweep
# of 20 reports, then burst.py opening their patients' pages), and report.py on the figures.
# Prints "N passed, N failed" last.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
tmp=$(mktemp -d "${PORTAL_TEST_TMP:-/tmp}/bench-smoke.XXXXXX")
chmod 755 "$tmp"
passed=0
failed=0
srv=

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }
check() { # NAME COMMAND...
    local name=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then ok "$name"; else not_ok "$name"; sed 's/^/# /' "$tmp/out" | tail -8; fi
}
finish() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
    [ -n "${peer_srv:-}" ] && kill "$peer_srv" 2>/dev/null && wait "$peer_srv" 2>/dev/null
    tests/lib/pg_throwaway.sh stop "$tmp/pg" >/dev/null 2>&1
    rm -rf "$tmp"
    echo "$passed passed, $failed failed"
}
trap finish EXIT

urls=$(tests/lib/pg_throwaway.sh start "$tmp/pg") || { not_ok "throwaway PostgreSQL"; exit 1; }
owner=$(echo "$urls" | head -1)
app=$(echo "$urls" | tail -1)
super=${owner/user=portal_owner/user=postgres}
PORTAL_MIGRATE_DATABASE_URL=$owner "$B/portald" migrate >/dev/null 2>&1 || { not_ok "migrate"; exit 1; }

check "seed.sql loads 100 patients and 1,000 studies" \
    psql -X -q -v ON_ERROR_STOP=1 -v patients=100 -v studies=1000 -v physicians=3 \
    -f tests/bench/seed.sql "$super"
counts=$(psql -X -t -A -F ' ' "$super" -c "SELECT count(*), count(*) FILTER (WHERE reviewable_version
    IS NOT NULL), count(*) FILTER (WHERE released_version IS NOT NULL), (SELECT count(*) FROM
    portal.releases), count(DISTINCT stage) FROM portal.studies")
read -r n final released releases stages <<<"$counts"
if [ "$n" = 1000 ] && [ "$final" -gt 420 ] && [ "$final" -lt 580 ] && [ "$released" -gt 190 ] &&
    [ "$released" -lt 310 ] && [ "$releases" = "$released" ] && [ "$stages" = 9 ]; then
    ok "seeded: half final, a quarter released, every stage present ($counts)"
else
    not_ok "seeded: half final, a quarter released, every stage present ($counts)"
fi

check "print_query builds against queries.o" \
    cc -std=c11 -Iinclude -o "$tmp/print_query" tests/bench/print_query.c "$B/obj/queries.o"
"$tmp/print_query" patient_study >"$tmp/q.txt" 2>&1
secret=bench-smoke-secret-0123456789abcdef
check "tokens.py mints tokens for seeded patients" \
    python3 tests/bench/tokens.py "$super" 100 20 "$secret" smoke smoke "$tmp/tokens.txt"
check "pgbench_script.py writes the detail statement's scripts" \
    python3 tests/bench/pgbench_script.py "$tmp/q.txt" "$tmp/tokens.txt" 8 "$tmp/pgb"
# shellcheck disable=SC2046
check "pgbench runs the detail statement, prepared, as portal_app" \
    pgbench -n -M prepared -c 2 -t 20 $(cat "$tmp/pgb/args" 2>/dev/null) "$app"
grep -q "number of failed transactions: 0" "$tmp/out" || not_ok "pgbench reported failed transactions"
"$tmp/print_query" page_stamp >"$tmp/stamp.txt" 2>&1
check "pgbench_script.py writes the page-stamp statement's scripts" \
    python3 tests/bench/pgbench_script.py "$tmp/stamp.txt" "$tmp/tokens.txt" 8 "$tmp/pgb" stamp
# shellcheck disable=SC2046
check "pgbench runs the page-stamp statement, prepared, as portal_app" \
    pgbench -n -M prepared -c 2 -t 20 $(cat "$tmp/pgb/stamp.args" 2>/dev/null) "$app"
grep -q "number of failed transactions: 0" "$tmp/out" || not_ok "pgbench reported failed transactions"

# The planner compiles a statement's plan (JIT) when its cost passes jit_above_cost: for a page
# statement that runs in milliseconds, a second per execution. portald turns JIT off for its own
# connections; a guess that crosses the line still shows a plan gone wrong (the list once cost
# 1.3 million for the 1,000 rows PostgreSQL guesses a set-returning function gives).
jit_above=$(psql -X -t -A "$app" -c "SHOW jit_above_cost")
for q in patient_studies patient_study proxy_studies proxy_study worklist physician_study page_stamp; do
    "$tmp/print_query" "$q" >"$tmp/plan-$q.txt" 2>&1
    cost=$(tests/bench/plan_cost.sh "$tmp/plan-$q.txt" "$app" 2>&1 | tail -1)
    if awk -v c="$cost" -v m="$jit_above" 'BEGIN { exit !(c + 0 > 0 && c + 0 < m + 0) }'; then
        ok "$q: generic plan cost $cost, below jit_above_cost ($jit_above)"
    else
        not_ok "$q: generic plan cost $cost, below jit_above_cost ($jit_above)"
    fi
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
hl7_port=$(free_port)
PORTAL_DATABASE_URL=$app PORTAL_LISTEN=127.0.0.1:$port PORTAL_HL7_LISTEN=127.0.0.1:$hl7_port PORTAL_JWT_SECRET=$secret \
    PORTAL_JWT_ISSUER=smoke PORTAL_JWT_AUDIENCE=smoke PORTAL_INGEST_ACCESS_CODES=on_request \
    "$B/portald" serve 2>"$tmp/portald.log" &
srv=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
line=$(head -1 "$tmp/tokens.txt")
study=$(echo "$line" | cut -f2 | cut -d, -f1)
check "the server answers a bench token for its patient's study" \
    curl -fs -H "Authorization: Bearer ${line%%$'\t'*}" "http://127.0.0.1:$port/api/v1/patient/studies/$study"
check "idle_conns.py opens keep-alive connections that got 200" bash -c \
    "python3 tests/bench/idle_conns.py 127.0.0.1 $port 20 $tmp/tokens.txt </dev/null | grep -qx 'ready 20 failed 0'"

if command -v wrk >/dev/null; then
    check "portal.lua runs under wrk with no errors" bash -c "BENCH_TOKENS=$tmp/tokens.txt wrk -t1 -c2 -d1s \
        -s tests/bench/portal.lua http://127.0.0.1:$port | grep -q '\"errors\":0,'"
    for mix in list fhir; do
        check "portal.lua's $mix run (one patient's list, or their FHIR DiagnosticReports) with no errors" \
            bash -c "BENCH_TOKENS=$tmp/tokens.txt BENCH_MIX=$mix wrk -t1 -c2 -d1s \
            -s tests/bench/portal.lua http://127.0.0.1:$port | grep -q '\"errors\":0,'"
    done
else
    ok "portal.lua under wrk # SKIP wrk is not installed (scripts/deps.sh bench)"
fi

# The peer (tests/bench/peer): installed offline from its vendored tarballs, it answers the same
# study page as the portal from the same statement, refuses a bad token, and runs under wrk.
peer_srv=
if command -v node >/dev/null && command -v npm >/dev/null; then
    if [ -d tests/bench/peer/node_modules/fastify ]; then
        ok "the peer's packages are installed"
    else
        check "npm ci --offline installs the peer's vendored packages" \
            bash -c "cd tests/bench/peer && npm ci --offline --no-audit --no-fund"
    fi
    "$tmp/print_query" release_history >"$tmp/history.txt" 2>&1
    peer_port=$(free_port)
    # shellcheck disable=SC2046
    env $(echo "$app" | tr ' ' '\n' | sed -n 's/^host=/PGHOST=/p; s/^port=/PGPORT=/p; s/^dbname=/PGDATABASE=/p; s/^user=/PGUSER=/p') \
        PEER_PORT=$peer_port PEER_WORKERS=1 PEER_DETAIL_SQL="$tmp/q.txt" PEER_HISTORY_SQL="$tmp/history.txt" \
        PORTAL_JWT_SECRET=$secret PORTAL_JWT_ISSUER=smoke PORTAL_JWT_AUDIENCE=smoke \
        node tests/bench/peer/server.mjs 2>"$tmp/peer.log" &
    peer_srv=$!
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$peer_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    same_page() { # the fields both pages must agree on, for a study with and without a report
        local sid=$1 tok=$2 a b
        a=$(curl -fs -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/api/v1/patient/studies/$sid") || return 1
        b=$(curl -fs -H "Authorization: Bearer $tok" "http://127.0.0.1:$peer_port/api/v1/patient/studies/$sid") || return 1
        python3 - "$a" "$b" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
keys = ("id", "accession", "stage", "stage_label", "report_available")
assert all(a[k] == b[k] for k in keys), [(k, a[k], b[k]) for k in keys if a[k] != b[k]]
assert [t["stage"] for t in a["timeline"]] == [t["stage"] for t in b["timeline"]], (a["timeline"], b["timeline"])
ra, rb = a.get("report"), b.get("report")
assert (ra is None) == (rb is None) and (ra is None or (ra["findings"], ra["version"]) == (rb["findings"], rb["version"]))
PY
    }
    rel_line=$(awk -F'\t' '$3 != "" {print; exit}' "$tmp/tokens.txt")
    check "the peer answers the same page as the portal (a study, and a released one with its report)" \
        bash -c "$(declare -f same_page); port=$port peer_port=$peer_port; same_page $study ${line%%$'\t'*} &&
                 same_page $(echo "$rel_line" | cut -f3 | cut -d, -f1) ${rel_line%%$'\t'*}"
    check "the peer refuses a token it cannot verify with 401" bash -c \
        "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer x.y.z' http://127.0.0.1:$peer_port/api/v1/patient/studies/$study)\" = 401 ]"
    if command -v wrk >/dev/null; then
        check "portal.lua's detail run against the peer with no errors" bash -c "BENCH_TOKENS=$tmp/tokens.txt \
            BENCH_MIX=detail wrk -t1 -c2 -d1s -s tests/bench/portal.lua http://127.0.0.1:$peer_port | grep -q '\"errors\":0,'"
    fi
    kill "$peer_srv" 2>/dev/null && wait "$peer_srv" 2>/dev/null
    peer_srv=
else
    ok "the bench's peer # SKIP node is not installed (scripts/deps.sh test)"
fi

check "ingest_load builds" \
    cc -std=c11 -Wall -Wextra -Werror -o "$tmp/ingest_load" tests/bench/ingest_load.c -lpthread
psql -X -q -t -A -F $'\t' "$super" -c "SELECT assigning_authority, mrn, name, birth_date FROM
    portal.patients" >"$tmp/patients.tsv" 2>&1
psql -X -q -t -A -F $'\t' "$super" -c "SELECT id, name, coalesce(phone, '') FROM portal.physicians" \
    >"$tmp/physicians.tsv" 2>&1
check "ingest_load: HL7 orders over 2 MLLP connections for 1 s, every ACK AA" bash -c \
    "$tmp/ingest_load -p hl7 -P $hl7_port -c 2 -d 1 -f $tmp/patients.tsv -y $tmp/physicians.tsv -t smoke |
     grep -q '\"errors\":0,\"aa\":[1-9]'"
check "ingest_load: the same orders to the JSON API for 1 s, every answer 200" bash -c \
    "$tmp/ingest_load -p json -P $port -c 2 -d 1 -f $tmp/patients.tsv -y $tmp/physicians.tsv -t smoke \
     -k $(python3 tests/bench/tokens.py --ris "$secret" smoke smoke) | grep -q '\"errors\":0,\"aa\":[1-9]'"
# What makes the HL7/JSON comparison fair: no order created or changed a patient (so none cost an
# access code), and both ways made studies.
changed=$(psql -X -t -A -F ' ' "$super" -c "SELECT count(*), count(*) FILTER (WHERE updated_at <>
    created_at), (SELECT count(DISTINCT left(accession, 1)) FROM portal.studies WHERE accession
    LIKE '_smoke-%') FROM portal.patients")
if [ "$changed" = "100 0 2" ]; then
    ok "the orders are for existing patients and leave them as they were (patients, changed, ways: $changed)"
else
    not_ok "the orders are for existing patients and leave them as they were (patients, changed, ways: $changed)"
fi

ris=$(python3 tests/bench/tokens.py --ris "$secret" smoke smoke)
check "argon_load.py --prepare: new patients for the sign-ins, their codes issued by the front desk" bash -c \
    "python3 tests/bench/argon_load.py --prepare $port $ris $(python3 tests/bench/tokens.py --staff "$secret" smoke smoke) 3 $tmp/codes.txt &&
     [ \$(grep -c '^[0-9A-Z]\{4\}-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}\$' $tmp/codes.txt) = 3 ]"
check "argon_load.py: new patients and sign-ins with those codes, paced, for 2 s, none refused" bash -c \
    "python3 tests/bench/argon_load.py $port $ris 5 3 2 smoke $tmp/codes.txt |
     python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"new_patients\"] >= 8 and d[\"sign_ins\"] >= 3 and d[\"new_patient_errors\"] == d[\"sign_in_errors\"] == 0 and d[\"new_per_s_delivered\"] >= 4, d'"

# The results-go-out burst as run.sh runs it, at a small scale: 20 reports awaiting review at a
# site whose policy then shares them, one sweep, and each patient's page opened within 2 s.
psql -X -q -v ON_ERROR_STOP=1 "$super" >"$tmp/burst-prep.out" 2>&1 <<'SQL'
UPDATE portal.studies s SET site = 'bench-burst-1'
  FROM (SELECT id FROM portal.studies WHERE stage = 'physician_review' AND released_version IS NULL
         ORDER BY id DESC LIMIT 20) b WHERE s.id = b.id;
INSERT INTO portal.release_policies (site, modality) VALUES ('bench-burst-1', '*');
UPDATE portal.release_policies SET auto_release_after = interval '1 second' WHERE site = 'bench-burst-1';
SQL
psql -X -q -t -A -F $'\t' "$super" -c "SELECT patient_id, id FROM portal.studies
    WHERE site = 'bench-burst-1' AND released_version IS NULL" >"$tmp/burst.tsv" 2>&1
check "release_due shares the burst's 20 reports in one sweep" bash -c \
    "[ \$(wc -l <$tmp/burst.tsv) = 20 ] && psql -X -q -t -A '$super' -c \"SELECT portal.release_due(20, 'smoke-burst')\" >/dev/null &&
     [ \$(psql -X -q -t -A '$super' -c \"SELECT count(*) FROM portal.studies WHERE site = 'bench-burst-1'
        AND released_version IS NOT NULL\") = 20 ]"
check "tokens.py --pages mints each patient's token for their study" \
    python3 tests/bench/tokens.py --pages "$secret" smoke smoke "$tmp/burst.tsv" "$tmp/burst-pages.txt"
check "burst.py opens the 20 pages within 2 s, each answered with its report" bash -c \
    "python3 tests/bench/burst.py 127.0.0.1 $port $tmp/burst-pages.txt 2 8 |
     python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"requests\"] == d[\"answered\"] == 20 and d[\"errors\"] == 0 and d[\"p99_ms\"] is not None, d'"
# A page of someone else's study is no answer: burst.py counts it as an error.
paste <(cut -f1 "$tmp/burst-pages.txt" | tail -1) <(cut -f2 "$tmp/burst-pages.txt" | head -1) >"$tmp/burst-wrong.txt"
check "burst.py counts a page not answered with its report as an error" bash -c \
    "python3 tests/bench/burst.py 127.0.0.1 $port $tmp/burst-wrong.txt 1 1 |
     python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"answered\"] == 0 and d[\"errors\"] == 1, d'"
cat >"$tmp/raw.jsonl" <<'RAW'
{"round":1,"name":"http_ceiling","rps":80000,"p50_ms":0.5,"p99_ms":2,"p999_ms":3,"errors":0}
{"round":1,"name":"db_big","tps":20000}
{"round":1,"name":"db_small","tps":21000}
{"round":1,"name":"db_stamp_big","tps":60000}
{"round":1,"name":"portal_big_detail","rps":20000,"p50_ms":3,"p99_ms":4,"p999_ms":6,"errors":0,"rss_kb":20000,"page_hit":750,"page_stale":0,"page_miss":250}
{"round":1,"name":"portal_big_mixed","rps":11000,"p50_ms":3,"p99_ms":4,"p999_ms":6,"errors":0,"rss_kb":20000}
{"round":1,"name":"portal_big_mixed_idle","rps":11000,"p50_ms":3,"p99_ms":4.4,"p999_ms":6,"errors":0,"rss_kb":60000}
{"round":1,"name":"idle","opened":10000,"failed":0,"rss_before_kb":20000,"rss_after_kb":60000}
{"round":1,"name":"portal_small_detail","rps":12500,"p50_ms":3,"p99_ms":3.5,"p999_ms":6,"errors":0,"rss_kb":20000}
{"round":1,"name":"portal_small_mixed","rps":11500,"p50_ms":3,"p99_ms":3.5,"p999_ms":6,"errors":0,"rss_kb":20000}
{"round":1,"name":"ingest_hl7_1","rps":500,"p50_ms":2,"p99_ms":4,"p999_ms":6,"errors":0,"client_cpu_ms":500,"duration_us":10000000}
{"round":1,"name":"ingest_json_1","rps":400,"p50_ms":2,"p99_ms":4,"p999_ms":6,"errors":0,"client_cpu_ms":500,"duration_us":10000000}
{"round":1,"name":"ingest_hl7_8","rps":900,"p50_ms":8,"p99_ms":20,"p999_ms":30,"errors":0,"client_cpu_ms":900,"duration_us":10000000}
{"round":1,"name":"ingest_json_8","rps":1200,"p50_ms":6,"p99_ms":15,"p999_ms":30,"errors":0,"client_cpu_ms":900,"duration_us":10000000}
{"round":1,"name":"portal_big_mixed_quiet","rps":10000,"p50_ms":3,"p99_ms":5,"p999_ms":6,"errors":0,"rss_kb":20000}
{"round":1,"name":"portal_big_mixed_hl7","rps":8000,"p50_ms":3,"p99_ms":7.5,"p999_ms":9,"errors":0,"rss_kb":20000}
{"round":1,"name":"ingest_hl7_page","rps":300,"p50_ms":20,"p99_ms":40,"p999_ms":60,"errors":0,"client_cpu_ms":300,"duration_us":11000000}
{"round":1,"name":"portal_big_mixed_json","rps":9000,"p50_ms":3,"p99_ms":6,"p999_ms":9,"errors":0,"rss_kb":20000}
{"round":1,"name":"ingest_json_page","rps":300,"p50_ms":20,"p99_ms":40,"p999_ms":60,"errors":0,"client_cpu_ms":300,"duration_us":11000000}
{"round":1,"name":"portal_big_list","rps":20000,"p50_ms":2,"p99_ms":4,"p999_ms":6,"errors":0,"rss_kb":20000}
{"round":1,"name":"portal_big_fhir","rps":5000,"p50_ms":8,"p99_ms":12,"p999_ms":16,"errors":0,"rss_kb":20000}
{"round":1,"name":"peer_big_detail","rps":5000,"p50_ms":10,"p99_ms":16,"p999_ms":20,"errors":0,"rss_kb":120000}
{"round":1,"name":"portal_big_mixed_noargon","rps":10000,"p50_ms":3,"p99_ms":4,"p999_ms":6,"errors":0,"rss_kb":20000}
{"round":1,"name":"portal_big_mixed_argon","rps":9000,"p50_ms":3,"p99_ms":5,"p999_ms":8,"errors":0,"rss_kb":20000}
{"round":1,"name":"portal_big_cold","rps":16000,"p50_ms":3,"p99_ms":8,"p999_ms":12,"errors":0,"rss_kb":20000}
{"round":1,"name":"burst","requests":100,"answered":100,"errors":0,"p50_ms":3,"p99_ms":12,"max_ms":15,"released":100,"sweep_s":1.5,"window_s":60,"client_late_p99_ms":1}
{"round":1,"name":"portal_big_mixed_burst","rps":9000,"p50_ms":3,"p99_ms":6,"p999_ms":9,"errors":0}
{"round":1,"name":"argon_load","new_patients":1100,"new_patient_errors":0,"new_patient_503":0,"sign_ins":210,"sign_in_errors":0,"sign_in_503":0,"new_patient_p99_ms":40,"sign_in_p99_ms":60,"new_per_s":100,"sign_ins_per_s":20,"new_per_s_delivered":95,"sign_ins_per_s_delivered":19}
RAW
echo '{"studies":1000000,"small_studies":10000,"duration_s":10,"wrk_threads":2,"connections":64,"cores":2,"idle_connections":10000,"loadavg_start":"0 0 0"}' >"$tmp/config.json"
python3 tests/bench/report.py "$tmp/raw.jsonl" "$tmp/config.json" "$tmp/results.json" >"$tmp/table.txt" 2>&1
check "report.py takes the median of numbers only (the burst's error_kinds of three rounds)" \
    python3 -c 'import sys; sys.path.insert(0, "tests/bench"); import report
assert report.median([{}, {}, {"timeout": 1}]) is None and report.median([3, None, 1, 2]) == 2'
# The detail run reused 3 pages in 4: its SQL cost 100 / (75/60000 + 25/20000) = 40000 per second
# of database, combined with HTTP 1/(1/80000+1/40000) = 26667, and 20000 / 26667 = 0.75: the
# detail target passes at exactly its bound. Against the detail statement's own ceiling
# (1/(1/80000+1/20000) = 16000) the run would be at 1.25.
if python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); d=r["derived_medians"]
assert abs(d["ratio_detail_sql_big"] - 0.75) < 1e-9 and abs(d["ratio_detail_big"] - 1.25) < 1e-9
assert abs(d["page_hit_share_big"] - 0.75) < 1e-9 and r["targets"][0]["value"] == d["ratio_detail_sql_big"]
assert abs(d["idle_rss_cost_mb"] - 39.0625) < 1e-9
assert abs(d["idle_p99_factor"] - 1.1) < 1e-9 and all(r["target"] and r["pass"] for r in r["targets"]), r["targets"]
assert abs(d["ingest_hl7_json_ratio_1"] - 1.25) < 1e-9 and abs(d["ingest_hl7_json_ratio_8"] - 0.75) < 1e-9
assert abs(d["ingest_hl7_scaling"] - 1.8) < 1e-9 and abs(d["page_p99_factor_hl7"] - 1.5) < 1e-9
assert abs(d["page_rps_factor_hl7"] - 0.8) < 1e-9 and abs(d["page_p99_factor_json"] - 1.2) < 1e-9
assert abs(d["fhir_list_ratio"] - 0.25) < 1e-9 and abs(d["fhir_list_p99_factor"] - 3) < 1e-9
assert abs(d["peer_detail_ratio"] - 4) < 1e-9 and abs(d["peer_p99_factor"] - 0.25) < 1e-9
assert abs(d["argon_p99_factor"] - 1.25) < 1e-9 and abs(d["cold_detail_ratio"] - 0.8) < 1e-9
assert [t["value"] for t in r["targets"] if "burst" in t["target"]] == [0, 12]
assert abs(d["burst_mix_p99_factor"] - 2) < 1e-9
assert r["ingest_errors_total"] == 0 and len(r["targets"]) == 12' "$tmp/results.json" &&
    grep -q "cold detail / pgbench detail statement, within each round: x0.80" "$tmp/table.txt" &&
    grep -q "portald / peer, within each round: requests/s x4.00" "$tmp/table.txt" &&
    grep -q "mixed p99 with / without, within each round: x1.25" "$tmp/table.txt"; then
    ok "report.py: ratios against the combined ceilings (statement and SQL run), idle cost, ingest ratios, FHIR/list, the peer, argon2id beside the load, the cold detail and the burst, targets"
else
    not_ok "report.py: ratios against the combined ceilings (statement and SQL run), idle cost, ingest ratios, FHIR/list, the peer, argon2id beside the load, the cold detail and the burst, targets"
    sed 's/^/# /' "$tmp/table.txt" | tail -8
fi
# The same rounds with the server taking only 25 of the 100 new patients a second offered, or 5
# of the 20 sign-ins: the factor (1.25) is under its bound, but it was not measured at the load
# the target names.
sed 's/"new_per_s_delivered":95/"new_per_s_delivered":25/' "$tmp/raw.jsonl" >"$tmp/raw-short.jsonl"
python3 tests/bench/report.py "$tmp/raw-short.jsonl" "$tmp/config.json" "$tmp/results-short.json" >"$tmp/table-short.txt" 2>&1
sed 's/"sign_ins_per_s_delivered":19/"sign_ins_per_s_delivered":5/' "$tmp/raw.jsonl" >"$tmp/raw-few.jsonl"
python3 tests/bench/report.py "$tmp/raw-few.jsonl" "$tmp/config.json" "$tmp/results-few.json" >"$tmp/table-few.txt" 2>&1
check "report.py: the argon2id target passes only when 90 % of the new patients and of the sign-ins offered were answered in time" \
    python3 -c 'import json,sys
ok = lambda f: [t["pass"] for t in json.load(open(f))["targets"] if "new patients" in t["target"]]
assert ok(sys.argv[1]) == [True] and ok(sys.argv[2]) == [False] and ok(sys.argv[4]) == [False], (ok(sys.argv[1]), ok(sys.argv[2]), ok(sys.argv[4]))
assert "answered within the load'"'"'s window: 95.0 new patients/s and 19.0 sign-ins/s" in open(sys.argv[3]).read()' \
    "$tmp/results.json" "$tmp/results-short.json" "$tmp/table.txt" "$tmp/results-few.json"
