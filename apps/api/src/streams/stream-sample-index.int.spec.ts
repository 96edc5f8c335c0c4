import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '@ddnn/migrations';
import { streamIds, type NewEvent } from '@ddnn/contracts';
import { DAY_MS, ensureStreamPartitions, EventStore, listStreamPartitions, newEventId } from '@ddnn/events';
import { createTestDatabase, type TestDatabase, waitFor } from '@ddnn/testing';

const RUN = '0193a5a0-0000-7000-8000-00000000a001';
const OTHER = '0193a5a0-0000-7000-8000-00000000a002';
const SAMPLES = 4000;

/**
 * One sample of a stream as the engine logs it: started, its device's and the local sections (one event), its
 * answering exit and the messages it sent; every fourth sample as older logs hold it (a SectionEvaluated a section,
 * a BytesTransferred a message), which retention may still keep.
 */
function sampleEvents(run: string, i: number, at: number): NewEvent[] {
  const base = { sessionId: run, sampleIndex: i };
  const sections = [
    { tier: 'device', node: 'd1', view: 0, probabilities: [0.8, 0.2], entropy: 0.72, latencyMs: 2, shadow: false },
    { tier: 'local', node: 'local', probabilities: [0.9, 0.1], entropy: 0.47, latencyMs: 1, shadow: false },
  ];
  const message = { from: 'd1', to: 'local', kind: 'scores', bytes: 8, shadow: false };
  const older = i % 4 === 3;
  return [
    { type: 'SampleStarted', eventId: newEventId(at), data: { ...base, sampleId: `s${i}`, label: null, triggeredAt: at } },
    ...(older
      ? sections.map((x) => ({ type: 'SectionEvaluated', eventId: newEventId(at), data: { ...base, ...x } }))
      : [{ type: 'SectionsEvaluated', eventId: newEventId(at), data: { ...base, sections } }]),
    { type: 'ExitDecided', eventId: newEventId(at), data: { ...base, tier: 'local', eta: 0.47, threshold: 0.5, policy: 'entropy', exited: true, prediction: i % 2, label: null, shadow: false } },
    older
      ? { type: 'BytesTransferred', eventId: newEventId(at), data: { ...base, ...message } }
      : { type: 'MessagesTransferred', eventId: newEventId(at), data: { ...base, messages: [message] } },
  ] as NewEvent[];
}

describe('stream events by sample: the events_stream_sample_idx migration (real Postgres, partitioned events)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: EventStore;
  /** One connection, so the statistics of what it read are its own and can be flushed on demand. */
  let single: Pool;
  let singleStore: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    const ds = await new DataSource({ type: 'postgres', url: db.url, migrations }).initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
    pool = new Pool({ connectionString: db.url, max: 4 });
    single = new Pool({ connectionString: db.url, max: 1 });
    store = new EventStore(pool);
    singleStore = new EventStore(single);
  });
  afterAll(async () => {
    for (const p of [pool, single]) {
      p?.on('error', () => undefined);
      await p?.end();
    }
    await db?.drop();
  });

  /** The partitions of events_stream that carry a child of the parent's index (the leaves of the index tree). */
  const indexedPartitions = async (): Promise<string[]> =>
    (
      await pool.query<{ t: string }>(
        `SELECT tbl.relname AS t FROM pg_partition_tree('events_stream_sample_idx') pt
           JOIN pg_index i ON i.indexrelid = pt.relid JOIN pg_class tbl ON tbl.oid = i.indrelid
          WHERE pt.isleaf ORDER BY 1`,
      )
    ).rows.map((r) => r.t);

  const leafTables = async (): Promise<string[]> =>
    (await pool.query<{ t: string }>(`SELECT relid::regclass::text AS t FROM pg_partition_tree('events_stream') WHERE isleaf ORDER BY 1`)).rows.map((r) => r.t);

  /** Index scans of the sample index, summed over every partition (statistics as the server last flushed them). */
  const sampleIndexScans = async (): Promise<number> => {
    const c = await pool.connect();
    try {
      await c.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await c.query<{ n: string }>(
        `SELECT coalesce(sum(s.idx_scan), 0)::text AS n FROM pg_partition_tree('events_stream_sample_idx') pt
           JOIN pg_stat_user_indexes s ON s.indexrelid = pt.relid WHERE pt.isleaf`,
      );
      return Number(rows[0].n);
    } finally {
      c.release();
    }
  };

  it('is built on every partition of stream events, today, the days created ahead later and the default one, and not on sessions', async () => {
    const now = Date.now();
    await ensureStreamPartitions(pool, { now: new Date(now), daysAhead: 2 });
    const days = (await listStreamPartitions(pool)).map((p) => p.name);
    expect(days.length).toBeGreaterThanOrEqual(3);
    const leaves = await leafTables();
    expect(leaves).toEqual(expect.arrayContaining([...days, 'events_stream_default']));
    expect(await indexedPartitions()).toEqual(leaves);
    // A day attached after the migration gets the index too (partitions.ts creates them bare, then attaches).
    await ensureStreamPartitions(pool, { now: new Date(now + 5 * DAY_MS), daysAhead: 0 });
    expect((await leafTables()).length).toBe(leaves.length + 1);
    expect(await indexedPartitions()).toEqual(await leafTables());
    const kept = await pool.query(`SELECT 1 FROM pg_indexes WHERE tablename = 'events_kept' AND indexdef LIKE '%sampleIndex%'`);
    expect(kept.rowCount).toBe(0);
  });

  it('answers samplePayloads for a few samples of a long stream exactly, through the index', async () => {
    const t0 = Date.now();
    for (let from = 0; from < SAMPLES; from += 250) {
      const requests = [RUN, OTHER].map((run) => ({
        streamId: streamIds.stream(run),
        events: Array.from({ length: 250 }, (_, k) => sampleEvents(run, from + k, t0 + from + k)).flat(),
      }));
      for (const o of await store.appendBatch(requests)) expect(o.ok).toBe(true);
    }
    const labels: NewEvent[] = [7, 3999].map((i) => ({ type: 'SampleLabelled', eventId: newEventId(), data: { sessionId: RUN, sampleIndex: i, label: 1, labelledAt: Date.now() } }) as NewEvent);
    await store.appendToStream(streamIds.stream(RUN), labels);
    const unanswered: NewEvent[] = [12, 3001].map((i) => ({ type: 'SampleUnanswered', eventId: newEventId(), data: { sessionId: RUN, sampleIndex: i, label: null } }) as NewEvent);
    await store.appendToStream(streamIds.stream(RUN), unanswered);
    await pool.query('ANALYZE events_stream');

    const before = await sampleIndexScans();
    const stream = streamIds.stream(RUN);
    const decisions = await singleStore.samplePayloads(stream, 'ExitDecided', [7, 3999, 2500, SAMPLES + 10]);
    const labelled = await singleStore.samplePayloads(stream, 'SampleLabelled', [7, 8, 3999]);
    const started = await singleStore.samplePayloads(stream, 'SampleStarted', [0, 1, 2]);
    // A window's sections, in either shape (samples 2 and 4 today's, 3 an older log's).
    const sections = await singleStore.samplePayloads(stream, 'SectionsEvaluated', [2, 3, 4]);
    const olderSections = await singleStore.samplePayloads(stream, 'SectionEvaluated', [2, 3, 4]);
    const noAnswer = await singleStore.samplePayloads(stream, 'SampleUnanswered', [11, 12, 3001]);
    // Flush this connection's statistics now rather than within its idle interval.
    await single.query('SELECT pg_stat_force_next_flush()');
    await single.query('SELECT 1');

    // Exactly those samples of this stream (not the other stream's, none for a sample never logged), in log order.
    expect(decisions.map((d) => [d.data.sessionId, d.data.sampleIndex, d.data.prediction])).toEqual([
      [RUN, 7, 1],
      [RUN, 2500, 0],
      [RUN, 3999, 1],
    ]);
    expect(labelled.map((l) => [l.data.sampleIndex, l.data.label])).toEqual([
      [7, 1],
      [3999, 1],
    ]);
    expect(started.map((s) => s.data.sampleId)).toEqual(['s0', 's1', 's2']);
    expect(sections.map((x) => [x.data.sampleIndex, x.data.sections.map((y) => y.node)])).toEqual([
      [2, ['d1', 'local']],
      [4, ['d1', 'local']],
    ]);
    expect(olderSections.map((x) => [x.data.sampleIndex, x.data.node])).toEqual([
      [3, 'd1'],
      [3, 'local'],
    ]);
    expect(noAnswer.map((u) => u.data.sampleIndex)).toEqual([12, 3001]);
    // Six reads by sample: each used the index (a scan of the type would have read thousands of rows a time).
    await waitFor('the index scans in the statistics', async () => (await sampleIndexScans()) >= before + 6, 20_000, 200);
  });

  it('gives the highest sample index of a stream whose samples committed out of order (what a resumed stream goes on after)', async () => {
    const run = '0193a5a0-0000-7000-8000-00000000a003';
    const stream = streamIds.stream(run);
    expect(await store.highestSampleIndex(stream, 'SampleStarted')).toBeNull();
    // Samples in flight commit in any order: 5 before 4, the newest event is sample 4's.
    for (const i of [0, 1, 2, 3, 5, 4]) await store.appendToStream(stream, sampleEvents(run, i, Date.now()));
    expect((await store.lastPayload(stream, 'SampleStarted'))?.data.sampleIndex).toBe(4);
    expect(await store.highestSampleIndex(stream, 'SampleStarted')).toBe(5);
    expect(await store.highestSampleIndex(stream, 'ExitDecided')).toBe(5);
  });

  it('events outside the index (no sample, or the link messages) are stored and read by sample as before', async () => {
    const stream = streamIds.stream(RUN);
    await store.appendToStream(stream, [{ type: 'SessionCompleted', eventId: newEventId(), data: { sessionId: RUN, samples: SAMPLES, durationMs: 1 } } as NewEvent]);
    expect((await store.lastPayload(stream, 'SessionCompleted'))?.data.samples).toBe(SAMPLES);
    const bytes = await store.samplePayloads(stream, 'BytesTransferred', [1, 3]);
    expect(bytes.map((b) => b.data.sampleIndex)).toEqual([3]);
    const messages = await store.samplePayloads(stream, 'MessagesTransferred', [1, 3]);
    expect(messages.map((m) => [m.data.sampleIndex, m.data.messages.length])).toEqual([[1, 1]]);
  });
});
