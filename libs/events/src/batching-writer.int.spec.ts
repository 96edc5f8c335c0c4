import { streamIds } from '@ddnn/contracts';
import type { Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedDatabase } from '../test/database';
import { BatchingWriter } from './batching-writer';
import { ConcurrencyError } from './errors';
import { EventStore } from './event-store';

describe('BatchingWriter (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    env = await migratedDatabase(6);
    pool = env.pool;
    store = new EventStore(pool);
  });
  afterAll(() => env.close());

  it('groups many concurrent appends over several streams into few batches, each caller seeing its own stored events', async () => {
    const writer = new BatchingWriter(store, { maxBatchEvents: 100, maxDelayMs: 5, lanes: 2 });
    const sessions = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const calls = Array.from({ length: 600 }, (_, i) => {
      const s = sessions[i % sessions.length];
      return writer.append(streamIds.session(s), [ev.sampleStarted(s, i)]);
    });
    const results = await Promise.all(calls);
    await writer.close();
    expect(writer.stats.events).toBe(600);
    expect(writer.stats.batches).toBeLessThan(60);
    expect(writer.stats.largestBatch).toBeLessThanOrEqual(100);
    for (const s of sessions) {
      const stored = await store.readStream(streamIds.session(s));
      // Call order is kept within a stream, with no gaps.
      expect(stored.map((e) => (e.data as { sampleIndex: number }).sampleIndex)).toEqual(
        Array.from({ length: 120 }, (_, k) => k * sessions.length + sessions.indexOf(s)),
      );
      expect(stored.map((e) => e.streamPosition)).toEqual(Array.from({ length: 120 }, (_, k) => k + 1));
    }
    results.forEach((r, i) => expect((r.events[0].data as { sampleIndex: number }).sampleIndex).toBe(i));
  });

  it('resolves a caller only once its batch is committed and visible to every other connection', async () => {
    const writer = new BatchingWriter(store, { maxBatchEvents: 1000, maxDelayMs: 20 });
    const seen = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const r = await writer.append(streamIds.session('vis'), [ev.sampleStarted('vis', i)]);
        const { rows } = await pool.query('SELECT 1 FROM events WHERE event_id = $1', [r.events[0].eventId]);
        return rows.length;
      }),
    );
    expect(seen).toEqual(Array(20).fill(1));
    await writer.close();
  });

  it('rejects every caller of a batch whose commit fails, and stores nothing of it', async () => {
    const writer = new BatchingWriter(store, { maxBatchEvents: 1000, maxDelayMs: 30, lanes: 1 });
    const good = [0, 1, 2].map((i) => writer.append(streamIds.session('f1'), [ev.sampleStarted('f1', i)]));
    // Postgres refuses \u0000 in jsonb: the whole statement, hence the whole batch, fails.
    const poisoned = writer.append(streamIds.session('f2'), [{ type: 'SessionAborted', data: { sessionId: 'f2', reason: 'a\u0000b', samplesDone: 0 } }]);
    const settled = await Promise.allSettled([...good, poisoned]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(writer.stats.failedBatches).toBe(1);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM events WHERE stream_id IN ('session-f1', 'session-f2')`);
    expect(rows[0].n).toBe(0);
    // The writer keeps working after a failed batch.
    const after = await writer.append(streamIds.session('f1'), [ev.sampleStarted('f1', 9)]);
    expect(after.events[0].streamPosition).toBe(1);
    await writer.close();
    await expect(writer.append(streamIds.session('f1'), [ev.sampleStarted('f1', 10)])).rejects.toThrow(/closed/);
  });

  it('rejects only the caller whose expected version is stale', async () => {
    const writer = new BatchingWriter(store, { maxBatchEvents: 1000, maxDelayMs: 30, lanes: 1 });
    const s = streamIds.session('cv');
    const a = writer.append(s, [ev.sampleStarted('cv', 0)], { expectedVersion: 'no_stream' });
    const b = writer.append(s, [ev.sampleStarted('cv', 1)], { expectedVersion: 1 });
    const c = writer.append(s, [ev.sampleStarted('cv', 2)], { expectedVersion: 7 });
    const d = writer.append(streamIds.session('cv2'), [ev.sampleStarted('cv2', 0)]);
    const settled = await Promise.allSettled([a, b, c, d]);
    expect(settled.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    expect(writer.stats.batches).toBe(1);
    expect((await store.readStream(s)).map((e) => e.streamPosition)).toEqual([1, 2]);
    await writer.close();
  });

  it('refuses bad options with a message naming them', () => {
    expect(() => new BatchingWriter(store, { maxBatchEvents: 0 })).toThrow(/maxBatchEvents must be an integer >= 1/);
    expect(() => new BatchingWriter(store, { maxDelayMs: -1 })).toThrow(/maxDelayMs must be a number >= 0/);
  });
});
