"""The release gate through FHIR: before release a patient's app sees the order and the images
(what our own page shows) and no byte of the report, nothing that tells a held report from one
waiting for review, and the report once it is released, with each read of its text audited."""
import flows
from fhirlib import BASE, assert_no_markers, get, matches, report_text, walk


def _report_reads(ctx, study_id):
    return int(ctx.cluster.sql(
        "SELECT count(*) FROM portal.audit_log WHERE action = 'report.read' AND study_id = '%s'"
        % study_id)[0][0])


def _issues(r):
    """The OperationOutcome's issues without the request id, which differs on every request."""
    return [{k: v for k, v in i.items() if k != "diagnostics"} for i in r.json()["issue"]]


def test_no_byte_of_the_report_before_release_then_the_report(ctx):
    srv = ctx.server
    f, i, n = flows.marker("F"), flows.marker("I"), flows.marker("N")
    s = flows.final_study(srv, findings=f, impression=i)
    before = walk(srv, s.patient, [s.study_id], s.patient_id)
    assert_no_markers(before, [f, i, n])
    # The report's future id answers exactly like an id that never existed.
    missing = get(srv, BASE + "/DiagnosticReport/%s-1" % s.study_id, token=s.patient, status=404)
    never = get(srv, BASE + "/DiagnosticReport/%s-9" % s.study_id, token=s.patient, status=404)
    assert _issues(missing) == _issues(never)
    bundle = get(srv, BASE + "/DiagnosticReport", token=s.patient).json()
    assert bundle["total"] == 0 and matches(bundle) == []
    orders = matches(get(srv, BASE + "/ServiceRequest", token=s.patient).json())
    stage = [e["valueCode"] for e in orders[0]["extension"]]
    assert stage == ["physician_review"], orders
    assert _report_reads(ctx, s.study_id) == 0

    s.release(note=n)
    reads_before = _report_reads(ctx, s.study_id)
    r = get(srv, BASE + "/DiagnosticReport/%s-1" % s.study_id, token=s.patient)
    report = r.json()
    conclusion, text = report_text(report)
    assert conclusion == i and f in text and i in text, report
    assert report["status"] == "final"
    assert [e["valueAnnotation"]["text"] for e in report["extension"]] == [n]
    assert report["category"][0]["coding"][0]["code"] == "LP29684-5"
    assert _report_reads(ctx, s.study_id) == reads_before + 1
    # A search audits the reads it sent text for, and only those.
    get(srv, BASE + "/DiagnosticReport?_count=0", token=s.patient)
    assert _report_reads(ctx, s.study_id) == reads_before + 1
    get(srv, BASE + "/DiagnosticReport", token=s.patient)
    assert _report_reads(ctx, s.study_id) == reads_before + 2


def test_an_amended_report_is_a_new_version_shown_once_released(ctx):
    srv = ctx.server
    f1, f2, i2 = flows.marker("F1"), flows.marker("F2"), flows.marker("I2")
    s = flows.final_study(srv, findings=f1)
    s.release()
    s.report("amended", findings=f2, impression=i2)
    seen = walk(srv, s.patient, [s.study_id], s.patient_id)
    assert_no_markers(seen, [f2, i2])
    reports = matches(get(srv, BASE + "/DiagnosticReport", token=s.patient).json())
    assert [(r["id"], r["status"]) for r in reports] == [(s.study_id + "-1", "final")]
    assert f1 in report_text(reports[0])[1]

    s.release()
    reports = matches(get(srv, BASE + "/DiagnosticReport", token=s.patient).json())
    got = {r["id"]: r for r in reports}
    assert sorted(got) == [s.study_id + "-1", s.study_id + "-2"], got
    assert got[s.study_id + "-2"]["status"] == "amended"
    assert report_text(got[s.study_id + "-2"]) == (i2, report_text(got[s.study_id + "-2"])[1])
    assert f2 in report_text(got[s.study_id + "-2"])[1]
    # The JSON API shows the released version's text only; so does FHIR.
    assert report_text(got[s.study_id + "-1"]) == (None, None)


def _shape(resource):
    """What a resource says, without what differs between two studies anyway."""
    drop = {"id", "meta", "identifier", "subject", "basedOn", "requester", "referrer",
            "authoredOn", "occurrenceDateTime", "started", "imagingStudy"}
    return {k: v for k, v in resource.items() if k not in drop}


def test_a_held_report_looks_exactly_like_one_awaiting_review(ctx):
    srv = ctx.server
    physician = "NPI-HOLD-" + flows.marker("P")[:10]
    mrn = "MRN-" + flows.marker("H")[:12]
    held = flows.final_study(srv, physician_id=physician, mrn=mrn)
    waiting = flows.final_study(srv, physician_id=physician, mrn=mrn)
    assert held.as_physician("POST", "hold", body={"reason": "Call first",
                                                    "until": flows.ago(-72)}).status == 201
    tok = held.patient
    for kind in ("ServiceRequest", "ImagingStudy"):
        a = get(srv, "%s/%s/%s" % (BASE, kind, held.study_id), token=tok)
        b = get(srv, "%s/%s/%s" % (BASE, kind, waiting.study_id), token=tok)
        assert _shape(a.json()) == _shape(b.json()), kind
        assert sorted(k for k, _ in a.headers) == sorted(k for k, _ in b.headers)
    for s in (held, waiting):
        get(srv, BASE + "/DiagnosticReport/%s-1" % s.study_id, token=tok, status=404)
    bundle = get(srv, BASE + "/DiagnosticReport", token=tok).json()
    assert bundle["total"] == 0


def test_a_cancelled_order_is_revoked_and_its_images_cancelled(ctx):
    s = flows.Study(ctx.server, events=("ordered", "cancelled"))
    sr = get(ctx.server, "%s/ServiceRequest/%s" % (BASE, s.study_id), token=s.patient).json()
    im = get(ctx.server, "%s/ImagingStudy/%s" % (BASE, s.study_id), token=s.patient).json()
    assert (sr["status"], im["status"]) == ("revoked", "cancelled")
    revoked = get(ctx.server, BASE + "/ServiceRequest?status=revoked", token=s.patient).json()
    assert [r["id"] for r in matches(revoked)] == [s.study_id]


def test_images_are_registered_until_taken(ctx):
    s = flows.Study(ctx.server, events=("ordered", "scheduled", "arrived"))
    im = get(ctx.server, "%s/ImagingStudy/%s" % (BASE, s.study_id), token=s.patient).json()
    assert im["status"] == "registered" and im["modality"][0]["code"] == "CT"
    s.event("exam_completed", occurred_at=flows.ago(1))
    im = get(ctx.server, "%s/ImagingStudy/%s" % (BASE, s.study_id), token=s.patient).json()
    assert im["status"] == "available"


def test_the_physician_reads_the_report_to_review_and_the_audit_names_them(ctx):
    srv = ctx.server
    f = flows.marker("F")
    s = flows.final_study(srv, findings=f)
    reports = matches(get(srv, BASE + "/DiagnosticReport", token=s.physician).json())
    assert [r["id"] for r in reports] == [s.study_id + "-1"]
    assert f in report_text(reports[0])[1]
    actors = ctx.cluster.sql(
        "SELECT string_agg(DISTINCT actor_role || ':' || actor_id, ',') FROM portal.audit_log "
        "WHERE action = 'report.read' AND study_id = '%s'" % s.study_id)[0][0]
    assert actors == "physician:" + s.physician_id, actors
