"""Issue 20, defect 5: a sign-out, a new password, a new access code and an operator's
`portald end-sessions` end every earlier token of that person at once, on every instance; and
defect 11: a replay of the answer that carried a new patient's access code says the code was not
repeated, and an operator sees who needs a new one."""
import subprocess
import time
import uuid

import harness
from flows import PATIENT_LIST, Study

SESSION = "/api/v1/session"
PHYS_SESSION = "/api/v1/physician/session"
WORKLIST = "/api/v1/physician/worklist"


def _patient_token(server, study):
    r = server.request("POST", SESSION, body={"access_code": study.access_code,
                                              "birth_date": "1985-12-10"})
    assert r.status == 201, r
    return r.json()["token"]


def _cli(server, *args, stdin=None):
    return subprocess.run([harness.PORTALD, *args], env=server.env, input=stdin,
                          capture_output=True, text=True, cwd=harness.ROOT)


def _eventually(fn, seconds=10.0):
    deadline = time.time() + seconds
    while True:
        if fn() or time.time() > deadline:
            return fn()
        time.sleep(0.02)


def test_sign_out_ends_the_token_on_every_instance(ctx):
    other = harness.Server(ctx.cluster)
    try:
        st = Study(ctx.server)
        token = _patient_token(ctx.server, st)
        second = _patient_token(ctx.server, st)  # another device of the same patient
        for srv in (ctx.server, other):
            assert srv.request("GET", PATIENT_LIST, token=token).status == 200
        r = ctx.server.request("DELETE", SESSION, token=token)
        assert r.status == 200, r
        # On the instance that signed out, at once; on the other, as soon as its NOTIFY lands.
        assert ctx.server.request("GET", PATIENT_LIST, token=token).status == 401
        assert ctx.server.request("GET", PATIENT_LIST, token=second).status == 401
        assert _eventually(lambda: other.request("GET", PATIENT_LIST, token=token).status == 401)
        ended = other.request("GET", PATIENT_LIST, token=second)
        assert ended.status == 401 and ended.json()["detail"] == \
            "This session has ended; sign in again.", ended
        # Signing in again, even within the same second, gives a token that works everywhere.
        fresh = _patient_token(ctx.server, st)
        for srv in (ctx.server, other):
            assert srv.request("GET", PATIENT_LIST, token=fresh).status == 200
        # And a second sign-out in the same second ends that one too.
        assert ctx.server.request("DELETE", SESSION, token=fresh).status == 200
        assert ctx.server.request("GET", PATIENT_LIST, token=fresh).status == 401
    finally:
        other.stop()


def test_sign_out_by_cookie_ends_the_cookie_token(ctx):
    st = Study(ctx.server)
    token = _patient_token(ctx.server, st)
    cookie = {"Cookie": "portal_session=" + token}
    assert ctx.server.request("GET", PATIENT_LIST, headers=cookie).status == 200
    assert ctx.server.request("DELETE", SESSION, headers=cookie).status == 200
    assert ctx.server.request("GET", PATIENT_LIST, headers=cookie).status == 401


def test_an_instance_that_lost_its_listener_asks_the_database(ctx):
    other = harness.Server(ctx.cluster)
    try:
        st = Study(ctx.server)
        token = _patient_token(ctx.server, st)
        assert other.request("GET", PATIENT_LIST, token=token).status == 200
        # Cut every instance's revocation listener: they fall back to reading the table.
        ctx.cluster.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'portald-sessions'")
        ctx.cluster.sql("SELECT portal.revoke_sessions('patient', '%s')" % st.patient_id)
        assert _eventually(lambda: other.request("GET", PATIENT_LIST, token=token).status == 401)
    finally:
        other.stop()


def test_new_access_code_new_password_and_operator_end_sessions(ctx):
    st = Study(ctx.server)
    token = _patient_token(ctx.server, st)
    out = _cli(ctx.server, "access-code", st.mrn)
    assert out.returncode == 0, out.stderr
    # The command cannot wait until the running server has heard (it is not that server): the
    # server hears of it as any other instance does, by its own listener, within milliseconds.
    assert _eventually(lambda: ctx.server.request("GET", PATIENT_LIST, token=token).status == 401)

    password = "pw-" + uuid.uuid4().hex
    assert _cli(ctx.server, "set-password", st.physician_id, stdin=password + "\n").returncode == 0
    r = ctx.server.request("POST", PHYS_SESSION, body={"physician_id": st.physician_id,
                                                       "password": password})
    assert r.status == 201, r
    phys = r.json()["token"]
    assert ctx.server.request("GET", WORKLIST, token=phys).status == 200
    assert _cli(ctx.server, "set-password", st.physician_id,
                stdin="pw-" + uuid.uuid4().hex + "\n").returncode == 0
    assert _eventually(lambda: ctx.server.request("GET", WORKLIST, token=phys).status == 401)

    # A token from elsewhere (an identity provider, `portald token`) ends the same way.
    ris = ctx.server.token("ris", "ris-" + uuid.uuid4().hex[:8])
    assert ctx.server.request("GET", WORKLIST, token=ris).status == 403
    out = _cli(ctx.server, "end-sessions", "ris", _sub_of(ris))
    assert out.returncode == 0, out.stderr
    assert _eventually(lambda: ctx.server.request("POST", "/api/v1/ingest/events",
                                                  body=harness.event(), token=ris).status == 401)
    assert _cli(ctx.server, "end-sessions", "nobody", "x").returncode == 2


def _sub_of(token):
    import base64
    import json
    seg = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))["sub"]


def test_replay_of_the_answer_with_the_code_says_so(ctx):
    # Defect 11: the code was in the first answer only; a replay (the RIS retrying after a lost
    # answer) was answered from the stored answer without it, and nothing told anyone.
    e = harness.event()
    ris = ctx.server.ris()
    first = ctx.server.request("POST", "/api/v1/ingest/events", body=e, token=ris)
    assert first.status == 200 and "access_code" in first.json(), first
    assert "access_code_status" not in first.json()
    again = ctx.server.request("POST", "/api/v1/ingest/events", body=e, token=ris)
    assert again.status == 200, again
    a = again.json()
    assert a.get("access_code_status") == "not_repeated" and "access_code" not in a, a
    assert first.json()["access_code"] not in ctx.server.read_log()
    out = _cli(ctx.server, "access-codes-pending")
    assert out.returncode == 0, out.stderr
    assert e["patient"]["mrn"] in out.stdout, out.stdout
    # A later event for the same patient is no replay of that answer: nothing to say.
    later = harness.event(mrn=e["patient"]["mrn"])
    b = ctx.server.request("POST", "/api/v1/ingest/events", body=later, token=ris).json()
    assert "access_code_status" not in b, b
    # The operator's new code clears the mark, and a replay after it says nothing more.
    assert _cli(ctx.server, "access-code", e["patient"]["mrn"]).returncode == 0
    assert e["patient"]["mrn"] not in _cli(ctx.server, "access-codes-pending").stdout
    c = ctx.server.request("POST", "/api/v1/ingest/events", body=e, token=ris).json()
    assert "access_code_status" not in c, c
