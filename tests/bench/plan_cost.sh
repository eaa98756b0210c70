#!/usr/bin/env bash
# Prints the total cost of the generic plan of one statement printed by print_query ("NPARAMS
# SQL"), as portal_app would run it: `plan_cost.sh STATEMENT_FILE DSN`. The server runs its page
# statements at their generic plans, thousands of times; the planner compiles a plan (JIT) when
# that cost passes jit_above_cost, which for a statement of index probes costs more than it runs.
set -euo pipefail
read -r nparams sql <"$1"
args=$(python3 -c "import sys; print(', '.join(['NULL'] * int(sys.argv[1])))" "$nparams")
psql -X -q -t -A -v ON_ERROR_STOP=1 "$2" <<SQL | python3 -c 'import json, sys; print(json.loads(sys.stdin.read())[0]["Plan"]["Total Cost"])'
SET plan_cache_mode = force_generic_plan;
PREPARE q AS $sql;
EXPLAIN (FORMAT JSON) EXECUTE q${args:+($args)};
SQL
