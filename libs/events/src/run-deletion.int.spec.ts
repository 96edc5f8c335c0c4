import { randomUUID } from 'node:crypto';
import { streamIds, type NewEvent, type RunDeleted, type StoredEvent } from '@ddnn/contracts';
import { waitFor } from '@ddnn/testing';
import type { Pool, QueryResult } from 'pg';
import { migratedStore, waitUntilReadable } from '../test/database';
import { simulatedSession } from '../test/fixtures';
import { START_CHECKPOINT as START } from './checkpoint';
import { newEventId } from './event-id';
import { EventStore } from './event-store';
import { DAY_MS, ensureStreamPartitions } from './partitions';
import { inTransaction } from './pool';
import { applyRollup, METRICS_ROLLUP_SUBSCRIBER, metricsRollupSubscription } from './projections/metrics-rollup';
import { applyProjections, listDeviceStatuses, ProjectionRows, PROJECTIONS_SUBSCRIBER, projectionsSubscription, rebuildProjections } from './projections/projections';
import { deleteRunLog, findRunDeletion, trimRunLog } from './run-deletion';
import { Subscription } from './subscription';

/** A research session's whole log (start, samples, end) under `runId`, appended in one go. */
async function logSession(store: EventStore, runId: string, samples = 12, devicePrefix?: string, skippedCaptures = false): Promise<number> {
  const s = simulatedSession(runId, 2, samples, { devicePrefix, skippedCaptures });
  const events = [s.start, ...s.perSample.flat(), s.end];
  await store.appendToStream(streamIds.session(runId), events);
  return events.length;
}

const sessionRun = (runId: string): Omit<RunDeleted, 'events'> => ({ runId, kind: 'session', status: 'completed', modelId: 'm1', name: '' });
const count = async (pool: Pool, sql: string, values: unknown[]): Promise<number> => Number((await pool.query<{ n: string }>(sql, values)).rows[0].n);
const summaries = (pool: Pool, runId: string) => count(pool, 'SELECT count(*) AS n FROM session_summaries WHERE session_id = $1', [runId]);
const cells = (pool: Pool, runId: string) => count(pool, 'SELECT count(*) AS n FROM metric_rollups WHERE run_id = $1', [runId]);

describe('deleting a run while a projection batch folds its events (real Postgres)', () => {
  const env = migratedStore();

  // Each read model keyed by run, with the batch function its subscription runs and the count of a run's rows.
  const models = [
    { subscriber: PROJECTIONS_SUBSCRIBER, apply: applyProjections, rows: summaries },
    { subscriber: METRICS_ROLLUP_SUBSCRIBER, apply: applyRollup, rows: cells },
  ];

  it.each(models)('$subscriber: the batch in flight commits first and the deletion removes what it wrote', async ({ subscriber, apply, rows }) => {
    const { pool, store } = env;
    const run = randomUUID();
    const other = randomUUID();
    await logSession(store, run);
    await logSession(store, other);
    await waitUntilReadable(pool);

    // The subscriber's batch: it folds the runs' events (their rows do not exist yet, so it inserts them), then
    // holds its transaction open until the deletion has either finished or is waiting for a lock.
    let folded!: () => void;
    const inFlight = new Promise<void>((resolve) => (folded = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batch = new Subscription(new EventStore(pool), {
      name: subscriber,
      batchSize: 10_000,
      listen: false,
      handle: async (events, tx) => {
        if (!tx) throw new Error('a named subscriber batches in a transaction');
        await apply(events, tx);
        folded();
        await gate;
      },
    });
    const step = batch.step();
    await inFlight;

    let deleted = false;
    const deletion = inTransaction(pool, (tx) => deleteRunLog(store, tx, sessionRun(run))).finally(() => (deleted = true));
    await waitFor(
      'the deletion to finish or to wait for a lock',
      async () => deleted || (await count(pool, `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`, [])) > 0,
      20_000,
      10,
    );
    release();
    expect(await step).toBeGreaterThan(0);
    await deletion;

    // What the platform answers after the deletion, before any later batch of the subscriber (which would also drop
    // the rows, at RunDeleted): the run has no rows, the other run keeps its own.
    expect(await rows(pool, run)).toBe(0);
    expect(await rows(pool, other)).toBeGreaterThan(0);
    if (subscriber !== PROJECTIONS_SUBSCRIBER) return;
    // The devices' counters: the batch in flight counted the run; the next batch, at RunDeleted, takes it back.
    expect(await count(pool, 'SELECT count(*) AS n FROM device_run_counts WHERE run_id = $1', [run])).toBe(2);
    await projectionsSubscription(new EventStore(pool), { listen: false }).catchUp();
    expect(await count(pool, 'SELECT count(*) AS n FROM device_run_counts WHERE run_id = $1', [run])).toBe(0);
    const devices = Object.fromEntries((await listDeviceStatuses(pool)).map((d) => [d.deviceId, d.answered + d.missed]));
    expect([devices[`${run}-dev0`], devices[`${run}-dev1`], devices[`${other}-dev0`]]).toEqual([0, 0, 12]);
  });
});

describe('a subscriber that folds a deleted run from its process’s tail of the log (real Postgres)', () => {
  const env = migratedStore();

  it('drops the rows again at RunDeleted: the read models end as a rebuild would leave them', async () => {
    const { pool, store } = env;
    const run = randomUUID();
    const other = randomUUID();
    const logged = (await logSession(store, run)) + (await logSession(store, other));
    await waitUntilReadable(pool);
    // A process that has read the runs' events (its live feed, say) before the deletion: they stay in its tail.
    const reader = new EventStore(pool);
    expect((await reader.readAll({ limit: 10_000 })).events).toHaveLength(logged);

    await inTransaction(pool, (tx) => deleteRunLog(store, tx, sessionRun(run)));
    await waitUntilReadable(pool);
    expect(await count(pool, 'SELECT count(*) AS n FROM events WHERE stream_id = $1', [streamIds.session(run)])).toBe(0);

    for (const sub of [projectionsSubscription(reader, { listen: false }), metricsRollupSubscription(reader, { listen: false })]) {
      await sub.catchUp();
      // It did fold the deleted events (from the tail), and RunDeleted after them.
      expect(sub.stats.events).toBe(logged + 1);
    }
    expect(await summaries(pool, run)).toBe(0);
    expect(await cells(pool, run)).toBe(0);
    expect(await count(pool, 'SELECT count(*) AS n FROM metric_rollup_samples WHERE run_id = $1', [run])).toBe(0);
    // Its devices' counters lost its share (they served only it), the other run's devices kept theirs.
    expect(await count(pool, 'SELECT count(*) AS n FROM device_run_counts WHERE run_id = $1', [run])).toBe(0);
    const devices = Object.fromEntries((await listDeviceStatuses(pool)).map((d) => [d.deviceId, d.answered + d.missed]));
    expect(devices[`${run}-dev0`]).toBe(0);
    expect(devices[`${other}-dev0`]).toBe(12);
    expect(await summaries(pool, other)).toBe(1);
    expect(await cells(pool, other)).toBeGreaterThan(0);
  });
});

describe('a deleted run’s share of its devices’ counters (real Postgres)', () => {
  const env = migratedStore();

  it('is taken back at RunDeleted, leaving what a rebuild from the log gives; the other runs’ shares stay', async () => {
    const { pool, store } = env;
    const [kept, deleted] = [randomUUID(), randomUUID()];
    // Both runs on the same two cameras, with misses (the fixture misses every seventh answer of a device), half of
    // them skipped captures.
    await logSession(store, kept, 12, 'cam', true);
    await logSession(store, deleted, 30, 'cam', true);
    await waitUntilReadable(pool);
    const live = projectionsSubscription(store, { listen: false });
    await live.catchUp();
    const counters = async () =>
      Object.fromEntries((await listDeviceStatuses(pool)).map((d) => [d.deviceId, { answered: d.answered, missed: d.missed, notCaptured: d.notCaptured, connects: d.connects }]));
    const shares = async () =>
      (await pool.query<{ run_id: string; device_id: string; answered: string; missed: string; not_captured: string }>('SELECT * FROM device_run_counts ORDER BY run_id, device_id')).rows.map(
        (r) => [r.run_id, r.device_id, Number(r.answered), Number(r.missed), Number(r.not_captured)],
      );
    const keptOnly = simulatedSession(kept, 2, 12, { devicePrefix: 'cam', skippedCaptures: true }).truth;
    const both = simulatedSession(deleted, 2, 30, { devicePrefix: 'cam', skippedCaptures: true }).truth;
    const sum = (d: string, ...runs: (typeof both)[]) => ({
      answered: runs.reduce((a, r) => a + r.answeredByDevice[d], 0),
      missed: runs.reduce((a, r) => a + r.missedByDevice[d], 0),
      notCaptured: runs.reduce((a, r) => a + r.notCapturedByDevice[d], 0),
      connects: 0,
    });
    expect(await counters()).toEqual({ 'cam-dev0': sum('cam-dev0', keptOnly, both), 'cam-dev1': sum('cam-dev1', keptOnly, both) });
    expect(both.notCapturedByDevice['cam-dev0']).toBeGreaterThan(0);
    expect(both.missedByDevice['cam-dev0']).toBeGreaterThan(both.notCapturedByDevice['cam-dev0']);

    await inTransaction(pool, (tx) => deleteRunLog(store, tx, sessionRun(deleted)));
    await waitUntilReadable(pool);
    await live.catchUp();
    const after = await counters();
    expect(after).toEqual({ 'cam-dev0': sum('cam-dev0', keptOnly), 'cam-dev1': sum('cam-dev1', keptOnly) });
    const liveShares = await shares();
    expect(liveShares.map(([run]) => run)).toEqual([kept, kept]);

    await rebuildProjections(store);
    expect(await counters()).toEqual(after);
    expect(await shares()).toEqual(liveShares);
  });

  it('is taken back once when the batch that does it fails and is retried (the batch cache keeps no uncommitted row)', async () => {
    const { pool, store } = env;
    const [kept, deleted] = [randomUUID(), randomUUID()];
    await logSession(store, kept, 12, 'retry');
    await logSession(store, deleted, 30, 'retry');
    await waitUntilReadable(pool);
    // The projections' batches as their subscription runs them, with one cache of the rows they wrote.
    const rows = new ProjectionRows();
    let at = START;
    const batch = async (outcome: 'COMMIT' | 'ROLLBACK'): Promise<number> => {
      const { events } = await store.readAll({ after: at, limit: 10_000 });
      rows.follow(at);
      await inTransaction(pool, async (tx) => {
        await applyProjections(events, tx, rows);
        if (outcome === 'ROLLBACK') throw new Error('the batch failed');
      }).catch((e: Error) => {
        if (e.message !== 'the batch failed') throw e;
      });
      if (outcome === 'COMMIT' && events.length) at = events[events.length - 1].checkpoint;
      return events.length;
    };
    expect(await batch('COMMIT')).toBeGreaterThan(0);
    while ((await batch('COMMIT')) > 0);
    await inTransaction(pool, (tx) => deleteRunLog(store, tx, sessionRun(deleted)));
    await waitUntilReadable(pool);
    // A batch of RunDeleted alone: it fails after taking the share back, and the retry does it again.
    expect(await batch('ROLLBACK')).toBe(1);
    expect(await batch('COMMIT')).toBe(1);
    const truth = simulatedSession(kept, 2, 12, { devicePrefix: 'retry' }).truth;
    const dev0 = (await listDeviceStatuses(pool)).find((d) => d.deviceId === 'retry-dev0');
    expect(dev0).toMatchObject({ answered: truth.answeredByDevice['retry-dev0'], missed: truth.missedByDevice['retry-dev0'] });
  });
});

describe('deleting a stream run whose events span day partitions (real Postgres)', () => {
  const env = migratedStore();

  /** A stream run's samples (started, decided), `perDay` on each of the given days (ms offsets from now), each event id of its day. */
  async function logStream(store: EventStore, runId: string, days: number[], perDay: number, now: number): Promise<number> {
    const events: NewEvent[] = [];
    let i = 0;
    for (const d of days) {
      for (let k = 0; k < perDay; k++, i++) {
        const at = now + d + k;
        const base = { sessionId: runId, sampleIndex: i };
        events.push(
          { type: 'SampleStarted', eventId: newEventId(at), data: { ...base, sampleId: `s${i}`, label: null } },
          { type: 'ExitDecided', eventId: newEventId(at), data: { ...base, tier: 'local', eta: 0.4, threshold: 0.5, policy: 'entropy', exited: true, prediction: 0, label: null, shadow: false } },
        );
      }
    }
    await store.appendToStream(streamIds.stream(runId), events);
    return events.length;
  }

  const byTable = async (pool: Pool, streamId: string): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await pool.query<{ t: string; n: string }>('SELECT tableoid::regclass::text AS t, count(*) AS n FROM events WHERE stream_id = $1 GROUP BY 1', [streamId])).rows.map((r) => [
        r.t,
        Number(r.n),
      ]),
    );

  it('trims in chunks, then deletes the stream row and its fence in one transaction, in every partition; other runs keep theirs', async () => {
    const { pool, store } = env;
    const now = Date.now();
    await ensureStreamPartitions(pool, { now: new Date(now - 3 * DAY_MS), daysAhead: 3 });
    // Three days ago, yesterday, today, and a month ahead (no partition: the default one).
    const days = [-3 * DAY_MS, -DAY_MS, 0, 30 * DAY_MS];
    const run = randomUUID();
    const other = randomUUID();
    const stream = streamIds.stream(run);
    const logged = await logStream(store, run, days, 9, now);
    await logStream(store, other, days, 5, now);
    await store.takeFence(stream);
    const before = await byTable(pool, stream);
    expect(Object.keys(before)).toHaveLength(4);
    expect(Object.keys(before)).toContain('events_stream_default');
    const otherBefore = await byTable(pool, streamIds.stream(other));

    // 72 events (36 of each type) in statements of at most 7, along the (stream, type, position) index: a chunk
    // goes on from one type to the next.
    const query = jest.spyOn(store.pool, 'query');
    expect(await trimRunLog(store, stream, 7)).toBe(logged);
    const chunks = await Promise.all(
      query.mock.results.filter((_, i) => String(query.mock.calls[i][0]).startsWith('WITH chunk')).map((r) => r.value as Promise<QueryResult<{ deleted: number }>>),
    );
    const [sql, params] = query.mock.calls.find((c) => String(c[0]).startsWith('WITH chunk')) as unknown as [string, unknown[]];
    query.mockRestore();
    expect(chunks.map((r) => r.rows[0]?.deleted ?? 0)).toEqual([...Array<number>(10).fill(7), 2, 0]);
    // Each chunk starts in the index where the last one ended (an index condition, not a filter over the stream's
    // entries): a production stream's partitions have no (stream_id, stream_position) index, and a range of
    // positions was a scan of whole partitions per chunk. (Tables this small are scanned whole when allowed.)
    const c = await pool.connect();
    try {
      await c.query('SET enable_seqscan = off');
      const plan = (await c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params)).rows[0]['QUERY PLAN'];
      const starts: string[] = [];
      const walk = (n: unknown): void => {
        if (Array.isArray(n)) return n.forEach(walk);
        if (n && typeof n === 'object') {
          const node = n as Record<string, unknown>;
          if (node['CTE Name'] === undefined && typeof node['Index Cond'] === 'string' && node['Index Cond'].includes('ROW(type, stream_position) > ROW(')) starts.push(String(node['Relation Name']));
          Object.values(node).forEach(walk);
        }
      };
      walk(plan);
      expect(starts).toEqual(expect.arrayContaining(Object.keys(before)));
    } finally {
      await c.query('RESET enable_seqscan');
      c.release();
    }
    expect(await byTable(pool, stream)).toEqual({});
    expect(await byTable(pool, streamIds.stream(other))).toEqual(otherBefore);
    // Again (a retry after a failure): nothing left to trim.
    expect(await trimRunLog(store, stream, 7)).toBe(0);
    expect(await store.streamVersion(stream)).toBe(logged);
    const recorded = await inTransaction(pool, (tx) => deleteRunLog(store, tx, { runId: run, kind: 'stream', status: 'stopped', modelId: 'm1', name: 'cams' }, { node: 'n1' }));

    expect(recorded).toEqual({ runId: run, kind: 'stream', status: 'stopped', modelId: 'm1', name: 'cams', events: logged });
    expect(await byTable(pool, stream)).toEqual({});
    expect(await count(pool, 'SELECT count(*) AS n FROM streams WHERE stream_id = $1', [stream])).toBe(0);
    expect(await count(pool, 'SELECT count(*) AS n FROM stream_fences WHERE stream_id = $1', [stream])).toBe(0);
    expect(await byTable(pool, streamIds.stream(other))).toEqual(otherBefore);
    expect(await findRunDeletion(store, run)).toEqual(recorded);
    expect(await findRunDeletion(store, other)).toBeNull();
    const [event] = (await store.readStream(streamIds.runs())) as StoredEvent<'RunDeleted'>[];
    expect(event).toMatchObject({ type: 'RunDeleted', schemaVersion: 1, data: recorded, metadata: { node: 'n1' } });
  });

  it('deletes a stream shorter than a chunk in its transaction alone', async () => {
    const { pool, store } = env;
    const run = randomUUID();
    const stream = streamIds.stream(run);
    await logStream(store, run, [0], 3, Date.now());
    expect(await trimRunLog(store, stream, 7)).toBe(0);
    expect(await count(pool, 'SELECT count(*) AS n FROM events WHERE stream_id = $1', [stream])).toBe(6);
    expect((await inTransaction(pool, (tx) => deleteRunLog(store, tx, { runId: run, kind: 'stream', status: 'failed', modelId: 'm1', name: '' }))).events).toBe(6);
    expect(await byTable(pool, stream)).toEqual({});
  });
});
