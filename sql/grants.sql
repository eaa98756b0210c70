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
-- The rules:
--   * portal_app writes a table directly only where a statement in server/queries.c or a
--     `portald` subcommand does (column by column where it writes a table at all). Every other
--     write, and every write of the release gate's state (studies' lifecycle and release columns,
--     releases, holds, preferences), happens inside a SECURITY DEFINER function that also writes
--     its audit row (sql/definitions/).
--   * portal_app may EXECUTE the functions server/queries.c calls, and the SQL functions those
--     call as the caller (they must stay caller's-rights so the planner can inline them).
--   * Internal functions (the unlocked sweep, release_if_due, expire_holds, ingest helpers,
--     trigger functions, stamps, history scans) are not executable by portal_app or PUBLIC.

-- ---------------------------------------------------------------------------------------------
-- Start from nothing.
-- ---------------------------------------------------------------------------------------------

REVOKE ALL ON SCHEMA portal FROM PUBLIC, portal_app;
REVOKE ALL ON ALL TABLES IN SCHEMA portal FROM PUBLIC, portal_app;    -- and their columns
REVOKE ALL ON ALL SEQUENCES IN SCHEMA portal FROM PUBLIC, portal_app;
REVOKE ALL ON ALL ROUTINES IN SCHEMA portal FROM PUBLIC, portal_app;

GRANT USAGE ON SCHEMA portal TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- People, studies and their history: read by the pages; written only by ingest (SECURITY DEFINER).
-- ---------------------------------------------------------------------------------------------

GRANT SELECT ON portal.patients, portal.physicians, portal.studies TO portal_app;
-- Q_SET_ACCESS_CODE, and `portald seed-demo` / `portald access-code` (server/demo.c).
GRANT UPDATE (access_selector, access_hash, updated_at, access_code_event,
               access_code_unconfirmed_at) ON portal.patients TO portal_app;
-- Q_SET_PATIENT_LANGUAGE: the patient's own choice of language.
GRANT UPDATE (language) ON portal.patients TO portal_app;
-- `portald set-password` and `portald seed-demo` (server/physician_account.c).
GRANT UPDATE (password_hash, updated_at) ON portal.physicians TO portal_app;

-- Report text can be written but never read back by the server's role: SELECT on the columns
-- without text only (the text is read through portal.patient_report and portal.physician_report,
-- sql/definitions/30_gate.sql). INSERT is kept on the columns ingest writes (sql/tests/gate.sql
-- asserts portal_app "may write findings but not read them"); a version inserted this way reaches
-- no one, since only ingest_report sets a study's reviewable version and only release_report and
-- the policy path release it.
GRANT SELECT (id, study_id, version, status, radiologist_name, signed_at, event_id, received_at)
    ON portal.report_versions TO portal_app;
GRANT INSERT (study_id, version, status, findings, impression, radiologist_name, signed_at,
              event_id)
    ON portal.report_versions TO portal_app;
GRANT USAGE ON SEQUENCE portal.report_versions_id_seq TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- The release gate's state: read-only. Releases, holds and preferences are written only by
-- release_report, hold_report, release_due, ingest_report and the preference functions.
-- ---------------------------------------------------------------------------------------------

-- Proxies (sql/migrations/0013_proxies.sql): the sign-in reads a proxy's code hash as it does a
-- patient's; the physician's page reads the "not for proxies" mark. Links, and the site's ages,
-- are read and written only by the SECURITY DEFINER functions of sql/definitions/65_proxies.sql.
GRANT SELECT ON portal.proxies, portal.study_proxy_restrictions TO portal_app;

GRANT SELECT ON portal.releases, portal.holds, portal.discussion_requests,
    portal.release_policies, portal.patient_preferences, portal.study_preferences TO portal_app;
-- What the patient pages show of that state, one row a study, kept by triggers
-- (sql/definitions/92_study_page_state.sql).
GRANT SELECT ON portal.study_page_state TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- Sign-in throttling (portal.login_* run as the caller) and the audit log (Q_AUDIT): append
-- only, and without choosing the row's id or time.
-- ---------------------------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON portal.login_throttle TO portal_app;
GRANT SELECT, INSERT, UPDATE ON portal.session_revocations TO portal_app;
GRANT INSERT (actor_role, actor_id, action, study_id, detail, client_addr, request_id)
    ON portal.audit_log TO portal_app;
GRANT USAGE ON SEQUENCE portal.audit_log_id_seq TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- The notification outbox: the admin's list (Q_ADMIN_NOTIFICATIONS) reads its state, never the
-- accession a staff message carries. Every write is a SECURITY DEFINER function's
-- (sql/definitions/75_notifications.sql).
-- ---------------------------------------------------------------------------------------------

GRANT SELECT (id, message_id, kind, channel, patient_id, physician_id, state, due_at, attempts,
              failure, created_at, sent_at, ended_at)
    ON portal.notifications TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- Staff accounts (sql/migrations/0012_staff.sql): read for sign-in (Q_STAFF_LOGIN_LOOKUP), and the
-- last TOTP step accepted written (Q_STAFF_TOTP_USE). Accounts are created as the owner
-- (`portald staff-add`); release policies, invitations and the disabled flags are written only by
-- the SECURITY DEFINER functions of sql/definitions/85_staff.sql.
-- ---------------------------------------------------------------------------------------------

GRANT SELECT ON portal.staff TO portal_app;
GRANT UPDATE (totp_last_step) ON portal.staff TO portal_app;
-- Q_INVITATION_LOOKUP: the hash an invitation's code is checked against.
GRANT SELECT (selector, physician_id, verifier_hash, expires_at, used_at)
    ON portal.physician_invitations TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- Estimates and page stamps: read-only.
-- ---------------------------------------------------------------------------------------------

GRANT SELECT ON portal.turnaround_estimates, portal.estimates_state, portal.estimate_clocks,
    portal.estimate_hours, portal.study_estimates, portal.estimate_calibration TO portal_app;
-- The site's closed days: read by the estimates' lookups; written by staff through
-- portal.set_closed_day and portal.remove_closed_day (85_staff.sql).
GRANT SELECT ON portal.site_closed_days TO portal_app;
GRANT SELECT ON portal.page_versions, portal.page_global_version TO portal_app;

-- ---------------------------------------------------------------------------------------------
-- Functions server/queries.c calls.
-- ---------------------------------------------------------------------------------------------

GRANT EXECUTE ON FUNCTION
    -- ingest (SECURITY DEFINER)
    portal.ingest_event(text, text, text, timestamptz, timestamptz, text, text, date, text, text,
                        text, text, text, text, text, text, text, text, text, text, text, text,
                        text, text, text),
    portal.ingest_report(text, text, text, text, text, text, text, timestamptz, text, text, text,
                         text),
    portal.ingest_patient(text, text, text, text, text, date, text, text, text, text, text, text),
    portal.ingest_merge(text, text, text, text, text, text, text, text, text, text),
    -- the PACS follower (SECURITY DEFINER): images received, and the feed's position
    portal.ingest_images(text, text, text, text, timestamptz, text, text, text, text),
    portal.feed_take(text),
    portal.feed_advance(text, bigint),
    -- the release gate (SECURITY DEFINER)
    portal.patient_report(uuid, uuid, text, text),
    portal.physician_report(text, uuid, text, text),
    portal.reread_released_page(uuid, uuid, integer, bigint, bigint, text, text),
    -- proxies (SECURITY DEFINER): their gate, their patients, the links and the physician's mark
    portal.proxy_studies(uuid, uuid, uuid),
    portal.proxy_report(uuid, uuid, text, text),
    portal.proxy_patients(uuid),
    portal.patient_proxies(uuid),
    portal.proxy_set_code(uuid, text, date, text, text, text, text, text, text, text),
    portal.proxy_grant(uuid, uuid, text, text, text, timestamptz, timestamptz, text, text, text,
                       text),
    portal.proxy_renew(uuid, timestamptz, text, text, text, text),
    portal.proxy_end(uuid, uuid, text, text, text, text),
    portal.staff_proxy_links(uuid),
    portal.set_not_for_proxies(text, uuid, boolean, text, text),
    -- a proxy who is also a patient (SECURITY DEFINER): recorded, switched between, both ended
    portal.same_person(text, text),
    portal.session_switch(text, text, text, text),
    portal.proxy_set_patient(uuid, uuid, text, text, text, text, text, text),
    -- who has seen my record (SECURITY DEFINER)
    portal.patient_access_log(uuid, bigint, integer),
    portal.proxy_access_log(uuid, uuid, bigint, integer),
    -- release and hold (SECURITY DEFINER); release_due is the one-at-a-time sweep
    portal.release_report(uuid, text, text, text, text),
    portal.hold_report(uuid, text, text, text, timestamptz, text, text),
    portal.release_due(integer, text),
    -- patients' choices and discussion requests (SECURITY DEFINER)
    portal.set_patient_preference(uuid, text, integer, text, text),
    portal.set_study_preference(uuid, uuid, text, integer, text, text),
    portal.request_discussion(uuid, uuid, timestamptz[], text, text, text),
    portal.answer_discussion(text, text, uuid, text, timestamptz, text, text, text),
    -- notifications (SECURITY DEFINER): the schedule, the senders' claim and result, people's
    -- choices and the one-click unsubscribe
    portal.notify_schedule(timestamptz, text, integer, boolean, boolean, interval, interval),
    portal.notify_claim(text, integer, integer, text, timestamptz, time, time, text, integer),
    portal.notify_result(bigint, text, text, integer, integer),
    portal.set_patient_contact(uuid, text, text, text, text, text, text),
    portal.set_physician_notifications(text, text, text, text, text),
    portal.notify_unsubscribe(uuid, text, text),
    -- the staff console (SECURITY DEFINER): release policies previewed and saved, patients found
    portal.preview_release_policy(text, text, text, bigint, boolean, bigint, bigint, bigint),
    portal.save_release_policy(text, text, text, bigint, boolean, bigint, bigint, bigint, text,
                               text, text, text, text),
    portal.staff_find_patients(text, text, text, date, text, text, text, text),
    portal.invite_physician(text, text, text, interval, boolean, text, text, text, text),
    portal.accept_physician_invitation(text, text, text, text),
    portal.set_physician_disabled(text, boolean, text, text, text, text),
    portal.set_closed_day(date, text, text, text, text, text),
    portal.remove_closed_day(date, text, text, text, text),
    portal.staff_set_patient_contact(uuid, text, text, text, text, text, text, text, text),
    -- reads, run as the caller
    portal.patient_contact(uuid),
    portal.get_patient_preference(uuid),
    portal.compliance_holds(timestamptz, timestamptz, text, text, text),
    portal.release_plan(portal.studies),
    portal.study_preference(portal.studies),
    portal.estimate_lookup(portal.studies, text, timestamptz, boolean),
    portal.estimate_lookup_clock(portal.studies, text, timestamptz, boolean),
    portal.estimate_lookup_hours(portal.studies, text, timestamptz, boolean),
    portal.study_estimate(portal.studies, text),
    portal.study_overdue(portal.studies, timestamptz),
    portal.overdue_counts(),
    portal.release_policy_json(portal.release_policies),
    portal.physicians_waiting(),
    -- sign-in throttling, run as the caller
    portal.login_locked(text[]),
    portal.login_failed(text[], integer[], interval, interval),
    portal.login_succeeded(text),
    portal.revoke_sessions(text, text),
    portal.revoke_person_sessions(text, text),
    -- the estimates task (SECURITY DEFINER; refresh_estimates itself is not granted)
    portal.refresh_estimates_if_due(integer, integer),
    portal.refresh_study_estimates(integer),
    portal.prepare_study_estimates(integer),
    -- `portald backtest` (SECURITY DEFINER)
    portal.backtest(integer, interval, timestamptz, boolean),
    portal.backtest_hours(integer, interval, timestamptz, interval)
TO portal_app;

-- What the caller's-rights SQL functions above call in turn: a function inlined into a statement,
-- or run as the caller, needs its callees' EXECUTE too.
GRANT EXECUTE ON FUNCTION
    portal.policy_for(text, text),
    portal.whole_days(interval),
    portal.estimate_min_samples(),
    portal.estimate_ladder(),
    portal.estimate_bucket(double precision),
    portal.estimate_wait_ladder(),
    portal.estimate_wait_bucket(double precision),
    portal.estimate_wait_band(integer),
    portal.site_time_zone(),
    portal.hour_of_week(timestamptz),
    portal.week_hours(timestamptz),
    portal.model_hour(timestamptz),
    portal.day_clock_hours(integer, double precision, double precision[], double precision[]),
    portal.calendar_day(double precision, double precision[], integer),
    portal.calendar_hours(double precision, double precision[], double precision[], double precision[],
                          integer, integer),
    portal.weekly_clock_week_hours(double precision, double precision[], double precision[]),
    portal.calendar_week_hours(double precision, double precision[], double precision[], double precision[],
                               integer, integer),
    portal.clock_hours(double precision, double precision[], double precision[], double precision[]),
    portal.clock_time(timestamptz, double precision[], double precision[], double precision[]),
    portal.clock_at(double precision, double precision[], double precision[], double precision[]),
    portal.stretch_clock(double precision, double precision, double precision),
    portal.stretch_at(timestamptz, double precision, double precision, double precision[],
                      double precision[], double precision[]),
    portal.release_times(timestamptz, double precision, double precision, double precision[],
                         double precision[], double precision[]),
    portal.calendar_release(timestamptz, timestamptz, double precision[], double precision[],
                          double precision[]),
    portal.clock_for(text, text, text),
    portal.estimate_lookup_live(portal.studies, text),
    portal.stage_order(text),
    portal.milestone_ahead(text, text),
    portal.stage_anchor(portal.studies, text),
    portal.estimate_candidates(text, text, text),
    portal.estimate_preference(integer, integer, double precision),
    portal.estimate_enough(integer, double precision),
    portal.entry_p90(text, text, text, text),
    portal.overdue_studies(timestamptz)
TO portal_app;
