-- Shared by the estimates experiments in scripts/ (`\ir experiment_params.sql`), not run alone:
-- one transaction (each script rolls it back) and the replayed span, params: the :days days that
-- ended :settle days ago (v_from to v_to), each day's model from the :window days before it (win).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
CREATE TEMP TABLE params AS
SELECT date_trunc('hour', now() - make_interval(days => :settle)) AS v_to,
       date_trunc('hour', now() - make_interval(days => :settle)) - make_interval(days => :days) AS v_from,
       make_interval(days => :window) AS win;
