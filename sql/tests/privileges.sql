-- Every privilege portal_app and PUBLIC hold in the portal's schemas, compared as a set against
-- the list below: schema USAGE, table and view, column, sequence and function (EXECUTE)
-- privileges, and default privileges for objects not yet created, read from the catalogs' ACLs
-- (a NULL ACL is PostgreSQL's default, e.g. EXECUTE for PUBLIC on a new function). The list is
-- sql/grants.sql as it stands: a grant added there (or by hand, or by a migration) without being
-- added here fails this test, so every new grant is a deliberate, reviewed change. Run as a
-- superuser; everything is rolled back.
BEGIN;
SELECT plan(4);

-- Schema, relation, column, function and default-privilege ACLs of portal and public, exploded
-- to one row per grantee and privilege, for portal_app and PUBLIC (grantee 0). Extension members
-- (pgTAP in public) are PostgreSQL's, not the portal's.
CREATE TEMP VIEW app_privileges AS
WITH objs AS (
    SELECT 'schema' AS kind, n.nspname::text AS name, '' AS col,
           coalesce(n.nspacl, acldefault('n', n.nspowner)) AS acl
      FROM pg_namespace n WHERE n.nspname IN ('portal', 'public')
    UNION ALL
    SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, c.oid::regclass::text, '',
           coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char",
                                         c.relowner))
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('portal', 'public') AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'column', c.oid::regclass::text, a.attname::text, a.attacl
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('portal', 'public') AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attacl IS NOT NULL
    UNION ALL
    SELECT 'function', p.oid::regprocedure::text, '', coalesce(p.proacl, acldefault('f', p.proowner))
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname IN ('portal', 'public')
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'default for ' || d.defaclobjtype::text, coalesce(n.nspname, '*'), '', d.defaclacl
      FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
)
SELECT o.kind, o.name, o.col,
       CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END AS grantee,
       x.privilege_type || CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
           AS privilege
  FROM objs o CROSS JOIN LATERAL aclexplode(o.acl) x
 WHERE x.grantee IN (0, (SELECT r.oid FROM pg_roles r WHERE r.rolname = 'portal_app'));

SELECT set_eq(
    'SELECT kind, name, col, grantee, privilege FROM pg_temp.app_privileges',
    $$VALUES
    ('column', 'portal.audit_log', 'action', 'portal_app', 'INSERT'),
    ('column', 'portal.notifications', 'attempts', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'channel', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'created_at', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'due_at', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'ended_at', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'failure', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'id', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'kind', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'message_id', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'patient_id', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'physician_id', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'sent_at', 'portal_app', 'SELECT'),
    ('column', 'portal.notifications', 'state', 'portal_app', 'SELECT'),
    ('column', 'portal.audit_log', 'actor_id', 'portal_app', 'INSERT'),
    ('column', 'portal.audit_log', 'actor_role', 'portal_app', 'INSERT'),
    ('column', 'portal.audit_log', 'client_addr', 'portal_app', 'INSERT'),
    ('column', 'portal.audit_log', 'detail', 'portal_app', 'INSERT'),
    ('column', 'portal.audit_log', 'request_id', 'portal_app', 'INSERT'),
    ('column', 'portal.audit_log', 'study_id', 'portal_app', 'INSERT'),
    ('column', 'portal.patients', 'access_code_event', 'portal_app', 'UPDATE'),
    ('column', 'portal.patients', 'access_code_unconfirmed_at', 'portal_app', 'UPDATE'),
    ('column', 'portal.patients', 'access_hash', 'portal_app', 'UPDATE'),
    ('column', 'portal.patients', 'access_selector', 'portal_app', 'UPDATE'),
    ('column', 'portal.patients', 'language', 'portal_app', 'UPDATE'),
    ('column', 'portal.patients', 'updated_at', 'portal_app', 'UPDATE'),
    ('column', 'portal.physicians', 'password_hash', 'portal_app', 'UPDATE'),
    ('column', 'portal.physicians', 'updated_at', 'portal_app', 'UPDATE'),
    ('column', 'portal.report_versions', 'event_id', 'portal_app', 'INSERT'),
    ('column', 'portal.report_versions', 'event_id', 'portal_app', 'SELECT'),
    ('column', 'portal.report_versions', 'findings', 'portal_app', 'INSERT'),
    ('column', 'portal.report_versions', 'id', 'portal_app', 'SELECT'),
    ('column', 'portal.report_versions', 'impression', 'portal_app', 'INSERT'),
    ('column', 'portal.report_versions', 'radiologist_name', 'portal_app', 'INSERT'),
    ('column', 'portal.report_versions', 'radiologist_name', 'portal_app', 'SELECT'),
    ('column', 'portal.report_versions', 'received_at', 'portal_app', 'SELECT'),
    ('column', 'portal.report_versions', 'signed_at', 'portal_app', 'INSERT'),
    ('column', 'portal.report_versions', 'signed_at', 'portal_app', 'SELECT'),
    ('column', 'portal.report_versions', 'status', 'portal_app', 'INSERT'),
    ('column', 'portal.report_versions', 'status', 'portal_app', 'SELECT'),
    ('column', 'portal.report_versions', 'study_id', 'portal_app', 'INSERT'),
    ('column', 'portal.report_versions', 'study_id', 'portal_app', 'SELECT'),
    ('column', 'portal.report_versions', 'version', 'portal_app', 'INSERT'),
    ('column', 'portal.report_versions', 'version', 'portal_app', 'SELECT'),
    ('function', 'portal.backtest(integer,interval,timestamp with time zone,boolean)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.backtest_hours(integer,interval,timestamp with time zone,interval)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.compliance_holds(timestamp with time zone,timestamp with time zone,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.calendar_day(double precision,double precision[],integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.calendar_hours(double precision,double precision[],double precision[],double precision[],integer,integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.release_times(timestamp with time zone,double precision,double precision,double precision[],double precision[],double precision[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.calendar_release(timestamp with time zone,timestamp with time zone,double precision[],double precision[],double precision[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.calendar_week_hours(double precision,double precision[],double precision[],double precision[],integer,integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.clock_at(double precision,double precision[],double precision[],double precision[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.stretch_clock(double precision,double precision,double precision)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.stretch_at(timestamp with time zone,double precision,double precision,double precision[],double precision[],double precision[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.clock_for(text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.clock_hours(double precision,double precision[],double precision[],double precision[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.clock_time(timestamp with time zone,double precision[],double precision[],double precision[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.day_clock_hours(integer,double precision,double precision[],double precision[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.model_hour(timestamp with time zone)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.weekly_clock_week_hours(double precision,double precision[],double precision[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.entry_p90(text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_bucket(double precision)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_wait_bucket(double precision)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_wait_band(integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_wait_ladder()', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.hour_of_week(timestamp with time zone)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_candidates(text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_ladder()', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_lookup(portal.studies,text,timestamp with time zone,boolean)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_lookup_clock(portal.studies,text,timestamp with time zone,boolean)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_lookup_hours(portal.studies,text,timestamp with time zone,boolean)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_lookup_live(portal.studies,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.study_estimate(portal.studies,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_min_samples()', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_preference(integer,integer,double precision)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.estimate_enough(integer,double precision)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.feed_advance(text,bigint)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.feed_take(text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.get_patient_preference(uuid)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.hold_report(uuid,text,text,text,timestamp with time zone,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.ingest_event(text,text,text,timestamp with time zone,timestamp with time zone,text,text,date,text,text,text,text,text,text,text,text,text,text,text,text,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.ingest_images(text,text,text,text,timestamp with time zone,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.ingest_merge(text,text,text,text,text,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.ingest_patient(text,text,text,text,text,date,text,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.ingest_report(text,text,text,text,text,text,text,timestamp with time zone,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.login_failed(text[],integer[],interval,interval)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.login_locked(text[])', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.login_succeeded(text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.revoke_sessions(text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.milestone_ahead(text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.overdue_counts()', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.overdue_studies(timestamp with time zone)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.notify_claim(text,integer,integer,text,timestamp with time zone,time without time zone,time without time zone,text,integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.notify_result(bigint,text,text,integer,integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.notify_schedule(timestamp with time zone,text,integer,boolean,boolean,interval,interval)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.notify_unsubscribe(uuid,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.patient_contact(uuid)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.set_patient_contact(uuid,text,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.set_physician_notifications(text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.patient_report(uuid,uuid,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.physician_report(text,uuid,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.policy_for(text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.refresh_estimates_if_due(integer,integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.refresh_study_estimates(integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.prepare_study_estimates(integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.release_due(integer,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.release_plan(portal.studies)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.release_policy_json(portal.release_policies)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.preview_release_policy(text,text,text,bigint,boolean,bigint,bigint,bigint)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.save_release_policy(text,text,text,bigint,boolean,bigint,bigint,bigint,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.staff_find_patients(text,text,text,date,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.invite_physician(text,text,text,interval,boolean,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.accept_physician_invitation(text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.set_physician_disabled(text,boolean,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.set_closed_day(date,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.remove_closed_day(date,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.physicians_waiting()', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.staff_set_patient_contact(uuid,text,text,text,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('column', 'portal.physician_invitations', 'selector', 'portal_app', 'SELECT'),
    ('column', 'portal.physician_invitations', 'physician_id', 'portal_app', 'SELECT'),
    ('column', 'portal.physician_invitations', 'verifier_hash', 'portal_app', 'SELECT'),
    ('column', 'portal.physician_invitations', 'expires_at', 'portal_app', 'SELECT'),
    ('column', 'portal.physician_invitations', 'used_at', 'portal_app', 'SELECT'),
    ('function', 'portal.release_report(uuid,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.answer_discussion(text,text,uuid,text,timestamp with time zone,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.request_discussion(uuid,uuid,timestamp with time zone[],text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.reread_released_page(uuid,uuid,integer,bigint,bigint,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.set_patient_preference(uuid,text,integer,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.set_study_preference(uuid,uuid,text,integer,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.site_time_zone()', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.stage_anchor(portal.studies,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.stage_order(text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.study_overdue(portal.studies,timestamp with time zone)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.study_preference(portal.studies)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.week_hours(timestamp with time zone)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.whole_days(interval)', '', 'portal_app', 'EXECUTE'),
    ('schema', 'portal', '', 'portal_app', 'USAGE'),
    ('sequence', 'portal.audit_log_id_seq', '', 'portal_app', 'USAGE'),
    ('sequence', 'portal.report_versions_id_seq', '', 'portal_app', 'USAGE'),
    ('table', 'portal.discussion_requests', '', 'portal_app', 'SELECT'),
    ('table', 'portal.estimate_clocks', '', 'portal_app', 'SELECT'),
    ('table', 'portal.site_closed_days', '', 'portal_app', 'SELECT'),
    ('table', 'portal.estimate_hours', '', 'portal_app', 'SELECT'),
    ('table', 'portal.estimate_calibration', '', 'portal_app', 'SELECT'),
    ('table', 'portal.estimates_state', '', 'portal_app', 'SELECT'),
    ('table', 'portal.holds', '', 'portal_app', 'SELECT'),
    ('table', 'portal.login_throttle', '', 'portal_app', 'DELETE'),
    ('table', 'portal.login_throttle', '', 'portal_app', 'INSERT'),
    ('table', 'portal.login_throttle', '', 'portal_app', 'SELECT'),
    ('table', 'portal.login_throttle', '', 'portal_app', 'UPDATE'),
    ('table', 'portal.session_revocations', '', 'portal_app', 'INSERT'),
    ('table', 'portal.session_revocations', '', 'portal_app', 'SELECT'),
    ('table', 'portal.session_revocations', '', 'portal_app', 'UPDATE'),
    ('table', 'portal.page_global_version', '', 'portal_app', 'SELECT'),
    ('table', 'portal.page_versions', '', 'portal_app', 'SELECT'),
    ('table', 'portal.patient_preferences', '', 'portal_app', 'SELECT'),
    ('table', 'portal.patients', '', 'portal_app', 'SELECT'),
    ('function', 'portal.proxy_studies(uuid,uuid,uuid)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.proxy_report(uuid,uuid,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.proxy_patients(uuid)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.patient_proxies(uuid)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.proxy_set_code(uuid,text,date,text,text,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.proxy_grant(uuid,uuid,text,text,text,timestamp with time zone,timestamp with time zone,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.proxy_renew(uuid,timestamp with time zone,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.proxy_end(uuid,uuid,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.staff_proxy_links(uuid)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.set_not_for_proxies(text,uuid,boolean,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.same_person(text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.session_switch(text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.proxy_set_patient(uuid,uuid,text,text,text,text,text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.revoke_person_sessions(text,text)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.patient_access_log(uuid,bigint,integer)', '', 'portal_app', 'EXECUTE'),
    ('function', 'portal.proxy_access_log(uuid,uuid,bigint,integer)', '', 'portal_app', 'EXECUTE'),
    ('table', 'portal.proxies', '', 'portal_app', 'SELECT'),
    ('table', 'portal.study_proxy_restrictions', '', 'portal_app', 'SELECT'),
    ('table', 'portal.physicians', '', 'portal_app', 'SELECT'),
    ('table', 'portal.release_policies', '', 'portal_app', 'SELECT'),
    ('table', 'portal.staff', '', 'portal_app', 'SELECT'),
    ('column', 'portal.staff', 'totp_last_step', 'portal_app', 'UPDATE'),
    ('table', 'portal.releases', '', 'portal_app', 'SELECT'),
    ('table', 'portal.studies', '', 'portal_app', 'SELECT'),
    ('table', 'portal.study_preferences', '', 'portal_app', 'SELECT'),
    ('table', 'portal.study_page_state', '', 'portal_app', 'SELECT'),
    ('table', 'portal.study_estimates', '', 'portal_app', 'SELECT'),
    ('table', 'portal.turnaround_estimates', '', 'portal_app', 'SELECT')
    $$,
    'portal_app and PUBLIC hold exactly the privileges of sql/grants.sql');

SELECT is_empty(
    $$SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
       WHERE m.member = 'portal_app'::regrole$$,
    'portal_app is a member of no role (it would inherit that role''s privileges)');

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'portal' AND p.prosecdef
         AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
    'every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp');

SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'portal' AND p.proowner <> (SELECT nspowner FROM pg_namespace WHERE nspname = 'portal')$$,
    'every function belongs to the schema owner (a SECURITY DEFINER function runs as its owner)');

SELECT * FROM finish();
ROLLBACK;
