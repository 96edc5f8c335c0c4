import { streamIds, type EventMetadata, type RunDeleted } from '@ddnn/contracts';
import type { PoolClient } from 'pg';
import type { EventStore, Queryable } from './event-store';
import { deleteRunRollup, METRICS_ROLLUP_SUBSCRIBER } from './projections/metrics-rollup';
import { deleteSessionSummary, PROJECTIONS_SUBSCRIBER } from './projections/projections';

/**
 * The subscribers whose read models hold rows keyed by run, in the order the deletion locks their checkpoint rows
 * (a fixed order: two deletions at once wait for each other instead of deadlocking; a batch or a rebuild locks one).
 */
export const RUN_KEYED_SUBSCRIBERS: readonly string[] = [METRICS_ROLLUP_SUBSCRIBER, PROJECTIONS_SUBSCRIBER].sort();

/** Events one statement of trimRunLog deletes at most. */
export const RUN_LOG_CHUNK = 5000;

/*
 * One chunk of a stream's events, deleted along (stream_id, type, stream_position), the one per-stream index every
 * partition has (a production stream's partitions have no (stream_id, stream_position) index: a range of positions
 * was a scan of whole partitions per chunk), after the key the previous chunk ended at; returns the chunk's size
 * and last key (no row when nothing was left). The key is compared and ordered by the server, in the index's order.
 */
const DELETE_CHUNK = `WITH chunk AS (
    SELECT type, stream_position FROM events
     WHERE stream_id = $1 AND (type, stream_position) > ($2::text, $3::bigint)
     ORDER BY type, stream_position LIMIT $4
  ), gone AS (
    DELETE FROM events e USING chunk c WHERE e.stream_id = $1 AND e.type = c.type AND e.stream_position = c.stream_position RETURNING 1
  )
  SELECT (SELECT count(*) FROM gone)::int AS deleted, last.type, last.stream_position::text AS position
    FROM (SELECT type, stream_position FROM chunk ORDER BY type DESC, stream_position DESC LIMIT 1) AS last`;

/**
 * Deletes the events of a run whose log is longer than a chunk ahead of deleteRunLog, RUN_LOG_CHUNK a statement, each
 * statement a transaction of its own; a shorter log is left whole to deleteRunLog's transaction. Not all in that
 * transaction: while a transaction that wrote is open, readAll holds back every event committed after it began (the
 * xid8 rule), so deleting a weeks-long stream's millions of events at once would stall every reader of the log (the
 * projections, live feeds, a label request waiting to read its own append) for as long. Only for a run that has
 * ended (nothing appends to its stream any more); safe to run again after a failure. Returns the events it deleted.
 */
export async function trimRunLog(store: EventStore, streamId: string, chunk = RUN_LOG_CHUNK): Promise<number> {
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`trimRunLog: chunk must be a positive integer, got ${chunk}`);
  if ((await store.streamVersion(streamId)) <= chunk) return 0;
  return deleteInChunks(store.pool, streamId, chunk);
}

/** Deletes every event of a stream, a chunk a statement (on the pool each statement is its own transaction). */
async function deleteInChunks(db: Queryable, streamId: string, chunk: number): Promise<number> {
  let deleted = 0;
  for (let after = { type: '', position: '0' }; ; ) {
    const { rows } = await db.query<{ deleted: number; type: string; position: string }>(DELETE_CHUNK, [streamId, after.type, after.position, chunk]);
    if (!rows.length) return deleted;
    deleted += rows[0].deleted;
    after = rows[0];
  }
}

/**
 * Deletes an ended run's log inside `tx`, the caller's transaction (which deletes the run's own rows with it), and
 * records RunDeleted in the kept stream `runs`: the events of its log stream left (in whichever partition), the
 * stream's row and fence, its session summary, its metric rollup cells and sample states. First it locks the
 * checkpoint rows of RUN_KEYED_SUBSCRIBERS, as their batches do (subscription.ts): a batch in flight that folds
 * the run's events commits first, so its upserts are deleted here instead of landing after the delete, and a batch
 * after it reads the log without the run. It records a deletion each time it is called: the caller calls it once,
 * in the transaction that deletes the run's row (found, and locked, by it). Returns what it recorded.
 */
export async function deleteRunLog(store: EventStore, tx: PoolClient, run: Omit<RunDeleted, 'events'>, metadata?: EventMetadata): Promise<RunDeleted> {
  await tx.query('SELECT name FROM subscription_checkpoints WHERE name = ANY ($1) ORDER BY name FOR UPDATE', [RUN_KEYED_SUBSCRIBERS]);
  const streamId = streamIds.run(run.kind, run.runId);
  const { rows } = await tx.query<{ stream_position: string }>('DELETE FROM streams WHERE stream_id = $1 RETURNING stream_position', [streamId]);
  // Along the same index as the trim's chunks: a plain `stream_id = $1` may be planned as a scan of every day
  // partition (the statistics still count the stream's events), inside the transaction the log's readers wait for.
  await deleteInChunks(tx, streamId, RUN_LOG_CHUNK);
  await tx.query('DELETE FROM stream_fences WHERE stream_id = $1', [streamId]);
  await deleteSessionSummary(tx, run.runId);
  await deleteRunRollup(tx, run.runId);
  const deleted: RunDeleted = { ...run, events: rows.length ? Number(rows[0].stream_position) : 0 };
  const [outcome] = await store.appendBatch([{ streamId: streamIds.runs(), events: [{ type: 'RunDeleted', data: deleted, ...(metadata ? { metadata } : {}) }] }], tx);
  if (!outcome.ok) throw outcome.error;
  return deleted;
}

/** What the platform recorded when the run was deleted, or null when it never was. */
export async function findRunDeletion(store: EventStore, runId: string): Promise<RunDeleted | null> {
  for await (const page of store.payloadsByType(streamIds.runs(), 'RunDeleted')) {
    const hit = page.find((p) => p.data.runId === runId);
    if (hit) return hit.data;
  }
  return null;
}
