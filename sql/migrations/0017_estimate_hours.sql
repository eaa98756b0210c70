-- Estimates asked at every hour of the week (issue 18, second model): the site's own history,
-- sampled at every hour mark of the window. Each past study waiting then for a milestone gives one
-- snapshot: the hour of the week, how long it had waited in its stage, and how long it still had
-- to wait. The refresh keeps the quantiles of that remaining time per group, stage, milestone,
-- hour of the week and wait; a lookup is a probe by the study's own group, stage, hour and wait.
-- docs/estimates.md explains the model; sql/definitions/50_estimates.sql builds and reads it.

-- level as in portal.turnaround_estimates (0: modality + priority + site ... 3: every study);
-- how is the hour of the week (0 = Monday 00:00-01:00, site time); wait_s the rung of
-- portal.estimate_wait_ladder the snapshots had waited (from the stage's anchor, plain seconds),
-- or a band of rungs for every study (-1: from the anchor up to a day, -2: longer;
-- portal.estimate_wait_band). The refresh fills it for available only (report_final keeps the
-- reading clock, portal.turnaround_estimates).
CREATE TABLE portal.estimate_hours (
    stage       text NOT NULL,
    milestone   text NOT NULL CHECK (milestone IN ('report_final', 'available')),
    modality    text NOT NULL,
    priority    text NOT NULL,
    site        text NOT NULL,
    how         smallint NOT NULL CHECK (how BETWEEN 0 AND 167),
    wait_s      integer NOT NULL,
    level       smallint NOT NULL CHECK (level BETWEEN 0 AND 3),
    sample_size integer NOT NULL,
    p50_s       double precision NOT NULL,   -- seconds still to wait from the hour mark
    p90_s       double precision NOT NULL,
    PRIMARY KEY (stage, milestone, modality, priority, site, how, wait_s)
);
