#!/usr/bin/env bash
# docs/openapi.yaml against the OpenAPI 3.0 schema and against the route table and handlers
# (tests/openapi/check.py), then the checker against broken copies of the document, so a check
# that could never fail would show here. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
# Debian's python3, where python3-yaml, python3-jsonschema and openapi-specification install.
py=/usr/bin/python3
[ -x "$py" ] || py=python3

passed=0
failed=0
tmp=$(mktemp -d "${PORTAL_TEST_TMP:-/tmp}/openapi.XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT

out=$("$py" tests/openapi/check.py . 2>&1)
echo "$out" | grep -E '^(ok|not ok)'
line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
if [ -z "$line" ]; then
    echo "not ok - tests/openapi/check.py ran to the end"
    echo "$out" | tail -10 | sed 's/^/# /'
    failed=$((failed + 1))
else
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
fi

# A copy of what the checker reads, broken one way per case; the checker must refuse each.
must_refuse() {
    local name=$1 script=$2
    case_no=$((${case_no:-0} + 1))
    local root=$tmp/case$case_no
    mkdir -p "$root/docs"
    cp -r server sql "$root/"
    cp docs/openapi.yaml "$root/docs/"
    "$py" - "$root/docs/openapi.yaml" <<<"$script"
    if "$py" tests/openapi/check.py "$root" >"$root/out" 2>&1; then
        echo "not ok - the checker refuses a document with $name"
        failed=$((failed + 1))
    elif ! grep -q '^not ok' "$root/out"; then
        echo "not ok - the checker refuses a document with $name (it crashed instead)"
        tail -5 "$root/out" | sed 's/^/# /'
        failed=$((failed + 1))
    else
        echo "ok - the checker refuses a document with $name"
        passed=$((passed + 1))
    fi
}

must_refuse "a route missing" '
import sys, yaml
p = sys.argv[1]; d = yaml.safe_load(open(p))
del d["paths"]["/api/v1/patient/studies/{id}"]
yaml.safe_dump(d, open(p, "w"))'

must_refuse "an operation the server lacks" '
import sys, yaml
p = sys.argv[1]; d = yaml.safe_load(open(p))
d["paths"]["/api/v1/patient/studies"]["delete"] = {"operationId": "x", "responses": {"204": {"description": "gone"}}}
yaml.safe_dump(d, open(p, "w"))'

must_refuse "a status the handler never answers" '
import sys, yaml
p = sys.argv[1]; d = yaml.safe_load(open(p))
d["paths"]["/healthz"]["get"]["responses"]["404"] = {"$ref": "#/components/responses/NotFound"}
yaml.safe_dump(d, open(p, "w"))'

must_refuse "a status the handler answers left out" '
import sys, yaml
p = sys.argv[1]; d = yaml.safe_load(open(p))
del d["paths"]["/api/v1/physician/studies/{id}/release"]["post"]["responses"]["409"]
yaml.safe_dump(d, open(p, "w"))'

must_refuse "a request schema open to unknown fields" '
import sys, yaml
p = sys.argv[1]; d = yaml.safe_load(open(p))
del d["components"]["schemas"]["IngestEvent"]["properties"]["patient"]["additionalProperties"]
yaml.safe_dump(d, open(p, "w"))'

must_refuse "an answer without a description (invalid OpenAPI)" '
import sys, yaml
p = sys.argv[1]; d = yaml.safe_load(open(p))
d["paths"]["/readyz"]["get"]["responses"]["200"] = {"content": {}}
yaml.safe_dump(d, open(p, "w"))'

must_refuse "a dangling \$ref" '
import sys, yaml
p = sys.argv[1]; d = yaml.safe_load(open(p))
d["paths"]["/readyz"]["get"]["responses"]["503"] = {"$ref": "#/components/responses/Nowhere"}
yaml.safe_dump(d, open(p, "w"))'

must_refuse "the wrong role" '
import sys, yaml
p = sys.argv[1]; d = yaml.safe_load(open(p))
d["paths"]["/api/v1/ingest/events"]["post"]["x-roles"] = ["patient"]
yaml.safe_dump(d, open(p, "w"))'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
