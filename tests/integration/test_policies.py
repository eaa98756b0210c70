"""Release policies (issue 7, docs/release-policies.md): each mode and its deadline, holds with
reasons and deadlines, patient preference where allowed and refused where not, the automatic
release sweep racing across two portald instances, and the admin compliance report.

Each test puts its studies at a site of its own and writes that site's policy row, so the shared
cluster's default policy (physician review) stays as other tests expect. Time passes by moving
report and hold timestamps into the past as the superuser, never by sleeping."""
import json
import time
import uuid

import harness

PHYSICIAN = "NPI-POL-1"


def _site(tag):
    return "%s-%s" % (tag, uuid.uuid4().hex[:8])


def _policy(ctx, site, modality="*", **cols):
    names = ["site", "modality"] + list(cols)
    values = ["'%s'" % site, "'%s'" % modality] + [
        ("'%s'" % v) if isinstance(v, str) else ("true" if v is True else "false" if v is False else str(v))
        for v in cols.values()]
    ctx.cluster.sql("INSERT INTO portal.release_policies (%s) VALUES (%s)" % (", ".join(names), ", ".join(values)))


def _study(ctx, site, modality="CT", server=None):
    srv = server or ctx.server
    ev = harness.event("exam_completed", physician_id=PHYSICIAN)
    ev["study"]["site"] = site
    ev["study"]["modality"] = modality
    r = srv.request("POST", "/api/v1/ingest/events", body=ev, token=srv.ris())
    assert r.status in (200, 201), r
    j = r.json()
    return j["study_id"], j["patient_id"], ev["study"]["accession"]


def _report(ctx, accession, status="final", findings="Findings text.", server=None):
    srv = server or ctx.server
    r = srv.request("POST", "/api/v1/ingest/reports", body=harness.report(accession, status=status, findings=findings),
                    token=srv.ris())
    assert r.status in (200, 201), r


def _age(ctx, study_id, interval):
    """The study's report versions reached the portal `interval` earlier than they did."""
    ctx.cluster.sql("UPDATE portal.report_versions SET received_at = received_at - interval '%s' "
                    "WHERE study_id = '%s'" % (interval, study_id))


def _sweep(ctx):
    """One sweep as the server's own role runs it; returns (released, holds_expired)."""
    row = ctx.cluster.sql("SELECT released, holds_expired FROM portal.release_due(500, 'test-sweep')",
                          url=ctx.cluster.app_url)[0]
    return int(row[0]), int(row[1])


def _doc(ctx):
    return harness.Server.token("physician", PHYSICIAN)


def _pat(patient_id):
    return harness.Server.token("patient", patient_id)


def _patient_study(ctx, study_id, patient_id):
    r = ctx.server.request("GET", "/api/v1/patient/studies/" + study_id, token=_pat(patient_id))
    assert r.status == 200, r
    return r.json()


def _physician_study(ctx, study_id):
    r = ctx.server.request("GET", "/api/v1/physician/studies/" + study_id, token=_doc(ctx))
    assert r.status == 200, r
    return r.json()


def test_policy_physician_review_is_the_default(ctx):
    sid, pid, acc = _study(ctx, _site("rev"))
    _report(ctx, acc)
    _age(ctx, sid, "400 days")
    _sweep(ctx)
    s = _patient_study(ctx, sid, pid)
    assert s["stage"] == "physician_review" and "report" not in s and s["held"] is False, s
    p = _physician_study(ctx, sid)
    assert p["release_policy"] == {"mode": "physician_review", "basis": "site_policy"}, p
    r = ctx.server.request("POST", "/api/v1/physician/studies/%s/release" % sid, body={}, token=_doc(ctx))
    assert r.status == 200, r
    assert _physician_study(ctx, sid)["release"]["how"] == "physician"


def test_policy_auto_release_after_deadline(ctx):
    site = _site("auto")
    _policy(ctx, site, auto_release_after="72 hours")
    sid, pid, acc = _study(ctx, site)
    _report(ctx, acc)
    p = _physician_study(ctx, sid)
    assert p["state"] == "awaiting_review" and "auto_release_at" in p["release_policy"], p
    _age(ctx, sid, "71 hours")
    _sweep(ctx)
    assert "report" not in _patient_study(ctx, sid, pid), "released before its deadline"
    _age(ctx, sid, "2 hours")
    # The suite's shared server sweeps the same database every minute and may release it first; the
    # checks below hold whichever sweep did.
    _sweep(ctx)
    s = _patient_study(ctx, sid, pid)
    assert s["report"]["released_by"] == "Released automatically (site policy)", s
    assert s["report"]["released_by_kind"] == "site_policy", s
    assert s["discussion"]["prompt"].startswith("Your results were shared with you automatically"), s
    # Released at its deadline, not "as soon as it was final" (issue 16: words that are true).
    assert "as soon as" not in json.dumps(s), s
    assert "without waiting for your doctor" in s["stage_explanation"], s
    p = _physician_study(ctx, sid)
    assert p["state"] == "released" and p["release"]["how"] == "policy", p
    assert p["release"]["released_at"] and "auto_release_at" not in p["release_policy"], p
    w = ctx.server.request("GET", "/api/v1/physician/worklist?state=released", token=_doc(ctx)).json()
    mine = [e for e in w["studies"] if e["id"] == sid]
    assert mine and mine[0]["released_how"] == "policy", w
    audit = ctx.cluster.sql("SELECT actor_role, actor_id FROM portal.audit_log "
                            "WHERE study_id = '%s' AND action = 'report.release'" % sid)
    assert audit == [["policy", "site_policy"]], audit


def test_policy_per_modality_deadline(ctx):
    site = _site("mr")
    _policy(ctx, site, auto_release_after="72 hours")
    _policy(ctx, site, modality="MR", auto_release_after="5 days")
    sid, pid, acc = _study(ctx, site, modality="MR")
    _report(ctx, acc)
    _age(ctx, sid, "4 days")
    _sweep(ctx)
    assert "report" not in _patient_study(ctx, sid, pid), "MR released on the CT deadline"
    _age(ctx, sid, "1 day 1 minute")
    _sweep(ctx)
    assert "report" in _patient_study(ctx, sid, pid)


def test_policy_immediate_and_note_afterwards(ctx):
    site = _site("imm")
    _policy(ctx, site, mode="immediate")
    sid, pid, acc = _study(ctx, site)
    _report(ctx, acc, status="preliminary")
    assert "report" not in _patient_study(ctx, sid, pid), "a preliminary report was released"
    _report(ctx, acc)
    s = _patient_study(ctx, sid, pid)
    assert s["stage"] == "available" and s["report"]["version"] == 2, s
    assert "may not have reviewed" in s["stage_explanation"], s
    first = _physician_study(ctx, sid)["release"]
    assert first["how"] == "policy" and first["released_by"] == "Released automatically (site policy)", first
    r = ctx.server.request("POST", "/api/v1/physician/studies/%s/release" % sid,
                           body={"note": "Nothing to worry about; see you Tuesday."}, token=_doc(ctx))
    assert r.status == 200 and r.json()["report_version"] == 2, r
    assert r.json()["released_at"] == first["released_at"], (r, first)
    s = _patient_study(ctx, sid, pid)
    assert s["report"]["physician_note"] == "Nothing to worry about; see you Tuesday.", s
    assert "has reviewed your results" in s["discussion"]["prompt"], s
    rel = _physician_study(ctx, sid)["release"]
    assert rel["how"] == "policy" and rel["note_added_at"], rel


def test_policy_immediate_hold_before_final_then_deadline(ctx):
    site = _site("immh")
    _policy(ctx, site, mode="immediate")
    sid, pid, acc = _study(ctx, site)
    reason = "Discuss the biopsy result in person first"
    r = ctx.server.request("POST", "/api/v1/physician/studies/%s/hold" % sid, token=_doc(ctx),
                           body={"reason": reason, "reason_code": "harm_risk",
                                 "until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))})
    assert r.status == 201, r
    assert r.json()["reason_code"] == "harm_risk" and r.json()["ends_at"], r
    _report(ctx, acc, findings="Secret finding words")
    r = ctx.server.request("GET", "/api/v1/patient/studies/" + sid, token=_pat(pid))
    s = r.json()
    assert "report" not in s and s["held"] is True and s["stage"] == "physician_review", s
    assert "biopsy" not in r.body and "harm" not in r.body and "Secret" not in r.body, r.body
    lst = ctx.server.request("GET", "/api/v1/patient/studies", token=_pat(pid)).json()["studies"]
    assert [x["held"] for x in lst if x["id"] == sid] == [True], lst
    p = _physician_study(ctx, sid)
    assert p["state"] == "held" and p["hold"]["reason_code"] == "harm_risk" and p["hold"]["ends_at"], p
    _sweep(ctx)
    assert "report" not in _patient_study(ctx, sid, pid)
    # The deadline passes: the hold expires and the report goes out by policy.
    ctx.cluster.sql("UPDATE portal.holds SET placed_at = placed_at - interval '2 days', "
                    "ends_at = now() - interval '1 minute' WHERE study_id = '%s'" % sid)
    _sweep(ctx)  # or the shared server's sweep, whichever comes first: the checks below hold for both
    s = _patient_study(ctx, sid, pid)
    assert "report" in s and s["held"] is False, s
    rows = ctx.cluster.sql("SELECT ended_how, ended_at = ends_at FROM portal.holds WHERE study_id = '%s'" % sid)
    assert rows == [["expired", "t"]], rows


def test_hold_with_reason_only_keeps_working(ctx):
    sid, pid, acc = _study(ctx, _site("hold"))
    _report(ctx, acc)
    r = ctx.server.request("POST", "/api/v1/physician/studies/%s/hold" % sid, body={"reason": "Call first"},
                           token=_doc(ctx))
    assert r.status == 201, r
    j = r.json()
    assert j["state"] == "held" and j["reason"] == "Call first" and j["reason_code"] == "other", j
    hours = ctx.cluster.sql("SELECT extract(epoch FROM ends_at - placed_at) / 3600 FROM portal.holds "
                            "WHERE study_id = '%s'" % sid)[0][0]
    assert float(hours) == 72, hours
    again = ctx.server.request("POST", "/api/v1/physician/studies/%s/hold" % sid, body={"reason": "x"},
                               token=_doc(ctx))
    assert again.status == 200 and again.json()["reason"] == "Call first", again


def test_hold_deadline_and_fields_are_checked(ctx):
    site = _site("hmax")
    _policy(ctx, site, hold_default="1 day", hold_max="7 days")
    sid, _, acc = _study(ctx, site)
    _report(ctx, acc)
    path = "/api/v1/physician/studies/%s/hold" % sid
    far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 8 * 86400))
    r = ctx.server.request("POST", path, body={"reason": "x", "until": far}, token=_doc(ctx))
    assert r.status == 422 and r.json()["detail"].startswith("until: a hold may last at most 7 days"), r
    r = ctx.server.request("POST", path, body={"reason": "x", "until": "2020-01-01T00:00:00Z"}, token=_doc(ctx))
    assert r.status == 422 and r.json()["detail"] == "until: must be in the future", r
    r = ctx.server.request("POST", path, body={"reason": "x", "until": "tomorrow"}, token=_doc(ctx))
    assert r.status == 422 and "until" in r.json()["detail"], r
    r = ctx.server.request("POST", path, body={"reason": "x", "reason_code": "because"}, token=_doc(ctx))
    assert r.status == 422 and "reason_code" in r.json()["detail"], r
    r = ctx.server.request("POST", path, body={"reason_code": "other"}, token=_doc(ctx))
    assert r.status == 422 and "reason" in r.json()["detail"], r
    r = ctx.server.request("POST", path, body={"reason": "x", "reason_code": "data_believed_wrong"},
                           token=_doc(ctx))
    assert r.status == 201, r
    hours = ctx.cluster.sql("SELECT extract(epoch FROM ends_at - placed_at) / 3600 FROM portal.holds "
                            "WHERE study_id = '%s'" % sid)[0][0]
    assert float(hours) == 24, hours


def test_patient_preference_overrides_site_default_where_allowed(ctx):
    site = _site("pref")
    _policy(ctx, site, patient_preference_allowed=True, max_patient_delay="10 days")
    sid, pid, acc = _study(ctx, site)
    s = _patient_study(ctx, sid, pid)
    assert s["release_preference"] == {"can_change": True, "release": "site_default", "max_wait_days": 10}, s
    r = ctx.server.request("PUT", "/api/v1/patient/studies/%s/preference" % sid, body={"release": "immediate"},
                           token=_pat(pid))
    assert r.status == 200, r
    assert r.json()["release"] == "immediate" and r.json()["set_for"] == "study" and r.json()["chosen_at"], r
    s = _patient_study(ctx, sid, pid)
    assert s["release_preference"]["release"] == "immediate", s
    assert s["release_preference"]["chosen_at"] == r.json()["chosen_at"], s
    _report(ctx, acc)
    s = _patient_study(ctx, sid, pid)
    assert s["report"]["released_by"] == "Released automatically (patient preference)", s
    assert s["report"]["released_by_kind"] == "patient_preference", s
    assert s["release_preference"]["can_change"] is False, s
    r = ctx.server.request("PUT", "/api/v1/patient/studies/%s/preference" % sid,
                           body={"release": "wait_for_physician"}, token=_pat(pid))
    assert r.status == 409 and "already final" in r.json()["detail"], r
    p = _physician_study(ctx, sid)
    assert p["release"]["how"] == "policy" and p["release_policy"]["basis"] == "patient_preference", p


def test_patient_preference_refused_where_not_allowed(ctx):
    sid, pid, acc = _study(ctx, _site("nopref"))
    s = _patient_study(ctx, sid, pid)
    assert "release_preference" not in s, s
    r = ctx.server.request("PUT", "/api/v1/patient/studies/%s/preference" % sid, body={"release": "immediate"},
                           token=_pat(pid))
    assert r.status == 409 and "does not offer a choice" in r.json()["detail"], r
    r = ctx.server.request("PUT", "/api/v1/patient/preferences", body={"release": "immediate"}, token=_pat(pid))
    assert r.status == 409 and "does not offer a choice" in r.json()["detail"], r
    g = ctx.server.request("GET", "/api/v1/patient/preferences", token=_pat(pid))
    assert g.status == 200 and g.json() == {"release": "site_default", "allowed": False}, g
    # Another patient's study answers like a missing one.
    other = str(uuid.uuid4())
    r = ctx.server.request("PUT", "/api/v1/patient/studies/%s/preference" % sid, body={"release": "immediate"},
                           token=_pat(other))
    assert r.status == 404, r
    r = ctx.server.request("PUT", "/api/v1/patient/studies/%s/preference" % sid,
                           body={"release": "immediate", "wait_days": 3}, token=_pat(pid))
    assert r.status == 422 and r.json()["detail"].startswith("wait_days"), r


def test_patient_standing_wait_delays_an_immediate_site(ctx):
    site = _site("wait")
    _policy(ctx, site, mode="immediate", patient_preference_allowed=True, max_patient_delay="14 days")
    sid, pid, acc = _study(ctx, site)
    r = ctx.server.request("PUT", "/api/v1/patient/preferences", token=_pat(pid),
                           body={"release": "wait_for_physician", "wait_days": 15})
    assert r.status == 422 and r.json()["detail"] == "wait_days: at most 14 days", r
    r = ctx.server.request("PUT", "/api/v1/patient/preferences", token=_pat(pid),
                           body={"release": "wait_for_physician", "wait_days": 3})
    assert r.status == 200, r
    j = r.json()
    assert j["release"] == "wait_for_physician" and j["wait_days"] == 3 and j["set_for"] == "all_studies", j
    g = ctx.server.request("GET", "/api/v1/patient/preferences", token=_pat(pid)).json()
    assert g["release"] == "wait_for_physician" and g["allowed"] is True and g["max_wait_days"] == 14, g
    _report(ctx, acc)
    s = _patient_study(ctx, sid, pid)
    assert "report" not in s and s["stage"] == "physician_review", s
    assert s["release_preference"]["set_for"] == "all_studies" and s["release_preference"]["wait_days"] == 3, s
    _age(ctx, sid, "2 days")
    _sweep(ctx)
    assert "report" not in _patient_study(ctx, sid, pid)
    _age(ctx, sid, "1 day 1 minute")
    _sweep(ctx)
    s = _patient_study(ctx, sid, pid)
    assert s["report"]["released_by"] == "Released automatically (patient preference)", s


def test_two_instances_race_one_release_per_version(ctx):
    """Two portald instances sweeping every second against one database: every due report is
    released exactly once and audited exactly once."""
    site = _site("race")
    _policy(ctx, site, auto_release_after="1 hour")
    studies = []
    for _ in range(40):
        sid, _pid, acc = _study(ctx, site)
        _report(ctx, acc)
        studies.append(sid)
    env = {"PORTAL_RELEASE_SWEEP": "1"}
    a = harness.Server(ctx.cluster, env=env)
    b = harness.Server(ctx.cluster, env=env)
    try:
        ids = ",".join("'%s'" % s for s in studies)
        # Every report becomes due in the same instant, so both sweeps meet the same rows.
        ctx.cluster.sql("UPDATE portal.report_versions SET received_at = now() - interval '2 hours' "
                        "WHERE study_id IN (%s)" % ids)
        deadline = time.time() + 20
        while time.time() < deadline:
            left = ctx.cluster.sql("SELECT count(*) FROM portal.studies WHERE id IN (%s) "
                                   "AND released_version IS NULL" % ids)[0][0]
            if left == "0":
                break
            time.sleep(0.2)
        assert left == "0", "%s reports not released by the sweep" % left
        time.sleep(1.5)  # one more round of each sweep, which must find nothing
        releases = ctx.cluster.sql("SELECT study_id, count(*) FROM portal.releases WHERE study_id IN (%s) "
                                   "GROUP BY study_id HAVING count(*) <> 1" % ids)
        assert releases == [], releases
        audits = ctx.cluster.sql("SELECT count(*), count(DISTINCT study_id) FROM portal.audit_log "
                                 "WHERE study_id IN (%s) AND action = 'report.release' "
                                 "AND actor_role = 'policy'" % ids)
        assert audits == [["40", "40"]], audits
        how = ctx.cluster.sql("SELECT DISTINCT how, released_by IS NULL FROM portal.releases "
                              "WHERE study_id IN (%s)" % ids)
        assert how == [["policy", "t"]], how
        # The suite's shared server sweeps the same database too (every 60 s): on a slow machine
        # its round may be the one that met these reports, and it logs the release instead.
        logs = a.read_log() + b.read_log() + ctx.server.read_log()
        assert "released by policy" in logs, logs[-2000:]
        assert "Findings text" not in logs
    finally:
        a.stop()
        b.stop()


def test_sweep_stops_promptly_on_sigterm(ctx):
    s = harness.Server(ctx.cluster, env={"PORTAL_RELEASE_SWEEP": "3600"})
    time.sleep(0.3)
    t0 = time.time()
    rc = s.stop()
    took = time.time() - t0
    assert rc == 0 and took < 3, (rc, took)
    assert "release sweep: every 3600 s" in s.read_log()


def test_sql_race_skip_locked(ctx):
    """Two connections: while one sweep holds its rows in an open transaction, a second sweep
    skips them without waiting; after the first commits nothing is left to release twice."""
    site = _site("sqlrace")
    _policy(ctx, site, auto_release_after="1 hour")
    studies = []
    for _ in range(5):
        sid, _pid, acc = _study(ctx, site)
        _report(ctx, acc)
        studies.append(sid)
    ids = ",".join("'%s'" % s for s in studies)
    ctx.cluster.sql("CREATE EXTENSION IF NOT EXISTS dblink")
    ctx.cluster.sql("UPDATE portal.report_versions SET received_at = now() - interval '2 hours' "
                    "WHERE study_id IN (%s)" % ids)
    app = ctx.cluster.app_url.replace("'", "''")
    out = ctx.cluster.sql(
        "SET lock_timeout = '3s';"
        "SELECT dblink_connect('first', '%s');"
        "SELECT dblink_exec('first', 'BEGIN');"
        "SELECT 'first', released FROM dblink('first', 'SELECT released FROM portal.release_due(500, ''race-1'')') AS t(released int);"
        "SELECT 'second', released FROM portal.release_due(500, 'race-2');"
        "SELECT dblink_exec('first', 'COMMIT');"
        "SELECT 'third', released FROM portal.release_due(500, 'race-3');"
        "SELECT dblink_disconnect('first');" % app)
    got = {row[0]: int(row[1]) for row in out if len(row) == 2 and row[0] in ("first", "second", "third")}
    assert got["first"] >= 5 and got["second"] == 0 and got["third"] == 0, (got, out)
    rows = ctx.cluster.sql("SELECT count(*), count(DISTINCT study_id) FROM portal.releases WHERE study_id IN (%s)" % ids)
    assert rows == [["5", "5"]], rows
    audit = ctx.cluster.sql("SELECT DISTINCT request_id FROM portal.audit_log WHERE study_id IN (%s) "
                            "AND action = 'report.release'" % ids)
    assert audit == [["race-1"]], audit


def _fixture_hold(ctx, study_id, code, reason, placed, ends, ended, how):
    ctx.cluster.sql(
        "INSERT INTO portal.holds (study_id, placed_by, reason, reason_code, placed_at, ends_at, ended_at, ended_how) "
        "VALUES ('%s', '%s', '%s', '%s', '%s', '%s', %s, %s)"
        % (study_id, PHYSICIAN, reason.replace("'", "''"), code, placed, ends,
           "'%s'" % ended if ended else "NULL", "'%s'" % how if how else "NULL"))


def test_compliance_report_figures(ctx):
    """A known fixture in January 2020 (no other test writes there): three holds of 2, 4 and 6
    hours and two delayed releases, one released by the physician after 10 hours, one pending."""
    site = _site("compl")
    s = [_study(ctx, site) for _ in range(5)]
    for sid, _pid, acc in s:
        _report(ctx, acc)
    _fixture_hold(ctx, s[0][0], "harm_risk", "Tell in person", "2020-01-01T00:00:00Z",
                  "2020-01-04T00:00:00Z", "2020-01-01T02:00:00Z", "released")
    _fixture_hold(ctx, s[1][0], "patient_request", "Patient asked", "2020-01-01T01:00:00Z",
                  "2020-01-01T05:00:00Z", "2020-01-01T05:00:00Z", "expired")
    tricky = '=HYPERLINK("x"), then "call"'
    _fixture_hold(ctx, s[2][0], "data_believed_wrong", tricky, "2020-01-01T03:00:00Z",
                  "2020-01-03T00:00:00Z", "2020-01-01T09:00:00Z", "released")
    ctx.cluster.sql("UPDATE portal.report_versions SET received_at = '2020-01-01T00:00:00Z' "
                    "WHERE study_id IN ('%s', '%s')" % (s[3][0], s[4][0]))
    ctx.cluster.sql("INSERT INTO portal.releases (study_id, version, released_at, released_by, released_by_name, how) "
                    "VALUES ('%s', 1, '2020-01-01T10:00:00Z', '%s', 'Dr. Test Physician', 'physician');"
                    "UPDATE portal.studies SET released_version = 1 WHERE id = '%s'" % (s[3][0], PHYSICIAN, s[3][0]))
    admin = harness.Server.token("admin", "compliance-officer")
    q = "/api/v1/admin/holds?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z"
    r = ctx.server.request("GET", q, token=admin)
    assert r.status == 200, r
    j = r.json()
    assert j["summary"]["holds"] == {
        "count": 3, "active": 0, "total_hours": 12.0, "mean_hours": 4.0, "max_hours": 6.0,
        "by_reason": {"harm_risk": 1, "patient_request": 1, "data_believed_wrong": 1},
        "by_end": {"released": 2, "expired": 1}}, j["summary"]
    d = j["summary"]["delayed_releases"]
    assert d["count"] == 2 and d["pending"] == 1, d
    assert d["by_reason"] == {"physician_review": 2} and d["by_end"] == {"released_by_physician": 1, "pending": 1}, d
    items = j["items"]
    # Oldest first; at the same instant delayed releases sort before holds.
    assert [i["kind"] for i in items] == ["delayed_release", "delayed_release", "hold", "hold", "hold"], items
    first = items[2]
    assert first["reason_code"] == "harm_risk" and first["by"] == PHYSICIAN and first["by_name"], first
    assert first["started_at"] == "2020-01-01T00:00:00Z" and first["ended_at"] == "2020-01-01T02:00:00Z", first
    assert first["deadline"] == "2020-01-04T00:00:00Z" and first["duration_seconds"] == 7200, first
    done = [i for i in items if i["kind"] == "delayed_release" and i["ended_how"] == "released_by_physician"]
    assert done[0]["duration_seconds"] == 36000 and done[0]["study_id"] == s[3][0], done

    for headers, path in (({}, q + "&format=csv"), ({"Accept": "text/csv"}, q)):
        c = ctx.server.request("GET", path, token=admin, headers=headers)
        assert c.status == 200 and c.header("Content-Type").startswith("text/csv"), c
        lines = c.body.split("\r\n")
        assert lines[0] == ("kind,study_id,accession,site,modality,version,reason_code,reason,by,by_name,"
                            "started_at,deadline,ended_at,ended_how,duration_seconds"), lines[0]
        assert len([x for x in lines if x]) == 6, lines
        hold = lines[3]
        assert hold.startswith("hold,%s,%s,%s,CT,,harm_risk,Tell in person,%s," % (s[0][0], s[0][2], site, PHYSICIAN)), hold
        assert hold.endswith(",2020-01-01T00:00:00Z,2020-01-04T00:00:00Z,2020-01-01T02:00:00Z,released,7200"), hold
        # A formula-looking reason is quoted and defused.
        assert '"\'=HYPERLINK(""x""), then ""call"""' in c.body, c.body

    assert ctx.server.request("GET", q, token=_doc(ctx)).status == 403
    assert ctx.server.request("GET", q.replace("2020-01-01T00:00:00Z", "yesterday"), token=admin).status == 422
    audit = ctx.cluster.sql("SELECT count(*) FROM portal.audit_log WHERE action = 'compliance.holds.read' "
                            "AND actor_id = 'compliance-officer'")
    assert int(audit[0][0]) >= 3, audit


def _hold(ctx, study_id, **body):
    r = ctx.server.request("POST", "/api/v1/physician/studies/%s/hold" % study_id,
                           body=dict({"reason": "Call first"}, **body), token=_doc(ctx))
    assert r.status == 201, r
    return r.json()


def test_a_hold_under_the_default_policy_never_promises_a_release_when_it_ends(ctx):
    """The default policy waits for the physician: when the hold ends nothing is shared, so the
    patient is told only that the doctor will release it (issue 16: words that are true)."""
    sid, pid, acc = _study(ctx, _site("words-default"))
    _report(ctx, acc)
    s = _patient_study(ctx, sid, pid)
    assert "auto_release_at" not in s, s
    _hold(ctx, sid)
    s = _patient_study(ctx, sid, pid)
    assert s["held"] and "auto_release_at" not in s, s
    assert s["stage_explanation"].endswith("when your doctor releases it."), s
    assert "hold ends" not in s["stage_explanation"], s
    p = _physician_study(ctx, sid)
    assert p["hold"]["ends_at"] and "auto_release_at" not in p["release_policy"], p


def test_a_hold_under_a_deadline_policy_says_when_the_report_is_shared(ctx):
    site = _site("words-deadline")
    _policy(ctx, site, auto_release_after="72 hours")
    sid, pid, acc = _study(ctx, site)
    _report(ctx, acc)
    s = _patient_study(ctx, sid, pid)
    due = s["auto_release_at"]
    assert not s.get("held") and due, s
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5 * 86400))
    _hold(ctx, sid, until=until, reason_code="patient_request")
    s = _patient_study(ctx, sid, pid)
    # Held past the policy's deadline: shared when the hold ends, not at the deadline.
    assert s["held"] and s["auto_release_at"] == until, (s, until)
    assert s["stage_explanation"].endswith("or automatically when the hold ends."), s
    p = _physician_study(ctx, sid)
    assert p["hold"]["reason_code"] == "patient_request" and p["hold"]["ends_at"] == until, p


def test_a_short_hold_under_a_deadline_policy_ends_before_the_deadline(ctx):
    site = _site("words-short")
    _policy(ctx, site, auto_release_after="72 hours")
    sid, pid, acc = _study(ctx, site)
    _report(ctx, acc)
    due = _patient_study(ctx, sid, pid)["auto_release_at"]
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    _hold(ctx, sid, until=until)
    s = _patient_study(ctx, sid, pid)
    assert s["held"] and s["auto_release_at"] == due, (s, due)
