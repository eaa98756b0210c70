#!/usr/bin/env bash
# Faults proven survivable (tests/faults/test_faults.py): PostgreSQL crashed 10 times during 1,000
# releases from 8 clients, portald SIGKILLed twice during 1,000 ingests; exactly-once checks on
# what was acknowledged and on the audit rows. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/integration/run.py --dir tests/faults "$@"
