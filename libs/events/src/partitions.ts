import type { Pool, PoolClient } from 'pg';
import { inTransaction } from './pool';
import type { Queryable } from './store-types';

/**
 * Streams whose events expire by age (retention): the ids starting with this. Every other stream (session-,
 * device-, model-, alert-...) is kept until an operator deletes it. The partition bounds of `events_stream`
 * (migration 1765100000000) are this prefix as a byte range: change both or neither.
 */
export const EXPIRING_STREAM_PREFIX = 'stream-';

/** Whether a stream's events live in the day partitions retention drops. */
export function expiresByAge(streamId: string): boolean {
  return streamId.startsWith(EXPIRING_STREAM_PREFIX);
}

export const DAY_MS = 86_400_000;
/** Beyond UUIDv7's 48-bit millisecond clock: no partition bound can be made of it. */
const MAX_UUID_MS = 2 ** 48 - 1;

/** Whether a (well-formed) uuid is a version 7 one: its first 48 bits are its time. */
export function isUuidV7(id: string): boolean {
  return id[14] === '7';
}

/** The time (epoch ms) at the front of a UUIDv7. */
export function uuidTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** The smallest uuid of a millisecond: every UUIDv7 made at or after `ms` sorts at or after it. */
export function uuidAt(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_UUID_MS) throw new Error(`uuidAt: ${ms} is not a millisecond time a UUIDv7 can hold`);
  const t = ms.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-0000-0000-000000000000`;
}

/** One day partition of the stream events: ids made in [from, to). */
export interface StreamPartition {
  name: string;
  from: Date;
  to: Date;
}

const PARENT = 'events_stream';
const DEFAULT_PARTITION = 'events_stream_default';
// Partition maintenance and retention on every node take this lock, so two nodes never create or drop at once.
const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('ddnn:events_stream partitions'))`;
const BOUND = /FROM \('([0-9a-f-]{36})'\) TO \('([0-9a-f-]{36})'\)/;

/** The day partition a time falls in (UTC days). */
export function partitionOf(ms: number): StreamPartition {
  const from = Math.floor(ms / DAY_MS) * DAY_MS;
  const day = new Date(from).toISOString().slice(0, 10).replace(/-/g, '');
  return { name: `events_stream_p${day}`, from: new Date(from), to: new Date(from + DAY_MS) };
}

/** The day partitions of the stream events that exist now, oldest first (not the default partition). */
export async function listStreamPartitions(db: Queryable): Promise<StreamPartition[]> {
  const { rows } = await db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass`,
    [PARENT],
  );
  const out: StreamPartition[] = [];
  for (const r of rows) {
    const m = BOUND.exec(r.bound);
    if (m) out.push({ name: r.name, from: new Date(uuidTime(m[1])), to: new Date(uuidTime(m[2])) });
  }
  return out.sort((a, b) => a.from.getTime() - b.from.getTime());
}

export interface EnsurePartitionsOptions {
  /** Day partitions after today's to have ready (default 3). */
  daysAhead?: number;
  /** "Today" (default: the database's clock); tests pass a time in the past to create older days. */
  now?: Date;
  /** How long to wait for the locks a new partition needs before leaving it to the next run (default 2000). */
  lockTimeoutMs?: number;
}

export interface EnsurePartitionsResult {
  /** Partitions this call created. */
  created: StreamPartition[];
  /** Events moved out of the default partition into the partitions created (they had landed there before). */
  moved: number;
  /** Days whose partition could not be created this time (e.g. a lock wait timed out), with why. */
  failed: { partition: StreamPartition; error: string }[];
}

/**
 * Creates the day partitions of stream events from today to `daysAhead` days after it, those missing only.
 * Safe to run on several nodes at once and repeatedly: each day is created in a transaction of its own under
 * one advisory lock, after checking it is still missing. A new partition is created alone, filled with the
 * events of its day the default partition holds (it refuses a partition whose range it holds rows of), then
 * attached, which takes a SHARE UPDATE EXCLUSIVE lock on events_stream (appends and reads go on) and an exclusive
 * one on the default partition for the moment of the attach.
 */
export async function ensureStreamPartitions(pool: Pool, options: EnsurePartitionsOptions = {}): Promise<EnsurePartitionsResult> {
  const daysAhead = options.daysAhead ?? 3;
  if (!Number.isInteger(daysAhead) || daysAhead < 0 || daysAhead > 366) throw new Error(`daysAhead must be an integer in [0, 366], got ${daysAhead}`);
  const now = options.now?.getTime() ?? (await databaseNow(pool));
  const result: EnsurePartitionsResult = { created: [], moved: 0, failed: [] };
  // Usually every day exists already: one catalogue read, no transaction.
  const existing = new Set((await listStreamPartitions(pool)).map((x) => x.name));
  for (let d = 0; d <= daysAhead; d++) {
    const p = partitionOf(now + d * DAY_MS);
    if (existing.has(p.name)) continue;
    try {
      const moved = await withPartitionLock(pool, options.lockTimeoutMs ?? 2000, async (c) => {
        if ((await listStreamPartitions(c)).some((x) => x.name === p.name)) return null;
        return createPartition(c, p);
      });
      if (moved !== null) {
        result.created.push(p);
        result.moved += moved;
      }
    } catch (e) {
      result.failed.push({ partition: p, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return result;
}

async function createPartition(c: PoolClient, p: StreamPartition): Promise<number> {
  const from = uuidAt(p.from.getTime());
  const to = uuidAt(p.to.getTime());
  await c.query(`CREATE TABLE ${p.name} (LIKE ${PARENT} INCLUDING DEFAULTS)`);
  const columns = 'global_position, stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at, transaction_id';
  const moved = await c.query(
    `WITH m AS (DELETE FROM ${DEFAULT_PARTITION} WHERE event_id >= $1 AND event_id < $2 RETURNING ${columns})
     INSERT INTO ${p.name} (${columns}) SELECT ${columns} FROM m`,
    [from, to],
  );
  // The bounds are uuids this module made (hex digits and dashes): safe as literals.
  await c.query(`ALTER TABLE ${PARENT} ATTACH PARTITION ${p.name} FOR VALUES FROM ('${from}') TO ('${to}')`);
  return moved.rowCount ?? 0;
}

/** The database's clock (epoch ms): one clock for every node. */
export async function databaseNow(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ ms: string }>(`SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS ms`);
  return Number(rows[0].ms);
}

/** Runs `fn` in a transaction holding the partitions' advisory lock, with a lock timeout for what it does. */
export async function withPartitionLock<T>(pool: Pool, lockTimeoutMs: number, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 1) throw new Error(`lockTimeoutMs must be a positive integer, got ${lockTimeoutMs}`);
  return inTransaction(pool, async (c) => {
    await c.query(LOCK_SQL);
    await c.query(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
    return fn(c);
  });
}
