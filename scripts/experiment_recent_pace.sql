-- Issue 18 experiment, not product code: would report_final hold on a growing backlog if the
-- clock were rolled forward at the site's recent pace? Replays the every-hour backtest's
-- questions for report_final (as portal.backtest_hours asks them, with the models of each day
-- from portal.backtest_models) and scores five variants side by side: "base" (the lookup as it
-- is), "group" and "top" (each quantile, on the clock from the stage's anchor, divided by
-- the recent pace and the wait so far multiplied by it to find the rung; the pace: milestones
-- reached per clock-second at risk in the last :recent days over the window's, shrunk with :k
-- events, per clock group or pooled), "qgroup" and "qtop" (Little's law: the number usually
-- waiting at that moment of the week over the number waiting now, times the recent over the
-- window's throughput, shrunk with :kq). Prints the hours in band as `portald backtest
-- --every-hour` does. Read-only (rolls back). Figures and commands: docs/estimates.md.
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=7 -v window=28 -v recent=7 -v k=20 -v kq=5 \
--        -f scripts/experiment_recent_pace.sql
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
CREATE TEMP TABLE params AS
SELECT date_trunc('hour', now() - interval '7 days') AS v_to,
       date_trunc('hour', now() - interval '7 days') - make_interval(days => :days) AS v_from,
       make_interval(days => :window) AS win;
SELECT portal.backtest_models(v_from, v_to, win, portal.estimate_ladder()) FROM params;
CREATE TEMP TABLE backtest_questions AS
SELECT q.* FROM params p, portal.backtest_hour_questions(p.v_from, p.v_to) q
 WHERE q.ms = 'report_final';
-- Exposure on each day's clock: the study-seconds at risk of report_final, in clock seconds, in
-- the window and in its last :recent days; events likewise; per group and pooled.
CREATE TEMP TABLE pace_raw AS
SELECT c.as_of, c.modality, c.priority,
       count(*) FILTER (WHERE s.final_at >= c.as_of - w.win AND s.final_at < c.as_of) AS e_win,
       count(*) FILTER (WHERE s.final_at >= c.as_of - make_interval(days => :recent) AND s.final_at < c.as_of) AS e_rec,
       sum(greatest(0, portal.clock_time(least(coalesce(s.final_at, c.as_of), c.as_of), c.rate, c.cum, c.calendar)
                    - portal.clock_time(greatest(x.from_at, c.as_of - w.win), c.rate, c.cum, c.calendar))) AS x_win,
       sum(greatest(0, portal.clock_time(least(coalesce(s.final_at, c.as_of), c.as_of), c.rate, c.cum, c.calendar)
                    - portal.clock_time(greatest(x.from_at, c.as_of - make_interval(days => :recent)), c.rate, c.cum, c.calendar))) AS x_rec
  FROM pg_temp.backtest_clocks c
 CROSS JOIN (SELECT win FROM params) w
  JOIN portal.studies s ON s.cancelled_at IS NULL
   AND (c.modality = '*' OR s.modality = c.modality) AND (c.priority = '*' OR s.priority = c.priority)
 CROSS JOIN LATERAL (SELECT coalesce(s.exam_completed_at, least(s.read_started_at, s.preliminary_at)) AS from_at) x
 WHERE c.milestone = 'report_final' AND x.from_at < c.as_of
   AND coalesce(s.final_at, 'infinity') > c.as_of - w.win
 GROUP BY 1, 2, 3;
CREATE TEMP TABLE pace AS
SELECT r.as_of, r.modality, r.priority,
       (r.e_rec + :k) / (r.x_rec * r.e_win / nullif(r.x_win, 0) + :k) AS pace
  FROM pace_raw r;
CREATE TEMP TABLE queue AS
SELECT c.as_of, c.modality, c.priority,
       count(*) FILTER (WHERE x.from_at < c.as_of AND coalesce(s.final_at, 'infinity') > c.as_of) AS l_now,
       (count(*) FILTER (WHERE x.from_at < c.as_of - interval '7 days' AND coalesce(s.final_at, 'infinity') > c.as_of - interval '7 days')
        + count(*) FILTER (WHERE x.from_at < c.as_of - interval '14 days' AND coalesce(s.final_at, 'infinity') > c.as_of - interval '14 days')
        + count(*) FILTER (WHERE x.from_at < c.as_of - interval '21 days' AND coalesce(s.final_at, 'infinity') > c.as_of - interval '21 days')
        + count(*) FILTER (WHERE x.from_at < c.as_of - interval '28 days' AND coalesce(s.final_at, 'infinity') > c.as_of - interval '28 days'))
       / 4.0 AS l_usual
  FROM pg_temp.backtest_clocks c
  JOIN portal.studies s ON s.cancelled_at IS NULL
   AND (c.modality = '*' OR s.modality = c.modality) AND (c.priority = '*' OR s.priority = c.priority)
 CROSS JOIN LATERAL (SELECT coalesce(s.exam_completed_at, least(s.read_started_at, s.preliminary_at)) AS from_at) x
 WHERE c.milestone = 'report_final' AND x.from_at < c.as_of
   AND coalesce(s.final_at, 'infinity') > c.as_of - interval '29 days'
 GROUP BY 1, 2, 3;
CREATE TEMP TABLE qpace AS
SELECT q.as_of, q.modality, q.priority,
       ((q.l_usual + :kq) / (q.l_now + :kq))
       * ((r.e_rec / :recent::double precision + :kq / 7.0) / (r.e_win / extract(day FROM (SELECT win FROM params)) + :kq / 7.0)) AS pace
  FROM queue q JOIN pace_raw r USING (as_of, modality, priority);
SELECT as_of::date, round(min(pace)::numeric, 2) AS qmin, round(max(pace)::numeric, 2) AS qmax,
       round(max(pace) FILTER (WHERE modality = '*')::numeric, 2) AS qtop
  FROM qpace GROUP BY 1 ORDER BY 1;
SELECT as_of::date, round(min(pace)::numeric, 2) AS min, round(max(pace)::numeric, 2) AS max,
       round(max(pace) FILTER (WHERE modality = '*')::numeric, 2) AS top
  FROM pace GROUP BY 1 ORDER BY 1;
CREATE TEMP TABLE scored AS
SELECT q.id, q.asked_at, q.done_at, v.variant, e.ok,
       greatest(q.asked_at, portal.clock_at(greatest(k.anchor_c + e.p50_s / v.f, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p50_at,
       greatest(q.asked_at, portal.clock_at(greatest(k.anchor_c + e.p90_s / v.f, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p90_at
  FROM backtest_questions q
 CROSS JOIN LATERAL (
       SELECT c.rate, c.cum, c.calendar, c.modality, c.priority, portal.clock_time(q.anchor_at, c.rate, c.cum, c.calendar) AS anchor_c,
              portal.clock_time(q.asked_at, c.rate, c.cum, c.calendar) AS asked_c
         FROM (VALUES (q.mod, q.pri, 0), (q.mod, '*', 1), ('*', '*', 2)) kk (modality, priority, rank)
         JOIN pg_temp.backtest_clocks c ON c.as_of = date_trunc('day', q.asked_at)
          AND c.milestone = q.ms AND c.modality = kk.modality AND c.priority = kk.priority
        ORDER BY kk.rank LIMIT 1) k
 CROSS JOIN LATERAL (
       SELECT 'base' AS variant, 1.0::double precision AS f
       UNION ALL
       SELECT 'group', p.pace FROM pace p WHERE p.as_of = date_trunc('day', q.asked_at)
          AND p.modality = k.modality AND p.priority = k.priority
       UNION ALL
       SELECT 'top', p.pace FROM pace p WHERE p.as_of = date_trunc('day', q.asked_at)
          AND p.modality = '*' AND p.priority = '*'
       UNION ALL
       SELECT 'qgroup', p.pace FROM qpace p WHERE p.as_of = date_trunc('day', q.asked_at)
          AND p.modality = k.modality AND p.priority = k.priority
       UNION ALL
       SELECT 'qtop', p.pace FROM qpace p WHERE p.as_of = date_trunc('day', q.asked_at)
          AND p.modality = '*' AND p.priority = '*') v
 CROSS JOIN LATERAL (
       SELECT b.p50_s, b.p90_s, b.sample_size >= portal.estimate_min_samples() AS ok
         FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c
         JOIN pg_temp.backtest_model b ON b.as_of = date_trunc('day', q.asked_at)
          AND b.elapsed_s = portal.estimate_bucket((k.asked_c - k.anchor_c) * v.f)
          AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = c.modality
          AND b.priority = c.priority AND b.site = c.site
        ORDER BY portal.estimate_preference(c.rank, b.sample_size)
        LIMIT 1) e;
\ir experiment_band.sql
ROLLBACK;
