-- Issue 18 experiment, not product code: the report's p90 as the ceil(0.9 (n + 1))-th of n sorted
-- durations (portal.estimate_p90_rank, adopted) against the 90th percentile of the n
-- (percentile_cont, before), and the wait between two rungs of the ladder interpolated (tried,
-- not adopted: docs/estimates.md). Replays the every-hour backtest's report_final questions (as
-- portal.backtest_hours asks them) for the :days days that ended :settle days ago, with clock
-- models of each day from the :window days before it, and scores the variants side by side:
-- "cont" (the p90 before), "rank" (the lookup as it is), "interp" and "rank_interp" (the
-- quantiles of the rung at or below the wait and of the next rung, weighted by where the wait
-- lies between them). Prints the hours in band as `portald backtest --every-hour` does, and each
-- variant's coverage per hour of the week and replayed week into :out. Read-only (rolls back).
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=35 -v window=28 -v settle=7 -v out=/tmp/hours.txt \
--        -f scripts/experiment_p90_rank.sql
\ir experiment_params.sql
-- The rows as before the change: portal.estimate_rows with the 90th percentile for the p90.
DO $$
DECLARE
    v_def text := pg_get_functiondef('portal.estimate_rows'::regproc);
BEGIN
    IF position('g.d[portal.estimate_p90_rank(g.n)]' IN v_def) = 0 THEN
        RAISE EXCEPTION 'portal.estimate_rows has no p90 rank to replace';
    END IF;
    -- percentile_cont(0.9) of the sorted durations g.d: interpolated at 0.9 (n - 1) from the first.
    EXECUTE replace(replace(v_def, 'portal.estimate_rows(', 'pg_temp.estimate_rows_cont('),
                    'g.d[portal.estimate_p90_rank(g.n)]',
                    'g.d[floor(0.9 * (g.n - 1))::integer + 1] + (0.9 * (g.n - 1) - floor(0.9 * (g.n - 1)))
                     * (g.d[ceil(0.9 * (g.n - 1))::integer + 1] - g.d[floor(0.9 * (g.n - 1))::integer + 1])');
END $$;
\ir experiment_clocks.sql
CREATE TEMP TABLE model AS
SELECT d.as_of, r.*, c.p90_s AS p90_cont
  FROM day_clocks d
 CROSS JOIN params p
 CROSS JOIN LATERAL portal.estimate_rows(d.as_of, p.win, d.clocks, portal.estimate_ladder()) r
  JOIN LATERAL pg_temp.estimate_rows_cont(d.as_of, p.win, d.clocks, portal.estimate_ladder()) c
    ON (c.modality, c.priority, c.site, c.stage, c.milestone, c.elapsed_s)
       = (r.modality, r.priority, r.site, r.stage, r.milestone, r.elapsed_s)
 WHERE r.milestone = 'report_final';
CREATE INDEX ON model (as_of, stage, milestone, elapsed_s, modality, priority, site);
ANALYZE model;
CREATE TEMP TABLE questions AS
SELECT q.* FROM params p, portal.backtest_hour_questions(p.v_from, p.v_to) q
 WHERE q.ms = 'report_final';
CREATE TEMP TABLE scored AS
SELECT q.id, q.asked_at, q.done_at, v.variant, e.ok,
       greatest(q.asked_at, portal.clock_at(greatest(k.anchor_c + v.q50, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p50_at,
       greatest(q.asked_at, portal.clock_at(greatest(k.anchor_c + v.q90, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p90_at
  FROM questions q
 CROSS JOIN LATERAL (   -- the study's clock, as portal.clock_for
       SELECT c.rate, c.cum, c.calendar, portal.clock_time(q.anchor_at, c.rate, c.cum, c.calendar) AS anchor_c,
              portal.clock_time(q.asked_at, c.rate, c.cum, c.calendar) AS asked_c
         FROM (VALUES (q.mod, q.pri, 0), (q.mod, '*', 1), ('*', '*', 2)) kk (modality, priority, rank)
         JOIN clocks c ON c.as_of = date_trunc('day', q.asked_at)
          AND c.milestone = q.ms AND c.modality = kk.modality AND c.priority = kk.priority
        ORDER BY kk.rank LIMIT 1) k
 CROSS JOIN LATERAL (SELECT portal.estimate_bucket(k.asked_c - k.anchor_c) AS lo,
                            (portal.estimate_ladder())[width_bucket(k.asked_c - k.anchor_c,
                                                                    portal.estimate_ladder()::double precision[]) + 1] AS hi) r
 CROSS JOIN LATERAL (   -- the group, as the lookup chooses it
       SELECT b.modality, b.priority, b.site, b.p50_s, b.p90_s, b.p90_cont,
              b.sample_size >= portal.estimate_min_samples() AS ok
         FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c
         JOIN model b ON b.as_of = date_trunc('day', q.asked_at) AND b.elapsed_s = r.lo
          AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = c.modality
          AND b.priority = c.priority AND b.site = c.site
        ORDER BY portal.estimate_preference(c.rank, b.sample_size)
        LIMIT 1) e
 LEFT JOIN LATERAL (   -- the same group at the next rung, when it has enough
       SELECT b.p50_s, b.p90_s, b.p90_cont FROM model b
        WHERE b.as_of = date_trunc('day', q.asked_at) AND b.elapsed_s = r.hi
          AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = e.modality
          AND b.priority = e.priority AND b.site = e.site
          AND b.sample_size >= portal.estimate_min_samples()) u ON true
 CROSS JOIN LATERAL (SELECT coalesce(least(1, greatest(0, (k.asked_c - k.anchor_c - r.lo)
                                                          / nullif(r.hi - r.lo, 0))), 0) AS f) w
 CROSS JOIN LATERAL (
       SELECT 'cont' AS variant, e.p50_s AS q50, e.p90_cont AS q90
       UNION ALL
       SELECT 'rank', e.p50_s, e.p90_s
       UNION ALL
       SELECT 'interp', e.p50_s + w.f * (coalesce(u.p50_s, e.p50_s) - e.p50_s),
              e.p90_cont + w.f * (coalesce(u.p90_cont, e.p90_cont) - e.p90_cont)
       UNION ALL
       SELECT 'rank_interp', e.p50_s + w.f * (coalesce(u.p50_s, e.p50_s) - e.p50_s),
              e.p90_s + w.f * (coalesce(u.p90_s, e.p90_s) - e.p90_s)) v;
\ir experiment_band.sql
\o :out
SELECT variant, how, week, count(DISTINCT id) AS studies, round(100 * avg(in50), 1) AS p50,
       round(100 * avg(in90), 1) AS p90
  FROM judged GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
\o
ROLLBACK;
