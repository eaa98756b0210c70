-- The FHIR API's searches by a physician (Q_FHIR_*_AS_PHYSICIAN in server/queries.c) find the
-- studies they referred at every stage, newest change first; studies_physician_idx holds only the
-- studies with a report to review, so without this index each such search read the whole table.
CREATE INDEX studies_referrer_idx ON portal.studies (referring_physician_id, updated_at DESC);
