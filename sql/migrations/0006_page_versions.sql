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
-- A kept page with a released report is served again only through portal.reread_released_page,
-- which checks the stamps and the release and appends the audit row of that read in the same
-- call, so every read of report text is still audited (CONTRACT invariant 4), and the text itself
-- was read once through the release gate (portal.patient_report).
--
-- A physician's name, phone and scheduling address show on released pages (the prompt to talk the
-- results over); a real change to them stamps the global row, since a physician's patients can be
-- many and such changes are rare (the RIS resends the same details with every event, which changes
-- nothing and stamps nothing).

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
CREATE TRIGGER pages_changed AFTER UPDATE ON portal.physicians FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.phone IS DISTINCT FROM NEW.phone
          OR OLD.scheduling_url IS DISTINCT FROM NEW.scheduling_url)
    EXECUTE FUNCTION portal.pages_changed();

-- True, with the read audited, when the patient's kept page of a released study may be served
-- again: the stamps it was built with are still current and the version it shows is still the one
-- released to this patient. False, with nothing written, otherwise (the server then reads the
-- page anew through portal.patient_report, which audits that read).
CREATE FUNCTION portal.reread_released_page(p_patient uuid, p_study uuid, p_version integer,
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

-- The release sweep stamps each patient it releases for or whose hold it ends, and a stamp holds
-- the patient's page_versions row until the sweep's transaction commits. Two instances sweeping at
-- once (SKIP LOCKED gives them different studies, possibly of the same patients, in any order)
-- could then deadlock on those rows; one sweep at a time, the others passing their turn, cannot.
-- 0004's sweep is kept as it is under another name, and release_due is now the gate in front of it.
ALTER FUNCTION portal.release_due(integer, text) RENAME TO release_due_unlocked;

CREATE FUNCTION portal.release_due(p_limit integer, p_request_id text)
RETURNS TABLE (released integer, holds_expired integer)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(7277710006) THEN
        RETURN QUERY SELECT 0, 0;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM portal.release_due_unlocked(p_limit, p_request_id);
END $$;

REVOKE ALL ON FUNCTION portal.stamp_patient_page(uuid), portal.page_changed(),
    portal.pages_changed(),
    portal.reread_released_page(uuid, uuid, integer, bigint, bigint, text, text),
    portal.release_due(integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION portal.reread_released_page(uuid, uuid, integer, bigint, bigint, text, text),
    portal.release_due(integer, text) TO portal_app;
GRANT SELECT ON portal.page_versions, portal.page_global_version TO portal_app;
