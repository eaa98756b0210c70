#!/usr/bin/python3
"""Checks docs/openapi.yaml against the OpenAPI 3.0 JSON Schema and against the code, so the two
cannot drift: every row of the route table in server/routes.c is an operation and the other way
round, with the same role, body limit and exactly the statuses its handler can answer. It also checks
that README.md names every source file and every PORTAL_* variable the server reads.

The statuses a handler can answer are read from the source: literal statuses in req_problem(),
req_json() and `? 201 : 200` in the handler and the functions it calls, in its own file or in a
helper module such as server/session.c (not in the request machinery, modelled below); 422 when it
validates fields (v_*); 500 and 503 when it runs SQL (req_run, db_exec); the PTnnn errors the
SQL functions it calls raise (sql/definitions, followed through nested calls); 401 and 403 when the
route has a role; 400, 413 and 415 when it takes a JSON body (413 for a form body); 500 always (out of memory).

Usage: tests/openapi/check.py [ROOT]. Prints "ok - ..." / "not ok - ..." lines and, last,
"N passed, N failed". Needs Debian's python3-yaml, python3-jsonschema and openapi-specification.
"""
import glob
import json
import os
import re
import sys

import jsonschema
import yaml

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC = os.path.join(ROOT, "docs", "openapi.yaml")
OAS_SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ROLE_NAMES = {"ROLE_PATIENT": "patient", "ROLE_PHYSICIAN": "physician", "ROLE_RIS": "ris", "ROLE_ADMIN": "admin",
              "ROLE_STAFF": "staff", "ROLE_PROXY": "proxy"}

passed = 0
failed = 0


def result(ok, name, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}" + (f": {why}" if why else ""))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# ---- the code -------------------------------------------------------------------------------


def c_defines(text):
    """#define NAME (expr) with a small integer expression, evaluated (KIB and friends)."""
    out = {}
    for name, expr in re.findall(r"^#define\s+(\w+)\s+(.+?)\s*$", text, re.M):
        expr = re.sub(r"\b([A-Z_][A-Z0-9_]*)\b", lambda m: str(out.get(m.group(1), m.group(1))), expr)
        if re.fullmatch(r"[0-9\s()*+\-/]+", expr):
            out[name] = int(eval(expr))  # digits and arithmetic only, checked just above
    return out


def parse_routes():
    """The rows of server/routes.c: (method, pattern, handler, roles, body kind, limit, name)."""
    text = read(os.path.join(ROOT, "server", "routes.c"))
    defines = c_defines(text)
    body = text[text.index("routes[] = {"):]
    rows = []
    row_re = re.compile(
        r'\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*([\w\s|]+?)\s*,\s*(BODY_\w+)\s*,'
        r'\s*([^,]+?)\s*,\s*"(\w+)"\s*\}')
    for m in row_re.finditer(body):
        method, pattern, handler, roles, kind, limit, name = m.groups()
        limit = limit.strip()
        limit_val = int(limit) if limit.isdigit() else defines.get(limit.strip("() "), None)
        role_set = sorted(ROLE_NAMES[r.strip()] for r in roles.split("|") if r.strip() != "ROLE_NONE")
        rows.append(dict(method=method, pattern=pattern, handler=handler, roles=role_set,
                         body=kind, limit=limit_val, name=name))
    return rows


def c_functions(text):
    """Function name -> body for every top-level function definition in a C file."""
    funcs = {}
    for m in re.finditer(r"^[A-Za-z_][\w \*]*?\b(\w+)\(([^;{)]*)\)\s*\n\{\n(.*?)^\}", text, re.M | re.S):
        funcs[m.group(1)] = m.group(3)
    return funcs


def sql_functions():
    """portal.<function> -> (PT statuses its definitions raise, portal functions they call)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "sql", "migrations", "*.sql")) +
                       glob.glob(os.path.join(ROOT, "sql", "definitions", "*.sql"))):
        text = read(path)
        for m in re.finditer(r"CREATE (?:OR REPLACE )?FUNCTION portal\.(\w+)\((.*?)\$\$(.*?)\$\$", text, re.S):
            name, body = m.group(1), m.group(3)
            codes = {int(c) for c in re.findall(r"'PT(\d{3})'", body)}
            calls = set(re.findall(r"portal\.(\w+)\s*\(", body))
            # Overloads share a name (a wrapper calls its longer sibling): take them together.
            old_codes, old_calls = out.get(name, (set(), set()))
            out[name] = (old_codes | codes, old_calls | calls)
    return out


def query_functions():
    """Q_NAME -> portal functions its SQL calls, from server/queries.c."""
    text = read(os.path.join(ROOT, "server", "queries.c"))
    out = {}
    for m in re.finditer(r"\[(Q_\w+)\]\s*=\s*\{(.*?)\}\s*,\s*(?=(?:/\*.*?\*/\s*)*(?:\[Q_|\};))",
                         text, re.S):
        out[m.group(1)] = set(re.findall(r"portal\.(\w+)\s*\(", m.group(2)))
    return out


def sql_statuses(fn, sqlf, seen=None):
    seen = seen if seen is not None else set()
    if fn in seen or fn not in sqlf:
        return set()
    seen.add(fn)
    codes, calls = sqlf[fn]
    codes = set(codes)
    for callee in calls:
        codes |= sql_statuses(callee, sqlf, seen)
    return codes


class Code:
    def __init__(self):
        self.files, self.statics = {}, {}
        for path in glob.glob(os.path.join(ROOT, "server", "*.c")):
            text = read(path)
            self.files[path] = c_functions(text)
            self.statics[path] = set(re.findall(r"^static\b[^\n(;=]*?\b(\w+)\(", text, re.M))
        self.sqlf = sql_functions()
        self.queries = query_functions()

    def find(self, handler):
        for path, funcs in self.files.items():
            if handler in funcs:
                return path, funcs
        return None, None

    # What these files answer is modelled by the rules in statuses(), not read from their bodies.
    MACHINERY = {"http.c", "db.c", "problem.c", "validate.c"}

    def handler_text(self, handler):
        """The handler's body and the bodies of the functions it calls: static ones of the same file,
        public ones of the helper modules (server/*.c but the request machinery)."""
        path, funcs = self.find(handler)
        if not path:
            return None
        public = {}
        for other in sorted(self.files):
            if os.path.basename(other) not in self.MACHINERY:
                for name in self.files[other]:
                    if name not in self.statics[other]:
                        public.setdefault(name, other)
        seen, todo, parts = set(), [(path, handler)], []
        while todo:
            where, fn = todo.pop()
            if (where, fn) in seen:
                continue
            seen.add((where, fn))
            body = self.files[where][fn]
            parts.append(body)
            for c in re.findall(r"\b(\w+)\s*\(", body):
                if c in self.files[where]:
                    todo.append((where, c))
                elif c in public:
                    todo.append((public[c], c))
            # A continuation handed over by name (req_defer's then) answers for the handler too.
            for c in re.findall(r"[,(]\s*(\w+)\s*[,)]", body):
                if c in self.statics[where] and c in self.files[where]:
                    todo.append((where, c))
        return "\n".join(parts)

    def statuses(self, route):
        text = self.handler_text(route["handler"])
        if text is None:
            return None
        s = {500}
        s |= {int(x) for x in re.findall(r"req_(?:problem|json|raw)\(\s*\w+\s*,\s*(\d{3})\b", text)}
        for a, b in re.findall(r"\?\s*(\d{3})\s*:\s*(\d{3})", text):
            s |= {int(a), int(b)}
        if re.search(r"\bv_\w+\(|\breq_invalid\(", text):
            s.add(422)
        if re.search(r"\b(req_run|db_exec\w*|req_defer)\(", text):
            s.add(503)
        for q in re.findall(r"\b(Q_\w+)\b", text):
            for fn in self.queries.get(q, ()):
                s |= sql_statuses(fn, self.sqlf)
        if route["roles"]:
            s |= {401, 403}
        if route["body"] == "BODY_JSON":
            s |= {400, 413, 415}
        if route["body"] == "BODY_FORM":
            s.add(413)
        return s

    def refuses_unknown_fields(self, route):
        text = self.handler_text(route["handler"])
        return bool(text and "v_only(" in text)


# ---- the document ---------------------------------------------------------------------------


def resolve(spec, ref):
    node = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def deref(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(spec, node["$ref"])
    return node


def closed_objects(spec, schema, where, seen=None):
    """Every object schema reachable from schema that does not refuse unknown properties."""
    seen = seen if seen is not None else set()
    if isinstance(schema, dict) and "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen.add(schema["$ref"])
    schema = deref(spec, schema)
    bad = []
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            bad.append(where)
        for k, v in schema.get("properties", {}).items():
            bad += closed_objects(spec, v, f"{where}.{k}", seen)
    for k in ("allOf", "oneOf", "anyOf"):
        for i, v in enumerate(schema.get(k, [])):
            bad += closed_objects(spec, v, f"{where}.{k}[{i}]", seen)
    if "items" in schema:
        bad += closed_objects(spec, schema["items"], f"{where}[]", seen)
    return bad


def operations(spec):
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item, item[method]


def main():
    try:
        spec = yaml.safe_load(read(SPEC))
    except (OSError, yaml.YAMLError) as e:
        result(False, "docs/openapi.yaml parses as YAML", str(e).splitlines()[0])
        print(f"{passed} passed, {failed} failed")
        return 1
    result(True, "docs/openapi.yaml parses as YAML")

    # 1. Valid against the official OpenAPI 3.0 schema (Debian's openapi-specification).
    oas = json.loads(read(OAS_SCHEMA))
    validator = jsonschema.Draft4Validator(oas)
    errors = sorted(validator.iter_errors(spec), key=lambda e: list(e.absolute_path))
    result(not errors and str(spec.get("openapi", "")).startswith("3.0."),
           "valid OpenAPI 3.0 (official JSON Schema)",
           "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in errors[:5]))

    # 2. Every $ref resolves.
    broken = []
    for r in sorted(set(refs(spec))):
        try:
            if not r.startswith("#/"):
                raise KeyError(r)
            resolve(spec, r)
        except (KeyError, TypeError):
            broken.append(r)
    result(not broken, "every $ref resolves", ", ".join(broken))

    # 3. Path templates and path parameters agree; operationIds are unique.
    bad_params, op_ids = [], {}
    for path, method, item, op in operations(spec):
        params = [deref(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]
        declared = {p["name"] for p in params if p.get("in") == "path"}
        templated = set(re.findall(r"\{(\w+)\}", path))
        if declared != templated:
            bad_params.append(f"{method.upper()} {path}")
        op_ids.setdefault(op.get("operationId"), []).append(f"{method.upper()} {path}")
    result(not bad_params, "path parameters match the path templates", ", ".join(bad_params))
    dups = {k: v for k, v in op_ids.items() if k is None or len(v) > 1}
    result(not dups, "every operation has a unique operationId", str(dups))

    # 4. Error answers are problem+json.
    not_problem = []
    for path, method, _, op in operations(spec):
        for status, resp in op.get("responses", {}).items():
            resp = deref(spec, resp)
            if str(status)[0] in "45" and list(resp.get("content", {})) != ["application/problem+json"]:
                not_problem.append(f"{method.upper()} {path} {status}")
    result(not not_problem, "every 4xx and 5xx answer is application/problem+json", ", ".join(not_problem))

    # 5. The route table and the document describe the same routes.
    # The FHIR API's reference is its CapabilityStatement, built from the same table as its
    # routes and compared with them by tests/unit/test_fhir_capability.c.
    routes = [r for r in parse_routes() if not r["handler"].startswith("h_fhir_")]
    result(len(routes) > 0, f"server/routes.c parsed ({len(routes)} routes)")
    in_code = {(r["method"], r["pattern"]) for r in routes}
    in_doc = {(m.upper(), p) for p, m, _, _ in operations(spec)}
    result(not (in_code - in_doc), "every route in server/routes.c is in docs/openapi.yaml",
           ", ".join(f"{m} {p}" for m, p in sorted(in_code - in_doc)))
    result(not (in_doc - in_code), "every operation in docs/openapi.yaml is in server/routes.c",
           ", ".join(f"{m} {p}" for m, p in sorted(in_doc - in_code)))

    # 6. Each route, row by row.
    code = Code()
    for r in routes:
        key = f"{r['method']} {r['pattern']}"
        item = spec.get("paths", {}).get(r["pattern"], {})
        op = item.get(r["method"].lower())
        if op is None:
            continue  # reported above
        why = []
        if op.get("operationId") != r["name"]:
            why.append(f"operationId {op.get('operationId')!r} is not the route name {r['name']!r}")
        if sorted(op.get("x-roles", [])) != r["roles"]:
            why.append(f"x-roles {op.get('x-roles')} but the table says {r['roles']}")
        security = op.get("security", spec.get("security"))
        if r["roles"] and not security:
            why.append("needs a role but has no security requirement")
        if not r["roles"] and security != []:
            why.append("is public but does not say security: []")
        has_body = "requestBody" in op
        if (r["body"] != "BODY_NONE") != has_body:
            why.append(f"body kind {r['body']} but requestBody {'present' if has_body else 'absent'}")
        if has_body:
            content = deref(spec, op["requestBody"]).get("content", {})
            want = ["application/json"] if r["body"] == "BODY_JSON" else ["application/x-www-form-urlencoded"]
            if list(content) != want:
                why.append("the request body must be %s only" % want[0])
            if op.get("x-body-limit") != r["limit"]:
                why.append(f"x-body-limit {op.get('x-body-limit')} but the table says {r['limit']}")
            if code.refuses_unknown_fields(r):
                schema = content.get("application/json", {}).get("schema", {})
                for where in closed_objects(spec, schema, "body"):
                    why.append(f"{where} lacks additionalProperties: false (the handler refuses unknown fields)")
        expected = code.statuses(r)
        if expected is None:
            why.append(f"handler {r['handler']} not found in server/*.c")
        else:
            documented = {int(s) for s in op.get("responses", {}) if str(s).isdigit()}
            if documented != expected:
                missing = sorted(expected - documented)
                extra = sorted(documented - expected)
                why.append(f"statuses: undocumented {missing}, documented but never answered {extra}")
        result(not why, f"{key} matches its route row and handler", "; ".join(why))

    # 7. README.md names every source file and every configuration variable.
    readme = read(os.path.join(ROOT, "README.md")) if os.path.exists(os.path.join(ROOT, "README.md")) else None
    if readme is not None:
        unnamed = []
        for path in sorted(glob.glob(os.path.join(ROOT, "server", "*.c")) + glob.glob(os.path.join(ROOT, "include", "*.h"))):
            rel = os.path.relpath(path, ROOT)
            if f"`{rel}`" not in readme and f"`{os.path.basename(rel)}`" not in readme:
                unnamed.append(rel)
        result(not unnamed, "README's source code layout names every server/ and include/ file", ", ".join(unnamed))
        variables = set()
        for path in glob.glob(os.path.join(ROOT, "server", "*.c")):
            # getenv("PORTAL_X") anywhere, and the rows {"PORTAL_X", ...} of config.c's table.
            variables |= set(re.findall(r'(?:\bgetenv\(|^\s*\{)\s*"(PORTAL_\w+)"', read(path), re.M))
        missing = sorted(v for v in variables if f"| `{v}` |" not in readme)
        result(bool(variables) and not missing,
               f"README's configuration table names every PORTAL_* variable the server reads ({len(variables)})",
               ", ".join(missing))

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
