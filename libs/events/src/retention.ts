import type { Pool } from 'pg';
import { DAY_MS, databaseNow, withPartitionLock, listStreamPartitions, type StreamPartition } from './partitions';
import { pruneRollupSampleStates } from './projections/metrics-rollup';

export interface RetentionOptions {
  /** Keep stream events this many days (an integer >= 1). */
  days: number;
  /** The time the age is measured from (default: the database's clock). */
  now?: Date;
  /** How long a drop waits for the locks it needs before leaving the partition to the next run (default 2000). */
  lockTimeoutMs?: number;
}

export interface DroppedPartition extends StreamPartition {
  /** The planner's estimate of its rows (null when it was never analysed). */
  estimatedEvents: number | null;
  /** Its size on disk with its indexes. */
  bytes: number;
}

export interface RetentionResult {
  /** Events made before this are expired. */
  cutoff: Date;
  dropped: DroppedPartition[];
  /** Expired events deleted from the default partition (stream events no day partition covered). */
  deletedFromDefault: number;
  /** Partitions that could not be dropped this time (e.g. a lock wait timed out), with why. */
  failed: { partition: StreamPartition; error: string }[];
  /** What the metrics rollup remembered of samples whose events are gone (see pruneRollupSampleStates). */
  expiredSampleStates: number;
}

/**
 * Applies the stream retention policy: drops every day partition of stream events (`stream-` streams only) whose
 * whole day is older than `days`, and deletes the expired events of the default partition (by created_at: its
 * ids' times are not trusted, that is why they are there), then what the metrics rollup still remembered of the
 * dropped samples. No other event is ever touched: the events of sessions, devices, models and alerts live in
 * events_kept. Stream rows (`streams`) stay, so a stream goes on at its next position; readers of an expired range
 * find nothing. Several nodes may run it at once
 * (one advisory lock); each drop is its own transaction. DROP TABLE takes an exclusive lock on events_stream
 * (DETACH ... CONCURRENTLY is refused while a default partition exists), so appends and reads of stream events
 * wait for it; `lockTimeoutMs` bounds that wait, and a partition busy for longer is left to the next run.
 */
export async function applyStreamRetention(pool: Pool, options: RetentionOptions): Promise<RetentionResult> {
  const { days } = options;
  if (!Number.isInteger(days) || days < 1) throw new Error(`retention days must be an integer >= 1, got ${days}`);
  const lockTimeoutMs = options.lockTimeoutMs ?? 2000;
  const now = options.now?.getTime() ?? (await databaseNow(pool));
  const cutoff = new Date(now - days * DAY_MS);
  const result: RetentionResult = { cutoff, dropped: [], deletedFromDefault: 0, failed: [], expiredSampleStates: 0 };
  const expired = (await listStreamPartitions(pool)).filter((p) => p.to.getTime() <= cutoff.getTime());
  for (const p of expired) {
    try {
      const dropped = await withPartitionLock(pool, lockTimeoutMs, async (c) => {
        // Under the lock: another node may have dropped it meanwhile.
        const { rows } = await c.query<{ estimate: number; bytes: string }>(
          `SELECT c.reltuples AS estimate, pg_total_relation_size(c.oid)::text AS bytes
             FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
            WHERE c.relname = $1 AND i.inhparent = 'events_stream'::regclass`,
          [p.name],
        );
        if (!rows.length) return null;
        await c.query(`DROP TABLE ${quoteIdent(p.name)}`);
        return { ...p, estimatedEvents: rows[0].estimate < 0 ? null : Math.round(rows[0].estimate), bytes: Number(rows[0].bytes) };
      });
      if (dropped) result.dropped.push(dropped);
    } catch (e) {
      result.failed.push({ partition: p, error: e instanceof Error ? e.message : String(e) });
    }
  }
  result.deletedFromDefault = await withPartitionLock(pool, lockTimeoutMs, async (c) => {
    const r = await c.query('DELETE FROM events_stream_default WHERE created_at < $1', [cutoff]);
    return r.rowCount ?? 0;
  });
  // Whole days before the cutoff's are gone, but for a partition left to the next run.
  const gone = Math.min(Math.floor(cutoff.getTime() / DAY_MS) * DAY_MS, ...result.failed.map((f) => f.partition.from.getTime()));
  result.expiredSampleStates = await pruneRollupSampleStates(pool, new Date(gone));
  return result;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
