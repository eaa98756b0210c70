"""Patient sign-in (CONTRACT "POST /api/v1/session"): token and cookie, identical refusals
whichever part was wrong, the throttle (kept in the database, so it survives a restart), the
cookie as a credential with its Origin check for writes (CSRF), and sign-out."""
import re
import time
import uuid

import harness
from flows import PATIENT_LIST, Study, final_study, patient_path, without_request_id

SESSION = "/api/v1/session"
BIRTH = "1985-12-10"
COOKIE = re.compile(r"^portal_session=([A-Za-z0-9_.-]+); Path=/; Max-Age=(\d+); HttpOnly; Secure; "
                    r"SameSite=Strict$")


def _login(server, code, birth=BIRTH, headers=None):
    return server.request("POST", SESSION, body={"access_code": code, "birth_date": birth},
                          headers=headers)


def _forget_address_failures(cluster):
    """Every test connects from 127.0.0.1, which has its own failure budget; a test that spends
    some on the shared cluster gives them back so later tests can still sign in."""
    cluster.sql("DELETE FROM portal.login_throttle WHERE key LIKE 'addr:%'")


def _random_code():
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    raw = "".join(alphabet[b & 31] for b in uuid.uuid4().bytes)
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def test_login_gives_token_and_strict_cookie(ctx):
    s = Study(ctx.server)
    before = int(time.time())
    r = _login(ctx.server, s.access_code)
    assert r.status == 201, r
    body = r.json()
    assert set(body) == {"token", "expires_at"}, body
    m = COOKIE.match(r.header("Set-Cookie") or "")
    assert m, r.header("Set-Cookie")
    assert m.group(1) == body["token"] and m.group(2) == "1800", m.groups()
    exp = time.mktime(time.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + 1790 <= exp <= time.time() + 1810, body
    mine = ctx.server.request("GET", PATIENT_LIST, token=body["token"]).json()["studies"]
    assert [x["id"] for x in mine] == [s.study_id], mine
    # The code as a patient might type it: lower case, no dashes, spaces, O for 0 and l for 1.
    typed = s.access_code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert _login(ctx.server, typed).status == 201


def test_wrong_code_and_wrong_birth_date_answer_alike(ctx):
    s = Study(ctx.server)
    other = Study(ctx.server)
    code = s.access_code
    flipped = code[:-1] + ("A" if code[-1] != "A" else "B")
    answers = [_login(ctx.server, code, birth="1985-12-11"),
               _login(ctx.server, flipped),
               _login(ctx.server, other.access_code[:10] + code[10:]),
               _login(ctx.server, _random_code()),
               _login(ctx.server, "not a code at all")]
    try:
        for r in answers:
            assert r.status == 401, r
            assert r.header("Set-Cookie") is None, r.headers
        first = without_request_id(answers[0].json())
        assert first["detail"] == "The access code and birth date do not match our records.", first
        for r in answers[1:]:
            assert without_request_id(r.json()) == first, (answers[0], r)
            assert len(r.body) - len(r.json()["request_id"]) == \
                len(answers[0].body) - len(answers[0].json()["request_id"])
            assert sorted(k for k, _ in r.headers if k not in ("Date", "X-Request-Id")) == \
                sorted(k for k, _ in answers[0].headers if k not in ("Date", "X-Request-Id"))
        # The right pair still works: four failures do not lock.
        assert _login(ctx.server, code).status == 201
    finally:
        _forget_address_failures(ctx.cluster)


def test_login_validation(ctx):
    for body, detail in [({"access_code": "ABCD-EFGH-JKMN-PQRS"}, "birth_date: is required"),
                         ({"birth_date": BIRTH}, "access_code: is required"),
                         ({"access_code": "x", "birth_date": "12/10/1985"},
                          "birth_date: must be a date"),
                         ({"access_code": "x", "birth_date": BIRTH, "mrn": "1"},
                          "mrn: is not a recognised field")]:
        r = ctx.server.request("POST", SESSION, body=body)
        assert r.status == 422 and r.json()["detail"].startswith(detail), (body, r)


def test_throttle_locks_and_survives_restart(ctx):
    cluster = harness.Cluster("throttle")
    server = harness.Server(cluster)
    try:
        s = Study(server)
        for i in range(5):
            r = _login(server, s.access_code, birth="2000-01-01")
            assert r.status == 401, (i, r)
        r = _login(server, s.access_code)
        assert r.status == 429, r
        assert r.header("Retry-After") == "900", r.headers
        assert r.json()["detail"] == "Too many sign-in attempts; try again in 15 minutes.", r
        assert r.header("Set-Cookie") is None
        server.stop()
        server.start()
        r = _login(server, s.access_code)
        assert r.status == 429 and r.header("Retry-After") == "900", r
        # Per client address: 20 failures over any codes lock every code from that address.
        t = Study(server)
        for i in range(15):
            assert _login(server, _random_code()).status == 401, i
        r = _login(server, t.access_code)
        assert r.status == 429, r
        rows = cluster.sql("SELECT key FROM portal.login_throttle WHERE locked_until > now() "
                           "ORDER BY key")
        assert [k for (k,) in rows] == ["addr:127.0.0.1", "code:" +
                                        s.access_code.replace("-", "")[:8]], rows
    finally:
        server.stop()
        cluster.destroy()


def _signed_in(server):
    s = final_study(server)
    s.release()
    r = _login(server, s.access_code)
    assert r.status == 201, r
    return s, r.json()["token"]


def test_cookie_authenticates_reads(ctx):
    s, token = _signed_in(ctx.server)
    r = ctx.server.request("GET", patient_path(s.study_id),
                           headers={"Cookie": "portal_session=" + token})
    assert r.status == 200 and r.json()["id"] == s.study_id, r
    r = ctx.server.request("GET", PATIENT_LIST,
                           headers={"Cookie": "other=1; portal_session=" + token + "; x=y"})
    assert r.status == 200 and len(r.json()["studies"]) == 1, r
    for cookie in ("portal_sessionX=" + token, "portal_session=" + token[:-3], "portal_session="):
        r = ctx.server.request("GET", PATIENT_LIST, headers={"Cookie": cookie})
        assert r.status == 401, (cookie, r)


def test_cookie_writes_need_our_origin(ctx):
    s, token = _signed_in(ctx.server)
    path = patient_path(s.study_id) + "/discussion-requests"
    cookie = {"Cookie": "portal_session=" + token}
    for origin in (None, "https://evil.example", "null", "http://127.0.0.1:1",
                   "http://127.0.0.1:%d.evil.example" % ctx.server.port):
        h = dict(cookie)
        if origin:
            h["Origin"] = origin
        r = ctx.server.request("POST", path, body={"message": "hi"}, headers=h)
        assert r.status == 403, (origin, r)
        assert r.json()["detail"] == "Cross-site request refused: the Origin is not allowed.", r
    assert ctx.cluster.sql("SELECT count(*) FROM portal.discussion_requests WHERE study_id = '%s'"
                           % s.study_id) == [["0"]]
    h = dict(cookie, Origin="http://127.0.0.1:%d" % ctx.server.port)
    r = ctx.server.request("POST", path, body={"message": "hi"}, headers=h)
    assert r.status == 201, r
    # A bearer token is not sent by the browser on its own, so it needs no Origin.
    r = ctx.server.request("POST", path, body={"message": "hi"}, token=token)
    assert r.status == 200, r


def test_sign_out_clears_the_cookie(ctx):
    r = ctx.server.request("DELETE", SESSION)
    assert r.status == 200 and r.json() == {"status": "signed_out"}, r
    assert r.header("Set-Cookie") == ("portal_session=; Path=/; Max-Age=0; HttpOnly; Secure; "
                                      "SameSite=Strict"), r.headers


def test_malformed_codes_count_against_the_address_only(ctx):
    # A malformed code names no patient: it must not share one throttle key with every other
    # malformed attempt (which would lock them all after five), only count against the address.
    cluster = harness.Cluster("malformed")
    server = harness.Server(cluster)
    try:
        for i in range(7):
            r = server.request("POST", "/api/v1/session",
                               body={"access_code": "not-a-code", "birth_date": "1985-12-10"})
            assert r.status == 401, (i, r)
        rows = cluster.sql("SELECT key, failures FROM portal.login_throttle ORDER BY key")
        assert rows == [["addr:127.0.0.1", "7"]], rows
    finally:
        server.stop()
        cluster.destroy()


def test_bearer_scheme_is_case_insensitive(ctx):
    tok = harness.Server.token("patient", "00000000-0000-0000-0000-0000000000aa")
    r = ctx.server.request("GET", "/api/v1/patient/studies", headers={"Authorization": "bearer " + tok})
    assert r.status == 200, r
