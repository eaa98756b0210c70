-- The version stamps of the patient's pages (sql/definitions/90_pages.sql): every write to a table
-- a patient page shows stamps that patient (only that patient), writes that change every page stamp
-- the global row, stamps never repeat, and portal_app can read the stamps but not set them. Run as
-- a superuser; everything is rolled back.
BEGIN;
SELECT plan(26);

CREATE FUNCTION pg_temp.stamp(p uuid) RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce((SELECT version FROM portal.page_versions WHERE patient_id = p), 0) $$;
CREATE FUNCTION pg_temp.global_stamp() RETURNS bigint LANGUAGE sql AS $$
    SELECT version FROM portal.page_global_version $$;
-- Runs a statement and says whether it changed the patient's stamp (and no other patient's).
CREATE FUNCTION pg_temp.stamps(p uuid, other uuid, stmt text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    before bigint := pg_temp.stamp(p);
    other_before bigint := pg_temp.stamp(other);
BEGIN
    EXECUTE stmt;
    RETURN pg_temp.stamp(p) > before AND pg_temp.stamp(other) = other_before;
END $$;

INSERT INTO portal.physicians (id, name) VALUES ('PV-PHY', 'Dr. Stamp');
INSERT INTO portal.patients (id, mrn, name, birth_date) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'PV-A', 'Patient A', '1980-01-01'),
    ('00000000-0000-4000-8000-0000000000b2', 'PV-B', 'Patient B', '1980-01-01');

SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$INSERT INTO portal.studies (id, accession, patient_id, referring_physician_id, modality, description)
      VALUES ('00000000-0000-4000-8000-0000000000c3', 'PV-ACC', '00000000-0000-4000-8000-0000000000a1',
              'PV-PHY', 'CT', 'CT head')$$), 'a new study stamps its patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$UPDATE portal.studies SET arrived_at = now() WHERE id = '00000000-0000-4000-8000-0000000000c3'$$),
    'a lifecycle change stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$INSERT INTO portal.report_versions (study_id, version, status, findings, impression, radiologist_name,
      signed_at, event_id) VALUES ('00000000-0000-4000-8000-0000000000c3', 1, 'final', 'f', 'i', 'Dr. R',
      now(), 'pv-r1')$$), 'a report version stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$INSERT INTO portal.holds (study_id, placed_by, reason) VALUES
      ('00000000-0000-4000-8000-0000000000c3', 'PV-PHY', 'wait')$$), 'a hold stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$UPDATE portal.holds SET ended_at = now(), ended_how = 'lifted'
       WHERE study_id = '00000000-0000-4000-8000-0000000000c3'$$), 'ending a hold stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$INSERT INTO portal.releases (study_id, version, released_by, released_by_name) VALUES
      ('00000000-0000-4000-8000-0000000000c3', 1, 'PV-PHY', 'Dr. Stamp')$$), 'a release stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$UPDATE portal.releases SET note = 'n' WHERE study_id = '00000000-0000-4000-8000-0000000000c3'$$),
    'a note added to a release stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$INSERT INTO portal.discussion_requests (study_id, patient_id, physician_id, report_version) VALUES
      ('00000000-0000-4000-8000-0000000000c3', '00000000-0000-4000-8000-0000000000a1', 'PV-PHY', 1)$$),
    'a discussion request stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$INSERT INTO portal.study_preferences (study_id, release, chosen_at, set_for) VALUES
      ('00000000-0000-4000-8000-0000000000c3', 'immediate', now(), 'study')$$),
    'a study preference stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$INSERT INTO portal.patient_preferences (patient_id, release) VALUES
      ('00000000-0000-4000-8000-0000000000a1', 'immediate')$$), 'a standing preference stamps the patient');
SELECT ok(pg_temp.stamps('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2',
    $$DELETE FROM portal.patient_preferences WHERE patient_id = '00000000-0000-4000-8000-0000000000a1'$$),
    'removing a standing preference stamps the patient');

-- A study moved to another patient (a merge at the RIS) changes both patients' pages.
SELECT lives_ok($$SELECT set_config('pv.a', pg_temp.stamp('00000000-0000-4000-8000-0000000000a1')::text, true),
                        set_config('pv.b', pg_temp.stamp('00000000-0000-4000-8000-0000000000b2')::text, true)$$,
                'stamps noted');
UPDATE portal.studies SET patient_id = '00000000-0000-4000-8000-0000000000b2'
 WHERE id = '00000000-0000-4000-8000-0000000000c3';
SELECT ok(pg_temp.stamp('00000000-0000-4000-8000-0000000000a1') > current_setting('pv.a')::bigint
          AND pg_temp.stamp('00000000-0000-4000-8000-0000000000b2') > current_setting('pv.b')::bigint,
          'moving a study stamps both patients');

-- Changes for everyone stamp the global row.
SELECT lives_ok($$SELECT set_config('pv.g', pg_temp.global_stamp()::text, true)$$, 'global stamp noted');
UPDATE portal.estimates_state SET refreshed_at = refreshed_at;
SELECT ok(pg_temp.global_stamp() > current_setting('pv.g')::bigint, 'an estimates refresh stamps every page');
SELECT lives_ok($$SELECT set_config('pv.g', pg_temp.global_stamp()::text, true)$$, 'global stamp noted again');
DELETE FROM portal.turnaround_estimates WHERE false;
SELECT ok(pg_temp.global_stamp() > current_setting('pv.g')::bigint,
          'rewriting the estimates table stamps every page, even when no row changed');

-- A real change to a physician's details (on released pages) stamps every page; the RIS resending
-- the same details does not.
SELECT lives_ok($$SELECT set_config('pv.g', pg_temp.global_stamp()::text, true)$$, 'global stamp noted');
UPDATE portal.physicians SET name = name, phone = phone WHERE id = 'PV-PHY';
SELECT is(pg_temp.global_stamp(), current_setting('pv.g')::bigint, 'the same physician details stamp nothing');
UPDATE portal.physicians SET phone = '+1 555 0142' WHERE id = 'PV-PHY';
SELECT ok(pg_temp.global_stamp() > current_setting('pv.g')::bigint, 'a new phone number stamps every page');

-- A kept page with a report is served again only when the stamps and the release still hold,
-- and then the read is audited; otherwise nothing is written.
UPDATE portal.studies SET released_version = 1 WHERE id = '00000000-0000-4000-8000-0000000000c3';
CREATE FUNCTION pg_temp.reread(p_patient uuid, p_version integer, p_pstamp bigint, p_rid text)
RETURNS boolean LANGUAGE sql AS $$
    SELECT portal.reread_released_page(p_patient, '00000000-0000-4000-8000-0000000000c3', p_version,
                                       p_pstamp, pg_temp.global_stamp(), p_rid, '127.0.0.1') $$;
CREATE FUNCTION pg_temp.audited(p_rid text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM portal.audit_log WHERE request_id = p_rid AND action = 'report.read' $$;
SELECT ok(pg_temp.reread('00000000-0000-4000-8000-0000000000b2', 1,
                         pg_temp.stamp('00000000-0000-4000-8000-0000000000b2'), 'pv-ok')
          AND pg_temp.audited('pv-ok') = 1, 'current stamps and release: served, and the read audited');
SELECT ok(NOT pg_temp.reread('00000000-0000-4000-8000-0000000000b2', 1,
                             pg_temp.stamp('00000000-0000-4000-8000-0000000000b2') - 1, 'pv-old')
          AND pg_temp.audited('pv-old') = 0, 'an old patient stamp: not served, nothing audited');
SELECT ok(NOT pg_temp.reread('00000000-0000-4000-8000-0000000000b2', 2,
                             pg_temp.stamp('00000000-0000-4000-8000-0000000000b2'), 'pv-ver')
          AND pg_temp.audited('pv-ver') = 0, 'a version that is not the released one: not served');
SELECT ok(NOT pg_temp.reread('00000000-0000-4000-8000-0000000000a1', 1,
                             pg_temp.stamp('00000000-0000-4000-8000-0000000000a1'), 'pv-other')
          AND pg_temp.audited('pv-other') = 0, 'another patient: not served, nothing audited');

-- portal_app reads the stamps and cannot set them.
SELECT ok(has_table_privilege('portal_app', 'portal.page_versions', 'SELECT')
          AND has_table_privilege('portal_app', 'portal.page_global_version', 'SELECT'),
          'portal_app reads the stamps');
SELECT ok(NOT has_table_privilege('portal_app', 'portal.page_versions', 'INSERT, UPDATE, DELETE, TRUNCATE')
          AND NOT has_table_privilege('portal_app', 'portal.page_global_version', 'INSERT, UPDATE, DELETE, TRUNCATE')
          AND NOT has_function_privilege('portal_app', 'portal.stamp_patient_page(uuid)', 'EXECUTE'),
          'portal_app cannot set a stamp');

SELECT * FROM finish();
ROLLBACK;
