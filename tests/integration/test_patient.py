"""The patient's side (CONTRACT "Patient", invariants 2 and 3): stages with plain-language labels,
the release gate (not one byte of the report, in any form, anywhere a patient or the log could see
it before release), the report and discussion prompt after release, isolation between patients,
and discussion requests."""
import base64
import uuid

import harness
from flows import PATIENT_LIST, Study, final_study, marker, patient_path, without_request_id


def _forms(text):
    """Ways a leak could be disguised: as is, case-folded, base64 (both alphabets, the three
    alignments), hex."""
    out = {text, text.lower(), text.upper(), text.encode().hex(), text.encode().hex().upper()}
    for pad in ("", "x", "xy"):
        b = base64.b64encode((pad + text).encode()).decode()
        # The characters fixed by text alone, whatever came before it.
        core = b[(len(pad) * 4 + 2) // 3 + 2:-4]
        out.update({core, core.replace("+", "-").replace("/", "_")})
    return {f for f in out if len(f) >= 12}


def _assert_absent(where, haystack, secrets):
    for s in secrets:
        for f in _forms(s):
            assert f not in haystack, "report text (%r form) found in %s" % (f[:20], where)


def test_leak_detector_sees_disguised_copies(ctx):
    """The release-gate checks below are only as good as _forms: prove it catches each disguise."""
    m = marker("D")
    text = "Findings: " + m + " nodule."
    for pad in ("", "a", "ab"):
        for leak in (text, text.lower(), base64.b64encode((pad + text).encode()).decode(),
                     base64.urlsafe_b64encode((pad + text).encode()).decode(),
                     text.encode().hex()):
            try:
                _assert_absent("planted", "xx" + leak + "yy", [m])
            except AssertionError:
                continue
            raise AssertionError("missed a leak: " + leak)


def _everything(r):
    return r.body + "\n" + "\n".join("%s: %s" % kv for kv in r.headers)


def test_stages_have_labels_and_explanations(ctx):
    s = Study(ctx.server, events=())
    seen = []
    steps = [("ordered", {}), ("scheduled", {"scheduled_for": "2026-12-01T09:00:00Z"}),
             ("arrived", {}), ("exam_started", {}), ("exam_completed", {}), ("read_started", {})]
    expected = ["ordered", "scheduled", "checked_in", "imaging", "awaiting_read", "reading"]
    for i, ((t, kw), stage) in enumerate(zip(steps, expected)):
        s.event(t, occurred_at="2026-11-2%dT10:00:00Z" % i, **kw)
        body = s.as_patient().json()
        assert body["stage"] == stage, (t, body)
        assert body["stage_label"] and body["stage_explanation"], body
        assert body["estimates"] == [] and body["report_available"] is False, body
        assert [e["stage"] for e in body["timeline"]] == expected[:i + 1], body["timeline"]
        seen.append(body["stage_label"])
        if stage == "imaging":
            assert "cannot give you results" in body["stage_explanation"], body
    assert len(set(seen)) == len(seen), seen
    s.report("preliminary")
    assert s.as_patient().json()["stage"] == "reading"
    s.report("final")
    body = s.as_patient().json()
    assert body["stage"] == "physician_review" and body["stage_label"], body
    assert "report" not in body and "discussion" not in body, body


def test_release_gate_no_byte_of_report_before_release(ctx):
    findings = "Findings: %s nodule, %s." % (marker("F"), marker("G"))
    impression = "Impression: CRITICAL %s." % marker("I")
    # Every copy of the text, whole or in part, holds a marker; its base64 forms at every
    # alignment are covered by _forms.
    secrets = [w.strip(",.") for w in (findings + " " + impression).split()
               if w.startswith("ZQX")]
    s = final_study(ctx.server, findings=findings, impression=impression)
    other = str(uuid.uuid4())
    responses = {
        "list": s.as_patient(path=PATIENT_LIST),
        "detail": s.as_patient(),
        "discussion": s.as_patient("POST", patient_path(s.study_id) + "/discussion-requests",
                                   body={"message": "hello"}),
        "detail-other-patient": ctx.server.request("GET", patient_path(s.study_id),
                                                   token=harness.Server.token("patient", other)),
        "physician-endpoint": s.as_patient(path="/api/v1/physician/studies/" + s.study_id),
    }
    assert responses["list"].status == 200 and responses["detail"].status == 200
    assert responses["discussion"].status == 409, responses["discussion"]
    assert responses["discussion"].json()["detail"] == "the report has not been released yet"
    assert responses["detail-other-patient"].status == 404
    assert responses["physician-endpoint"].status == 403
    for name, r in responses.items():
        _assert_absent("patient response " + name, _everything(r), secrets)
    body = responses["detail"].json()
    assert body["stage"] == "physician_review", body
    assert "report" not in body and "discussion" not in body and body["report_available"] is False
    for word in ("critical", "abnormal", "nodule"):
        assert word not in responses["detail"].body.lower(), word
    # The physician reads it (audited), which must not leak into the log either.
    assert s.as_physician().status == 200
    _assert_absent("server log", ctx.server.read_log(), secrets)
    rows = ctx.cluster.sql("SELECT count(*) FROM portal.audit_log WHERE study_id = '%s' AND "
                           "actor_role = 'patient' AND action = 'report.read'" % s.study_id)
    assert rows == [["0"]], rows


def test_response_length_does_not_depend_on_report_length(ctx):
    short = final_study(ctx.server, findings="ok", impression="ok")
    long = final_study(ctx.server, findings="x" * 60000, impression="y " * 20000)
    for path in (None, PATIENT_LIST):
        a = short.as_patient(path=path)
        b = long.as_patient(path=path)
        assert a.status == b.status == 200
        assert len(a.body) == len(b.body), (path, len(a.body), len(b.body))
        assert a.header("Content-Length") == b.header("Content-Length")


def test_after_release_the_patient_reads_the_report_with_the_prompt(ctx):
    findings, impression = "Findings " + marker("F"), "Impression " + marker("I")
    s = final_study(ctx.server, findings=findings, impression=impression)
    rel = s.release(note="Nothing to worry about; let us talk.")
    body = s.as_patient().json()
    assert body["stage"] == "available" and body["report_available"] is True, body
    assert body["timeline"][-1]["stage"] == "available", body["timeline"]
    rep = body["report"]
    assert rep["findings"] == findings and rep["impression"] == impression, rep
    assert rep["version"] == 1 and rep["status"] == "final" and rep["amended"] is False, rep
    assert rep["newer_version_pending"] is False, rep
    assert rep["radiologist"] == "Dr. Test Radiologist", rep
    assert rep["released_by"] == "Dr. Test Physician", rep
    assert rep["released_by_kind"] == "physician", rep
    assert rep["released_at"] == rel["released_at"], (rep, rel)
    assert rep["signed_at"] == s.signed_at, rep
    assert rep["physician_note"] == "Nothing to worry about; let us talk.", rep
    d = body["discussion"]
    assert d["prompt"] == ("Dr. Test Physician has reviewed your results. "
                           "Schedule a time to talk them over."), d
    assert d["physician"] == {"name": "Dr. Test Physician", "phone": "+1 555 0100",
                              "scheduling_url": "https://clinic.example/schedule"}, d
    assert d["request"] == {"state": "none", "may_request": True,
                            "url": "/api/v1/patient/studies/%s/discussion-requests"
                                   % s.study_id}, d
    listed = s.as_patient(path=PATIENT_LIST).json()["studies"]
    assert [x["id"] for x in listed] == [s.study_id] and listed[0]["report_available"] is True
    # Still never in the log, even once released.
    _assert_absent("server log", ctx.server.read_log(), [findings, impression])


def test_list_is_own_studies_newest_first(ctx):
    a = Study(ctx.server, events=())
    a.event("ordered", occurred_at="2026-10-01T08:00:00Z")
    b = Study(ctx.server, mrn=a.mrn, events=())
    b.event("ordered", occurred_at="2026-11-01T08:00:00Z")
    c = Study(ctx.server, mrn=a.mrn, events=())
    c.event("ordered", occurred_at="2026-09-01T08:00:00Z")
    ids = [x["id"] for x in a.as_patient(path=PATIENT_LIST).json()["studies"]]
    assert ids == [b.study_id, a.study_id, c.study_id], ids


def test_patient_b_never_sees_patient_a(ctx):
    a = final_study(ctx.server)
    a.release()
    b = Study(ctx.server)
    assert b.patient_id != a.patient_id
    r = ctx.server.request("GET", patient_path(a.study_id), token=b.patient)
    missing = ctx.server.request("GET", patient_path(str(uuid.uuid4())), token=b.patient)
    assert r.status == missing.status == 404, (r, missing)
    assert without_request_id(r.json()) == without_request_id(missing.json())
    r = ctx.server.request("POST", patient_path(a.study_id) + "/discussion-requests",
                           body={"message": "hi"}, token=b.patient)
    missing = ctx.server.request("POST", patient_path(str(uuid.uuid4())) + "/discussion-requests",
                                 body={"message": "hi"}, token=b.patient)
    assert r.status == missing.status == 404, (r, missing)
    assert without_request_id(r.json()) == without_request_id(missing.json())
    ids = [x["id"] for x in ctx.server.request("GET", PATIENT_LIST, token=b.patient)
           .json()["studies"]]
    assert ids == [b.study_id], ids
    # A well-formed token for a patient who does not exist sees nothing at all.
    nobody = harness.Server.token("patient", str(uuid.uuid4()))
    assert ctx.server.request("GET", PATIENT_LIST, token=nobody).json() == {"studies": []}
    assert ctx.server.request("GET", patient_path(a.study_id), token=nobody).status == 404


def test_discussion_requests(ctx):
    s = final_study(ctx.server)
    path = patient_path(s.study_id) + "/discussion-requests"
    r = s.as_patient("POST", path, body={"message": "x"})
    assert r.status == 409, r
    s.release()
    bad = [
        ({"preferred_times": "tomorrow"}, "preferred_times: must be a list"),
        ({"preferred_times": ["tomorrow"]}, "preferred_times: must be a list"),
        ({"preferred_times": [1]}, "preferred_times: must be a list"),
        ({"preferred_times": ["2026-12-01T09:00:00Z", "2026-13-01T09:00:00Z"]},
         "preferred_times: must be a list"),
        ({"preferred_times": ["2026-12-01T09:00:00Z"] * 11}, "preferred_times: may hold at most"),
        ({"message": "m" * 2001}, "message: must be at most 2000 bytes"),
        ({"message": 5}, "message: must be a string"),
        ({"urgent": True}, "urgent: is not a recognised field"),
    ]
    for body, detail in bad:
        r = s.as_patient("POST", path, body=body)
        assert r.status == 422 and r.json()["detail"].startswith(detail), (body, r)
    times = ["2026-12-01T09:00:00Z", "2026-12-02T14:30:00+01:00"]
    first = s.as_patient("POST", path, body={"preferred_times": times, "message": "Mornings."})
    assert first.status == 201, first
    f = first.json()
    assert f["state"] == "open" and f["study_id"] == s.study_id and f["message"] == "Mornings."
    assert len(f["preferred_times"]) == 2 and f["created_at"], f
    second = s.as_patient("POST", path, body={"message": "Again?"})
    assert second.status == 200, second
    assert second.json()["id"] == f["id"] and second.json()["message"] == "Mornings.", second
    req = s.as_patient().json()["discussion"]["request"]
    assert req["state"] == "open" and req["id"] == f["id"], req
    listed = ctx.server.request("GET", "/api/v1/physician/discussion-requests",
                                token=s.physician).json()["requests"]
    assert [x["id"] for x in listed] == [f["id"]], listed
    assert listed[0]["study_id"] == s.study_id and listed[0]["message"] == "Mornings.", listed
    assert listed[0]["patient"]["name"] == "Test Patient", listed
