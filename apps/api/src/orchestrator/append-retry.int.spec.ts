import { DataSource } from 'typeorm';
import { migrations } from '@ddnn/migrations';
import { streamIds, type NewEvent } from '@ddnn/contracts';
import { FencedAppendError, type BatchingWriter, type EventStore } from '@ddnn/events';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import type { AppConfig } from '../config/config';
import { Database } from '../database/database';
import { outageProofSink } from './append-retry';

/** A sample's events, as a run appends them at once. */
const sample = (runId: string, sampleIndex: number): NewEvent[] => [
  { type: 'SampleStarted', data: { sessionId: runId, sampleIndex, sampleId: `s${sampleIndex}`, label: null } },
  { type: 'ExitDecided', data: { sessionId: runId, sampleIndex, tier: 'local', eta: 0.1, threshold: 0.8, policy: 'entropy', exited: true, prediction: 1, label: null, shadow: false } },
];

/** The error pg gives when the server's connection ends under a query: the database is unavailable. */
const connectionLost = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });

describe('a run sink whose commit answer was lost and whose retry met another node’s fence (real Postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let database: Database;
  let store: EventStore;
  let writer: BatchingWriter;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource({ type: 'postgres', url: db.url, migrations }).initialize();
    await ds.runMigrations({ transaction: 'each' });
    database = new Database(ds, { DDNN_DB_OUTAGE_LIMIT_MS: 5000 } as AppConfig);
    ({ store, writer } = database);
  });
  afterAll(async () => {
    await database.beforeApplicationShutdown();
    await ds.destroy();
    await db.drop();
  });

  /**
   * A writer whose first append commits and then loses its answer (the connection dropped after the commit), and
   * which lets another node take the run over (a new fence) before the sink's retry arrives.
   */
  function writerLosingTheFirstAnswer(stream: string, committed: boolean): BatchingWriter {
    let calls = 0;
    return {
      append: async (streamId: string, events: NewEvent[], options: { fence?: number }) => {
        calls++;
        if (calls === 1) {
          if (committed) await writer.append(streamId, events, options);
          await store.takeFence(stream);
          throw connectionLost();
        }
        return writer.append(streamId, events, options);
      },
    } as unknown as BatchingWriter;
  }

  it('counts the sample logged when the lost attempt had committed, and dropped when it had not', async () => {
    const warnings: string[] = [];
    for (const [run, committed] of [
      ['r-committed', true],
      ['r-lost', false],
    ] as const) {
      const stream = streamIds.stream(run);
      const fence = await store.takeFence(stream);
      const sink = outageProofSink({ writer: writerLosingTheFirstAnswer(stream, committed), store, outageLimitMs: 5000 }, stream, (m) => warnings.push(m), fence);
      const append = sink.append(sample(run, 0));
      if (committed) await expect(append).resolves.toBeUndefined();
      else await expect(append).rejects.toBeInstanceOf(FencedAppendError);
      // Whatever the answer, the log holds the sample once or not at all.
      expect(await store.countByType(stream, 'SampleStarted')).toBe(committed ? 1 : 0);
    }
    expect(warnings.filter((w) => /logged once, not dropped/.test(w))).toHaveLength(1);
  });

  it('still refuses a first attempt made after the takeover: nothing was ever logged', async () => {
    const stream = streamIds.stream('r-late');
    const fence = await store.takeFence(stream);
    await store.takeFence(stream);
    const sink = outageProofSink(database, stream, () => undefined, fence);
    await expect(sink.append(sample('r-late', 0))).rejects.toBeInstanceOf(FencedAppendError);
    expect(await store.countByType(stream, 'SampleStarted')).toBe(0);
  });
});
