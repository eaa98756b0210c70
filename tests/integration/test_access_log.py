"""Who has seen my record (issue 16): GET /api/v1/patient/access-log gives the signed-in patient
the reads of and actions on their reports, newest first, paginated, from the audit log through
portal.patient_access_log: never another patient's rows, never an address or request id."""
from flows import final_study
from proxies import AgedStudy, Proxy

LOG = "/api/v1/patient/access-log"


def test_each_read_and_release_with_who_newest_first(ctx):
    s = final_study(ctx.server)
    s.as_physician()  # a physician's view
    s.release()
    s.as_patient()  # the patient's own read
    p = Proxy(ctx.server, name="Petra Proxy")
    p.grant(s.mrn, "caregiver", until="2099-01-01T00:00:00Z")
    p.get("/api/v1/proxy/studies/" + s.study_id)
    r = s.as_patient(path=LOG)
    assert r.status == 200, r
    body = r.json()
    got = [(e["action"], e["actor_kind"], e["actor"]) for e in body["entries"]]
    assert got == [("viewed", "proxy", "Petra Proxy"), ("viewed", "patient", "Test Patient"),
                   ("released", "physician", "Dr. Test Physician"),
                   ("viewed", "physician", "Dr. Test Physician")], got
    assert body["next"] is None
    e = body["entries"][0]
    assert set(e) == {"at", "action", "actor", "actor_kind", "study_id", "accession",
                      "description"}, e
    assert e["study_id"] == s.study_id and e["accession"] == s.accession
    assert "client_addr" not in r.body and "127.0.0.1" not in r.body

    # Pages of two, continued by the cursor.
    first = s.as_patient(path=LOG + "?limit=2").json()
    assert len(first["entries"]) == 2 and first["next"], first
    second = s.as_patient(path=LOG + "?limit=2&before=" + first["next"]).json()
    assert [x["actor_kind"] for x in first["entries"] + second["entries"]] == \
        [x[1] for x in got] and second["next"] is None, second
    for bad in ("?limit=0", "?limit=101", "?before=x", "?before=-1"):
        b = s.as_patient(path=LOG + bad)
        assert b.status == 422, (bad, b)


def test_never_another_patients_rows(ctx):
    a = final_study(ctx.server)
    a.release()
    a.as_patient()
    b = final_study(ctx.server)
    r = b.as_patient(path=LOG)
    assert r.status == 200 and a.accession not in r.body and a.study_id not in r.body, r
    assert r.json() == {"entries": [], "next": None}
    assert ctx.server.request("GET", LOG, token=a.physician).status == 403


def test_a_guardian_of_a_young_child_sees_it_and_no_other_proxy(ctx):
    child = final_study(ctx.server, mrn=None)
    young = AgedStudy(ctx.server, 6, events=("ordered",))
    g = Proxy(ctx.server)
    g.grant(young.mrn, "guardian")
    r = g.get("/api/v1/proxy/patients/%s/access-log" % young.patient_id)
    assert r.status == 200 and r.json()["entries"] == [], r
    teen = AgedStudy(ctx.server, 15, events=("ordered",))
    g.grant(teen.mrn, "guardian")
    assert g.get("/api/v1/proxy/patients/%s/access-log" % teen.patient_id).status == 404
    # Not linked at all: the same 404.
    assert g.get("/api/v1/proxy/patients/%s/access-log" % child.patient_id).status == 404
