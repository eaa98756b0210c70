-- Indexes for the patient's read path, found by `make bench` (docs/performance.md): the study
-- detail asks for the newest discussion request of one study, and without an index on study_id
-- PostgreSQL read every request in the table for each page view (17,000 rows at 200,000 studies).
CREATE INDEX discussion_requests_study_idx ON portal.discussion_requests (study_id, created_at DESC);
