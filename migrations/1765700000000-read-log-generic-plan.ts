import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The read that extends a node's shared log tail (EventReads.readAllRows), as a function that keeps one generic
 * plan per connection.
 *
 * As a named statement it was planned again and again: PostgreSQL plans a prepared statement for its values for
 * its first five executions on a connection and after that whenever the generic plan looks dearer than those,
 * which for this merge of every partition's (transaction_id, global_position) index it did. In bench:session
 * (pg_stat_statements, track_planning) the read was planned 43 more times during the three measured sessions,
 * ~150 ms of planning (3-4 ms each, most partitions' indexes considered) for a few ms of execution: ~0.3 ms of
 * server CPU a sample. The generic plan is the same merge of index scans (the row comparison and the limit are
 * parameters either way). STABLE: the query runs in the caller's snapshot, so the xid8 rule reads as before.
 * `p_known`: global positions whose rows the reader already has (its own commits): only where they are is returned.
 */
export class ReadLogGenericPlan1765700000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(READ_LOG_PAGE);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION read_log_page(xid8, bigint, integer, int8multirange)');
  }
}

export const READ_LOG_PAGE = `
CREATE FUNCTION read_log_page(p_after_tx xid8, p_after_gp bigint, p_limit integer, p_known int8multirange)
RETURNS TABLE (
  global_position bigint, txid text, known boolean, stream_id text, stream_position bigint, event_id uuid, type text,
  schema_version integer, data jsonb, metadata jsonb, created_at timestamptz
) LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $fn$
BEGIN
  RETURN QUERY
  SELECT page.global_position, page.transaction_id::text, page.known,
         CASE WHEN page.known THEN NULL ELSE page.stream_id END, page.stream_position,
         CASE WHEN page.known THEN NULL ELSE page.event_id END, CASE WHEN page.known THEN NULL ELSE page.type END,
         page.schema_version, CASE WHEN page.known THEN NULL ELSE page.data END,
         CASE WHEN page.known THEN NULL ELSE page.metadata END, CASE WHEN page.known THEN NULL ELSE page.created_at END
    FROM (SELECT e.global_position, e.transaction_id, e.stream_id, e.stream_position, e.event_id, e.type, e.schema_version,
                 e.data, e.metadata, e.created_at, coalesce(e.global_position <@ p_known, false) AS known
            FROM events e
           WHERE (e.transaction_id, e.global_position) > (p_after_tx, p_after_gp)
             AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY e.transaction_id, e.global_position LIMIT p_limit) page
   ORDER BY page.transaction_id, page.global_position;
END
$fn$`;
