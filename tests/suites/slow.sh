#!/usr/bin/env bash
# Slow clients (tests/slow/test_slow_clients.py): Debian's slowhttptest with 1,000 slow sockets
# (slow headers, then slow bodies) against portald directly, a legitimate client's p99 alongside.
# Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/integration/run.py --dir tests/slow "$@"
