import type { ExitTier, StoredEvent } from '@ddnn/contracts';
import { Query, type Pool, type PoolClient } from 'pg';
import type { EventStore, Queryable } from '../event-store';
import { rebuildSubscriber, Subscription, subscriptionLag, type SubscriptionOptions } from '../subscription';
import {
  foldRollup,
  mergeCells,
  parseSampleKey,
  ROLLUP_RESOLUTIONS,
  sampleKey,
  samplesTouched,
  type RollupCell,
  type RollupScope,
  type SampleRollupState,
} from './metrics-rollup-fold';
import { applyWithRunDeletions } from './run-deletions';

/** Subscriber name of the metrics rollup (its own checkpoint: it is rebuilt apart from the other projections). */
export const METRICS_ROLLUP_SUBSCRIBER = 'metrics-rollup';

/** Top-level cell fields, so that a query reads only what its metric needs. */
export type RollupField = keyof RollupCell;
const EXIT_TIERS = ['local', 'edge', 'cloud'] as const satisfies readonly ExitTier[];
/**
 * How each field of RollupCell is stored (a field added to the cell without a line here fails to compile): `whole`
 * in one column, `per-exit` in one column per exit tier, so a chart of one exit reads only that exit's histograms.
 * Columns are `json`, not `jsonb`: PostgreSQL sends json as the text it stored, while jsonb is re-serialised on
 * every read, which was 80% of a 7-day, one-minute chart's time (10,080 histograms; see bench:metrics).
 */
const FIELD_STORAGE: Record<RollupField, 'whole' | 'per-exit'> = {
  samples: 'whole', decided: 'whole', unanswered: 'whole', exits: 'per-exit', entropy: 'per-exit', confidence: 'per-exit',
  confidenceLabelled: 'per-exit', confidenceCorrect: 'per-exit', labelled: 'whole', correct: 'whole',
  labelledByExit: 'per-exit', correctByExit: 'per-exit', answered: 'whole', missed: 'whole', missedBy: 'whole',
  latency: 'whole', sectionEntropy: 'whole', agreeN: 'whole', agree: 'whole', peerAgreeN: 'whole', peerAgree: 'whole',
  messages: 'whole', bytes: 'whole', gaps: 'whole',
};
const FIELDS = Object.keys(FIELD_STORAGE) as RollupField[];

/** One stored column: a field, or one exit's part of a per-exit field. */
interface RollupColumn {
  name: string;
  field: RollupField;
  exit?: ExitTier;
}
const columnsOf = (f: RollupField): RollupColumn[] =>
  FIELD_STORAGE[f] === 'whole' ? [{ name: f, field: f }] : EXIT_TIERS.map((exit) => ({ name: `${f}.${exit}`, field: f, exit }));
const ALL_COLUMNS = FIELDS.flatMap(columnsOf);
const quoted = (cols: readonly RollupColumn[]) => cols.map((c) => `"${c.name}"`).join(', ');

/** A cell from a row's columns (null columns are absent fields or exits). */
function cellOf(row: Record<string, unknown>, columns: readonly RollupColumn[] = ALL_COLUMNS): RollupCell {
  const cell: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined) continue;
    if (c.exit === undefined) cell[c.field] = v;
    else ((cell[c.field] ??= {}) as Record<string, unknown>)[c.exit] = v;
  }
  return cell as RollupCell;
}

/** A cell's value for one column, as the JSON text stored (null = absent). */
function columnValue(cell: RollupCell, c: RollupColumn): string | null {
  const v = c.exit === undefined ? cell[c.field] : (cell[c.field] as Partial<Record<ExitTier, unknown>> | undefined)?.[c.exit];
  return v === undefined ? null : JSON.stringify(v);
}

/** Applies one batch of the log to metric_rollups and metric_rollup_samples, inside `tx`; a RunDeleted drops its run's rows. */
export function applyRollup(events: StoredEvent[], tx: Queryable): Promise<void> {
  return applyWithRunDeletions(events, (part) => foldIntoRollup(part, tx), (runId) => deleteRunRollup(tx, runId));
}

/** A run's cells and sample states: gone with the run (run-deletion.ts, and the rollup at its RunDeleted). */
export async function deleteRunRollup(tx: Queryable, runId: string): Promise<void> {
  // The resolutions spelled out: the primary key (resolution, run_id, ...) then finds the run's cells of each.
  await tx.query('DELETE FROM metric_rollups WHERE resolution = ANY ($1::int[]) AND run_id = $2', [ROLLUP_RESOLUTIONS, runId]);
  await tx.query('DELETE FROM metric_rollup_samples WHERE run_id = $1', [runId]);
}

async function foldIntoRollup(events: StoredEvent[], tx: Queryable): Promise<void> {
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
  if (delta.cells.length) {
    const keys = delta.cells;
    const { rows } = await tx.query<{ resolution: number; bucket: string; run_id: string; scope: RollupScope; key: string } & Record<string, unknown>>(
      `SELECT m.resolution, m.bucket, m.run_id, m.scope, m.key, ${quoted(ALL_COLUMNS)} FROM metric_rollups m
         JOIN unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS x(resolution, bucket, run_id, scope, key)
           USING (resolution, bucket, run_id, scope, key)
        FOR UPDATE OF m`,
      [keys.map((k) => k.resolution), keys.map((k) => k.bucket), keys.map((k) => k.runId), keys.map((k) => k.scope), keys.map((k) => k.key)],
    );
    const where = (resolution: number, bucket: number, runId: string, scope: string, key: string) => JSON.stringify([resolution, bucket, runId, scope, key]);
    const stored = new Map(rows.map((r) => [where(r.resolution, Number(r.bucket), r.run_id, r.scope, r.key), cellOf(r)]));
    await writeRollupCells(
      tx,
      keys.map((k) => {
        const prev = stored.get(where(k.resolution, k.bucket, k.runId, k.scope, k.key));
        return { ...k, cell: prev ? mergeCells(prev, k.cell) : k.cell };
      }),
    );
  }
  const keep = [...delta.samples.entries()].filter(([, s]) => s !== null) as [string, SampleRollupState][];
  const drop = [...delta.samples.entries()].filter(([k, s]) => s === null && states.has(k));
  const ids = (list: [string, unknown][]) => list.map(([k]) => parseSampleKey(k));
  if (keep.length) {
    const k = ids(keep);
    await tx.query(
      `INSERT INTO metric_rollup_samples (run_id, sample_index, state)
       SELECT * FROM unnest($1::text[], $2::int[], $3::jsonb[])
       ON CONFLICT (run_id, sample_index) DO UPDATE SET state = excluded.state, updated_at = now()`,
      [k.map((x) => x.runId), k.map((x) => x.sampleIndex), keep.map(([, s]) => JSON.stringify(s))],
    );
  }
  if (delta.ended.length) await tx.query('DELETE FROM metric_rollup_samples WHERE run_id = ANY ($1)', [delta.ended]);
  if (drop.length) {
    const k = ids(drop);
    await tx.query(
      `DELETE FROM metric_rollup_samples s USING unnest($1::text[], $2::int[]) AS x(run_id, sample_index)
        WHERE s.run_id = x.run_id AND s.sample_index = x.sample_index`,
      [k.map((x) => x.runId), k.map((x) => x.sampleIndex)],
    );
  }
}

/** Rows a pruning statement deletes at most, so that it never holds many row locks the rollup's batches wait on. */
const PRUNE_CHUNK = 10_000;

/**
 * Deletes what the rollup remembers of production streams' samples (decided ones waiting for a label, labels
 * waiting for a decision) last written before `before`: stream retention dropped their events, so no label can
 * name them any more (the labels endpoint finds no decision and refuses a sample that far behind). Sessions' states
 * are never touched: theirs last a batch, and their events are kept. Returns how many went.
 */
export async function pruneRollupSampleStates(pool: Pool, before: Date): Promise<number> {
  let deleted = 0;
  for (;;) {
    const r = await pool.query(
      `DELETE FROM metric_rollup_samples WHERE ctid IN (
         SELECT s.ctid FROM metric_rollup_samples s
          WHERE s.updated_at < $1 AND EXISTS (SELECT 1 FROM streams WHERE stream_id = 'stream-' || s.run_id)
          LIMIT ${PRUNE_CHUNK})`,
      [before],
    );
    deleted += r.rowCount ?? 0;
    if ((r.rowCount ?? 0) < PRUNE_CHUNK) return deleted;
  }
}

/** Writes whole cells (replacing stored ones): the subscription's batches, and a benchmark's seed. */
export async function writeRollupCells(
  db: Queryable,
  cells: { resolution: number; bucket: number; runId: string; scope: RollupScope; key: string; cell: RollupCell }[],
): Promise<void> {
  if (cells.length === 0) return;
  await db.query(
    `INSERT INTO metric_rollups (resolution, bucket, run_id, scope, key, ${quoted(ALL_COLUMNS)})
     SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::text[], ${ALL_COLUMNS.map((_, i) => `$${i + 6}::json[]`).join(', ')})
     ON CONFLICT (resolution, run_id, scope, key, bucket) DO UPDATE SET ${ALL_COLUMNS.map((c) => `"${c.name}" = excluded."${c.name}"`).join(', ')}`,
    [
      cells.map((c) => c.resolution),
      cells.map((c) => c.bucket),
      cells.map((c) => c.runId),
      cells.map((c) => c.scope),
      cells.map((c) => c.key),
      ...ALL_COLUMNS.map((col) => cells.map((c) => columnValue(c.cell, col))),
    ],
  );
}

/**
 * How often the rollup takes a batch while following the log live. Its cells are one-minute buckets read by charts
 * and alert rounds, and every batch rewrites each cell it touches whole (a session touches some thirty: its run,
 * devices and links at both resolutions): at one batch per commit that was ~30 rewrites of the same rows a second.
 * Its transaction stays short (the fold is a few microseconds an event), so the xid8 rule's readers wait no longer.
 * Two seconds: at the demo's 2 samples/s each commit was a batch (~7 statements, twice a second) for one-minute
 * buckets that charts poll every few seconds and alert rounds read every ten.
 */
export const ROLLUP_BATCH_INTERVAL_MS = 2000;

/** The rollup's subscription (not started). */
export function metricsRollupSubscription(store: EventStore, options: Omit<SubscriptionOptions, 'name' | 'handle'> = {}): Subscription {
  return new Subscription(store, {
    minBatchIntervalMs: ROLLUP_BATCH_INTERVAL_MS,
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
  return rebuildSubscriber(store, METRICS_ROLLUP_SUBSCRIBER, ['metric_rollups', 'metric_rollup_samples'], () => metricsRollupSubscription(store, { batchSize: 2000, listen: false }), timeoutMs);
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
  const columns = columnsFor(q.fields);
  if (columns.length === 0) return [];
  const where = rollupWhere(q);
  const { rows } = await db.query<{ bucket: string } & Record<string, unknown>>(`SELECT bucket, ${quoted(columns)} FROM metric_rollups WHERE ${where.sql} ORDER BY bucket`, where.params);
  const out: { bucket: number; cell: RollupCell }[] = [];
  for (const r of rows) addRow(out, r, columns);
  return out;
}

/**
 * readRollup for every key of a scope at once, by key (keys with no cell in the window are absent): what an alert
 * round needs for one metric over all devices, in one query instead of one per device.
 */
export async function readRollupByKey(db: Queryable, q: Omit<RollupRead, 'key' | 'keyPrefix'>): Promise<Map<string, { bucket: number; cell: RollupCell }[]>> {
  const byKey = new Map<string, { bucket: number; cell: RollupCell }[]>();
  const columns = columnsFor(q.fields);
  if (columns.length === 0) return byKey;
  const params: unknown[] = [q.resolution, q.scope, q.from, q.to];
  if (q.runId !== undefined) params.push(q.runId);
  const { rows } = await db.query<{ key: string; bucket: string } & Record<string, unknown>>(
    `SELECT key, bucket, ${quoted(columns)} FROM metric_rollups
      WHERE resolution = $1 AND scope = $2 AND bucket >= $3 AND bucket < $4 ${q.runId === undefined ? '' : 'AND run_id = $5'}
      ORDER BY key, bucket`,
    params,
  );
  for (const r of rows) {
    let out = byKey.get(r.key);
    if (!out) byKey.set(r.key, (out = []));
    addRow(out, r, columns);
  }
  return byKey;
}

/** The stored columns that hold `fields` (`field.exit`: that exit's column of a per-exit field). */
function columnsFor(fields: RollupRead['fields']): typeof ALL_COLUMNS {
  const wanted = new Set<string>();
  for (const spec of fields) {
    const [f, exit] = spec.split('.') as [RollupField, string | undefined];
    if (!Object.hasOwn(FIELD_STORAGE, f)) continue;
    for (const c of columnsOf(f)) if (exit === undefined || c.exit === undefined || c.exit === exit) wanted.add(c.name);
  }
  return ALL_COLUMNS.filter((c) => wanted.has(c.name));
}

/** Appends a row's cell to buckets in ascending order, summing it into the last bucket when it is the same one. */
function addRow(out: { bucket: number; cell: RollupCell }[], r: { bucket: string } & Record<string, unknown>, columns: typeof ALL_COLUMNS): void {
  const bucket = Number(r.bucket);
  const cell = cellOf(r, columns);
  const last = out[out.length - 1];
  if (last && last.bucket === bucket) mergeCells(last.cell, cell);
  else out.push({ bucket, cell });
}

/**
 * The stored JSON text of a per-exit field, one entry per exit asked (null where absent), for each row in [from, to)
 * in ascending buckets (a bucket has a row per run and key matched), handed to `visit` as it arrives and unparsed:
 * the accuracy estimate scans its histograms itself. A 7-day chart's 10,080 rows parsed by JSON.parse, or even held
 * as strings until the query ends, cost more in parsing and garbage collection than the whole estimate.
 */
export async function readRollupTexts(
  pool: Pool,
  q: Omit<RollupRead, 'fields'>,
  field: RollupField,
  exits: readonly ExitTier[],
  visit: (bucket: number, texts: (string | null)[]) => void,
): Promise<void> {
  const columns = exits.map((exit) => {
    const column = columnsOf(field).find((c) => c.exit === exit);
    if (!column) throw new Error(`${field} is not stored per exit`);
    return column;
  });
  const where = rollupWhere(q);
  // ::text: the column's text as stored, which pg hands over as a string rather than parsing it.
  const query = new Query({
    text: `SELECT bucket, ${columns.map((c, i) => `"${c.name}"::text AS t${i}`).join(', ')} FROM metric_rollups WHERE ${where.sql} ORDER BY bucket`,
    values: where.params,
  });
  const client = await pool.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      let failed: unknown;
      // With a row listener and no callback, pg hands each row over and keeps none of them.
      query.on('row', (row: Record<string, string | null>) => {
        if (failed !== undefined) return;
        try {
          visit(Number(row.bucket), columns.map((_, i) => row[`t${i}`]));
        } catch (e) {
          failed = e;
        }
      });
      query.on('error', reject);
      query.on('end', () => (failed === undefined ? resolve() : reject(failed)));
      client.query(query);
    });
  } finally {
    client.release();
  }
}

/** The WHERE clause of a rollup read (subject, resolution, window) and its parameters. */
function rollupWhere(q: Omit<RollupRead, 'fields'>): { sql: string; params: unknown[] } {
  const keyCond = q.keyPrefix ? `key LIKE $3 || '%'` : 'key = $3';
  const runCond = q.runId === undefined ? '' : 'AND run_id = $6';
  const params: unknown[] = [q.resolution, q.scope, q.keyPrefix ? q.key.replace(/[\\%_]/g, (c) => `\\${c}`) : q.key, q.from, q.to];
  if (q.runId !== undefined) params.push(q.runId);
  return { sql: `resolution = $1 AND scope = $2 AND ${keyCond} AND bucket >= $4 AND bucket < $5 ${runCond}`, params };
}
