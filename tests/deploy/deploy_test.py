#!/usr/bin/env python3
"""The production shape, with the real programs on loopback: nginx (deploy/nginx/portal.conf,
rendered with test ports and paths) over TLS in front of two portald instances (the ASan build),
a PostgreSQL primary and a streaming standby made with pg_basebackup; and nginx's stream module
(deploy/nginx/hl7-stream.conf) taking HL7 v2 over MLLP with TLS and client certificates to the two
instances' HL7 listeners. Prints "ok"/"not ok" lines and ends with "N passed, N failed".
Everything started here is stopped at the end, pass or fail.

Client addresses: the test client talks to nginx from 127.0.0.3; nginx talks to portald from
127.0.0.1 (the only trusted proxy); direct, "untrusted" clients use 127.0.0.4. Linux answers on
all of 127/8, so each role has an address of its own and X-Forwarded-For handling is visible."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "hl7"))
import harness  # noqa: E402
from messages import message, msh, obr, orc, pid  # noqa: E402  (standard library only)

CLIENT_ADDR = "127.0.0.3"  # the browser, as nginx sees it
STRANGER_ADDR = "127.0.0.4"  # someone talking to portald directly
LIMITED_ADDR = "127.0.0.6"  # the client that trips the sign-in rate limit
OTHER_ADDR = "127.0.0.7"
RIS_ADDR = "127.0.0.8"  # the RIS's interface engine, with its client certificate
NO_CERT_ADDR = "127.0.0.9"  # an MLLP client over TLS without a certificate
STRANGER_CERT_ADDR = "127.0.0.10"  # ... with a certificate from another CA
PLAIN_ADDR = "127.0.0.11"  # plain MLLP (no TLS) to the TLS port
BUSY_ADDR = "127.0.0.12"  # one client opening more connections than nginx allows it
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"  # Debian's libnginx-mod-stream
PHYSICIAN = "NPI-DEPLOY-1"
SECRET_OLD = harness.SECRET
SECRET_NEW = "rotated-deploy-secret-0123456789abcdefghij"
PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
REPLICATION_PASSWORD = "repl-" + uuid.uuid4().hex

results = {"passed": 0, "failed": 0}
cleanups = []


def check(name, cond, detail=""):
    if cond:
        results["passed"] += 1
        print("ok - " + name)
    else:
        results["failed"] += 1
        print("not ok - %s %s" % (name, detail))
    sys.stdout.flush()
    return cond


def as_postgres(cmd, **kw):
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


# ---- the pieces --------------------------------------------------------------------------------

def make_standby(primary, tmp):
    """A streaming hot standby of the primary, made the way docs/deploy.md says: a replication
    role, pg_basebackup -R, its own port and socket directory."""
    primary.sql("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') "
                "THEN CREATE ROLE replicator REPLICATION LOGIN; END IF; END$$")
    primary.sql("ALTER ROLE replicator PASSWORD '%s'" % REPLICATION_PASSWORD)
    sdir = os.path.join(tmp, "standby")
    os.makedirs(os.path.join(sdir, "run"))
    if os.getuid() == 0:
        shutil.chown(sdir, "postgres")
        shutil.chown(os.path.join(sdir, "run"), "postgres")
    os.chmod(os.path.join(sdir, "run"), 0o700)
    pport = open(os.path.join(primary.dir, "port")).read().strip()
    # The postgres user may not reach the checkout (under /root on a fresh machine): run a copy.
    script = os.path.join(sdir, "make-standby.sh")
    shutil.copy(os.path.join(ROOT, "deploy/scale/make-standby.sh"), script)
    os.chmod(script, 0o755)
    as_postgres([script, "127.0.0.1", pport,
                 os.path.join(sdir, "data")],
                env=dict(os.environ, PGPASSWORD=REPLICATION_PASSWORD, PGUSER="replicator"))
    with open(os.path.join(sdir, "data", "postgresql.auto.conf"), "a") as f:
        f.write("unix_socket_directories = '%s'\n" % os.path.join(sdir, "run"))
    port = harness.free_port()
    subprocess.run([os.path.join(ROOT, "scripts/pg.sh"), "start", sdir, str(port)], check=True,
                   capture_output=True)
    cleanups.append(lambda: subprocess.run([os.path.join(ROOT, "tests/lib/pg_throwaway.sh"),
                                            "stop", sdir], capture_output=True))
    return sdir, "host=%s port=%d dbname=portal user=portal_app" % (os.path.join(sdir, "run"),
                                                                    port)


def standby_sql(sdir, query):
    port = open(os.path.join(sdir, "port")).read().strip()
    out = as_postgres(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h",
                       os.path.join(sdir, "run"), "-p", port, "-U", "postgres", "-d", "portal",
                       "-c", query])
    return out.stdout.strip()


def make_cert(tmp):
    """A throwaway self-signed certificate for 127.0.0.1 and localhost, the test's own CA."""
    d = os.path.join(tmp, "tls")
    os.makedirs(d)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem")],
                   check=True, capture_output=True)
    return os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")


def make_client_certs(tmp):
    """The HL7 clients' side of mutual TLS: a CA that issues the interface engines' certificates,
    one engine certificate from it, and a stranger's certificate from a CA nginx does not know."""
    d = os.path.join(tmp, "tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def path(name):
        return os.path.join(d, name)

    def run(args):
        subprocess.run(["openssl"] + args, check=True, capture_output=True)

    run(["req", "-x509"] + ec + ["-days", "2", "-subj", "/CN=Test HL7 interface engines CA",
                                 "-keyout", path("hl7-ca.key"), "-out", path("hl7-ca.pem")])
    run(["req", "-new"] + ec + ["-subj", "/O=Test Hospital/CN=ris-engine.test",
                                "-keyout", path("engine.key"), "-out", path("engine.csr")])
    with open(path("engine.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
    run(["x509", "-req", "-in", path("engine.csr"), "-CA", path("hl7-ca.pem"), "-CAkey",
         path("hl7-ca.key"), "-CAcreateserial", "-days", "2", "-extfile", path("engine.ext"),
         "-out", path("engine.pem")])
    run(["req", "-x509"] + ec + ["-days", "2", "-subj", "/CN=ris-engine.test",
                                 "-keyout", path("stranger.key"), "-out", path("stranger.pem")])
    return {"ca": path("hl7-ca.pem"), "engine": (path("engine.pem"), path("engine.key")),
            "stranger": (path("stranger.pem"), path("stranger.key"))}


def render(name, conf, swaps):
    """Each swap must match exactly as often as expected, so the file and the test cannot drift
    apart."""
    for old, new, count in swaps:
        if conf.count(old) != count:
            raise RuntimeError("deploy/nginx/%s: expected %d of %r, found %d"
                               % (name, count, old, conf.count(old)))
        conf = conf.replace(old, new)
    return conf


def render_hl7_stream(ndir, hl7_ports, cert, key, client_ca):
    """deploy/nginx/hl7-stream.conf with the test's ports and paths."""
    conf = open(os.path.join(ROOT, "deploy/nginx/hl7-stream.conf")).read()
    port = harness.free_port()
    # The one instance of the file becomes the test's instances, with the file's parameters.
    line = re.search(r"\n(        server 127\.0\.0\.1:2576( [^;]*)?;\n)", conf)
    if not line:
        raise RuntimeError("deploy/nginx/hl7-stream.conf: no server 127.0.0.1:2576 line")
    servers = "".join("        server 127.0.0.1:%d%s;\n" % (p, line.group(2) or "")
                      for p in hl7_ports)
    conf = render("hl7-stream.conf", conf, [
        (line.group(1), servers, 1),
        ("        listen 2575 ssl so_keepalive=5m:1m:5;\n",
         "        listen 127.0.0.1:%d ssl so_keepalive=5m:1m:5;\n" % port, 1),
        ("        listen [::]:2575 ssl so_keepalive=5m:1m:5;\n", "", 1),
        ("/etc/ssl/portal/fullchain.pem", cert, 1),
        ("/etc/ssl/portal/privkey.pem", key, 1),
        ("/etc/ssl/portal/hl7-clients-ca.pem", client_ca, 1),
        ("/var/log/nginx/portal-hl7.access.log", os.path.join(ndir, "logs", "hl7.access.log"), 1),
        ("/var/log/nginx/portal-hl7.error.log", os.path.join(ndir, "logs", "hl7.error.log"), 1),
    ])
    with open(os.path.join(ndir, "hl7-stream.conf"), "w") as f:
        f.write(conf)
    return port


def render_nginx(tmp, upstream_ports, cert, key, static_dir, hl7_ports, client_ca):
    """deploy/nginx/portal.conf with the production ports and paths swapped for the test's, and
    deploy/nginx/hl7-stream.conf beside it (render_hl7_stream)."""
    ndir = os.path.join(tmp, "nginx")
    os.makedirs(os.path.join(ndir, "logs"))
    conf = open(os.path.join(ROOT, "deploy/nginx/portal.conf")).read()
    https_port, http_port = harness.free_port(), harness.free_port()
    servers = "".join("    server 127.0.0.1:%d max_fails=1 fail_timeout=3s;\n" % p
                      for p in upstream_ports)
    conf = render("portal.conf", conf, [
        ("    server 127.0.0.1:8080 max_fails=1 fail_timeout=3s;\n", servers, 1),
        ("    listen 443 ssl http2;\n", "    listen 127.0.0.1:%d ssl http2;\n" % https_port, 1),
        ("    listen [::]:443 ssl http2;\n", "", 1),
        ("    listen 80;\n", "    listen 127.0.0.1:%d;\n" % http_port, 1),
        ("    listen [::]:80;\n", "", 1),
        ("/etc/ssl/portal/fullchain.pem", cert, 1),
        ("/etc/ssl/portal/privkey.pem", key, 1),
        ("/var/log/nginx/portal.access.log", os.path.join(ndir, "logs", "access.log"), 1),
        ("/var/log/nginx/portal.error.log", os.path.join(ndir, "logs", "error.log"), 1),
        ("/etc/nginx/snippets/portal-security-headers.conf",
         os.path.join(ROOT, "deploy/nginx/security-headers.conf"), 2),
        ("/srv/portal/static", static_dir, 1),
    ])
    with open(os.path.join(ndir, "portal.conf"), "w") as f:
        f.write(conf)
    hl7_port = render_hl7_stream(ndir, hl7_ports, cert, key, client_ca)
    # The main file Debian's /etc/nginx/nginx.conf would be: our own pid, logs and temp paths;
    # the stream module loaded as /etc/nginx/modules-enabled/50-mod-stream.conf does (by its full
    # path: -p moves the prefix a relative one is read from), and the HL7 stream block included
    # at the top level, outside http {}.
    temp = "\n".join("    %s_temp_path %s;" % (k, os.path.join(ndir, k))
                     for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    with open(os.path.join(ndir, "nginx.conf"), "w") as f:
        f.write("""load_module %(module)s;
daemon off;
worker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/logs/main-error.log warn;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
%(temp)s
    access_log off;
    include %(d)s/portal.conf;
}
include %(d)s/hl7-stream.conf;
""" % {"d": ndir, "temp": temp, "module": STREAM_MODULE})
    return ndir, https_port, http_port, hl7_port


class Nginx:
    def __init__(self, ndir, port):
        self.dir, self.port = ndir, port
        args = ["nginx", "-p", ndir, "-c", os.path.join(ndir, "nginx.conf"), "-e",
                os.path.join(ndir, "logs", "stderr.log")]
        t = subprocess.run(args + ["-t"], capture_output=True, text=True)
        self.config_ok = t.returncode == 0
        self.config_test_output = t.stderr
        if not self.config_ok:
            raise RuntimeError("nginx -t failed: " + t.stderr)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cleanups.append(self.stop)
        wait_port(port, self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def access_log(self, name="access.log"):
        """The log's complete lines. nginx writes a line in one write(), yet a reader can see it
        in part: a last line without its newline is still being written."""
        lines = []
        with open(os.path.join(self.dir, "logs", name)) as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                lines.append(json.loads(line))
        return lines


def wait_port(port, proc, host="127.0.0.1"):
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("process exited at start")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


class Client:
    """HTTPS to nginx from a chosen loopback address, verifying the test certificate."""

    def __init__(self, port, cafile, source=CLIENT_ADDR):
        self.port, self.source = port, source
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.conn = None

    def request(self, method, path, body=None, token=None, headers=None, keep=False):
        h = {"Host": "127.0.0.1"}
        if token:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn = self.conn if keep and self.conn else http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=30, context=self.ctx, source_address=(self.source, 0))
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            resp = harness.Response(r.status, r.getheaders(), r.read().decode("utf-8", "replace"))
        except Exception:
            conn.close()
            self.conn = None
            raise
        if keep:
            self.conn = conn
        else:
            conn.close()
        return resp


def direct(port, method, path, source, headers=None, token=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(method, path, headers=h)
        r = conn.getresponse()
        return harness.Response(r.status, r.getheaders(), r.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def headers_named(resp, name):
    return [v for k, v in resp.headers if k.lower() == name.lower()]


def portald_lines(servers, request_id=None):
    """portald's JSON log lines (for one request id: waits for its line, written when the
    request completes, just after the answer went out)."""
    if request_id:
        return wait_for(lambda: portald_lines(servers) and [
            l for l in portald_lines(servers) if l.get("request_id") == request_id], 3) or []
    out = []
    for s in servers:
        for line in s.read_log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def wait_for(fn, timeout=8.0):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.1)


def expected_csp():
    """The policy portald sends itself (server/static_files.c): nginx must send the same one."""
    src = open(os.path.join(ROOT, "server/static_files.c")).read()
    m = re.search(r"#define CONTENT_SECURITY_POLICY\s*\\\n((?:\s*\".*\"\s*\\?\n)+)", src)
    return "".join(re.findall(r"\"([^\"]*)\"", m.group(1)))


# ---- the tests ---------------------------------------------------------------------------------

def test_story(env):
    """The whole patient story through nginx over TLS."""
    c, ris = env["client"], harness.jwt({"role": "ris", "sub": "deploy-ris"})
    ev = harness.event("exam_completed", physician_id=PHYSICIAN)
    r = c.request("POST", "/api/v1/ingest/events", ev, token=ris)
    check("story: ingest an event through nginx (201/200)", r.status in (200, 201), r)
    code = r.json().get("access_code")
    study = r.json()["study_id"]
    env.update(mrn=ev["patient"]["mrn"], patient=r.json()["patient_id"], study=study, code=code,
               birth_date=ev["patient"]["birth_date"])
    r = c.request("POST", "/api/v1/ingest/reports",
                  harness.report(ev["study"]["accession"], findings="Deploy findings.",
                                 impression="Deploy impression."), token=ris)
    check("story: ingest the final report", r.status in (200, 201), r)
    doc = harness.jwt({"role": "physician", "sub": PHYSICIAN})
    env["physician_token"] = doc
    r = c.request("GET", "/api/v1/physician/worklist?state=awaiting_review", token=doc)
    check("story: the physician's worklist has the study",
          r.status == 200 and study in [s["id"] for s in r.json().get("studies", [])], r)
    r = c.request("POST", "/api/v1/session",
                  {"access_code": code, "birth_date": ev["patient"]["birth_date"]})
    check("story: the patient signs in with the printed access code (201, Secure cookie)",
          r.status == 201 and "Secure" in (r.header("Set-Cookie") or ""), r)
    token = r.json().get("token") if r.status == 201 else None
    env["patient_token"] = token
    r = c.request("GET", "/api/v1/patient/studies/" + study, token=token)
    check("story: before release the patient sees the stage and no report",
          r.status == 200 and "report" not in r.json() and "Deploy findings" not in r.body, r)
    r = c.request("POST", "/api/v1/physician/studies/%s/release" % study, {"note": "All fine."},
                  token=doc)
    check("story: the physician releases", r.status == 200, r)
    r = c.request("GET", "/api/v1/patient/studies/" + study, token=token)
    rep = r.json().get("report", {}) if r.status == 200 else {}
    check("story: the patient reads the released report at once",
          rep.get("findings") == "Deploy findings." and "discussion" in r.json(), r)
    r = c.request("POST", "/api/v1/patient/studies/%s/discussion-requests" % study,
                  {"message": "Can we talk?"}, token=token)
    check("story: the patient asks for a discussion (201)", r.status == 201, r)
    r = wait_for(lambda: (lambda x: x if x.status == 200 and study in x.body else None)(
        c.request("GET", "/api/v1/physician/discussion-requests", token=doc)))
    check("story: the physician sees the request", r is not None)
    r = c.request("DELETE", "/api/v1/session", token=token)
    check("story: the patient signs out", r.status in (200, 204), r)
    # Issue 20: signing out ends the token on both instances behind nginx. The instance that
    # signed the patient out refuses it at once; the other hears of it through PostgreSQL's NOTIFY
    # (server/revocation.c), which on a loaded machine can take some milliseconds, so the check
    # allows a second for the news to arrive, then wants four refusals in a row.
    seen = []
    ended = wait_for(lambda: (lambda s: seen.append(s) or (s if s == [401] * 4 else None))(
        [c.request("GET", "/api/v1/patient/studies", token=token).status for _ in range(4)]),
        timeout=1.0)
    check("story: after signing out the token is refused, whichever instance answers, within a "
          "second", ended == [401] * 4, seen)
    r = c.request("POST", "/api/v1/session",
                  {"access_code": code, "birth_date": ev["patient"]["birth_date"]})
    check("story: the patient signs in again (201)", r.status == 201, r)
    env["patient_token"] = r.json().get("token") if r.status == 201 else None


def test_fhir(env):
    """The FHIR API and SMART discovery pass through nginx, and the gate holds there too."""
    c = env["client"]
    r = c.request("GET", "/fhir/R4/metadata")
    check("fhir: the CapabilityStatement through nginx",
          r.status == 200 and (r.header("Content-Type") or "").startswith("application/fhir+json")
          and r.json().get("resourceType") == "CapabilityStatement", r)
    # The story's last sign-in: a token made here in the second of its sign-out would be ended.
    patient = env["patient_token"]
    r = c.request("GET", "/fhir/R4/DiagnosticReport?_count=5", token=patient)
    entries = r.json().get("entry", []) if r.status == 200 else []
    check("fhir: the patient's released report, with its text, through nginx",
          len(entries) == 1 and entries[0]["resource"].get("conclusion") == "Deploy impression.",
          r)
    r = c.request("GET", "/fhir/R4/Observation", token=patient)
    check("fhir: an unknown type is portald's OperationOutcome, not nginx's page",
          r.status == 404 and r.json().get("resourceType") == "OperationOutcome", r)
    r = c.request("GET", "/.well-known/smart-configuration")
    check("fhir: SMART discovery reaches portald (404 until the site configures its IdP)",
          r.status == 404 and "PORTAL_SMART_AUTHORIZE_URL" in r.body, r)


def test_headers(env):
    c = env["client"]
    csp = expected_csp()
    page = c.request("GET", "/")
    css = c.request("GET", "/deploy-test.css")
    api = c.request("GET", "/api/v1/patient/studies", token=env["patient_token"])
    missing = c.request("GET", "/api/v1/nothing-here")
    for name, r in (("page", page), ("asset", css), ("API answer", api), ("404", missing)):
        ok = (headers_named(r, "Content-Security-Policy") == [csp]
              and "frame-ancestors 'none'" in csp
              and headers_named(r, "Strict-Transport-Security")
              and headers_named(r, "Strict-Transport-Security")[0].startswith("max-age=")
              and headers_named(r, "X-Content-Type-Options") == ["nosniff"]
              and headers_named(r, "Referrer-Policy") == ["no-referrer"]
              and len(headers_named(r, "X-Request-Id")) == 1
              and not headers_named(r, "Server")[0].count("/"))
        check("headers: %s has CSP (portald's policy), HSTS, nosniff, Referrer-Policy, one "
              "request id, no version" % name, ok, r.headers)
    check("static: nginx serves the page itself, revalidated on each visit",
          page.status == 200 and headers_named(page, "Cache-Control") == ["no-cache"]
          and headers_named(page, "ETag"), page.headers)
    check("static: assets are cached for an hour",
          css.status == 200 and headers_named(css, "Cache-Control") == ["max-age=3600"],
          css.headers)
    check("API answers keep portald's Cache-Control: no-store",
          api.status == 200 and headers_named(api, "Cache-Control") == ["no-store"], api.headers)
    r = c.request("GET", "/metrics")
    check("/metrics is not on the public site", r.status == 404, r)
    r = c.request("GET", "/readyz")
    check("/readyz is proxied", r.status == 200, r)
    conn = http.client.HTTPConnection("127.0.0.1", env["http_port"], timeout=5)
    conn.request("GET", "/api/v1/patient/studies")
    r = conn.getresponse()
    check("plain HTTP redirects to HTTPS", r.status == 301
          and (r.getheader("Location") or "").startswith("https://"))
    conn.close()


def test_request_id(env):
    c = env["client"]
    r = c.request("GET", "/api/v1/patient/studies/" + env["study"], token=env["patient_token"],
                  headers={"X-Request-Id": "client-chosen-id"})
    rid = r.header("X-Request-Id")
    check("request id: nginx makes its own (32 hex), ignoring the client's",
          bool(rid and re.fullmatch(r"[0-9a-f]{32}", rid)), rid)
    # nginx writes its access-log line after it has sent the answer: wait for it.
    ng = wait_for(lambda: [l for l in env["nginx"].access_log() if l.get("request_id") == rid])
    check("request id: in nginx's JSON access log with the status",
          len(ng) == 1 and ng[0]["status"] == 200 and ng[0]["tls"].startswith("TLS"), ng)
    pl = [l for l in portald_lines(env["servers"], rid) if l.get("msg") == "request"]
    check("request id: the same id in portald's log line for that request",
          len(pl) == 1 and pl[0]["status"] == 200, pl)
    check("X-Forwarded-For via nginx: portald logs the real client, not nginx",
          len(pl) == 1 and pl[0]["client"] == CLIENT_ADDR, pl)
    rows = env["primary"].sql("SELECT client_addr FROM portal.audit_log WHERE request_id = '%s'"
                              % rid)
    check("the audit row of that read has the request id and the client's address",
          rows and all(row[0].split("/")[0] == CLIENT_ADDR for row in rows), rows)


def test_forwarded_for(env):
    c = env["client"]
    r = c.request("GET", "/healthz", headers={"X-Forwarded-For": "6.6.6.6"})
    rid = r.header("X-Request-Id")
    pl = portald_lines(env["servers"], rid)
    check("forged X-Forwarded-For through nginx: the address nginx saw wins",
          len(pl) == 1 and pl[0]["client"] == CLIENT_ADDR, pl)
    port = env["servers"][1].port
    # An untrusted client's X-Request-Id is not believed either: find the line by the id
    # portald answered with.
    forged_rid = "direct-" + uuid.uuid4().hex
    r = direct(port, "GET", "/healthz", STRANGER_ADDR,
               {"X-Forwarded-For": "6.6.6.6", "X-Request-Id": forged_rid})
    rid = r.header("X-Request-Id")
    pl = portald_lines(env["servers"], rid)
    check("forged X-Forwarded-For straight to portald from an untrusted address is ignored",
          r.status == 200 and rid != forged_rid and len(pl) == 1
          and pl[0]["client"] == STRANGER_ADDR, pl)
    r = direct(port, "GET", "/api/v1/patient/studies/" + env["study"], STRANGER_ADDR,
               {"X-Forwarded-For": "6.6.6.6", "X-Request-Id": forged_rid},
               token=env["patient_token"])
    rid = r.header("X-Request-Id")
    rows = env["primary"].sql("SELECT client_addr FROM portal.audit_log WHERE request_id = '%s'"
                              % rid)
    check("...and the audit log records the real peer, not the forged address",
          r.status == 200 and rows and all(row[0].split("/")[0] == STRANGER_ADDR
                                           for row in rows), rows)


def wrong_code(env):
    """A well-formed access code that matches no patient (portald throttles per code and per
    address; a fresh code keeps its per-code limit out of the way)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    raw = uuid.uuid4().bytes * 2
    return "".join(ch if ch == "-" else alphabet[raw[i] % 32] for i, ch in enumerate(env["code"]))


def test_rate_limit(env):
    limited = Client(env["port"], env["cafile"], LIMITED_ADDR)
    statuses, last = [], None
    for i in range(12):
        last = limited.request("POST", "/api/v1/session",
                               {"access_code": wrong_code(env), "birth_date": "1990-01-01"})
        statuses.append(last.status)
    first429 = statuses.index(429) if 429 in statuses else -1
    check("rate limit: sign-in attempts past the burst answer 429",
          first429 >= 1 and all(s == 429 for s in statuses[first429:])
          and all(s in (401, 422) for s in statuses[:first429]), statuses)
    check("rate limit: the 429 is problem+json from nginx, with Retry-After and the headers",
          last.status == 429 and last.header("Content-Type") == "application/problem+json"
          and last.json().get("status") == 429 and last.header("Retry-After") == "60"
          and headers_named(last, "Strict-Transport-Security"), last.headers)
    ng = [l for l in env["nginx"].access_log() if l["status"] == 429
          and l["client"] == LIMITED_ADDR]
    check("rate limit: refused by nginx without reaching portald",
          ng and all(l["upstream"] == "" for l in ng), ng[-1:])
    r = limited.request("DELETE", "/api/v1/session")
    check("rate limit: signing out is never limited", r.status in (200, 204), r)
    r = Client(env["port"], env["cafile"], OTHER_ADDR).request(
        "POST", "/api/v1/session", {"access_code": wrong_code(env), "birth_date": "1990-01-01"})
    check("rate limit: another address still gets an answer from portald", r.status == 401, r)


# ---- HL7 over TLS (deploy/nginx/hl7-stream.conf) -----------------------------------------------

def mllp_tls(env, source, cert=None, max_version=None, timeout=10):
    """A TLS connection to nginx's MLLP port from a chosen loopback address, verifying the site's
    certificate and presenting cert (a (certificate, key) pair) if given. python3-hl7's client
    has no TLS: MLLP is framed by hand (frame, read_frame)."""
    ctx = ssl.create_default_context(cafile=env["cafile"])
    if cert:
        ctx.load_cert_chain(*cert)
    if max_version:
        ctx.maximum_version = max_version
    raw = socket.create_connection(("127.0.0.1", env["hl7_port"]), timeout=timeout,
                                   source_address=(source, 0))
    try:
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    except Exception:
        raw.close()
        raise


def frame(msg):
    return b"\x0b" + msg.encode() + b"\x1c\r"


def read_frame(sock):
    """Bytes up to the end of one MLLP frame, or whatever came before the peer closed."""
    buf = b""
    while not buf.endswith(b"\x1c\r"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def msa(ack):
    """(MSA-1, MSA-2) of a framed ACK, or None."""
    for segment in ack.strip(b"\x0b\x1c\r").split(b"\r"):
        if segment.startswith(b"MSA|"):
            fields = segment.decode().split("|")
            return fields[1], fields[2] if len(fields) > 2 else ""
    return None


def order(acc, mrn=None):
    """An ORM^O01 new order; returns (control id, message)."""
    ctrl = "DEPLOY" + uuid.uuid4().hex[:12].upper()
    return ctrl, message(msh("ORM^O01", ctrl), pid(mrn or "MRN" + uuid.uuid4().hex[:10].upper()),
                         orc("NW"), obr(acc))


def accession():
    return "ACC" + uuid.uuid4().hex[:12].upper()


def refused_attempt(env, source, cert=None):
    """Sends an order over MLLP to nginx's TLS port from source, as a client that should be
    refused; returns (what came back, why it ended, the order's accession)."""
    acc = accession()
    _, msg = order(acc)
    got, why = b"", "closed"
    try:
        with mllp_tls(env, source, cert) as s:
            s.sendall(frame(msg))
            got = read_frame(s)
    except (OSError, ssl.SSLError) as e:  # a refused handshake, an alert, a reset
        why = "%s: %s" % (type(e).__name__, e)
    return got, why, acc


def studies_with(env, acc):
    return env["primary"].sql("SELECT count(*) FROM portal.studies WHERE accession = '%s'"
                              % acc)[0][0]


def stream_log(env, source):
    """nginx's stream access-log lines for one client address (written when a connection
    closes)."""
    return [l for l in env["nginx"].access_log("hl7.access.log") if l["client"] == source]


def code_constant(path, pattern):
    return int(re.search(pattern, open(os.path.join(ROOT, path)).read()).group(1))


def test_hl7_tls(env):
    """HL7 v2 over MLLP through nginx's stream module: TLS with the interface engine's client
    certificate in, plain MLLP to the portald instances' listeners, the ACK back the same way."""
    engine = env["certs"]["engine"]
    hl7_upstreams = {"127.0.0.1:%d" % s.hl7_port for s in env["servers"]}

    # A registration and an order on one long-lived connection, one message at a time.
    mrn, acc = "MRN" + uuid.uuid4().hex[:10].upper(), accession()
    adt_ctrl = "DEPLOY" + uuid.uuid4().hex[:12].upper()
    ctrl, msg = order(acc, mrn)
    with mllp_tls(env, RIS_ADDR, engine) as s:
        version = s.version()
        s.sendall(frame(message(msh("ADT^A04", adt_ctrl), pid(mrn))))
        first = read_frame(s)
        s.sendall(frame(msg))
        second = read_frame(s)
    check("hl7 over TLS: ADT^A04 then ORM^O01 on one connection, each answered AA with its "
          "control id (%s)" % version,
          msa(first) == ("AA", adt_ctrl) and msa(second) == ("AA", ctrl)
          and first.startswith(b"\x0bMSH|") and second.endswith(b"\x1c\r"), (first, second))
    check("hl7 over TLS: the order reached the database (patient under its authority)",
          env["primary"].sql("SELECT p.mrn, p.assigning_authority FROM portal.studies s JOIN "
                             "portal.patients p ON p.id = s.patient_id WHERE s.accession = '%s'"
                             % acc) == [[mrn, "MAINHOSP"]])
    rows = env["primary"].sql("SELECT DISTINCT a.actor_role, a.actor_id, a.client_addr FROM "
                              "portal.audit_log a JOIN portal.studies s ON s.id = a.study_id "
                              "WHERE s.accession = '%s' AND a.action LIKE 'ingest.%%'" % acc)
    check("hl7 over TLS: the audit names the sending facility; the address portald saw is "
          "nginx's, not the RIS's", len(rows) == 1 and rows[0][:2] == ["ris", "MAINHOSP"]
          and rows[0][2].split("/")[0] == "127.0.0.1", rows)

    acc12 = accession()
    ctrl12, msg12 = order(acc12)
    with mllp_tls(env, RIS_ADDR, engine, max_version=ssl.TLSVersion.TLSv1_2) as s:
        version12 = s.version()
        s.sendall(frame(msg12))
        ack12 = read_frame(s)
    check("hl7 over TLS 1.2 as well: AA, and the order stored",
          version12 == "TLSv1.2" and msa(ack12) == ("AA", ctrl12)
          and studies_with(env, acc12) == "1", (version12, ack12))

    # Four connections open at once (least_conn spreads them over both instances).
    socks, acks = [], []
    try:
        for _ in range(4):
            socks.append(mllp_tls(env, RIS_ADDR, engine))
        for s in socks:
            c, m = order(accession())
            s.sendall(frame(m))
            acks.append(msa(read_frame(s)) == ("AA", c))
    finally:
        for s in socks:
            s.close()
    lines = wait_for(lambda: (lambda ls: ls if len(ls) >= 6 else None)(stream_log(env, RIS_ADDR)))
    lines = lines or stream_log(env, RIS_ADDR)
    check("hl7 over TLS: four connections at once, each answered AA", acks == [True] * 4, acks)
    check("nginx's stream log keeps the RIS's address and certificate, and the instance",
          len(lines) == 6 and all(l["client_verify"] == "SUCCESS"
                                  and "CN=ris-engine.test" in l["client_dn"]
                                  and l["upstream"] in hl7_upstreams and l["status"] == 200
                                  for l in lines)
          and {l["tls"] for l in lines} == {"TLSv1.2", "TLSv1.3"}, lines)
    check("the MLLP connections were spread over both instances",
          {l["upstream"] for l in lines} == hl7_upstreams, [l["upstream"] for l in lines])

    # Clients nginx must refuse: no certificate, a certificate from another CA, no TLS at all.
    for source, cert, who in ((NO_CERT_ADDR, None, "without a client certificate"),
                              (STRANGER_CERT_ADDR, env["certs"]["stranger"],
                               "with a certificate from another CA")):
        got, why, acc_x = refused_attempt(env, source, cert)
        logged = wait_for(lambda: stream_log(env, source))
        check("mutual TLS: a client %s gets no ACK (%s) and nothing is stored" % (who, why),
              b"MSA" not in got and studies_with(env, acc_x) == "0", got)
        check("mutual TLS: ... nginx closed it without connecting to portald",
              logged and all(l["upstream"] == "" and l["client_verify"] != "SUCCESS"
                             for l in logged), logged)
    acc_plain = accession()
    _, msg = order(acc_plain)
    got = b""
    with socket.create_connection(("127.0.0.1", env["hl7_port"]), timeout=10,
                                  source_address=(PLAIN_ADDR, 0)) as s:
        s.sendall(frame(msg))
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
    logged = wait_for(lambda: stream_log(env, PLAIN_ADDR))
    check("plain MLLP to the TLS port: no ACK (%d bytes back, no MLLP frame), nothing stored"
          % len(got), b"MSA" not in got and not got.startswith(b"\x0b")
          and studies_with(env, acc_plain) == "0", got[:80])
    check("plain MLLP to the TLS port: never passed to portald",
          logged and all(l["upstream"] == "" for l in logged), logged)

    # One client cannot take every slot portald has for nginx: limit_conn per real address.
    conf = open(os.path.join(env["nginx"].dir, "hl7-stream.conf")).read()
    per_client = int(re.search(r"limit_conn portal_hl7_addr (\d+);", conf).group(1))
    held, extra = [], None
    try:
        for _ in range(per_client):
            held.append(mllp_tls(env, BUSY_ADDR, engine))
        try:
            extra = mllp_tls(env, BUSY_ADDR, engine)
            extra.sendall(frame(order(accession())[1]))
            over = read_frame(extra)
        except OSError as e:
            over = repr(e).encode()
        c, m = order(accession())
        held[-1].sendall(frame(m))
        last_ok = msa(read_frame(held[-1])) == ("AA", c)
    finally:
        for s in held + ([extra] if extra else []):
            s.close()
    check("limit_conn: a client's connection past %d is refused, the ones it holds still work"
          % per_client, b"MSA" not in over and last_ok, over[:200])
    check("limit_conn: the refusal is nginx's (stream log status 503)",
          any(l["status"] == 503 for l in wait_for(lambda: [
              l for l in stream_log(env, BUSY_ADDR) if l["status"] == 503]) or []))

    # A stalled sender: portald's read timeout (2 s here) closes the connection and nginx then
    # closes the RIS's side: nginx's own timeouts never outlast portald's.
    with mllp_tls(env, RIS_ADDR, engine) as s:
        s.sendall(b"\x0bMSH|^~\\&|RIS|MAINHOSP|PORTAL|PORTAL|")
        started = time.time()
        try:
            tail = s.recv(100)
        except OSError as e:
            tail = repr(e).encode()
        waited = time.time() - started
    check("a stalled message through nginx: portald cuts it off after PORTAL_HL7_READ_TIMEOUT "
          "and the TLS client sees the close (%.1fs)" % waited,
          b"MSA" not in tail and 1.5 < waited < 8, tail)

    # The shipped file against portald's own limits (include/hl7_listener.h, server/config.c).
    conf = open(os.path.join(ROOT, "deploy/nginx/hl7-stream.conf")).read()
    idle = code_constant("include/hl7_listener.h", r"#define HL7_IDLE_TIMEOUT_S\s+(\d+)")
    per_address = code_constant("include/hl7_listener.h", r"#define HL7_MAX_PER_ADDRESS\s+(\d+)")
    read_max = code_constant("server/config.c",
                             r'"PORTAL_HL7_READ_TIMEOUT", "\d+", \d+, (\d+)')
    m = re.search(r"proxy_timeout (\d+)m;", conf)
    proxy_timeout = int(m.group(1)) * 60 if m else 0
    check("proxy_timeout (%ds) outlasts portald's idle (%ds) and longest read timeout (%ds)"
          % (proxy_timeout, idle, read_max), proxy_timeout > max(idle, read_max))
    conns = re.findall(r"max_conns=(\d+)", conf)
    check("max_conns per instance is portald's per-address limit (%d), limit_conn below it"
          % per_address, conns and all(int(n) == per_address for n in conns)
          and per_client < per_address, conns)


def test_kill_one_instance(env):
    """A bounded load of GETs through nginx while one portald is killed: none may be lost."""
    token = env["patient_token"]
    stop_at = time.time() + 4.0
    counts = {"ok": 0, "bad": []}
    lock = threading.Lock()

    def load():
        c = Client(env["port"], env["cafile"])
        paths = ["/api/v1/patient/studies", "/api/v1/patient/studies/" + env["study"],
                 "/readyz"]
        i = 0
        while time.time() < stop_at:
            i += 1
            try:
                r = c.request("GET", paths[i % 3], token=token, keep=True)
                good = r.status == 200
                what = (r.status, r.body[:120])
            except Exception as e:  # a lost request: the test fails on it
                good, what = False, repr(e)
            with lock:
                if good:
                    counts["ok"] += 1
                else:
                    counts["bad"].append(what)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.2)
    victim = env["servers"][0]
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    killed_at = time.time()
    for t in threads:
        t.join()
    check("kill -9 one of two instances under load: no GET lost (%d answered)" % counts["ok"],
          not counts["bad"] and counts["ok"] > 40, counts["bad"][:5])
    check("the load ran past the kill", stop_at - killed_at > 1.5)
    acks = []
    for _ in range(3):
        c, m = order(accession())
        with mllp_tls(env, RIS_ADDR, env["certs"]["engine"]) as s:
            s.sendall(frame(m))
            acks.append(msa(read_frame(s)) == ("AA", c))
    check("with one instance dead, new MLLP connections through nginx reach the other (AA)",
          acks == [True] * 3, acks)
    retried = [l for l in env["nginx"].access_log() if ", " in l.get("upstream", "")]
    check("nginx retried idempotent requests on the other instance",
          len(retried) > 0 and all(l["method"] in ("GET", "HEAD") for l in retried),
          retried[:3])
    # A POST is never sent to a second instance: with only the dead one... the live one answers,
    # so show it from the configuration nginx runs with.
    conf = open(os.path.join(env["nginx"].dir, "portal.conf")).read()
    check("proxy_next_upstream never lists non_idempotent",
          "proxy_next_upstream error timeout;" in conf and "non_idempotent" not in
          re.sub(r"#.*", "", conf))
    victim.stop()
    victim.start()


def test_standby_reads(env):
    """Reads marked standby_ok go to the standby; a user's own writes are read back at once."""
    sdir, c = env["standby_dir"], env["client"]
    check("standby: in recovery, streaming from the primary",
          standby_sql(sdir, "SELECT pg_is_in_recovery()") == "t"
          and env["primary"].sql("SELECT count(*) FROM pg_stat_replication "
                                 "WHERE state = 'streaming'")[0][0] == "1")
    c.request("GET", "/api/v1/patient/studies", token=env["patient_token"])
    n = standby_sql(sdir, "SELECT count(*) FROM pg_stat_activity "
                          "WHERE application_name = 'portald-read'")
    check("standby: portald holds read connections to it", int(n) >= 1, n)
    standby_sql(sdir, "SELECT pg_wal_replay_pause()")
    try:
        ris = harness.jwt({"role": "ris", "sub": "deploy-ris"})
        ev = harness.event("exam_completed", physician_id=PHYSICIAN,
                           patient={"mrn": env["mrn"], "name": "Test Patient",
                                    "birth_date": "1985-12-10", "email": "test@example.org"})
        r = c.request("POST", "/api/v1/ingest/events", ev, token=ris)
        new = r.json()["study_id"]
        c.request("POST", "/api/v1/ingest/reports", harness.report(ev["study"]["accession"]),
                  token=ris)
        r = c.request("GET", "/api/v1/patient/studies", token=env["patient_token"])
        check("standby: with replay paused, the patient's list comes from the standby (the "
              "new study is not there yet)", r.status == 200 and new not in r.body, r)
        doc = env["physician_token"]
        r = c.request("POST", "/api/v1/physician/studies/%s/release" % new, {}, token=doc)
        check("standby: the physician releases the new study", r.status == 200, r)
        r = c.request("GET", "/api/v1/physician/worklist?state=released", token=doc)
        check("read-your-write: the physician's worklist shows the release at once",
              r.status == 200 and new in r.body, r)
        r = c.request("GET", "/api/v1/physician/studies/" + new, token=doc)
        check("read-your-write: the physician's study view shows it released",
              r.status == 200 and r.json().get("stage") == "available", r)
        r = c.request("GET", "/api/v1/patient/studies/" + new, token=env["patient_token"])
        check("read-your-write: the patient reads the released report at once",
              r.status == 200 and "report" in r.json(), r)
        r = c.request("POST", "/api/v1/patient/studies/%s/discussion-requests" % new,
                      {"message": "Please call."}, token=env["patient_token"])
        check("read-your-write: the patient's discussion request is accepted", r.status == 201, r)
        r = c.request("GET", "/api/v1/patient/studies/" + new, token=env["patient_token"])
        state = r.json().get("discussion", {}).get("request", {}).get("state")
        check("read-your-write: the patient sees their own request at once",
              r.status == 200 and state not in (None, "none"), r)
        asked = r.json()["discussion"]["request"]["id"]
        r = c.request("POST", "/api/v1/physician/discussion-requests/%s/answer" % asked,
                      {"state": "contacted"}, token=doc)
        check("standby: the physician answers the request", r.status == 200, r)
        r = c.request("GET", "/api/v1/physician/discussion-requests", token=doc)
        check("read-your-write: the physician's list shows the answer at once",
              r.status == 200 and any(x["id"] == asked and x["state"] == "contacted"
                                      for x in r.json()["requests"]), r)
        r = Client(env["port"], env["cafile"], OTHER_ADDR).request(
            "POST", "/api/v1/session", {"access_code": env["code"],
                                        "birth_date": env["birth_date"]})
        check("sign-in works while the standby lags (it reads the primary)", r.status == 201, r)
    finally:
        standby_sql(sdir, "SELECT pg_wal_replay_resume()")
    seen = wait_for(lambda: new in c.request("GET", "/api/v1/patient/studies",
                                             token=env["patient_token"]).body)
    check("standby: after replay resumes the list catches up", seen)
    # The standby stopped: reads fall back to the primary, nothing fails.
    subprocess.run([os.path.join(ROOT, "scripts/pg.sh"), "stop", sdir], check=True,
                   capture_output=True)
    statuses = [c.request("GET", "/api/v1/patient/studies", token=env["patient_token"]).status
                for _ in range(6)]
    check("standby down: reads fall back to the primary", statuses == [200] * 6, statuses)


def test_jwt_rotation(env):
    """Rotate the signing key with no downtime: first every instance accepts the new key
    (PORTAL_JWT_PREVIOUS_SECRET=new), then every instance signs with it and still accepts the
    old one, then the old one is dropped. Tokens of either key keep working through it."""
    c = env["client"]
    old = harness.jwt({"role": "physician", "sub": PHYSICIAN})
    new = harness.jwt({"role": "physician", "sub": PHYSICIAN}, key=SECRET_NEW)
    other = harness.jwt({"role": "physician", "sub": PHYSICIAN}, key="x" * 40)
    bad, stop = [], threading.Event()

    def load():
        lc = Client(env["port"], env["cafile"])
        while not stop.is_set():
            try:
                r = lc.request("GET", "/api/v1/physician/worklist", token=old, keep=True)
                if r.status != 200:
                    bad.append(r.status)
            except Exception as e:
                bad.append(repr(e))

    # nginx rests an instance it saw fail for fail_timeout: the next one may be stopped only
    # after that, or nginx would find no live instance (docs/operations.md, rolling restart).
    conf = open(os.path.join(env["nginx"].dir, "portal.conf")).read()
    rest = int(re.search(r"fail_timeout=(\d+)s", conf).group(1)) + 1.5  # nginx counts whole seconds
    t = threading.Thread(target=load)
    t.start()
    try:
        for secret, previous in ((SECRET_OLD, SECRET_NEW), (SECRET_NEW, SECRET_OLD)):
            for s in env["servers"]:  # a rolling restart, one instance at a time
                s.stop()
                s.env.update(PORTAL_JWT_SECRET=secret, PORTAL_JWT_PREVIOUS_SECRET=previous)
                s.start()
                wait_for(lambda: direct(s.port, "GET", "/readyz", "127.0.0.1").status == 200)
                time.sleep(rest)
            if secret == SECRET_OLD:
                r = c.request("GET", "/api/v1/physician/worklist", token=new)
                check("rotation step 1: every instance accepts a token signed with the new key",
                      all(c.request("GET", "/api/v1/physician/worklist", token=new).status == 200
                          for _ in range(4)), r)
    finally:
        stop.set()
        t.join()
    check("rotation: an old-key session kept working through both rolling restarts", not bad,
          bad[:5])
    ris = harness.jwt({"role": "ris", "sub": "deploy-ris"})
    ev = harness.event("ordered")
    code = c.request("POST", "/api/v1/ingest/events", ev, token=ris).json().get("access_code")
    r = c.request("POST", "/api/v1/session", {"access_code": code,
                                              "birth_date": ev["patient"]["birth_date"]})
    issued = r.json().get("token", "") if r.status == 201 else ""
    ok = issued and all(direct(s.port, "GET", "/api/v1/patient/studies", "127.0.0.1",
                               token=issued).status == 200 for s in env["servers"])
    check("rotation step 2: new sessions are signed with the new key, accepted everywhere", ok, r)
    check("rotation: a token signed with any other key is refused",
          c.request("GET", "/api/v1/physician/worklist", token=other).status == 401)


def test_operations(env):
    s = env["servers"][1]
    r = direct(s.port, "GET", "/metrics", "127.0.0.1")
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=r.body, capture_output=True,
                           text=True)
        check("/metrics passes promtool check metrics", r.status == 200 and p.returncode == 0,
              p.stdout + p.stderr)
    else:
        check("promtool is installed (Debian package prometheus)", False)
    logs = [x.log_path for x in env["servers"]] + [
        os.path.join(env["nginx"].dir, "logs", "access.log")]
    for path in logs:
        p = subprocess.run(["jq", "-e", "-c", "select(.ts and (.request_id or .msg))"],
                           stdin=open(path), capture_output=True, text=True)
        n = len(open(path).read().splitlines())
        check("every line of %s is JSON jq reads (%d lines)" % (os.path.basename(path), n),
              p.returncode == 0 and n > 0 and len(p.stdout.splitlines()) == n, p.stderr[:300])
    unit = os.path.join(ROOT, "deploy/systemd/portald.service")
    if shutil.which("systemd-analyze"):
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20",
                            unit], capture_output=True, text=True)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
        check("systemd unit: exposure at most 2.0 by systemd-analyze security (%s)"
              % (m.group(1) if m else "?"), m and float(m.group(1)) <= 2.0, p.stderr[-300:])
    reports = [l for x in env["servers"] for l in x.sanitizer_reports()]
    check("no sanitizer report in any portald log", not reports, reports[:3])
    # nginx 1.22 logs at [crit] a refused TLS client that goes on sending after nginx's
    # close_notify (the MLLP clients refused in test_hl7_tls do: a TLS 1.3 client learns of the
    # refusal only when it reads). The client's doing, not nginx's: that line alone is left out.
    client_noise = re.compile(r"\[crit\].*SSL_shutdown\(\) failed \(SSL: error:0A000123:"
                              r".*application data after close notify\) while SSL handshaking")
    errors = "".join(l for name in ("error.log", "hl7.error.log")
                     for l in open(os.path.join(env["nginx"].dir, "logs", name))
                     if not client_noise.search(l))
    check("nginx logged no [emerg] or [crit]", "[emerg]" not in errors and "[crit]" not in errors,
          errors[-500:])



def raw_tls(env, data, wait=3.0):
    """Sends data to nginx over TLS on a new connection; returns what came back before nginx
    closed it or wait seconds passed."""
    ctx = ssl.create_default_context(cafile=env["cafile"])
    sock = socket.create_connection(("127.0.0.1", env["port"]), timeout=wait,
                                    source_address=(OTHER_ADDR, 0))
    tls = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    out = b""
    try:
        tls.sendall(data)
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                b = tls.recv(65536)
            except (socket.timeout, ssl.SSLError, OSError):
                break
            if not b:
                break
            out += b
    finally:
        tls.close()
    return out


def test_framing(env):
    """Issue 20: request shapes libmicrohttpd frames itself (a malformed Content-Length gets its
    status line and headers twice), or answers with its own pages (a head between ~5.2 and ~5.5
    KB is dropped, a larger one gets its 431 page), are refused by nginx before they reach
    portald; the smuggling shapes portald refuses too are refused by nginx first."""
    def post(extra, body=b""):
        return (b"POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                b"Content-Type: application/json\r\n" + extra + b"\r\n" + body)

    def status(out):
        return int(out.split(b" ", 2)[1]) if out.startswith(b"HTTP/1.1 ") else None

    before = sum(len(x.read_log()) for x in env["servers"])
    for cl in (b"-1", b"abc", b"+2", b"18446744073709551616", b"2, 2"):
        out = raw_tls(env, post(b"Content-Length: " + cl + b"\r\n", b"{}"))
        check("nginx refuses Content-Length %s once, with 400" % cl.decode(),
              status(out) == 400 and out.count(b"HTTP/1.1 ") == 1, out[:300])
    out = raw_tls(env, post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                            b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    check("nginx refuses Content-Length with Transfer-Encoding, answering once",
          status(out) == 400 and out.count(b"HTTP/1.1 ") == 1, out[:300])
    out = raw_tls(env, post(b"Transfer-Encoding: xchunked\r\n", b"2\r\n{}\r\n0\r\n\r\n"))
    check("nginx refuses an unknown transfer coding (501)", status(out) == 501, out[:300])
    out = raw_tls(env, post(b"Transfer-Encoding: chunked\r\n",
                            b"2;" + b"a" * 100000 + b"\r\n{}\r\n0\r\n\r\n"))
    check("a 100 KB chunk extension never meets libmicrohttpd's own page",
          status(out) in (400, 413, 422) and b"libmicrohttpd" not in out, out[:300])
    time.sleep(0.3)
    after = "".join(x.read_log() for x in env["servers"])
    check("none of the malformed framings reached portald's libmicrohttpd",
          "Content-Length' header" not in after and "Error processing request" not in after,
          after[before:][-500:])

    def head(size, line=200):
        """A head of size bytes, padded with header lines of about line bytes."""
        out = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        n = 0
        while len(out) + 2 < size:
            room = size - len(out) - 2
            pad = min(line, room) - len(b"X-Pad-000: \r\n")
            if pad < 1:
                break
            out += b"X-Pad-%03d: %s\r\n" % (n, b"p" * pad)
            n += 1
        return out + b"\r\n"

    seen = {}
    for size in list(range(2000, 4600, 100)) + [5300, 5500, 8000, 12000]:
        out = raw_tls(env, head(size), wait=2)
        seen[size] = status(out)
    check("heads up to 3 KB pass nginx and are answered by portald",
          all(seen[n] == 200 for n in seen if n <= 3000), seen)
    token_like = status(raw_tls(env, head(2700, line=2500), wait=2))
    check("a 2.5 KB header line (a large identity-provider token) passes", token_like == 200,
          token_like)
    check("every larger head is either answered or refused by nginx with 400, never dropped "
          "and never portald's 431", all(seen[n] in (200, 400) for n in seen), seen)
    check("heads over 4 KB are refused by nginx", all(seen[n] == 400 for n in seen if n > 4096),
          seen)

def run_cleanups():
    while cleanups:
        try:
            cleanups.pop()()
        except Exception:
            traceback.print_exc()


def main():
    # Stopped from outside (a timeout, Ctrl-C): still stop every process started here.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run()
    finally:
        run_cleanups()


def run():
    tmp = tempfile.mkdtemp(prefix="deploy-", dir=harness.TMP)
    os.chmod(tmp, 0o755)
    harness.TMP = tmp
    env = {}
    try:
        primary = harness.Cluster("primary")
        cleanups.append(primary.destroy)
        env["primary"] = primary
        env["standby_dir"], read_url = make_standby(primary, tmp)
        servers = []
        for _ in range(2):
            # The HL7 listener on loopback, as in production; a short read timeout so the test
            # can watch a stalled sender being cut off through nginx.
            hl7_port = harness.free_port()
            s = harness.Server(primary, env={"PORTAL_TRUSTED_PROXIES": "127.0.0.1",
                                             "PORTAL_DATABASE_READ_URL": read_url,
                                             "PORTAL_STATIC_DIR": "", "PORTAL_THREADS": "2",
                                             "PORTAL_HL7_LISTEN": "127.0.0.1:%d" % hl7_port,
                                             "PORTAL_HL7_READ_TIMEOUT": "2"})
            s.hl7_port = hl7_port
            cleanups.append(s.stop)
            servers.append(s)
        env["servers"] = servers
        static = os.path.join(tmp, "static")
        shutil.copytree(os.path.join(ROOT, "static"), static)
        if not os.path.exists(os.path.join(static, "index.html")):
            with open(os.path.join(static, "index.html"), "w") as f:
                f.write("<!doctype html><title>Results portal</title>\n")
        with open(os.path.join(static, "deploy-test.css"), "w") as f:
            f.write("body { margin: 0 }\n")
        cert, key = make_cert(tmp)
        certs = make_client_certs(tmp)
        ndir, port, http_port, hl7_port = render_nginx(
            tmp, [s.port for s in servers], cert, key, static, [s.hl7_port for s in servers],
            certs["ca"])
        env["nginx"] = Nginx(ndir, port)
        check("nginx -t accepts the rendered deploy/nginx/portal.conf and hl7-stream.conf",
              env["nginx"].config_ok)
        wait_port(hl7_port, env["nginx"].proc)
        env.update(port=port, http_port=http_port, cafile=cert,
                   client=Client(port, cert), hl7_port=hl7_port, certs=certs)
    except Exception:
        # As "#" lines, so tests/run.sh shows why set-up failed.
        for line in traceback.format_exc().splitlines()[-15:]:
            print("# " + line)
        check("set-up: primary, standby, two portald, nginx (http and stream)", False)
        run_cleanups()
        print("%d passed, %d failed" % (results["passed"], results["failed"]))
        return 1

    tests = [test_story, test_fhir, test_headers, test_request_id, test_forwarded_for, test_rate_limit,
             test_hl7_tls, test_kill_one_instance, test_standby_reads, test_jwt_rotation,
             test_operations, test_framing]
    if len(sys.argv) > 1:
        tests = [t for t in tests if any(a in t.__name__ for a in sys.argv[1:])]
        if test_story not in tests:
            tests.insert(0, test_story)  # the others need its patient and tokens
    for t in tests:
        started = time.time()
        try:
            t(env)
        except Exception as e:
            # As "#" lines, so tests/run.sh shows where it stopped (CI keeps only those).
            for line in traceback.format_exc().splitlines()[-15:]:
                print("# " + line)
            check("%s finished without an exception (%s: %s)" % (t.__name__, type(e).__name__, e),
                  False)
        print("# %s took %.1fs" % (t.__name__, time.time() - started))
    run_cleanups()
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
