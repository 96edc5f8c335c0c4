import { migrations } from '@ddnn/migrations';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { runMigrations } from '../migrate';
import { readRollup } from './metrics-rollup';
import type { RollupCell } from './metrics-rollup-fold';

// The schema before this migration, and up to it: later migrations are not this test's subject.
const at = migrations.findIndex((m) => m.name === 'MetricsRollupJsonColumns1765400000005');
const previous = migrations.slice(0, at);
const upToThis = migrations.slice(0, at + 1);

/** A cell with every kind of field: counts, per-exit counts and histograms, whole histograms, absent exits. */
const cell: RollupCell = {
  samples: 12,
  decided: 11,
  exits: { local: 8, cloud: 3 },
  entropy: { local: { '3': 5, '40': 3 }, cloud: { '70': 3 } },
  confidence: { local: { '45': 8 }, cloud: { '30': 3 } },
  labelled: 4,
  correct: 3,
  labelledByExit: { local: 4 },
  correctByExit: { local: 3 },
  answered: 70,
  missed: 2,
  missedBy: { timeout: 2 },
  latency: { '17': 70 },
  sectionEntropy: { '10': 60, '90': 10 },
  agreeN: 66,
  agree: 60,
  messages: 75,
  bytes: 1234,
};

describe('migration 1765400000005: metric_rollups columns become json, per-exit fields one column per exit (Postgres)', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('ddnn_events');
    await runMigrations(db.url, previous);
    pool = new Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('keeps every stored cell: reads after the migration equal the cells written before it', async () => {
    // Written as the previous schema stored them: one jsonb column per field.
    const fields = Object.keys(cell) as (keyof RollupCell)[];
    for (const [bucket, scope, key] of [[0, 'run', ''], [60_000, 'run', ''], [0, 'device', 'd-1']] as const) {
      await pool.query(
        `INSERT INTO metric_rollups (resolution, bucket, run_id, scope, key, ${fields.map((f) => `"${f}"`).join(', ')})
         VALUES (60000, $1, 'run-1', $2, $3, ${fields.map((_, i) => `$${i + 4}::jsonb`).join(', ')})`,
        [bucket, scope, key, ...fields.map((f) => JSON.stringify(cell[f]))],
      );
    }
    // A sparse cell: only what a device cell has.
    await pool.query(`INSERT INTO metric_rollups (resolution, bucket, run_id, scope, key, "answered", "latency") VALUES (60000, 60000, 'run-1', 'device', 'd-1', '5', '{"3": 5}')`);

    await runMigrations(db.url, upToThis);

    const types = await pool.query<{ t: string }>(`SELECT DISTINCT data_type AS t FROM information_schema.columns WHERE table_name = 'metric_rollups' AND column_name NOT IN ('resolution', 'bucket', 'run_id', 'scope', 'key')`);
    expect(types.rows.map((r) => r.t)).toEqual(['json']);
    const all = Object.keys(cell) as (keyof RollupCell)[];
    const run = await readRollup(pool, { resolution: 60000, scope: 'run', key: '', runId: 'run-1', from: 0, to: 120_000, fields: all });
    expect(run).toEqual([{ bucket: 0, cell }, { bucket: 60_000, cell }]);
    const device = await readRollup(pool, { resolution: 60000, scope: 'device', key: 'd-1', from: 0, to: 120_000, fields: all });
    expect(device).toEqual([{ bucket: 0, cell }, { bucket: 60_000, cell: { answered: 5, latency: { '3': 5 } } }]);
    // One exit's part of a per-exit field reads that exit only.
    const local = await readRollup(pool, { resolution: 60000, scope: 'run', key: '', from: 0, to: 60_000, fields: ['entropy.local', 'samples'] });
    expect(local).toEqual([{ bucket: 0, cell: { samples: 12, entropy: { local: { '3': 5, '40': 3 } } } }]);
  });

  it('goes back down to jsonb columns with the same cells', async () => {
    const before = await pool.query('SELECT * FROM metric_rollups ORDER BY bucket, scope');
    expect(before.rowCount).toBe(4);
    const ds = new DataSource({ type: 'postgres', url: db.url, migrations: upToThis });
    await ds.initialize();
    try {
      await ds.undoLastMigration();
    } finally {
      await ds.destroy();
    }
    const { rows } = await pool.query(`SELECT "entropy", "exits", "latency", "answered" FROM metric_rollups WHERE scope = 'run' ORDER BY bucket`);
    expect(rows[0]).toEqual({ entropy: cell.entropy, exits: cell.exits, latency: cell.latency, answered: cell.answered });
    const sparse = await pool.query(`SELECT "entropy", "answered" FROM metric_rollups WHERE scope = 'device' AND bucket = 60000`);
    expect(sparse.rows[0]).toEqual({ entropy: null, answered: 5 });
  });
});
