-- Issue 18, twelfth pass: estimates that correct themselves by their own misses. The every-hour
-- backtest's questions (portal.backtest_hour_questions), answered by the installed model as
-- portal.backtest_score answers them ("installed"), then answered again in the order they were
-- asked with an online calibration ("calibrated"), in the manner of adaptive conformal inference
-- (Gibbs and Candes, 2021): per milestone, two log factors theta50 and theta90 stretch the time
-- ahead of each answer (on the study's clock, from the later of the question and the stage's
-- anchor) by exp(theta), less a dead band: exp(sign(theta) x max(0, |theta| - :dead)). At the end
-- of each day, every answer whose p50 (p90) fell due in the last :smooth days is a hit or a miss,
-- and theta50 moves by :gamma x (misses - 0.5 x answers due) / (:smooth x answers asked per day),
-- theta90 by :gamma x :gamma90 x (misses - 0.1 x answers due) / (:smooth x answers asked per
-- day). So a day's answers use only outcomes known at its start; a miss counts by the answers it
-- is, a quiet Sunday's few no more than their share; the week's own rhythm (Monday's answers
-- falling due mostly hit, Saturday's mostly missed) is averaged out over :smooth days; and a
-- steady site's small drift stays inside the dead band. The outcomes of the first :warm days do
-- not move theta, so it stays 0 for the first :warm + 1 days (the answers falling due then are
-- only the short ones, a biased sample); theta is kept within -1 and 2. Each variant is judged as
-- the backtest judges any model, only answers whose p90 lies before the moment the outcomes are
-- known: a calibrated p90 stretched past it drops a question of the last days that the installed
-- answer keeps, so the two variants' newest days are not the same questions. Read-only; prints the
-- band line per variant and milestone (experiment_band.sql), the coverage by replayed week, and
-- theta's range. With -v proportional (the thirteenth pass's variant), theta is not a running sum:
-- each day it is set afresh to the same step taken from 0, gamma x (the last :smooth days' share
-- of misses less its target), so a stretch lasts only while the misses do and the past is not
-- repaid by answering late afterwards. With -v open (the fourteenth pass's variant, adopted), the
-- misses counted are those of the model's own answers (before any stretch) rather than of the
-- calibrated ones: judged by the calibrated answers, a stretch that works removes their misses
-- and so shrinks itself while the model is still as late. With -v fresh (tried with -v open, not adopted), only
-- answers asked within the last :smooth days count, and theta is gamma x (their share of misses
-- less its target): the answers of studies near their outcome, a sooner but biased sample.
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=35 -v window=90 -v settle=7 -v gamma=0.5 \
--        -v gamma90=2.5 -v warm=7 -v smooth=7 -v dead=0.1 [-v proportional=1 [-v open=1 [-v fresh=1]]] \
--        -f scripts/experiment_calibration.sql
--
-- Building the day models takes most of a run (9-15 minutes for 140 days of history on this
-- 2-core machine, shared; the calibration itself 5-6 minutes); with -v kept=SCHEMA the models and questions are read from tables
-- SCHEMA.model, SCHEMA.clocks, SCHEMA.hours, SCHEMA.questions and SCHEMA.params (now, v_from,
-- v_to) kept by an earlier run of the same span (portal.backtest_models' temporary tables and
-- portal.backtest_hour_questions copied as they are).
\ir experiment_params.sql
SET LOCAL jit = off;
CREATE TEMP TABLE cal_params AS
SELECT :gamma::float8 AS gamma, :gamma90::float8 AS gamma90, :warm::integer AS warm,
       :smooth::integer AS smooth, :dead::float8 AS dead, :{?proportional}::boolean AS proportional,
       :{?open}::boolean AS open, :{?fresh}::boolean AS fresh;
\ir experiment_answers.sql
CREATE TEMP TABLE theta_log (day timestamptz, ms text, theta50 float8, theta90 float8,
                             missed50 float8, missed90 float8, due50 bigint, due90 bigint);
DO $$
DECLARE
    gamma float8;
    gamma90 float8;
    warm integer;
    smooth integer;
    dead float8;
    proportional boolean;
    open_loop boolean;
    fresh boolean;
    d timestamptz;
    first_day timestamptz;
    m record;
BEGIN
    SELECT c.gamma, c.gamma90, c.warm, c.smooth, c.dead, c.proportional, c.open, c.fresh
      INTO gamma, gamma90, warm, smooth, dead, proportional, open_loop, fresh FROM cal_params c;
    CREATE TEMP TABLE theta (ms text PRIMARY KEY, theta50 float8, theta90 float8);
    INSERT INTO theta VALUES ('report_final', 0, 0), ('available', 0, 0);
    SELECT min(date_trunc('day', asked_at)) INTO first_day FROM answers;
    FOR d IN SELECT generate_series(first_day, max(date_trunc('day', asked_at)), interval '1 day') FROM answers LOOP
        -- The day's questions, answered with the factors known at its start.
        UPDATE answers a
           SET p50_at = greatest(a.asked_at + interval '1 minute',
                                 portal.clock_at(a.base_c + a.ahead50 * exp(sign(t.theta50) * greatest(0, abs(t.theta50) - dead)), a.rate, a.cum, a.calendar)),
               p90_at = greatest(a.asked_at + interval '1 minute',
                                 portal.clock_at(a.base_c + a.ahead50 * exp(sign(t.theta50) * greatest(0, abs(t.theta50) - dead)), a.rate, a.cum, a.calendar),
                                 portal.clock_at(a.base_c + a.ahead90 * exp(sign(t.theta90) * greatest(0, abs(t.theta90) - dead)), a.rate, a.cum, a.calendar))
          FROM theta t
         WHERE t.ms = a.ms AND a.asked_at >= d AND a.asked_at < d + interval '1 day';
        -- At the day's end: the answers that fell due in the last smooth days, hit or missed
        -- (with -v open, the model's own answers, before any stretch).
        UPDATE answers a SET q50 = CASE WHEN open_loop THEN a.p50_installed ELSE a.p50_at END,
                             q90 = CASE WHEN open_loop THEN a.p90_installed ELSE a.p90_at END
         WHERE a.asked_at >= d AND a.asked_at < d + interval '1 day';
        FOR m IN
            SELECT t.ms,
                   (SELECT count(*) FROM answers a WHERE a.ms = t.ms AND a.q50 >= d - make_interval(days => smooth - 1) AND a.q50 < d + interval '1 day' AND (NOT fresh OR a.asked_at >= d - make_interval(days => smooth - 1))) AS due50,
                   (SELECT count(*) FILTER (WHERE a.done_at IS NULL OR a.done_at > a.q50) FROM answers a
                     WHERE a.ms = t.ms AND a.q50 >= d - make_interval(days => smooth - 1) AND a.q50 < d + interval '1 day' AND (NOT fresh OR a.asked_at >= d - make_interval(days => smooth - 1))) AS missed50,
                   (SELECT count(*) FROM answers a WHERE a.ms = t.ms AND a.q90 >= d - make_interval(days => smooth - 1) AND a.q90 < d + interval '1 day' AND (NOT fresh OR a.asked_at >= d - make_interval(days => smooth - 1))) AS due90,
                   (SELECT count(*) FILTER (WHERE a.done_at IS NULL OR a.done_at > a.q90) FROM answers a
                     WHERE a.ms = t.ms AND a.q90 >= d - make_interval(days => smooth - 1) AND a.q90 < d + interval '1 day' AND (NOT fresh OR a.asked_at >= d - make_interval(days => smooth - 1))) AS missed90,
                   (SELECT count(*)::float8 / (extract(epoch FROM d + interval '1 day' - first_day) / 86400)
                      FROM answers a WHERE a.ms = t.ms AND a.asked_at < d + interval '1 day') AS per_day
              FROM theta t
        LOOP
            IF d >= first_day + make_interval(days => warm) AND m.per_day > 0 THEN
                UPDATE theta
                   SET theta50 = least(2, greatest(-1, CASE WHEN proportional THEN 0 ELSE theta50 END
                                                       + gamma * (m.missed50 - 0.5 * m.due50) / CASE WHEN fresh THEN greatest(m.due50, 1) ELSE smooth * m.per_day END)),
                       theta90 = least(2, greatest(-1, CASE WHEN proportional THEN 0 ELSE theta90 END
                                                       + gamma * gamma90 * (m.missed90 - 0.1 * m.due90) / CASE WHEN fresh THEN greatest(m.due90, 1) ELSE smooth * m.per_day END))
                 WHERE theta.ms = m.ms;
            END IF;
            INSERT INTO theta_log
            SELECT d, m.ms, t.theta50, t.theta90, m.missed50::float8 / nullif(m.due50, 0),
                   m.missed90::float8 / nullif(m.due90, 0), m.due50, m.due90
              FROM theta t WHERE t.ms = m.ms;
        END LOOP;
    END LOOP;
END $$;
-- The product's replay (portal.backtest_calibrate, as `portald backtest --every-hour` scores):
-- stretched from the rung's start (report_final) and the hour mark (available), with the
-- product's gains, on the same answers.
\o /dev/null
SELECT portal.backtest_calibrate();
\o
\pset footer off
CREATE TEMP TABLE scored AS
SELECT 'installed ' || a.ms AS variant, a.id, a.asked_at, a.done_at, true AS ok,
       a.p50_installed AS p50_at, a.p90_installed AS p90_at FROM answers a
UNION ALL
SELECT 'calibrated ' || a.ms, a.id, a.asked_at, a.done_at, true, a.p50_at, a.p90_at FROM answers a
UNION ALL
SELECT 'product ' || j.ms, j.id, j.asked_at, j.done_at, true, j.p50_at, j.p90_at FROM backtest_scored j WHERE j.ok;
\ir experiment_answers_report.sql
SELECT ms, round(min(theta50)::numeric, 2) AS min50, round(max(theta50)::numeric, 2) AS max50,
       round((array_agg(theta50 ORDER BY day DESC))[1]::numeric, 2) AS last50,
       round(min(theta90)::numeric, 2) AS min90, round(max(theta90)::numeric, 2) AS max90,
       round((array_agg(theta90 ORDER BY day DESC))[1]::numeric, 2) AS last90
  FROM theta_log GROUP BY 1 ORDER BY 1;
SELECT 'product ' || milestone AS variant, round(min(theta50)::numeric, 2) AS min50, round(max(theta50)::numeric, 2) AS max50,
       round((array_agg(theta50 ORDER BY as_of DESC))[1]::numeric, 2) AS last50,
       round(min(theta90)::numeric, 2) AS min90, round(max(theta90)::numeric, 2) AS max90,
       round((array_agg(theta90 ORDER BY as_of DESC))[1]::numeric, 2) AS last90
  FROM backtest_theta GROUP BY 1 ORDER BY 1;
ROLLBACK;
