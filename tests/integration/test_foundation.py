"""The foundation's exact answers: health, readiness, routing, limits, body checks, logging."""
import json
import os
import socket
import subprocess
import time
import uuid

import harness


def test_healthz(ctx):
    r = ctx.server.request("GET", "/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}, r
    assert r.header("X-Request-Id"), r.headers


def test_readyz(ctx):
    r = ctx.server.request("GET", "/readyz")
    assert r.status == 200 and r.json() == {"status": "ready"}, r


def test_unknown_route_is_404_problem(ctx):
    r = ctx.server.request("GET", "/api/v1/nothing-here")
    assert r.status == 404, r
    assert r.header("Content-Type") == "application/problem+json"
    p = r.json()
    assert p["status"] == 404 and p["title"] == "Not Found" and p["type"] == "about:blank", p
    assert p["detail"] == "No such resource.", p


def test_wrong_method_is_405_with_allow(ctx):
    r = ctx.server.request("DELETE", "/api/v1/patient/studies")
    assert r.status == 405, r
    assert r.header("Allow") == "GET", r.headers
    assert r.json()["detail"] == "This resource does not accept DELETE.", r


def test_malformed_id_is_404(ctx):
    r = ctx.server.request("GET", "/api/v1/patient/studies/not-a-uuid",
                           token=harness.Server.token("patient", "00000000-0000-0000-0000-000000000001"))
    assert r.status == 404, r


def test_oversized_body_is_413_before_reading(ctx):
    big = "x" * (17 * 1024)
    r = ctx.server.request("POST", "/api/v1/ingest/events", raw='{"a":"%s"}' % big,
                           token=ctx.server.ris())
    assert r.status == 413, r
    assert r.json()["detail"] == "The request body is larger than 16384 bytes.", r


def _announce_body(server, authorization, length=512 * 1024, sent=1024, timeout=10):
    """Sends a head announcing a body of length bytes, then only `sent` of them, and reads the
    answer: a server that waited for the whole body would answer nothing before the timeout."""
    head = ("POST /api/v1/ingest/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
            % (length, authorization))
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(head.encode() + b"x" * sent)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except socket.timeout:
            pass
    return answer.decode("latin-1")


def test_no_token_is_401_before_the_body_is_read(ctx):
    answer = _announce_body(ctx.server, "")
    assert answer.startswith("HTTP/1.1 401"), answer[:200]
    assert "WWW-Authenticate: Bearer" in answer, answer[:400]


def test_wrong_role_is_403_before_the_body_is_read(ctx):
    patient = ctx.server.token("patient", str(uuid.uuid4()))
    answer = _announce_body(ctx.server, "Authorization: Bearer %s\r\n" % patient)
    assert answer.startswith("HTTP/1.1 403"), answer[:200]


def test_the_right_role_is_read_to_the_end(ctx):
    """The same head with the RIS's token: the server waits for the body it was promised."""
    answer = _announce_body(ctx.server, "Authorization: Bearer %s\r\n" % ctx.server.ris(),
                            length=2048, sent=1024, timeout=2)
    assert answer == "", answer[:200]


def test_malformed_json_is_400(ctx):
    r = ctx.server.request("POST", "/api/v1/ingest/events", raw='{"event_id": ', token=ctx.server.ris())
    assert r.status == 400, r
    assert r.json()["detail"].startswith("Malformed JSON at line 1"), r


def test_non_object_json_is_400(ctx):
    r = ctx.server.request("POST", "/api/v1/ingest/events", raw='[1,2]', token=ctx.server.ris())
    assert r.status == 400 and r.json()["detail"] == "The body must be a JSON object.", r


def test_wrong_content_type_is_415(ctx):
    r = ctx.server.request("POST", "/api/v1/ingest/events", raw='{}', token=ctx.server.ris(),
                           content_type="text/plain")
    assert r.status == 415, r
    assert r.json()["detail"] == "Send the body as application/json.", r


def test_empty_body_is_400(ctx):
    r = ctx.server.request("POST", "/api/v1/ingest/events", raw=b"", token=ctx.server.ris())
    assert r.status == 400 and r.json()["detail"] == "A JSON object body is required.", r


def test_duplicate_keys_are_refused(ctx):
    r = ctx.server.request("POST", "/api/v1/ingest/events",
                           raw='{"event_id":"a","event_id":"b"}', token=ctx.server.ris())
    assert r.status == 400, r


def test_request_id_is_taken_from_header_and_logged(ctx):
    r = ctx.server.request("GET", "/healthz", headers={"X-Request-Id": "abc-123.test_id"})
    assert r.header("X-Request-Id") == "abc-123.test_id"
    assert ctx.server.log_shows('"request_id":"abc-123.test_id"')
    lines = [json.loads(l) for l in ctx.server.read_log().splitlines() if l.startswith("{")]
    mine = [l for l in lines if l.get("request_id") == "abc-123.test_id"]
    assert mine and mine[0]["route"] == "healthz" and mine[0]["status"] == 200, mine
    for key in ("ts", "method", "route", "status", "duration_ms"):
        assert key in mine[0], mine[0]


def test_bad_request_id_is_replaced(ctx):
    r = ctx.server.request("GET", "/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert r.header("X-Request-Id") != "bad id with spaces", r.headers


def test_metrics_prometheus_text(ctx):
    ctx.server.request("GET", "/healthz")
    r = ctx.server.request("GET", "/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4"), r.headers
    assert 'portal_http_requests_total{route="healthz",status="200"}' in r.body, r.body[:500]
    assert "portal_http_request_duration_seconds_bucket" in r.body
    assert "portal_db_up 1" in r.body


def _run_serve(env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    base.update(env)
    return subprocess.run([harness.PORTALD, "serve"], env=base, capture_output=True, text=True,
                          timeout=20)


def test_missing_database_url_stops_startup(ctx):
    out = _run_serve({"PORTAL_JWT_SECRET": harness.SECRET})
    assert out.returncode == 1, out
    assert out.stderr.strip() == ("portald: PORTAL_DATABASE_URL is required "
                                  "(a libpq connection string or URI)"), out.stderr


def test_short_jwt_secret_stops_startup(ctx):
    out = _run_serve({"PORTAL_DATABASE_URL": ctx.cluster.app_url, "PORTAL_JWT_SECRET": "short"})
    assert out.returncode == 1
    assert out.stderr.strip() == "portald: PORTAL_JWT_SECRET must be at least 32 bytes", out.stderr


def test_bad_listen_stops_startup(ctx):
    out = _run_serve({"PORTAL_DATABASE_URL": ctx.cluster.app_url,
                      "PORTAL_JWT_SECRET": harness.SECRET, "PORTAL_LISTEN": "nope"})
    assert out.returncode == 1
    assert "PORTAL_LISTEN must be host:port" in out.stderr, out.stderr


def test_bad_alg_stops_startup(ctx):
    out = _run_serve({"PORTAL_DATABASE_URL": ctx.cluster.app_url,
                      "PORTAL_JWT_SECRET": harness.SECRET, "PORTAL_JWT_ALG": "none"})
    assert out.returncode == 1
    assert "PORTAL_JWT_ALG must be RS256 or ES256" in out.stderr, out.stderr


def test_readyz_follows_database_without_restart(ctx):
    cluster = harness.Cluster("readyz")
    # A connect timeout well above the bound below, so an answer that waited for it fails.
    server = harness.Server(cluster, env={"PORTAL_DB_CONNECT_TIMEOUT": "10"})
    try:
        assert server.request("GET", "/readyz").status == 200
        cluster.stop()
        t0 = time.time()
        r = server.request("GET", "/readyz")
        assert r.status == 503, r
        # At once (a refused connection), not after the connect timeout; 3 s leaves an ASan build
        # on a loaded machine its margin.
        assert time.time() - t0 < 3.0, time.time() - t0
        assert r.json()["detail"] == "The database is unavailable.", r
        # An API call while the database is down answers 503 problem+json too.
        tok = harness.Server.token("patient", "00000000-0000-0000-0000-000000000001")
        r = server.request("GET", "/api/v1/patient/studies", token=tok)
        assert r.status == 503 and r.header("Content-Type") == "application/problem+json", r
        cluster.start()
        deadline = time.time() + 10
        status = None
        while time.time() < deadline:
            status = server.request("GET", "/readyz").status
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200, "readyz did not recover within 10 s"
        assert server.request("GET", "/api/v1/patient/studies", token=tok).status == 200
    finally:
        server.stop()
        cluster.destroy()


def test_sigterm_finishes_and_exits_zero(ctx):
    server = harness.Server(ctx.cluster)
    assert server.request("GET", "/healthz").status == 200
    rc = server.stop()
    assert rc == 0, rc
    assert '"msg":"stopped"' in server.read_log()


def test_migrate_is_idempotent_and_refuses_edits(ctx):
    env = dict(os.environ, PORTAL_MIGRATE_DATABASE_URL=ctx.cluster.owner_url)
    out = subprocess.run([harness.PORTALD, "migrate"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "0 applied" in out.stdout, out
    tmpdir = os.path.join(harness.TMP, "edited-migrations")
    os.makedirs(tmpdir, exist_ok=True)
    src = os.path.join(harness.ROOT, "sql", "migrations")
    for name in os.listdir(src):
        with open(os.path.join(src, name)) as f:
            text = f.read()
        if name.startswith("0001"):
            text += "\n-- edited\n"
        with open(os.path.join(tmpdir, name), "w") as f:
            f.write(text)
    out = subprocess.run([harness.PORTALD, "migrate"], capture_output=True, text=True,
                         env=dict(env, PORTAL_MIGRATIONS_DIR=tmpdir))
    assert out.returncode == 1, out
    assert "0001_domain.sql was edited after it was applied" in out.stderr, out.stderr
