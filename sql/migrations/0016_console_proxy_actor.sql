-- The staff console manages proxy links (issue 17): the functions that write a proxy's code, a
-- link and a renewal now take who did it (role and id) and the request id, so a staff member's
-- action is audited as theirs. Their definitions (sql/definitions/65_proxies.sql) have new
-- signatures; the old ones go here, so that no caller can reach a version that audits as
-- 'operator'.
DROP FUNCTION IF EXISTS portal.proxy_set_code(uuid, text, date, text, text, text, text);
DROP FUNCTION IF EXISTS portal.proxy_grant(uuid, text, text, text, timestamptz, text);
DROP FUNCTION IF EXISTS portal.proxy_renew(uuid, timestamptz, text);
