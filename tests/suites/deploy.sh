#!/usr/bin/env bash
# The production shape with the real programs (nginx over TLS, two portald, a PostgreSQL primary
# and a streaming standby, HL7 over TLS through nginx's stream module), all on loopback:
# tests/deploy/deploy_test.py. Ends with "N passed, N failed".
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
# The HL7 over TLS test needs nginx's stream module (Debian builds it as a loadable module).
if [ ! -f /usr/lib/nginx/modules/ngx_stream_module.so ]; then
    echo "not ok - deploy suite needs nginx's stream module, libnginx-mod-stream (scripts/deps.sh test installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi
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
