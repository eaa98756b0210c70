-- The notification outbox (sql/definitions/75_notifications.sql): each cause writes its row in
-- its own transaction, through the same functions every transport calls (release by hand, by
-- policy, amended; the physician's digest, immediate and daily; a call-back request; a hold
-- ending within 24 hours; an overdue study, once per study and stage), and the senders' claim
-- keeps patients' choices, quiet hours in their time zone, "read, so not told" and the rate cap.
-- Time is an argument, never waited for. Run as a superuser; everything is rolled back.
BEGIN;
SELECT plan(48);

-- A study with a final report for a new patient and physician; returns the study id.
CREATE FUNCTION pg_temp.final_study(p_tag text, p_email text, p_phone text, p_site text DEFAULT 'main',
                                    p_physician text DEFAULT 'NPI-N1') RETURNS uuid
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM portal.ingest_event(p_event_id => 'n-e-' || p_tag, p_payload_hash => 'h', p_type => 'exam_completed',
        p_occurred_at => now() - interval '3 hours', p_scheduled_for => NULL, p_mrn => 'MRN-' || p_tag,
        p_patient_name => 'Name ' || p_tag, p_birth_date => '1980-01-01', p_email => p_email,
        p_accession => 'ACC-' || p_tag, p_modality => 'CT', p_description => 'CT chest', p_priority => 'routine',
        p_site => p_site, p_physician_id => p_physician, p_physician_name => 'Dr N', p_physician_phone => NULL,
        p_scheduling_url => NULL, p_patient_phone => p_phone);
    PERFORM portal.ingest_report('n-r-' || p_tag, 'h', 'ACC-' || p_tag, 'final', 'FINDINGS', 'IMPRESSION',
                                 'Dr R', now() - interval '1 hour');
    RETURN (SELECT id FROM portal.studies WHERE accession = 'ACC-' || p_tag);
END $$;
CREATE FUNCTION pg_temp.rows(p_study uuid) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(kind || '/' || channel || '/' || state, ',' ORDER BY channel, id), '')
      FROM portal.notifications WHERE study_id = p_study;
$$;
-- Claims every due email (or webhook) message at p_now, as a sender would.
CREATE FUNCTION pg_temp.claim(p_channel text, p_now timestamptz, p_cap integer DEFAULT 0)
RETURNS SETOF bigint LANGUAGE sql AS $$
    SELECT id FROM portal.notify_claim(p_channel, 100, 60, 'test', p_now, '21:00', '08:00', 'UTC', p_cap);
$$;

-- ---- Release by hand: the patient is told, on each channel chosen -------------------------------
SELECT pg_temp.final_study('A', 'a@example.org', '+15550100') AS a \gset
SELECT is(pg_temp.rows(:'a'), '', 'a final report alone tells the patient nothing');
SELECT is((SELECT count(*) FROM portal.release_report(:'a', 'NPI-N1', NULL, 'rq-a', NULL)), 1::bigint, 'released by hand');
SELECT is(pg_temp.rows(:'a'), 'result_ready/email/waiting', 'the release wrote one email in its transaction');
SELECT pg_temp.final_study('B', 'b@example.org', '+15550101') AS b \gset
UPDATE portal.patients SET notify_channel = 'both' WHERE mrn = 'MRN-B';
SELECT 1 FROM portal.release_report(:'b', 'NPI-N1', NULL, 'rq-b', NULL);
SELECT is(pg_temp.rows(:'b'), 'result_ready/email/waiting,result_ready/webhook/waiting', 'both: an email and a text message');
SELECT pg_temp.final_study('C', NULL, NULL) AS c \gset
SELECT 1 FROM portal.release_report(:'c', 'NPI-N1', NULL, 'rq-c', NULL);
SELECT is(pg_temp.rows(:'c'), '', 'no address: nothing is written');
SELECT pg_temp.final_study('D', 'd@example.org', NULL) AS d \gset
UPDATE portal.patients SET notify_channel = 'none' WHERE mrn = 'MRN-D';
SELECT 1 FROM portal.release_report(:'d', 'NPI-N1', NULL, 'rq-d', NULL);
SELECT is(pg_temp.rows(:'d'), '', 'a patient who chose none is not told');
SELECT is((SELECT count(*) FROM portal.release_report(:'a', 'NPI-N1', 'a note', 'rq-a2', NULL)), 1::bigint, 'released again');
SELECT is(pg_temp.rows(:'a'), 'result_ready/email/waiting', 'releasing again tells no one again');

-- ---- Amended: a later version released is an updated result --------------------------------------
SELECT 1 FROM portal.ingest_report('n-r-A2', 'h', 'ACC-A', 'amended', 'F2', 'I2', 'Dr R', now());
SELECT 1 FROM portal.release_report(:'a', 'NPI-N1', NULL, 'rq-a3', NULL);
SELECT is(pg_temp.rows(:'a'), 'result_ready/email/waiting,result_updated/email/waiting', 'the amended release is told as an update');

-- ---- Release by policy, on arrival and by the sweep --------------------------------------------
INSERT INTO portal.release_policies (site, mode) VALUES ('n-imm', 'immediate');
SELECT pg_temp.final_study('E', 'e@example.org', NULL, 'n-imm') AS e \gset
SELECT is(pg_temp.rows(:'e'), 'result_ready/email/waiting', 'released by policy on arrival: told in the ingest transaction');
INSERT INTO portal.release_policies (site, auto_release_after) VALUES ('n-late', '1 hour');
SELECT pg_temp.final_study('F', 'f@example.org', NULL, 'n-late') AS f \gset
SELECT is(pg_temp.rows(:'f'), '', 'not yet due: nothing');
UPDATE portal.report_versions SET received_at = now() - interval '2 hours' WHERE study_id = :'f';
SELECT ok((SELECT released FROM portal.release_due(100, 'n-sweep')) >= 1, 'the sweep releases it');
SELECT is(pg_temp.rows(:'f'), 'result_ready/email/waiting', 'released by the sweep: told in the sweep''s transaction');

-- ---- Told, then read: not told -------------------------------------------------------------
SELECT pg_temp.final_study('G', 'g@example.org', NULL) AS g \gset
SELECT 1 FROM portal.release_report(:'g', 'NPI-N1', NULL, 'rq-g', NULL);
SELECT is((SELECT count(*) FROM portal.patient_report((SELECT patient_id FROM portal.studies WHERE id = :'g'), :'g', 'rq-read', NULL)),
          1::bigint, 'the patient reads the report');
SELECT is(pg_temp.rows(:'g'), 'result_ready/email/cancelled', 'read before it went: the waiting message is not sent');
SELECT is((SELECT failure FROM portal.notifications WHERE study_id = :'g'), 'read', '... recorded as read');

-- ---- The claim: quiet hours in the patient's zone, addresses, rate cap ---------------------------
-- Tomorrow 22:30 in UTC is quiet; the same instant is mid-afternoon in Los Angeles.
SELECT date_trunc('day', now()) + interval '1 day 22 hours 30 minutes' AS night,
       date_trunc('day', now()) + interval '2 days 8 hours' AS morning \gset
SELECT is((SELECT count(*) FROM pg_temp.claim('email', :'night'::timestamptz) c
            JOIN portal.notifications n ON n.id = c WHERE n.study_id = :'a'), 0::bigint,
          'at 22:30 in the site''s zone nothing goes to the patient');
SELECT is((SELECT due_at FROM portal.notifications WHERE study_id = :'a' AND kind = 'result_ready'),
          :'morning'::timestamptz, 'held until 08:00 the next morning');
SELECT is(portal.notify_quiet_until('2026-12-05 07:59+00', 'UTC', '21:00', '08:00'), '2026-12-05 08:00+00'::timestamptz,
          'before 08:00: quiet until 08:00 the same day');
SELECT is(portal.notify_quiet_until('2026-12-05 12:00+00', 'UTC', '21:00', '08:00'), NULL, 'midday is not quiet');
SELECT is(portal.notify_quiet_until('2026-12-05 12:00+00', 'UTC', NULL, NULL), NULL, 'no quiet hours configured');
SELECT is(portal.notify_quiet_until('2026-12-05 13:00+00', 'UTC', '12:00', '14:00'), '2026-12-05 14:00+00'::timestamptz,
          'a window within one day');
UPDATE portal.patients SET time_zone = 'America/Los_Angeles' WHERE mrn = 'MRN-A';
UPDATE portal.notifications SET due_at = :'night'::timestamptz - interval '30 minutes' WHERE study_id = :'a';
SELECT is((SELECT count(*) FROM pg_temp.claim('email', :'night'::timestamptz) c
            JOIN portal.notifications n ON n.id = c WHERE n.study_id = :'a'), 2::bigint,
          'the patient''s own zone (14:30 there): both messages go');
UPDATE portal.notifications SET due_at = now() WHERE study_id = :'e';
CREATE TEMP TABLE claimed AS
SELECT * FROM portal.notify_claim('email', 100, 60, 'test', :'night'::timestamptz + interval '10 minutes',
                                  '21:00', '08:00', 'America/New_York', 0);
SELECT results_eq($$SELECT address, audience, attempt, message_id = (SELECT message_id FROM portal.notifications WHERE id = c.id)
                     FROM claimed c WHERE c.id IN (SELECT id FROM portal.notifications
                      WHERE study_id = (SELECT id FROM portal.studies WHERE accession = 'ACC-E'))$$,
                  $$VALUES ('e@example.org'::text, 'patient'::text, 1, true)$$,
                  'the claim gives the address, audience, attempt and key (afternoon in New York, the site)');
SELECT is((SELECT state || '/' || claimed_by FROM portal.notifications WHERE study_id = :'e'), 'sending/test', 'claimed');
SELECT is((SELECT count(*) FROM pg_temp.claim('email', :'night'::timestamptz + interval '10 minutes 30 seconds') c
            JOIN portal.notifications n ON n.id = c WHERE n.study_id = :'e'), 0::bigint, 'a claim in force is not taken again');
SELECT is((SELECT count(*) FROM portal.notify_claim('email', 100, 60, 'other', :'night'::timestamptz + interval '12 minutes', NULL, NULL, 'UTC', 0) c
            JOIN portal.notifications n ON n.id = c.id WHERE n.study_id = :'e'), 1::bigint,
          'a lapsed claim (the sender died) is taken by another sender');
SELECT is(portal.notify_result((SELECT id FROM portal.notifications WHERE study_id = :'e'), 'retry', 'temporary', 30, 3),
          'waiting', 'a temporary failure waits for the next attempt');
SELECT is(portal.notify_result((SELECT id FROM portal.notifications WHERE study_id = :'e'), 'retry', 'timeout', 30, 2),
          'failed', 'past the last attempt it ends failed');
SELECT is((SELECT failure FROM portal.notifications WHERE study_id = :'e'), 'timeout', '... with its class');
SELECT is(portal.notify_result((SELECT id FROM portal.notifications WHERE study_id = :'f'), 'sent', NULL, 0, 3),
          'sent', 'sent');
-- The cap: F's patient was sent one message this hour.
SELECT pg_temp.final_study('F2', 'f@example.org', NULL, 'n-imm') AS f2 \gset
UPDATE portal.notifications SET patient_id = (SELECT patient_id FROM portal.studies WHERE id = :'f')
 WHERE study_id = :'f2';
SELECT is((SELECT count(*) FROM portal.notify_claim('email', 100, 60, 'test', now(), NULL, NULL, 'UTC', 1) c
            JOIN portal.notifications n ON n.id = c.id WHERE n.study_id = :'f2'), 0::bigint,
          'a recipient at the hourly cap waits');

-- ---- Physicians: the digest, immediate and daily; call-back; a hold ending ------------------------
SELECT is((SELECT count(*) FROM portal.notifications WHERE physician_id = 'NPI-N1' AND kind = 'reports_waiting'
             AND state = 'waiting'), 1::bigint, 'many final reports: one digest waits for the physician');
SELECT is((SELECT count(*) FROM portal.notify_claim('webhook', 100, 60, 'test', now(), NULL, NULL, 'UTC', 0)
             WHERE kind = 'reports_waiting'), 0::bigint,
          'every report was released before the digest went: it is not sent');
SELECT is((SELECT failure FROM portal.notifications WHERE physician_id = 'NPI-N1' AND kind = 'reports_waiting'),
          'nothing_waiting', '... recorded as nothing waiting');
UPDATE portal.physicians SET notify_digest = 'daily', email = 'dr@example.org' WHERE id = 'NPI-N1';
SELECT pg_temp.final_study('H', NULL, NULL) AS h \gset
SELECT is((SELECT count(*) FROM portal.notifications WHERE physician_id = 'NPI-N1' AND kind = 'reports_waiting'
             AND state = 'waiting'), 0::bigint, 'on the daily digest a new report writes nothing at once');
-- The digest hour is set two hours ahead of the clock: the immediate digest above was written
-- just now, so a fixed hour (08:00 tomorrow, say) would leave today's 08:00 slot unserved when
-- the test runs between midnight and 08:00, and the schedule rightly catches that slot up.
SELECT date_trunc('hour', now()) + interval '2 hours' AS slot,
       extract(hour FROM (date_trunc('hour', now()) + interval '2 hours') AT TIME ZONE 'UTC')::integer
           AS slot_hour \gset
SELECT is((SELECT digests FROM portal.notify_schedule(:'slot'::timestamptz - interval '30 minutes', 'UTC', :slot_hour, true, false, '7 days', '30 days')),
          0, 'before the digest hour, no digest');
SELECT is((SELECT digests FROM portal.notify_schedule(:'slot'::timestamptz + interval '5 minutes', 'UTC', :slot_hour, true, false, '7 days', '30 days')),
          1, 'at the digest hour, one digest');
SELECT results_eq($$SELECT address, reports_waiting FROM portal.notify_claim('email', 100, 60, 'test',
                    $$ || quote_literal(:'slot') || $$::timestamptz + interval '6 minutes', NULL, NULL, 'UTC', 0)
                    WHERE kind = 'reports_waiting'$$,
                  $$VALUES ('dr@example.org'::text, 1)$$,
                  'the digest goes to the physician''s address and counts the reports waiting when it is sent');
SELECT is((SELECT digests FROM portal.notify_schedule(:'slot'::timestamptz + interval '1 hour', 'UTC', :slot_hour, true, false, '7 days', '30 days')),
          0, 'and only one that day');
SELECT 1 FROM portal.request_discussion((SELECT patient_id FROM portal.studies WHERE id = :'a'), :'a', NULL, 'PRIVATE WORDS', 'rq-dr', NULL);
SELECT is((SELECT kind || '/' || channel FROM portal.notifications WHERE physician_id = 'NPI-N1' AND kind = 'callback_requested'),
          'callback_requested/email', 'a call-back request tells the physician, by email now that there is an address');
SELECT 1 FROM portal.hold_report(:'h', 'NPI-N1', 'wait', 'other', now() + interval '30 hours', 'rq-h', NULL);
SELECT is((SELECT hold_ending FROM portal.notify_schedule(now(), 'UTC', 8, true, false, '7 days', '30 days')), 0, '30 hours left: nothing');
SELECT is((SELECT hold_ending FROM portal.notify_schedule(now() + interval '7 hours', 'UTC', 8, true, false, '7 days', '30 days')), 1,
          '23 hours left: the physician is told');
SELECT is((SELECT hold_ending FROM portal.notify_schedule(now() + interval '8 hours', 'UTC', 8, true, false, '7 days', '30 days')), 0,
          '... once');

-- ---- Overdue: the staff address, once per study and stage --------------------------------------
INSERT INTO portal.turnaround_estimates (modality, priority, site, week_part, level, stage, milestone, elapsed_s,
                                         sample_size, p50_s, p90_s)
VALUES ('*', '*', '*', 'any', 3, 'awaiting_read', 'report_final', 0, 100, 1800, 3600);
-- A reading clock that runs at the same rate every hour of the week (the estimates measure waits on
-- the site's clock, sql/definitions/50_estimates.sql), so the p90 is one hour of plain time.
INSERT INTO portal.estimate_clocks (milestone, modality, priority, events, rate, cum)
VALUES ('report_final', '*', '*', 100, array_fill(1.0::float8, ARRAY[168]),
        (SELECT array_agg(g::float8 ORDER BY g) FROM generate_series(0, 168) g));
SELECT 1 FROM portal.ingest_event(p_event_id => 'n-e-late', p_payload_hash => 'h', p_type => 'exam_completed',
    p_occurred_at => now() - interval '2 hours', p_scheduled_for => NULL, p_mrn => 'MRN-LATE',
    p_patient_name => 'Late Name', p_birth_date => '1980-01-01', p_email => NULL, p_accession => 'ACC-LATE',
    p_modality => 'MR', p_description => 'MR knee', p_priority => 'routine', p_site => 'main',
    p_physician_id => 'NPI-N2', p_physician_name => 'Dr M', p_physician_phone => NULL, p_scheduling_url => NULL);
SELECT is((SELECT overdue FROM portal.notify_schedule(now(), 'UTC', 8, true, false, '7 days', '30 days')), 0,
          'no staff address: no overdue messages collect');
SELECT is((SELECT overdue FROM portal.notify_schedule(now(), 'UTC', 8, true, true, '7 days', '30 days')), 1,
          'past its p90 awaiting a read: the staff are told');
SELECT is((SELECT overdue FROM portal.notify_schedule(now() + interval '1 hour', 'UTC', 8, true, true, '7 days', '30 days')), 0,
          'once per study and stage');
SELECT is((SELECT accession || '/' || stage FROM portal.notifications WHERE kind = 'study_overdue'), 'ACC-LATE/awaiting_read',
          'the staff message names the accession and stage only');

SELECT * FROM finish();
ROLLBACK;
