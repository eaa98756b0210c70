"""Proxy access (issue 16): a proxy signs in with their own code, sees the patients they are
linked to, and reads each through the gate in sql/definitions/65_proxies.sql: the link's dates,
the age rule and the physician's "not for proxies" mark hold on every endpoint, and a hidden
study answers exactly as one that is only ordered."""
import json
import uuid

import harness
from flows import ago, final_study, ingest, marker
from proxies import AgedStudy, Proxy, in_days, portald

ORDERED_AT = "2026-11-02T09:00:00Z"


def _released(server, age, findings, mrn=None):
    s = AgedStudy(server, age, mrn=mrn, events=())
    for t, at in (("ordered", ORDERED_AT), ("arrived", "2026-11-03T09:00:00Z"),
                  ("exam_started", "2026-11-03T09:10:00Z"),
                  ("exam_completed", "2026-11-03T09:30:00Z")):
        s.event(t, occurred_at=at)
    s.report("final", findings=findings)
    s.release()
    return s


def test_proxy_signs_in_with_their_own_code_only(ctx):
    child = AgedStudy(ctx.server, 5)
    p = Proxy(ctx.server)
    bad = ctx.server.request("POST", "/api/v1/proxy/session",
                             body={"access_code": p.code, "birth_date": "1999-01-01"})
    assert bad.status == 401, bad
    # The patient's own code is not a proxy's credential.
    theirs = ctx.server.request("POST", "/api/v1/proxy/session",
                                body={"access_code": child.access_code,
                                      "birth_date": child._birth})
    assert theirs.status == 401, theirs
    missing = ctx.server.request("POST", "/api/v1/proxy/session", body={"access_code": p.code})
    assert missing.status == 422 and "birth_date" in missing.json()["detail"], missing
    token = p.sign_in()
    assert p.get("/api/v1/proxy/patients").json() == {"patients": []}
    # A proxy's token is not a patient's, a physician's or a FHIR app's.
    for path in ("/api/v1/patient/studies", "/api/v1/physician/worklist",
                 "/fhir/R4/DiagnosticReport", "/fhir/R4/Patient"):
        r = ctx.server.request("GET", path, token=token)
        assert r.status == 403, (path, r)


def test_guardian_reads_a_young_childs_report_audited_as_the_proxy(ctx):
    findings = marker("CHILD")
    s = _released(ctx.server, 5, findings)
    p = Proxy(ctx.server, name="Gail Guardian")
    p.grant(s.mrn, "guardian")
    patients = p.get("/api/v1/proxy/patients").json()["patients"]
    assert [(x["id"], x["relation"], x["access_log"]) for x in patients] == \
        [(s.patient_id, "guardian", True)], patients
    lst = p.get("/api/v1/proxy/patients/%s/studies" % s.patient_id).json()["studies"]
    assert [x["id"] for x in lst] == [s.study_id] and lst[0]["stage"] == "available", lst
    r = p.get("/api/v1/proxy/studies/" + s.study_id)
    assert r.status == 200 and r.json()["report"]["findings"] == findings, r
    assert "request" not in r.json()["discussion"], r.json()["discussion"]
    rows = ctx.cluster.sql("SELECT actor_role, actor_id, detail->>'patient_id' FROM "
                           "portal.audit_log WHERE request_id = '%s'" % r.header("X-Request-Id"))
    assert rows == [["proxy", p.id, s.patient_id]], rows
    # Another patient's study is the same 404 as a missing one.
    other = final_study(ctx.server)
    other.release()
    assert p.get("/api/v1/proxy/studies/" + other.study_id).status == 404
    assert p.get("/api/v1/proxy/patients/%s/studies" % other.patient_id).json() == \
        {"studies": []}


def test_a_teens_confidential_report_is_hidden_from_the_guardian_without_trace(ctx):
    findings = marker("TEEN")
    hidden = _released(ctx.server, 14, findings)
    hidden.as_physician()  # the physician has read it
    mark = hidden.as_physician("PUT", "proxy-access", body={"not_for_proxies": True})
    assert mark.status == 200 and mark.json()["not_for_proxies"] is True, mark
    assert hidden.as_physician().json()["not_for_proxies"] is True
    ordered = AgedStudy(ctx.server, 14, mrn=hidden.mrn, events=())
    ordered.event("ordered", occurred_at=ORDERED_AT)
    # The teen's own page shows the report, and keeps it (page cache) before the proxy reads.
    assert hidden.as_patient().json()["report"]["findings"] == findings
    p = Proxy(ctx.server)
    p.grant(hidden.mrn, "guardian")
    pat = p.get("/api/v1/proxy/patients").json()["patients"]
    assert pat[0]["access_log"] is False, pat

    def same(a, b):
        a = a.replace(hidden.study_id, "ID").replace(hidden.accession, "ACC")
        b = b.replace(ordered.study_id, "ID").replace(ordered.accession, "ACC")
        return a == b

    h = p.get("/api/v1/proxy/studies/" + hidden.study_id)
    o = p.get("/api/v1/proxy/studies/" + ordered.study_id)
    assert h.status == o.status == 200, (h, o)
    assert same(h.body, o.body), (h.body, o.body)
    assert findings not in h.body and json.loads(h.body)["stage"] == "ordered"
    lst = p.get("/api/v1/proxy/patients/%s/studies" % hidden.patient_id).json()["studies"]
    by_id = {x["id"]: json.dumps(x, sort_keys=True) for x in lst}
    assert same(by_id[hidden.study_id], by_id[ordered.study_id]), by_id
    # No read of the hidden report was audited for the proxy; the patient's page is unchanged.
    rows = ctx.cluster.sql("SELECT count(*) FROM portal.audit_log WHERE actor_role = 'proxy' "
                           "AND action = 'report.read' AND actor_id = '%s'" % p.id)
    assert rows == [["0"]], rows
    assert hidden.as_patient().json()["report"]["findings"] == findings
    assert p.get("/api/v1/proxy/patients/%s/access-log" % hidden.patient_id).status == 404
    assert findings not in ctx.server.read_log()
    # The mark lifted, the guardian reads it.
    hidden.as_physician("PUT", "proxy-access", body={"not_for_proxies": False})
    assert p.get("/api/v1/proxy/studies/" + hidden.study_id).json()["report"]["findings"] == \
        findings


def test_the_physicians_mark_is_checked(ctx):
    s = final_study(ctx.server)
    bad = s.as_physician("PUT", "proxy-access", body={"not_for_proxies": "yes"})
    assert bad.status == 422 and "not_for_proxies" in bad.json()["detail"], bad
    extra = s.as_physician("PUT", "proxy-access", body={"not_for_proxies": True, "x": 1})
    assert extra.status == 422, extra
    other = ctx.server.request("PUT", "/api/v1/physician/studies/%s/proxy-access" % s.study_id,
                               body={"not_for_proxies": True},
                               token=ctx.server.token("physician", "NPI-SOMEONE-ELSE"))
    assert other.status == 404, other


def test_a_caregivers_link_expires_is_renewed_and_ended_by_the_patient(ctx):
    findings = marker("ADULT")
    s = _released(ctx.server, 70, findings)
    p = Proxy(ctx.server, name="Carl Caregiver")
    out = portald(ctx.server, "proxy-grant", p.id, s.mrn, "caregiver", check=False)
    assert out.returncode == 1 and "ends_at" in out.stderr, out
    out = portald(ctx.server, "proxy-grant", p.id, s.mrn, "guardian", check=False)
    assert out.returncode == 1 and "of age" in out.stderr, out
    link = p.grant(s.mrn, "caregiver", until=in_days(30))
    assert p.get("/api/v1/proxy/studies/" + s.study_id).json()["report"]["findings"] == findings
    assert p.get("/api/v1/proxy/patients/%s/access-log" % s.patient_id).status == 404
    mine = s.as_patient(path="/api/v1/patient/proxies").json()["proxies"]
    assert [(x["id"], x["name"], x["kind"], x["active"]) for x in mine] == \
        [(link, "Carl Caregiver", "caregiver", True)], mine
    # The link's end passes.
    ctx.cluster.sql("UPDATE portal.proxy_links SET starts_at = now() - interval '31 days', "
                    "ends_at = now() - interval '1 second' WHERE id = '%s'" % link)
    assert p.get("/api/v1/proxy/studies/" + s.study_id).status == 404
    assert p.get("/api/v1/proxy/patients").json() == {"patients": []}
    assert p.get("/api/v1/proxy/patients/%s/studies" % s.patient_id).json() == {"studies": []}
    portald(ctx.server, "proxy-renew", link, in_days(60))
    assert p.get("/api/v1/proxy/studies/" + s.study_id).status == 200
    # Another patient cannot end it; the patient can, once.
    other = final_study(ctx.server)
    r = other.as_patient("DELETE", "/api/v1/patient/proxies/" + link)
    assert r.status == 404, r
    r = s.as_patient("DELETE", "/api/v1/patient/proxies/" + link)
    assert r.status == 200 and r.json()["status"] == "ended", r
    assert s.as_patient("DELETE", "/api/v1/patient/proxies/" + link).status == 404
    assert p.get("/api/v1/proxy/studies/" + s.study_id).status == 404
    mine = s.as_patient(path="/api/v1/patient/proxies").json()["proxies"]
    assert mine[0]["active"] is False and "ended_at" in mine[0], mine


def test_a_guardians_link_is_ended_by_the_clinic_not_the_child(ctx):
    s = AgedStudy(ctx.server, 13)
    p = Proxy(ctx.server)
    link = p.grant(s.mrn, "guardian")
    r = s.as_patient("DELETE", "/api/v1/patient/proxies/" + link)
    assert r.status == 409, r
    portald(ctx.server, "proxy-end", link)
    assert p.get("/api/v1/proxy/patients").json() == {"patients": []}
    out = portald(ctx.server, "proxy-end", link, check=False)
    assert out.returncode == 1, out


def test_a_new_code_ends_the_proxys_sessions(ctx):
    p = Proxy(ctx.server)
    token = p.sign_in()
    f = portald(ctx.server, "proxy-code", p.id).stdout
    assert "access_code" in f
    deadline = __import__("time").time() + 5
    while __import__("time").time() < deadline:
        r = ctx.server.request("GET", "/api/v1/proxy/patients", token=token)
        if r.status == 401:
            break
    assert r.status == 401, r
    assert portald(ctx.server, "proxy-code", "00000000-0000-4000-8000-00000000dead",
                   check=False).returncode == 1
    assert harness  # the module is the tests' common ground


def test_a_proxy_reads_words_written_for_a_proxy_in_their_language(ctx):
    """The patient's texts say "your exam", "your doctor", "schedule a time to talk": not true of
    a parent or caregiver. A proxy reads the stage, its explanation and the prompt in words of their
    own, the same at a stage whether or not the report is held (the hold is the patient's)."""
    released = _released(ctx.server, 6, marker("WORDS"))
    held = AgedStudy(ctx.server, 6, mrn=released.mrn,
                     events=("ordered", "arrived", "exam_started", "exam_completed"))
    held.report("final")
    assert held.as_physician("POST", "hold", body={"reason": "talk first"}).status == 201
    waiting = AgedStudy(ctx.server, 6, mrn=released.mrn,
                        events=("ordered", "arrived", "exam_started", "exam_completed"))
    waiting.report("final")
    p = Proxy(ctx.server)
    p.grant(released.mrn, "guardian")
    r = p.get("/api/v1/proxy/studies/" + released.study_id).json()
    assert r["stage_label"] == "The results are ready", r
    assert r["discussion"]["prompt"] == \
        "To talk these results over, contact the office of Dr. Test Physician.", r["discussion"]
    h = p.get("/api/v1/proxy/studies/" + held.study_id).json()
    w = p.get("/api/v1/proxy/studies/" + waiting.study_id).json()
    assert (h["stage"], h["stage_label"], h["stage_explanation"]) == \
        (w["stage"], w["stage_label"], w["stage_explanation"]) == \
        ("physician_review", "The report is with their doctor",
         "The radiologist's report has gone to their doctor. It is shown here once it has been "
         "shared."), (h, w)
    for study in (r, h, w):
        words = study["stage_label"] + " " + study["stage_explanation"]
        assert "your" not in words.lower() and "hold" not in words.lower(), words
    es = p.get("/api/v1/proxy/studies/" + released.study_id,
               headers={"Accept-Language": "es"}).json()
    assert es["stage_label"] == "Los resultados están listos", es["stage_label"]
    # The patient's own page keeps the patient's words.
    assert released.as_patient().json()["stage_label"] == "Your results are ready"


def test_proxy_grant_refuses_an_mrn_two_authorities_share(ctx):
    """`portald proxy-grant` and `proxy-patient` look the patient up alike
    (sql/definitions/68_patient_lookup.sql): an MRN that two assigning authorities use is refused
    without --authority, naming the mrn field, rather than linking whichever patient came first."""
    mrn = "MRN-" + uuid.uuid4().hex[:10]
    ids = {}
    for site in ("main", "north"):
        body = harness.event("ordered", accession="ACC-" + uuid.uuid4().hex[:10], mrn=mrn,
                             occurred_at=ago(2))
        body["study"]["site"] = site
        ids[site] = ingest(ctx.server, body)["patient_id"]
    assert ids["main"] != ids["north"]
    p = Proxy(ctx.server, name="Ambiguous Grant")
    out = portald(ctx.server, "proxy-grant", p.id, mrn, "caregiver", "--until", in_days(30),
                  check=False)
    assert out.returncode == 1 and "mrn" in out.stderr and "assigning authority" in out.stderr, out
    assert ctx.cluster.sql("SELECT count(*) FROM portal.proxy_links WHERE proxy_id = '%s'"
                           % p.id) == [["0"]]
    out = portald(ctx.server, "proxy-grant", p.id, mrn, "caregiver", "--until", in_days(30),
                  "--authority", "north")
    link = out.stdout.split("\t", 1)[1].strip()
    rows = ctx.cluster.sql("SELECT patient_id FROM portal.proxy_links WHERE id = '%s'" % link)
    assert rows == [[ids["north"]]], rows
