-- What the HL7 listener and the PACS follower need (issue 13):
--
-- * A patient is one identifier within one assigning authority (HL7's CX.1 and CX.4), not an MRN
--   alone: two sites' MRN 1234 are two people. Patients already here keep their row and get the
--   site of their first study as their authority, which is the authority the JSON API assumes when
--   an event names none (the study's site), so later events for them still find them.
-- * A merge (ADT^A40) moves the merged patient's studies to the surviving one and marks the merged
--   row; it can no longer sign in, and events still naming it reach the survivor.
-- * Contact details from registration (ADT^A04/A08): a phone number beside the email.
-- * The DICOM StudyInstanceUID the PACS knows a study by.
-- * Each feed the server follows (Orthanc's /changes) keeps its position here, written in the
--   transaction that applied what the change caused.
-- * Ingest idempotency covers the new kinds of message.

ALTER TABLE portal.patients
    ADD COLUMN assigning_authority text,
    ADD COLUMN phone text CHECK (length(phone) <= 40),
    ADD COLUMN merged_into uuid REFERENCES portal.patients (id),
    ADD COLUMN merged_at timestamptz,
    ADD CONSTRAINT patients_merged_consistent CHECK ((merged_into IS NULL) = (merged_at IS NULL)),
    ADD CONSTRAINT patients_not_merged_into_self CHECK (merged_into <> id);

UPDATE portal.patients p
   SET assigning_authority = coalesce((SELECT s.site FROM portal.studies s
                                        WHERE s.patient_id = p.id
                                        ORDER BY s.created_at, s.id LIMIT 1), 'main');

ALTER TABLE portal.patients
    ALTER COLUMN assigning_authority SET NOT NULL,
    ALTER COLUMN assigning_authority SET DEFAULT 'main', -- studies.site's default
    ADD CONSTRAINT patients_assigning_authority_length
        CHECK (length(assigning_authority) BETWEEN 1 AND 64),
    DROP CONSTRAINT patients_mrn_key,
    ADD CONSTRAINT patients_identifier_key UNIQUE (assigning_authority, mrn);
CREATE INDEX patients_merged_into_idx ON portal.patients (merged_into) WHERE merged_into IS NOT NULL;

-- The referring physician's identifier authority (XCN.9), kept for the record: physicians are
-- still one id across the site, the id they sign in with.
ALTER TABLE portal.physicians
    ADD COLUMN assigning_authority text CHECK (length(assigning_authority) BETWEEN 1 AND 64);

ALTER TABLE portal.studies
    ADD COLUMN study_instance_uid text CHECK (study_instance_uid ~ '^[0-9]+(\.[0-9]+)*$'
                                              AND length(study_instance_uid) <= 64);
CREATE INDEX studies_study_instance_uid_idx ON portal.studies (study_instance_uid)
    WHERE study_instance_uid IS NOT NULL;

CREATE TABLE portal.feed_positions (
    feed       text PRIMARY KEY CHECK (length(feed) BETWEEN 1 AND 64),
    position   bigint NOT NULL CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE portal.ingest_events
    DROP CONSTRAINT ingest_events_kind_check,
    ADD CONSTRAINT ingest_events_kind_check
        CHECK (kind IN ('event', 'report', 'patient', 'merge', 'images'));

-- The ingest functions take the patient's authority and who sent the message (for the audit log)
-- from here on; the old signatures go so that no caller reaches a function that ignores them.
-- sql/definitions/20_ingest.sql creates the new ones.
DROP FUNCTION IF EXISTS portal.ingest_event(text, text, text, timestamptz, timestamptz, text, text, date,
                                  text, text, text, text, text, text, text, text, text, text);
DROP FUNCTION IF EXISTS portal.ingest_report(text, text, text, text, text, text, text, timestamptz);
