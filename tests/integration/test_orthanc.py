"""Images received, from a real Orthanc (issue 13): Debian's Orthanc on loopback ports with a private
configuration (authentication on, StableAge 1 s), DICOM files made by dcmtk's dump2dcm and sent with
storescu over DICOM, and portald following Orthanc's /changes. A stable study of a known accession
completes the exam (awaiting_read, the images' time, the StudyInstanceUID kept, audited as the
PACS); an earlier completion from the RIS is kept; unknown and missing accessions are passed over
and the position still advances; a restart neither repeats nor skips a change; two instances record
each study once; Orthanc stopped leaves the portal serving with the feed shown down, and it
recovers. Every process started here is stopped, even when a test fails."""
import os
import re
import shutil
import subprocess
import time
import uuid

import harness
from flows import Study, patient_path
from pacs import Orthanc

def _follower(ctx, orthanc, credentials=None, poll="1"):
    return harness.Server(ctx.cluster, env={
        "PORTAL_ORTHANC_URL": orthanc.url + "/",
        "PORTAL_ORTHANC_CREDENTIALS_FILE": credentials or orthanc.credentials,
        "PORTAL_ORTHANC_POLL": poll,
        "PORTAL_RELEASE_SWEEP": "0",
    })


def _fresh_feed(ctx):
    """Each test has its own Orthanc, whose changes count from 1 again."""
    ctx.cluster.sql("DELETE FROM portal.feed_positions WHERE feed = 'orthanc'")


def _wait(what, fn, timeout=20, step=0.2):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(step)


def _position(ctx):
    rows = ctx.cluster.sql("SELECT position FROM portal.feed_positions WHERE feed = 'orthanc'")
    return int(rows[0][0]) if rows else None


def _caught_up(ctx, orthanc, timeout=20):
    """Waits until Orthanc is quiet (every study stable) and the position is its last change."""
    def done():
        last = orthanc.last_seq()
        return last > 0 and _position(ctx) == last and last == orthanc.last_seq()
    _wait("the feed's position to reach Orthanc's last change", done, timeout)


def _study(ctx, accession):
    rows = ctx.cluster.sql(
        "SELECT stage, to_char(exam_completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " coalesce(study_instance_uid, ''), id FROM portal.studies WHERE accession = '%s'" % accession)
    return rows[0] if rows else None


def _images_rows(ctx, accession):
    """(audit rows, timeline events) the PACS wrote for a study."""
    audit = ctx.cluster.sql(
        "SELECT a.actor_role, a.actor_id, a.request_id FROM portal.audit_log a "
        "JOIN portal.studies s ON s.id = a.study_id WHERE s.accession = '%s' "
        "AND a.action = 'ingest.images'" % accession)
    events = ctx.cluster.sql(
        "SELECT e.event_id FROM portal.study_events e JOIN portal.studies s ON s.id = e.study_id "
        "WHERE s.accession = '%s' AND e.event_id LIKE 'orthanc:%%'" % accession)
    return audit, events


def _metrics(server):
    r = server.request("GET", "/metrics")
    assert r.status == 200, r
    out = {}
    for line in r.body.splitlines():
        if line.startswith("portal_orthanc_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def _orthanc_time(orthanc, study_uid):
    """Orthanc's LastUpdate of the study, as RFC 3339."""
    for sid in orthanc.get("/studies"):
        s = orthanc.get("/studies/" + sid)
        if s["MainDicomTags"].get("StudyInstanceUID") == study_uid:
            u = s["LastUpdate"]
            return "%s-%s-%sT%s:%s:%sZ" % (u[0:4], u[4:6], u[6:8], u[9:11], u[11:13], u[13:15])
    return None


def test_orthanc_images_complete_the_exam(ctx):
    _fresh_feed(ctx)
    orthanc = Orthanc()
    servers = []
    try:
        # Wrong credentials first: refused by Orthanc, said in the log without the password.
        wrong = os.path.join(orthanc.dir, "wrong")
        with open(wrong, "w") as f:
            f.write("portal:not-the-password-%s\n" % uuid.uuid4().hex)
        bad = _follower(ctx, orthanc, credentials=wrong)
        servers.append(bad)
        _wait("the 401 in the log", lambda: "check PORTAL_ORTHANC_CREDENTIALS_FILE" in bad.read_log())
        m = _metrics(bad)
        assert m["portal_orthanc_up"] == 0 and m['portal_orthanc_errors_total{source="orthanc"}'] >= 1, m
        bad.stop()
        assert open(wrong).read().strip().split(":", 1)[1] not in bad.read_log()

        server = _follower(ctx, orthanc)
        servers.append(server)
        plain = Study(server)                                    # ordered only
        ris_first = Study(server, events=("ordered", "exam_completed"))
        ris_time = _study(ctx, ris_first.accession)[1]
        unknown = "ACC-NOT-OURS-" + uuid.uuid4().hex[:8]
        secret_name = "Secretname^" + uuid.uuid4().hex[:8].upper()
        secret_mrn = "MRN-SECRET-" + uuid.uuid4().hex[:8]

        uid = orthanc.send(plain.accession, instances=2)
        uid_ris = orthanc.send(ris_first.accession)
        orthanc.send(unknown, patient_id=secret_mrn, patient_name=secret_name)
        orthanc.send(None, patient_id=secret_mrn, patient_name=secret_name)
        _wait("four stable studies", lambda: len(orthanc.stable_studies()) == 4)
        _caught_up(ctx, orthanc)

        stage, completed, kept_uid, _ = _study(ctx, plain.accession)
        assert (stage, kept_uid) == ("awaiting_read", uid), (stage, kept_uid)
        assert completed == _orthanc_time(orthanc, uid), (completed, _orthanc_time(orthanc, uid))
        page = plain.as_patient(path=patient_path(plain.study_id))
        assert page.status == 200 and page.json()["stage"] == "awaiting_read", page
        audit, events = _images_rows(ctx, plain.accession)
        assert len(audit) == 1 and audit[0][:2] == ["pacs", "orthanc"], audit
        assert len(events) == 1, events

        # The RIS said the exam was complete earlier: that time is kept, the UID still stored.
        stage, completed, kept_uid, _ = _study(ctx, ris_first.accession)
        assert (stage, completed, kept_uid) == ("awaiting_read", ris_time, uid_ris)
        assert len(_images_rows(ctx, ris_first.accession)[0]) == 1

        # Unknown and missing accessions: passed over, counted, nothing of the patient logged.
        assert _study(ctx, unknown) is None
        m = _metrics(server)
        assert m['portal_orthanc_studies_total{outcome="matched"}'] == 2, m
        assert m['portal_orthanc_studies_total{outcome="unknown_accession"}'] == 1, m
        assert m['portal_orthanc_studies_total{outcome="no_accession"}'] == 1, m
        assert m["portal_orthanc_up"] == 1 and m["portal_orthanc_position"] == orthanc.last_seq(), m
        if shutil.which("promtool"):
            body = server.request("GET", "/metrics").body
            p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                               text=True)
            assert p.returncode == 0, p.stdout + p.stderr
        log = server.read_log()
        assert "accession the portal does not know" in log and "has no AccessionNumber" in log
        for secret in (unknown, secret_name, secret_mrn, secret_name.split("^")[0],
                       plain.accession, orthanc.password):
            assert secret not in log, secret
    finally:
        for s in servers:
            s.stop()
        orthanc.destroy()


def test_orthanc_restart_neither_repeats_nor_skips(ctx):
    _fresh_feed(ctx)
    orthanc = Orthanc()
    server = None
    try:
        server = _follower(ctx, orthanc)
        first = Study(server)
        second = Study(server)
        orthanc.send(first.accession)
        _wait("the first study recorded", lambda: _study(ctx, first.accession)[0] == "awaiting_read")
        _caught_up(ctx, orthanc)
        before = _position(ctx)
        assert server.stop() == 0

        # While portald is down: a second study, and more images of the first (a StableStudy
        # again, which is a change of its own).
        orthanc.send(second.accession)
        orthanc.send(first.accession, study_uid=_study(ctx, first.accession)[2])
        _wait("both stable while portald is down", lambda: len(orthanc.stable_studies()) == 3)
        assert _position(ctx) == before

        server = _follower(ctx, orthanc)
        _caught_up(ctx, orthanc)
        assert _study(ctx, second.accession)[0] == "awaiting_read"
        audit, events = _images_rows(ctx, second.accession)
        assert len(audit) == 1 and len(events) == 1, (audit, events)
        # The first study: once before the restart, once for its second StableStudy, never again.
        audit, events = _images_rows(ctx, first.accession)
        assert len(audit) == 2 and len(events) == 2 and len(set(e[0] for e in events)) == 2, events
        assert int(ctx.cluster.sql("SELECT count(*) FROM portal.ingest_events WHERE kind = 'images'"
                                   " AND event_id LIKE 'orthanc:%%' AND event_id IN (SELECT event_id"
                                   " FROM portal.study_events e JOIN portal.studies s ON"
                                   " s.id = e.study_id WHERE s.accession IN ('%s', '%s'))"
                                   % (first.accession, second.accession))[0][0]) == 3
    finally:
        if server:
            server.stop()
        orthanc.destroy()


def test_orthanc_two_instances_record_each_study_once(ctx):
    _fresh_feed(ctx)
    orthanc = Orthanc()
    servers = []
    try:
        servers = [_follower(ctx, orthanc), _follower(ctx, orthanc)]
        studies = [Study(servers[i % 2]) for i in range(4)]
        _wait("the feed's row", lambda: _position(ctx) is not None)
        # Another transaction holds the position (as a follower does for its batch): both
        # instances skip their rounds instead of waiting, and record nothing meanwhile.
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", ctx.cluster.super_url, "-c",
             "BEGIN; SELECT position FROM portal.feed_positions WHERE feed = 'orthanc' FOR UPDATE;"
             " SELECT pg_sleep(60); COMMIT;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # Sleeping, not waiting for the row: a follower may hold it for its batch when the
            # holder starts, and the position moves once more before the holder has it.
            _wait("the position held", lambda: ctx.cluster.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' "
                "AND state = 'active' AND wait_event = 'PgSleep' "
                "AND pid <> pg_backend_pid()") == [["1"]])
            held_at = _position(ctx)
            for s in studies:
                orthanc.send(s.accession)
            _wait("four stable studies", lambda: len(orthanc.stable_studies()) == 4)
            assert holder.poll() is None, "hold the position longer"
            for s in servers:
                assert _metrics(s)["portal_orthanc_rounds_skipped_total"] >= 1
            assert all(_study(ctx, s.accession)[0] == "ordered" for s in studies)
            assert _position(ctx) == held_at
            assert holder.poll() is None, "hold the position longer"
        finally:
            # Ends the hold now (the sleep is cancelled, the transaction with it) rather than after
            # a fixed time that a loaded machine may outlast before the checks above are done.
            ctx.cluster.sql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE "
                            "'%pg_sleep(60)%' AND pid <> pg_backend_pid()")
            holder.wait(20)
        _caught_up(ctx, orthanc)
        for s in studies:
            assert _study(ctx, s.accession)[0] == "awaiting_read", s.accession
            audit, events = _images_rows(ctx, s.accession)
            assert len(audit) == 1 and len(events) == 1, (s.accession, audit, events)
        # A follower counts a study once its transaction has committed, after the rows the
        # checks above read: the count can come a moment later.
        def matched():
            return sum(_metrics(s)['portal_orthanc_studies_total{outcome="matched"}']
                       for s in servers)
        try:
            _wait("four studies counted as matched", lambda: matched() >= 4, timeout=10, step=0.05)
        except AssertionError as e:
            raise AssertionError("%s (counted %s)" % (e, matched()))
        assert matched() == 4, matched()
    finally:
        for s in servers:
            s.stop()
        orthanc.destroy()


def test_orthanc_down_then_back(ctx):
    _fresh_feed(ctx)
    orthanc = Orthanc()
    server = None
    try:
        server = _follower(ctx, orthanc)
        study = Study(server)
        _wait("the feed up", lambda: _metrics(server)["portal_orthanc_up"] == 1)
        orthanc.stop()
        _wait("the feed down", lambda: _metrics(server)["portal_orthanc_up"] == 0)
        # The portal keeps serving patients meanwhile.
        for _ in range(3):
            r = study.as_patient(path=patient_path(study.study_id))
            assert r.status == 200 and r.json()["stage"] == "ordered", r
            assert server.request("GET", "/readyz").status == 200
        m = _metrics(server)
        assert m['portal_orthanc_errors_total{source="orthanc"}'] >= 1 and \
            m["portal_orthanc_backoff_seconds"] >= 1, m
        assert re.search(r"Orthanc did not answer /changes.*trying again in \d+ s",
                         server.read_log()), server.read_log()[-1500:]

        orthanc.start()
        orthanc.send(study.accession)
        _wait("the study recorded after Orthanc came back",
              lambda: _study(ctx, study.accession)[0] == "awaiting_read", timeout=30)
        m = _metrics(server)
        assert m["portal_orthanc_up"] == 1 and m["portal_orthanc_backoff_seconds"] == 0, m
        assert "following the feed again" in server.read_log()

        # SIGTERM is prompt even while the follower waits out a back-off.
        orthanc.stop()
        _wait("the feed down again", lambda: _metrics(server)["portal_orthanc_up"] == 0)
        t0 = time.time()
        assert server.stop() == 0
        assert time.time() - t0 < 5, time.time() - t0
    finally:
        if server:
            server.stop()
        orthanc.destroy()
