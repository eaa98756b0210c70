-- Issue 18 experiment, not product code: would report_final hold on a site whose pace changed
-- (the shapes `doubling` and `backlog`) if recent reports weighed more? The clock model's
-- quantiles from durations weighted by 2^(-age / half-life), age since the report was signed, in
-- the same window; the p90 as the weighted ceil(0.9 (n + 1))-th with n the effective sample size
-- (sum w)^2 / sum w^2. Replays the every-hour backtest's report_final questions (as
-- portal.backtest_hours asks them) for the :days days that ended :settle days ago, with the
-- models of each day from the :window days before it, and scores side by side: "rank" (the lookup
-- as it is), "winf" (the weighted code with every weight 1: the lower median instead of the
-- interpolated one), "h30" and "h14" (half-lives of 30 and 14 days). The clocks are not weighted.
-- Prints the hours in band as `portald backtest --every-hour` does. Read-only (rolls back).
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=14 -v window=90 -v settle=7 \
--        -f scripts/experiment_recency.sql
\ir experiment_params.sql
-- The first of the sorted values d whose running share of the weights w reaches q (for the p90,
-- raised as portal.estimate_p90_rank raises it, with the effective sample size).
CREATE FUNCTION pg_temp.weighted_quantile(d double precision[], w double precision[], q double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $f$
    SELECT x.v
      FROM (SELECT u.v, sum(u.wt) OVER (ORDER BY u.i) AS c
              FROM unnest(d, w) WITH ORDINALITY u (v, wt, i)) x,
           (SELECT sum(wt) AS tw, sum(wt) ^ 2 / sum(wt * wt) AS ne FROM unnest(w) wt) s
     WHERE x.c >= s.tw * CASE WHEN q > 0.5 THEN least(1, q * (s.ne + 1) / s.ne) ELSE q END - 1e-9
     ORDER BY x.c LIMIT 1
$f$;
-- portal.estimate_rows with weighted quantiles, one function per half-life.
DO $$
DECLARE
    v_def text := replace(pg_get_functiondef('portal.estimate_rows'::regproc), '%', '%%');  -- for format()
    v record;
    v_sql text;
BEGIN
    FOR v IN SELECT * FROM (VALUES ('winf', '1.0::double precision'),
        ('h30', 'exp(-ln(2) * extract(epoch FROM p_as_of - (sm.anchor_at + sm.duration_s * interval ''1 second'')) / (86400 * 30))'),
        ('h14', 'exp(-ln(2) * extract(epoch FROM p_as_of - (sm.anchor_at + sm.duration_s * interval ''1 second'')) / (86400 * 14))')) x (name, weight)
    LOOP
        v_sql := format(
            replace(replace(replace(replace(replace(replace(v_def,
                'portal.estimate_rows(', 'pg_temp.rows_' || v.name || '('),
                'o.left_c - o.anchor_c AS stay_c, o.done_c - o.anchor_c AS duration_c',
                'o.left_c - o.anchor_c AS stay_c, o.done_c - o.anchor_c AS duration_c, %s AS w'),
                'SELECT t.modality, t.priority, t.site, t.stage, t.milestone, t.duration_c, r.rung',
                'SELECT t.modality, t.priority, t.site, t.stage, t.milestone, t.duration_c, t.w, r.rung'),
                'array_agg(x.duration_c ORDER BY x.duration_c) AS d',
                'array_agg(x.duration_c ORDER BY x.duration_c) AS d, array_agg(x.w ORDER BY x.duration_c) AS wt'),
                '(g.d[(g.n + 1) / 2] + g.d[(g.n + 2) / 2]) / 2', 'pg_temp.weighted_quantile(g.d, g.wt, 0.5)'),
                'g.d[portal.estimate_p90_rank(g.n)]', 'pg_temp.weighted_quantile(g.d, g.wt, 0.9)'),
            v.weight);
        IF position('AS wt' IN v_sql) = 0 OR position('t.w, r.rung' IN v_sql) = 0
           OR position('weighted_quantile(g.d, g.wt, 0.5)' IN v_sql) = 0
           OR position('weighted_quantile(g.d, g.wt, 0.9)' IN v_sql) = 0
           OR position(v.weight || ' AS w' IN v_sql) = 0 THEN
            RAISE EXCEPTION 'portal.estimate_rows has changed: its weighted copy would not weigh';
        END IF;
        EXECUTE v_sql;
    END LOOP;
END $$;
\ir experiment_clocks.sql
CREATE TEMP TABLE model AS
SELECT 'rank'::text AS variant, d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL portal.estimate_rows(d.as_of, p.win, d.clocks) r WHERE r.milestone = 'report_final'
UNION ALL SELECT 'winf', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.rows_winf(d.as_of, p.win, d.clocks) r WHERE r.milestone = 'report_final'
UNION ALL SELECT 'h30', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.rows_h30(d.as_of, p.win, d.clocks) r WHERE r.milestone = 'report_final'
UNION ALL SELECT 'h14', d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL pg_temp.rows_h14(d.as_of, p.win, d.clocks) r WHERE r.milestone = 'report_final'
;
CREATE INDEX ON model (variant, as_of, stage, milestone, elapsed_s, modality, priority, site);
ANALYZE model;
CREATE TEMP TABLE questions AS
SELECT q.* FROM params p, portal.backtest_hour_questions(p.v_from, p.v_to) q WHERE q.ms = 'report_final';
CREATE TEMP TABLE scored AS
SELECT q.id, q.asked_at, q.done_at, v.variant, e.ok,
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
 CROSS JOIN (VALUES ('rank'), ('winf'), ('h30'), ('h14')) v (variant)
 CROSS JOIN LATERAL (
       SELECT b.p50_s, b.p90_s, b.sample_size >= portal.estimate_min_samples() AS ok
         FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c
         JOIN model b ON b.variant = v.variant AND b.as_of = date_trunc('day', q.asked_at)
          AND b.elapsed_s = portal.estimate_bucket(k.asked_c - k.anchor_c)
          AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = c.modality
          AND b.priority = c.priority AND b.site = c.site
        ORDER BY portal.estimate_preference(c.rank, b.sample_size)
        LIMIT 1) e;
\ir experiment_band.sql
ROLLBACK;
