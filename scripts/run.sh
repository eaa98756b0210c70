#!/usr/bin/env bash
# `make run`: the private PostgreSQL under var/, migrations, demo data, then the server on
# http://127.0.0.1:8080 (PORTAL_LISTEN to change) until Ctrl-C. Safe to run again: the cluster,
# its data and the signing secret are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
mkdir -p var
scripts/pg.sh start var/pg "${PORTAL_PG_PORT:-5433}"
if [ ! -s var/jwt_secret ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n=+/' >var/jwt_secret)
fi
PORTAL_MIGRATE_DATABASE_URL=$(scripts/pg.sh url var/pg portal_owner)
PORTAL_DATABASE_URL=$(scripts/pg.sh url var/pg portal_app)
PORTAL_JWT_SECRET=$(cat var/jwt_secret)
export PORTAL_MIGRATE_DATABASE_URL PORTAL_DATABASE_URL PORTAL_JWT_SECRET
export PORTAL_LISTEN=${PORTAL_LISTEN:-127.0.0.1:8080}
"$B/portald" migrate
# Synthetic turnaround history (idempotent), so the demo studies show estimates at once. It writes
# studies, report versions and releases directly, which only the owner may (portal_app releases
# only through portal.release_report and the policy sweep): it connects as portal_owner.
PORTAL_DATABASE_URL=$PORTAL_MIGRATE_DATABASE_URL "$B/portald" seed-history >/dev/null
echo
echo "The results portal is at http://$PORTAL_LISTEN (patients) and http://$PORTAL_LISTEN/physician"
"$B/portald" seed-demo
echo "Stop with Ctrl-C; 'make stop' stops the private PostgreSQL."
echo
exec "$B/portald" serve
