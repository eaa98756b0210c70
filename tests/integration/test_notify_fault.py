"""Notifications under faults (issue 15): two portald instances share the outbox of 1,000
releases made at once; one is killed with SIGKILL while they send, and the SMTP server is stopped
in the middle for NOTIFY_FAULT_OUTAGE seconds (5 in `make test`; `make test-notify-fault` runs
the full 30). Every patient gets the message, and none twice once repeats are dropped by
Message-ID (at least once: the raw repeats of a message whose sender died between the server's
acceptance and the record are counted and reported)."""
import os
import signal
import time

import harness
import notify_parts as np

COUNT = 1000


def test_kill_one_of_two_and_stop_smtp(ctx):
    outage = float(os.environ.get("NOTIFY_FAULT_OUTAGE", "5"))
    cluster = harness.Cluster("notifyfault")
    smtp = np.SmtpServer()
    # Small batches and a short timeout keep a dead sender's lease short (batch x timeout + 10 s).
    env = np.notify_env(smtp, PORTAL_NOTIFY_BATCH="5", PORTAL_NOTIFY_TIMEOUT="2",
                        PORTAL_NOTIFY_RATE_CAP="0", PORTAL_NOTIFY_MAX_ATTEMPTS="30",
                        PORTAL_QUIET_HOURS="")
    a = harness.Server(cluster, env=env)
    b = harness.Server(cluster, env=env)
    try:
        cluster.sql("INSERT INTO portal.physicians (id, name, notify_digest) VALUES ('NPI-FAULT', 'Dr Fault', 'none')")
        cluster.sql("""DO $$
            BEGIN
              FOR i IN 1..%d LOOP
                PERFORM portal.ingest_event(p_event_id => 'fault-e-' || i, p_payload_hash => 'h',
                    p_type => 'exam_completed', p_occurred_at => now() - interval '3 hours',
                    p_scheduled_for => NULL, p_mrn => 'FAULT-' || i, p_patient_name => 'Fault Patient',
                    p_birth_date => '1980-01-01', p_email => 'fault-' || i || '@patients.example.test',
                    p_accession => 'ACC-FAULT-' || i, p_modality => 'CT', p_description => 'CT chest',
                    p_priority => 'routine', p_site => 'main', p_physician_id => 'NPI-FAULT',
                    p_physician_name => 'Dr Fault', p_physician_phone => NULL, p_scheduling_url => NULL);
                PERFORM portal.ingest_report('fault-r-' || i, 'h', 'ACC-FAULT-' || i, 'final', 'F', 'I',
                                             'Dr R', now() - interval '1 hour');
              END LOOP;
            END $$""" % COUNT)
        t0 = time.time()
        # 1,000 releases in one transaction: their outbox rows commit with them.
        released = cluster.sql("SELECT count(*) FROM portal.studies s CROSS JOIN LATERAL "
                               "portal.release_report(s.id, 'NPI-FAULT', NULL, 'fault-release', NULL) r "
                               "WHERE s.accession LIKE 'ACC-FAULT-%'")
        assert released == [[str(COUNT)]], released
        smtp.wait_for(100, timeout=120)
        a.stop(sig=signal.SIGKILL)
        smtp.wait_for(400, timeout=180)
        smtp.stop()
        time.sleep(outage)
        smtp.start()
        deadline = time.time() + 300
        while time.time() < deadline:
            got = smtp.messages()
            if len({m["To"] for _, m in got}) >= COUNT:
                break
            time.sleep(1)
        took = time.time() - t0
        got = smtp.messages()
        ids = [m["Message-ID"] for _, m in got]
        per_recipient = {}
        for _, m in got:
            per_recipient.setdefault(m["To"], set()).add(m["Message-ID"])
        print("# fault: %d messages received for %d recipients in %.1f s (outage %.0f s); %d raw "
              "repeats of %d Message-IDs" % (len(got), len(per_recipient), took, outage,
                                              len(ids) - len(set(ids)), len(set(ids))), flush=True)
        assert len(per_recipient) == COUNT, len(per_recipient)
        assert all(len(v) == 1 for v in per_recipient.values()), \
            [k for k, v in per_recipient.items() if len(v) > 1][:5]
        # A message the killed instance handed to the SMTP server before it could record it stays
        # "sending" until its lease ends (batch x timeout + 10 s); the other instance then sends it
        # again under the same Message-ID and records it.
        deadline = time.time() + 120
        while True:
            states = cluster.sql("SELECT state, count(*) FROM portal.notifications GROUP BY 1 ORDER BY 1")
            if states == [["sent", str(COUNT)]] or time.time() > deadline:
                break
            time.sleep(1)
        assert states == [["sent", str(COUNT)]], states
        got = smtp.messages()
        per_recipient = {}
        for _, m in got:
            per_recipient.setdefault(m["To"], set()).add(m["Message-ID"])
        assert all(len(v) == 1 for v in per_recipient.values()), \
            [k for k, v in per_recipient.items() if len(v) > 1][:5]
        assert not b.sanitizer_reports()
    finally:
        a.stop()
        b.stop()
        smtp.stop()
        cluster.destroy()
