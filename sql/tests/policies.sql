-- Release policies (sql/definitions/40_release.sql, 60_preferences.sql): policy lookup, each mode
-- and its deadline, holds with deadlines, patient preference where allowed and refused where not,
-- the sweep releasing each version exactly once and auditing it, and the compliance report. Run as
-- a superuser; everything is rolled back. now() is fixed for the transaction, so "time passing" is
-- written as report or hold timestamps moved into the past.
BEGIN;
SELECT plan(45);

-- A study with a referring physician D-POL at a given site and modality; returns its id.
CREATE FUNCTION pg_temp.mk(p_site text, p_modality text, p_acc text) RETURNS uuid
LANGUAGE sql AS $$
    SELECT (portal.ingest_event('ev-' || p_acc, 'h', 'ordered', now(), NULL, 'MRN-' || p_acc,
                                'Pat ' || p_acc, '1980-01-01', NULL, p_acc, p_modality, 'desc',
                                'routine', p_site, 'D-POL', 'Dr. Pol', NULL, NULL)
            ->> 'study_id')::uuid;
$$;
CREATE FUNCTION pg_temp.final(p_acc text, p_n integer DEFAULT 1) RETURNS jsonb LANGUAGE sql AS $$
    SELECT portal.ingest_report('rep-' || p_acc || '-' || p_n, 'h', p_acc,
                                CASE WHEN p_n = 1 THEN 'final' ELSE 'amended' END,
                                'f', 'i', 'Dr. Rad', now());
$$;
CREATE FUNCTION pg_temp.sid(p_acc text) RETURNS uuid LANGUAGE sql AS $$
    SELECT id FROM portal.studies WHERE accession = p_acc;
$$;
CREATE FUNCTION pg_temp.age(p_acc text, p_by interval) RETURNS void LANGUAGE sql AS $$
    UPDATE portal.report_versions SET received_at = received_at - p_by
     WHERE study_id = (SELECT id FROM portal.studies WHERE accession = p_acc);
$$;

-- ---- policy lookup ----
SELECT is((SELECT mode FROM portal.release_policies WHERE site = '*' AND modality = '*'),
          'physician_review', 'the default policy is physician review');
INSERT INTO portal.release_policies (site, modality, mode) VALUES ('t-imm', '*', 'immediate');
INSERT INTO portal.release_policies (site, modality, auto_release_after)
VALUES ('t-imm', 'MR', '5 days'), ('t-auto', '*', '72 hours');
INSERT INTO portal.release_policies (site, modality, mode, patient_preference_allowed, max_patient_delay)
VALUES ('t-pref', '*', 'physician_review', true, '10 days'),
       ('t-pref-imm', '*', 'immediate', true, '14 days');
INSERT INTO portal.release_policies (site, modality, hold_default, hold_max)
VALUES ('t-hold', '*', '2 days', '7 days');
SELECT is((portal.policy_for('t-imm', 'CT')).mode, 'immediate', 'a site row applies to every modality');
SELECT is((portal.policy_for('t-imm', 'MR')).auto_release_after, interval '5 days',
          'a (site, modality) row wins over the site row');
SELECT is((portal.policy_for('elsewhere', 'CT')).mode, 'physician_review',
          'an unknown site falls back to the default row');
SELECT throws_ok($$DELETE FROM portal.release_policies WHERE site = '*' AND modality = '*'$$,
                 '23514', NULL, 'the default policy cannot be removed');
SELECT throws_ok($$INSERT INTO portal.release_policies (site, mode, auto_release_after)
                   VALUES ('bad', 'immediate', '1 day')$$,
                 '23514', NULL, 'immediate mode takes no automatic release deadline');

-- ---- physician_review without a deadline: only the physician releases ----
SELECT pg_temp.mk('main', 'CT', 'P-REV');
SELECT pg_temp.final('P-REV');
SELECT pg_temp.age('P-REV', '365 days');
SELECT is((SELECT released FROM portal.release_due(100, 'test')), 0,
          'physician_review without a deadline: nothing is released by policy, however old');
SELECT is((SELECT due_at FROM portal.release_plans WHERE study_id = pg_temp.sid('P-REV')), NULL,
          'its plan has no due time');

-- ---- physician_review with a deadline ----
SELECT pg_temp.mk('t-auto', 'CT', 'P-AUTO');
SELECT pg_temp.final('P-AUTO');
SELECT is((SELECT released_version FROM portal.studies WHERE accession = 'P-AUTO'), NULL,
          'with a 72 h deadline the final report is not released at once');
SELECT pg_temp.age('P-AUTO', '71 hours');
SELECT is((SELECT released FROM portal.release_due(100, 'test')), 0, 'not before the deadline');
SELECT pg_temp.age('P-AUTO', '2 hours');
SELECT is((SELECT released FROM portal.release_due(100, 'test')), 1, 'released once the deadline passed');
SELECT is((SELECT released FROM portal.release_due(100, 'test')), 0, 'a second sweep releases nothing');
SELECT results_eq(
    $$SELECT how, released_by, released_by_name, version FROM portal.releases
       WHERE study_id = pg_temp.sid('P-AUTO')$$,
    $$VALUES ('policy'::text, NULL::text, 'Released automatically (site policy)'::text, 1)$$,
    'one release row, by policy, with no physician');
SELECT results_eq(
    $$SELECT actor_role, actor_id, request_id FROM portal.audit_log
       WHERE study_id = pg_temp.sid('P-AUTO') AND action = 'report.release'$$,
    $$VALUES ('policy'::text, 'site_policy'::text, 'test'::text)$$,
    'one audit row, actor_role policy');
SELECT is(portal.release_if_due(pg_temp.sid('P-AUTO'), 'again'), NULL,
          'release_if_due on a released version does nothing');

-- MR at t-imm: physician review with a 5-day deadline, though the site is otherwise immediate.
SELECT pg_temp.mk('t-imm', 'MR', 'P-MR');
SELECT pg_temp.final('P-MR');
SELECT is((SELECT due_at - final_received_at FROM portal.release_plans
            WHERE study_id = pg_temp.sid('P-MR')), interval '5 days', 'MR is due 5 days after final');

-- ---- immediate ----
SELECT pg_temp.mk('t-imm', 'CT', 'P-IMM');
SELECT pg_temp.final('P-IMM');
SELECT results_eq(
    $$SELECT s.released_version, r.how FROM portal.studies s
        JOIN portal.releases r ON r.study_id = s.id WHERE s.accession = 'P-IMM'$$,
    $$VALUES (1, 'policy'::text)$$,
    'immediate: released by policy in the same transaction as the final report');
-- The physician adds a note afterwards by releasing again with it.
SELECT results_eq(
    $$SELECT report_version FROM portal.release_report(pg_temp.sid('P-IMM'), 'D-POL', 'All fine.', 'rq-note', NULL)$$,
    $$VALUES (1)$$, 'releasing again answers the same version');
SELECT results_eq(
    $$SELECT note, noted_by, how FROM portal.releases WHERE study_id = pg_temp.sid('P-IMM')$$,
    $$VALUES ('All fine.'::text, 'D-POL'::text, 'policy'::text)$$,
    'the note is attached to the policy release, with who added it');
SELECT is((SELECT count(*)::integer FROM portal.audit_log
            WHERE study_id = pg_temp.sid('P-IMM') AND action = 'report.note'), 1,
          'adding the note is audited');
-- An amended version in immediate mode goes out too.
SELECT pg_temp.final('P-IMM', 2);
SELECT is((SELECT released_version FROM portal.studies WHERE accession = 'P-IMM'), 2,
          'immediate: an amended version is released when it arrives');

-- A hold placed before the report is final keeps it back, until its deadline.
SELECT pg_temp.mk('t-imm', 'CT', 'P-HELD');
SELECT is((SELECT created FROM portal.hold_report(pg_temp.sid('P-HELD'), 'D-POL', 'Tell in person',
                                                 'harm_risk', now() + interval '2 days', 'rq-h', NULL)),
          true, 'a hold may be placed before the report is final');
SELECT pg_temp.final('P-HELD');
SELECT is((SELECT released_version FROM portal.studies WHERE accession = 'P-HELD'), NULL,
          'immediate: a hold keeps the final report back');
SELECT is((SELECT released FROM portal.release_due(100, 'test')), 0, 'the sweep respects the hold');
UPDATE portal.holds SET placed_at = now() - interval '3 days', ends_at = now() - interval '1 hour'
 WHERE study_id = pg_temp.sid('P-HELD');
SELECT results_eq($$SELECT released, holds_expired FROM portal.release_due(100, 'test')$$,
                  $$VALUES (1, 1)$$, 'past its deadline the hold expires and the report goes out');
SELECT results_eq(
    $$SELECT ended_how, ended_at = ends_at, reason_code FROM portal.holds WHERE study_id = pg_temp.sid('P-HELD')$$,
    $$VALUES ('expired'::text, true, 'harm_risk'::text)$$,
    'the hold is recorded as expired at its deadline');

-- ---- hold deadlines ----
SELECT pg_temp.mk('t-hold', 'CT', 'P-HD');
SELECT pg_temp.final('P-HD');
SELECT throws_ok($$SELECT * FROM portal.hold_report(pg_temp.sid('P-HD'), 'D-POL', 'x', 'other',
                                                    now() + interval '8 days', NULL, NULL)$$,
                 'PT422', NULL, 'a hold beyond the site maximum is refused');
SELECT throws_ok($$SELECT * FROM portal.hold_report(pg_temp.sid('P-HD'), 'D-POL', 'x', 'other',
                                                    now() - interval '1 minute', NULL, NULL)$$,
                 'PT422', 'until: must be in the future', 'a hold ending in the past is refused');
SELECT is((SELECT created FROM portal.hold_report(pg_temp.sid('P-HD'), 'D-POL', 'check', NULL, NULL)),
          true, '0002''s five-argument hold still works');
SELECT results_eq(
    $$SELECT reason_code, ends_at - placed_at FROM portal.holds WHERE study_id = pg_temp.sid('P-HD')$$,
    $$VALUES ('other'::text, interval '2 days')$$,
    'it gets reason_code other and the site''s default deadline');
SELECT results_eq(
    $$SELECT reason_code, created FROM portal.hold_report(pg_temp.sid('P-HD'), 'D-POL', 'again', 'harm_risk', NULL, NULL, NULL)$$,
    $$VALUES ('other'::text, false)$$, 'a hold in force is answered as it stands');
SELECT lives_ok($$SELECT * FROM portal.release_report(pg_temp.sid('P-HD'), 'D-POL', NULL, NULL, NULL)$$,
                'releasing lifts the hold');
SELECT is((SELECT ended_how FROM portal.holds WHERE study_id = pg_temp.sid('P-HD')), 'released',
          'the hold ended by release');

-- ---- patient preference ----
SELECT pg_temp.mk('main', 'CT', 'P-NOPREF');
SELECT throws_ok($$SELECT portal.set_study_preference((SELECT patient_id FROM portal.studies WHERE accession = 'P-NOPREF'),
                                                      pg_temp.sid('P-NOPREF'), 'immediate', NULL, NULL, NULL)$$,
                 'PT409', NULL, 'refused where the site does not allow a choice');
SELECT throws_ok($$SELECT * FROM portal.set_patient_preference((SELECT patient_id FROM portal.studies WHERE accession = 'P-NOPREF'),
                                                               'immediate', NULL, NULL, NULL)$$,
                 'PT409', NULL, 'a standing choice is refused when none of the patient''s sites allows one');

SELECT pg_temp.mk('t-pref', 'CT', 'P-PREF');
SELECT is(portal.set_study_preference((SELECT patient_id FROM portal.studies WHERE accession = 'P-PREF'),
                                      pg_temp.sid('P-PREF'), 'immediate', NULL, 'rq-p', NULL) ->> 'release',
          'immediate', 'the patient chooses immediate on a physician-review site that allows it');
SELECT pg_temp.final('P-PREF');
SELECT results_eq(
    $$SELECT r.how, r.released_by_name FROM portal.releases r WHERE r.study_id = pg_temp.sid('P-PREF')$$,
    $$VALUES ('policy'::text, 'Released automatically (patient preference)'::text)$$,
    'the patient''s choice overrides the site default: released when final');
SELECT throws_ok($$SELECT portal.set_study_preference((SELECT patient_id FROM portal.studies WHERE accession = 'P-PREF'),
                                                      pg_temp.sid('P-PREF'), 'wait_for_physician', 3, NULL, NULL)$$,
                 'PT409', NULL, 'no change once the report is final');

SELECT pg_temp.mk('t-pref-imm', 'CT', 'P-WAIT');
SELECT throws_ok($$SELECT * FROM portal.set_patient_preference((SELECT patient_id FROM portal.studies WHERE accession = 'P-WAIT'),
                                                               'wait_for_physician', 15, NULL, NULL)$$,
                 'PT422', 'wait_days: at most 14 days', 'a wait beyond the site maximum is refused');
SELECT is((SELECT wait_days FROM portal.set_patient_preference((SELECT patient_id FROM portal.studies WHERE accession = 'P-WAIT'),
                                                               'wait_for_physician', 3, NULL, NULL)),
          3, 'a standing wait of 3 days is recorded');
SELECT pg_temp.final('P-WAIT');
SELECT results_eq(
    $$SELECT s.released_version, p.basis, p.due_at - p.final_received_at, sp.set_for
        FROM portal.studies s JOIN portal.release_plans p ON p.study_id = s.id
        JOIN portal.study_preferences sp ON sp.study_id = s.id WHERE s.accession = 'P-WAIT'$$,
    $$VALUES (NULL::integer, 'patient_preference'::text, interval '3 days', 'all_studies'::text)$$,
    'on an immediate site the patient''s wait holds the report back for 3 days');
SELECT pg_temp.age('P-WAIT', '3 days 1 minute');
SELECT is((SELECT released FROM portal.release_due(100, 'test')), 1, 'and it goes out after them');

-- ---- the role the server connects as ----
SELECT ok(has_function_privilege('portal_app', 'portal.release_due(integer, text)', 'EXECUTE'),
          'portal_app may run the sweep');
SELECT ok(NOT has_table_privilege('portal_app', 'portal.release_policies', 'UPDATE')
          AND has_table_privilege('portal_app', 'portal.release_policies', 'SELECT'),
          'portal_app reads policies but cannot change them');
-- The sweep as the server runs it (pgTAP is not visible to portal_app, so a plain call; an error
-- stops the file, which counts as a failure).
SET LOCAL ROLE portal_app;
SELECT released FROM portal.release_due(10, 'app');
RESET ROLE;

-- ---- compliance report ----
SELECT results_eq(
    $$SELECT kind, reason_code, ended_how FROM portal.compliance_holds('-infinity', 'infinity', 'adm', NULL, NULL)
       WHERE accession IN ('P-HELD', 'P-HD') AND kind = 'hold' ORDER BY accession$$,
    $$VALUES ('hold'::text, 'other'::text, 'released'::text), ('hold', 'harm_risk', 'expired')$$,
    'the compliance report lists each hold with its reason and end');

SELECT * FROM finish();
ROLLBACK;
