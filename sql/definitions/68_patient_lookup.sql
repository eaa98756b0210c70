-- The one patient a command names, by the portal's id or by MRN and assigning authority: one
-- function for every command that takes either, so an MRN two assigning authorities share is
-- refused alike everywhere (portal.proxy_grant, portal.proxy_set_patient) instead of one of them
-- taking whichever patient the scan meets first.

-- The living (unmerged) patient p_patient names, else the one p_mrn names within p_authority
-- (any authority when NULL). Refused: no such id (PT404), no patient with the MRN (PT422, field
-- mrn), an MRN more than one patient has with no authority given (PT422, field mrn, asking for the
-- authority). A NULL row when neither is given: each caller decides what that means. Runs with its
-- caller's rights; portal_app may not call it (sql/grants.sql), only the SECURITY DEFINER
-- functions that do.
CREATE OR REPLACE FUNCTION portal.patient_named(p_patient uuid, p_mrn text, p_authority text)
RETURNS portal.patients
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_patient portal.patients;
    v_matches integer;
BEGIN
    IF p_patient IS NOT NULL THEN
        SELECT * INTO v_patient FROM portal.patients p
         WHERE p.id = p_patient AND p.merged_into IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'No such patient.' USING ERRCODE = 'PT404';
        END IF;
        RETURN v_patient;
    END IF;
    IF p_mrn IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO v_matches FROM portal.patients p
     WHERE p.mrn = p_mrn AND (p_authority IS NULL OR p.assigning_authority = p_authority)
       AND p.merged_into IS NULL;
    IF v_matches = 0 THEN
        RAISE EXCEPTION 'mrn: no patient with this MRN' USING ERRCODE = 'PT422';
    ELSIF v_matches > 1 THEN
        RAISE EXCEPTION 'mrn: more than one patient has this MRN; give the assigning authority'
            USING ERRCODE = 'PT422';
    END IF;
    SELECT * INTO v_patient FROM portal.patients p
     WHERE p.mrn = p_mrn AND (p_authority IS NULL OR p.assigning_authority = p_authority)
       AND p.merged_into IS NULL;
    RETURN v_patient;
END $$;
