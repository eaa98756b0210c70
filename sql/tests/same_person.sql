-- A proxy who is also a patient (sql/definitions/66_same_person.sql), as portal_app sees it:
-- recording that they are the same person is checked (birth dates, one proxy per patient, an
-- ambiguous MRN) and audited with before and after; a switch names the other identity, audits it
-- as that identity with both ids, and names none for anyone else; ending the sessions of either
-- ends both. Run as a superuser; statements under test run as portal_app through the helpers.
-- Everything is rolled back.
BEGIN;
SELECT plan(17);

\ir include/app_helpers.psql

INSERT INTO portal.patients (id, mrn, name, birth_date, language) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'SP-ME', 'Pat Parent', '1980-02-02', 'fr'),
    ('00000000-0000-4000-8000-0000000000a2', 'SP-TWIN', 'Other Person', '1980-02-02', NULL),
    ('00000000-0000-4000-8000-0000000000a3', 'SP-DUP', 'Dup One', '1980-02-02', NULL);
INSERT INTO portal.patients (id, mrn, assigning_authority, name, birth_date) VALUES
    ('00000000-0000-4000-8000-0000000000a4', 'SP-DUP', 'OTHER-AUTH', 'Dup Two', '1980-02-02');
INSERT INTO portal.proxies (id, name, birth_date) VALUES
    ('00000000-0000-4000-8000-0000000000b1', 'Pat Parent', '1980-02-02'),
    ('00000000-0000-4000-8000-0000000000b2', 'Someone Else', '1980-02-02'),
    ('00000000-0000-4000-8000-0000000000b3', 'Older Person', '1950-05-05');

SELECT is(pg_temp.app_sqlstate($q$SELECT portal.proxy_set_patient(
    '00000000-0000-4000-8000-0000000000b3', NULL, 'SP-ME', NULL, 'operator', 'operator', 'sp-1', NULL)$q$),
    'PT422', 'birth dates that differ are not the same person');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.proxy_set_patient(
    '00000000-0000-4000-8000-0000000000b1', NULL, 'SP-DUP', NULL, 'operator', 'operator', 'sp-2', NULL)$q$),
    'PT422', 'an MRN naming two patients needs the authority');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.proxy_set_patient(
    '00000000-0000-4000-8000-0000000000ff', NULL, 'SP-ME', NULL, 'operator', 'operator', 'sp-3', NULL)$q$),
    'PT404', 'no such proxy');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.proxy_set_patient(
    '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000ff', NULL, NULL,
    'staff', 'desk', 'sp-4', NULL)$q$),
    'PT404', 'no such patient by id');
SELECT is(pg_temp.app_value($q$portal.proxy_set_patient(
    '00000000-0000-4000-8000-0000000000b1', NULL, 'SP-ME', NULL, 'staff', 'desk', 'sp-5', '127.0.0.1')$q$),
    '00000000-0000-4000-8000-0000000000a1', 'recorded by MRN');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.proxy_set_patient(
    '00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-0000000000a1', NULL, NULL,
    'staff', 'desk', 'sp-6', NULL)$q$),
    'PT409', 'a patient is one proxy at most');
SELECT is((SELECT array[actor_role, actor_id, detail->>'proxy_id', detail->'before'->>'patient_id',
                        detail->'after'->>'patient_id']
             FROM portal.audit_log WHERE request_id = 'sp-5' AND action = 'proxy.same_person'),
          array['staff', 'desk', '00000000-0000-4000-8000-0000000000b1', NULL,
                '00000000-0000-4000-8000-0000000000a1'],
          'audited as the actor, before and after');
SELECT is((SELECT count(*)::int FROM portal.audit_log WHERE request_id IN ('sp-1', 'sp-2', 'sp-6')),
          0, 'a refusal writes nothing');

SELECT is(pg_temp.app_value($q$(SELECT array_agg(role || ' ' || sub) FROM portal.same_person('proxy', '00000000-0000-4000-8000-0000000000b1'))$q$),
          '{"patient 00000000-0000-4000-8000-0000000000a1"}', 'the proxy''s own record');
SELECT is(pg_temp.app_value($q$(SELECT array_agg(role || ' ' || sub) FROM portal.same_person('patient', '00000000-0000-4000-8000-0000000000a1'))$q$),
          '{"proxy 00000000-0000-4000-8000-0000000000b1"}', 'the patient''s family access');
SELECT is(pg_temp.app_value($q$(SELECT count(*) FROM portal.same_person('patient', '00000000-0000-4000-8000-0000000000a2'))
                              + (SELECT count(*) FROM portal.same_person('physician', '00000000-0000-4000-8000-0000000000a1'))
                              + (SELECT count(*) FROM portal.same_person('proxy', 'not-a-uuid'))$q$),
          '0', 'nobody else has another identity');

SELECT is(pg_temp.app_value($q$(SELECT role || ' ' || sub || ' ' || language FROM portal.session_switch('proxy', '00000000-0000-4000-8000-0000000000b1', 'sp-7', '127.0.0.1'))$q$),
          'patient 00000000-0000-4000-8000-0000000000a1 fr', 'a switch to the own record, in the patient''s language');
SELECT is((SELECT array[actor_role, actor_id, detail->>'from_role', detail->>'proxy_id', detail->>'patient_id', client_addr::text]
             FROM portal.audit_log WHERE request_id = 'sp-7'),
          array['patient', '00000000-0000-4000-8000-0000000000a1', 'proxy',
                '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000a1', '127.0.0.1'],
          'audited as the patient, switched from the proxy');
SELECT is(pg_temp.app_value($q$(SELECT count(*) FROM portal.session_switch('proxy', '00000000-0000-4000-8000-0000000000b2', 'sp-8', NULL))$q$),
          '0', 'no switch for a proxy who is no patient');
SELECT is((SELECT count(*)::int FROM portal.audit_log WHERE request_id = 'sp-8'), 0, 'and no audit row');

SELECT is(pg_temp.app_value($q$(SELECT string_agg(role, ',' ORDER BY role) FROM portal.revoke_person_sessions('patient', '00000000-0000-4000-8000-0000000000a1'))$q$),
          'patient,proxy', 'ending the patient''s sessions ends the proxy''s too');

-- Cleared: the earlier patient's sessions end (one may have come from a switch).
DELETE FROM portal.session_revocations WHERE sub = '00000000-0000-4000-8000-0000000000a1';
SELECT pg_temp.app_value($q$portal.proxy_set_patient('00000000-0000-4000-8000-0000000000b1', NULL, NULL, NULL, 'operator', 'operator', 'sp-9', NULL)$q$);
SELECT is((SELECT count(*)::int FROM portal.session_revocations
            WHERE role = 'patient' AND sub = '00000000-0000-4000-8000-0000000000a1'),
          1, 'clearing ends the earlier patient''s sessions');

SELECT * FROM finish();
ROLLBACK;
