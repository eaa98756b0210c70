-- Turnaround estimates (issue 4): the site's own history, reduced to conditional quantiles in a
-- small table that a request reads by index and never recomputes. docs/estimates.md explains the
-- model; portal.refresh_estimates rebuilds the table, portal.estimate_lookup reads it for one
-- study, portal.backtest replays the past to show how well the numbers held. The table
-- (portal.turnaround_estimates, with portal.estimates_state) is in sql/migrations/0003_estimates.sql,
-- with what its columns mean.

-- The report's samples are entry cohorts now (portal.estimate_cohort), and which group answers
-- depends on whether its p90 was seen (portal.estimate_preference's third argument).
DROP FUNCTION IF EXISTS portal.estimate_samples(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS portal.estimate_preference(integer, integer);
-- It returns each sample's time in the milestone's queue now.
DROP FUNCTION IF EXISTS portal.estimate_cohort(timestamptz, timestamptz);
-- The lookups took no p_stretched before the fourteenth pass of issue 18; the old signatures
-- beside the new ones would make every call ambiguous.
DROP FUNCTION IF EXISTS portal.estimate_lookup_clock(portal.studies, text, timestamptz);
DROP FUNCTION IF EXISTS portal.estimate_lookup_hours(portal.studies, text, timestamptz);
DROP FUNCTION IF EXISTS portal.estimate_lookup(portal.studies, text, timestamptz);

-- ---------------------------------------------------------------------------------------------
-- Constants, each in one place.
-- ---------------------------------------------------------------------------------------------

-- A group with fewer durations than this is not trusted: the next broader group is used, and
-- when even the broadest has too few the patient is told so instead of a guess.
CREATE OR REPLACE FUNCTION portal.estimate_min_samples() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 30';

-- How fast an older study's weight fades in the report's quantiles (issue 18, seventh pass): a
-- study that entered its stage this many days before the model counts half as much as one that
-- entered it today. A site whose pace changed (its volume doubled, its queue grew) is answered
-- from its recent weeks, while the window still gives the long waits and the thin groups their
-- history; on a steady site the answer is the same, from fewer effective samples.
CREATE OR REPLACE FUNCTION portal.estimate_half_life_days() RETURNS double precision LANGUAGE sql IMMUTABLE AS 'SELECT 7.0';

-- The site's time zone, the wall clock of the clocks' hours of the week and of closed days:
-- portal.site_timezone, which portald sets in each session from PORTAL_TIME_ZONE; UTC when unset.
CREATE OR REPLACE FUNCTION portal.site_time_zone() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('portal.site_timezone', true), ''), 'UTC')
$$;

-- The span the queue's trend compares (portal.estimate_rows): the median wait in the milestone's
-- queue of the studies that entered it in the last this many days against the span before, held
-- against the steps between the earlier spans of the window.
CREATE OR REPLACE FUNCTION portal.estimate_trend_days() RETURNS double precision LANGUAGE sql IMMUTABLE AS 'SELECT 14.0';

-- The stage whose wait is a milestone's queue: the wait for the read for the report, the
-- physician's review for the release.
CREATE OR REPLACE FUNCTION portal.queue_stage(p_milestone text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_milestone WHEN 'report_final' THEN 'awaiting_read' WHEN 'available' THEN 'physician_review' END
$$;

-- The elapsed-time ladder (seconds spent in the stage) for which conditional quantiles are kept:
-- a study that has waited t is estimated from the past studies that waited longer than the
-- highest rung at or below t.
CREATE OR REPLACE FUNCTION portal.estimate_ladder() RETURNS integer[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[0, 900, 1800, 3600, 5400, 7200, 10800, 14400, 21600, 28800, 43200, 64800,
                 86400, 129600, 172800, 259200, 345600, 432000, 604800, 864000, 1209600,
                 1814400, 2419200]
$$;

-- The highest rung at or below p_elapsed_s (0 below the first rung or when unknown). One
-- expression without FROM, so the planner inlines it into the lookup instead of planning a query
-- for it on every execution.
CREATE OR REPLACE FUNCTION portal.estimate_bucket(p_elapsed_s double precision) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((portal.estimate_ladder())
                        [width_bucket(p_elapsed_s, portal.estimate_ladder()::double precision[])], 0)
$$;

-- The hour of the week in the site's time zone: 0 is Monday 00:00-01:00, 167 Sunday 23:00-24:00.
CREATE OR REPLACE FUNCTION portal.hour_of_week(p_at timestamptz) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT (to_char(p_at AT TIME ZONE portal.site_time_zone(),
                    'ID')::integer - 1) * 24
           + extract(hour FROM p_at AT TIME ZONE portal.site_time_zone())::integer
$$;

-- The hour of the week the models take p_at for: portal.hour_of_week, except that on a day the
-- site is closed (portal.site_closed_days) every hour is its Sunday's (156 for 12:00-13:00). A
-- set-returning SQL function with one primary-key probe, so the planner inlines it into the lookup.
DROP FUNCTION IF EXISTS portal.model_hour_of_week(timestamptz);
CREATE OR REPLACE FUNCTION portal.model_hour(p_at timestamptz) RETURNS TABLE (how integer)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN cd.day IS NOT NULL THEN 144 + mod(portal.hour_of_week(p_at), 24)
                ELSE portal.hour_of_week(p_at) END
      FROM (VALUES (1)) one
      LEFT JOIN portal.site_closed_days cd
        ON cd.day = (p_at AT TIME ZONE portal.site_time_zone())::date
$$;

-- ---------------------------------------------------------------------------------------------
-- Stages as spans of time, from the lifecycle columns.
-- ---------------------------------------------------------------------------------------------

-- The position of a stage in the lifecycle, and the stages whose milestone has not passed.
CREATE OR REPLACE FUNCTION portal.stage_order(p_stage text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT array_position(ARRAY['ordered', 'scheduled', 'checked_in', 'imaging', 'awaiting_read',
                                'reading', 'physician_review', 'available'], p_stage)
$$;

-- Whether a milestone is still ahead of a study in this stage. report_final is passed once the
-- study is in physician_review; available is the end. Cancelled and available studies have none.
CREATE OR REPLACE FUNCTION portal.milestone_ahead(p_stage text, p_milestone text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_milestone
               WHEN 'report_final' THEN portal.stage_order(p_stage) BETWEEN 1 AND 6
               WHEN 'available' THEN portal.stage_order(p_stage) BETWEEN 1 AND 7
               ELSE false END
$$;

-- The time an estimate for this stage counts from. For a booked exam that is the appointment,
-- not the booking: how long a report takes depends on when the exam happens.
CREATE OR REPLACE FUNCTION portal.stage_anchor(s portal.studies, p_stage text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_stage
               WHEN 'ordered' THEN s.ordered_at
               WHEN 'scheduled' THEN coalesce(s.scheduled_for, s.scheduled_at)
               WHEN 'checked_in' THEN s.arrived_at
               WHEN 'imaging' THEN s.exam_started_at
               WHEN 'awaiting_read' THEN s.exam_completed_at
               WHEN 'reading' THEN least(s.read_started_at, s.preliminary_at)
               WHEN 'physician_review' THEN s.final_at
           END
$$;

-- Every stage a study went through: when it was reached, the anchor its estimate counts from,
-- and when the study left it (the first later stage reached). Stages skipped (a walk-in X-ray is
-- never booked) or reached out of order (a late event) have no span.
CREATE OR REPLACE FUNCTION portal.study_stage_spans(s portal.studies)
RETURNS TABLE (stage text, ord integer, reached_at timestamptz, anchor_at timestamptz,
               left_at timestamptz)
LANGUAGE sql IMMUTABLE AS $$
    SELECT m.stage, m.ord, m.reached_at, portal.stage_anchor(s, m.stage), m.left_at
      FROM (VALUES
            (1, 'ordered', s.ordered_at,
             least(s.scheduled_at, s.arrived_at, s.exam_started_at, s.exam_completed_at,
                   s.read_started_at, s.preliminary_at, s.final_at, s.released_at)),
            (2, 'scheduled', s.scheduled_at,
             least(s.arrived_at, s.exam_started_at, s.exam_completed_at, s.read_started_at,
                   s.preliminary_at, s.final_at, s.released_at)),
            (3, 'checked_in', s.arrived_at,
             least(s.exam_started_at, s.exam_completed_at, s.read_started_at, s.preliminary_at,
                   s.final_at, s.released_at)),
            (4, 'imaging', s.exam_started_at,
             least(s.exam_completed_at, s.read_started_at, s.preliminary_at, s.final_at,
                   s.released_at)),
            (5, 'awaiting_read', s.exam_completed_at,
             least(s.read_started_at, s.preliminary_at, s.final_at, s.released_at)),
            (6, 'reading', least(s.read_started_at, s.preliminary_at),
             least(s.final_at, s.released_at)),
            (7, 'physician_review', s.final_at, s.released_at)) m (ord, stage, reached_at, left_at)
     WHERE m.reached_at IS NOT NULL AND m.reached_at <= coalesce(m.left_at, 'infinity')
$$;

-- The waits history holds (issue 18, seventh pass): every stage a study entered in [p_from, p_to)
-- (its anchor in that span), for each milestone ahead of it, the time from the anchor to the
-- milestone (duration_s, with reached = true) or, when the milestone had not come by p_to, the
-- wait until p_to (reached = false: censored, it took at least that long), and the time spent in
-- the stage (stay_s; for a study still in it at p_to, its stay so far), and when its duration
-- took it through the milestone's queue (portal.queue_stage), when it entered and left it
-- (queue_from, NULL for a stage after the queue or a study not in it by p_to; queue_to, p_to for
-- one still in it). Taking the studies by when
-- they entered, with the ones still waiting, follows the studies asking now: selecting by when the
-- milestone came (as before this pass) answers from studies that entered weeks ago, which on a
-- site whose queue grew were the faster ones. No time after p_to is read, so the backtest's past
-- models see their past (but for a booked study rebooked since, whose appointment is the latest).
CREATE OR REPLACE FUNCTION portal.estimate_cohort(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (modality text, priority text, site text, stage text, milestone text,
               anchor_at timestamptz, stay_s double precision, duration_s double precision,
               reached boolean, queue_from timestamptz, queue_to timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT st.modality, st.priority, st.site, sp.stage, m.milestone, sp.anchor_at,
           extract(epoch FROM least(coalesce(sp.left_at, 'infinity'), p_to) - sp.anchor_at),
           extract(epoch FROM least(coalesce(m.at, 'infinity'), p_to) - sp.anchor_at),
           coalesce(m.at < p_to, false),
           CASE WHEN m.queue_from < p_to
                 AND portal.stage_order(sp.stage) <= portal.stage_order(portal.queue_stage(m.milestone))
                THEN m.queue_from END,
           least(coalesce(m.queue_to, 'infinity'), p_to)
      FROM portal.studies st
     CROSS JOIN LATERAL portal.study_stage_spans(st) sp
     CROSS JOIN LATERAL (VALUES ('report_final', st.final_at, st.exam_completed_at,
                                 least(st.read_started_at, st.preliminary_at, st.final_at, st.released_at)),
                                ('available', st.released_at, st.final_at, st.released_at)) m (milestone, at, queue_from, queue_to)
     WHERE (st.cancelled_at IS NULL OR st.cancelled_at >= p_to)   -- cancelled later: waiting then
       AND portal.milestone_ahead(sp.stage, m.milestone)
       AND sp.anchor_at >= p_from AND sp.anchor_at < p_to AND sp.reached_at < p_to
       AND (m.at IS NULL OR m.at >= sp.anchor_at)
$$;

-- ---------------------------------------------------------------------------------------------
-- The reading clock (issue 18): how fast waiting studies reach a milestone in each hour of the
-- week, so that a wait is measured in the site's working time, not in plain hours.
-- ---------------------------------------------------------------------------------------------

-- How much an hour of the week with little history leans on the broader clock: as many
-- study-hours at risk as this, at the broader clock's rate, are added to the hour's own.
CREATE OR REPLACE FUNCTION portal.estimate_clock_prior() RETURNS double precision LANGUAGE sql IMMUTABLE AS 'SELECT 20.0';

-- Hours since Monday 1970-01-05 00:00 on the site's wall clock (portal.site_timezone, UTC when
-- unset): the position of p_at in the week is this modulo 168.
CREATE OR REPLACE FUNCTION portal.week_hours(p_at timestamptz) RETURNS double precision
LANGUAGE sql STABLE AS $$
    SELECT (extract(epoch FROM p_at AT TIME ZONE portal.site_time_zone()) - 345600) / 3600
$$;

-- The clock functions before the calendar (issue 18) took no calendar.
DROP FUNCTION IF EXISTS portal.clock_hours(double precision, double precision[], double precision[]);
DROP FUNCTION IF EXISTS portal.clock_time(timestamptz, double precision[], double precision[]);
DROP FUNCTION IF EXISTS portal.clock_at(double precision, double precision[], double precision[]);
-- They return the clock's calendar now, and a function's result type cannot be replaced.
DROP FUNCTION IF EXISTS portal.clock_for(text, text, text);
DROP FUNCTION IF EXISTS portal.entry_p90(text, text, text, text);
DROP FUNCTION IF EXISTS portal.estimate_clock_rows(timestamptz, interval);

-- The clock hours a day of the week (p_day: 0 Monday ... 6 Sunday) has run p_x hours after its
-- midnight, 0 <= p_x <= 24.
CREATE OR REPLACE FUNCTION portal.day_clock_hours(p_day integer, p_x double precision,
                                                  p_rate double precision[], p_cum double precision[])
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT p_cum[1 + 24 * p_day + least(23, floor(p_x))::integer] - p_cum[1 + 24 * p_day]
           + (p_x - least(23, floor(p_x))) * p_rate[1 + 24 * p_day + least(23, floor(p_x))::integer]
$$;

-- Which of a calendar's closed days (portal.clock_calendar) is the last to start at or before
-- p_value, counting its starts (p_part 0) or the clock at them (p_part 1); 0 when none.
CREATE OR REPLACE FUNCTION portal.calendar_day(p_value double precision, p_calendar double precision[],
                                               p_part integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT width_bucket(p_value, p_calendar[p_part * cardinality(p_calendar) / 3 + 1
                                            :(p_part + 1) * cardinality(p_calendar) / 3])
$$;

-- How many clock hours the closed days before p_week_hours (and the part of one it falls in) add
-- to the weekly clock there, from a clock's calendar (portal.clock_calendar). p_day is
-- portal.calendar_day(p_week_hours, p_calendar, 0), p_n the number of closed days. One expression
-- without FROM, so that it inlines.
CREATE OR REPLACE FUNCTION portal.calendar_hours(p_week_hours double precision, p_rate double precision[],
                                                 p_cum double precision[], p_calendar double precision[],
                                                 p_day integer, p_n integer)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
           WHEN p_day = 0 THEN 0
           WHEN p_week_hours < p_calendar[p_day] + 24 THEN   -- within that closed day
               CASE WHEN p_day > 1 THEN p_calendar[2 * p_n + p_day - 1] ELSE 0 END
               + portal.day_clock_hours(6, p_week_hours - p_calendar[p_day], p_rate, p_cum)
               - portal.day_clock_hours(mod(floor(p_calendar[p_day] / 24)::bigint, 7)::integer,
                                        p_week_hours - p_calendar[p_day], p_rate, p_cum)
           ELSE p_calendar[2 * p_n + p_day] END
$$;

-- The time on a clock (portal.estimate_clocks) at p_week_hours (portal.week_hours), in seconds:
-- whole weeks count 168 clock hours each, the week so far counts the rates of its hours, and the
-- site's closed days (p_calendar) count as Sundays. Where many times are converted, callers
-- compute portal.week_hours once per time (the time zone conversion is most of the cost) and
-- pass it in.
CREATE OR REPLACE FUNCTION portal.clock_hours(p_week_hours double precision, p_rate double precision[],
                                              p_cum double precision[], p_calendar double precision[])
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT 3600 * (168 * floor(p_week_hours / 168)
                   + p_cum[1 + mod(floor(p_week_hours)::bigint, 168)::integer]
                   + (p_week_hours - floor(p_week_hours))
                     * p_rate[1 + mod(floor(p_week_hours)::bigint, 168)::integer]
                   + CASE WHEN cardinality(p_calendar) = 0 THEN 0
                          ELSE portal.calendar_hours(p_week_hours, p_rate, p_cum, p_calendar,
                                                     portal.calendar_day(p_week_hours, p_calendar, 0),
                                                     cardinality(p_calendar) / 3) END)
$$;

-- The time on a clock at p_at, in seconds.
CREATE OR REPLACE FUNCTION portal.clock_time(p_at timestamptz, p_rate double precision[],
                                             p_cum double precision[], p_calendar double precision[])
RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT portal.clock_hours(portal.week_hours(p_at), p_rate, p_cum, p_calendar)
$$;

-- The first closed day a model built as of p_as_of from the p_window before it keeps in its clocks'
-- calendars: 60 days before the window, so that a sample or a study in flight that started before
-- the window still has the closed days it waited through.
CREATE OR REPLACE FUNCTION portal.calendar_from(p_as_of timestamptz, p_window interval) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (p_as_of - p_window - interval '60 days')::date
$$;

-- The site's closed days (portal.site_closed_days) as one clock sees them. A closed day runs on
-- the clock of a Sunday at the same hours (who works on a public holiday works as on a Sunday),
-- so the clock moves less that day than on its weekday by the difference of the two days' clock
-- hours. For the n closed days from p_from on, ascending, one array of 3 n numbers: their starts
-- (in portal.week_hours, so on the site's wall clock), then the clock at each start (in hours, the
-- closed days before it counted), then the clock hours all closed days up to and including each
-- add (negative where the weekday works more than a Sunday). Computed by the refresh for each
-- clock; '{}' when the site has none, and then every clock function below is the plain weekly
-- clock.
CREATE OR REPLACE FUNCTION portal.clock_calendar(p_rate double precision[], p_cum double precision[],
                                                 p_from date)
RETURNS double precision[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(d.start_h ORDER BY d.day)
                    || array_agg(d.plain_h + d.before_h ORDER BY d.day)
                    || array_agg(d.before_h + d.added_h ORDER BY d.day), '{}')
      FROM (SELECT x.day, x.start_h, x.added_h,
                   portal.clock_hours(x.start_h, p_rate, p_cum, '{}') / 3600 AS plain_h,
                   coalesce(sum(x.added_h) OVER (ORDER BY x.day ROWS BETWEEN UNBOUNDED PRECEDING
                                                 AND 1 PRECEDING), 0) AS before_h
              FROM (SELECT cd.day, 24.0 * (cd.day - date '1970-01-05') AS start_h,
                           portal.day_clock_hours(6, 24, p_rate, p_cum)
                           - portal.day_clock_hours(mod(cd.day - date '1970-01-05', 7), 24, p_rate, p_cum) AS added_h
                      FROM portal.site_closed_days cd WHERE cd.day >= p_from) x) d
$$;

-- The position on the site's wall clock (portal.week_hours) at which the weekly clock, closed days
-- aside, shows p_clock_h hours. The hour is the last one whose start the clock has passed
-- (width_bucket), so a time that falls where nobody works (rate near 0) is carried to the next
-- working hour.
CREATE OR REPLACE FUNCTION portal.weekly_clock_week_hours(p_clock_h double precision, p_rate double precision[],
                                                          p_cum double precision[])
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT 168 * floor(p_clock_h / 168)
           + width_bucket(p_clock_h - 168 * floor(p_clock_h / 168), p_cum[1:168]) - 1
           + greatest(0, p_clock_h - 168 * floor(p_clock_h / 168)
                         - p_cum[width_bucket(p_clock_h - 168 * floor(p_clock_h / 168), p_cum[1:168])])
             / p_rate[width_bucket(p_clock_h - 168 * floor(p_clock_h / 168), p_cum[1:168])]
$$;

-- The position on the site's wall clock at which a clock with closed days shows p_clock_h hours.
-- p_day is portal.calendar_day(p_clock_h, p_calendar, 1), p_n the number of closed days. Between
-- closed days: the weekly clock's inverse, less the hours the closed days before have added;
-- within one: the inverse of its Sunday's clock.
CREATE OR REPLACE FUNCTION portal.calendar_week_hours(p_clock_h double precision, p_rate double precision[],
                                                      p_cum double precision[], p_calendar double precision[],
                                                      p_day integer, p_n integer)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
           WHEN p_day = 0 THEN portal.weekly_clock_week_hours(p_clock_h, p_rate, p_cum)
           WHEN p_clock_h < p_calendar[p_n + p_day] + portal.day_clock_hours(6, 24, p_rate, p_cum)
           THEN p_calendar[p_day] - 144
                + portal.weekly_clock_week_hours(p_cum[145] + p_clock_h - p_calendar[p_n + p_day], p_rate, p_cum)
           ELSE portal.weekly_clock_week_hours(p_clock_h - p_calendar[2 * p_n + p_day], p_rate, p_cum) END
$$;

-- The moment a clock shows p_clock_s: the inverse of portal.clock_time.
CREATE OR REPLACE FUNCTION portal.clock_at(p_clock_s double precision, p_rate double precision[],
                                           p_cum double precision[], p_calendar double precision[])
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT (timestamp '1970-01-05' + make_interval(secs => 3600 * (
               CASE WHEN cardinality(p_calendar) = 0
                    THEN portal.weekly_clock_week_hours(p_clock_s / 3600, p_rate, p_cum)
                    ELSE portal.calendar_week_hours(p_clock_s / 3600, p_rate, p_cum, p_calendar,
                                                    portal.calendar_day(p_clock_s / 3600, p_calendar, 1),
                                                    cardinality(p_calendar) / 3) END)))
           AT TIME ZONE portal.site_time_zone()
$$;

-- The release's answer (the snapshots, in plain time) carried over the site's closed days: a time
-- p_to that history gives from p_from and that falls on a closed day moves to after it, as far
-- on the study's clock (without the calendar) beyond the day's end as it lay beyond the day's
-- start (or p_from, when asked on the closed day); a time outside closed days stays. Only what the
-- closure catches waits for it: a physician's release is not a queue of fixed capacity, and
-- carrying every later release over the closed day too (the clock with its calendar) made those
-- asked in the week before a closed Monday late, p50 covering 62 % (docs/estimates.md). p_to
-- itself when the site has no closed days or there is no clock. PL/pgSQL for the loop over
-- consecutive closed days; it runs only where the calendar is not empty.
DROP FUNCTION IF EXISTS portal.calendar_shift(timestamptz, timestamptz, double precision[], double precision[],
                                              double precision[]);
CREATE OR REPLACE FUNCTION portal.calendar_release(p_from timestamptz, p_to timestamptz, p_rate double precision[],
                                                   p_cum double precision[], p_calendar double precision[])
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_n integer := coalesce(cardinality(p_calendar), 0) / 3;
    v_at timestamptz := p_to;
    v_h double precision;
    v_day integer;
BEGIN
    IF v_n = 0 OR p_rate IS NULL THEN
        RETURN p_to;
    END IF;
    FOR i IN 1..v_n LOOP   -- each pass leaves one closed day behind
        v_h := portal.week_hours(v_at);
        v_day := portal.calendar_day(v_h, p_calendar, 0);
        EXIT WHEN v_day = 0 OR v_h >= p_calendar[v_day] + 24;
        v_at := portal.clock_at(portal.clock_hours(p_calendar[v_day] + 24, p_rate, p_cum, '{}')
                                + portal.clock_hours(v_h, p_rate, p_cum, '{}')
                                - portal.clock_hours(greatest(p_calendar[v_day], portal.week_hours(p_from)),
                                                     p_rate, p_cum, '{}'),
                                p_rate, p_cum, '{}');
    END LOOP;
    RETURN v_at;
END $$;

-- The release's p50 and p90 from the hour mark p_mark and the remaining time's quantiles, carried
-- over the site's closed days (portal.calendar_release). Each is carried on its own, so the p90 is
-- kept at least the p50 (a p50 on a closed Monday carried to Tuesday 11:00 may pass a p90 history
-- put on Tuesday 10:00). Without closed days, the mark plus each quantile. A set-returning SQL
-- function, so the planner inlines it.
CREATE OR REPLACE FUNCTION portal.release_times(p_mark timestamptz, p_p50_s double precision,
                                                p_p90_s double precision, p_rate double precision[],
                                                p_cum double precision[], p_calendar double precision[])
RETURNS TABLE (p50_at timestamptz, p90_at timestamptz) LANGUAGE sql STABLE AS $$
    SELECT x.p50_at, greatest(x.p50_at, x.p90_at)
      FROM (SELECT CASE WHEN coalesce(cardinality(p_calendar), 0) = 0 THEN p_mark + make_interval(secs => p_p50_s)
                        ELSE portal.calendar_release(p_mark, p_mark + make_interval(secs => p_p50_s),
                                                     p_rate, p_cum, p_calendar) END AS p50_at,
                   CASE WHEN coalesce(cardinality(p_calendar), 0) = 0 THEN p_mark + make_interval(secs => p_p90_s)
                        ELSE portal.calendar_release(p_mark, p_mark + make_interval(secs => p_p90_s),
                                                     p_rate, p_cum, p_calendar) END AS p90_at) x
$$;

-- The clocks as of p_as_of from the p_window before it. A study is at risk of report_final from
-- the end of its exam until the report is final, of available from then until the release. For
-- each group and hour of the week: the milestones reached in that hour (events) and the
-- study-hours at risk in it (exposure); the rate is their ratio. Exposure is counted from the
-- moments studies enter and leave the risk set (a running sum over the window's hours), not
-- hour by hour per study. Broader groups (the modality, every study) pool the narrower; each
-- group's hours are shrunk towards its broader clock, scaled to the group's own overall pace
-- (portal.estimate_clock_prior), so a thin hour follows the broader pattern and a rich one its
-- own. Rates are then scaled to average 1 over the week and floored at 1/10,000 (a clock must
-- move, however slowly, for portal.clock_at to find every time). The joins are all of a few
-- thousand rows against a few thousand: hash joins, which the planner, misjudging the hour grid,
-- otherwise replaces with a merge join that re-reads it millions of times (12 s instead of 1).
-- Without JIT: the costs these settings inflate would have every call compiled (1.7 s).
CREATE OR REPLACE FUNCTION portal.estimate_clock_rows(p_as_of timestamptz, p_window interval)
RETURNS TABLE (milestone text, modality text, priority text, events integer,
               rate double precision[], cum double precision[], calendar double precision[])
LANGUAGE sql STABLE SET work_mem = '64MB' SET enable_mergejoin = off SET enable_nestloop = off
SET jit = off AS $$
    WITH w0 AS MATERIALIZED (
        SELECT date_trunc('hour', p_as_of - p_window) AS t0,
               portal.hour_of_week(date_trunc('hour', p_as_of - p_window)) AS how0,
               portal.week_hours(date_trunc('hour', p_as_of - p_window)) AS wh0,
               ceil(extract(epoch FROM p_as_of - date_trunc('hour', p_as_of - p_window)) / 3600)::integer AS hours),
    closed AS MATERIALIZED (   -- the hours of the window on closed days, each with its hour of the day
        SELECT k.k, mod(floor(w0.wh0 + k.k)::bigint, 24)::integer AS hour
          FROM w0 CROSS JOIN generate_series(0, w0.hours - 1) k (k)
          JOIN portal.site_closed_days cd
            ON cd.day = date '1970-01-05' + floor((w0.wh0 + k.k) / 24)::integer),
    spans AS (
        SELECT m.milestone, s.modality, s.priority, greatest(m.from_at, w0.t0) AS a,
               CASE WHEN m.to_at < p_as_of THEN m.to_at END AS b
          FROM portal.studies s
         CROSS JOIN w0
         CROSS JOIN LATERAL (VALUES
               ('report_final', coalesce(s.exam_completed_at, least(s.read_started_at, s.preliminary_at)), s.final_at),
               ('available', s.final_at, s.released_at)) m (milestone, from_at, to_at)
         WHERE s.cancelled_at IS NULL AND m.from_at < p_as_of
           AND coalesce(m.to_at, 'infinity') > w0.t0 AND coalesce(m.to_at, 'infinity') >= m.from_at),
    marks AS (
        SELECT sp.milestone, sp.modality, sp.priority, sp.a AS t, 1 AS d FROM spans sp
        UNION ALL
        SELECT sp.milestone, sp.modality, sp.priority, sp.b, -1 FROM spans sp WHERE sp.b IS NOT NULL),
    hourly AS (   -- per group and hour k of the window: net entries, their share of the hour, events
        SELECT mk.milestone, mk.modality, mk.priority, x.k, sum(mk.d) AS dn,
               sum(mk.d * (1 + x.k - x.h)) AS dx, count(*) FILTER (WHERE mk.d < 0) AS ev
          FROM marks mk CROSS JOIN w0
         CROSS JOIN LATERAL (SELECT extract(epoch FROM mk.t - w0.t0) / 3600 AS h,
                                    floor(extract(epoch FROM mk.t - w0.t0) / 3600)::integer AS k) x
         GROUP BY 1, 2, 3, 4),
    grid AS (
        SELECT g.milestone, g.modality, g.priority, k.k,
               coalesce(h.dn, 0) AS dn, coalesce(h.dx, 0) AS dx, coalesce(h.ev, 0) AS ev
          FROM (SELECT DISTINCT hr.milestone, hr.modality, hr.priority FROM hourly hr) g
         CROSS JOIN w0 CROSS JOIN generate_series(0, w0.hours - 1) k (k)
          LEFT JOIN hourly h ON h.milestone = g.milestone AND h.modality = g.modality
                            AND h.priority = g.priority AND h.k = k.k),
    cells AS (    -- events and exposure per group and hour of the week, at three levels
        SELECT q.milestone, coalesce(q.modality, '*') AS modality, coalesce(q.priority, '*') AS priority,
               (CASE WHEN GROUPING(q.priority) = 0 THEN 0 WHEN GROUPING(q.modality) = 0 THEN 1 ELSE 2 END) AS level,
               q.how, sum(q.ev)::double precision AS e, sum(q.x) AS x
          FROM (SELECT gr.milestone, gr.modality, gr.priority, gr.ev,
                       coalesce(144 + cl.hour, mod(w0.how0 + gr.k, 168)) AS how,   -- a closed day is a Sunday
                       (sum(gr.dn) OVER (PARTITION BY gr.milestone, gr.modality, gr.priority ORDER BY gr.k)
                        - gr.dn + gr.dx)::double precision AS x
                  FROM grid gr CROSS JOIN w0 LEFT JOIN closed cl ON cl.k = gr.k) q
         GROUP BY GROUPING SETS ((q.milestone, q.modality, q.priority, q.how),
                                 (q.milestone, q.modality, q.how), (q.milestone, q.how))),
    top AS (
        SELECT c.milestone, c.how,
               (c.e + portal.estimate_clock_prior() * sum(c.e) OVER w / nullif(sum(c.x) OVER w, 0))
               / (c.x + portal.estimate_clock_prior()) AS r
          FROM cells c WHERE c.level = 2
        WINDOW w AS (PARTITION BY c.milestone)),
    by_modality AS (
        SELECT c.milestone, c.modality, c.how,
               (c.e + portal.estimate_clock_prior() * t.r * sum(c.e) OVER w / nullif(sum(t.r * c.x) OVER w, 0))
               / (c.x + portal.estimate_clock_prior()) AS r
          FROM cells c JOIN top t ON t.milestone = c.milestone AND t.how = c.how
         WHERE c.level = 1
        WINDOW w AS (PARTITION BY c.milestone, c.modality)),
    by_priority AS (
        SELECT c.milestone, c.modality, c.priority, c.how,
               (c.e + portal.estimate_clock_prior() * p.r * sum(c.e) OVER w / nullif(sum(p.r * c.x) OVER w, 0))
               / (c.x + portal.estimate_clock_prior()) AS r
          FROM cells c JOIN by_modality p ON p.milestone = c.milestone AND p.modality = c.modality AND p.how = c.how
         WHERE c.level = 0
        WINDOW w AS (PARTITION BY c.milestone, c.modality, c.priority)),
    rates AS (
        SELECT t.milestone, '*' AS modality, '*' AS priority, t.how, t.r FROM top t
        UNION ALL SELECT m.milestone, m.modality, '*', m.how, m.r FROM by_modality m
        UNION ALL SELECT p.milestone, p.modality, p.priority, p.how, p.r FROM by_priority p),
    scaled AS (
        SELECT r.milestone, r.modality, r.priority, r.how,
               greatest(1e-4, coalesce(r.r / nullif(avg(r.r) OVER w, 0), 1)) AS c
          FROM rates r
        WINDOW w AS (PARTITION BY r.milestone, r.modality, r.priority))
    SELECT r.milestone, r.modality, r.priority, r.events, r.rate, r.cum,
           portal.clock_calendar(r.rate, r.cum, portal.calendar_from(p_as_of, p_window))
      FROM (
    SELECT s.milestone, s.modality, s.priority,
           (SELECT sum(c.e)::integer FROM cells c WHERE c.milestone = s.milestone
               AND c.modality = s.modality AND c.priority = s.priority) AS events,
           array_agg(s.c ORDER BY s.how) AS rate,
           array_prepend(0::double precision, array_agg(s.cs ORDER BY s.how)) AS cum
      FROM (SELECT sc.*, sum(sc.c) OVER (PARTITION BY sc.milestone, sc.modality, sc.priority
                                         ORDER BY sc.how) AS cs FROM scaled sc) s
     GROUP BY s.milestone, s.modality, s.priority
    HAVING count(*) = 168
       AND (SELECT sum(c.e) FROM cells c WHERE c.milestone = s.milestone
               AND c.modality = s.modality AND c.priority = s.priority) > 0) r
$$;

-- The clock a study's milestone is measured on: its modality and priority's, else its
-- modality's, else every study's. From the table the refresh keeps (one primary-key probe per
-- candidate); a set-returning SQL function of plain values, so the planner inlines it.
CREATE OR REPLACE FUNCTION portal.clock_for(p_milestone text, p_modality text, p_priority text)
RETURNS TABLE (rate double precision[], cum double precision[], calendar double precision[])
LANGUAGE sql STABLE AS $$
    SELECT c.rate, c.cum, c.calendar
      FROM (VALUES (p_modality, p_priority, 0), (p_modality, '*', 1), ('*', '*', 2)) k (modality, priority, rank)
      JOIN portal.estimate_clocks c ON c.milestone = p_milestone AND c.modality = k.modality
                                   AND c.priority = k.priority
     ORDER BY k.rank
     LIMIT 1
$$;

-- ---------------------------------------------------------------------------------------------
-- The model: quantiles per group, stage, milestone and time already waited, on the clock.
-- ---------------------------------------------------------------------------------------------

-- Which of n sorted durations is given as the p90: the ceil(0.9 (n + 1))-th (at most the n-th).
-- A new study's duration falls at or below the k-th of n past ones with probability k / (n + 1)
-- when all are alike, so this one is reached by 9 in 10 of them; the 90th percentile of the n
-- (percentile_cont) is reached by (0.9 n + 0.1) / (n + 1) of them, 87.4 % when n is 30, and a
-- group is used from 30 on: over five replayed weeks of six shapes of history, report_final's p90
-- covered 86.2-89.9 % with that percentile and 87.5-90.9 % with this (docs/estimates.md).
-- The p50 needs no such care: the median of n is reached by half of new studies whatever n is.
CREATE OR REPLACE FUNCTION portal.estimate_p90_rank(p_n integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT least(p_n, ceil(0.9 * (p_n + 1)))::integer
$$;

-- The p50 and p90 of waits some of which had not ended (Kaplan-Meier, weighted): p_d sorted
-- ascending (a wait that ended before one cut off at the same length), p_reached whether each
-- ended, p_w each one's weight. Among those still waiting at a length, the share that ends there
-- is the weight ending there over the weight still waiting; the quantile is the first length at
-- which the surviving share falls to 1 - q. The p90 is raised as portal.estimate_p90_rank raises
-- it, with the effective sample size (sum w)^2 / sum w^2: unweighted and with every wait ended,
-- this is exactly the ceil(0.9 (n + 1))-th of the n sorted waits. A quantile the waits never
-- reach (too many were still waiting) is 1e9, as the snapshots' "never came".
CREATE OR REPLACE FUNCTION portal.survival_quantiles(p_d double precision[], p_reached boolean[],
                                                     p_w double precision[])
RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    v_n integer := coalesce(cardinality(p_d), 0);
    v_total double precision := 0;
    v_squares double precision := 0;
    v_effective double precision;
    v_q90 double precision;
    v_at_risk double precision[];
    v_surviving double precision := 1;
    v_p50 double precision := 1e9;
    v_p90 double precision := 1e9;
BEGIN
    -- The weight still waiting at each length, summed from the longest down: the small weights of
    -- old waits add up among themselves instead of vanishing in a difference from the total.
    v_at_risk := array_fill(0::double precision, ARRAY[greatest(v_n, 1)]);
    FOR i IN REVERSE v_n .. 1 LOOP
        v_total := v_total + p_w[i];
        v_squares := v_squares + p_w[i] * p_w[i];
        v_at_risk[i] := v_total;
    END LOOP;
    IF v_total <= 0 THEN
        RETURN ARRAY[v_p50, v_p90];
    END IF;
    v_effective := v_total * v_total / v_squares;
    v_q90 := least(0.9 * (v_effective + 1) / v_effective, 1);
    FOR i IN 1 .. v_n LOOP
        IF p_reached[i] AND v_at_risk[i] > 0 THEN
            v_surviving := v_surviving * greatest(0, 1 - p_w[i] / v_at_risk[i]);
            IF v_p50 >= 1e9 AND v_surviving <= 0.5 + 1e-9 THEN
                v_p50 := p_d[i];
            END IF;
            IF v_surviving <= 1 - v_q90 + 1e-9 THEN
                v_p90 := p_d[i];
                EXIT;
            END IF;
        END IF;
    END LOOP;
    RETURN ARRAY[v_p50, v_p90];
END $$;

-- The quantiles as of p_as_of from the studies that entered their stage in the p_window before
-- it (portal.estimate_cohort), for the given rungs of the ladder: survival quantiles
-- (portal.survival_quantiles) of the waits, those still waiting at p_as_of counted as waits at
-- least that long, each study weighted by how recently it entered (portal.estimate_half_life_days).
-- A rung takes the studies known to have stayed in the stage longer than it (one still in the
-- stage after as long counts too, cut off where it is). Every duration and stay is measured on the
-- clock of the sample's milestone, modality and priority, from p_clocks
-- (portal.estimate_clock_rows as of the same moment, computed once by the caller): a report signed
-- on Monday morning after a weekend waited little working time. sample_size is the number of
-- studies; a quantile they never reach is 1e9. Used by the refresh (now, every rung) and the
-- backtests (each past day), so all compute exactly the same thing. week_part is always 'any':
-- the clock has taken the time of week's place.
-- A queue whose pace has changed (a backlog growing for weeks): per milestone, modality and
-- priority, the median wait to the milestone of the studies that entered its queue
-- (portal.queue_stage; for the report that includes the reading) in each span of
-- portal.estimate_trend_days() days, unweighted. When the last span's step (ln of its median over
-- the one before) is beyond twice the site's own spread of the earlier steps, each sample's time
-- in that queue is taken at the pace of p_as_of: scaled by exp(growth per day x the days since
-- the sample entered its stage, at most two spans), at most 20 times or a twentieth. It needs
-- five spans of 30 studies or more, so a window under 70 days never takes one. The
-- spread is the earlier steps' median absolute value over 0.6745 (a normal spread from its
-- median), so that the earlier steps of the same growth do not hide it, as their root mean
-- square did. A booked sample's age counts from its appointment (its stage's anchor), soon before
-- it met the queue: a study booked for next week is told today's pace, not next week's.
CREATE OR REPLACE FUNCTION portal.estimate_rows(p_as_of timestamptz, p_window interval,
                                                p_clocks portal.estimate_clocks[],
                                                p_rungs integer[] DEFAULT portal.estimate_ladder())
RETURNS TABLE (modality text, priority text, site text, week_part text, level smallint,
               stage text, milestone text, elapsed_s integer, sample_size integer,
               p50_s double precision, p90_s double precision)
LANGUAGE sql STABLE SET work_mem = '64MB' SET jit = off AS $$
    WITH clocks AS MATERIALIZED (SELECT * FROM unnest(p_clocks)),
    measured AS MATERIALIZED (   -- each sample's stay, duration and queue on its clock, computed once
        SELECT sm.modality, sm.priority, sm.site, sm.stage, sm.milestone, sm.reached,
               o.left_c - o.anchor_c AS stay_c, o.done_c - o.anchor_c AS duration_c,
               coalesce(o.queue_to_c - o.queue_from_c, 0) AS queue_c,
               extract(epoch FROM p_as_of - sm.anchor_at) / 86400 AS age_d
          FROM portal.estimate_cohort(p_as_of - p_window, p_as_of) sm
          LEFT JOIN clocks c0 ON c0.milestone = sm.milestone AND c0.modality = sm.modality
                             AND c0.priority = sm.priority
          LEFT JOIN clocks c1 ON c1.milestone = sm.milestone AND c1.modality = sm.modality
                             AND c1.priority = '*'
          LEFT JOIN clocks c2 ON c2.milestone = sm.milestone AND c2.modality = '*'
                             AND c2.priority = '*'
         CROSS JOIN LATERAL (SELECT coalesce(c0.rate, c1.rate, c2.rate) AS rate,
                                    coalesce(c0.cum, c1.cum, c2.cum) AS cum,
                                    coalesce(c0.calendar, c1.calendar, c2.calendar) AS calendar) c
         CROSS JOIN LATERAL (
               SELECT portal.week_hours(sm.anchor_at) AS anchor_h,
                      portal.week_hours(sm.anchor_at + sm.stay_s * interval '1 second') AS left_h,
                      portal.week_hours(sm.anchor_at + sm.duration_s * interval '1 second') AS done_h,
                      portal.week_hours(sm.queue_from) AS queue_from_h,
                      portal.week_hours(sm.queue_to) AS queue_to_h
               OFFSET 0) h   -- converted once each, not once per use in portal.clock_hours
         CROSS JOIN LATERAL (
               SELECT portal.clock_hours(h.anchor_h, c.rate, c.cum, c.calendar) AS anchor_c,
                      portal.clock_hours(h.left_h, c.rate, c.cum, c.calendar) AS left_c,
                      portal.clock_hours(h.done_h, c.rate, c.cum, c.calendar) AS done_c,
                      portal.clock_hours(h.queue_from_h, c.rate, c.cum, c.calendar) AS queue_from_c,
                      portal.clock_hours(h.queue_to_h, c.rate, c.cum, c.calendar) AS queue_to_c) o
         WHERE c.rate IS NOT NULL),
    fortnights AS (   -- the queue's median wait of those that entered it in each span of the window
        SELECT m.milestone, m.modality, m.priority, floor(m.age_d / portal.estimate_trend_days())::integer AS k,
               count(*) AS n, avg(m.age_d) AS age_d,
               (portal.survival_quantiles(array_agg(m.duration_c ORDER BY m.duration_c, m.reached DESC),
                                          array_agg(m.reached ORDER BY m.duration_c, m.reached DESC),
                                          array_agg(1.0::double precision ORDER BY m.duration_c, m.reached DESC)))[1] AS median_c
          FROM measured m
         WHERE m.stage = portal.queue_stage(m.milestone)
         GROUP BY 1, 2, 3, 4),
    steps AS (   -- from each span to the next more recent one: ln of the medians' ratio, and the
                 -- days between them (at least one, however the studies bunched in their spans)
        SELECT f.milestone, f.modality, f.priority, f.k, ln(f.median_c / g.median_c) AS step,
               greatest(g.age_d - f.age_d, 1) AS days
          FROM fortnights f
          JOIN fortnights g ON g.milestone = f.milestone AND g.modality = f.modality
                           AND g.priority = f.priority AND g.k = f.k + 1
         WHERE least(f.n, g.n) >= portal.estimate_min_samples()
           AND least(f.median_c, g.median_c) > 0 AND greatest(f.median_c, g.median_c) < 1e8),
    trend AS (   -- the last step, taken when beyond twice the spread of the earlier ones (at least three)
        SELECT s.milestone, s.modality, s.priority,
               max(s.step / s.days) FILTER (WHERE s.k = 0) AS growth_per_day
          FROM steps s
         GROUP BY 1, 2, 3
        HAVING count(*) FILTER (WHERE s.k > 0) >= 3
           AND abs(max(s.step) FILTER (WHERE s.k = 0))
               > 2 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(s.step)) FILTER (WHERE s.k > 0) / 0.6745),
    timed AS (   -- each sample's time in the queue at the pace of p_as_of, and its weight
        SELECT m.modality, m.priority, m.site, m.stage, m.milestone, m.reached,
               CASE WHEN m.stage = portal.queue_stage(m.milestone) THEN m.stay_c * k.pace
                    ELSE m.stay_c END AS stay_c,
               m.duration_c + (k.pace - 1) * m.queue_c AS duration_c,
               exp(-ln(2) * least(m.age_d / portal.estimate_half_life_days(), 40)) AS weight
          FROM measured m
          LEFT JOIN trend t ON t.milestone = m.milestone AND t.modality = m.modality
                           AND t.priority = m.priority
         CROSS JOIN LATERAL (SELECT exp(least(greatest(coalesce(t.growth_per_day, 0)
                                                       * least(m.age_d, 2 * portal.estimate_trend_days()),
                                                       -3), 3)) AS pace) k)
    SELECT g.modality, g.priority, g.site, 'any', g.level, g.stage, g.milestone, g.rung, g.n,
           g.q[1], g.q[2]
      FROM (SELECT coalesce(x.modality, '*') AS modality, coalesce(x.priority, '*') AS priority,
                   coalesce(x.site, '*') AS site,
                   (CASE WHEN GROUPING(x.site) = 0 THEN 0 WHEN GROUPING(x.priority) = 0 THEN 1
                         WHEN GROUPING(x.modality) = 0 THEN 2 ELSE 3 END)::smallint AS level,
                   x.stage, x.milestone, x.rung, count(*)::integer AS n,
                   portal.survival_quantiles(
                       array_agg(x.duration_c ORDER BY x.duration_c, x.reached DESC),
                       array_agg(x.reached ORDER BY x.duration_c, x.reached DESC),
                       array_agg(x.weight ORDER BY x.duration_c, x.reached DESC)) AS q
              FROM (SELECT t.modality, t.priority, t.site, t.stage, t.milestone, t.duration_c,
                           t.reached, t.weight, r.rung
                      FROM timed t
                     CROSS JOIN LATERAL (SELECT u.rung FROM unnest(p_rungs) u (rung)
                                          WHERE u.rung = 0 OR t.stay_c > u.rung) r) x
             GROUP BY x.stage, x.milestone, x.rung,
                      GROUPING SETS ((x.modality, x.priority, x.site), (x.modality, x.priority),
                                     (x.modality), ())) g
$$;

-- The groups to try for a study, most specific first.
CREATE OR REPLACE FUNCTION portal.estimate_candidates(p_modality text, p_priority text, p_site text)
RETURNS TABLE (modality text, priority text, site text, rank integer)
LANGUAGE sql IMMUTABLE AS $$
    VALUES (p_modality, p_priority, p_site, 0), (p_modality, p_priority, '*', 1),
           (p_modality, '*', '*', 2), ('*', '*', '*', 3)
$$;

-- Whether a group's row can answer: enough studies, and a p90 they were seen to reach.
CREATE OR REPLACE FUNCTION portal.estimate_enough(p_sample_size integer, p_p90_s double precision)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT p_sample_size >= portal.estimate_min_samples() AND p_p90_s < 1e8
$$;

-- Which candidate wins: the most specific one with enough samples whose p90 history has seen
-- come; when none has, the one with the most (it is then reported as too few, never as a time).
CREATE OR REPLACE FUNCTION portal.estimate_preference(p_rank integer, p_sample_size integer,
                                                      p_p90_s double precision) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN portal.estimate_enough(p_sample_size, p_p90_s) THEN p_rank
                ELSE 1000000000 - p_sample_size END
$$;

-- ---------------------------------------------------------------------------------------------
-- The physician's release (issue 18): the remaining wait of past studies that were waiting for
-- it around the same hour of the week after a similar wait. The release follows each doctor's
-- week, which one reading clock per modality measured badly (docs/estimates.md); the report keeps
-- the clock model above, which held better for it.
-- ---------------------------------------------------------------------------------------------

-- The rungs of the wait so far (seconds since the stage's anchor; negative before a booked
-- appointment) that snapshots and lookups are put in: a study that has waited t is compared with
-- the snapshots that had waited between the highest rung at or below t and the next.
CREATE OR REPLACE FUNCTION portal.estimate_wait_ladder() RETURNS integer[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[-1209600, -259200, -86400, -21600, 0, 3600, 7200, 14400, 28800, 57600, 86400,
                 172800, 345600, 604800, 1209600]
$$;

-- The rung of a wait (the lowest below the first). One expression without FROM, so it inlines.
CREATE OR REPLACE FUNCTION portal.estimate_wait_bucket(p_wait_s double precision) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT (portal.estimate_wait_ladder())
               [greatest(1, width_bucket(p_wait_s, portal.estimate_wait_ladder()::double precision[]))]
$$;

-- The band of rungs a rung with too few falls back to, stored as its wait_s: -1 for a wait from
-- the anchor up to a day, -2 for a longer one, NULL before the anchor (no fallback: a booked
-- exam's wait is counted in days to the appointment). One expression, so it inlines.
CREATE OR REPLACE FUNCTION portal.estimate_wait_band(p_rung integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_rung < 0 THEN NULL WHEN p_rung < 86400 THEN -1 ELSE -2 END
$$;

-- The longest wait (seconds since the stage's anchor) a study is sampled at: a week past the
-- ladder's top rung, so that rung still sees every hour of the week. Without it a report left
-- unreleased adds a snapshot for every hour of the window (2,160 in 90 days) to every rebuild,
-- and a site with many would rebuild for hours; past it, history rarely says anything anyway
-- (its p90 has not come).
CREATE OR REPLACE FUNCTION portal.estimate_snapshot_max_wait_s() RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT 1814400
$$;

-- The snapshots of history as of p_as_of: for every hour mark of the p_window before it, every
-- study waiting then for its release, in the stage it was in, with the hour of the week, the wait
-- so far (up to portal.estimate_snapshot_max_wait_s) and the time it still had to wait. A study
-- not released by p_as_of (or cancelled) still waits: its remaining time is taken as endless
-- (1e9 s), so it counts against every quantile, as the backtests count it. The stage and the
-- marks use nothing after p_as_of.
CREATE OR REPLACE FUNCTION portal.estimate_snapshots(p_as_of timestamptz, p_window interval)
RETURNS TABLE (modality text, priority text, site text, stage text, milestone text, how integer,
               wait_s integer, remaining_s double precision)
LANGUAGE sql STABLE AS $$
    SELECT st.modality, st.priority, st.site, sp.stage, 'available',
           CASE WHEN cd.day IS NOT NULL THEN 144 + extract(hour FROM h.l)::integer   -- closed: a Sunday
                ELSE (extract(isodow FROM h.l)::integer - 1) * 24 + extract(hour FROM h.l)::integer END,
           portal.estimate_wait_bucket(extract(epoch FROM h.h - sp.anchor_at)),
           CASE WHEN st.released_at < p_as_of THEN extract(epoch FROM st.released_at - h.h) ELSE 1e9 END
      FROM portal.studies st
     CROSS JOIN LATERAL portal.study_stage_spans(st) sp
     CROSS JOIN LATERAL (
           SELECT g.h, g.h AT TIME ZONE portal.site_time_zone() AS l
             FROM generate_series(greatest(date_trunc('hour', sp.reached_at) + interval '1 hour',
                                           date_trunc('hour', p_as_of - p_window)),
                                  least(sp.left_at, st.released_at, st.cancelled_at, p_as_of,
                                        sp.anchor_at + make_interval(secs => portal.estimate_snapshot_max_wait_s()))
                                      - interval '1 microsecond',
                                  interval '1 hour') g (h)) h
      LEFT JOIN portal.site_closed_days cd ON cd.day = h.l::date
     WHERE portal.milestone_ahead(sp.stage, 'available') AND sp.anchor_at IS NOT NULL
       AND sp.reached_at < p_as_of
       AND least(sp.left_at, st.released_at, st.cancelled_at,
                 sp.anchor_at + make_interval(secs => portal.estimate_snapshot_max_wait_s()))
           > p_as_of - p_window
$$;

-- The rows of portal.estimate_hours as of p_as_of from the p_window before it (for the refresh,
-- now; for the backtests, each past day's midnight). Quantiles of the remaining time are kept per
-- stage, hour of the week and wait rung, at four levels of group; each cell stands on its own
-- (pooling neighbouring hours or shrinking towards the rung's whole week scored worse: the
-- release's pace changes sharply from one hour to the next; docs/estimates.md). Each group of
-- modality + priority + site seen in the snapshots gets its row resolved here, so that a lookup
-- is one probe: its own numbers when it has enough snapshots (portal.estimate_min_samples) and
-- has seen its p90 come, else those of the first broader group that has. Every study's rows
-- (level 3) are kept as well, for a group never seen; where even they have too few, the row says
-- so (no time is given), and where none of their snapshots was ever released there is no row
-- (history has nothing to say). For a rung with too few on every level, every study waiting at
-- that hour of the week in the rung's band (portal.estimate_wait_band) is kept too: where few
-- start a stage at that hour (a Saturday night), those already waiting then still say when
-- Monday's releases come. Equality joins only, hashed: misjudging the CTEs' sizes, the
-- planner otherwise nests the self-joins (over 10 minutes instead of 10 s for 28 days).
CREATE OR REPLACE FUNCTION portal.estimate_hour_rows(p_as_of timestamptz, p_window interval)
RETURNS TABLE (stage text, milestone text, modality text, priority text, site text,
               how integer, wait_s integer, level smallint, sample_size integer,
               p50_s double precision, p90_s double precision)
LANGUAGE sql STABLE SET work_mem = '128MB' SET jit = off SET enable_nestloop = off
SET enable_mergejoin = off AS $$
    WITH cells AS MATERIALIZED (
        SELECT sn.stage, sn.milestone, sn.how, coalesce(sn.wait_s, sn.band) AS wait_s, sn.modality,
               sn.priority, sn.site,
               (CASE WHEN GROUPING(sn.wait_s) = 1 THEN 4 WHEN GROUPING(sn.site) = 0 THEN 0
                     WHEN GROUPING(sn.priority) = 0 THEN 1 WHEN GROUPING(sn.modality) = 0 THEN 2
                     ELSE 3 END)::smallint AS level,
               count(*)::integer AS n, count(*) FILTER (WHERE sn.remaining_s < 1e8) AS seen,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY sn.remaining_s) AS p50_s,
               percentile_disc(0.9) WITHIN GROUP (ORDER BY sn.remaining_s) AS p90_s
          FROM (SELECT s.*, portal.estimate_wait_band(s.wait_s) AS band
                  FROM portal.estimate_snapshots(p_as_of, p_window) s) sn
         GROUP BY GROUPING SETS (
                  (sn.stage, sn.milestone, sn.how, sn.wait_s, sn.modality, sn.priority, sn.site),
                  (sn.stage, sn.milestone, sn.how, sn.wait_s, sn.modality, sn.priority),
                  (sn.stage, sn.milestone, sn.how, sn.wait_s, sn.modality),
                  (sn.stage, sn.milestone, sn.how, sn.wait_s),
                  (sn.stage, sn.milestone, sn.how, sn.band))
        HAVING GROUPING(sn.wait_s) = 0 OR sn.band IS NOT NULL),
    usable AS MATERIALIZED (   -- enough snapshots, and a p90 that history has seen come
        SELECT c.*, portal.estimate_enough(c.n, c.p90_s) AS ok FROM cells c)
    SELECT c3.stage, c3.milestone, '*', '*', '*', c3.how, c3.wait_s, 3::smallint, c3.n,
           c3.p50_s, c3.p90_s
      FROM usable c3 WHERE c3.level IN (3, 4) AND c3.seen > 0
    UNION ALL
    SELECT c0.stage, c0.milestone, c0.modality, c0.priority, c0.site, c0.how, c0.wait_s, b.*
      FROM usable c0
      LEFT JOIN usable c1 ON c1.level = 1 AND c1.stage = c0.stage AND c1.milestone = c0.milestone
                         AND c1.how = c0.how AND c1.wait_s = c0.wait_s
                         AND c1.modality = c0.modality AND c1.priority = c0.priority
      LEFT JOIN usable c2 ON c2.level = 2 AND c2.stage = c0.stage AND c2.milestone = c0.milestone
                         AND c2.how = c0.how AND c2.wait_s = c0.wait_s AND c2.modality = c0.modality
      JOIN usable c3 ON c3.level = 3 AND c3.seen > 0 AND c3.stage = c0.stage
                    AND c3.milestone = c0.milestone AND c3.how = c0.how AND c3.wait_s = c0.wait_s
     CROSS JOIN LATERAL (
           SELECT x.level, x.n, x.p50_s, x.p90_s
             FROM (VALUES (c0.level, c0.n, c0.p50_s, c0.p90_s, c0.ok, 0),
                          (c1.level, c1.n, c1.p50_s, c1.p90_s, c1.ok, 1),
                          (c2.level, c2.n, c2.p50_s, c2.p90_s, c2.ok, 2),
                          (c3.level, c3.n, c3.p50_s, c3.p90_s, true, 3)) x (level, n, p50_s, p90_s, ok, rank)
            WHERE x.ok
            ORDER BY x.rank LIMIT 1) b
     WHERE c0.level = 0
$$;

-- ---------------------------------------------------------------------------------------------
-- Calibration by the model's own misses (issue 18, thirteenth and fourteenth passes;
-- docs/estimates.md, "Calibration"). The model learns from the history before it, so when
-- reading falls behind for weeks (a growing backlog) every answer comes too early until that
-- history catches up. What the lookup answered is kept at each hour mark, with the model's own
-- answer before any stretch (portal.record_estimate_answers); at each refresh, the model's own
-- answers that fell due in the last portal.calibration_days() are hits or misses, and the share
-- of misses above (below) what a p50 or p90 should miss stretches (shrinks) the time ahead of
-- each new answer by exp(theta) (portal.refresh_calibration). theta is set afresh each time, not
-- summed: the stretch lasts as long as the model misses, and a past run of misses is not repaid
-- by answering late afterwards. The stretched answers are not what is judged: a stretch that
-- works would remove its own misses and shrink itself while the model is still as late.
-- The backtest replays the same (portal.backtest_calibrate).
-- ---------------------------------------------------------------------------------------------

-- Days of answers whose outcomes set theta, and days of answers kept before theta moves at all
-- (the first answers to fall due are only the short ones, a biased sample).
CREATE OR REPLACE FUNCTION portal.calibration_days() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 7';

-- How far theta moves per unit of excess misses: for the p50, 2 x (share missed - 0.5), so a week
-- in which 60 % of p50s missed stretches by exp(0.2) = 1.22; five times as much for the p90,
-- whose target share (10 %) is five times smaller. Chosen on the experiments' histories
-- (scripts/experiment_calibration.sql): larger gains swing steady sites' weeks.
CREATE OR REPLACE FUNCTION portal.calibration_gain(p_quantile integer) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_quantile WHEN 90 THEN 5.0 ELSE 2.0 END
$$;

-- Days of answers kept (the typical day's count is taken over them).
CREATE OR REPLACE FUNCTION portal.estimate_answers_days() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 35';

-- At most this many studies' answers are kept per hour mark: the first by id, an unbiased sample
-- (the ids are random; a study stays in it while in flight, so a week's answers come from the
-- several thousand studies that pass through it at such a site) that bounds the task's hourly
-- work and the table at the largest sites (at most 840,000 rows over the kept days). Smaller
-- sites keep every study's, as the backtest replays them.
CREATE OR REPLACE FUNCTION portal.estimate_answers_per_hour() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 500';

-- theta for one quantile from the answers due in the last portal.calibration_days(): the misses
-- beyond the target share, counted as answers and weighed against a typical day's answers
-- (p_per_day, over the kept days), so a quiet Sunday's few move it no more than their share and a
-- week's own rhythm (Monday's answers mostly hit, Saturday's mostly miss) averages out. Kept
-- within -1 and 2 (a factor of 0.37 to 7.4); 0 with no answers.
CREATE OR REPLACE FUNCTION portal.calibration_theta(p_missed bigint, p_due bigint, p_quantile integer,
                                                    p_per_day double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN coalesce(p_per_day, 0) > 0 THEN
               least(2, greatest(-1, portal.calibration_gain(p_quantile)
                                     * (p_missed - p_due * (100 - p_quantile) / 100.0)
                                     / (portal.calibration_days() * p_per_day)))
           ELSE 0 END
$$;

-- A time ahead on the study's clock, stretched: from p_base_c (the clock reading from which the
-- model's answer runs) by at least a minute, times exp(p_theta).
CREATE OR REPLACE FUNCTION portal.stretch_clock(p_base_c double precision, p_ahead_c double precision,
                                                p_theta double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT p_base_c + greatest(p_ahead_c, 60) * exp(coalesce(p_theta, 0))
$$;

-- A moment the snapshots answered (available), stretched on the study's clock from p_base_c; the
-- moment itself when theta is 0 or there is no clock (clock_at(clock_time(t)) is the end of the
-- last working hour before t when t falls where the clock stands still, so the round trip is not
-- made for nothing), and when it is not after p_base_c (a booked study's stage starts later than
-- the snapshots' answer: there is no time ahead to stretch, and the floor of a minute would move
-- it to the appointment whatever theta is).
CREATE OR REPLACE FUNCTION portal.stretch_at(p_at timestamptz, p_base_c double precision,
                                             p_theta double precision, p_rate double precision[],
                                             p_cum double precision[], p_calendar double precision[])
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN coalesce(p_theta, 0) = 0 OR p_rate IS NULL OR p_at IS NULL THEN p_at
                ELSE (SELECT CASE WHEN c.at_c <= p_base_c THEN p_at
                                  ELSE portal.clock_at(portal.stretch_clock(p_base_c, c.at_c - p_base_c, p_theta),
                                                       p_rate, p_cum, p_calendar) END
                        FROM (SELECT portal.clock_time(p_at, p_rate, p_cum, p_calendar) AS at_c) c) END
$$;

-- Keeps what the lookup answers now for a sample of the studies in flight (at most
-- portal.estimate_answers_per_hour()), once per hour mark: what the page tells (stretched) and
-- the model's own answer (the live lookup without the stretch, which sets theta); forgets
-- answers older than portal.estimate_answers_days(). Answers with too few past studies are not
-- kept (nothing was promised). Returns the answers kept, 0 when this hour's are already in.
CREATE OR REPLACE FUNCTION portal.record_estimate_answers(p_now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_mark timestamptz := date_trunc('hour', p_now);
    v_rows integer;
BEGIN
    IF EXISTS (SELECT FROM portal.estimate_answers a
                WHERE a.milestone IN ('report_final', 'available') AND a.asked_at = v_mark) THEN
        RETURN 0;
    END IF;
    DELETE FROM portal.estimate_answers a
     WHERE a.milestone IN ('report_final', 'available')
       AND a.asked_at < v_mark - make_interval(days => portal.estimate_answers_days());
    INSERT INTO portal.estimate_answers (milestone, asked_at, study_id, p50_at, p90_at,
                                         model50_at, model90_at)
    SELECT m.milestone, v_mark, s.id, e.p50_at, e.p90_at, o.p50_at, o.p90_at
      FROM (SELECT * FROM portal.studies s
             WHERE s.stage NOT IN ('available', 'cancelled')
             ORDER BY s.id
             LIMIT portal.estimate_answers_per_hour()) s
     CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
     CROSS JOIN LATERAL portal.study_estimate(s, m.milestone) e
     CROSS JOIN LATERAL portal.estimate_lookup(s, m.milestone, p_now, false) o
     WHERE e.enough AND e.p50_at IS NOT NULL AND e.p90_at IS NOT NULL
       AND o.enough AND o.p50_at IS NOT NULL AND o.p90_at IS NOT NULL
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END $$;

-- theta per milestone as of p_now from the kept answers (the tables' comments,
-- sql/migrations/0024_estimate_calibration.sql and 0025_estimate_answers_model.sql), judged by
-- the model's own moments (model50_at, model90_at). An answer is due when its quantile's moment
-- has passed; it missed when the milestone had not come by then. An answer for a study cancelled
-- before it fell due is neither. theta stays 0 until answers have been kept for
-- portal.calibration_days(), and while the answers due came from fewer studies than
-- portal.estimate_min_samples() (a study's answers hour after hour hit or miss together, so a
-- small site's few studies would swing it).
CREATE OR REPLACE FUNCTION portal.refresh_calibration(p_now timestamptz DEFAULT now()) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM portal.estimate_calibration;
    INSERT INTO portal.estimate_calibration (milestone, theta50, theta90, due50, missed50, due90,
                                             missed90, computed_at)
    SELECT m.milestone,
           CASE WHEN k.warm AND d50.studies >= portal.estimate_min_samples()
                THEN portal.calibration_theta(d50.missed, d50.due, 50, k.per_day) ELSE 0 END,
           CASE WHEN k.warm AND d90.studies >= portal.estimate_min_samples()
                THEN portal.calibration_theta(d90.missed, d90.due, 90, k.per_day) ELSE 0 END,
           d50.due, d50.missed, d90.due, d90.missed, p_now
      FROM (VALUES ('report_final'), ('available')) m (milestone)
     CROSS JOIN LATERAL (
           SELECT coalesce(min(a.asked_at) <= p_now - make_interval(days => portal.calibration_days()), false) AS warm,
                  count(*) / greatest(1.0, extract(epoch FROM p_now - min(a.asked_at)) / 86400) AS per_day
             FROM portal.estimate_answers a
            WHERE a.milestone = m.milestone AND a.asked_at < p_now) k
     CROSS JOIN LATERAL (
           SELECT count(*) AS due, count(DISTINCT a.study_id) AS studies,
                  count(*) FILTER (WHERE o.done_at IS NULL OR o.done_at > a.model50_at) AS missed
             FROM portal.estimate_answers a
             JOIN portal.studies s ON s.id = a.study_id
            CROSS JOIN LATERAL (SELECT CASE m.milestone WHEN 'report_final' THEN s.final_at ELSE s.released_at END AS done_at) o
            WHERE a.milestone = m.milestone
              AND a.model50_at >= p_now - make_interval(days => portal.calibration_days()) AND a.model50_at < p_now
              AND (s.cancelled_at IS NULL OR s.cancelled_at > a.model50_at)) d50
     CROSS JOIN LATERAL (
           SELECT count(*) AS due, count(DISTINCT a.study_id) AS studies,
                  count(*) FILTER (WHERE o.done_at IS NULL OR o.done_at > a.model90_at) AS missed
             FROM portal.estimate_answers a
             JOIN portal.studies s ON s.id = a.study_id
            CROSS JOIN LATERAL (SELECT CASE m.milestone WHEN 'report_final' THEN s.final_at ELSE s.released_at END AS done_at) o
            WHERE a.milestone = m.milestone
              AND a.model90_at >= p_now - make_interval(days => portal.calibration_days()) AND a.model90_at < p_now
              AND (s.cancelled_at IS NULL OR s.cancelled_at > a.model90_at)) d90;
END $$;

-- ---------------------------------------------------------------------------------------------
-- The lookup: report_final from the clock model, available from the snapshots.
-- ---------------------------------------------------------------------------------------------

-- The report's estimate for one study in flight, read from the tables by primary key: one row
-- while report_final is ahead and the tables hold history for it, else none. The time already
-- spent since the stage's anchor is read on the study's clock; p50_at and p90_at are the
-- conditional quantiles for that wait, carried forward on the clock from the anchor (so a
-- weekend in between counts as little as this site works at weekends), the time ahead of the
-- start of the wait's rung stretched by the calibration (exp(theta), portal.stretch_clock; so the
-- answer stays put until the next rung). A quantile already behind becomes the moment the clock
-- has run one more minute from now: soon during working hours, the next working morning at night
-- (not "now" when nobody is working); both are NULL when too few past studies waited as long
-- (enough = false).
CREATE OR REPLACE FUNCTION portal.estimate_lookup_clock(s portal.studies, p_milestone text,
                                                        p_now timestamptz DEFAULT now(),
                                                        p_stretched boolean DEFAULT true)
RETURNS TABLE (modality text, priority text, site text, week_part text, level smallint,
               sample_size integer, p50_at timestamptz, p90_at timestamptz, enough boolean,
               elapsed_s integer, window_days integer)
LANGUAGE sql STABLE AS $$
    SELECT e.modality, e.priority, e.site, e.week_part, e.level, e.sample_size,
           CASE WHEN ok THEN greatest(p_now, portal.clock_at(greatest(f.p50_c, a.now_c + 60), a.rate, a.cum, a.calendar)) END,
           CASE WHEN ok THEN greatest(p_now, portal.clock_at(greatest(f.p50_c, f.p90_c, a.now_c + 60), a.rate, a.cum, a.calendar)) END,
           ok, e.elapsed_s, st.window_days
      FROM (SELECT x.rate, x.cum, x.calendar, x.anchor_c, x.now_c, portal.estimate_bucket(x.now_c - x.anchor_c) AS rung
              FROM (SELECT c.rate, c.cum, c.calendar, portal.clock_hours(h.anchor_h, c.rate, c.cum, c.calendar) AS anchor_c,
                           portal.clock_hours(h.now_h, c.rate, c.cum, c.calendar) AS now_c
                      FROM portal.clock_for(p_milestone, s.modality, s.priority) c
                     CROSS JOIN (SELECT portal.week_hours(coalesce(portal.stage_anchor(s, s.stage), s.created_at)) AS anchor_h,
                                        portal.week_hours(p_now) AS now_h
                                 OFFSET 0) h) x   -- converted once each, so clock_hours inlines
            OFFSET 0) a   -- computed once, not once per candidate row
     CROSS JOIN LATERAL portal.estimate_candidates(s.modality, s.priority, s.site) c
     CROSS JOIN LATERAL (
           SELECT t.* FROM portal.turnaround_estimates t   -- one primary-key probe per candidate
            WHERE t.stage = s.stage AND t.milestone = p_milestone AND t.elapsed_s = a.rung
              AND t.modality = c.modality AND t.priority = c.priority AND t.site = c.site
              AND t.week_part = 'any') e
     CROSS JOIN portal.estimates_state st
     CROSS JOIN LATERAL (SELECT portal.estimate_enough(e.sample_size, e.p90_s) AS ok) k
      LEFT JOIN portal.estimate_calibration cal ON cal.milestone = p_milestone AND p_stretched
     CROSS JOIN LATERAL (   -- the quantiles on the clock, stretched from the rung's start
           SELECT portal.stretch_clock(a.anchor_c + a.rung, e.p50_s - a.rung, cal.theta50) AS p50_c,
                  portal.stretch_clock(a.anchor_c + a.rung, e.p90_s - a.rung, cal.theta90) AS p90_c) f
     WHERE portal.milestone_ahead(s.stage, p_milestone)
     ORDER BY portal.estimate_preference(c.rank, e.sample_size, e.p90_s)
     LIMIT 1
$$;

-- The release's estimate for one study in flight: one row while available is ahead and the
-- table holds history for it, else none. One primary-key probe for the study's own group,
-- stage, hour of the week of the last hour mark (site time) and wait rung (resolved by the
-- refresh), one for every study's row (a group never seen), and one for every study waiting at
-- that hour with a wait in the rung's band (portal.estimate_wait_band); the first with enough
-- answers. p50_at and p90_at are that hour mark plus the quantiles of the remaining wait measured
-- from it, stretched by the calibration on the study's clock from the mark (or the stage's
-- anchor, if later; portal.stretch_at), so they stay put until the next mark, rung or refresh; at
-- least one minute from now
-- (never in the past); both NULL when too few past studies say (enough = false). elapsed_s is the
-- wait rung, NULL when the answer comes from the band.
CREATE OR REPLACE FUNCTION portal.estimate_lookup_hours(s portal.studies, p_milestone text,
                                                        p_now timestamptz DEFAULT now(),
                                                        p_stretched boolean DEFAULT true)
RETURNS TABLE (modality text, priority text, site text, week_part text, level smallint,
               sample_size integer, p50_at timestamptz, p90_at timestamptz, enough boolean,
               elapsed_s integer, window_days integer)
LANGUAGE sql STABLE AS $$
    SELECT e.modality, e.priority, e.site, 'any'::text, e.level, e.sample_size,
           CASE WHEN e.ok THEN greatest(p_now + interval '1 minute', f.p50_at) END,
           CASE WHEN e.ok THEN greatest(p_now + interval '1 minute', f.p50_at, f.p90_at) END,
           e.ok, CASE WHEN e.rank < 2 THEN e.wait_s END, st.window_days
      FROM (SELECT date_trunc('hour', p_now) AS mark, mh.how, w.anchor,
                   portal.estimate_wait_bucket(extract(epoch FROM p_now - w.anchor)) AS wait_s
              FROM portal.model_hour(p_now) mh
             CROSS JOIN (SELECT coalesce(portal.stage_anchor(s, s.stage), s.created_at) AS anchor) w
            OFFSET 0) a   -- computed once, not once per probe
     CROSS JOIN LATERAL (
           SELECT p.*, portal.estimate_enough(p.sample_size, p.p90_s) AS ok
             FROM ((SELECT t.*, 0 AS rank FROM portal.estimate_hours t
                     WHERE t.stage = s.stage AND t.milestone = p_milestone AND t.modality = s.modality
                       AND t.priority = s.priority AND t.site = s.site AND t.how = a.how
                       AND t.wait_s = a.wait_s)
                   UNION ALL
                   (SELECT t.*, 1 FROM portal.estimate_hours t
                     WHERE t.stage = s.stage AND t.milestone = p_milestone AND t.modality = '*'
                       AND t.priority = '*' AND t.site = '*' AND t.how = a.how AND t.wait_s = a.wait_s)
                   UNION ALL
                   (SELECT t.*, 2 FROM portal.estimate_hours t
                     WHERE t.stage = s.stage AND t.milestone = p_milestone AND t.modality = '*'
                       AND t.priority = '*' AND t.site = '*' AND t.how = a.how
                       AND t.wait_s = portal.estimate_wait_band(a.wait_s))) p
            ORDER BY portal.estimate_enough(p.sample_size, p.p90_s) DESC, p.rank
            LIMIT 1) e
      LEFT JOIN LATERAL portal.clock_for(p_milestone, s.modality, s.priority) k ON true
     CROSS JOIN LATERAL portal.release_times(a.mark, e.p50_s, e.p90_s, k.rate, k.cum, k.calendar) r
      LEFT JOIN portal.estimate_calibration cal ON cal.milestone = p_milestone AND p_stretched
     CROSS JOIN LATERAL (   -- stretched on the clock from the mark (or the anchor, if later)
           SELECT portal.stretch_at(r.p50_at, b.base_c, cal.theta50, k.rate, k.cum, k.calendar) AS p50_at,
                  portal.stretch_at(r.p90_at, b.base_c, cal.theta90, k.rate, k.cum, k.calendar) AS p90_at
             FROM (SELECT CASE WHEN k.rate IS NOT NULL AND (coalesce(cal.theta50, 0) <> 0 OR coalesce(cal.theta90, 0) <> 0)
                               THEN greatest(portal.clock_time(a.anchor, k.rate, k.cum, k.calendar),
                                             portal.clock_time(a.mark, k.rate, k.cum, k.calendar)) END AS base_c) b) f
     CROSS JOIN portal.estimates_state st
     WHERE portal.milestone_ahead(s.stage, p_milestone)
$$;

-- The estimate for one milestone of one study in flight, from the model that holds best for it
-- (docs/estimates.md): report_final from the reading clock, available from the snapshots. The
-- milestone is a constant in every caller, so the planner keeps only its branch. With
-- p_stretched false, the model's own answer without the calibration's stretch (what the
-- calibration judges, portal.record_estimate_answers); the pages get the stretched one.
CREATE OR REPLACE FUNCTION portal.estimate_lookup(s portal.studies, p_milestone text,
                                                  p_now timestamptz DEFAULT now(),
                                                  p_stretched boolean DEFAULT true)
RETURNS TABLE (modality text, priority text, site text, week_part text, level smallint,
               sample_size integer, p50_at timestamptz, p90_at timestamptz, enough boolean,
               elapsed_s integer, window_days integer)
LANGUAGE sql STABLE AS $$
    SELECT c.* FROM portal.estimate_lookup_clock(s, p_milestone, p_now, p_stretched) c
     WHERE p_milestone = 'report_final'
    UNION ALL
    SELECT h.* FROM portal.estimate_lookup_hours(s, p_milestone, p_now, p_stretched) h
     WHERE p_milestone = 'available'
$$;

-- The p90 given on entering a stage (rung 0) for the stage's next milestone, in clock seconds,
-- from the most specific group with enough history, with the clock it is measured on; no row
-- when none has. A set-returning SQL function of plain values, so the planner inlines it.
CREATE OR REPLACE FUNCTION portal.entry_p90(p_stage text, p_modality text, p_priority text, p_site text)
RETURNS TABLE (p90_s double precision, rate double precision[], cum double precision[],
               calendar double precision[])
LANGUAGE sql STABLE AS $$
    SELECT t.p90_s, k.rate, k.cum, k.calendar
      FROM (SELECT CASE WHEN p_stage = 'physician_review' THEN 'available'
                        ELSE 'report_final' END AS milestone) m
     CROSS JOIN LATERAL portal.clock_for(m.milestone, p_modality, p_priority) k
     CROSS JOIN LATERAL portal.estimate_candidates(p_modality, p_priority, p_site) c
      JOIN portal.turnaround_estimates t   -- one primary-key probe per candidate
        ON t.stage = p_stage AND t.milestone = m.milestone AND t.elapsed_s = 0
       AND t.modality = c.modality AND t.priority = c.priority AND t.site = c.site
       AND t.week_part = 'any'
     WHERE portal.milestone_ahead(p_stage, m.milestone)
       AND portal.estimate_enough(t.sample_size, t.p90_s)
     ORDER BY c.rank
     LIMIT 1
$$;

-- Overdue: the study has been in its stage longer, on its clock, than the p90 given on entering
-- it (rung 0) for the stage's next milestone. The conditional p90 moves on as time passes; this
-- one does not.
CREATE OR REPLACE FUNCTION portal.study_overdue(s portal.studies, p_now timestamptz DEFAULT now())
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT portal.clock_hours(h.now_h, e.rate, e.cum, e.calendar) - portal.clock_hours(h.anchor_h, e.rate, e.cum, e.calendar)
               > e.p90_s
          FROM portal.entry_p90(s.stage, s.modality, s.priority, s.site) e
         CROSS JOIN (SELECT portal.week_hours(p_now) AS now_h,
                            portal.week_hours(coalesce(portal.stage_anchor(s, s.stage), s.created_at)) AS anchor_h
                     OFFSET 0) h), false)   -- converted once each, so clock_hours inlines
$$;

-- Rebuilds the clocks and the quantiles from the last p_window of history, in one
-- transaction: readers keep seeing the previous numbers until it commits.
CREATE OR REPLACE FUNCTION portal.refresh_estimates(p_window interval DEFAULT interval '90 days')
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_rows integer;
    v_samples bigint;
BEGIN
    IF p_window IS NULL OR p_window < interval '1 day' OR p_window > interval '3660 days' THEN
        RAISE EXCEPTION 'window: must be from 1 to 3660 days' USING ERRCODE = 'PT422';
    END IF;
    DELETE FROM portal.estimate_clocks;
    INSERT INTO portal.estimate_clocks (milestone, modality, priority, events, rate, cum, calendar)
    SELECT c.milestone, c.modality, c.priority, c.events, c.rate, c.cum, c.calendar
      FROM portal.estimate_clock_rows(now(), p_window) c;
    DELETE FROM portal.turnaround_estimates;
    INSERT INTO portal.turnaround_estimates (modality, priority, site, week_part, level, stage,
                                             milestone, elapsed_s, sample_size, p50_s, p90_s)
    SELECT r.modality, r.priority, r.site, r.week_part, r.level, r.stage, r.milestone,
           r.elapsed_s, r.sample_size, r.p50_s, r.p90_s
      FROM portal.estimate_rows(now(), p_window,
                                (SELECT array_agg(c) FROM portal.estimate_clocks c)) r;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    DELETE FROM portal.estimate_hours;
    INSERT INTO portal.estimate_hours (stage, milestone, modality, priority, site, how, wait_s,
                                       level, sample_size, p50_s, p90_s)
    SELECT r.stage, r.milestone, r.modality, r.priority, r.site, r.how, r.wait_s, r.level,
           r.sample_size, r.p50_s, r.p90_s
      FROM portal.estimate_hour_rows(now(), p_window) r;
    PERFORM portal.refresh_calibration(now());
    SELECT coalesce(sum(e.sample_size), 0) INTO v_samples FROM portal.turnaround_estimates e
     WHERE e.level = 3 AND e.elapsed_s = 0;
    INSERT INTO portal.estimates_state (id, refreshed_at, window_days, samples, rows, took_ms,
                                        time_zone)
    VALUES (true, now(), extract(day FROM p_window)::integer, v_samples, v_rows,
            (extract(epoch FROM clock_timestamp() - v_started) * 1000)::integer,
            portal.site_time_zone())
    ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at,
        window_days = excluded.window_days, samples = excluded.samples, rows = excluded.rows,
        took_ms = excluded.took_ms, time_zone = excluded.time_zone;
    -- Fresh statistics at once, so the lookups plan one primary-key probe per candidate group
    -- (with stale ones the planner may scan a whole stage per study).
    ANALYZE portal.turnaround_estimates;
    ANALYZE portal.estimate_clocks;
    ANALYZE portal.estimate_hours;
    ANALYZE portal.estimates_state;
    ANALYZE portal.estimate_calibration;
    RETURN v_rows;
END $$;

-- What the background task in `portald serve` calls each round: keeps this hour's answers once
-- (portal.record_estimate_answers, before a refresh changes them), then refreshes unless another
-- instance holds the refresh lock now ('busy') or refreshed less than p_min_age_s ago, for the
-- same window and in the session's site time zone ('fresh'). The lock is a
-- transaction-level advisory lock, so a dropped connection can never leave it held.
CREATE OR REPLACE FUNCTION portal.refresh_estimates_if_due(p_window_days integer, p_min_age_s integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(7277710004) THEN
        RETURN 'busy';
    END IF;
    -- The answers are the calibration's input, not worth the model: a failure to keep them is
    -- said (by SQLSTATE only: a row's values are a study's) and the refresh goes on.
    BEGIN
        PERFORM portal.record_estimate_answers(now());
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'estimates: this hour''s answers not kept (SQLSTATE %)', SQLSTATE;
    END;
    IF EXISTS (SELECT FROM portal.estimates_state
                WHERE refreshed_at > now() - make_interval(secs => p_min_age_s)
                  AND window_days = p_window_days
                  AND time_zone IS NOT DISTINCT FROM portal.site_time_zone()) THEN
        RETURN 'fresh';
    END IF;
    PERFORM portal.refresh_estimates(make_interval(days => p_window_days));
    RETURN 'refreshed';
END $$;

-- Every study in flight past its p90 at p_now: portal.study_overdue of each, written as one query.
-- The p90 and its clock depend only on the study's group and stage (a few hundred combinations),
-- so each combination's last on-time start is found once, on its clock (clock_at inverts
-- clock_time), and a study is one timestamp comparison with it. Converting each study's start to
-- its hour of the week and its clock took 15-18 s of CPU at 678,531 studies in flight, in every
-- instance's task rounds (docs/performance.md). The clock runs on the site's wall clock, which
-- repeats or skips an hour (or two, where double summer time was kept) when daylight saving time
-- begins or ends, so the order of two starts on the clock can differ from their order in time only
-- within that much of each other: a start within three hours of the last on-time start is
-- compared on the clock, as study_overdue does. The groups are materialized first: the planner,
-- guessing one row for their join with the studies, otherwise probes the p90 once per study.
-- Both scans read only the studies in flight (studies_unfinished_idx where they are few). For
-- /metrics (overdue_counts) and the staff's notifications (portal.notify_schedule,
-- 75_notifications.sql).
CREATE OR REPLACE FUNCTION portal.overdue_studies(p_now timestamptz)
RETURNS TABLE (study_id uuid, accession text, stage text) LANGUAGE sql STABLE AS $$
    WITH p AS MATERIALIZED (
        SELECT k.stage, k.modality, k.priority, k.site, e.p90_s, e.rate, e.cum, e.calendar, c.now_c,
               portal.clock_at(c.now_c - e.p90_s, e.rate, e.cum, e.calendar) AS due_from
          FROM (SELECT DISTINCT s.stage, s.modality, s.priority, s.site FROM portal.studies s
                 WHERE s.stage NOT IN ('available', 'cancelled')) k
         CROSS JOIN LATERAL portal.entry_p90(k.stage, k.modality, k.priority, k.site) e
         CROSS JOIN LATERAL (SELECT portal.clock_time(p_now, e.rate, e.cum, e.calendar) AS now_c) c)
    SELECT i.id, i.accession, i.stage
      FROM (SELECT s.id, s.accession, s.stage, p.due_from, p.p90_s, p.rate, p.cum, p.calendar, p.now_c,
                   coalesce(portal.stage_anchor(s, s.stage), s.created_at) AS start_at
              FROM p
              JOIN portal.studies s
                ON s.stage = p.stage AND s.modality = p.modality AND s.priority = p.priority
               AND s.site = p.site
             WHERE s.stage NOT IN ('available', 'cancelled')) i
     WHERE i.start_at < i.due_from - interval '3 hours'
        OR (i.start_at < i.due_from + interval '3 hours'
            AND i.now_c - portal.clock_time(i.start_at, i.rate, i.cum, i.calendar) > i.p90_s)
$$;

-- In-flight studies past their p90, by stage, for /metrics (a stage without any is absent: the
-- estimates task counts it as 0).
CREATE OR REPLACE FUNCTION portal.overdue_counts()
RETURNS TABLE (stage text, overdue bigint) LANGUAGE sql STABLE AS $$
    SELECT o.stage, count(*) FROM portal.overdue_studies(now()) o GROUP BY o.stage
$$;

-- ---------------------------------------------------------------------------------------------
-- Backtests: what we would have said, against what happened.
-- ---------------------------------------------------------------------------------------------

-- The models of each day from p_from to p_to, as the refresh would have built them at that
-- day's midnight from the p_window before it (no look-ahead), into temporary tables indexed for
-- the lookups: backtest_clocks and backtest_model (the clock model, for report_final),
-- backtest_hours (the snapshots, for available). For the two backtests below, which estimate
-- from these exactly as portal.estimate_lookup does from the live tables.
CREATE OR REPLACE FUNCTION portal.backtest_models(p_from timestamptz, p_to timestamptz,
                                                  p_window interval, p_rungs integer[])
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DROP TABLE IF EXISTS pg_temp.backtest_model, pg_temp.backtest_clocks, pg_temp.backtest_hours;
    CREATE TEMP TABLE backtest_clocks ON COMMIT DROP AS
    SELECT d.d AS as_of, c.*
      FROM generate_series(date_trunc('day', p_from), date_trunc('day', p_to), interval '1 day') d (d)
     CROSS JOIN LATERAL portal.estimate_clock_rows(d.d, p_window) c;
    CREATE INDEX ON backtest_clocks (as_of, milestone, modality, priority);
    ANALYZE backtest_clocks;
    CREATE TEMP TABLE backtest_model ON COMMIT DROP AS
    SELECT d.as_of, r.*
      FROM (SELECT c.as_of,
                   array_agg(ROW(c.milestone, c.modality, c.priority, c.events, c.rate, c.cum,
                                 c.calendar)::portal.estimate_clocks) AS clocks
              FROM backtest_clocks c WHERE c.milestone = 'report_final' GROUP BY c.as_of) d
     CROSS JOIN LATERAL portal.estimate_rows(d.as_of, p_window, d.clocks, p_rungs) r
     WHERE r.milestone = 'report_final';
    CREATE INDEX ON backtest_model (as_of, stage, milestone, elapsed_s, modality, priority, site);
    ANALYZE backtest_model;
    CREATE TEMP TABLE backtest_hours ON COMMIT DROP AS
    SELECT d.d AS as_of, r.*
      FROM generate_series(date_trunc('day', p_from), date_trunc('day', p_to), interval '1 day') d (d)
     CROSS JOIN LATERAL portal.estimate_hour_rows(d.d, p_window) r;
    CREATE INDEX ON backtest_hours (as_of, stage, milestone, modality, priority, site, how, wait_s);
    ANALYZE backtest_hours;
END $$;

-- The estimate for each question in the temporary table backtest_questions (id, mod, pri, sit,
-- stg, ms, anchor_at, asked_at, done_at), from the models of the day it was asked
-- (portal.backtest_models), exactly as portal.estimate_lookup answers from the live tables with
-- no calibration (theta 0), into the temporary table backtest_scored; for both backtests below.
-- With what portal.backtest_calibrate needs to answer again with a stretch: the study's clock,
-- the clock reading from which the answer runs and the clock time ahead of it (report_final),
-- the snapshots' moments before the clamp (available); and the model's own answer, which the
-- calibration judges (own50_at, own90_at: p50_at and p90_at before any stretch).
CREATE OR REPLACE FUNCTION portal.backtest_score()
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DROP TABLE IF EXISTS pg_temp.backtest_scored;
    CREATE TEMP TABLE backtest_scored ON COMMIT DROP AS
    SELECT x.*, x.p50_at AS own50_at, x.p90_at AS own90_at FROM (   -- own: kept while p50_at moves
    SELECT q.id, q.mod, q.ms, q.asked_at, q.done_at, e.ok,
           greatest(q.asked_at, portal.clock_at(greatest(f.p50_c, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p50_at,
           greatest(q.asked_at, portal.clock_at(greatest(f.p50_c, f.p90_c, k.asked_c + 60), k.rate, k.cum, k.calendar)) AS p90_at,
           k.rate, k.cum, k.calendar, k.asked_c, k.base_c, e.p50_s - k.rung AS ahead50_c,
           e.p90_s - k.rung AS ahead90_c, NULL::timestamptz AS model50_at, NULL::timestamptz AS model90_at
      FROM backtest_questions q
     CROSS JOIN LATERAL (
           SELECT x.*, portal.estimate_bucket(x.asked_c - x.anchor_c) AS rung,
                  x.anchor_c + portal.estimate_bucket(x.asked_c - x.anchor_c) AS base_c
             FROM (SELECT c.rate, c.cum, c.calendar, portal.clock_time(q.anchor_at, c.rate, c.cum, c.calendar) AS anchor_c,
                          portal.clock_time(q.asked_at, c.rate, c.cum, c.calendar) AS asked_c
                     FROM (VALUES (q.mod, q.pri, 0), (q.mod, '*', 1), ('*', '*', 2)) kk (modality, priority, rank)
                     JOIN backtest_clocks c ON c.as_of = date_trunc('day', q.asked_at)
                      AND c.milestone = q.ms AND c.modality = kk.modality AND c.priority = kk.priority
                    ORDER BY kk.rank LIMIT 1) x) k
     CROSS JOIN LATERAL (
           SELECT b.p50_s, b.p90_s, portal.estimate_enough(b.sample_size, b.p90_s) AS ok
             FROM portal.estimate_candidates(q.mod, q.pri, q.sit) c
             JOIN backtest_model b ON b.as_of = date_trunc('day', q.asked_at)
              AND b.elapsed_s = k.rung
              AND b.stage = q.stg AND b.milestone = q.ms AND b.modality = c.modality
              AND b.priority = c.priority AND b.site = c.site
            ORDER BY portal.estimate_preference(c.rank, b.sample_size, b.p90_s)
            LIMIT 1) e
     CROSS JOIN LATERAL (SELECT portal.stretch_clock(k.base_c, e.p50_s - k.rung, 0) AS p50_c,
                                portal.stretch_clock(k.base_c, e.p90_s - k.rung, 0) AS p90_c) f
     WHERE q.ms = 'report_final'
    UNION ALL
    SELECT q.id, q.mod, q.ms, q.asked_at, q.done_at,
           portal.estimate_enough(e.sample_size, e.p90_s),
           greatest(q.asked_at + interval '1 minute', r.p50_at),
           greatest(q.asked_at + interval '1 minute', r.p50_at, r.p90_at),
           k.rate, k.cum, k.calendar, NULL,
           CASE WHEN k.rate IS NOT NULL THEN greatest(portal.clock_time(q.anchor_at, k.rate, k.cum, k.calendar),
                                                      portal.clock_time(a.mark, k.rate, k.cum, k.calendar)) END,
           NULL, NULL, r.p50_at, r.p90_at
      FROM backtest_questions q
     CROSS JOIN LATERAL (
           SELECT date_trunc('day', q.asked_at) AS as_of, date_trunc('hour', q.asked_at) AS mark,
                  (SELECT mh.how FROM portal.model_hour(q.asked_at) mh) AS how,
                  portal.estimate_wait_bucket(extract(epoch FROM q.asked_at - q.anchor_at)) AS wait_s
           OFFSET 0) a
     CROSS JOIN LATERAL (
           SELECT p.sample_size, p.p50_s, p.p90_s
             FROM ((SELECT b.sample_size, b.p50_s, b.p90_s, 0 AS rank FROM backtest_hours b
                     WHERE b.as_of = a.as_of AND b.stage = q.stg AND b.milestone = q.ms
                       AND b.modality = q.mod AND b.priority = q.pri AND b.site = q.sit
                       AND b.how = a.how AND b.wait_s = a.wait_s)
                   UNION ALL
                   (SELECT b.sample_size, b.p50_s, b.p90_s, 1 FROM backtest_hours b
                     WHERE b.as_of = a.as_of AND b.stage = q.stg AND b.milestone = q.ms
                       AND b.modality = '*' AND b.priority = '*' AND b.site = '*'
                       AND b.how = a.how AND b.wait_s = a.wait_s)
                   UNION ALL
                   (SELECT b.sample_size, b.p50_s, b.p90_s, 2 FROM backtest_hours b
                     WHERE b.as_of = a.as_of AND b.stage = q.stg AND b.milestone = q.ms
                       AND b.modality = '*' AND b.priority = '*' AND b.site = '*'
                       AND b.how = a.how AND b.wait_s = portal.estimate_wait_band(a.wait_s))) p
            ORDER BY portal.estimate_enough(p.sample_size, p.p90_s) DESC, p.rank
            LIMIT 1) e
      LEFT JOIN LATERAL (   -- the study's clock, as portal.clock_for
           SELECT c.rate, c.cum, c.calendar
             FROM (VALUES (q.mod, q.pri, 0), (q.mod, '*', 1), ('*', '*', 2)) kk (modality, priority, rank)
             JOIN backtest_clocks c ON c.as_of = a.as_of AND c.milestone = q.ms
              AND c.modality = kk.modality AND c.priority = kk.priority
            ORDER BY kk.rank LIMIT 1) k ON true
     CROSS JOIN LATERAL portal.release_times(a.mark, e.p50_s, e.p90_s, k.rate, k.cum, k.calendar) r
     WHERE q.ms = 'available') x;
END $$;

-- The answers in backtest_scored given again as the lookup gives them with calibration, in the
-- order they were asked: each day's with the theta that portal.refresh_calibration would have
-- set at that day's midnight from the model's own answers (own50_at, own90_at) asked since the
-- replay began (an installation's first days: theta stays 0 until portal.calibration_days() of
-- answers are in). A day's answers use only outcomes known at its start: an answer is due only
-- once its moment is past.
CREATE OR REPLACE FUNCTION portal.backtest_calibrate()
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_first timestamptz;
    v_day timestamptz;
BEGIN
    DROP TABLE IF EXISTS pg_temp.backtest_theta;
    CREATE TEMP TABLE backtest_theta (as_of timestamptz, milestone text, theta50 double precision,
                                      theta90 double precision, due50 bigint, missed50 bigint,
                                      due90 bigint, missed90 bigint) ON COMMIT DROP;
    CREATE INDEX ON backtest_scored (ms, asked_at);
    CREATE INDEX ON backtest_scored (ms, own50_at);
    CREATE INDEX ON backtest_scored (ms, own90_at);
    ANALYZE backtest_scored;
    SELECT min(j.asked_at) INTO v_first FROM backtest_scored j WHERE j.ok;
    FOR v_day IN SELECT generate_series(date_trunc('day', v_first) + interval '1 day',
                                        (SELECT date_trunc('day', max(j.asked_at)) FROM backtest_scored j),
                                        interval '1 day')
    LOOP
        INSERT INTO backtest_theta
        SELECT v_day, m.milestone,
               CASE WHEN k.warm AND d50.studies >= portal.estimate_min_samples()
                    THEN portal.calibration_theta(d50.missed, d50.due, 50, k.per_day) ELSE 0 END,
               CASE WHEN k.warm AND d90.studies >= portal.estimate_min_samples()
                    THEN portal.calibration_theta(d90.missed, d90.due, 90, k.per_day) ELSE 0 END,
               d50.due, d50.missed, d90.due, d90.missed
          FROM (VALUES ('report_final'), ('available')) m (milestone)
         CROSS JOIN LATERAL (
               SELECT coalesce(min(j.asked_at) <= v_day - make_interval(days => portal.calibration_days()), false) AS warm,
                      count(*) / greatest(1.0, extract(epoch FROM v_day - min(j.asked_at)) / 86400) AS per_day
                 FROM backtest_scored j
                WHERE j.ok AND j.ms = m.milestone AND j.asked_at < v_day
                  AND j.asked_at >= v_day - make_interval(days => portal.estimate_answers_days())) k
         CROSS JOIN LATERAL (
               SELECT count(*) AS due, count(DISTINCT j.id) AS studies,
                      count(*) FILTER (WHERE j.done_at IS NULL OR j.done_at > j.own50_at) AS missed
                 FROM backtest_scored j JOIN portal.studies st ON st.id = j.id
                WHERE j.ok AND j.ms = m.milestone AND j.asked_at < v_day
                  AND j.own50_at >= v_day - make_interval(days => portal.calibration_days()) AND j.own50_at < v_day
                  AND (st.cancelled_at IS NULL OR st.cancelled_at > j.own50_at)) d50
         CROSS JOIN LATERAL (
               SELECT count(*) AS due, count(DISTINCT j.id) AS studies,
                      count(*) FILTER (WHERE j.done_at IS NULL OR j.done_at > j.own90_at) AS missed
                 FROM backtest_scored j JOIN portal.studies st ON st.id = j.id
                WHERE j.ok AND j.ms = m.milestone AND j.asked_at < v_day
                  AND j.own90_at >= v_day - make_interval(days => portal.calibration_days()) AND j.own90_at < v_day
                  AND (st.cancelled_at IS NULL OR st.cancelled_at > j.own90_at)) d90;
        UPDATE backtest_scored j
           SET p50_at = CASE WHEN j.ms = 'report_final'
                             THEN greatest(j.asked_at, portal.clock_at(greatest(portal.stretch_clock(j.base_c, j.ahead50_c, t.theta50), j.asked_c + 60),
                                                                       j.rate, j.cum, j.calendar))
                             ELSE greatest(j.asked_at + interval '1 minute',
                                           portal.stretch_at(j.model50_at, j.base_c, t.theta50, j.rate, j.cum, j.calendar)) END,
               p90_at = CASE WHEN j.ms = 'report_final'
                             THEN greatest(j.asked_at, portal.clock_at(greatest(portal.stretch_clock(j.base_c, j.ahead50_c, t.theta50),
                                                                                portal.stretch_clock(j.base_c, j.ahead90_c, t.theta90),
                                                                                j.asked_c + 60), j.rate, j.cum, j.calendar))
                             ELSE greatest(j.asked_at + interval '1 minute',
                                           portal.stretch_at(j.model50_at, j.base_c, t.theta50, j.rate, j.cum, j.calendar),
                                           portal.stretch_at(j.model90_at, j.base_c, t.theta90, j.rate, j.cum, j.calendar)) END
          FROM backtest_theta t
         WHERE t.as_of = v_day AND t.milestone = j.ms AND (t.theta50 <> 0 OR t.theta90 <> 0)
           AND j.ok AND j.asked_at >= v_day AND j.asked_at < v_day + interval '1 day';
    END LOOP;
END $$;

-- For every stage entered in the p_days before p_now (every study, every milestone ahead of
-- it): the estimate the model built at the start of that day would have given on entry. Only
-- entries whose p90 lies before p_now are scored, so each outcome is known whichever way it
-- went; a study still unfinished counts as missing both quantiles and has no error in hours.
-- With p_conditional the study is also asked again at each rung of the ladder after its anchor
-- that it was still in the stage (the model then holds every rung, and the run takes several
-- times longer), as the lookup would have answered then. "studies" counts the distinct studies
-- behind the scored entries: the entries of one study move together, so that is the number to
-- weigh a coverage by.
CREATE OR REPLACE FUNCTION portal.backtest(p_days integer, p_window interval DEFAULT interval '90 days',
                                           p_now timestamptz DEFAULT now(), p_conditional boolean DEFAULT false)
RETURNS TABLE (modality text, milestone text, studies bigint, scored bigint,
               p50_covered double precision,
               p90_covered double precision, median_abs_error_h double precision,
               unfinished bigint, too_few bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
    v_rungs integer[] := CASE WHEN p_conditional THEN portal.estimate_ladder() ELSE ARRAY[0] END;
BEGIN
    IF p_days IS NULL OR p_days < 1 OR p_days > 366 THEN
        RAISE EXCEPTION 'days: must be from 1 to 366' USING ERRCODE = 'PT422';
    END IF;
    PERFORM portal.backtest_models(p_now - make_interval(days => p_days), p_now, p_window, v_rungs);
    DROP TABLE IF EXISTS pg_temp.backtest_questions;
    CREATE TEMP TABLE backtest_questions ON COMMIT DROP AS
    SELECT * FROM (
        SELECT st.id, st.modality AS mod, st.priority AS pri, st.site AS sit, sp.stage AS stg,
               m.milestone AS ms, sp.anchor_at,
               sp.anchor_at + make_interval(secs => r.rung) AS asked_at,
               CASE m.milestone WHEN 'report_final' THEN st.final_at ELSE st.released_at END AS done_at
          FROM portal.studies st
         CROSS JOIN LATERAL portal.study_stage_spans(st) sp
         CROSS JOIN (VALUES ('report_final'), ('available')) m (milestone)
         CROSS JOIN LATERAL unnest(v_rungs) r (rung)
         WHERE st.cancelled_at IS NULL AND portal.milestone_ahead(sp.stage, m.milestone)
           AND (r.rung = 0
                OR coalesce(sp.left_at, p_now) > sp.anchor_at + make_interval(secs => r.rung))) q
     WHERE q.asked_at >= p_now - make_interval(days => p_days) AND q.asked_at < p_now;

    PERFORM portal.backtest_score();

    RETURN QUERY
    WITH judged AS (
        SELECT j.id, j.mod, j.ms, j.ok, j.done_at,
               coalesce(j.done_at <= j.p50_at, false) AS in50,
               coalesce(j.done_at <= j.p90_at, false) AS in90,
               abs(extract(epoch FROM j.done_at - j.p50_at)) / 3600 AS err_h
          FROM backtest_scored j
         WHERE NOT j.ok OR j.p90_at < p_now)
    SELECT coalesce(g.mod, 'all'), coalesce(g.ms, 'all'),
           count(DISTINCT g.id) FILTER (WHERE g.ok), count(*) FILTER (WHERE g.ok),
           (avg(g.in50::integer) FILTER (WHERE g.ok))::double precision,
           (avg(g.in90::integer) FILTER (WHERE g.ok))::double precision,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY g.err_h) FILTER (WHERE g.ok),
           count(*) FILTER (WHERE g.ok AND g.done_at IS NULL),
           count(*) FILTER (WHERE NOT g.ok)
      FROM judged g
     GROUP BY GROUPING SETS ((), (g.mod), (g.ms), (g.mod, g.ms))
     ORDER BY GROUPING(g.mod) DESC, GROUPING(g.ms) DESC, 1, 2;
END $$;

-- The questions of the every-hour backtest (portal.backtest_hours): every hour mark from p_from
-- to p_to at which a study was waiting in a stage for a milestone ahead of it, with what the
-- lookup needs to answer (the columns of the temporary table backtest_questions) and when the
-- milestone came. Also read by the experiments in scripts/, so that they ask the same questions.
CREATE OR REPLACE FUNCTION portal.backtest_hour_questions(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (id uuid, mod text, pri text, sit text, stg text, ms text, anchor_at timestamptz,
               asked_at timestamptz, done_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT st.id, st.modality, st.priority, st.site, sp.stage, m.milestone, sp.anchor_at, h.h,
           m.done_at
      FROM portal.studies st
     CROSS JOIN LATERAL portal.study_stage_spans(st) sp
     CROSS JOIN LATERAL (VALUES ('report_final', st.final_at), ('available', st.released_at)) m (milestone, done_at)
     CROSS JOIN LATERAL generate_series(greatest(date_trunc('hour', sp.reached_at) + interval '1 hour', p_from),
                                        least(sp.left_at, m.done_at, st.cancelled_at, p_to) - interval '1 microsecond',
                                        interval '1 hour') h (h)
     WHERE portal.milestone_ahead(sp.stage, m.milestone) AND sp.anchor_at IS NOT NULL
       AND coalesce(least(sp.left_at, m.done_at, st.cancelled_at), p_to) > p_from
       AND sp.reached_at < p_to
$$;

-- What patients are told at every hour of the week (issue 18): for each hour of the p_days that
-- end p_settle before p_now (so that nearly every outcome is known by p_now), every study
-- waiting then for a milestone (in the stage it was in at that hour) is estimated as the lookup
-- would have, with the model built at that day's midnight from the p_window of history before
-- it (no look-ahead) and the calibration the model's own answers' outcomes set as the replay goes
-- (portal.backtest_calibrate), and scored as portal.backtest scores (only questions whose
-- p90 lies before p_now; a study unfinished then misses both). One row per milestone and hour of
-- the week (site time, 0 = Monday 00:00-01:00 ... 167 = Sunday 23:00-24:00): the average over
-- the week hides hours at which every estimate is early or late. "studies" counts distinct
-- studies, the number to weigh a coverage by.
CREATE OR REPLACE FUNCTION portal.backtest_hours(p_days integer,
                                                 p_window interval DEFAULT interval '90 days',
                                                 p_now timestamptz DEFAULT now(),
                                                 p_settle interval DEFAULT interval '7 days')
RETURNS TABLE (milestone text, hour_of_week integer, studies bigint, scored bigint,
               p50_covered double precision, p90_covered double precision,
               unfinished bigint, too_few bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
    v_to timestamptz := date_trunc('hour', p_now - p_settle);
    v_from timestamptz := date_trunc('hour', p_now - p_settle) - make_interval(days => p_days);
BEGIN
    IF p_days IS NULL OR p_days < 1 OR p_days > 366 THEN
        RAISE EXCEPTION 'days: must be from 1 to 366' USING ERRCODE = 'PT422';
    END IF;
    PERFORM portal.backtest_models(v_from, v_to, p_window, portal.estimate_ladder());
    DROP TABLE IF EXISTS pg_temp.backtest_questions;
    CREATE TEMP TABLE backtest_questions ON COMMIT DROP AS
    SELECT * FROM portal.backtest_hour_questions(v_from, v_to);

    PERFORM portal.backtest_score();
    PERFORM portal.backtest_calibrate();

    RETURN QUERY
    WITH judged AS (
        SELECT j.id, j.ms, j.ok, j.done_at, portal.hour_of_week(j.asked_at) AS how,
               coalesce(j.done_at <= j.p50_at, false) AS in50,
               coalesce(j.done_at <= j.p90_at, false) AS in90
          FROM backtest_scored j
         WHERE NOT j.ok OR j.p90_at < p_now)
    SELECT g.ms, g.how, count(DISTINCT g.id) FILTER (WHERE g.ok), count(*) FILTER (WHERE g.ok),
           (avg(g.in50::integer) FILTER (WHERE g.ok))::double precision,
           (avg(g.in90::integer) FILTER (WHERE g.ok))::double precision,
           count(*) FILTER (WHERE g.ok AND g.done_at IS NULL),
           count(*) FILTER (WHERE NOT g.ok)
      FROM judged g
     GROUP BY g.ms, g.how
     ORDER BY 1, 2;
END $$;
