#!/usr/bin/env bash
# A throwaway PostgreSQL for one test run: `tests/lib/pg_throwaway.sh start DIR` prints the
# owner and app connection strings (two lines); `restart DIR [ENV]` starts it again with ENV
# (VAR=value words) in its server's environment; `stop DIR` stops it and removes DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cmd=$1
dir=$2
case $cmd in
start)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    PG_FAST=1 "$here/scripts/pg.sh" start "$dir" "$port" >&2
    "$here/scripts/pg.sh" url "$dir" portal_owner
    "$here/scripts/pg.sh" url "$dir" portal_app
    ;;
restart)
    # The same cluster, port and migrated database, so a test can run again under another
    # server environment (tests/sql.sh: a faked clock) without migrating again.
    "$here/scripts/pg.sh" stop "$dir" >&2
    PG_FAST=1 PG_SERVER_ENV=${3:-} "$here/scripts/pg.sh" start "$dir" "$(cat "$dir/port")" >&2
    ;;
stop)
    "$here/scripts/pg.sh" stop "$dir" >&2 || true
    rm -rf "$dir"
    ;;
esac
