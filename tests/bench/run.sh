#!/usr/bin/env bash
# `make bench`: the patient hot path measured against this machine's own ceilings, in one run.
# A private PostgreSQL seeded by SQL (tests/bench/seed.sql) with BENCH_STUDIES studies and, in a
# second database, BENCH_SMALL_STUDIES; `portald serve` as in production; wrk rotating HS256
# tokens of random patients (tests/bench/portal.lua); nginx serving a detail answer as a static
# file (HTTP ceiling); pgbench running the detail statement from server/queries.c (database
# ceiling); 10,000 idle keep-alive connections during one of the loads; ingest of new orders for
# existing patients (tests/bench/ingest_load.c) over HL7 v2/MLLP and over the JSON API, each over
# one and over BENCH_INGEST_CONNECTIONS connections, and the mixed load without ingest and with
# either ingest beside it; and the same study page served by a peer written in Node (fastify, pg,
# fast-jwt: tests/bench/peer) against the same database. Every figure is measured BENCH_RUNS
# times, interleaved, and report.py takes the medians; writes $B/bench/results.json.
#
# Environment: B (build dir), BENCH_QUICK=1 (a couple of minutes), BENCH_STUDIES,
# BENCH_PATIENTS, BENCH_SMALL_STUDIES, BENCH_RUNS, BENCH_DURATION (s), BENCH_CONNECTIONS,
# BENCH_IDLE, BENCH_KEEP=1 (keep the work directory), BENCH_PG_FAST=0 (fsync on: see below),
# BENCH_PORTAL_THREADS (default: the core count, as `portald serve` defaults to), BENCH_WARMUP (s
# each fresh server spends viewing every bench page before the figures, default 8),
# BENCH_INGEST_CONNECTIONS (the "many" of the ingest runs, default 8; the "one" is 1),
# BENCH_INGEST_PATIENTS (existing patients the orders are for, default 20000),
# BENCH_ARGON_NEW and BENCH_ARGON_SIGNINS (new patients and sign-ins a second beside the mixed
# load in the argon2id run, default 100 and 20), BENCH_INGEST_ACCESS_CODES (the servers'
# PORTAL_INGEST_ACCESS_CODES, default on_request: new patients then cost no hash; in_answer to
# measure the default setting, one hash per new patient),
# BENCH_NOTIFY_RELEASES (reports released at once in each round's notification run, default
# 10000; 2000 with BENCH_QUICK=1): the time until every patient's email is accepted by a real SMTP
# server (Debian's python3-aiosmtpd on loopback, STARTTLS and AUTH), and the mixed load's p99 in
# windows of BENCH_DURATION while the messages go out,
# BENCH_BURST (studies one release sweep shares in each round's results-go-out burst, default
# 10000; 2000 with BENCH_QUICK=1) and BENCH_BURST_WINDOW (the seconds within which their patients
# open their pages, default 60; 20 with BENCH_QUICK=1): tests/bench/burst.py beside the mixed load.
# Each round also measures the cold detail: the detail mix against a server that keeps no page
# (PORTAL_PAGE_CACHE_MB=0), so every view runs the detail statement, as every view of a page
# changed since its last view does.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
B=${B:-build}
here=tests/bench

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    : "${BENCH_STUDIES:=50000}" "${BENCH_PATIENTS:=5000}" "${BENCH_DURATION:=4}" "${BENCH_IDLE:=10000}" "${BENCH_WARMUP:=2}"
    : "${BENCH_NOTIFY_RELEASES:=2000}" "${BENCH_BURST:=2000}" "${BENCH_BURST_WINDOW:=20}"
fi
studies=${BENCH_STUDIES:-1000000}
patients=${BENCH_PATIENTS:-100000}
small_studies=${BENCH_SMALL_STUDIES:-10000}
small_patients=$((small_studies / 10 > 0 ? small_studies / 10 : 1))
runs=${BENCH_RUNS:-3}
duration=${BENCH_DURATION:-10}
warmup=${BENCH_WARMUP:-8}
conns=${BENCH_CONNECTIONS:-64}
idle=${BENCH_IDLE:-10000}
cores=$(nproc)
wrk_threads=${BENCH_WRK_THREADS:-2}
portal_threads=${BENCH_PORTAL_THREADS:-$cores}
physicians=$((patients / 100 > 0 ? patients / 100 : 1))
ingest_many=${BENCH_INGEST_CONNECTIONS:-8}
ingest_patients=${BENCH_INGEST_PATIENTS:-20000}
notify_releases=${BENCH_NOTIFY_RELEASES:-10000}
burst=${BENCH_BURST:-10000}
burst_window=${BENCH_BURST_WINDOW:-60}
ingest_access_codes=${BENCH_INGEST_ACCESS_CODES:-on_request}
secret="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
issuer=portal-bench
audience=portal-bench

for tool in wrk nginx pgbench psql curl python3 openssl node npm; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing; run scripts/deps.sh bench" >&2; exit 1; }
done
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "bench: python3-aiosmtpd is missing; run scripts/deps.sh bench" >&2; exit 1; }
[ -x "$B/portald" ] || { echo "bench: build $B/portald first (make B=$B bench does)" >&2; exit 1; }

out=$root/$B/bench
mkdir -p "$out"
work=$(mktemp -d /tmp/portal-bench.XXXXXX)
chmod 755 "$work"
raw=$out/raw.jsonl
: >"$raw"
# The processes this script started and has not stopped yet, by name.
declare -A port pid

cleanup() {
    local rc=$?
    for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pid[@]}"; do wait "$p" 2>/dev/null || true; done
    "$root/scripts/pg.sh" stop "$work/pg" >/dev/null 2>&1 || true
    if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
        echo "bench: work directory kept: $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# ---- database -------------------------------------------------------------------------------
# fsync off, as the test clusters run: ~25 % of detail reads write an audit row, and on a shared
# virtual disk the flush of that commit, not the server, would decide every figure.
pg_fast=${BENCH_PG_FAST:-1}
say "PostgreSQL in $work/pg (fsync $([ "$pg_fast" = 1 ] && echo off || echo on))"
PG_FAST=$pg_fast scripts/pg.sh start "$work/pg" "$(free_port)" >/dev/null
url() { scripts/pg.sh url "$work/pg" "$2" | sed "s/dbname=portal /dbname=$1 /"; }
psql -X -q -v ON_ERROR_STOP=1 "$(url postgres postgres)" \
    -c "CREATE DATABASE portal_small OWNER portal_owner" >/dev/null

seed() { # DB PATIENTS STUDIES PHYSICIANS
    PORTAL_MIGRATE_DATABASE_URL="$(url "$1" portal_owner)" "$B/portald" migrate >/dev/null
    local t0=$SECONDS
    psql -X -q -v ON_ERROR_STOP=1 -v patients="$2" -v studies="$3" -v physicians="$4" \
        -f "$here/seed.sql" "$(url "$1" postgres)" >/dev/null
    say "seeded $1: $2 patients, $3 studies in $((SECONDS - t0)) s (of which the estimates model" \
        "$(psql -X -t -A "$(url "$1" postgres)" -c "SELECT round(took_ms / 1000.0) FROM portal.estimates_state") s)"
}
seed portal "$patients" "$studies" "$physicians"
seed portal_small "$small_patients" "$small_studies" "$(((small_patients + 99) / 100))"

# The results-go-out burst of each round r shares the reports of BENCH_BURST studies awaiting
# review at site bench-burst-r (the last ones by id: the notification run takes the first). Its policy waits for the physician until the round sets it to
# release a second after the report (burst_run), so no sweep shares them before, and the sweeps of
# the other servers keep skipping their scan (release_due_unlocked: nothing is ever due).
burst_prepare() {
    local t0=$SECONDS
    psql -X -q -v ON_ERROR_STOP=1 "$(url portal postgres)" >/dev/null <<SQL
UPDATE portal.studies s SET site = 'bench-burst-' || (1 + (b.n - 1) / $burst)
  FROM (SELECT id, row_number() OVER (ORDER BY id DESC) AS n FROM portal.studies
         WHERE stage = 'physician_review' AND released_version IS NULL
         ORDER BY id DESC LIMIT $((burst * runs))) b
 WHERE s.id = b.id;
INSERT INTO portal.release_policies (site, modality, auto_release_after)
SELECT 'bench-burst-' || r, '*', NULL FROM generate_series(1, $runs) r;
VACUUM ANALYZE portal.studies, portal.study_page_state;
SQL
    say "burst studies: $burst a round at sites bench-burst-1..$runs in $((SECONDS - t0)) s"
}
burst_prepare

# ---- tokens and the pgbench scripts ----------------------------------------------------------
cc -std=c11 -Wall -Wextra -Werror -Iinclude -O2 -o "$work/print_query" "$here/print_query.c" \
    "$B/obj/queries.o"
"$work/print_query" patient_study >"$work/detail_sql.txt"
"$work/print_query" page_stamp >"$work/stamp_sql.txt"
"$work/print_query" release_history >"$work/history_sql.txt"
for db in portal portal_small; do
    n=$([ $db = portal ] && echo "$patients" || echo "$small_patients")
    want=$((n < 2000 ? n : 2000))
    python3 "$here/tokens.py" "$(url $db postgres)" "$n" "$want" "$secret" "$issuer" "$audience" \
        "$work/tokens-$db.txt" >/dev/null
    python3 "$here/pgbench_script.py" "$work/detail_sql.txt" "$work/tokens-$db.txt" 16 \
        "$work/pgbench-$db"
    python3 "$here/pgbench_script.py" "$work/stamp_sql.txt" "$work/tokens-$db.txt" 16 \
        "$work/pgbench-$db" stamp
done

# ---- the ingest load -------------------------------------------------------------------------
# New orders for existing patients and physicians, named exactly as the database has them (so an
# order changes nothing about them), both ways: with PORTAL_INGEST_ACCESS_CODES=in_answer a new
# patient costs the JSON path an access code (argon2id, 19 MiB and two passes) that HL7 does not
# hand out, so new patients are left out here (the argon2id run has them).
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$work/ingest_load" "$here/ingest_load.c" -lpthread
psql -X -q -t -A -F $'\t' -v ON_ERROR_STOP=1 "$(url portal postgres)" -c "SELECT assigning_authority,
    mrn, name, birth_date FROM portal.patients WHERE merged_into IS NULL ORDER BY random()
    LIMIT $ingest_patients" >"$work/ingest-patients.tsv"
psql -X -q -t -A -F $'\t' -v ON_ERROR_STOP=1 "$(url portal postgres)" -c "SELECT id, name,
    coalesce(phone, '') FROM portal.physicians" >"$work/ingest-physicians.tsv"
ris_token=$(python3 "$here/tokens.py" --ris "$secret" "$issuer" "$audience")

# ---- servers --------------------------------------------------------------------------------
# Extra settings for the next start_portal (the notification run's SMTP settings).
portal_env=()
start_portal() { # NAME DB [HL7]: HL7 also listens for HL7 v2 on port[NAME_hl7]
    local p hl7=
    p=$(free_port)
    if [ -n "${3:-}" ]; then
        port[$1_hl7]=$(free_port)
        hl7=127.0.0.1:${port[$1_hl7]}
    fi
    env "${portal_env[@]}" \
        PORTAL_DATABASE_URL="$(url "$2" portal_app)" PORTAL_LISTEN=127.0.0.1:$p PORTAL_HL7_LISTEN=$hl7 \
        PORTAL_JWT_SECRET=$secret PORTAL_JWT_ISSUER=$issuer PORTAL_JWT_AUDIENCE=$audience \
        PORTAL_INGEST_ACCESS_CODES=$ingest_access_codes \
        PORTAL_ESTIMATES_REFRESH=86400 PORTAL_THREADS=$portal_threads PORTAL_MAX_CONNECTIONS=$((idle + 4096)) PORTAL_PER_IP_CONNECTIONS=0 PORTAL_STATIC_DIR= \
        "$B/portald" serve 2>>"$work/portald-$1.log" &
    pid[$1]=$!
    port[$1]=$p
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && { settle "$2"; return 0; }
        sleep 0.1
    done
    echo "bench: portald ($1) did not start; its log:" >&2
    tail -5 "$work/portald-$1.log" >&2
    exit 1
}
# portald's background tasks (the overdue count, the release sweep) run at start and then every
# few minutes, as in production; wait until the first round of them is done so that it does not
# land in one measurement only. The estimates model is built once by the seed (its time is
# printed there) and PORTAL_ESTIMATES_REFRESH keeps the servers from building it again within the
# run: at this size one build holds a core for minutes (docs/performance.md).
settle() { # DB
    local quiet=0 t0=$SECONDS n
    while [ $((SECONDS - t0)) -lt 600 ]; do
        n=$(psql -X -t -A "$(url "$1" postgres)" -c "SELECT count(*) FROM pg_stat_activity WHERE
            state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        if [ "$n" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
        if [ $quiet -ge 3 ]; then
            [ $((SECONDS - t0)) -lt 5 ] || say "portald's start-up tasks on $1 took $((SECONDS - t0)) s"
            return 0
        fi
        sleep 0.5
    done
    say "portald's start-up tasks on $1 still running after 600 s; measuring anyway"
}
stop_portal() {
    kill "${pid[$1]}" && wait "${pid[$1]}" 2>/dev/null || true
    unset "pid[$1]"
}

# The peer (tests/bench/peer): the same study page in Node with fastify, pg and fast-jwt, one
# worker process per portal thread, running the detail statement the portal prepares, against the
# same database as the same role. Installed from its vendored tarballs.
if [ ! -d "$here/peer/node_modules/fastify" ]; then
    (cd "$here/peer" && npm ci --offline --no-audit --no-fund >"$work/peer-npm.log" 2>&1) ||
        { echo "bench: npm ci in $here/peer failed; see $work/peer-npm.log" >&2; exit 1; }
fi
start_peer() { # DB
    local p
    p=$(free_port)
    # libpq's variables from the conninfo the portal is given ("host=... port=... ...").
    # shellcheck disable=SC2046
    env $(url "$1" portal_app | tr ' ' '\n' | sed -n 's/^host=/PGHOST=/p; s/^port=/PGPORT=/p; s/^dbname=/PGDATABASE=/p; s/^user=/PGUSER=/p') \
        PEER_PORT=$p PEER_WORKERS=$portal_threads PEER_DETAIL_SQL="$work/detail_sql.txt" \
        PEER_HISTORY_SQL="$work/history_sql.txt" PORTAL_JWT_SECRET=$secret PORTAL_JWT_ISSUER=$issuer \
        PORTAL_JWT_AUDIENCE=$audience node "$here/peer/server.mjs" 2>>"$work/peer.log" &
    pid[peer]=$!
    port[peer]=$p
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: the peer did not start; its log:" >&2
    tail -5 "$work/peer.log" >&2
    exit 1
}
start_peer portal

# The static file is a real detail answer (a study without a report, as most are).
start_portal big portal
first=$(head -1 "$work/tokens-portal.txt")
token=${first%%$'\t'*}
study=$(echo "$first" | cut -f2 | cut -d, -f1)
mkdir -p "$work/nginx/html" "$work/nginx/tmp"
curl -fs -H "Authorization: Bearer $token" \
    "http://127.0.0.1:${port[big]}/api/v1/patient/studies/$study" >"$work/nginx/html/detail.json"
detail_bytes=$(stat -c %s "$work/nginx/html/detail.json")
# The argon2id run's sign-ins: new patients with a code each, made now so that no hash of theirs
# lands in a measurement (from the ingest answer, or with on_request from the front desk's API).
python3 "$here/argon_load.py" --prepare "${port[big]}" "$ris_token" \
    "$(python3 "$here/tokens.py" --staff "$secret" "$issuer" "$audience")" 50 "$work/argon-codes.txt" ||
    { echo "bench: preparing the argon2id run's sign-in codes failed" >&2; exit 1; }
stop_portal big

port[nginx]=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $cores;
error_log $work/nginx/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    types { }
    default_type application/json;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:${port[nginx]};
        root $work/nginx/html;
    }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>>"$work/nginx/error.log" &
pid[nginx]=$!
for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:${port[nginx]}/detail.json" >/dev/null 2>&1 && break
    sleep 0.1
done

# ---- measurements ---------------------------------------------------------------------------
record() { # ROUND NAME JSON -> one line of raw.jsonl
    python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d.update(round=int(sys.argv[1]), name=sys.argv[2]); print(json.dumps(d))' \
        "$1" "$2" "$3" >>"$raw"
}

wrk_json() { # URL MIX TOKENS SECONDS -> the summary line of the Lua done()
    BENCH_TOKENS=$3 BENCH_MIX=$2 BENCH_WRK_THREADS=$wrk_threads wrk -t"$wrk_threads" -c"$conns" -d"$4"s --timeout 5s \
        -s "$root/$here/$([ "$2" = static ] && echo static || echo portal).lua" "$1" |
        grep '^{"requests"'
}

# The kept-page counters of a server's /metrics: "hit stale miss".
page_counts() {
    curl -fs "http://127.0.0.1:${port[$1]}/metrics" | awk '
        /^portal_page_cache_requests_total/ { split($1, a, "\""); n[a[2]] = $2 }
        END { printf "%d %d %d\n", n["hit"], n["stale"], n["miss"] }'
}

portal_run() { # ROUND NAME SERVER DB MIX
    local j before after
    before=$(page_counts "$3")
    j=$(wrk_json "http://127.0.0.1:${port[$3]}" "$5" "$work/tokens-$4.txt" "$duration")
    after=$(page_counts "$3")
    # shellcheck disable=SC2086
    set -- "$@" $before $after
    j=$(echo "$j" | sed "s/}\$/,\"rss_kb\":$(rss_kb "${pid[$3]}"),\"page_hit\":$((${9} - ${6})),\"page_stale\":$((${10} - ${7})),\"page_miss\":$((${11} - ${8}))}/")
    record "$1" "$2" "$j"
    : >"$work/portald-$3.log" # a request log line each: keep the disk out of the figures
    say "round $1 $2: $j"
}

# Every page the bench patients look at is viewed once, just before the server's first run, so it
# is kept (page_cache.c) as on a server that has been up a while; the table's "kept %" shows what
# each run then reused (a kept page lives at most PORTAL_PAGE_CACHE_TTL, 60 s, from when it was built).
warm_up() { # SERVER DB
    wrk_json "http://127.0.0.1:${port[$1]}" warm "$work/tokens-$2.txt" "$warmup" >/dev/null
}

peer_run() { # ROUND: the detail mix against the peer, as against the portal
    local j
    j=$(wrk_json "http://127.0.0.1:${port[peer]}" detail "$work/tokens-portal.txt" "$duration")
    j=$(echo "$j" | sed "s/}\$/,\"rss_kb\":$(ps -o rss= --ppid "${pid[peer]}" | awk '{s += $1} END {print s}')}/")
    record "$1" peer_big_detail "$j"
    say "round $1 peer_big_detail: $j"
}

db_run() { # ROUND NAME DB [STATEMENT]: the detail statement, or the page-stamp read ("stamp")
    local tps args=$work/pgbench-$3/${4:+$4.}args
    # Each pgbench client prepares each script's statement anew, and PostgreSQL plans the first five
    # executions of a prepared statement for their parameters before it settles on the generic plan
    # (the server, with one statement per connection, runs the generic plan: pg_prepared_statements
    # shows 5 custom, then generic). Those warm-up plannings of a large query would be a tenth of a
    # short run, so the ceiling goes straight to the steady state.
    # shellcheck disable=SC2046
    tps=$(PGOPTIONS="-c plan_cache_mode=force_generic_plan" pgbench -n -M prepared -c 8 -j 2 -T "$duration" $(cat "$args") \
        "$(url "$3" portal_app)" 2>&1 |
        awk '/^tps = / {print $3}')
    [ -n "$tps" ] || { echo "bench: pgbench on $3 failed" >&2; exit 1; }
    record "$1" "$2" "{\"tps\":$tps}"
    say "round $1 $2: tps $tps"
}

# The ingest load (ingest_load.c) on the big server: PROTO (hl7, json) over CONNECTIONS for SECONDS;
# prints its JSON line. Every run's ids are new: TAG is unique in the bench's database.
ingest_json() { # PROTO CONNECTIONS SECONDS TAG
    local p=${port[big]} k=()
    [ "$1" = hl7 ] && p=${port[big_hl7]}
    [ "$1" = json ] && k=(-k "$ris_token")
    "$work/ingest_load" -p "$1" -P "$p" -c "$2" -d "$3" -f "$work/ingest-patients.tsv" \
        -y "$work/ingest-physicians.tsv" -t "$4" "${k[@]}" 2>>"$work/ingest.log" || true
}

ingest_runs=0
ingest_run() { # ROUND PROTO CONNECTIONS
    local j
    ingest_runs=$((ingest_runs + 1))
    j=$(ingest_json "$2" "$3" "$duration" "r$1n$ingest_runs")
    [ -n "$j" ] || { echo "bench: ingest_load $2 failed; see $work/ingest.log" >&2; exit 1; }
    record "$1" "ingest_$2_$3" "$j"
    : >"$work/portald-big.log"
    say "round $1 ingest $2 over $3: $j"
}

# The mixed load on the warm big server without ingest, with HL7 ingest over ingest_many
# connections beside it, and with JSON ingest over as many (the ingest starts half a second before
# wrk and ends after it); the three take turns at going first from round to round.
page_ingest_run() { # ROUND
    local order=(quiet hl7 json) which j ingest_pid i
    warm_up big portal
    for i in 0 1 2; do
        which=${order[$(((i + $1 - 1) % 3))]}
        if [ "$which" = quiet ]; then
            portal_run "$1" portal_big_mixed_quiet big portal mixed
            continue
        fi
        ingest_json "$which" "$ingest_many" $((duration + 1)) "r$1p$which" >"$work/ingest-page.json" &
        ingest_pid=$!
        pid[ingest]=$ingest_pid
        sleep 0.5
        portal_run "$1" "portal_big_mixed_$which" big portal mixed
        wait "$ingest_pid" || true
        unset "pid[ingest]"
        j=$(cat "$work/ingest-page.json")
        [ -n "$j" ] || { echo "bench: ingest_load beside the page load failed; see $work/ingest.log" >&2; exit 1; }
        record "$1" "ingest_${which}_page" "$j"
        say "round $1 $which ingest beside the page load: $j"
    done
}

# The mixed load with argon2id work beside it: new patients through the JSON API (an access code
# each) and sign-ins with their codes (a verification each), offered on schedule over a pool of
# connections (tests/bench/argon_load.py), against the same load without; the two take turns at
# going first.
argon_new_per_s=${BENCH_ARGON_NEW:-100}
argon_signins_per_s=${BENCH_ARGON_SIGNINS:-20}
metric() { # SERVER NAME: the value of an unlabelled metric, empty if absent
    curl -fs "http://127.0.0.1:${port[$1]}/metrics" | awk -v m="$2" '$1 == m {print $2}'
}
# The pair's two members must meet the same server (docs/performance.md, "Three runs after the
# ingest change", found them not to). A warm-up builds only the pages not still kept, so first
# every kept page is let expire (nothing views them meanwhile): each member then starts with every
# page built by its own warm-up, and none expires during it (a kept page lives 45-60 s, the pair
# about 40). And the estimates task's round, whose statements run for seconds at this size, must
# fall in neither: when the next is due before the pair would end, the pair waits until it has run.
page_ttl=$(awk -F'"' '/"PORTAL_PAGE_CACHE_TTL"/ {print $4}' server/config.c)
estimates_round_s=$(awk '/define ROUND_MAX_S/ {print $3}' server/estimates.c)
argon_pair_start() { # ROUND
    local ended next t0 pair_s=$((2 * (warmup + duration) + 10))
    sleep "$page_ttl"
    ended=$(metric big portal_estimates_round_timestamp_seconds)
    [ -n "$ended" ] || { say "round $1: no estimates round on record; the argon2id pair starts anyway"; return 0; }
    next=$(awk -v e="$ended" -v r="$estimates_round_s" 'BEGIN {printf "%d", e + r}')
    [ $((next - $(date +%s))) -lt "$pair_s" ] || return 0
    t0=$SECONDS
    while [ "$(metric big portal_estimates_round_timestamp_seconds)" = "$ended" ] &&
        [ $((SECONDS - t0)) -lt $((estimates_round_s + 120)) ]; do
        sleep 0.5
    done
    say "round $1: waited $((SECONDS - t0)) s for the estimates round to pass before the argon2id pair"
}
argon_page_run() { # ROUND
    local j argon_pid which
    argon_pair_start "$1"
    for which in $([ $(($1 % 2)) = 1 ] && echo "quiet argon" || echo "argon quiet"); do
        warm_up big portal
        if [ "$which" = quiet ]; then
            portal_run "$1" portal_big_mixed_noargon big portal mixed
            continue
        fi
        python3 "$root/$here/argon_load.py" "${port[big]}" "$ris_token" "$argon_new_per_s" \
            "$argon_signins_per_s" $((duration + 1)) "r$1" "$work/argon-codes.txt" \
            >"$work/argon.json" 2>>"$work/argon.log" &
        argon_pid=$!
        pid[argon]=$argon_pid
        sleep 0.7 # the load under way when the page load starts
        portal_run "$1" portal_big_mixed_argon big portal mixed
        wait "$argon_pid" || true
        unset "pid[argon]"
        j=$(cat "$work/argon.json")
        [ -n "$j" ] || { echo "bench: argon_load beside the page load failed; see $work/argon.log" >&2; exit 1; }
        record "$1" argon_load "$j"
        say "round $1 argon2id load beside the page load: $j"
    done
}

idle_run() { # ROUND: opens the idle connections on the big server, loads it, closes them
    local before after ready idle_r idle_w idle_pid
    before=$(rss_kb "${pid[big]}")
    coproc IDLE { python3 "$root/$here/idle_conns.py" 127.0.0.1 "${port[big]}" "$idle" \
        "$work/tokens-portal.txt"; }
    idle_pid=$IDLE_PID idle_r=${IDLE[0]} idle_w=${IDLE[1]}
    pid[idle]=$idle_pid
    read -r -u "$idle_r" ready
    after=$(rss_kb "${pid[big]}")
    say "round $1 idle: $ready, RSS $before -> $after kB"
    set -- "$1" $ready
    record "$1" idle "{\"opened\":$3,\"failed\":$5,\"rss_before_kb\":$before,\"rss_after_kb\":$after}"
    # Compared with the mixed run taken just after the server's warm-up: warmed again here, so the
    # factor is the idle connections' and not the pages' age (every page built in the warm-up has
    # expired by now, 45-60 s after it).
    warm_up big portal
    portal_run "$1" portal_big_mixed_idle big portal mixed
    # Closing its stdin tells the tool to close every connection and exit.
    eval "exec $idle_w>&- $idle_r<&-"
    wait "$idle_pid" 2>/dev/null || true
    unset "pid[idle]"
}

# ---- notifications: releases at once, until every patient's email is accepted ---------------
# A real SMTP server on loopback (tests/notify/smtp_server.py: aiosmtpd, STARTTLS required, AUTH),
# fresh each round. Quiet hours are off and the per-recipient cap lifted (a bench patient has
# several studies), so the figure is the senders' own pace.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/smtp-key.pem" -out "$work/smtp-cert.pem" \
    -days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
smtp_password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf 'bench-mailer:%s\n' "$smtp_password" >"$work/smtp-credentials"
chmod 600 "$work/smtp-credentials"

mail_count() { find "$1" -name '*.eml' | wc -l; }
# The patients' messages of this round's releases not yet ended (sent, or cancelled because the
# patient read the result first, which the page load does for some).
notify_pending() { # TAG
    psql -X -q -t -A "$(url portal postgres)" -c "SELECT count(*) FROM portal.notifications n
        JOIN portal.releases r ON r.study_id = n.study_id AND r.request_id = '$1'
        WHERE n.kind IN ('result_ready', 'result_updated') AND n.state IN ('waiting', 'sending')"
}
notify_count() { # TAG STATE
    psql -X -q -t -A "$(url portal postgres)" -c "SELECT count(*) FROM portal.notifications n
        JOIN portal.releases r ON r.study_id = n.study_id AND r.request_id = '$1'
        WHERE n.kind IN ('result_ready', 'result_updated') AND n.state = '$2'"
}

notify_run() { # ROUND: NOTIFY_RELEASES final reports released in one transaction
    local mail=$work/mail-$1 tag=bench-notify-$1 t0 t1 n j w=0 windows=0
    port[smtp]=$(free_port)
    /usr/bin/python3 "$root/tests/notify/smtp_server.py" --port "${port[smtp]}" --dir "$mail" \
        --cert "$work/smtp-cert.pem" --key "$work/smtp-key.pem" --user bench-mailer \
        --password "$smtp_password" >"$work/smtp-$1.out" 2>>"$work/smtp.log" &
    pid[smtp]=$!
    for _ in $(seq 100); do grep -q ready "$work/smtp-$1.out" 2>/dev/null && break; sleep 0.1; done
    portal_env=(PORTAL_SMTP_URL="smtp://127.0.0.1:${port[smtp]}" PORTAL_SMTP_FROM=noreply@bench.example
        PORTAL_SMTP_CREDENTIALS_FILE="$work/smtp-credentials" PORTAL_SMTP_CA_FILE="$work/smtp-cert.pem"
        PORTAL_PUBLIC_URL=https://results.bench.example PORTAL_QUIET_HOURS= PORTAL_NOTIFY_RATE_CAP=0)
    start_portal notify portal
    portal_env=()
    warm_up notify portal
    t0=$(date +%s.%N)
    n=$(psql -X -q -t -A -v ON_ERROR_STOP=1 "$(url portal postgres)" -c "SELECT count(*) FROM
        (SELECT id, referring_physician_id FROM portal.studies WHERE reviewable_version IS NOT NULL
          AND released_version IS NULL ORDER BY id LIMIT $notify_releases) s
        CROSS JOIN LATERAL portal.release_report(s.id, s.referring_physician_id, NULL, '$tag',
                                                 NULL) r")
    t1=$(date +%s.%N)
    say "round $1 notify: $n releases committed in $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"
    # The mixed load in windows while the messages go out (at most 20 windows).
    while [ "$(notify_pending "$tag")" -gt 0 ] && [ $windows -lt 20 ]; do
        j=$(wrk_json "http://127.0.0.1:${port[notify]}" mixed "$work/tokens-portal.txt" "$duration")
        windows=$((windows + 1))
        record "$1" "portal_big_mixed_notify_$windows" "$j"
    done
    while [ "$(notify_pending "$tag")" -gt 0 ] && [ $w -lt 600 ]; do sleep 1; w=$((w + 1)); done
    j="{\"released\":$n,\"commit_s\":$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"),\"accepted\":$(mail_count "$mail"),\"sent\":$(notify_count "$tag" sent),\"cancelled_read\":$(notify_count "$tag" cancelled),\"pending\":$(notify_pending "$tag"),\"all_accepted_s\":$(python3 -c "
import os, sys
d = sys.argv[1]
print('%.2f' % (max(os.stat(os.path.join(d, f)).st_mtime for f in os.listdir(d) if f.endswith('.eml')) - float(sys.argv[2])))" "$mail" "$t0"),\"load_windows\":$windows}"
    record "$1" notify "$j"
    say "round $1 notify: $j"
    stop_portal notify
    kill "${pid[smtp]}" && wait "${pid[smtp]}" 2>/dev/null || true
    unset "pid[smtp]"
    rm -rf "$mail"
}

# ---- the cold detail and the results-go-out burst --------------------------------------------
# The detail mix against a server that keeps no page: every view runs the detail statement, as
# the first view of a page changed since its last view does (that one also reads the stamps of the
# page it kept, a primary-key read).
cold_run() { # ROUND
    portal_env=(PORTAL_PAGE_CACHE_MB=0 PORTAL_RELEASE_SWEEP=0)
    start_portal cold portal
    portal_env=()
    portal_run "$1" portal_big_cold cold portal detail
    stop_portal cold
}

# One release sweep shares BENCH_BURST reports (portal.release_due, as the server's sweep calls
# it); then, while the 80/15/5 mix runs on the warm server, each of those patients opens that
# study's page once, all within BENCH_BURST_WINDOW seconds (tests/bench/burst.py). The server
# does not sweep by itself, so the one sweep is the bench's.
burst_run() { # ROUND
    local site=bench-burst-$1 tag=bench-burst-$1 t0 t1 rel j mix_pid
    local super
    super=$(url portal postgres)
    psql -X -q -v ON_ERROR_STOP=1 "$super" -c "UPDATE portal.release_policies
        SET auto_release_after = interval '1 second' WHERE site = '$site'" >/dev/null
    psql -X -q -t -A -F $'\t' -v ON_ERROR_STOP=1 "$super" -c "SELECT patient_id, id FROM portal.studies
        WHERE site = '$site' AND released_version IS NULL ORDER BY md5(id::text)" >"$work/burst-$1.tsv"
    python3 "$here/tokens.py" --pages "$secret" "$issuer" "$audience" "$work/burst-$1.tsv" \
        "$work/burst-pages-$1.txt"
    portal_env=(PORTAL_RELEASE_SWEEP=0)
    start_portal burst portal
    portal_env=()
    warm_up burst portal
    t0=$(date +%s.%N)
    rel=$(psql -X -q -t -A -v ON_ERROR_STOP=1 "$super" -c "SELECT released FROM portal.release_due($burst, '$tag')")
    t1=$(date +%s.%N)
    say "round $1 burst: $rel releases by one sweep in $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"
    wrk_json "http://127.0.0.1:${port[burst]}" mixed "$work/tokens-portal.txt" $((burst_window + 2)) \
        >"$work/burst-mix.json" &
    mix_pid=$!
    pid[burst_mix]=$mix_pid
    sleep 0.5
    j=$(python3 "$root/$here/burst.py" 127.0.0.1 "${port[burst]}" "$work/burst-pages-$1.txt" "$burst_window")
    wait "$mix_pid" || true
    unset "pid[burst_mix]"
    j=$(echo "$j" | sed "s/}\$/,\"released\":${rel:-0},\"sweep_s\":$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")}/")
    record "$1" burst "$j"
    say "round $1 burst: $j"
    j=$(cat "$work/burst-mix.json")
    [ -n "$j" ] || { echo "bench: the mixed load beside the burst failed" >&2; exit 1; }
    record "$1" portal_big_mixed_burst "$j"
    say "round $1 mixed load beside the burst: $j"
    stop_portal burst
    psql -X -q -v ON_ERROR_STOP=1 "$super" -c "UPDATE portal.release_policies
        SET auto_release_after = NULL WHERE site = '$site'" >/dev/null
}

loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at start: $loadavg_start; $runs rounds of ${duration}s runs"
for r in $(seq "$runs"); do
    # Fresh servers each round, so the idle connections' cost is not hidden by memory an earlier
    # round left in the allocator.
    start_portal big portal hl7
    start_portal small portal_small
    j=$(wrk_json "http://127.0.0.1:${port[nginx]}/detail.json" static /dev/null "$duration")
    record "$r" http_ceiling "$j"
    say "round $r http_ceiling: $j"
    db_run "$r" db_big portal
    db_run "$r" db_stamp_big portal stamp
    warm_up big portal
    # The portal and its peer on the same page, alternating which goes first.
    if [ $((r % 2)) = 1 ]; then
        portal_run "$r" portal_big_detail big portal detail
        peer_run "$r"
    else
        peer_run "$r"
        portal_run "$r" portal_big_detail big portal detail
    fi
    portal_run "$r" portal_big_mixed big portal mixed
    cold_run "$r"
    # The FHIR API's report search against the JSON list, same patients, alternating first.
    if [ $((r % 2)) = 1 ]; then
        portal_run "$r" portal_big_list big portal list
        portal_run "$r" portal_big_fhir big portal fhir
    else
        portal_run "$r" portal_big_fhir big portal fhir
        portal_run "$r" portal_big_list big portal list
    fi
    idle_run "$r"
    db_run "$r" db_small portal_small
    db_run "$r" db_stamp_small portal_small stamp
    warm_up small portal_small
    portal_run "$r" portal_small_detail small portal_small detail
    portal_run "$r" portal_small_mixed small portal_small mixed
    # Ingest last in the round, so that its writes to the big database do not land in this round's
    # other figures; the two ways alternate which goes first.
    for n in 1 "$ingest_many"; do
        if [ $((r % 2)) = 1 ]; then
            ingest_run "$r" json "$n"
            ingest_run "$r" hl7 "$n"
        else
            ingest_run "$r" hl7 "$n"
            ingest_run "$r" json "$n"
        fi
    done
    page_ingest_run "$r"
    argon_page_run "$r"
    stop_portal big
    stop_portal small
    notify_run "$r"
    burst_run "$r"
done
loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)

cat >"$out/config.json" <<JSON
{"studies": $studies, "patients": $patients, "small_studies": $small_studies,
 "small_patients": $small_patients, "rounds": $runs, "duration_s": $duration,
 "connections": $conns, "wrk_threads": $wrk_threads, "idle_connections": $idle,
 "cores": $cores, "portal_threads": $portal_threads, "detail_answer_bytes": $detail_bytes,
 "pgbench_clients": 8, "pg_fast": $pg_fast, "warmup_s": $warmup,
 "ingest_connections": $ingest_many, "ingest_patients": $(wc -l <"$work/ingest-patients.tsv"),
 "notify_releases": $notify_releases, "burst": $burst, "burst_window_s": $burst_window,
 "hl7_workers": $(awk '/define HL7_WORKERS/ {print $3}' include/hl7_listener.h),
 "ingest_access_codes": "$ingest_access_codes",
 "loadavg_start": "$loadavg_start", "loadavg_end": "$loadavg_end",
 "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
 "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
JSON
python3 "$here/report.py" "$raw" "$out/config.json" "$out/results.json"
echo "results: $out/results.json"
