"""The staff console (issue 17, docs/staff.md): staff accounts made by `portald staff-add`, sign-in
with password and TOTP (a code accepted once), the roles (a staff token reaches no admin path, a
physician, patient or RIS token no staff path, an admin every staff path), release policies
previewed (exactly what the sweep then releases), saved with a reason and audited before/after,
patients found (audited, rate limited) and given a new access code that ends the old one, and no
staff answer carrying a byte of any report."""
import base64
import hashlib
import hmac
import json
import re
import struct
import subprocess
import time
import urllib.parse
import uuid

import harness

PHYSICIAN = "NPI-STAFF-1"
PASSWORD = "correct horse battery staple"
ADMIN_PATHS = [("GET", "/api/v1/admin/holds", None), ("GET", "/api/v1/admin/notifications", None),
               ("GET", "/api/v1/admin/policies", None),
               ("POST", "/api/v1/admin/policies/preview", {"site": "x"}),
               ("PUT", "/api/v1/admin/policies", {"site": "x", "reason": "r"}),
               ("GET", "/api/v1/admin/physicians", None),
               ("POST", "/api/v1/admin/physician-invitations", {"physician_id": PHYSICIAN}),
               ("PUT", "/api/v1/admin/physician-status", {"physician_id": PHYSICIAN, "disabled": True}),
               ("GET", "/api/v1/admin/closed-days", None),
               ("PUT", "/api/v1/admin/closed-days", {"day": "2030-01-07"}),
               ("DELETE", "/api/v1/admin/closed-days/2030-01-07", None),
               ("GET", "/api/v1/admin/overdue", None), ("GET", "/api/v1/admin/config", None)]


def totp(secret_b32, at=None, step=30, digits=6):
    """RFC 6238 written again here, from the RFC, so the server is checked against another copy."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at if at is not None else time.time()) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return "%0*d" % (digits, code)


def staff_add(ctx, staff_id, role="staff", name="Front Desk", password=PASSWORD):
    env = dict(ctx.server.env, PORTAL_MIGRATE_DATABASE_URL=ctx.cluster.owner_url)
    return subprocess.run([harness.PORTALD, "staff-add", staff_id, role, name], env=env,
                          input=password + "\n", capture_output=True, text=True, timeout=60)


def new_staff(ctx, role="staff"):
    staff_id = "%s-%s" % (role, uuid.uuid4().hex[:8])
    out = staff_add(ctx, staff_id, role)
    assert out.returncode == 0, out.stderr
    uri = re.search(r"otpauth://\S+", out.stdout).group(0)
    secret = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
    return staff_id, secret, uri


def sign_in(ctx, staff_id, code, password=PASSWORD):
    return ctx.server.request("POST", "/api/v1/staff/session",
                              body={"id": staff_id, "password": password, "code": code})


def next_code(secret, used):
    """A code of a step not used yet: waits for the next step when the current one was."""
    while True:
        now = time.time()
        code = totp(secret, now)
        if int(now // 30) not in used:
            used.add(int(now // 30))
            return code
        time.sleep(30 - now % 30 + 0.2)


def study_with_report(ctx, site="main", findings=None, impression=None, name=None):
    ev = harness.event("exam_completed", physician_id=PHYSICIAN)
    if name:
        ev["patient"]["name"] = name
    ev["study"]["site"] = site
    r = ctx.server.request("POST", "/api/v1/ingest/events", body=ev, token=ctx.server.ris())
    assert r.status in (200, 201), r
    j = r.json()
    rep = harness.report(ev["study"]["accession"], findings=findings or "Findings text.",
                         impression=impression or "Impression text.")
    r = ctx.server.request("POST", "/api/v1/ingest/reports", body=rep, token=ctx.server.ris())
    assert r.status in (200, 201), r
    return j["study_id"], j["patient_id"], ev


def test_staff_add_then_sign_in_with_password_and_totp(ctx):
    staff_id, secret, uri = new_staff(ctx, "admin")
    assert uri.startswith("otpauth://totp/Results%20portal:" + staff_id + "?secret=" + secret)
    row = ctx.cluster.sql("SELECT role, password_hash LIKE '$argon2id$%%', totp_last_step "
                          "FROM portal.staff WHERE id = '%s'" % staff_id)[0]
    assert row[0] == "admin" and row[1] in ("t", True) and row[2] in (None, ""), row
    again = staff_add(ctx, staff_id)
    assert again.returncode != 0 and "exists already" in again.stderr
    used = set()
    code = next_code(secret, used)
    assert sign_in(ctx, staff_id, "000000" if code != "000000" else "111111").status == 401
    assert sign_in(ctx, staff_id, code, password="wrong password!!").status == 401
    r = sign_in(ctx, staff_id, code)
    assert r.status == 201, r
    claims = json.loads(base64.urlsafe_b64decode(r.json()["token"].split(".")[1] + "=="))
    assert claims["role"] == "admin" and claims["sub"] == staff_id
    assert "portal_session=" in r.header("Set-Cookie")
    replay = sign_in(ctx, staff_id, code)
    assert replay.status == 401, "a TOTP code is accepted once"
    assert replay.json()["detail"] == sign_in(ctx, "nobody-" + staff_id, code).json()["detail"]
    audit = ctx.cluster.sql("SELECT action FROM portal.audit_log WHERE actor_id = '%s' AND "
                            "action LIKE 'login.%%' ORDER BY id" % staff_id)
    assert [a[0] for a in audit] == ["login.failure", "login.failure", "login.success",
                                     "login.failure"], audit
    added = ctx.cluster.sql("SELECT actor_role, detail -> 'after' ->> 'id' FROM portal.audit_log "
                            "WHERE action = 'staff.add' AND detail -> 'after' ->> 'id' = '%s'" % staff_id)
    assert [list(a) for a in added] == [["operator", staff_id]], added
    assert secret not in ctx.server.read_log() and PASSWORD not in ctx.server.read_log()


def test_disabled_staff_cannot_sign_in(ctx):
    staff_id, secret, _ = new_staff(ctx)
    ctx.cluster.sql("UPDATE portal.staff SET disabled_at = now() WHERE id = '%s'" % staff_id)
    assert sign_in(ctx, staff_id, totp(secret)).status == 401


def test_staff_token_gets_403_on_every_admin_path(ctx):
    staff = harness.Server.token("staff", "desk-1")
    for method, path, body in ADMIN_PATHS:
        r = ctx.server.request(method, path, body=body, token=staff)
        assert r.status == 403, (method, path, r)


def test_other_roles_cannot_reach_staff_paths(ctx):
    _, patient_id, _ = study_with_report(ctx)
    paths = [("GET", "/api/v1/staff/patients?identifier=x"), ("GET", "/api/v1/staff/me"),
             ("POST", "/api/v1/staff/patients/%s/access-code" % patient_id),
             ("PUT", "/api/v1/staff/patients/%s/contact" % patient_id)]
    for token in (harness.Server.token("physician", PHYSICIAN), harness.Server.token("patient", patient_id),
                  ctx.server.ris()):
        for method, path in paths:
            r = ctx.server.request(method, path, token=token)
            assert r.status == 403, (method, path, r)
    admin = harness.Server.token("admin", "admin-1")
    assert ctx.server.request("GET", "/api/v1/staff/patients?identifier=x", token=admin).status == 200


def test_find_patient_and_new_access_code_ends_the_old_one(ctx):
    marker = "STAFFLEAK-" + uuid.uuid4().hex
    surname = "Lovelace" + uuid.uuid4().hex[:8]
    study_id, patient_id, ev = study_with_report(ctx, findings=marker + " findings",
                                                 impression=marker + " impression",
                                                 name="Ada " + surname)
    # The report released to the patient, so that it is there to leak if anything read it.
    r = ctx.server.request("POST", "/api/v1/physician/studies/%s/release" % study_id, body={},
                           token=harness.Server.token("physician", PHYSICIAN))
    assert r.status == 200, r
    staff = harness.Server.token("staff", "desk-2")
    answers = []
    mrn = ev["patient"]["mrn"]
    r = ctx.server.request("GET", "/api/v1/staff/patients?identifier=" + mrn, token=staff)
    assert r.status == 200 and [p["patient_id"] for p in r.json()["patients"]] == [patient_id], r
    answers.append(r)
    r = ctx.server.request("GET", "/api/v1/staff/patients?name=a%20" + surname.lower() + "&birth_date=1985-12-10", token=staff)
    assert r.status == 200 and patient_id in [p["patient_id"] for p in r.json()["patients"]], r
    answers.append(r)
    assert ctx.server.request("GET", "/api/v1/staff/patients?name=test", token=staff).status == 422
    r = ctx.server.request("POST", "/api/v1/staff/patients/%s/access-code" % patient_id, token=staff)
    assert r.status == 201, r
    answers.append(r)
    first = r.json()["access_code"]
    assert r.json()["patient"]["patient_id"] == patient_id
    assert r.json()["patient"]["language"] == "en", "no saved language: the site's default"
    sign = ctx.server.request("POST", "/api/v1/session", body={"access_code": first, "birth_date": "1985-12-10"})
    assert sign.status == 201, sign
    r = ctx.server.request("POST", "/api/v1/staff/patients/%s/access-code" % patient_id, token=staff)
    assert r.status == 201
    answers.append(r)
    second = r.json()["access_code"]
    assert second != first
    ctx.cluster.sql("UPDATE portal.patients SET language = 'es' WHERE id = '%s'" % patient_id)
    r = ctx.server.request("POST", "/api/v1/staff/patients/%s/access-code" % patient_id, token=staff)
    assert r.status == 201 and r.json()["patient"]["language"] == "es", "the sheet in the patient's language"
    answers.append(r)
    second = r.json()["access_code"]
    old = ctx.server.request("POST", "/api/v1/session", body={"access_code": first, "birth_date": "1985-12-10"})
    assert old.status == 401, "the old code stops working"
    ended = ctx.server.request("GET", "/api/v1/patient/studies", token=sign.json()["token"])
    assert ended.status == 401, "the sessions the old code opened end"
    assert ctx.server.request("POST", "/api/v1/session",
                              body={"access_code": second, "birth_date": "1985-12-10"}).status == 201
    missing = ctx.server.request("POST", "/api/v1/staff/patients/%s/access-code" % uuid.uuid4(), token=staff)
    assert missing.status == 404
    for a in answers:
        assert marker not in a.body and marker not in json.dumps(a.headers), a
    log = ctx.server.read_log()
    assert first not in log and second not in log and marker not in log
    audit = ctx.cluster.sql("SELECT action, count(*) FROM portal.audit_log WHERE actor_role = 'staff' "
                            "AND actor_id = 'desk-2' GROUP BY action ORDER BY action")
    assert [(a[0], int(a[1])) for a in audit] == [("access_code.issue", 3), ("patient.search", 2)], audit


def test_patient_search_is_rate_limited_per_person(ctx):
    staff = harness.Server.token("staff", "desk-busy-" + uuid.uuid4().hex[:6])
    statuses = [ctx.server.request("GET", "/api/v1/staff/patients?identifier=none", token=staff).status
                for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429, statuses
    other = harness.Server.token("staff", "desk-calm-" + uuid.uuid4().hex[:6])
    assert ctx.server.request("GET", "/api/v1/staff/patients?identifier=none", token=other).status == 200


def test_policy_preview_counts_what_the_sweep_releases_then_save_is_audited(ctx):
    site = "staff-" + uuid.uuid4().hex[:8]
    marker = "POLICYLEAK-" + uuid.uuid4().hex
    studies = [study_with_report(ctx, site=site, findings=marker)[0] for _ in range(3)]
    # Two reports reached the portal three days ago, one an hour ago.
    for sid, age in zip(studies, ("3 days", "3 days", "1 hour")):
        ctx.cluster.sql("UPDATE portal.report_versions SET received_at = received_at - interval '%s' "
                        "WHERE study_id = '%s'" % (age, sid))
    admin = harness.Server.token("admin", "ann")
    r = ctx.server.request("POST", "/api/v1/admin/policies/preview", token=admin,
                           body={"site": site, "mode": "immediate"})
    assert r.status == 200 and r.json() == {"would_release": 3}, r
    r2 = ctx.server.request("POST", "/api/v1/admin/policies/preview", token=admin,
                            body={"site": site, "auto_release_after_seconds": 86400})
    assert r2.json() == {"would_release": 2}, r2
    listed = ctx.server.request("GET", "/api/v1/admin/policies", token=admin)
    assert site not in listed.body, "a preview saves nothing"
    assert ctx.cluster.sql("SELECT count(*) FROM portal.releases WHERE study_id IN ('%s')"
                           % "','".join(studies))[0][0] in ("0", 0)
    bad = ctx.server.request("PUT", "/api/v1/admin/policies", token=admin,
                             body={"site": site, "auto_release_after_seconds": 86400})
    assert bad.status == 422 and "reason" in bad.json()["detail"]
    bad = ctx.server.request("PUT", "/api/v1/admin/policies", token=admin,
                             body={"site": site, "mode": "sometimes", "reason": "x"})
    assert bad.status == 422 and "mode" in bad.json()["detail"]
    saved = ctx.server.request("PUT", "/api/v1/admin/policies", token=admin,
                               body={"site": site, "auto_release_after_seconds": 86400,
                                     "reason": "one day is enough for CT"})
    assert saved.status == 200, saved
    row = saved.json()
    assert row["auto_release_after_seconds"] == 86400 and row["mode"] == "physician_review"
    assert row["hold_default_seconds"] == 259200, "omitted fields take the table's defaults"
    listed = ctx.server.request("GET", "/api/v1/admin/policies", token=admin).json()["policies"]
    assert listed[0]["site"] == "*" and any(p["site"] == site for p in listed)
    swept = ctx.cluster.sql("SELECT released FROM portal.release_due(500, 'staff-test')",
                            url=ctx.cluster.app_url)[0][0]
    assert int(swept) == 2, "the sweep releases exactly what the preview counted"
    audit = ctx.cluster.sql("SELECT actor_role, actor_id, detail ->> 'reason', detail -> 'before', "
                            "detail -> 'after' ->> 'site' FROM portal.audit_log "
                            "WHERE action = 'policy.save' AND detail -> 'after' ->> 'site' = '%s'" % site)
    assert len(audit) == 1 and audit[0][0] == "admin" and audit[0][1] == "ann"
    assert audit[0][2] == "one day is enough for CT" and audit[0][3] in (None, "null", "")
    previews = ctx.cluster.sql("SELECT count(*) FROM portal.audit_log WHERE action = 'policy.preview' "
                               "AND detail -> 'policy' ->> 'site' = '%s'" % site)[0][0]
    assert int(previews) == 2
    for a in (r, r2, saved):
        assert marker not in a.body


def test_physician_invited_sets_password_signs_in_releases_then_is_disabled(ctx):
    physician = "NPI-INV-" + uuid.uuid4().hex[:8]
    ev = harness.event("exam_completed", physician_id=physician)
    r = ctx.server.request("POST", "/api/v1/ingest/events", body=ev, token=ctx.server.ris())
    study_id = r.json()["study_id"]
    assert ctx.server.request("POST", "/api/v1/ingest/reports", body=harness.report(ev["study"]["accession"]),
                              token=ctx.server.ris()).status in (200, 201)
    admin = harness.Server.token("admin", "ann")
    listed = ctx.server.request("GET", "/api/v1/admin/physicians", token=admin).json()["physicians"]
    mine = [p for p in listed if p["physician_id"] == physician][0]
    assert mine["waiting"] == 1 and mine["has_password"] is False and mine["oldest_waiting_since"]
    missing = ctx.server.request("POST", "/api/v1/admin/physician-invitations", token=admin,
                                 body={"physician_id": "NPI-NOBODY"})
    assert missing.status == 404
    inv = ctx.server.request("POST", "/api/v1/admin/physician-invitations", token=admin,
                             body={"physician_id": physician})
    assert inv.status == 201, inv
    code = inv.json()["invitation_code"]
    assert ctx.server.request("POST", "/api/v1/physician/invitation",
                              body={"invitation_code": code[:-1] + ("0" if code[-1] != "0" else "1"),
                                    "password": "a new long password"}).status == 401
    assert ctx.server.request("POST", "/api/v1/physician/invitation",
                              body={"invitation_code": code, "password": "short"}).status == 422
    ok = ctx.server.request("POST", "/api/v1/physician/invitation",
                            body={"invitation_code": code, "password": "a new long password"})
    assert ok.status == 200 and ok.json() == {"physician_id": physician}, ok
    again = ctx.server.request("POST", "/api/v1/physician/invitation",
                               body={"invitation_code": code, "password": "another long password"})
    assert again.status in (401, 410), again
    assert code not in ctx.server.read_log()
    signed = ctx.server.request("POST", "/api/v1/physician/session",
                                body={"physician_id": physician, "password": "a new long password"})
    assert signed.status == 201, signed
    token = signed.json()["token"]
    rel = ctx.server.request("POST", "/api/v1/physician/studies/%s/release" % study_id, body={}, token=token)
    assert rel.status == 200, rel
    dis = ctx.server.request("PUT", "/api/v1/admin/physician-status", token=admin,
                             body={"physician_id": physician, "disabled": True})
    assert dis.status == 200 and dis.json()["disabled"] is True, dis
    assert ctx.server.request("GET", "/api/v1/physician/worklist", token=token).status == 401, \
        "disabling ends the physician's sessions"
    assert ctx.server.request("POST", "/api/v1/physician/session",
                              body={"physician_id": physician, "password": "a new long password"}).status == 401
    en = ctx.server.request("PUT", "/api/v1/admin/physician-status", token=admin,
                            body={"physician_id": physician, "disabled": False})
    assert en.json()["disabled"] is False
    reset = ctx.server.request("POST", "/api/v1/admin/physician-invitations", token=admin,
                               body={"physician_id": physician, "reset": True})
    assert reset.status == 201
    assert ctx.server.request("POST", "/api/v1/physician/session",
                              body={"physician_id": physician, "password": "a new long password"}).status == 401, \
        "a reset removes the password"
    actions = [a[0] for a in ctx.cluster.sql(
        "SELECT action FROM portal.audit_log WHERE detail ->> 'physician_id' = '%s' ORDER BY id" % physician)]
    assert actions == ["physician.invite", "physician.disable", "physician.enable", "physician.reset"], actions
    assert ctx.cluster.sql("SELECT count(*) FROM portal.audit_log WHERE action = 'physician.password_set' "
                           "AND actor_id = '%s'" % physician)[0][0] in ("1", 1)


def test_operations_views_show_no_secret(ctx):
    admin = harness.Server.token("admin", "ann")
    r = ctx.server.request("GET", "/api/v1/admin/config", token=admin)
    assert r.status == 200, r
    settings = {e["name"]: e for e in r.json()["settings"]}
    assert settings["PORTAL_JWT_SECRET"] == {"name": "PORTAL_JWT_SECRET", "value": "(set)", "set": True,
                                             "secret": True}
    assert settings["PORTAL_DATABASE_URL"]["value"] == "(set)"
    assert settings["PORTAL_SESSION_TTL"]["value"] == "1800" and settings["PORTAL_SESSION_TTL"]["set"] is False
    assert harness.SECRET not in r.body and ctx.cluster.app_url not in r.body
    r = ctx.server.request("GET", "/api/v1/admin/overdue", token=admin)
    assert r.status == 200 and isinstance(r.json()["studies"], list), r


def test_front_desk_corrects_contact_details_audited_before_and_after(ctx):
    _, patient_id, _ = study_with_report(ctx)
    staff = harness.Server.token("staff", "desk-contact")
    r = ctx.server.request("PUT", "/api/v1/staff/patients/%s/contact" % patient_id, token=staff,
                           body={"channel": "both", "email": "new@example.org", "phone": "+1 555 0142"})
    assert r.status == 200 and r.json()["email"] == "new@example.org", r
    bad = ctx.server.request("PUT", "/api/v1/staff/patients/%s/contact" % patient_id, token=staff,
                             body={"channel": "carrier pigeon"})
    assert bad.status == 422
    missing = ctx.server.request("PUT", "/api/v1/staff/patients/%s/contact" % uuid.uuid4(), token=staff,
                                 body={"channel": "none"})
    assert missing.status == 404
    assert ctx.server.request("PUT", "/api/v1/staff/patients/%s/contact" % patient_id,
                              token=harness.Server.token("physician", PHYSICIAN),
                              body={"channel": "none"}).status == 403
    row = ctx.cluster.sql("SELECT actor_role, actor_id, detail -> 'before' ->> 'email', "
                          "detail -> 'after' ->> 'email', detail -> 'after' ->> 'channel' "
                          "FROM portal.audit_log WHERE action = 'patient.contact' "
                          "AND detail ->> 'patient_id' = '%s'" % patient_id)
    assert [list(x) for x in row] == [["staff", "desk-contact", "test@example.org", "new@example.org", "both"]], row
