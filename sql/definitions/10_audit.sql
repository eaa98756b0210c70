-- The audit log is append-only: portal_app may only insert into it (sql/grants.sql), and this
-- trigger refuses UPDATE, DELETE and TRUNCATE from anyone, the owner and superusers included.
-- (The table is in sql/migrations/0001_domain.sql.)

CREATE OR REPLACE FUNCTION portal.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON portal.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION portal.audit_log_is_append_only();
