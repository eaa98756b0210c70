-- Shared by the calibration experiments in scripts/ (`\ir experiment_answers_report.sql`, after
-- experiment_answers.sql and the table scored), not run alone: with -v kept, drops the answers
-- whose p90 lies past the moment the kept tables were made; then prints the band line of each
-- variant (experiment_band.sql), its worst hours of the week, and its coverage by replayed week.
\if :{?kept}
-- Outcomes are known up to the moment the kept tables were made, not up to now.
DELETE FROM scored WHERE p90_at >= (SELECT k.now FROM :kept.params k);
\endif
\ir experiment_band.sql
WITH hours AS (
    SELECT variant, how, count(DISTINCT id) AS n, avg(in50) AS c50, avg(in90) AS c90 FROM judged GROUP BY 1, 2),
named AS (
    SELECT variant, c50, c90, (ARRAY['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'])[how / 24 + 1] || ' '
           || lpad((how % 24)::text, 2, '0') || ':00' AS hour
      FROM hours WHERE n >= 50)
SELECT variant, (SELECT round(100 * c50, 1) || ' % (' || hour || ')' FROM named m WHERE m.variant = v.variant ORDER BY abs(c50 - 0.5) DESC LIMIT 1) AS worst_p50,
       (SELECT round(100 * c90, 1) || ' % (' || hour || ')' FROM named m WHERE m.variant = v.variant ORDER BY abs(c90 - 0.9) DESC LIMIT 1) AS worst_p90
  FROM (SELECT DISTINCT variant FROM named) v ORDER BY 1;
SELECT variant, week, count(DISTINCT id) AS studies, round(100 * avg(in50), 1) AS p50, round(100 * avg(in90), 1) AS p90
  FROM judged GROUP BY 1, 2 ORDER BY 1, 2 DESC;
