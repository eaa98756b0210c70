-- Calibration by the model's own misses (sql/definitions/50_estimates.sql, "Calibration"): theta
-- from hand-made answers with known outcomes; the lookup's stretch of each milestone, exactly as
-- said; a kept row stays what the live lookup answers with a stretch in place; the answers kept
-- once per hour mark; the backtest's replay of the same on a hand-made backtest_scored; the
-- grants. Run as a superuser; everything is rolled back.
BEGIN;
SELECT plan(41);
\ir include/app_helpers.psql

INSERT INTO portal.physicians (id, name) VALUES ('CAL-NPI', 'Dr. Calibrated');
INSERT INTO portal.patients (mrn, name, birth_date) VALUES ('CAL-MRN', 'Calibrated Patient', '1980-01-01');

-- theta on its own: the p50's gain is 2 and its target half, the p90's 5 and a tenth; the excess
-- is weighed against calibration_days() typical days.
SELECT is(round(portal.calibration_theta(120, 200, 50, 20)::numeric, 4), round((2 * 20 / 140.0)::numeric, 4),
          'p50: 120 of 200 due missed, 20 answers a day: 2 x (120 - 100) / (7 x 20)');
SELECT is(round(portal.calibration_theta(30, 200, 90, 20)::numeric, 4), round((5 * 10 / 140.0)::numeric, 4),
          'p90: 30 of 200 due missed: 5 x (30 - 20) / (7 x 20)');
SELECT ok(portal.calibration_theta(0, 200, 50, 20) < 0, 'no misses: the answers shrink');
SELECT is(portal.calibration_theta(10000, 10000, 50, 1), 2::double precision, 'kept at most 2');
SELECT is(portal.calibration_theta(0, 10000, 50, 1), -1::double precision, 'and at least -1');
SELECT is(portal.calibration_theta(5, 10, 50, 0), 0::double precision, 'no answers kept: 0');

-- Kept answers with known outcomes: 200 studies signed two days ago, answered ten days ago; the
-- model's own p50 was an hour before their signature for the first 120 (missed), an hour after for
-- the rest; its p90 half an hour before for the first 30 (missed), two hours after for the rest.
-- They were told three hours later than that (stretched), which would have hit every time: theta
-- is set by the model's own answers. A cancelled study's answer counts for nothing; so does the
-- waiting study's p90, not yet due, while its p50 is due by the model's moment (an hour ago),
-- though not by the moment told (two hours from now), and missed.
INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality, description,
                            priority, site, read_started_at, final_at, reviewable_version)
SELECT 'CAL-A-' || i, (SELECT id FROM portal.patients WHERE mrn = 'CAL-MRN'), 'CAL-NPI', 'CT',
       'CT fixture', 'routine', 'main', now() - interval '12 days', now() - interval '2 days', 1
  FROM generate_series(1, 200) i;
INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality, description,
                            priority, site, read_started_at, cancelled_at)
VALUES ('CAL-CANCELLED', (SELECT id FROM portal.patients WHERE mrn = 'CAL-MRN'), 'CAL-NPI', 'CT',
        'CT fixture', 'routine', 'main', now() - interval '12 days', now() - interval '5 days'),
       ('CAL-WAITING', (SELECT id FROM portal.patients WHERE mrn = 'CAL-MRN'), 'CAL-NPI', 'CT',
        'CT fixture', 'routine', 'main', now() - interval '12 days', NULL);
INSERT INTO portal.estimate_answers (milestone, asked_at, study_id, p50_at, p90_at, model50_at, model90_at)
SELECT 'report_final', asked_at, id, model50_at + interval '3 hours', model90_at + interval '3 hours',
       model50_at, model90_at
  FROM (SELECT date_trunc('hour', now() - interval '10 days') AS asked_at, s.id,
               s.final_at + CASE WHEN n <= 120 THEN interval '-1 hour' ELSE interval '1 hour' END AS model50_at,
               s.final_at + CASE WHEN n <= 30 THEN interval '-30 minutes' ELSE interval '2 hours' END AS model90_at
          FROM (SELECT s.*, row_number() OVER (ORDER BY s.accession) AS n FROM portal.studies s
                 WHERE s.accession LIKE 'CAL-A-%') s
        UNION ALL
        SELECT date_trunc('hour', now() - interval '10 days'), s.id,
               now() - interval '4 days', now() - interval '3 days'
          FROM portal.studies s WHERE s.accession = 'CAL-CANCELLED'
        UNION ALL
        SELECT date_trunc('hour', now() - interval '10 days'), s.id,
               now() - interval '1 hour', now() + interval '2 days'
          FROM portal.studies s WHERE s.accession = 'CAL-WAITING') a;
SELECT portal.refresh_calibration(now());
SELECT results_eq(
    $$SELECT due50, missed50, due90, missed90 FROM portal.estimate_calibration WHERE milestone = 'report_final'$$,
    $$VALUES (201::bigint, 121::bigint, 200::bigint, 30::bigint)$$,
    'due and missed by the model''s own answers, not the stretched ones told; the cancelled study''s answer and the p90 not yet due left out');
CREATE TEMP TABLE kept_days AS
SELECT extract(epoch FROM now() - date_trunc('hour', now() - interval '10 days')) / 86400 AS days;
SELECT is((SELECT round(theta50::numeric, 4) FROM portal.estimate_calibration WHERE milestone = 'report_final'),
          (SELECT round(portal.calibration_theta(121, 201, 50, 202 / days)::numeric, 4) FROM kept_days),
          'theta50 from them, 202 answers kept over the 10 days since the first');
SELECT is((SELECT round(theta90::numeric, 4) FROM portal.estimate_calibration WHERE milestone = 'report_final'),
          (SELECT round(portal.calibration_theta(30, 200, 90, 202 / days)::numeric, 4) FROM kept_days),
          'theta90 likewise');
SELECT results_eq($$SELECT theta50, theta90, due50 FROM portal.estimate_calibration WHERE milestone = 'available'$$,
                  $$VALUES (0::double precision, 0::double precision, 0::bigint)$$,
                  'a milestone with no answers: no stretch');
UPDATE portal.estimate_answers SET asked_at = date_trunc('hour', now() - interval '6 days');
SELECT portal.refresh_calibration(now());
SELECT is((SELECT theta50 FROM portal.estimate_calibration WHERE milestone = 'report_final'), 0::double precision,
          'answers kept for less than calibration_days(): theta stays 0');
UPDATE portal.estimate_answers SET asked_at = date_trunc('hour', now() - interval '10 days');
DELETE FROM portal.estimate_answers
 WHERE study_id IN (SELECT id FROM portal.studies WHERE accession LIKE 'CAL-A-%'
                     ORDER BY accession OFFSET portal.estimate_min_samples() - 2);
SELECT portal.refresh_calibration(now());
SELECT results_eq($$SELECT theta50, theta90, due50 FROM portal.estimate_calibration WHERE milestone = 'report_final'$$,
                  $$SELECT 0::double precision, 0::double precision, (portal.estimate_min_samples() - 1)::bigint$$,
                  'answers due from fewer studies than estimate_min_samples(): theta stays 0');
DELETE FROM portal.estimate_answers;

-- The lookup's stretch: history over the last four weeks (include/even_history.psql) and studies
-- in flight at every rung (include/studies_in_flight.psql).
\set fx CAL
\ir include/even_history.psql
SELECT ok(portal.refresh_estimates(interval '90 days') > 0, 'a model from the history');
\ir include/studies_in_flight.psql

SELECT is((SELECT count(*) FROM portal.estimate_calibration), 2::bigint, 'the refresh computed both milestones'' calibration');
-- The answers with no calibration row at all, then with theta 0.
CREATE TEMP TABLE saved_calibration AS SELECT * FROM portal.estimate_calibration;
DELETE FROM portal.estimate_calibration;
CREATE TEMP TABLE plain AS
SELECT s.id, m.milestone, e.p50_at, e.p90_at, e.enough
  FROM portal.studies s
 CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
 CROSS JOIN LATERAL portal.estimate_lookup(s, m.milestone) e
 WHERE s.accession LIKE 'CAL-LIVE-%';
INSERT INTO portal.estimate_calibration SELECT * FROM saved_calibration;
UPDATE portal.estimate_calibration SET theta50 = 0, theta90 = 0;
SELECT is_empty(
    $$SELECT FROM plain p JOIN portal.studies s ON s.id = p.id
       CROSS JOIN LATERAL portal.estimate_lookup(s, p.milestone) e
       WHERE (e.p50_at, e.p90_at) IS DISTINCT FROM (p.p50_at, p.p90_at)$$,
    'theta 0 answers what no calibration does');

UPDATE portal.estimate_calibration SET theta50 = ln(2), theta90 = ln(1.5);
SELECT is_empty(
    $$SELECT FROM plain p JOIN portal.studies s ON s.id = p.id
       CROSS JOIN LATERAL portal.estimate_lookup(s, p.milestone, now(), false) e
       WHERE (e.p50_at, e.p90_at) IS DISTINCT FROM (p.p50_at, p.p90_at)$$,
    'with a stretch in force, the lookup with p_stretched false answers what no calibration does (both milestones)');
-- Each answer on the study's clock: report_final from the start of its wait's rung, available
-- from the hour mark or the anchor, whichever is later.
CREATE TEMP TABLE measured AS
SELECT p.milestone, p.enough, k.now_c,
       portal.clock_time(p.p50_at, k.rate, k.cum, k.calendar) - k.base_c AS plain50,
       portal.clock_time(p.p90_at, k.rate, k.cum, k.calendar) - k.base_c AS plain90,
       portal.clock_time(e.p50_at, k.rate, k.cum, k.calendar) - k.base_c AS stretched50,
       portal.clock_time(e.p90_at, k.rate, k.cum, k.calendar) - k.base_c AS stretched90,
       k.now_c - k.base_c AS now_ahead
  FROM plain p JOIN portal.studies s ON s.id = p.id
 CROSS JOIN LATERAL portal.estimate_lookup(s, p.milestone) e
 CROSS JOIN LATERAL (
       SELECT c.rate, c.cum, c.calendar, portal.clock_time(now(), c.rate, c.cum, c.calendar) AS now_c,
              CASE WHEN p.milestone = 'report_final'
                   THEN x.anchor_c + portal.estimate_bucket(portal.clock_time(now(), c.rate, c.cum, c.calendar) - x.anchor_c)
                   ELSE greatest(x.anchor_c, portal.clock_time(date_trunc('hour', now()), c.rate, c.cum, c.calendar)) END AS base_c
         FROM portal.clock_for(p.milestone, s.modality, s.priority) c
        CROSS JOIN LATERAL (SELECT portal.clock_time(portal.stage_anchor(s, s.stage), c.rate, c.cum, c.calendar) AS anchor_c) x) k
 WHERE p.enough;
SELECT ok((SELECT count(*) FILTER (WHERE milestone = 'report_final') >= 50
                  AND count(*) FILTER (WHERE milestone = 'available') >= 50 FROM measured),
          'the fixture has estimates with times for both milestones');
SELECT is_empty(
    $$SELECT * FROM measured
       WHERE stretched50 > now_ahead + 61 AND plain50 >= 60 AND plain50 > now_ahead + 61
         AND abs(stretched50 - 2 * plain50) > 2$$,
    'p50: the time ahead on the clock doubled (theta50 = ln 2) wherever the clamp does not bind');
SELECT is_empty(
    $$SELECT * FROM measured
       WHERE stretched90 > now_ahead + 61 AND plain90 >= 60 AND plain90 > now_ahead + 61
         AND 1.5 * plain90 > 2 * plain50 AND abs(stretched90 - 1.5 * plain90) > 2$$,
    'p90: half as long again (theta90 = ln 1.5)');
SELECT ok((SELECT count(*) FROM measured WHERE stretched50 > now_ahead + 61 AND plain50 > now_ahead + 61
                                           AND milestone = 'available') >= 20
          AND (SELECT count(*) FROM measured WHERE stretched50 > now_ahead + 61 AND plain50 > now_ahead + 61
                                               AND milestone = 'report_final') >= 20,
          'and those checks saw at least 20 answers of each milestone');
SELECT is_empty(
    $$SELECT * FROM plain p JOIN portal.studies s ON s.id = p.id
       CROSS JOIN LATERAL portal.estimate_lookup(s, p.milestone) e
       WHERE e.p50_at <= now() OR e.p90_at < e.p50_at$$,
    'stretched answers are never in the past, and p90 never before p50');
UPDATE portal.estimate_calibration SET theta50 = -1, theta90 = -1;
SELECT is_empty(
    $$SELECT * FROM plain p JOIN portal.studies s ON s.id = p.id
       CROSS JOIN LATERAL portal.estimate_lookup(s, p.milestone) e
       WHERE e.p50_at <= now() OR e.p90_at < e.p50_at OR e.p50_at > p.p50_at$$,
    'shrunk as far as theta goes (-1): never in the past either, p90 never before p50, and never later than unshrunk');
-- On a flat clock: a moment before the base has no time ahead to stretch and stays put.
SELECT is(portal.stretch_at(timestamptz '2026-11-18 10:00+00',
                            portal.clock_time(timestamptz '2026-11-18 12:00+00', c.r, c.c, '{}'), 0.5, c.r, c.c, '{}'),
          timestamptz '2026-11-18 10:00+00', 'stretch_at: a moment before its base stays put')
  FROM (SELECT array_fill(1::float8, ARRAY[168]) AS r,
               (SELECT array_agg(h::float8 ORDER BY h) FROM generate_series(0, 168) h) AS c) c;
SELECT is(portal.stretch_at(timestamptz '2026-11-18 14:00+00',
                            portal.clock_time(timestamptz '2026-11-18 12:00+00', c.r, c.c, '{}'), ln(2), c.r, c.c, '{}'),
          timestamptz '2026-11-18 16:00+00', 'and one after it is stretched from it (2 hours ahead doubled)')
  FROM (SELECT array_fill(1::float8, ARRAY[168]) AS r,
               (SELECT array_agg(h::float8 ORDER BY h) FROM generate_series(0, 168) h) AS c) c;

-- A kept row is what the live lookup answers at every moment of its validity, with the stretch.
UPDATE portal.estimate_calibration SET theta50 = 0.4, theta90 = -0.3;
CREATE TEMP TABLE kept AS
SELECT r.* FROM portal.studies s
 CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
 CROSS JOIN LATERAL portal.study_estimate_row(s, m.milestone, now()) r
 WHERE s.accession LIKE 'CAL-LIVE-%';
SELECT is_empty(
    $$SELECT k.study_id, k.milestone, f FROM kept k
       CROSS JOIN (VALUES (0.0), (0.3), (0.7), (0.999)) x (f)
       JOIN portal.studies s ON s.id = k.study_id
       CROSS JOIN LATERAL (SELECT k.valid_from + least(k.valid_until - k.valid_from, interval '30 days') * x.f AS t) m
       WHERE k.valid_until > k.valid_from AND k.level IS NOT NULL
         AND (SELECT ROW(e.p50_at, e.p90_at, e.enough) FROM portal.estimate_lookup(s, k.milestone, m.t) e)
             IS DISTINCT FROM ROW(k.p50_at, k.p90_at, k.enough)$$,
    'inside its validity every kept answer is what a live lookup answers, stretched');
SELECT ok((SELECT count(*) FROM kept WHERE valid_until > valid_from AND enough) >= 100,
          'and those were at least 100 answers with times');

-- The answers kept: once per hour mark, only those with times, for at most
-- estimate_answers_per_hour() studies in flight (the fixture has more: 302 live, 200 signed and
-- not shared, one waiting), the first by id.
-- The rows kept for the pages were computed before theta was set by hand above: the pages then
-- answer from the live lookup, stretched.
DELETE FROM portal.study_estimates;
SELECT ok((SELECT count(*) FROM portal.studies WHERE stage NOT IN ('available', 'cancelled'))
          > portal.estimate_answers_per_hour(), 'more studies in flight than are sampled');
SELECT is(portal.record_estimate_answers(now()),
          (SELECT count(*)::integer
             FROM (SELECT * FROM portal.studies s WHERE s.stage NOT IN ('available', 'cancelled')
                    ORDER BY s.id LIMIT portal.estimate_answers_per_hour()) s
            CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
            CROSS JOIN LATERAL portal.study_estimate(s, m.milestone) e
            WHERE e.enough),
          'the sample''s answers with times are kept');
SELECT is_empty(
    $$SELECT FROM portal.estimate_answers a JOIN portal.studies s ON s.id = a.study_id
       WHERE ROW(a.p50_at, a.p90_at) IS DISTINCT FROM (SELECT ROW(e.p50_at, e.p90_at) FROM portal.study_estimate(s, a.milestone) e)
          OR ROW(a.model50_at, a.model90_at) IS DISTINCT FROM (SELECT ROW(o.p50_at, o.p90_at) FROM portal.estimate_lookup(s, a.milestone, now(), false) o)$$,
    'each with what the page told (stretched) and the model''s own answer, unstretched');
SELECT ok((SELECT count(*) FILTER (WHERE p50_at <> model50_at AND milestone = 'report_final') >= 20
                  AND count(*) FILTER (WHERE p50_at <> model50_at AND milestone = 'available') >= 20
             FROM portal.estimate_answers),
          'and the two differ (theta is 0.4 here) for at least 20 of each milestone');
SELECT ok((SELECT count(DISTINCT study_id) FROM portal.estimate_answers) <= portal.estimate_answers_per_hour(),
          'for no more studies than the sample''s size');
SELECT is(portal.record_estimate_answers(date_trunc('hour', now()) + interval '59 minutes'), 0,
          'and not twice in the same hour');
INSERT INTO portal.estimate_answers (milestone, asked_at, study_id, p50_at, p90_at, model50_at, model90_at)
SELECT 'available', date_trunc('hour', now()) - interval '36 days', s.id, now(), now(), now(), now()
  FROM portal.studies s WHERE s.accession = 'CAL-WAITING';
SELECT ok(portal.record_estimate_answers(now() + interval '1 hour') > 0, 'the next hour''s are kept');
SELECT is_empty($$SELECT FROM portal.estimate_answers WHERE asked_at < now() - interval '35 days'$$,
                'and answers older than estimate_answers_days() forgotten');

-- The backtest's replay (portal.backtest_calibrate) on hand-made answers: twelve days from Monday
-- 2026-11-02, 100 report_final answers a day at noon on a flat clock, each with a p50 one hour
-- ahead and a p90 two; every report came after 90 minutes, so every p50 missed and every p90 hit.
-- theta stays 0 until the answers span calibration_days(); on day 8 it is set from days 1-7.
CREATE TEMP TABLE backtest_scored AS
SELECT s.id, 'CT'::text AS mod, 'report_final'::text AS ms, a.asked_at,
       a.asked_at + interval '90 minutes' AS done_at, true AS ok,
       a.asked_at + interval '1 hour' AS p50_at, a.asked_at + interval '2 hours' AS p90_at,
       c.flat_rate AS rate, c.flat_cum AS cum, '{}'::float8[] AS calendar,
       portal.clock_time(a.asked_at, c.flat_rate, c.flat_cum, '{}') AS asked_c,
       portal.clock_time(a.asked_at, c.flat_rate, c.flat_cum, '{}') AS base_c,
       3600::float8 AS ahead50_c, 7200::float8 AS ahead90_c,
       NULL::timestamptz AS model50_at, NULL::timestamptz AS model90_at,
       a.asked_at + interval '1 hour' AS own50_at, a.asked_at + interval '2 hours' AS own90_at
  FROM (SELECT array_fill(1::float8, ARRAY[168]) AS flat_rate,
               (SELECT array_agg(h::float8 ORDER BY h) FROM generate_series(0, 168) h) AS flat_cum) c
 CROSS JOIN generate_series(0, 11) d
 CROSS JOIN LATERAL (SELECT timestamptz '2026-11-02 12:00+00' + make_interval(days => d) AS asked_at) a
 CROSS JOIN (SELECT id FROM portal.studies WHERE accession LIKE 'CAL-A-%' ORDER BY accession LIMIT 100) s;
SET LOCAL TimeZone = 'UTC';
SELECT portal.backtest_calibrate();
SELECT is_empty($$SELECT FROM backtest_theta WHERE as_of < '2026-11-10 00:00+00' AND (theta50 <> 0 OR theta90 <> 0)$$,
                'the first days: theta 0');
SELECT results_eq(
    $$SELECT round(theta50::numeric, 6), round(theta90::numeric, 6), due50, missed50 FROM backtest_theta
       WHERE as_of = '2026-11-10 00:00+00' AND milestone = 'report_final'$$,
    $$SELECT round(portal.calibration_theta(700, 700, 50, 800 / 7.5)::numeric, 6),
             round(portal.calibration_theta(0, 700, 90, 800 / 7.5)::numeric, 6), 700::bigint, 700::bigint$$,
    'day 8: theta from the 700 answers due in the 7 days before, 800 kept over 7.5 days');
SELECT is_empty(
    $$SELECT FROM backtest_scored j, backtest_theta t
       WHERE t.as_of = '2026-11-10 00:00+00' AND t.milestone = 'report_final'
         AND date_trunc('day', j.asked_at) = t.as_of
         AND (abs(extract(epoch FROM j.p50_at - j.asked_at) - 3600 * exp(t.theta50)) > 1 OR j.p90_at <> j.p50_at)$$,
    'day 8''s answers: the p50 one hour times exp(theta50) ahead; the p90, shrunk below it, kept at the p50');
SELECT is_empty($$SELECT FROM backtest_scored WHERE asked_at < '2026-11-10' AND p50_at <> asked_at + interval '1 hour'$$,
                'the days before: as the model answered');
SELECT ok((SELECT count(*) FROM backtest_scored WHERE asked_at >= '2026-11-10' AND asked_at < '2026-11-11'
                                                  AND done_at <= p50_at) = 100,
          'day 8''s stretched answers all hit');
SELECT results_eq(
    $$SELECT round(theta50::numeric, 6), due50, missed50 FROM backtest_theta
       WHERE as_of = '2026-11-11 00:00+00' AND milestone = 'report_final'$$,
    $$SELECT round(portal.calibration_theta(700, 700, 50, 900 / 8.5)::numeric, 6), 700::bigint, 700::bigint$$,
    'day 9: theta50 still from the model''s own answers, which all missed: the stretch holds while the model is late');
RESET TimeZone;

-- portal_app reads the calibration (the lookup does) and can neither write it nor keep answers.
SELECT ok(has_table_privilege('portal_app', 'portal.estimate_calibration', 'SELECT')
          AND NOT has_table_privilege('portal_app', 'portal.estimate_calibration', 'INSERT, UPDATE, DELETE, TRUNCATE')
          AND NOT has_table_privilege('portal_app', 'portal.estimate_answers', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
          AND pg_temp.app_sqlstate($$SELECT portal.record_estimate_answers(now())$$) = '42501'
          AND pg_temp.app_sqlstate($$SELECT portal.refresh_calibration(now())$$) = '42501',
          'portal_app reads the calibration and writes neither it nor the answers');

SELECT * FROM finish();
ROLLBACK;
