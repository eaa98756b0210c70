"""Notifications from HL7 alone (issue 15): the patient's email comes from PID-13 of a
registration, the report from an ORU; at a site whose policy releases at once, the ORU's own
transaction writes the release and its message, and a real SMTP server (aiosmtpd, STARTTLS and
AUTH) receives it with no word of the report, name, exam or accession in it."""
import time
import uuid

import harness
import notify_parts as np
from messages import message, msh, obr, obx, orc, pid, seg
from test_listener import ack_code, send, unique, wait_for_port


def hl7_time(minutes_ago):
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(time.time() - minutes_ago * 60))


def test_an_oru_released_by_policy_tells_the_patient(ctx):
    cluster = harness.Cluster("notifyhl7")
    smtp = np.SmtpServer()
    port = harness.free_port()
    srv = harness.Server(cluster, env=np.notify_env(smtp, PORTAL_HL7_LISTEN="127.0.0.1:%d" % port))
    try:
        srv.hl7_port = port
        wait_for_port(port)
        mrn, acc = unique("MRN"), unique("ACC")
        address = "hl7-%s@patients.example.test" % uuid.uuid4().hex[:8]
        marker = "ZQXHL7" + uuid.uuid4().hex.upper() + "QZ"

        def ok(msg):
            ack = send(srv, msg)
            assert ack_code(ack) == "AA", str(ack)

        ok(message(msh("ADT^A04", unique("C")), seg("EVN", {1: "A04", 2: hl7_time(300)}),
                   pid(mrn, family="Zed" + marker, contact="^NET^Internet^" + address)))
        ok(message(msh("ORM^O01", unique("C")), pid(mrn), orc("NW", when=hl7_time(290)), obr(acc)))
        site = cluster.sql("SELECT site FROM portal.studies WHERE accession = '%s'" % acc)[0][0]
        cluster.sql("INSERT INTO portal.release_policies (site, mode) VALUES ('%s', 'immediate') "
                    "ON CONFLICT (site, modality) DO UPDATE SET mode = 'immediate'" % site)
        ok(message(msh("ORU^R01", unique("C")), pid(mrn),
                   obr(acc, result_status="F", signed=hl7_time(0), radiologist="RAD1&House&Gregory"),
                   obx(1, "&GDT", ["Final " + marker]), obx(2, "&IMP", ["Impression " + marker])))
        assert cluster.sql("SELECT s.released_version, n.kind, n.channel FROM portal.studies s "
                           "JOIN portal.notifications n ON n.study_id = s.id WHERE s.accession = '%s'"
                           % acc) == [["1", "result_ready", "email"]]
        (env, msg), = smtp.wait_for(1)
        assert env["to"] == [address] and env["tls"] and env["auth"], env
        assert msg["Subject"] == "A new result is ready in your patient portal", msg["Subject"]
        text = np.message_text(msg)
        for word in (marker, acc, mrn, "CT chest", "Zed"):
            assert word not in text, word
    finally:
        srv.stop()
        smtp.stop()
        cluster.destroy()
