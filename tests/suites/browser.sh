#!/usr/bin/env bash
# Browser tests: Debian's chromium, driven by playwright-core, walks the whole story through the
# pages in static/ against the ASan portald and a throwaway PostgreSQL, runs axe-core on every
# page state, and writes screenshots under $B/screenshots/. Any sanitizer line in the server's
# log fails the run. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
B=${B:-build}
BIN=$ROOT/$B/asan/portald
SHOTS=$ROOT/$B/screenshots
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

fail_early() {
    echo "not ok - browser suite setup: $1"
    echo "0 passed, 1 failed"
    exit 1
}

[ -x "$BIN" ] || fail_early "$BIN is not built (make B=$B $B/asan/portald)"
[ -x "$CHROMIUM" ] || fail_early "no $CHROMIUM (scripts/deps.sh test installs Debian's chromium)"
command -v node >/dev/null || fail_early "no node (scripts/deps.sh test installs nodejs)"
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
    npm_log=$(mktemp "${PORTAL_TEST_TMP:-/tmp}/npm.XXXXXX")
    # Node trusts only its bundled CAs; also trust the system's (a proxy's CA installed there).
    if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
        export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
    fi
    (cd tests/browser && npm ci --offline --no-audit --no-fund >"$npm_log" 2>&1) ||
        fail_early "npm ci in tests/browser failed: $(tail -15 "$npm_log" | tr '\n' ' ')"
fi

TMP=$(mktemp -d "${PORTAL_TEST_TMP:-/tmp}/browser.XXXXXX")
chmod 755 "$TMP"
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    tests/lib/pg_throwaway.sh stop "$TMP/pg" 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

urls=$(tests/lib/pg_throwaway.sh start "$TMP/pg" 2>"$TMP/pg.log") || fail_early "PostgreSQL did not start"
owner_url=$(echo "$urls" | sed -n 1p)
app_url=$(echo "$urls" | sed -n 2p)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}
export PORTAL_MIGRATE_DATABASE_URL=$owner_url
export PORTAL_DATABASE_URL=$app_url
export PORTAL_LISTEN=127.0.0.1:$port
export PORTAL_JWT_SECRET=browser-test-secret-$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
export PORTAL_JWT_ISSUER=portal-browser-test
export PORTAL_JWT_AUDIENCE=portal-browser-test-aud
export PORTAL_STATIC_DIR=$ROOT/static
export PORTAL_THREADS=2

"$BIN" migrate >"$TMP/migrate.log" 2>&1 || fail_early "migrate failed: $(tail -3 "$TMP/migrate.log")"
# MR exams at the main site let patients choose when their results are shared (the story's booked
# MR shows that choice); ultrasounds at the site lg-auto are shared as soon as they are final (the
# languages script's report released by policy); everything else keeps the default policy, which
# waits for the physician.
psql -X -q -v ON_ERROR_STOP=1 "$owner_url" -c "INSERT INTO portal.release_policies
    (site, modality, patient_preference_allowed, max_patient_delay) VALUES ('main', 'MR', true, '14 days');
    INSERT INTO portal.release_policies (site, modality, mode) VALUES ('lg-auto', 'US', 'immediate')" \
    >"$TMP/policy.log" 2>&1 || fail_early "the MR policy was not saved: $(tail -3 "$TMP/policy.log")"
# Synthetic history, so the pages show real estimates as they do after `make run`.
"$BIN" seed-history >"$TMP/history.log" 2>&1 || fail_early "seed-history failed: $(tail -3 "$TMP/history.log")"
"$BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 || fail_early "portald did not start: $(tail -5 "$TMP/server.log")"

mkdir -p "$SHOTS"
RIS_TOKEN=$("$BIN" token --role ris --sub test-ris) || fail_early "portald token failed"

# The staff console's story first (issue 17): story.mjs ends by stopping the database and the
# server. It makes its own staff accounts with `portald staff-add` (as the owner) and uses a site
# of its own, so story.mjs's studies and policies are untouched.
PORTAL_URL="http://127.0.0.1:$port" PORTALD="$BIN" RIS_TOKEN="$RIS_TOKEN" SCREENSHOTS="$SHOTS" \
    CHROMIUM="$CHROMIUM" timeout 300 node tests/browser/story_staff.mjs | tee "$TMP/story_staff.out"
staff_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$TMP/story_staff.out" | tail -1)
staff_passed=$(echo "${staff_line:-0 passed, 1 failed}" | awk '{print $1}')
staff_failed=$(echo "${staff_line:-0 passed, 1 failed}" | awk '{print $3}')
[ -n "$staff_line" ] || echo "not ok - the staff story ended without a result line"

# Every page state in Spanish and French, also before the story, which ends by stopping the
# database and the server. Its own patients and physicians (LG-*) are not the story's.
PORTAL_URL="http://127.0.0.1:$port" PORTALD="$BIN" RIS_TOKEN="$RIS_TOKEN" SCREENSHOTS="$SHOTS" \
    CHROMIUM="$CHROMIUM" timeout 240 node tests/browser/languages.mjs | tee "$TMP/languages.out"
lang_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$TMP/languages.out" | tail -1)
[ -n "$lang_line" ] || echo "not ok - the languages script ended without a result line"
lang_passed=$(echo "${lang_line:-0 passed, 1 failed}" | awk '{print $1}')
lang_failed=$(echo "${lang_line:-0 passed, 1 failed}" | awk '{print $3}')

# The story script seeds through the ingest API, sets the physician's password with `portald
# set-password`, and at the end stops the database and then the server to see the pages' outage
# and network-failure messages.
PORTAL_URL="http://127.0.0.1:$port" PORTALD="$BIN" RIS_TOKEN="$RIS_TOKEN" SCREENSHOTS="$SHOTS" \
    CHROMIUM="$CHROMIUM" PG_DIR="$TMP/pg" SERVER_PID="$SERVER_PID" USER_DATA_DIR="$TMP/chromium" \
    timeout 300 node tests/browser/story.mjs | tee "$TMP/story.out"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$TMP/story.out" | tail -1)
passed=$(echo "${line:-0 passed, 1 failed}" | awk '{print $1}')
failed=$(echo "${line:-0 passed, 1 failed}" | awk '{print $3}')
[ -n "$line" ] || echo "not ok - the story script ended without a result line"
passed=$((passed + staff_passed))
failed=$((failed + staff_failed))
passed=$((passed + lang_passed))
failed=$((failed + lang_failed))

# The server may already be stopped by the story; make sure it is, so LeakSanitizer has run.
if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
fi
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=

# The proxy story (issue 16) on the same database, started again after the story's outage, and a
# new server whose log is checked with the first.
PG_FAST=1 scripts/pg.sh start "$TMP/pg" "$(cat "$TMP/pg/port")" >>"$TMP/pg.log" 2>&1 ||
    echo "not ok - PostgreSQL did not start again for the proxy story"
"$BIN" serve >>"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
PORTAL_URL="http://127.0.0.1:$port" PORTALD="$BIN" RIS_TOKEN="$RIS_TOKEN" SCREENSHOTS="$SHOTS" \
    CHROMIUM="$CHROMIUM" timeout 300 node tests/browser/story_proxy.mjs | tee "$TMP/story_proxy.out"
pline=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$TMP/story_proxy.out" | tail -1)
[ -n "$pline" ] || echo "not ok - the proxy story script ended without a result line"
passed=$((passed + $(echo "${pline:-0 passed, 1 failed}" | awk '{print $1}')))
failed=$((failed + $(echo "${pline:-0 passed, 1 failed}" | awk '{print $3}')))
if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
fi
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' "$TMP/server.log"; then
    echo "not ok - sanitizer report in the server log:"
    grep -E -A12 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' "$TMP/server.log" | head -40 | sed 's/^/#   /'
    failed=$((failed + 1))
else
    echo "ok - no sanitizer report in the server log"
    passed=$((passed + 1))
fi
echo "screenshots: $SHOTS"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
