-- The release gate and the write paths as the server's own role sees them (CONTRACT invariants
-- 1, 4 and 5): portal_app cannot select report text; patient_report gives it only for the
-- patient's own released study and physician_report only to the referring physician; the audit
-- log is append-only even for its owner; portal_app owns nothing; ingest is idempotent in SQL.
-- Run as a superuser; statements under test run as portal_app through the helpers below, which
-- are SECURITY DEFINER functions owned by portal_app. Everything is rolled back.
BEGIN;
SELECT plan(33);

-- Runs q as portal_app; returns '00000' or the SQLSTATE it failed with.
CREATE FUNCTION pg_temp.app_sqlstate(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    EXECUTE q;
    RETURN '00000';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
-- Runs q as portal_app; returns its first column of its first row as text.
CREATE FUNCTION pg_temp.app_value(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v text;
BEGIN
    EXECUTE 'SELECT (' || q || ')::text' INTO v;
    RETURN v;
END $$;
CREATE FUNCTION pg_temp.app_rows(q text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE 'SELECT count(*) FROM (' || q || ') x' INTO n;
    RETURN n;
END $$;
-- The same, as portal_owner (who owns audit_log).
CREATE FUNCTION pg_temp.owner_sqlstate(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    EXECUTE q;
    RETURN '00000';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
ALTER FUNCTION pg_temp.owner_sqlstate(text) OWNER TO portal_owner;
ALTER FUNCTION pg_temp.app_sqlstate(text) OWNER TO portal_app;
ALTER FUNCTION pg_temp.app_value(text) OWNER TO portal_app;
ALTER FUNCTION pg_temp.app_rows(text) OWNER TO portal_app;

-- Two patients, two physicians, one study each, written by portal_app as the server would.
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('sqlt-a', 'hash-a', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-SQLT-A', 'Pat A', '1980-01-01', NULL, 'ACC-SQLT-A', 'CT',
    'CT chest', 'routine', 'main', 'NPI-SQLT-A', 'Dr A', NULL, NULL)$q$), '00000',
    'portal_app ingests an event');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('sqlt-b', 'hash-b', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-SQLT-B', 'Pat B', '1981-01-01', NULL, 'ACC-SQLT-B', 'MR',
    'MR knee', 'routine', 'main', 'NPI-SQLT-B', 'Dr B', NULL, NULL)$q$), '00000',
    'portal_app ingests a second patient''s event');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_report('sqlt-ra', 'hash-ra', 'ACC-SQLT-A',
    'final', 'SQLT SECRET FINDINGS', 'SQLT SECRET IMPRESSION', 'Dr R', '2026-11-21T08:00Z')$q$),
    '00000', 'portal_app ingests a report');

SELECT id AS study_a, patient_id AS patient_a FROM portal.studies WHERE accession = 'ACC-SQLT-A' \gset
SELECT id AS study_b, patient_id AS patient_b FROM portal.studies WHERE accession = 'ACC-SQLT-B' \gset

-- Invariant 1: no direct read of report text.
SELECT is(pg_temp.app_sqlstate('SELECT findings FROM portal.report_versions'), '42501',
          'portal_app cannot select findings');
SELECT is(pg_temp.app_sqlstate('SELECT impression FROM portal.report_versions'), '42501',
          'portal_app cannot select impression');
SELECT is(pg_temp.app_sqlstate('SELECT * FROM portal.report_versions'), '42501',
          'portal_app cannot select every column');
SELECT is(pg_temp.app_sqlstate($q$SELECT count(*) FROM portal.report_versions
                                   WHERE findings LIKE 'SQLT%'$q$), '42501',
          'portal_app cannot probe findings in a WHERE clause either');
SELECT is(pg_temp.app_sqlstate($q$UPDATE portal.report_versions SET status = 'final'
                                   RETURNING findings$q$), '42501',
          'portal_app cannot update report versions or read them back through RETURNING');
SELECT is(pg_temp.app_sqlstate('SELECT id, study_id, version, status, radiologist_name, signed_at FROM portal.report_versions'),
          '00000', 'portal_app may read the columns that hold no report text');

-- The gate functions.
SELECT is(pg_temp.app_rows(format('SELECT * FROM portal.patient_report(%L, %L, %L, %L)',
                                  :'patient_a', :'study_a', 'sqlt-1', '127.0.0.1')), 0::bigint,
          'patient_report: no row before release');
SELECT is(pg_temp.app_rows(format('SELECT * FROM portal.physician_report(%L, %L, %L, %L)',
                                  'NPI-SQLT-B', :'study_a', 'sqlt-2', '127.0.0.1')), 0::bigint,
          'physician_report: no row for a physician who did not refer the study');
SELECT is(pg_temp.app_value(format('SELECT findings FROM portal.physician_report(%L, %L, %L, %L)',
                                   'NPI-SQLT-A', :'study_a', 'sqlt-3', '127.0.0.1')),
          'SQLT SECRET FINDINGS', 'physician_report: the referring physician reads it before release');
SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.release_report(%L, %L, %L, %L, %L)',
                                      :'study_a', 'NPI-SQLT-B', NULL, 'sqlt-4', '127.0.0.1')),
          'PT404', 'release_report: another physician''s study is not found');
SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.release_report(%L, %L, %L, %L, %L)',
                                      :'study_a', 'NPI-SQLT-A', 'note', 'sqlt-5', '127.0.0.1')),
          '00000', 'release_report: the referring physician releases');
SELECT is(pg_temp.app_rows(format('SELECT * FROM portal.patient_report(%L, %L, %L, %L)',
                                  :'patient_a', :'study_a', 'sqlt-6', '127.0.0.1')), 1::bigint,
          'patient_report: one row after release');
SELECT is(pg_temp.app_value(format('SELECT impression FROM portal.patient_report(%L, %L, %L, %L)',
                                   :'patient_a', :'study_a', 'sqlt-7', '127.0.0.1')),
          'SQLT SECRET IMPRESSION', 'patient_report: the released text');
SELECT is(pg_temp.app_rows(format('SELECT * FROM portal.patient_report(%L, %L, %L, %L)',
                                  :'patient_b', :'study_a', 'sqlt-8', '127.0.0.1')), 0::bigint,
          'patient_report: no row for another patient''s released study');
SELECT is(pg_temp.app_rows(format('SELECT * FROM portal.patient_report(%L, %L, %L, %L)',
                                  :'patient_a', gen_random_uuid(), 'sqlt-9', '127.0.0.1')),
          0::bigint, 'patient_report: no row for a study that does not exist');
SELECT is((SELECT array_agg(request_id ORDER BY id) FROM portal.audit_log
            WHERE action = 'report.read' AND study_id = :'study_a'),
          ARRAY['sqlt-3', 'sqlt-6', 'sqlt-7'],
          'each successful read is audited, the refused ones are not');

-- Invariant 4: append-only, for the server's role and for the owner alike.
SELECT is(pg_temp.app_sqlstate($q$UPDATE portal.audit_log SET actor_id = 'x'$q$), '42501',
          'portal_app cannot update audit_log');
SELECT is(pg_temp.app_sqlstate('DELETE FROM portal.audit_log'), '42501',
          'portal_app cannot delete from audit_log');
SELECT is(pg_temp.owner_sqlstate($q$UPDATE portal.audit_log SET actor_id = 'x'$q$), '42501',
          'the owner cannot update audit_log');
SELECT is(pg_temp.owner_sqlstate('DELETE FROM portal.audit_log'), '42501',
          'the owner cannot delete from audit_log');
SELECT is(pg_temp.owner_sqlstate('TRUNCATE portal.audit_log'), '42501',
          'the owner cannot truncate audit_log');
SELECT throws_ok($q$UPDATE portal.audit_log SET actor_id = 'x'$q$, '42501', NULL,
                 'not even a superuser updates audit_log');

-- portal_app owns nothing and holds no special powers.
SELECT is((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'portal' AND c.relowner = 'portal_app'::regrole), 0::bigint,
          'portal_app owns no table, view, index or sequence in schema portal');
SELECT is((SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'portal' AND p.proowner = 'portal_app'::regrole), 0::bigint,
          'portal_app owns no function in schema portal');
SELECT isnt((SELECT nspowner FROM pg_namespace WHERE nspname = 'portal'), 'portal_app'::regrole::oid,
            'portal_app does not own the schema');
SELECT is((SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles
            WHERE rolname = 'portal_app'), false, 'portal_app has no special role attributes');

-- Invariant 5 at the SQL level: the same event twice answers the same and writes once.
SELECT is(pg_temp.app_value($q$SELECT (portal.ingest_event('sqlt-a', 'hash-a', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-SQLT-A', 'Pat A', '1980-01-01', NULL, 'ACC-SQLT-A', 'CT',
    'CT chest', 'routine', 'main', 'NPI-SQLT-A', 'Dr A', NULL, NULL) - 'replay') ->> 'study_id'$q$),
    :'study_a'::text, 'a replayed event answers the same study');
SELECT is((SELECT count(*) FROM portal.study_events WHERE event_id = 'sqlt-a'), 1::bigint,
          'a replayed event is recorded once');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('sqlt-a', 'hash-other', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-SQLT-A', 'Pat A', '1980-01-01', NULL, 'ACC-SQLT-A', 'CT',
    'CT chest', 'routine', 'main', 'NPI-SQLT-A', 'Dr A', NULL, NULL)$q$), 'PT409',
    'the same event id with another payload is a conflict');
SELECT is(pg_temp.app_value($q$SELECT (portal.ingest_report('sqlt-ra', 'hash-ra', 'ACC-SQLT-A',
    'final', 'SQLT SECRET FINDINGS', 'SQLT SECRET IMPRESSION', 'Dr R', '2026-11-21T08:00Z')
    ->> 'report_version')$q$) || '/' ||
          (SELECT count(*) FROM portal.report_versions WHERE event_id = 'sqlt-ra'), '1/1',
          'a replayed report answers version 1 and adds no version');

SELECT * FROM finish();
ROLLBACK;
