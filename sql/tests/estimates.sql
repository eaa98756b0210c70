-- Turnaround estimates (sql/definitions/50_estimates.sql) against hand-computed fixtures:
-- quantiles, conditional quantiles, fallbacks between groups, "too few", never a time in the
-- past, overdue, and the grants. Run as a superuser; everything is rolled back.
BEGIN;
SELECT plan(24);

INSERT INTO portal.physicians (id, name) VALUES ('EST-NPI', 'Dr. Fixture');
INSERT INTO portal.patients (mrn, name, birth_date) VALUES ('EST-MRN', 'Fixture Patient', '1980-01-01');

-- History: every study starts reading last week on Monday at 10:00 UTC (a weekday) and is signed
-- k hours later. CT routine at the main site: k = 1..40; at the north site: k = 100..109; US
-- routine at the main site: 2 h and k minutes, k = 1..40 (a tight spread, to see the clamp).
CREATE TEMP TABLE fx AS SELECT date_trunc('week', now()) - interval '7 days' + interval '10 hours' AS t0;
INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality, description,
                            priority, site, read_started_at, final_at, reviewable_version)
SELECT 'EST-MAIN-' || k, (SELECT id FROM portal.patients WHERE mrn = 'EST-MRN'), 'EST-NPI', 'CT',
       'CT fixture', 'routine', 'main', fx.t0, fx.t0 + make_interval(hours => k), 1
  FROM fx, generate_series(1, 40) k
UNION ALL
SELECT 'EST-NORTH-' || k, (SELECT id FROM portal.patients WHERE mrn = 'EST-MRN'), 'EST-NPI', 'CT',
       'CT fixture', 'routine', 'north', fx.t0, fx.t0 + make_interval(hours => k), 1
  FROM fx, generate_series(100, 109) k
UNION ALL
SELECT 'EST-US-' || k, (SELECT id FROM portal.patients WHERE mrn = 'EST-MRN'), 'EST-NPI', 'US',
       'US fixture', 'routine', 'main', fx.t0, fx.t0 + interval '2 hours' + make_interval(mins => k), 1
  FROM fx, generate_series(1, 40) k;

SELECT ok(portal.refresh_estimates(interval '90 days') > 0, 'refresh_estimates builds rows');
SELECT is((SELECT samples FROM portal.estimates_state), 90::bigint, 'the state counts 90 samples');
SELECT is(portal.week_part((SELECT t0 FROM fx)), 'weekday', 'Monday 10:00 is a weekday hour');
SELECT is(portal.week_part(timestamptz '2026-11-20 19:00+00'), 'weekend', 'Friday 19:00 is the weekend');
SELECT is(portal.week_part(timestamptz '2026-11-17 19:00+00'), 'weeknight', 'Tuesday 19:00 is a weeknight');

-- Site group, durations 1..40 h: p50 = 20.5 h, p90 = 35.1th position = 36.1 h.
SELECT results_eq(
    $$SELECT sample_size, round((p50_s / 3600)::numeric, 3), round((p90_s / 3600)::numeric, 3) FROM portal.turnaround_estimates
       WHERE stage = 'reading' AND milestone = 'report_final' AND elapsed_s = 0 AND modality = 'CT'
         AND priority = 'routine' AND site = 'main' AND week_part = 'weekday'$$,
    $$VALUES (40, 20.5::numeric, 36.1::numeric)$$, 'site group quantiles (1..40 h)');
-- Conditional on more than 4 h in the stage: 5..40 h, p50 = 22.5, p90 = 36.5.
SELECT results_eq(
    $$SELECT sample_size, round((p50_s / 3600)::numeric, 3), round((p90_s / 3600)::numeric, 3) FROM portal.turnaround_estimates
       WHERE stage = 'reading' AND milestone = 'report_final' AND elapsed_s = 14400 AND modality = 'CT'
         AND priority = 'routine' AND site = 'main' AND week_part = 'weekday'$$,
    $$VALUES (36, 22.5::numeric, 36.5::numeric)$$, 'conditional quantiles after 4 h (5..40 h)');
-- Both sites: 1..40 and 100..109 h, 50 values: p50 = 25.5, p90 = 104.1.
SELECT results_eq(
    $$SELECT level, sample_size, round((p50_s / 3600)::numeric, 3), round((p90_s / 3600)::numeric, 3) FROM portal.turnaround_estimates
       WHERE stage = 'reading' AND milestone = 'report_final' AND elapsed_s = 0 AND modality = 'CT'
         AND priority = 'routine' AND site = '*' AND week_part = 'any'$$,
    $$VALUES (1::smallint, 50, 25.5::numeric, 104.1::numeric)$$, 'modality+priority group quantiles');
SELECT is((SELECT count(*) FROM portal.turnaround_estimates WHERE milestone = 'available'), 0::bigint,
          'no released study, no available estimates');

-- Live studies, in reading since a given time. The lookup reads only the table.
CREATE FUNCTION pg_temp.live(p_site text, p_modality text, p_since interval,
                              p_stage text DEFAULT 'reading')
RETURNS portal.studies LANGUAGE sql AS $$
    INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality, description,
                                priority, site, read_started_at, final_at, reviewable_version,
                                cancelled_at)
    VALUES ('EST-LIVE-' || gen_random_uuid(), (SELECT id FROM portal.patients WHERE mrn = 'EST-MRN'),
            'EST-NPI', p_modality, 'live fixture', 'routine', p_site,
            CASE WHEN p_stage IN ('reading', 'cancelled') THEN now() - p_since END,
            CASE WHEN p_stage = 'physician_review' THEN now() - p_since END,
            CASE WHEN p_stage = 'physician_review' THEN 1 END,
            CASE WHEN p_stage = 'cancelled' THEN now() END)
    RETURNING *
$$;
SELECT is((pg_temp.live('main', 'CT', interval '5 minutes')).stage, 'reading', 'the fixture builder makes a study in reading');

SELECT results_eq(
    $$SELECT level, sample_size, enough, p50_at - (now() - interval '5 minutes')
        FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '5 minutes'), 'report_final')$$,
    $$VALUES (0::smallint, 40, true, interval '20 hours 30 minutes')$$,
    'a study just in reading gets the site group: p50 20.5 h after it started');
SELECT results_eq(
    $$SELECT level, sample_size FROM portal.estimate_lookup(pg_temp.live('north', 'CT', interval '5 minutes'), 'report_final')$$,
    $$VALUES (1::smallint, 50)$$, 'north has 10 studies (< 30): falls back to CT routine, all sites');
SELECT results_eq(
    $$SELECT level, sample_size, modality FROM portal.estimate_lookup(pg_temp.live('main', 'MR', interval '5 minutes'), 'report_final')$$,
    $$VALUES (3::smallint, 90, '*'::text)$$, 'no MR history: falls back to every study');
SELECT results_eq(
    $$SELECT elapsed_s, sample_size, round(extract(epoch FROM p50_at - (now() - interval '5 hours')) / 3600, 3)
        FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '5 hours'), 'report_final')$$,
    $$VALUES (14400, 36, 22.5::numeric)$$, 'after 5 h in reading: the conditional estimate (rung 4 h)');
-- After 30 h only 16 (site) or 26 (all) durations are longer than 24 h: too few everywhere.
SELECT results_eq(
    $$SELECT enough, p50_at IS NULL, p90_at IS NULL, sample_size
        FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '30 hours'), 'report_final')$$,
    $$VALUES (false, true, true, 26)$$, 'too few longer waits: no times, and says how many there were');
SELECT is_empty(
    $$SELECT * FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '1 hour', 'physician_review'), 'report_final')$$,
    'no report_final estimate once the report is final');
SELECT is_empty(
    $$SELECT * FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '1 hour', 'cancelled'), 'report_final')$$,
    'no estimate for a cancelled study');
SELECT is_empty(
    $$SELECT * FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '1 hour'), 'available')$$,
    'no history of releases: no available estimate');

-- Never in the past, whatever the time already waited (every 7 minutes up to 40 h), whichever
-- group answers.
SELECT is_empty(
    $$SELECT m, w FROM generate_series(0, 40 * 60, 7) w, (VALUES ('CT'), ('US'), ('MR')) x (m)
       CROSS JOIN LATERAL portal.estimate_lookup(pg_temp.live('main', m, make_interval(mins => w)),
                                                 'report_final') e
       WHERE e.enough AND (e.p50_at < now() OR e.p90_at < e.p50_at)$$,
    'conditional estimates are never in the past and p90 never before p50');
-- US studies were all signed 2 h 1 min to 2 h 40 min after reading began: one reading for 2 h 50
-- min is told "now", not a time already gone.
SELECT results_eq(
    $$SELECT elapsed_s, enough, p50_at = now(), p90_at = now()
        FROM portal.estimate_lookup(pg_temp.live('main', 'US', interval '2 hours 50 minutes'), 'report_final')$$,
    $$VALUES (7200, true, true, true)$$, 'a conditional quantile already behind is clamped to now');

-- Overdue: past the p90 on entry (36.1 h).
SELECT ok(portal.study_overdue(pg_temp.live('main', 'CT', interval '37 hours')), 'past 36.1 h: overdue');
SELECT ok(NOT portal.study_overdue(pg_temp.live('main', 'CT', interval '35 hours')), 'before 36.1 h: not overdue');

SELECT table_privs_are('portal', 'turnaround_estimates', 'portal_app', ARRAY['SELECT'],
                       'portal_app reads the estimates and cannot write them');
SELECT function_privs_are('portal', 'estimate_rows', ARRAY['timestamp with time zone', 'interval', 'integer[]'],
                          'portal_app', ARRAY[]::text[], 'portal_app cannot run the history scan itself');

SELECT * FROM finish();
ROLLBACK;
