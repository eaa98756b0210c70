-- The site's time zone the model was learned in (portal.site_timezone, which portald sets from
-- PORTAL_TIME_ZONE): the clocks' hours of the week and closed days are on that wall clock, so the
-- estimates task of a server in another zone rebuilds the model at its next round, however fresh
-- (portal.refresh_estimates_if_due). NULL for a model built before this column: rebuilt likewise.
ALTER TABLE portal.estimates_state ADD COLUMN time_zone text;
