-- Release policies as data: when a final report reaches the patient (after the physician's review,
-- at once, or after a delay the patient chose), structured holds with deadlines, the automatic
-- release sweep (exactly once per report version however many portald instances run it), and the
-- compliance report of every hold and delayed release. docs/release-policies.md says which
-- settings fit which rules (45 CFR 171.201 for harm holds under the US Cures Act).
-- The functions (policy lookup, release plan, sweep, preferences, compliance report) are in
-- sql/definitions/40_release.sql and 60_preferences.sql.

-- ---------------------------------------------------------------------------------------------
-- Site policy: one row per (site, modality); '*' matches any. The most specific row wins:
-- (site, modality), then (site, '*'), then ('*', modality), then the default ('*', '*').
-- ---------------------------------------------------------------------------------------------

CREATE TABLE portal.release_policies (
    site                       text NOT NULL DEFAULT '*' CHECK (length(site) BETWEEN 1 AND 64),
    modality                   text NOT NULL DEFAULT '*'
        CHECK (modality IN ('*', 'CT', 'MR', 'XR', 'US', 'MG', 'NM', 'PET')),
    mode                       text NOT NULL DEFAULT 'physician_review'
        CHECK (mode IN ('physician_review', 'immediate')),
    -- physician_review only: released by policy this long after the final report reached the
    -- portal unless a hold is in force; NULL = never (only the physician releases).
    auto_release_after         interval CHECK (auto_release_after > interval '0'),
    -- Whether patients may choose "as soon as it is final" or "wait for my physician (up to
    -- max_patient_delay)" for studies under this policy.
    patient_preference_allowed boolean NOT NULL DEFAULT false,
    max_patient_delay          interval NOT NULL DEFAULT '30 days'
        CHECK (max_patient_delay >= interval '1 day'),
    hold_default               interval NOT NULL DEFAULT '72 hours' CHECK (hold_default > interval '0'),
    hold_max                   interval NOT NULL DEFAULT '30 days',
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, modality),
    CHECK (hold_default <= hold_max),
    CHECK (mode = 'physician_review' OR auto_release_after IS NULL)
);
INSERT INTO portal.release_policies (site, modality) VALUES ('*', '*');
-- The default row is what every study falls back to; it may be changed but not removed (trigger
-- release_policies_keep_default, sql/definitions/40_release.sql).

-- ---------------------------------------------------------------------------------------------
-- Patient preference: a standing one (chosen at login, for every study not yet final) and one
-- per study (chosen before that study's report is final). When a report becomes final the
-- standing choice is copied onto the study, so a later change never moves a decided release.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE portal.patient_preferences (
    patient_id uuid PRIMARY KEY REFERENCES portal.patients (id),
    release    text NOT NULL CHECK (release IN ('immediate', 'wait_for_physician')),
    wait       interval CHECK (wait >= interval '1 day'),
    chosen_at  timestamptz NOT NULL DEFAULT now(),
    request_id text,
    CHECK ((release = 'wait_for_physician') = (wait IS NOT NULL))
);

CREATE TABLE portal.study_preferences (
    study_id   uuid PRIMARY KEY REFERENCES portal.studies (id),
    -- site_default: this study follows the site policy even if a standing preference exists.
    release    text NOT NULL CHECK (release IN ('immediate', 'wait_for_physician', 'site_default')),
    wait       interval CHECK (wait >= interval '1 day'),
    chosen_at  timestamptz NOT NULL,
    set_for    text NOT NULL CHECK (set_for IN ('study', 'all_studies')),
    request_id text,
    CHECK ((release = 'wait_for_physician') = (wait IS NOT NULL))
);

-- ---------------------------------------------------------------------------------------------
-- Holds: a structured reason and a deadline; a release (by hand) or the deadline ends them.
-- ---------------------------------------------------------------------------------------------

ALTER TABLE portal.holds
    ADD COLUMN reason_code text NOT NULL DEFAULT 'other'
        CHECK (reason_code IN ('harm_risk', 'patient_request', 'data_believed_wrong', 'other'));
CREATE INDEX holds_deadline_idx ON portal.holds (ends_at) WHERE ended_at IS NULL;
CREATE INDEX holds_placed_idx ON portal.holds (placed_at);

-- A physician may add a note to a release the policy made (immediate mode); recorded with who
-- and when.
ALTER TABLE portal.releases
    ADD COLUMN noted_by text REFERENCES portal.physicians (id),
    ADD COLUMN noted_at timestamptz;

-- The sweep looks only at final reports not yet released.
CREATE INDEX studies_unreleased_idx ON portal.studies (id)
    WHERE reviewable_version IS NOT NULL AND released_version IS DISTINCT FROM reviewable_version;
