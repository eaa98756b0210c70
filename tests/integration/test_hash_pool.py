"""The hash pool (issue 19): sign-ins check their secret (argon2id), and the JSON API makes a new
patient's access code, on a few threads of their own, not on the HTTP threads, so page views go on while a wave of sign-ins hashes; a full queue is
answered 503 with Retry-After at once; /metrics shows the queue, the jobs and their wait. The
servers here have one HTTP thread, so an HTTP thread busy hashing would hold every other
connection."""
import threading
import time
import uuid

import harness
from flows import Study

SESSION = "/api/v1/session"


def _random_code():
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    raw = "".join(alphabet[b & 31] for b in uuid.uuid4().bytes)
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def _metric(server, name):
    for line in server.request("GET", "/metrics").body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def _metric_settles(server, name, expected, within=10.0):
    """The metric once it reads `expected`, or what it read last after `within` seconds. A hash
    thread counts its job after the job has handed its answer back (and at nice 10 on a loaded
    machine it may run again only later), so the answer can reach the client first."""
    deadline = time.monotonic() + within
    value = _metric(server, name)
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        value = _metric(server, name)
    return value


def _in_parallel(calls):
    """Runs each call on its own thread at once; returns [(result, the order it finished in)]."""
    results = [None] * len(calls)
    order = []
    lock = threading.Lock()
    start = threading.Barrier(len(calls))

    def run(i):
        start.wait()
        r = calls[i]()
        with lock:
            results[i] = r
            order.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [(results[i], order.index(i)) for i in range(len(calls))]


def _assert_signs_in(server, code):
    r = server.request("POST", SESSION, body={"access_code": code, "birth_date": "1985-12-10"})
    assert r.status == 201, r


def _forget_address_failures(cluster):
    cluster.sql("DELETE FROM portal.login_throttle WHERE key LIKE 'addr:%'")


def test_a_full_queue_answers_503_with_retry_after_and_loses_nothing(ctx):
    server = harness.Server(ctx.cluster, env={"PORTAL_THREADS": "1", "PORTAL_HASH_WORKERS": "1",
                                              "PORTAL_HASH_QUEUE": "2"})
    try:
        s = Study(server)
        # The new patient's access code was made on the pool too, before the event was recorded.
        jobs = _metric_settles(server, "portal_hash_jobs_total", 1)
        assert jobs == 1, jobs
        calls = [lambda: server.request("POST", SESSION, body={"access_code": _random_code(),
                                                               "birth_date": "1985-12-10"})
                 for _ in range(12)]
        answers = [r for r, _ in _in_parallel(calls)]
        statuses = sorted(r.status for r in answers)
        busy = [r for r in answers if r.status == 503]
        assert set(statuses) <= {401, 503} and busy and statuses.count(401) >= 3, statuses
        for r in busy:
            assert r.header("Retry-After") == "1", r
            assert r.json()["detail"] == "Too many sign-ins at this moment; try again in a second."
        # The refused ones were never checked, so they count as no failure; the others do.
        rejected = _metric(server, "portal_hash_rejected_total")
        assert rejected == len(busy), (rejected, statuses)
        checked = 1 + statuses.count(401)
        for name, expected in (("portal_hash_jobs_total", checked),
                               ("portal_hash_wait_seconds_count", checked),
                               ("portal_hash_queue_length", 0), ("portal_hash_busy", 0)):
            value = _metric_settles(server, name, expected)
            assert value == expected, (name, value, expected)
        # The queue drained: the right code signs in.
        _assert_signs_in(server, s.access_code)
        assert not server.sanitizer_reports()
    finally:
        server.stop()
        _forget_address_failures(ctx.cluster)


def test_page_views_are_answered_while_sign_ins_hash(ctx):
    """Three sign-ins fill the pool (one hashing, two waiting), then a patient's page is asked
    for on another connection: with the hashes off the only HTTP thread it is answered before the
    last sign-in, which waits behind the two others for the one hash thread."""
    server = harness.Server(ctx.cluster, env={"PORTAL_THREADS": "1", "PORTAL_HASH_WORKERS": "1",
                                              "PORTAL_HASH_QUEUE": "8"})
    try:
        s = Study(server)
        token = s.patient

        def sign_in():
            return server.request("POST", SESSION, body={"access_code": s.access_code,
                                                         "birth_date": "1985-12-10"})

        def page():
            time.sleep(0.02)  # after the sign-ins are in
            return server.request("GET", "/api/v1/patient/studies", token=token)

        done = _in_parallel([sign_in, sign_in, sign_in, page])
        assert [r.status for r, _ in done] == [201, 201, 201, 200], done
        last_sign_in = max(order for _, order in done[:3])
        assert done[3][1] < last_sign_in, \
            "the page waited for the sign-ins' hashes: %s" % [o for _, o in done]
        jobs = _metric_settles(server, "portal_hash_jobs_total", 1 + 3)
        assert jobs == 1 + 3, jobs
        assert not server.sanitizer_reports()
    finally:
        server.stop()
        _forget_address_failures(ctx.cluster)


def test_stopping_lets_queued_sign_ins_finish(ctx):
    """SIGTERM while sign-ins wait for the pool: each is answered (none hangs or is cut off)."""
    server = harness.Server(ctx.cluster, env={"PORTAL_THREADS": "1", "PORTAL_HASH_WORKERS": "1",
                                              "PORTAL_HASH_QUEUE": "8"})
    try:
        s = Study(server)

        def sign_in():
            return server.request("POST", SESSION, body={"access_code": s.access_code,
                                                         "birth_date": "1985-12-10"})

        def stop():
            time.sleep(0.05)
            server.proc.terminate()
            return server.proc.wait(30)

        done = _in_parallel([sign_in, sign_in, sign_in, stop])
        assert [r.status for r, _ in done[:3]] == [201, 201, 201], done
        assert done[3][0] == 0, "portald exited with %s" % done[3][0]
        assert not server.sanitizer_reports()
    finally:
        server.stop()
        _forget_address_failures(ctx.cluster)


def _new_patients_at_once(server, token, tag, n=8):
    """N orders, each for a patient not yet known, sent by the RIS (token) at once: (events, answers)."""
    events = [harness.event("ordered", accession="ACC-%s-%s" % (tag, uuid.uuid4().hex[:10]),
                            mrn="MRN-%s-%s" % (tag, uuid.uuid4().hex[:10]),
                            physician_id="NPI-" + tag)
              for _ in range(n)]

    def send(ev):
        return lambda: server.request("POST", "/api/v1/ingest/events", body=ev, token=token)

    return events, [r for r, _ in _in_parallel([send(ev) for ev in events])]


def test_a_new_patient_from_the_ris_waits_for_the_pool_not_the_page_views(ctx):
    """New patients from the RIS while the queue is full: the ones the queue cannot hold are
    answered 503 with Retry-After and nothing of them is recorded (their codes are not made on the
    HTTP thread, which would hold every page view); sending each again records it with its code.
    A known patient's event needs no hash and is never refused."""
    server = harness.Server(ctx.cluster, env={"PORTAL_THREADS": "1", "PORTAL_HASH_WORKERS": "1",
                                              "PORTAL_HASH_QUEUE": "1"})
    try:
        token = server.token("ris", "test-ris")
        events, answers = _new_patients_at_once(server, token, "HP")
        statuses = [r.status for r in answers]
        busy = [i for i, r in enumerate(answers) if r.status == 503]
        assert set(statuses) <= {200, 503} and busy and 200 in statuses, statuses
        for i in busy:
            r = answers[i]
            assert r.header("Retry-After") == "1", r
            assert r.json()["detail"] == \
                "Too many new patients at this moment; send the event again in a second.", r
            mrn = events[i]["patient"]["mrn"]
            assert ctx.cluster.sql("SELECT count(*) FROM portal.patients WHERE mrn = '%s'"
                                   % mrn) == [["0"]], mrn
        assert _metric(server, "portal_hash_rejected_total") == len(busy)
        # The RIS sends the refused ones again: each is recorded now, with its own code.
        codes = {i: r.json()["access_code"] for i, r in enumerate(answers) if r.status == 200}
        for i in busy:
            r = server.request("POST", "/api/v1/ingest/events", body=events[i], token=token)
            assert r.status == 200, r
            codes[i] = r.json()["access_code"]
        assert len(set(codes.values())) == 8, codes
        # A known patient's next event is recorded whatever the pool's load.
        later = dict(events[0], event_id="ev-" + uuid.uuid4().hex, type="arrived")
        r = server.request("POST", "/api/v1/ingest/events", body=later, token=token)
        assert r.status == 200 and "access_code" not in r.json(), r
        # Each code signs its patient in.
        _assert_signs_in(server, codes[busy[0]])
        assert not server.sanitizer_reports()
    finally:
        server.stop()
        _forget_address_failures(ctx.cluster)


def test_a_site_that_issues_codes_on_request_hashes_nothing_at_ingest(ctx):
    """PORTAL_INGEST_ACCESS_CODES=on_request: new patients from the RIS cost no hash, so a full
    pool refuses none of them; none gets a code until the front desk issues one, which then signs
    the patient in."""
    server = harness.Server(ctx.cluster, env={"PORTAL_THREADS": "1", "PORTAL_HASH_WORKERS": "1",
                                              "PORTAL_HASH_QUEUE": "1",
                                              "PORTAL_INGEST_ACCESS_CODES": "on_request"})
    try:
        token = server.token("ris", "test-ris")
        events, answers = _new_patients_at_once(server, token, "OR")
        assert [r.status for r in answers] == [200] * 8, answers
        assert all("access_code" not in r.json() for r in answers), answers
        assert _metric(server, "portal_hash_jobs_total") == 0
        assert _metric(server, "portal_hash_rejected_total") == 0
        mrns = ", ".join("'%s'" % ev["patient"]["mrn"] for ev in events)
        assert ctx.cluster.sql("SELECT count(*), count(access_hash) FROM portal.patients "
                               "WHERE mrn IN (%s)" % mrns) == [["8", "0"]]
        # A replay is the same answer: no code, and nothing marked for an operator.
        again = server.request("POST", "/api/v1/ingest/events", body=events[0], token=token)
        assert again.status == 200 and again.json() == answers[0].json(), again
        # The front desk prints the code when the patient asks; it signs the patient in.
        staff = server.token("staff", "desk-on-request")
        patient_id = answers[0].json()["patient_id"]
        r = server.request("POST", "/api/v1/staff/patients/%s/access-code" % patient_id,
                           token=staff)
        assert r.status == 201, r
        _assert_signs_in(server, r.json()["access_code"])
        assert not server.sanitizer_reports()
    finally:
        server.stop()
        _forget_address_failures(ctx.cluster)
