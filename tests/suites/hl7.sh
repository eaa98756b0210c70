#!/usr/bin/env bash
# The HL7 v2 listener against a client nobody here wrote: Debian's python3-hl7 (its MLLPClient
# and the mllp_send command) sends the corpus in tests/hl7/corpus and the story; the tests check
# the ACKs and what the portal then shows. Runs under Debian's python3, where python3-hl7 installs.
# Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
py=/usr/bin/python3
if ! "$py" -c 'import hl7.client' 2>/dev/null; then
    echo "not ok - python3-hl7 is not installed (scripts/deps.sh test installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi
exec "$py" tests/integration/run.py --dir tests/hl7 "$@"
