-- Issue 18 experiment, not product code (seventh pass): report_final's quantiles from entry
-- cohorts (every stage entered in the window, those still waiting at the model's moment cut off
-- there), as weighted Kaplan-Meier quantiles, the weight halving every 14 or 7 days since entry
-- ("km14", "km7"; "kminf" unweighted), against the lookup as it was ("rank": portal.estimate_rows
-- selecting the reports signed in the window). Written for the definitions of commit 41eb78d,
-- before the change it led to: on later code "rank" is the adopted model itself, and the cohort
-- functions here are its first draft (portal.estimate_cohort, portal.survival_quantiles). A
-- variant's group without a seen p90 at any level falls back to "rank". Replays the every-hour
-- backtest's report_final questions for the :days days that ended :settle days ago; prints the
-- hours in band per variant, then the coverage of routine questions per stage. Read-only.
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=14 -v window=90 -v settle=7 \
--        -f scripts/experiment_cohort.sql
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
               anchor_at timestamptz, stay_s double precision, duration_s double precision, event boolean)
LANGUAGE sql STABLE AS $f$
    SELECT st.modality, st.priority, st.site, sp.stage, m.milestone, sp.anchor_at,
           extract(epoch FROM least(coalesce(sp.left_at, 'infinity'), p_to) - sp.anchor_at),
           extract(epoch FROM least(coalesce(m.at, 'infinity'), p_to) - sp.anchor_at),
           coalesce(m.at < p_to, false)
      FROM portal.studies st
     CROSS JOIN LATERAL portal.study_stage_spans(st) sp
     CROSS JOIN LATERAL (VALUES ('report_final', st.final_at), ('available', st.released_at)) m (milestone, at)
     WHERE st.cancelled_at IS NULL AND portal.milestone_ahead(sp.stage, m.milestone)
       AND sp.anchor_at >= p_from AND sp.anchor_at < p_to AND sp.reached_at < p_to
       AND (m.at IS NULL OR m.at >= sp.anchor_at)
$f$;
CREATE FUNCTION pg_temp.cohort_rows(p_as_of timestamptz, p_window interval, p_clocks portal.estimate_clocks[], p_half_life_d double precision)
RETURNS TABLE (modality text, priority text, site text, level smallint, stage text, milestone text,
               elapsed_s integer, sample_size integer, p50_s double precision, p90_s double precision)
LANGUAGE sql STABLE SET work_mem = '64MB' SET jit = off AS $f$
    WITH clocks AS MATERIALIZED (SELECT * FROM unnest(p_clocks)),
    timed AS MATERIALIZED (
        SELECT sm.modality, sm.priority, sm.site, sm.stage, sm.milestone, sm.event,
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
         WHERE c.rate IS NOT NULL AND sm.milestone = 'report_final')
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
INSERT INTO model SELECT 'kminf', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.cohort_rows(d.as_of, p.win, d.clocks, NULL) r;
INSERT INTO model SELECT 'km14', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.cohort_rows(d.as_of, p.win, d.clocks, 14) r;
INSERT INTO model SELECT 'km7', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.cohort_rows(d.as_of, p.win, d.clocks, 7) r;
CREATE INDEX ON model (variant, as_of, stage, milestone, elapsed_s, modality, priority, site);
ANALYZE model;
CREATE TEMP TABLE questions AS
SELECT q.* FROM params p, portal.backtest_hour_questions(p.v_from, p.v_to) q WHERE q.ms = 'report_final';
CREATE TEMP TABLE scored AS
SELECT q.id, q.asked_at, q.done_at, q.stg, q.pri, v.variant, e.ok,
       greatest(q.asked_at, portal.clock_at(greatest(k.anchor_c + e.p50_s, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p50_at,
       greatest(q.asked_at, portal.clock_at(greatest(k.anchor_c + e.p90_s, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p90_at
  FROM questions q
 CROSS JOIN LATERAL (
       SELECT c.rate, c.cum, c.calendar, portal.clock_time(q.anchor_at, c.rate, c.cum, c.calendar) AS anchor_c,
              portal.clock_time(q.asked_at, c.rate, c.cum, c.calendar) AS asked_c
         FROM (VALUES (q.mod, q.pri, 0), (q.mod, '*', 1), ('*', '*', 2)) kk (modality, priority, rank)
         JOIN clocks c ON c.as_of = date_trunc('day', q.asked_at)
          AND c.milestone = q.ms AND c.modality = kk.modality AND c.priority = kk.priority
        ORDER BY kk.rank LIMIT 1) k
 CROSS JOIN (VALUES ('rank'), ('kminf'), ('km14'), ('km7')) v (variant)
 CROSS JOIN LATERAL (
       SELECT b.p50_s, b.p90_s, b.sample_size >= portal.estimate_min_samples() AS ok
         FROM (SELECT c.*, 0 AS fb FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c
               UNION ALL SELECT c.*, 1 FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c) c
         JOIN model b ON b.variant = CASE c.fb WHEN 0 THEN v.variant ELSE 'rank' END AND b.as_of = date_trunc('day', q.asked_at)
          AND b.elapsed_s = portal.estimate_bucket(k.asked_c - k.anchor_c)
          AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = c.modality
          AND b.priority = c.priority AND b.site = c.site
        ORDER BY (b.sample_size < portal.estimate_min_samples()), c.fb, portal.estimate_preference(c.rank, b.sample_size)
        LIMIT 1) e;
\ir experiment_band.sql
SELECT variant, stg, count(*) n, round(100*avg(coalesce(done_at<=p50_at,false)::int),1) c50, round(100*avg(coalesce(done_at<=p90_at,false)::int),1) c90
  FROM scored WHERE ok AND p90_at < now() AND pri = 'routine' GROUP BY 1, 2 ORDER BY 2, 1;
ROLLBACK;
