-- Issue 18, eighth pass: the installed model's report_final coverage by replayed week and stage,
-- routine questions (those of the every-hour backtest, scored as the lookup answers them). Shows
-- when in a history a model is early or late, which the per-hour table averages away: on the
-- `backlog` shape, the weeks before its trend is seen. Read-only.
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=35 -v window=90 -v settle=0 \
--        -f scripts/experiment_weeks.sql
\ir experiment_params.sql
\ir experiment_clocks.sql
CREATE TEMP TABLE model AS
SELECT d.as_of, r.* FROM day_clocks d CROSS JOIN params p CROSS JOIN LATERAL portal.estimate_rows(d.as_of, p.win, d.clocks) r WHERE r.milestone = 'report_final';
CREATE INDEX ON model (as_of, stage, milestone, elapsed_s, modality, priority, site);
ANALYZE model;
CREATE TEMP TABLE questions AS
SELECT q.* FROM params p, portal.backtest_hour_questions(p.v_from, p.v_to) q WHERE q.ms = 'report_final';
CREATE TEMP TABLE scored AS
SELECT q.id, q.asked_at, q.done_at, q.stg, q.pri, q.mod, e.ok,
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
 CROSS JOIN LATERAL (
       SELECT b.p50_s, b.p90_s, portal.estimate_enough(b.sample_size, b.p90_s) AS ok
         FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c
         JOIN model b ON b.as_of = date_trunc('day', q.asked_at)
          AND b.elapsed_s = portal.estimate_bucket(k.asked_c - k.anchor_c)
          AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = c.modality
          AND b.priority = c.priority AND b.site = c.site
        ORDER BY (NOT portal.estimate_enough(b.sample_size, b.p90_s)), portal.estimate_preference(c.rank, b.sample_size, b.p90_s)
        LIMIT 1) e;
SELECT date_trunc('week', asked_at)::date AS week, stg AS stage, count(*) AS n, round(100*avg(coalesce(done_at<=p50_at,false)::int),1) AS p50_covered, round(100*avg(coalesce(done_at<=p90_at,false)::int),1) AS p90_covered
  FROM scored WHERE ok AND p90_at < now() AND pri = 'routine' GROUP BY ROLLUP(1, 2) ORDER BY 1,2;
ROLLBACK;
