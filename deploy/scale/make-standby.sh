#!/usr/bin/env bash
# Makes a streaming hot standby of a running primary with pg_basebackup: copies the cluster over
# the replication protocol and writes standby.signal and primary_conninfo (-R), so starting the
# new data directory starts a read-only replica that follows the primary.
#   deploy/scale/make-standby.sh PRIMARY_HOST PRIMARY_PORT NEW_DATA_DIR [SLOT]
# Run it as the postgres user on the standby machine, with PGUSER (a role WITH REPLICATION
# LOGIN) and PGPASSWORD (or a ~/.pgpass entry) set. On the primary, pg_hba.conf needs
#   host replication replicator STANDBY_ADDRESS/32 scram-sha-256
# With SLOT, a physical replication slot of that name is created and used, so the primary keeps
# the WAL the standby has not received yet (watch its disk: see docs/operations.md).
# Then start it (pg_ctl -D NEW_DATA_DIR start, or pg_ctlcluster) and point portald's
# PORTAL_DATABASE_READ_URL at it.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
host=${1:?primary host}
port=${2:?primary port}
data=${3:?new data directory}
slot=${4:-}

[ -e "$data" ] && [ -n "$(ls -A "$data" 2>/dev/null)" ] && {
    echo "make-standby: $data is not empty; refusing to overwrite it" >&2
    exit 1
}
args=(-h "$host" -p "$port" -D "$data" -R -X stream --checkpoint=fast --no-password)
[ -n "$slot" ] && args+=(-C -S "$slot")
"$PGBIN/pg_basebackup" "${args[@]}"
chmod 700 "$data"
echo "make-standby: $data is a standby of $host:$port; start it with pg_ctl -D $data start" >&2
