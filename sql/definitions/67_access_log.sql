-- "Who has seen my record" (issue 16): the reads of and actions on a patient's reports, from the
-- audit log, which portal_app may not read. Only this patient's studies' rows, only the kinds a
-- patient is shown, and only the columns a patient may see: no address, request id, hold reason or
-- other detail. Who is named for people (the physician's or proxy's name) or as "clinic staff"
-- for staff and administrators; the policy's actions as automatic.

-- Newest first (by the log's own order of writing, which a cursor can continue), rows with an id
-- below p_before when given, at most p_limit (1 to 100).
CREATE OR REPLACE FUNCTION portal.patient_access_log(p_patient uuid, p_before bigint, p_limit integer)
RETURNS TABLE (id bigint, at timestamptz, action text, actor_kind text, actor text,
               study_id uuid, accession text, description text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.id, a.at,
           CASE WHEN a.action = 'report.read' THEN 'viewed'
                WHEN a.action = 'report.release' AND a.actor_role = 'policy' THEN 'released_automatically'
                WHEN a.action = 'report.release' THEN 'released'
                ELSE 'hold_ended' END,
           k.kind,
           CASE k.kind WHEN 'patient' THEN pa.name
                       WHEN 'physician' THEN coalesce(ph.name, 'your doctor')
                       WHEN 'proxy' THEN coalesce(px.name, 'a proxy')
                       WHEN 'automatic' THEN 'automatic'
                       ELSE 'clinic staff' END,
           s.id, s.accession, s.description
      FROM portal.studies s
      JOIN portal.audit_log a ON a.study_id = s.id
     CROSS JOIN LATERAL (SELECT CASE
                WHEN a.actor_role = 'patient' THEN 'patient'
                WHEN a.actor_role = 'physician' THEN 'physician'
                WHEN a.actor_role = 'proxy' THEN 'proxy'
                WHEN a.actor_role = 'policy' THEN 'automatic'
                ELSE 'staff' END AS kind) k
      LEFT JOIN portal.patients pa ON k.kind = 'patient' AND pa.id = p_patient
      LEFT JOIN portal.physicians ph ON k.kind = 'physician' AND ph.id = a.actor_id
      LEFT JOIN portal.proxies px ON k.kind = 'proxy' AND px.id::text = a.actor_id
     WHERE s.patient_id = p_patient
       AND a.action IN ('report.read', 'report.release', 'report.hold_expired')
       AND (p_before IS NULL OR a.id < p_before)
     ORDER BY a.id DESC
     LIMIT greatest(1, least(p_limit, 100));
$$;

-- The same for a proxy, only as guardian of a child younger than the confidentiality age
-- (portal.proxy_rights); anyone else is told there is no such record (PT404).
CREATE OR REPLACE FUNCTION portal.proxy_access_log(p_proxy uuid, p_patient uuid, p_before bigint,
                                                   p_limit integer)
RETURNS TABLE (id bigint, at timestamptz, action text, actor_kind text, actor text,
               study_id uuid, accession text, description text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT coalesce((SELECT r.sees_log FROM portal.proxy_rights(p_proxy, p_patient) r), false) THEN
        RAISE EXCEPTION 'No such record.' USING ERRCODE = 'PT404';
    END IF;
    RETURN QUERY SELECT * FROM portal.patient_access_log(p_patient, p_before, p_limit);
END $$;
