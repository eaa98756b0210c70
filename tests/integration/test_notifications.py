"""Notifications (issue 15, docs/notifications.md): the whole story against a real SMTP server
(Debian's python3-aiosmtpd with STARTTLS and AUTH) and a webhook receiver that verifies every
signature as the Standard Webhooks reference does. The story sends exactly the table's messages:
releases by hand, by policy and amended to patients on the channels they chose, held by quiet
hours in the patient's time zone, not sent once the patient has read the result, none after a
one-click unsubscribe; the physician's digest (daily and immediate), call-back and hold ending;
the staff's overdue study. Every message is parsed with the email package and searched for health
information. Time is set by choosing time zones and by moving a held message's due time, never
by waiting for the clock."""
import re
import time
import uuid

import flows
import harness
import notify_parts as np

STAFF = "imaging-desk@hospital.example.test"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Story:
    """One cluster, SMTP server, webhook receiver and portald for a test; stopped by close()."""

    def __init__(self, **env):
        self.cluster = harness.Cluster("notify")
        self.smtp = np.SmtpServer()
        self.hook = np.WebhookReceiver()
        self.server = harness.Server(self.cluster, env=np.notify_env(self.smtp, self.hook, **env))
        self.markers = []   # strings no message may carry
        self.accessions = []

    def close(self):
        self.server.stop()
        self.smtp.stop()
        self.hook.stop()
        self.cluster.destroy()

    def study(self, physician, tag, site="main", events=("exam_completed",), occurred_at=None):
        """A study of a new patient with a name, description and address of its own."""
        name = "Pat " + flows.marker("N" + tag)
        description = "MR knee " + flows.marker("D" + tag)
        mrn = "MRN-" + uuid.uuid4().hex[:10]
        accession = "ACC-" + uuid.uuid4().hex[:10].upper()
        addr = "%s-%s@patients.example.test" % (tag.lower(), uuid.uuid4().hex[:6])
        self.markers += [name, description]
        self.accessions.append(accession)
        for ev in events:
            body = harness.event(ev, accession=accession, mrn=mrn, physician_id=physician,
                                 occurred_at=occurred_at or flows.ago(3))
            body["patient"].update({"name": name, "email": addr})
            body["study"].update({"description": description, "site": site})
            answer = flows.ingest(self.server, body)
        return {"id": answer["study_id"], "patient": answer["patient_id"], "email": addr,
                "accession": accession, "physician": physician}

    def report(self, s, status="final"):
        findings, impression = flows.marker("F"), flows.marker("I")
        self.markers += [findings, impression]
        flows.ingest_report(self.server, harness.report(s["accession"], status=status,
                                                        findings=findings, impression=impression,
                                                        signed_at=flows.ago(1)))

    def as_patient(self, s, method, path, **kw):
        return self.server.request(method, path, token=harness.Server.token("patient", s["patient"]), **kw)

    def as_physician(self, physician, method, path, **kw):
        return self.server.request(method, path, token=harness.Server.token("physician", physician), **kw)

    def release(self, s):
        note = flows.marker("NOTE")
        self.markers.append(note)
        r = self.as_physician(s["physician"], "POST", flows.physician_path(s["id"], "release"),
                              body={"note": note})
        assert r.status == 200, r

    def contact(self, s, **body):
        r = self.as_patient(s, "PUT", "/api/v1/patient/contact", body=body)
        assert r.status == 200, r
        return r.json()

    def physician_choice(self, physician, **body):
        r = self.as_physician(physician, "PUT", "/api/v1/physician/notifications", body=body)
        assert r.status == 200, r
        return r.json()

    def waiting(self, patient):
        return self.cluster.sql("SELECT channel, due_at FROM portal.notifications WHERE patient_id = '%s' "
                                "AND state = 'waiting' ORDER BY channel" % patient)


def _by_recipient(messages):
    out = {}
    for env, msg in messages:
        for rcpt in env["to"]:
            out.setdefault(rcpt, []).append(msg)
    return out


def _settle(story, emails, hooks, quiet=2.0):
    """Waits for this many emails and webhooks, then a little longer, so that an extra one would
    be seen too."""
    try:
        story.smtp.wait_for(emails, timeout=60)
        story.hook.wait_for(hooks, timeout=60)
    except AssertionError as e:
        got = [(env["to"], m["Subject"]) for env, m in story.smtp.messages()]
        rows = story.cluster.sql("SELECT kind, channel, state, failure, attempts FROM portal.notifications ORDER BY id")
        raise AssertionError("%s; emails %s; outbox %s" % (e, got, rows)) from None
    time.sleep(quiet)
    return story.smtp.messages(), list(story.hook.delivered)


def test_story_sends_exactly_the_tables_messages(ctx):
    st = Story(PORTAL_STAFF_EMAIL=STAFF, PORTAL_NOTIFY_DIGEST_HOUR="12")
    try:
        p1 = "NPI-STORY-" + uuid.uuid4().hex[:8]
        p2 = "NPI-HOOK-" + uuid.uuid4().hex[:8]
        st.cluster.sql("INSERT INTO portal.release_policies (site, mode) VALUES ('notify-imm', 'immediate')")
        sa, sb, sc, sd = (st.study(p1, t) for t in ("A", "B", "C", "D"))
        su1 = st.study(p1, "U")
        sr = st.study(p1, "REJECT")
        sx, sw = st.study(p1, "X"), st.study(p1, "W")
        sf = st.study(p1, "F", site="notify-imm")
        # The physician hears nothing while the reports come in; the daily digest comes later.
        assert st.physician_choice(p1, digest="none", email="dr-story@clinic.example.test") == \
            {"digest": "none", "email": "dr-story@clinic.example.test"}
        night, day = np.zone_at_local_hour(23), np.zone_at_local_hour(12)
        got = st.contact(sb, channel="both", phone="+1 555 0199", time_zone=night)
        assert got["channel"] == "both" and got["phone"] == "+1 555 0199" and got["phone_source"] == "patient"
        assert got["email"] == sb["email"] and got["email_source"] == "registration", got
        st.contact(sc, channel="none")
        st.contact(sd, channel="email", time_zone=night)
        # The RIS's address for one patient is corrected by the patient.
        su1["email"] = "u-corrected-%s@patients.example.test" % uuid.uuid4().hex[:6]
        st.contact(su1, channel="email", email=su1["email"])
        for s in (sa, sb, sc, sd, su1, sr, sx, sw, sf):
            st.report(s)
        r = st.as_physician(p1, "POST", flows.physician_path(sx["id"], "hold"),
                            body={"reason": "call the patient first",
                                  "until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 23 * 3600))})
        assert r.status == 201, r
        for s in (sa, sb, sc, sd, su1, sr):
            st.release(s)

        # Released by hand (A, U) and by policy on arrival (F): told at once.
        by = _by_recipient(st.smtp.wait_for(3))
        assert set(by) == {sa["email"], su1["email"], sf["email"]}, sorted(by)
        # B and D are in their night: held until 08:00 there.
        assert [c for c, _ in st.waiting(sb["patient"])] == ["email", "webhook"]
        assert [c for c, _ in st.waiting(sd["patient"])] == ["email"]
        # D reads the result before morning: D is not told.
        assert st.as_patient(sd, "GET", flows.patient_path(sd["id"])).status == 200
        assert st.waiting(sd["patient"]) == []
        assert st.cluster.sql("SELECT state, failure FROM portal.notifications WHERE patient_id = '%s'"
                              % sd["patient"]) == [["cancelled", "read"]]
        # U unsubscribes with one click (RFC 8058), from the link in the email it got.
        u_msg = by[su1["email"]][0]
        link = re.fullmatch(r"<%s(/api/v1/notifications/unsubscribe/%s)>" % (re.escape(np.PUBLIC_URL), UUID),
                            u_msg["List-Unsubscribe"])
        assert link and u_msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", u_msg
        r = st.server.request("POST", link.group(1), raw="List-Unsubscribe=One-Click",
                              content_type="application/x-www-form-urlencoded")
        assert r.status == 200 and r.json() == {"status": "unsubscribed"}, r
        assert st.as_patient(su1, "GET", "/api/v1/patient/contact").json()["channel"] == "none"
        su2 = st.study(p1, "U2")
        st.cluster.sql("UPDATE portal.studies SET patient_id = '%s' WHERE id = '%s'" % (su1["patient"], su2["id"]))
        su2["patient"] = su1["patient"]
        st.report(su2)
        st.release(su2)
        # An amended report released again: A is told of an update.
        st.report(sa, status="amended")
        st.release(sa)
        # The physician's daily digest (counted when sent: W waits, X is held), the hold ending
        # within 24 hours, and A's call-back request.
        st.physician_choice(p1, digest="daily", email="dr-story@clinic.example.test")
        asked = flows.marker("MSG")
        r = st.as_patient(sa, "POST", flows.patient_path(sa["id"]) + "/discussion-requests",
                          body={"message": asked})
        assert r.status == 201, r
        # The office answers with a time and a message: A is told there is an answer, not what.
        reply = flows.marker("REPLY")
        st.markers += [asked, reply]
        r = st.as_physician(p1, "POST", "/api/v1/physician/discussion-requests/%s/answer" % r.json()["id"],
                            body={"state": "scheduled", "scheduled_for": flows.ago(-30), "reply": reply})
        assert r.status == 200 and r.json()["state"] == "scheduled", r
        # The staff: a study past its p90 awaiting a read (an estimate row set by hand).
        st.cluster.sql("INSERT INTO portal.turnaround_estimates (modality, priority, site, week_part, level, "
                       "stage, milestone, elapsed_s, sample_size, p50_s, p90_s) VALUES "
                       "('*', '*', '*', 'any', 3, 'awaiting_read', 'report_final', 0, 100, 1800, 3600)")
        # Waits are measured on the site's reading clock (sql/definitions/50_estimates.sql): one
        # that runs at the same rate every hour makes the p90 one hour of plain time.
        st.cluster.sql("INSERT INTO portal.estimate_clocks (milestone, modality, priority, events, rate, cum) "
                       "VALUES ('report_final', '*', '*', 100, array_fill(1.0::float8, ARRAY[168]), "
                       "(SELECT array_agg(g::float8 ORDER BY g) FROM generate_series(0, 168) g))")
        sz = st.study(p2, "Z", occurred_at=flows.ago(2))
        # P2 has no address: the immediate digest goes through the webhook.
        s2 = st.study(p2, "P2")
        st.report(s2)
        # Morning comes for B: the test sets B's clock to 09:00 by moving B's zone there, and the
        # held messages' due time (08:00 there) to now. The first webhooks meet a receiver
        # answering 500, then 429 with Retry-After, then nothing.
        held = st.waiting(sb["patient"])[0][1]
        assert held.endswith(":00:00+00"), held
        st.hook.plan = ["500", "429", "timeout"]
        st.cluster.sql("UPDATE portal.patients SET time_zone = '%s' WHERE id = '%s'"
                       % (np.zone_at_local_hour(9), sb["patient"]))
        st.cluster.sql("UPDATE portal.notifications SET due_at = now() WHERE patient_id = '%s' AND state = 'waiting'"
                       % sb["patient"])

        messages, hooks = _settle(st, 10, 2)
        by = _by_recipient(messages)
        subjects = {rcpt: sorted(m["Subject"] for m in ms) for rcpt, ms in by.items()}
        assert subjects == {
            sa["email"]: ["A new result is ready in your patient portal",
                          "An updated result is ready in your patient portal",
                          "Your doctor's office answered your request"],
            sb["email"]: ["A new result is ready in your patient portal"],
            sf["email"]: ["A new result is ready in your patient portal"],
            su1["email"]: ["A new result is ready in your patient portal"],
            "dr-story@clinic.example.test": ["1 report waits for your review",
                                             "A hold you placed ends within 24 hours",
                                             "A patient asked to talk over a result"],
            STAFF: ["Study %s is overdue at stage awaiting_read" % sz["accession"]],
        }, subjects
        kinds = sorted((h[1]["data"]["kind"], h[1]["data"]["to"]["audience"]) for h in hooks)
        assert kinds == [("reports_waiting", "physician"), ("result_ready", "patient")], kinds
        text = [p for _, p in hooks if p["data"]["kind"] == "result_ready"][0]
        assert text["data"]["to"] == {"audience": "patient", "phone": "+1 555 0199"}, text
        digest = [p for _, p in hooks if p["data"]["kind"] == "reports_waiting"][0]
        assert digest["data"]["to"] == {"audience": "physician", "physician_id": p2}
        assert digest["data"]["text"].startswith("1 report waits for your review."), digest

        # Retries: the same webhook-id each time; 429's Retry-After honoured.
        tries = {}
        for i, a, t in st.hook.attempts:
            tries.setdefault(i, []).append((a, t))
        assert len(tries) == 2 and all([a for a, _ in ts][-1:] == ["204"] and
                                       [a for a, _ in ts].count("204") == 1 for ts in tries.values()), tries
        assert sorted(a for ts in tries.values() for a, _ in ts if a != "204") == ["429", "500", "timeout"]
        for ts in tries.values():
            for k, (a, t) in enumerate(ts):
                if a == "429":
                    assert ts[k + 1][1] - t >= 2.0, ts

        # Every email: headers, MIME, the link without a token, no health information.
        for env, msg in messages:
            assert env["tls"] and env["auth"], env
            assert env["from"] == "noreply@results.example.test", env
            assert re.fullmatch(r"<%s@results\.example\.test>" % UUID, msg["Message-ID"]), msg["Message-ID"]
            assert np.rfc5322_date_ok(msg["Date"]), msg["Date"]
            assert msg["MIME-Version"] == "1.0" and msg.get_content_type() == "text/plain"
            assert msg.get_content_charset() == "utf-8", msg["Content-Type"]
            body = msg.get_content()
            links = re.findall(r"https?://\S+", body)
            to = env["to"][0]
            assert (links or to == STAFF) and all(l.startswith(np.PUBLIC_URL + "/") and "?" not in l
                                                  and "#" not in l for l in links), links
            if to == STAFF:
                assert msg["List-Unsubscribe"] is None
            else:
                assert re.fullmatch(r"<%s/api/v1/notifications/unsubscribe/%s>" % (re.escape(np.PUBLIC_URL), UUID),
                                    msg["List-Unsubscribe"]), msg["List-Unsubscribe"]
            if to in (sa["email"], sb["email"], sf["email"], su1["email"]):
                assert links == [np.PUBLIC_URL + "/"], links
        everything = [(env["to"][0], np.message_text(msg)) for env, msg in messages]
        everything += [("webhook", str(h) + str(p)) for h, p in hooks]
        for to, text_ in everything:
            for m in st.markers:
                assert m not in text_, (to, m)
            for acc in st.accessions:
                if not (to == STAFF and acc == sz["accession"]):
                    assert acc not in text_, (to, acc)

        # R's address was refused for good: failed, with its class, listed for the admin without
        # an address or a word of the message.
        admin = harness.Server.token("admin", "admin-1")
        r = st.server.request("GET", "/api/v1/admin/notifications?state=failed", token=admin)
        assert r.status == 200, r
        failed = r.json()["messages"]
        assert [(m["kind"], m["channel"], m["audience"], m["failure"]) for m in failed] == \
            [("result_ready", "email", "patient", "rejected")], failed
        assert sr["email"] not in r.body and sr["accession"] not in r.body
        assert st.server.request("GET", "/api/v1/admin/notifications?state=bogus", token=admin).status == 422
        metrics = st.server.request("GET", "/metrics").body
        assert 'portal_notifications_total{channel="email",outcome="sent"} 10' in metrics, metrics
        assert 'portal_notifications_total{channel="email",outcome="failed"} 1' in metrics
        assert 'portal_notifications_total{channel="webhook",outcome="retry"} 3' in metrics
        assert not st.server.sanitizer_reports()
    finally:
        st.close()


def test_contact_details_are_checked(ctx):
    s = flows.Study(ctx.server, events=("ordered",))
    put = lambda body: ctx.server.request("PUT", "/api/v1/patient/contact", body=body, token=s.patient)
    r = put({"channel": "text"})
    assert r.status == 422 and r.json()["detail"].startswith("phone:"), r
    assert put({"channel": "email", "email": "not an address"}).status == 422
    assert put({"channel": "email", "time_zone": "Mars/Olympus"}).json()["detail"].startswith("time_zone:")
    assert put({"channel": "email", "nickname": "x"}).status == 422
    r = put({"channel": "both", "phone": "+44 20 7946 0000", "time_zone": "Europe/London"})
    assert r.status == 200 and r.json()["time_zone"] == "Europe/London", r
    r = ctx.server.request("GET", "/api/v1/patient/contact", token=s.patient)
    assert r.json()["channel"] == "both" and r.json()["email"] == "test@example.org", r
    assert ctx.server.request("POST", "/api/v1/notifications/unsubscribe/" + str(uuid.uuid4())).status == 404


def test_smtp_4xx_is_tried_again_under_the_same_message_id(ctx):
    """An SMTP server answering 451 gets the message again after a back-off, under the same
    Message-ID; the outbox shows the temporary class meanwhile (a 550 ending failed is in the
    story)."""
    st = Story(PORTAL_QUIET_HOURS="")
    try:
        doc = "NPI-TEMP-" + uuid.uuid4().hex[:8]
        s = st.study(doc, "T")
        st.report(s)
        st.smtp.tempfail(True)
        st.release(s)
        deadline = time.time() + 30
        rows = []
        while time.time() < deadline:
            rows = st.cluster.sql("SELECT state, failure, attempts FROM portal.notifications "
                                  "WHERE patient_id = '%s'" % s["patient"])
            if rows and int(rows[0][2]) >= 2:
                break
            time.sleep(0.3)
        assert rows and rows[0][1] == "temporary" and int(rows[0][2]) >= 2, rows
        assert st.smtp.messages() == []
        st.smtp.tempfail(False)
        (env, msg), = st.smtp.wait_for(1)
        assert env["to"] == [s["email"]]
        key = st.cluster.sql("SELECT message_id, state FROM portal.notifications WHERE patient_id = '%s'"
                             % s["patient"])
        assert msg["Message-ID"].startswith("<%s@" % key[0][0]) and key[0][1] == "sent", (msg["Message-ID"], key)
    finally:
        st.close()


def test_a_patient_is_told_in_their_saved_language(ctx):
    """The patient saved Spanish: their message is in Spanish, while a patient without a choice
    reads the site's language (English here), and the physician's stays in the site's."""
    st = Story(PORTAL_QUIET_HOURS="")
    try:
        doc = "NPI-LANG-" + uuid.uuid4().hex[:8]
        es, en = st.study(doc, "ES"), st.study(doc, "EN")
        r = st.as_patient(es, "PUT", "/api/v1/patient/language", body={"language": "es"})
        assert r.status == 200, r
        for s in (es, en):
            st.report(s)
            st.release(s)
        by = _by_recipient(st.smtp.wait_for(2))
        assert [m["Subject"] for m in by[es["email"]]] == \
            ["Tiene un resultado nuevo en su portal del paciente"], by[es["email"]]
        assert [m["Subject"] for m in by[en["email"]]] == \
            ["A new result is ready in your patient portal"], by[en["email"]]
        body = np.message_text(by[es["email"]][0])
        assert "Hola" in body and np.PUBLIC_URL + "/" in body, body
        for m in st.markers:
            assert m not in body, m
    finally:
        st.close()
