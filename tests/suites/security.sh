#!/usr/bin/env bash
# The forged-token and cross-person matrices (tests/security/test_matrices.py); sqlmap runs in
# make security only. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/integration/run.py --dir tests/security "$@"
