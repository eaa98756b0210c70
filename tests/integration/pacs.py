"""A private Orthanc for the tests (Debian's orthanc package) and DICOM studies sent to it with
dcmtk: used by the PACS follower's tests (test_orthanc.py) and the HL7 story (tests/hl7). Not a
test module."""
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import harness

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"


class Orthanc:
    """A private Orthanc: its own ports, storage and index in a temporary directory, HTTP
    authentication with one user, StableAge 1 s. Restartable on the same storage."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="orthanc-", dir=harness.TMP)
        self.user = "portal"
        self.password = "pw-" + uuid.uuid4().hex
        self.credentials = os.path.join(self.dir, "credentials")
        with open(self.credentials, "w") as f:
            f.write("%s:%s\n" % (self.user, self.password))
        os.chmod(self.credentials, 0o600)
        self.config = os.path.join(self.dir, "orthanc.json")
        self.proc = None
        self.log = None
        # A free port can be taken by another process before Orthanc binds it (other suites run
        # beside this one): the first start tries fresh ports a few times.
        for attempt in range(3):
            self._configure(harness.free_port(), harness.free_port())
            try:
                self.start()
                return
            except RuntimeError as e:
                if "already in use" not in str(e) or attempt == 2:
                    raise

    def _configure(self, http_port, dicom_port):
        self.http_port = http_port
        self.dicom_port = dicom_port
        open(os.path.join(self.dir, "orthanc.log"), "wb").close()
        with open(self.config, "w") as f:
            json.dump({
                "Name": "portal-test",
                "StorageDirectory": os.path.join(self.dir, "storage"),
                "IndexDirectory": os.path.join(self.dir, "index"),
                "HttpPort": self.http_port,
                "DicomPort": self.dicom_port,
                "DicomAet": "ORTHANC",
                "RemoteAccessAllowed": False,
                "AuthenticationEnabled": True,
                "RegisteredUsers": {self.user: self.password},
                "StableAge": 1,
                "Plugins": [],
                "LuaScripts": [],
                "SaveJobs": False,
                "HttpThreadsCount": 4,
            }, f)
        self.url = "http://127.0.0.1:%d" % self.http_port

    def start(self):
        self.log = open(os.path.join(self.dir, "orthanc.log"), "ab")
        self.proc = subprocess.Popen([ORTHANC, self.config], stdout=self.log, stderr=self.log,
                                     cwd=self.dir)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                self.log = None
                raise RuntimeError("Orthanc exited at start: " + self.read_log()[-2000:])
            try:
                self.get("/system")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError("Orthanc did not answer")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def read_log(self):
        with open(os.path.join(self.dir, "orthanc.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def get(self, path):
        req = urllib.request.Request(self.url + path)
        auth = base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()
        req.add_header("Authorization", "Basic " + auth)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def last_seq(self):
        return self.get("/changes?last")["Last"]

    def stable_studies(self):
        changes = self.get("/changes?since=0&limit=100")["Changes"]
        return [c["ID"] for c in changes if c["ChangeType"] == "StableStudy"]

    def send(self, accession, patient_id="MRN-DICOM-1", patient_name="Test^Patient",
             study_uid=None, instances=1):
        """Makes a study's DICOM files with dump2dcm and sends them with storescu; returns the
        StudyInstanceUID."""
        study_uid = study_uid or "2.25.%d" % uuid.uuid4().int
        series_uid = "2.25.%d" % uuid.uuid4().int
        files = []
        for n in range(instances):
            sop = "2.25.%d" % uuid.uuid4().int
            lines = [
                "(0002,0001) OB 00\\01",
                "(0002,0002) UI =SecondaryCaptureImageStorage",
                "(0002,0003) UI [%s]" % sop,
                "(0002,0010) UI =LittleEndianExplicit",
                "(0008,0016) UI =SecondaryCaptureImageStorage",
                "(0008,0018) UI [%s]" % sop,
                "(0008,0020) DA [20261120]",
                "(0008,0030) TM [140500]",
                "(0008,0060) CS [OT]",
                "(0010,0010) PN [%s]" % patient_name,
                "(0010,0020) LO [%s]" % patient_id,
                "(0020,000d) UI [%s]" % study_uid,
                "(0020,000e) UI [%s]" % series_uid,
                "(0020,0010) SH [1]",
                "(0020,0011) IS [1]",
                "(0020,0013) IS [%d]" % (n + 1),
            ]
            if accession is not None:
                lines.append("(0008,0050) SH [%s]" % accession)
            dump = os.path.join(self.dir, "%s.dump" % sop)
            dcm = os.path.join(self.dir, "%s.dcm" % sop)
            with open(dump, "w") as f:
                f.write("\n".join(lines) + "\n")
            subprocess.run(["dump2dcm", "--write-xfer-little", dump, dcm], check=True,
                           capture_output=True)
            files.append(dcm)
        subprocess.run(["storescu", "-aec", "ORTHANC", "127.0.0.1", str(self.dicom_port)] + files,
                       check=True, capture_output=True, timeout=30)
        return study_uid
