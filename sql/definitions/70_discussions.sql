-- A patient's request to talk the released results over with the referring physician.

-- One request per study and released report version: asking again about the same version answers
-- the request already made, whatever its state (created = false); once an amended report is
-- released, the patient may ask about it.
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
    SELECT * INTO v_req FROM portal.discussion_requests d
     WHERE d.study_id = p_study AND d.report_version = v.released_version;
    IF FOUND THEN
        RETURN QUERY SELECT v_req.id, v_req.state, v_req.preferred_times, v_req.message, v_req.created_at, false;
        RETURN;
    END IF;
    INSERT INTO portal.discussion_requests (study_id, patient_id, physician_id, preferred_times, message,
                                            report_version)
    VALUES (p_study, p_patient, v.referring_physician_id, coalesce(p_times, '{}'), nullif(p_message, ''),
            v.released_version)
    RETURNING * INTO v_req;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES ('patient', p_patient::text, 'discussion.request', p_study,
            jsonb_build_object('request_id', v_req.id, 'report_version', v.released_version),
            p_client_addr, p_request_id);
    RETURN QUERY SELECT v_req.id, v_req.state, v_req.preferred_times, v_req.message, v_req.created_at, true;
END $$;

-- The office's answer to a request: contacted, scheduled (at p_scheduled_for) or closed, with an
-- optional message to the patient (p_reply, which belongs to this answer: an answer without one
-- clears the last). A physician answers only the requests made to them; staff and admin (the
-- front desk doing call-backs) answer any. A closed request is final. The same answer twice
-- changes nothing and is not audited again (changed = false). The audit row records the states
-- and times before and after, and whether a message was left, never its words.
CREATE OR REPLACE FUNCTION portal.answer_discussion(p_actor_role text, p_actor_id text, p_request uuid,
                                                    p_state text, p_scheduled_for timestamptz,
                                                    p_reply text, p_request_id text, p_client_addr text)
RETURNS TABLE (id uuid, study_id uuid, state text, scheduled_for timestamptz, reply text,
               updated_at timestamptz, changed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_req portal.discussion_requests;
    v_reply text := nullif(btrim(p_reply), '');
    v_when timestamptz := CASE WHEN p_state = 'scheduled' THEN p_scheduled_for END;
BEGIN
    IF p_actor_role NOT IN ('physician', 'staff', 'admin') OR p_actor_id IS NULL THEN
        RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
    END IF;
    SELECT * INTO v_req FROM portal.discussion_requests d
     WHERE d.id = p_request AND (p_actor_role <> 'physician' OR d.physician_id = p_actor_id)
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
    END IF;
    IF p_state IS NULL OR p_state NOT IN ('contacted', 'scheduled', 'closed') THEN
        RAISE EXCEPTION 'state: must be contacted, scheduled or closed' USING ERRCODE = 'PT422';
    END IF;
    IF p_state = 'scheduled' AND (v_when IS NULL OR v_when <= now()) THEN
        RAISE EXCEPTION 'scheduled_for: a scheduled discussion needs a time in the future'
            USING ERRCODE = 'PT422';
    END IF;
    IF v_req.state = p_state AND v_req.scheduled_for IS NOT DISTINCT FROM v_when
       AND v_req.reply IS NOT DISTINCT FROM v_reply THEN
        RETURN QUERY SELECT v_req.id, v_req.study_id, v_req.state, v_req.scheduled_for, v_req.reply,
                            v_req.updated_at, false;
        RETURN;
    END IF;
    IF v_req.state = 'closed' THEN
        RAISE EXCEPTION 'the request is closed' USING ERRCODE = 'PT409';
    END IF;
    UPDATE portal.discussion_requests d
       SET state = p_state, scheduled_for = v_when, reply = v_reply, updated_at = now(),
           updated_by_role = p_actor_role, updated_by = p_actor_id
     WHERE d.id = v_req.id;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'discussion.' || p_state, v_req.study_id,
            jsonb_build_object('request_id', v_req.id,
                               'before', jsonb_build_object('state', v_req.state,
                                                            'scheduled_for', v_req.scheduled_for),
                               'after', jsonb_build_object('state', p_state, 'scheduled_for', v_when),
                               'reply', v_reply IS NOT NULL),
            p_client_addr, p_request_id);
    RETURN QUERY SELECT v_req.id, v_req.study_id, p_state, v_when, v_reply, now(), true;
END $$;
