"""The audit log (CONTRACT invariant 4): every release, hold, sign-in (success and failure) and read
of report content leaves a row with actor, action, study, client address and the request id the
proxy sent; the server's role can only append to it."""
import uuid

from flows import PATIENT_LIST, Study, final_study, marker, patient_path


def _rid(tag):
    return "%s-%s" % (tag, uuid.uuid4().hex)


def _rows(cluster, request_id):
    return cluster.sql("SELECT actor_role, actor_id, action, coalesce(study_id::text, ''), "
                       "client_addr, request_id, coalesce(detail::text, '') FROM portal.audit_log "
                       "WHERE request_id = '%s' ORDER BY id" % request_id)


def test_release_and_hold_are_audited_with_request_id(ctx):
    s = final_study(ctx.server)
    rid = _rid("hold")
    r = s.as_physician("POST", "hold", body={"reason": "Wait"}, headers={"X-Request-Id": rid})
    assert r.status == 201 and r.header("X-Request-Id") == rid, r
    rows = _rows(ctx.cluster, rid)
    assert [x[:6] for x in rows] == [["physician", s.physician_id, "report.hold", s.study_id,
                                      "127.0.0.1", rid]], rows
    rid = _rid("release")
    r = s.as_physician("POST", "release", body={"note": "n"}, headers={"X-Request-Id": rid})
    assert r.status == 200, r
    rows = _rows(ctx.cluster, rid)
    assert [x[:6] for x in rows] == [["physician", s.physician_id, "report.release", s.study_id,
                                      "127.0.0.1", rid]], rows
    # Releasing again changes nothing, so it records no second release.
    rid2 = _rid("again")
    s.as_physician("POST", "release", body={}, headers={"X-Request-Id": rid2})
    assert [x for x in _rows(ctx.cluster, rid2) if x[2] == "report.release"] == []


def test_every_read_of_report_content_is_audited(ctx):
    text = marker("A")
    s = final_study(ctx.server, findings=text, impression=text)
    rid = _rid("phys-read")
    assert s.as_physician(headers={"X-Request-Id": rid}).status == 200
    assert [x[:6] for x in _rows(ctx.cluster, rid)] == [
        ["physician", s.physician_id, "report.read", s.study_id, "127.0.0.1", rid]]
    # Before release the patient reads no content, so nothing is recorded as read.
    rid = _rid("early")
    assert s.as_patient(headers={"X-Request-Id": rid}).status == 200
    assert _rows(ctx.cluster, rid) == []
    s.release()
    rid = _rid("pat-read")
    r = s.as_patient(headers={"X-Request-Id": rid})
    assert r.status == 200 and r.json()["report"]["findings"] == text
    assert [x[:6] for x in _rows(ctx.cluster, rid)] == [
        ["patient", s.patient_id, "report.read", s.study_id, "127.0.0.1", rid]]
    # The list shows no content, so it is not a read.
    rid = _rid("list")
    assert s.as_patient(path=PATIENT_LIST, headers={"X-Request-Id": rid}).status == 200
    assert _rows(ctx.cluster, rid) == []
    # The log holds who and what, never the words.
    hits = ctx.cluster.sql("SELECT count(*) FROM portal.audit_log WHERE detail::text LIKE '%%%s%%'"
                           % text)
    assert hits == [["0"]], hits


def test_sign_in_success_and_failure_are_audited(ctx):
    s = Study(ctx.server)
    rid = _rid("login-bad")
    r = ctx.server.request("POST", "/api/v1/session", headers={"X-Request-Id": rid},
                           body={"access_code": s.access_code, "birth_date": "1999-01-01"})
    assert r.status == 401, r
    try:
        assert [x[:6] for x in _rows(ctx.cluster, rid)] == [
            ["patient", s.patient_id, "login.failure", "", "127.0.0.1", rid]]
        rid = _rid("login-unknown")
        r = ctx.server.request("POST", "/api/v1/session", headers={"X-Request-Id": rid},
                               body={"access_code": "0000-0000-0000-0000",
                                     "birth_date": "1999-01-01"})
        assert r.status == 401
        assert [x[:6] for x in _rows(ctx.cluster, rid)] == [
            ["patient", "-", "login.failure", "", "127.0.0.1", rid]]
        rid = _rid("login-ok")
        r = ctx.server.request("POST", "/api/v1/session", headers={"X-Request-Id": rid},
                               body={"access_code": s.access_code, "birth_date": "1985-12-10"})
        assert r.status == 201, r
        assert [x[:6] for x in _rows(ctx.cluster, rid)] == [
            ["patient", s.patient_id, "login.success", "", "127.0.0.1", rid]]
        # Neither the code nor the token is recorded.
        dump = "\n".join("\t".join(x) for x in ctx.cluster.sql(
            "SELECT actor_id, action, coalesce(detail::text, '') FROM portal.audit_log"))
        assert s.access_code not in dump and r.json()["token"] not in dump
    finally:
        ctx.cluster.sql("DELETE FROM portal.login_throttle WHERE key LIKE 'addr:%'")


def test_discussion_request_is_audited(ctx):
    s = final_study(ctx.server)
    s.release()
    rid = _rid("disc")
    r = s.as_patient("POST", patient_path(s.study_id) + "/discussion-requests", body={},
                     headers={"X-Request-Id": rid})
    assert r.status == 201, r
    assert [x[:6] for x in _rows(ctx.cluster, rid)] == [
        ["patient", s.patient_id, "discussion.request", s.study_id, "127.0.0.1", rid]]


def test_audit_log_is_append_only(ctx):
    for url, why in ((ctx.cluster.app_url, "permission denied"),
                     (ctx.cluster.owner_url, "append-only")):
        for stmt in ("UPDATE portal.audit_log SET actor_id = 'x'",
                     "DELETE FROM portal.audit_log", "TRUNCATE portal.audit_log"):
            try:
                ctx.cluster.sql(stmt, url=url)
            except RuntimeError as e:
                assert why in str(e) or "permission denied" in str(e), (stmt, e)
            else:
                raise AssertionError("%s succeeded as %s" % (stmt, url))
    # The server's role may append (that is how it records sign-ins).
    ctx.cluster.sql("INSERT INTO portal.audit_log (actor_role, actor_id, action) "
                    "VALUES ('test', 'test', 'test.append')", url=ctx.cluster.app_url)
