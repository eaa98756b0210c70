-- Ingest: lifecycle events and report versions from the RIS, each one atomic round trip,
-- idempotent on event_id (CONTRACT invariant 5).
--
-- Errors the API shows are raised with SQLSTATE 'PTnnn', nnn being the HTTP status, and a message
-- that is safe to show (it never holds report text). server/db.c maps them in one place.
--
-- ingest_event and ingest_report write the studies' lifecycle and release columns, report
-- versions and (through portal.release_if_due, 40_release.sql) releases by policy, none of which
-- portal_app may write itself: they run as their owner (SECURITY DEFINER, with a search_path of
-- pg_catalog and pg_temp only, so every portal object is named with its schema).

-- Claims an event id for this transaction. Returns NULL when the id is new; otherwise the stored
-- answer (replay), or raises PT409 when the same id came with a different payload.
-- p_payload_hash is the payload's keyed fingerprint, optionally followed by a space and its
-- fingerprint under the previous key (during a key rotation); the first is stored, either matches.
CREATE OR REPLACE FUNCTION portal.ingest_claim(p_event_id text, p_kind text, p_payload_hash text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_prev portal.ingest_events;
BEGIN
    -- A concurrent duplicate blocks here until the first commits, then sees its answer.
    INSERT INTO portal.ingest_events (event_id, kind, payload_hash)
    VALUES (p_event_id, p_kind, split_part(p_payload_hash, ' ', 1))
    ON CONFLICT (event_id) DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_prev FROM portal.ingest_events WHERE event_id = p_event_id;
    IF v_prev.kind <> p_kind OR NOT v_prev.payload_hash = ANY (string_to_array(p_payload_hash, ' ')) THEN
        RAISE EXCEPTION 'event_id: already used for a different %', v_prev.kind USING ERRCODE = 'PT409';
    END IF;
    RETURN v_prev.response;
END $$;

CREATE OR REPLACE FUNCTION portal.ingest_answer(p_event_id text, p_response jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    UPDATE portal.ingest_events SET response = p_response WHERE event_id = p_event_id;
    SELECT p_response;
$$;

-- One lifecycle event. Returns the answer plus "created_patient" (true only when this event
-- created the patient, so the caller issues an access code inside the same transaction).
CREATE OR REPLACE FUNCTION portal.ingest_event(
    p_event_id text, p_payload_hash text, p_type text, p_occurred_at timestamptz,
    p_scheduled_for timestamptz,
    p_mrn text, p_patient_name text, p_birth_date date, p_email text,
    p_accession text, p_modality text, p_description text, p_priority text, p_site text,
    p_physician_id text, p_physician_name text, p_physician_phone text, p_scheduling_url text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_replay jsonb;
    v_patient uuid;
    v_created boolean := false;
    v_study uuid;
    v_study_patient uuid;
BEGIN
    v_replay := portal.ingest_claim(p_event_id, 'event', p_payload_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay || '{"replay": true}';
    END IF;

    INSERT INTO portal.physicians AS ph (id, name, phone, scheduling_url)
    VALUES (p_physician_id, p_physician_name, p_physician_phone, p_scheduling_url)
    ON CONFLICT (id) DO UPDATE
        SET name = excluded.name,
            phone = coalesce(excluded.phone, ph.phone),
            scheduling_url = coalesce(excluded.scheduling_url, ph.scheduling_url),
            updated_at = now();

    INSERT INTO portal.patients (mrn, name, birth_date, email)
    VALUES (p_mrn, p_patient_name, p_birth_date, p_email)
    ON CONFLICT (mrn) DO NOTHING
    RETURNING id INTO v_patient;
    IF v_patient IS NOT NULL THEN
        v_created := true;
    ELSE
        UPDATE portal.patients
           SET name = p_patient_name, birth_date = p_birth_date,
               email = coalesce(p_email, email), updated_at = now()
         WHERE mrn = p_mrn
        RETURNING id INTO v_patient;
    END IF;

    INSERT INTO portal.studies AS s (accession, patient_id, referring_physician_id, modality,
                                     description, priority, site)
    VALUES (p_accession, v_patient, p_physician_id, p_modality, p_description, p_priority, p_site)
    ON CONFLICT (accession) DO UPDATE
        SET referring_physician_id = excluded.referring_physician_id,
            modality = excluded.modality, description = excluded.description,
            priority = excluded.priority, site = excluded.site, updated_at = now()
    RETURNING id, patient_id INTO v_study, v_study_patient;
    IF v_study_patient <> v_patient THEN
        RAISE EXCEPTION 'study.accession: belongs to another patient' USING ERRCODE = 'PT409';
    END IF;

    INSERT INTO portal.study_events (study_id, event_id, type, occurred_at)
    VALUES (v_study, p_event_id, p_type, p_occurred_at);

    -- Each timestamp keeps the earliest occurrence, whatever order events arrive in; the
    -- appointment time comes from the newest "scheduled" event.
    UPDATE portal.studies SET
        ordered_at        = CASE WHEN p_type = 'ordered'        THEN least(ordered_at, p_occurred_at)        ELSE ordered_at END,
        scheduled_at      = CASE WHEN p_type = 'scheduled'      THEN least(scheduled_at, p_occurred_at)      ELSE scheduled_at END,
        arrived_at        = CASE WHEN p_type = 'arrived'        THEN least(arrived_at, p_occurred_at)        ELSE arrived_at END,
        exam_started_at   = CASE WHEN p_type = 'exam_started'   THEN least(exam_started_at, p_occurred_at)   ELSE exam_started_at END,
        exam_completed_at = CASE WHEN p_type = 'exam_completed' THEN least(exam_completed_at, p_occurred_at) ELSE exam_completed_at END,
        read_started_at   = CASE WHEN p_type = 'read_started'   THEN least(read_started_at, p_occurred_at)   ELSE read_started_at END,
        cancelled_at      = CASE WHEN p_type = 'cancelled'      THEN least(cancelled_at, p_occurred_at)      ELSE cancelled_at END,
        scheduled_for     = CASE WHEN p_type = 'scheduled' AND p_scheduled_for IS NOT NULL
                                  AND p_occurred_at >= coalesce((SELECT max(e.occurred_at) FROM portal.study_events e
                                                                  WHERE e.study_id = v_study AND e.type = 'scheduled'
                                                                    AND e.event_id <> p_event_id), '-infinity')
                                 THEN p_scheduled_for ELSE scheduled_for END,
        updated_at = now()
    WHERE id = v_study;

    RETURN portal.ingest_answer(p_event_id,
        jsonb_build_object('study_id', v_study, 'patient_id', v_patient))
        || jsonb_build_object('created_patient', v_created);
END $$;

-- One report version. Versions are numbered in arrival order per study. A final or amended
-- version takes the patient's standing preference onto the study, and is released at once where
-- the plan says so (immediate mode or the patient's choice) unless a hold is in force.
CREATE OR REPLACE FUNCTION portal.ingest_report(
    p_event_id text, p_payload_hash text, p_accession text, p_status text,
    p_findings text, p_impression text, p_radiologist text, p_signed_at timestamptz)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_replay jsonb;
    v_study portal.studies;
    v_version integer;
BEGIN
    v_replay := portal.ingest_claim(p_event_id, 'report', p_payload_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay || '{"replay": true}';
    END IF;

    SELECT * INTO v_study FROM portal.studies WHERE accession = p_accession FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'accession: no study with this accession' USING ERRCODE = 'PT422';
    END IF;
    v_version := coalesce(v_study.latest_version, 0) + 1;

    INSERT INTO portal.report_versions (study_id, version, status, findings, impression,
                                        radiologist_name, signed_at, event_id)
    VALUES (v_study.id, v_version, p_status, p_findings, p_impression, p_radiologist,
            p_signed_at, p_event_id);

    IF p_status <> 'preliminary' THEN
        -- The standing choice as it stands now decides this study from here on.
        INSERT INTO portal.study_preferences (study_id, release, wait, chosen_at, set_for, request_id)
        SELECT v_study.id, pp.release, pp.wait, pp.chosen_at, 'all_studies', pp.request_id
          FROM portal.patient_preferences pp
         WHERE pp.patient_id = v_study.patient_id
           AND (portal.policy_for(v_study.site, v_study.modality)).patient_preference_allowed
        ON CONFLICT (study_id) DO NOTHING;
    END IF;

    UPDATE portal.studies SET
        latest_version = v_version,
        preliminary_at = CASE WHEN p_status = 'preliminary' THEN least(preliminary_at, p_signed_at) ELSE preliminary_at END,
        final_at = CASE WHEN p_status <> 'preliminary' THEN least(final_at, p_signed_at) ELSE final_at END,
        reviewable_version = CASE WHEN p_status <> 'preliminary' THEN v_version ELSE reviewable_version END,
        updated_at = now()
    WHERE id = v_study.id;

    IF p_status <> 'preliminary' THEN
        PERFORM portal.release_if_due(v_study.id, p_event_id);
    END IF;

    RETURN portal.ingest_answer(p_event_id,
        jsonb_build_object('study_id', v_study.id, 'report_version', v_version, 'status', p_status));
END $$;
