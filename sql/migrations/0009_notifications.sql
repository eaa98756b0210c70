-- Notifications (issue 15, docs/notifications.md): a transactional outbox of messages to patients,
-- physicians and the site's staff, written by triggers in the transaction of the change that
-- causes each one (sql/definitions/75_notifications.sql) and sent by `portald serve`'s sender
-- threads, which claim due rows with FOR UPDATE SKIP LOCKED.
--
-- The outbox holds no message text: a row names its kind, recipient and study, and the sender
-- renders the words at send time from templates that carry no health information. Addresses are
-- read when the message is sent, so a patient's correction reaches messages already waiting.

-- How each patient wants to be told: by email, text message (the webhook to the site's SMS
-- gateway), both or not at all; the time zone their quiet hours are kept in (NULL: the site's);
-- and the contact details the patient corrected, which win over the RIS's copy (email, phone)
-- until the patient changes them again. unsubscribe_id is the opaque key of the one-click
-- unsubscribe link in the patient's emails (RFC 8058); it grants nothing else.
ALTER TABLE portal.patients
    ADD COLUMN notify_channel text NOT NULL DEFAULT 'email'
        CHECK (notify_channel IN ('email', 'text', 'both', 'none')),
    ADD COLUMN time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64),
    ADD COLUMN email_override text CHECK (length(email_override) BETWEEN 3 AND 254),
    ADD COLUMN phone_override text CHECK (length(phone_override) BETWEEN 3 AND 40),
    ADD COLUMN contact_updated_at timestamptz,
    ADD COLUMN unsubscribe_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE portal.patients ADD CONSTRAINT patients_unsubscribe_id_key UNIQUE (unsubscribe_id);

-- Physicians: an address for their messages (without one they go to the site's messaging
-- platform through the webhook, addressed by physician id), and whether reports waiting for
-- review are announced at once or in one daily digest ('none': no messages at all).
ALTER TABLE portal.physicians
    ADD COLUMN email text CHECK (length(email) BETWEEN 3 AND 254),
    ADD COLUMN notify_digest text NOT NULL DEFAULT 'immediate'
        CHECK (notify_digest IN ('immediate', 'daily', 'none')),
    ADD COLUMN unsubscribe_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE portal.physicians ADD CONSTRAINT physicians_unsubscribe_id_key UNIQUE (unsubscribe_id);

CREATE TABLE portal.notifications (
    id            bigserial PRIMARY KEY,
    -- The idempotency key a receiver drops repeats by: the email's Message-ID and the webhook's
    -- webhook-id. Stable across every attempt of this message.
    message_id    uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    kind          text NOT NULL CHECK (kind IN ('result_ready', 'result_updated', 'reports_waiting',
                                                'callback_requested', 'hold_ending',
                                                'study_overdue')),
    channel       text NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- One recipient: a patient, a physician, or (neither) the site's staff address.
    patient_id    uuid REFERENCES portal.patients (id),
    physician_id  text REFERENCES portal.physicians (id),
    study_id      uuid REFERENCES portal.studies (id),
    -- What a staff message names besides the recipient: the accession and stage of an overdue
    -- study. Nothing else is ever put here.
    accession     text,
    stage         text,
    -- Once per study and stage, once per hold: a second insert under the same key does nothing.
    dedupe_key    text UNIQUE,
    state         text NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'sending', 'sent', 'failed', 'cancelled')),
    -- waiting: not before this; sending: the claim's lease ends (then another sender may take it).
    due_at        timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 0,
    claimed_by    text,
    -- Why the last attempt failed, or why the message ended failed or cancelled: a class, never
    -- the receiver's words (they may quote the message).
    failure       text CHECK (failure IN ('rejected', 'temporary', 'rate_limited', 'timeout',
                                          'connect', 'tls', 'auth', 'http_4xx', 'http_5xx',
                                          'no_address', 'unsubscribed', 'expired', 'read',
                                          'nothing_waiting', 'not_configured')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    ended_at      timestamptz,
    CONSTRAINT notifications_one_recipient CHECK (num_nonnulls(patient_id, physician_id) <= 1),
    CONSTRAINT notifications_staff_carry_accession
        CHECK ((accession IS NULL AND stage IS NULL) OR (patient_id IS NULL AND physician_id IS NULL))
);
-- What the senders claim: due rows of one channel.
CREATE INDEX notifications_due_idx ON portal.notifications (channel, due_at)
    WHERE state IN ('waiting', 'sending');
-- The per-recipient rate cap counts what was sent in the last hour.
CREATE INDEX notifications_patient_sent_idx ON portal.notifications (patient_id, sent_at)
    WHERE patient_id IS NOT NULL AND state = 'sent';
CREATE INDEX notifications_physician_sent_idx ON portal.notifications (physician_id, sent_at)
    WHERE physician_id IS NOT NULL AND state = 'sent';
-- A patient who reads a result cancels the waiting messages about it.
CREATE INDEX notifications_study_waiting_idx ON portal.notifications (study_id)
    WHERE state = 'waiting';
-- One waiting digest per physician and channel: reports arriving while one waits join it.
CREATE UNIQUE INDEX notifications_digest_waiting_idx ON portal.notifications (physician_id, channel)
    WHERE kind = 'reports_waiting' AND state = 'waiting';
CREATE INDEX notifications_digest_created_idx ON portal.notifications (physician_id, created_at)
    WHERE kind = 'reports_waiting';
-- The admin's list and the clean-up read by state.
CREATE INDEX notifications_ended_idx ON portal.notifications (state, ended_at)
    WHERE state IN ('sent', 'failed', 'cancelled');
