-- Shared by the estimates experiments in scripts/ (`\ir experiment_clocks.sql` after
-- experiment_params.sql), not run alone: the reading clocks of each replayed day as the refresh
-- would have learned them at that day's midnight (clocks, indexed for the lookups), and the
-- report's clocks of each day as the array portal.estimate_rows takes (day_clocks).
CREATE TEMP TABLE clocks AS
SELECT d.d AS as_of, c.*
  FROM params p, generate_series(date_trunc('day', p.v_from), date_trunc('day', p.v_to), interval '1 day') d (d)
 CROSS JOIN LATERAL portal.estimate_clock_rows(d.d, p.win) c;
CREATE INDEX ON clocks (as_of, milestone, modality, priority);
ANALYZE clocks;
CREATE TEMP TABLE day_clocks AS
SELECT c.as_of, array_agg(ROW(c.milestone, c.modality, c.priority, c.events, c.rate, c.cum, c.calendar)::portal.estimate_clocks) AS clocks
  FROM clocks c WHERE c.milestone = 'report_final' GROUP BY c.as_of;
