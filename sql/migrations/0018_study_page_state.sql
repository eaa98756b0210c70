-- What a patient's study page shows about a study's release and its discussion, kept in one row
-- per study (issue 19: a page's first view, and the first after a change, runs the detail
-- statement; reading this row replaced the EXISTS subqueries, the release plan and the discussion
-- lookup it ran on every such view). The row is kept up to date by triggers on every table it is
-- derived from, in the writing transaction, by portal.refresh_study_page_state
-- (sql/definitions/92_study_page_state.sql, which also fills it); it holds nothing a patient
-- could not already read, and no report text.
CREATE TABLE portal.study_page_state (
    study_id                  uuid PRIMARY KEY REFERENCES portal.studies (id) ON DELETE CASCADE,
    -- The hold not yet ended, if any: "held" is hold_placed and hold_ends_at not yet passed (the
    -- clock, not a write, ends a hold with an end time, so the page compares it with now()).
    hold_placed               boolean NOT NULL DEFAULT false,
    hold_ends_at              timestamptz,
    -- The released version was shared by the site's policy and the physician added no note.
    released_unreviewed       boolean NOT NULL DEFAULT false,
    -- When portal.release_plan would share the report under review (before any hold).
    plan_due_at               timestamptz,
    -- portal.study_preference: the patient's release choice as the page shows it.
    release_preference        jsonb,
    -- The newest discussion request of the study.
    discussion_id             uuid,
    discussion_state          text,
    discussion_created_at     timestamptz,
    discussion_scheduled_for  timestamptz,
    discussion_reply          text,
    discussion_updated_at     timestamptz,
    discussion_report_version integer
);
