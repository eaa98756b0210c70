"""Kept patient pages (server/page_cache.c, sql/migrations/0006_page_versions.sql): a page without a
report is served again only while the database's version stamps are unchanged, so every write, by
any actor and through any path, shows on the very next read; pages are never shared between
patients; and a kept page with a report is served again only by a call that checks the release and
audits that read, so each read of report text is still audited with its own request id."""
import os
import re
import subprocess
import time
import uuid

import harness
from flows import PATIENT_LIST, Study, final_study, marker, patient_path


def _counts(server):
    text = server.request("GET", "/metrics").body
    out = {}
    for outcome in ("hit", "stale", "miss"):
        m = re.search(r'portal_page_cache_requests_total\{outcome="%s"\} (\d+)' % outcome, text)
        out[outcome] = int(m.group(1)) if m else 0
    return out


def _delta(before, after):
    return {k: after[k] - before[k] for k in before}


def test_a_kept_page_is_served_again_unchanged(ctx):
    s = Study(ctx.server, events=("ordered", "arrived"))
    first = s.as_patient()
    assert first.status == 200, first
    before = _counts(ctx.server)
    again = s.as_patient()
    assert again.status == 200 and again.body == first.body, (first, again)
    assert again.header("Content-Type") == "application/json", again
    assert again.header("Cache-Control") == "no-store", again
    lst = s.as_patient(path=PATIENT_LIST)
    lst2 = s.as_patient(path=PATIENT_LIST)
    assert lst2.body == lst.body, (lst, lst2)
    d = _delta(before, _counts(ctx.server))
    assert d["hit"] >= 2, d


def test_every_kind_of_write_shows_on_the_next_read(ctx):
    s = Study(ctx.server, events=("ordered",))
    assert s.as_patient().json()["stage"] == "ordered"
    assert s.as_patient().json()["stage"] == "ordered"  # now served from the kept page
    before = _counts(ctx.server)

    # A lifecycle event from the RIS.
    s.event("arrived")
    assert s.as_patient().json()["stage"] == "checked_in"
    assert s.as_patient(path=PATIENT_LIST).json()["studies"][0]["stage"] == "checked_in"

    # A report version (the stage follows it).
    s.event("exam_started")
    s.event("exam_completed")
    s.as_patient()
    s.report("final")
    assert s.as_patient().json()["stage"] == "physician_review"

    # A hold placed by the physician.
    s.as_patient()
    r = s.as_physician("POST", "hold", body={"reason": "Wait for the biopsy"})
    assert r.status == 201, r
    assert s.as_patient().json()["held"] is True

    # A write the server did not make at all: straight into the database.
    s.as_patient()
    ctx.cluster.sql("UPDATE portal.holds SET ended_at = now() WHERE study_id = '%s'" % s.study_id)
    assert s.as_patient().json()["held"] is False

    # The release: the report is there at once, in the detail and in the list.
    s.as_patient(path=PATIENT_LIST)
    s.release(note="All good")
    body = s.as_patient().json()
    assert body["report_available"] is True and "report" in body, body
    assert s.as_patient(path=PATIENT_LIST).json()["studies"][0]["report_available"] is True
    d = _delta(before, _counts(ctx.server))
    assert d["stale"] >= 5, d


def test_a_change_for_everyone_shows_on_the_next_read(ctx):
    s = Study(ctx.server, events=("ordered", "arrived"))
    first = s.as_patient()
    s.as_patient()
    before = _counts(ctx.server)
    # The estimates task rewrites the estimates for every patient: that stamps the global version.
    ctx.cluster.sql("UPDATE portal.estimates_state SET refreshed_at = refreshed_at")
    again = s.as_patient()
    assert again.status == 200 and again.json()["stage"] == first.json()["stage"], again
    d = _delta(before, _counts(ctx.server))
    assert d["stale"] == 1 and d["hit"] == 0, d


def test_a_kept_page_is_never_anyone_elses(ctx):
    s = Study(ctx.server, events=("ordered", "arrived"))
    assert s.as_patient().status == 200
    assert s.as_patient().status == 200
    other = ctx.server.token("patient", str(uuid.uuid4()))
    r = ctx.server.request("GET", patient_path(s.study_id), token=other)
    assert r.status == 404, r
    mine = Study(ctx.server, events=("ordered",))
    r = ctx.server.request("GET", patient_path(s.study_id), token=mine.patient)
    assert r.status == 404, r
    lst = ctx.server.request("GET", PATIENT_LIST, token=mine.patient).json()["studies"]
    assert [x["id"] for x in lst] == [mine.study_id], lst
    # The nil UUID is a study id that does not exist, not the kept list.
    r = ctx.server.request("GET", patient_path("00000000-0000-0000-0000-000000000000"),
                           token=mine.patient)
    assert r.status == 404, r


def test_every_read_of_a_kept_report_is_audited(ctx):
    findings = "Findings: %s." % marker("K")
    s = final_study(ctx.server, findings=findings)
    s.release()
    before = _counts(ctx.server)
    rids = ["kept-%d-%s" % (i, uuid.uuid4().hex) for i in range(3)]
    bodies = set()
    for rid in rids:
        r = s.as_patient(headers={"X-Request-Id": rid})
        assert r.status == 200 and findings in r.body, r
        bodies.add(r.body)
    assert len(bodies) == 1, bodies
    d = _delta(before, _counts(ctx.server))
    assert d["hit"] == 2 and d["miss"] == 1, d
    rows = ctx.cluster.sql("SELECT request_id FROM portal.audit_log WHERE study_id = '%s' AND "
                           "action = 'report.read' AND actor_role = 'patient' ORDER BY id"
                           % s.study_id)
    assert [r[0] for r in rows] == rids, rows


def test_a_kept_report_follows_an_amended_release_and_the_physician(ctx):
    s = final_study(ctx.server, findings="First findings.")
    s.release()
    assert s.as_patient().json()["report"]["findings"] == "First findings."
    s.as_patient()
    # An amended version: the patient keeps seeing the released one until it is released too.
    s.report("amended", findings="Amended findings.")
    body = s.as_patient().json()
    assert body["report"]["findings"] == "First findings.", body
    s.as_patient()
    s.release()
    body = s.as_patient().json()
    assert body["report"]["findings"] == "Amended findings.", body
    assert body["report"]["version"] == 2, body
    # The physician's new phone number, sent by the RIS with the next event, is on the prompt.
    s.as_patient()
    ev = harness.event("exam_completed", accession=s.accession, mrn=s.mrn,
                       physician_id=s.physician_id)
    ev["referring_physician"]["phone"] = "+1 555 0199"
    r = ctx.server.request("POST", "/api/v1/ingest/events", body=ev, token=ctx.server.ris())
    assert r.status == 200, r
    body = s.as_patient().json()
    assert body["discussion"]["physician"]["phone"] == "+1 555 0199", body["discussion"]
    # A discussion request shows in the kept page's place at once.
    r = s.as_patient("POST", path=patient_path(s.study_id) + "/discussion-requests",
                     body={"message": "Mornings are best."})
    assert r.status == 201, r
    assert s.as_patient().json()["discussion"]["request"]["state"] == "open"


def test_one_release_sweep_at_a_time(ctx):
    """A sweep stamps the patients it releases for or ends holds of, holding their stamp rows to
    its commit; two sweeps at once could deadlock on them, so a second one passes its turn."""
    s = final_study(ctx.server)
    holder = subprocess.Popen(["psql", "-X", "-q", ctx.cluster.super_url, "-c",
                               "SELECT pg_advisory_lock(7277710006), pg_sleep(60)"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, PGAPPNAME="sweep-lock-holder"))
    try:
        deadline = time.time() + 10
        while not int(ctx.cluster.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                      "AND objid = 7277710006::bigint % 4294967296 "
                                      "AND granted")[0][0]):
            assert time.time() < deadline, "the other sweep never took its lock"
            time.sleep(0.05)
        # The expired hold is placed once the lock is held: the suite's shared server sweeps the
        # same database every minute, and before the lock its round could end the hold first.
        ctx.cluster.sql("INSERT INTO portal.holds (study_id, placed_by, reason, ends_at) VALUES "
                        "('%s', '%s', 'until yesterday', now() - interval '1 minute')"
                        % (s.study_id, s.physician_id))
        assert ctx.cluster.sql("SELECT * FROM portal.release_due(10, 'sweep-b')") == [["0", "0"]]
        assert ctx.cluster.sql("SELECT count(*) FROM portal.holds WHERE study_id = '%s' AND "
                               "ended_at IS NULL" % s.study_id) == [["1"]]
    finally:
        # Ends the other sweep's hold now rather than after a fixed time a loaded machine could
        # outlast before the checks above are done (killing psql would not end its backend's
        # sleep); the lock goes when its session ends.
        # Repeated, since after an early failure its backend may not have started yet; ended
        # harder if the cancel never lands, so later tests' sweeps find the lock free.
        deadline = time.time() + 20
        while holder.poll() is None and time.time() < deadline:
            ctx.cluster.sql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'sweep-lock-holder'")
            time.sleep(0.1)
        if holder.poll() is None:
            ctx.cluster.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'sweep-lock-holder'")
            holder.kill()
            holder.wait()
    deadline = time.time() + 10
    while ctx.cluster.sql("SELECT count(*) FROM portal.holds WHERE study_id = '%s' AND "
                          "ended_at IS NULL" % s.study_id) != [["0"]]:
        assert time.time() < deadline, "the hold was never ended once the lock was free"
        ctx.cluster.sql("SELECT * FROM portal.release_due(10, 'sweep-c')")
        time.sleep(0.1)


def test_a_new_database_connection_drops_every_kept_page(ctx):
    """After a failover or a restore the stamps could repeat numbers the old server gave, so a
    reconnected process builds its pages anew."""
    cluster = harness.Cluster("pagecache-reconnect")
    server = harness.Server(cluster)
    try:
        s = Study(server, events=("ordered", "arrived"))
        # Each worker thread's first connection drops the kept pages too: read until one is kept.
        for _ in range(20):
            assert s.as_patient().status == 200
            if _counts(server)["hit"]:
                break
        assert _counts(server)["hit"] >= 1
        cluster.stop()
        assert s.as_patient().status == 503
        cluster.start()
        deadline = time.time() + 10
        while True:
            before = _counts(server)
            r = s.as_patient()
            if r.status != 503 or time.time() > deadline:
                break
            time.sleep(0.1)
        assert r.status == 200, r
        d = _delta(before, _counts(server))
        assert d["hit"] == 0 and d["stale"] + d["miss"] == 1, d
    finally:
        server.stop()
        cluster.destroy()
