-- ---------------------------------------------------------------------------------------------
-- Login throttling: per access-code selector and per client address, kept in the database so it
-- survives restarts and holds across instances.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION portal.login_locked(p_keys text[]) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT FROM portal.login_throttle
                    WHERE key = ANY (p_keys) AND locked_until > now());
$$;

-- Counts a failure against each key; a key locks for p_lock once it reaches its limit within
-- p_window. p_limits pairs with p_keys.
CREATE OR REPLACE FUNCTION portal.login_failed(p_keys text[], p_limits integer[], p_window interval,
                                               p_lock interval)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. cardinality(p_keys) LOOP
        INSERT INTO portal.login_throttle AS t (key, failures, window_start)
        VALUES (p_keys[i], 1, now())
        ON CONFLICT (key) DO UPDATE SET
            failures = CASE WHEN t.window_start < now() - p_window THEN 1 ELSE t.failures + 1 END,
            window_start = CASE WHEN t.window_start < now() - p_window THEN now() ELSE t.window_start END;
        UPDATE portal.login_throttle SET locked_until = now() + p_lock
         WHERE key = p_keys[i] AND failures >= p_limits[i];
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION portal.login_succeeded(p_key text) RETURNS void LANGUAGE sql AS $$
    DELETE FROM portal.login_throttle WHERE key = p_key;
$$;

-- Ends every session of (p_role, p_sub) issued up to now: tokens whose iat is below the returned
-- second are refused from then on, on every instance (each listens on portal_sessions). The next
-- second, not this one: a token signed earlier in this second has iat = this second. And at least
-- one past the last revocation: a token signed since then has iat = that second (server/session.c
-- signs no earlier), so a second sign-out within the same second must still end it.
CREATE OR REPLACE FUNCTION portal.revoke_sessions(p_role text, p_sub text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_before bigint := floor(extract(epoch FROM clock_timestamp()))::bigint + 1;
BEGIN
    INSERT INTO portal.session_revocations AS r (role, sub, revoked_before)
    VALUES (p_role, p_sub, v_before)
    ON CONFLICT (role, sub) DO UPDATE
        SET revoked_before = greatest(r.revoked_before + 1, EXCLUDED.revoked_before),
            revoked_at = now()
    RETURNING revoked_before INTO v_before;
    PERFORM pg_notify('portal_sessions', p_role || ' ' || v_before || ' ' || p_sub);
    RETURN v_before;
END $$;
