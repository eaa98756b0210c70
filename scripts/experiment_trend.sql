-- Issue 18 experiment, not product code (seventh pass, tried and not adopted): report_final's
-- waits scaled to the pace of the model's day by the trend of the queue. Per modality and
-- priority, the growth per day of the median wait for the read (Kaplan-Meier, unweighted) from
-- the studies that entered the queue 14-28 days before to those of the last 14 days. "tr7":
-- growth only (never shrinking), every sample's whole wait and stay scaled by exp(growth x age);
-- "tq7": growth or shrinking, only when the two medians differ by more than twice their standard
-- error (1.25 sd / sqrt(n) each, sd of the log waits), and only the time each sample spent in
-- the queue scaled; "tg7": as "tq7", but the growth is taken only when the last fortnight's step
-- of the median (ln of its ratio to the fortnight before) exceeds twice the root mean square of
-- the steps between the earlier fortnights of the window (at least three of them, each median
-- from 30 studies or more): the site's own spread of that median. All on the entry cohorts with
-- the 7-day half-life of the adopted model ("rank": portal.estimate_rows as of commit bf91d93,
-- which the cohort functions here copy); a
-- variant's group without a seen p90 at any level falls back to "rank". Replays the every-hour
-- backtest's report_final questions for the :days days that ended :settle days ago; prints the
-- hours in band per variant, then the coverage of routine questions per stage. Read-only.
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=14 -v window=90 -v settle=7 \
--        -f scripts/experiment_trend.sql
\ir experiment_params.sql
CREATE FUNCTION pg_temp.km_q(d double precision[], e boolean[], w double precision[], q double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $f$
    WITH u AS (SELECT v, ev, wt FROM unnest(d, e, w) u (v, ev, wt)),
    ne AS (SELECT sum(wt) ^ 2 / sum(wt * wt) AS n FROM u),
    r AS (SELECT v, ev, wt, sum(wt) OVER (ORDER BY v DESC, ev ASC ROWS UNBOUNDED PRECEDING) AS atrisk FROM u),
    s AS (SELECT v, ev, sum(CASE WHEN ev THEN ln(greatest(1e-12, 1 - wt / atrisk)) ELSE 0 END)
                 OVER (ORDER BY v ASC, ev DESC ROWS UNBOUNDED PRECEDING) AS logs FROM r)
    SELECT min(s.v) FROM s, ne
     WHERE s.ev AND s.logs <= ln(1 - CASE WHEN q > 0.5 THEN least(0.999, q * (ne.n + 1) / ne.n) ELSE q END) + 1e-12
$f$;
CREATE FUNCTION pg_temp.cohort_samples(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (modality text, priority text, site text, stage text, milestone text,
               anchor_at timestamptz, stay_s double precision, duration_s double precision, event boolean,
               q_from timestamptz, q_to timestamptz)
LANGUAGE sql STABLE AS $f$
    SELECT st.modality, st.priority, st.site, sp.stage, m.milestone, sp.anchor_at,
           extract(epoch FROM least(coalesce(sp.left_at, 'infinity'), p_to) - sp.anchor_at),
           extract(epoch FROM least(coalesce(m.at, 'infinity'), p_to) - sp.anchor_at),
           coalesce(m.at < p_to, false),
           CASE WHEN portal.stage_order(sp.stage) <= portal.stage_order('awaiting_read') AND st.exam_completed_at < p_to THEN st.exam_completed_at END,
           least(coalesce(least(st.read_started_at, st.preliminary_at, st.final_at, st.released_at), 'infinity'), p_to)
      FROM portal.studies st
     CROSS JOIN LATERAL portal.study_stage_spans(st) sp
     CROSS JOIN LATERAL (VALUES ('report_final', st.final_at), ('available', st.released_at)) m (milestone, at)
     WHERE st.cancelled_at IS NULL AND portal.milestone_ahead(sp.stage, m.milestone)
       AND sp.anchor_at >= p_from AND sp.anchor_at < p_to AND sp.reached_at < p_to
       AND (m.at IS NULL OR m.at >= sp.anchor_at)
$f$;
-- The queue's trend, taken when the last step is beyond the medians' standard error (p_gate 'se',
-- "tq7") or beyond the site's own spread of the earlier steps ('spread', "tg7").
CREATE FUNCTION pg_temp.queue_trend_rows(p_as_of timestamptz, p_window interval, p_clocks portal.estimate_clocks[], p_half_life_d double precision,
                                         p_gate text)
RETURNS TABLE (modality text, priority text, site text, level smallint, stage text, milestone text,
               elapsed_s integer, sample_size integer, p50_s double precision, p90_s double precision)
LANGUAGE sql STABLE SET work_mem = '64MB' SET jit = off AS $f$
    WITH clocks AS MATERIALIZED (SELECT * FROM unnest(p_clocks)),
    timed0 AS MATERIALIZED (
        SELECT sm.anchor_at, sm.modality, sm.priority, sm.site, sm.stage, sm.milestone, sm.event,
               o.left_c - o.anchor_c AS stay_c, o.done_c - o.anchor_c AS duration_c,
               coalesce(o.qto_c - o.qfrom_c, 0) AS queue_c,
               CASE WHEN p_half_life_d IS NULL THEN 1.0
                    ELSE exp(-ln(2) * extract(epoch FROM p_as_of - sm.anchor_at) / (86400 * p_half_life_d)) END AS w
          FROM pg_temp.cohort_samples(p_as_of - p_window, p_as_of) sm
          LEFT JOIN clocks c0 ON c0.milestone = sm.milestone AND c0.modality = sm.modality AND c0.priority = sm.priority
          LEFT JOIN clocks c1 ON c1.milestone = sm.milestone AND c1.modality = sm.modality AND c1.priority = '*'
          LEFT JOIN clocks c2 ON c2.milestone = sm.milestone AND c2.modality = '*' AND c2.priority = '*'
         CROSS JOIN LATERAL (SELECT coalesce(c0.rate, c1.rate, c2.rate) AS rate, coalesce(c0.cum, c1.cum, c2.cum) AS cum,
                                    coalesce(c0.calendar, c1.calendar, c2.calendar) AS calendar) c
         CROSS JOIN LATERAL (SELECT portal.week_hours(sm.anchor_at) AS anchor_h,
                                    portal.week_hours(sm.anchor_at + sm.stay_s * interval '1 second') AS left_h,
                                    portal.week_hours(sm.anchor_at + sm.duration_s * interval '1 second') AS done_h,
                                    portal.week_hours(sm.q_from) AS qfrom_h, portal.week_hours(sm.q_to) AS qto_h OFFSET 0) h
         CROSS JOIN LATERAL (SELECT portal.clock_hours(h.anchor_h, c.rate, c.cum, c.calendar) AS anchor_c,
                                    portal.clock_hours(h.left_h, c.rate, c.cum, c.calendar) AS left_c,
                                    portal.clock_hours(h.done_h, c.rate, c.cum, c.calendar) AS done_c,
                                    portal.clock_hours(h.qfrom_h, c.rate, c.cum, c.calendar) AS qfrom_c,
                                    portal.clock_hours(h.qto_h, c.rate, c.cum, c.calendar) AS qto_c) o
         WHERE c.rate IS NOT NULL AND sm.milestone = 'report_final'),
    raw AS MATERIALIZED (SELECT t.*, extract(epoch FROM p_as_of - t.anchor_at) / 86400 AS age_d FROM timed0 t),
    halves AS (SELECT r.modality, r.priority,
                      pg_temp.km_q(array_agg(r.duration_c ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d < 14),
                                   array_agg(r.event ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d < 14),
                                   array_agg(1.0::float8 ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d < 14), 0.5) AS m1,
                      pg_temp.km_q(array_agg(r.duration_c ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28),
                                   array_agg(r.event ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28),
                                   array_agg(1.0::float8 ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28), 0.5) AS m2,
                      avg(r.age_d) FILTER (WHERE r.age_d < 14) AS a1, avg(r.age_d) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28) AS a2,
                      count(*) FILTER (WHERE r.age_d < 14) AS n1, count(*) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28) AS n2,
                      stddev(ln(greatest(r.duration_c, 1))) FILTER (WHERE r.event AND r.age_d < 28) AS sd
                 FROM raw r WHERE r.stage = 'awaiting_read' GROUP BY r.modality, r.priority),
    betas_se AS (SELECT h.modality, h.priority,
                     CASE WHEN h.n1 >= 30 AND h.n2 >= 30 AND h.m1 > 0 AND h.m2 > 0 AND h.m1 < 1e8 AND h.m2 < 1e8
                               AND abs(ln(h.m1 / h.m2)) > 2 * 1.25 * h.sd * sqrt(1.0 / h.n1 + 1.0 / h.n2)
                          THEN ln(h.m1 / h.m2) / (h.a2 - h.a1) ELSE 0 END AS beta
                FROM halves h),
    fortnights AS (SELECT r.modality, r.priority, floor(r.age_d / 14)::integer AS k, count(*) AS n, avg(r.age_d) AS a,
                          pg_temp.km_q(array_agg(r.duration_c ORDER BY r.duration_c, r.event DESC),
                                       array_agg(r.event ORDER BY r.duration_c, r.event DESC),
                                       array_agg(1.0::float8 ORDER BY r.duration_c, r.event DESC), 0.5) AS m
                     FROM raw r WHERE r.stage = 'awaiting_read' AND r.age_d < 84 GROUP BY 1, 2, 3),
    steps AS (SELECT f.modality, f.priority, f.k, ln(f.m / g.m) AS step, g.a - f.a AS dt
                FROM fortnights f JOIN fortnights g ON g.modality = f.modality AND g.priority = f.priority AND g.k = f.k + 1
               WHERE f.n >= 30 AND g.n >= 30 AND f.m > 0 AND g.m > 0 AND f.m < 1e8 AND g.m < 1e8),
    betas_spread AS (SELECT s.modality, s.priority,
                     CASE WHEN count(*) FILTER (WHERE s.k > 0) >= 3
                           AND abs(max(s.step) FILTER (WHERE s.k = 0)) > 2 * sqrt(avg(s.step ^ 2) FILTER (WHERE s.k > 0))
                          THEN max(s.step / s.dt) FILTER (WHERE s.k = 0) ELSE 0 END AS beta
                FROM steps s GROUP BY 1, 2),
    betas AS (SELECT * FROM betas_se WHERE p_gate = 'se' UNION ALL SELECT * FROM betas_spread WHERE p_gate = 'spread'),
    timed AS MATERIALIZED (SELECT r.modality, r.priority, r.site, r.stage, r.milestone, r.event,
                                  CASE WHEN r.stage = 'awaiting_read' THEN r.stay_c * exp(coalesce(b.beta, 0) * r.age_d) ELSE r.stay_c END AS stay_c,
                                  r.duration_c + (exp(coalesce(b.beta, 0) * r.age_d) - 1) * r.queue_c AS duration_c, r.w
                             FROM raw r LEFT JOIN betas b ON b.modality = r.modality AND b.priority = r.priority)
    SELECT g.modality, g.priority, g.site, g.level, g.stage, g.milestone, g.rung,
           CASE WHEN g.p90 IS NULL THEN 0 ELSE g.n END, g.p50, g.p90
      FROM (SELECT a.*, pg_temp.km_q(a.d, a.e, a.w, 0.5) AS p50, pg_temp.km_q(a.d, a.e, a.w, 0.9) AS p90
              FROM (SELECT coalesce(x.modality, '*') AS modality, coalesce(x.priority, '*') AS priority,
                           coalesce(x.site, '*') AS site,
                           (CASE WHEN GROUPING(x.site) = 0 THEN 0 WHEN GROUPING(x.priority) = 0 THEN 1
                                 WHEN GROUPING(x.modality) = 0 THEN 2 ELSE 3 END)::smallint AS level,
                           x.stage, x.milestone, x.rung, count(*)::integer AS n,
                           array_agg(x.duration_c ORDER BY x.duration_c) AS d,
                           array_agg(x.event ORDER BY x.duration_c) AS e,
                           array_agg(x.w ORDER BY x.duration_c) AS w
                      FROM (SELECT t.*, r.rung FROM timed t
                             CROSS JOIN LATERAL (SELECT u.rung FROM unnest(portal.estimate_ladder()) u (rung)
                                                  WHERE u.rung = 0 OR t.stay_c > u.rung) r) x
                     GROUP BY x.stage, x.milestone, x.rung,
                              GROUPING SETS ((x.modality, x.priority, x.site), (x.modality, x.priority), (x.modality), ())) a
             WHERE a.n >= portal.estimate_min_samples()) g
$f$;
CREATE FUNCTION pg_temp.trend_whole_rows(p_as_of timestamptz, p_window interval, p_clocks portal.estimate_clocks[], p_half_life_d double precision)
RETURNS TABLE (modality text, priority text, site text, level smallint, stage text, milestone text,
               elapsed_s integer, sample_size integer, p50_s double precision, p90_s double precision)
LANGUAGE sql STABLE SET work_mem = '64MB' SET jit = off AS $f$
    WITH clocks AS MATERIALIZED (SELECT * FROM unnest(p_clocks)),
    timed0 AS MATERIALIZED (
        SELECT sm.anchor_at, sm.modality, sm.priority, sm.site, sm.stage, sm.milestone, sm.event,
               o.left_c - o.anchor_c AS stay_c, o.done_c - o.anchor_c AS duration_c,
               CASE WHEN p_half_life_d IS NULL THEN 1.0
                    ELSE exp(-ln(2) * extract(epoch FROM p_as_of - sm.anchor_at) / (86400 * p_half_life_d)) END AS w
          FROM pg_temp.cohort_samples(p_as_of - p_window, p_as_of) sm
          LEFT JOIN clocks c0 ON c0.milestone = sm.milestone AND c0.modality = sm.modality AND c0.priority = sm.priority
          LEFT JOIN clocks c1 ON c1.milestone = sm.milestone AND c1.modality = sm.modality AND c1.priority = '*'
          LEFT JOIN clocks c2 ON c2.milestone = sm.milestone AND c2.modality = '*' AND c2.priority = '*'
         CROSS JOIN LATERAL (SELECT coalesce(c0.rate, c1.rate, c2.rate) AS rate, coalesce(c0.cum, c1.cum, c2.cum) AS cum,
                                    coalesce(c0.calendar, c1.calendar, c2.calendar) AS calendar) c
         CROSS JOIN LATERAL (SELECT portal.week_hours(sm.anchor_at) AS anchor_h,
                                    portal.week_hours(sm.anchor_at + sm.stay_s * interval '1 second') AS left_h,
                                    portal.week_hours(sm.anchor_at + sm.duration_s * interval '1 second') AS done_h OFFSET 0) h
         CROSS JOIN LATERAL (SELECT portal.clock_hours(h.anchor_h, c.rate, c.cum, c.calendar) AS anchor_c,
                                    portal.clock_hours(h.left_h, c.rate, c.cum, c.calendar) AS left_c,
                                    portal.clock_hours(h.done_h, c.rate, c.cum, c.calendar) AS done_c) o
         WHERE c.rate IS NOT NULL AND sm.milestone = 'report_final'),
    raw AS MATERIALIZED (SELECT t.*, extract(epoch FROM p_as_of - t.anchor_at) / 86400 AS age_d FROM timed0 t),
    halves AS (SELECT r.modality, r.priority,
                      pg_temp.km_q(array_agg(r.duration_c ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d < 14),
                                   array_agg(r.event ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d < 14),
                                   array_agg(1.0::float8 ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d < 14), 0.5) AS m1,
                      pg_temp.km_q(array_agg(r.duration_c ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28),
                                   array_agg(r.event ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28),
                                   array_agg(1.0::float8 ORDER BY r.duration_c, r.event DESC) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28), 0.5) AS m2,
                      avg(r.age_d) FILTER (WHERE r.age_d < 14) AS a1, avg(r.age_d) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28) AS a2,
                      count(*) FILTER (WHERE r.age_d < 14) AS n1, count(*) FILTER (WHERE r.age_d >= 14 AND r.age_d < 28) AS n2
                 FROM raw r WHERE r.stage = 'awaiting_read' GROUP BY r.modality, r.priority),
    betas AS (SELECT h.modality, h.priority,
                     CASE WHEN h.n1 >= 30 AND h.n2 >= 30 AND h.m1 > 0 AND h.m2 > 0 AND h.m1 < 1e8 AND h.m2 < 1e8
                          THEN greatest(0, ln(h.m1 / h.m2) / (h.a2 - h.a1)) ELSE 0 END AS beta
                FROM halves h),
    timed AS MATERIALIZED (SELECT r.modality, r.priority, r.site, r.stage, r.milestone, r.event,
                                  r.stay_c * exp(coalesce(b.beta, 0) * r.age_d) AS stay_c,
                                  r.duration_c * exp(coalesce(b.beta, 0) * r.age_d) AS duration_c, r.w
                             FROM raw r LEFT JOIN betas b ON b.modality = r.modality AND b.priority = r.priority)
    SELECT g.modality, g.priority, g.site, g.level, g.stage, g.milestone, g.rung,
           CASE WHEN g.p90 IS NULL THEN 0 ELSE g.n END, g.p50, g.p90
      FROM (SELECT a.*, pg_temp.km_q(a.d, a.e, a.w, 0.5) AS p50, pg_temp.km_q(a.d, a.e, a.w, 0.9) AS p90
              FROM (SELECT coalesce(x.modality, '*') AS modality, coalesce(x.priority, '*') AS priority,
                           coalesce(x.site, '*') AS site,
                           (CASE WHEN GROUPING(x.site) = 0 THEN 0 WHEN GROUPING(x.priority) = 0 THEN 1
                                 WHEN GROUPING(x.modality) = 0 THEN 2 ELSE 3 END)::smallint AS level,
                           x.stage, x.milestone, x.rung, count(*)::integer AS n,
                           array_agg(x.duration_c ORDER BY x.duration_c) AS d,
                           array_agg(x.event ORDER BY x.duration_c) AS e,
                           array_agg(x.w ORDER BY x.duration_c) AS w
                      FROM (SELECT t.*, r.rung FROM timed t
                             CROSS JOIN LATERAL (SELECT u.rung FROM unnest(portal.estimate_ladder()) u (rung)
                                                  WHERE u.rung = 0 OR t.stay_c > u.rung) r) x
                     GROUP BY x.stage, x.milestone, x.rung,
                              GROUPING SETS ((x.modality, x.priority, x.site), (x.modality, x.priority), (x.modality), ())) a
             WHERE a.n >= portal.estimate_min_samples()) g
$f$;
\ir experiment_clocks.sql
CREATE TEMP TABLE model AS
SELECT 'rank'::text AS variant, d.as_of, r.modality, r.priority, r.site, r.level, r.stage, r.milestone, r.elapsed_s, r.sample_size, r.p50_s, r.p90_s
  FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL portal.estimate_rows(d.as_of, p.win, d.clocks) r WHERE r.milestone = 'report_final';
INSERT INTO model SELECT 'tr7', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.trend_whole_rows(d.as_of, p.win, d.clocks, 7) r;
INSERT INTO model SELECT 'tg7', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.queue_trend_rows(d.as_of, p.win, d.clocks, 7, 'spread') r;
INSERT INTO model SELECT 'tq7', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.queue_trend_rows(d.as_of, p.win, d.clocks, 7, 'se') r;
CREATE INDEX ON model (variant, as_of, stage, milestone, elapsed_s, modality, priority, site);
ANALYZE model;
CREATE TEMP TABLE questions AS
SELECT q.* FROM params p, portal.backtest_hour_questions(p.v_from, p.v_to) q WHERE q.ms = 'report_final';
CREATE TEMP TABLE scored AS
SELECT q.id, q.asked_at, q.done_at, q.stg, q.pri, v.variant, e.ok,
       greatest(q.asked_at, portal.clock_at(greatest(k.anchor_c + e.p50_s * x.f, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p50_at,
       greatest(q.asked_at, portal.clock_at(greatest(k.anchor_c + e.p90_s * x.f, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p90_at
  FROM questions q
 CROSS JOIN LATERAL (
       SELECT c.rate, c.cum, c.calendar, portal.clock_time(q.anchor_at, c.rate, c.cum, c.calendar) AS anchor_c,
              portal.clock_time(q.asked_at, c.rate, c.cum, c.calendar) AS asked_c
         FROM (VALUES (q.mod, q.pri, 0), (q.mod, '*', 1), ('*', '*', 2)) kk (modality, priority, rank)
         JOIN clocks c ON c.as_of = date_trunc('day', q.asked_at)
          AND c.milestone = q.ms AND c.modality = kk.modality AND c.priority = kk.priority
        ORDER BY kk.rank LIMIT 1) k
 CROSS JOIN (VALUES ('rank'), ('tr7'), ('tq7'), ('tg7')) v (variant)
 CROSS JOIN LATERAL (
       SELECT b.p50_s, b.p90_s, b.sample_size >= portal.estimate_min_samples() AS ok
         FROM (SELECT c.*, 0 AS fb FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c
               UNION ALL SELECT c.*, 1 FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c) c
         JOIN model b ON b.variant = CASE c.fb WHEN 0 THEN v.variant ELSE 'rank' END AND b.as_of = date_trunc('day', q.asked_at)
          AND b.elapsed_s = portal.estimate_bucket(k.asked_c - k.anchor_c)
          AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = c.modality
          AND b.priority = c.priority AND b.site = c.site
        ORDER BY (b.sample_size < portal.estimate_min_samples()), c.fb, portal.estimate_preference(c.rank, b.sample_size, b.p90_s)
        LIMIT 1) e
 CROSS JOIN (SELECT 1.0 AS f) x;
\ir experiment_band.sql
SELECT variant, stg, count(*) n, round(100*avg(coalesce(done_at<=p50_at,false)::int),1) c50, round(100*avg(coalesce(done_at<=p90_at,false)::int),1) c90
  FROM scored WHERE ok AND p90_at < now() AND pri = 'routine' GROUP BY 1, 2 ORDER BY 2, 1;
ROLLBACK;
