import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_EVENTS_FUNCTION } from './1764230400000-event-store';

/**
 * append_events without its NOTIFY: a transaction that notifies takes a cluster-wide lock at commit and holds it
 * until its commit record is flushed, so every append (and every other notifying transaction) committed one
 * fsync after another, which undid group commit across the batching writer's lanes. The event store now sends
 * the notification itself: after the commit on its own connection, or inside the caller's transaction when it
 * appends through one (see EventStore.appendBatch). Same signature, same results; only the NOTIFY left.
 */
export class AppendEventsNotifyAfterCommit1764489600000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(APPEND_EVENTS_WITHOUT_NOTIFY);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(APPEND_EVENTS_FUNCTION);
  }
}

/** append_events as of AppendEventsBatchJson1764403200000, minus the pg_notify (this migration's own copy). */
export const APPEND_EVENTS_WITHOUT_NOTIFY = `
CREATE OR REPLACE FUNCTION append_events(p_streams text[], p_expected bigint[], p_req integer[], p_ids uuid[], p_events jsonb)
RETURNS TABLE (
  req integer, status text, current_position bigint, stream_positions bigint[], global_positions bigint[],
  event_ids uuid[], transaction_id text, created_at timestamptz
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  n_req integer := coalesce(array_length(p_streams, 1), 0);
  ev_req integer[] := p_req;
  ev_ids uuid[] := p_ids;
  lock_ids text[];
  lock_pos bigint[];
  -- Per request: 1 ok, 2 duplicate, 3 partial, 4 conflict.
  req_st integer[];
  req_base bigint[];
  req_count integer[];
  req_first integer[];
  req_off integer[];
  stored_ids uuid[];
  stored_streams text[];
  i integer;
  prev integer := 1;
  s integer;
  pos bigint;
  e bigint;
  n_found integer;
  n_same integer;
  n_ok integer := 0;
  n_before integer := 0;
BEGIN
  IF n_req = 0 THEN
    RETURN;
  END IF;
  req_st := array_fill(0, ARRAY[n_req]);
  req_base := array_fill(0::bigint, ARRAY[n_req]);
  req_count := array_fill(0, ARRAY[n_req]);
  req_first := array_fill(0, ARRAY[n_req]);
  req_off := array_fill(0, ARRAY[n_req]);
  IF coalesce(array_length(ev_req, 1), 0) <> coalesce(array_length(ev_ids, 1), 0)
     OR coalesce(array_length(ev_req, 1), 0) <> coalesce(jsonb_array_length(p_events), 0) THEN
    RAISE EXCEPTION 'append_events: p_req, p_ids and p_events must have one entry per event';
  END IF;
  IF ev_req IS NOT NULL THEN
    FOREACH i IN ARRAY ev_req LOOP
      IF i IS NULL OR i < prev OR i > n_req THEN
        RAISE EXCEPTION 'append_events: events must be grouped by request in order (request index % after %, of %)', i, prev, n_req;
      END IF;
      prev := i;
      req_count[i] := req_count[i] + 1;
    END LOOP;
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
    FROM events ev WHERE ev.event_id = ANY (ev_ids);

  FOR i IN 1..n_req LOOP
    s := array_position(lock_ids, p_streams[i]);
    pos := lock_pos[s];
    e := p_expected[i];
    n_found := 0;
    n_same := 0;
    req_first[i] := n_before;
    n_before := n_before + req_count[i];
    IF stored_ids IS NOT NULL AND req_count[i] > 0 THEN
      SELECT count(*)::integer, count(*) FILTER (WHERE x.sid = p_streams[i])::integer INTO n_found, n_same
        FROM unnest(stored_ids, stored_streams) AS x(id, sid)
       WHERE x.id = ANY (ev_ids[req_first[i] + 1 : req_first[i] + req_count[i]]);
    END IF;
    IF n_found > 0 AND n_same = req_count[i] THEN
      req_st[i] := 2;
    ELSIF n_found > 0 THEN
      req_st[i] := 3;
    ELSIF e IS NOT NULL AND ((e = -1 AND pos <> 0) OR (e = -2 AND pos = 0) OR (e >= 0 AND pos <> e)) THEN
      req_st[i] := 4;
      req_base[i] := pos;
    ELSE
      req_st[i] := 1;
      req_base[i] := pos;
      req_off[i] := n_ok;
      n_ok := n_ok + req_count[i];
      lock_pos[s] := pos + req_count[i];
    END IF;
  END LOOP;

  RETURN QUERY
  WITH ins AS (
    INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data, metadata)
    SELECT u.s, req_base[ev_req[u.ord]] + (u.ord - req_first[ev_req[u.ord]]), ev_ids[u.ord], u.t, u.v, u.d, coalesce(u.m, '{}'::jsonb)
      FROM ROWS FROM (jsonb_to_recordset(p_events) AS (s text, t text, v integer, d jsonb, m jsonb))
           WITH ORDINALITY AS u(s, t, v, d, m, ord)
     WHERE req_st[ev_req[u.ord]] = 1
     ORDER BY u.ord
    RETURNING events.global_position
  ), upd AS (
    UPDATE streams st SET stream_position = x.pos, updated_at = now()
      FROM unnest(lock_ids, lock_pos) AS x(id, pos)
     WHERE st.stream_id = x.id AND st.stream_position <> x.pos
  ), g AS (
    -- Identity values follow the insert order, so sorted global positions are the events in order.
    SELECT array_agg(ins.global_position ORDER BY ins.global_position) AS gps FROM ins
  )
  SELECT k.r, CASE req_st[k.r] WHEN 1 THEN 'ok' WHEN 3 THEN 'partial' ELSE 'conflict' END, req_base[k.r], NULL::bigint[],
         CASE WHEN req_st[k.r] = 1 AND req_count[k.r] > 0 THEN g.gps[req_off[k.r] + 1 : req_off[k.r] + req_count[k.r]] END,
         NULL::uuid[],
         CASE WHEN req_st[k.r] = 1 THEN pg_current_xact_id()::text END,
         CASE WHEN req_st[k.r] = 1 THEN now() END
    FROM generate_series(1, n_req) AS k(r) CROSS JOIN g
   WHERE req_st[k.r] <> 2
  UNION ALL
  SELECT d.r, 'duplicate'::text, NULL::bigint, d.pos, d.gps, d.ids, d.tx, d.created
    FROM (SELECT u.r, array_agg(e.stream_position ORDER BY u.o) AS pos, array_agg(e.global_position ORDER BY u.o) AS gps,
                 array_agg(e.event_id ORDER BY u.o) AS ids, min(e.transaction_id::text) AS tx, min(e.created_at) AS created
            FROM unnest(ev_req, ev_ids) WITH ORDINALITY AS u(r, id, o)
            JOIN events e ON e.event_id = u.id
           WHERE req_st[u.r] = 2
           GROUP BY u.r) AS d;
END
$fn$`;
