-- Turnaround estimates (issue 4): the site's own history, reduced to conditional quantiles in a
-- small table that a request reads by index and never recomputes. docs/estimates.md explains the
-- model; the functions that build, read and backtest it are in sql/definitions/50_estimates.sql.

-- ---------------------------------------------------------------------------------------------
-- The model: quantiles per group, stage, milestone, time of week and time already waited.
-- ---------------------------------------------------------------------------------------------

-- level 0: modality + priority + site; 1: modality + priority; 2: modality; 3: every study.
-- '*' stands for "any" in a key column; week_part is portal.week_part of the stage's anchor, or
-- 'any'.
CREATE TABLE portal.turnaround_estimates (
    modality    text NOT NULL,
    priority    text NOT NULL,
    site        text NOT NULL,
    week_part   text NOT NULL CHECK (week_part IN ('weekday', 'weeknight', 'weekend', 'any')),
    level       smallint NOT NULL CHECK (level BETWEEN 0 AND 3),
    stage       text NOT NULL,
    milestone   text NOT NULL CHECK (milestone IN ('report_final', 'available')),
    elapsed_s   integer NOT NULL,     -- rung of the ladder: durations of studies that waited longer
    sample_size integer NOT NULL,
    p50_s       double precision NOT NULL,   -- seconds from the stage's anchor
    p90_s       double precision NOT NULL,
    PRIMARY KEY (stage, milestone, elapsed_s, modality, priority, site, week_part)
);

-- When the table was last rebuilt, over which window, from how much history.
CREATE TABLE portal.estimates_state (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    refreshed_at timestamptz NOT NULL,
    window_days  integer NOT NULL,
    samples      bigint NOT NULL,
    rows         integer NOT NULL,
    took_ms      integer NOT NULL
);

CREATE INDEX studies_final_at_idx ON portal.studies (final_at) WHERE final_at IS NOT NULL;
CREATE INDEX studies_released_at_idx ON portal.studies (released_at) WHERE released_at IS NOT NULL;
-- Overdue counting reads only the studies still in flight.
CREATE INDEX studies_unfinished_idx ON portal.studies (stage)
    WHERE stage NOT IN ('available', 'cancelled');
