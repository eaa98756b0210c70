-- Issue 20: sessions that end when asked, and access codes that are not lost silently.

-- A person's tokens issued before revoked_before (seconds since the epoch, compared with the
-- token's iat) are refused: sign-out, a new password, a new access code and an operator's
-- `portald end-sessions` move it forward. One row per person who ever ended their sessions;
-- every portald keeps the table in memory, told of changes by NOTIFY portal_sessions.
CREATE TABLE portal.session_revocations (
    role           text NOT NULL CHECK (role IN ('patient', 'physician', 'ris', 'admin')),
    sub            text NOT NULL,
    revoked_before bigint NOT NULL,
    revoked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, sub)
);

-- The event whose answer carried the patient's current access code (the code itself is kept
-- nowhere), and since when that answer is known to have been replayed without it: a replay means
-- the sender may never have read the first answer, so an operator issues a new code
-- (`portald access-codes-pending` lists them; `portald access-code` clears the mark).
ALTER TABLE portal.patients
    ADD COLUMN access_code_event text,
    ADD COLUMN access_code_unconfirmed_at timestamptz;
CREATE INDEX patients_access_code_unconfirmed ON portal.patients (access_code_unconfirmed_at)
    WHERE access_code_unconfirmed_at IS NOT NULL;
