-- The portal's domain model: who, which study, what happened when, the report versions, and the
-- release gate's tables. Runs as portal_owner; portal_app (what `portald serve` connects as) owns
-- nothing and gets only the grants in sql/grants.sql.
--
-- Migrations hold the schema's tables, indexes, constraints, sequences and data changes. The
-- functions, triggers and views are in sql/definitions/ and the privileges in sql/grants.sql,
-- which `portald migrate` applies after the migrations (server/migrate.c).

CREATE SCHEMA portal;
REVOKE ALL ON SCHEMA portal FROM PUBLIC;

CREATE TABLE portal.patients (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mrn             text NOT NULL UNIQUE CHECK (length(mrn) BETWEEN 1 AND 64),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    birth_date      date NOT NULL,
    email           text CHECK (length(email) <= 254),
    -- Access code = selector (looked up) + verifier (argon2id hash only). See server/access_code.c.
    access_selector text UNIQUE,
    access_hash     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE portal.physicians (
    id             text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone          text CHECK (length(phone) <= 40),
    scheduling_url text CHECK (length(scheduling_url) <= 500),
    password_hash  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per accession. The lifecycle timestamps are the earliest time each event was seen
-- (events may arrive out of order); `stage` follows from them, so it can never disagree.
CREATE TABLE portal.studies (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    accession               text NOT NULL UNIQUE CHECK (length(accession) BETWEEN 1 AND 64),
    patient_id              uuid NOT NULL REFERENCES portal.patients (id),
    referring_physician_id  text NOT NULL REFERENCES portal.physicians (id),
    modality                text NOT NULL CHECK (modality IN ('CT', 'MR', 'XR', 'US', 'MG', 'NM', 'PET')),
    description             text NOT NULL CHECK (length(description) BETWEEN 1 AND 200),
    priority                text NOT NULL DEFAULT 'routine' CHECK (priority IN ('routine', 'urgent', 'stat')),
    site                    text NOT NULL DEFAULT 'main' CHECK (length(site) BETWEEN 1 AND 64),
    ordered_at              timestamptz,
    scheduled_at            timestamptz,
    scheduled_for           timestamptz,
    arrived_at              timestamptz,
    exam_started_at         timestamptz,
    exam_completed_at       timestamptz,
    read_started_at         timestamptz,
    preliminary_at          timestamptz,
    final_at                timestamptz,
    cancelled_at            timestamptz,
    -- The newest report version received (any status) and the newest final/amended one, which is
    -- what a physician reviews; released_version is what the patient may read.
    latest_version          integer,
    reviewable_version      integer,
    released_version        integer,
    released_at             timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    stage text GENERATED ALWAYS AS (
        CASE
            WHEN cancelled_at IS NOT NULL AND released_version IS NULL THEN 'cancelled'
            WHEN released_version IS NOT NULL THEN 'available'
            WHEN reviewable_version IS NOT NULL THEN 'physician_review'
            WHEN read_started_at IS NOT NULL OR preliminary_at IS NOT NULL THEN 'reading'
            WHEN exam_completed_at IS NOT NULL THEN 'awaiting_read'
            WHEN exam_started_at IS NOT NULL THEN 'imaging'
            WHEN arrived_at IS NOT NULL THEN 'checked_in'
            WHEN scheduled_at IS NOT NULL THEN 'scheduled'
            ELSE 'ordered'
        END) STORED
);
CREATE INDEX studies_patient_idx ON portal.studies (patient_id, created_at DESC);
CREATE INDEX studies_physician_idx ON portal.studies (referring_physician_id)
    WHERE reviewable_version IS NOT NULL;

-- Every lifecycle event as received, for the record and for turnaround history.
CREATE TABLE portal.study_events (
    id          bigserial PRIMARY KEY,
    study_id    uuid NOT NULL REFERENCES portal.studies (id),
    event_id    text NOT NULL UNIQUE,
    type        text NOT NULL CHECK (type IN ('ordered', 'scheduled', 'arrived', 'exam_started',
                                               'exam_completed', 'read_started', 'cancelled')),
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX study_events_study_idx ON portal.study_events (study_id, occurred_at);

-- Report versions, never updated. portal_app may insert them but can read no text column.
CREATE TABLE portal.report_versions (
    id               bigserial PRIMARY KEY,
    study_id         uuid NOT NULL REFERENCES portal.studies (id),
    version          integer NOT NULL CHECK (version >= 1),
    status           text NOT NULL CHECK (status IN ('preliminary', 'final', 'amended')),
    findings         text NOT NULL,
    impression       text NOT NULL,
    radiologist_name text NOT NULL CHECK (length(radiologist_name) BETWEEN 1 AND 200),
    signed_at        timestamptz NOT NULL,
    event_id         text NOT NULL UNIQUE,
    received_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (study_id, version)
);

CREATE TABLE portal.releases (
    id               bigserial PRIMARY KEY,
    study_id         uuid NOT NULL REFERENCES portal.studies (id),
    version          integer NOT NULL,
    released_at      timestamptz NOT NULL DEFAULT now(),
    released_by      text REFERENCES portal.physicians (id),   -- NULL when released by policy
    released_by_name text NOT NULL,
    how              text NOT NULL DEFAULT 'physician' CHECK (how IN ('physician', 'policy')),
    note             text CHECK (length(note) <= 4000),
    request_id       text,
    UNIQUE (study_id, version),
    FOREIGN KEY (study_id, version) REFERENCES portal.report_versions (study_id, version)
);

CREATE TABLE portal.holds (
    id          bigserial PRIMARY KEY,
    study_id    uuid NOT NULL REFERENCES portal.studies (id),
    placed_by   text NOT NULL REFERENCES portal.physicians (id),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    placed_at   timestamptz NOT NULL DEFAULT now(),
    ends_at     timestamptz,
    ended_at    timestamptz,
    ended_how   text CHECK (ended_how IN ('released', 'expired', 'lifted')),
    request_id  text
);
-- At most one hold in force per study.
CREATE UNIQUE INDEX holds_active_idx ON portal.holds (study_id) WHERE ended_at IS NULL;

CREATE TABLE portal.discussion_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    study_id        uuid NOT NULL REFERENCES portal.studies (id),
    patient_id      uuid NOT NULL REFERENCES portal.patients (id),
    physician_id    text NOT NULL REFERENCES portal.physicians (id),
    preferred_times timestamptz[] NOT NULL DEFAULT '{}' CHECK (cardinality(preferred_times) <= 10),
    message         text CHECK (length(message) <= 2000),
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- One open request per study: a second POST answers the first.
CREATE UNIQUE INDEX discussion_requests_open_idx ON portal.discussion_requests (study_id)
    WHERE state = 'open';
CREATE INDEX discussion_requests_physician_idx ON portal.discussion_requests (physician_id, created_at);

-- Ingest idempotency: the first answer to an event_id is kept and given again on replay.
CREATE TABLE portal.ingest_events (
    event_id     text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 128),
    kind         text NOT NULL CHECK (kind IN ('event', 'report')),
    payload_hash text NOT NULL,
    response     jsonb,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- Login throttling survives restarts and is shared by every instance.
CREATE TABLE portal.login_throttle (
    key          text PRIMARY KEY,
    failures     integer NOT NULL DEFAULT 0,
    window_start timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz
);

-- Append-only: portal_app may only insert, and a trigger refuses changes from anyone
-- (sql/definitions/10_audit.sql).
CREATE TABLE portal.audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_role  text NOT NULL,
    actor_id    text NOT NULL,
    action      text NOT NULL,
    study_id    uuid,
    detail      jsonb,
    client_addr text,
    request_id  text
);
CREATE INDEX audit_log_study_idx ON portal.audit_log (study_id, at);
