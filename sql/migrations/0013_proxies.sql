-- Issue 16, proxy access: people who act for a patient (a guardian for a minor, a caregiver for
-- an adult who consents), with a sign-in of their own, and the links that say for whom, of what
-- kind and until when. Read by the gate functions in sql/definitions/65_proxies.sql.

-- A proxy is a person of their own, not a patient: their sign-in is their own access code (never
-- the patient's) with their own birth date, and their tokens carry role 'proxy' and this id.
-- patient_id is set when the proxy is also a patient of the site (their own record).
CREATE TABLE portal.proxies (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    birth_date      date NOT NULL,
    email           text CHECK (length(email) <= 254),
    patient_id      uuid REFERENCES portal.patients (id),
    access_selector text UNIQUE,
    access_hash     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One grant of access. A caregiver's link always ends (ends_at, renewed by a new end); a
-- guardian's ends at ends_at if given and in any case when the patient reaches the age of
-- majority (proxy_settings), computed at each read, so no job has to end it. ended_at records an
-- early end (by the patient, an operator or staff) and who ended it.
CREATE TABLE portal.proxy_links (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    proxy_id    uuid NOT NULL REFERENCES portal.proxies (id),
    patient_id  uuid NOT NULL REFERENCES portal.patients (id),
    kind        text NOT NULL CHECK (kind IN ('guardian', 'caregiver')),
    starts_at   timestamptz NOT NULL DEFAULT now(),
    ends_at     timestamptz,
    granted_by  text NOT NULL CHECK (length(granted_by) BETWEEN 1 AND 200),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    ended_by    text,
    CONSTRAINT proxy_links_caregiver_ends CHECK (kind = 'guardian' OR ends_at IS NOT NULL),
    CONSTRAINT proxy_links_ends_after_start CHECK (ends_at IS NULL OR ends_at > starts_at),
    CONSTRAINT proxy_links_ended_by CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
CREATE INDEX proxy_links_proxy_idx ON portal.proxy_links (proxy_id, patient_id);
CREATE INDEX proxy_links_patient_idx ON portal.proxy_links (patient_id);

-- The physician's mark: this study's report is not for proxies. Kept beside the study, not in
-- it, so the studies' columns and their grants stay as they were.
CREATE TABLE portal.study_proxy_restrictions (
    study_id        uuid PRIMARY KEY REFERENCES portal.studies (id),
    not_for_proxies boolean NOT NULL,
    set_by          text NOT NULL,
    set_at          timestamptz NOT NULL DEFAULT now()
);

-- The site's two ages (one row): from confidentiality_age a guardian no longer sees a report the
-- physician marked not for proxies, nor the access log; at majority_age guardianship ends. Set by
-- the owner (docs/web.md), read by the gate, never by the server's role directly.
CREATE TABLE portal.proxy_settings (
    only_row           boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    confidentiality_age integer NOT NULL DEFAULT 12 CHECK (confidentiality_age BETWEEN 0 AND 25),
    majority_age       integer NOT NULL DEFAULT 18 CHECK (majority_age BETWEEN 14 AND 25)
);
INSERT INTO portal.proxy_settings DEFAULT VALUES;

-- A proxy's sessions end like anyone's; the staff role is named too so that either order of
-- merging the staff console keeps both.
ALTER TABLE portal.session_revocations DROP CONSTRAINT session_revocations_role_check;
ALTER TABLE portal.session_revocations ADD CONSTRAINT session_revocations_role_check
    CHECK (role IN ('patient', 'physician', 'ris', 'admin', 'proxy', 'staff'));


-- Released-report messages go to a patient's proxies too (docs/notifications.md): a third kind
-- of recipient, checked again against the proxy rules when the message is claimed; a message
-- whose proxy may no longer see the study ends cancelled, 'not_permitted'.
ALTER TABLE portal.notifications ADD COLUMN proxy_id uuid REFERENCES portal.proxies (id);
ALTER TABLE portal.notifications DROP CONSTRAINT notifications_one_recipient;
ALTER TABLE portal.notifications ADD CONSTRAINT notifications_one_recipient
    CHECK (num_nonnulls(patient_id, physician_id, proxy_id) <= 1);
ALTER TABLE portal.notifications DROP CONSTRAINT notifications_staff_carry_accession;
ALTER TABLE portal.notifications ADD CONSTRAINT notifications_staff_carry_accession
    CHECK ((accession IS NULL AND stage IS NULL)
           OR (patient_id IS NULL AND physician_id IS NULL AND proxy_id IS NULL));
ALTER TABLE portal.notifications DROP CONSTRAINT notifications_failure_check;
ALTER TABLE portal.notifications ADD CONSTRAINT notifications_failure_check
    CHECK (failure IN ('rejected', 'temporary', 'rate_limited', 'timeout', 'connect', 'tls', 'auth',
                       'http_4xx', 'http_5xx', 'no_address', 'unsubscribed', 'expired', 'read',
                       'nothing_waiting', 'not_configured', 'not_permitted'));
