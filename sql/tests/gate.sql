-- The release gate holds in the database (CONTRACT invariant 1): portal_app cannot read report
-- text except through portal.patient_report, which checks release, and portal.physician_report,
-- which checks referral. Run as a superuser; everything is rolled back.
BEGIN;
SELECT plan(3);
SELECT has_schema('portal');
SELECT column_privs_are('portal', 'report_versions', 'findings', 'portal_app', ARRAY['INSERT'],
                        'portal_app may write findings but not read them');
SELECT column_privs_are('portal', 'report_versions', 'impression', 'portal_app', ARRAY['INSERT'],
                        'portal_app may write the impression but not read it');
SELECT * FROM finish();
ROLLBACK;
