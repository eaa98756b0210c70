-- The PACS follower (server/orthanc_feed.c, issue 13): "images received" from Orthanc's change
-- feed, and each feed's position, written in the transaction that applied what the changes caused
-- so that a restart or a second instance neither skips nor repeats a change.
--
-- Like 20_ingest.sql, these run as their owner (SECURITY DEFINER, search_path pg_catalog and
-- pg_temp only): they write the studies' lifecycle columns and the feed positions, which
-- portal_app may not write itself.

-- Takes the feed's row for the caller's transaction and returns its position, or NULL when
-- another transaction holds it: another instance is following the feed, and the caller skips its
-- round instead of waiting. A feed met for the first time starts at 0; only that first insert can
-- wait, for another instance inserting the same row at the same moment, and only until its
-- transaction ends.
CREATE OR REPLACE FUNCTION portal.feed_take(p_feed text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_position bigint;
BEGIN
    SELECT f.position INTO v_position FROM portal.feed_positions f
     WHERE f.feed = p_feed FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        RETURN v_position;
    END IF;
    IF EXISTS (SELECT FROM portal.feed_positions f WHERE f.feed = p_feed) THEN
        RETURN NULL;
    END IF;
    INSERT INTO portal.feed_positions (feed, position) VALUES (p_feed, 0)
    ON CONFLICT (feed) DO NOTHING;
    SELECT f.position INTO v_position FROM portal.feed_positions f
     WHERE f.feed = p_feed FOR UPDATE SKIP LOCKED;
    RETURN v_position;
END $$;

-- Moves the feed's position forward to p_position (the last change the caller's transaction
-- applied or skipped). Never backwards: a follower that would move it back read a position that
-- was not its own, and its transaction is refused whole.
CREATE OR REPLACE FUNCTION portal.feed_advance(p_feed text, p_position bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE portal.feed_positions SET position = p_position, updated_at = now()
     WHERE feed = p_feed AND position <= p_position;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'feed: the position cannot move back' USING ERRCODE = 'PT409';
    END IF;
END $$;

-- Images received for a study (Orthanc's StableStudy): the exam is complete. exam_completed_at
-- keeps the earliest time, so a completion the RIS sent earlier stays, and one it sends later does
-- not move it; the event is kept in study_events like the RIS's. The study keeps the first
-- StudyInstanceUID the PACS gave it (a malformed one is not kept). An accession we do not know
-- claims nothing and answers {"matched": false}: the images may belong to an exam ordered
-- elsewhere, and the follower counts it and moves on. Idempotent on event_id like every ingest.
CREATE OR REPLACE FUNCTION portal.ingest_images(
    p_event_id text, p_payload_hash text, p_accession text, p_study_instance_uid text,
    p_occurred_at timestamptz, p_actor_role text, p_actor_id text, p_client_addr text,
    p_request_id text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_replay jsonb;
    v_study portal.studies;
    v_uid text;
    v_completed timestamptz;
BEGIN
    SELECT * INTO v_study FROM portal.studies WHERE accession = p_accession FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('matched', false);
    END IF;
    v_replay := portal.ingest_claim(p_event_id, 'images', p_payload_hash);
    IF v_replay IS NOT NULL THEN
        RETURN v_replay || '{"replay": true}';
    END IF;

    IF p_study_instance_uid ~ '^[0-9]+(\.[0-9]+)*$' AND length(p_study_instance_uid) <= 64 THEN
        v_uid := p_study_instance_uid;
    END IF;
    INSERT INTO portal.study_events (study_id, event_id, type, occurred_at)
    VALUES (v_study.id, p_event_id, 'exam_completed', p_occurred_at);
    v_completed := least(v_study.exam_completed_at, p_occurred_at);
    UPDATE portal.studies
       SET exam_completed_at = v_completed,
           study_instance_uid = coalesce(study_instance_uid, v_uid),
           updated_at = now()
     WHERE id = v_study.id;

    PERFORM portal.audit_ingest(p_actor_role, p_actor_id, 'ingest.images', v_study.id,
                                jsonb_build_object('event_id', p_event_id,
                                                   'study_instance_uid', v_uid,
                                                   'occurred_at', p_occurred_at,
                                                   'earlier_completion_kept',
                                                   v_completed < p_occurred_at),
                                p_client_addr, p_request_id);
    RETURN portal.ingest_answer(p_event_id,
        jsonb_build_object('matched', true, 'study_id', v_study.id,
                           'exam_completed_at', v_completed,
                           'earlier_completion_kept', v_completed < p_occurred_at));
END $$;
