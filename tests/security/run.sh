#!/usr/bin/env bash
# make security: sqlmap on every endpoint (tests/security/sqlmap_all.py), the forged-token and
# cross-person matrices (tests/security/test_matrices.py, also in make test), and the slow-client
# test with its p99 ratio asserted (SLOW_STRICT=1). Ends with "N passed, N failed" over all three.
set -uo pipefail
cd "$(dirname "$0")/../.."
export B=${B:-build}
TMP=$(mktemp -d /tmp/portal-security.XXXXXX)
chmod 755 "$TMP"
export PORTAL_TEST_TMP=$TMP
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
run() {
    local log="$TMP/$1.log"
    shift
    "$@" 2>&1 | tee "$log" | grep -E '^(ok|not ok|#)'
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    [ -n "$line" ] || line="0 passed, 1 failed"
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
}
run sqlmap python3 tests/security/sqlmap_all.py
run matrices python3 tests/integration/run.py --dir tests/security
SLOW_STRICT=1 run slow python3 tests/integration/run.py --dir tests/slow
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
