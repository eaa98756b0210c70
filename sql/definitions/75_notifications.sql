-- Notifications (issue 15, docs/notifications.md): the outbox rows, written by triggers in the
-- transaction of the change that causes them, whichever way the change came (the JSON API, the
-- HL7 listener, the PACS follower, the release sweep: they all end in the same tables); the
-- scheduled ones (a hold ending within 24 hours, an overdue study, the daily digest) written by
-- portal.notify_schedule; and what the senders call to claim due rows and record how each attempt
-- went. The table is in sql/migrations/0009_notifications.sql.
--
-- Every function that writes the outbox runs as its owner (portal_app holds no write on it), and
-- each takes the time it works at as an argument where time matters, so tests set the clock
-- instead of waiting.

-- ---------------------------------------------------------------------------------------------
-- Quiet hours
-- ---------------------------------------------------------------------------------------------

-- When quiet hours that hold p_now end, in time zone p_tz: NULL when p_now is outside them (or
-- there are none). p_start > p_end spans midnight (21:00-08:00).
CREATE OR REPLACE FUNCTION portal.notify_quiet_until(p_now timestamptz, p_tz text, p_start time,
                                                     p_end time)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_start IS NULL OR p_end IS NULL OR p_start = p_end THEN NULL
        WHEN p_start < p_end AND l::time >= p_start AND l::time < p_end
            THEN (l::date + p_end) AT TIME ZONE p_tz
        WHEN p_start > p_end AND l::time >= p_start
            THEN (l::date + 1 + p_end) AT TIME ZONE p_tz
        WHEN p_start > p_end AND l::time < p_end
            THEN (l::date + p_end) AT TIME ZONE p_tz
    END
      FROM (SELECT p_now AT TIME ZONE p_tz AS l) local;
$$;

-- Whether PostgreSQL knows p_tz as a time zone name (an abbreviation or offset is refused: a
-- patient's quiet hours must follow their summer time).
CREATE OR REPLACE FUNCTION portal.notify_time_zone_known(p_tz text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_tz IS NOT NULL AND length(p_tz) BETWEEN 1 AND 64
       AND EXISTS (SELECT FROM pg_catalog.pg_timezone_names WHERE name = p_tz);
$$;

-- ---------------------------------------------------------------------------------------------
-- Writing the outbox
-- ---------------------------------------------------------------------------------------------

-- A patient's message about one study, on each channel the patient chose and has an address
-- for. Nothing for a patient who chose none.
CREATE OR REPLACE FUNCTION portal.notify_patient(p_patient uuid, p_study uuid, p_kind text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p portal.patients;
BEGIN
    SELECT * INTO p FROM portal.patients WHERE id = p_patient;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p.notify_channel IN ('email', 'both') AND coalesce(p.email_override, p.email) IS NOT NULL THEN
        INSERT INTO portal.notifications (kind, channel, patient_id, study_id)
        VALUES (p_kind, 'email', p_patient, p_study);
    END IF;
    IF p.notify_channel IN ('text', 'both') AND coalesce(p.phone_override, p.phone) IS NOT NULL THEN
        INSERT INTO portal.notifications (kind, channel, patient_id, study_id)
        VALUES (p_kind, 'webhook', p_patient, p_study);
    END IF;
END $$;

-- A physician's message: by email where the portal has their address, else through the webhook
-- to the site's messaging platform. Nothing for a physician who turned messages off. A digest
-- joins the one already waiting; p_dedupe makes a scheduled message once only. p_now is when
-- (the schedule's clock, which tests set).
CREATE OR REPLACE FUNCTION portal.notify_physician(p_physician text, p_kind text, p_study uuid,
                                                   p_dedupe text, p_now timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ph portal.physicians;
    v_channel text;
    n integer;
BEGIN
    SELECT * INTO ph FROM portal.physicians WHERE id = p_physician;
    IF NOT FOUND OR ph.notify_digest = 'none' THEN
        RETURN 0;
    END IF;
    v_channel := CASE WHEN ph.email IS NOT NULL THEN 'email' ELSE 'webhook' END;
    IF p_kind = 'reports_waiting' THEN
        INSERT INTO portal.notifications (kind, channel, physician_id, due_at, created_at)
        VALUES (p_kind, v_channel, p_physician, p_now, p_now)
        ON CONFLICT (physician_id, channel) WHERE kind = 'reports_waiting' AND state = 'waiting'
        DO NOTHING;
    ELSE
        INSERT INTO portal.notifications (kind, channel, physician_id, study_id, dedupe_key, due_at,
                                          created_at)
        VALUES (p_kind, v_channel, p_physician, p_study, p_dedupe, p_now, p_now)
        ON CONFLICT (dedupe_key) DO NOTHING;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- A report released to the patient, by the physician or by policy: the patient is told. A
-- release of a later version after an earlier one was released is an updated result.
CREATE OR REPLACE FUNCTION portal.notify_on_release() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_patient uuid;
    v_earlier boolean;
BEGIN
    SELECT s.patient_id INTO v_patient FROM portal.studies s WHERE s.id = NEW.study_id;
    SELECT EXISTS (SELECT FROM portal.releases r
                    WHERE r.study_id = NEW.study_id AND r.version < NEW.version) INTO v_earlier;
    PERFORM portal.notify_patient(v_patient, NEW.study_id,
                                  CASE WHEN v_earlier THEN 'result_updated' ELSE 'result_ready' END);
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER notify_on_release AFTER INSERT ON portal.releases
    FOR EACH ROW EXECUTE FUNCTION portal.notify_on_release();

-- A final or amended report arrived: a physician who wants to hear at once gets the digest
-- ("N reports wait for your review", counted when it is sent). Daily digests are the schedule's.
CREATE OR REPLACE FUNCTION portal.notify_on_report() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_physician text;
BEGIN
    SELECT s.referring_physician_id INTO v_physician
      FROM portal.studies s JOIN portal.physicians ph ON ph.id = s.referring_physician_id
     WHERE s.id = NEW.study_id AND ph.notify_digest = 'immediate';
    IF FOUND THEN
        PERFORM portal.notify_physician(v_physician, 'reports_waiting', NULL, NULL, now());
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER notify_on_report AFTER INSERT ON portal.report_versions
    FOR EACH ROW WHEN (NEW.status <> 'preliminary') EXECUTE FUNCTION portal.notify_on_report();

-- A patient asked for a call back: the physician is told (the request, never its message).
CREATE OR REPLACE FUNCTION portal.notify_on_discussion() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM portal.notify_physician(NEW.physician_id, 'callback_requested', NEW.study_id,
                                    'callback_requested:' || NEW.id::text, now());
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER notify_on_discussion AFTER INSERT ON portal.discussion_requests
    FOR EACH ROW EXECUTE FUNCTION portal.notify_on_discussion();

-- The office answered a call-back request with a time or a message: the patient is told that
-- there is an answer (the message says only that; the time and words are in the portal). An
-- answer that only marks the request contacted or closed, without words, tells them nothing new.
CREATE OR REPLACE FUNCTION portal.notify_on_discussion_answer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM portal.notify_patient(NEW.patient_id, NEW.study_id, 'callback_answered');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER notify_on_discussion_answer AFTER UPDATE ON portal.discussion_requests
    FOR EACH ROW WHEN ((NEW.state = 'scheduled' AND NEW.scheduled_for IS DISTINCT FROM OLD.scheduled_for)
                       OR (NEW.reply IS NOT NULL AND NEW.reply IS DISTINCT FROM OLD.reply))
    EXECUTE FUNCTION portal.notify_on_discussion_answer();

-- A patient read a released report: the messages about it still waiting (held by quiet hours, a
-- back-off or the rate cap) are not sent; the patient knows.
CREATE OR REPLACE FUNCTION portal.notify_on_read() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE portal.notifications
       SET state = 'cancelled', failure = 'read', ended_at = now()
     WHERE study_id = NEW.study_id AND state = 'waiting'
       AND kind IN ('result_ready', 'result_updated') AND patient_id::text = NEW.actor_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER notify_on_read AFTER INSERT ON portal.audit_log
    FOR EACH ROW WHEN (NEW.action = 'report.read' AND NEW.actor_role = 'patient')
    EXECUTE FUNCTION portal.notify_on_read();

-- ---------------------------------------------------------------------------------------------
-- The schedule: what the passing of time causes
-- ---------------------------------------------------------------------------------------------

-- The studies whose report waits for the physician's review: final or amended, not released, no
-- hold in force. One SELECT, so the planner inlines it into each caller (a physician's count reads
-- studies_physician_idx).
CREATE OR REPLACE FUNCTION portal.notify_waiting_studies(p_now timestamptz)
RETURNS TABLE (study_id uuid, physician_id text) LANGUAGE sql STABLE AS $$
    SELECT s.id, s.referring_physician_id FROM portal.studies s
     WHERE s.reviewable_version IS NOT NULL
       AND s.released_version IS DISTINCT FROM s.reviewable_version
       AND NOT EXISTS (SELECT FROM portal.holds h WHERE h.study_id = s.id AND h.ended_at IS NULL
                          AND coalesce(h.ends_at, 'infinity') > p_now)
$$;

-- Reports waiting for each physician's review.
CREATE OR REPLACE FUNCTION portal.notify_reports_waiting(p_physician text, p_now timestamptz)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer FROM portal.notify_waiting_studies(p_now) w
     WHERE w.physician_id = p_physician;
$$;

-- One round of the schedule at p_now: a physician's hold ending within 24 hours (once per hold);
-- each study past the p90 of its stage, to the staff address (once per study and stage, only when
-- p_staff: a site without a staff address collects none); the daily digest (for physicians on
-- the daily digest, at p_digest_hour in the site's time zone; for the others, again 24 hours
-- after the last while reports still wait); both physicians' messages only when p_physicians (a
-- channel is configured); waiting messages older than p_max_age end failed as
-- expired; ended ones older than p_keep are deleted. One round at a time across instances.
CREATE OR REPLACE FUNCTION portal.notify_schedule(p_now timestamptz, p_site_tz text,
                                                  p_digest_hour integer, p_physicians boolean,
                                                  p_staff boolean, p_max_age interval,
                                                  p_keep interval)
RETURNS TABLE (hold_ending integer, overdue integer, digests integer, expired integer,
               deleted integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_now timestamptz := coalesce(p_now, now());
    v_slot timestamptz;
    r record;
BEGIN
    hold_ending := 0; overdue := 0; digests := 0; expired := 0; deleted := 0;
    IF NOT pg_try_advisory_xact_lock(7277710015) THEN
        RETURN NEXT;
        RETURN;
    END IF;

    FOR r IN SELECT h.id, h.study_id, h.placed_by FROM portal.holds h
              WHERE p_physicians AND h.ended_at IS NULL AND h.ends_at > v_now
                AND h.ends_at <= v_now + interval '24 hours'
                AND NOT EXISTS (SELECT FROM portal.notifications n
                                 WHERE n.dedupe_key = 'hold_ending:' || h.id::text)
    LOOP
        hold_ending := hold_ending + portal.notify_physician(r.placed_by, 'hold_ending', r.study_id,
                                                             'hold_ending:' || r.id::text, v_now);
    END LOOP;

    IF p_staff THEN
        INSERT INTO portal.notifications (kind, channel, study_id, accession, stage, dedupe_key, due_at)
        SELECT 'study_overdue', 'email', o.study_id, o.accession, o.stage,
               'study_overdue:' || o.study_id::text || ':' || o.stage, v_now
          FROM portal.overdue_studies(v_now) o
        ON CONFLICT (dedupe_key) DO NOTHING;
        GET DIAGNOSTICS overdue = ROW_COUNT;
    END IF;

    -- The last digest hour at or before now, in the site's time zone.
    v_slot := (date_trunc('day', v_now AT TIME ZONE p_site_tz) + make_interval(hours => p_digest_hour))
              AT TIME ZONE p_site_tz;
    IF v_slot > v_now THEN
        v_slot := v_slot - interval '1 day';
    END IF;
    -- The physicians with reports waiting, in one pass over the studies: with a per-physician
    -- count in the filter, the planner pushed the call below the grouping, once per study instead
    -- of once per physician (402 s instead of about one at 1,000,000 studies and 1,000
    -- physicians; docs/performance.md).
    FOR r IN SELECT w.physician_id
               FROM (SELECT ws.physician_id FROM portal.notify_waiting_studies(v_now) ws
                      WHERE p_physicians GROUP BY ws.physician_id) w
               JOIN portal.physicians ph ON ph.id = w.physician_id
              WHERE ph.notify_digest <> 'none'
                AND NOT EXISTS (SELECT FROM portal.notifications n
                                 WHERE n.physician_id = w.physician_id AND n.kind = 'reports_waiting'
                                   AND n.created_at > CASE WHEN ph.notify_digest = 'daily' THEN v_slot
                                                           ELSE v_now - interval '24 hours' END)
    LOOP
        digests := digests + portal.notify_physician(r.physician_id, 'reports_waiting', NULL, NULL, v_now);
    END LOOP;

    UPDATE portal.notifications SET state = 'failed', failure = 'expired', ended_at = v_now
     WHERE state = 'waiting' AND created_at < v_now - p_max_age;
    GET DIAGNOSTICS expired = ROW_COUNT;
    DELETE FROM portal.notifications
     WHERE state IN ('sent', 'failed', 'cancelled') AND ended_at < v_now - p_keep;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN NEXT;
END $$;

-- ---------------------------------------------------------------------------------------------
-- The senders
-- ---------------------------------------------------------------------------------------------

-- Messages sent to one recipient (a patient or a physician) in the hour before p_now, for the
-- rate cap; each branch reads its own partial index.
CREATE OR REPLACE FUNCTION portal.notify_sent_last_hour(p_patient uuid, p_physician text,
                                                        p_now timestamptz)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_patient IS NOT NULL THEN
               (SELECT count(*) FROM portal.notifications s
                 WHERE s.patient_id = p_patient AND s.state = 'sent' AND s.sent_at > p_now - interval '1 hour')
           ELSE
               (SELECT count(*) FROM portal.notifications s
                 WHERE s.physician_id = p_physician AND s.state = 'sent' AND s.sent_at > p_now - interval '1 hour')
           END;
$$;

-- Claims up to p_limit due messages of one channel for p_worker until p_now + p_lease_s: a claim
-- whose sender died ends with its lease, and another takes the message (at least once). On the
-- way it moves patients' messages in their quiet hours (p_quiet_start-p_quiet_end in the patient's
-- time zone, else p_site_tz) to the end of them, holds back recipients who were sent p_rate_cap
-- messages in the last hour, and ends what can no longer be sent (a patient who turned the
-- channel off, a digest with nothing left waiting). Returns what the sender needs to render each
-- message: its kind and key, the address, the number of reports waiting (digests), the accession
-- and stage (staff), the unsubscribe key, the attempt's number and the patient's saved language.
-- Never report text, never a name.
-- (Dropped first: its answer gained the patient's language, and a function's result type
-- cannot be replaced in place; sql/grants.sql, applied after the definitions, grants it again.)
DROP FUNCTION IF EXISTS portal.notify_claim(text, integer, integer, text, timestamptz, time, time,
                                            text, integer);
CREATE OR REPLACE FUNCTION portal.notify_claim(p_channel text, p_limit integer, p_lease_s integer,
                                               p_worker text, p_now timestamptz,
                                               p_quiet_start time, p_quiet_end time,
                                               p_site_tz text, p_rate_cap integer)
RETURNS TABLE (id bigint, message_id uuid, kind text, audience text, address text,
               reports_waiting integer, accession text, stage text, unsubscribe_id uuid,
               attempt integer, language text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := coalesce(p_now, now());
    n portal.notifications;
    p portal.patients;
    ph portal.physicians;
    px portal.proxies;
    v_taken integer := 0;
    v_quiet timestamptz;
    v_address text;
    v_waiting integer;
BEGIN
    FOR n IN SELECT * FROM portal.notifications x
              WHERE x.channel = p_channel AND x.state IN ('waiting', 'sending') AND x.due_at <= v_now
              ORDER BY x.due_at, x.id
              LIMIT greatest(p_limit, 1) * 4
              FOR UPDATE SKIP LOCKED
    LOOP
        EXIT WHEN v_taken >= p_limit;
        v_address := NULL;
        v_waiting := NULL;
        IF n.patient_id IS NOT NULL THEN
            SELECT * INTO p FROM portal.patients WHERE portal.patients.id = n.patient_id;
            IF (p_channel = 'email' AND p.notify_channel NOT IN ('email', 'both'))
               OR (p_channel = 'webhook' AND p.notify_channel NOT IN ('text', 'both')) THEN
                UPDATE portal.notifications SET state = 'cancelled', failure = 'unsubscribed',
                       ended_at = v_now WHERE portal.notifications.id = n.id;
                CONTINUE;
            END IF;
            v_address := CASE WHEN p_channel = 'email' THEN coalesce(p.email_override, p.email)
                              ELSE coalesce(p.phone_override, p.phone) END;
            v_quiet := portal.notify_quiet_until(v_now, coalesce(p.time_zone, p_site_tz),
                                                 p_quiet_start, p_quiet_end);
            IF v_quiet IS NOT NULL THEN
                UPDATE portal.notifications SET state = 'waiting', due_at = v_quiet
                 WHERE portal.notifications.id = n.id;
                CONTINUE;
            END IF;
        ELSIF n.proxy_id IS NOT NULL THEN
            -- The proxy rules again (sql/definitions/65_proxies.sql): a link that ended or a
            -- report marked since means no message, not even that there was one.
            IF NOT portal.proxy_may_see(n.proxy_id, n.study_id) THEN
                UPDATE portal.notifications SET state = 'cancelled', failure = 'not_permitted',
                       ended_at = v_now WHERE portal.notifications.id = n.id;
                CONTINUE;
            END IF;
            SELECT * INTO px FROM portal.proxies WHERE portal.proxies.id = n.proxy_id;
            v_address := px.email;
            v_quiet := portal.notify_quiet_until(v_now, p_site_tz, p_quiet_start, p_quiet_end);
            IF v_quiet IS NOT NULL THEN
                UPDATE portal.notifications SET state = 'waiting', due_at = v_quiet
                 WHERE portal.notifications.id = n.id;
                CONTINUE;
            END IF;
        ELSIF n.physician_id IS NOT NULL THEN
            SELECT * INTO ph FROM portal.physicians WHERE portal.physicians.id = n.physician_id;
            IF ph.notify_digest = 'none' THEN
                UPDATE portal.notifications SET state = 'cancelled', failure = 'unsubscribed',
                       ended_at = v_now WHERE portal.notifications.id = n.id;
                CONTINUE;
            END IF;
            v_address := CASE WHEN p_channel = 'email' THEN ph.email ELSE ph.id END;
            IF n.kind = 'reports_waiting' THEN
                v_waiting := portal.notify_reports_waiting(n.physician_id, v_now);
                IF v_waiting = 0 THEN
                    UPDATE portal.notifications SET state = 'cancelled', failure = 'nothing_waiting',
                           ended_at = v_now WHERE portal.notifications.id = n.id;
                    CONTINUE;
                END IF;
            END IF;
        END IF;
        IF p_rate_cap > 0 AND (n.patient_id IS NOT NULL OR n.physician_id IS NOT NULL)
           AND portal.notify_sent_last_hour(n.patient_id, n.physician_id, v_now) >= p_rate_cap THEN
            UPDATE portal.notifications SET state = 'waiting', due_at = v_now + interval '5 minutes'
             WHERE portal.notifications.id = n.id;
            CONTINUE;
        END IF;
        UPDATE portal.notifications
           SET state = 'sending', due_at = v_now + make_interval(secs => p_lease_s),
               attempts = attempts + 1, claimed_by = p_worker
         WHERE portal.notifications.id = n.id;
        v_taken := v_taken + 1;
        id := n.id;
        message_id := n.message_id;
        kind := n.kind;
        audience := CASE WHEN n.patient_id IS NOT NULL THEN 'patient'
                         WHEN n.physician_id IS NOT NULL THEN 'physician'
                         WHEN n.proxy_id IS NOT NULL THEN 'proxy' ELSE 'staff' END;
        address := v_address;
        reports_waiting := v_waiting;
        accession := n.accession;
        stage := n.stage;
        unsubscribe_id := CASE WHEN n.patient_id IS NOT NULL THEN p.unsubscribe_id
                               WHEN n.physician_id IS NOT NULL THEN ph.unsubscribe_id END;
        attempt := n.attempts + 1;
        -- The patient's saved choice (NULL: the site's language); proxies and physicians have none.
        language := CASE WHEN n.patient_id IS NOT NULL THEN p.language END;
        RETURN NEXT;
    END LOOP;
END $$;

-- How an attempt went: 'sent'; 'retry' after p_delay_s (a temporary failure of class p_failure;
-- past p_max_attempts it ends failed); 'failed' (permanent); 'cancelled'. A message another
-- sender already finished stays as that one recorded it. Returns the message's state now.
CREATE OR REPLACE FUNCTION portal.notify_result(p_id bigint, p_outcome text, p_failure text,
                                                p_delay_s integer, p_max_attempts integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_state text;
BEGIN
    IF p_outcome NOT IN ('sent', 'retry', 'failed', 'cancelled') THEN
        RAISE EXCEPTION 'outcome: must be sent, retry, failed or cancelled' USING ERRCODE = 'PT422';
    END IF;
    UPDATE portal.notifications n SET
        state = CASE WHEN p_outcome = 'retry' AND n.attempts < p_max_attempts THEN 'waiting'
                     WHEN p_outcome = 'retry' THEN 'failed' ELSE p_outcome END,
        failure = CASE WHEN p_outcome = 'sent' THEN n.failure ELSE p_failure END,
        due_at = CASE WHEN p_outcome = 'retry' THEN now() + make_interval(secs => p_delay_s)
                      ELSE n.due_at END,
        sent_at = CASE WHEN p_outcome = 'sent' THEN now() END,
        ended_at = CASE WHEN p_outcome = 'retry' AND n.attempts < p_max_attempts THEN NULL
                        ELSE now() END
     WHERE n.id = p_id AND n.state IN ('sending', 'waiting')
    RETURNING n.state INTO v_state;
    IF v_state IS NULL THEN
        SELECT n.state INTO v_state FROM portal.notifications n WHERE n.id = p_id;
    END IF;
    RETURN v_state;
END $$;

-- ---------------------------------------------------------------------------------------------
-- People's choices
-- ---------------------------------------------------------------------------------------------

-- What the patient sees of their contact details: the address and number messages go to (the
-- patient's own correction, else the RIS's), where each came from, the channel and time zone.
CREATE OR REPLACE FUNCTION portal.patient_contact(p_patient uuid)
RETURNS TABLE (email text, email_source text, phone text, phone_source text, channel text,
               time_zone text, updated_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(p.email_override, p.email),
           CASE WHEN p.email_override IS NOT NULL THEN 'patient'
                WHEN p.email IS NOT NULL THEN 'registration' END,
           coalesce(p.phone_override, p.phone),
           CASE WHEN p.phone_override IS NOT NULL THEN 'patient'
                WHEN p.phone IS NOT NULL THEN 'registration' END,
           p.notify_channel, p.time_zone, p.contact_updated_at
      FROM portal.patients p WHERE p.id = p_patient;
$$;

-- The write behind portal.set_patient_contact below, shared with the front desk's correction
-- (portal.staff_set_patient_contact, 85_staff.sql), which is audited under the staff member's
-- name with the details before and after (p_with_values). Internal: portal_app may not call it.
CREATE OR REPLACE FUNCTION portal.write_patient_contact(p_patient uuid, p_email text, p_phone text,
                                                        p_channel text, p_time_zone text,
                                                        p_actor_role text, p_actor_id text,
                                                        p_with_values boolean,
                                                        p_request_id text, p_client_addr text)
RETURNS TABLE (email text, email_source text, phone text, phone_source text, channel text,
               time_zone text, updated_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_before jsonb;
BEGIN
    IF p_time_zone IS NOT NULL AND NOT portal.notify_time_zone_known(p_time_zone) THEN
        RAISE EXCEPTION 'time_zone: must be a time zone name such as Europe/Paris' USING ERRCODE = 'PT422';
    END IF;
    IF p_channel IN ('email', 'both') AND p_email IS NULL
       AND NOT EXISTS (SELECT FROM portal.patients WHERE id = p_patient AND email IS NOT NULL) THEN
        RAISE EXCEPTION 'email: is required to be told by email' USING ERRCODE = 'PT422';
    END IF;
    IF p_channel IN ('text', 'both') AND p_phone IS NULL
       AND NOT EXISTS (SELECT FROM portal.patients WHERE id = p_patient AND phone IS NOT NULL) THEN
        RAISE EXCEPTION 'phone: is required to be told by text message' USING ERRCODE = 'PT422';
    END IF;
    IF p_with_values THEN
        SELECT to_jsonb(c) - 'updated_at' INTO v_before FROM portal.patient_contact(p_patient) c;
    END IF;
    UPDATE portal.patients SET email_override = p_email, phone_override = p_phone,
                               notify_channel = p_channel, time_zone = p_time_zone,
                               contact_updated_at = now()
     WHERE id = p_patient AND merged_into IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES (p_actor_role, p_actor_id, 'patient.contact',
            jsonb_build_object('channel', p_channel, 'email_set', p_email IS NOT NULL,
                               'phone_set', p_phone IS NOT NULL, 'time_zone_set', p_time_zone IS NOT NULL)
            || CASE WHEN p_with_values THEN jsonb_build_object(
                   'patient_id', p_patient, 'before', v_before,
                   'after', (SELECT to_jsonb(c) - 'updated_at' FROM portal.patient_contact(p_patient) c))
               ELSE '{}'::jsonb END,
            p_client_addr, p_request_id);
    RETURN QUERY SELECT * FROM portal.patient_contact(p_patient);
END $$;

-- The patient's correction: the email and phone messages go to (NULL: the registration's), the
-- channel, and the time zone of their quiet hours (NULL: the site's). Audited without the values.
CREATE OR REPLACE FUNCTION portal.set_patient_contact(p_patient uuid, p_email text, p_phone text,
                                                      p_channel text, p_time_zone text,
                                                      p_request_id text, p_client_addr text)
RETURNS TABLE (email text, email_source text, phone text, phone_source text, channel text,
               time_zone text, updated_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM portal.write_patient_contact(p_patient, p_email, p_phone, p_channel, p_time_zone,
                                               'patient', p_patient::text, false, p_request_id,
                                               p_client_addr);
$$;

-- The physician's choice: reports waiting announced at once, in a daily digest, or not at all,
-- and the address for them (NULL: through the site's messaging platform).
CREATE OR REPLACE FUNCTION portal.set_physician_notifications(p_physician text, p_digest text,
                                                              p_email text, p_request_id text,
                                                              p_client_addr text)
RETURNS TABLE (digest text, email text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
    UPDATE portal.physicians SET notify_digest = p_digest, email = p_email, updated_at = now()
     WHERE id = p_physician;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
    END IF;
    INSERT INTO portal.audit_log (actor_role, actor_id, action, detail, client_addr, request_id)
    VALUES ('physician', p_physician, 'physician.notifications',
            jsonb_build_object('digest', p_digest, 'email_set', p_email IS NOT NULL),
            p_client_addr, p_request_id);
    RETURN QUERY SELECT p_digest, p_email;
END $$;

-- One-click unsubscribe (RFC 8058) by the opaque key in an email's List-Unsubscribe header: the
-- patient gets no more emails (text messages stay if chosen), the physician no more messages.
-- Waiting emails to them are cancelled. Returns who it was ('patient', 'physician'); PT404 for an
-- unknown key. Repeating it changes nothing.
CREATE OR REPLACE FUNCTION portal.notify_unsubscribe(p_key uuid, p_request_id text, p_client_addr text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_patient uuid;
    v_physician text;
BEGIN
    UPDATE portal.patients SET notify_channel = CASE notify_channel WHEN 'both' THEN 'text'
                                                                    WHEN 'text' THEN 'text'
                                                                    ELSE 'none' END,
                               contact_updated_at = now()
     WHERE unsubscribe_id = p_key RETURNING id INTO v_patient;
    IF v_patient IS NOT NULL THEN
        UPDATE portal.notifications SET state = 'cancelled', failure = 'unsubscribed', ended_at = now()
         WHERE patient_id = v_patient AND channel = 'email' AND state = 'waiting';
        INSERT INTO portal.audit_log (actor_role, actor_id, action, client_addr, request_id)
        VALUES ('patient', v_patient::text, 'notifications.unsubscribe', p_client_addr, p_request_id);
        RETURN 'patient';
    END IF;
    UPDATE portal.physicians SET notify_digest = 'none', updated_at = now()
     WHERE unsubscribe_id = p_key RETURNING id INTO v_physician;
    IF v_physician IS NOT NULL THEN
        UPDATE portal.notifications SET state = 'cancelled', failure = 'unsubscribed', ended_at = now()
         WHERE physician_id = v_physician AND state = 'waiting';
        INSERT INTO portal.audit_log (actor_role, actor_id, action, client_addr, request_id)
        VALUES ('physician', v_physician, 'notifications.unsubscribe', p_client_addr, p_request_id);
        RETURN 'physician';
    END IF;
    RAISE EXCEPTION 'not found' USING ERRCODE = 'PT404';
END $$;
