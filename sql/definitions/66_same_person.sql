-- A proxy who is also a patient (issue 16): one person with two identities, each with its own
-- role and its own tokens, so that every audit row says plainly in which role they acted. These
-- functions record that the two are the same person (staff or an operator, audited), let a
-- signed-in session of one open a session of the other without a second sign-in (audited as a
-- session created by switching), and end both together: a session of either can open the other,
-- so signing out or a new access code must reach both. The unique index is in
-- sql/migrations/0020_proxy_same_person.sql.

-- The other identity of the same person: ('patient', id) for a proxy recorded as a patient of the
-- site, ('proxy', id) for a patient recorded as a proxy; no row otherwise, or for any other role.
-- A merged patient record is no one's own record any more.
CREATE OR REPLACE FUNCTION portal.same_person(p_role text, p_sub text)
RETURNS TABLE (role text, sub text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'patient', p.id::text
      FROM portal.proxies x
      JOIN portal.patients p ON p.id = x.patient_id AND p.merged_into IS NULL
     WHERE p_role = 'proxy'
       AND x.id = CASE WHEN p_sub ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                       THEN p_sub::uuid END
    UNION ALL
    SELECT 'proxy', x.id::text
      FROM portal.proxies x
      JOIN portal.patients p ON p.id = x.patient_id AND p.merged_into IS NULL
     WHERE p_role = 'patient'
       AND x.patient_id = CASE WHEN p_sub ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                               THEN p_sub::uuid END;
$$;

-- Ends every session of (p_role, p_sub) and of the same person's other identity, one row each
-- with the second before which their tokens are refused (portal.revoke_sessions). Sign-out and a
-- new access code call this: were the other identity's sessions kept, a code given up as lost
-- would keep its reach through a session it had switched to.
CREATE OR REPLACE FUNCTION portal.revoke_person_sessions(p_role text, p_sub text)
RETURNS TABLE (role text, sub text, revoked_before bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT p_role, p_sub, portal.revoke_sessions(p_role, p_sub);
    RETURN QUERY SELECT o.role, o.sub, portal.revoke_sessions(o.role, o.sub)
                   FROM portal.same_person(p_role, p_sub) o;
END $$;

-- A session of the same person's other identity, asked for by a signed-in (p_role, p_sub): the
-- identity to sign for, and the patient's saved language when it is a patient's. No row when the
-- person has no other identity. Audited as the identity switched to ('login.switch'), with the
-- one switched from, the proxy's id and the patient's in detail.
CREATE OR REPLACE FUNCTION portal.session_switch(p_role text, p_sub text, p_request_id text,
                                                 p_client_addr text)
RETURNS TABLE (role text, sub text, language text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_to record;
BEGIN
    SELECT * INTO v_to FROM portal.same_person(p_role, p_sub) o LIMIT 1;
    IF v_to.role IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (v_to.role, v_to.sub, 'login.switch',
            jsonb_build_object('from_role', p_role, 'from_id', p_sub,
                               'proxy_id', CASE WHEN p_role = 'proxy' THEN p_sub ELSE v_to.sub END,
                               'patient_id', CASE WHEN p_role = 'patient' THEN p_sub ELSE v_to.sub END),
            p_client_addr, p_request_id);
    RETURN QUERY
    SELECT v_to.role, v_to.sub,
           (SELECT p.language FROM portal.patients p
             WHERE v_to.role = 'patient' AND p.id = v_to.sub::uuid);
END $$;

-- Records that proxy p_proxy is the patient named by id (the staff console) or by MRN and
-- assigning authority (the operator's command), or, with neither, that they are no patient of the
-- site. Refused: no such proxy (PT404), no such patient (PT404 by id, PT422 by MRN), an MRN
-- that names more than one patient without the authority (PT422), birth dates that differ (they
-- cannot be the same person, PT422), a patient already recorded as another proxy (PT409).
-- Audited with before and after. When a proxy's patient changes or is cleared, the earlier
-- patient's sessions end: one may have been opened by switching from this proxy.
CREATE OR REPLACE FUNCTION portal.proxy_set_patient(p_proxy uuid, p_patient uuid, p_mrn text,
                                                    p_authority text, p_actor_role text,
                                                    p_actor_id text, p_request_id text,
                                                    p_client_addr text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_proxy portal.proxies;
    v_patient portal.patients;
BEGIN
    SELECT * INTO v_proxy FROM portal.proxies x WHERE x.id = p_proxy FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'No such proxy.' USING ERRCODE = 'PT404';
    END IF;
    -- With neither id nor MRN, v_patient stays NULL: the proxy is no patient of the site.
    v_patient := portal.patient_named(p_patient, p_mrn, p_authority);
    IF v_patient.id IS NOT NULL AND v_patient.birth_date IS DISTINCT FROM v_proxy.birth_date THEN
        RAISE EXCEPTION 'patient: the birth dates differ, so this is not the same person'
            USING ERRCODE = 'PT422';
    END IF;
    IF v_patient.id IS NOT NULL
       AND EXISTS (SELECT FROM portal.proxies x WHERE x.patient_id = v_patient.id
                                                  AND x.id <> p_proxy) THEN
        RAISE EXCEPTION 'patient: already recorded as another proxy' USING ERRCODE = 'PT409';
    END IF;
    UPDATE portal.proxies SET patient_id = v_patient.id, updated_at = now() WHERE id = p_proxy;
    IF v_proxy.patient_id IS NOT NULL AND v_proxy.patient_id IS DISTINCT FROM v_patient.id THEN
        PERFORM portal.revoke_sessions('patient', v_proxy.patient_id::text);
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'proxy.same_person',
            jsonb_build_object('proxy_id', p_proxy,
                               'before', jsonb_build_object('patient_id', v_proxy.patient_id),
                               'after', jsonb_build_object('patient_id', v_patient.id)),
            p_client_addr, p_request_id);
    RETURN v_patient.id;
END $$;
