-- The model's own answer beside what was told (issue 18, fourteenth pass; docs/estimates.md,
-- "Calibration"). The stretch is set by how the model's answers held, before any stretch, rather
-- than by how the stretched answers held: judged by the stretched ones, a stretch that works
-- removes its own misses and so shrinks itself while the model is still as late as before, and a
-- backlog is followed only part of the way. Answers kept before this migration have only what was
-- told, and count as the model's own until their moments fall out of the last
-- portal.calibration_days() (for a far-off release, up to portal.estimate_answers_days()); where
-- a stretch was in force at the upgrade they count as hits more often than the model's own
-- would, and theta runs low for about a week.
ALTER TABLE portal.estimate_answers
    ADD COLUMN model50_at timestamptz,
    ADD COLUMN model90_at timestamptz;
UPDATE portal.estimate_answers SET model50_at = p50_at, model90_at = p90_at;
ALTER TABLE portal.estimate_answers
    ALTER COLUMN model50_at SET NOT NULL,
    ALTER COLUMN model90_at SET NOT NULL,
    ADD CONSTRAINT estimate_answers_model_order CHECK (model90_at >= model50_at);

-- The answers that fell due in the last days are now found by the model's moments.
DROP INDEX portal.estimate_answers_p50_idx;
DROP INDEX portal.estimate_answers_p90_idx;
CREATE INDEX estimate_answers_model50_idx ON portal.estimate_answers (milestone, model50_at);
CREATE INDEX estimate_answers_model90_idx ON portal.estimate_answers (milestone, model90_at);
