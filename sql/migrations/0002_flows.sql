-- The write paths (ingest, release, hold, discussion, login throttling) as functions, so each is
-- one atomic round trip; and the release gate: the only ways to read report text.
--
-- Errors the API shows are raised with SQLSTATE 'PTnnn', nnn being the HTTP status, and a message
-- that is safe to show (it never holds report text). server/db.c maps them in one place.

-- ---------------------------------------------------------------------------------------------
-- Ingest
-- ---------------------------------------------------------------------------------------------

-- Claims an event id for this transaction. Returns NULL when the id is new; otherwise the stored
-- answer (replay), or raises PT409 when the same id came with a different payload.
-- p_payload_hash is the payload's keyed fingerprint, optionally followed by a space and its
-- fingerprint under the previous key (during a key rotation); the first is stored, either matches.
CREATE FUNCTION portal.ingest_claim(p_event_id text, p_kind text, p_payload_hash text)
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

CREATE FUNCTION portal.ingest_answer(p_event_id text, p_response jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    UPDATE portal.ingest_events SET response = p_response WHERE event_id = p_event_id;
    SELECT p_response;
$$;

-- One lifecycle event. Returns the answer plus "created_patient" (true only when this event
-- created the patient, so the caller issues an access code inside the same transaction).
CREATE FUNCTION portal.ingest_event(
    p_event_id text, p_payload_hash text, p_type text, p_occurred_at timestamptz,
    p_scheduled_for timestamptz,
    p_mrn text, p_patient_name text, p_birth_date date, p_email text,
    p_accession text, p_modality text, p_description text, p_priority text, p_site text,
    p_physician_id text, p_physician_name text, p_physician_phone text, p_scheduling_url text)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- One report version. Versions are numbered in arrival order per study.
CREATE FUNCTION portal.ingest_report(
    p_event_id text, p_payload_hash text, p_accession text, p_status text,
    p_findings text, p_impression text, p_radiologist text, p_signed_at timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

    UPDATE portal.studies SET
        latest_version = v_version,
        preliminary_at = CASE WHEN p_status = 'preliminary' THEN least(preliminary_at, p_signed_at) ELSE preliminary_at END,
        final_at = CASE WHEN p_status <> 'preliminary' THEN least(final_at, p_signed_at) ELSE final_at END,
        reviewable_version = CASE WHEN p_status <> 'preliminary' THEN v_version ELSE reviewable_version END,
        updated_at = now()
    WHERE id = v_study.id;

    RETURN portal.ingest_answer(p_event_id,
        jsonb_build_object('study_id', v_study.id, 'report_version', v_version, 'status', p_status));
END $$;

-- ---------------------------------------------------------------------------------------------
-- Physician actions
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION portal.physician_study(p_physician text, p_study uuid)
RETURNS portal.studies LANGUAGE plpgsql AS $$
DECLARE
    v portal.studies;
BEGIN
    SELECT * INTO v FROM portal.studies
     WHERE id = p_study AND referring_physician_id = p_physician FOR UPDATE;
    IF NOT FOUND THEN
        -- Another physician's study and a missing one answer alike.
        RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
    END IF;
    RETURN v;
END $$;

-- Releases the newest final or amended version. Releasing an already released version answers
-- as the first release did (CONTRACT: "releasing again answers the same").
CREATE FUNCTION portal.release_report(p_study uuid, p_physician text, p_note text,
                                      p_request_id text, p_client_addr text)
RETURNS TABLE (released_at timestamptz, report_version integer)
LANGUAGE plpgsql AS $$
DECLARE
    v portal.studies;
    v_name text;
BEGIN
    v := portal.physician_study(p_physician, p_study);
    IF v.reviewable_version IS NULL THEN
        RAISE EXCEPTION 'no final report to release yet' USING ERRCODE = 'PT409';
    END IF;
    IF v.released_version IS NOT DISTINCT FROM v.reviewable_version THEN
        RETURN QUERY SELECT r.released_at, r.version FROM portal.releases r
                      WHERE r.study_id = p_study AND r.version = v.reviewable_version;
        RETURN;
    END IF;
    SELECT name INTO v_name FROM portal.physicians WHERE id = p_physician;
    INSERT INTO portal.releases (study_id, version, released_by, released_by_name, how, note, request_id)
    VALUES (p_study, v.reviewable_version, p_physician, v_name, 'physician', nullif(p_note, ''), p_request_id);
    UPDATE portal.studies SET released_version = v.reviewable_version, released_at = now(), updated_at = now()
     WHERE id = p_study;
    UPDATE portal.holds SET ended_at = now(), ended_how = 'released'
     WHERE study_id = p_study AND ended_at IS NULL;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES ('physician', p_physician, 'report.release', p_study,
            jsonb_build_object('version', v.reviewable_version, 'with_note', coalesce(p_note, '') <> ''),
            p_client_addr, p_request_id);
    RETURN QUERY SELECT now(), v.reviewable_version;
END $$;

-- Keeps the report from any automatic release until a physician releases it by hand. A hold
-- already in force is answered as it stands.
CREATE FUNCTION portal.hold_report(p_study uuid, p_physician text, p_reason text,
                                   p_request_id text, p_client_addr text)
RETURNS TABLE (hold_id bigint, placed_at timestamptz, reason text, created boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v portal.studies;
    v_hold portal.holds;
BEGIN
    v := portal.physician_study(p_physician, p_study);
    IF v.released_version IS NOT NULL AND v.released_version IS NOT DISTINCT FROM v.reviewable_version THEN
        RAISE EXCEPTION 'the report is already released' USING ERRCODE = 'PT409';
    END IF;
    SELECT * INTO v_hold FROM portal.holds h WHERE h.study_id = p_study AND h.ended_at IS NULL;
    IF FOUND THEN
        RETURN QUERY SELECT v_hold.id, v_hold.placed_at, v_hold.reason, false;
        RETURN;
    END IF;
    INSERT INTO portal.holds (study_id, placed_by, reason, request_id)
    VALUES (p_study, p_physician, p_reason, p_request_id) RETURNING * INTO v_hold;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES ('physician', p_physician, 'report.hold', p_study,
            jsonb_build_object('hold_id', v_hold.id), p_client_addr, p_request_id);
    RETURN QUERY SELECT v_hold.id, v_hold.placed_at, v_hold.reason, true;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Patient actions
-- ---------------------------------------------------------------------------------------------

-- One open request per study: a second one answers the first (created = false).
CREATE FUNCTION portal.request_discussion(p_patient uuid, p_study uuid, p_times timestamptz[],
                                          p_message text, p_request_id text, p_client_addr text)
RETURNS TABLE (id uuid, state text, preferred_times timestamptz[], message text,
               created_at timestamptz, created boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v portal.studies;
    v_req portal.discussion_requests;
BEGIN
    SELECT * INTO v FROM portal.studies s WHERE s.id = p_study AND s.patient_id = p_patient FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
    END IF;
    IF v.released_version IS NULL THEN
        RAISE EXCEPTION 'the report has not been released yet' USING ERRCODE = 'PT409';
    END IF;
    SELECT * INTO v_req FROM portal.discussion_requests d WHERE d.study_id = p_study AND d.state = 'open';
    IF FOUND THEN
        RETURN QUERY SELECT v_req.id, v_req.state, v_req.preferred_times, v_req.message, v_req.created_at, false;
        RETURN;
    END IF;
    INSERT INTO portal.discussion_requests (study_id, patient_id, physician_id, preferred_times, message)
    VALUES (p_study, p_patient, v.referring_physician_id, coalesce(p_times, '{}'), nullif(p_message, ''))
    RETURNING * INTO v_req;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES ('patient', p_patient::text, 'discussion.request', p_study,
            jsonb_build_object('request_id', v_req.id), p_client_addr, p_request_id);
    RETURN QUERY SELECT v_req.id, v_req.state, v_req.preferred_times, v_req.message, v_req.created_at, true;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Login throttling: per access-code selector and per client address, kept in the database so it
-- survives restarts and holds across instances.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION portal.login_locked(p_keys text[]) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT FROM portal.login_throttle
                    WHERE key = ANY (p_keys) AND locked_until > now());
$$;

-- Counts a failure against each key; a key locks for p_lock once it reaches its limit within
-- p_window. p_limits pairs with p_keys.
CREATE FUNCTION portal.login_failed(p_keys text[], p_limits integer[], p_window interval,
                                    p_lock interval)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. cardinality(p_keys) LOOP
        INSERT INTO portal.login_throttle AS t (key, failures, window_start)
        VALUES (p_keys[i], 1, now())
        ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN t.window_start < now() - p_window THEN 1 ELSE t.failures + 1 END,
            window_start = CASE WHEN t.window_start < now() - p_window THEN now() ELSE t.window_start END;
        UPDATE portal.login_throttle SET locked_until = now() + p_lock
         WHERE key = p_keys[i] AND failures >= p_limits[i];
    END LOOP;
END $$;

CREATE FUNCTION portal.login_succeeded(p_key text) RETURNS void LANGUAGE sql AS $$
    DELETE FROM portal.login_throttle WHERE key = p_key;
$$;

-- ---------------------------------------------------------------------------------------------
-- The release gate (CONTRACT invariant 1). portal_app cannot select findings or impression; these
-- SECURITY DEFINER functions are the only ways to read them, and each read is audited
-- (invariant 4).
-- ---------------------------------------------------------------------------------------------

-- The version released to this patient, or no row: not theirs, not released, or no such study.
CREATE FUNCTION portal.patient_report(p_patient uuid, p_study uuid, p_request_id text,
                                      p_client_addr text)
RETURNS TABLE (version integer, status text, findings text, impression text, radiologist text,
               signed_at timestamptz, released_at timestamptz, released_by text, physician_note text,
               how text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    SELECT rv.version, rv.status, rv.findings, rv.impression, rv.radiologist_name, rv.signed_at,
           r.released_at, r.released_by_name, r.note, r.how
      FROM portal.studies s
      JOIN portal.report_versions rv ON rv.study_id = s.id AND rv.version = s.released_version
      JOIN portal.releases r ON r.study_id = s.id AND r.version = s.released_version
     WHERE s.id = p_study AND s.patient_id = p_patient;
    IF FOUND THEN
        INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, client_addr, request_id)
        VALUES ('patient', p_patient::text, 'report.read', p_study, p_client_addr, p_request_id);
    END IF;
END $$;

-- The version this physician would release (the newest final or amended one), else the newest
-- preliminary; released or not. A preliminary arriving after the final never replaces it.
CREATE FUNCTION portal.physician_report(p_physician text, p_study uuid, p_request_id text,
                                        p_client_addr text)
RETURNS TABLE (version integer, status text, findings text, impression text, radiologist text,
               signed_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    SELECT rv.version, rv.status, rv.findings, rv.impression, rv.radiologist_name, rv.signed_at
      FROM portal.studies s
      JOIN portal.report_versions rv
        ON rv.study_id = s.id AND rv.version = coalesce(s.reviewable_version, s.latest_version)
     WHERE s.id = p_study AND s.referring_physician_id = p_physician;
    IF FOUND THEN
        INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, client_addr, request_id)
        VALUES ('physician', p_physician, 'report.read', p_study, p_client_addr, p_request_id);
    END IF;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Grants: portal_app owns nothing and gets only what the server does.
-- ---------------------------------------------------------------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA portal FROM PUBLIC;
GRANT USAGE ON SCHEMA portal TO portal_app;
GRANT SELECT, INSERT, UPDATE ON portal.patients, portal.physicians, portal.studies TO portal_app;
GRANT SELECT, INSERT ON portal.study_events, portal.releases TO portal_app;
GRANT SELECT, INSERT, UPDATE ON portal.holds, portal.discussion_requests, portal.ingest_events TO portal_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON portal.login_throttle TO portal_app;
GRANT INSERT ON portal.audit_log TO portal_app;
-- Report text can be written by ingest but never read back by the server's role.
GRANT INSERT ON portal.report_versions TO portal_app;
GRANT SELECT (id, study_id, version, status, radiologist_name, signed_at, event_id, received_at)
    ON portal.report_versions TO portal_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA portal TO portal_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA portal TO portal_app;
REVOKE EXECUTE ON FUNCTION portal.audit_log_is_append_only() FROM portal_app;
