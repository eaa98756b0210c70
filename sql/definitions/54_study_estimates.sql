-- Stored estimates (issue 19): what portal.estimate_lookup (50_estimates.sql) answers for each
-- study in flight and milestone ahead of it, kept in portal.study_estimates
-- (sql/migrations/0019_study_estimates.sql) with the span of time in which a live lookup would
-- answer the same. The page statements read the row by primary key while it is valid
-- (portal.study_estimate) and run the live lookup only when it is not, so a page is never wrong,
-- only slower. Rows are written in the transaction that creates a study or changes what the
-- lookup reads of it (the triggers below), by the estimates task in bounded batches after a
-- refresh of the model and when a row's time is up (portal.refresh_study_estimates), ahead of
-- that time (portal.prepare_study_estimates: the row that follows, kept beside the one it
-- follows, so that no page waits for the task at an hour mark), and whole when this file is
-- applied (portal.fill_study_estimates).
--
-- The one place that knows when the lookup's answer moves is portal.estimate_valid_until: a
-- change to the model in 50_estimates.sql must be matched there.

-- Until when portal.estimate_lookup(s, p_milestone, t) returns, for every t from p_now on, what it
-- returned at p_now, given the p50_at it returned then (NULL when it returned no row or too few);
-- and when the answer is worth computing again. Each milestone's model (50_estimates.sql) moves
-- its answer at its own moments.
--
-- report_final, the clock model (portal.estimate_lookup_clock), only
--   - when the wait so far, on the study's clock, reaches the next rung of the ladder
--     (portal.estimate_bucket): another row of turnaround_estimates, perhaps another group;
--   - when the clamp greatest(anchor_c + p50_s, now_c + 60) starts to bind (p90_s >= p50_s, so
--     p50's binds first): from then on p50_at follows the clock, one minute ahead of it, until the
--     next rung. anchor_c + p50_s is read back from p50_at (clock_time inverts clock_at).
-- available, the snapshots (portal.estimate_lookup_hours: the hour mark + the cell's quantiles),
--   - at the next hour mark: another mark, and another hour of the week (taken in the session's
--     zone and in the site's, which differ by a fraction of an hour in a few zones);
--   - when the wait so far, in plain seconds, reaches the next rung of portal.estimate_wait_ladder
--     (a day, where the band fallback changes, is one of them);
--   - when the clamp greatest(now + 1 min, mark + p50_s) starts to bind: p50_at - 1 min.
-- For both, when the study changes (stage, anchor times, group: the triggers below) or the model
-- is refreshed (model_at, compared by the page; the calibration's stretch changes only with it,
-- and is taken from the rung's start and the hour mark, so it moves no answer in between).
-- Both moments are taken a second early (valid_until) and a second late (recompute_at), far more
-- than the rounding of the clock arithmetic. No clock for the study's group: the clock's lookup has
-- no row until the model changes.
CREATE OR REPLACE FUNCTION portal.estimate_valid_until(s portal.studies, p_milestone text,
                                                       p_now timestamptz, p_p50_at timestamptz)
RETURNS TABLE (valid_until timestamptz, recompute_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(least(v.rung_at, v.clamp_at) - interval '1 second', 'infinity'),
           coalesce(v.rung_at + interval '1 second', 'infinity')
      FROM (VALUES (1)) one
      LEFT JOIN LATERAL (
            SELECT portal.clock_at(a.anchor_c + (SELECT min(l.rung) FROM unnest(portal.estimate_ladder()) l (rung)
                                                  WHERE l.rung > a.rung), a.rate, a.cum, a.calendar) AS rung_at,
                   portal.clock_at(portal.clock_time(p_p50_at, a.rate, a.cum, a.calendar) - 60, a.rate, a.cum, a.calendar) AS clamp_at
              FROM (SELECT x.rate, x.cum, x.calendar, x.anchor_c, portal.estimate_bucket(x.now_c - x.anchor_c) AS rung
                      FROM (SELECT c.rate, c.cum, c.calendar, portal.clock_hours(h.anchor_h, c.rate, c.cum, c.calendar) AS anchor_c,
                                   portal.clock_hours(h.now_h, c.rate, c.cum, c.calendar) AS now_c
                              FROM portal.clock_for(p_milestone, s.modality, s.priority) c
                             CROSS JOIN (SELECT portal.week_hours(coalesce(portal.stage_anchor(s, s.stage), s.created_at)) AS anchor_h,
                                                portal.week_hours(p_now) AS now_h
                                         OFFSET 0) h) x) a
             WHERE p_milestone = 'report_final'
            UNION ALL
            SELECT least(date_trunc('hour', p_now) + interval '1 hour',
                         (date_trunc('hour', p_now AT TIME ZONE w.tz) + interval '1 hour') AT TIME ZONE w.tz,
                         w.anchor + make_interval(secs => (SELECT min(l.rung) FROM unnest(portal.estimate_wait_ladder()) l (rung)
                                                            WHERE l.rung > w.waited))),
                   p_p50_at - interval '1 minute'
              FROM (SELECT portal.site_time_zone() AS tz,
                           coalesce(portal.stage_anchor(s, s.stage), s.created_at) AS anchor,
                           extract(epoch FROM p_now - coalesce(portal.stage_anchor(s, s.stage), s.created_at)) AS waited) w
             WHERE p_milestone = 'available') v ON true
$$;

-- The row to keep for one study and milestone as of p_now: none when the milestone is not ahead.
CREATE OR REPLACE FUNCTION portal.study_estimate_row(s portal.studies, p_milestone text,
                                                     p_now timestamptz DEFAULT now())
RETURNS SETOF portal.study_estimates LANGUAGE sql STABLE AS $$
    SELECT s.id, p_milestone, e.modality, e.priority, e.site, e.week_part, e.level, e.sample_size,
           e.p50_at, e.p90_at, e.enough, e.elapsed_s, e.window_days,
           coalesce((SELECT st.refreshed_at FROM portal.estimates_state st), '-infinity'),
           p_now, v.valid_until, v.recompute_at, false
      FROM (VALUES (1)) one
      LEFT JOIN LATERAL portal.estimate_lookup(s, p_milestone, p_now) e ON true
     CROSS JOIN LATERAL portal.estimate_valid_until(s, p_milestone, p_now, e.p50_at) v
     WHERE portal.milestone_ahead(s.stage, p_milestone)
$$;

-- The live lookup for the page when no valid row is kept. PL/pgSQL, so that the page's plan holds
-- a call rather than the lookup inlined: the generic plan set up the lookup's clock expressions on
-- every execution even where they did not run (docs/performance.md, "A cold page"). ROWS 1: it
-- returns at most one row, and the planner's default guess for a set-returning function (1,000)
-- multiplied through a patient's list put its cost above jit_above_cost, so PostgreSQL compiled
-- the list's plan on every execution (0.9 s instead of 10 ms at 1,000,000 studies).
CREATE OR REPLACE FUNCTION portal.estimate_lookup_live(s portal.studies, p_milestone text)
RETURNS TABLE (modality text, priority text, site text, week_part text, level smallint,
               sample_size integer, p50_at timestamptz, p90_at timestamptz, enough boolean,
               elapsed_s integer, window_days integer)
LANGUAGE plpgsql STABLE ROWS 1 AS $$
BEGIN
    RETURN QUERY SELECT * FROM portal.estimate_lookup(s, p_milestone);
END $$;

-- What the page shows for a milestone: exactly what portal.estimate_lookup(s, p_milestone)
-- returns now (no row or one), from the kept row while it is valid (one primary-key read), else
-- from the live lookup. The live call sits under a one-time filter, so it runs only then.
CREATE OR REPLACE FUNCTION portal.study_estimate(s portal.studies, p_milestone text)
RETURNS TABLE (modality text, priority text, site text, week_part text, level smallint,
               sample_size integer, p50_at timestamptz, p90_at timestamptz, enough boolean,
               elapsed_s integer, window_days integer)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(k.modality, l.modality), coalesce(k.priority, l.priority),
           coalesce(k.site, l.site), coalesce(k.week_part, l.week_part),
           coalesce(k.level, l.level), coalesce(k.sample_size, l.sample_size),
           coalesce(k.p50_at, l.p50_at), coalesce(k.p90_at, l.p90_at),
           coalesce(k.enough, l.enough), coalesce(k.elapsed_s, l.elapsed_s),
           coalesce(k.window_days, l.window_days)
      FROM (VALUES (1)) one
      LEFT JOIN LATERAL (   -- at most one row is valid at a time; the newest, should two ever be
            SELECT k.* FROM portal.study_estimates k
             WHERE k.study_id = s.id AND k.milestone = p_milestone
               AND k.model_at = coalesce((SELECT st.refreshed_at FROM portal.estimates_state st), '-infinity')
               AND k.valid_from <= now() AND now() < k.valid_until
             ORDER BY k.valid_from DESC
             LIMIT 1) k ON true
      LEFT JOIN LATERAL (SELECT f.* FROM portal.estimate_lookup_live(s, p_milestone) f
                          WHERE k.study_id IS NULL AND portal.milestone_ahead(s.stage, p_milestone)
                         OFFSET 0) l   -- kept apart, so the test is a one-time filter, not a join filter
             ON true
     WHERE k.level IS NOT NULL OR l.level IS NOT NULL
$$;

-- One study's rows, computed anew. The rows are locked before they are computed, and computed by
-- a statement that starts after the lock, so a batch of the estimates task and a writer never
-- write back what they saw before the other's change (as portal.refresh_study_page_state). A
-- study that has no milestone ahead (a release, a cancellation) only loses its rows. The insert's
-- plan (the lookup and its validity inlined) takes 10-80 ms to make: one generic plan per
-- connection, rather than a custom plan for each of the first five calls, which after a database
-- restart held every connection's first releases and stage changes back by a second.
CREATE OR REPLACE FUNCTION portal.refresh_study_estimate(p_study uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM FROM portal.study_estimates e WHERE e.study_id = p_study FOR UPDATE;
    DELETE FROM portal.study_estimates e WHERE e.study_id = p_study;
    IF NOT EXISTS (SELECT FROM portal.studies s WHERE s.id = p_study
                      AND s.stage NOT IN ('available', 'cancelled')) THEN
        RETURN;
    END IF;
    INSERT INTO portal.study_estimates
    SELECT r.* FROM portal.studies s
     CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
     CROSS JOIN LATERAL portal.study_estimate_row(s, m.milestone) r
     WHERE s.id = p_study;
END $$;

-- The estimates task's two batches below work study by study: each first locks the studies it
-- takes (FOR NO KEY UPDATE SKIP LOCKED), then reads and writes their rows in later statements.
-- A writer that changes a study holds its row until it commits, and its trigger replaces all of the
-- study's rows (portal.refresh_study_estimate); another instance's batch holds the studies it took.
-- So a batch skips the studies someone else is working on, never decides from rows that are about
-- to change under it, and never computes from a study as it was before a change it cannot see.

-- Up to about p_limit rows whose time is up or whose model is not the current one, dropped, and
-- for each study and milestone left without a row, the row computed anew. A row whose successor
-- was computed ahead is only dropped: the successor is valid from now on. Returns how many rows
-- were dropped; the estimates task calls it until fewer than p_limit come back.
CREATE OR REPLACE FUNCTION portal.refresh_study_estimates(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_model timestamptz := coalesce((SELECT st.refreshed_at FROM portal.estimates_state st), '-infinity');
    v_studies uuid[];
    v_dropped integer;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000 THEN
        RAISE EXCEPTION 'limit: must be from 1 to 100000' USING ERRCODE = 'PT422';
    END IF;
    SELECT array_agg(s.id) INTO v_studies
      FROM (SELECT s.id FROM portal.studies s
             WHERE s.id IN (SELECT e.study_id FROM portal.study_estimates e
                             WHERE e.recompute_at <= now() OR e.model_at < v_model
                             LIMIT p_limit)
               FOR NO KEY UPDATE SKIP LOCKED) s;
    IF v_studies IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM portal.study_estimates e
     WHERE e.study_id = ANY (v_studies) AND (e.recompute_at <= now() OR e.model_at < v_model);
    GET DIAGNOSTICS v_dropped = ROW_COUNT;
    INSERT INTO portal.study_estimates
    SELECT r.* FROM portal.studies s
     CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
     CROSS JOIN LATERAL portal.study_estimate_row(s, m.milestone) r
     WHERE s.id = ANY (v_studies)
       AND NOT EXISTS (SELECT FROM portal.study_estimates e
                        WHERE e.study_id = s.id AND e.milestone = m.milestone);
    RETURN v_dropped;
END $$;

-- How long before a kept row's time is up the estimates task computes the row that follows it.
-- The task's rounds come about 300 s apart plus their own length (server/estimates.c), so eight or
-- more fall in this span, each with up to 30 s for the kept estimates; the longer it is, the more
-- rows computed ahead a change of stage makes useless.
CREATE OR REPLACE FUNCTION portal.study_estimate_lead() RETURNS interval LANGUAGE sql IMMUTABLE AS $$
    SELECT interval '45 minutes'
$$;

-- Up to p_limit rows of the current model, in force now (not a successor itself), whose time
-- comes within portal.study_estimate_lead() and whose successor is not kept yet, soonest first:
-- the successor (what the lookup answers from the moment the row would be computed again, valid
-- from then), kept beside it. The row is marked, so that it is not taken again; when its time
-- comes, portal.refresh_study_estimates only drops it. Returns how many rows were taken; the
-- estimates task calls it until fewer than p_limit come back.
CREATE OR REPLACE FUNCTION portal.prepare_study_estimates(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_model timestamptz := coalesce((SELECT st.refreshed_at FROM portal.estimates_state st), '-infinity');
    v_studies uuid[];
    v_n integer;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000 THEN
        RAISE EXCEPTION 'limit: must be from 1 to 100000' USING ERRCODE = 'PT422';
    END IF;
    SELECT array_agg(s.id) INTO v_studies
      FROM (SELECT s.id FROM portal.studies s
             WHERE s.id IN (SELECT e.study_id FROM portal.study_estimates e
                             WHERE NOT e.successor_kept AND e.model_at = v_model AND e.valid_from <= now()
                               AND e.recompute_at > now() AND e.recompute_at <= now() + portal.study_estimate_lead()
                             ORDER BY e.recompute_at
                             LIMIT p_limit)
               FOR NO KEY UPDATE SKIP LOCKED) s;
    IF v_studies IS NULL THEN
        RETURN 0;
    END IF;
    WITH marked AS (
        UPDATE portal.study_estimates e SET successor_kept = true
         WHERE e.study_id = ANY (v_studies) AND NOT e.successor_kept AND e.model_at = v_model
           AND e.valid_from <= now()
           AND e.recompute_at > now() AND e.recompute_at <= now() + portal.study_estimate_lead()
        RETURNING e.study_id, e.milestone, e.recompute_at),
    kept AS (
        INSERT INTO portal.study_estimates
        SELECT r.* FROM marked k
          JOIN portal.studies s ON s.id = k.study_id
         CROSS JOIN LATERAL portal.study_estimate_row(s, k.milestone, k.recompute_at) r
        ON CONFLICT DO NOTHING)
    SELECT count(*) INTO v_n FROM marked;
    RETURN v_n;
END $$;

-- Every study's rows, computed anew (when this file is applied, and by tests/bench/seed.sql).
-- Writers of single studies wait meanwhile.
CREATE OR REPLACE FUNCTION portal.fill_study_estimates() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rows bigint;
BEGIN
    LOCK TABLE portal.study_estimates IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM portal.study_estimates;
    INSERT INTO portal.study_estimates
    SELECT r.* FROM portal.studies s
     CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
     CROSS JOIN LATERAL portal.study_estimate_row(s, m.milestone) r
     WHERE s.stage NOT IN ('available', 'cancelled');
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END $$;

CREATE OR REPLACE FUNCTION portal.study_estimates_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM portal.refresh_study_estimate(NEW.id);
    RETURN NULL;
END $$;

-- What the lookup reads of a study: its stage, the times its stage's anchor comes from, its group.
CREATE OR REPLACE TRIGGER study_estimates_insert AFTER INSERT ON portal.studies
    FOR EACH ROW EXECUTE FUNCTION portal.study_estimates_changed();
CREATE OR REPLACE TRIGGER study_estimates_update AFTER UPDATE ON portal.studies
    FOR EACH ROW WHEN ((OLD.stage, OLD.modality, OLD.priority, OLD.site, OLD.ordered_at,
                        OLD.scheduled_at, OLD.scheduled_for, OLD.arrived_at, OLD.exam_started_at,
                        OLD.exam_completed_at, OLD.read_started_at, OLD.preliminary_at,
                        OLD.final_at, OLD.created_at)
                       IS DISTINCT FROM (NEW.stage, NEW.modality, NEW.priority, NEW.site,
                                         NEW.ordered_at, NEW.scheduled_at, NEW.scheduled_for,
                                         NEW.arrived_at, NEW.exam_started_at,
                                         NEW.exam_completed_at, NEW.read_started_at,
                                         NEW.preliminary_at, NEW.final_at, NEW.created_at))
    EXECUTE FUNCTION portal.study_estimates_changed();

-- Fills the rows of a database migrated to 0019, and brings every row to this file's definition.
SELECT portal.fill_study_estimates();
