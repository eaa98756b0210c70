-- The row a patient page reads for a study's release and discussion (portal.study_page_state,
-- sql/definitions/92_study_page_state.sql) stays what portal.study_page_state_source computes from
-- the tables, after every kind of write the page depends on, and portal_app can read it but not
-- write it. Run as a superuser; everything is rolled back.
BEGIN;
SELECT plan(25);

-- The test's studies whose kept row differs from the computed one (none, when it is kept right).
CREATE FUNCTION pg_temp.stale() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM (
        (SELECT * FROM portal.study_page_state WHERE study_id::text LIKE '00000000-0000-4000-8000-0000000001%'
         EXCEPT SELECT * FROM portal.study_page_state_source WHERE study_id::text LIKE '00000000-0000-4000-8000-0000000001%')
        UNION ALL
        (SELECT * FROM portal.study_page_state_source WHERE study_id::text LIKE '00000000-0000-4000-8000-0000000001%'
         EXCEPT SELECT * FROM portal.study_page_state WHERE study_id::text LIKE '00000000-0000-4000-8000-0000000001%')) d $$;
-- Runs stmt and says whether every row is still right. What the row then holds is checked by the
-- next statement: a query sees the rows as they were when it started.
CREATE FUNCTION pg_temp.kept_after(stmt text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN pg_temp.stale() = 0;
END $$;

INSERT INTO portal.physicians (id, name) VALUES ('SPS-PHY', 'Dr. State');
INSERT INTO portal.patients (id, mrn, name, birth_date) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'SPS-A', 'Patient A', '1980-01-01');

SELECT ok(pg_temp.kept_after($$INSERT INTO portal.studies (id, accession, patient_id, referring_physician_id,
      modality, description, site) VALUES
      ('00000000-0000-4000-8000-000000000101', 'SPS-1', '00000000-0000-4000-8000-0000000000a1', 'SPS-PHY', 'CT', 'CT head', 'main'),
      ('00000000-0000-4000-8000-000000000102', 'SPS-2', '00000000-0000-4000-8000-0000000000a1', 'SPS-PHY', 'MR', 'MR knee', 'main')$$), 'a new study has its row');
SELECT ok((SELECT count(*) FROM portal.study_page_state WHERE study_id::text LIKE '00000000-0000-4000-8000-0000000001%') = 2, 'a new study has its row: as expected');
SELECT ok(pg_temp.kept_after($$INSERT INTO portal.report_versions (study_id, version, status, findings, impression,
      radiologist_name, signed_at, event_id) VALUES ('00000000-0000-4000-8000-000000000101', 1, 'final', 'f', 'i',
      'Dr. R', now(), 'sps-r1');
      UPDATE portal.studies SET reviewable_version = 1, latest_version = 1, final_at = now()
       WHERE id = '00000000-0000-4000-8000-000000000101'$$), 'a final report');
SELECT ok(pg_temp.kept_after($$UPDATE portal.release_policies SET auto_release_after = '2 days',
      patient_preference_allowed = true WHERE site = '*' AND modality = '*'$$), 'a policy change: every study''s plan and choice follow');
SELECT ok((SELECT plan_due_at IS NOT NULL AND release_preference IS NOT NULL FROM portal.study_page_state
          WHERE study_id = '00000000-0000-4000-8000-000000000101'), 'a policy change: every study''s plan and choice follow: as expected');
SELECT ok(pg_temp.kept_after($$INSERT INTO portal.release_policies (site, modality, auto_release_after)
      VALUES ('main', 'CT', '5 days')$$), 'a new, narrower policy');
SELECT ok(pg_temp.kept_after($$UPDATE portal.release_policies SET auto_release_after = '4 days'
       WHERE site = 'main' AND modality = 'CT'$$), 'the narrower policy changed');
UPDATE portal.study_page_state SET plan_due_at = '2001-01-01'
 WHERE study_id = '00000000-0000-4000-8000-000000000101';
UPDATE portal.release_policies SET hold_default = '24 hours' WHERE site = 'main' AND modality = 'CT';
SELECT is((SELECT plan_due_at FROM portal.study_page_state WHERE study_id = '00000000-0000-4000-8000-000000000101'),
          '2001-01-01'::timestamptz, 'a policy change the plan does not read (the hold length) recomputes nothing');
SELECT ok(pg_temp.kept_after($$UPDATE portal.release_policies SET site = 'other' WHERE site = 'main' AND modality = 'CT'$$),
          'a policy moved to another site: the studies it left follow');
SELECT ok(pg_temp.kept_after($$INSERT INTO portal.holds (study_id, placed_by, reason, ends_at) VALUES
      ('00000000-0000-4000-8000-000000000101', 'SPS-PHY', 'wait', now() + interval '9 days')$$), 'a hold');
SELECT ok((SELECT hold_placed FROM portal.study_page_state WHERE study_id = '00000000-0000-4000-8000-000000000101'), 'a hold: as expected');
SELECT ok(pg_temp.kept_after($$UPDATE portal.holds SET ended_at = now(), ended_how = 'lifted'
       WHERE study_id = '00000000-0000-4000-8000-000000000101'$$), 'a hold ended');
SELECT ok(pg_temp.kept_after($$INSERT INTO portal.study_preferences (study_id, release, chosen_at, set_for) VALUES
      ('00000000-0000-4000-8000-000000000102', 'immediate', now(), 'study')$$), 'a study preference');
SELECT ok(pg_temp.kept_after($$INSERT INTO portal.patient_preferences (patient_id, release, wait) VALUES
      ('00000000-0000-4000-8000-0000000000a1', 'wait_for_physician', '3 days')$$), 'a standing preference');
SELECT ok(pg_temp.kept_after($$DELETE FROM portal.patient_preferences
       WHERE patient_id = '00000000-0000-4000-8000-0000000000a1'$$), 'a standing preference removed');
SELECT ok(pg_temp.kept_after($$INSERT INTO portal.releases (study_id, version, released_by, released_by_name, how)
      VALUES ('00000000-0000-4000-8000-000000000101', 1, 'SPS-PHY', 'Dr. State', 'policy');
      UPDATE portal.studies SET released_version = 1, released_at = now()
       WHERE id = '00000000-0000-4000-8000-000000000101'$$), 'a release by policy');
SELECT ok((SELECT released_unreviewed FROM portal.study_page_state WHERE study_id = '00000000-0000-4000-8000-000000000101'), 'a release by policy: as expected');
SELECT ok(pg_temp.kept_after($$UPDATE portal.releases SET note = 'All fine.'
       WHERE study_id = '00000000-0000-4000-8000-000000000101'$$), 'a note on the release');
SELECT ok(NOT (SELECT released_unreviewed FROM portal.study_page_state WHERE study_id = '00000000-0000-4000-8000-000000000101'), 'a note on the release: as expected');
SELECT ok(pg_temp.kept_after($$INSERT INTO portal.discussion_requests (id, study_id, patient_id, physician_id, report_version)
      VALUES ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-000000000101',
              '00000000-0000-4000-8000-0000000000a1', 'SPS-PHY', 1)$$), 'a discussion request');
SELECT ok((SELECT discussion_id = '00000000-0000-4000-8000-0000000000d1' FROM portal.study_page_state
          WHERE study_id = '00000000-0000-4000-8000-000000000101'), 'a discussion request: as expected');
SELECT ok(pg_temp.kept_after($$UPDATE portal.discussion_requests SET state = 'scheduled',
      scheduled_for = now() + interval '1 day', reply = 'See you then.', updated_at = now()
       WHERE id = '00000000-0000-4000-8000-0000000000d1'$$), 'an answer to it');
SELECT ok(pg_temp.kept_after($$UPDATE portal.studies SET cancelled_at = now()
       WHERE id = '00000000-0000-4000-8000-000000000102'$$), 'a cancellation');

-- portal_app reads the rows and cannot write them or call the functions that do.
SELECT ok(has_table_privilege('portal_app', 'portal.study_page_state', 'SELECT')
          AND NOT has_table_privilege('portal_app', 'portal.study_page_state', 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'portal_app reads the rows only');
SELECT ok(NOT has_function_privilege('portal_app', 'portal.refresh_study_page_state(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('portal_app', 'portal.refresh_study_page_states(text[], text[])', 'EXECUTE'),
          'portal_app cannot refresh them');

SELECT * FROM finish();
ROLLBACK;
