-- Shared by the estimates experiments in scripts/ (`\ir experiment_band.sql`), not run alone:
-- from the temporary table scored (variant, id, asked_at, done_at, ok, p50_at, p90_at) and params
-- (v_to), the table judged (each scored question, when it was asked and answered, its hour of the
-- week and replayed week, newest 1) and, per variant, the hours in band as `portald backtest
-- --every-hour` prints them: hours of the week with at least 50 studies scored, those with p50
-- covering 45-55 % and p90 87-93 %, the coverage over all, and the worst hour for each quantile.
CREATE TEMP TABLE judged AS
SELECT j.variant, j.id, j.asked_at, j.done_at, portal.hour_of_week(j.asked_at) AS how,
       floor(extract(epoch FROM (SELECT v_to FROM params) - j.asked_at) / 604800)::integer + 1 AS week,
       coalesce(j.done_at <= j.p50_at, false)::integer AS in50,
       coalesce(j.done_at <= j.p90_at, false)::integer AS in90
  FROM scored j WHERE j.ok AND j.p90_at < now();
WITH hours AS (
    SELECT variant, how, count(DISTINCT id) AS n, avg(in50) AS c50, avg(in90) AS c90
      FROM judged GROUP BY 1, 2)
SELECT h.variant, count(*) FILTER (WHERE n >= 50) AS hours,
       count(*) FILTER (WHERE n >= 50 AND c50 BETWEEN 0.45 AND 0.55 AND c90 BETWEEN 0.87 AND 0.93) AS in_band,
       (SELECT round(100 * avg(in50), 1) FROM judged j WHERE j.variant = h.variant) AS p50_all,
       round(100 * (array_agg(c50 ORDER BY abs(c50 - 0.5) DESC) FILTER (WHERE n >= 50))[1], 1) AS worst50,
       (SELECT round(100 * avg(in90), 1) FROM judged j WHERE j.variant = h.variant) AS p90_all,
       round(100 * (array_agg(c90 ORDER BY abs(c90 - 0.9) DESC) FILTER (WHERE n >= 50))[1], 1) AS worst90
  FROM hours h GROUP BY 1 ORDER BY 1;
