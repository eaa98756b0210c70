#!/usr/bin/env bash
# The private PostgreSQL: a cluster in a directory of our own, on a unix socket beside it and a
# loopback port, with the portal's two roles and its database. Used by `make run` (var/pg) and by
# the tests (a throwaway cluster in a temp dir).
#   scripts/pg.sh init  DIR         create the cluster (no-op when it exists)
#   scripts/pg.sh start DIR PORT    start it (no-op when running), create roles and database
#   scripts/pg.sh stop  DIR         stop it (no-op when stopped)
#   scripts/pg.sh url   DIR ROLE    print the libpq connection string for portal_owner or portal_app
# DIR/data is the cluster, DIR/run holds the socket. PG_FAST=1 trades durability for speed (tests).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 init|start|stop|url DIR [PORT|ROLE]" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data
run=$dir/run

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The postgres user must be able to reach DIR; under /root it cannot. Grant it traversal only (an
# ACL entry for that one user) on each ancestor that blocks it, and say so.
grant_traversal() {
    [ "$(id -u)" = 0 ] || return 0
    local d=$dir
    while [ "$d" != / ]; do
        d=$(dirname "$d")
        if ! runuser -u postgres -- test -x "$d"; then
            setfacl -m u:postgres:x "$d"
            echo "pg: granted the postgres user traversal (x) of $d so it can reach $dir" >&2
        fi
    done
}

do_init() {
    [ -f "$data/PG_VERSION" ] && return 0
    grant_traversal
    mkdir -p "$data" "$run"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir" "$data" "$run"
    chmod 700 "$data" "$run"
    local sync=()
    [ "${PG_FAST:-0}" = 1 ] && sync=(--no-sync)
    as_owner "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 "${sync[@]}" >"$dir/initdb.log"
    # Only local socket connections (the socket directory is private to the cluster's owner) are
    # trusted; TCP on loopback needs a password.
    cat >"$data/pg_hba.conf" <<'HBA'
local   all all                 trust
host    all all 127.0.0.1/32    scram-sha-256
host    all all ::1/128         scram-sha-256
host    replication all 127.0.0.1/32 scram-sha-256
HBA
    cat >>"$data/postgresql.conf" <<CONF
# --- the portal's settings ---
unix_socket_directories = '$run'
listen_addresses = '127.0.0.1'
max_connections = 200
# Health data stays out of PostgreSQL's own log: no bind parameters, ever.
log_parameter_max_length = 0
log_parameter_max_length_on_error = 0
# A failed constraint's DETAIL line quotes the failing row, which can be report text.
log_error_verbosity = terse
log_statement = 'none'
log_min_duration_statement = -1
logging_collector = off
password_encryption = 'scram-sha-256'
shared_buffers = '256MB'
CONF
    if [ "${PG_FAST:-0}" = 1 ]; then
        printf '%s\n' 'fsync = off' 'full_page_writes = off' 'shared_buffers = 64MB' >>"$data/postgresql.conf"
    fi
}

running() { as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; }

psql_super() { as_owner psql -X -q -v ON_ERROR_STOP=1 -h "$run" -p "$(cat "$dir/port")" -U postgres "$@"; }

do_start() {
    local port=${3:-5433}
    do_init
    if ! running; then
        echo "$port" >"$dir/port"
        # PG_SERVER_ENV (tests only): VAR=value words for the server alone, e.g. a faked clock.
        # shellcheck disable=SC2086
        as_owner env ${PG_SERVER_ENV:-} "$PGBIN/pg_ctl" -D "$data" -l "$dir/postgres.log" -o "-p $port" -w -t 60 start >/dev/null
    fi
    # Roles and database, created once. portal_owner owns the schema (migrations run as it);
    # portal_app is what `portald serve` connects as: it owns nothing and gets only grants.
    psql_super -d postgres <<'SQL'
SELECT 'CREATE ROLE portal_owner LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portal_owner') \gexec
SELECT 'CREATE ROLE portal_app LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portal_app') \gexec
SELECT 'CREATE DATABASE portal OWNER portal_owner' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'portal') \gexec
SQL
    psql_super -d portal -c 'REVOKE ALL ON SCHEMA public FROM PUBLIC' -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >/dev/null 2>&1 || true
}

do_stop() {
    [ -f "$data/PG_VERSION" ] || return 0
    running || return 0
    as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
}

case $cmd in
init) do_init ;;
start) do_start "$@" ;;
stop) do_stop ;;
url) echo "host=$run port=$(cat "$dir/port") dbname=portal user=${3:-portal_app}" ;;
*) echo "unknown command: $cmd" >&2; exit 2 ;;
esac
