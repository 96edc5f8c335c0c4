import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { migrations } from '@ddnn/migrations';
import { streamIds } from '@ddnn/contracts';
import { ensureStreamPartitions, listStreamPartitions, newEventId, partitionOf, DAY_MS } from '@ddnn/events';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import type { AppConfig } from '../config/config';
import { Database } from '../database/database';
import { StreamRetention } from './stream-retention';

describe('StreamRetention: partitions ahead at start-up, retention on schedule (real Postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let database: Database;
  const logged: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource({ type: 'postgres', url: db.url, migrations }).initialize();
    await ds.runMigrations({ transaction: 'each' });
    database = new Database(ds, { DDNN_DB_OUTAGE_LIMIT_MS: 5000 } as AppConfig);
    jest.spyOn(Logger.prototype, 'log').mockImplementation((m: unknown) => void logged.push(String(m)));
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((m: unknown) => void logged.push(`WARN ${String(m)}`));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await database.beforeApplicationShutdown();
    await ds.destroy();
    await db.drop();
  });

  const config = (days: number) => ({ DDNN_STREAM_RETENTION_DAYS: days, DDNN_RETENTION_INTERVAL_MS: 3_600_000, DDNN_STREAM_PARTITION_DAYS_AHEAD: 2 });

  it('creates today and the next days at start-up, on two nodes at once, and with retention 0 drops nothing', async () => {
    const nodes = [new StreamRetention(database, config(0)), new StreamRetention(database, config(0))];
    await Promise.all(nodes.map((n) => n.onModuleInit()));
    await Promise.all(nodes.map((n) => n.onApplicationShutdown()));
    const now = Date.now();
    expect((await listStreamPartitions(database.pool)).map((p) => p.name)).toEqual([0, 1, 2].map((d) => partitionOf(now + d * DAY_MS).name));
    expect(logged.filter((l) => l.startsWith('WARN'))).toEqual([]);
    // Each day was created once, by one node or the other.
    const created = logged.filter((l) => l.includes('created stream event partitions')).flatMap((l) => l.match(/events_stream_p\d{8}/g) ?? []);
    expect(created.sort()).toEqual([0, 1, 2].map((d) => partitionOf(now + d * DAY_MS).name));
  });

  it('drops the stream partitions older than DDNN_STREAM_RETENTION_DAYS and logs them; sessions stay', async () => {
    const old = Date.now() - 10 * DAY_MS;
    await ensureStreamPartitions(database.pool, { now: new Date(old), daysAhead: 0 });
    const run = await database.store.appendToStream('stream-r1', [
      { type: 'SampleStarted', data: { sessionId: 'r1', sampleIndex: 0, sampleId: 's0', label: null }, eventId: newEventId(old) },
      { type: 'SampleStarted', data: { sessionId: 'r1', sampleIndex: 1, sampleId: 's1', label: null } },
    ]);
    await database.store.appendToStream(streamIds.session('r1'), [{ type: 'SessionAborted', data: { sessionId: 'r1', reason: 'test', samplesDone: 0 }, eventId: newEventId(old) }]);
    const node = new StreamRetention(database, config(7));
    await node.onModuleInit();
    await node.onApplicationShutdown();
    expect(logged.filter((l) => l.startsWith('WARN'))).toEqual([]);
    expect(logged).toContainEqual(expect.stringMatching(new RegExp(`retention \\(7 days\\): dropped stream event partition ${partitionOf(old).name} \\(`)));
    expect((await database.store.readStream('stream-r1')).map((e) => e.eventId)).toEqual([run.events[1].eventId]);
    expect(await database.store.streamVersion(streamIds.session('r1'))).toBe(1);
    expect(await database.store.countByType(streamIds.session('r1'), 'SessionAborted')).toBe(1);
  });
});
