-- Patient preference: a standing one (chosen at login, for every study not yet final) and one
-- per study (chosen before that study's report is final). When a report becomes final the
-- standing choice is copied onto the study (portal.ingest_report), so a later change never moves
-- a decided release. The tables are in sql/migrations/0004_release_policies.sql; the plan that
-- reads them is portal.release_plan (40_release.sql).

-- What the patient sees of the choice for one study (NULL where the site offers none and none
-- applies): {"can_change", "release", "wait_days", "chosen_at", "set_for"}. A set-returning SQL
-- function of the study row with one row, so the pages join it laterally and the planner inlines
-- it (and release_plan) into their statements, planned once per connection. Where the policy
-- offers no choice (the default), only the policy row is read: the preference lookups sit behind
-- that test.
CREATE OR REPLACE FUNCTION portal.study_preference(s portal.studies) RETURNS TABLE (preference jsonb)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p.preference_allowed THEN
        jsonb_strip_nulls(jsonb_build_object(
            'can_change', s.reviewable_version IS NULL AND s.cancelled_at IS NULL,
            'release', coalesce(p.preference, 'site_default'),
            'wait_days', CASE WHEN p.preference = 'wait_for_physician'
                              THEN portal.whole_days(least(p.preference_wait, p.max_patient_delay)) END,
            'max_wait_days', portal.whole_days(p.max_patient_delay),
            'chosen_at', to_char(p.preference_chosen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'set_for', p.preference_set_for))
    END
      FROM portal.release_plan(s) p;
$$;

-- The same by study id, for the write path's answer. A scalar call of a SQL function is planned on
-- every execution, so the read paths use portal.study_preference instead.
CREATE OR REPLACE FUNCTION portal.study_preference_json(p_study uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT pf.preference FROM portal.studies s CROSS JOIN LATERAL portal.study_preference(s) pf
     WHERE s.id = p_study;
$$;

-- The standing choice. p_release 'site_default' clears it. Refused (PT409) when no study of this
-- patient is under a policy that lets patients choose.
CREATE OR REPLACE FUNCTION portal.set_patient_preference(p_patient uuid, p_release text, p_wait_days integer,
                                                         p_request_id text, p_client_addr text)
RETURNS TABLE (release text, wait_days integer, chosen_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_max interval;
    v_pref portal.patient_preferences;
BEGIN
    SELECT max(pol.max_patient_delay) INTO v_max
      FROM portal.studies s, LATERAL portal.policy_for(s.site, s.modality) pol
     WHERE s.patient_id = p_patient AND pol.patient_preference_allowed;
    IF v_max IS NULL THEN
        RAISE EXCEPTION 'your care site does not offer a choice of when results are shared'
            USING ERRCODE = 'PT409';
    END IF;
    IF p_release = 'wait_for_physician' AND p_wait_days IS NOT NULL
       AND make_interval(days => p_wait_days) > v_max THEN
        RAISE EXCEPTION 'wait_days: at most % days', portal.whole_days(v_max)
            USING ERRCODE = 'PT422';
    END IF;
    IF p_release = 'site_default' THEN
        DELETE FROM portal.patient_preferences WHERE patient_id = p_patient;
    ELSE
        INSERT INTO portal.patient_preferences AS pp (patient_id, release, wait, chosen_at, request_id)
        VALUES (p_patient, p_release,
                CASE WHEN p_release = 'wait_for_physician'
                     THEN coalesce(make_interval(days => p_wait_days), v_max) END,
                now(), p_request_id)
        ON CONFLICT (patient_id) DO UPDATE
            SET release = excluded.release, wait = excluded.wait, chosen_at = excluded.chosen_at,
                request_id = excluded.request_id
        RETURNING * INTO v_pref;
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES ('patient', p_patient::text, 'preference.set',
            jsonb_build_object('release', p_release, 'wait_days', portal.whole_days(v_pref.wait),
                               'set_for', 'all_studies'),
            p_client_addr, p_request_id);
    RETURN QUERY SELECT p_release, portal.whole_days(v_pref.wait), coalesce(v_pref.chosen_at, now());
END $$;

CREATE OR REPLACE FUNCTION portal.get_patient_preference(p_patient uuid)
RETURNS TABLE (release text, wait_days integer, chosen_at timestamptz, allowed boolean,
               max_wait_days integer)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(pp.release, 'site_default'), portal.whole_days(pp.wait), pp.chosen_at,
           a.max_delay IS NOT NULL, portal.whole_days(a.max_delay)
      FROM (SELECT max(pol.max_patient_delay) AS max_delay
              FROM portal.studies s, LATERAL portal.policy_for(s.site, s.modality) pol
             WHERE s.patient_id = p_patient AND pol.patient_preference_allowed) a
      LEFT JOIN portal.patient_preferences pp ON pp.patient_id = p_patient;
$$;

-- The choice for one study, before its report is final. Another patient's study is a 404, like
-- a missing one (CONTRACT invariant 3).
CREATE OR REPLACE FUNCTION portal.set_study_preference(p_patient uuid, p_study uuid, p_release text,
                                                       p_wait_days integer, p_request_id text,
                                                       p_client_addr text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v portal.studies;
    v_pol portal.release_policies;
BEGIN
    SELECT * INTO v FROM portal.studies s WHERE s.id = p_study AND s.patient_id = p_patient FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
    END IF;
    v_pol := portal.policy_for(v.site, v.modality);
    IF NOT coalesce(v_pol.patient_preference_allowed, false) THEN
        RAISE EXCEPTION 'your care site does not offer a choice of when these results are shared'
            USING ERRCODE = 'PT409';
    END IF;
    IF v.reviewable_version IS NOT NULL THEN
        RAISE EXCEPTION 'the report is already final, so when it is shared can no longer be changed'
            USING ERRCODE = 'PT409';
    END IF;
    IF v.cancelled_at IS NOT NULL THEN
        RAISE EXCEPTION 'this exam was cancelled' USING ERRCODE = 'PT409';
    END IF;
    IF p_release = 'wait_for_physician' AND p_wait_days IS NOT NULL
       AND make_interval(days => p_wait_days) > v_pol.max_patient_delay THEN
        RAISE EXCEPTION 'wait_days: at most % days', portal.whole_days(v_pol.max_patient_delay)
            USING ERRCODE = 'PT422';
    END IF;
    INSERT INTO portal.study_preferences AS sp (study_id, release, wait, chosen_at, set_for, request_id)
    VALUES (p_study, p_release,
            CASE WHEN p_release = 'wait_for_physician'
                 THEN coalesce(make_interval(days => p_wait_days), v_pol.max_patient_delay) END,
            now(), 'study', p_request_id)
    ON CONFLICT (study_id) DO UPDATE
        SET release = excluded.release, wait = excluded.wait, chosen_at = excluded.chosen_at,
            set_for = excluded.set_for, request_id = excluded.request_id;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    VALUES ('patient', p_patient::text, 'preference.set', p_study,
            jsonb_build_object('release', p_release, 'wait_days', p_wait_days, 'set_for', 'study'),
            p_client_addr, p_request_id);
    RETURN portal.study_preference_json(p_study);
END $$;
