-- The release gate (CONTRACT invariant 1). portal_app cannot select findings or impression; these
-- SECURITY DEFINER functions are the only ways to read them, and each read is audited
-- (invariant 4). A kept page with a report is read again through portal.reread_released_page
-- (90_pages.sql), which audits the read too.

-- The version released to this patient, or no row: not theirs, not released, or no such study.
CREATE OR REPLACE FUNCTION portal.patient_report(p_patient uuid, p_study uuid, p_request_id text,
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
CREATE OR REPLACE FUNCTION portal.physician_report(p_physician text, p_study uuid, p_request_id text,
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
