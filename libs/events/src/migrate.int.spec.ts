import { migrations } from '@ddnn/migrations';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationFailedError } from './errors';
import { runMigrations } from './migrate';

describe('schema migrations', () => {
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase('ddnn_migrate');
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it('creates the event store, checkpoint and projection tables, and is idempotent', async () => {
    const applied = await runMigrations(db.url);
    expect(applied).toEqual(migrations.map((m) => m.name));
    expect(await runMigrations(db.url)).toEqual([]);

    const { rows: cols } = await client.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name IN ('streams', 'events') ORDER BY table_name, ordinal_position`,
    );
    const events = cols.filter((c) => c.table_name === 'events').map((c) => `${c.column_name} ${c.data_type} ${c.is_nullable}`);
    expect(events).toEqual([
      'global_position bigint NO',
      'stream_id text NO',
      'stream_position bigint NO',
      'event_id uuid NO',
      'type text NO',
      'schema_version integer NO',
      'data jsonb NO',
      'metadata jsonb NO',
      'created_at timestamp with time zone NO',
      'transaction_id xid8 NO',
    ]);
    expect(cols.filter((c) => c.table_name === 'streams').map((c) => c.column_name)).toEqual([
      'stream_id',
      'stream_position',
      'created_at',
      'updated_at',
    ]);

    // events is partitioned (migration 1765100000000): indexes on every partition, and per branch the keys that
    // cannot span it.
    const indexes = async (table: string) => {
      const { rows: idx } = await client.query<{ indexname: string; indexdef: string }>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`,
        [table],
      );
      return Object.fromEntries(idx.map((i) => [i.indexname, i.indexdef.replace(/^CREATE (UNIQUE )?INDEX .* USING btree /, '$1')]));
    };
    expect(await indexes('events')).toEqual({
      events_stream_type_idx: '(stream_id, type, stream_position)',
      events_transaction_order_idx: '(transaction_id, global_position)',
    });
    expect(await indexes('events_kept')).toEqual({
      events_kept_event_id_key: 'UNIQUE (event_id)',
      events_kept_pkey: 'UNIQUE (stream_id, stream_position)',
      events_kept_stream_type_idx: '(stream_id, type, stream_position)',
      events_kept_transaction_order_idx: '(transaction_id, global_position)',
    });
    expect(await indexes('events_stream')).toEqual({
      events_stream_event_id_key: 'UNIQUE (event_id)',
      events_stream_log_order_idx: '(stream_id, transaction_id, global_position)',
      events_stream_sample_idx:
        "(stream_id, type, (((data ->> 'sampleIndex'::text))::integer)) WHERE (type = ANY (ARRAY['SampleStarted'::text, 'ExitDecided'::text, 'SectionsEvaluated'::text, 'SectionEvaluated'::text, 'DeviceMissed'::text, 'SampleLabelled'::text, 'SampleUnanswered'::text]))",
      events_stream_stream_id_type_stream_position_idx: '(stream_id, type, stream_position)',
      events_stream_transaction_id_global_position_idx: '(transaction_id, global_position)',
    });
    const { rows: tree } = await client.query<{ t: string; leaf: boolean }>(
      `SELECT relid::text AS t, isleaf AS leaf FROM pg_partition_tree('events') ORDER BY 1`,
    );
    expect(tree).toEqual([
      { t: 'events', leaf: false },
      { t: 'events_kept', leaf: true },
      { t: 'events_stream', leaf: false },
      { t: 'events_stream_default', leaf: true },
    ]);

    const { rows: tables } = await client.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(['device_statuses', 'events', 'migrations', 'session_summaries', 'streams', 'subscription_checkpoints']),
    );
    const { rows: fn } = await client.query(`SELECT 1 FROM pg_proc WHERE proname = 'append_events'`);
    expect(fn).toHaveLength(1);
    // append_batch's statements keep one plan per connection (migration 1765600000000), append_events' follow it.
    const { rows: config } = await client.query(`SELECT proname, proconfig FROM pg_proc WHERE proname IN ('append_batch', 'append_events') ORDER BY 1`);
    expect(config).toEqual([
      { proname: 'append_batch', proconfig: ['plan_cache_mode=force_generic_plan'] },
      { proname: 'append_events', proconfig: null },
    ]);
  });

  it('reverts cleanly: every down() undoes its up()', async () => {
    const other = await createTestDatabase('ddnn_migrate_down');
    try {
      await runMigrations(other.url);
      const c = new Client({ connectionString: other.url });
      await c.connect();
      try {
        // QueryRunner.query resolves to the rows.
        const runner = { query: async (sql: string) => (await c.query(sql)).rows } as unknown as QueryRunner;
        for (const M of [...migrations].reverse()) await new M().down(runner);
        const { rows } = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
        // Other migrations' tables are theirs to check; none of the event store's may survive.
        const left = rows.map((r) => r.tablename);
        for (const t of ['device_statuses', 'events', 'session_summaries', 'streams', 'subscription_checkpoints']) expect(left).not.toContain(t);
        expect(left).toContain('migrations');
        const { rows: fn } = await c.query(`SELECT 1 FROM pg_proc WHERE proname = 'append_events'`);
        expect(fn).toHaveLength(0);
      } finally {
        await c.end();
      }
    } finally {
      await other.drop();
    }
  });

  it('replaces an append_events left by an earlier version of the event store migration', async () => {
    const other = await createTestDatabase('ddnn_migrate_upgrade');
    const c = new Client({ connectionString: other.url });
    await c.connect();
    try {
      await runMigrations(other.url);
      // What a database migrated during development looks like: the intermediate signature, no upgrade yet.
      await c.query(`DROP FUNCTION append_events(text[], bigint[], integer[], uuid[], jsonb)`);
      await c.query(`CREATE FUNCTION append_events(p_streams text[], p_expected bigint[], p_events jsonb) RETURNS void LANGUAGE sql AS 'SELECT'`);
      await c.query(`DELETE FROM migrations WHERE name = 'AppendEventsBatchJson1764403200000'`);
      expect(await runMigrations(other.url)).toEqual(['AppendEventsBatchJson1764403200000']);
      const { rows } = await c.query(`SELECT pg_get_function_identity_arguments(oid) AS args FROM pg_proc WHERE proname = 'append_events'`);
      expect(rows.map((r) => r.args)).toEqual(['p_streams text[], p_expected bigint[], p_req integer[], p_ids uuid[], p_events jsonb']);
    } finally {
      await c.end();
      await other.drop();
    }
  });

  it('names the migration that failed', async () => {
    const other = await createTestDatabase('ddnn_migrate_fail');
    class Broken1799999999999 implements MigrationInterface {
      async up(q: QueryRunner): Promise<void> {
        await q.query('CREATE TABLE nope (x no_such_type)');
      }
      async down(): Promise<void> {
        return undefined;
      }
    }
    try {
      const failure = runMigrations(other.url, [...migrations, Broken1799999999999]);
      await expect(failure).rejects.toThrow(MigrationFailedError);
      await expect(runMigrations(other.url, [...migrations, Broken1799999999999])).rejects.toThrow(
        /migration Broken1799999999999 failed: type "no_such_type" does not exist/,
      );
      // The good ones before it were applied and stay applied.
      expect(await runMigrations(other.url)).toEqual([]);
    } finally {
      await other.drop();
    }
  });

  it('lets nodes that start together on a fresh database migrate it once, without failing', async () => {
    const other = await createTestDatabase('ddnn_migrate_race');
    try {
      const runs = await Promise.all([runMigrations(other.url), runMigrations(other.url), runMigrations(other.url)]);
      // One node applied them all; the others waited and found nothing left.
      expect(runs.map((r) => r.length).sort((a, b) => a - b)).toEqual([0, 0, migrations.length]);
    } finally {
      await other.drop();
    }
  });
});
