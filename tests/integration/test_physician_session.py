"""Physician sign-in for the web page (POST /api/v1/physician/session) and `portald
set-password`: token and cookie with role physician, identical refusals for a wrong id and a
wrong password, the throttle per id and per address, audit rows, and the password kept only as an
argon2id hash. Tokens from an identity provider keep working beside it (test_identity)."""
import re
import subprocess
import uuid

import harness
from flows import Study, without_request_id

SESSION = "/api/v1/physician/session"
COOKIE = re.compile(r"^portal_session=([A-Za-z0-9_.-]+); Path=/; Max-Age=(\d+); HttpOnly; Secure; "
                    r"SameSite=Strict$")


def _set_password(server, physician_id, password):
    return subprocess.run([harness.PORTALD, "set-password", physician_id], env=server.env,
                          input=password + "\n", capture_output=True, text=True, cwd=harness.ROOT)


def _physician_with_password(server):
    s = Study(server)
    password = "pw-" + uuid.uuid4().hex
    out = _set_password(server, s.physician_id, password)
    assert out.returncode == 0, out.stderr
    return s, password


def _login(server, physician_id, password):
    return server.request("POST", SESSION, body={"physician_id": physician_id,
                                                 "password": password})


def _forget_failures(cluster):
    """Gives back the shared address's failure budget so later tests can still sign in."""
    cluster.sql("DELETE FROM portal.login_throttle WHERE key LIKE 'addr:%' OR key LIKE 'phys:%'")


def test_physician_login_gives_token_and_cookie_for_the_worklist(ctx):
    s, password = _physician_with_password(ctx.server)
    r = _login(ctx.server, s.physician_id, password)
    assert r.status == 201, r
    assert set(r.json()) == {"token", "expires_at"}, r.json()
    m = COOKIE.match(r.header("Set-Cookie") or "")
    assert m and m.group(1) == r.json()["token"], r.header("Set-Cookie")
    w = ctx.server.request("GET", "/api/v1/physician/worklist",
                           headers={"Cookie": "portal_session=" + m.group(1)})
    assert w.status == 200, w
    p = ctx.server.request("GET", "/api/v1/patient/studies",
                           headers={"Cookie": "portal_session=" + m.group(1)})
    assert p.status == 403, p


def test_wrong_password_unknown_id_and_no_password_answer_alike(ctx):
    s, password = _physician_with_password(ctx.server)
    no_pw = Study(ctx.server)
    answers = [_login(ctx.server, s.physician_id, password + "x"),
               _login(ctx.server, "NPI-NOBODY-" + uuid.uuid4().hex[:8], password),
               _login(ctx.server, no_pw.physician_id, password)]
    for a in answers:
        assert a.status == 401, a
        assert a.header("Set-Cookie") is None, a
    bodies = [without_request_id(a.json()) for a in answers]
    assert bodies[0] == bodies[1] == bodies[2], bodies
    _forget_failures(ctx.cluster)


def test_ids_with_quotes_and_backslashes_are_refused_cleanly(ctx):
    for weird in ['a"b', 'a\\b', '{x,y}', '"', "'; DROP TABLE x; --"]:
        r = _login(ctx.server, weird, "whatever-password")
        assert r.status == 401, (weird, r)
    _forget_failures(ctx.cluster)


def test_five_failures_lock_the_id_even_for_the_right_password(ctx):
    s, password = _physician_with_password(ctx.server)
    for i in range(5):
        assert _login(ctx.server, s.physician_id, "wrong-%d" % i).status == 401
    r = _login(ctx.server, s.physician_id, password)
    assert r.status == 429, r
    assert r.header("Retry-After") == "900", r
    assert r.header("Set-Cookie") is None
    _forget_failures(ctx.cluster)
    assert _login(ctx.server, s.physician_id, password).status == 201


def test_sign_in_is_audited(ctx):
    s, password = _physician_with_password(ctx.server)
    rid = "phys-login-" + uuid.uuid4().hex[:8]
    ctx.server.request("POST", SESSION, body={"physician_id": s.physician_id, "password": "nope"},
                       headers={"X-Request-Id": rid + "-f"})
    ctx.server.request("POST", SESSION, body={"physician_id": s.physician_id, "password": password},
                       headers={"X-Request-Id": rid + "-s"})
    rows = ctx.cluster.sql("SELECT actor_role, actor_id, action, request_id FROM portal.audit_log "
                           "WHERE request_id LIKE '%s%%' ORDER BY id" % rid)
    assert rows == [["physician", s.physician_id, "login.failure", rid + "-f"],
                    ["physician", s.physician_id, "login.success", rid + "-s"]], rows
    _forget_failures(ctx.cluster)


def test_body_is_validated(ctx):
    r = ctx.server.request("POST", SESSION, body={"physician_id": "x", "password": "y", "role": "ris"})
    assert r.status == 422, r
    r = ctx.server.request("POST", SESSION, body={"physician_id": "x"})
    assert r.status == 422 and "password" in r.json()["detail"], r
    r = ctx.server.request("POST", SESSION, body={"physician_id": "x" * 65, "password": "y"})
    assert r.status == 422 and "physician_id" in r.json()["detail"], r


def test_set_password_stores_only_an_argon2id_hash(ctx):
    s, password = _physician_with_password(ctx.server)
    rows = ctx.cluster.sql("SELECT password_hash FROM portal.physicians WHERE id = '%s'"
                           % s.physician_id)
    assert rows[0][0].startswith("$argon2id$"), rows
    assert password not in rows[0][0]
    # Setting it again replaces it: the old password stops working.
    assert _set_password(ctx.server, s.physician_id, password + "-new").returncode == 0
    assert _login(ctx.server, s.physician_id, password).status == 401
    assert _login(ctx.server, s.physician_id, password + "-new").status == 201
    _forget_failures(ctx.cluster)


def test_set_password_refuses_short_passwords_and_unknown_ids(ctx):
    s = Study(ctx.server)
    short = _set_password(ctx.server, s.physician_id, "short")
    assert short.returncode == 1 and "at least 12" in short.stderr, short
    unknown = _set_password(ctx.server, "NPI-NOBODY-" + uuid.uuid4().hex[:8], "long-enough-password")
    assert unknown.returncode == 1 and "no physician" in unknown.stderr, unknown
    usage = subprocess.run([harness.PORTALD, "set-password"], env=ctx.server.env,
                           capture_output=True, text=True, input="")
    assert usage.returncode == 2, usage
    for out in (short, unknown):
        assert "long-enough-password" not in out.stderr + out.stdout
