import { randomUUID } from 'node:crypto';
import { streamIds, type StoredEvent } from '@ddnn/contracts';
import { migrations, READ_LOG_PAGE } from '@ddnn/migrations';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { ev } from '../test/fixtures';
import { waitUntilReadable } from '../test/database';
import { START_CHECKPOINT } from './checkpoint';
import { EventStore } from './event-store';
import { runMigrations } from './migrate';
import { ensureStreamPartitions, partitionOf } from './partitions';
import { subscribe } from './subscription';

// The schema before this migration, and up to it: later migrations are not this test's subject.
const at = migrations.findIndex((m) => m.name === 'PartitionedEvents1765100000000');
const previous = migrations.slice(0, at);
const upToThis = migrations.slice(0, at + 1);

describe('migration 1765100000000: events partitioned, on a log written by the previous schema (Postgres)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('ddnn_events');
    await runMigrations(db.url, previous);
    pool = new Pool({ connectionString: db.url, max: 6 });
    // The store's statement (with the branch look-ups of AppendBatchBranchProbes1765500000000 and the fences of
    // StreamFences1766000000000, none here) forwarded to the append_batch of the schema under test, whichever
    // version of it the migrations leave in place.
    await pool.query(`
      CREATE FUNCTION append_batch(text[], integer[], integer[], bigint[], integer[], uuid[], integer[], text, integer[], text, text,
                                   uuid[], uuid, uuid, uuid[], bigint[])
      RETURNS TABLE (req integer, status text, current_position bigint, stream_positions bigint[], global_positions bigint[],
                     event_ids uuid[], transaction_id text, created_at timestamptz)
      LANGUAGE sql AS 'SELECT * FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)'`);
    // The store's tail read (ReadLogGenericPlan1765700000000), on whichever `events` the migrations leave in place.
    await pool.query(READ_LOG_PAGE);
    store = new EventStore(pool);
  });
  afterAll(async () => {
    pool.on('error', () => undefined);
    await pool.end();
    await db.drop();
  });

  async function everything(): Promise<StoredEvent[]> {
    await waitUntilReadable(pool);
    const all: StoredEvent[] = [];
    for (let after = START_CHECKPOINT; ; ) {
      const page = await store.readAll({ after, limit: 50 });
      if (!page.events.length) return all;
      all.push(...page.events);
      after = page.checkpoint;
    }
  }
  const placement = async () =>
    Object.fromEntries(
      (await pool.query<{ id: string; p: string }>('SELECT event_id::text AS id, tableoid::regclass::text AS p FROM events')).rows.map((r) => [r.id, r.p]),
    );
  const relkind = async () => (await pool.query<{ k: string }>(`SELECT relkind::text AS k FROM pg_class WHERE relname = 'events'`)).rows[0].k;
  const identityNext = async () => {
    const { rows } = await pool.query<{ g: string }>(`SELECT max(global_position)::text AS g FROM events`);
    return BigInt(rows[0].g);
  };

  it('keeps every event, its positions and checkpoint, moves stream events to their branch, and readers resume where they were', async () => {
    // The old log: sessions, devices, a stream run (UUIDv7 ids), and a stream event with a v4 id written by SQL.
    const sessionAppend = [ev.sampleStarted('m1', 0), ev.sampleStarted('m1', 1)].map((e) => ({ ...e, eventId: randomUUID() }));
    await store.appendToStream(streamIds.session('m1'), sessionAppend);
    await store.appendToStream(streamIds.device('cam-m'), [ev.deviceConnected('cam-m')]);
    const run = await store.appendToStream('stream-m2', [ev.sampleStarted('m2', 0), ev.sampleStarted('m2', 1)]);
    const legacy = randomUUID();
    await pool.query(
      `INSERT INTO streams (stream_id, stream_position) VALUES ('stream-m3', 1);
       INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data)
       VALUES ('stream-m3', 1, '${legacy}', 'SampleStarted', 1, '{"sessionId":"m3","sampleIndex":0,"sampleId":"s0","label":null}')`,
    );
    await store.appendToStream(streamIds.session('m1'), [ev.sessionAborted('m1')]);
    const before = await everything();
    expect(before).toHaveLength(7);
    // A named subscriber has handled all of it.
    const seen: StoredEvent[] = [];
    const sub = await subscribe(store, { name: 'migration-test', pollIntervalMs: 50, handle: async (events) => void seen.push(...events) });
    await sub.catchUp();
    await sub.stop();
    expect(seen.map((e) => e.eventId)).toEqual(before.map((e) => e.eventId));
    expect(await relkind()).toBe('r');

    expect(await runMigrations(db.url, upToThis)).toEqual(['PartitionedEvents1765100000000']);
    expect(await relkind()).toBe('p');
    expect(await everything()).toEqual(before);
    const where = await placement();
    expect(before.map((e) => [e.streamId, where[e.eventId]])).toEqual(
      before.map((e) => [e.streamId, e.streamId.startsWith('stream-') ? 'events_stream_default' : 'events_kept']),
    );

    // Appends go on after the old positions; a retry of an old append is still answered with what was stored.
    const oldMax = await identityNext();
    const retry = await store.appendToStream(streamIds.session('m1'), sessionAppend);
    expect(retry.duplicate).toBe(true);
    expect(retry.events.map((e) => e.globalPosition)).toEqual(before.slice(0, 2).map((e) => e.globalPosition));
    const more = await store.appendToStream('stream-m2', [ev.sampleStarted('m2', 2)]);
    const moreSession = await store.appendToStream(streamIds.session('m1'), [ev.sampleStarted('m1', 2)]);
    expect(more.events[0].streamPosition).toBe(3);
    // (The retry's insert took an identity value before meeting the stored ids: sequences leave gaps, as before.)
    expect(BigInt(more.events[0].globalPosition)).toBeGreaterThan(oldMax);
    expect(BigInt(moreSession.events[0].globalPosition)).toBe(BigInt(more.events[0].globalPosition) + 1n);

    // The subscriber resumes from its stored checkpoint with exactly the new events.
    const resumed: StoredEvent[] = [];
    const again = await subscribe(store, { name: 'migration-test', pollIntervalMs: 50, handle: async (events) => void resumed.push(...events) });
    await again.catchUp();
    await again.stop();
    expect(resumed.map((e) => e.eventId)).toEqual([more.events[0].eventId, moreSession.events[0].eventId]);

    // The first maintenance run moves today's stream events out of the default partition; the v4 one stays there.
    const made = await ensureStreamPartitions(pool, { daysAhead: 0 });
    expect(made.moved).toBe(3);
    const today = partitionOf(Date.now()).name;
    const now = await placement();
    expect([...run.events, ...more.events].map((e) => now[e.eventId])).toEqual([today, today, today]);
    expect(now[legacy]).toBe('events_stream_default');
    expect((await store.readStream('stream-m2')).map((e) => e.streamPosition)).toEqual([1, 2, 3]);
  });

  it("goes back down to one table with every event (its down), and up again", async () => {
    const before = await everything();
    const ds = await new DataSource({ type: 'postgres', url: db.url, migrations: upToThis }).initialize();
    try {
      await ds.undoLastMigration({ transaction: 'each' });
    } finally {
      await ds.destroy();
    }
    expect(await relkind()).toBe('r');
    expect(await everything()).toEqual(before);
    const max = await identityNext();
    const after = await store.appendToStream('stream-m2', [ev.sampleStarted('m2', 3)]);
    expect(BigInt(after.events[0].globalPosition)).toBe(max + 1n);
    expect(after.events[0].streamPosition).toBe(4);

    expect(await runMigrations(db.url, upToThis)).toEqual(['PartitionedEvents1765100000000']);
    expect(await relkind()).toBe('p');
    expect(await everything()).toEqual([...before, ...after.events.map((e) => ({ ...e, metadata: {} }))]);
  });
});
