import { emptySessionSummary, foldSessionSummary, streamIds } from '@ddnn/contracts';
import { migrations } from '@ddnn/migrations';
import type { Pool } from 'pg';
import type { QueryRunner } from 'typeorm';
import { migratedDatabase } from '../../test/database';
import { ev, simulatedSession } from '../../test/fixtures';
import { BatchingWriter } from '../batching-writer';
import { EventStore } from '../event-store';
import {
  deviceStatusesByIds,
  getDeviceStatus,
  getSessionSummary,
  listDeviceStatuses,
  listSessionSummaries,
  projectionsLag,
  projectionsSubscription,
  rebuildProjections,
} from './projections';

describe('projections (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    env = await migratedDatabase(10);
    pool = env.pool;
    store = new EventStore(pool);
  });
  afterAll(() => env.close());

  const snapshot = async () => ({
    sessions: (await pool.query('SELECT session_id, status, summary FROM session_summaries ORDER BY session_id')).rows,
    devices: (await pool.query('SELECT device_id, connectivity, status FROM device_statuses ORDER BY device_id')).rows,
    runCounts: (await pool.query('SELECT run_id, device_id, answered, missed, not_captured FROM device_run_counts ORDER BY run_id, device_id')).rows,
  });

  it('keeps session summaries and device status current while sessions run, and a rebuild equals the live result', async () => {
    const live = projectionsSubscription(store, { batchSize: 50, pollIntervalMs: 50 });
    await live.start();
    const writer = new BatchingWriter(store, { maxBatchEvents: 100, maxDelayMs: 2 });
    const sessions = ['s1', 's2', 's3'].map((id, k) => ({ id, ...simulatedSession(id, 3 + k, 40) }));
    try {
      for (const s of sessions) {
        for (let d = 0; d < 3; d++) {
          const deviceId = `${s.id}-dev${d}`;
          await store.appendToStream(streamIds.device(deviceId), [
            {
              type: 'DeviceRegistered',
              data: { deviceId, name: `Camera ${d}`, role: 'end-device', view: d, profileId: 'p1', simulated: true, capabilities: {} },
            },
            ev.deviceConnected(deviceId),
          ]);
        }
      }
      await store.appendToStream(streamIds.device('s1-dev1'), [{ type: 'DeviceDisconnected', data: { deviceId: 's1-dev1', node: 'api-1', reason: 'socket closed' } }]);

      // Sessions run concurrently, each sample's events appended together through the batching writer.
      await Promise.all(
        sessions.map(async (s) => {
          const stream = streamIds.session(s.id);
          await writer.append(stream, [s.start]);
          for (const events of s.perSample) await writer.append(stream, events);
          await writer.append(stream, [s.end]);
        }),
      );
      await store.appendToStream(streamIds.session('s4'), [ev.sampleStarted('s4', 0), ev.sessionAborted('s4', 'operator stop')]);
      await live.catchUp();
      expect(await projectionsLag(store)).toBe(0);

      for (const s of sessions) {
        const p = await getSessionSummary(pool, s.id);
        if (!p) throw new Error(`no projection for ${s.id}`);
        expect(p.status).toBe('completed');
        expect(p.samplesStarted).toBe(s.truth.samples);
        expect(p.samplesDecided).toBe(s.truth.answered);
        expect(p.labelled).toBe(s.truth.labelled);
        expect(p.correct).toBe(s.truth.correct);
        expect(p.accuracy).toBeCloseTo(s.truth.correct / s.truth.labelled, 12);
        expect({ local: p.exits.local.exited, edge: p.exits.edge.exited, cloud: p.exits.cloud.exited }).toEqual(s.truth.exits);
        expect(Object.fromEntries(p.bytes.links.map((l) => [`${l.from}>${l.to}`, l.bytes]))).toEqual(s.truth.bytesByLink);
        expect(p.bytes.total).toBe(Object.values(s.truth.bytesByLink).reduce((a, b) => a + b, 0));
        expect(Object.fromEntries(Object.entries(p.devices).map(([id, d]) => [id, d.answered]))).toEqual(s.truth.answeredByDevice);
        expect(Object.fromEntries(Object.entries(p.devices).map(([id, d]) => [id, d.missed]))).toEqual(s.truth.missedByDevice);
        expect(p.durationMs).toBe(1234);
        expect(p.classes).toEqual(['car', 'bus', 'person']);
        // The stored projection equals a fold of the session's own stream.
        expect(p).toEqual((await store.readStream(streamIds.session(s.id))).reduce(foldSessionSummary, emptySessionSummary(s.id)));
      }
      const aborted = await getSessionSummary(pool, 's4');
      expect(aborted).toMatchObject({ status: 'aborted', abortReason: 'operator stop', samplesStarted: 1 });
      expect((await listSessionSummaries(pool, { status: 'aborted' })).map((x) => x.sessionId)).toEqual(['s4']);

      const dev = await getDeviceStatus(pool, 's1-dev0');
      expect(dev).toMatchObject({ name: 'Camera 0', registered: true, connectivity: 'active', node: 'api-1', view: 0 });
      expect(dev?.missed).toBe(sessions[0].truth.missedByDevice['s1-dev0']);
      expect(dev?.answered).toBe(sessions[0].truth.answeredByDevice['s1-dev0']);
      expect(dev).toMatchObject({ connects: 1, disconnects: 0 });
      const some = await deviceStatusesByIds(pool, ['s1-dev1', 's2-dev3', 'nobody']);
      expect([...some.keys()].sort()).toEqual(['s1-dev1', 's2-dev3']);
      expect(some.get('s1-dev1')).toMatchObject({ connects: 1, disconnects: 1 });
      expect(some.get('s2-dev3')?.answered).toBe(sessions[1].truth.answeredByDevice['s2-dev3']);
      expect(await getDeviceStatus(pool, 's1-dev1')).toMatchObject({ connectivity: 'disconnected', lastDisconnectReason: 'socket closed', node: null });
      // Devices that only appear in sessions get a status too (never registered, never connected).
      expect(await getDeviceStatus(pool, 's3-dev4')).toMatchObject({ registered: false, connectivity: 'never-connected' });
      expect((await listDeviceStatuses(pool)).length).toBe(3 + 4 + 5);

      const liveResult = await snapshot();
      await live.stop();
      const rebuilt = await rebuildProjections(store);
      expect(rebuilt.events).toBe(Number((await pool.query('SELECT count(*) AS n FROM events')).rows[0].n));
      expect(await snapshot()).toEqual(liveResult);
      expect(await projectionsLag(store)).toBe(0);
    } finally {
      await writer.close();
      await live.stop();
    }
  });

  it('rebuilds while the live instance runs, ending in the same state', async () => {
    const live = projectionsSubscription(store, { batchSize: 20, pollIntervalMs: 50 });
    await live.start();
    try {
      await live.catchUp();
      const before = await snapshot();
      await pool.query(`UPDATE session_summaries SET summary = jsonb_set(summary, '{samplesStarted}', '999')`);
      expect((await getSessionSummary(pool, 's1'))?.samplesStarted).toBe(999);
      await rebuildProjections(store);
      await store.appendToStream(streamIds.session('s5'), [ev.sampleStarted('s5', 0)]);
      await live.catchUp();
      const after = await snapshot();
      expect(after.sessions.filter((r: { session_id: string }) => r.session_id !== 's5')).toEqual(before.sessions);
      expect((await getSessionSummary(pool, 's5'))?.samplesStarted).toBe(1);
    } finally {
      await live.stop();
    }
  });

  it('two instances taking turns (two nodes) each read back what the other wrote: the rows equal a fold of the log', async () => {
    const a = projectionsSubscription(store, { batchSize: 7, listen: false });
    const b = projectionsSubscription(store, { batchSize: 7, listen: false });
    await a.catchUp();
    await b.catchUp();
    const run = simulatedSession('t1', 3, 12);
    const stream = streamIds.session('t1');
    await store.appendToStream(stream, [run.start]);
    for (const [k, events] of run.perSample.entries()) {
      await store.appendToStream(stream, events);
      // Each batch goes to one instance, in turns: the other's rows in memory are stale by then.
      await (k % 2 ? a : b).catchUp();
      await store.appendToStream(streamIds.device('t1-dev0'), [ev.deviceConnected('t1-dev0')]);
      await (k % 2 ? b : a).catchUp();
    }
    await store.appendToStream(stream, [run.end]);
    await a.catchUp();
    expect(await getSessionSummary(pool, 't1')).toEqual((await store.readStream(stream)).reduce(foldSessionSummary, emptySessionSummary('t1')));
    expect(await getDeviceStatus(pool, 't1-dev0')).toMatchObject({ connects: run.perSample.length, answered: run.truth.answeredByDevice['t1-dev0'] });
  });

  it('the summary-shape migration clears rows of the older projection shape, and the subscription rebuilds them', async () => {
    await projectionsSubscription(store, { batchSize: 200, listen: false }).catchUp();
    const current = await snapshot();
    // A row as the earlier projection stored it (devices as an array, `samples`/`answered`), at the head checkpoint.
    await pool.query(`UPDATE session_summaries SET summary = '{"sessionId": "s1", "samples": 40, "answered": 40, "devices": []}'::jsonb WHERE session_id = 's1'`);
    const Shape = migrations.find((m) => m.name === 'SessionSummaryShape1764748800000');
    if (!Shape) throw new Error('the summary-shape migration is not registered');
    await new Shape().up({ query: (sql: string) => pool.query(sql) } as unknown as QueryRunner);
    expect((await snapshot()).sessions).toEqual([]);
    expect(await projectionsLag(store)).toBeGreaterThan(0);
    // Migrations run before the nodes start; the first node's subscription starts from the rewound checkpoint.
    await projectionsSubscription(store, { batchSize: 200, listen: false }).catchUp();
    expect(await snapshot()).toEqual(current);
  });

  it('the device-status-counters migration rebuilds rows stored without the counters', async () => {
    await projectionsSubscription(store, { batchSize: 200, listen: false }).catchUp();
    const current = await snapshot();
    await pool.query(`UPDATE device_statuses SET status = status - 'answered' - 'connects' - 'disconnects'`);
    const Counters = migrations.find((m) => m.name === 'DeviceStatusCounters1764928800000');
    if (!Counters) throw new Error('the device-status-counters migration is not registered');
    await new Counters().up({ query: (sql: string) => pool.query(sql) } as unknown as QueryRunner);
    expect((await snapshot()).devices).toEqual([]);
    await projectionsSubscription(store, { batchSize: 200, listen: false }).catchUp();
    expect(await snapshot()).toEqual(current);
    expect((await getDeviceStatus(pool, 's1-dev1'))?.disconnects).toBe(1);
  });

  it('the device-run-counts migration fills each run’s share of its devices’ counters from the log', async () => {
    await projectionsSubscription(store, { batchSize: 200, listen: false }).catchUp();
    const current = await snapshot();
    expect(current.runCounts.length).toBeGreaterThan(0);
    const RunCounts = migrations.find((m) => m.name === 'DeviceRunCounts1766300000000');
    const NotCaptured = migrations.find((m) => m.name === 'DeviceNotCaptured1766400000000');
    if (!RunCounts || !NotCaptured) throw new Error('the device-run-counts migrations are not registered');
    const runner = { query: (sql: string) => pool.query(sql) } as unknown as QueryRunner;
    // As a database from before them (no table), then upgraded.
    await new NotCaptured().down(runner);
    await new RunCounts().down(runner);
    expect((await pool.query(`SELECT to_regclass('device_run_counts') AS t`)).rows[0].t).toBeNull();
    await new RunCounts().up(runner);
    await new NotCaptured().up(runner);
    expect((await snapshot()).runCounts).toEqual([]);
    await projectionsSubscription(store, { batchSize: 200, listen: false }).catchUp();
    expect(await snapshot()).toEqual(current);
  });
});
