-- The staff console (issue 17, docs/staff.md): the people who run the portal, their sign-in, the
-- physicians they invite and disable, and the rate limit on finding patients. The functions are in
-- sql/definitions/85_staff.sql.

-- Front-desk users ('staff') and the site's administrators ('admin'). Sites with an identity
-- provider need no row here (its tokens carry the role claim); a row is a password and a second
-- factor for sites without one. The password is an argon2id hash (server/secret_hash.c); the TOTP
-- secret (RFC 6238) is kept as its base32 text, since the server must compute the codes to check
-- them; totp_last_step is the last time step accepted, so a code is never accepted twice.
-- disabled_at: sign-in refused, and the sessions ended when it was set.
CREATE TABLE portal.staff (
    id             text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._@-]{0,63}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role           text NOT NULL CHECK (role IN ('staff', 'admin')),
    password_hash  text NOT NULL,
    totp_secret    text NOT NULL CHECK (totp_secret ~ '^[A-Z2-7]{16,128}$'),
    totp_last_step bigint,
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A physician an administrator disabled: sign-in refused, sessions ended.
ALTER TABLE portal.physicians ADD COLUMN disabled_at timestamptz;

-- One-time invitations with which a physician sets their own password: a selector to find the row
-- and an argon2id hash of the secret part, like an access code; used once, before it expires.
CREATE TABLE portal.physician_invitations (
    selector      text PRIMARY KEY CHECK (length(selector) BETWEEN 8 AND 32),
    physician_id  text NOT NULL REFERENCES portal.physicians (id),
    verifier_hash text NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX physician_invitations_physician_idx ON portal.physician_invitations (physician_id);
