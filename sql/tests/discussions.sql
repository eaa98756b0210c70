-- Call-back requests and the office's answers (sql/definitions/70_discussions.sql) as portal_app
-- sees them: it cannot write a request or an answer except through request_discussion and
-- answer_discussion; a physician answers only the requests made to them, staff any; a closed
-- request is final; a scheduled one has a time; the same answer twice writes nothing; each answer
-- is audited with before and after but not its words; the patient's notification row is written
-- for a time or words only; one request per released version. Run as a superuser; statements
-- under test run as portal_app through the helpers below. Everything is rolled back.
BEGIN;
SELECT plan(21);

\ir include/app_helpers.psql

SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('dq-a', 'hash-dq-a', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-DQ-A', 'Pat A', '1980-01-01', NULL, 'ACC-DQ-A', 'CT',
    'CT chest', 'routine', 'main', 'NPI-DQ-A', 'Dr A', NULL, NULL)$q$), '00000', 'an event');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_report('dq-ra', 'hash-dq-ra', 'ACC-DQ-A',
    'final', 'F', 'I', 'Dr R', '2026-11-21T08:00Z')$q$), '00000', 'a final report');
SELECT id AS study, patient_id AS patient FROM portal.studies WHERE accession = 'ACC-DQ-A' \gset
UPDATE portal.patients SET email = 'dq-a@example.org' WHERE id = :'patient';
SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.release_report(%L, %L, NULL, %L, NULL)',
          :'study', 'NPI-DQ-A', 'rq-dq-rel')), '00000', 'the physician releases it');

SELECT is(pg_temp.app_value(format('(SELECT created FROM portal.request_discussion(%L, %L, NULL, %L, %L, NULL))',
          :'patient', :'study', 'Please call', 'rq-dq-ask')), 'true', 'the patient asks for a call back');
SELECT id AS req FROM portal.discussion_requests WHERE study_id = :'study' \gset

SELECT is(pg_temp.app_sqlstate(format('UPDATE portal.discussion_requests SET state = %L WHERE id = %L',
          'closed', :'req')), '42501', 'portal_app cannot write an answer by hand');
SELECT is(pg_temp.app_sqlstate(format('INSERT INTO portal.discussion_requests (study_id, patient_id, physician_id, report_version) VALUES (%L, %L, %L, 1)',
          :'study', :'patient', 'NPI-DQ-A')), '42501', 'nor a request');

SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.answer_discussion(%L, %L, %L, %L, NULL, NULL, %L, NULL)',
          'physician', 'NPI-DQ-OTHER', :'req', 'closed', 'rq-dq-x')), 'PT404',
          'another physician''s request is not found');
SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.answer_discussion(%L, %L, %L, %L, NULL, NULL, %L, NULL)',
          'patient', :'patient', :'req', 'closed', 'rq-dq-x')), 'PT404',
          'a patient cannot answer');
SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.answer_discussion(%L, %L, %L, %L, NULL, NULL, %L, NULL)',
          'physician', 'NPI-DQ-A', :'req', 'open', 'rq-dq-x')), 'PT422', 'open is not an answer');
SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.answer_discussion(%L, %L, %L, %L, NULL, NULL, %L, NULL)',
          'physician', 'NPI-DQ-A', :'req', 'scheduled', 'rq-dq-x')), 'PT422', 'scheduled needs a time');
SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.answer_discussion(%L, %L, %L, %L, %L, NULL, %L, NULL)',
          'physician', 'NPI-DQ-A', :'req', 'scheduled', now() - interval '1 hour', 'rq-dq-x')), 'PT422',
          'in the future');
SELECT is((SELECT count(*)::int FROM portal.audit_log WHERE request_id = 'rq-dq-x'), 0,
          'refused answers leave no audit row');

SELECT is(pg_temp.app_value(format('(SELECT changed FROM portal.answer_discussion(%L, %L, %L, %L, %L, %L, %L, NULL))',
          'physician', 'NPI-DQ-A', :'req', 'scheduled', now() + interval '2 days', 'DQ SECRET REPLY', 'rq-dq-1')),
          'true', 'the physician schedules the talk with a message');
SELECT is((SELECT state || ' ' || (scheduled_for > now())::text || ' ' || reply FROM portal.discussion_requests WHERE id = :'req'),
          'scheduled true DQ SECRET REPLY', 'the answer is recorded');
SELECT is((SELECT action || ' ' || (detail->'before'->>'state') || ' ' || (detail->'after'->>'state') || ' ' || (detail->>'reply')
             FROM portal.audit_log WHERE request_id = 'rq-dq-1'),
          'discussion.scheduled open scheduled true', 'audited with before and after');
SELECT is((SELECT count(*)::int FROM portal.audit_log WHERE detail::text LIKE '%DQ SECRET REPLY%'), 0,
          'the audit log never holds the words');
SELECT is((SELECT count(*)::int FROM portal.notifications WHERE patient_id = :'patient' AND kind = 'callback_answered'), 1,
          'the patient is to be told that the office answered');

SELECT is(pg_temp.app_value(format('(SELECT changed FROM portal.answer_discussion(%L, %L, %L, %L, NULL, NULL, %L, NULL))',
          'staff', 'front-desk-1', :'req', 'closed', 'rq-dq-2')), 'true', 'the front desk closes it');
SELECT is(pg_temp.app_sqlstate(format('SELECT * FROM portal.answer_discussion(%L, %L, %L, %L, NULL, NULL, %L, NULL)',
          'physician', 'NPI-DQ-A', :'req', 'contacted', 'rq-dq-3')), 'PT409', 'a closed request is final');

SELECT is(pg_temp.app_value(format('(SELECT created FROM portal.request_discussion(%L, %L, NULL, NULL, %L, NULL))',
          :'patient', :'study', 'rq-dq-ask2')), 'false', 'asking again about the same report answers the closed request');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_report('dq-rb', 'hash-dq-rb', 'ACC-DQ-A',
    'amended', 'F2', 'I2', 'Dr R', '2026-11-22T08:00Z')$q$) ||
          pg_temp.app_sqlstate(format('SELECT * FROM portal.release_report(%L, %L, NULL, %L, NULL)',
          :'study', 'NPI-DQ-A', 'rq-dq-rel2')) ||
          pg_temp.app_value(format('(SELECT created FROM portal.request_discussion(%L, %L, NULL, NULL, %L, NULL))',
          :'patient', :'study', 'rq-dq-ask3')), '0000000000true',
          'after an amended report is released the patient may ask again');

SELECT * FROM finish();
ROLLBACK;
