"""Ingest (CONTRACT "Ingest", invariant 5): 422 naming the field for every bad field and nothing
half-written, idempotent on event_id (replays and concurrent duplicates), out-of-order events, the
access code only in the answer that created the patient."""
import copy
import threading
import time
import uuid

import harness
from flows import Study, ingest, ingest_report, patient_path

EVENTS = "/api/v1/ingest/events"
REPORTS = "/api/v1/ingest/reports"


def _post(server, path, body):
    return server.request("POST", path, body=body, token=server.ris())


def _count(cluster, table, where, arg):
    return int(cluster.sql("SELECT count(*) FROM portal.%s WHERE %s = '%s'" % (table, where, arg))
               [0][0])


def _nothing_written(cluster, ev):
    """One psql round trip: no trace of the event, its patient or its study."""
    pt = ev.get("patient") if isinstance(ev.get("patient"), dict) else {}
    st = ev.get("study") if isinstance(ev.get("study"), dict) else {}
    mrn = pt.get("mrn") if isinstance(pt.get("mrn"), str) else ""
    acc = st.get("accession") if isinstance(st.get("accession"), str) else ""
    eid = ev.get("event_id") if isinstance(ev.get("event_id"), str) else ""
    q = ("SELECT (SELECT count(*) FROM portal.ingest_events WHERE event_id = $e$%s$e$) + "
         "(SELECT count(*) FROM portal.study_events WHERE event_id = $e$%s$e$) + "
         "(SELECT count(*) FROM portal.patients WHERE mrn = $e$%s$e$) + "
         "(SELECT count(*) FROM portal.studies WHERE accession = $e$%s$e$)" % (eid, eid, mrn, acc))
    assert cluster.sql(q) == [["0"]], ev


def _without(body, path):
    b = copy.deepcopy(body)
    *parents, last = path.split(".")
    o = b
    for p in parents:
        o = o[p]
    del o[last]
    return b


def _with(body, path, value):
    b = copy.deepcopy(body)
    *parents, last = path.split(".")
    o = b
    for p in parents:
        o = o[p]
    o[last] = value
    return b


def test_event_answer_and_access_code_only_when_patient_created(ctx):
    ev = harness.event("ordered")
    a = ingest(ctx.server, ev)
    assert set(a) == {"study_id", "patient_id", "access_code"}, a
    assert len(a["access_code"]) == 19 and a["access_code"].count("-") == 3, a
    # A later event for the same patient (even another study) never shows a code again.
    b = ingest(ctx.server, harness.event("ordered", mrn=ev["patient"]["mrn"]))
    assert set(b) == {"study_id", "patient_id"} and b["patient_id"] == a["patient_id"], b
    assert b["study_id"] != a["study_id"]
    c = ingest(ctx.server, harness.event("arrived", accession=ev["study"]["accession"],
                                         mrn=ev["patient"]["mrn"]))
    assert c == {"study_id": a["study_id"], "patient_id": a["patient_id"]}, c
    # The database keeps only a hash of it.
    rows = ctx.cluster.sql("SELECT access_selector, access_hash FROM portal.patients WHERE id = '%s'"
                           % a["patient_id"])
    assert rows[0][1].startswith("$argon2id$"), rows
    assert a["access_code"].replace("-", "")[8:] not in rows[0][1]


def test_missing_required_fields_are_422_naming_them(ctx):
    base = harness.event("ordered")
    for field in ("event_id", "type", "occurred_at", "patient", "patient.mrn", "patient.name",
                  "patient.birth_date", "study", "study.accession", "study.modality",
                  "study.description", "referring_physician", "referring_physician.id",
                  "referring_physician.name"):
        ev = _without(base, field)
        if field != "event_id":
            ev["event_id"] = "ev-" + uuid.uuid4().hex
        r = _post(ctx.server, EVENTS, ev)
        assert r.status == 422, (field, r)
        assert r.json()["detail"] == field + ": is required", (field, r)
        if "event_id" in ev:
            _nothing_written(ctx.cluster, ev)


def test_bad_values_are_422_naming_the_field(ctx):
    base = harness.event("ordered")
    cases = [
        ("type", "discharged", "type: must be one of ordered, scheduled, arrived"),
        ("type", 7, "type: must be a string"),
        ("occurred_at", "yesterday", "occurred_at: must be an RFC 3339 timestamp"),
        ("occurred_at", "2026-13-01T10:00:00Z", "occurred_at: must be an RFC 3339"),
        ("occurred_at", "2026-02-30T10:00:00Z", "occurred_at: must be an RFC 3339"),
        ("occurred_at", "2026-11-20T25:00:00Z", "occurred_at: must be an RFC 3339"),
        ("occurred_at", "2026-11-20T10:00:00", "occurred_at: must be an RFC 3339"),
        ("occurred_at", "2026-11-20 10:00:00Z", "occurred_at: must be an RFC 3339"),
        ("scheduled_for", "soon", "scheduled_for: must be an RFC 3339"),
        ("event_id", "", "event_id: must not be empty"),
        ("event_id", "e" * 129, "event_id: must be at most 128 bytes"),
        ("patient", "Ada", "patient: must be an object"),
        ("patient.birth_date", "1985-02-30", "patient.birth_date: must be a date"),
        ("patient.birth_date", "10/12/1985", "patient.birth_date: must be a date"),
        ("patient.email", "not-an-email", "patient.email: must be an email address"),
        ("patient.name", "x" * 201, "patient.name: must be at most 200 bytes"),
        ("study.modality", "XRAY", "study.modality: must be one of CT, MR"),
        ("study.priority", "asap", "study.priority: must be one of routine, urgent, stat"),
        ("study.accession", "", "study.accession: must not be empty"),
        ("referring_physician.scheduling_url", "javascript:alert(1)",
         "referring_physician.scheduling_url: must be an http(s) URL"),
        ("referring_physician.id", 12345, "referring_physician.id: must be a string"),
    ]
    for path, value, detail in cases:
        ev = _with(base, path, value)
        if path != "event_id":
            ev["event_id"] = "ev-" + uuid.uuid4().hex
        r = _post(ctx.server, EVENTS, ev)
        assert r.status == 422, (path, value, r)
        assert r.json()["detail"].startswith(detail), (path, value, r)
        if path != "event_id":
            _nothing_written(ctx.cluster, ev)


def test_unknown_fields_are_422_at_every_level(ctx):
    base = harness.event("ordered")
    for where in ("", "patient.", "study.", "referring_physician."):
        ev = _with(base, where + "colour", "blue")
        ev["event_id"] = "ev-" + uuid.uuid4().hex
        r = _post(ctx.server, EVENTS, ev)
        assert r.status == 422, (where, r)
        assert r.json()["detail"] == where + "colour: is not a recognised field", r
        _nothing_written(ctx.cluster, ev)
    rep = harness.report("ACC-x")
    for where in ("", "radiologist."):
        r = _post(ctx.server, REPORTS, _with(rep, where + "severity", "critical"))
        assert r.status == 422 and r.json()["detail"] == where + "severity: is not a recognised field", r


def test_scheduled_needs_scheduled_for(ctx):
    ev = harness.event("scheduled")
    del ev["scheduled_for"]
    r = _post(ctx.server, EVENTS, ev)
    assert r.status == 422, r
    assert r.json()["detail"] == "scheduled_for: is required when type is scheduled", r
    _nothing_written(ctx.cluster, ev)


def test_conflict_inside_the_transaction_leaves_nothing(ctx):
    """A new patient's event naming another patient's accession is refused after the patient
    row was inserted; the whole event must roll back."""
    s = Study(ctx.server)
    ev = harness.event("arrived", accession=s.accession)
    r = _post(ctx.server, EVENTS, ev)
    assert r.status == 409, r
    assert r.json()["detail"] == "study.accession: belongs to another patient", r
    _nothing_written(ctx.cluster, dict(ev, study={}))
    # The same server connection is fine afterwards (no transaction left open).
    assert ingest(ctx.server, harness.event("ordered"))["study_id"]


def test_replay_answers_the_same_and_changes_nothing(ctx):
    ev = harness.event("ordered")
    first = ingest(ctx.server, ev)
    q = ("SELECT s.updated_at, p.updated_at, ph.updated_at, "
         "(SELECT count(*) FROM portal.study_events e WHERE e.study_id = s.id) "
         "FROM portal.studies s JOIN portal.patients p ON p.id = s.patient_id "
         "JOIN portal.physicians ph ON ph.id = s.referring_physician_id "
         "WHERE s.id = '%s'" % first["study_id"])
    before = ctx.cluster.sql(q)
    # The same payload, keys in another order and spaced differently, is the same event.
    reordered = dict(reversed(list(ev.items())))
    for body in (ev, reordered):
        again = ingest(ctx.server, body)
        # The answer that carried the new patient's code cannot be repeated with it (issue 20).
        assert again == {"study_id": first["study_id"], "patient_id": first["patient_id"],
                         "access_code_status": "not_repeated"}, again
    after = ctx.cluster.sql(q)
    assert before == after, (before, after)


def test_same_event_id_different_payload_is_409(ctx):
    ev = harness.event("ordered")
    ingest(ctx.server, ev)
    changed = _with(ev, "occurred_at", "2026-11-21T00:00:00Z")
    r = _post(ctx.server, EVENTS, changed)
    assert r.status == 409, r
    assert r.json()["detail"].startswith("event_id: already used"), r
    # An event id already used by a report is refused for an event, and the other way round.
    s = Study(ctx.server)
    rep = harness.report(s.accession, status="preliminary")
    ingest_report(ctx.server, rep)
    r = _post(ctx.server, EVENTS, harness.event("arrived", event_id=rep["event_id"]))
    assert r.status == 409, r
    r = _post(ctx.server, REPORTS, harness.report(s.accession, event_id=ev["event_id"]))
    assert r.status == 409, r


def _concurrently(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_duplicates_answer_alike_and_write_once(ctx):
    ev = harness.event("ordered")
    results = _concurrently(8, lambda: _post(ctx.server, EVENTS, ev))
    assert all(r.status == 200 for r in results), results
    answers = [r.json() for r in results]
    assert len({a["study_id"] for a in answers}) == 1, answers
    assert len({a["patient_id"] for a in answers}) == 1, answers
    assert sum("access_code" in a for a in answers) == 1, answers
    assert _count(ctx.cluster, "study_events", "event_id", ev["event_id"]) == 1
    assert _count(ctx.cluster, "ingest_events", "event_id", ev["event_id"]) == 1
    assert _count(ctx.cluster, "patients", "mrn", ev["patient"]["mrn"]) == 1


def test_concurrent_new_events_for_one_new_patient_make_one_patient(ctx):
    mrn = "MRN-" + uuid.uuid4().hex[:10]
    events = [harness.event("ordered", mrn=mrn) for _ in range(6)]
    it = iter(range(6))
    lock = threading.Lock()

    def post():
        with lock:
            i = next(it)
        return _post(ctx.server, EVENTS, events[i])

    results = _concurrently(6, post)
    assert all(r.status == 200 for r in results), results
    answers = [r.json() for r in results]
    assert len({a["patient_id"] for a in answers}) == 1, answers
    assert sum("access_code" in a for a in answers) == 1, answers
    assert _count(ctx.cluster, "patients", "mrn", mrn) == 1


def test_concurrent_duplicate_reports_make_one_version(ctx):
    s = Study(ctx.server, events=("ordered", "exam_completed"))
    rep = harness.report(s.accession)
    results = _concurrently(6, lambda: _post(ctx.server, REPORTS, rep))
    assert all(r.status == 200 for r in results), results
    assert len({r.body for r in results}) == 1, results
    assert results[0].json()["report_version"] == 1
    assert _count(ctx.cluster, "report_versions", "study_id", s.study_id) == 1


def test_out_of_order_events_keep_timeline_ordered(ctx):
    s = Study(ctx.server, events=())
    s.event("exam_completed", occurred_at="2026-11-25T09:30:00Z")
    s.event("ordered", occurred_at="2026-11-20T08:00:00Z")
    s.event("arrived", occurred_at="2026-11-25T08:50:00Z")
    s.event("exam_started", occurred_at="2026-11-25T09:05:00+01:00")  # 08:05Z, before arrival
    # A late duplicate of an earlier stage keeps the earliest time.
    s.event("ordered", occurred_at="2026-11-22T08:00:00Z")
    r = s.as_patient()
    assert r.status == 200, r
    body = r.json()
    assert body["stage"] == "awaiting_read", body
    tl = body["timeline"]
    assert [e["at"] for e in tl] == sorted(e["at"] for e in tl), tl
    assert tl[0] == {"stage": "ordered", "at": "2026-11-20T08:00:00Z"}, tl
    assert {"stage": "imaging", "at": "2026-11-25T08:05:00Z"} in tl, tl
    assert tl[-1] == {"stage": "awaiting_read", "at": "2026-11-25T09:30:00Z"}, tl


def test_scheduled_for_follows_the_newest_scheduling(ctx):
    s = Study(ctx.server)
    s.event("scheduled", occurred_at="2026-11-21T10:00:00Z", scheduled_for="2026-12-01T09:00:00Z")
    s.event("scheduled", occurred_at="2026-11-20T10:00:00Z", scheduled_for="2026-11-28T09:00:00Z")
    body = s.as_patient().json()
    assert body["stage"] == "scheduled" and body["scheduled_for"] == "2026-12-01T09:00:00Z", body


def test_report_validation(ctx):
    s = Study(ctx.server, events=("ordered", "exam_completed"))
    base = harness.report(s.accession)
    for field in ("event_id", "accession", "status", "findings", "impression", "radiologist",
                  "radiologist.name", "signed_at"):
        r = _post(ctx.server, REPORTS, _without(base, field))
        assert r.status == 422 and r.json()["detail"] == field + ": is required", (field, r)
    for path, value, detail in [("status", "draft", "status: must be one of preliminary, final"),
                                ("signed_at", "2026-11-31T10:00:00Z", "signed_at: must be an RFC"),
                                ("findings", 42, "findings: must be a string"),
                                ("radiologist", "Dr X", "radiologist: must be an object")]:
        r = _post(ctx.server, REPORTS, _with(dict(base, event_id="rep-" + uuid.uuid4().hex),
                                             path, value))
        assert r.status == 422 and r.json()["detail"].startswith(detail), (path, r)
    assert _count(ctx.cluster, "report_versions", "study_id", s.study_id) == 0


def test_report_for_unknown_accession_is_422(ctx):
    rep = harness.report("ACC-nope-" + uuid.uuid4().hex[:8])
    r = _post(ctx.server, REPORTS, rep)
    assert r.status == 422, r
    assert r.json()["detail"] == "accession: no study with this accession", r
    assert _count(ctx.cluster, "ingest_events", "event_id", rep["event_id"]) == 0


def test_report_versions_and_replay(ctx):
    s = Study(ctx.server, events=("ordered", "exam_completed"))
    rep = harness.report(s.accession, status="preliminary")
    a = ingest_report(ctx.server, rep)
    assert a == {"study_id": s.study_id, "report_version": 1, "status": "preliminary"}, a
    assert ingest_report(ctx.server, rep) == a
    r = _post(ctx.server, REPORTS, dict(rep, findings="changed"))
    assert r.status == 409, r
    b = s.report("final")
    assert b["report_version"] == 2 and b["status"] == "final", b
    assert s.as_patient().json()["stage"] == "physician_review"


def test_ingest_bodies_must_be_json_objects(ctx):
    r = ctx.server.request("POST", EVENTS, raw="[]", token=ctx.server.ris())
    assert r.status == 400, r
    r = ctx.server.request("POST", REPORTS, raw='{"a":1}', token=ctx.server.ris(),
                           content_type="text/plain")
    assert r.status == 415, r


def test_cancelled_study(ctx):
    s = Study(ctx.server, events=("ordered", "cancelled"))
    body = ctx.server.request("GET", patient_path(s.study_id), token=s.patient).json()
    assert body["stage"] == "cancelled" and body["stage_label"], body


def test_database_down_is_503_and_the_retry_lands(ctx):
    cluster = harness.Cluster("ingest503")
    server = harness.Server(cluster)
    try:
        acked = ingest(server, harness.event("ordered"))
        cluster.stop()
        ev = harness.event("ordered")
        r = _post(server, EVENTS, ev)
        assert r.status == 503, r
        assert r.json()["detail"] == "The database is unavailable; try again shortly.", r
        r = server.request("GET", "/api/v1/patient/studies",
                           token=server.token("patient", acked["patient_id"]))
        assert r.status == 503, r
        cluster.start()
        # The RIS retries until it is acknowledged: each worker thread reconnects on its own, and
        # waits a moment after a failed connect before trying again, so any call soon after the
        # restart may still be 503. The event lands once and the acknowledged one is still there.
        def until_answered(call):
            deadline = time.time() + 10
            while True:
                r = call()
                if r.status != 503 or time.time() > deadline:
                    return r
                time.sleep(0.1)

        def send():
            return _post(server, EVENTS, ev)

        r = until_answered(send)
        assert r.status == 200, r
        first = until_answered(send).json()
        again = until_answered(send)
        assert again.status == 200, again
        assert {k: v for k, v in again.json().items() if k != "access_code_status"} == {
            "study_id": first["study_id"], "patient_id": first["patient_id"]}, again
        r = until_answered(lambda: server.request(
            "GET", "/api/v1/patient/studies", token=server.token("patient", acked["patient_id"])))
        assert [s["id"] for s in r.json()["studies"]] == [acked["study_id"]], r
    finally:
        server.stop()
        cluster.destroy()
