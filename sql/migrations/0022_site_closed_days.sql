-- The site's calendar of closed days (issue 18): public holidays and other days on which the site
-- works as it does on a Sunday (emergencies only). Administrators enter them ahead
-- (`/api/v1/admin/closed-days`); the estimates read them so that a study waiting before a closed
-- Monday is not promised its report on that Monday, and so that the closed Monday in the history
-- does not teach the reading clock that Mondays are slow. docs/estimates.md explains the model.
CREATE TABLE portal.site_closed_days (
    day      date PRIMARY KEY,
    note     text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    added_by text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);

-- Each clock's closed days, as portal.clock_calendar lays them out (sql/definitions/
-- 50_estimates.sql): empty when the site has none. Read with the rates on every lookup, so kept
-- in the row like them.
ALTER TABLE portal.estimate_clocks
    ADD COLUMN calendar double precision[] NOT NULL DEFAULT '{}' CHECK (cardinality(calendar) % 3 = 0);
ALTER TABLE portal.estimate_clocks ALTER COLUMN calendar SET STORAGE PLAIN;
