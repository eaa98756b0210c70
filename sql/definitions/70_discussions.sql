-- A patient's request to talk the released results over with the referring physician.

-- One open request per study: a second one answers the first (created = false).
CREATE OR REPLACE FUNCTION portal.request_discussion(p_patient uuid, p_study uuid, p_times timestamptz[],
                                                     p_message text, p_request_id text, p_client_addr text)
RETURNS TABLE (id uuid, state text, preferred_times timestamptz[], message text,
               created_at timestamptz, created boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
