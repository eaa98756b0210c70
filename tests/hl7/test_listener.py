"""The MLLP listener with Debian's python3-hl7 as the sender: the corpus's ACKs, idempotency by
control id, the limits (size, stalled senders, idle connections), and what the portal then
shows. Runs under tests/integration/run.py --dir tests/hl7 (tests/suites/hl7.sh)."""
import os
import socket
import subprocess
import time
import uuid

import hl7
from hl7.client import MLLPClient

import harness
from messages import message, msh, obr, obx, orc, pid

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

_server = None


def server(ctx):
    """One portald with the listener, on the shared cluster, started on first use."""
    global _server
    if _server is None:
        port = harness.free_port()
        _server = harness.Server(ctx.cluster, env={"PORTAL_HL7_LISTEN": "127.0.0.1:%d" % port,
                                                   "PORTAL_HL7_READ_TIMEOUT": "2"})
        _server.hl7_port = port
        wait_for_port(port)
    return _server


def wait_for_port(port):
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the HL7 listener did not start")


def send(srv, msg):
    """Sends one message with python3-hl7's client; returns the ACK, parsed by python3-hl7."""
    with MLLPClient("127.0.0.1", srv.hl7_port) as client:
        raw = client.send_message(msg if isinstance(msg, bytes) else msg.encode("utf-8"))
    assert raw[:1] == b"\x0b" and raw.endswith(b"\x1c\r"), raw
    return hl7.parse(raw[1:-2].decode("utf-8"))


def ack_code(ack):
    return str(ack.segment("MSA")[1])


def err_location(ack):
    """(segment, field) the ERR points at, in either form (ERR-1 before 2.5, ERR-2 from it)."""
    try:
        err = ack.segment("ERR")
    except KeyError:
        return None
    loc = err[2] if len(err) > 2 and str(err[2]) else err[1]
    parts = str(loc).split("^")
    segname = parts[0] if parts else ""
    field = parts[2] if len(parts) > 2 and parts[2] else "0"
    return "%s-%s" % (segname, field)


def fill(text, **values):
    for k, v in values.items():
        text = text.replace(b"{" + k.encode() + b"}", v.encode())
    return text.replace(b"\r\n", b"\r").replace(b"\n", b"\r")


def unique(tag):
    return "%s%s" % (tag, uuid.uuid4().hex[:10].upper())


def corpus_run(srv, mrn, acc):
    """Sends the corpus in order; returns [(file, ack)]."""
    out = []
    for line in open(os.path.join(CORPUS, "expected.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        name, want, where = line.rstrip("\n").split("\t")
        raw = open(os.path.join(CORPUS, name), "rb").read()
        msg = fill(raw, MRN=mrn, ACC=acc, CTRL=unique("C"), NOW=time.strftime("%Y%m%d%H%M%S+0000", time.gmtime()))
        out.append((name, want, where, msg, send(srv, msg)))
    return out


def test_corpus_gets_the_right_acks(ctx):
    srv = server(ctx)
    mrn, acc = unique("MRN"), unique("ACC")
    results = corpus_run(srv, mrn, acc)
    for name, want, where, msg, ack in results:
        got = ack_code(ack)
        assert got == want, (name, got, str(ack))
        sent = hl7.parse(msg.decode("latin-1")) if msg.startswith(b"MSH") else None
        if sent:
            # MSA-2 echoes the control id; sender and receiver are swapped; the version echoed.
            assert str(ack.segment("MSA")[2]) == str(sent.segment("MSH")[10]), name
            assert str(ack.segment("MSH")[5]) == str(sent.segment("MSH")[3]), name
            assert str(ack.segment("MSH")[3]) == str(sent.segment("MSH")[5]), name
            assert str(ack.segment("MSH")[12]) == str(sent.segment("MSH")[12]), name
        if where != "-":
            assert err_location(ack) == where, (name, err_location(ack), str(ack))
        # No patient data in any ACK.
        text = str(ack)
        for secret in (mrn, "Lovelace", "Ada", "Byron", "lungs", "Lungs", "nodule"):
            assert secret not in text, (name, secret, text)
    c = ctx.cluster
    # What the corpus did: the final report was corrected (amended) after the preliminary and
    # final; the report for an order never sent created its study; the merge moved it.
    rows = c.sql("SELECT s.stage, s.exam_completed_at IS NOT NULL, s.exam_started_at IS NOT NULL, "
                 "s.scheduled_for, s.modality, s.latest_version, "
                 "(SELECT string_agg(status, ',' ORDER BY version) FROM portal.report_versions r "
                 " WHERE r.study_id = s.id) FROM portal.studies s WHERE accession = '%s'" % acc)
    assert rows == [["physician_review", "t", "t", "2030-12-06 09:00:00+00", "CT", "3",
                     "preliminary,final,amended"]], rows
    text = c.sql("SELECT replace(findings, chr(10), '<br>'), impression FROM portal.report_versions r JOIN portal.studies s "
                 "ON s.id = r.study_id WHERE accession = '%s' AND version = 2" % acc)
    # ISO 8859-1 read as such, escapes resolved, the coded OBX left out.
    assert text == [["Lungs are clear; Dr. M\u00fcller agrees.<br>Small nodule 4 mm | stable.",
                     "No acute cardiopulmonary process \\ no change."]], text
    prelim = c.sql("SELECT replace(findings, chr(10), '<br>') FROM portal.report_versions r JOIN portal.studies s "
                   "ON s.id = r.study_id WHERE accession = '%s' AND version = 1" % acc)
    assert prelim == [["Preliminary: lungs clear.<br>Heart size normal (c\u0153ur normal)."]], prelim
    merged = c.sql("SELECT p.mrn, p.merged_into IS NOT NULL, p.access_selector IS NULL "
                   "FROM portal.patients p WHERE p.mrn LIKE '%s%%' ORDER BY p.mrn" % mrn)
    assert merged == [[mrn, "f", "t"], [mrn + "-B", "t", "t"]], merged
    owners = c.sql("SELECT s.accession, p.mrn FROM portal.studies s JOIN portal.patients p "
                   "ON p.id = s.patient_id WHERE s.accession LIKE '%s%%' ORDER BY 1" % acc)
    assert owners == [[acc, mrn], [acc + "-B", mrn]], owners
    patient = c.sql("SELECT name, email, phone, assigning_authority FROM portal.patients "
                    "WHERE mrn = '%s'" % mrn)
    # A08 gave the middle name and the phone; each later message's PID named her "Lovelace^Ada"
    # (what the registration system says now), and none sent contact details to replace them.
    assert patient == [["Ada Lovelace", "ada@example.org", "555-0101", "MAINHOSP"]], patient
    actions = c.sql("SELECT action FROM portal.audit_log WHERE action LIKE 'patient.%%' AND "
                    "detail->>'patient_id' = (SELECT id::text FROM portal.patients WHERE mrn = '%s') "
                    "ORDER BY id" % mrn)
    assert actions == [["patient.registered"], ["patient.updated"], ["patient.merged"]], actions
    # The audit log names the sending facility.
    actors = c.sql("SELECT DISTINCT actor_role, actor_id FROM portal.audit_log a JOIN "
                   "portal.studies s ON s.id = a.study_id WHERE s.accession = '%s' AND "
                   "a.action LIKE 'ingest.%%'" % acc)
    assert actors == [["ris", "MAINHOSP"]], actors
    # Failed messages changed nothing: no study for the unknown modality or the other patient.
    assert c.sql("SELECT count(*) FROM portal.studies WHERE accession IN ('%s-E', '%s-D')"
                 % (acc, acc)) == [["0"]]
    assert c.sql("SELECT count(*) FROM portal.patients WHERE mrn = '%s-H'" % mrn) == [["0"]]


def test_a_control_id_applied_once(ctx):
    srv = server(ctx)
    mrn, acc, ctrl = unique("MRN"), unique("ACC"), unique("C")
    order = message(msh("ORM^O01", ctrl), pid(mrn), orc("NW"), obr(acc))
    assert ack_code(send(srv, order)) == "AA"
    before = ctx.cluster.sql("SELECT count(*) FROM portal.study_events e JOIN portal.studies s "
                             "ON s.id = e.study_id WHERE s.accession = '%s'" % acc)
    # The same message again (a sender that lost our ACK): the same AA, nothing changes.
    again = send(srv, order)
    assert ack_code(again) == "AA" and str(again.segment("MSA")[2]) == ctrl
    after = ctx.cluster.sql("SELECT count(*) FROM portal.study_events e JOIN portal.studies s "
                            "ON s.id = e.study_id WHERE s.accession = '%s'" % acc)
    assert before == after == [["1"]], (before, after)
    # The same control id on a different message: refused, naming MSH-10.
    other = message(msh("ORM^O01", ctrl), pid(mrn), orc("CA"), obr(acc))
    ack = send(srv, other)
    assert ack_code(ack) == "AE" and err_location(ack) == "MSH-10", str(ack)
    # Another facility's control id is its own.
    mine = message(msh("ORM^O01", ctrl, facility="NORTHCLINIC"), pid(unique("MRN"), "NORTH"),
                   orc("NW"), obr(unique("ACC")))
    assert ack_code(send(srv, mine)) == "AA"


def test_same_mrn_in_two_authorities_is_two_patients(ctx):
    srv = server(ctx)
    mrn = unique("MRN")
    for authority, acc in (("MAINHOSP", unique("ACC")), ("NORTH", unique("ACC"))):
        ack = send(srv, message(msh("ORM^O01", unique("C")), pid(mrn, authority), orc("NW"),
                                obr(acc)))
        assert ack_code(ack) == "AA", str(ack)
    rows = ctx.cluster.sql("SELECT assigning_authority FROM portal.patients WHERE mrn = '%s' "
                           "ORDER BY 1" % mrn)
    assert rows == [["MAINHOSP"], ["NORTH"]], rows


def test_mllp_send_command(ctx):
    """Debian's mllp_send, reading a file of two messages with LF line ends (--loose)."""
    srv = server(ctx)
    path = os.path.join(harness.TMP, "two-%s.hl7" % uuid.uuid4().hex[:8])
    mrn = unique("MRN")
    with open(path, "w") as f:
        for n in range(2):
            f.write(message(msh("ADT^A04", unique("C")), pid(mrn)).replace("\r", "\n"))
    out = subprocess.run(["mllp_send", "--loose", "-f", path, "-p", str(srv.hl7_port),
                          "127.0.0.1"], capture_output=True, timeout=30)
    acks = out.stdout.split(b"\x1c")
    assert out.returncode == 0 and out.stdout.count(b"MSA|AA|") == 2, (out, acks)


def test_ten_megabyte_message_is_refused_and_the_connection_goes_on(ctx):
    srv = server(ctx)
    big = message(msh("ORU^R01", unique("C")), pid(unique("MRN")), obr(unique("ACC")),
                  obx(1, "&GDT", ["x" * (10 * 1024 * 1024)]))
    small = message(msh("ADT^A04", unique("C")), pid(unique("MRN")))
    with socket.create_connection(("127.0.0.1", srv.hl7_port), timeout=30) as s:
        s.sendall(b"\x0b" + big.encode() + b"\x1c\r")
        ack = read_frame(s)
        assert b"MSA|AR|" in ack, ack
        s.sendall(b"\x0b" + small.encode() + b"\x1c\r")
        ack = read_frame(s)
        assert b"MSA|AA|" in ack, ack
    assert srv.request("GET", "/healthz").status == 200


def read_frame(s):
    buf = b""
    while not buf.endswith(b"\x1c\r"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def test_a_stalled_sender_is_cut_off(ctx):
    srv = server(ctx)  # PORTAL_HL7_READ_TIMEOUT=2
    with socket.create_connection(("127.0.0.1", srv.hl7_port), timeout=10) as s:
        s.sendall(b"\x0bMSH|^~\\&|RIS|MAINHOSP|PORTAL|PORTAL|")
        t0 = time.time()
        assert s.recv(100) == b""  # closed without an ACK: nothing was applied
        assert 1.5 < time.time() - t0 < 8
    assert srv.request("GET", "/healthz").status == 200


def test_a_thousand_idle_connections(ctx):
    srv = server(ctx)
    socks = []
    try:
        for _ in range(1000):
            socks.append(socket.create_connection(("127.0.0.1", srv.hl7_port), timeout=5))
        time.sleep(0.5)
        closed = 0
        for s in socks:
            s.setblocking(False)
            try:
                closed += s.recv(1) == b""
            except BlockingIOError:
                pass
        # The per-address limit (32) keeps the rest out at once; patients are still served.
        assert closed >= 1000 - 32, closed
        assert srv.request("GET", "/healthz").status == 200
        metrics = srv.request("GET", "/metrics").body
        assert "portal_hl7_connections_refused_total" in metrics
    finally:
        for s in socks:
            s.close()
    time.sleep(0.3)
    assert ack_code(send(srv, message(msh("ADT^A04", unique("C")), pid(unique("MRN"))))) == "AA"


def test_release_gate_holds_for_hl7_reports(ctx):
    srv = server(ctx)
    mrn, acc = unique("MRN"), unique("ACC")
    finding = "ZQXHL7" + uuid.uuid4().hex.upper() + "QZ"
    ack = send(srv, message(msh("ORU^R01", unique("C")), pid(mrn),
                            obr(acc, result_status="F", signed="20261205100000+0000",
                                radiologist="RAD1&House&Gregory"),
                            obx(1, "&GDT", [finding]), obx(2, "&IMP", ["Impression " + finding])))
    assert ack_code(ack) == "AA", str(ack)
    ids = ctx.cluster.sql("SELECT s.id, s.patient_id FROM portal.studies s WHERE accession = '%s'"
                          % acc)
    study_id, patient_id = ids[0]
    patient = srv.token("patient", patient_id)
    page = srv.request("GET", "/api/v1/patient/studies/" + study_id, token=patient)
    assert page.status == 200 and finding not in page.body and "report" not in page.json(), page
    physician = srv.token("physician", "DR77")
    r = srv.request("POST", "/api/v1/physician/studies/%s/release" % study_id, token=physician,
                    body={})
    assert r.status == 200, r
    page = srv.request("GET", "/api/v1/patient/studies/" + study_id, token=patient)
    assert page.json()["report"]["findings"] == finding, page
    assert finding not in srv.read_log()


def test_each_ack_names_its_own_field(ctx):
    """One message's field errors never reach the next message's ACK (the worker's outcome is
    cleared for every message)."""
    srv = server(ctx)
    modality = message(msh("ORM^O01", unique("C")), pid(unique("MRN")), orc("NW"),
                       obr(unique("ACC"), modality="EC"))
    email = message(msh("ORM^O01", unique("C")),
                    pid(unique("MRN"), contact="^NET^Internet^not-an-address"), orc("NW"),
                    obr(unique("ACC")))
    for first, second, where in ((modality, email, "PID-13"), (email, modality, "OBR-24")):
        send(srv, first)
        ack = send(srv, second)
        assert ack_code(ack) == "AE" and err_location(ack) == where, str(ack)


def test_a_report_naming_another_patient_is_refused(ctx):
    srv = server(ctx)
    owner, other, acc = unique("MRN"), unique("MRN"), unique("ACC")
    assert ack_code(send(srv, message(msh("ORM^O01", unique("C")), pid(owner), orc("NW"),
                                      obr(acc)))) == "AA"
    report = message(msh("ORU^R01", unique("C")), pid(other),
                     obr(acc, result_status="F", signed="20261205100000+0000",
                         radiologist="RAD1&House&Gregory"),
                     obx(1, "&GDT", ["Findings."]), obx(2, "&IMP", ["Impression."]))
    ack = send(srv, report)
    assert ack_code(ack) == "AE" and err_location(ack) == "OBR-18", str(ack)
    assert ctx.cluster.sql("SELECT count(*) FROM portal.report_versions r JOIN portal.studies s "
                           "ON s.id = r.study_id WHERE s.accession = '%s'" % acc) == [["0"]]
    assert ctx.cluster.sql("SELECT count(*) FROM portal.patients WHERE mrn = '%s'" % other) \
        == [["0"]]
