-- Proxy access and the access log hold in the database (issue 16): each rule of
-- sql/definitions/65_proxies.sql and 67_access_log.sql, called as portal_app. Run as a
-- superuser; everything is rolled back.
BEGIN;
SELECT plan(38);

-- Runs q as portal_app and returns its first value as text ('' for no row), or the SQLSTATE.
CREATE FUNCTION pg_temp.app_value(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    SET LOCAL ROLE portal_app;
    EXECUTE q INTO v;
    RESET ROLE;
    RETURN coalesce(v, '');
EXCEPTION WHEN OTHERS THEN
    RESET ROLE;
    RETURN 'SQLSTATE ' || SQLSTATE;
END $$;

-- A child (5), a 14-year-old, an adult and another patient; one study each, released, plus an
-- ordered-only study of the 14-year-old beside a confidential one.
INSERT INTO portal.physicians (id, name) VALUES ('NPI-PX', 'Dr Proxy Test');
INSERT INTO portal.patients (id, mrn, name, birth_date) VALUES
    ('00000000-0000-4000-8000-000000000001', 'PX-CHILD', 'Kid Small', current_date - interval '5 years'),
    ('00000000-0000-4000-8000-000000000002', 'PX-TEEN', 'Teen Age', current_date - interval '14 years'),
    ('00000000-0000-4000-8000-000000000003', 'PX-ADULT', 'Grown Up', '1950-01-01'),
    ('00000000-0000-4000-8000-000000000004', 'PX-OTHER', 'Some Body', '1960-01-01');
INSERT INTO portal.studies (id, accession, patient_id, referring_physician_id, modality, description,
                            ordered_at, exam_completed_at, final_at, latest_version, reviewable_version)
SELECT ('00000000-0000-4000-9000-00000000000' || n)::uuid, 'PX-ACC-' || n,
       ('00000000-0000-4000-8000-00000000000' || p)::uuid, 'NPI-PX', 'MR', 'MR knee',
       '2026-11-01T08:00Z', '2026-11-02T08:00Z', '2026-11-03T08:00Z', 1, 1
  FROM (VALUES (1, 1), (2, 2), (3, 3), (4, 4)) v(n, p);
INSERT INTO portal.studies (id, accession, patient_id, referring_physician_id, modality, description, ordered_at)
VALUES ('00000000-0000-4000-9000-000000000005', 'PX-ACC-5', '00000000-0000-4000-8000-000000000002',
        'NPI-PX', 'MR', 'MR knee', '2026-11-01T08:00Z');
INSERT INTO portal.report_versions (study_id, version, status, findings, impression, radiologist_name, signed_at, event_id)
SELECT ('00000000-0000-4000-9000-00000000000' || n)::uuid, 1, 'final', 'PXFINDINGS', 'PXIMPRESSION', 'Dr R', now(), 'px-ev-' || n
  FROM generate_series(1, 4) n;
SELECT portal.release_report(('00000000-0000-4000-9000-00000000000' || n)::uuid, 'NPI-PX', NULL, 'px-rel', NULL)
  FROM generate_series(1, 4) n;

-- Proxies: a guardian of the child and the teen, a caregiver of the adult.
SELECT is(pg_temp.app_value($$SELECT portal.proxy_set_code('00000000-0000-4000-a000-000000000009', 'X', '1980-01-01', NULL, 's', 'h', 'operator', 'op', NULL, NULL)$$),
          '', 'a new code for a proxy who does not exist changes nothing');
SELECT pg_temp.app_value($$SELECT set_config('px.g', portal.proxy_set_code(NULL, 'Pat Guardian', '1980-02-02', NULL, 'PXSEL001', 'hash', 'operator', 'op', NULL, NULL)::text, false)$$);
SELECT pg_temp.app_value($$SELECT set_config('px.c', portal.proxy_set_code(NULL, 'Cam Caregiver', '1970-03-03', NULL, 'PXSEL002', 'hash', 'operator', 'op', NULL, NULL)::text, false)$$);
SELECT isnt(current_setting('px.g', true), '', 'portal_app creates a proxy through proxy_set_code');

SELECT is(pg_temp.app_value(format($$SELECT portal.proxy_grant(%L, NULL, 'PX-ADULT', NULL, 'caregiver', NULL, NULL, 'operator', 'op', NULL, NULL)$$, current_setting('px.c'))),
          'SQLSTATE PT422', 'a caregiver''s link needs an end');
SELECT is(pg_temp.app_value(format($$SELECT portal.proxy_grant(%L, NULL, 'PX-ADULT', NULL, 'guardian', NULL, NULL, 'operator', 'op', NULL, NULL)$$, current_setting('px.g'))),
          'SQLSTATE PT422', 'an adult cannot be given a guardian');
SELECT pg_temp.app_value(format($$SELECT portal.proxy_grant(%L, NULL, 'PX-CHILD', NULL, 'guardian', NULL, NULL, 'operator', 'op', NULL, NULL)$$, current_setting('px.g')));
SELECT pg_temp.app_value(format($$SELECT portal.proxy_grant(%L, NULL, 'PX-TEEN', NULL, 'guardian', NULL, NULL, 'operator', 'op', NULL, NULL)$$, current_setting('px.g')));
SELECT pg_temp.app_value(format($$SELECT set_config('px.cl', portal.proxy_grant(%L, NULL, 'PX-ADULT', NULL, 'caregiver', NULL, now() + interval '30 days', 'operator', 'op', NULL, NULL)::text, false)$$, current_setting('px.c')));

SELECT is(pg_temp.app_value(format($$SELECT string_agg(name || ':' || relation, ',') FROM portal.proxy_patients(%L)$$, current_setting('px.g'))),
          'Kid Small:guardian,Teen Age:guardian', 'the guardian acts for the child and the teen');
SELECT is(pg_temp.app_value(format($$SELECT findings FROM portal.proxy_report(%L, '00000000-0000-4000-9000-000000000001', 'px-r1', NULL)$$, current_setting('px.g'))),
          'PXFINDINGS', 'the guardian reads the child''s released report');
SELECT results_eq(
    format($$SELECT actor_role, actor_id, detail->>'patient_id' FROM portal.audit_log WHERE request_id = 'px-r1'$$),
    format($$VALUES ('proxy'::text, %L::text, '00000000-0000-4000-8000-000000000001'::text)$$, current_setting('px.g')),
    'the read is audited as the proxy, with the patient acted for');
SELECT is(pg_temp.app_value(format($$SELECT findings FROM portal.proxy_report(%L, '00000000-0000-4000-9000-000000000004', 'px-r4', NULL)$$, current_setting('px.g'))),
          '', 'no report of a patient the proxy has no link to');
SELECT is(pg_temp.app_value(format($$SELECT count(*) FROM portal.proxy_studies(%L, '00000000-0000-4000-8000-000000000004', NULL)$$, current_setting('px.g'))),
          '0', 'no study of a patient the proxy has no link to');
SELECT is((SELECT count(*) FROM portal.audit_log WHERE request_id = 'px-r4')::text, '0', 'a refused read is not audited');

-- The physician's mark: hidden from the teen's guardian, not from the young child's.
SELECT is(pg_temp.app_value($$SELECT portal.set_not_for_proxies('NPI-OTHER', '00000000-0000-4000-9000-000000000002', true, 'px-m', NULL)$$),
          'SQLSTATE PT404', 'another physician cannot mark the study');
SELECT pg_temp.app_value($$SELECT portal.set_not_for_proxies('NPI-PX', '00000000-0000-4000-9000-000000000002', true, 'px-m', NULL)$$);
SELECT pg_temp.app_value($$SELECT portal.set_not_for_proxies('NPI-PX', '00000000-0000-4000-9000-000000000001', true, 'px-m', NULL)$$);
SELECT is(pg_temp.app_value(format($$SELECT findings FROM portal.proxy_report(%L, '00000000-0000-4000-9000-000000000002', 'px-r2', NULL)$$, current_setting('px.g'))),
          '', 'a report marked not for proxies is hidden from the guardian of a 14-year-old');
SELECT is(pg_temp.app_value(format($$SELECT findings FROM portal.proxy_report(%L, '00000000-0000-4000-9000-000000000001', 'px-r1b', NULL)$$, current_setting('px.g'))),
          'PXFINDINGS', 'below the confidentiality age the guardian still reads a marked report');
SELECT is(pg_temp.app_value(format($$
    SELECT (SELECT row(s.stage, s.released_version, s.final_at, s.exam_completed_at, s.reviewable_version, s.ordered_at)::text
              FROM portal.proxy_studies(%L, NULL, '00000000-0000-4000-9000-000000000002') s)
        = (SELECT row(s.stage, s.released_version, s.final_at, s.exam_completed_at, s.reviewable_version, s.ordered_at)::text
              FROM portal.studies s WHERE s.id = '00000000-0000-4000-9000-000000000005')$$, current_setting('px.g'))),
          'true', 'the hidden study reads exactly as the teen''s study that is only ordered');
SELECT is(pg_temp.app_value($$SELECT count(*) FROM portal.proxy_report(NULL, '00000000-0000-4000-9000-000000000001', 'px-n', NULL)$$),
          '0', 'no proxy, no report');

-- The caregiver: renewed, then the link ends and every read stops.
SELECT is(pg_temp.app_value(format($$SELECT findings FROM portal.proxy_report(%L, '00000000-0000-4000-9000-000000000003', 'px-r3', NULL)$$, current_setting('px.c'))),
          'PXFINDINGS', 'the caregiver reads the adult''s report');
SELECT is(pg_temp.app_value(format($$SELECT findings FROM portal.proxy_report(%L, '00000000-0000-4000-9000-000000000002', 'px-r3x', NULL)$$, current_setting('px.c'))),
          '', 'a caregiver reads nothing of another patient');
SELECT is(pg_temp.app_value(format($$SELECT portal.proxy_renew(%L, now() - interval '1 day', 'operator', 'op', NULL, NULL)$$, current_setting('px.cl'))),
          'SQLSTATE PT422', 'a renewal must end in the future');
UPDATE portal.proxy_links SET starts_at = now() - interval '60 days', ends_at = now() - interval '1 second'
 WHERE id = current_setting('px.cl')::uuid;
SELECT is(pg_temp.app_value(format($$SELECT count(*) FROM portal.proxy_report(%L, '00000000-0000-4000-9000-000000000003', 'px-r3e', NULL)$$, current_setting('px.c'))),
          '0', 'an expired caregiver''s link reads nothing');
SELECT is(pg_temp.app_value(format($$SELECT portal.proxy_renew(%L, now() + interval '30 days', 'operator', 'op', NULL, NULL)$$, current_setting('px.cl'))),
          'true', 'an operator renews the link');
SELECT is(pg_temp.app_value(format($$SELECT portal.proxy_end(%L, '00000000-0000-4000-8000-000000000004', 'patient', 'x', 'px-e', NULL)$$, current_setting('px.cl'))),
          'SQLSTATE PT404', 'another patient cannot end the link');
SELECT is(pg_temp.app_value(format($$SELECT portal.proxy_end(%L, '00000000-0000-4000-8000-000000000003', 'patient', '00000000-0000-4000-8000-000000000003', 'px-e', NULL)$$, current_setting('px.cl'))),
          'true', 'the adult patient ends the caregiver''s link');
SELECT is(pg_temp.app_value(format($$SELECT count(*) FROM portal.proxy_studies(%L, '00000000-0000-4000-8000-000000000003', NULL)$$, current_setting('px.c'))),
          '0', 'an ended link shows nothing');

-- Guardianship ends at the age of majority.
UPDATE portal.proxy_settings SET majority_age = 14;
SELECT is(pg_temp.app_value(format($$SELECT count(*) FROM portal.proxy_studies(%L, '00000000-0000-4000-8000-000000000002', NULL)$$, current_setting('px.g'))),
          '0', 'a guardian sees nothing once the patient is of age');
UPDATE portal.proxy_settings SET majority_age = 18;

-- The access log: only this patient's rows, the reads by the proxy named.
SELECT is(pg_temp.app_value($$SELECT string_agg(DISTINCT accession, ',') FROM portal.patient_access_log('00000000-0000-4000-8000-000000000001', NULL, 100)$$),
          'PX-ACC-1', 'the child''s access log holds only the child''s study');
SELECT is(pg_temp.app_value($$SELECT string_agg(action || ':' || actor_kind || ':' || actor, ',' ORDER BY id) FROM portal.patient_access_log('00000000-0000-4000-8000-000000000003', NULL, 100)$$),
          'released:physician:Dr Proxy Test,viewed:proxy:Cam Caregiver',
          'the adult''s log: the release by name and the caregiver''s read by name');
SELECT is(pg_temp.app_value(format($$SELECT count(*) FROM portal.proxy_access_log(%L, '00000000-0000-4000-8000-000000000001', NULL, 100)$$, current_setting('px.g'))),
          '3', 'the guardian of a young child reads the child''s access log');
SELECT is(pg_temp.app_value(format($$SELECT count(*) FROM portal.proxy_access_log(%L, '00000000-0000-4000-8000-000000000002', NULL, 100)$$, current_setting('px.g'))),
          'SQLSTATE PT404', 'the guardian of a 14-year-old does not');
SELECT is(pg_temp.app_value($$SELECT count(*) FROM portal.audit_log$$),
          'SQLSTATE 42501', 'portal_app still cannot read the audit log itself');

-- Released-report messages go to the proxies who may see the report, and are checked again when
-- sent: a link ended since cancels the message ('not_permitted').
UPDATE portal.proxies SET email = 'guardian@example.org' WHERE id = current_setting('px.g')::uuid;
INSERT INTO portal.studies (id, accession, patient_id, referring_physician_id, modality, description,
                            ordered_at, final_at, latest_version, reviewable_version)
SELECT ('00000000-0000-4000-9000-00000000000' || n)::uuid, 'PX-ACC-' || n,
       ('00000000-0000-4000-8000-00000000000' || p)::uuid, 'NPI-PX', 'MR', 'MR knee',
       '2026-11-01T08:00Z', '2026-11-03T08:00Z', 1, 1
  FROM (VALUES (6, 1), (7, 2), (8, 2)) v(n, p);
INSERT INTO portal.report_versions (study_id, version, status, findings, impression, radiologist_name, signed_at, event_id)
SELECT ('00000000-0000-4000-9000-00000000000' || n)::uuid, 1, 'final', 'PXF', 'PXI', 'Dr R', now(), 'px-ev-' || n
  FROM generate_series(6, 8) n;
SELECT portal.set_not_for_proxies('NPI-PX', '00000000-0000-4000-9000-000000000007', true, 'px-m7', NULL);
SELECT portal.release_report(('00000000-0000-4000-9000-00000000000' || n)::uuid, 'NPI-PX', NULL, 'px-rel2', NULL)
  FROM generate_series(6, 8) n;
SELECT is((SELECT string_agg(s.accession, ',' ORDER BY s.accession) FROM portal.notifications n
             JOIN portal.studies s ON s.id = n.study_id WHERE n.proxy_id = current_setting('px.g')::uuid),
          'PX-ACC-6,PX-ACC-8', 'the guardian is told of both releases they may see, not of the marked one');
SELECT portal.proxy_end(l.id, NULL, 'operator', 'op', 'px-end', NULL) FROM portal.proxy_links l
 WHERE l.proxy_id = current_setting('px.g')::uuid AND l.patient_id = '00000000-0000-4000-8000-000000000001';
SELECT results_eq(
    $$SELECT audience, address FROM portal.notify_claim('email', 100, 60, 'px', now(), NULL, NULL, 'UTC', 0)
       WHERE audience = 'proxy'$$,
    $$VALUES ('proxy'::text, 'guardian@example.org'::text)$$,
    'the message the guardian may still see is sent to the guardian''s address');
SELECT is((SELECT n.state || ':' || n.failure FROM portal.notifications n
            WHERE n.proxy_id = current_setting('px.g')::uuid
              AND n.study_id = '00000000-0000-4000-9000-000000000006'),
          'cancelled:not_permitted', 'the message about the child, whose link has ended since, is not sent');

-- The staff console (issue 17): the same functions, the patient by id, audited as the staff member
-- with the request id; a patient who does not exist is PT404 and leaves nothing.
SELECT is(pg_temp.app_value(format($$SELECT portal.proxy_grant(%L, '00000000-0000-4000-8000-0000000000ff', NULL, NULL, 'caregiver', NULL, now() + interval '3 days', 'staff', 'desk-7', 'rq-ghost', NULL)$$, current_setting('px.c'))),
          'SQLSTATE PT404', 'a link to a patient who does not exist is refused (404)');
SELECT pg_temp.app_value(format($$SELECT set_config('px.sl', portal.proxy_grant(%L, '00000000-0000-4000-8000-000000000004', NULL, NULL, 'caregiver', now() - interval '1 hour', now() + interval '3 days', 'staff', 'desk-7', 'rq-grant', '192.0.2.7')::text, false)$$, current_setting('px.c')));
SELECT results_eq(
    $$SELECT actor_role, actor_id, request_id, client_addr::text, (detail->>'patient_id')
        FROM portal.audit_log WHERE action = 'proxy.grant' AND actor_id = 'desk-7'$$,
    $$VALUES ('staff'::text, 'desk-7'::text, 'rq-grant'::text, '192.0.2.7'::text, '00000000-0000-4000-8000-000000000004'::text)$$,
    'a staff member''s grant is audited as them, with the request id, once (the refused one left no row)');
SELECT is(pg_temp.app_value(format($$SELECT portal.proxy_renew(%L, now() + interval '9 days', 'staff', 'desk-7', 'rq-renew', NULL)::text$$, current_setting('px.sl'))),
          'true', 'staff renew a link');
SELECT ok((SELECT detail ? 'before' AND detail ? 'after' AND request_id = 'rq-renew' AND actor_role = 'staff'
             FROM portal.audit_log WHERE action = 'proxy.renew' AND actor_id = 'desk-7'),
          'the renewal is audited as the staff member with the end before and after');
SELECT is(pg_temp.app_value($$SELECT string_agg(proxy_name || ':' || kind || ':' || active || ':' || granted_by, ',')
                                FROM portal.staff_proxy_links('00000000-0000-4000-8000-000000000004')$$),
          'Cam Caregiver:caregiver:true:desk-7', 'staff read the patient''s links through staff_proxy_links');
SELECT is(pg_temp.app_value($$SELECT count(*)::text FROM portal.proxy_links$$),
          'SQLSTATE 42501', 'portal_app still cannot read the links table directly');

SELECT * FROM finish();
ROLLBACK;
