import { streamIds } from '@ddnn/contracts';
import type { Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedStore } from '../test/database';
import { BatchingWriter } from './batching-writer';
import { ConcurrencyError } from './errors';
import { EventStore } from './event-store';

describe('BatchingWriter (Postgres)', () => {
  const db = migratedStore();
  let pool: Pool;
  let store: EventStore;
  beforeEach(() => {
    ({ pool, store } = db);
  });

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

  it("after a commit, what queued during it waits for its oldest append's delay: a steady trickle makes one batch per delay, not one per commit", async () => {
    const writer = new BatchingWriter(store, { maxBatchEvents: 1000, maxDelayMs: 100, lanes: 1 });
    const calls: Promise<unknown>[] = [];
    // 150 appends ~2 ms apart, so some always arrive during a commit: sending them at each commit's end made a
    // batch per commit (dozens over the ~0.4 s).
    for (let i = 0; i < 150; i++) {
      calls.push(writer.append(streamIds.session('trickle'), [ev.sampleStarted('trickle', i)]));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(calls);
    expect(writer.stats.events).toBe(150);
    expect(writer.stats.batches).toBeGreaterThanOrEqual(2);
    expect(writer.stats.batches).toBeLessThanOrEqual(8);
    // A full batch does not wait.
    const full = new BatchingWriter(store, { maxBatchEvents: 10, maxDelayMs: 60_000, lanes: 1 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => full.append(streamIds.session('full'), [ev.sampleStarted('full', i)])));
    expect(full.stats.batches).toBe(3);
    await Promise.all([writer.close(), full.close()]);
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
    // A constraint the database checks at insert: a batch holding one refused row fails as a whole statement.
    await pool.query(`ALTER TABLE events ADD CONSTRAINT test_poison CHECK (data->>'reason' IS DISTINCT FROM 'poison') NOT VALID`);
    try {
      const good = [0, 1, 2].map((i) => writer.append(streamIds.session('f1'), [ev.sampleStarted('f1', i)]));
      const poisoned = writer.append(streamIds.session('f2'), [ev.sessionAborted('f2', 'poison')]);
      const settled = await Promise.allSettled([...good, poisoned]);
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
      expect(String((settled[0] as PromiseRejectedResult).reason)).toMatch(/test_poison/);
      expect(writer.stats.failedBatches).toBe(1);
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM events WHERE stream_id IN ('session-f1', 'session-f2')`);
      expect(rows[0].n).toBe(0);
    } finally {
      await pool.query('ALTER TABLE events DROP CONSTRAINT test_poison');
    }
    // The writer keeps working after a failed batch.
    const after = await writer.append(streamIds.session('f1'), [ev.sampleStarted('f1', 9)]);
    expect(after.events[0].streamPosition).toBe(1);
    await writer.close();
    await expect(writer.append(streamIds.session('f1'), [ev.sampleStarted('f1', 10)])).rejects.toThrow(/closed/);
  });

  it('rejects a bad append alone and commits the appends batched with it', async () => {
    const writer = new BatchingWriter(store, { maxBatchEvents: 1000, maxDelayMs: 30, lanes: 1 });
    const s = streamIds.session('iso');
    const before = writer.append(s, [ev.sampleStarted('iso', 0)]);
    // Postgres' jsonb refuses \u0000: sent, it would fail the whole statement, hence every append of the batch.
    const nul = writer.append(s, [ev.sessionAborted('iso', 'a\u0000b')]);
    const unknown = writer.append(s, [{ type: 'NoSuchEvent', data: {} } as never]);
    const cyclic: Record<string, unknown> = { sessionId: 'iso' };
    cyclic.self = cyclic;
    const unserializable = writer.append(s, [{ type: 'SessionAborted', data: cyclic } as never]);
    const after = writer.append(s, [ev.sampleStarted('iso', 1)]);
    await expect(nul).rejects.toThrow(/data of SessionAborted holds \\u0000, which PostgreSQL's jsonb cannot store/);
    await expect(unknown).rejects.toThrow(/unknown event type 'NoSuchEvent'/);
    await expect(unserializable).rejects.toThrow(/data of SessionAborted cannot be written as JSON/);
    const stored = await Promise.all([before, after]);
    expect(stored.map((r) => r.events[0].streamPosition)).toEqual([1, 2]);
    expect(writer.stats).toMatchObject({ batches: 1, events: 2, failedBatches: 0 });
    await writer.close();
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
