import { streamIds, type NewEvent } from '@ddnn/contracts';
import type { Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedDatabase, waitUntilReadable } from '../test/database';
import { derivedTimedEventId } from './event-id';
import { isUuidV7 } from './partitions';
import { EventStore } from './event-store';

/** The reads a production stream's labels and resume use: a few samples' payloads, the newest of a type, pages. */
describe('EventStore reads for runs (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    env = await migratedDatabase(4);
    pool = env.pool;
    store = new EventStore(pool);
  });
  afterAll(() => env.close());

  const LABELLED_AT = 1_800_000_000_000;
  const labelled = (runId: string, sampleIndex: number, label: number): NewEvent => ({
    type: 'SampleLabelled',
    eventId: derivedTimedEventId(`label:${runId}:${sampleIndex}`, LABELLED_AT),
    data: { sessionId: runId, sampleIndex, label, labelledAt: LABELLED_AT },
  });

  it('finds the payloads of given samples, the newest event of a type, and pages one stream after a checkpoint', async () => {
    const stream = streamIds.stream('r1');
    await store.appendToStream(stream, [5, 3, 9, 4].map((i) => ev.sampleStarted('r1', i, null)));
    // Another run's samples with the same indices are not this stream's.
    await store.appendToStream(streamIds.stream('r2'), [ev.sampleStarted('r2', 9, null)]);
    const found = await store.samplePayloads(stream, 'SampleStarted', [9, 3, 77]);
    expect(found.map((p) => p.data.sampleIndex)).toEqual([3, 9]);
    expect(await store.samplePayloads(stream, 'SampleStarted', [])).toEqual([]);
    expect((await store.lastPayload(stream, 'SampleStarted'))?.data.sampleIndex).toBe(4);
    expect(await store.lastPayload(stream, 'SessionAborted')).toBeNull();
    await waitUntilReadable(pool);
    const first = await store.readStreamAfter(stream, { limit: 3 });
    expect(first.events.map((e) => (e.data as { sampleIndex: number }).sampleIndex)).toEqual([5, 3, 9]);
    expect(first.hasMore).toBe(true);
    const rest = await store.readStreamAfter(stream, { after: first.checkpoint, limit: 3 });
    expect(rest.events.map((e) => (e.data as { sampleIndex: number }).sampleIndex)).toEqual([4]);
    expect(rest.hasMore).toBe(false);
  });

  it('writes a label once per sample: its id is derived from the run, the sample and the hour it was posted', async () => {
    const stream = streamIds.stream('r3');
    // A UUIDv7 (the partitioned store files stream events by the time in their id).
    expect(isUuidV7(derivedTimedEventId('label:r3:1', LABELLED_AT))).toBe(true);
    const [a, b] = await store.appendBatch([
      { streamId: stream, events: [labelled('r3', 1, 2)] },
      { streamId: stream, events: [labelled('r3', 2, 0)] },
    ]);
    expect(a.ok && b.ok && !a.result.duplicate).toBe(true);
    // Posted again, from any node, even with another label: nothing is written.
    const [again] = await store.appendBatch([{ streamId: stream, events: [labelled('r3', 1, 1)] }]);
    expect(again.ok && again.result.duplicate).toBe(true);
    const labels = await store.samplePayloads(stream, 'SampleLabelled', [1, 2]);
    expect(labels.map((l) => [l.data.sampleIndex, l.data.label])).toEqual([
      [1, 2],
      [2, 0],
    ]);
  });
});
