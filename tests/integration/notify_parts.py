"""Real receivers for the notification tests (not a test module): an SMTP server (Debian's
python3-aiosmtpd, run by tests/notify/smtp_server.py with STARTTLS and AUTH) whose stored messages
are parsed with Python's email package, and a webhook receiver that verifies each signature as the
Standard Webhooks reference library does and answers 500, 429 or nothing on command."""
import base64
import datetime
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import uuid

import harness

SMTP_SCRIPT = os.path.join(harness.ROOT, "tests", "notify", "smtp_server.py")
DEBIAN_PYTHON = "/usr/bin/python3"
PUBLIC_URL = "https://results.example.test"
SMTP_USER = "portal-mailer"


def zone_at_local_hour(hour):
    """An Etc/GMT zone whose local hour is `hour` now, so a test picks day or night without
    waiting (Etc/GMT-k is UTC+k)."""
    k = (hour - time.gmtime().tm_hour) % 24
    if k > 14:
        k -= 24
    return "Etc/GMT%+d" % (-k) if k else "UTC"


class SmtpServer:
    def __init__(self):
        self.dir = os.path.join(harness.TMP, "smtp-%s" % uuid.uuid4().hex[:8])
        self.mail = os.path.join(self.dir, "mail")
        os.makedirs(self.mail)
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        self.key, "-out", self.cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True)
        self.password = secrets.token_hex(12)
        self.credentials = os.path.join(self.dir, "credentials")
        with open(self.credentials, "w") as f:
            f.write("%s:%s\n" % (SMTP_USER, self.password))
        os.chmod(self.credentials, 0o600)
        self.port = harness.free_port()
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen([DEBIAN_PYTHON, SMTP_SCRIPT, "--port", str(self.port),
                                      "--dir", self.mail, "--cert", self.cert, "--key", self.key,
                                      "--user", SMTP_USER, "--password", self.password],
                                     stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline()
        if b"ready" not in line:
            raise RuntimeError("the SMTP server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None

    def tempfail(self, on):
        path = os.path.join(self.dir, "tempfail")
        if on:
            open(path, "w").close()
        elif os.path.exists(path):
            os.remove(path)

    def env(self):
        return {"PORTAL_SMTP_URL": "smtp://127.0.0.1:%d" % self.port,
                "PORTAL_SMTP_FROM": "Results portal <noreply@results.example.test>",
                "PORTAL_SMTP_CREDENTIALS_FILE": self.credentials,
                "PORTAL_SMTP_CA_FILE": self.cert}

    def messages(self):
        """Every message received so far: (envelope, email.message.EmailMessage), oldest first."""
        out = []
        names = sorted((n for n in os.listdir(self.mail) if n.endswith(".eml")),
                       key=lambda n: os.stat(os.path.join(self.mail, n)).st_mtime_ns)
        for n in names:
            with open(os.path.join(self.mail, n), "rb") as f:
                env = json.loads(f.readline())
                msg = email.message_from_bytes(f.read(), policy=email.policy.default)
            out.append((env, msg))
        return out

    def wait_for(self, count, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.messages()
            if len(got) >= count:
                return got
            time.sleep(0.2)
        raise AssertionError("%d messages after %d s, wanted %d" % (len(self.messages()), timeout, count))


def standard_webhooks_verify(secret, payload, headers, tolerance=300):
    """Verification as the Standard Webhooks reference (standardwebhooks' Webhook.verify) does
    it: the secret is whsec_ + base64; the timestamp within the tolerance; the signed content
    "{id}.{timestamp}.{payload}"; any "v1,<base64>" among the space-separated signatures,
    compared in constant time. Returns the parsed payload or raises ValueError."""
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature")
    if not (msg_id and ts and sigs):
        raise ValueError("missing required headers")
    now = int(time.time())
    if int(ts) < now - tolerance or int(ts) > now + tolerance:
        raise ValueError("timestamp outside the tolerance")
    expected = base64.b64encode(hmac.new(key, ("%s.%s.%s" % (msg_id, ts, payload.decode())).encode(),
                                         hashlib.sha256).digest()).decode()
    for part in sigs.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return json.loads(payload)
    raise ValueError("no matching signature")


class WebhookReceiver:
    """Verifies and keeps each delivery; `plan` is a list of answers for the next requests
    ("500", "429", "timeout"), after which it answers 204."""

    def __init__(self):
        self.secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        self.dir = os.path.join(harness.TMP, "webhook-%s" % uuid.uuid4().hex[:8])
        os.makedirs(self.dir)
        self.secret_file = os.path.join(self.dir, "secret")
        with open(self.secret_file, "w") as f:
            f.write(self.secret + "\n")
        self.lock = threading.Lock()
        self.plan = []
        self.attempts = []   # (webhook-id, answer, time)
        self.delivered = []  # verified payloads answered 2xx
        self.refused = 0     # bad signatures
        self.retry_after = "2"
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    payload = standard_webhooks_verify(receiver.secret, body, self.headers)
                except ValueError:
                    with receiver.lock:
                        receiver.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                with receiver.lock:
                    answer = receiver.plan.pop(0) if receiver.plan else "204"
                    receiver.attempts.append((self.headers["webhook-id"], answer, time.time()))
                if answer == "timeout":
                    time.sleep(6)
                    return
                if answer == "429":
                    self.send_response(429)
                    self.send_header("Retry-After", receiver.retry_after)
                    self.end_headers()
                    return
                if answer == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.delivered.append((dict(self.headers), payload))
                self.send_response(204)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def env(self):
        return {"PORTAL_WEBHOOK_URL": "http://127.0.0.1:%d/hooks/portal" % self.port,
                "PORTAL_WEBHOOK_SECRET_FILE": self.secret_file}

    def wait_for(self, count, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.delivered) >= count:
                    return list(self.delivered)
            time.sleep(0.2)
        raise AssertionError("%d webhooks after %d s, wanted %d" % (len(self.delivered), timeout, count))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def notify_env(smtp=None, webhook=None, **extra):
    env = {"PORTAL_PUBLIC_URL": PUBLIC_URL, "PORTAL_NOTIFY_RETRY_BASE": "1",
           "PORTAL_NOTIFY_TIMEOUT": "3", "PORTAL_NOTIFY_SCHEDULE": "1",
           "PORTAL_TIME_ZONE": zone_at_local_hour(12)}
    if smtp:
        env.update(smtp.env())
    if webhook:
        env.update(webhook.env())
    env.update(extra)
    return env


def message_text(msg):
    """Every header and the decoded text of a parsed message, for the no-PHI search."""
    parts = ["%s: %s" % (k, v) for k, v in msg.items()]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def rfc5322_date_ok(value):
    return email.utils.parsedate_to_datetime(value).tzinfo is not None
