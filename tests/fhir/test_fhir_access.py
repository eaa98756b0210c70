"""Who reaches what through FHIR: a patient their own record, a physician the patients they
referred, a SMART app what its scopes allow; everything else answers as if it did not exist."""
import flows
import harness
from fhirlib import BASE, get, matches, token


def test_another_patients_resources_answer_404_like_missing_ones(ctx):
    srv = ctx.server
    mine = flows.final_study(srv)
    theirs = flows.final_study(srv)
    theirs.release()
    for path in ("/Patient/%s" % theirs.patient_id, "/ServiceRequest/%s" % theirs.study_id,
                 "/ImagingStudy/%s" % theirs.study_id, "/DiagnosticReport/%s-1" % theirs.study_id,
                 "/Practitioner/%s" % theirs.physician_id):
        r = get(srv, BASE + path, token=mine.patient, status=404)
        assert r.json()["issue"][0]["code"] == "not-found"
    for kind in ("ServiceRequest", "ImagingStudy", "DiagnosticReport"):
        b = get(srv, "%s/%s?patient=%s" % (BASE, kind, theirs.patient_id), token=mine.patient)
        assert matches(b.json()) == []
    b = get(srv, "%s/Patient?_id=%s" % (BASE, theirs.patient_id), token=mine.patient).json()
    assert matches(b) == []


def test_a_physician_reaches_only_the_patients_they_referred(ctx):
    srv = ctx.server
    a = flows.final_study(srv)
    b = flows.final_study(srv)
    patients = matches(get(srv, BASE + "/Patient", token=a.physician).json())
    assert [p["id"] for p in patients] == [a.patient_id]
    get(srv, "%s/Patient/%s" % (BASE, b.patient_id), token=a.physician, status=404)
    get(srv, "%s/DiagnosticReport/%s-1" % (BASE, b.study_id), token=a.physician, status=404)
    me = matches(get(srv, BASE + "/Practitioner", token=a.physician).json())
    assert [p["id"] for p in me] == [a.physician_id]


def test_smart_scopes_limit_what_an_app_reads(ctx):
    srv = ctx.server
    s = flows.final_study(srv)
    s.release()
    reports_only = token("patient", s.patient_id, scope="openid patient/DiagnosticReport.rs")
    assert matches(get(srv, BASE + "/DiagnosticReport", token=reports_only).json())
    get(srv, "%s/DiagnosticReport/%s-1" % (BASE, s.study_id), token=reports_only)
    r = get(srv, BASE + "/Patient", token=reports_only, status=403)
    assert r.json()["issue"][0]["code"] == "forbidden"
    search_only = token("patient", s.patient_id, scope="patient/DiagnosticReport.s")
    get(srv, BASE + "/DiagnosticReport", token=search_only)
    get(srv, "%s/DiagnosticReport/%s-1" % (BASE, s.study_id), token=search_only, status=403)
    v1_all = token("patient", s.patient_id, scope="patient/*.read")
    for kind in ("Patient", "Practitioner", "ServiceRequest", "ImagingStudy", "DiagnosticReport"):
        get(srv, "%s/%s" % (BASE, kind), token=v1_all)
    # A scope narrowed by a query is not understood here, so it grants nothing.
    narrowed = token("patient", s.patient_id, scope="patient/DiagnosticReport.rs?category=x")
    get(srv, BASE + "/DiagnosticReport", token=narrowed, status=403)
    # Physicians take user/ scopes only.
    get(srv, BASE + "/DiagnosticReport", token=token("physician", s.physician_id,
                                                      scope="user/*.rs"))
    get(srv, BASE + "/DiagnosticReport", token=token("physician", s.physician_id,
                                                      scope="patient/*.rs"), status=403)
    # A scope that is not a string is refused outright, never read as "no scope".
    get(srv, BASE + "/DiagnosticReport",
        token=token("patient", s.patient_id, scope=["patient/*.read"]), status=401)
    # An app's token is for FHIR only: the JSON API can write, which no scope grants.
    r = srv.request("GET", flows.PATIENT_LIST, token=v1_all)
    assert r.status == 403 and r.header("Content-Type") == "application/problem+json", r
    r = srv.request("POST", flows.patient_path(s.study_id) + "/discussion-requests", body={},
                    token=v1_all)
    assert r.status == 403, r


def test_without_a_token_the_api_says_how_to_get_one(ctx):
    r = get(ctx.server, BASE + "/DiagnosticReport", status=401)
    assert r.header("WWW-Authenticate") == "Bearer"
    assert r.json()["issue"][0]["code"] == "login"
    bad = harness.jwt({"role": "patient"}, key="another-secret-0123456789abcdef0123")
    get(ctx.server, BASE + "/DiagnosticReport", token=bad, status=401)
    # The CapabilityStatement is public, as the specification expects.
    cs = get(ctx.server, BASE + "/metadata").json()
    assert cs["fhirVersion"] == "4.0.1"


def test_smart_configuration_points_at_the_sites_identity_provider(ctx):
    r = ctx.server.request("GET", "/.well-known/smart-configuration")
    assert r.status == 404 and "PORTAL_SMART_AUTHORIZE_URL" in r.body, r
    srv = harness.Server(ctx.cluster, env={
        "PORTAL_SMART_AUTHORIZE_URL": "https://idp.example.org/authorize",
        "PORTAL_SMART_TOKEN_URL": "https://idp.example.org/token"})
    try:
        for path in ("/.well-known/smart-configuration", BASE + "/.well-known/smart-configuration"):
            r = srv.request("GET", path)
            assert r.status == 200 and r.header("Content-Type") == "application/json", r
            doc = r.json()
            assert doc["authorization_endpoint"] == "https://idp.example.org/authorize"
            assert doc["token_endpoint"] == "https://idp.example.org/token"
            assert "patient/DiagnosticReport.rs" in doc["scopes_supported"]
        cs = get(srv, BASE + "/metadata").json()
        uris = cs["rest"][0]["security"]["extension"][0]["extension"]
        assert {u["url"]: u["valueUri"] for u in uris} == {
            "authorize": "https://idp.example.org/authorize",
            "token": "https://idp.example.org/token"}
    finally:
        srv.stop()
