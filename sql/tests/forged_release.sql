-- The release gate's own state cannot be forged by the server's role: as portal_app, every write
-- that would release, hold or un-hold a report, or move when one is released, is refused
-- (42501), and so is every internal function that does such writes without its checks (the
-- unlocked sweep, release_if_due, expire_holds, ...). A release, a hold and a release by policy
-- happen only through the SECURITY DEFINER functions, which write their audit rows. First the
-- exact attack that worked before sql/grants.sql (a release row and studies.released_version
-- written directly, then the text read through portal.patient_report), under SET ROLE; then each
-- forbidden write through a helper that runs as portal_app. Inserts name their id, so a table
-- grant alone would let them through (the serial's sequence is not the guard). Run as a
-- superuser; everything is rolled back.
BEGIN;
SELECT plan(51);

-- Runs q as portal_app (a SECURITY DEFINER function owned by it); '00000' or the SQLSTATE it
-- failed with.
CREATE FUNCTION pg_temp.app_sqlstate(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    EXECUTE q;
    RETURN '00000';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
-- Tries q as portal_app and undoes whatever it did (so a write that should have been refused
-- cannot disturb the tests after it); '00000' when it ran, or the SQLSTATE it failed with.
CREATE FUNCTION pg_temp.app_try(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    EXECUTE q;
    RAISE SQLSTATE 'PTRY0';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = 'PTRY0' THEN '00000' ELSE SQLSTATE END;
END $$;
-- The same, with the error's message: a call of an internal function must be refused for that
-- function itself, not for something it calls.
CREATE FUNCTION pg_temp.app_try_message(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    EXECUTE q;
    RAISE SQLSTATE 'PTRY0';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = 'PTRY0' THEN '00000' ELSE SQLSTATE || ' ' || SQLERRM END;
END $$;
-- Runs q as portal_app; its first column of its first row as text.
CREATE FUNCTION pg_temp.app_value(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v text;
BEGIN
    EXECUTE 'SELECT (' || q || ')::text' INTO v;
    RETURN v;
END $$;
ALTER FUNCTION pg_temp.app_sqlstate(text) OWNER TO portal_app;
ALTER FUNCTION pg_temp.app_value(text) OWNER TO portal_app;
ALTER FUNCTION pg_temp.app_try(text) OWNER TO portal_app;
ALTER FUNCTION pg_temp.app_try_message(text) OWNER TO portal_app;

-- A study with a final report, not released, written by portal_app as the server would.
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('forge-e1', 'h', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-FORGE', 'Pat Forge', '1980-01-01', NULL, 'ACC-FORGE', 'CT',
    'CT chest', 'routine', 'main', 'NPI-FORGE', 'Dr Forge', NULL, NULL)$q$), '00000',
    'portal_app ingests an event');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_report('forge-r1', 'h', 'ACC-FORGE', 'final',
    'FORGE SECRET FINDINGS', 'FORGE SECRET IMPRESSION', 'Dr R', '2026-11-21T08:00Z')$q$), '00000',
    'portal_app ingests a final report');
SELECT id AS study, patient_id AS patient FROM portal.studies WHERE accession = 'ACC-FORGE' \gset
-- The attack gets a study of its own, so a forged release that got through (a grant added back)
-- cannot disturb the tests after it.
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('forge-ex', 'h', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-FORGE', 'Pat Forge', '1980-01-01', NULL, 'ACC-FORGE-X', 'CT',
    'CT head', 'routine', 'main', 'NPI-FORGE', 'Dr Forge', NULL, NULL)$q$) ||
          pg_temp.app_sqlstate($q$SELECT portal.ingest_report('forge-rx', 'h', 'ACC-FORGE-X', 'final',
    'FORGE X FINDINGS', 'FORGE X IMPRESSION', 'Dr R', '2026-11-21T08:00Z')$q$), '0000000000',
    'portal_app ingests a second final report, for the attack');
SELECT id AS xstudy FROM portal.studies WHERE accession = 'ACC-FORGE-X' \gset
SELECT set_config('forge.study', :'xstudy', true), set_config('forge.patient', :'patient', true) \gset ignored_

-- ---- the attack, as the issue found it: forge a release, then read the text through the gate ----
SET LOCAL ROLE portal_app;
DO $$
DECLARE
    v_study uuid := current_setting('forge.study')::uuid;
    v_patient uuid := current_setting('forge.patient')::uuid;
BEGIN
    BEGIN
        INSERT INTO portal.releases (id, study_id, version, released_by_name, how)
        VALUES (-1, v_study, 1, 'Dr Forge', 'physician');
        PERFORM set_config('forge.insert', '00000', true);
    EXCEPTION WHEN OTHERS THEN
        PERFORM set_config('forge.insert', SQLSTATE, true);
    END;
    BEGIN
        UPDATE portal.studies SET released_version = 1, released_at = now() WHERE id = v_study;
        PERFORM set_config('forge.update', '00000', true);
    EXCEPTION WHEN OTHERS THEN
        PERFORM set_config('forge.update', SQLSTATE, true);
    END;
    PERFORM set_config('forge.read',
        (SELECT count(*) FROM portal.patient_report(v_patient, v_study, 'forge-read', NULL))::text,
        true);
END $$;
RESET ROLE;
SELECT is(current_setting('forge.insert'), '42501', 'SET ROLE portal_app: INSERT INTO portal.releases is refused');
SELECT is(current_setting('forge.update'), '42501',
          'SET ROLE portal_app: UPDATE portal.studies SET released_version is refused');
SELECT is(current_setting('forge.read'), '0', 'so patient_report gives the patient nothing');
SELECT is((SELECT count(*) FROM portal.audit_log WHERE study_id = :'xstudy'
            AND action IN ('report.release', 'report.read')), 0::bigint,
          'and nothing was released or read');

-- ---- each forbidden write, as portal_app ----
-- The studies' lifecycle and release columns: written only by ingest and the release functions.
SELECT is(pg_temp.app_try(format('UPDATE portal.studies SET released_version = 1 WHERE id = %L', :'study')),
          '42501', 'no UPDATE of studies.released_version');
SELECT is(pg_temp.app_try(format('UPDATE portal.studies SET released_at = now() WHERE id = %L', :'study')),
          '42501', 'no UPDATE of studies.released_at');
SELECT is(pg_temp.app_try(format('UPDATE portal.studies SET reviewable_version = 1 WHERE id = %L', :'study')),
          '42501', 'no UPDATE of studies.reviewable_version');
SELECT is(pg_temp.app_try(format('UPDATE portal.studies SET latest_version = 2 WHERE id = %L', :'study')),
          '42501', 'no UPDATE of studies.latest_version');
SELECT is(pg_temp.app_try(format('UPDATE portal.studies SET final_at = now() WHERE id = %L', :'study')),
          '42501', 'no UPDATE of a lifecycle time');
SELECT is(pg_temp.app_try($q$INSERT INTO portal.studies (accession, patient_id, referring_physician_id,
    modality, description, reviewable_version, released_version, released_at)
    SELECT 'ACC-FORGE-2', patient_id, referring_physician_id, 'CT', 'x', 1, 1, now()
      FROM portal.studies WHERE accession = 'ACC-FORGE'$q$),
          '42501', 'no INSERT of a study already released');
SELECT is(pg_temp.app_try(format('DELETE FROM portal.studies WHERE id = %L', :'study')),
          '42501', 'no DELETE of studies');
SELECT is(pg_temp.app_try(format($q$UPDATE portal.studies SET study_instance_uid = '1.2.3' WHERE id = %L$q$, :'study')),
          '42501', 'no UPDATE of studies.study_instance_uid (ingest_images keeps it)');
-- The PACS feed's position: moved only by feed_advance, in the transaction that applied the changes.
SELECT is(pg_temp.app_try($q$INSERT INTO portal.feed_positions (feed, position) VALUES ('forge', 99)$q$),
          '42501', 'no INSERT INTO feed_positions');
SELECT is(pg_temp.app_try($q$UPDATE portal.feed_positions SET position = 0$q$),
          '42501', 'no UPDATE of feed_positions');
-- Releases.
SELECT is(pg_temp.app_try(format($q$INSERT INTO portal.releases (id, study_id, version, released_by_name, how)
    VALUES (-2, %L, 1, 'x', 'policy')$q$, :'study')), '42501', 'no INSERT INTO releases');
SELECT is(pg_temp.app_try($q$UPDATE portal.releases SET version = version + 1$q$), '42501',
          'no UPDATE of releases');
SELECT is(pg_temp.app_try($q$UPDATE portal.releases SET note = 'x', noted_by = 'NPI-FORGE', noted_at = now()$q$),
          '42501', 'no UPDATE of a release''s note (release_report attaches it, audited)');
SELECT is(pg_temp.app_try('DELETE FROM portal.releases'), '42501', 'no DELETE FROM releases');
-- Report versions: text may be written at ingest, never changed.
SELECT is(pg_temp.app_try($q$UPDATE portal.report_versions SET findings = 'x'$q$), '42501',
          'no UPDATE of report text');
SELECT is(pg_temp.app_try($q$UPDATE portal.report_versions SET received_at = now() - interval '30 days'$q$),
          '42501', 'no UPDATE of when a version arrived (the policy clock)');
SELECT is(pg_temp.app_try('DELETE FROM portal.report_versions'), '42501', 'no DELETE FROM report_versions');
SELECT is(pg_temp.app_try(format($q$INSERT INTO portal.report_versions (study_id, version, status,
    findings, impression, radiologist_name, signed_at, event_id, received_at)
    VALUES (%L, 7, 'final', 'f', 'i', 'Dr R', now(), 'forge-rv7', now() - interval '30 days')$q$, :'study')),
          '42501', 'no INSERT of a version with a chosen arrival time');
-- Holds.
SELECT is(pg_temp.app_try(format($q$INSERT INTO portal.holds (id, study_id, placed_by, reason)
    VALUES (-1, %L, 'NPI-FORGE', 'x')$q$, :'study')), '42501', 'no INSERT INTO holds');
SELECT is(pg_temp.app_try($q$UPDATE portal.holds SET ended_at = now(), ended_how = 'lifted'$q$),
          '42501', 'no UPDATE of holds');
SELECT is(pg_temp.app_try('DELETE FROM portal.holds'), '42501', 'no DELETE FROM holds');
-- What decides when a report is released by policy.
SELECT is(pg_temp.app_try(format($q$INSERT INTO portal.study_preferences (study_id, release, chosen_at, set_for)
    VALUES (%L, 'immediate', now(), 'study')$q$, :'study')), '42501', 'no INSERT INTO study_preferences');
SELECT is(pg_temp.app_try(format($q$INSERT INTO portal.patient_preferences (patient_id, release)
    VALUES (%L, 'immediate')$q$, :'patient')), '42501', 'no INSERT INTO patient_preferences');
SELECT is(pg_temp.app_try($q$UPDATE portal.release_policies SET mode = 'immediate'$q$), '42501',
          'no UPDATE of release_policies');
-- Ingest's idempotency records, and the audit log's own columns.
SELECT is(pg_temp.app_try($q$INSERT INTO portal.ingest_events (event_id, kind, payload_hash)
    VALUES ('forge-claim', 'report', 'h')$q$), '42501', 'no INSERT INTO ingest_events');
SELECT is(pg_temp.app_try($q$INSERT INTO portal.audit_log (at, actor_role, actor_id, action)
    VALUES (now() - interval '1 year', 'physician', 'NPI-FORGE', 'report.release')$q$), '42501',
          'no audit row with a chosen time');
-- Internal functions that write releases or holds without release_report's or release_due's checks.
SELECT is(pg_temp.app_try_message($q$SELECT * FROM portal.release_due_unlocked(10, 'forge')$q$),
          '42501 permission denied for function release_due_unlocked',
          'no call of release_due_unlocked (the sweep without its one-at-a-time lock)');
SELECT is(pg_temp.app_try_message(format($q$SELECT portal.release_if_due(%L, 'forge')$q$, :'study')),
          '42501 permission denied for function release_if_due',
          'no call of release_if_due');
SELECT is(pg_temp.app_try_message($q$SELECT portal.expire_holds(NULL, 10, 'forge')$q$),
          '42501 permission denied for function expire_holds',
          'no call of expire_holds');
SELECT is(pg_temp.app_try_message(format($q$SELECT portal.physician_study('NPI-FORGE', %L)$q$, :'study')),
          '42501 permission denied for function physician_study',
          'no call of physician_study');
SELECT is(pg_temp.app_try_message($q$SELECT portal.ingest_claim('forge-claim', 'event', 'h')$q$),
          '42501 permission denied for function ingest_claim',
          'no call of ingest_claim');
SELECT is(pg_temp.app_try_message($q$SELECT portal.ingest_answer('forge-e1', '{}')$q$),
          '42501 permission denied for function ingest_answer',
          'no call of ingest_answer');
SELECT is(pg_temp.app_try_message(format($q$SELECT portal.stamp_patient_page(%L)$q$, :'patient')),
          '42501 permission denied for function stamp_patient_page',
          'no call of stamp_patient_page');
SELECT is(pg_temp.app_try_message($q$SELECT portal.refresh_estimates(interval '90 days')$q$),
          '42501 permission denied for function refresh_estimates',
          'no call of refresh_estimates (the estimates task calls refresh_estimates_if_due)');

-- ---- a version inserted directly (ingest's columns, sql/tests/gate.sql) reaches no one ----
SELECT is(pg_temp.app_sqlstate(format($q$INSERT INTO portal.report_versions (study_id, version, status,
    findings, impression, radiologist_name, signed_at, event_id)
    VALUES (%L, 2, 'amended', 'FORGED FINDINGS', 'FORGED IMPRESSION', 'Dr X', now(), 'forge-rv2')$q$, :'study')),
          '00000', 'portal_app may insert a report version');

-- ---- the legitimate paths still work, as portal_app, and audit ----
SELECT is(pg_temp.app_value(format($q$SELECT report_version FROM portal.release_report(%L, 'NPI-FORGE', NULL,
    'forge-release', '127.0.0.1')$q$, :'study')), '1',
          'release_report releases the version ingest made reviewable, not the inserted one');
SELECT results_eq(
    format($q$SELECT actor_role, actor_id, request_id, (detail ->> 'version')::integer FROM portal.audit_log
               WHERE study_id = %L AND action = 'report.release'$q$, :'study'),
    $$VALUES ('physician'::text, 'NPI-FORGE'::text, 'forge-release'::text, 1)$$,
    'the release wrote its audit row');
SELECT is(pg_temp.app_value(format($q$SELECT findings FROM portal.patient_report(%L, %L, 'forge-read-2', NULL)$q$,
                                   :'patient', :'study')),
          'FORGE SECRET FINDINGS', 'the patient reads the released text, not the inserted version''s');

-- A hold, through hold_report, on a second study.
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('forge-e2', 'h', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-FORGE', 'Pat Forge', '1980-01-01', NULL, 'ACC-FORGE-H', 'MR',
    'MR knee', 'routine', 'main', 'NPI-FORGE', 'Dr Forge', NULL, NULL)$q$), '00000',
    'portal_app ingests a second study');
SELECT is(pg_temp.app_value($q$SELECT created FROM portal.hold_report((SELECT id FROM portal.studies
    WHERE accession = 'ACC-FORGE-H'), 'NPI-FORGE', 'Tell in person', 'harm_risk', NULL, 'forge-hold', NULL)$q$),
          'true', 'hold_report places a hold');
SELECT is((SELECT count(*) FROM portal.audit_log WHERE action = 'report.hold' AND request_id = 'forge-hold'),
          1::bigint, 'the hold wrote its audit row');

-- A release by policy from ingest (immediate mode): ingest_report releases through release_if_due.
INSERT INTO portal.release_policies (site, modality, mode) VALUES ('forge-imm', '*', 'immediate');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('forge-e3', 'h', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-FORGE', 'Pat Forge', '1980-01-01', NULL, 'ACC-FORGE-I', 'XR',
    'XR wrist', 'routine', 'forge-imm', 'NPI-FORGE', 'Dr Forge', NULL, NULL)$q$) ||
          pg_temp.app_sqlstate($q$SELECT portal.ingest_report('forge-r3', 'h', 'ACC-FORGE-I', 'final',
    'f', 'i', 'Dr R', '2026-11-21T08:00Z')$q$), '0000000000', 'portal_app ingests a final report at an immediate site');
SELECT results_eq(
    $$SELECT s.released_version, r.how, a.actor_role, a.request_id FROM portal.studies s
        JOIN portal.releases r ON r.study_id = s.id
        JOIN portal.audit_log a ON a.study_id = s.id AND a.action = 'report.release'
       WHERE s.accession = 'ACC-FORGE-I'$$,
    $$VALUES (1, 'policy'::text, 'policy'::text, 'forge-r3'::text)$$,
    'ingest released it by policy and wrote the audit row');

-- The functions that write the gate's state run as their owner, with a fixed search_path.
SELECT is_empty(
    $$SELECT f FROM unnest(ARRAY[
        'portal.ingest_event(text, text, text, timestamptz, timestamptz, text, text, date, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text, text)',
        'portal.ingest_report(text, text, text, text, text, text, text, timestamptz, text, text, text, text)',
        'portal.ingest_patient(text, text, text, text, text, date, text, text, text, text, text, text)',
        'portal.ingest_merge(text, text, text, text, text, text, text, text, text, text)',
        'portal.ingest_images(text, text, text, text, timestamptz, text, text, text, text)',
        'portal.feed_take(text)',
        'portal.feed_advance(text, bigint)',
        'portal.release_report(uuid, text, text, text, text)',
        'portal.hold_report(uuid, text, text, text, timestamptz, text, text)',
        'portal.release_due(integer, text)',
        'portal.set_patient_preference(uuid, text, integer, text, text)',
        'portal.set_study_preference(uuid, uuid, text, integer, text, text)',
        'portal.request_discussion(uuid, uuid, timestamptz[], text, text, text)',
        'portal.answer_discussion(text, text, uuid, text, timestamptz, text, text, text)',
        'portal.patient_report(uuid, uuid, text, text)',
        'portal.physician_report(text, uuid, text, text)',
        'portal.reread_released_page(uuid, uuid, integer, bigint, bigint, text, text)',
        'portal.refresh_study_page_state(uuid)',
        'portal.refresh_study_page_states(text[], text[])',
        'portal.refresh_study_estimates(integer)',
        'portal.prepare_study_estimates(integer)',
        'portal.fill_study_estimates()',
        'portal.study_estimates_changed()',
        'portal.notify_schedule(timestamptz, text, integer, boolean, boolean, interval, interval)',
        'portal.notify_claim(text, integer, integer, text, timestamptz, time, time, text, integer)',
        'portal.notify_result(bigint, text, text, integer, integer)',
        'portal.set_patient_contact(uuid, text, text, text, text, text, text)',
        'portal.set_physician_notifications(text, text, text, text, text)',
        'portal.notify_unsubscribe(uuid, text, text)',
        'portal.preview_release_policy(text, text, text, bigint, boolean, bigint, bigint, bigint)',
        'portal.save_release_policy(text, text, text, bigint, boolean, bigint, bigint, bigint, text, text, text, text, text)',
        'portal.staff_find_patients(text, text, text, date, text, text, text, text)',
        'portal.invite_physician(text, text, text, interval, boolean, text, text, text, text)',
        'portal.accept_physician_invitation(text, text, text, text)',
        'portal.set_physician_disabled(text, boolean, text, text, text, text)',
        'portal.staff_set_patient_contact(uuid, text, text, text, text, text, text, text, text)',
        'portal.proxy_rights(uuid, uuid)',
        'portal.proxy_hidden(uuid, boolean)',
        'portal.proxy_studies(uuid, uuid, uuid)',
        'portal.proxy_report(uuid, uuid, text, text)',
        'portal.proxy_patients(uuid)',
        'portal.patient_proxies(uuid)',
        'portal.proxy_set_code(uuid, text, date, text, text, text, text, text, text, text)',
        'portal.proxy_grant(uuid, uuid, text, text, text, timestamptz, timestamptz, text, text, text, text)',
        'portal.proxy_renew(uuid, timestamptz, text, text, text, text)',
        'portal.proxy_end(uuid, uuid, text, text, text, text)',
        'portal.staff_proxy_links(uuid)',
        'portal.set_not_for_proxies(text, uuid, boolean, text, text)',
        'portal.same_person(text, text)',
        'portal.session_switch(text, text, text, text)',
        'portal.proxy_set_patient(uuid, uuid, text, text, text, text, text, text)',
        'portal.patient_access_log(uuid, bigint, integer)',
        'portal.proxy_access_log(uuid, uuid, bigint, integer)',
        'portal.proxy_may_see(uuid, uuid)',
        'portal.notify_proxies_on_release()']) f
       WHERE NOT (SELECT prosecdef AND proconfig = ARRAY['search_path=pg_catalog, pg_temp']
                    FROM pg_proc WHERE oid = f::regprocedure)$$,
    'release, hold, ingest (events, reports, patients, merges, images), the feed position, preferences, discussion, the gate, the notification outbox, the staff console writes, proxies and the access log are SECURITY DEFINER with a fixed search_path');

SELECT * FROM finish();
ROLLBACK;
