-- Closing the loop on a patient's request to talk results over (issue 16): the physician's office
-- marks it contacted, scheduled (with a time) or closed, with an optional message the patient
-- reads; and a request belongs to the report version it was made about, so that after an amended
-- report is released the patient may ask again.

ALTER TABLE portal.discussion_requests
    DROP CONSTRAINT discussion_requests_state_check,
    ADD CONSTRAINT discussion_requests_state_check
        CHECK (state IN ('open', 'contacted', 'scheduled', 'closed')),
    ADD COLUMN report_version integer,
    ADD COLUMN scheduled_for timestamptz,
    -- What the office tells the patient; shown to the patient, never put in a notification.
    ADD COLUMN reply text CHECK (length(reply) <= 2000),
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN updated_by_role text CHECK (updated_by_role IN ('physician', 'staff', 'admin')),
    ADD COLUMN updated_by text,
    ADD CONSTRAINT discussion_requests_scheduled_has_time
        CHECK (state <> 'scheduled' OR scheduled_for IS NOT NULL);

-- A request made before this migration concerns the version released when it was made (a request
-- needs a release), or failing that the one released now.
UPDATE portal.discussion_requests d
   SET report_version = coalesce(
       (SELECT max(r.version) FROM portal.releases r
         WHERE r.study_id = d.study_id AND r.released_at <= d.created_at),
       (SELECT s.released_version FROM portal.studies s WHERE s.id = d.study_id), 1);

ALTER TABLE portal.discussion_requests ALTER COLUMN report_version SET NOT NULL;

-- One request per study and released version: asking again about the same report answers the
-- request already made, whatever its state; an amended report released later may be asked about.
DROP INDEX portal.discussion_requests_open_idx;
CREATE UNIQUE INDEX discussion_requests_version_idx
    ON portal.discussion_requests (study_id, report_version);

-- The patient hears that the office answered (never what it said: the portal shows that).
ALTER TABLE portal.notifications
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check
        CHECK (kind IN ('result_ready', 'result_updated', 'reports_waiting', 'callback_requested',
                        'callback_answered', 'hold_ending', 'study_overdue'));
