-- One lookup of the patient a command names (sql/definitions/68_patient_lookup.sql), as
-- portal_app sees it through portal.proxy_grant and portal.proxy_set_patient: an MRN that two
-- assigning authorities share is refused without the authority, with an error naming the mrn
-- field, and taken from the right authority with it. Run as a superuser; statements under test run
-- as portal_app. Everything is rolled back.
BEGIN;
SELECT plan(10);

\ir include/app_helpers.psql

-- Two children with the same MRN from two assigning authorities, one with an MRN of their own.
INSERT INTO portal.patients (id, mrn, assigning_authority, name, birth_date) VALUES
    ('00000000-0000-4000-8000-0000000000c1', 'PL-SHARED', 'NORTH', 'North Child', current_date - interval '6 years'),
    ('00000000-0000-4000-8000-0000000000c2', 'PL-SHARED', 'SOUTH', 'South Child', current_date - interval '7 years'),
    ('00000000-0000-4000-8000-0000000000c3', 'PL-ALONE', 'NORTH', 'Lone Child', current_date - interval '8 years');
INSERT INTO portal.proxies (id, name, birth_date) VALUES
    ('00000000-0000-4000-8000-0000000000d1', 'Pat Guardian', '1980-02-02'),
    ('00000000-0000-4000-8000-0000000000d2', 'South Child', current_date - interval '7 years');

SELECT is(pg_temp.app_answer($q$SELECT portal.proxy_grant('00000000-0000-4000-8000-0000000000d1', NULL,
    'PL-SHARED', NULL, 'guardian', NULL, NULL, 'operator', 'op', 'pl-1', NULL)$q$),
    'PT422 mrn: more than one patient has this MRN; give the assigning authority',
    'proxy_grant refuses an MRN two authorities share, naming the mrn field');
SELECT is((SELECT count(*)::int FROM portal.proxy_links
            WHERE proxy_id = '00000000-0000-4000-8000-0000000000d1'), 0,
          'the refused grant linked nobody');
SELECT is((SELECT count(*)::int FROM portal.audit_log WHERE request_id = 'pl-1'), 0,
          'the refused grant wrote no audit row');
SELECT is(pg_temp.app_answer($q$SELECT portal.proxy_grant('00000000-0000-4000-8000-0000000000d1', NULL,
    'PL-SHARED', 'NOWHERE', 'guardian', NULL, NULL, 'operator', 'op', 'pl-2', NULL)$q$),
    'PT422 mrn: no patient with this MRN', 'an authority that has no such MRN is refused');
SELECT pg_temp.app_answer($q$SELECT set_config('pl.south', portal.proxy_grant(
    '00000000-0000-4000-8000-0000000000d1', NULL, 'PL-SHARED', 'SOUTH', 'guardian', NULL, NULL,
    'operator', 'op', 'pl-3', NULL)::text, false)$q$);
SELECT is((SELECT p.name FROM portal.proxy_links l JOIN portal.patients p ON p.id = l.patient_id
            WHERE l.id::text = current_setting('pl.south', true)),
          'South Child', 'with the authority, the link goes to that authority''s patient');
SELECT pg_temp.app_answer($q$SELECT set_config('pl.alone', portal.proxy_grant(
    '00000000-0000-4000-8000-0000000000d1', NULL, 'PL-ALONE', NULL, 'guardian', NULL, NULL,
    'operator', 'op', 'pl-4', NULL)::text, false)$q$);
SELECT is((SELECT p.name FROM portal.proxy_links l JOIN portal.patients p ON p.id = l.patient_id
            WHERE l.id::text = current_setting('pl.alone', true)),
          'Lone Child', 'an MRN only one patient has needs no authority');

SELECT is(pg_temp.app_answer($q$SELECT portal.proxy_set_patient('00000000-0000-4000-8000-0000000000d2',
    NULL, 'PL-SHARED', NULL, 'operator', 'op', 'pl-5', NULL)$q$),
    'PT422 mrn: more than one patient has this MRN; give the assigning authority',
    'proxy_set_patient refuses it with the same words');
SELECT is(pg_temp.app_answer($q$SELECT portal.proxy_set_patient('00000000-0000-4000-8000-0000000000d2',
    NULL, 'PL-SHARED', 'SOUTH', 'operator', 'op', 'pl-6', NULL)$q$),
    '00000000-0000-4000-8000-0000000000c2', 'and takes the authority''s patient with it');
SELECT is(pg_temp.app_answer($q$SELECT portal.proxy_grant('00000000-0000-4000-8000-0000000000d1',
    '00000000-0000-4000-8000-0000000000ff', NULL, NULL, 'guardian', NULL, NULL, 'staff', 'desk', 'pl-7', NULL)$q$),
    'PT404 No such patient.', 'a patient id that names nobody is still not found');
SELECT is(pg_temp.app_answer($q$SELECT (portal.patient_named(NULL, 'PL-ALONE', NULL)).name$q$),
    '42501 permission denied for function patient_named',
    'portal_app cannot look patients up directly');

SELECT * FROM finish();
ROLLBACK;
