-- Every privilege portal_app (what `portald serve` connects as) and PUBLIC hold on the portal's
-- objects, in one place. `portald migrate` applies this file after the migrations and the
-- definitions, on every run and in the same transaction as the definitions: it first takes every
-- privilege away from portal_app and PUBLIC, then grants the list below, so whatever was granted
-- before (by older migrations, or by hand) converges to exactly this list, and a function created
-- by a definitions file never keeps PostgreSQL's default EXECUTE for PUBLIC.
--
-- sql/tests/privileges.sql holds the same list as the expected result: a grant added here without
-- adding it there fails `make test`, so every new grant is a deliberate, reviewed change.
--
-- The privileges below are those the migrations 0002, 0003, 0004 and 0006 granted, in one place.

-- ---------------------------------------------------------------------------------------------
-- Start from nothing.
-- ---------------------------------------------------------------------------------------------

REVOKE ALL ON SCHEMA portal FROM PUBLIC, portal_app;
REVOKE ALL ON ALL TABLES IN SCHEMA portal FROM PUBLIC, portal_app;    -- and their columns
REVOKE ALL ON ALL SEQUENCES IN SCHEMA portal FROM PUBLIC, portal_app;
REVOKE ALL ON ALL ROUTINES IN SCHEMA portal FROM PUBLIC, portal_app;

GRANT USAGE ON SCHEMA portal TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE ON portal.patients, portal.physicians, portal.studies TO portal_app;
GRANT SELECT, INSERT ON portal.study_events, portal.releases TO portal_app;
GRANT SELECT, INSERT, UPDATE ON portal.holds, portal.discussion_requests, portal.ingest_events TO portal_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON portal.login_throttle TO portal_app;
GRANT INSERT ON portal.audit_log TO portal_app;
-- Report text can be written by ingest but never read back by the server's role.
GRANT INSERT ON portal.report_versions TO portal_app;
GRANT SELECT (id, study_id, version, status, radiologist_name, signed_at, event_id, received_at)
    ON portal.report_versions TO portal_app;
GRANT SELECT ON portal.turnaround_estimates, portal.estimates_state TO portal_app;
GRANT SELECT ON portal.release_policies, portal.release_plans TO portal_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON portal.patient_preferences TO portal_app;
GRANT SELECT, INSERT, UPDATE ON portal.study_preferences TO portal_app;
GRANT UPDATE (note, noted_by, noted_at) ON portal.releases TO portal_app;
GRANT SELECT ON portal.page_versions, portal.page_global_version TO portal_app;

GRANT USAGE ON SEQUENCE portal.audit_log_id_seq, portal.holds_id_seq, portal.releases_id_seq,
    portal.report_versions_id_seq, portal.study_events_id_seq TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- Functions: every one but the trigger functions, the page stamp and the history scans.
-- ---------------------------------------------------------------------------------------------

GRANT EXECUTE ON FUNCTION
    portal.backtest(integer, interval, timestamp with time zone, boolean),
    portal.compliance_holds(timestamp with time zone, timestamp with time zone, text, text, text),
    portal.entry_p90(text, text, text, text, text),
    portal.estimate_bucket(double precision),
    portal.estimate_candidates(text, text, text, text),
    portal.estimate_ladder(),
    portal.estimate_lookup(portal.studies, text, timestamp with time zone),
    portal.estimate_min_samples(),
    portal.estimate_preference(integer, integer),
    portal.expire_holds(uuid, integer, text),
    portal.get_patient_preference(uuid),
    portal.hold_report(uuid, text, text, text, timestamp with time zone, text, text),
    portal.hold_report(uuid, text, text, text, text),
    portal.ingest_answer(text, jsonb),
    portal.ingest_claim(text, text, text),
    portal.ingest_event(text, text, text, timestamp with time zone, timestamp with time zone, text, text, date, text, text, text, text, text, text, text, text, text, text),
    portal.ingest_report(text, text, text, text, text, text, text, timestamp with time zone),
    portal.login_failed(text[], integer[], interval, interval),
    portal.login_locked(text[]),
    portal.login_succeeded(text),
    portal.milestone_ahead(text, text),
    portal.overdue_counts(),
    portal.patient_report(uuid, uuid, text, text),
    portal.physician_report(text, uuid, text, text),
    portal.physician_study(text, uuid),
    portal.policy_for(text, text),
    portal.refresh_estimates(interval),
    portal.refresh_estimates_if_due(integer, integer),
    portal.release_due(integer, text),
    portal.release_due_unlocked(integer, text),
    portal.release_if_due(uuid, text),
    portal.release_plan(portal.studies),
    portal.release_report(uuid, text, text, text, text),
    portal.request_discussion(uuid, uuid, timestamp with time zone[], text, text, text),
    portal.reread_released_page(uuid, uuid, integer, bigint, bigint, text, text),
    portal.set_patient_preference(uuid, text, integer, text, text),
    portal.set_study_preference(uuid, uuid, text, integer, text, text),
    portal.stage_anchor(portal.studies, text),
    portal.stage_order(text),
    portal.study_overdue(portal.studies, timestamp with time zone),
    portal.study_preference(portal.studies),
    portal.study_preference_json(uuid),
    portal.week_part(timestamp with time zone),
    portal.whole_days(interval)
TO portal_app;
