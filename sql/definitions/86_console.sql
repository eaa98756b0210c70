-- The staff console's view of proxy links (issue 17): the writes are the proxy functions of
-- 65_proxies.sql, called with the staff member as actor; this is what the front desk reads.

-- Every link of this patient, in force or not, with the proxy's id (to give them a new code or
-- link them again) and who granted and ended it. No report data.
CREATE OR REPLACE FUNCTION portal.staff_proxy_links(p_patient uuid)
RETURNS TABLE (link_id uuid, proxy_id uuid, proxy_name text, kind text, starts_at timestamptz,
               ends_at timestamptz, ended_at timestamptz, ended_by text, active boolean,
               granted_by text, granted_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.id, l.proxy_id, x.name, l.kind, l.starts_at, coalesce(r.ends_at, l.ends_at),
           l.ended_at, l.ended_by, r.link_id IS NOT NULL, l.granted_by, l.granted_at
      FROM portal.proxy_links l
      JOIN portal.proxies x ON x.id = l.proxy_id
      LEFT JOIN LATERAL portal.proxy_rights(l.proxy_id, l.patient_id) r ON r.link_id = l.id
     WHERE l.patient_id = p_patient
     ORDER BY l.ended_at IS NULL DESC, l.granted_at DESC, l.id;
$$;
