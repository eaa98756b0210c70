-- The staff console's SQL (sql/definitions/85_staff.sql): portal_app writes release policies and
-- staff accounts only through the SECURITY DEFINER functions; a policy preview counts exactly what
-- the next sweep releases and changes nothing; a save is audited with who, why, before and after;
-- patient searches are audited and rate limited. Run as a superuser; everything is rolled back.
BEGIN;
SELECT plan(26);

CREATE FUNCTION pg_temp.app_try(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    EXECUTE q;
    RAISE SQLSTATE 'PTRY0';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = 'PTRY0' THEN '00000' ELSE SQLSTATE END;
END $$;
CREATE FUNCTION pg_temp.app_value(q text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v text;
BEGIN
    EXECUTE 'SELECT (' || q || ')::text' INTO v;
    RETURN v;
END $$;
ALTER FUNCTION pg_temp.app_try(text) OWNER TO portal_app;
ALTER FUNCTION pg_temp.app_value(text) OWNER TO portal_app;

CREATE FUNCTION pg_temp.mk(p_site text, p_acc text) RETURNS uuid LANGUAGE sql AS $$
    SELECT (portal.ingest_event('ev-' || p_acc, 'h', 'ordered', now(), NULL, 'MRN-' || p_acc,
                                'Pat ' || p_acc, '1980-01-01', NULL, p_acc, 'CT', 'desc',
                                'routine', p_site, 'D-STAFF', 'Dr. Staff', NULL, NULL)
            ->> 'study_id')::uuid;
$$;
CREATE FUNCTION pg_temp.final_aged(p_acc text, p_by interval) RETURNS void LANGUAGE sql AS $$
    SELECT portal.ingest_report('rep-' || p_acc, 'h', p_acc, 'final', 'STAFF SECRET FINDINGS',
                                'i', 'Dr. Rad', now());
    UPDATE portal.report_versions SET received_at = received_at - p_by
     WHERE study_id = (SELECT id FROM portal.studies WHERE accession = p_acc);
$$;

-- ---- portal_app's direct writes are refused ----
SELECT is(pg_temp.app_try($$INSERT INTO portal.release_policies (site) VALUES ('forged')$$), '42501',
          'portal_app cannot insert a release policy');
SELECT is(pg_temp.app_try($$UPDATE portal.release_policies SET mode = 'immediate'$$), '42501',
          'portal_app cannot change a release policy');
SELECT is(pg_temp.app_try($$DELETE FROM portal.release_policies WHERE site <> '*'$$), '42501',
          'portal_app cannot remove a release policy');
SELECT is(pg_temp.app_try($$INSERT INTO portal.staff (id, name, role, password_hash, totp_secret)
                            VALUES ('forged', 'F', 'admin', 'x', 'GEZDGNBVGY3TQOJQ')$$), '42501',
          'portal_app cannot create a staff account');
INSERT INTO portal.staff (id, name, role, password_hash, totp_secret)
VALUES ('desk1', 'Desk One', 'staff', 'x', 'GEZDGNBVGY3TQOJQ');
SELECT is(pg_temp.app_try($$UPDATE portal.staff SET role = 'admin' WHERE id = 'desk1'$$), '42501',
          'portal_app cannot make a front-desk user an admin');
SELECT is(pg_temp.app_try($$UPDATE portal.staff SET disabled_at = NULL$$), '42501',
          'portal_app cannot enable a disabled account');
SELECT is(pg_temp.app_try($$UPDATE portal.staff SET totp_last_step = 5 WHERE id = 'desk1'$$), '00000',
          'portal_app records the last TOTP step accepted');
SELECT is(pg_temp.app_try($$SELECT portal.put_release_policy('x', '*', NULL, NULL, NULL, NULL, NULL, NULL)$$),
          '42501', 'portal_app cannot call the internal policy writer');

-- ---- preview: exactly what the sweep would release, and nothing changes ----
SELECT pg_temp.mk('t-staff', 'ST-1');
SELECT pg_temp.final_aged('ST-1', '3 days');
SELECT pg_temp.mk('t-staff', 'ST-2');
SELECT pg_temp.final_aged('ST-2', '1 hour');
SELECT pg_temp.mk('t-staff', 'ST-3');
SELECT pg_temp.final_aged('ST-3', '3 days');
SELECT portal.hold_report((SELECT id FROM portal.studies WHERE accession = 'ST-3'), 'D-STAFF',
                          'to call the patient first', 'other', now() + interval '1 day', 'h-1', NULL);
SELECT is(pg_temp.app_value($$portal.preview_release_policy('t-staff', '*', 'immediate', NULL, NULL, NULL, NULL, NULL)$$),
          '2', 'immediate would release the two unheld reports at once');
SELECT is(pg_temp.app_value($$portal.preview_release_policy('t-staff', '*', NULL, 172800, NULL, NULL, NULL, NULL)$$),
          '1', 'a 48 h deadline would release the one older than 48 h');
SELECT is(pg_temp.app_value($$portal.preview_release_policy('t-staff', '*', NULL, NULL, NULL, NULL, NULL, NULL)$$),
          '0', 'the default policy (physician review) would release none');
SELECT is((SELECT count(*) FROM portal.release_policies WHERE site = 't-staff'), 0::bigint,
          'a preview leaves no policy row behind');
SELECT is((SELECT count(*) FROM portal.releases r JOIN portal.studies s ON s.id = r.study_id
            WHERE s.site = 't-staff'), 0::bigint, 'a preview releases nothing');
SELECT is(pg_temp.app_try($$SELECT portal.preview_release_policy('t-staff', '*', 'immediate', 3600, NULL, NULL, NULL, NULL)$$),
          '23514', 'a policy the table refuses is refused by the preview too');

-- ---- save: audited with who, why, before and after; the sweep then releases what was previewed ----
SELECT is(pg_temp.app_try($$SELECT portal.save_release_policy('t-staff', '*', 'immediate', NULL, NULL, NULL, NULL, NULL, '  ', 'admin', 'ann', 'r-1', '127.0.0.1')$$),
          'PT422', 'a save without a reason is refused');
SELECT is(pg_temp.app_value($$portal.save_release_policy('t-staff', '*', NULL, 172800, NULL, NULL, NULL, NULL, 'two days is enough', 'admin', 'ann', 'r-2', '127.0.0.1') ->> 'auto_release_after_seconds'$$),
          '172800', 'a save answers the row, intervals in seconds');
SELECT results_eq(
    $$SELECT actor_role, actor_id, request_id, detail ->> 'reason', detail -> 'before',
             detail -> 'after' ->> 'mode', (detail -> 'after' ->> 'hold_default_seconds')::bigint
        FROM portal.audit_log WHERE action = 'policy.save'$$,
    $$VALUES ('admin'::text, 'ann'::text, 'r-2'::text, 'two days is enough'::text, 'null'::jsonb,
              'physician_review'::text, 259200::bigint)$$,
    'the save is audited with who, why, the row before (none) and after, omitted fields at the table defaults');
SELECT is((SELECT released FROM portal.release_due(100, 'after-save')), 1,
          'the sweep releases exactly what the preview counted');

-- ---- patient search: audited, rate limited, no report ----
SELECT is(pg_temp.app_value($$(SELECT count(*) FROM portal.staff_find_patients('MRN-ST-1', NULL, NULL, NULL, 'staff', 'desk1', 'q-1', '10.0.0.1'))$$),
          '1', 'a patient is found by identifier');
SELECT is(pg_temp.app_value($$(SELECT count(*) FROM portal.staff_find_patients(NULL, NULL, 'pat st-', '1980-01-01', 'staff', 'desk1', 'q-2', '10.0.0.1'))$$),
          '3', 'by part of the name and the birth date');
SELECT is((SELECT count(*) FROM portal.audit_log WHERE action = 'patient.search' AND actor_id = 'desk1'),
          2::bigint, 'each search is audited');
SELECT is(pg_temp.app_try($q$DO $d$ BEGIN FOR i IN 1 .. 40 LOOP
                            PERFORM portal.staff_find_patients('MRN-ST-1', NULL, NULL, NULL, 'staff', 'desk2', 'q', NULL);
                            END LOOP; END $d$$q$),
          'PT429', 'the 31st search within 10 minutes is refused');

-- ---- physicians: disabled and invited only through the functions, which audit ----
SELECT is(pg_temp.app_try($$UPDATE portal.physicians SET disabled_at = NULL$$), '42501',
          'portal_app cannot enable a physician directly');
SELECT is(pg_temp.app_try($$INSERT INTO portal.physician_invitations (selector, physician_id, verifier_hash, created_by, expires_at)
                            VALUES ('AAAAAAAA', 'D-STAFF', 'x', 'me', now() + interval '1 day')$$), '42501',
          'portal_app cannot forge an invitation');
SELECT is(pg_temp.app_value($$portal.set_physician_disabled('D-STAFF', true, 'admin', 'ann', 'r-9', NULL)$$), 'true',
          'an admin disables a physician through the function');
SELECT results_eq(
    $$SELECT actor_id, detail -> 'before' ->> 'disabled', detail -> 'after' ->> 'disabled',
             (SELECT revoked_before IS NOT NULL FROM portal.session_revocations
               WHERE role = 'physician' AND sub = 'D-STAFF')
        FROM portal.audit_log WHERE action = 'physician.disable'$$,
    $$VALUES ('ann'::text, 'false'::text, 'true'::text, true)$$,
    'disabling is audited with before and after, and ends the sessions');

SELECT * FROM finish();
ROLLBACK;
