-- The benchmark's data, generated inside PostgreSQL (one statement per table, no HTTP): run as the
-- superuser on a migrated database with psql variables patients, studies and physicians.
-- Ids are derived from the row number (md5 -> uuid), so tokens and pgbench pairs can be chosen
-- without a second pass. Each study's stage comes from a hash of its number: half carry a final
-- report (a report_versions row), a quarter of all are released (a releases row), the other half
-- is spread over the earlier stages, each with the lifecycle times its stage implies; a third of
-- the released ones carry a discussion request.
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';

BEGIN;

-- The page-version stamps (0006_page_versions.sql) are for changes after a page was built; a
-- fresh database has no kept page to outdate, so the million generated rows skip the trigger
-- call and upsert each would cost.
ALTER TABLE portal.studies DISABLE TRIGGER page_changed;
ALTER TABLE portal.report_versions DISABLE TRIGGER page_changed;
ALTER TABLE portal.releases DISABLE TRIGGER page_changed;
ALTER TABLE portal.discussion_requests DISABLE TRIGGER page_changed;
-- The pages' release state rows (sql/definitions/92_study_page_state.sql) are filled in one pass
-- after the commit instead of a trigger call per generated row.
ALTER TABLE portal.studies DISABLE TRIGGER study_page_state_insert;
ALTER TABLE portal.studies DISABLE TRIGGER study_page_state_update;
ALTER TABLE portal.report_versions DISABLE TRIGGER study_page_state;
ALTER TABLE portal.releases DISABLE TRIGGER study_page_state;
ALTER TABLE portal.discussion_requests DISABLE TRIGGER study_page_state;
-- The kept estimates (sql/definitions/54_study_estimates.sql) likewise, filled after the commit.
ALTER TABLE portal.studies DISABLE TRIGGER study_estimates_insert;
ALTER TABLE portal.studies DISABLE TRIGGER study_estimates_update;
-- History is not news: the generated releases, reports and requests tell no one
-- (sql/definitions/75_notifications.sql).
ALTER TABLE portal.releases DISABLE TRIGGER notify_on_release;
ALTER TABLE portal.report_versions DISABLE TRIGGER notify_on_report;
ALTER TABLE portal.discussion_requests DISABLE TRIGGER notify_on_discussion;

INSERT INTO portal.physicians (id, name, phone, scheduling_url)
SELECT 'BENCH-PHY-' || g, 'Dr. Bench ' || g, '+1 555 ' || lpad(g::text, 4, '0'),
       'https://clinic.example/schedule/' || g
  FROM generate_series(1, :physicians) g;

INSERT INTO portal.patients (id, mrn, name, birth_date, email)
SELECT md5('bench-patient-' || g)::uuid, 'BENCH-' || g, 'Bench Patient ' || g,
       date '1940-01-01' + (g * 7919 % 25000), 'patient' || g || '@example.org'
  FROM generate_series(1, :patients) g;

-- lvl: 0 ordered, 1 scheduled, 2 checked in, 3 imaging, 4 awaiting read, 5 reading,
-- 6 cancelled, 7 final report (physician review), 8 released.
CREATE TEMP TABLE bench_plan ON COMMIT DROP AS
SELECT g,
       md5('bench-study-' || g)::uuid AS id,
       md5('bench-patient-' || (1 + (g - 1) % :patients))::uuid AS patient_id,
       'BENCH-PHY-' || (1 + (g * 31) % :physicians) AS physician_id,
       CASE WHEN h % 4 = 0 THEN 8 WHEN h % 4 = 1 THEN 7 ELSE (h / 4) % 7 END AS lvl,
       now() - make_interval(days => 3 + h % 700, mins => h % 1440) AS base,
       (ARRAY['CT', 'MR', 'XR', 'US', 'MG', 'NM', 'PET'])[1 + h % 7] AS modality
  FROM (SELECT g, abs(hashint4(g)) AS h FROM generate_series(1, :studies) g) x;

INSERT INTO portal.studies (id, accession, patient_id, referring_physician_id, modality, description,
                            priority, site, ordered_at, scheduled_at, scheduled_for, arrived_at,
                            exam_started_at, exam_completed_at, read_started_at, preliminary_at,
                            final_at, cancelled_at, latest_version, reviewable_version,
                            released_version, released_at, created_at, updated_at)
SELECT id, 'BENCH-ACC-' || g, patient_id, physician_id, modality,
       modality || ' examination ' || (g % 97),
       (ARRAY['routine', 'routine', 'routine', 'urgent', 'stat'])[1 + g % 5],
       (ARRAY['main', 'north', 'south'])[1 + g % 3],
       base,
       CASE WHEN lvl >= 1 AND lvl <> 6 THEN base + interval '1 hour' END,
       CASE WHEN lvl >= 1 AND lvl <> 6 THEN base + interval '2 days' END,
       CASE WHEN lvl >= 2 AND lvl <> 6 THEN base + interval '2 days' END,
       CASE WHEN lvl >= 3 AND lvl <> 6 THEN base + interval '2 days 10 minutes' END,
       CASE WHEN lvl >= 4 AND lvl <> 6 THEN base + interval '2 days 40 minutes' END,
       CASE WHEN lvl >= 5 AND lvl <> 6 THEN base + interval '2 days 5 hours' END,
       CASE WHEN lvl >= 5 AND lvl <> 6 THEN base + interval '2 days 6 hours' END,
       CASE WHEN lvl >= 7 THEN base + interval '2 days 8 hours' END,
       CASE WHEN lvl = 6 THEN base + interval '3 hours' END,
       CASE WHEN lvl >= 7 THEN 1 END,
       CASE WHEN lvl >= 7 THEN 1 END,
       CASE WHEN lvl = 8 THEN 1 END,
       CASE WHEN lvl = 8 THEN base + interval '3 days' END,
       base, base + interval '3 days'
  FROM bench_plan;

INSERT INTO portal.report_versions (study_id, version, status, findings, impression,
                                    radiologist_name, signed_at, event_id, received_at)
SELECT id, 1, 'final',
       'The lungs are clear. No pleural effusion or pneumothorax. Heart size is normal. '
       'Mediastinal contours are unremarkable. No acute osseous abnormality. Study ' || g || '.',
       'No acute cardiopulmonary abnormality.', 'Dr. Reader ' || (g % 50),
       base + interval '2 days 8 hours', 'bench-report-' || g, base + interval '2 days 8 hours'
  FROM bench_plan WHERE lvl >= 7;

INSERT INTO portal.releases (study_id, version, released_at, released_by, released_by_name, how,
                             note)
SELECT p.id, 1, p.base + interval '3 days', p.physician_id, 'Dr. Bench ' || split_part(p.physician_id, '-', 3),
       'physician', CASE WHEN g % 3 = 0 THEN 'Nothing of concern; see you at the follow-up.' END
  FROM bench_plan p WHERE lvl = 8;

-- A third of the released studies have a discussion request (half of them answered), as patients
-- who asked to talk their results over.
INSERT INTO portal.discussion_requests (study_id, patient_id, physician_id, preferred_times,
                                        message, state, created_at, report_version)
SELECT id, patient_id, physician_id, ARRAY[base + interval '4 days'],
       'Could we go over the results together?', CASE WHEN g % 2 = 0 THEN 'closed' ELSE 'open' END,
       base + interval '3 days 2 hours', 1
  FROM bench_plan WHERE lvl = 8 AND g % 3 = 1;

ALTER TABLE portal.studies ENABLE TRIGGER page_changed;
ALTER TABLE portal.report_versions ENABLE TRIGGER page_changed;
ALTER TABLE portal.releases ENABLE TRIGGER page_changed;
ALTER TABLE portal.discussion_requests ENABLE TRIGGER page_changed;
ALTER TABLE portal.releases ENABLE TRIGGER notify_on_release;
ALTER TABLE portal.report_versions ENABLE TRIGGER notify_on_report;
ALTER TABLE portal.discussion_requests ENABLE TRIGGER notify_on_discussion;
ALTER TABLE portal.studies ENABLE TRIGGER study_page_state_insert;
ALTER TABLE portal.studies ENABLE TRIGGER study_page_state_update;
ALTER TABLE portal.report_versions ENABLE TRIGGER study_page_state;
ALTER TABLE portal.releases ENABLE TRIGGER study_page_state;
ALTER TABLE portal.discussion_requests ENABLE TRIGGER study_page_state;
ALTER TABLE portal.studies ENABLE TRIGGER study_estimates_insert;
ALTER TABLE portal.studies ENABLE TRIGGER study_estimates_update;

COMMIT;

SELECT portal.refresh_study_page_states();
-- The model first, then every study's kept estimates from it: otherwise the first server would
-- rebuild the model at its start and then recompute every kept estimate in the background
-- (two thirds of these studies are in flight), during the measurements.
SELECT portal.refresh_estimates(interval '90 days');
SELECT portal.fill_study_estimates();
-- And the rows that follow those whose time comes within the lead (every release estimate at the
-- next hour mark, when the seed ends in the half hour before one), as a running server's
-- estimates task would have kept them: otherwise the first servers would find them all due at
-- the mark (sql/definitions/54_study_estimates.sql).
DO $$
BEGIN
    WHILE portal.prepare_study_estimates(100000) = 100000 LOOP
    END LOOP;
END $$;

VACUUM ANALYZE portal.physicians, portal.patients, portal.studies, portal.report_versions,
               portal.releases, portal.discussion_requests, portal.study_page_state,
               portal.study_estimates;
