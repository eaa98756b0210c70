#!/usr/bin/env bash
# The production shape with the real programs (nginx over TLS, two portald, a PostgreSQL primary
# and a streaming standby), all on loopback: tests/deploy/deploy_test.py. Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
export B=${B:-build}
for tool in nginx openssl jq psql; do
    if ! command -v "$tool" >/dev/null; then
        echo "not ok - deploy suite needs $tool (scripts/deps.sh test installs it)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
if [ ! -x "$B/asan/portald" ]; then
    echo "not ok - $B/asan/portald is not built (make B=$B $B/asan/portald)"
    echo "0 passed, 1 failed"
    exit 1
fi
# Run alone, the suite makes (and removes) its own temp dir; under tests/run.sh it uses that one.
if [ -z "${PORTAL_TEST_TMP:-}" ]; then
    PORTAL_TEST_TMP=$(mktemp -d /tmp/portal-deploy.XXXXXX)
    export PORTAL_TEST_TMP
    [ -n "${KEEP_TMP:-}" ] || trap 'rm -rf "$PORTAL_TEST_TMP"' EXIT
fi
chmod 755 "$PORTAL_TEST_TMP"
python3 tests/deploy/deploy_test.py "$@"
