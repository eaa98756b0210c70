-- One row per study with what its patient page shows about the release and the discussion
-- (portal.study_page_state, sql/migrations/0018_study_page_state.sql), kept up to date in the
-- writing transaction by triggers on every table it is derived from, whoever writes. The page
-- statements (Q_PATIENT_STUDY, Q_PATIENT_STUDIES and the proxy pages in server/queries.c) read it
-- by primary key instead of evaluating the hold and release EXISTS subqueries, the release plan,
-- the preference and the discussion lookup on every first view (docs/performance.md, "A cold
-- page").
--
-- What the row holds is defined once, by portal.study_page_state_source below, from the same
-- functions the release sweep and the physician's pages use (portal.release_plan,
-- portal.study_preference). A change to those functions' meaning must be followed by
-- portal.refresh_study_page_states(); this file does it whenever it is applied (after every
-- migration, and when it changes).

-- The first form of this file (commit 23206e5) refreshed every study on any policy change.
DROP TRIGGER IF EXISTS study_page_states ON portal.release_policies;
DROP FUNCTION IF EXISTS portal.refresh_study_page_states();

-- The row as it should be, computed from the tables.
CREATE OR REPLACE VIEW portal.study_page_state_source AS
SELECT s.id AS study_id,
       h.id IS NOT NULL AS hold_placed,
       h.ends_at AS hold_ends_at,
       EXISTS (SELECT FROM portal.releases rr
                WHERE rr.study_id = s.id AND rr.version = s.released_version
                  AND rr.how = 'policy' AND rr.note IS NULL) AS released_unreviewed,
       rp.due_at AS plan_due_at,
       pf.preference AS release_preference,
       d.id AS discussion_id,
       d.state AS discussion_state,
       d.created_at AS discussion_created_at,
       d.scheduled_for AS discussion_scheduled_for,
       d.reply AS discussion_reply,
       d.updated_at AS discussion_updated_at,
       d.report_version AS discussion_report_version
  FROM portal.studies s
  LEFT JOIN portal.holds h ON h.study_id = s.id AND h.ended_at IS NULL
  LEFT JOIN LATERAL portal.release_plan(s) rp ON true
  LEFT JOIN LATERAL portal.study_preference(s) pf ON true
  LEFT JOIN LATERAL (SELECT dr.id, dr.state, dr.created_at, dr.scheduled_for, dr.reply,
                            dr.updated_at, dr.report_version
                       FROM portal.discussion_requests dr
                      WHERE dr.study_id = s.id ORDER BY dr.created_at DESC LIMIT 1) d ON true;

-- One study's row. The row is locked before it is computed, and computed by a statement that
-- starts after the lock: two transactions changing the same study one after the other each
-- compute from what the other committed, so the later one never writes what it saw before the
-- earlier one's change.
CREATE OR REPLACE FUNCTION portal.refresh_study_page_state(p_study uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO portal.study_page_state (study_id)
    SELECT s.id FROM portal.studies s WHERE s.id = p_study
        ON CONFLICT (study_id) DO NOTHING;
    PERFORM FROM portal.study_page_state st WHERE st.study_id = p_study FOR UPDATE;
    UPDATE portal.study_page_state st
       SET hold_placed = v.hold_placed, hold_ends_at = v.hold_ends_at,
           released_unreviewed = v.released_unreviewed, plan_due_at = v.plan_due_at,
           release_preference = v.release_preference, discussion_id = v.discussion_id,
           discussion_state = v.discussion_state, discussion_created_at = v.discussion_created_at,
           discussion_scheduled_for = v.discussion_scheduled_for,
           discussion_reply = v.discussion_reply, discussion_updated_at = v.discussion_updated_at,
           discussion_report_version = v.discussion_report_version
      FROM portal.study_page_state_source v
     WHERE st.study_id = p_study AND v.study_id = p_study;
END $$;

-- The rows of every study, or of the studies a release policy of one of the given (site,
-- modality) pairs applies to ('*' matching any): a policy decides the plan and the choice of the
-- studies it covers. Writers of single rows wait for it, so it cannot overwrite a change it did
-- not see.
CREATE OR REPLACE FUNCTION portal.refresh_study_page_states(p_sites text[] DEFAULT NULL,
                                                            p_modalities text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    LOCK TABLE portal.study_page_state IN SHARE ROW EXCLUSIVE MODE;
    INSERT INTO portal.study_page_state AS st
    SELECT v.* FROM portal.study_page_state_source v JOIN portal.studies s ON s.id = v.study_id
     WHERE p_sites IS NULL
        OR EXISTS (SELECT FROM unnest(p_sites, p_modalities) c (site, modality)
                    WHERE (c.site = '*' OR c.site = s.site)
                      AND (c.modality = '*' OR c.modality = s.modality))
        ON CONFLICT (study_id) DO UPDATE
       SET hold_placed = excluded.hold_placed, hold_ends_at = excluded.hold_ends_at,
           released_unreviewed = excluded.released_unreviewed, plan_due_at = excluded.plan_due_at,
           release_preference = excluded.release_preference,
           discussion_id = excluded.discussion_id, discussion_state = excluded.discussion_state,
           discussion_created_at = excluded.discussion_created_at,
           discussion_scheduled_for = excluded.discussion_scheduled_for,
           discussion_reply = excluded.discussion_reply,
           discussion_updated_at = excluded.discussion_updated_at,
           discussion_report_version = excluded.discussion_report_version
     WHERE (st.*) IS DISTINCT FROM (excluded.*);
END $$;

-- Row triggers of the tables a study's row is derived from.
CREATE OR REPLACE FUNCTION portal.study_page_state_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_study uuid;
BEGIN
    IF TG_TABLE_NAME = 'studies' THEN
        PERFORM portal.refresh_study_page_state(NEW.id);
    ELSIF TG_TABLE_NAME = 'patient_preferences' THEN
        -- The standing choice is every study's of the patient (before a report is final).
        FOR v_study IN SELECT s.id FROM portal.studies s
                        WHERE s.patient_id IN (OLD.patient_id, NEW.patient_id) ORDER BY s.id LOOP
            PERFORM portal.refresh_study_page_state(v_study);
        END LOOP;
    ELSE
        IF TG_OP <> 'INSERT' THEN
            PERFORM portal.refresh_study_page_state(OLD.study_id);
        END IF;
        IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.study_id IS DISTINCT FROM OLD.study_id) THEN
            PERFORM portal.refresh_study_page_state(NEW.study_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Statement triggers of release_policies: the studies the changed rows (before and after) cover.
CREATE OR REPLACE FUNCTION portal.study_page_states_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_sites text[];
    v_modalities text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(site), array_agg(modality) INTO v_sites, v_modalities FROM policies_after;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only rows whose (site, modality) or a column release_plan reads changed: the hold
        -- lengths, for one, change no page.
        SELECT array_agg(coalesce(a.site, b.site)), array_agg(coalesce(a.modality, b.modality))
          INTO v_sites, v_modalities
          FROM policies_after a FULL JOIN policies_before b
               ON a.site = b.site AND a.modality = b.modality
         WHERE (a.mode, a.auto_release_after, a.patient_preference_allowed, a.max_patient_delay)
               IS DISTINCT FROM
               (b.mode, b.auto_release_after, b.patient_preference_allowed, b.max_patient_delay);
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(site), array_agg(modality) INTO v_sites, v_modalities FROM policies_before;
    ELSE
        v_sites := ARRAY['*'];
        v_modalities := ARRAY['*'];
    END IF;
    IF v_sites IS NOT NULL THEN
        PERFORM portal.refresh_study_page_states(v_sites, v_modalities);
    END IF;
    RETURN NULL;
END $$;

-- A study's own columns the row depends on (through release_plan and study_preference: site,
-- modality, patient, the version under review and its release, cancellation); its stage and
-- times are read from the study itself by the page.
CREATE OR REPLACE TRIGGER study_page_state_insert AFTER INSERT ON portal.studies
    FOR EACH ROW EXECUTE FUNCTION portal.study_page_state_changed();
CREATE OR REPLACE TRIGGER study_page_state_update AFTER UPDATE ON portal.studies
    FOR EACH ROW WHEN ((OLD.site, OLD.modality, OLD.patient_id, OLD.reviewable_version,
                        OLD.released_version, OLD.cancelled_at)
                       IS DISTINCT FROM (NEW.site, NEW.modality, NEW.patient_id,
                                         NEW.reviewable_version, NEW.released_version,
                                         NEW.cancelled_at))
    EXECUTE FUNCTION portal.study_page_state_changed();
CREATE OR REPLACE TRIGGER study_page_state AFTER INSERT OR UPDATE OR DELETE ON portal.holds
    FOR EACH ROW EXECUTE FUNCTION portal.study_page_state_changed();
CREATE OR REPLACE TRIGGER study_page_state AFTER INSERT OR UPDATE OR DELETE ON portal.releases
    FOR EACH ROW EXECUTE FUNCTION portal.study_page_state_changed();
CREATE OR REPLACE TRIGGER study_page_state AFTER INSERT OR UPDATE OR DELETE ON portal.report_versions
    FOR EACH ROW EXECUTE FUNCTION portal.study_page_state_changed();
CREATE OR REPLACE TRIGGER study_page_state AFTER INSERT OR UPDATE OR DELETE ON portal.discussion_requests
    FOR EACH ROW EXECUTE FUNCTION portal.study_page_state_changed();
CREATE OR REPLACE TRIGGER study_page_state AFTER INSERT OR UPDATE OR DELETE ON portal.study_preferences
    FOR EACH ROW EXECUTE FUNCTION portal.study_page_state_changed();
CREATE OR REPLACE TRIGGER study_page_state AFTER INSERT OR UPDATE OR DELETE ON portal.patient_preferences
    FOR EACH ROW EXECUTE FUNCTION portal.study_page_state_changed();
CREATE OR REPLACE TRIGGER study_page_states_insert AFTER INSERT ON portal.release_policies
    REFERENCING NEW TABLE AS policies_after
    FOR EACH STATEMENT EXECUTE FUNCTION portal.study_page_states_changed();
CREATE OR REPLACE TRIGGER study_page_states_update AFTER UPDATE ON portal.release_policies
    REFERENCING OLD TABLE AS policies_before NEW TABLE AS policies_after
    FOR EACH STATEMENT EXECUTE FUNCTION portal.study_page_states_changed();
CREATE OR REPLACE TRIGGER study_page_states_delete AFTER DELETE ON portal.release_policies
    REFERENCING OLD TABLE AS policies_before
    FOR EACH STATEMENT EXECUTE FUNCTION portal.study_page_states_changed();
CREATE OR REPLACE TRIGGER study_page_states_truncate AFTER TRUNCATE ON portal.release_policies
    FOR EACH STATEMENT EXECUTE FUNCTION portal.study_page_states_changed();

-- Fills the rows of a database migrated to 0018, and brings every row to this file's definition.
SELECT portal.refresh_study_page_states();
