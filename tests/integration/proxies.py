"""Proxy helpers for the integration tests (not a test module): a proxy made and linked by the
operator commands, signed in with their own code, and a patient of a given age."""
import datetime
import os
import subprocess
import uuid

import harness
from flows import Study, ago


def birth_date_for_age(years):
    """A birth date that makes the patient exactly `years` old today (plus a month)."""
    today = datetime.date.today()
    d = today.replace(year=today.year - years) - datetime.timedelta(days=31)
    return d.isoformat()


def portald(server, *args, check=True):
    env = dict(os.environ)
    env.update({"PORTAL_DATABASE_URL": server.cluster.app_url,
                "PORTAL_JWT_SECRET": harness.SECRET})
    out = subprocess.run([harness.PORTALD, *args], env=env, capture_output=True, text=True,
                         timeout=60)
    if check:
        assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out


def fields(stdout):
    return dict(line.split("\t", 1) for line in stdout.splitlines() if "\t" in line)


class Proxy:
    """A proxy person with their own code, signed in through POST /api/v1/proxy/session."""

    def __init__(self, server, name=None, birth_date="1975-05-05", patient_mrn=None):
        self.server = server
        self.name = name or "Proxy " + uuid.uuid4().hex[:6]
        self.birth_date = birth_date
        same = ["--patient", patient_mrn] if patient_mrn else []
        self.added = portald(server, "proxy-add", self.name, birth_date, *same).stdout
        f = fields(self.added)
        self.id = f["proxy_id"]
        self.code = f["access_code"]
        self.token = None

    def sign_in(self):
        r = self.server.request("POST", "/api/v1/proxy/session",
                                body={"access_code": self.code, "birth_date": self.birth_date})
        assert r.status == 201, r
        self.token = r.json()["token"]
        return self.token

    def grant(self, mrn, kind, until=None):
        args = ["proxy-grant", self.id, mrn, kind]
        if until:
            args += ["--until", until]
        return fields(portald(self.server, *args).stdout)["link_id"]

    def get(self, path, **kw):
        return self.server.request("GET", path, token=self.token or self.sign_in(), **kw)


def patient_event(age):
    """Ingest overrides for a patient of this age."""
    return {"patient": {"mrn": "MRN-" + uuid.uuid4().hex[:10], "name": "Young Patient",
                        "birth_date": birth_date_for_age(age), "email": "young@example.org"}}


class AgedStudy(Study):
    """A Study whose patient is `age` years old, the MRN kept so more studies can follow."""

    def __init__(self, server, age, mrn=None, events=("ordered",), physician_id=None):
        self.age = age
        self._birth = birth_date_for_age(age)
        super().__init__(server, mrn=mrn, events=events, physician_id=physician_id)

    def event(self, event_type, **kw):
        kw.setdefault("patient", {"mrn": self.mrn, "name": "Young Patient",
                                  "birth_date": self._birth, "email": "young@example.org"})
        return super().event(event_type, **kw)


def in_days(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["Proxy", "AgedStudy", "in_days", "ago", "portald", "fields"]
