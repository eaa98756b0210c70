-- Issue 18, fifteenth pass (tried, not adopted; docs/estimates.md): the calibration judged early.
-- The adopted calibration (portal.refresh_calibration) waits for each answer's p50 (p90) to fall
-- due, so on a growing queue it moves a week late. Here, at each replayed day's end, every model
-- answer asked in the last :early days is judged at once against the model's own distribution:
-- log-logistic in the clock time ahead, through the answer's p50 and p90, judged up to the day's
-- end or the answer's p90, whichever comes first (only answers with more than a minute of clock
-- behind them, and more than :minfrac of their p50's time ahead). theta is the log stretch of
-- the time ahead under which the reports expected by then equal those that came (five Newton
-- steps from 0), less a dead band of :dead, times :gain, kept within -1 and 2, 0 for the first
-- :warm days; it stretches both quantiles of the next day's answers. After a day whose clock
-- (every study's, for the milestone) ran under :gate of an average day's, theta is kept as it
-- was (with 0 it is set after every day). Prints the band line of the model alone ("installed")
-- and of this ("early"), the coverage by replayed week, and theta each day with the share of the
-- judged answers done and the share the model expected. With -v blend=W the answers are
-- stretched by (1 - W) x this theta + W x the adopted rule's (fourteenth pass) instead (0: this
-- one alone).
--
--   psql -X -q -A "$SUPERUSER_CONNINFO" -v days=35 -v window=90 -v settle=7 -v gain=1 -v warm=7 \
--        -v early=3 -v minfrac=0 -v dead=0 -v gate=0 -v blend=0 \
--        [-v kept=SCHEMA] -f scripts/experiment_early_judgment.sql
--
-- With -v kept=SCHEMA the day models and questions are read from tables an earlier run kept, as
-- in experiment_calibration.sql; without it they are built (most of a run). Read-only.
\ir experiment_params.sql
SET LOCAL jit = off;
CREATE TEMP TABLE cal_params AS
SELECT :gain::float8 AS gain, :warm::integer AS warm, :early::integer AS early, :minfrac::float8 AS minfrac, :dead::float8 AS dead,
       :gate::float8 AS gate, :blend::float8 AS blend;
\ir experiment_answers.sql
-- The share of the model's answers that should have come by log clock time ahead lx, for an
-- answer whose p50 lies at mu and whose log-logistic spread is sigma.
CREATE FUNCTION pg_temp.model_share(lx float8, mu float8, sigma float8) RETURNS float8
LANGUAGE sql IMMUTABLE AS 'SELECT 1 / (1 + exp(-least(30, greatest(-30, (lx - mu) / sigma))))';
CREATE TEMP TABLE theta_log (day timestamptz, ms text, theta float8, judged bigint, observed float8, expected float8);
DO $$
DECLARE
    gain float8;
    warm integer;
    early integer;
    minfrac float8;
    dead float8;
    gate float8;
    blend float8;
    d timestamptz;
    first_day timestamptz;
    m record;
    th float8;
    step float8;
    i integer;
BEGIN
    SELECT c.gain, c.warm, c.early, c.minfrac, c.dead, c.gate, c.blend
      INTO gain, warm, early, minfrac, dead, gate, blend FROM cal_params c;
    CREATE TEMP TABLE theta (ms text PRIMARY KEY, theta float8, c50 float8, c90 float8);
    INSERT INTO theta VALUES ('report_final', 0, 0, 0), ('available', 0, 0, 0);
    CREATE TEMP TABLE judge (ms text, lx float8, mu float8, sigma float8, o float8);
    SELECT min(date_trunc('day', asked_at)) INTO first_day FROM answers;
    FOR d IN SELECT generate_series(first_day, max(date_trunc('day', asked_at)), interval '1 day') FROM answers LOOP
        UPDATE answers a
           SET p50_at = greatest(a.asked_at + interval '1 minute',
                                 portal.clock_at(portal.stretch_clock(a.base_c, a.ahead50, t.theta50), a.rate, a.cum, a.calendar)),
               p90_at = greatest(a.asked_at + interval '1 minute',
                                 portal.clock_at(portal.stretch_clock(a.base_c, a.ahead50, t.theta50), a.rate, a.cum, a.calendar),
                                 portal.clock_at(portal.stretch_clock(a.base_c, a.ahead90, t.theta90), a.rate, a.cum, a.calendar))
          FROM (SELECT ms, (1 - blend) * theta + blend * c50 AS theta50, (1 - blend) * theta + blend * c90 AS theta90
                  FROM theta) t
         WHERE t.ms = a.ms AND a.asked_at >= d AND a.asked_at < d + interval '1 day';
        IF d >= first_day + make_interval(days => warm) THEN
            -- The adopted rule (portal.calibration_theta): the model's misses once due, over
            -- the last portal.calibration_days().
            UPDATE theta t
               SET c50 = portal.calibration_theta(x.missed50, x.due50, 50, x.per_day),
                   c90 = portal.calibration_theta(x.missed90, x.due90, 90, x.per_day)
              FROM (SELECT a.ms, count(*) FILTER (WHERE w.due50) AS due50,
                           count(*) FILTER (WHERE w.due50 AND NOT coalesce(a.done_at <= a.p50_installed, false)) AS missed50,
                           count(*) FILTER (WHERE w.due90) AS due90,
                           count(*) FILTER (WHERE w.due90 AND NOT coalesce(a.done_at <= a.p90_installed, false)) AS missed90,
                           count(*) FILTER (WHERE a.asked_at < d + interval '1 day')::float8
                             / (extract(epoch FROM d + interval '1 day' - first_day) / 86400) AS per_day
                      FROM answers a
                     CROSS JOIN LATERAL (
                           SELECT a.p50_installed >= win.since AND a.p50_installed < d + interval '1 day' AS due50,
                                  a.p90_installed >= win.since AND a.p90_installed < d + interval '1 day' AS due90
                             FROM (SELECT d + interval '1 day' - make_interval(days => portal.calibration_days()) AS since) win) w
                     GROUP BY a.ms) x
             WHERE x.ms = t.ms;
            TRUNCATE judge;
            INSERT INTO judge
            SELECT a.ms, ln(j.x), ln(a.ahead50), greatest(ln(a.ahead90 / a.ahead50) / ln(9), 0.05),
                   (a.done_at IS NOT NULL AND a.done_at <= least(d + interval '1 day', a.p90_installed))::integer
              FROM answers a
             CROSS JOIN LATERAL (SELECT least(portal.clock_time(d + interval '1 day', a.rate, a.cum, a.calendar), a.base_c + a.ahead90) - a.base_c AS x) j
             WHERE a.asked_at >= d + interval '1 day' - make_interval(days => early)
               AND a.asked_at < d + interval '1 day' AND j.x > greatest(60, minfrac * a.ahead50);
            FOR m IN SELECT t.ms, (SELECT (portal.clock_time(d + interval '1 day', c.rate, c.cum, c.calendar)
                                          - portal.clock_time(d, c.rate, c.cum, c.calendar)) / 86400
                                     FROM backtest_clocks c WHERE c.as_of = d AND c.milestone = t.ms
                                      AND c.modality = '*' AND c.priority = '*') AS day_clock
                       FROM theta t LOOP
                CONTINUE WHEN coalesce(m.day_clock, 1) < gate;
                th := 0;
                FOR i IN 1..5 LOOP
                    SELECT sum(f - j.o) / nullif(sum(f * (1 - f) / j.sigma), 0)
                      INTO step
                      FROM judge j CROSS JOIN LATERAL (
                           SELECT pg_temp.model_share(j.lx, j.mu + th, j.sigma) AS f) ff
                     WHERE j.ms = m.ms;
                    th := th + coalesce(step, 0);
                END LOOP;
                UPDATE theta SET theta = least(2, greatest(-1, gain * sign(th) * greatest(0, abs(th) - dead))) WHERE theta.ms = m.ms;
                INSERT INTO theta_log
                SELECT d, m.ms, t.theta, (SELECT count(*) FROM judge j WHERE j.ms = m.ms),
                       (SELECT avg(o) FROM judge j WHERE j.ms = m.ms),
                       (SELECT avg(pg_temp.model_share(j.lx, j.mu, j.sigma)) FROM judge j WHERE j.ms = m.ms)
                  FROM theta t WHERE t.ms = m.ms;
            END LOOP;
        END IF;
    END LOOP;
END $$;
\pset footer off
CREATE TEMP TABLE scored AS
SELECT 'installed ' || a.ms AS variant, a.id, a.asked_at, a.done_at, true AS ok,
       a.p50_installed AS p50_at, a.p90_installed AS p90_at FROM answers a
UNION ALL
SELECT 'early ' || a.ms, a.id, a.asked_at, a.done_at, true, a.p50_at, a.p90_at FROM answers a;
\ir experiment_answers_report.sql
SELECT day::date, ms, round(theta::numeric, 3) AS theta, judged, round(observed::numeric, 3) AS observed, round(expected::numeric, 3) AS expected
  FROM theta_log ORDER BY ms, day;
ROLLBACK;
