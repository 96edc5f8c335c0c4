import { streamIds } from '@ddnn/contracts';
import type { Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedStore } from '../test/database';
import { BatchingWriter } from './batching-writer';
import { FencedAppendError } from './errors';
import { newEventId } from './event-id';
import { EventStore } from './event-store';

const indices = async (store: EventStore, stream: string) =>
  (await store.readStream(stream)).map((e) => (e.data as { sampleIndex: number }).sampleIndex);

describe("a stream's fence (EventStore.takeFence, AppendOptions.fence; Postgres)", () => {
  const db = migratedStore();
  let pool: Pool;
  let store: EventStore;
  beforeEach(() => {
    ({ pool, store } = db);
  });

  it('takes increasing tokens; appends under the current one are written, under an older one refused with nothing written', async () => {
    for (const stream of [streamIds.stream('f1'), streamIds.session('f1')]) {
      const old = await store.takeFence(stream);
      expect(old).toBe(1);
      await store.appendToStream(stream, [ev.sampleStarted('f1', 0)], { fence: old });
      const current = await store.takeFence(stream);
      expect(current).toBe(2);
      const refused = await store.appendToStream(stream, [ev.sampleStarted('f1', 1)], { fence: old }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(FencedAppendError);
      expect(refused).toMatchObject({ streamId: stream, fence: 1, current: 2 });
      await store.appendToStream(stream, [ev.sampleStarted('f1', 2)], { fence: current });
      // No fence: not an owner's append (a label, an operator's), never refused.
      await store.appendToStream(stream, [ev.sampleStarted('f1', 3)]);
      expect(await indices(store, stream)).toEqual([0, 2, 3]);
    }
  });

  it('refuses a token never taken, and one that is not a positive integer before sending it', async () => {
    const stream = streamIds.stream('f2');
    await expect(store.appendToStream(stream, [ev.sampleStarted('f2', 0)], { fence: 1 })).rejects.toMatchObject({ name: 'FencedAppendError', current: null });
    for (const fence of [0, -1, 1.5, Number.NaN]) {
      await expect(store.appendToStream(stream, [ev.sampleStarted('f2', 0)], { fence })).rejects.toThrow(/is not a token of takeFence/);
    }
    expect(await indices(store, stream)).toEqual([]);
  });

  it('refuses a stale token on the slow path too (an expectation, a retry of stored ids)', async () => {
    const stream = streamIds.session('f3');
    const old = await store.takeFence(stream);
    const first = ev.sampleStarted('f3', 0);
    first.eventId = newEventId();
    await store.appendToStream(stream, [first], { fence: old });
    await store.takeFence(stream);
    await expect(store.appendToStream(stream, [first], { fence: old })).rejects.toBeInstanceOf(FencedAppendError);
    await expect(store.appendToStream(stream, [ev.sampleStarted('f3', 1)], { fence: old, expectedVersion: 1 })).rejects.toBeInstanceOf(FencedAppendError);
    expect(await indices(store, stream)).toEqual([0]);
  });

  it('in one batch, refuses only the fenced requests: the other streams and the current owner are written', async () => {
    const [lost, kept, free] = [streamIds.stream('f4a'), streamIds.stream('f4b'), streamIds.session('f4c')];
    const stale = await store.takeFence(lost);
    const current = await store.takeFence(lost);
    const keptFence = await store.takeFence(kept);
    // The batch's two tokens for `lost`: the lower one is refused whatever the stream holds (it was taken first).
    const outcomes = await store.appendBatch([
      { streamId: lost, events: [ev.sampleStarted('f4a', 0)], fence: stale },
      { streamId: kept, events: [ev.sampleStarted('f4b', 0)], fence: keptFence },
      { streamId: free, events: [ev.sampleStarted('f4c', 0)] },
      { streamId: lost, events: [ev.sampleStarted('f4a', 1)], fence: current },
      { streamId: lost, events: [ev.sampleStarted('f4a', 2)], fence: stale },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([false, true, true, true, false]);
    expect(outcomes[0]).toMatchObject({ error: { name: 'FencedAppendError', fence: stale, current } });
    expect(await indices(store, lost)).toEqual([1]);
    expect(await indices(store, kept)).toEqual([0]);
    expect(await indices(store, free)).toEqual([0]);

    // Only stale tokens for `lost` (the database refuses them): its unfenced request and the other streams are written.
    const again = await store.appendBatch([
      { streamId: kept, events: [ev.sampleStarted('f4b', 9)], fence: keptFence },
      { streamId: lost, events: [ev.sampleStarted('f4a', 5)], fence: stale },
      { streamId: lost, events: [ev.sampleStarted('f4a', 6)] },
      { streamId: lost, events: [ev.sampleStarted('f4a', 7)], fence: stale },
    ]);
    expect(again.map((o) => o.ok)).toEqual([true, false, true, false]);
    expect(again[1]).toMatchObject({ error: { name: 'FencedAppendError', fence: stale, current } });
    expect(await indices(store, lost)).toEqual([1, 6]);
    expect(await indices(store, kept)).toEqual([0, 9]);

    // The batching writer: one batch over the three streams; only the stale caller is rejected, and counted.
    const writer = new BatchingWriter(store, { maxDelayMs: 20, lanes: 1 });
    const calls = [
      writer.append(lost, [ev.sampleStarted('f4a', 3)], { fence: stale }),
      writer.append(kept, [ev.sampleStarted('f4b', 1)], { fence: keptFence }),
      writer.append(free, [ev.sampleStarted('f4c', 1)]),
      writer.append(lost, [ev.sampleStarted('f4a', 4)], { fence: current }),
    ];
    const settled = await Promise.allSettled(calls);
    await writer.close();
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((settled[0] as PromiseRejectedResult).reason).toBeInstanceOf(FencedAppendError);
    expect(writer.stats).toMatchObject({ batches: 1, events: 3, failedBatches: 0, fencedAppends: 1 });
    expect(await indices(store, lost)).toEqual([1, 6, 4]);
  });

  it('a takeover waits for an append in progress under the old token, and the old owner is refused from then on', async () => {
    const stream = streamIds.stream('f5');
    const old = await store.takeFence(stream);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const [inProgress] = await store.appendBatch([{ streamId: stream, events: [ev.sampleStarted('f5', 7)], fence: old }], client);
      expect(inProgress.ok).toBe(true);
      let taken: number | null = null;
      const takeover = store.takeFence(stream).then((t) => (taken = t));
      // The takeover's update waits on the append's lock: it cannot be taken before the append commits or aborts.
      await waitForLockWait(pool);
      expect(taken).toBeNull();
      await client.query('COMMIT');
      expect(await takeover).toBe(2);
    } finally {
      client.release();
    }
    // What the new owner reads after its takeover holds the sample the old owner had in flight.
    expect(await store.highestSampleIndex(stream, 'SampleStarted')).toBe(7);
    await expect(store.appendToStream(stream, [ev.sampleStarted('f5', 8)], { fence: old })).rejects.toBeInstanceOf(FencedAppendError);
    expect(await indices(store, stream)).toEqual([7]);
  });
});

/** Until a backend of this database waits on a row lock (the takeover behind the append in progress). */
async function waitForLockWait(pool: Pool): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%stream_fences%'`,
    );
    if (rows[0].n > 0) return;
    if (Date.now() > deadline) throw new Error('the takeover never waited on the append in progress');
    await new Promise((r) => setTimeout(r, 20));
  }
}
