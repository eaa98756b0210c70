-- Issue 18, tenth pass: how soon a queue's growth must be known for the every-hour target to be
-- reachable at all. The installed model's report_final questions of the every-hour backtest
-- (portal.backtest_hour_questions, scored by portal.backtest_score as the backtest scores them),
-- split by when each was asked: a question asked before the growth could be known, about a
-- milestone that came after the growth began (:onset, the generator's: 30 days before
-- `seed-history --shape backlog` ran), is answered from a history that a steady site shares. For
-- each day from which the growth is taken as known (:onset + 0, 3, 5, 7, 10 and 14 days), what a
-- model exactly right on every question it could know would reach per hour of the week: those
-- questions as the installed model answered them (a report not come by now came after the onset),
-- every other one at exactly 50 % and 90 %. Not a strict bound: a model could answer the
-- unknowable ones otherwise, or the others later than right. The first row (known_after_days
-- empty) is the installed model's own coverage, after experiment_band.sql's line for it. Read-only.
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=35 -v window=90 -v settle=7 \
--        -v onset="'2026-11-07 10:14:33+00'" -f scripts/experiment_onset.sql
\ir experiment_params.sql
\ir experiment_clocks.sql
CREATE TEMP TABLE backtest_clocks AS SELECT * FROM clocks;
CREATE INDEX ON backtest_clocks (as_of, milestone, modality, priority);
CREATE TEMP TABLE backtest_model AS
SELECT d.as_of, r.* FROM day_clocks d CROSS JOIN params p
 CROSS JOIN LATERAL portal.estimate_rows(d.as_of, p.win, d.clocks) r WHERE r.milestone = 'report_final';
CREATE INDEX ON backtest_model (as_of, stage, milestone, elapsed_s, modality, priority, site);
CREATE TEMP TABLE backtest_hours AS SELECT now() AS as_of, h.* FROM portal.estimate_hours h LIMIT 0;
CREATE TEMP TABLE backtest_questions AS
SELECT q.* FROM params p, portal.backtest_hour_questions(p.v_from, p.v_to) q WHERE q.ms = 'report_final';
ANALYZE backtest_clocks;
ANALYZE backtest_model;
ANALYZE backtest_questions;
\o /dev/null
SELECT portal.backtest_score();
\o
CREATE TEMP TABLE scored AS
SELECT 'installed' AS variant, j.id, j.asked_at, j.done_at, j.ok, j.p50_at, j.p90_at FROM backtest_scored j;
\ir experiment_band.sql
CREATE TEMP TABLE hours AS   -- hours of the week with at least 50 studies scored, as the backtest judges
SELECT how FROM judged GROUP BY how HAVING count(DISTINCT id) >= 50;
-- Per day the growth is taken as known from (k) and hour of the week: the questions, those it
-- could know, and how often the unknowable ones were covered.
CREATE TEMP TABLE split AS
SELECT k.k, j.how, count(*)::numeric AS n, count(*) FILTER (WHERE NOT u.unknowable)::numeric AS n_known,
       coalesce(sum(j.in50) FILTER (WHERE u.unknowable), 0)::numeric AS in50_un,
       coalesce(sum(j.in90) FILTER (WHERE u.unknowable), 0)::numeric AS in90_un
  FROM (VALUES (0), (3), (5), (7), (10), (14)) k (k)
 CROSS JOIN judged j JOIN hours USING (how)
 CROSS JOIN LATERAL (SELECT j.asked_at < :onset::timestamptz + make_interval(days => k.k)
                            AND coalesce(j.done_at > :onset::timestamptz, true) AS unknowable) u
 GROUP BY k.k, j.how;
\pset footer off
SELECT NULL::integer AS known_after_days, NULL::numeric AS unknowable_pct, NULL::numeric AS their_p50, NULL::numeric AS their_p90,
       count(*) AS hours, count(*) FILTER (WHERE p50 BETWEEN 0.45 AND 0.55 AND p90 BETWEEN 0.87 AND 0.93) AS in_band,
       round(100 * min(p50), 1) AS min_p50, round(100 * max(p50), 1) AS max_p50, round(100 * min(p90), 1) AS min_p90
  FROM (SELECT j.how, avg(j.in50) AS p50, avg(j.in90) AS p90 FROM judged j JOIN hours USING (how) GROUP BY j.how) b
UNION ALL
SELECT b.k, round(100.0 * sum(b.n - b.n_known) / sum(b.n), 1), round(100.0 * sum(b.in50_un) / sum(b.n - b.n_known), 1),
       round(100.0 * sum(b.in90_un) / sum(b.n - b.n_known), 1), count(*),
       count(*) FILTER (WHERE b.best50 BETWEEN 0.45 AND 0.55 AND b.best90 BETWEEN 0.87 AND 0.93),
       round(100 * min(b.best50), 1), round(100 * max(b.best50), 1), round(100 * min(b.best90), 1)
  FROM (SELECT s.*, (s.in50_un + 0.5 * s.n_known) / s.n AS best50, (s.in90_un + 0.9 * s.n_known) / s.n AS best90
          FROM split s) b
 GROUP BY b.k
 ORDER BY 1 NULLS FIRST;
-- The same split, asked the other way (twelfth pass): instead of answering the questions it could
-- know exactly right, how many hours could a model bring into the band at all, choosing how often
-- it covers those questions? "kept_in_band": those questions' own coverage stays in the band
-- (p50 at most 55 %, p90 at most 93 %), so no one who could be told right is told later than the
-- band allows; "any_answers": any coverage, up to telling every one of them a time that always
-- holds. Both also need the other questions alone not to carry the hour past 55 % or 93 %.
-- need_p50 / need_p90: over the judged hours, the median coverage those questions would need to
-- lift their hour to 45 % and 87 % (under 0 or over 100 where no coverage of theirs could).
SELECT b.k AS known_after_days, count(*) AS hours,
       count(*) FILTER (WHERE (b.in50_un + 0.55 * b.n_known) / b.n >= 0.45
                          AND (b.in90_un + 0.93 * b.n_known) / b.n >= 0.87
                          AND b.in50_un / b.n <= 0.55 AND b.in90_un / b.n <= 0.93) AS kept_in_band,
       count(*) FILTER (WHERE (b.in50_un + b.n_known) / b.n >= 0.45
                          AND (b.in90_un + b.n_known) / b.n >= 0.87
                          AND b.in50_un / b.n <= 0.55 AND b.in90_un / b.n <= 0.93) AS any_answers,
       round(100 * percentile_cont(0.5) WITHIN GROUP (ORDER BY (0.45 * b.n - b.in50_un) / nullif(b.n_known, 0))::numeric, 1) AS need_p50,
       round(100 * percentile_cont(0.5) WITHIN GROUP (ORDER BY (0.87 * b.n - b.in90_un) / nullif(b.n_known, 0))::numeric, 1) AS need_p90
  FROM split b
 GROUP BY b.k
 ORDER BY 1;
ROLLBACK;
