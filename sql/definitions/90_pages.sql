-- Version stamps for the patient's pages, so `portald serve` can keep a page it built and still
-- answer exactly what the database holds (server/page_cache.c, docs/performance.md). The stamps
-- (portal.page_versions, portal.page_global_version, portal.page_version_seq) are in
-- sql/migrations/0006_page_versions.sql, which explains the design.

CREATE OR REPLACE FUNCTION portal.stamp_patient_page(p_patient uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO portal.page_versions (patient_id, version)
    VALUES (p_patient, nextval('portal.page_version_seq'))
    ON CONFLICT (patient_id) DO UPDATE SET version = excluded.version;
$$;

-- Row triggers of tables keyed by patient (studies, patient_preferences) or by study.
CREATE OR REPLACE FUNCTION portal.page_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_patient uuid;
BEGIN
    IF TG_TABLE_NAME IN ('studies', 'patient_preferences') THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM portal.stamp_patient_page(OLD.patient_id);
        END IF;
        IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.patient_id IS DISTINCT FROM OLD.patient_id) THEN
            PERFORM portal.stamp_patient_page(NEW.patient_id);
        END IF;
    ELSE
        SELECT s.patient_id INTO v_patient FROM portal.studies s
         WHERE s.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.study_id ELSE NEW.study_id END;
        IF FOUND THEN
            PERFORM portal.stamp_patient_page(v_patient);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION portal.pages_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE portal.page_global_version SET version = nextval('portal.page_version_seq');
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.studies
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE OR REPLACE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.report_versions
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE OR REPLACE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.releases
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE OR REPLACE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.holds
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE OR REPLACE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.discussion_requests
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE OR REPLACE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.study_preferences
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE OR REPLACE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.patient_preferences
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();

CREATE OR REPLACE TRIGGER pages_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON portal.turnaround_estimates FOR EACH STATEMENT EXECUTE FUNCTION portal.pages_changed();
CREATE OR REPLACE TRIGGER pages_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON portal.estimates_state FOR EACH STATEMENT EXECUTE FUNCTION portal.pages_changed();
CREATE OR REPLACE TRIGGER pages_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON portal.release_policies FOR EACH STATEMENT EXECUTE FUNCTION portal.pages_changed();
CREATE OR REPLACE TRIGGER pages_changed AFTER UPDATE ON portal.physicians FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.phone IS DISTINCT FROM NEW.phone
          OR OLD.scheduling_url IS DISTINCT FROM NEW.scheduling_url)
    EXECUTE FUNCTION portal.pages_changed();

-- True, with the read audited, when the patient's kept page of a released study may be served
-- again: the stamps it was built with are still current and the version it shows is still the one
-- released to this patient. False, with nothing written, otherwise (the server then reads the
-- page anew through portal.patient_report, which audits that read).
CREATE OR REPLACE FUNCTION portal.reread_released_page(p_patient uuid, p_study uuid, p_version integer,
                                                       p_patient_stamp bigint, p_global_stamp bigint,
                                                       p_request_id text, p_client_addr text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF coalesce((SELECT pv.version FROM portal.page_versions pv WHERE pv.patient_id = p_patient), 0)
           IS DISTINCT FROM p_patient_stamp
       OR (SELECT gv.version FROM portal.page_global_version gv) IS DISTINCT FROM p_global_stamp
       OR NOT EXISTS (SELECT FROM portal.studies s
                       WHERE s.id = p_study AND s.patient_id = p_patient
                         AND s.released_version = p_version) THEN
        RETURN false;
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, client_addr, request_id)
    VALUES ('patient', p_patient::text, 'report.read', p_study, p_client_addr, p_request_id);
    RETURN true;
END $$;
