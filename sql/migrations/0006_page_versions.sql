-- Version stamps for the patient's pages, so `portald serve` can keep a page it built and still
-- answer exactly what the database holds (server/page_cache.c, docs/performance.md).
--
-- Every write that can change what a patient's study list or study detail shows stamps that
-- patient with a fresh number from one sequence; writes that can change every patient's pages
-- (the turnaround estimates, the release policies) stamp the one global row. A kept page carries
-- the two stamps read in the same snapshot as its data; before it is served again the server reads
-- the two current stamps by primary key, and any difference means the page is built anew. Numbers
-- from a sequence never repeat, so a stamp cannot come back to an old value.
--
-- Physicians are not stamped: a page without a released report shows nothing of the physician,
-- and pages with a report are never kept (their every read goes through the release gate and is
-- audited). Neither are report_versions on their own: what a patient sees of a report follows a
-- release, and the studies row changes with every new version anyway; they are stamped all the
-- same, since they are rare and the cost of a missed stamp would be a wrong page.

CREATE SEQUENCE portal.page_version_seq;

CREATE TABLE portal.page_versions (
    patient_id uuid PRIMARY KEY,
    version    bigint NOT NULL
);

CREATE TABLE portal.page_global_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO portal.page_global_version (version) VALUES (nextval('portal.page_version_seq'));

CREATE FUNCTION portal.stamp_patient_page(p_patient uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO portal.page_versions (patient_id, version)
    VALUES (p_patient, nextval('portal.page_version_seq'))
    ON CONFLICT (patient_id) DO UPDATE SET version = excluded.version;
$$;

-- Row triggers of tables keyed by patient (studies, patient_preferences) or by study.
CREATE FUNCTION portal.page_changed() RETURNS trigger
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

CREATE FUNCTION portal.pages_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE portal.page_global_version SET version = nextval('portal.page_version_seq');
    RETURN NULL;
END $$;

CREATE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.studies
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.report_versions
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.releases
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.holds
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.discussion_requests
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.study_preferences
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();
CREATE TRIGGER page_changed AFTER INSERT OR UPDATE OR DELETE ON portal.patient_preferences
    FOR EACH ROW EXECUTE FUNCTION portal.page_changed();

CREATE TRIGGER pages_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON portal.turnaround_estimates FOR EACH STATEMENT EXECUTE FUNCTION portal.pages_changed();
CREATE TRIGGER pages_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON portal.estimates_state FOR EACH STATEMENT EXECUTE FUNCTION portal.pages_changed();
CREATE TRIGGER pages_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON portal.release_policies FOR EACH STATEMENT EXECUTE FUNCTION portal.pages_changed();

REVOKE ALL ON FUNCTION portal.stamp_patient_page(uuid), portal.page_changed(),
    portal.pages_changed() FROM PUBLIC;
GRANT SELECT ON portal.page_versions, portal.page_global_version TO portal_app;
