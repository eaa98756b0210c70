"""Helpers for the FHIR suite: every response the tests receive goes through get(), which checks
the media type and validates the body with the validator nobody here wrote (validate.mjs:
@medplum/core's validateResource), and keeps the response for the marker scans. Not a test
module (no test_ prefix)."""
import base64
import json
import os
import re
import subprocess

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = "/fhir/R4"
FHIR_JSON = "application/fhir+json"

counts = {"responses": 0, "resources": 0}
_validator = None


def _node():
    global _validator
    if _validator is None or _validator.poll() is not None:
        _validator = subprocess.Popen(["node", os.path.join(HERE, "validate.mjs")], cwd=HERE,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return _validator


def validate(resource):
    """Zero errors from the validator, or the test fails naming them."""
    v = _node()
    v.stdin.write(json.dumps(resource) + "\n")
    v.stdin.flush()
    line = v.stdout.readline()
    assert line, "the validator stopped"
    verdict = json.loads(line)
    counts["responses"] += 1
    counts["resources"] += verdict["count"]
    assert verdict["ok"], (resource.get("resourceType"), verdict["issues"][:5])


def get(server, path, token=None, headers=None, status=200):
    r = server.request("GET", path, token=token, headers=headers)
    assert r.status == status, (path, r)
    if r.status != 304:
        assert (r.header("Content-Type") or "").startswith(FHIR_JSON), (path, r.headers)
        validate(r.json())
    return r


def token(role, sub, **claims):
    return harness.jwt({"role": role, "sub": sub, **claims})


def matches(bundle):
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def outcomes(bundle):
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "outcome"]


def decoded_attachments(text):
    """Every base64 'data' value in a JSON text, decoded, so a marker cannot hide in one."""
    out = []
    for m in re.finditer(r'"data"\s*:\s*"([A-Za-z0-9+/=]+)"', text):
        try:
            out.append(base64.b64decode(m.group(1)).decode("utf-8", "replace"))
        except ValueError:
            pass
    return out


def assert_no_markers(responses, markers):
    for r in responses:
        haystacks = [r.body, json.dumps(r.headers)] + decoded_attachments(r.body)
        for m in markers:
            for h in haystacks:
                assert m not in h, ("report text in a FHIR response", m, r)


def report_text(resource):
    """(conclusion, presented text) of a DiagnosticReport; None where absent."""
    forms = resource.get("presentedForm") or []
    text = base64.b64decode(forms[0]["data"]).decode() if forms else None
    return resource.get("conclusion"), text


def walk(server, tok, study_ids, patient_id):
    """Every way a client can ask for this patient's resources; returns the responses."""
    seen = []
    paths = [BASE + "/metadata", BASE + "/Patient", BASE + "/Patient/" + patient_id,
             BASE + "/Practitioner", BASE + "/ServiceRequest", BASE + "/ImagingStudy",
             BASE + "/DiagnosticReport", BASE + "/DiagnosticReport?patient=" + patient_id,
             BASE + "/DiagnosticReport?status=final,amended,preliminary",
             BASE + "/DiagnosticReport?category=http://loinc.org|LP29684-5&code=18748-4",
             BASE + "/DiagnosticReport?date=ge2000-01-01&_sort=-date&_count=100",
             BASE + "/ServiceRequest?status=completed", BASE + "/ImagingStudy?status=available"]
    for sid in study_ids:
        paths += [BASE + "/ServiceRequest/" + sid, BASE + "/ImagingStudy/" + sid]
    for p in paths:
        seen.append(get(server, p, token=tok))
    for r in list(seen):
        body = r.json()
        if body.get("resourceType") == "Bundle":
            for res in matches(body):
                seen.append(get(server, "%s/%s/%s" % (BASE, res["resourceType"], res["id"]),
                                token=tok))
    return seen
