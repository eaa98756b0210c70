"""Faults proven survivable (issue 20): PostgreSQL crashed (pg_ctl stop -m immediate) and restarted
10 times while 8 clients release 1,000 reports over HTTP, and portald SIGKILLed twice while 8
clients send 1,000 ingest events. Each client retries what was not acknowledged, as a RIS or a
browser would. Afterwards every acknowledged release and event is in the database exactly once
with exactly one audit row, and nothing is doubled. Each test prints its figures as "#" lines.
Run by tests/suites/faults.sh through tests/integration/run.py --dir tests/faults."""
import concurrent.futures
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402

CLIENTS = 8
RELEASES = int(os.environ.get("FAULT_RELEASES", "1000"))
INGESTS = int(os.environ.get("FAULT_INGESTS", "1000"))
PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")


def _send(port, method, path, body, token, timeout=10):
    """One attempt: (status, body) or (None, error) when the connection failed."""
    import json
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=json.dumps(body).encode(),
                     headers={"Authorization": "Bearer " + token,
                              "Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)
    finally:
        conn.close()


def _until_acknowledged(port_of, method, path, body, token, deadline, counts):
    """Retries until a 2xx; 503 and broken connections are the faults, anything else fails."""
    while time.time() < deadline:
        status, text = _send(port_of(), method, path, body, token)
        if status is not None and 200 <= status < 300:
            return True
        key = "connection" if status is None else str(status)
        counts[key] = counts.get(key, 0) + 1
        if status not in (None, 503):
            raise AssertionError("%s %s answered %s: %s" % (method, path, status, text[:300]))
        time.sleep(0.05)
    return False


def _pg_ctl(cluster, *args):
    cmd = [os.path.join(PGBIN, "pg_ctl"), "-D", os.path.join(cluster.dir, "data"), *args]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True)


def _crash_and_restart(cluster, down):
    """A crash (no shutdown checkpoint: recovery replays the WAL at start), then a start that
    returns once the server accepts connections."""
    _pg_ctl(cluster, "-m", "immediate", "-w", "stop")
    time.sleep(down)
    port = open(os.path.join(cluster.dir, "port")).read().strip()
    _pg_ctl(cluster, "-l", os.path.join(cluster.dir, "postgres.log"), "-o", "-p " + port, "-w",
            "start")


def _ready_within(server, seconds):
    t0 = time.time()
    while time.time() - t0 < seconds:
        try:
            if server.request("GET", "/readyz").status == 200:
                return time.time() - t0
        except OSError:
            pass
        time.sleep(0.02)
    return None


def _setup_reports(server, n, physician):
    """n studies of one patient, exam completed and a final report signed, over the JSON API."""
    ris = server.ris()
    mrn = "MRN-F-" + uuid.uuid4().hex[:8]
    accessions = ["ACC-F-%s-%04d" % (uuid.uuid4().hex[:6], i) for i in range(n)]

    def one(acc):
        for t in ("ordered", "exam_completed"):
            e = harness.event(t, accession=acc, mrn=mrn, physician_id=physician,
                              occurred_at="2026-11-20T1%d:00:00Z" % (0 if t == "ordered" else 2))
            r = server.request("POST", "/api/v1/ingest/events", body=e, token=ris)
            assert r.status == 200, r
            study = r.json()["study_id"]
        r = server.request("POST", "/api/v1/ingest/reports",
                           body=harness.report(acc, signed_at="2026-11-20T13:00:00Z"), token=ris)
        assert r.status == 200, r
        return study

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(one, accessions))


def test_releases_survive_ten_database_crashes(ctx):
    cluster = harness.Cluster("faults-pg")
    server = harness.Server(cluster, env={"PORTAL_THREADS": "4", "PORTAL_RELEASE_SWEEP": "0"})
    try:
        physician = "NPI-F-" + uuid.uuid4().hex[:8]
        t0 = time.time()
        studies = _setup_reports(server, RELEASES, physician)
        print("# set-up: %d studies with final reports in %.1f s" % (len(studies),
                                                                    time.time() - t0))
        token = server.token("physician", physician)
        acknowledged = set()
        counts = {}
        lock = threading.Lock()
        deadline = time.time() + 150
        done = threading.Event()

        def client(share):
            local = {}
            for sid in share:
                if _until_acknowledged(lambda: server.port, "POST",
                                       "/api/v1/physician/studies/%s/release" % sid, {}, token,
                                       deadline, local):
                    with lock:
                        acknowledged.add(sid)
            with lock:
                for k, v in local.items():
                    counts[k] = counts.get(k, 0) + v

        recoveries = []
        during = []

        def chaos():
            for _ in range(10):
                if done.wait(0.2):
                    break
                during.append(len(acknowledged))
                _crash_and_restart(cluster, 0.2)
                recoveries.append(_ready_within(server, 10))

        t0 = time.time()
        crasher = threading.Thread(target=chaos)
        crasher.start()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(client, [studies[i::CLIENTS] for i in range(CLIENTS)]))
        took = time.time() - t0
        # All ten crashes happen, even when the releases finished first.
        done.set()
        crasher.join()
        while len(recoveries) < 10:
            _crash_and_restart(cluster, 0.2)
            recoveries.append(_ready_within(server, 10))

        rows = cluster.sql(
            "SELECT s.id, (SELECT count(*) FROM portal.releases r WHERE r.study_id = s.id), "
            "(SELECT count(*) FROM portal.audit_log a WHERE a.study_id = s.id "
            "AND a.action = 'report.release') FROM portal.studies s "
            "WHERE s.referring_physician_id = '%s'" % physician)
        per_study = {r[0]: (int(r[1]), int(r[2])) for r in rows}
        print("# %d releases from %d clients in %.1f s across %d database crashes (%d of them "
              "while releases were in flight, at %s acknowledged); faults seen by clients: %s; "
              "/readyz back after each restart in %s s" % (
                  len(acknowledged), CLIENTS, took, len(recoveries),
                  sum(1 for d in during if d < RELEASES), during, counts,
                  ", ".join("%.2f" % r if r is not None else "never" for r in recoveries)))
        assert len(acknowledged) == RELEASES, len(acknowledged)
        # Back by itself after every restart, without portald being restarted: the times are
        # printed (0.3-0.9 s on a quiet machine) but not judged against a tight bound, which
        # failed when two other test runs shared the cores (1.38 s once); speed is make bench's.
        assert all(r is not None and r < 5 for r in recoveries), recoveries
        assert len(per_study) == RELEASES, len(per_study)
        doubled = [s for s, (rel, aud) in per_study.items() if rel > 1 or aud > 1]
        missing = [s for s in acknowledged if per_study.get(s, (0, 0)) != (1, 1)]
        print("# afterwards: %d released once with one audit row, %d missing, %d doubled" % (
            sum(1 for v in per_study.values() if v == (1, 1)), len(missing), len(doubled)))
        assert not doubled and not missing, (doubled[:5], missing[:5])
    finally:
        server.stop()
        cluster.destroy()


def test_ingests_survive_two_sigkills(ctx):
    cluster = harness.Cluster("faults-kill")
    env = {"PORTAL_THREADS": "4"}
    server = harness.Server(cluster, env=env)
    try:
        ris = server.ris()
        mrns = ["MRN-K-%s-%d" % (uuid.uuid4().hex[:6], i) for i in range(8)]
        events = [harness.event("ordered", mrn=mrns[i % len(mrns)]) for i in range(INGESTS)]
        acknowledged = set()
        sent = set()
        counts = {}
        lock = threading.Lock()
        deadline = time.time() + 150
        progress = [0]
        current = {"server": server}

        def client(share):
            local = {}
            for e in share:
                with lock:
                    sent.add(e["event_id"])
                if _until_acknowledged(lambda: current["server"].port, "POST",
                                       "/api/v1/ingest/events", e, ris, deadline, local):
                    with lock:
                        acknowledged.add(e["event_id"])
                        progress[0] += 1
            with lock:
                for k, v in local.items():
                    counts[k] = counts.get(k, 0) + v

        kills = []

        def killer():
            for at in (INGESTS // 3, 2 * INGESTS // 3):
                while progress[0] < at and time.time() < deadline:
                    time.sleep(0.01)
                s = current["server"]
                s.proc.send_signal(signal.SIGKILL)
                s.proc.wait()
                s.log.close()
                s.proc = None
                # The same address again, so the clients' retries find it.
                restarted = harness.Server.__new__(harness.Server)
                restarted.__dict__.update(s.__dict__)
                restarted.start()
                current["server"] = restarted
                kills.append(progress[0])

        t0 = time.time()
        k = threading.Thread(target=killer)
        k.start()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(client, [events[i::CLIENTS] for i in range(CLIENTS)]))
        k.join()
        took = time.time() - t0
        server = current["server"]
        ids = "','".join(e["event_id"] for e in events)
        recorded = cluster.sql(
            "SELECT e.event_id, count(*) FROM portal.study_events e WHERE e.event_id IN ('%s') "
            "GROUP BY 1" % ids)
        audited = cluster.sql(
            "SELECT detail->>'event_id', count(*) FROM portal.audit_log WHERE action = "
            "'ingest.event' AND detail->>'event_id' IN ('%s') GROUP BY 1" % ids)
        claimed = cluster.sql("SELECT event_id, count(*) FROM portal.ingest_events WHERE event_id "
                              "IN ('%s') GROUP BY 1" % ids)
        rec = {r[0]: int(r[1]) for r in recorded}
        aud = {r[0]: int(r[1]) for r in audited}
        cla = {r[0]: int(r[1]) for r in claimed}
        print("# %d ingests from %d clients in %.1f s, SIGKILL after %s acknowledged; faults seen "
              "by clients: %s" % (len(acknowledged), CLIENTS, took, kills, counts))
        print("# afterwards: %d events recorded, %d audit rows, %d doubled, %d acknowledged but "
              "missing" % (len(rec), sum(aud.values()),
                           sum(1 for v in list(rec.values()) + list(aud.values()) if v > 1),
                           sum(1 for e in acknowledged if rec.get(e) != 1)))
        assert len(kills) == 2, kills
        assert len(acknowledged) == INGESTS, len(acknowledged)
        assert all(rec.get(e) == 1 and aud.get(e) == 1 and cla.get(e) == 1
                   for e in acknowledged)
        assert all(v == 1 for v in list(rec.values()) + list(aud.values()) + list(cla.values()))
        # Patients: one per MRN, however many of their first events raced or were retried.
        patients = cluster.sql("SELECT mrn, count(*) FROM portal.patients WHERE mrn IN ('%s') "
                               "GROUP BY 1" % "','".join(mrns))
        assert sorted(int(c) for _, c in patients) == [1] * len(mrns), patients
    finally:
        server.stop()
        cluster.destroy()
