"""Story helpers for the core integration tests: push a study through the RIS, sign a report,
release it. Not a test module (no test_ prefix); imported by test_ingest, test_patient, ..."""
import time
import uuid

import harness

PATIENT_LIST = "/api/v1/patient/studies"


def patient_path(study_id):
    return "/api/v1/patient/studies/" + study_id


def physician_path(study_id, action=None):
    p = "/api/v1/physician/studies/" + study_id
    return p + "/" + action if action else p


def ago(hours):
    """An RFC 3339 time this many hours before now (the story happens in the recent past, so a
    release, stamped now, comes after every lifecycle event)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - hours * 3600))


def marker(tag="M"):
    """A string that occurs nowhere else in any response, log or database (uppercase hex so
    case-folded copies are distinguishable)."""
    return "ZQX%s%sQZ" % (tag, uuid.uuid4().hex.upper())


def ingest(server, body, status=200):
    r = server.request("POST", "/api/v1/ingest/events", body=body, token=server.ris())
    assert r.status == status, (r, body.get("type") if isinstance(body, dict) else body)
    return r.json()


def ingest_report(server, body, status=200):
    r = server.request("POST", "/api/v1/ingest/reports", body=body, token=server.ris())
    assert r.status == status, r
    return r.json()


class Study:
    """One study of one patient, referred by one physician."""

    def __init__(self, server, physician_id=None, mrn=None, events=("ordered",)):
        self.server = server
        self.physician_id = physician_id or "NPI-" + uuid.uuid4().hex[:12]
        self.mrn = mrn or "MRN-" + uuid.uuid4().hex[:12]
        self.accession = "ACC-" + uuid.uuid4().hex[:12]
        self.access_code = None
        times = {"ordered": ago(120), "scheduled": ago(119), "cancelled": ago(100),
                 "arrived": ago(48), "exam_started": ago(47.75), "exam_completed": ago(47.3),
                 "read_started": ago(24)}
        for t in events:
            self.event(t, occurred_at=times[t])

    def event(self, event_type, **kw):
        a = ingest(self.server, harness.event(event_type, accession=self.accession, mrn=self.mrn,
                                              physician_id=self.physician_id, **kw))
        self.study_id = a["study_id"]
        self.patient_id = a["patient_id"]
        if "access_code" in a:
            self.access_code = a["access_code"]
        return a

    def report(self, status="final", findings="Findings text.", impression="Impression text.",
               signed_at=None):
        self.signed_at = signed_at or ago(1)
        return ingest_report(self.server, harness.report(self.accession, status=status,
                                                         findings=findings, impression=impression,
                                                         signed_at=self.signed_at))

    @property
    def patient(self):
        return self.server.token("patient", self.patient_id)

    @property
    def physician(self):
        return self.server.token("physician", self.physician_id)

    def as_patient(self, method="GET", path=None, **kw):
        return self.server.request(method, path or patient_path(self.study_id),
                                   token=self.patient, **kw)

    def as_physician(self, method="GET", action=None, **kw):
        return self.server.request(method, physician_path(self.study_id, action),
                                   token=self.physician, **kw)

    def release(self, note=None, status=200):
        r = self.as_physician("POST", "release", body={"note": note} if note else {})
        assert r.status == status, r
        return r.json()


def final_study(server, findings="Findings text.", impression="Impression text.", **kw):
    """A study with its exam done and a final report signed, awaiting the physician."""
    s = Study(server, events=("ordered", "arrived", "exam_started", "exam_completed"), **kw)
    s.report("final", findings=findings, impression=impression)
    return s


def without_request_id(problem):
    p = dict(problem)
    p.pop("request_id", None)
    return p
