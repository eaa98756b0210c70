"""A proxy who is also a patient (issue 16, docs/web.md#proxy-access): staff or an operator record
that they are the same person (audited, refused when the birth dates differ or the patient is
another proxy's), and one sign-in then switches between the people they follow and their own
record: each switch answers a new token of the other role, audited as a session created by
switching, ending no later than the one it came from. Each token keeps its one role; signing out,
or a new code, ends both identities' sessions."""
import base64
import json
import time
import uuid

import harness
from proxies import AgedStudy, Proxy, fields, portald


def claims(token):
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def refused_soon(ctx, path, token):
    """The status of GET path once the server has heard a revocation made by another process
    (portald at the command line: its notice reaches the server's listener, not this request)."""
    for _ in range(50):
        r = ctx.server.request("GET", path, token=token)
        if r.status == 401:
            return 401
        time.sleep(0.1)
    return r.status


def same_person(ctx):
    """A 45-year-old patient with a study, who is also a proxy following a child."""
    me = AgedStudy(ctx.server, 45)
    child = AgedStudy(ctx.server, 6)
    p = Proxy(ctx.server, name="Pat Parent", birth_date=me._birth, patient_mrn=me.mrn)
    assert "also patient" in p.added, p.added
    p.grant(child.mrn, "guardian")
    return me, child, p


def test_a_proxy_switches_to_their_own_record_and_back_with_one_sign_in(ctx):
    me, child, p = same_person(ctx)
    proxy_token = p.sign_in()
    assert p.get("/api/v1/proxy/own-record").json() == {"available": True}
    r = ctx.server.request("POST", "/api/v1/proxy/own-record", token=proxy_token)
    assert r.status == 201, r
    patient_token = r.json()["token"]
    assert "portal_session=" + patient_token in r.header("Set-Cookie"), r.header("Set-Cookie")
    assert "HttpOnly" in r.header("Set-Cookie")
    c = claims(patient_token)
    assert (c["role"], c["sub"]) == ("patient", me.patient_id), c
    # The new session ends no later than the one it came from.
    assert c["exp"] <= claims(proxy_token)["exp"], (c, claims(proxy_token))
    studies = ctx.server.request("GET", "/api/v1/patient/studies", token=patient_token).json()
    assert [s["id"] for s in studies["studies"]] == [me.study_id], studies
    # One role per token: the proxy's token still cannot reach the patient's endpoints.
    assert ctx.server.request("GET", "/api/v1/patient/studies", token=proxy_token).status == 403

    # And back: the patient page offers family access.
    assert ctx.server.request("GET", "/api/v1/patient/family-access",
                              token=patient_token).json() == {"available": True}
    back = ctx.server.request("POST", "/api/v1/patient/family-access", token=patient_token)
    assert back.status == 201, back
    c2 = claims(back.json()["token"])
    assert (c2["role"], c2["sub"]) == ("proxy", p.id), c2
    follows = ctx.server.request("GET", "/api/v1/proxy/patients", token=back.json()["token"])
    assert [x["id"] for x in follows.json()["patients"]] == [child.patient_id], follows
    # A patient token cannot use the proxy's endpoints either.
    assert ctx.server.request("GET", "/api/v1/proxy/patients", token=patient_token).status == 403

    rows = ctx.cluster.sql(
        "SELECT actor_role, actor_id, detail->>'from_role', detail->>'proxy_id', "
        "detail->>'patient_id', request_id IS NOT NULL FROM portal.audit_log "
        "WHERE action = 'login.switch' AND (actor_id = '%s' OR actor_id = '%s') ORDER BY id"
        % (me.patient_id, p.id))
    assert rows == [["patient", me.patient_id, "proxy", p.id, me.patient_id, "t"],
                    ["proxy", p.id, "patient", p.id, me.patient_id, "t"]], rows


def test_a_switch_is_refused_when_not_the_same_person(ctx):
    alone = AgedStudy(ctx.server, 40)
    other = Proxy(ctx.server)
    token = other.sign_in()
    assert other.get("/api/v1/proxy/own-record").json() == {"available": False}
    r = ctx.server.request("POST", "/api/v1/proxy/own-record", token=token)
    assert r.status == 404 and r.header("Content-Type").startswith("application/problem+json"), r
    assert "not recorded you as one of its patients" in r.json()["detail"], r.json()
    assert ctx.server.request("GET", "/api/v1/patient/family-access",
                              token=alone.patient).json() == {"available": False}
    r = ctx.server.request("POST", "/api/v1/patient/family-access", token=alone.patient)
    assert r.status == 404 and "following anyone" in r.json()["detail"], r.json()
    # Another role has nothing to switch from.
    for path in ("/api/v1/proxy/own-record", "/api/v1/patient/family-access"):
        r = ctx.server.request("POST", path, token=harness.Server.token("physician", "NPI-X"))
        assert r.status == 403, (path, r)
    assert ctx.cluster.sql("SELECT count(*) FROM portal.audit_log WHERE action = 'login.switch' "
                           "AND actor_id IN ('%s', '%s')" % (alone.patient_id, other.id)) \
        == [["0"]]
    # In Spanish, the reason is in Spanish.
    r = ctx.server.request("POST", "/api/v1/proxy/own-record", token=token,
                           headers={"Accept-Language": "es"})
    assert r.status == 404 and r.header("Content-Language") == "es", r
    assert "not recorded" not in r.json()["detail"], r.json()


def test_recording_the_same_person_is_checked_and_audited(ctx):
    me = AgedStudy(ctx.server, 50)
    p = Proxy(ctx.server, birth_date="1960-01-01")
    out = portald(ctx.server, "proxy-patient", p.id, me.mrn, check=False)
    assert out.returncode == 1 and "birth dates differ" in out.stderr, out
    out = portald(ctx.server, "proxy-patient", p.id, "MRN-NOBODY-" + uuid.uuid4().hex[:6],
                  check=False)
    assert out.returncode == 1 and "mrn" in out.stderr, out
    out = portald(ctx.server, "proxy-add", "Nobody", "1960-01-01", "--patient", "MRN-NONE",
                  check=False)
    assert out.returncode == 1, out
    assert ctx.cluster.sql("SELECT count(*) FROM portal.proxies WHERE name = 'Nobody'") == [["0"]]

    # The front desk records it; a second proxy for the same patient is refused.
    q = Proxy(ctx.server, birth_date=me._birth)
    desk = "desk-same-" + uuid.uuid4().hex[:6]
    staff = harness.Server.token("staff", desk)
    path = "/api/v1/staff/proxies/%s/patient" % q.id
    r = ctx.server.request("PUT", path, token=staff, body={"patient_id": me.patient_id})
    assert r.status == 200 and r.json() == {"proxy_id": q.id, "patient_id": me.patient_id}, r
    r2 = Proxy(ctx.server, birth_date=me._birth)
    r = ctx.server.request("PUT", "/api/v1/staff/proxies/%s/patient" % r2.id, token=staff,
                           body={"patient_id": me.patient_id})
    assert r.status == 409 and "another proxy" in r.json()["detail"], r
    r = ctx.server.request("PUT", path, token=staff, body={})
    assert r.status == 422 and "patient_id" in r.json()["detail"], r
    r = ctx.server.request("PUT", path, token=staff, body={"patient_id": str(uuid.uuid4())})
    assert r.status == 404, r
    r = ctx.server.request("PUT", path, token=harness.Server.token("patient", me.patient_id),
                           body={"patient_id": me.patient_id})
    assert r.status == 403, r

    # Switched into the record, then the desk clears it: that session ends and no switch is left.
    switched = ctx.server.request("POST", "/api/v1/proxy/own-record", token=q.sign_in())
    assert switched.status == 201, switched
    patient_token = switched.json()["token"]
    r = ctx.server.request("PUT", path, token=staff, body={"patient_id": None})
    assert r.status == 200 and r.json() == {"proxy_id": q.id, "patient_id": None}, r
    assert ctx.server.request("GET", "/api/v1/patient/studies", token=patient_token).status == 401
    assert ctx.server.request("POST", "/api/v1/proxy/own-record", token=q.token).status == 404
    rows = ctx.cluster.sql(
        "SELECT actor_role, actor_id, detail->'before'->>'patient_id', "
        "detail->'after'->>'patient_id' FROM portal.audit_log "
        "WHERE action = 'proxy.same_person' AND detail->>'proxy_id' = '%s' ORDER BY id" % q.id)
    assert rows == [["staff", desk, "", me.patient_id], ["staff", desk, me.patient_id, ""]], \
        rows


def test_signing_out_or_a_new_code_ends_both_identities(ctx):
    me, _child, p = same_person(ctx)
    proxy_token = p.sign_in()
    patient_token = ctx.server.request("POST", "/api/v1/proxy/own-record",
                                       token=proxy_token).json()["token"]
    # Signing out on the patient's page ends the proxy's session too.
    assert ctx.server.request("DELETE", "/api/v1/session", token=patient_token).status == 200
    assert ctx.server.request("GET", "/api/v1/patient/studies", token=patient_token).status == 401
    assert ctx.server.request("GET", "/api/v1/proxy/patients", token=proxy_token).status == 401
    assert ctx.server.request("POST", "/api/v1/proxy/own-record", token=proxy_token).status == 401

    # A new proxy code ends the patient sessions a proxy session could have opened.
    proxy_token = p.sign_in()
    patient_token = ctx.server.request("POST", "/api/v1/proxy/own-record",
                                       token=proxy_token).json()["token"]
    portald(ctx.server, "proxy-code", p.id)
    assert refused_soon(ctx, "/api/v1/patient/studies", patient_token) == 401
    assert refused_soon(ctx, "/api/v1/proxy/patients", proxy_token) == 401

    # A new patient code ends the proxy sessions too (staff reissue).
    p.code = fields(portald(ctx.server, "proxy-code", p.id).stdout)["access_code"]
    proxy_token = p.sign_in()
    staff = harness.Server.token("staff", "desk-code")
    r = ctx.server.request("POST", "/api/v1/staff/patients/%s/access-code" % me.patient_id,
                           token=staff)
    assert r.status in (200, 201), r
    assert ctx.server.request("GET", "/api/v1/proxy/patients", token=proxy_token).status == 401
