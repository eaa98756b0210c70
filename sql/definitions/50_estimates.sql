-- Turnaround estimates (issue 4): the site's own history, reduced to conditional quantiles in a
-- small table that a request reads by index and never recomputes. docs/estimates.md explains the
-- model; portal.refresh_estimates rebuilds the table, portal.estimate_lookup reads it for one
-- study, portal.backtest replays the past to show how well the numbers held. The table
-- (portal.turnaround_estimates, with portal.estimates_state) is in sql/migrations/0003_estimates.sql,
-- with what its columns mean.

-- ---------------------------------------------------------------------------------------------
-- Constants, each in one place.
-- ---------------------------------------------------------------------------------------------

-- A group with fewer durations than this is not trusted: the next broader group is used, and
-- when even the broadest has too few the patient is told so instead of a guess.
CREATE OR REPLACE FUNCTION portal.estimate_min_samples() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 30';

-- The elapsed-time ladder (seconds spent in the stage) for which conditional quantiles are kept:
-- a study that has waited t is estimated from the past studies that waited longer than the
-- highest rung at or below t.
CREATE OR REPLACE FUNCTION portal.estimate_ladder() RETURNS integer[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[0, 900, 1800, 3600, 5400, 7200, 10800, 14400, 21600, 28800, 43200, 64800,
                 86400, 129600, 172800, 259200, 345600, 432000, 604800, 864000, 1209600,
                 1814400, 2419200]
$$;

-- The highest rung at or below p_elapsed_s (0 below the first rung or when unknown). One
-- expression without FROM, so the planner inlines it into the lookup instead of planning a query
-- for it on every execution.
CREATE OR REPLACE FUNCTION portal.estimate_bucket(p_elapsed_s double precision) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((portal.estimate_ladder())
                        [width_bucket(p_elapsed_s, portal.estimate_ladder()::double precision[])], 0)
$$;

-- Time of week of a stage entry, in the site's time zone: 'weekday' (Monday to Friday,
-- 08:00-18:00), 'weeknight' (the evenings and nights from Monday to Thursday) or 'weekend' (Friday
-- 18:00 to Monday 08:00): an exam done on Friday evening waits for Monday, one done on Tuesday
-- evening only for the morning. The zone is the database setting portal.site_timezone
-- (ALTER DATABASE portal SET portal.site_timezone = 'Europe/Paris'), UTC when unset.
-- The hour of the week is written as ISO day * 100 + hour (108 is Monday 08:00) and placed
-- between the hours where the part changes (width_bucket). One expression without FROM, so the
-- planner inlines it; a query here was planned anew on every execution of every page's statement.
CREATE OR REPLACE FUNCTION portal.week_part(p_at timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((ARRAY['weekend', 'weekday', 'weeknight', 'weekday', 'weeknight', 'weekday',
                           'weeknight', 'weekday', 'weeknight', 'weekday', 'weekend'])
                        [width_bucket(to_char(p_at AT TIME ZONE
                                                  coalesce(nullif(current_setting('portal.site_timezone', true), ''),
                                                           'UTC'),
                                              'IDHH24')::integer,
                                      ARRAY[100, 108, 118, 208, 218, 308, 318, 408, 418, 508, 518])],
                    'weeknight')
$$;

-- The hour of the week in the site's time zone: 0 is Monday 00:00-01:00, 167 Sunday 23:00-24:00.
CREATE OR REPLACE FUNCTION portal.hour_of_week(p_at timestamptz) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT (to_char(p_at AT TIME ZONE coalesce(nullif(current_setting('portal.site_timezone', true), ''), 'UTC'),
                    'ID')::integer - 1) * 24
           + extract(hour FROM p_at AT TIME ZONE coalesce(nullif(current_setting('portal.site_timezone', true), ''), 'UTC'))::integer
$$;

-- ---------------------------------------------------------------------------------------------
-- Stages as spans of time, from the lifecycle columns.
-- ---------------------------------------------------------------------------------------------

-- The position of a stage in the lifecycle, and the stages whose milestone has not passed.
CREATE OR REPLACE FUNCTION portal.stage_order(p_stage text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT array_position(ARRAY['ordered', 'scheduled', 'checked_in', 'imaging', 'awaiting_read',
                                'reading', 'physician_review', 'available'], p_stage)
$$;

-- Whether a milestone is still ahead of a study in this stage. report_final is passed once the
-- study is in physician_review; available is the end. Cancelled and available studies have none.
CREATE OR REPLACE FUNCTION portal.milestone_ahead(p_stage text, p_milestone text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_milestone
               WHEN 'report_final' THEN portal.stage_order(p_stage) BETWEEN 1 AND 6
               WHEN 'available' THEN portal.stage_order(p_stage) BETWEEN 1 AND 7
               ELSE false END
$$;

-- The time an estimate for this stage counts from. For a booked exam that is the appointment,
-- not the booking: how long a report takes depends on when the exam happens.
CREATE OR REPLACE FUNCTION portal.stage_anchor(s portal.studies, p_stage text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_stage
               WHEN 'ordered' THEN s.ordered_at
               WHEN 'scheduled' THEN coalesce(s.scheduled_for, s.scheduled_at)
               WHEN 'checked_in' THEN s.arrived_at
               WHEN 'imaging' THEN s.exam_started_at
               WHEN 'awaiting_read' THEN s.exam_completed_at
               WHEN 'reading' THEN least(s.read_started_at, s.preliminary_at)
               WHEN 'physician_review' THEN s.final_at
           END
$$;

-- Every stage a study went through: when it was reached, the anchor its estimate counts from,
-- and when the study left it (the first later stage reached). Stages skipped (a walk-in X-ray is
-- never booked) or reached out of order (a late event) have no span.
CREATE OR REPLACE FUNCTION portal.study_stage_spans(s portal.studies)
RETURNS TABLE (stage text, ord integer, reached_at timestamptz, anchor_at timestamptz,
               left_at timestamptz)
LANGUAGE sql IMMUTABLE AS $$
    SELECT m.stage, m.ord, m.reached_at, portal.stage_anchor(s, m.stage), m.left_at
      FROM (VALUES
            (1, 'ordered', s.ordered_at,
             least(s.scheduled_at, s.arrived_at, s.exam_started_at, s.exam_completed_at,
                   s.read_started_at, s.preliminary_at, s.final_at, s.released_at)),
            (2, 'scheduled', s.scheduled_at,
             least(s.arrived_at, s.exam_started_at, s.exam_completed_at, s.read_started_at,
                   s.preliminary_at, s.final_at, s.released_at)),
            (3, 'checked_in', s.arrived_at,
             least(s.exam_started_at, s.exam_completed_at, s.read_started_at, s.preliminary_at,
                   s.final_at, s.released_at)),
            (4, 'imaging', s.exam_started_at,
             least(s.exam_completed_at, s.read_started_at, s.preliminary_at, s.final_at,
                   s.released_at)),
            (5, 'awaiting_read', s.exam_completed_at,
             least(s.read_started_at, s.preliminary_at, s.final_at, s.released_at)),
            (6, 'reading', least(s.read_started_at, s.preliminary_at),
             least(s.final_at, s.released_at)),
            (7, 'physician_review', s.final_at, s.released_at)) m (ord, stage, reached_at, left_at)
     WHERE m.reached_at IS NOT NULL AND m.reached_at <= coalesce(m.left_at, 'infinity')
$$;

-- The durations history holds: for each study that reached a milestone in [p_from, p_to), each
-- stage it went through before, the time from the stage's anchor to the milestone (duration_s)
-- and the time it spent in the stage (stay_s, which the conditional quantiles condition on).
-- Selecting by the milestone's time, not the stage's, keeps slow studies in: in a steady state
-- every duration is as likely to end inside the window as any other.
CREATE OR REPLACE FUNCTION portal.estimate_samples(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (study_id uuid, modality text, priority text, site text, stage text,
               milestone text, anchor_at timestamptz, week_part text, stay_s double precision,
               duration_s double precision)
LANGUAGE sql STABLE AS $$
    SELECT st.id, st.modality, st.priority, st.site, sp.stage, m.milestone, sp.anchor_at,
           portal.week_part(sp.anchor_at),
           extract(epoch FROM coalesce(sp.left_at, m.at) - sp.anchor_at),
           extract(epoch FROM m.at - sp.anchor_at)
      FROM (SELECT s.id, 'report_final' AS milestone, s.final_at AS at FROM portal.studies s
             WHERE s.final_at >= p_from AND s.final_at < p_to AND s.cancelled_at IS NULL
            UNION ALL
            SELECT s.id, 'available', s.released_at FROM portal.studies s
             WHERE s.released_at >= p_from AND s.released_at < p_to AND s.cancelled_at IS NULL) m
      JOIN portal.studies st ON st.id = m.id
     CROSS JOIN LATERAL portal.study_stage_spans(st) sp
     WHERE portal.milestone_ahead(sp.stage, m.milestone)
       AND sp.anchor_at IS NOT NULL AND m.at >= sp.anchor_at
$$;

-- ---------------------------------------------------------------------------------------------
-- The model: quantiles per group, stage, milestone, time of week and time already waited.
-- ---------------------------------------------------------------------------------------------

-- The quantiles as of p_as_of from the milestones reached in the p_window before it, for the
-- given rungs of the ladder. Used by the refresh (now, every rung) and the backtest (each past
-- day, rung 0), so both compute exactly the same thing.
CREATE OR REPLACE FUNCTION portal.estimate_rows(p_as_of timestamptz, p_window interval,
                                                p_rungs integer[] DEFAULT portal.estimate_ladder())
RETURNS TABLE (modality text, priority text, site text, week_part text, level smallint,
               stage text, milestone text, elapsed_s integer, sample_size integer,
               p50_s double precision, p90_s double precision)
LANGUAGE sql STABLE SET work_mem = '64MB' AS $$
    SELECT coalesce(x.modality, '*'), coalesce(x.priority, '*'), coalesce(x.site, '*'),
           coalesce(x.week_part, 'any'),
           (CASE WHEN GROUPING(x.site) = 0 THEN 0 WHEN GROUPING(x.priority) = 0 THEN 1
                 WHEN GROUPING(x.modality) = 0 THEN 2 ELSE 3 END)::smallint,
           x.stage, x.milestone, x.rung, count(*)::integer,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x.duration_s),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY x.duration_s)
      FROM (SELECT sm.modality, sm.priority, sm.site, sm.week_part, sm.stage, sm.milestone,
                   sm.duration_s, r.rung
              FROM portal.estimate_samples(p_as_of - p_window, p_as_of) sm
             CROSS JOIN LATERAL (SELECT u.rung FROM unnest(p_rungs) u (rung)
                                  WHERE u.rung = 0 OR sm.stay_s > u.rung) r) x
     GROUP BY x.stage, x.milestone, x.rung,
              GROUPING SETS ((x.modality, x.priority, x.site, x.week_part),
                             (x.modality, x.priority, x.site),
                             (x.modality, x.priority, x.week_part), (x.modality, x.priority),
                             (x.modality, x.week_part), (x.modality), (x.week_part), ())
$$;

-- The groups to try for a study, most specific first: each level with the study's time of week,
-- then the same level for any time of week.
CREATE OR REPLACE FUNCTION portal.estimate_candidates(p_modality text, p_priority text, p_site text,
                                                      p_week_part text)
RETURNS TABLE (modality text, priority text, site text, week_part text, rank integer)
LANGUAGE sql IMMUTABLE AS $$
    VALUES (p_modality, p_priority, p_site, p_week_part, 0), (p_modality, p_priority, p_site, 'any', 1),
           (p_modality, p_priority, '*', p_week_part, 2), (p_modality, p_priority, '*', 'any', 3),
           (p_modality, '*', '*', p_week_part, 4), (p_modality, '*', '*', 'any', 5),
           ('*', '*', '*', p_week_part, 6), ('*', '*', '*', 'any', 7)
$$;

-- Which candidate wins: the most specific one with enough samples; when none has enough, the one
-- with the most (it is then reported as too few, never as a time).
CREATE OR REPLACE FUNCTION portal.estimate_preference(p_rank integer, p_sample_size integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_sample_size >= portal.estimate_min_samples() THEN p_rank
                ELSE 1000000000 - p_sample_size END
$$;

-- The estimate for one milestone of one study in flight, read from the table by primary key:
-- one row while the milestone is ahead and the table holds history for it, else none. p50_at and
-- p90_at are the conditional quantiles given the time already spent in the stage, never before
-- p_now; both are NULL when too few past studies waited as long (enough = false).
CREATE OR REPLACE FUNCTION portal.estimate_lookup(s portal.studies, p_milestone text,
                                                  p_now timestamptz DEFAULT now())
RETURNS TABLE (modality text, priority text, site text, week_part text, level smallint,
               sample_size integer, p50_at timestamptz, p90_at timestamptz, enough boolean,
               elapsed_s integer, window_days integer)
LANGUAGE sql STABLE AS $$
    SELECT e.modality, e.priority, e.site, e.week_part, e.level, e.sample_size,
           CASE WHEN ok THEN greatest(p_now, a.at + e.p50_s * interval '1 second') END,
           CASE WHEN ok THEN greatest(p_now, a.at + e.p90_s * interval '1 second') END,
           ok, e.elapsed_s, st.window_days
      FROM (SELECT x.at, portal.week_part(x.at) AS wp,
                   portal.estimate_bucket(extract(epoch FROM p_now - x.at)) AS rung
              FROM (SELECT coalesce(portal.stage_anchor(s, s.stage), s.created_at) AS at) x
            OFFSET 0) a   -- computed once, not once per candidate row
     CROSS JOIN LATERAL portal.estimate_candidates(s.modality, s.priority, s.site, a.wp) c
     CROSS JOIN LATERAL (
           SELECT t.* FROM portal.turnaround_estimates t   -- one primary-key probe per candidate
            WHERE t.stage = s.stage AND t.milestone = p_milestone AND t.elapsed_s = a.rung
              AND t.modality = c.modality AND t.priority = c.priority AND t.site = c.site
              AND t.week_part = c.week_part) e
     CROSS JOIN portal.estimates_state st
     CROSS JOIN LATERAL (SELECT e.sample_size >= portal.estimate_min_samples() AS ok) k
     WHERE portal.milestone_ahead(s.stage, p_milestone)
     ORDER BY portal.estimate_preference(c.rank, e.sample_size)
     LIMIT 1
$$;

-- The p90 given on entering a stage (rung 0) for the stage's next milestone, from the most specific
-- group with enough history; no row when none has. A set-returning SQL function of plain values,
-- so the planner inlines it into its callers.
CREATE OR REPLACE FUNCTION portal.entry_p90(p_stage text, p_modality text, p_priority text, p_site text,
                                            p_week_part text)
RETURNS TABLE (p90_s double precision) LANGUAGE sql STABLE AS $$
    SELECT t.p90_s
      FROM (SELECT CASE WHEN p_stage = 'physician_review' THEN 'available'
                        ELSE 'report_final' END AS milestone) m
     CROSS JOIN LATERAL portal.estimate_candidates(p_modality, p_priority, p_site, p_week_part) c
      JOIN portal.turnaround_estimates t   -- one primary-key probe per candidate
        ON t.stage = p_stage AND t.milestone = m.milestone AND t.elapsed_s = 0
       AND t.modality = c.modality AND t.priority = c.priority AND t.site = c.site
       AND t.week_part = c.week_part
     WHERE portal.milestone_ahead(p_stage, m.milestone)
       AND t.sample_size >= portal.estimate_min_samples()
     ORDER BY c.rank
     LIMIT 1
$$;

-- Overdue: the study has been in its stage longer than the p90 given on entering it (rung 0) for
-- the stage's next milestone. The conditional p90 moves on as time passes; this one does not.
CREATE OR REPLACE FUNCTION portal.study_overdue(s portal.studies, p_now timestamptz DEFAULT now())
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT p_now > a.at + e.p90_s * interval '1 second'
          FROM (SELECT coalesce(portal.stage_anchor(s, s.stage), s.created_at) AS at OFFSET 0) a
         CROSS JOIN LATERAL portal.entry_p90(s.stage, s.modality, s.priority, s.site,
                                             portal.week_part(a.at)) e), false)
$$;

-- Rebuilds the table from the milestones of the last p_window, in one transaction: readers keep
-- seeing the previous numbers until it commits.
CREATE OR REPLACE FUNCTION portal.refresh_estimates(p_window interval DEFAULT interval '90 days')
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_rows integer;
    v_samples bigint;
BEGIN
    IF p_window IS NULL OR p_window < interval '1 day' OR p_window > interval '3660 days' THEN
        RAISE EXCEPTION 'window: must be from 1 to 3660 days' USING ERRCODE = 'PT422';
    END IF;
    DELETE FROM portal.turnaround_estimates;
    INSERT INTO portal.turnaround_estimates (modality, priority, site, week_part, level, stage,
                                             milestone, elapsed_s, sample_size, p50_s, p90_s)
    SELECT r.modality, r.priority, r.site, r.week_part, r.level, r.stage, r.milestone,
           r.elapsed_s, r.sample_size, r.p50_s, r.p90_s
      FROM portal.estimate_rows(now(), p_window) r;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    SELECT coalesce(sum(e.sample_size), 0) INTO v_samples FROM portal.turnaround_estimates e
     WHERE e.level = 3 AND e.week_part = 'any' AND e.elapsed_s = 0;
    INSERT INTO portal.estimates_state (id, refreshed_at, window_days, samples, rows, took_ms)
    VALUES (true, now(), extract(day FROM p_window)::integer, v_samples, v_rows,
            (extract(epoch FROM clock_timestamp() - v_started) * 1000)::integer)
    ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at,
        window_days = excluded.window_days, samples = excluded.samples, rows = excluded.rows,
        took_ms = excluded.took_ms;
    -- Fresh statistics at once, so the lookups plan one primary-key probe per candidate group
    -- (with stale ones the planner may scan a whole stage per study).
    ANALYZE portal.turnaround_estimates;
    ANALYZE portal.estimates_state;
    RETURN v_rows;
END $$;

-- What the background task in `portald serve` calls: refreshes unless another instance holds the
-- refresh lock now ('busy') or refreshed less than p_min_age_s ago ('fresh'). The lock is a
-- transaction-level advisory lock, so a dropped connection can never leave it held.
CREATE OR REPLACE FUNCTION portal.refresh_estimates_if_due(p_window_days integer, p_min_age_s integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(7277710004) THEN
        RETURN 'busy';
    END IF;
    IF EXISTS (SELECT FROM portal.estimates_state
                WHERE refreshed_at > now() - make_interval(secs => p_min_age_s)
                  AND window_days = p_window_days) THEN
        RETURN 'fresh';
    END IF;
    PERFORM portal.refresh_estimates(make_interval(days => p_window_days));
    RETURN 'refreshed';
END $$;

-- In-flight studies past their p90, by stage, for /metrics: portal.study_overdue of each, written
-- as one query. The p90 depends only on the study's group, stage and time of week (a few hundred
-- combinations), so it is looked up once per combination and joined to the studies, instead of a
-- function call per study (over a minute of CPU at 1,000,000 studies). Both scans read only the
-- studies in flight (studies_unfinished_idx where they are few).
CREATE OR REPLACE FUNCTION portal.overdue_counts()
RETURNS TABLE (stage text, overdue bigint) LANGUAGE sql STABLE AS $$
    SELECT i.stage, count(*) FILTER (WHERE now() > i.at + p.p90_s * interval '1 second')
      FROM (SELECT s.stage, s.modality, s.priority, s.site, a.at, portal.week_part(a.at) AS wp
              FROM portal.studies s
             CROSS JOIN LATERAL (SELECT coalesce(portal.stage_anchor(s, s.stage), s.created_at) AS at) a
             WHERE s.stage NOT IN ('available', 'cancelled')) i
      LEFT JOIN (SELECT k.stage, k.modality, k.priority, k.site, w.wp, e.p90_s
                   FROM (SELECT DISTINCT s.stage, s.modality, s.priority, s.site FROM portal.studies s
                          WHERE s.stage NOT IN ('available', 'cancelled')) k
                  CROSS JOIN (VALUES ('weekday'), ('weeknight'), ('weekend')) w (wp)
                  CROSS JOIN LATERAL portal.entry_p90(k.stage, k.modality, k.priority, k.site, w.wp) e) p
        ON p.stage = i.stage AND p.modality = i.modality AND p.priority = i.priority
       AND p.site = i.site AND p.wp = i.wp
     GROUP BY i.stage
$$;

-- ---------------------------------------------------------------------------------------------
-- Backtest: what we would have said, against what happened.
-- ---------------------------------------------------------------------------------------------

-- For every stage entered in the p_days before p_now (every study, every milestone ahead of
-- it): the estimate the model built at the start of that day would have given on entry, using
-- only milestones reached before that midnight (no look-ahead). Only entries whose p90 lies
-- before p_now are scored, so each outcome is known whichever way it went; a study still
-- unfinished counts as missing both quantiles and has no error in hours. With p_conditional the
-- study is also asked again at each rung of the ladder it was still in the stage (the model then
-- holds every rung, and the run takes several times longer), clamped to that moment as the
-- lookup clamps to now. "studies" counts the
-- distinct studies behind the scored entries: the entries of one study move together, so that
-- is the number to weigh a coverage by.
CREATE OR REPLACE FUNCTION portal.backtest(p_days integer, p_window interval DEFAULT interval '90 days',
                                           p_now timestamptz DEFAULT now(), p_conditional boolean DEFAULT false)
RETURNS TABLE (modality text, milestone text, studies bigint, scored bigint,
               p50_covered double precision,
               p90_covered double precision, median_abs_error_h double precision,
               unfinished bigint, too_few bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
    v_rungs integer[] := CASE WHEN p_conditional THEN portal.estimate_ladder() ELSE ARRAY[0] END;
BEGIN
    IF p_days IS NULL OR p_days < 1 OR p_days > 366 THEN
        RAISE EXCEPTION 'days: must be from 1 to 366' USING ERRCODE = 'PT422';
    END IF;
    -- Temporary tables, indexed, because each entry looks up its candidates in the day's model.
    DROP TABLE IF EXISTS pg_temp.backtest_model, pg_temp.backtest_entries;
    CREATE TEMP TABLE backtest_model ON COMMIT DROP AS
    SELECT d.d AS as_of, r.*
      FROM generate_series(date_trunc('day', p_now - make_interval(days => p_days)),
                           date_trunc('day', p_now), interval '1 day') d (d)
     CROSS JOIN LATERAL portal.estimate_rows(d.d, p_window, v_rungs) r;
    CREATE INDEX ON backtest_model (as_of, stage, milestone, elapsed_s, modality, priority, site,
                                    week_part);
    ANALYZE backtest_model;
    -- Each entry is a question asked at asked_at: on entering the stage (rung 0), and with
    -- p_conditional also at each rung of the ladder the study was still in the stage.
    CREATE TEMP TABLE backtest_entries ON COMMIT DROP AS
    SELECT * FROM (
        SELECT st.id, st.modality AS mod, st.priority AS pri, st.site AS sit, sp.stage AS stg,
               m.milestone AS ms, sp.anchor_at, portal.week_part(sp.anchor_at) AS wp, r.rung,
               sp.anchor_at + make_interval(secs => r.rung) AS asked_at,
               CASE m.milestone WHEN 'report_final' THEN st.final_at ELSE st.released_at END AS done_at
          FROM portal.studies st
         CROSS JOIN LATERAL portal.study_stage_spans(st) sp
         CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
         CROSS JOIN LATERAL unnest(v_rungs) r (rung)
         WHERE st.cancelled_at IS NULL AND portal.milestone_ahead(sp.stage, m.milestone)
           AND (r.rung = 0
                OR coalesce(sp.left_at, p_now) > sp.anchor_at + make_interval(secs => r.rung))) q
     WHERE q.asked_at >= p_now - make_interval(days => p_days) AND q.asked_at < p_now;

    RETURN QUERY
    WITH scored AS (
        SELECT en.id, en.mod, en.ms, en.done_at,
               e.sample_size >= portal.estimate_min_samples() AS ok,
               greatest(en.asked_at, en.anchor_at + e.p50_s * interval '1 second') AS p50_at,
               greatest(en.asked_at, en.anchor_at + e.p90_s * interval '1 second') AS p90_at
          FROM backtest_entries en
         CROSS JOIN LATERAL (
               SELECT b.sample_size, b.p50_s, b.p90_s
                 FROM portal.estimate_candidates(en.mod, en.pri, en.sit, en.wp) c
                 JOIN backtest_model b ON b.as_of = date_trunc('day', en.asked_at)
                  AND b.elapsed_s = en.rung AND b.stage = en.stg AND b.milestone = en.ms AND b.modality = c.modality
                  AND b.priority = c.priority AND b.site = c.site AND b.week_part = c.week_part
                ORDER BY portal.estimate_preference(c.rank, b.sample_size)
                LIMIT 1) e),
    judged AS (
        SELECT j.id, j.mod, j.ms, j.ok, j.done_at,
               coalesce(j.done_at <= j.p50_at, false) AS in50,
               coalesce(j.done_at <= j.p90_at, false) AS in90,
               abs(extract(epoch FROM j.done_at - j.p50_at)) / 3600 AS err_h
          FROM scored j
         WHERE NOT j.ok OR j.p90_at < p_now)
    SELECT coalesce(g.mod, 'all'), coalesce(g.ms, 'all'),
           count(DISTINCT g.id) FILTER (WHERE g.ok), count(*) FILTER (WHERE g.ok),
           (avg(g.in50::integer) FILTER (WHERE g.ok))::double precision,
           (avg(g.in90::integer) FILTER (WHERE g.ok))::double precision,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY g.err_h) FILTER (WHERE g.ok),
           count(*) FILTER (WHERE g.ok AND g.done_at IS NULL),
           count(*) FILTER (WHERE NOT g.ok)
      FROM judged g
     GROUP BY GROUPING SETS ((), (g.mod), (g.ms), (g.mod, g.ms))
     ORDER BY GROUPING(g.mod) DESC, GROUPING(g.ms) DESC, 1, 2;
END $$;

-- What patients are told at every hour of the week (issue 18): for each hour of the p_days that
-- end p_settle before p_now (so that nearly every outcome is known by p_now), every study waiting then for a milestone (in the stage it was in at that hour) is
-- estimated as the lookup would have, with the model built at that day's midnight from the
-- milestones reached in the p_window before it (no look-ahead), and scored as portal.backtest
-- scores (only questions whose p90 lies before p_now; a study unfinished then misses both). One
-- row per milestone and hour of the week (site time, 0 = Monday 00:00-01:00 ... 167 = Sunday
-- 23:00-24:00): the average over the week hides hours at which every estimate is early or late.
-- "studies" counts distinct studies, the number to weigh a coverage by.
CREATE OR REPLACE FUNCTION portal.backtest_hours(p_days integer,
                                                 p_window interval DEFAULT interval '90 days',
                                                 p_now timestamptz DEFAULT now(),
                                                 p_settle interval DEFAULT interval '7 days')
RETURNS TABLE (milestone text, hour_of_week integer, studies bigint, scored bigint,
               p50_covered double precision, p90_covered double precision,
               unfinished bigint, too_few bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
    v_to timestamptz := date_trunc('hour', p_now - p_settle);
    v_from timestamptz := date_trunc('hour', p_now - p_settle) - make_interval(days => p_days);
BEGIN
    IF p_days IS NULL OR p_days < 1 OR p_days > 366 THEN
        RAISE EXCEPTION 'days: must be from 1 to 366' USING ERRCODE = 'PT422';
    END IF;
    DROP TABLE IF EXISTS pg_temp.backtest_model, pg_temp.backtest_questions;
    CREATE TEMP TABLE backtest_model ON COMMIT DROP AS
    SELECT d.d AS as_of, r.*
      FROM generate_series(date_trunc('day', v_from), date_trunc('day', v_to), interval '1 day') d (d)
     CROSS JOIN LATERAL portal.estimate_rows(d.d, p_window) r;
    CREATE INDEX ON backtest_model (as_of, stage, milestone, elapsed_s, modality, priority, site,
                                    week_part);
    ANALYZE backtest_model;
    -- Every hour each study spent in each stage before its milestone, within the replayed days.
    CREATE TEMP TABLE backtest_questions ON COMMIT DROP AS
    SELECT st.id, st.modality AS mod, st.priority AS pri, st.site AS sit, sp.stage AS stg,
           m.milestone AS ms, sp.anchor_at, h.h AS asked_at, m.done_at
      FROM portal.studies st
     CROSS JOIN LATERAL portal.study_stage_spans(st) sp
     CROSS JOIN LATERAL (VALUES ('report_final', st.final_at), ('available', st.released_at)) m (milestone, done_at)
     CROSS JOIN LATERAL generate_series(greatest(date_trunc('hour', sp.reached_at) + interval '1 hour', v_from),
                                        least(sp.left_at, m.done_at, st.cancelled_at, v_to) - interval '1 microsecond',
                                        interval '1 hour') h (h)
     WHERE portal.milestone_ahead(sp.stage, m.milestone) AND sp.anchor_at IS NOT NULL
       AND coalesce(least(sp.left_at, m.done_at, st.cancelled_at), v_to) > v_from
       AND sp.reached_at < v_to;

    RETURN QUERY
    WITH scored AS (
        SELECT q.id, q.ms, q.done_at, q.asked_at,
               e.sample_size >= portal.estimate_min_samples() AS ok,
               greatest(q.asked_at, q.anchor_at + e.p50_s * interval '1 second') AS p50_at,
               greatest(q.asked_at, q.anchor_at + e.p90_s * interval '1 second') AS p90_at
          FROM backtest_questions q
         CROSS JOIN LATERAL (
               SELECT b.sample_size, b.p50_s, b.p90_s
                 FROM portal.estimate_candidates(q.mod, q.pri, q.sit, portal.week_part(q.anchor_at)) c
                 JOIN backtest_model b ON b.as_of = date_trunc('day', q.asked_at)
                  AND b.elapsed_s = portal.estimate_bucket(extract(epoch FROM q.asked_at - q.anchor_at))
                  AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = c.modality
                  AND b.priority = c.priority AND b.site = c.site AND b.week_part = c.week_part
                ORDER BY portal.estimate_preference(c.rank, b.sample_size)
                LIMIT 1) e),
    judged AS (
        SELECT j.id, j.ms, j.ok, j.done_at, portal.hour_of_week(j.asked_at) AS how,
               coalesce(j.done_at <= j.p50_at, false) AS in50,
               coalesce(j.done_at <= j.p90_at, false) AS in90
          FROM scored j
         WHERE NOT j.ok OR j.p90_at < p_now)
    SELECT g.ms, g.how, count(DISTINCT g.id) FILTER (WHERE g.ok), count(*) FILTER (WHERE g.ok),
           (avg(g.in50::integer) FILTER (WHERE g.ok))::double precision,
           (avg(g.in90::integer) FILTER (WHERE g.ok))::double precision,
           count(*) FILTER (WHERE g.ok AND g.done_at IS NULL),
           count(*) FILTER (WHERE NOT g.ok)
      FROM judged g
     GROUP BY g.ms, g.how
     ORDER BY 1, 2;
END $$;
