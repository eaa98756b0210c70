"""The whole story from HL7 alone, as a site would run it: registration, order, the images sent
to a real Orthanc (dcmtk's storescu) and followed by the portal, the preliminary and the final
report, the physician's release, the patient reading it after signing
in with the code the front desk prints, a corrected report going back to the physician; and a
merge that moves a patient's studies and stops the merged identifier from signing in."""
import subprocess
import time
import uuid

import harness
from messages import message, msh, obr, obx, orc, pid, seg
from pacs import Orthanc
from test_listener import ack_code, send, server, unique, wait_for_port

BIRTH = "1985-12-10"


def hl7_time(minutes_ago):
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(time.time() - minutes_ago * 60))


def access_code(srv, mrn, authority="MAINHOSP"):
    """What the front desk does: `portald access-code MRN AUTHORITY`."""
    out = subprocess.run([harness.PORTALD, "access-code", mrn, authority],
                         env=srv.env,
                         capture_output=True, text=True, timeout=30)
    return out


def sign_in(srv, code):
    r = srv.request("POST", "/api/v1/session", body={"access_code": code, "birth_date": BIRTH})
    assert r.status == 201, r
    return r.json()["token"]


def test_the_whole_story_from_hl7(ctx):
    orthanc = Orthanc()
    try:
        story(ctx, orthanc)
    finally:
        orthanc.destroy()


def story(ctx, orthanc):
    port = harness.free_port()
    ctx.cluster.sql("DELETE FROM portal.feed_positions WHERE feed = 'orthanc'")
    srv = harness.Server(ctx.cluster, env={"PORTAL_HL7_LISTEN": "127.0.0.1:%d" % port,
                                           "PORTAL_ORTHANC_URL": orthanc.url,
                                           "PORTAL_ORTHANC_CREDENTIALS_FILE": orthanc.credentials,
                                           "PORTAL_ORTHANC_POLL": "1"})
    srv.hl7_port = port
    wait_for_port(port)
    mrn, acc = unique("MRN"), unique("ACC")
    marker = "ZQXSTORY" + uuid.uuid4().hex.upper() + "QZ"
    corrected = "ZQXCORR" + uuid.uuid4().hex.upper() + "QZ"

    def ok(msg):
        ack = send(srv, msg)
        assert ack_code(ack) == "AA", str(ack)

    ok(message(msh("ADT^A04", unique("C")), seg("EVN", {1: "A04", 2: hl7_time(300)}),
               pid(mrn, contact="^NET^Internet^ada@example.org")))
    ok(message(msh("ORM^O01", unique("C"), version="2.3"), pid(mrn),
               orc("NW", when=hl7_time(290)), obr(acc)))
    ok(message(msh("ORM^O01", unique("C"), version="2.4"), pid(mrn),
               orc("SC", "SC", when=hl7_time(280)), obr(acc, scheduled=hl7_time(200))))
    ok(message(msh("ORM^O01", unique("C")), pid(mrn), orc("SC", "IP", when=hl7_time(180)),
               obr(acc)))
    # The images reach the PACS; the portal learns it from Orthanc's change feed, not the RIS.
    study_uid = orthanc.send(acc, patient_id=mrn, patient_name="Lovelace^Ada", instances=2)
    deadline = time.time() + 30
    while time.time() < deadline:
        rows = ctx.cluster.sql("SELECT stage, study_instance_uid FROM portal.studies "
                               "WHERE accession = '%s'" % acc)
        if rows and rows[0][0] == "awaiting_read":
            break
        time.sleep(0.3)
    assert rows == [["awaiting_read", study_uid]], rows
    # The reads are signed after the images arrived (the timeline is in time order).
    time.sleep(1.1)
    ok(message(msh("ORU^R01", unique("C")), pid(mrn),
               obr(acc, result_status="P", signed=hl7_time(0), radiologist="RAD1&House&Gregory"),
               obx(1, "&GDT", ["Preliminary " + marker]), obx(2, "&IMP", ["Pending."])))
    time.sleep(1.1)
    ok(message(msh("ORU^R01", unique("C")), pid(mrn),
               obr(acc, result_status="F", signed=hl7_time(0), radiologist="RAD1&House&Gregory"),
               obx(1, "&GDT", ["Final " + marker]), obx(2, "&IMP", ["No acute finding."])))

    out = access_code(srv, mrn)
    assert out.returncode == 0, out
    patient = sign_in(srv, out.stdout.strip())
    studies = srv.request("GET", "/api/v1/patient/studies", token=patient).json()["studies"]
    assert [s["accession"] for s in studies] == [acc], studies
    study_id = studies[0]["id"]
    page = srv.request("GET", "/api/v1/patient/studies/" + study_id, token=patient)
    # Before release: the stage, never a byte of the report.
    assert page.json()["stage"] == "physician_review" and marker not in page.body, page

    physician = srv.token("physician", "DR77")
    r = srv.request("POST", "/api/v1/physician/studies/%s/release" % study_id, token=physician,
                    body={"note": "Normal, as we expected."})
    assert r.status == 200, r
    page = srv.request("GET", "/api/v1/patient/studies/" + study_id, token=patient).json()
    assert page["stage"] == "available" and page["report"]["findings"] == "Final " + marker, page
    stages = [t["stage"] for t in page["timeline"]]
    assert stages == ["ordered", "scheduled", "imaging", "awaiting_read", "reading",
                      "physician_review", "available"], stages
    assert all(t["at"] for t in page["timeline"])

    # A corrected report: back to the physician; the patient keeps the released version.
    ok(message(msh("ORU^R01", unique("C")), pid(mrn),
               obr(acc, result_status="C", signed=hl7_time(0), radiologist="RAD1&House&Gregory"),
               obx(1, "&GDT", ["Corrected " + corrected]), obx(2, "&IMP", ["No acute finding."])))
    page = srv.request("GET", "/api/v1/patient/studies/" + study_id, token=patient)
    body = page.json()
    assert corrected not in page.body and body["report"]["newer_version_pending"] is True, body
    review = srv.request("GET", "/api/v1/physician/studies/" + study_id, token=physician)
    assert review.status == 200 and corrected in review.body, review
    r = srv.request("POST", "/api/v1/physician/studies/%s/release" % study_id, token=physician,
                    body={})
    assert r.status == 200, r
    page = srv.request("GET", "/api/v1/patient/studies/" + study_id, token=patient).json()
    assert page["report"]["findings"] == "Corrected " + corrected, page
    assert marker not in srv.read_log() and corrected not in srv.read_log()
    actors = ctx.cluster.sql("SELECT DISTINCT a.actor_role, a.actor_id FROM portal.audit_log a "
                             "JOIN portal.studies s ON s.id = a.study_id WHERE s.accession = '%s' "
                             "AND a.action LIKE 'ingest.%%' ORDER BY 1" % acc)
    assert actors == [["pacs", "orthanc"], ["ris", "MAINHOSP"]], actors
    srv.stop()


def test_a_merge_moves_studies_and_stops_the_merged_identifier(ctx):
    srv = server(ctx)
    survivor, merged = unique("MRN"), unique("MRN")
    acc_a, acc_b = unique("ACC"), unique("ACC")
    for mrn, acc in ((survivor, acc_a), (merged, acc_b)):
        assert ack_code(send(srv, message(msh("ORM^O01", unique("C")), pid(mrn), orc("NW"),
                                          obr(acc)))) == "AA"
    merged_code = access_code(srv, merged).stdout.strip()
    merged_token = sign_in(srv, merged_code)
    ack = send(srv, message(msh("ADT^A40", unique("C")), pid(survivor),
                            seg("MRG", {1: "%s^^^MAINHOSP^MR" % merged})))
    assert ack_code(ack) == "AA", str(ack)
    # The survivor sees both studies; the merged identifier signs in no more.
    token = sign_in(srv, access_code(srv, survivor).stdout.strip())
    mine = srv.request("GET", "/api/v1/patient/studies", token=token).json()["studies"]
    assert sorted(s["accession"] for s in mine) == sorted([acc_a, acc_b]), mine
    r = srv.request("POST", "/api/v1/session", body={"access_code": merged_code,
                                                      "birth_date": BIRTH})
    assert r.status == 401, r
    assert srv.request("GET", "/api/v1/patient/studies",
                       token=merged_token).json()["studies"] == []
    out = access_code(srv, merged)
    assert out.returncode == 1 and "merged" in out.stderr, out
    # A later event naming the merged identifier reaches the survivor.
    acc_c = unique("ACC")
    assert ack_code(send(srv, message(msh("ORM^O01", unique("C")), pid(merged), orc("NW"),
                                      obr(acc_c)))) == "AA"
    owner = ctx.cluster.sql("SELECT p.mrn FROM portal.studies s JOIN portal.patients p "
                            "ON p.id = s.patient_id WHERE s.accession = '%s'" % acc_c)
    assert owner == [[survivor]], owner
    # The same merge again changes nothing; merging an unknown patient is refused, naming MRG-1.
    assert ack_code(send(srv, message(msh("ADT^A40", unique("C")), pid(survivor),
                                      seg("MRG", {1: "%s^^^MAINHOSP^MR" % merged})))) == "AA"
    ack = send(srv, message(msh("ADT^A40", unique("C")), pid(survivor),
                            seg("MRG", {1: "NOBODY-%s^^^MAINHOSP^MR" % merged})))
    assert ack_code(ack) == "AE" and "MRG" in str(ack.segment("ERR")), str(ack)
