import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A page of one production stream in log order (EventReads.readStreamAfter) reads its own rows and stops, whatever
 * the stream's length and whatever the statistics of its day partitions say.
 *
 * Before, no index held one stream's events in log order: a page AND-ed the stream's bitmap with the log's and
 * sorted every event of the stream after the checkpoint. bench:stream, following a 6.4 M-event stream through
 * GET /streams/:id/events, saw 5.9 s a page (a day partition filling faster than autovacuum analyses it: 8,215
 * rows estimated), so a reader's cost grew with the stream: the read-back was quadratic.
 *
 * - events_stream_log_order_idx (stream_id, transaction_id, global_position): the order of the page. Only on
 *   events_stream (the day partitions made later inherit it): production streams have no end. Sessions and devices
 *   (events_kept) are finite and, while a session runs, read from the node's shared log tail; an index there would
 *   cost every session append for rarer reads. It replaces events_stream_position_idx (stream_id,
 *   stream_position), which nothing read on these partitions (exports are of sessions; positions are numbered
 *   from the streams table), so a stream event costs the same index writes as before.
 * - read_stream_page: the page's query, written so that only that index can serve it. Estimates made from small or
 *   missing statistics (a day partition while it fills, the default partition) make a bitmap scan and a sort of
 *   "a few" rows look cheapest, and the sort then takes the stream's millions: sorting is disabled. With fresh
 *   statistics of a log holding few streams, the generic plan walked the whole log's (transaction_id,
 *   global_position) index filtering on the stream (1/n_distinct looks selective enough), which for a small stream
 *   next to a busy one reads the busy one's events too: the stream is therefore matched as a range of one value
 *   and ordered by it, an order only the stream's own index gives (an equality would make the planner drop
 *   stream_id from the order, and the log's index would serve it again). One generic plan per connection.
 * - stream_window_start: where the first page of a time window (`from`, no checkpoint: the dashboard's live view of
 *   a stream opens on its window) may start reading. There is no index on time, and walking the log-order index
 *   from the stream's start read every earlier event (weeks of a camera fleet) before the window's first. Sample
 *   indices grow with time, so a binary search along events_stream_sample_idx finds the newest SampleStarted
 *   logged before a given instant in ~log2(samples) index probes; its checkpoint is returned. The caller asks for
 *   an instant well before the window (a minute), so that the sample's transaction began and took its xid before
 *   the window did: every event logged in the window then sorts after that checkpoint. Samples retention dropped
 *   count as before any instant.
 */
export class StreamLogOrderIndex1765900000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX events_stream_log_order_idx ON events_stream (stream_id, transaction_id, global_position)');
    await q.query('DROP INDEX events_stream_position_idx');
    await q.query(READ_STREAM_PAGE);
    await q.query(STREAM_WINDOW_START);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION stream_window_start(text, timestamptz)');
    await q.query('DROP FUNCTION read_stream_page(text, xid8, bigint, integer, timestamptz, timestamptz)');
    await q.query('CREATE INDEX events_stream_position_idx ON events_stream (stream_id, stream_position)');
    await q.query('DROP INDEX events_stream_log_order_idx');
  }
}

const READ_STREAM_PAGE = `
CREATE FUNCTION read_stream_page(p_stream text, p_after_tx xid8, p_after_gp bigint, p_limit integer, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (
  global_position bigint, stream_id text, stream_position bigint, event_id uuid, type text, schema_version integer,
  data jsonb, metadata jsonb, created_at timestamptz, txid text
) LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan SET enable_sort = off AS $fn$
BEGIN
  RETURN QUERY
  SELECT e.global_position, e.stream_id::text, e.stream_position, e.event_id, e.type, e.schema_version, e.data, e.metadata,
         e.created_at, e.transaction_id::text
    FROM events_stream e
   WHERE e.stream_id >= p_stream AND e.stream_id <= p_stream
     AND (e.transaction_id, e.global_position) > (p_after_tx, p_after_gp)
     AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     AND (p_from IS NULL OR e.created_at >= p_from) AND (p_to IS NULL OR e.created_at < p_to)
   ORDER BY e.stream_id, e.transaction_id, e.global_position LIMIT p_limit;
END
$fn$`;

const STREAM_WINDOW_START = `
CREATE FUNCTION stream_window_start(p_stream text, p_before timestamptz, OUT transaction_id text, OUT global_position bigint)
LANGUAGE plpgsql STABLE SET enable_sort = off AS $fn$
DECLARE
  lo integer := 0;
  hi integer;
  mid integer;
  best integer := -1;
  at timestamptz;
BEGIN
  -- The highest index, down the sample index (with sorting off: an aggregate over the stream's samples looked as cheap
  -- to a planner with stale statistics).
  SELECT (e.data->>'sampleIndex')::int INTO hi FROM events_stream e WHERE e.stream_id = p_stream AND e.type = 'SampleStarted'
   ORDER BY (e.data->>'sampleIndex')::int DESC LIMIT 1;
  WHILE hi IS NOT NULL AND lo <= hi LOOP
    mid := lo + (hi - lo) / 2;
    SELECT e.created_at INTO at FROM events_stream e
     WHERE e.stream_id = p_stream AND e.type = 'SampleStarted' AND (e.data->>'sampleIndex')::int = mid LIMIT 1;
    IF NOT FOUND OR at < p_before THEN
      best := mid;
      lo := mid + 1;
    ELSE
      hi := mid - 1;
    END IF;
  END LOOP;
  IF best >= 0 THEN
    SELECT e.transaction_id::text, e.global_position INTO transaction_id, global_position FROM events_stream e
     WHERE e.stream_id = p_stream AND e.type = 'SampleStarted' AND (e.data->>'sampleIndex')::int = best LIMIT 1;
  END IF;
END
$fn$`;
