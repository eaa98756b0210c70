"""Integration harness: a throwaway PostgreSQL, the real portald binary (the ASan build), and
small HTTP helpers. Standard library only, so a fresh Debian needs nothing but python3."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("B", "build"))
PORTALD = os.environ.get("PORTALD", os.path.join(BUILD, "asan", "portald"))
TMP = os.environ.get("PORTAL_TEST_TMP", "/tmp")
SECRET = "integration-test-secret-0123456789abcdef"
ISSUER = "portal-test"
AUDIENCE = "portal-test-aud"
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims=None, key=SECRET, alg="HS256", header=None, **overrides):
    """An HS256 token (or alg 'none') with sensible defaults; overrides replace claims."""
    now = int(time.time())
    body = {"sub": str(uuid.uuid4()), "role": "patient", "iss": ISSUER, "aud": AUDIENCE,
            "iat": now, "exp": now + 600}
    body.update(claims or {})
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}
    head = header or {"alg": alg, "typ": "JWT"}
    signing = b64url(json.dumps(head).encode()) + "." + b64url(json.dumps(body).encode())
    if alg == "none":
        return signing + "."
    k = key.encode() if isinstance(key, str) else key
    sig = hmac.new(k, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64url(sig)


class Cluster:
    """A throwaway PostgreSQL cluster, migrated."""

    def __init__(self, name="pg"):
        self.dir = os.path.join(TMP, "%s-%s" % (name, uuid.uuid4().hex[:8]))
        out = subprocess.run([os.path.join(ROOT, "tests/lib/pg_throwaway.sh"), "start", self.dir],
                             check=True, capture_output=True, text=True)
        self.owner_url, self.app_url = out.stdout.strip().splitlines()
        self.super_url = self.owner_url.replace("user=portal_owner", "user=postgres")
        try:
            subprocess.run([PORTALD, "migrate"], check=True, capture_output=True, text=True,
                           env=dict(os.environ, PORTAL_MIGRATE_DATABASE_URL=self.owner_url))
        except BaseException:
            # No binary, or a migration that fails: the cluster must not be left running.
            self.destroy()
            raise

    def pg_ctl(self, action):
        subprocess.run([os.path.join(ROOT, "scripts/pg.sh"), action, self.dir,
                        open(os.path.join(self.dir, "port")).read().strip()],
                       check=True, capture_output=True)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts/pg.sh"), "stop", self.dir], check=True,
                       capture_output=True)

    def start(self):
        self.pg_ctl("start")

    def sql(self, query, url=None):
        """Runs SQL as the superuser (or url's role); returns rows as lists of strings."""
        out = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                              url or self.super_url, "-c", query],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("psql failed: " + out.stderr.strip())
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def destroy(self):
        subprocess.run([os.path.join(ROOT, "tests/lib/pg_throwaway.sh"), "stop", self.dir],
                       capture_output=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Server:
    """The real portald, started on a free loopback port; its stderr is kept for the checks."""

    def __init__(self, cluster, env=None, binary=None):
        self.cluster = cluster
        self.port = free_port()
        self.log_path = os.path.join(TMP, "portald-%s.log" % uuid.uuid4().hex[:8])
        self.env = dict(os.environ)
        self.env.update({
            "PORTAL_DATABASE_URL": cluster.app_url,
            "PORTAL_LISTEN": "127.0.0.1:%d" % self.port,
            "PORTAL_JWT_SECRET": SECRET,
            "PORTAL_JWT_ISSUER": ISSUER,
            "PORTAL_JWT_AUDIENCE": AUDIENCE,
            "PORTAL_STATIC_DIR": os.path.join(ROOT, "static"),
            "PORTAL_THREADS": "2",
            # Estimates are refreshed at start only: tests that assert on them (or on their
            # absence) must not see a refresh land half-way through the run.
            "PORTAL_ESTIMATES_REFRESH": "86400",
        })
        self.env.update(env or {})
        self.binary = binary or PORTALD
        self.proc = None
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=self.log,
                                     stderr=self.log, cwd=ROOT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("portald exited at start: " + self.read_log()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("portald did not start listening")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_shows(self, text, timeout=10):
        """Whether the log holds text within timeout: a request's access-log line is written
        after its response has gone out, so a client on a loaded machine can look first."""
        deadline = time.time() + timeout
        while text not in self.read_log():
            if time.time() > deadline:
                return False
            time.sleep(0.05)
        return True

    def sanitizer_reports(self):
        return [l for l in self.read_log().splitlines() if SANITIZER.search(l)]

    def request(self, method, path, body=None, token=None, headers=None, raw=None,
                content_type="application/json"):
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        elif body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            h["Content-Type"] = content_type
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    # --- tokens and RIS helpers ---
    @staticmethod
    def token(role, sub, **claims):
        return jwt({"role": role, "sub": sub}, **claims)

    def ris(self):
        return self.token("ris", "test-ris")


def event(event_type="ordered", accession=None, mrn=None, occurred_at="2026-11-20T14:05:00Z",
          event_id=None, physician_id="NPI-T-1", **extra):
    """A valid ingest event; keyword overrides replace top-level fields."""
    body = {
        "event_id": event_id or "ev-" + uuid.uuid4().hex,
        "type": event_type,
        "occurred_at": occurred_at,
        "patient": {"mrn": mrn or "MRN-" + uuid.uuid4().hex[:10], "name": "Test Patient",
                    "birth_date": "1985-12-10", "email": "test@example.org"},
        "study": {"accession": accession or "ACC-" + uuid.uuid4().hex[:10], "modality": "CT",
                  "description": "CT chest with contrast", "priority": "routine", "site": "main"},
        "referring_physician": {"id": physician_id, "name": "Dr. Test Physician",
                                "phone": "+1 555 0100",
                                "scheduling_url": "https://clinic.example/schedule"},
    }
    if event_type == "scheduled":
        body["scheduled_for"] = "2026-11-25T09:00:00Z"
    body.update(extra)
    return body


def report(accession, status="final", event_id=None, findings="Findings text.",
           impression="Impression text.", signed_at="2026-11-20T18:00:00Z"):
    return {"event_id": event_id or "rep-" + uuid.uuid4().hex, "accession": accession,
            "status": status, "findings": findings, "impression": impression,
            "radiologist": {"name": "Dr. Test Radiologist"}, "signed_at": signed_at}
