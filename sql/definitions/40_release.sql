-- Release and hold: by the physician (release_report, hold_report), and by policy (the sweep
-- release_due and the release of a final report on arrival through release_if_due), with the
-- site's release policies, the release plan of a study and the compliance report. Release
-- policies are data (portal.release_policies, sql/migrations/0004_release_policies.sql);
-- docs/release-policies.md says which settings fit which rules.
--
-- Every release and hold is written here, with its audit row, in a function that runs as its
-- owner (SECURITY DEFINER, search_path pg_catalog and pg_temp only): portal_app has no INSERT or
-- UPDATE on releases, holds or the studies' release columns (sql/grants.sql), so the functions
-- portal_app may call (release_report, hold_report, release_due) are the only way to release or
-- hold. release_due_unlocked, release_if_due and expire_holds are internal: portal_app may not
-- call them.
--
-- Errors the API shows are raised as 'PTnnn' (see 20_ingest.sql).

-- ---------------------------------------------------------------------------------------------
-- Site policy: one row per (site, modality); '*' matches any. The most specific row wins:
-- (site, modality), then (site, '*'), then ('*', modality), then the default ('*', '*').
-- ---------------------------------------------------------------------------------------------

-- The default row is what every study falls back to; it may be changed but not removed.
CREATE OR REPLACE FUNCTION portal.release_policies_keep_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.site = '*' AND OLD.modality = '*' AND (TG_OP = 'DELETE' OR NEW.site <> '*' OR NEW.modality <> '*') THEN
        RAISE EXCEPTION 'the default release policy (''*'', ''*'') cannot be removed; change it instead'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE OR REPLACE TRIGGER release_policies_keep_default BEFORE UPDATE OR DELETE ON portal.release_policies
    FOR EACH ROW EXECUTE FUNCTION portal.release_policies_keep_default();

CREATE OR REPLACE FUNCTION portal.policy_for(p_site text, p_modality text) RETURNS portal.release_policies
LANGUAGE sql STABLE AS $$
    SELECT p.* FROM portal.release_policies p
     WHERE p.site IN (p_site, '*') AND p.modality IN (p_modality, '*')
     ORDER BY (p.site <> '*') DESC, (p.modality <> '*') DESC
     LIMIT 1;
$$;

-- Whole days in an interval however it was written ('720 hours' is 30).
CREATE OR REPLACE FUNCTION portal.whole_days(p interval) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT floor(extract(epoch FROM p) / 86400)::integer;
$$;

-- ---------------------------------------------------------------------------------------------
-- The release plan of a study: which mode applies, on what basis, and when the current final
-- version is due for release by policy (NULL: only the physician releases it). The clock starts
-- when the final (or amended) version reached the portal. A function of the study row (inlined
-- by the planner), so callers compute it only for the studies they look at: the sweep for the
-- unreleased ones, a page for its own rows.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION portal.release_plan(s portal.studies)
RETURNS TABLE (study_id uuid, version integer, final_received_at timestamptz,
               preference_allowed boolean, max_patient_delay interval, preference text,
               preference_wait interval, preference_chosen_at timestamptz,
               preference_set_for text, mode text, basis text, due_at timestamptz)
LANGUAGE sql STABLE AS $$
SELECT s.id AS study_id,
       s.reviewable_version AS version,
       rv.received_at AS final_received_at,
       coalesce(pol.patient_preference_allowed, false) AS preference_allowed,
       pol.max_patient_delay,
       pref.release AS preference,
       pref.wait AS preference_wait,
       pref.chosen_at AS preference_chosen_at,
       pref.set_for AS preference_set_for,
       CASE WHEN pref.release = 'immediate' THEN 'immediate'
            WHEN pref.release = 'wait_for_physician' THEN 'physician_review'
            ELSE coalesce(pol.mode, 'physician_review') END AS mode,
       CASE WHEN pref.release IN ('immediate', 'wait_for_physician') THEN 'patient_preference'
            ELSE 'site_policy' END AS basis,
       CASE WHEN pref.release = 'immediate' THEN rv.received_at
            WHEN pref.release = 'wait_for_physician'
                THEN rv.received_at + least(pref.wait, pol.max_patient_delay)
            WHEN pol.mode = 'immediate' THEN rv.received_at
            ELSE rv.received_at + pol.auto_release_after END AS due_at
  FROM (SELECT) one
  LEFT JOIN portal.report_versions rv ON rv.study_id = s.id AND rv.version = s.reviewable_version
  LEFT JOIN LATERAL (
      -- portal.policy_for, written out so the planner can inline this function
      SELECT p.* FROM portal.release_policies p
       WHERE p.site IN (s.site, '*') AND p.modality IN (s.modality, '*')
       ORDER BY (p.site <> '*') DESC, (p.modality <> '*') DESC
       LIMIT 1) pol ON true
  LEFT JOIN LATERAL (
      -- The study's own choice; else, while no report is final, the standing one. Only where
      -- the policy lets patients choose.
      SELECT sp.release, sp.wait, sp.chosen_at, sp.set_for FROM portal.study_preferences sp
       WHERE sp.study_id = s.id AND pol.patient_preference_allowed
      UNION ALL
      SELECT pp.release, pp.wait, pp.chosen_at, 'all_studies' FROM portal.patient_preferences pp
       WHERE pp.patient_id = s.patient_id AND pol.patient_preference_allowed
         AND s.reviewable_version IS NULL
         AND NOT EXISTS (SELECT FROM portal.study_preferences sp2 WHERE sp2.study_id = s.id)
      LIMIT 1) pref ON true;
$$;

-- Every study's plan, for people and reports; code filters studies first and calls the function.
CREATE OR REPLACE VIEW portal.release_plans AS
SELECT p.* FROM portal.studies s CROSS JOIN LATERAL portal.release_plan(s) p;

-- ---------------------------------------------------------------------------------------------
-- Physician actions
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION portal.physician_study(p_physician text, p_study uuid)
RETURNS portal.studies LANGUAGE plpgsql AS $$
DECLARE
    v portal.studies;
BEGIN
    SELECT * INTO v FROM portal.studies
     WHERE id = p_study AND referring_physician_id = p_physician FOR UPDATE;
    IF NOT FOUND THEN
        -- Another physician's study and a missing one answer alike.
        RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
    END IF;
    RETURN v;
END $$;


-- Releases the newest final or amended version. Releasing an already released version answers
-- as the first release did (CONTRACT: "releasing again answers the same"). A hold past its
-- deadline is recorded as expired rather than ended by this release; and a note sent for a
-- version the policy already released is attached to that release (immediate mode: the
-- physician adds a note afterwards).
CREATE OR REPLACE FUNCTION portal.release_report(p_study uuid, p_physician text, p_note text,
                                                 p_request_id text, p_client_addr text)
RETURNS TABLE (released_at timestamptz, report_version integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v portal.studies;
    v_name text;
    v_rel portal.releases;
BEGIN
    v := portal.physician_study(p_physician, p_study);
    IF v.reviewable_version IS NULL THEN
        RAISE EXCEPTION 'no final report to release yet' USING ERRCODE = 'PT409';
    END IF;
    PERFORM portal.expire_holds(p_study, 10, p_request_id);
    IF v.released_version IS NOT DISTINCT FROM v.reviewable_version THEN
        SELECT * INTO v_rel FROM portal.releases r
         WHERE r.study_id = p_study AND r.version = v.reviewable_version;
        IF v_rel.how = 'policy' AND coalesce(p_note, '') <> ''
           AND v_rel.note IS DISTINCT FROM p_note THEN
            UPDATE portal.releases SET note = p_note, noted_by = p_physician, noted_at = now()
             WHERE id = v_rel.id;
            INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
            VALUES ('physician', p_physician, 'report.note', p_study,
                    jsonb_build_object('version', v.reviewable_version, 'release_id', v_rel.id),
                    p_client_addr, p_request_id);
        END IF;
        RETURN QUERY SELECT v_rel.released_at, v_rel.version;
        RETURN;
    END IF;
    SELECT name INTO v_name FROM portal.physicians WHERE id = p_physician;
    INSERT INTO portal.releases (study_id, version, released_by, released_by_name, how, note, request_id)
    VALUES (p_study, v.reviewable_version, p_physician, v_name, 'physician', nullif(p_note, ''), p_request_id);
    UPDATE portal.studies SET released_version = v.reviewable_version, released_at = now(), updated_at = now()
     WHERE id = p_study;
    UPDATE portal.holds SET ended_at = now(), ended_how = 'released'
     WHERE study_id = p_study AND ended_at IS NULL;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES ('physician', p_physician, 'report.release', p_study,
            jsonb_build_object('version', v.reviewable_version, 'with_note', coalesce(p_note, '') <> ''),
            p_client_addr, p_request_id);
    RETURN QUERY SELECT now(), v.reviewable_version;
END $$;

-- A hold with a structured reason and a deadline: p_until, or now + the policy's hold_default;
-- never beyond now + hold_max. Keeps the report from any automatic release until a physician
-- releases it by hand or the hold ends. A hold already in force is answered as it stands; one
-- past its deadline is expired first, so a new hold can be placed.
CREATE OR REPLACE FUNCTION portal.hold_report(p_study uuid, p_physician text, p_reason text,
                                              p_reason_code text, p_until timestamptz,
                                              p_request_id text, p_client_addr text)
RETURNS TABLE (hold_id bigint, placed_at timestamptz, reason text, reason_code text,
               ends_at timestamptz, created boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v portal.studies;
    v_hold portal.holds;
    v_pol portal.release_policies;
    v_ends timestamptz;
BEGIN
    v := portal.physician_study(p_physician, p_study);
    IF v.released_version IS NOT NULL AND v.released_version IS NOT DISTINCT FROM v.reviewable_version THEN
        RAISE EXCEPTION 'the report is already released' USING ERRCODE = 'PT409';
    END IF;
    PERFORM portal.expire_holds(p_study, 10, p_request_id);
    SELECT * INTO v_hold FROM portal.holds h WHERE h.study_id = p_study AND h.ended_at IS NULL;
    IF FOUND THEN
        RETURN QUERY SELECT v_hold.id, v_hold.placed_at, v_hold.reason, v_hold.reason_code,
                            v_hold.ends_at, false;
        RETURN;
    END IF;
    v_pol := portal.policy_for(v.site, v.modality);
    v_ends := coalesce(p_until, now() + coalesce(v_pol.hold_default, interval '72 hours'));
    IF v_ends <= now() THEN
        RAISE EXCEPTION 'until: must be in the future' USING ERRCODE = 'PT422';
    END IF;
    IF v_ends > now() + coalesce(v_pol.hold_max, interval '30 days') THEN
        RAISE EXCEPTION 'until: a hold may last at most % at this site',
            coalesce(v_pol.hold_max, interval '30 days') USING ERRCODE = 'PT422';
    END IF;
    INSERT INTO portal.holds (study_id, placed_by, reason, reason_code, ends_at, request_id)
    VALUES (p_study, p_physician, p_reason, coalesce(p_reason_code, 'other'), v_ends, p_request_id)
    RETURNING * INTO v_hold;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES ('physician', p_physician, 'report.hold', p_study,
            jsonb_build_object('hold_id', v_hold.id, 'reason_code', v_hold.reason_code,
                               'ends_at', v_hold.ends_at),
            p_client_addr, p_request_id);
    RETURN QUERY SELECT v_hold.id, v_hold.placed_at, v_hold.reason, v_hold.reason_code,
                        v_hold.ends_at, true;
END $$;

-- The first signature (0002), kept for callers that send only a reason: reason_code 'other', the
-- policy's default deadline. Not granted to portal_app (the server calls the one above).
CREATE OR REPLACE FUNCTION portal.hold_report(p_study uuid, p_physician text, p_reason text,
                                              p_request_id text, p_client_addr text)
RETURNS TABLE (hold_id bigint, placed_at timestamptz, reason text, created boolean)
LANGUAGE sql AS $$
    SELECT h.hold_id, h.placed_at, h.reason, h.created
      FROM portal.hold_report(p_study, p_physician, p_reason, 'other', NULL, p_request_id,
                              p_client_addr) h;
$$;

-- ---------------------------------------------------------------------------------------------
-- Release by policy
-- ---------------------------------------------------------------------------------------------

-- Ends the holds of a study (or of every study, p_study NULL) whose deadline has passed, as
-- expired at their deadline. Rows another transaction holds are skipped (it is ending them).
-- Returns how many this call ended.
CREATE OR REPLACE FUNCTION portal.expire_holds(p_study uuid, p_limit integer, p_request_id text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    h record;
    n integer := 0;
BEGIN
    FOR h IN SELECT ho.id, ho.study_id, ho.ends_at, ho.placed_by FROM portal.holds ho
              WHERE ho.ended_at IS NULL AND ho.ends_at <= now()
                AND (p_study IS NULL OR ho.study_id = p_study)
              ORDER BY ho.ends_at LIMIT p_limit
              FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE portal.holds SET ended_at = h.ends_at, ended_how = 'expired'
         WHERE id = h.id AND ended_at IS NULL;
        IF FOUND THEN
            n := n + 1;
            INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, request_id)
            VALUES ('policy', 'hold_deadline', 'report.hold_expired', h.study_id,
                    jsonb_build_object('hold_id', h.id, 'placed_by', h.placed_by,
                                       'ends_at', h.ends_at),
                    p_request_id);
        END IF;
    END LOOP;
    RETURN n;
END $$;

-- Releases the study's current final version by policy if it is due and no hold is in force.
-- The caller holds the study's row lock. The unique (study_id, version) of releases makes a
-- second release of the same version impossible; ON CONFLICT turns a lost race into a no-op, so
-- exactly one release row and one audit row exist per version. Returns the version released, or
-- NULL when nothing was done.
CREATE OR REPLACE FUNCTION portal.release_if_due(p_study uuid, p_request_id text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    s portal.studies;
    p portal.release_plans;
    v_release bigint;
BEGIN
    SELECT * INTO s FROM portal.studies WHERE id = p_study;
    IF NOT FOUND OR s.reviewable_version IS NULL
       OR s.released_version IS NOT DISTINCT FROM s.reviewable_version THEN
        RETURN NULL;
    END IF;
    PERFORM portal.expire_holds(p_study, 10, p_request_id);
    IF EXISTS (SELECT FROM portal.holds h WHERE h.study_id = p_study AND h.ended_at IS NULL) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO p FROM portal.release_plan(s);
    IF p.due_at IS NULL OR p.due_at > now() THEN
        RETURN NULL;
    END IF;
    INSERT INTO portal.releases (study_id, version, released_by, released_by_name, how, request_id)
    VALUES (p_study, s.reviewable_version, NULL,
            CASE p.basis WHEN 'patient_preference' THEN 'Released automatically (patient preference)'
                         ELSE 'Released automatically (site policy)' END,
            'policy', p_request_id)
    ON CONFLICT (study_id, version) DO NOTHING
    RETURNING id INTO v_release;
    IF v_release IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE portal.studies SET released_version = s.reviewable_version, released_at = now(),
                              updated_at = now()
     WHERE id = p_study;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, request_id)
    VALUES ('policy', p.basis, 'report.release', p_study,
            jsonb_build_object('version', s.reviewable_version, 'mode', p.mode,
                               'due_at', p.due_at, 'release_id', v_release),
            p_request_id);
    RETURN s.reviewable_version;
END $$;

-- What the sweep releases: every study whose current final version is due by its release plan,
-- not yet released and not held. The one statement of that rule: the sweep below and the policy
-- preview (portal.preview_release_policy, 85_staff.sql) both read it, so a preview counts exactly
-- what the next sweep would release. A SQL function of one SELECT, inlined by the planner.
CREATE OR REPLACE FUNCTION portal.release_candidates()
RETURNS TABLE (study_id uuid, due_at timestamptz) LANGUAGE sql STABLE AS $$
    SELECT s.id, p.due_at FROM portal.studies s
     CROSS JOIN LATERAL portal.release_plan(s) p
     WHERE s.reviewable_version IS NOT NULL
       AND s.released_version IS DISTINCT FROM s.reviewable_version
       AND p.due_at <= now()
       AND NOT EXISTS (SELECT FROM portal.holds h WHERE h.study_id = s.id AND h.ended_at IS NULL)
$$;

-- The sweep: it ends overdue holds, then releases every due report. Each study row is taken with
-- FOR UPDATE SKIP LOCKED, so two sweeps never work on the same study, and a study a physician is
-- releasing or holding right now is left for the next round. Called only by release_due below,
-- which lets one sweep run at a time; portal_app may not call it directly.
CREATE OR REPLACE FUNCTION portal.release_due_unlocked(p_limit integer, p_request_id text)
RETURNS TABLE (released integer, holds_expired integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_study uuid;
    n_released integer := 0;
    n_expired integer;
BEGIN
    n_expired := portal.expire_holds(NULL, p_limit, p_request_id);
    -- Under the default rules (physician review, no deadline, no patient choice) nothing is ever
    -- due: skip the scan, whose cost grows with the backlog of unreleased reports.
    IF NOT EXISTS (SELECT FROM portal.release_policies
                    WHERE mode = 'immediate' OR auto_release_after IS NOT NULL
                       OR patient_preference_allowed) THEN
        RETURN QUERY SELECT n_released, n_expired;
        RETURN;
    END IF;
    FOR v_study IN
        SELECT s.id FROM portal.studies s
          JOIN portal.release_candidates() c ON c.study_id = s.id
         ORDER BY c.due_at LIMIT p_limit
         FOR UPDATE OF s SKIP LOCKED
    LOOP
        -- release_if_due looks again with a fresh snapshot: a hold or release committed after
        -- this loop's query started is seen there.
        IF portal.release_if_due(v_study, p_request_id) IS NOT NULL THEN
            n_released := n_released + 1;
        END IF;
    END LOOP;
    RETURN QUERY SELECT n_released, n_expired;
END $$;

-- The background sweep (server/release_sweep.c), safe to run from any number of instances at
-- once. The sweep stamps each patient it releases for or whose hold it ends (90_pages.sql), and a
-- stamp holds the patient's page_versions row until the sweep's transaction commits. Two instances
-- sweeping at once (SKIP LOCKED gives them different studies, possibly of the same patients, in
-- any order) could then deadlock on those rows; one sweep at a time, the others passing their
-- turn, cannot: this is the gate in front of release_due_unlocked.
CREATE OR REPLACE FUNCTION portal.release_due(p_limit integer, p_request_id text)
RETURNS TABLE (released integer, holds_expired integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(7277710006) THEN
        RETURN QUERY SELECT 0, 0;
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM portal.release_due_unlocked(p_limit, p_request_id);
END $$;

-- ---------------------------------------------------------------------------------------------
-- Compliance report: every hold, and every final version whose release was not immediate, with
-- reason, who, when, how long and how it ended. Reading it is audited (it holds hold reasons).
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION portal.compliance_holds(p_from timestamptz, p_to timestamptz, p_admin text,
                                                   p_request_id text, p_client_addr text)
RETURNS TABLE (kind text, study_id uuid, accession text, site text, modality text,
               version integer, reason_code text, reason text, actor text, actor_name text,
               started_at timestamptz, deadline timestamptz, ended_at timestamptz,
               ended_how text, duration_seconds bigint)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES ('admin', p_admin, 'compliance.holds.read',
            jsonb_build_object('from', p_from, 'to', p_to), p_client_addr, p_request_id);
    RETURN QUERY
    WITH hold_rows AS (
        SELECT 'hold'::text AS kind, h.study_id, s.accession, s.site, s.modality,
               NULL::integer AS version, h.reason_code, h.reason, h.placed_by AS actor,
               ph.name AS actor_name, h.placed_at AS started_at, h.ends_at AS deadline,
               -- a deadline passed before the sweep came round counts as expired at the deadline
               coalesce(h.ended_at, CASE WHEN h.ends_at <= now() THEN h.ends_at END) AS ended_at,
               coalesce(h.ended_how, CASE WHEN h.ends_at <= now() THEN 'expired' ELSE 'active' END)
                   AS ended_how
          FROM portal.holds h
          JOIN portal.studies s ON s.id = h.study_id
          JOIN portal.physicians ph ON ph.id = h.placed_by
         WHERE h.placed_at >= p_from AND h.placed_at < p_to
    ), delay_rows AS (
        SELECT 'delayed_release'::text AS kind, rv.study_id, s.accession, s.site, s.modality,
               rv.version,
               CASE WHEN sp.release = 'wait_for_physician' AND sp.chosen_at <= rv.received_at
                        THEN 'patient_request'
                    WHEN EXISTS (SELECT FROM portal.holds h
                                  WHERE h.study_id = rv.study_id AND h.placed_at <= coalesce(r.released_at, now())
                                    AND coalesce(h.ended_at, 'infinity') > rv.received_at)
                        THEN 'hold'
                    ELSE 'physician_review' END AS reason_code,
               NULL::text AS reason,
               coalesce(r.released_by, CASE WHEN r.how = 'policy' THEN 'policy' END) AS actor,
               r.released_by_name AS actor_name,
               rv.received_at AS started_at,
               CASE WHEN r.id IS NULL AND rv.version = s.reviewable_version THEN p.due_at END AS deadline,
               coalesce(r.released_at, nxt.received_at) AS ended_at,
               CASE WHEN r.id IS NOT NULL THEN 'released_by_' || r.how
                    WHEN nxt.received_at IS NOT NULL THEN 'superseded'
                    ELSE 'pending' END AS ended_how
          FROM portal.report_versions rv
          JOIN portal.studies s ON s.id = rv.study_id
          CROSS JOIN LATERAL portal.release_plan(s) p
          LEFT JOIN portal.releases r ON r.study_id = rv.study_id AND r.version = rv.version
          LEFT JOIN portal.study_preferences sp ON sp.study_id = rv.study_id
          LEFT JOIN LATERAL (SELECT n.received_at FROM portal.report_versions n
                              WHERE n.study_id = rv.study_id AND n.version > rv.version
                                AND n.status <> 'preliminary'
                              ORDER BY n.version LIMIT 1) nxt ON r.id IS NULL
         WHERE rv.status <> 'preliminary'
           AND (r.id IS NULL OR r.released_at > rv.received_at)
           AND rv.received_at >= p_from AND rv.received_at < p_to
    )
    SELECT x.kind, x.study_id, x.accession, x.site, x.modality, x.version, x.reason_code,
           x.reason, x.actor, x.actor_name, x.started_at, x.deadline, x.ended_at, x.ended_how,
           extract(epoch FROM coalesce(x.ended_at, now()) - x.started_at)::bigint
      FROM (SELECT * FROM hold_rows UNION ALL SELECT * FROM delay_rows) x
     ORDER BY x.started_at, x.kind, x.study_id
     LIMIT 10000;
END $$;
