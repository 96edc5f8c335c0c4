import { streamIds, type EventMetadata, type RunDeleted } from '@ddnn/contracts';
import type { PoolClient } from 'pg';
import type { EventStore } from './event-store';
import { deleteRunRollup, METRICS_ROLLUP_SUBSCRIBER } from './projections/metrics-rollup';
import { deleteSessionSummary, PROJECTIONS_SUBSCRIBER } from './projections/projections';

/**
 * The subscribers whose read models hold rows keyed by run, in the order the deletion locks their checkpoint rows
 * (a fixed order: two deletions at once wait for each other instead of deadlocking; a batch or a rebuild locks one).
 */
export const RUN_KEYED_SUBSCRIBERS: readonly string[] = [METRICS_ROLLUP_SUBSCRIBER, PROJECTIONS_SUBSCRIBER].sort();

/** Stream positions one statement of trimRunLog deletes at most. */
export const RUN_LOG_CHUNK = 5000;

/**
 * Deletes a run's events ahead of deleteRunLog, RUN_LOG_CHUNK stream positions a statement, each statement a
 * transaction of its own, and leaves the last chunk to deleteRunLog's transaction. Not all in that transaction: while
 * a transaction that wrote is open, readAll holds back every event committed after it began (the xid8 rule), so
 * deleting a weeks-long stream's millions of events at once would stall every reader of the log (the projections,
 * live feeds, a label request waiting to read its own append) for as long. Only for a run that has ended (nothing
 * appends to its stream any more); safe to run again after a failure. Returns the events it deleted.
 */
export async function trimRunLog(store: EventStore, streamId: string, chunk = RUN_LOG_CHUNK): Promise<number> {
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`trimRunLog: chunk must be a positive integer, got ${chunk}`);
  const version = await store.streamVersion(streamId);
  let deleted = 0;
  for (let from = 0; from + chunk < version; from += chunk) {
    // A range of positions, not `<= bound`: each statement then walks only its own stretch of the index, not the
    // dead entries the statements before it left.
    const r = await store.pool.query('DELETE FROM events WHERE stream_id = $1 AND stream_position > $2 AND stream_position <= $3', [streamId, from, from + chunk]);
    deleted += r.rowCount ?? 0;
  }
  return deleted;
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
  await tx.query('DELETE FROM events WHERE stream_id = $1', [streamId]);
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
