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

-- Who a message is about: the patient an identifier names within its assigning authority,
-- followed through merges to the surviving patient. A new identifier creates the patient; a known,
-- unmerged one takes the demographics sent (what the registration system says now), keeping the
-- contact details it did not send. created is true only when this call made the patient, so the
-- caller issues an access code inside the same transaction.
CREATE OR REPLACE FUNCTION portal.patient_identify(
    p_authority text, p_mrn text, p_name text, p_birth_date date, p_email text, p_phone text,
    OUT patient_id uuid, OUT created boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_merged_into uuid;
BEGIN
    created := false;
    IF p_name IS NULL OR p_birth_date IS NULL THEN
        -- A message that names a patient without demographics may only name a known one.
        SELECT p.id, p.merged_into INTO patient_id, v_merged_into
          FROM portal.patients p
         WHERE p.assigning_authority = p_authority AND p.mrn = p_mrn;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'patient.%: is required for a patient not yet known',
                CASE WHEN p_name IS NULL THEN 'name' ELSE 'birth_date' END USING ERRCODE = 'PT422';
        END IF;
        patient_id := coalesce(v_merged_into, patient_id);
        UPDATE portal.patients
           SET email = coalesce(p_email, email), phone = coalesce(p_phone, phone),
               name = coalesce(p_name, name), birth_date = coalesce(p_birth_date, birth_date),
               updated_at = now()
         WHERE id = patient_id AND v_merged_into IS NULL
           AND (p_email, p_phone, p_name, p_birth_date) IS DISTINCT FROM (NULL, NULL, NULL, NULL);
        RETURN;
    END IF;
    INSERT INTO portal.patients (assigning_authority, mrn, name, birth_date, email, phone)
    VALUES (p_authority, p_mrn, p_name, p_birth_date, p_email, p_phone)
    ON CONFLICT (assigning_authority, mrn) DO NOTHING
    RETURNING id INTO patient_id;
    IF patient_id IS NOT NULL THEN
        created := true;
        RETURN;
    END IF;
    SELECT p.id, p.merged_into INTO patient_id, v_merged_into
      FROM portal.patients p
     WHERE p.assigning_authority = p_authority AND p.mrn = p_mrn
       FOR UPDATE;
    IF v_merged_into IS NOT NULL THEN
        -- Merges are kept flat (portal.patient_merge), so one step reaches the survivor.
        patient_id := v_merged_into;
        RETURN;
    END IF;
    UPDATE portal.patients
       SET name = p_name, birth_date = p_birth_date,
           email = coalesce(p_email, email), phone = coalesce(p_phone, phone), updated_at = now()
     WHERE id = patient_id
       AND (name, birth_date, email, phone)
           IS DISTINCT FROM (p_name, p_birth_date, coalesce(p_email, email), coalesce(p_phone, phone));
END $$;

-- One row of the audit log for a message a sender applied: the sender's role ('ris', 'pacs') and
-- name (the token's subject, the HL7 sending facility), never the message's content.
CREATE OR REPLACE FUNCTION portal.audit_ingest(p_actor_role text, p_actor_id text, p_action text,
                                               p_study uuid, p_detail jsonb, p_client_addr text,
                                               p_request_id text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES (coalesce(p_actor_role, 'ris'), coalesce(p_actor_id, 'unknown'), p_action, p_study,
            p_detail, p_client_addr, p_request_id);
$$;

-- One lifecycle event. Returns the answer plus "created_patient" (true only when this event
-- created the patient, so the caller issues an access code inside the same transaction).
CREATE OR REPLACE FUNCTION portal.ingest_event(
    p_event_id text, p_payload_hash text, p_type text, p_occurred_at timestamptz,
    p_scheduled_for timestamptz,
    p_mrn text, p_patient_name text, p_birth_date date, p_email text,
    p_accession text, p_modality text, p_description text, p_priority text, p_site text,
    p_physician_id text, p_physician_name text, p_physician_phone text, p_scheduling_url text,
    p_assigning_authority text DEFAULT NULL, p_patient_phone text DEFAULT NULL,
    p_physician_authority text DEFAULT NULL, p_actor_role text DEFAULT NULL,
    p_actor_id text DEFAULT NULL, p_client_addr text DEFAULT NULL, p_request_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_replay jsonb;
    v_patient uuid;
    v_created boolean;
    v_study uuid;
    v_study_patient uuid;
    v_inserted boolean := false;
BEGIN
    v_replay := portal.ingest_claim(p_event_id, 'event', p_payload_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay || '{"replay": true}';
    END IF;

    -- The physician: created or brought up to date when the message names one with a name; a
    -- message that names only the id (or none) keeps what is known.
    IF p_physician_id IS NOT NULL AND p_physician_name IS NOT NULL THEN
        INSERT INTO portal.physicians AS ph (id, name, phone, scheduling_url, assigning_authority)
        VALUES (p_physician_id, p_physician_name, p_physician_phone, p_scheduling_url,
                p_physician_authority)
        ON CONFLICT (id) DO UPDATE
            SET name = excluded.name,
                phone = coalesce(excluded.phone, ph.phone),
                scheduling_url = coalesce(excluded.scheduling_url, ph.scheduling_url),
                assigning_authority = coalesce(excluded.assigning_authority, ph.assigning_authority),
                updated_at = now();
    ELSIF p_physician_id IS NOT NULL
          AND NOT EXISTS (SELECT FROM portal.physicians WHERE id = p_physician_id) THEN
        RAISE EXCEPTION 'referring_physician.name: is required for a physician not yet known'
            USING ERRCODE = 'PT422';
    END IF;

    SELECT i.patient_id, i.created INTO v_patient, v_created
      FROM portal.patient_identify(coalesce(p_assigning_authority, p_site, 'main'), p_mrn, p_patient_name,
                                   p_birth_date, p_email, p_patient_phone) i;

    -- A new accession needs the study's details; for a known one, the details a message leaves
    -- out (an HL7 status change, a rescheduled appointment) stay as they are.
    SELECT s.id, s.patient_id INTO v_study, v_study_patient
      FROM portal.studies s WHERE s.accession = p_accession FOR UPDATE;
    IF NOT FOUND THEN
        IF p_modality IS NULL THEN
            RAISE EXCEPTION 'study.modality: is required for an accession not yet known' USING ERRCODE = 'PT422';
        ELSIF p_description IS NULL THEN
            RAISE EXCEPTION 'study.description: is required for an accession not yet known' USING ERRCODE = 'PT422';
        ELSIF p_physician_id IS NULL THEN
            RAISE EXCEPTION 'referring_physician.id: is required for an accession not yet known' USING ERRCODE = 'PT422';
        END IF;
        -- A new study is inserted with this event's time already in place: inserting it bare and
        -- then setting the time would run the row triggers (the study's kept estimates, its page
        -- state) twice, which was half of a new order's cost in the database. (An accession that
        -- another transaction inserted meanwhile is updated instead, and gets the time below.)
        INSERT INTO portal.studies AS s (accession, patient_id, referring_physician_id, modality,
                                         description, priority, site, ordered_at, scheduled_at,
                                         arrived_at, exam_started_at, exam_completed_at,
                                         read_started_at, cancelled_at, scheduled_for)
        VALUES (p_accession, v_patient, p_physician_id, p_modality, p_description,
                coalesce(p_priority, 'routine'), coalesce(p_site, 'main'),
                CASE WHEN p_type = 'ordered' THEN p_occurred_at END,
                CASE WHEN p_type = 'scheduled' THEN p_occurred_at END,
                CASE WHEN p_type = 'arrived' THEN p_occurred_at END,
                CASE WHEN p_type = 'exam_started' THEN p_occurred_at END,
                CASE WHEN p_type = 'exam_completed' THEN p_occurred_at END,
                CASE WHEN p_type = 'read_started' THEN p_occurred_at END,
                CASE WHEN p_type = 'cancelled' THEN p_occurred_at END,
                CASE WHEN p_type = 'scheduled' THEN p_scheduled_for END)
        ON CONFLICT (accession) DO UPDATE
            SET referring_physician_id = excluded.referring_physician_id,
                modality = excluded.modality, description = excluded.description,
                priority = excluded.priority, site = excluded.site, updated_at = now()
        RETURNING id, patient_id, xmax = 0 INTO v_study, v_study_patient, v_inserted;
    ELSIF v_study_patient = v_patient THEN
        UPDATE portal.studies s
           SET referring_physician_id = coalesce(p_physician_id, s.referring_physician_id),
               modality = coalesce(p_modality, s.modality),
               description = coalesce(p_description, s.description),
               priority = coalesce(p_priority, s.priority), site = coalesce(p_site, s.site),
               updated_at = now()
         WHERE s.id = v_study;
    END IF;
    IF v_study_patient <> v_patient THEN
        RAISE EXCEPTION 'study.accession: belongs to another patient' USING ERRCODE = 'PT409';
    END IF;

    INSERT INTO portal.study_events (study_id, event_id, type, occurred_at)
    VALUES (v_study, p_event_id, p_type, p_occurred_at);

    -- Each timestamp keeps the earliest occurrence, whatever order events arrive in; the
    -- appointment time comes from the newest "scheduled" event.
    IF NOT v_inserted THEN
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
    END IF;

    PERFORM portal.audit_ingest(p_actor_role, p_actor_id, 'ingest.event', v_study,
                                jsonb_build_object('event_id', p_event_id, 'type', p_type),
                                p_client_addr, p_request_id);
    RETURN portal.ingest_answer(p_event_id,
        jsonb_build_object('study_id', v_study, 'patient_id', v_patient))
        || jsonb_build_object('created_patient', v_created);
END $$;

-- A patient's registration or update (HL7 ADT^A04, ^A08): creates the patient or brings its
-- demographics up to date. Returns {"patient_id"} plus "created_patient" as ingest_event does.
CREATE OR REPLACE FUNCTION portal.ingest_patient(
    p_event_id text, p_payload_hash text, p_assigning_authority text, p_mrn text,
    p_patient_name text, p_birth_date date, p_email text, p_patient_phone text,
    p_actor_role text, p_actor_id text, p_client_addr text, p_request_id text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_replay jsonb;
    v_patient uuid;
    v_created boolean;
BEGIN
    v_replay := portal.ingest_claim(p_event_id, 'patient', p_payload_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay || '{"replay": true}';
    END IF;
    SELECT i.patient_id, i.created INTO v_patient, v_created
      FROM portal.patient_identify(p_assigning_authority, p_mrn, p_patient_name, p_birth_date,
                                   p_email, p_patient_phone) i;
    PERFORM portal.audit_ingest(p_actor_role, p_actor_id,
                                CASE WHEN v_created THEN 'patient.registered' ELSE 'patient.updated' END,
                                NULL, jsonb_build_object('event_id', p_event_id, 'patient_id', v_patient),
                                p_client_addr, p_request_id);
    RETURN portal.ingest_answer(p_event_id, jsonb_build_object('patient_id', v_patient))
        || jsonb_build_object('created_patient', v_created);
END $$;

-- A patient merge (HL7 ADT^A40): the merged patient's studies and call-back requests move to the
-- surviving patient, and the merged identifier stops signing in (its access code is cleared) and
-- from then on names the survivor. Patients merged into the merged one before are re-pointed, so
-- merges stay one step deep. Either identifier unknown is refused, naming it; merging a patient
-- into itself, or again, changes nothing.
CREATE OR REPLACE FUNCTION portal.ingest_merge(
    p_event_id text, p_payload_hash text, p_assigning_authority text, p_mrn text,
    p_merged_authority text, p_merged_mrn text,
    p_actor_role text, p_actor_id text, p_client_addr text, p_request_id text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_replay jsonb;
    v_survivor portal.patients;
    v_merged portal.patients;
    v_moved integer := 0;
BEGIN
    v_replay := portal.ingest_claim(p_event_id, 'merge', p_payload_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay || '{"replay": true}';
    END IF;
    SELECT * INTO v_survivor FROM portal.patients
     WHERE assigning_authority = p_assigning_authority AND mrn = p_mrn FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'patient.mrn: no patient with this identifier' USING ERRCODE = 'PT422';
    END IF;
    IF v_survivor.merged_into IS NOT NULL THEN
        SELECT * INTO v_survivor FROM portal.patients WHERE id = v_survivor.merged_into FOR UPDATE;
    END IF;
    SELECT * INTO v_merged FROM portal.patients
     WHERE assigning_authority = p_merged_authority AND mrn = p_merged_mrn FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'merged.mrn: no patient with this identifier' USING ERRCODE = 'PT422';
    END IF;

    IF v_merged.id <> v_survivor.id AND v_merged.merged_into IS DISTINCT FROM v_survivor.id THEN
        IF v_merged.merged_into IS NOT NULL THEN
            RAISE EXCEPTION 'merged.mrn: already merged into another patient' USING ERRCODE = 'PT409';
        END IF;
        UPDATE portal.studies SET patient_id = v_survivor.id, updated_at = now()
         WHERE patient_id = v_merged.id;
        GET DIAGNOSTICS v_moved = ROW_COUNT;
        UPDATE portal.discussion_requests SET patient_id = v_survivor.id
         WHERE patient_id = v_merged.id;
        UPDATE portal.patients SET merged_into = v_survivor.id, updated_at = now()
         WHERE merged_into = v_merged.id;
        UPDATE portal.patients
           SET merged_into = v_survivor.id, merged_at = now(),
               access_selector = NULL, access_hash = NULL, updated_at = now()
         WHERE id = v_merged.id;
        PERFORM portal.stamp_patient_page(v_merged.id);
        PERFORM portal.audit_ingest(p_actor_role, p_actor_id, 'patient.merged', NULL,
                                    jsonb_build_object('event_id', p_event_id,
                                                       'patient_id', v_survivor.id,
                                                       'merged_patient_id', v_merged.id,
                                                       'studies_moved', v_moved),
                                    p_client_addr, p_request_id);
    END IF;
    RETURN portal.ingest_answer(p_event_id,
        jsonb_build_object('patient_id', v_survivor.id, 'merged_patient_id', v_merged.id,
                           'studies_moved', v_moved));
END $$;

-- One report version. Versions are numbered in arrival order per study. A final or amended
-- version takes the patient's standing preference onto the study, and is released at once where
-- the plan says so (immediate mode or the patient's choice) unless a hold is in force.
CREATE OR REPLACE FUNCTION portal.ingest_report(
    p_event_id text, p_payload_hash text, p_accession text, p_status text,
    p_findings text, p_impression text, p_radiologist text, p_signed_at timestamptz,
    p_actor_role text DEFAULT NULL, p_actor_id text DEFAULT NULL, p_client_addr text DEFAULT NULL,
    p_request_id text DEFAULT NULL)
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

    PERFORM portal.audit_ingest(p_actor_role, p_actor_id, 'ingest.report', v_study.id,
                                jsonb_build_object('event_id', p_event_id, 'version', v_version,
                                                   'status', p_status),
                                p_client_addr, p_request_id);
    RETURN portal.ingest_answer(p_event_id,
        jsonb_build_object('study_id', v_study.id, 'report_version', v_version, 'status', p_status));
END $$;
