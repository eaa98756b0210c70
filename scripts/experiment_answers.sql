-- Shared by the estimates experiments in scripts/ (`\ir experiment_answers.sql`, after
-- experiment_params.sql), not run alone: the day models of the replayed span (built, or with
-- -v kept=SCHEMA read from tables SCHEMA.model, SCHEMA.clocks, SCHEMA.hours, SCHEMA.questions and
-- SCHEMA.params kept by an earlier run of the same span), the every-hour backtest's questions
-- answered by the installed model (portal.backtest_score), and the table answers: each answer
-- with the study's clock, the clock reading its time ahead counts from, and the clock time ahead
-- to each quantile, for a calibration to stretch.
\if :{?kept}
CREATE TEMP TABLE backtest_model AS SELECT * FROM :kept.model;
CREATE INDEX ON backtest_model (as_of, stage, milestone, elapsed_s, modality, priority, site);
CREATE TEMP TABLE backtest_clocks AS SELECT * FROM :kept.clocks;
CREATE INDEX ON backtest_clocks (as_of, milestone, modality, priority);
CREATE TEMP TABLE backtest_hours AS SELECT * FROM :kept.hours;
CREATE INDEX ON backtest_hours (as_of, stage, milestone, modality, priority, site, how, wait_s);
CREATE TEMP TABLE backtest_questions AS SELECT * FROM :kept.questions;
UPDATE params SET v_from = k.v_from, v_to = k.v_to FROM :kept.params k;
\else
\o /dev/null
SELECT portal.backtest_models(p.v_from, p.v_to, p.win, portal.estimate_ladder()) FROM params p;
\o
CREATE TEMP TABLE backtest_questions AS
SELECT q.* FROM params p, portal.backtest_hour_questions(p.v_from, p.v_to) q;
\endif
ANALYZE backtest_model;
ANALYZE backtest_clocks;
ANALYZE backtest_hours;
ANALYZE backtest_questions;
\o /dev/null
SELECT portal.backtest_score();
\o
-- Each answer with what calibration needs: the study's clock (as the scoring found it), the
-- clock reading from which the answer is stretched, and the clock time ahead of it to each
-- quantile (at least a minute, as the lookup answers).
CREATE TEMP TABLE answers AS
SELECT s.id, s.ms, s.asked_at, s.done_at, k.rate, k.cum, k.calendar, k.base_c,
       greatest(portal.clock_time(s.p50_at, k.rate, k.cum, k.calendar) - k.base_c, 60) AS ahead50,
       greatest(portal.clock_time(s.p90_at, k.rate, k.cum, k.calendar) - k.base_c, 60) AS ahead90,
       s.p50_at AS p50_installed, s.p90_at AS p90_installed, s.p50_at, s.p90_at,
       NULL::timestamptz AS q50, NULL::timestamptz AS q90
  FROM backtest_scored s
  JOIN backtest_questions q ON q.id = s.id AND q.ms = s.ms AND q.asked_at = s.asked_at
 CROSS JOIN LATERAL (
       SELECT c.rate, c.cum, c.calendar,
              greatest(portal.clock_time(q.anchor_at, c.rate, c.cum, c.calendar),
                       portal.clock_time(s.asked_at, c.rate, c.cum, c.calendar)) AS base_c
         FROM (VALUES (q.mod, q.pri, 0), (q.mod, '*', 1), ('*', '*', 2)) kk (modality, priority, rank)
         JOIN backtest_clocks c ON c.as_of = date_trunc('day', s.asked_at)
          AND c.milestone = s.ms AND c.modality = kk.modality AND c.priority = kk.priority
        ORDER BY kk.rank LIMIT 1) k
 WHERE s.ok;
CREATE INDEX ON answers (asked_at);
CREATE INDEX ON answers (q50);
CREATE INDEX ON answers (q90);
ANALYZE answers;
