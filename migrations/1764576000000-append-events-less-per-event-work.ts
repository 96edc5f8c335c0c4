import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_EVENTS_WITHOUT_NOTIFY } from './1764489600000-append-events-notify-after-commit';

/**
 * append_events, same signature and results, with less work per event (it was ~1.6x a bare
 * INSERT ... SELECT FROM jsonb_to_recordset of the same rows):
 * - event ids are checked by the unique index as the rows go in; only when that fails, or when a request is
 *   refused (it may be the retry of an append that succeeded), are they looked up and the batch classified
 *   again (inside a subtransaction, so the failed insert leaves nothing behind);
 * - requests without an expectation are positioned with running sums instead of a plpgsql loop per request,
 *   and the events' request indexes are checked and counted in SQL instead of a loop per event;
 * - the insert no longer sorts the rows (one function scan feeds it, in input order);
 * - per-request global positions are sliced from a flat copy (slicing the expanded array variable flattened
 *   all of it once per request).
 */
export class AppendEventsLessPerEventWork1764576000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(APPEND_EVENTS_LESS_PER_EVENT_WORK);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(APPEND_EVENTS_WITHOUT_NOTIFY);
  }
}

/*
 * Contract as in EventStore1764230400000 (see the comment there), without the NOTIFY (the event store sends it).
 * Requests are classified under the stream locks; the ids are looked up only on the slow path described above.
 */
export const APPEND_EVENTS_LESS_PER_EVENT_WORK = `
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
  lock_pos0 bigint[];
  lock_pos bigint[];
  -- Per request: 1 ok, 2 duplicate, 3 partial, 4 conflict.
  req_st integer[];
  req_base bigint[];
  req_count integer[];
  req_first integer[];
  req_off integer[];
  stored_ids uuid[];
  stored_streams text[];
  gps bigint[];
  probed boolean := false;
  i integer;
  s integer;
  pos bigint;
  e bigint;
  n_found integer;
  n_same integer;
  n_ok integer;
  n_before integer;
  n_conflict integer;
  all_any boolean;
BEGIN
  IF n_req = 0 THEN
    RETURN;
  END IF;
  req_count := array_fill(0, ARRAY[n_req]);
  IF coalesce(array_length(ev_req, 1), 0) <> coalesce(array_length(ev_ids, 1), 0)
     OR coalesce(array_length(ev_req, 1), 0) <> coalesce(jsonb_array_length(p_events), 0) THEN
    RAISE EXCEPTION 'append_events: p_req, p_ids and p_events must have one entry per event';
  END IF;
  -- Set-based: a plpgsql loop over the events costs a few microseconds per event.
  IF ev_req IS NOT NULL THEN
    IF array_position(ev_req, NULL) IS NOT NULL OR ev_req <> (SELECT array_agg(x.r ORDER BY x.r) FROM unnest(ev_req) AS x(r))
       OR (SELECT min(x.r) < 1 OR max(x.r) > n_req FROM unnest(ev_req) AS x(r)) THEN
      RAISE EXCEPTION 'append_events: events must be grouped by request in order, with request indexes in 1..% (got %)', n_req, ev_req;
    END IF;
    SELECT array_agg(coalesce(c.n, 0) ORDER BY g.r) INTO req_count
      FROM generate_series(1, n_req) AS g(r)
      LEFT JOIN (SELECT x.r, count(*)::integer AS n FROM unnest(ev_req) AS x(r) GROUP BY x.r) AS c ON c.r = g.r;
  END IF;

  INSERT INTO streams AS st (stream_id)
    SELECT DISTINCT u.id FROM unnest(p_streams) AS u(id) ORDER BY 1
    ON CONFLICT (stream_id) DO NOTHING;
  SELECT array_agg(l.stream_id ORDER BY l.stream_id), array_agg(l.stream_position ORDER BY l.stream_id)
    INTO lock_ids, lock_pos0
    FROM (SELECT st.stream_id, st.stream_position FROM streams st
           WHERE st.stream_id = ANY (p_streams) ORDER BY st.stream_id FOR UPDATE) AS l;

  all_any := NOT EXISTS (SELECT 1 FROM unnest(p_expected) AS x(e) WHERE x.e IS NOT NULL);

  -- Fast path: no lookup of the ids, the unique index on event_id checks them as the rows go in. Only when that
  -- fails (an id is stored already) or a request is refused (it may be a retry of an append that succeeded) are
  -- the ids looked up, after the locks, so that a concurrent append of the same ids has committed and is seen.
  LOOP
    IF probed THEN
      SELECT array_agg(ev.event_id), array_agg(ev.stream_id) INTO stored_ids, stored_streams
        FROM events ev WHERE ev.event_id = ANY (ev_ids);
    END IF;
    IF all_any AND NOT probed THEN
      -- No expectation to check: every request is appended, positions are running sums (set-based; a loop
      -- over the requests costs ~10 us each in plpgsql, and the writer's requests are often single events).
      req_st := array_fill(1, ARRAY[n_req]);
      SELECT array_agg(b.f ORDER BY b.r), array_agg(b.base ORDER BY b.r) INTO req_first, req_base
        FROM (SELECT k.r, (sum(k.n) OVER (ORDER BY k.r) - k.n)::integer AS f,
                     lock_pos0[array_position(lock_ids, p_streams[k.r])] + sum(k.n) OVER (PARTITION BY p_streams[k.r] ORDER BY k.r) - k.n AS base
                FROM unnest(req_count) WITH ORDINALITY AS k(n, r)) AS b;
      SELECT array_agg(lock_pos0[i] + coalesce(t.n, 0) ORDER BY i) INTO lock_pos
        FROM generate_subscripts(lock_ids, 1) AS i
        LEFT JOIN (SELECT p_streams[k.r] AS sid, sum(k.n) AS n FROM unnest(req_count) WITH ORDINALITY AS k(n, r) GROUP BY 1) AS t
          ON t.sid = lock_ids[i];
      req_off := req_first;
      n_ok := coalesce(array_length(ev_req, 1), 0);
      n_conflict := 0;
    ELSE
    lock_pos := lock_pos0;
    req_st := array_fill(0, ARRAY[n_req]);
    req_base := array_fill(0::bigint, ARRAY[n_req]);
    req_first := array_fill(0, ARRAY[n_req]);
    req_off := array_fill(0, ARRAY[n_req]);
    n_ok := 0;
    n_before := 0;
    n_conflict := 0;
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
        n_conflict := n_conflict + 1;
      ELSE
        req_st[i] := 1;
        req_base[i] := pos;
        req_off[i] := n_ok;
        n_ok := n_ok + req_count[i];
        lock_pos[s] := pos + req_count[i];
      END IF;
    END LOOP;
    END IF;
    IF n_conflict > 0 AND NOT probed THEN
      probed := true;
      CONTINUE;
    END IF;
    EXIT WHEN n_ok = 0;
    BEGIN
      -- One FunctionScan feeding the insert, no join and no sort: rows go in, and take their identity values, in
      -- input order, so the sorted global positions are the events in order.
      WITH ins AS (
        INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data, metadata)
        SELECT u.s, req_base[ev_req[u.ord]] + (u.ord - req_first[ev_req[u.ord]]), ev_ids[u.ord], u.t, u.v, u.d, coalesce(u.m, '{}'::jsonb)
          FROM ROWS FROM (jsonb_to_recordset(p_events) AS (s text, t text, v integer, d jsonb, m jsonb))
               WITH ORDINALITY AS u(s, t, v, d, m, ord)
         WHERE req_st[ev_req[u.ord]] = 1
        RETURNING events.global_position
      )
      SELECT array_agg(ins.global_position ORDER BY ins.global_position) INTO gps FROM ins;
      EXIT;
    EXCEPTION WHEN unique_violation THEN
      IF probed THEN
        RAISE;
      END IF;
      probed := true;
    END;
  END LOOP;

  IF n_ok > 0 THEN
    UPDATE streams st SET stream_position = x.pos, updated_at = now()
      FROM unnest(lock_ids, lock_pos) AS x(id, pos)
     WHERE st.stream_id = x.id AND st.stream_position <> x.pos;
  END IF;

  RETURN QUERY
  SELECT k.r, CASE req_st[k.r] WHEN 1 THEN 'ok' WHEN 3 THEN 'partial' ELSE 'conflict' END, req_base[k.r], NULL::bigint[],
         CASE WHEN req_st[k.r] = 1 AND req_count[k.r] > 0 THEN g.flat[req_off[k.r] + 1 : req_off[k.r] + req_count[k.r]] END,
         NULL::uuid[],
         CASE WHEN req_st[k.r] = 1 THEN pg_current_xact_id()::text END,
         CASE WHEN req_st[k.r] = 1 THEN now() END
    -- Sliced from a flat copy: slicing the (expanded) variable would flatten all of it for every request.
    FROM generate_series(1, n_req) AS k(r) CROSS JOIN (SELECT gps || '{}'::bigint[] AS flat) AS g
   WHERE req_st[k.r] <> 2
  UNION ALL
  SELECT d.r, 'duplicate'::text, NULL::bigint, d.pos, d.gps, d.ids, d.tx, d.created
    FROM (SELECT u.r, array_agg(e.stream_position ORDER BY u.o) AS pos, array_agg(e.global_position ORDER BY u.o) AS gps,
                 array_agg(e.event_id ORDER BY u.o) AS ids, min(e.transaction_id::text) AS tx, min(e.created_at) AS created
            FROM unnest(ev_req, ev_ids) WITH ORDINALITY AS u(r, id, o)
            JOIN events e ON e.event_id = u.id
           WHERE probed AND req_st[u.r] = 2
           GROUP BY u.r) AS d;
END
$fn$`;
