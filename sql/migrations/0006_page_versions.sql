-- Version stamps for the patient's pages, so `portald serve` can keep a page it built and still
-- answer exactly what the database holds (server/page_cache.c, docs/performance.md).
--
-- Every write that can change what a patient's study list or study detail shows stamps that
-- patient with a fresh number from one sequence; writes that can change every patient's pages
-- (the turnaround estimates, the release policies) stamp the one global row. A kept page carries
-- the two stamps read in the same snapshot as its data; before it is served again the server reads
-- the two current stamps by primary key, and any difference means the page is built anew. Numbers
-- from a sequence never repeat, so a stamp cannot come back to an old value.
--
-- A kept page with a released report is served again only through portal.reread_released_page,
-- which checks the stamps and the release and appends the audit row of that read in the same
-- call, so every read of report text is still audited (CONTRACT invariant 4), and the text itself
-- was read once through the release gate (portal.patient_report).
--
-- A physician's name, phone and scheduling address show on released pages (the prompt to talk the
-- results over); a real change to them stamps the global row, since a physician's patients can be
-- many and such changes are rare (the RIS resends the same details with every event, which changes
-- nothing and stamps nothing).
--
-- The stamping triggers and portal.reread_released_page are in sql/definitions/90_pages.sql.

CREATE SEQUENCE portal.page_version_seq;

CREATE TABLE portal.page_versions (
    patient_id uuid PRIMARY KEY,
    version    bigint NOT NULL
);

CREATE TABLE portal.page_global_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO portal.page_global_version (version) VALUES (nextval('portal.page_version_seq'));
