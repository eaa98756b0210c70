#!/usr/bin/env bash
# The message catalogues (docs/languages.md): po/portal.pot holds every message the C sources and
# the pages have, and no message of es or fr is untranslated or fuzzy (msgfmt --statistics), or
# drops or adds a placeholder. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
exec scripts/po.sh check
