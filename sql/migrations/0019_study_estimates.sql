-- What portal.estimate_lookup answers for each study in flight and each milestone still ahead of
-- it, kept with the moments between which that answer stays what a live lookup would return
-- (issue 19: the two lookups were over half of a cold page's detail statement). The page reads
-- the row by primary key while it is valid, and runs the live lookup only when it is not, so a
-- page is never wrong, only slower. Rows are written by sql/definitions/54_study_estimates.sql:
-- in the transaction that creates a study or moves it on, and by the estimates task after a
-- refresh of the model and when a row's time is up. A study that has reached its last milestone
-- (or is cancelled) has no rows.
CREATE TABLE portal.study_estimates (
    study_id     uuid NOT NULL REFERENCES portal.studies (id) ON DELETE CASCADE,
    milestone    text NOT NULL CHECK (milestone IN ('report_final', 'available')),
    -- estimate_lookup's columns; all NULL when it returned no row (no history for the group).
    modality     text,
    priority     text,
    site         text,
    week_part    text,
    level        smallint,
    sample_size  integer,
    p50_at       timestamptz,
    p90_at       timestamptz,
    enough       boolean,
    elapsed_s    integer,
    window_days  integer,
    -- The model the answer came from (portal.estimates_state.refreshed_at; -infinity when there
    -- was none): a refresh makes every row computed before it invalid at once.
    model_at     timestamptz NOT NULL,
    -- A live lookup at any moment in [valid_from, valid_until) returns the row above (empty when
    -- valid_until <= valid_from: the answer moves with the clock, as past the usual time).
    valid_from   timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL,
    -- When the estimates task computes the row again (the next rung of the wait).
    recompute_at timestamptz NOT NULL,
    PRIMARY KEY (study_id, milestone)
);

-- The estimates task's batches: rows whose time is up, and rows of an older model.
CREATE INDEX study_estimates_recompute_idx ON portal.study_estimates (recompute_at);
CREATE INDEX study_estimates_model_idx ON portal.study_estimates (model_at);
