-- Turnaround estimates (sql/definitions/50_estimates.sql) against fixtures: the clock on
-- hand-made arrays, the clocks and quantiles the refresh learns, fallbacks between groups, "too
-- few", never a time in the past, overdue, and the grants. Run as a superuser; everything is rolled back.
BEGIN;
SELECT plan(70);

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

-- The clock on its own, with hand-made arrays: a flat one (every hour alike) and one that runs
-- only on weekdays 08:00-18:00 (rate 168/50 in those 50 hours, 0 elsewhere). The database is in
-- UTC (portal.site_timezone unset).
CREATE TEMP TABLE clk AS
SELECT array_fill(1::float8, ARRAY[168]) AS flat_rate,
       (SELECT array_agg(h::float8 ORDER BY h) FROM generate_series(0, 168) h) AS flat_cum,
       w.rate AS work_rate,
       array_prepend(0::float8, (SELECT array_agg(x ORDER BY i) FROM (
            SELECT i, sum(r) OVER (ORDER BY i) AS x FROM unnest(w.rate) WITH ORDINALITY u (r, i)) q)) AS work_cum
  FROM (SELECT array_agg(CASE WHEN h / 24 < 5 AND h % 24 BETWEEN 8 AND 17 THEN 168.0 / 50 ELSE 0 END
                         ORDER BY h) AS rate
          FROM generate_series(0, 167) h) w;
SELECT is(portal.hour_of_week(timestamptz '2026-11-16 10:30+00'), 10, 'Monday 10:30 is hour 10 of the week');
SELECT is(portal.hour_of_week(timestamptz '2026-11-22 23:59+00'), 167, 'Sunday 23:59 is hour 167');
SELECT is((SELECT portal.clock_time(timestamptz '2026-11-20 17:00+00', flat_rate, flat_cum, '{}')
                  - portal.clock_time(timestamptz '2026-11-16 09:15+00', flat_rate, flat_cum, '{}') FROM clk),
          extract(epoch FROM timestamptz '2026-11-20 17:00+00' - timestamptz '2026-11-16 09:15+00')::float8,
          'a flat clock counts plain seconds');
SELECT is((SELECT portal.clock_at(portal.clock_time(timestamptz '2026-11-18 03:07:30+00', flat_rate, flat_cum, '{}'),
                                  flat_rate, flat_cum, '{}') FROM clk),
          timestamptz '2026-11-18 03:07:30+00', 'clock_at undoes clock_time');
SELECT is((SELECT portal.clock_time(timestamptz '2026-11-23 08:00+00', work_rate, work_cum, '{}')
                  - portal.clock_time(timestamptz '2026-11-20 18:00+00', work_rate, work_cum, '{}') FROM clk),
          0::float8, 'a weekday clock stands still from Friday 18:00 to Monday 08:00');
-- Five clock hours from Friday 17:00: 168/50 in the last working hour, the rest on Monday.
SELECT is((SELECT date_trunc('second', portal.clock_at(portal.clock_time(timestamptz '2026-11-20 17:00+00', work_rate, work_cum, '{}')
                                                       + 5 * 3600, work_rate, work_cum, '{}')) FROM clk),
          date_trunc('second', timestamptz '2026-11-23 08:00+00' + (5 - 168.0 / 50) / (168.0 / 50) * interval '1 hour'),
          'a wait that runs past Friday evening resumes on Monday morning');

-- The site's calendar: Monday 2030-01-07 closed. On the weekday clock (nobody works on Sunday) the
-- closed Monday stands still; on the flat one a Sunday counts as much as a Monday, so nothing moves.
INSERT INTO portal.site_closed_days (day, note, added_by) VALUES ('2030-01-07', 'New Year holiday', 'fixture');
CREATE TEMP TABLE cal AS
SELECT portal.clock_calendar(work_rate, work_cum, '2029-12-01') AS work_cal,
       portal.clock_calendar(flat_rate, flat_cum, '2029-12-01') AS flat_cal FROM clk;
SELECT is((SELECT cardinality(work_cal) FROM cal), 3, 'a calendar holds three numbers per closed day');
SELECT is((SELECT portal.clock_time(timestamptz '2030-01-08 08:00+00', work_rate, work_cum, work_cal)
                  - portal.clock_time(timestamptz '2030-01-04 18:00+00', work_rate, work_cum, work_cal) FROM clk, cal),
          0::float8, 'a weekday clock stands still from Friday 18:00 to Tuesday 08:00 when Monday is closed');
SELECT is((SELECT date_trunc('second', portal.clock_at(portal.clock_time(timestamptz '2030-01-04 17:00+00', work_rate, work_cum, work_cal)
                                                       + 5 * 3600, work_rate, work_cum, work_cal)) FROM clk, cal),
          date_trunc('second', timestamptz '2030-01-08 08:00+00' + (5 - 168.0 / 50) / (168.0 / 50) * interval '1 hour'),
          'a wait that runs past Friday evening resumes on Tuesday morning when Monday is closed');
SELECT is((SELECT date_trunc('second', portal.clock_at(portal.clock_time(timestamptz '2030-01-09 10:30+00', work_rate, work_cum, work_cal),
                                                       work_rate, work_cum, work_cal)) FROM clk, cal),
          timestamptz '2030-01-09 10:30+00', 'clock_at undoes clock_time after a closed day');
SELECT is((SELECT portal.clock_time(timestamptz '2030-01-08 12:00+00', flat_rate, flat_cum, flat_cal)
                  - portal.clock_time(timestamptz '2030-01-05 12:00+00', flat_rate, flat_cum, flat_cal) FROM clk, cal),
          3 * 86400::float8, 'on a clock that runs alike every day a closed day changes nothing');
SELECT is((SELECT date_trunc('second', portal.calendar_release(timestamptz '2030-01-04 17:00+00', timestamptz '2030-01-07 09:00+00',
                                                               work_rate, work_cum, work_cal)) FROM clk, cal),
          timestamptz '2030-01-08 09:00+00', 'a release the history puts on Monday 09:00 moves to Tuesday 09:00');
SELECT is((SELECT portal.calendar_release(timestamptz '2030-01-04 17:00+00', timestamptz '2030-01-08 10:00+00',
                                          work_rate, work_cum, work_cal) FROM clk, cal),
          timestamptz '2030-01-08 10:00+00', 'one it puts on Tuesday stays there');
SELECT is((SELECT r.p90_at FROM clk, cal,
                  portal.release_times(timestamptz '2030-01-04 17:00+00',
                                       extract(epoch FROM timestamptz '2030-01-07 11:00+00' - timestamptz '2030-01-04 17:00+00'),
                                       extract(epoch FROM timestamptz '2030-01-08 10:00+00' - timestamptz '2030-01-04 17:00+00'),
                                       work_rate, work_cum, work_cal) r),
          timestamptz '2030-01-08 11:00+00', 'a p50 carried past its p90 takes the p90 along');
SELECT is((SELECT how FROM portal.model_hour(timestamptz '2030-01-07 10:30+00')), 154,
          'the models take 10:30 on a closed Monday for 10:30 on a Sunday');
SELECT is((SELECT how FROM portal.model_hour(timestamptz '2030-01-14 10:30+00')), 10, 'and an open Monday for itself');

SELECT ok(portal.refresh_estimates(interval '90 days') > 0, 'refresh_estimates builds rows');
SELECT is((SELECT samples FROM portal.estimates_state), 90::bigint, 'the state counts 90 samples');
SELECT is((SELECT time_zone FROM portal.estimates_state), 'UTC', 'the state keeps the zone the model was learned in');
SELECT is(portal.refresh_estimates_if_due(90, 3600), 'fresh', 'a session in that zone finds the model fresh');
SELECT set_config('portal.site_timezone', 'Etc/GMT-3', true);
SELECT is(portal.refresh_estimates_if_due(90, 3600), 'refreshed', 'a session in another zone rebuilds it');
SELECT is((SELECT time_zone FROM portal.estimates_state), 'Etc/GMT-3', '... in its own zone');
SELECT set_config('portal.site_timezone', '', true);
SELECT is(portal.refresh_estimates_if_due(90, 3600), 'refreshed', 'and back in UTC, the model is rebuilt in UTC');
SELECT is((SELECT count(*) FROM portal.estimate_clocks WHERE cardinality(calendar) <> 3), 0::bigint,
          'every clock the refresh learns carries the closed day ahead');
DELETE FROM portal.site_closed_days WHERE day = '2030-01-07';
SELECT results_eq(
    $$SELECT modality, priority FROM portal.estimate_clocks WHERE milestone = 'report_final' ORDER BY 1, 2$$,
    $$VALUES ('*', '*'), ('CT', '*'), ('CT', 'routine'), ('US', '*'), ('US', 'routine')$$,
    'a report clock for each modality and priority with history, each modality, and every study');
SELECT is_empty(
    $$SELECT FROM portal.estimate_clocks
       WHERE abs(cum[169] - 168) > 1e-6 OR abs((SELECT sum(r) FROM unnest(rate) r) - 168) > 1e-6
          OR (SELECT min(r) FROM unnest(rate) r) <= 0$$,
    'every clock averages 1 over the week and never stops');
-- Every US fixture was signed on Monday between 12:01 and 12:40, after two hours in which none
-- was: hour 12 of the week is the fastest of the US clock by far.
SELECT ok((SELECT rate[1 + 12] > 5 AND rate[1 + 12] = (SELECT max(r) FROM unnest(rate) r) FROM portal.estimate_clocks
            WHERE milestone = 'report_final' AND modality = 'US' AND priority = 'routine'),
          'the US clock runs fastest in the hour its reports were signed');

-- The p90's rank: ceil(0.9 (n + 1)), never past the last of n.
SELECT is(ARRAY[portal.estimate_p90_rank(1), portal.estimate_p90_rank(8), portal.estimate_p90_rank(9),
                portal.estimate_p90_rank(30), portal.estimate_p90_rank(40), portal.estimate_p90_rank(100)],
          ARRAY[1, 8, 9, 28, 37, 91], 'the p90 is the ceil(0.9 (n + 1))-th of n, at most the n-th');
-- Survival quantiles: with every wait ended and alike weights, the lower median and the
-- ceil(0.9 (n + 1))-th of n; waits cut off early (still waiting) do not pull them down, as they
-- would if they were taken for ended; a quantile the ended waits never reach is 1e9 ("never
-- came"); a heavier wait counts for more.
SELECT is(portal.survival_quantiles((SELECT array_agg(k::float8 ORDER BY k) FROM generate_series(1, 40) k),
                                    array_fill(true, ARRAY[40]), array_fill(1::float8, ARRAY[40])),
          ARRAY[20, 37]::float8[], 'ended waits alike: the 20th and the 37th of 40');
SELECT is(portal.survival_quantiles(array_cat(array_fill(0.5::float8, ARRAY[10]),
                                              (SELECT array_agg(k::float8 ORDER BY k) FROM generate_series(1, 10) k)),
                                    array_cat(array_fill(false, ARRAY[10]), array_fill(true, ARRAY[10])),
                                    array_fill(1::float8, ARRAY[20])),
          ARRAY[5, 10]::float8[], 'ten waits cut off at 0.5 leave the quantiles of the ten that ended');
SELECT is(portal.survival_quantiles(array_cat((SELECT array_agg(k::float8 ORDER BY k) FROM generate_series(1, 10) k),
                                              array_fill(20::float8, ARRAY[30])),
                                    array_cat(array_fill(true, ARRAY[10]), array_fill(false, ARRAY[30])),
                                    array_fill(1::float8, ARRAY[40])),
          ARRAY[1e9, 1e9]::float8[], 'with three in four still waiting, neither quantile was seen');
SELECT is(portal.survival_quantiles(ARRAY[1, 2]::float8[], ARRAY[true, true], ARRAY[1, 3]::float8[]),
          ARRAY[2, 2]::float8[], 'a wait weighing three times another moves the median to it');
SELECT is(portal.survival_quantiles(ARRAY[1, 1, 2]::float8[], ARRAY[true, false, true], ARRAY[1, 1, 1]::float8[]),
          ARRAY[2, 2]::float8[], 'a wait cut off at the length another ended was still waiting then');
SELECT is(portal.survival_quantiles(ARRAY[1, 2, 3]::float8[], ARRAY[false, true, true], ARRAY[1, 1e-17, 1e-17]::float8[]),
          ARRAY[2, 3]::float8[], 'weights far below the rounding of the others still count among themselves');
-- The cohort as of a past moment reads nothing after it: of the 40 CT reads at the main site
-- begun at t0, as of t0 + 5 h the four signed before are ended waits and the rest are cut off
-- there, waits of 5 h so far.
SELECT results_eq(
    $$SELECT count(*) FILTER (WHERE c.reached), count(*) FILTER (WHERE NOT c.reached AND c.duration_s = 18000 AND c.stay_s = 18000)
        FROM fx, portal.estimate_cohort(fx.t0 - interval '1 day', fx.t0 + interval '5 hours') c
       WHERE c.stage = 'reading' AND c.milestone = 'report_final' AND c.modality = 'CT' AND c.site = 'main'$$,
    $$VALUES (4::bigint, 36::bigint)$$, 'the cohort as of a past moment cuts off the waits there');
-- The site group's quantiles are those of the durations measured on the CT routine clock (all
-- began at the same moment, so they weigh alike): the lower median, and for the p90 the
-- ceil(0.9 (n + 1))-th of the n sorted (the 37th of 40).
SELECT results_eq(
    $$SELECT sample_size, round(p50_s::numeric, 3), round(p90_s::numeric, 3) FROM portal.turnaround_estimates
       WHERE stage = 'reading' AND milestone = 'report_final' AND elapsed_s = 0 AND modality = 'CT'
         AND priority = 'routine' AND site = 'main' AND week_part = 'any'$$,
    $$SELECT count(*)::integer, round(((array_agg(d ORDER BY d))[(count(*) + 1) / 2])::numeric, 3),
             round(((array_agg(d ORDER BY d))[least(count(*), ceil(0.9 * (count(*) + 1)))::integer])::numeric, 3)
        FROM (SELECT portal.clock_time(s.final_at, c.rate, c.cum, c.calendar) - portal.clock_time(s.read_started_at, c.rate, c.cum, c.calendar) AS d
                FROM portal.studies s, portal.estimate_clocks c
               WHERE s.accession LIKE 'EST-MAIN-%' AND c.milestone = 'report_final'
                 AND c.modality = 'CT' AND c.priority = 'routine') x$$,
    'site group quantiles are those of the clock durations');
SELECT results_eq(
    $$SELECT level, sample_size FROM portal.turnaround_estimates
       WHERE stage = 'reading' AND milestone = 'report_final' AND elapsed_s = 0 AND modality = 'CT'
         AND priority = 'routine' AND site = '*'$$,
    $$VALUES (1::smallint, 50)$$, 'modality+priority group holds both sites');
SELECT is((SELECT count(*) FROM portal.turnaround_estimates WHERE milestone = 'available'), 0::bigint,
          'no released study, no available estimates');
SELECT is((SELECT count(*) FROM portal.turnaround_estimates WHERE week_part <> 'any'), 0::bigint,
          'the clock has taken the place of the time of week');

-- Live studies, in reading since a given time. The lookup reads only the tables.
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
SELECT is((pg_temp.live('main', 'CT', interval '0')).stage, 'reading', 'the fixture builder makes a study in reading');

-- A study just in reading: the site group's p50, carried forward on the clock from its start. It
-- starts at now(): five minutes ago was a different rung at the hours its clock runs fast
-- (Monday 12:00 UTC, when the US fixtures were signed), and the test then failed at that hour.
SELECT results_eq(
    $$SELECT e.level, e.sample_size, e.enough,
             e.p50_at = greatest(now(), portal.clock_at(portal.clock_time(s.read_started_at, c.rate, c.cum, c.calendar) + t.p50_s, c.rate, c.cum, c.calendar))
        FROM (SELECT (pg_temp.live('main', 'CT', interval '0')).*) s
       CROSS JOIN LATERAL portal.estimate_lookup(s, 'report_final') e,
             portal.estimate_clocks c, portal.turnaround_estimates t
       WHERE c.milestone = 'report_final' AND c.modality = 'CT' AND c.priority = 'routine'
         AND t.stage = 'reading' AND t.milestone = 'report_final' AND t.modality = 'CT'
         AND t.priority = 'routine' AND t.site = 'main' AND t.elapsed_s = e.elapsed_s$$,
    $$VALUES (0::smallint, 40, true, true)$$,
    'a study just in reading gets the site group, its p50 carried forward on the clock');
SELECT results_eq(
    $$SELECT level, sample_size FROM portal.estimate_lookup(pg_temp.live('north', 'CT', interval '0'), 'report_final')$$,
    $$VALUES (1::smallint, 50)$$, 'north has 10 studies (< 30): falls back to CT routine, all sites');
SELECT results_eq(
    $$SELECT level, sample_size, modality FROM portal.estimate_lookup(pg_temp.live('main', 'MR', interval '0'), 'report_final')$$,
    $$VALUES (3::smallint, 90, '*'::text)$$, 'no MR history: falls back to every study, on the broadest clock');
-- A group with enough studies but no p90 seen (too many still waiting) cannot answer either.
CREATE TEMP TABLE kept_p90 AS
SELECT p90_s FROM portal.turnaround_estimates
 WHERE stage = 'reading' AND milestone = 'report_final' AND elapsed_s = 0 AND modality = 'CT'
   AND priority = 'routine' AND site = 'main' AND week_part = 'any';
UPDATE portal.turnaround_estimates SET p90_s = 1e9
 WHERE stage = 'reading' AND milestone = 'report_final' AND elapsed_s = 0 AND modality = 'CT'
   AND priority = 'routine' AND site = 'main' AND week_part = 'any';
SELECT results_eq(
    $$SELECT level, sample_size, enough FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '0'), 'report_final')$$,
    $$VALUES (1::smallint, 50, true)$$, 'the site group''s p90 never seen: falls back to CT routine, all sites');
UPDATE portal.turnaround_estimates SET p90_s = (SELECT p90_s FROM kept_p90)
 WHERE stage = 'reading' AND milestone = 'report_final' AND elapsed_s = 0 AND modality = 'CT'
   AND priority = 'routine' AND site = 'main' AND week_part = 'any';
SELECT ok((SELECT elapsed_s > 0 FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '5 hours'), 'report_final')),
          'after 5 h in reading: a conditional estimate (a rung above 0)');
-- After long enough a wait, too few past studies waited as long: no times, never a guess.
SELECT results_eq(
    $$SELECT bool_or(NOT e.enough), bool_and(e.enough OR (e.p50_at IS NULL AND e.p90_at IS NULL))
        FROM generate_series(1, 120) h
       CROSS JOIN LATERAL portal.estimate_lookup(pg_temp.live('main', 'CT', make_interval(hours => h)),
                                                 'report_final') e$$,
    $$VALUES (true, true)$$, 'too few longer waits: no times');
SELECT is_empty(
    $$SELECT * FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '1 hour', 'physician_review'), 'report_final')$$,
    'no report_final estimate once the report is final');
SELECT is_empty(
    $$SELECT * FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '1 hour', 'cancelled'), 'report_final')$$,
    'no estimate for a cancelled study');
SELECT is_empty(
    $$SELECT * FROM portal.estimate_lookup(pg_temp.live('main', 'CT', interval '1 hour'), 'available')$$,
    'no history of releases (every snapshot still waiting): no available estimate');

-- Never in the past, whatever the time already waited (every 7 minutes up to 40 h), whichever
-- group answers; a quantile already behind is clamped to now.
SELECT is_empty(
    $$SELECT m, w FROM generate_series(0, 40 * 60, 7) w, (VALUES ('CT'), ('US'), ('MR')) x (m)
       CROSS JOIN LATERAL portal.estimate_lookup(pg_temp.live('main', m, make_interval(mins => w)),
                                                 'report_final') e
       WHERE e.enough AND (e.p50_at < now() OR e.p90_at < e.p50_at)$$,
    'conditional estimates are never in the past and p90 never before p50');

-- Overdue: past the p90 on entry, measured on the clock. A study whose start lies one clock
-- minute more (less) than that p90 before now is (is not) overdue.
CREATE TEMP TABLE p90 AS
SELECT t.p90_s, c.rate, c.cum, c.calendar FROM portal.turnaround_estimates t, portal.estimate_clocks c
 WHERE t.stage = 'reading' AND t.milestone = 'report_final' AND t.elapsed_s = 0 AND t.modality = 'CT'
   AND t.priority = 'routine' AND t.site = 'main' AND c.milestone = 'report_final'
   AND c.modality = 'CT' AND c.priority = 'routine';
SELECT ok(portal.study_overdue(pg_temp.live('main', 'CT',
          (SELECT now() - portal.clock_at(portal.clock_time(now(), rate, cum, calendar) - p90_s - 60, rate, cum, calendar) FROM p90))),
          'a clock minute past the entry p90: overdue');
SELECT ok(NOT portal.study_overdue(pg_temp.live('main', 'CT',
          (SELECT now() - portal.clock_at(portal.clock_time(now(), rate, cum, calendar) - p90_s + 60, rate, cum, calendar) FROM p90))),
          'a clock minute before the entry p90: not overdue');
-- The set the task counts and the staff are told about (portal.overdue_studies, one comparison per
-- study against each group's last on-time start) is exactly the studies study_overdue finds
-- overdue: three groups, starts from two clock hours before to two after the boundary.
SELECT count(*) FROM (SELECT pg_temp.live('main', x.m,
           now() - portal.clock_at(portal.clock_time(now(), e.rate, e.cum, e.calendar) - e.p90_s + d, e.rate, e.cum, e.calendar))
      FROM (VALUES ('CT'), ('US'), ('MR')) x (m)
     CROSS JOIN LATERAL portal.entry_p90('reading', x.m, 'routine', 'main') e
     CROSS JOIN generate_series(-7200, 7200, 900) d
     WHERE d <> 0) f \gset
SELECT ok((SELECT count(*) FILTER (WHERE portal.study_overdue(s)) >= 10
                  AND count(*) FILTER (WHERE NOT portal.study_overdue(s)) >= 10
             FROM portal.studies s WHERE s.stage NOT IN ('available', 'cancelled')),
          'studies in flight on both sides of their p90');
SELECT is_empty(
    $$SELECT s.id FROM portal.studies s
       WHERE s.stage NOT IN ('available', 'cancelled')
         AND (s.id IN (SELECT o.study_id FROM portal.overdue_studies(now()) o)) <> portal.study_overdue(s)$$,
    'overdue_studies names exactly the studies study_overdue finds overdue');
-- The same at a site in New York, when the last on-time start falls in the hour the wall clock
-- repeats (01:30 on 2026-11-01, at the end of daylight saving time): starts every 5 minutes from
-- 00:00 EDT to 02:55 EST, on both sides of it.
SELECT set_config('portal.site_timezone', 'America/New_York', true);
CREATE TEMP TABLE dst AS
SELECT portal.clock_at(portal.clock_time('2026-11-01 05:30+00', e.rate, e.cum, e.calendar) + e.p90_s, e.rate, e.cum, e.calendar) AS at
  FROM portal.entry_p90('reading', 'CT', 'routine', 'main') e;
SELECT count(*) FROM (SELECT pg_temp.live('main', 'CT', now() - ('2026-11-01 04:00+00'::timestamptz + make_interval(mins => 5 * i)))
                        FROM generate_series(0, 47) i) f \gset
SELECT ok((SELECT count(*) FILTER (WHERE portal.study_overdue(s, d.at)) >= 5
                  AND count(*) FILTER (WHERE NOT portal.study_overdue(s, d.at)) >= 5
             FROM portal.studies s, dst d
            WHERE s.stage = 'reading' AND s.read_started_at >= '2026-11-01 04:00+00'
              AND s.read_started_at < '2026-11-01 08:00+00'),
          'New York: starts around the repeated hour on both sides of their p90');
SELECT is_empty(
    $$SELECT s.id FROM portal.studies s, dst d
       WHERE s.stage NOT IN ('available', 'cancelled')
         AND (s.id IN (SELECT o.study_id FROM portal.overdue_studies(d.at) o)) <> portal.study_overdue(s, d.at)$$,
    'New York, the hour repeated: overdue_studies names exactly the studies study_overdue finds overdue');
SELECT set_config('portal.site_timezone', '', true);

-- The release (available) is estimated from snapshots: the remaining wait of the past studies
-- waiting at the same hour of the week after a wait in the same rung. NM routine at the east
-- site (apart from the fixtures above): two reports signed on Monday two weeks ago at 10:00 UTC,
-- released k hours later, for each k = 1..40. At 06:00 on Tuesday (hour 30 of the week, 20 hours
-- after the signature, rung 57600 s) 40 of them were waiting, with 1..20 hours to go, each
-- twice: p50 10 h (the 20th), p90 18 h (the 36th).
INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality, description,
                            priority, site, final_at, reviewable_version, released_version,
                            released_at)
SELECT 'EST-NM-' || k || '-' || i, (SELECT id FROM portal.patients WHERE mrn = 'EST-MRN'), 'EST-NPI',
       'NM', 'NM fixture', 'routine', 'east', fx.t0 - interval '7 days', 1, 1,
       fx.t0 - interval '7 days' + make_interval(hours => k)
  FROM fx, generate_series(1, 40) k, generate_series(1, 2) i;
SELECT lives_ok($$SELECT portal.refresh_estimates(interval '90 days')$$, 'refresh with releases');
SELECT results_eq(
    $$SELECT level, sample_size, p50_s, p90_s FROM portal.estimate_hours
       WHERE stage = 'physician_review' AND milestone = 'available' AND modality = 'NM'
         AND priority = 'routine' AND site = 'east' AND how = 30 AND wait_s = 57600$$,
    $$VALUES (0::smallint, 40, 36000::float8, 64800::float8)$$,
    'the hour-of-week cell holds the remaining waits of the snapshots at that hour and rung');

-- Where a rung has too few on every level, every study waiting at that hour with a wait in the
-- rung's band answers (wait_s -1: up to a day; elapsed_s NULL, so the basis does not claim a
-- similar wait).
SELECT is((SELECT sample_size FROM portal.estimate_hours
            WHERE stage = 'physician_review' AND milestone = 'available' AND modality = '*'
              AND how = 30 AND wait_s = -1),
          (SELECT count(*)::integer FROM portal.estimate_snapshots(now(), interval '90 days')
            WHERE stage = 'physician_review' AND how = 30 AND wait_s >= 0 AND wait_s < 86400),
          'the band row holds every snapshot at that hour that had waited up to a day');

-- A study in review since p_now - p_wait, asked at p_now (one week after the fixtures' Tuesday).
CREATE FUNCTION pg_temp.review(p_now timestamptz, p_wait interval) RETURNS portal.studies
LANGUAGE sql AS $$
    INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality, description,
                                priority, site, final_at, reviewable_version)
    VALUES ('EST-REV-' || gen_random_uuid(), (SELECT id FROM portal.patients WHERE mrn = 'EST-MRN'),
            'EST-NPI', 'NM', 'review fixture', 'routine', 'east', p_now - p_wait, 1)
    RETURNING *
$$;
CREATE TEMP TABLE tue AS SELECT (SELECT t0 FROM fx) + interval '20 hours' AS mark;   -- Tuesday 06:00
SELECT results_eq(
    $$SELECT e.level, e.sample_size, e.enough, e.p50_at - t.mark, e.p90_at - t.mark
        FROM tue t CROSS JOIN LATERAL portal.estimate_lookup(
             pg_temp.review(t.mark + interval '10 minutes', interval '20 hours 10 minutes'), 'available',
             t.mark + interval '10 minutes') e$$,
    $$VALUES (0::smallint, 40, true, interval '10 hours', interval '18 hours')$$,
    'available: the hour mark plus the quantiles of the remaining wait measured from it');
SELECT results_eq(
    $$SELECT e.p50_at, e.p90_at
        FROM tue t CROSS JOIN LATERAL portal.estimate_lookup(
             pg_temp.review(t.mark + interval '55 minutes', interval '20 hours 55 minutes'), 'available',
             t.mark + interval '55 minutes') e$$,
    $$SELECT t.mark + interval '10 hours', t.mark + interval '18 hours' FROM tue t$$,
    'the same answer all through the hour (it changes at the next hour mark or rung)');
SELECT results_eq(
    $$SELECT e.enough, e.p50_at IS NULL AND e.p90_at IS NULL
        FROM tue t CROSS JOIN LATERAL portal.estimate_lookup(
             pg_temp.review(t.mark + interval '19 hours 10 minutes', interval '39 hours 10 minutes'),
             'available', t.mark + interval '19 hours 10 minutes') e$$,
    $$VALUES (false, true)$$, 'two snapshots after 39 hours: too few, no times');
-- Made answerable by hand, the band row answers a study whose rung has none.
UPDATE portal.estimate_hours SET sample_size = 99, p50_s = 3600, p90_s = 7200
 WHERE stage = 'physician_review' AND milestone = 'available' AND modality = '*' AND how = 30
   AND wait_s = -1;
SELECT results_eq(
    $$SELECT e.level, e.sample_size, e.elapsed_s, e.p50_at - t.mark, e.p90_at - t.mark
        FROM tue t CROSS JOIN LATERAL portal.estimate_lookup(
             pg_temp.review(t.mark + interval '10 minutes', interval '70 minutes'), 'available',
             t.mark + interval '10 minutes') e$$,
    $$VALUES (3::smallint, 99, NULL::integer, interval '1 hour', interval '2 hours')$$,
    'a thin rung falls back to its band at that hour');
SELECT is_empty(
    $$SELECT j, m FROM generate_series(-9, 40) j, generate_series(0, 59, 7) m, tue t
       CROSS JOIN LATERAL (SELECT t.mark + make_interval(hours => j - 20, mins => m) AS at) n
       CROSS JOIN LATERAL portal.estimate_lookup(pg_temp.review(n.at, make_interval(hours => j + 10, mins => m)),
                                                 'available', n.at) e
       WHERE e.enough AND (e.p50_at < n.at + interval '1 minute' OR e.p90_at < e.p50_at)$$,
    'available estimates are never in the past and p90 never before p50');

SELECT table_privs_are('portal', 'turnaround_estimates', 'portal_app', ARRAY['SELECT'],
                       'portal_app reads the estimates and cannot write them');
SELECT function_privs_are('portal', 'estimate_rows', ARRAY['timestamp with time zone', 'interval', 'portal.estimate_clocks[]', 'integer[]'],
                          'portal_app', ARRAY[]::text[], 'portal_app cannot run the history scan itself');

-- A report left unreleased is sampled up to a wait of three weeks only, so that reports never
-- released cannot make each rebuild grow with the window (one snapshot an hour for 90 days): one
-- final 30 days ago, on the hour, has 503 marks (1 h to 503 h), none beyond the cap.
INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality, description,
                            priority, site, final_at, reviewable_version)
VALUES ('EST-CAP', (SELECT id FROM portal.patients WHERE mrn = 'EST-MRN'), 'EST-NPI', 'NM',
        'cap fixture', 'routine', 'cap-site', date_trunc('hour', now()) - interval '30 days', 1);
SELECT results_eq(
    $$SELECT count(*)::integer, max(wait_s) FROM portal.estimate_snapshots(now(), interval '90 days')
       WHERE site = 'cap-site'$$,
    $$VALUES (503, 1209600)$$,
    'an unreleased report is sampled up to three weeks of waiting, in the top rung past two');

-- The queue's trend (portal.estimate_rows): 40 XR reads entered the queue in each of the last five
-- fortnights (7, 21, 35, 49 and 63 days ago), each group waiting about p_waits[k] (most recent
-- first). When the earlier fortnights waited alike and the last one twice as long, the step is
-- beyond the site's own spread and every wait is taken at today's pace, 2^(age / 14) longer (age
-- at most 28 days): the recent two hours become 2 h x 2^(7/14). When the earlier fortnights
-- alternated between one and two hours, the same last step is within that spread and the waits
-- are taken as they came. On a flat clock, so clock seconds are plain seconds.
CREATE TEMP TABLE flat_clock AS
SELECT ARRAY[ROW('report_final', '*', '*', 200, array_fill(1::float8, ARRAY[168]),
                 (SELECT array_agg(h::float8 ORDER BY h) FROM generate_series(0, 168) h), '{}'::float8[])::portal.estimate_clocks] AS clocks;
CREATE FUNCTION pg_temp.xr_queue(p_waits interval[]) RETURNS double precision
LANGUAGE sql AS $f$
    DELETE FROM portal.studies WHERE accession LIKE 'EST-XR-%';
    INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality, description,
                                priority, site, exam_completed_at, final_at, reviewable_version)
    SELECT 'EST-XR-' || g || '-' || k, (SELECT id FROM portal.patients WHERE mrn = 'EST-MRN'), 'EST-NPI', 'XR',
           'XR fixture', 'routine', 'main', now() - make_interval(days => 7 + 14 * (g - 1)),
           now() - make_interval(days => 7 + 14 * (g - 1)) + p_waits[g] + make_interval(secs => k), 1
      FROM generate_series(1, 40) k CROSS JOIN generate_series(1, 5) g;
    SELECT r.p50_s FROM flat_clock f, portal.estimate_rows(now(), interval '90 days', f.clocks, ARRAY[0]) r
     WHERE r.stage = 'awaiting_read' AND r.milestone = 'report_final' AND r.modality = 'XR'
       AND r.priority = 'routine' AND r.site = 'main';
$f$;
SELECT ok((SELECT pg_temp.xr_queue(ARRAY['2 hours', '1 hour', '1 hour', '1 hour', '1 hour']::interval[])
                  BETWEEN 7200 * 2 ^ (7 / 14.0) AND 7200 * 2 ^ (7 / 14.0) + 120),
          'the queue''s wait doubled in the last fortnight, after steady ones: every wait at today''s pace');
SELECT ok((SELECT pg_temp.xr_queue(ARRAY['2 hours', '1 hour', '2 hours', '1 hour', '2 hours']::interval[])
                  BETWEEN 7200 AND 7200 + 60),
          'the same step after fortnights that went up and down as much: the waits as they came');
-- Growing for two fortnights: the step before the last is part of the same growth, not of the
-- spread (the median absolute step of the earlier ones is 0). Today's pace: 4 h x 2^(7/14) for the
-- recent waits, which weigh three quarters of all.
SELECT ok((SELECT pg_temp.xr_queue(ARRAY['4 hours', '2 hours', '1 hour', '1 hour', '1 hour']::interval[])
                  BETWEEN 14400 * 2 ^ (7 / 14.0) AND 14400 * 2 ^ (7 / 14.0) + 120),
          'the queue''s wait doubled in each of the last two fortnights: the last step taken all the same');

SELECT * FROM finish();
ROLLBACK;
