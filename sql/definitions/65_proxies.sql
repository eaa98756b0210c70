-- Proxy access (issue 16): who may act for whom, and the gate a proxy reads through. The rules
-- hold here, not in C: a proxy's studies come only from portal.proxy_studies, which masks what a
-- proxy may not see as a study that is only ordered, and report text only from
-- portal.proxy_report, which checks the link, its dates, the age rule and the physician's mark,
-- and audits the read as that proxy. Tables in sql/migrations/0013_proxies.sql.

-- The proxy's active link to the patient, if any, and what it allows: flagged reports (the
-- physician's "not for proxies") and the access log only to a guardian of a child younger than
-- the confidentiality age. A guardian's link ends at the age of majority whatever its end says.
-- When links overlap (a guardian renewed as caregiver), the guardian's counts.
CREATE OR REPLACE FUNCTION portal.proxy_rights(p_proxy uuid, p_patient uuid)
RETURNS TABLE (link_id uuid, kind text, ends_at timestamptz, sees_flagged boolean, sees_log boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.id, l.kind,
           CASE WHEN l.kind = 'guardian'
                THEN least(l.ends_at, (p.birth_date + make_interval(years => st.majority_age))::timestamptz)
                ELSE l.ends_at END,
           young, young
      FROM portal.proxy_links l
      JOIN portal.patients p ON p.id = l.patient_id
     CROSS JOIN portal.proxy_settings st
     CROSS JOIN LATERAL (SELECT l.kind = 'guardian'
                                AND extract(year FROM age(current_date, p.birth_date)) < st.confidentiality_age
                                AS young) y
     WHERE l.proxy_id = p_proxy AND l.patient_id = p_patient AND l.ended_at IS NULL
       AND l.starts_at <= now() AND (l.ends_at IS NULL OR l.ends_at > now())
       AND (l.kind = 'caregiver'
            OR extract(year FROM age(current_date, p.birth_date)) < st.majority_age)
     ORDER BY l.kind = 'guardian' DESC, l.ends_at DESC NULLS FIRST
     LIMIT 1;
$$;

-- Whether this study is hidden from a proxy with these rights.
CREATE OR REPLACE FUNCTION portal.proxy_hidden(p_study uuid, p_sees_flagged boolean) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT NOT p_sees_flagged AND EXISTS (
        SELECT FROM portal.study_proxy_restrictions r
         WHERE r.study_id = p_study AND r.not_for_proxies);
$$;

-- The patient's studies as this proxy may see them (one study with p_study, else all): none
-- without an active link; a hidden study comes back as a study that was only ordered, every
-- later time, version and stage cleared, so nothing built from the row can tell it apart from
-- one that really is only ordered.
CREATE OR REPLACE FUNCTION portal.proxy_studies(p_proxy uuid, p_patient uuid, p_study uuid)
RETURNS SETOF portal.studies
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s portal.studies;
    v_rights record;
    v_patient uuid := p_patient;
BEGIN
    IF v_patient IS NULL THEN
        SELECT st.patient_id INTO v_patient FROM portal.studies st WHERE st.id = p_study;
    END IF;
    SELECT * INTO v_rights FROM portal.proxy_rights(p_proxy, v_patient);
    IF v_rights.link_id IS NULL THEN
        RETURN;
    END IF;
    FOR s IN SELECT * FROM portal.studies st
              WHERE st.patient_id = v_patient AND (p_study IS NULL OR st.id = p_study)
              ORDER BY coalesce(st.ordered_at, st.created_at) DESC, st.id LIMIT 500
    LOOP
        IF portal.proxy_hidden(s.id, v_rights.sees_flagged) THEN
            s.scheduled_at := NULL; s.scheduled_for := NULL; s.arrived_at := NULL;
            s.exam_started_at := NULL; s.exam_completed_at := NULL; s.read_started_at := NULL;
            s.preliminary_at := NULL; s.final_at := NULL; s.cancelled_at := NULL;
            s.latest_version := NULL; s.reviewable_version := NULL; s.released_version := NULL;
            s.released_at := NULL; s.study_instance_uid := NULL; s.updated_at := s.created_at;
            s.stage := 'ordered';
        END IF;
        RETURN NEXT s;
    END LOOP;
END $$;

-- The released report for a proxy, or no row: no active link, hidden, or not released. Each
-- read is audited as the proxy (actor_role 'proxy', the proxy's id), with the patient acted for
-- in detail.
CREATE OR REPLACE FUNCTION portal.proxy_report(p_proxy uuid, p_study uuid, p_request_id text,
                                               p_client_addr text)
RETURNS TABLE (version integer, status text, findings text, impression text, radiologist text,
               signed_at timestamptz, released_at timestamptz, released_by text, physician_note text,
               how text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_patient uuid;
    v_rights record;
BEGIN
    SELECT s.patient_id INTO v_patient FROM portal.studies s WHERE s.id = p_study;
    SELECT * INTO v_rights FROM portal.proxy_rights(p_proxy, v_patient);
    IF v_rights.link_id IS NULL OR portal.proxy_hidden(p_study, v_rights.sees_flagged) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT rv.version, rv.status, rv.findings, rv.impression, rv.radiologist_name, rv.signed_at,
           r.released_at, r.released_by_name, r.note, r.how
      FROM portal.studies s
      JOIN portal.report_versions rv ON rv.study_id = s.id AND rv.version = s.released_version
      JOIN portal.releases r ON r.study_id = s.id AND r.version = s.released_version
     WHERE s.id = p_study;
    IF FOUND THEN
        INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
        VALUES ('proxy', p_proxy::text, 'report.read', p_study,
                jsonb_build_object('patient_id', v_patient, 'link_id', v_rights.link_id),
                p_client_addr, p_request_id);
    END IF;
END $$;

-- The patients this proxy acts for now, with the kind and end of each link. (A proxy who is also a
-- patient reads their own record in a patient session, opened by switching:
-- sql/definitions/66_same_person.sql.)
CREATE OR REPLACE FUNCTION portal.proxy_patients(p_proxy uuid)
RETURNS TABLE (patient_id uuid, name text, relation text, ends_at timestamptz, sees_log boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.id, p.name, r.kind, r.ends_at, r.sees_log
      FROM (SELECT DISTINCT l.patient_id FROM portal.proxy_links l WHERE l.proxy_id = p_proxy) ll
      JOIN portal.patients p ON p.id = ll.patient_id
     CROSS JOIN LATERAL portal.proxy_rights(p_proxy, ll.patient_id) r
     ORDER BY p.name, p.id;
$$;

-- The patient's proxies, active or not, for the patient's own page (which can end any).
CREATE OR REPLACE FUNCTION portal.patient_proxies(p_patient uuid)
RETURNS TABLE (link_id uuid, proxy_name text, kind text, starts_at timestamptz,
               ends_at timestamptz, ended_at timestamptz, active boolean, granted_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.id, x.name, l.kind, l.starts_at, coalesce(r.ends_at, l.ends_at), l.ended_at,
           r.link_id IS NOT NULL, l.granted_by
      FROM portal.proxy_links l
      JOIN portal.proxies x ON x.id = l.proxy_id
      LEFT JOIN LATERAL portal.proxy_rights(l.proxy_id, l.patient_id) r ON r.link_id = l.id
     WHERE l.patient_id = p_patient
     ORDER BY (r.link_id IS NOT NULL) DESC, l.granted_at DESC;
$$;

-- A new proxy person with their own access code (selector and argon2id hash made in C), or,
-- with p_proxy, a new code for one who exists (the old code stops working). NULL when p_proxy
-- names no proxy. Audited as whoever did it: an operator at the command line, or a staff member
-- with the request id.
CREATE OR REPLACE FUNCTION portal.proxy_set_code(p_proxy uuid, p_name text, p_birth_date date,
                                                 p_email text, p_selector text, p_hash text,
                                                 p_actor_role text, p_actor_id text,
                                                 p_request_id text, p_client_addr text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_proxy IS NULL THEN
        INSERT INTO portal.proxies (name, birth_date, email, access_selector, access_hash)
        VALUES (p_name, p_birth_date, p_email, p_selector, p_hash) RETURNING id INTO v_id;
    ELSE
        UPDATE portal.proxies SET access_selector = p_selector, access_hash = p_hash,
                                  updated_at = now()
         WHERE id = p_proxy RETURNING id INTO v_id;
        IF v_id IS NULL THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'proxy.code',
            jsonb_build_object('proxy_id', v_id, 'new', p_proxy IS NULL),
            p_client_addr, p_request_id);
    RETURN v_id;
END $$;

-- A link from proxy to patient: the patient by id (the staff console; PT404 when there is no such
-- patient) or by MRN and assigning authority (the operator's command; PT422 naming mrn when no
-- patient has it, or when more than one has it and no authority is given). A caregiver's link needs
-- an end; a guardian's is refused for a patient who has reached the age of majority. The link
-- starts at p_starts_at, or now. granted_by is the actor's id.
CREATE OR REPLACE FUNCTION portal.proxy_grant(p_proxy uuid, p_patient uuid, p_mrn text,
                                              p_authority text, p_kind text,
                                              p_starts_at timestamptz, p_ends_at timestamptz,
                                              p_actor_role text, p_actor_id text,
                                              p_request_id text, p_client_addr text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_patient portal.patients;
    v_link uuid;
    v_start timestamptz := coalesce(p_starts_at, now());
BEGIN
    -- portal.patient_named (68_patient_lookup.sql): an MRN that names two patients needs the
    -- assigning authority here as it does for portal.proxy_set_patient.
    v_patient := portal.patient_named(p_patient, p_mrn, p_authority);
    IF v_patient.id IS NULL THEN
        RAISE EXCEPTION 'mrn: no patient with this MRN' USING ERRCODE = 'PT422';
    END IF;
    IF NOT EXISTS (SELECT FROM portal.proxies x WHERE x.id = p_proxy) THEN
        RAISE EXCEPTION 'proxy_id: no such proxy' USING ERRCODE = 'PT422';
    END IF;
    IF p_kind NOT IN ('guardian', 'caregiver') THEN
        RAISE EXCEPTION 'kind: must be guardian or caregiver' USING ERRCODE = 'PT422';
    END IF;
    IF p_kind = 'caregiver' AND (p_ends_at IS NULL OR p_ends_at <= now()) THEN
        RAISE EXCEPTION 'ends_at: a caregiver''s access needs an end in the future'
            USING ERRCODE = 'PT422';
    END IF;
    IF p_ends_at IS NOT NULL AND p_ends_at <= v_start THEN
        RAISE EXCEPTION 'ends_at: must be after the start' USING ERRCODE = 'PT422';
    END IF;
    IF p_kind = 'guardian' AND extract(year FROM age(current_date, v_patient.birth_date))
                               >= (SELECT majority_age FROM portal.proxy_settings) THEN
        RAISE EXCEPTION 'kind: the patient is of age; a guardian cannot be linked'
            USING ERRCODE = 'PT422';
    END IF;
    INSERT INTO portal.proxy_links (proxy_id, patient_id, kind, starts_at, ends_at, granted_by)
    VALUES (p_proxy, v_patient.id, p_kind, v_start, p_ends_at, p_actor_id) RETURNING id INTO v_link;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'proxy.grant',
            jsonb_build_object('link_id', v_link, 'proxy_id', p_proxy, 'patient_id', v_patient.id,
                               'kind', p_kind, 'starts_at', v_start, 'ends_at', p_ends_at),
            p_client_addr, p_request_id);
    RETURN v_link;
END $$;

-- A new end for a link still in force (an adult proxy's renewal); PT404 for any other. Audited
-- with the end before and after.
CREATE OR REPLACE FUNCTION portal.proxy_renew(p_link uuid, p_ends_at timestamptz,
                                              p_actor_role text, p_actor_id text,
                                              p_request_id text, p_client_addr text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_before timestamptz;
    v_link portal.proxy_links;
BEGIN
    IF p_ends_at IS NULL OR p_ends_at <= now() THEN
        RAISE EXCEPTION 'ends_at: must be in the future' USING ERRCODE = 'PT422';
    END IF;
    SELECT l.ends_at INTO v_before FROM portal.proxy_links l
     WHERE l.id = p_link AND l.ended_at IS NULL FOR UPDATE;
    UPDATE portal.proxy_links SET ends_at = p_ends_at WHERE id = p_link AND ended_at IS NULL
    RETURNING * INTO v_link;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'No such link in force.' USING ERRCODE = 'PT404';
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'proxy.renew',
            jsonb_build_object('link_id', p_link, 'proxy_id', v_link.proxy_id,
                               'patient_id', v_link.patient_id,
                               'before', jsonb_build_object('ends_at', v_before),
                               'after', jsonb_build_object('ends_at', p_ends_at)),
            p_client_addr, p_request_id);
    RETURN true;
END $$;

-- Ends a link now. p_patient, when given, must be the patient of the link (the patient ending
-- their own proxy's access; not a guardian's, which only the clinic ends, PT409); an operator
-- passes NULL. PT404 when there was nothing to end (or the link is another patient's).
CREATE OR REPLACE FUNCTION portal.proxy_end(p_link uuid, p_patient uuid, p_actor_role text,
                                            p_actor_id text, p_request_id text, p_client_addr text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_link portal.proxy_links;
BEGIN
    IF p_patient IS NOT NULL AND EXISTS (SELECT FROM portal.proxy_links l WHERE l.id = p_link
                                            AND l.patient_id = p_patient AND l.kind = 'guardian'
                                            AND l.ended_at IS NULL) THEN
        RAISE EXCEPTION 'A guardian''s access is ended by the clinic.' USING ERRCODE = 'PT409';
    END IF;
    UPDATE portal.proxy_links SET ended_at = now(), ended_by = p_actor_role || ':' || p_actor_id
     WHERE id = p_link AND ended_at IS NULL AND (p_patient IS NULL OR patient_id = p_patient)
    RETURNING * INTO v_link;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'No such link in force.' USING ERRCODE = 'PT404';
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'proxy.end',
            jsonb_build_object('link_id', p_link, 'proxy_id', v_link.proxy_id,
                               'patient_id', v_link.patient_id),
            p_client_addr, p_request_id);
    RETURN true;
END $$;

-- The referring physician's mark on a study: its report is (or is no longer) for proxies.
-- Audited. Another physician's study is PT404, as everywhere.
CREATE OR REPLACE FUNCTION portal.set_not_for_proxies(p_physician text, p_study uuid, p_flag boolean,
                                                      p_request_id text, p_client_addr text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM portal.studies s WHERE s.id = p_study
                                                  AND s.referring_physician_id = p_physician) THEN
        RAISE EXCEPTION 'No such study.' USING ERRCODE = 'PT404';
    END IF;
    INSERT INTO portal.study_proxy_restrictions AS r (study_id, not_for_proxies, set_by)
    VALUES (p_study, p_flag, p_physician)
    ON CONFLICT (study_id) DO UPDATE SET not_for_proxies = p_flag, set_by = p_physician, set_at = now();
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES ('physician', p_physician, 'report.proxy_access', p_study,
            jsonb_build_object('not_for_proxies', p_flag), p_client_addr, p_request_id);
    RETURN p_flag;
END $$;

-- A report released to the patient: each proxy who may see it now, and has an email address, is
-- told as the patient is ("a result is ready for someone you follow"), under the same rules;
-- portal.notify_claim checks them again when the message is sent.
CREATE OR REPLACE FUNCTION portal.notify_proxies_on_release() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_earlier boolean;
BEGIN
    SELECT EXISTS (SELECT FROM portal.releases r
                    WHERE r.study_id = NEW.study_id AND r.version < NEW.version) INTO v_earlier;
    INSERT INTO portal.notifications (kind, channel, proxy_id, study_id)
    SELECT CASE WHEN v_earlier THEN 'result_updated' ELSE 'result_ready' END, 'email', x.id,
           NEW.study_id
      FROM portal.studies s
      JOIN (SELECT DISTINCT l.proxy_id, l.patient_id FROM portal.proxy_links l) l
        ON l.patient_id = s.patient_id
      JOIN portal.proxies x ON x.id = l.proxy_id AND x.email IS NOT NULL
     CROSS JOIN LATERAL portal.proxy_rights(l.proxy_id, s.patient_id) r
     WHERE s.id = NEW.study_id AND NOT portal.proxy_hidden(s.id, r.sees_flagged);
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER notify_proxies_on_release AFTER INSERT ON portal.releases
    FOR EACH ROW EXECUTE FUNCTION portal.notify_proxies_on_release();

-- Whether this proxy may still see this study (a message about it is sent only then).
CREATE OR REPLACE FUNCTION portal.proxy_may_see(p_proxy uuid, p_study uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM portal.studies s
                    CROSS JOIN LATERAL portal.proxy_rights(p_proxy, s.patient_id) r
                    WHERE s.id = p_study AND NOT portal.proxy_hidden(s.id, r.sees_flagged));
$$;
