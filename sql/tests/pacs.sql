-- The PACS follower's SQL (sql/definitions/25_pacs.sql) as portal_app calls it: images received
-- complete the exam, keeping an earlier completion from the RIS (and the RIS's later one does not
-- move it), keep the first well-formed StudyInstanceUID, are on the timeline and audited as the
-- PACS; an unknown accession claims nothing; a change again is a replay, and a different one under
-- its id is refused. A feed starts at 0 and its position only moves forward. (Two instances
-- taking the position at once are in tests/integration/test_orthanc.py.) Run as a superuser;
-- statements under test run as portal_app; everything is rolled back.
BEGIN;
SELECT plan(21);

\ir include/app_helpers.psql

-- Three studies ordered through the RIS's path; the second was completed by the RIS at 10:00.
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('pacs-e1', 'h', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-PACS', 'Pat Pacs', '1980-01-01', NULL, 'ACC-PACS-1', 'CT',
    'CT chest', 'routine', 'main', 'NPI-PACS', 'Dr Pacs', NULL, NULL)$q$) ||
          pg_temp.app_sqlstate($q$SELECT portal.ingest_event('pacs-e2', 'h', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-PACS', 'Pat Pacs', '1980-01-01', NULL, 'ACC-PACS-2', 'MR',
    'MR knee', 'routine', 'main', 'NPI-PACS', 'Dr Pacs', NULL, NULL)$q$) ||
          pg_temp.app_sqlstate($q$SELECT portal.ingest_event('pacs-e3', 'h', 'exam_completed',
    '2026-11-20T10:00Z', NULL, 'MRN-PACS', 'Pat Pacs', '1980-01-01', NULL, 'ACC-PACS-2', 'MR',
    'MR knee', 'routine', 'main', 'NPI-PACS', 'Dr Pacs', NULL, NULL)$q$) ||
          pg_temp.app_sqlstate($q$SELECT portal.ingest_event('pacs-e4', 'h', 'ordered',
    '2026-11-20T08:00Z', NULL, 'MRN-PACS', 'Pat Pacs', '1980-01-01', NULL, 'ACC-PACS-3', 'XR',
    'XR hand', 'routine', 'main', 'NPI-PACS', 'Dr Pacs', NULL, NULL)$q$),
          '00000000000000000000', 'portal_app orders three studies, one completed by the RIS');

-- ---- an accession we do not know ----
SELECT is(pg_temp.app_value($q$portal.ingest_images('orthanc:1:u', 'h1', 'ACC-ELSEWHERE',
    '1.2.3', '2026-11-20T09:00Z', 'pacs', 'orthanc', NULL, 'pacs-req-1')$q$),
          '{"matched": false}', 'images for an unknown accession are not matched');
SELECT is((SELECT count(*) FROM portal.ingest_events WHERE event_id = 'orthanc:1:u'), 0::bigint,
          'and claim no event id (the accession may be known by the next change)');

-- ---- images received ----
SELECT is(pg_temp.app_value($q$portal.ingest_images('orthanc:2:a', 'h2', 'ACC-PACS-1',
    '1.2.826.0.1.3680043.8.498.1', '2026-11-20T09:30Z', 'pacs', 'orthanc', NULL,
    'pacs-req-2') - 'study_id' - 'exam_completed_at'$q$),
          '{"matched": true, "earlier_completion_kept": false}', 'images for a known accession are matched');
SELECT results_eq(
    $$SELECT stage, exam_completed_at, study_instance_uid FROM portal.studies WHERE accession = 'ACC-PACS-1'$$,
    $$VALUES ('awaiting_read'::text, '2026-11-20T09:30Z'::timestamptz, '1.2.826.0.1.3680043.8.498.1'::text)$$,
    'the exam is complete at the time the images arrived, and the study keeps its StudyInstanceUID');
SELECT results_eq(
    $$SELECT e.type, e.occurred_at FROM portal.study_events e JOIN portal.studies s ON s.id = e.study_id
       WHERE s.accession = 'ACC-PACS-1' AND e.event_id = 'orthanc:2:a'$$,
    $$VALUES ('exam_completed'::text, '2026-11-20T09:30Z'::timestamptz)$$,
    'the completion is on the study''s timeline');
SELECT results_eq(
    $$SELECT a.actor_role, a.actor_id, a.request_id, a.detail ->> 'event_id', a.detail ->> 'study_instance_uid'
        FROM portal.audit_log a JOIN portal.studies s ON s.id = a.study_id
       WHERE s.accession = 'ACC-PACS-1' AND a.action = 'ingest.images'$$,
    $$VALUES ('pacs'::text, 'orthanc'::text, 'pacs-req-2'::text, 'orthanc:2:a'::text, '1.2.826.0.1.3680043.8.498.1'::text)$$,
    'audited once, as the PACS, with the request id');

-- ---- idempotency ----
SELECT is(pg_temp.app_value($q$portal.ingest_images('orthanc:2:a', 'h2', 'ACC-PACS-1',
    '1.2.826.0.1.3680043.8.498.1', '2026-11-20T09:30Z', 'pacs', 'orthanc', NULL,
    'pacs-req-3') ->> 'replay'$q$), 'true', 'the same change again is a replay');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_images('orthanc:2:a', 'other', 'ACC-PACS-1',
    '1.2.826.0.1.3680043.8.498.1', '2026-11-20T09:40Z', 'pacs', 'orthanc', NULL, 'pacs-req-4')$q$),
          'PT409', 'a different change under a used event id is refused');
SELECT is((SELECT count(*) FROM portal.audit_log WHERE action = 'ingest.images'
            AND detail ->> 'event_id' = 'orthanc:2:a'), 1::bigint, 'and neither wrote a second audit row');

-- ---- the earliest completion and the first UID stay ----
SELECT is(pg_temp.app_value($q$portal.ingest_images('orthanc:3:a', 'h3', 'ACC-PACS-1',
    '1.2.3.4', '2026-11-20T11:00Z', 'pacs', 'orthanc', NULL, 'pacs-req-5') ->> 'earlier_completion_kept'$q$),
          'true', 'later images (a StableStudy again) say the earlier completion was kept');
SELECT results_eq(
    $$SELECT exam_completed_at, study_instance_uid FROM portal.studies WHERE accession = 'ACC-PACS-1'$$,
    $$VALUES ('2026-11-20T09:30Z'::timestamptz, '1.2.826.0.1.3680043.8.498.1'::text)$$,
    'the first completion time and the first StudyInstanceUID stay');
SELECT is(pg_temp.app_value($q$portal.ingest_images('orthanc:4:b', 'h4', 'ACC-PACS-2',
    '1.2.5', '2026-11-20T10:20Z', 'pacs', 'orthanc', NULL, 'pacs-req-6') ->> 'earlier_completion_kept'$q$),
          'true', 'images after the RIS said the exam was complete');
SELECT results_eq(
    $$SELECT stage, exam_completed_at, study_instance_uid FROM portal.studies WHERE accession = 'ACC-PACS-2'$$,
    $$VALUES ('awaiting_read'::text, '2026-11-20T10:00Z'::timestamptz, '1.2.5'::text)$$,
    'keep the RIS''s earlier time, and still give the study its StudyInstanceUID');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.ingest_event('pacs-e5', 'h', 'exam_completed',
    '2026-11-20T10:45Z', NULL, 'MRN-PACS', 'Pat Pacs', '1980-01-01', NULL, 'ACC-PACS-3', 'XR',
    'XR hand', 'routine', 'main', 'NPI-PACS', 'Dr Pacs', NULL, NULL)$q$) ||
          pg_temp.app_sqlstate($q$SELECT portal.ingest_images('orthanc:5:c', 'h5', 'ACC-PACS-3',
    'not-a-uid', '2026-11-20T10:30Z', 'pacs', 'orthanc', NULL, 'pacs-req-7')$q$), '0000000000',
          'the RIS completes a study late, then images arrive with a malformed StudyInstanceUID');
SELECT results_eq(
    $$SELECT exam_completed_at, study_instance_uid FROM portal.studies WHERE accession = 'ACC-PACS-3'$$,
    $$VALUES ('2026-11-20T10:30Z'::timestamptz, NULL::text)$$,
    'the images'' earlier time wins over the RIS''s later one, and a malformed UID is not kept');

-- ---- the feed's position ----
SELECT is(pg_temp.app_value($q$portal.feed_take('test-feed')$q$), '0', 'a feed met for the first time starts at 0');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.feed_advance('test-feed', 42)$q$), '00000',
          'the position moves forward');
SELECT is(pg_temp.app_value($q$portal.feed_take('test-feed')$q$), '42', 'and is read back');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.feed_advance('test-feed', 41)$q$), 'PT409',
          'it never moves back');
SELECT is(pg_temp.app_sqlstate($q$SELECT portal.feed_advance('test-feed', 42)$q$), '00000',
          'staying where it is is allowed');

SELECT * FROM finish();
ROLLBACK;
