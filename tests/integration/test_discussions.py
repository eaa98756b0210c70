"""Closing the loop on a patient's call-back request (issue 16): the physician's office marks it
contacted, scheduled (with a time) or closed, with an optional message; the patient sees the state
and the message; a closed request is final; the same answer twice changes nothing; every change is
audited with before and after, never with the message's words; the patient is told that the office
answered (never what it said); after an amended report is released the patient may ask again."""
import json
import time
import uuid

from flows import final_study, marker, patient_path, without_request_id

LIST = "/api/v1/physician/discussion-requests"


def _answer_path(request_id):
    return "%s/%s/answer" % (LIST, request_id)


def _future(hours):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + hours * 3600))


def _asked(ctx, message=None):
    s = final_study(ctx.server)
    s.release()
    r = s.as_patient("POST", patient_path(s.study_id) + "/discussion-requests",
                     body={"message": message} if message else {})
    assert r.status == 201, r
    return s, r.json()["id"]


def _answer(s, request_id, body, token=None, headers=None):
    return s.server.request("POST", _answer_path(request_id), body=body,
                            token=token or s.physician, headers=headers)


def _request_seen_by_patient(s):
    return s.as_patient().json()["discussion"]["request"]


def _outbox(ctx, s):
    return ctx.cluster.sql("SELECT kind FROM portal.notifications WHERE patient_id = '%s' "
                           "AND kind = 'callback_answered' ORDER BY id" % s.patient_id)


def test_the_office_answers_and_the_patient_sees_it(ctx):
    s, rid = _asked(ctx, "Mornings please.")
    assert _request_seen_by_patient(s)["may_request"] is False
    when = _future(50)
    reply = "We will call you from the clinic's main number."
    r = _answer(s, rid, {"state": "scheduled", "scheduled_for": when, "reply": reply})
    assert r.status == 200, r
    a = r.json()
    assert a["state"] == "scheduled" and a["scheduled_for"] == when and a["reply"] == reply, a
    assert a["changed"] is True and a["answered_at"] and a["study_id"] == s.study_id, a
    seen = _request_seen_by_patient(s)
    assert seen["state"] == "scheduled" and seen["scheduled_for"] == when, seen
    assert seen["reply"] == reply and seen["answered_at"] == a["answered_at"], seen
    assert seen["may_request"] is False and seen["report_version"] == 1, seen
    listed = s.server.request("GET", LIST, token=s.physician).json()["requests"]
    assert [(x["id"], x["state"], x["scheduled_for"], x["reply"]) for x in listed] == \
        [(rid, "scheduled", when, reply)], listed
    # Contacted, then closed without words: the earlier message belongs to the earlier answer.
    r = _answer(s, rid, {"state": "contacted"})
    assert r.status == 200 and "reply" not in r.json() and "scheduled_for" not in r.json(), r
    seen = _request_seen_by_patient(s)
    assert seen["state"] == "contacted" and "reply" not in seen and "scheduled_for" not in seen
    r = _answer(s, rid, {"state": "closed", "reply": "Glad we could talk."})
    assert r.status == 200 and r.json()["state"] == "closed", r
    # Closed is final; asking about the same report answers the closed request.
    r = _answer(s, rid, {"state": "contacted"})
    assert r.status == 409 and r.json()["detail"] == "the request is closed", r
    again = s.as_patient("POST", patient_path(s.study_id) + "/discussion-requests", body={})
    assert again.status == 200 and again.json()["id"] == rid and again.json()["state"] == "closed"
    seen = _request_seen_by_patient(s)
    assert seen["state"] == "closed" and seen["reply"] == "Glad we could talk.", seen
    assert seen["may_request"] is False, seen


def test_the_same_answer_twice_changes_nothing(ctx):
    s, rid = _asked(ctx)
    when = _future(24)
    body = {"state": "scheduled", "scheduled_for": when, "reply": "See you then."}
    first = _answer(s, rid, body, headers={"X-Request-Id": "ans-1-" + rid})
    second = _answer(s, rid, body, headers={"X-Request-Id": "ans-2-" + rid})
    assert first.status == second.status == 200, (first, second)
    assert first.json()["changed"] is True and second.json()["changed"] is False, second
    assert second.json()["answered_at"] == first.json()["answered_at"], second
    rows = ctx.cluster.sql("SELECT request_id FROM portal.audit_log WHERE action LIKE 'discussion.%%' "
                           "AND study_id = '%s' AND actor_role = 'physician'" % s.study_id)
    assert rows == [["ans-1-" + rid]], rows
    assert _outbox(ctx, s) == [["callback_answered"]]


def test_answers_are_audited_with_before_and_after_but_not_the_words(ctx):
    s, rid = _asked(ctx)
    words = marker("REPLY")
    when = _future(30)
    r = _answer(s, rid, {"state": "scheduled", "scheduled_for": when, "reply": words},
                headers={"X-Request-Id": "audit-" + rid})
    assert r.status == 200, r
    rows = ctx.cluster.sql("SELECT actor_role, actor_id, action, study_id, client_addr, detail::text "
                           "FROM portal.audit_log WHERE request_id = 'audit-%s'" % rid)
    assert len(rows) == 1 and rows[0][:5] == ["physician", s.physician_id, "discussion.scheduled",
                                              s.study_id, "127.0.0.1"], rows
    detail = json.loads(rows[0][5])
    assert detail["request_id"] == rid and detail["reply"] is True, detail
    assert detail["before"] == {"state": "open", "scheduled_for": None}, detail
    assert detail["after"]["state"] == "scheduled" and detail["after"]["scheduled_for"], detail
    dump = "\n".join("\t".join(x) for x in ctx.cluster.sql(
        "SELECT coalesce(detail::text, '') FROM portal.audit_log"))
    assert words not in dump and words not in ctx.server.read_log()


def test_the_patient_is_told_only_of_a_time_or_a_message(ctx):
    s, rid = _asked(ctx)
    assert _answer(s, rid, {"state": "contacted"}).status == 200
    assert _outbox(ctx, s) == [], "marking contacted without words tells the patient nothing new"
    assert _answer(s, rid, {"state": "contacted", "reply": "Call us back any time."}).status == 200
    assert _outbox(ctx, s) == [["callback_answered"]]
    assert _answer(s, rid, {"state": "scheduled", "scheduled_for": _future(5),
                            "reply": "Call us back any time."}).status == 200
    assert _outbox(ctx, s) == [["callback_answered"]] * 2
    assert _answer(s, rid, {"state": "closed"}).status == 200
    assert _outbox(ctx, s) == [["callback_answered"]] * 2


def test_bad_answers_name_the_field_and_change_nothing(ctx):
    s, rid = _asked(ctx)
    bad = [
        ({}, "state: is required"),
        ({"state": "done"}, "state: must be one of"),
        ({"state": "open"}, "state: must be one of"),
        ({"state": "scheduled"}, "scheduled_for: is required"),
        ({"state": "scheduled", "scheduled_for": "tomorrow"}, "scheduled_for: must be an RFC 3339"),
        ({"state": "scheduled", "scheduled_for": "2020-01-01T09:00:00Z"},
         "scheduled_for: a scheduled discussion needs a time in the future"),
        ({"state": "closed", "reply": "r" * 2001}, "reply: must be at most 2000 bytes"),
        ({"state": "closed", "reply": 5}, "reply: must be a string"),
        ({"state": "closed", "urgent": True}, "urgent: is not a recognised field"),
    ]
    for body, detail in bad:
        r = _answer(s, rid, body)
        assert r.status == 422 and r.json()["detail"].startswith(detail), (body, r)
    assert _request_seen_by_patient(s)["state"] == "open"


def test_only_the_requests_made_to_the_physician(ctx):
    s, rid = _asked(ctx)
    other = s.server.token("physician", "NPI-OTHER-" + uuid.uuid4().hex[:8])
    theirs = _answer(s, rid, {"state": "closed"}, token=other)
    missing = _answer(s, str(uuid.uuid4()), {"state": "closed"}, token=other)
    assert theirs.status == missing.status == 404, (theirs, missing)
    assert without_request_id(theirs.json()) == without_request_id(missing.json())
    # Patients and the RIS cannot answer at all.
    assert _answer(s, rid, {"state": "closed"}, token=s.patient).status == 403
    assert _answer(s, rid, {"state": "closed"}, token=s.server.token("ris", "ris-1")).status == 403
    assert _request_seen_by_patient(s)["state"] == "open"


def test_after_an_amended_report_is_released_the_patient_may_ask_again(ctx):
    s, first = _asked(ctx)
    assert _answer(s, first, {"state": "scheduled", "scheduled_for": _future(20)}).status == 200
    s.report("amended", findings="Amended findings.")
    seen = _request_seen_by_patient(s)
    assert seen["id"] == first and seen["may_request"] is False, "not before the amendment is released"
    s.release()
    seen = _request_seen_by_patient(s)
    assert seen["id"] == first and seen["state"] == "scheduled" and seen["may_request"] is True, seen
    r = s.as_patient("POST", patient_path(s.study_id) + "/discussion-requests",
                     body={"message": "About the update?"})
    assert r.status == 201 and r.json()["id"] != first and r.json()["state"] == "open", r
    seen = _request_seen_by_patient(s)
    assert seen["id"] == r.json()["id"] and seen["report_version"] == 2, seen
    assert seen["may_request"] is False, seen
    # The physician's list: the requests still to answer, oldest first; closed ones after them.
    assert _answer(s, first, {"state": "closed"}).status == 200
    listed = s.server.request("GET", LIST, token=s.physician).json()["requests"]
    assert [(x["id"], x["state"], x["report_version"]) for x in listed] == \
        [(r.json()["id"], "open", 2), (first, "closed", 1)], listed


def test_the_front_desk_lists_and_answers_any_request(ctx):
    s, rid = _asked(ctx, "Afternoons, please.")
    staff = s.server.token("staff", "front-desk-7")
    r = s.server.request("GET", "/api/v1/staff/discussion-requests", token=staff,
                         headers={"X-Request-Id": "staff-list-" + rid})
    assert r.status == 200, r
    mine = [x for x in r.json()["requests"] if x["id"] == rid]
    assert len(mine) == 1 and mine[0]["message"] == "Afternoons, please.", r.json()
    assert mine[0]["physician"]["id"] == s.physician_id and mine[0]["state"] == "open", mine
    assert "findings" not in r.body.lower() and "Findings text." not in r.body
    listed = ctx.cluster.sql("SELECT actor_role, actor_id, action FROM portal.audit_log "
                             "WHERE request_id = 'staff-list-%s'" % rid)
    assert listed == [["staff", "front-desk-7", "staff.discussions.list"]], listed
    when = _future(30)
    r = s.server.request("POST", "/api/v1/staff/discussion-requests/%s/answer" % rid, token=staff,
                         body={"state": "scheduled", "scheduled_for": when},
                         headers={"X-Request-Id": "staff-answer-" + rid})
    assert r.status == 200 and r.json()["state"] == "scheduled", r
    rows = ctx.cluster.sql("SELECT actor_role, actor_id, action FROM portal.audit_log "
                           "WHERE request_id = 'staff-answer-%s'" % rid)
    assert rows == [["staff", "front-desk-7", "discussion.scheduled"]], rows
    assert _request_seen_by_patient(s)["scheduled_for"] == when
    # Once closed it leaves the front desk's list; physicians and patients cannot use these paths.
    assert s.server.request("POST", "/api/v1/staff/discussion-requests/%s/answer" % rid,
                            token=staff, body={"state": "closed"}).status == 200
    r = s.server.request("GET", "/api/v1/staff/discussion-requests", token=staff)
    assert rid not in r.body, r
    for token in (s.physician, s.patient):
        assert s.server.request("GET", "/api/v1/staff/discussion-requests", token=token).status == 403
        assert s.server.request("POST", "/api/v1/staff/discussion-requests/%s/answer" % rid,
                                token=token, body={"state": "closed"}).status == 403
