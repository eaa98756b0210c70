-- The estimates kept per study (portal.study_estimates, sql/definitions/54_study_estimates.sql):
-- what a row holds is what portal.estimate_lookup answers at every moment of the row's validity,
-- and not after it; the page's read (portal.study_estimate) uses the row only while it is valid
-- and the live lookup otherwise; a new study, a stage change, a release, a cancellation and a
-- refresh of the model keep the rows current; portal_app reads them and may only ask the batch.
-- Run as a superuser; everything is rolled back.
BEGIN;
SELECT plan(33);
\ir include/app_helpers.psql

INSERT INTO portal.physicians (id, name) VALUES ('SE-NPI', 'Dr. Kept');
INSERT INTO portal.patients (mrn, name, birth_date) VALUES ('SE-MRN', 'Kept Patient', '1980-01-01');

\set fx SE
\ir include/even_history.psql
SELECT ok(portal.refresh_estimates(interval '90 days') > 0, 'a model from the history');
-- now() does not move inside this transaction, so a later refresh would record the same
-- refreshed_at; the tests that refresh again set it apart as a refresh in another transaction would.

-- Their rows were written by the insert trigger.
\ir include/studies_in_flight.psql
CREATE TEMP VIEW live AS SELECT * FROM portal.studies WHERE accession LIKE 'SE-LIVE-%';

SELECT is((SELECT count(*) FROM portal.study_estimates k JOIN live s ON s.id = k.study_id),
          (SELECT count(*) * 3 / 2 FROM live),
          'a new study has a row per milestone ahead of it (two in reading, one in review)');
SELECT is_empty(
    $$SELECT FROM portal.study_estimates k JOIN live s ON s.id = k.study_id
       WHERE k.model_at <> (SELECT refreshed_at FROM portal.estimates_state) OR k.valid_from <> now()$$,
    'the rows are of the current model, from now');

-- The rows as of now, and the lookup's answers at moments after now: at five moments spread over
-- each row's validity, and a second after its end (the clock crossed a rung or the clamp).
CREATE TEMP TABLE kept AS
SELECT r.*, s.stage FROM portal.studies s
 CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
 CROSS JOIN LATERAL portal.study_estimate_row(s, m.milestone, now()) r
 WHERE s.accession LIKE 'SE-LIVE-%';
CREATE FUNCTION pg_temp.same(k kept, t timestamptz) RETURNS boolean LANGUAGE sql AS $$
    SELECT (SELECT ROW(e.modality, e.priority, e.site, e.week_part, e.level, e.sample_size,
                       e.p50_at, e.p90_at, e.enough, e.elapsed_s, e.window_days)
              FROM portal.studies s
              LEFT JOIN LATERAL portal.estimate_lookup(s, k.milestone, t) e ON true
             WHERE s.id = k.study_id)
           IS NOT DISTINCT FROM
           ROW(k.modality, k.priority, k.site, k.week_part, k.level, k.sample_size, k.p50_at,
               k.p90_at, k.enough, k.elapsed_s, k.window_days)
$$;

CREATE FUNCTION pg_temp.same(k portal.study_estimates, t timestamptz) RETURNS boolean LANGUAGE sql AS $$
    SELECT pg_temp.same(ROW(k.*, NULL::text)::kept, t)
$$;

SELECT ok((SELECT count(*) FILTER (WHERE valid_until > valid_from) >= 100
                  AND count(*) FILTER (WHERE enough) >= 100
                  AND count(*) FILTER (WHERE valid_until <= valid_from) >= 10
                  AND count(*) FILTER (WHERE level IS NULL) >= 10 FROM kept),
          'the fixture covers valid rows, estimates with times, answers that move with the clock (past the usual time) and no answer');
SELECT is_empty(
    $$SELECT k.study_id, k.milestone, f FROM kept k
       CROSS JOIN (VALUES (0.0), (0.2), (0.5), (0.8), (0.999)) x (f)
       WHERE k.valid_until > k.valid_from
         AND NOT pg_temp.same(k, k.valid_from + least(k.valid_until - k.valid_from, interval '30 days') * x.f)$$,
    'inside its validity every row is what a live lookup answers (five moments each)');
SELECT ok((SELECT count(*) FROM kept k
            WHERE k.valid_until > k.valid_from AND k.valid_until < 'infinity'
              AND NOT pg_temp.same(k, k.valid_until + interval '2 seconds')) >= 50,
          'a second past its validity the live answer has moved on for most rows');
SELECT ok((SELECT count(*) FROM kept k
            WHERE k.enough AND k.valid_until > k.valid_from
              AND k.valid_until < k.recompute_at - interval '3 seconds'
              AND NOT pg_temp.same(k, k.valid_until + interval '2 seconds')) >= 5,
          'the clamp: once the usual time is passed, the answer follows the clock and the row ends there');
SELECT is_empty(
    $$SELECT FROM kept k WHERE k.valid_until < 'infinity' AND k.recompute_at <= k.valid_until$$,
    'a row is computed again only after its validity');
SELECT ok((SELECT count(*) FROM kept k
            WHERE k.valid_until <= k.valid_from AND k.recompute_at < 'infinity'
              AND NOT pg_temp.same(k, k.valid_from + interval '1 minute')) >= 10,
          'an answer that moves with the clock is never used (it has no validity)');

-- The page's read: the kept row while valid, else the live lookup; always the lookup's answer.
SELECT is_empty(
    $$SELECT s.id, m.milestone FROM portal.studies s CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
       WHERE s.accession LIKE 'SE-LIVE-%' AND (SELECT array_agg(e) FROM portal.study_estimate(s, m.milestone) e)
             IS DISTINCT FROM (SELECT array_agg(e) FROM portal.estimate_lookup(s, m.milestone) e)$$,
    'study_estimate answers exactly what estimate_lookup does, for every study and milestone');
SELECT id AS sid FROM live WHERE accession = 'SE-LIVE-r-0' \gset
UPDATE portal.study_estimates SET p50_at = '2001-01-01' WHERE study_id = :'sid' AND milestone = 'report_final';
SELECT is((SELECT p50_at FROM portal.studies s, portal.study_estimate(s, 'report_final') e WHERE s.id = :'sid'),
          '2001-01-01'::timestamptz, 'a valid row is read, not recomputed');
UPDATE portal.study_estimates SET valid_until = now(), recompute_at = now() WHERE study_id = :'sid' AND milestone = 'report_final';
SELECT is((SELECT p50_at FROM portal.studies s, portal.study_estimate(s, 'report_final') e WHERE s.id = :'sid'),
          (SELECT p50_at FROM portal.studies s, portal.estimate_lookup(s, 'report_final') e WHERE s.id = :'sid'),
          'a row past its validity is not read: the live lookup answers');
SELECT is(portal.refresh_study_estimates(1000), 1, 'the batch computes again the one row whose time is up');
SELECT ok((SELECT p50_at <> '2001-01-01' AND valid_until > now() FROM portal.study_estimates
            WHERE study_id = :'sid' AND milestone = 'report_final'), 'and it is valid again');

-- Computed ahead: before a row's time is up, the task keeps the row that follows it beside it,
-- valid from the moment the row would be computed again; then that moment only drops the old row.
-- now() does not move inside this transaction: "soon" is within the lead of now.
CREATE TEMP TABLE soon AS
SELECT k.study_id, k.milestone, k.valid_from, k.valid_until, k.recompute_at FROM portal.study_estimates k
  JOIN live s ON s.id = k.study_id
 WHERE k.recompute_at > now() AND k.recompute_at <= now() + portal.study_estimate_lead();
SELECT ok((SELECT count(*) FROM soon) >= 10, 'the fixture has rows whose time comes within the lead');
SELECT is(portal.prepare_study_estimates(100000), (SELECT count(*)::integer FROM soon),
          'the task computes ahead the successor of every row whose time comes within the lead');
SELECT is(portal.prepare_study_estimates(100000), 0, 'and not twice');
SELECT ok((SELECT count(*) FROM portal.study_estimates k
             JOIN soon o ON o.study_id = k.study_id AND o.milestone = k.milestone AND k.valid_from = o.recompute_at
            WHERE k.valid_until > k.valid_from AND k.enough) >= 5,
          'among the successors, estimates with times and a validity');
SELECT is_empty(
    $$SELECT FROM soon o
       WHERE NOT EXISTS (SELECT FROM portal.study_estimates k
                          WHERE k.study_id = o.study_id AND k.milestone = o.milestone
                            AND k.valid_from = o.recompute_at AND NOT k.successor_kept)
          OR NOT EXISTS (SELECT FROM portal.study_estimates k
                          WHERE k.study_id = o.study_id AND k.milestone = o.milestone
                            AND k.valid_from = o.valid_from AND k.successor_kept)$$,
    'each successor is valid from its predecessor''s recompute time, and the predecessor is marked');
SELECT is_empty(
    $$SELECT k.study_id, k.milestone, f FROM portal.study_estimates k
       JOIN soon o ON o.study_id = k.study_id AND o.milestone = k.milestone AND k.valid_from = o.recompute_at
       CROSS JOIN (VALUES (0.0), (0.5), (0.999)) x (f)
       WHERE k.valid_until > k.valid_from
         AND NOT pg_temp.same(k, k.valid_from + least(k.valid_until - k.valid_from, interval '30 days') * x.f)$$,
    'inside its validity every successor is what a live lookup answers then');
SELECT is_empty(
    $$SELECT s.id, m.milestone FROM portal.studies s CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
       WHERE s.accession LIKE 'SE-LIVE-%' AND (SELECT array_agg(e) FROM portal.study_estimate(s, m.milestone) e)
             IS DISTINCT FROM (SELECT array_agg(e) FROM portal.estimate_lookup(s, m.milestone) e)$$,
    'with successors kept, the page still answers exactly what estimate_lookup does now');
-- Two rows valid at once, which the batches never keep (a row ends before its successor starts):
-- the page still reads one, the newer. A row with times, so the two can be told apart (a group
-- with too few has a level but no times; which rows have times depends on the hour the suite runs).
SELECT study_id AS did, milestone AS dmilestone, valid_from AS dfrom FROM portal.study_estimates
 WHERE valid_from <= now() AND now() < valid_until AND level IS NOT NULL AND p50_at IS NOT NULL
 LIMIT 1 \gset
INSERT INTO portal.study_estimates
SELECT study_id, milestone, modality, priority, site, week_part, level, sample_size,
       '2003-03-03', p90_at, enough, elapsed_s, window_days, model_at, valid_from - interval '1 hour',
       valid_until, recompute_at, successor_kept
  FROM portal.study_estimates WHERE study_id = :'did' AND milestone = :'dmilestone' AND valid_from = :'dfrom';
SELECT results_eq(
    $$SELECT e.p50_at <> '2003-03-03' FROM portal.studies s, portal.study_estimate(s, '$$ || :'dmilestone' || $$') e
       WHERE s.id = '$$ || :'did' || $$'$$,
    $$VALUES (true)$$, 'two valid rows: the page reads one, the newer');
DELETE FROM portal.study_estimates WHERE study_id = :'did' AND milestone = :'dmilestone' AND p50_at = '2003-03-03';

-- Their time comes: the rows they follow are dropped, and the successors stay as computed.
SELECT study_id AS aid, milestone AS amilestone, recompute_at AS aat FROM soon LIMIT 1 \gset
UPDATE portal.study_estimates SET p50_at = '2002-02-02'
 WHERE study_id = :'aid' AND milestone = :'amilestone' AND valid_from = :'aat';
UPDATE portal.study_estimates k SET recompute_at = now() - interval '1 second',
       valid_until = least(k.valid_until, now() - interval '1 second')
  FROM soon o WHERE k.study_id = o.study_id AND k.milestone = o.milestone AND k.valid_from = o.valid_from;
SELECT is(portal.refresh_study_estimates(100000), (SELECT count(*)::integer FROM soon),
          'when their time comes, the rows that have a successor are dropped');
SELECT ok((SELECT count(*) = 1 AND bool_and(p50_at = '2002-02-02') FROM portal.study_estimates
            WHERE study_id = :'aid' AND milestone = :'amilestone'),
          'and the successor is kept as computed, not computed again');

-- Stage changes, in the writing transaction.
UPDATE portal.studies SET final_at = now(), reviewable_version = 1 WHERE id = :'sid';
SELECT results_eq(
    $$SELECT milestone, elapsed_s FROM portal.study_estimates WHERE study_id = '$$ || :'sid' || $$'$$,
    $$VALUES ('available'::text, 0)$$,
    'a final report: report_final is no longer ahead, available counts from the report');
UPDATE portal.studies SET released_version = 1, released_at = now() WHERE id = :'sid';
SELECT is((SELECT stage FROM portal.studies WHERE id = :'sid'), 'available', 'the study is released');
SELECT is_empty($$SELECT FROM portal.study_estimates WHERE study_id = '$$ || :'sid' || $$'$$,
                'a released study has no rows');
UPDATE portal.studies SET cancelled_at = now() WHERE accession = 'SE-LIVE-r-20';
SELECT is_empty($$SELECT FROM portal.study_estimates k JOIN portal.studies s ON s.id = k.study_id
                   WHERE s.accession = 'SE-LIVE-r-20'$$, 'a cancelled study has no rows');

-- A refresh of the model: every row is of the old model, the page falls back to the live lookup
-- until the batch has computed them again.
SELECT ok(portal.refresh_estimates(interval '30 days') > 0, 'a refresh (another window)');
UPDATE portal.estimates_state SET refreshed_at = clock_timestamp();
SELECT is_empty(
    $$SELECT s.id, m.milestone FROM portal.studies s CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
       WHERE s.accession LIKE 'SE-LIVE-%' AND (SELECT array_agg(e) FROM portal.study_estimate(s, m.milestone) e)
             IS DISTINCT FROM (SELECT array_agg(e) FROM portal.estimate_lookup(s, m.milestone) e)$$,
    'after a refresh the page still answers what the lookup does (window_days 30)');
SELECT ok(portal.refresh_study_estimates(100000) >= (SELECT count(*) FROM live WHERE stage NOT IN ('available', 'cancelled')),
          'the batch computes again every row of the old model');
SELECT is_empty(
    $$SELECT FROM portal.study_estimates k JOIN live s ON s.id = k.study_id
       WHERE k.model_at <> (SELECT refreshed_at FROM portal.estimates_state)
          OR k.window_days IS DISTINCT FROM CASE WHEN k.level IS NOT NULL THEN 30 END$$,
    'every row is of the new model');

-- portal_app: reads the rows and the page's function, may ask the batch, writes nothing.
SELECT ok(has_table_privilege('portal_app', 'portal.study_estimates', 'SELECT')
          AND NOT has_table_privilege('portal_app', 'portal.study_estimates', 'INSERT, UPDATE, DELETE, TRUNCATE')
          AND NOT has_function_privilege('portal_app', 'portal.refresh_study_estimate(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('portal_app', 'portal.fill_study_estimates()', 'EXECUTE')
          AND pg_temp.app_value($$(SELECT count(*) FROM portal.studies s, portal.study_estimate(s, 'available') e
                                   WHERE s.accession LIKE 'SE-LIVE-%')$$)::integer > 0
          AND pg_temp.app_sqlstate($$SELECT portal.refresh_study_estimates(10)$$) = '00000',
          'portal_app reads the rows and the page''s estimate, asks the batch, and writes nothing itself');

SELECT * FROM finish();
ROLLBACK;
