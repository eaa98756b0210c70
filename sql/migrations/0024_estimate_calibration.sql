-- What patients were told, and how far the estimates stretch for it (issue 18, thirteenth pass;
-- docs/estimates.md, "Estimates that correct themselves"). The estimates learn from history, so
-- when reading falls behind (a backlog that grows for weeks) every answer comes too early until
-- the history catches up. The answers the lookup gave are kept here at each hour mark, their
-- outcomes read from the studies once due, and the share of them that came later than told sets
-- a factor that stretches the time ahead of each new answer (portal.refresh_calibration,
-- sql/definitions/50_estimates.sql).
CREATE TABLE portal.estimate_answers (
    milestone text NOT NULL CHECK (milestone IN ('report_final', 'available')),
    -- The hour mark at which the answer was recorded (portal.record_estimate_answers).
    asked_at  timestamptz NOT NULL,
    study_id  uuid NOT NULL REFERENCES portal.studies (id) ON DELETE CASCADE,
    p50_at    timestamptz NOT NULL,
    p90_at    timestamptz NOT NULL CHECK (p90_at >= p50_at),
    PRIMARY KEY (milestone, asked_at, study_id)
);

-- The answers that fell due in the last days, for each quantile; and a study's, for its deletion.
CREATE INDEX estimate_answers_p50_idx ON portal.estimate_answers (milestone, p50_at);
CREATE INDEX estimate_answers_p90_idx ON portal.estimate_answers (milestone, p90_at);
CREATE INDEX estimate_answers_study_idx ON portal.estimate_answers (study_id);

-- One row per milestone once a refresh has computed it; no row reads as no stretch.
-- theta50 (theta90) is the natural logarithm of the factor by which the time ahead of each p50
-- (p90) is stretched; the counts are the answers it was computed from.
CREATE TABLE portal.estimate_calibration (
    milestone   text PRIMARY KEY CHECK (milestone IN ('report_final', 'available')),
    theta50     double precision NOT NULL CHECK (theta50 BETWEEN -1 AND 2),
    theta90     double precision NOT NULL CHECK (theta90 BETWEEN -1 AND 2),
    due50       bigint NOT NULL,
    missed50    bigint NOT NULL,
    due90       bigint NOT NULL,
    missed90    bigint NOT NULL,
    computed_at timestamptz NOT NULL
);
