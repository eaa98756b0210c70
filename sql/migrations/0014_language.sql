-- The patient's language (issue 16): every human text the portal writes them, on the pages, in
-- the API's answers and in notifications, is in it. NULL until they choose; then the request's
-- Accept-Language, else the site's PORTAL_DEFAULT_LANGUAGE, decides.
ALTER TABLE portal.patients
    ADD COLUMN language text CHECK (language IN ('en', 'es', 'fr'));
