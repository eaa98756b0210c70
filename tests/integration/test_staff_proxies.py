"""Proxy links from the staff console (issue 17, docs/staff.md): the front desk adds a proxy with
their own code (answered once, never logged), links them to a patient, gives a new code, renews and
ends a link, each audited as that staff member with the request id, through the same core as the
operator commands (which still audit as 'operator'). A nonexistent patient is 404, a wrong link a
clear 422, and no other role reaches these paths."""
import uuid

import harness
from proxies import AgedStudy, Proxy, in_days, portald

def audit_rows(ctx, actor_id):
    return ctx.cluster.sql("SELECT action, actor_role, request_id, detail->>'link_id' "
                           "FROM portal.audit_log WHERE actor_id = '%s' AND action LIKE 'proxy.%%' "
                           "ORDER BY id" % actor_id)


def staff_request(ctx, method, path, token, body=None):
    """The answer and the request id the server gave it (its X-Request-Id header)."""
    r = ctx.server.request(method, path, body=body, token=token)
    return r, r.header("X-Request-Id")


def test_front_desk_adds_links_renews_and_ends_a_proxy_audited_as_themselves(ctx):
    adult = AgedStudy(ctx.server, 45)
    desk = "desk-px-" + uuid.uuid4().hex[:6]
    staff = harness.Server.token("staff", desk)
    base = "/api/v1/staff/patients/%s" % adult.patient_id
    assert ctx.server.request("GET", base + "/proxies", token=staff).json() == \
        {"links": [], "language": "en"}, "no saved language: the site's default"
    ctx.cluster.sql("UPDATE portal.patients SET language = 'fr' WHERE id = '%s'" % adult.patient_id)

    # A guardian for an adult is refused, and nothing is kept: no proxy, no link.
    before = ctx.cluster.sql("SELECT count(*) FROM portal.proxies")[0][0]
    r = ctx.server.request("POST", base + "/proxies", token=staff,
                           body={"name": "Gina Guardian", "birth_date": "1970-01-01",
                                 "kind": "guardian"})
    assert r.status == 422 and "of age" in r.body, r
    assert ctx.cluster.sql("SELECT count(*) FROM portal.proxies")[0][0] == before
    # A caregiver needs an end; bad fields are named.
    r = ctx.server.request("POST", base + "/proxies", token=staff,
                           body={"name": "", "birth_date": "1970-13-01", "kind": "aunt",
                                 "ends_at": "tomorrow", "colour": "red"})
    assert r.status == 422, r
    for field in ("name", "birth_date", "kind", "ends_at", "colour"):
        assert field in r.body, (field, r.body)

    r, rid_add = staff_request(ctx, "POST", base + "/proxies", staff,
                               {"name": "Carla Caregiver", "birth_date": "1971-04-04",
                                "email": "carla@example.org", "kind": "caregiver",
                                "ends_at": in_days(30)})
    assert r.status == 201, r
    added = r.json()
    code, proxy_id, link = added["access_code"], added["proxy_id"], added["link_id"]
    assert added["name"] == "Carla Caregiver" and added["language"] == "fr", added
    p = Proxy.__new__(Proxy)
    p.server, p.name, p.birth_date, p.id, p.code, p.token = (ctx.server, "Carla Caregiver",
                                                             "1971-04-04", proxy_id, code, None)
    assert p.get("/api/v1/proxy/patients").json()["patients"][0]["id"] == adult.patient_id

    links = ctx.server.request("GET", base + "/proxies", token=staff).json()["links"]
    assert [(x["id"], x["proxy_id"], x["name"], x["kind"], x["active"], x["granted_by"])
            for x in links] == [(link, proxy_id, "Carla Caregiver", "caregiver", True, desk)], links

    # A new code: the old one and its session end; the code is never in the log.
    r, rid_code = staff_request(ctx, "POST", "/api/v1/staff/proxies/%s/access-code" % proxy_id,
                                staff)
    assert r.status == 201 and r.json()["proxy_id"] == proxy_id, r
    second = r.json()["access_code"]
    assert second != code
    assert ctx.server.request("GET", "/api/v1/proxy/patients", token=p.token).status == 401
    assert ctx.server.request("POST", "/api/v1/proxy/session",
                              body={"access_code": code, "birth_date": "1971-04-04"}).status == 401
    p.code, p.token = second, None
    p.sign_in()

    r, rid_renew = staff_request(ctx, "PUT", "/api/v1/staff/proxy-links/" + link, staff,
                                 {"ends_at": in_days(90)})
    assert r.status == 200, r
    assert staff_request(ctx, "PUT", "/api/v1/staff/proxy-links/" + link, staff,
                         {"ends_at": "2001-01-01T00:00:00Z"})[0].status == 422
    r, rid_end = staff_request(ctx, "DELETE", "/api/v1/staff/proxy-links/" + link, staff)
    assert r.status == 200 and r.json()["status"] == "ended", r
    assert ctx.server.request("DELETE", "/api/v1/staff/proxy-links/" + link, token=staff).status == 404
    assert ctx.server.request("PUT", "/api/v1/staff/proxy-links/" + link, token=staff,
                              body={"ends_at": in_days(9)}).status == 404
    assert p.get("/api/v1/proxy/patients").json() == {"patients": []}
    links = ctx.server.request("GET", base + "/proxies", token=staff).json()["links"]
    assert links[0]["active"] is False and links[0]["ended_by"] == "staff:" + desk, links

    rows = audit_rows(ctx, desk)
    assert [(a, role, req) for a, role, req, _ in rows] == [
        ("proxy.code", "staff", rid_add), ("proxy.grant", "staff", rid_add),
        ("proxy.code", "staff", rid_code), ("proxy.renew", "staff", rid_renew),
        ("proxy.end", "staff", rid_end)], rows
    renew = ctx.cluster.sql("SELECT detail->'before'->>'ends_at' IS NOT NULL, "
                            "detail->'after'->>'ends_at' FROM portal.audit_log "
                            "WHERE action = 'proxy.renew' AND request_id = '%s'" % rid_renew)
    assert renew[0][0] in ("t", True), renew
    log = ctx.server.read_log()
    assert code not in log and second not in log


def test_an_existing_proxy_is_linked_to_a_child_by_an_admin(ctx):
    child = AgedStudy(ctx.server, 9)
    p = Proxy(ctx.server, name="Gus Guardian")
    admin = harness.Server.token("admin", "admin-px")
    base = "/api/v1/staff/patients/%s" % child.patient_id
    r = ctx.server.request("POST", base + "/proxy-links", token=admin,
                           body={"proxy_id": p.id, "kind": "guardian",
                                 "starts_at": in_days(-1)})
    assert r.status == 201, r
    link = r.json()["link_id"]
    assert p.get("/api/v1/proxy/patients").json()["patients"][0]["relation"] == "guardian"
    r = ctx.server.request("POST", base + "/proxy-links", token=admin,
                           body={"proxy_id": str(uuid.uuid4()), "kind": "guardian"})
    assert r.status == 422 and "proxy_id" in r.body, r
    r = ctx.server.request("POST", base + "/proxy-links", token=admin,
                           body={"proxy_id": p.id, "kind": "caregiver", "starts_at": in_days(10),
                                 "ends_at": in_days(5)})
    assert r.status == 422 and "ends_at" in r.body, r
    rows = audit_rows(ctx, "admin-px")
    assert [(a, role, l) for a, role, _, l in rows] == [("proxy.grant", "admin", link)], rows


def test_nobody_reaches_a_patient_who_does_not_exist_nor_these_paths_without_the_role(ctx):
    staff = harness.Server.token("staff", "desk-px-none")
    ghost = "/api/v1/staff/patients/%s" % uuid.uuid4()
    p = Proxy(ctx.server)
    assert ctx.server.request("GET", ghost + "/proxies", token=staff).status == 404
    r = ctx.server.request("POST", ghost + "/proxies", token=staff,
                           body={"name": "N", "birth_date": "1970-01-01", "kind": "caregiver",
                                 "ends_at": in_days(3)})
    assert r.status == 404, r
    r = ctx.server.request("POST", ghost + "/proxy-links", token=staff,
                           body={"proxy_id": p.id, "kind": "caregiver", "ends_at": in_days(3)})
    assert r.status == 404, r
    assert ctx.server.request("POST", "/api/v1/staff/proxies/%s/access-code" % uuid.uuid4(),
                              token=staff).status == 404
    assert ctx.server.request("DELETE", "/api/v1/staff/proxy-links/%s" % uuid.uuid4(),
                              token=staff).status == 404
    assert audit_rows(ctx, "desk-px-none") == []
    adult = AgedStudy(ctx.server, 30)
    link = p.grant(adult.mrn, "caregiver", until=in_days(5))
    paths = [("GET", "/api/v1/staff/patients/%s/proxies" % adult.patient_id, None),
             ("POST", "/api/v1/staff/patients/%s/proxies" % adult.patient_id, {}),
             ("POST", "/api/v1/staff/patients/%s/proxy-links" % adult.patient_id, {}),
             ("POST", "/api/v1/staff/proxies/%s/access-code" % p.id, None),
             ("PUT", "/api/v1/staff/proxy-links/" + link, {"ends_at": in_days(9)}),
             ("DELETE", "/api/v1/staff/proxy-links/" + link, None)]
    for token in (harness.Server.token("physician", "NPI-PX"),
                  harness.Server.token("patient", adult.patient_id),
                  harness.Server.token("proxy", p.id), ctx.server.ris()):
        for method, path, body in paths:
            r = ctx.server.request(method, path, body=body, token=token)
            assert r.status == 403, (method, path, r)


def test_the_operator_commands_still_audit_as_operator(ctx):
    adult = AgedStudy(ctx.server, 50)
    p = Proxy(ctx.server)
    link = p.grant(adult.mrn, "caregiver", until=in_days(5))
    portald(ctx.server, "proxy-renew", link, in_days(8))
    portald(ctx.server, "proxy-end", link)
    rows = ctx.cluster.sql("SELECT action, actor_role FROM portal.audit_log "
                           "WHERE detail->>'link_id' = '%s' OR (action = 'proxy.code' AND "
                           "detail->>'proxy_id' = '%s') ORDER BY id" % (link, p.id))
    assert [tuple(r) for r in rows] == [("proxy.code", "operator"), ("proxy.grant", "operator"),
                                        ("proxy.renew", "operator"), ("proxy.end", "operator")], rows
