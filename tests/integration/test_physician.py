"""The referring physician's side (CONTRACT "Physician"): worklist states and order, the full
report, release (idempotent, 409 without a final report), hold, isolation between physicians, and
amendments going back for release while the patient keeps the released version."""
import uuid

import harness
from flows import Study, ago, final_study, physician_path, without_request_id

WORKLIST = "/api/v1/physician/worklist"


def _worklist(server, token, state=None):
    r = server.request("GET", WORKLIST + ("?state=" + state if state else ""), token=token)
    assert r.status == 200, r
    return r.json()["studies"]


def _ids(entries):
    return [e["id"] for e in entries]


def test_worklist_states_and_order(ctx):
    doc = "NPI-" + uuid.uuid4().hex[:10]
    token = harness.Server.token("physician", doc)
    newer = Study(ctx.server, physician_id=doc, events=("ordered", "exam_completed"))
    newer.report("final", signed_at=ago(3))
    older = Study(ctx.server, physician_id=doc, events=("ordered", "exam_completed"))
    older.report("final", signed_at=ago(5))
    prelim = Study(ctx.server, physician_id=doc, events=("ordered", "exam_completed"))
    prelim.report("preliminary", signed_at=ago(6))
    released = Study(ctx.server, physician_id=doc, events=("ordered", "exam_completed"))
    released.report("final", signed_at=ago(8))
    released.release()
    held = Study(ctx.server, physician_id=doc, events=("ordered", "exam_completed"))
    held.report("final", signed_at=ago(7))
    assert held.as_physician("POST", "hold", body={"reason": "Call patient first"}).status == 201
    Study(ctx.server, physician_id=doc)  # no report at all: never on the worklist
    final_study(ctx.server)  # another physician's

    assert _ids(_worklist(ctx.server, token)) == [older.study_id, newer.study_id]
    waiting = _worklist(ctx.server, token, "awaiting_review")
    assert _ids(waiting) == [older.study_id, newer.study_id]
    e = waiting[0]
    assert e["state"] == "awaiting_review" and e["report_status"] == "final", e
    assert e["report_version"] == 1 and "released_version" not in e, e
    assert e["patient"]["name"] == "Test Patient" and e["accession"] == older.accession, e
    assert e["final_at"], e
    assert "findings" not in e and "impression" not in e, e
    assert _ids(_worklist(ctx.server, token, "released")) == [released.study_id]
    h = _worklist(ctx.server, token, "held")
    assert _ids(h) == [held.study_id] and h[0]["hold"]["reason"] == "Call patient first", h
    assert _ids(_worklist(ctx.server, token, "all")) == [released.study_id, held.study_id,
                                                         older.study_id, newer.study_id]
    for bad in ("pending", "", "ALL", "all%27--"):
        r = ctx.server.request("GET", WORKLIST + "?state=" + bad, token=token)
        assert r.status == 422, (bad, r)
        assert r.json()["detail"] == "state: must be one of awaiting_review, released, held, all"


def test_study_with_full_report(ctx):
    s = final_study(ctx.server, findings="Full findings.", impression="Full impression.")
    r = s.as_physician()
    assert r.status == 200, r
    o = r.json()
    assert o["state"] == "awaiting_review" and o["stage"] == "physician_review", o
    assert o["report"]["findings"] == "Full findings." and o["report"]["version"] == 1, o
    assert o["report"]["impression"] == "Full impression." and o["report"]["status"] == "final"
    assert o["patient"]["mrn"] == s.mrn and "release" not in o, o
    only_prelim = Study(ctx.server, physician_id=s.physician_id,
                        events=("ordered", "exam_completed"))
    only_prelim.report("preliminary", findings="Early look.")
    o = only_prelim.as_physician().json()
    assert o["state"] == "no_final_report" and o["report"]["status"] == "preliminary", o


def test_physician_b_never_sees_physician_a(ctx):
    a = final_study(ctx.server)
    other = harness.Server.token("physician", "NPI-" + uuid.uuid4().hex[:10])
    random_id = str(uuid.uuid4())
    for method, action, body in (("GET", None, None), ("POST", "release", {}),
                                 ("POST", "hold", {"reason": "mine now"})):
        r = ctx.server.request(method, physician_path(a.study_id, action), body=body, token=other)
        missing = ctx.server.request(method, physician_path(random_id, action), body=body,
                                     token=other)
        assert r.status == missing.status == 404, (action, r, missing)
        assert without_request_id(r.json()) == without_request_id(missing.json()), (r, missing)
    assert _worklist(ctx.server, other, "all") == []
    # Nothing happened to A's study.
    assert a.as_physician().json()["state"] == "awaiting_review"


def test_release_is_idempotent(ctx):
    s = final_study(ctx.server)
    first = s.release(note="See you Tuesday.")
    assert first["report_version"] == 1 and first["released_at"], first
    again = s.release()
    assert again == first, (first, again)
    again = s.release(note="A different note")
    assert again == first, (first, again)
    o = s.as_physician().json()
    assert o["state"] == "released" and o["release"]["version"] == 1, o
    assert o["release"]["note"] == "See you Tuesday." and o["release"]["how"] == "physician", o
    assert o["release"]["released_by"] == "Dr. Test Physician", o
    rows = ctx.cluster.sql("SELECT count(*) FROM portal.releases WHERE study_id = '%s'"
                           % s.study_id)
    assert rows == [["1"]], rows


def test_release_without_final_report_is_409(ctx):
    s = Study(ctx.server, events=("ordered", "exam_completed"))
    r = s.as_physician("POST", "release", body={})
    assert r.status == 409 and r.json()["detail"] == "no final report to release yet", r
    s.report("preliminary")
    r = s.as_physician("POST", "release", body={})
    assert r.status == 409, r
    assert s.as_patient().json()["stage"] == "reading"
    r = s.as_physician("POST", "release", body={"note": 7})
    assert r.status == 422 and r.json()["detail"] == "note: must be a string", r
    r = s.as_physician("POST", "release", body={"notes": "x"})
    assert r.status == 422 and r.json()["detail"] == "notes: is not a recognised field", r


def test_hold(ctx):
    s = final_study(ctx.server)
    r = s.as_physician("POST", "hold", body={})
    assert r.status == 422 and r.json()["detail"] == "reason: is required", r
    first = s.as_physician("POST", "hold", body={"reason": "Discuss in person"})
    assert first.status == 201, first
    h = first.json()
    assert h["state"] == "held" and h["reason"] == "Discuss in person" and h["placed_at"], h
    second = s.as_physician("POST", "hold", body={"reason": "Another reason"})
    assert second.status == 200 and second.json() == h, second
    o = s.as_physician().json()
    assert o["state"] == "held" and o["hold"]["reason"] == "Discuss in person", o
    assert s.as_patient().json()["stage"] == "physician_review"
    s.release()
    o = s.as_physician().json()
    assert o["state"] == "released" and "hold" not in o, o
    r = s.as_physician("POST", "hold", body={"reason": "too late"})
    assert r.status == 409 and r.json()["detail"] == "the report is already released", r


def test_amendment_goes_back_for_release(ctx):
    s = final_study(ctx.server, findings="Version one findings.", impression="V1 impression.")
    s.release(note="First look.")
    token = s.physician
    amended = s.report("amended", findings="Version two findings.", impression="V2 impression.")
    assert amended["report_version"] == 2, amended
    waiting = _worklist(ctx.server, token)
    assert _ids(waiting) == [s.study_id], waiting
    assert waiting[0]["report_version"] == 2 and waiting[0]["released_version"] == 1, waiting
    assert waiting[0]["report_status"] == "amended", waiting
    assert _worklist(ctx.server, token, "released") == []
    o = s.as_physician().json()
    assert o["state"] == "awaiting_review" and o["report"]["version"] == 2, o
    assert o["report"]["findings"] == "Version two findings.", o

    p = s.as_patient().json()
    assert p["stage"] == "available", p
    rep = p["report"]
    assert rep["version"] == 1 and rep["status"] == "final" and rep["amended"] is False, rep
    assert rep["findings"] == "Version one findings." and rep["newer_version_pending"] is True
    assert "Version two" not in s.as_patient().body

    rel = s.release()
    assert rel["report_version"] == 2, rel
    p = s.as_patient().json()
    rep = p["report"]
    assert rep["version"] == 2 and rep["status"] == "amended" and rep["amended"] is True, rep
    assert rep["findings"] == "Version two findings." and rep["newer_version_pending"] is False
    hist = rep["history"]
    assert [(x["version"], x["status"]) for x in hist] == [(1, "final"), (2, "amended")], hist
    assert all(x["released_at"] and x["released_by"] == "Dr. Test Physician" for x in hist), hist
    assert all(x["released_by_kind"] == "physician" for x in hist), hist
    assert _ids(_worklist(ctx.server, token, "released")) == [s.study_id]


def test_late_preliminary_does_not_replace_the_final_for_review(ctx):
    """A preliminary that arrives after the final (out of order) must not become what the
    physician reads, because it is not what release would give the patient."""
    s = final_study(ctx.server, findings="Final findings.", impression="Final impression.")
    s.report("preliminary", findings="Stale preliminary.", signed_at=ago(30))
    o = s.as_physician().json()
    assert o["report"]["status"] == "final" and o["report"]["findings"] == "Final findings.", o
    rel = s.release()
    assert rel["report_version"] == o["report"]["version"], (rel, o)
    assert s.as_patient().json()["report"]["findings"] == "Final findings."


def test_discussion_requests_only_own_patients(ctx):
    a = final_study(ctx.server)
    a.release()
    r = a.as_patient("POST", a.as_patient().json()["discussion"]["request"]["url"],
                     body={"preferred_times": ["2026-12-03T10:00:00Z"]})
    assert r.status == 201, r
    mine = ctx.server.request("GET", "/api/v1/physician/discussion-requests", token=a.physician)
    assert mine.status == 200, mine
    got = mine.json()["requests"]
    assert [x["id"] for x in got] == [r.json()["id"]], got
    assert got[0]["preferred_times"] and got[0]["state"] == "open" and got[0]["created_at"], got
    other = harness.Server.token("physician", "NPI-" + uuid.uuid4().hex[:10])
    theirs = ctx.server.request("GET", "/api/v1/physician/discussion-requests", token=other)
    assert theirs.status == 200 and theirs.json() == {"requests": []}, theirs


def test_concurrent_releases_and_discussion_requests_answer_alike(ctx):
    import threading
    s = final_study(ctx.server)
    n = 6
    barrier = threading.Barrier(n)
    out = [None] * n

    def run(i, fn):
        barrier.wait()
        out[i] = fn()

    def together(fn):
        threads = [threading.Thread(target=run, args=(i, fn)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return list(out)

    rel = together(lambda: s.as_physician("POST", "release", body={}))
    assert all(r.status == 200 for r in rel), rel
    assert len({r.body for r in rel}) == 1, rel
    assert ctx.cluster.sql("SELECT count(*) FROM portal.releases WHERE study_id = '%s'"
                           % s.study_id) == [["1"]]
    path = s.as_patient().json()["discussion"]["request"]["url"]
    disc = together(lambda: s.as_patient("POST", path, body={"message": "call me"}))
    assert sorted(r.status for r in disc) == [200] * (n - 1) + [201], disc
    assert len({r.json()["id"] for r in disc}) == 1, disc
