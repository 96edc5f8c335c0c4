import type { StoredEvent } from '@ddnn/contracts';
import type { PoolClient } from 'pg';
import { START_CHECKPOINT } from '../checkpoint';
import type { EventStore, Queryable } from '../event-store';
import { Subscription, subscriptionLag, type SubscriptionOptions } from '../subscription';
import {
  foldRollup,
  mergeCells,
  parseCellKey,
  sampleKey,
  samplesTouched,
  type RollupCell,
  type RollupScope,
  type SampleRollupState,
} from './metrics-rollup-fold';

/** Subscriber name of the metrics rollup (its own checkpoint: it is rebuilt apart from the other projections). */
export const METRICS_ROLLUP_SUBSCRIBER = 'metrics-rollup';

/** Top-level cell fields, so that a query reads only what its metric needs. */
export type RollupField = keyof RollupCell;
// Every field of RollupCell, once (a field added to the cell without a column here fails to compile).
const FIELD_SET: Record<RollupField, true> = {
  samples: true, decided: true, exits: true, entropy: true, confidence: true, confidenceLabelled: true, confidenceCorrect: true,
  labelled: true, correct: true, labelledByExit: true, correctByExit: true, answered: true, missed: true, missedBy: true,
  latency: true, sectionEntropy: true, agreeN: true, agree: true, messages: true, bytes: true,
};
const FIELDS = Object.keys(FIELD_SET) as RollupField[];

const COLUMNS = FIELDS.map((f) => `"${f}"`).join(', ');

/** A cell from a row's field columns (null columns are absent fields). */
function cellOf(row: Partial<Record<RollupField, unknown>>): RollupCell {
  const cell: Record<string, unknown> = {};
  for (const f of FIELDS) if (row[f] !== null && row[f] !== undefined) cell[f] = row[f];
  return cell as RollupCell;
}

/** Applies one batch of the log to metric_rollups and metric_rollup_samples, inside `tx`. */
export async function applyRollup(events: StoredEvent[], tx: Queryable): Promise<void> {
  const touched = samplesTouched(events);
  const states = new Map<string, SampleRollupState>();
  if (touched.length) {
    const { rows } = await tx.query<{ run_id: string; sample_index: number; state: SampleRollupState }>(
      `SELECT s.run_id, s.sample_index, s.state FROM metric_rollup_samples s
         JOIN unnest($1::text[], $2::int[]) AS x(run_id, sample_index) USING (run_id, sample_index) FOR UPDATE OF s`,
      [touched.map((t) => t.runId), touched.map((t) => t.sampleIndex)],
    );
    for (const r of rows) states.set(sampleKey(r.run_id, r.sample_index), r.state);
  }
  const delta = foldRollup(events, states);
  if (delta.cells.size) {
    const keys = [...delta.cells.keys()].map(parseCellKey);
    const cols = {
      res: keys.map((k) => k.resolution),
      bucket: keys.map((k) => k.bucket),
      run: keys.map((k) => k.runId),
      scope: keys.map((k) => k.scope),
      key: keys.map((k) => k.key),
    };
    const { rows } = await tx.query<{ resolution: number; bucket: string; run_id: string; scope: RollupScope; key: string } & Record<RollupField, unknown>>(
      `SELECT m.resolution, m.bucket, m.run_id, m.scope, m.key, ${COLUMNS} FROM metric_rollups m
         JOIN unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS x(resolution, bucket, run_id, scope, key)
           USING (resolution, bucket, run_id, scope, key)
        FOR UPDATE OF m`,
      [cols.res, cols.bucket, cols.run, cols.scope, cols.key],
    );
    const stored = new Map(rows.map((r) => [JSON.stringify([r.resolution, r.run_id, r.scope, r.key, Number(r.bucket)]), cellOf(r)]));
    const merged = [...delta.cells.entries()].map(([k, cell]) => {
      const prev = stored.get(k);
      return prev ? mergeCells(prev, cell) : cell;
    });
    await writeRollupCells(
      tx,
      keys.map((k, i) => ({ ...k, cell: merged[i] })),
    );
  }
  const keep = [...delta.samples.entries()].filter(([, s]) => s !== null) as [string, SampleRollupState][];
  const drop = [...delta.samples.entries()].filter(([k, s]) => s === null && states.has(k));
  const ids = (list: [string, unknown][]) => list.map(([k]) => JSON.parse(k) as [string, number]);
  if (keep.length) {
    const k = ids(keep);
    await tx.query(
      `INSERT INTO metric_rollup_samples (run_id, sample_index, state)
       SELECT * FROM unnest($1::text[], $2::int[], $3::jsonb[])
       ON CONFLICT (run_id, sample_index) DO UPDATE SET state = excluded.state`,
      [k.map((x) => x[0]), k.map((x) => x[1]), keep.map(([, s]) => JSON.stringify(s))],
    );
  }
  if (delta.ended.length) await tx.query('DELETE FROM metric_rollup_samples WHERE run_id = ANY ($1)', [delta.ended]);
  if (drop.length) {
    const k = ids(drop);
    await tx.query(
      `DELETE FROM metric_rollup_samples s USING unnest($1::text[], $2::int[]) AS x(run_id, sample_index)
        WHERE s.run_id = x.run_id AND s.sample_index = x.sample_index`,
      [k.map((x) => x[0]), k.map((x) => x[1])],
    );
  }
}

/** Writes whole cells (replacing stored ones): the subscription's batches, and a benchmark's seed. */
export async function writeRollupCells(
  db: Queryable,
  cells: { resolution: number; bucket: number; runId: string; scope: RollupScope; key: string; cell: RollupCell }[],
): Promise<void> {
  if (cells.length === 0) return;
  await db.query(
    `INSERT INTO metric_rollups (resolution, bucket, run_id, scope, key, ${COLUMNS})
     SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::text[], ${FIELDS.map((_, i) => `$${i + 6}::jsonb[]`).join(', ')})
     ON CONFLICT (resolution, run_id, scope, key, bucket) DO UPDATE SET ${FIELDS.map((f) => `"${f}" = excluded."${f}"`).join(', ')}`,
    [
      cells.map((c) => c.resolution),
      cells.map((c) => c.bucket),
      cells.map((c) => c.runId),
      cells.map((c) => c.scope),
      cells.map((c) => c.key),
      ...FIELDS.map((f) => cells.map((c) => (c.cell[f] === undefined ? null : JSON.stringify(c.cell[f])))),
    ],
  );
}

/** The rollup's subscription (not started). */
export function metricsRollupSubscription(store: EventStore, options: Omit<SubscriptionOptions, 'name' | 'handle'> = {}): Subscription {
  return new Subscription(store, {
    ...options,
    name: METRICS_ROLLUP_SUBSCRIBER,
    handle: (events, tx) => applyRollup(events, tx as PoolClient),
  });
}

/**
 * Rebuilds the rollup from the whole log: clears it and rewinds its checkpoint in one transaction (serialised
 * with a live instance by the checkpoint row lock), then replays until caught up.
 */
export async function rebuildMetricsRollup(store: EventStore, timeoutMs = 600_000): Promise<{ events: number }> {
  const client = await store.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO subscription_checkpoints (name, checkpoint) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
      METRICS_ROLLUP_SUBSCRIBER,
      START_CHECKPOINT,
    ]);
    await client.query('SELECT 1 FROM subscription_checkpoints WHERE name = $1 FOR UPDATE', [METRICS_ROLLUP_SUBSCRIBER]);
    await client.query('DELETE FROM metric_rollups');
    await client.query('DELETE FROM metric_rollup_samples');
    await client.query('UPDATE subscription_checkpoints SET checkpoint = $2, updated_at = now() WHERE name = $1', [
      METRICS_ROLLUP_SUBSCRIBER,
      START_CHECKPOINT,
    ]);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
  const replay = metricsRollupSubscription(store, { batchSize: 2000, listen: false });
  await replay.catchUp(timeoutMs);
  return { events: replay.stats.events };
}

export function metricsRollupLag(store: EventStore): Promise<number> {
  return subscriptionLag(store, METRICS_ROLLUP_SUBSCRIBER);
}

export interface RollupRead {
  resolution: number;
  scope: RollupScope;
  /** One run, or every run (absent). */
  runId?: string;
  /** The device id or link; with `keyPrefix` a prefix (a device's outgoing links: `<id>->`). */
  key: string;
  keyPrefix?: boolean;
  from: number;
  to: number;
  /** Fields to read; `field.exit` reads one exit's part of a per-exit field (less JSON to ship and parse). */
  fields: readonly (RollupField | `${RollupField}.${'local' | 'edge' | 'cloud'}`)[];
}

/**
 * Rollup cells in [from, to) at one resolution, summed per bucket over the runs (and keys) matched; buckets in
 * ascending order. Only `fields` are read.
 */
export async function readRollup(db: Queryable, q: RollupRead): Promise<{ bucket: number; cell: RollupCell }[]> {
  const parts = new Map<RollupField, Set<string> | null>();
  for (const spec of q.fields) {
    const [f, exit] = spec.split('.') as [RollupField, string | undefined];
    if (!FIELDS.includes(f)) continue;
    if (exit === undefined || !['local', 'edge', 'cloud'].includes(exit)) parts.set(f, null);
    else if (parts.get(f) !== null) parts.set(f, (parts.get(f) ?? new Set()).add(exit));
  }
  const fields = FIELDS.filter((f) => parts.has(f));
  if (fields.length === 0) return [];
  const projection = fields
    .map((f) => {
      const exits = parts.get(f);
      return exits ? `jsonb_strip_nulls(jsonb_build_object(${[...exits].map((e) => `'${e}', "${f}"->'${e}'`).join(', ')})) AS "${f}"` : `"${f}"`;
    })
    .join(', ');
  const keyCond = q.keyPrefix ? `key LIKE $3 || '%'` : 'key = $3';
  const runCond = q.runId === undefined ? '' : 'AND run_id = $6';
  const params: unknown[] = [q.resolution, q.scope, q.keyPrefix ? q.key.replace(/[\\%_]/g, (c) => `\\${c}`) : q.key, q.from, q.to];
  if (q.runId !== undefined) params.push(q.runId);
  const { rows } = await db.query<{ bucket: string } & Record<RollupField, unknown>>(
    `SELECT bucket, ${projection} FROM metric_rollups
      WHERE resolution = $1 AND scope = $2 AND ${keyCond} AND bucket >= $4 AND bucket < $5 ${runCond}
      ORDER BY bucket`,
    params,
  );
  const out: { bucket: number; cell: RollupCell }[] = [];
  for (const r of rows) {
    const bucket = Number(r.bucket);
    const cell = cellOf(r);
    const last = out[out.length - 1];
    if (last && last.bucket === bucket) mergeCells(last.cell, cell);
    else out.push({ bucket, cell });
  }
  return out;
}
