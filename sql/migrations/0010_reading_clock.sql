-- The site's reading clock (issue 18): how fast waiting studies reach a milestone in each hour of
-- the week, learned from the site's own history by portal.refresh_estimates. The quantiles in
-- portal.turnaround_estimates are now measured on this clock rather than in plain hours, so the
-- time of week of a stage's start (week_part) is no longer a dimension: only 'any' is written.
-- docs/estimates.md explains the model; sql/definitions/50_estimates.sql builds and reads it.

-- One clock per milestone and modality + priority, with the modality alone and every study
-- ('*') as the broader clocks. rate[h + 1] is how fast studies at risk reach the milestone in
-- hour h of the week (0 is Monday 00:00-01:00, site time), relative to the week's average (the
-- 168 rates average 1); cum[h + 1] is the sum of the rates of the hours before h (cum[1] = 0,
-- cum[169] = 168), so a clock hour is an average hour of this site's work on that milestone.
CREATE TABLE portal.estimate_clocks (
    milestone text NOT NULL CHECK (milestone IN ('report_final', 'available')),
    modality  text NOT NULL,
    priority  text NOT NULL,
    events    integer NOT NULL,   -- milestones reached in the window, that the rates come from
    rate      double precision[] NOT NULL CHECK (cardinality(rate) = 168),
    cum       double precision[] NOT NULL CHECK (cardinality(cum) = 169),
    PRIMARY KEY (milestone, modality, priority)
);

-- The candidate groups and the entry p90 no longer take a time of week.
DROP FUNCTION IF EXISTS portal.entry_p90(text, text, text, text, text);
DROP FUNCTION IF EXISTS portal.estimate_candidates(text, text, text, text);
-- The quantiles now take the clocks they measure with (computed once per refresh).
DROP FUNCTION IF EXISTS portal.estimate_rows(timestamptz, interval, integer[]);
-- Samples no longer carry it, and nothing else asks for it.
DROP FUNCTION IF EXISTS portal.estimate_samples(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS portal.week_part(timestamptz);

-- The two arrays (2.7 kB) are read on every lookup: kept in the row, never compressed or moved
-- out of line, so reading a clock is one primary-key probe.
ALTER TABLE portal.estimate_clocks ALTER COLUMN rate SET STORAGE PLAIN,
                                   ALTER COLUMN cum SET STORAGE PLAIN;
