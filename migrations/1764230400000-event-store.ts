import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store: streams (one row per stream, its current position) and events (append-only).
 * `append_events` appends a batch of requests (one or more streams) in one statement; see docs/events.md.
 */
export class EventStore1764230400000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE streams (
        stream_id text PRIMARY KEY CHECK (length(stream_id) > 0),
        stream_position bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY,
        stream_id text NOT NULL,
        stream_position bigint NOT NULL,
        event_id uuid NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT events_pkey PRIMARY KEY (stream_id, stream_position),
        CONSTRAINT events_event_id_key UNIQUE (event_id)
      )`);
    // readAll order: commit-safe (transaction id, then global position); see the xid8 snapshot rule.
    await q.query(`CREATE INDEX events_transaction_order_idx ON events (transaction_id, global_position)`);
    // Events of one session (stream session-<id>) by type.
    await q.query(`CREATE INDEX events_stream_type_idx ON events (stream_id, type, stream_position)`);
    await q.query(APPEND_EVENTS_FUNCTION);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS append_events(text[], bigint[], integer[], uuid[], text[], integer[], jsonb[], jsonb[])`);
    await q.query(`DROP TABLE IF EXISTS events`);
    await q.query(`DROP TABLE IF EXISTS streams`);
  }
}

/*
 * Appends a batch of append requests in one statement (one round trip, one transaction).
 * Request i appends to p_streams[i] with expectation p_expected[i]: NULL any, -1 no stream yet, -2 the stream
 * exists, n >= 0 the stream is at position n. Event k belongs to request p_req[k] (1-based, requests in order).
 * Per request the outcome is 'ok' (inserted), 'duplicate' (every event id already stored in that stream: the
 * stored rows are returned, making retries idempotent), 'partial' (some ids stored, some not, or stored in
 * another stream) or 'conflict' (expectation not met; `current` is the stream position). Streams are locked in
 * id order so that concurrent batches over several streams cannot deadlock.
 */
const APPEND_EVENTS_FUNCTION = `
CREATE FUNCTION append_events(
  p_streams text[], p_expected bigint[], p_req integer[],
  p_ids uuid[], p_types text[], p_versions integer[], p_data jsonb[], p_metadata jsonb[]
) RETURNS TABLE (
  req integer, status text, current_position bigint, event_id uuid, stream_position bigint,
  global_position bigint, transaction_id text, created_at timestamptz
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  n_req integer := coalesce(array_length(p_streams, 1), 0);
  lock_ids text[];
  lock_pos bigint[];
  req_status text[];
  req_base bigint[];
  req_count integer[];
  stored_ids uuid[];
  stored_streams text[];
  i integer;
  s integer;
  pos bigint;
  e bigint;
  n_found integer;
  n_same integer;
  any_ok boolean := false;
BEGIN
  IF n_req = 0 THEN
    RETURN;
  END IF;
  req_status := array_fill(NULL::text, ARRAY[n_req]);
  req_base := array_fill(NULL::bigint, ARRAY[n_req]);
  req_count := array_fill(0, ARRAY[n_req]);
  IF coalesce(array_length(p_ids, 1), 0) > 0 THEN
    SELECT array_agg(c ORDER BY r) INTO req_count
      FROM (SELECT r.r, count(k.x)::integer AS c
              FROM generate_series(1, n_req) AS r(r)
              LEFT JOIN unnest(p_req) AS k(x) ON k.x = r.r
             GROUP BY r.r) AS counts;
  END IF;

  INSERT INTO streams AS st (stream_id)
    SELECT DISTINCT u.id FROM unnest(p_streams) AS u(id) ORDER BY 1
    ON CONFLICT (stream_id) DO NOTHING;
  SELECT array_agg(l.stream_id ORDER BY l.stream_id), array_agg(l.stream_position ORDER BY l.stream_id)
    INTO lock_ids, lock_pos
    FROM (SELECT st.stream_id, st.stream_position FROM streams st
           WHERE st.stream_id = ANY (p_streams) ORDER BY st.stream_id FOR UPDATE) AS l;

  -- After the locks: a concurrent append of the same ids has committed by now and is seen here.
  SELECT array_agg(ev.event_id), array_agg(ev.stream_id) INTO stored_ids, stored_streams
    FROM events ev WHERE ev.event_id = ANY (p_ids);

  FOR i IN 1..n_req LOOP
    s := array_position(lock_ids, p_streams[i]);
    pos := lock_pos[s];
    e := p_expected[i];
    n_found := 0;
    n_same := 0;
    IF stored_ids IS NOT NULL AND req_count[i] > 0 THEN
      SELECT count(*)::integer, count(*) FILTER (WHERE x.sid = p_streams[i])::integer INTO n_found, n_same
        FROM unnest(stored_ids, stored_streams) AS x(id, sid)
       WHERE x.id IN (SELECT p_ids[k] FROM generate_subscripts(p_req, 1) AS k WHERE p_req[k] = i);
    END IF;
    IF n_found > 0 AND n_same = req_count[i] THEN
      req_status[i] := 'duplicate';
    ELSIF n_found > 0 THEN
      req_status[i] := 'partial';
    ELSIF e IS NOT NULL AND ((e = -1 AND pos <> 0) OR (e = -2 AND pos = 0) OR (e >= 0 AND pos <> e)) THEN
      req_status[i] := 'conflict';
      req_base[i] := pos;
    ELSE
      req_status[i] := 'ok';
      req_base[i] := pos;
      lock_pos[s] := pos + req_count[i];
      any_ok := any_ok OR req_count[i] > 0;
    END IF;
  END LOOP;

  IF any_ok THEN
    PERFORM pg_notify('ddnn_events', '');
  END IF;

  RETURN QUERY
  WITH ev AS (
    SELECT u.ord, u.r, p_streams[u.r] AS sid,
           req_base[u.r] + row_number() OVER (PARTITION BY u.r ORDER BY u.ord) AS spos,
           u.id, u.typ, u.ver, u.dat, u.meta
      FROM unnest(p_req, p_ids, p_types, p_versions, p_data, p_metadata)
           WITH ORDINALITY AS u(r, id, typ, ver, dat, meta, ord)
     WHERE req_status[u.r] = 'ok'
  ), ins AS (
    INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data, metadata)
    SELECT ev.sid, ev.spos, ev.id, ev.typ, ev.ver, ev.dat, ev.meta FROM ev ORDER BY ev.ord
    RETURNING events.event_id, events.stream_position, events.global_position, events.transaction_id, events.created_at
  ), upd AS (
    UPDATE streams st SET stream_position = x.pos, updated_at = now()
      FROM unnest(lock_ids, lock_pos) AS x(id, pos)
     WHERE st.stream_id = x.id AND st.stream_position <> x.pos
  )
  SELECT ev.r::integer, 'ok'::text, NULL::bigint, ins.event_id, ins.stream_position, ins.global_position,
         ins.transaction_id::text, ins.created_at
    FROM ins JOIN ev ON ev.id = ins.event_id
  UNION ALL
  SELECT k.r::integer, req_status[k.r], req_base[k.r], NULL::uuid, NULL::bigint, NULL::bigint, NULL::text, NULL::timestamptz
    FROM generate_series(1, n_req) AS k(r) WHERE req_status[k.r] IN ('conflict', 'partial')
       OR (req_status[k.r] = 'ok' AND req_count[k.r] = 0)
  UNION ALL
  SELECT u.r::integer, 'duplicate'::text, NULL::bigint, ev2.event_id, ev2.stream_position, ev2.global_position,
         ev2.transaction_id::text, ev2.created_at
    FROM unnest(p_req, p_ids) AS u(r, id)
    JOIN events ev2 ON ev2.event_id = u.id
   WHERE req_status[u.r] = 'duplicate';
END
$fn$`;
