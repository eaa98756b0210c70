-- The staff console (issue 17, docs/staff.md): release policies edited with a preview, patients
-- found by the front desk, physicians invited and disabled. Every write here runs as the owner
-- (SECURITY DEFINER, search_path pg_catalog and pg_temp only) and writes its audit row with the
-- person, the request id and, where something changed, the row before and after: portal_app has no
-- write on release_policies, physician_invitations or the physicians' disabled flag.
--
-- Errors the API shows are raised as 'PTnnn' (see 20_ingest.sql).

-- ---------------------------------------------------------------------------------------------
-- Release policies
-- ---------------------------------------------------------------------------------------------

-- A policy row as the API shows it: intervals in whole seconds.
CREATE OR REPLACE FUNCTION portal.release_policy_json(p portal.release_policies) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p.site IS NULL THEN NULL ELSE jsonb_build_object(
        'site', p.site, 'modality', p.modality, 'mode', p.mode,
        'auto_release_after_seconds', floor(extract(epoch FROM p.auto_release_after))::bigint,
        'patient_preference_allowed', p.patient_preference_allowed,
        'max_patient_delay_seconds', floor(extract(epoch FROM p.max_patient_delay))::bigint,
        'hold_default_seconds', floor(extract(epoch FROM p.hold_default))::bigint,
        'hold_max_seconds', floor(extract(epoch FROM p.hold_max))::bigint,
        'updated_at', p.updated_at) END;
$$;

-- Writes one policy row: the (site, modality) row is created if missing, then every field is set
-- to the value given or, where NULL (omitted), to the table's own default, so what an omitted
-- field means lives in one place (0004_release_policies.sql). Internal: called by the preview and
-- the save below.
CREATE OR REPLACE FUNCTION portal.put_release_policy(
    p_site text, p_modality text, p_mode text, p_auto_release_after_s bigint,
    p_preference_allowed boolean, p_max_patient_delay_s bigint, p_hold_default_s bigint,
    p_hold_max_s bigint)
RETURNS portal.release_policies LANGUAGE plpgsql AS $$
DECLARE
    v portal.release_policies;
BEGIN
    INSERT INTO portal.release_policies (site, modality) VALUES (p_site, p_modality)
    ON CONFLICT (site, modality) DO NOTHING;
    EXECUTE format('UPDATE portal.release_policies SET mode = %s, auto_release_after = %s, '
                   'patient_preference_allowed = %s, max_patient_delay = %s, hold_default = %s, '
                   'hold_max = %s, updated_at = now() WHERE site = $1 AND modality = $2 RETURNING *',
                   CASE WHEN p_mode IS NULL THEN 'DEFAULT' ELSE '$3' END,
                   CASE WHEN p_auto_release_after_s IS NULL THEN 'DEFAULT' ELSE '$4 * interval ''1 second''' END,
                   CASE WHEN p_preference_allowed IS NULL THEN 'DEFAULT' ELSE '$5' END,
                   CASE WHEN p_max_patient_delay_s IS NULL THEN 'DEFAULT' ELSE '$6 * interval ''1 second''' END,
                   CASE WHEN p_hold_default_s IS NULL THEN 'DEFAULT' ELSE '$7 * interval ''1 second''' END,
                   CASE WHEN p_hold_max_s IS NULL THEN 'DEFAULT' ELSE '$8 * interval ''1 second''' END)
       INTO v
      USING p_site, p_modality, p_mode, p_auto_release_after_s, p_preference_allowed,
            p_max_patient_delay_s, p_hold_default_s, p_hold_max_s;
    RETURN v;
END $$;

-- How many reports the release sweep would release at once if this policy were saved: the policy
-- is written, the holds past their deadline ended and portal.release_candidates (the sweep's own
-- rule, 40_release.sql) counted, all inside a block that is then rolled back, so nothing changes.
-- A policy the table refuses fails here as it would on save (check violation: 422).
CREATE OR REPLACE FUNCTION portal.preview_release_policy(
    p_site text, p_modality text, p_mode text, p_auto_release_after_s bigint,
    p_preference_allowed boolean, p_max_patient_delay_s bigint, p_hold_default_s bigint,
    p_hold_max_s bigint)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    BEGIN
        PERFORM portal.put_release_policy(p_site, p_modality, p_mode, p_auto_release_after_s,
                                          p_preference_allowed, p_max_patient_delay_s,
                                          p_hold_default_s, p_hold_max_s);
        PERFORM portal.expire_holds(NULL, 2147483647, 'policy-preview');
        SELECT count(*) INTO n FROM portal.release_candidates();
        -- Undo everything above; n, a variable, survives the rollback.
        RAISE EXCEPTION 'preview' USING ERRCODE = 'PV000';
    EXCEPTION WHEN SQLSTATE 'PV000' THEN
        NULL;
    END;
    RETURN n;
END $$;

-- Saves one policy with the reason for the change; the audit row keeps who, why, and the row
-- before (null: new) and after.
CREATE OR REPLACE FUNCTION portal.save_release_policy(
    p_site text, p_modality text, p_mode text, p_auto_release_after_s bigint,
    p_preference_allowed boolean, p_max_patient_delay_s bigint, p_hold_default_s bigint,
    p_hold_max_s bigint, p_reason text, p_actor_role text, p_actor_id text, p_request_id text,
    p_client_addr text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_before jsonb;
    v_after jsonb;
BEGIN
    IF p_reason IS NULL OR length(btrim(p_reason)) = 0 OR length(p_reason) > 2000 THEN
        RAISE EXCEPTION 'reason: is required (at most 2000 bytes)' USING ERRCODE = 'PT422';
    END IF;
    SELECT portal.release_policy_json(p) INTO v_before FROM portal.release_policies p
     WHERE p.site = p_site AND p.modality = p_modality FOR UPDATE;
    v_after := portal.release_policy_json(portal.put_release_policy(
        p_site, p_modality, p_mode, p_auto_release_after_s, p_preference_allowed,
        p_max_patient_delay_s, p_hold_default_s, p_hold_max_s));
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'policy.save',
            jsonb_build_object('reason', p_reason, 'before', v_before, 'after', v_after),
            p_client_addr, p_request_id);
    RETURN v_after;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Patients, for the front desk
-- ---------------------------------------------------------------------------------------------

-- Finds patients by identifier (MRN, within an assigning authority when given) or by name (any
-- part, case ignored) and birth date together. At most 30 searches per person per 10 minutes
-- (the sign-in throttle's table, key staff-search:ROLE:ID): 429 after that. Every search is
-- audited with what was asked and whom it found. Nothing of any report is here.
CREATE OR REPLACE FUNCTION portal.staff_find_patients(
    p_identifier text, p_authority text, p_name text, p_birth_date date, p_actor_role text,
    p_actor_id text, p_request_id text, p_client_addr text)
RETURNS TABLE (patient_id uuid, assigning_authority text, mrn text, name text, birth_date date,
               email text, phone text, notify_channel text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key text := 'staff-search:' || p_actor_role || ':' || p_actor_id;
    v_found uuid[];
BEGIN
    IF portal.login_locked(ARRAY[v_key]) THEN
        RAISE EXCEPTION 'Too many patient searches; try again in 10 minutes.' USING ERRCODE = 'PT429';
    END IF;
    PERFORM portal.login_failed(ARRAY[v_key], ARRAY[30], interval '10 minutes', interval '10 minutes');
    IF p_identifier IS NULL AND (p_name IS NULL OR p_birth_date IS NULL) THEN
        RAISE EXCEPTION 'identifier: give an identifier, or a name and a birth date'
            USING ERRCODE = 'PT422';
    END IF;
    SELECT coalesce(array_agg(f.id), '{}') INTO v_found FROM (
        SELECT p.id FROM portal.patients p
         WHERE p.merged_into IS NULL
           AND CASE WHEN p_identifier IS NOT NULL
                    THEN p.mrn = p_identifier
                         AND (p_authority IS NULL OR p.assigning_authority = p_authority)
                    ELSE p.birth_date = p_birth_date
                         AND strpos(lower(p.name), lower(p_name)) > 0 END
         ORDER BY p.name, p.id LIMIT 20) f;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'patient.search',
            jsonb_strip_nulls(jsonb_build_object('identifier', p_identifier,
                                                 'assigning_authority', p_authority,
                                                 'name', p_name, 'birth_date', p_birth_date,
                                                 'found', to_jsonb(v_found))),
            p_client_addr, p_request_id);
    RETURN QUERY
    SELECT p.id, p.assigning_authority, p.mrn, p.name, p.birth_date,
           coalesce(p.email_override, p.email), coalesce(p.phone_override, p.phone),
           p.notify_channel
      FROM portal.patients p WHERE p.id = ANY (v_found) ORDER BY p.name, p.id;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Physicians, for the administrators
-- ---------------------------------------------------------------------------------------------

-- The physicians with what waits for them: final reports not yet released, the oldest first.
CREATE OR REPLACE FUNCTION portal.physicians_waiting()
RETURNS TABLE (physician_id text, name text, email text, has_password boolean, disabled boolean,
               waiting bigint, oldest_waiting_since timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT ph.id, ph.name, ph.email, ph.password_hash IS NOT NULL, ph.disabled_at IS NOT NULL,
           count(w.study_id), min(w.received_at)
      FROM portal.physicians ph
      LEFT JOIN (SELECT s.id AS study_id, s.referring_physician_id, rv.received_at
                   FROM portal.studies s
                   JOIN portal.report_versions rv ON rv.study_id = s.id
                                                 AND rv.version = s.reviewable_version
                  WHERE s.reviewable_version IS NOT NULL
                    AND s.released_version IS DISTINCT FROM s.reviewable_version
                    AND s.stage <> 'cancelled') w ON w.referring_physician_id = ph.id
     GROUP BY ph.id
     ORDER BY min(w.received_at) NULLS LAST, ph.name, ph.id
     LIMIT 500;
$$;

-- An invitation with which a physician sets their own password (p_selector and the argon2id hash
-- of the secret part, made by server/access_code.c's generator), valid for p_valid; any earlier
-- unused invitation of the same physician ends. With p_reset the current password is removed and
-- every session ends too. Audited with the account's state before and after.
CREATE OR REPLACE FUNCTION portal.invite_physician(
    p_physician text, p_selector text, p_hash text, p_valid interval, p_reset boolean,
    p_actor_role text, p_actor_id text, p_request_id text, p_client_addr text)
RETURNS timestamptz LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_before jsonb;
    v_expires timestamptz := now() + p_valid;
BEGIN
    SELECT jsonb_build_object('has_password', password_hash IS NOT NULL,
                              'disabled', disabled_at IS NOT NULL)
      INTO v_before FROM portal.physicians WHERE id = p_physician FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'No such physician.' USING ERRCODE = 'PT404';
    END IF;
    UPDATE portal.physician_invitations SET expires_at = greatest(created_at + interval '1 microsecond', now())
     WHERE physician_id = p_physician AND used_at IS NULL AND expires_at > now();
    INSERT INTO portal.physician_invitations (selector, physician_id, verifier_hash, created_by, expires_at)
    VALUES (p_selector, p_physician, p_hash, p_actor_role || ':' || p_actor_id, v_expires);
    IF p_reset THEN
        UPDATE portal.physicians SET password_hash = NULL, updated_at = now() WHERE id = p_physician;
        PERFORM portal.revoke_sessions('physician', p_physician);
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, CASE WHEN p_reset THEN 'physician.reset' ELSE 'physician.invite' END,
            jsonb_build_object('physician_id', p_physician, 'expires_at', v_expires,
                               'before', v_before,
                               'after', jsonb_build_object('has_password', NOT p_reset AND (v_before ->> 'has_password')::boolean,
                                                           'disabled', (v_before ->> 'disabled')::boolean)),
            p_client_addr, p_request_id);
    RETURN v_expires;
END $$;

-- An invitation used: once, before it expires, by a physician not disabled. The password's hash
-- is stored, every earlier session ends, and the audit row names the physician. Returns the
-- physician's id; PT410 when the invitation is used, expired or unknown.
CREATE OR REPLACE FUNCTION portal.accept_physician_invitation(
    p_selector text, p_password_hash text, p_request_id text, p_client_addr text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_physician text;
BEGIN
    UPDATE portal.physician_invitations i SET used_at = now()
      FROM portal.physicians ph
     WHERE i.selector = p_selector AND i.used_at IS NULL AND i.expires_at > now()
       AND ph.id = i.physician_id AND ph.disabled_at IS NULL
    RETURNING i.physician_id INTO v_physician;
    IF v_physician IS NULL THEN
        RAISE EXCEPTION 'This invitation has been used or has expired; ask for a new one.'
            USING ERRCODE = 'PT410';
    END IF;
    UPDATE portal.physicians SET password_hash = p_password_hash, updated_at = now()
     WHERE id = v_physician;
    PERFORM portal.revoke_sessions('physician', v_physician);
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES ('physician', v_physician, 'physician.password_set',
            jsonb_build_object('invitation', p_selector), p_client_addr, p_request_id);
    RETURN v_physician;
END $$;

-- Disables (or enables again) a physician: a disabled one cannot sign in with a password or use
-- an invitation, and every session ends at once. Audited with before and after.
CREATE OR REPLACE FUNCTION portal.set_physician_disabled(
    p_physician text, p_disabled boolean, p_actor_role text, p_actor_id text, p_request_id text,
    p_client_addr text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_before boolean;
BEGIN
    SELECT disabled_at IS NOT NULL INTO v_before FROM portal.physicians
     WHERE id = p_physician FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'No such physician.' USING ERRCODE = 'PT404';
    END IF;
    UPDATE portal.physicians
       SET disabled_at = CASE WHEN p_disabled THEN coalesce(disabled_at, now()) END,
           updated_at = now()
     WHERE id = p_physician;
    IF p_disabled THEN
        PERFORM portal.revoke_sessions('physician', p_physician);
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, CASE WHEN p_disabled THEN 'physician.disable' ELSE 'physician.enable' END,
            jsonb_build_object('physician_id', p_physician,
                               'before', jsonb_build_object('disabled', v_before),
                               'after', jsonb_build_object('disabled', p_disabled)),
            p_client_addr, p_request_id);
    RETURN p_disabled;
END $$;

-- ---------------------------------------------------------------------------------------------
-- A patient's contact details, corrected by the front desk
-- ---------------------------------------------------------------------------------------------

-- The same write and rules as the patient's own correction (portal.write_patient_contact,
-- 75_notifications.sql), audited under the staff member's name with the details before and after.
CREATE OR REPLACE FUNCTION portal.staff_set_patient_contact(
    p_patient uuid, p_email text, p_phone text, p_channel text, p_time_zone text,
    p_actor_role text, p_actor_id text, p_request_id text, p_client_addr text)
RETURNS TABLE (email text, email_source text, phone text, phone_source text, channel text,
               time_zone text, updated_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM portal.write_patient_contact(p_patient, p_email, p_phone, p_channel, p_time_zone,
                                               p_actor_role, p_actor_id, true, p_request_id,
                                               p_client_addr);
$$;

-- ---------------------------------------------------------------------------------------------
-- The site's closed days (public holidays), which the estimates read (50_estimates.sql)
-- ---------------------------------------------------------------------------------------------

-- The estimates' clocks carry the calendar (portal.clock_calendar): after a change they get it at
-- once, and the model's stamp moves by a microsecond, so that every estimate kept for a page is
-- computed again (54_study_estimates.sql) instead of waiting for the next refresh; the refresh
-- itself comes when it would have (refresh_estimates_if_due reads the same stamp). The refresh's
-- lock is taken first: a refresh under way would otherwise replace the clocks with ones computed
-- before this change was committed.
CREATE OR REPLACE FUNCTION portal.closed_days_changed() RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(7277710004);
    UPDATE portal.estimate_clocks c
       SET calendar = portal.clock_calendar(c.rate, c.cum,
                                            portal.calendar_from(st.refreshed_at, make_interval(days => st.window_days)))
      FROM portal.estimates_state st;
    UPDATE portal.estimates_state SET refreshed_at = refreshed_at + interval '1 microsecond';
$$;

-- The most closed days kept from a year ago on: each clock keeps its calendar in its row, next to
-- the rates, and a row holds about 8 kB.
CREATE OR REPLACE FUNCTION portal.closed_days_max() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 100';

-- Marks a day closed (or changes its note: the estimates are then left as they are). Audited with
-- the note before and after.
CREATE OR REPLACE FUNCTION portal.set_closed_day(
    p_day date, p_note text, p_actor_role text, p_actor_id text, p_request_id text, p_client_addr text)
RETURNS portal.site_closed_days LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_before text;
    v portal.site_closed_days;
BEGIN
    SELECT note INTO v_before FROM portal.site_closed_days WHERE day = p_day FOR UPDATE;
    IF NOT FOUND AND (SELECT count(*) FROM portal.site_closed_days
                       WHERE day >= current_date - 366) >= portal.closed_days_max() THEN
        RAISE EXCEPTION 'day: at most % closed days from a year ago on', portal.closed_days_max()
              USING ERRCODE = 'PT422';
    END IF;
    INSERT INTO portal.site_closed_days (day, note, added_by) VALUES (p_day, p_note, p_actor_id)
    ON CONFLICT (day) DO UPDATE SET note = excluded.note
    RETURNING * INTO v;
    IF v_before IS NULL THEN
        PERFORM portal.closed_days_changed();
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'closed_day.set',
            jsonb_build_object('day', p_day,
                               'before', CASE WHEN v_before IS NOT NULL THEN jsonb_build_object('note', v_before) END,
                               'after', jsonb_build_object('note', p_note)),
            p_client_addr, p_request_id);
    RETURN v;
END $$;

-- Opens a closed day again: false when it was not closed. Audited.
CREATE OR REPLACE FUNCTION portal.remove_closed_day(
    p_day date, p_actor_role text, p_actor_id text, p_request_id text, p_client_addr text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_before text;
BEGIN
    DELETE FROM portal.site_closed_days WHERE day = p_day RETURNING note INTO v_before;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM portal.closed_days_changed();
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'closed_day.remove',
            jsonb_build_object('day', p_day, 'before', jsonb_build_object('note', v_before), 'after', NULL),
            p_client_addr, p_request_id);
    RETURN true;
END $$;
