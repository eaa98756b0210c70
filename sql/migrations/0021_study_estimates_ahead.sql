-- Kept estimates computed ahead (issue 19). A kept row's time is up when the wait reaches the next
-- rung or, for available, at every hour mark: at 1,000,000 studies 678,473 release estimates were
-- due at once at each mark, and for the quarter of an hour the estimates task took to compute
-- them again every page built fell back to the live lookup (docs/performance.md). The task now
-- computes the row that follows a kept row (what the lookup answers from the moment the row would
-- be computed again, valid from then) before that moment comes, and keeps it beside the row it
-- follows; when the moment comes, the old row is only dropped. So a study and milestone may have
-- two rows, one after the other in time: the key takes valid_from.
ALTER TABLE portal.study_estimates DROP CONSTRAINT study_estimates_pkey;
ALTER TABLE portal.study_estimates ADD PRIMARY KEY (study_id, milestone, valid_from);
-- The row that follows this one (valid from recompute_at) is kept too.
ALTER TABLE portal.study_estimates ADD COLUMN successor_kept boolean NOT NULL DEFAULT false;
-- The task's rows to compute ahead: those whose time comes soonest and have no successor yet.
CREATE INDEX study_estimates_ahead_idx ON portal.study_estimates (recompute_at) WHERE NOT successor_kept;
