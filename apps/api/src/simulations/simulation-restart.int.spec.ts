import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import type { DeviceView, SimulationView, StreamView } from '@ddnn/contracts';
import { freePort, waitFor } from '@ddnn/testing';
import { DeviceTransport } from '../devices/transport/device-transport';
import { NodePresence } from '../database/node-presence';
import { ModelsService } from '../models/models.service';
import { SimulationReconciler } from './simulation-reconciler';
import { SimulationRecords } from './simulation-records';
import { call, createTestDatabase, startSimulatedStream, startTestApi, type TestApi, type TestDatabase } from '../../test/devices/test-app';
import { writeSmallDataset, writeUntrainedCheckpoint } from '../../test/devices/test-fixtures';

const ADMIN = 'test-operator-token-0123456789';
/** The nodes of a test share their data folder, as a restarted API or a second node does (models are copied into it). */
const dataDir = mkdtempSync(path.join(tmpdir(), 'ddnn-simulation-restart-'));
const ENV = { DDNN_ADMIN_TOKEN: ADMIN, DDNN_SESSION_POLL_MS: '200', DDNN_DATA_DIR: dataDir };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

jest.setTimeout(240_000);

const sims = async (api: TestApi) => (await call<SimulationView[]>(api, 'GET', '/simulations', ADMIN)).body;
const device = (api: TestApi, id: string) => call<DeviceView>(api, 'GET', `/devices/${id}`, ADMIN);
const recorded = async (api: TestApi) => (await api.sql<{ id: string }>('SELECT id::text AS id FROM simulations ORDER BY id')).map((r) => r.id);
const ids = (s: SimulationView) => s.devices.map((d) => d.deviceId);
/** A node's reconcile round, run by hand (its nodes poll too seldom for a round to come by itself). */
const round = (api: TestApi) => (api.app.get(SimulationReconciler) as unknown as { reconcile(): Promise<void> }).reconcile();
/** The simulations lock connection of a node (null while it has none). */
const lockConnection = (api: TestApi) => (api.app.get(SimulationReconciler) as unknown as { claims: { client: { query(q: string): Promise<unknown> } | null } }).claims.client;
/** Cuts a node's simulations lock connection, as the database or the network would; resolves once its backend is gone and the node saw it end. */
const cutLocks = async (api: TestApi, node: string) => {
  const before = lockConnection(api);
  const cut = await api.sql<{ pid: number }>(`SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`ddnn-simulations-${node}`]);
  expect(cut).toHaveLength(1);
  // That backend, not the name: the node may open its next lock connection before a look finds none under it.
  await waitFor('the lock backend to exit', async () => (await api.sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1`, [cut[0].pid]))[0].n === 0);
  // Seen ended, or already replaced by a new one (a poll comes every 200 ms).
  await waitFor('the node to see its lock connection end', () => lockConnection(api) !== before);
};
/** A condition that holds now, and still holds over several polls of the nodes (DDNN_SESSION_POLL_MS 200). */
const holds = async (what: string, check: () => Promise<boolean>) => {
  await waitFor(what, check, 30_000);
  for (let i = 0; i < 10; i++) {
    expect(await check()).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
  }
};

// The API is stopped (its app closed) and started again on the same database, as a restart does; what a process that
// died left (its rows still marked connected) is covered by test/e2e/simulation-restart.e2e.spec.ts with real processes.
describe('simulations after a restart (real Postgres, in-process API nodes)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('a persisted simulation starts again with its devices, link and failures; one not persisted has its devices deleted; a deleted one stays stopped', async () => {
    const first = await startTestApi(ENV, db);
    let kept: SimulationView, scene: SimulationView, dropped: SimulationView, deleted: SimulationView;
    try {
      kept = (
        await call<SimulationView>(first, 'POST', '/simulations', ADMIN, {
          devices: 3,
          link: { latencyMs: 60, bandwidthKbps: 100_000 },
          failures: [{ device: 1, atSample: 1, kind: 'flaky' }],
          persist: true,
        })
      ).body;
      scene = (await call<SimulationView>(first, 'POST', '/simulations', ADMIN, { devices: 2, source: 'scene', scene: { seed: 4, period: 3 }, persist: true })).body;
      expect((await call(first, 'PATCH', `/simulations/${scene.id}/cameras/1`, ADMIN, { noise: 0.7 })).status).toBe(200);
      dropped = (await call<SimulationView>(first, 'POST', '/simulations', ADMIN, { devices: 2 })).body;
      deleted = (await call<SimulationView>(first, 'POST', '/simulations', ADMIN, { devices: 1, persist: true })).body;
      expect((await call(first, 'DELETE', `/simulations/${deleted.id}`, ADMIN)).status).toBe(204);
      expect(await recorded(first)).toEqual([kept.id, scene.id, dropped.id].sort());
    } finally {
      await first.close();
    }

    const second = await startTestApi(ENV, db);
    try {
      // Started again during start-up, before the API answers.
      const running = await sims(second);
      expect(running.map((s) => s.id).sort()).toEqual([kept.id, scene.id].sort());
      const again = running.find((s) => s.id === kept.id) as SimulationView;
      expect(again).toMatchObject({ devices: kept.devices, link: kept.link, failures: kept.failures, source: 'dataset', persist: true, sessionId: null });
      // Its knobs at rest, as the demo's cameras after a restart.
      expect(running.find((s) => s.id === scene.id)).toMatchObject({
        devices: scene.devices,
        source: 'scene',
        scene: { seed: 4, period: 3, cameras: [{ view: 0, noise: 0, occlusion: 0 }, { view: 1, noise: 0, occlusion: 0 }] },
      });
      const active = (await call(second, 'GET', '/devices?simulated=true&active=true&limit=50', ADMIN)).body.items.map((d: DeviceView) => d.id);
      expect(active.sort()).toEqual([...ids(kept), ...ids(scene)].sort());
      const [events] = await second.sql<{ types: string[]; reasons: (string | null)[] }>(
        `SELECT array_agg(type ORDER BY stream_position) AS types, array_agg(data->>'reason' ORDER BY stream_position) AS reasons FROM events WHERE stream_id = $1`,
        [`device-${kept.devices[0].deviceId}`],
      );
      expect(events.types).toEqual(['DeviceRegistered', 'DeviceConnected', 'DeviceDisconnected', 'DeviceConnected']);
      expect(events.reasons[2]).toBe('simulation stopped');

      // Not persisted and no run uses it: its devices are deleted (their events stay), its record too.
      for (const id of ids(dropped)) expect((await device(second, id)).status).toBe(404);
      // Stopped for good: not started again, its device's row kept (DELETE's contract), disconnected.
      expect((await device(second, ids(deleted)[0])).body.connectivity.active).toBe(false);
      expect(await recorded(second)).toEqual([kept.id, scene.id].sort());

      // The same link model and failures: a deploy crosses the link both ways; device 1 misses every other sample from 1 on.
      await writeUntrainedCheckpoint(path.join(dataDir, 'models', 'm1'));
      await writeSmallDataset(dataDir);
      expect((await call(second, 'POST', '/models', ADMIN, { path: path.join(dataDir, 'models', 'm1'), id: 'm1' })).status).toBe(201);
      const transport = second.app.get(DeviceTransport);
      const models = second.app.get(ModelsService);
      const t0 = performance.now();
      await transport.deploy(kept.devices[1].deviceId, await models.deployMessage('m1', 'device-1'), 5000);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(120);
      const samples = readFileSync(path.join(dataDir, 'datasets', 'synth', 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        outcomes.push(
          await transport
            .request(kept.devices[1].deviceId, { stage: 'scores', sessionId: 'restart', sampleIndex: i, dataset: 'synth', sampleId: samples[i] }, 1000)
            .then((r) => ((r as { ok: boolean }).ok ? 'ok' : 'error'), (e: { reason?: string }) => e.reason ?? 'thrown'),
        );
      }
      expect(outcomes).toEqual(['ok', 'ok', 'timeout', 'ok']);

      expect((await call(second, 'DELETE', `/simulations/${scene.id}`, ADMIN)).status).toBe(204);
      expect((await call(second, 'DELETE', `/simulations/${scene.id}`, ADMIN)).status).toBe(404);
      expect((await call(second, 'DELETE', '/simulations/not-a-uuid', ADMIN)).status).toBe(404);
    } finally {
      await second.close();
    }

    const third = await startTestApi(ENV, db);
    try {
      expect((await sims(third)).map((s) => s.id)).toEqual([kept.id]);
      expect((await call(third, 'DELETE', `/simulations/${kept.id}`, ADMIN)).status).toBe(204);
      expect(await recorded(third)).toEqual([]);
    } finally {
      await third.close();
    }
  });

  it('one not persisted that a stream still runs on starts again bound to it, and ends with it (its devices deleted)', async () => {
    const first = await startTestApi({ ...ENV, DDNN_CAPTURE_TOLERANCE_MS: '10000' }, db);
    let streamId: string;
    let sim: SimulationView;
    try {
      streamId = await startSimulatedStream(first, ADMIN, { devices: 2, seed: 3, stream: { rate: 1 } });
      sim = await waitFor('the simulation bound to the stream', async () => (await sims(first)).find((s) => s.sessionId === streamId));
      expect(sim.persist).toBe(false);
      await waitFor('the stream to run', async () => (await call<StreamView>(first, 'GET', `/streams/${streamId}`, ADMIN)).body.status === 'running');
    } finally {
      await first.close();
    }
    const second = await startTestApi({ ...ENV, DDNN_CAPTURE_TOLERANCE_MS: '10000' }, db);
    try {
      expect((await sims(second)).find((s) => s.id === sim.id)).toMatchObject({ devices: sim.devices, sessionId: streamId, persist: false });
      // The resumed stream decides samples on them again.
      const before = await waitFor('the stream to resume here', async () => {
        const v = (await call<StreamView>(second, 'GET', `/streams/${streamId}`, ADMIN)).body;
        return v.owner && v.status === 'running' ? (v.summary?.samplesDecided ?? 0) : undefined;
      });
      await waitFor('samples decided after the restart', async () => ((await call<StreamView>(second, 'GET', `/streams/${streamId}`, ADMIN)).body.summary?.samplesDecided ?? 0) > before, 60_000);
      expect((await call(second, 'POST', `/streams/${streamId}/stop`, ADMIN)).status).toBeLessThan(300);
      // Its record goes last, once its devices are deleted.
      await waitFor('the simulation to end with its stream', async () => ((await recorded(second)).includes(sim.id) ? undefined : true), 30_000);
      expect((await sims(second)).map((s) => s.id)).not.toContain(sim.id);
      for (const id of ids(sim)) expect((await device(second, id)).status).toBe(404);
    } finally {
      await second.close();
    }
  });

  it('a process started again under another node id (the default: host and pid) starts its last run\'s simulations during start-up', async () => {
    const first = await startTestApi({ ...ENV, DDNN_NODE_ID: 'host-101' }, db);
    let sim: SimulationView;
    try {
      sim = (await call<SimulationView>(first, 'POST', '/simulations', ADMIN, { devices: 2, persist: true })).body;
    } finally {
      await first.close();
    }
    const second = await startTestApi({ ...ENV, DDNN_NODE_ID: 'host-202' }, db);
    try {
      // Its node's lock connection is gone: that node is, so its simulations are not waited for.
      expect((await sims(second)).map((s) => ({ id: s.id, devices: ids(s) }))).toEqual([{ id: sim.id, devices: ids(sim) }]);
      expect((await call(second, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
    } finally {
      await second.close();
    }
  });

  it('a persisted simulation outlives the run that named it: it runs on, free for the next run', async () => {
    const api = await startTestApi({ ...ENV, DDNN_CAPTURE_TOLERANCE_MS: '10000' }, db);
    try {
      const streamId = await startSimulatedStream(api, ADMIN, { devices: 2, seed: 5, stream: { rate: 1 }, simulation: { persist: true } });
      const sim = await waitFor('the simulation bound to the stream', async () => (await sims(api)).find((s) => s.sessionId === streamId));
      // Recorded beside the binding, not awaited by the stream's creation.
      const boundTo = async () => (await api.sql<{ s: string | null }>('SELECT session_id::text AS s FROM simulations WHERE id = $1', [sim.id]))[0].s;
      await waitFor('the binding recorded', async () => ((await boundTo()) === streamId ? true : undefined));
      expect((await call(api, 'POST', `/streams/${streamId}/stop`, ADMIN)).status).toBeLessThan(300);
      await waitFor('the simulation to be let go by its stream', async () => ((await sims(api)).find((s) => s.id === sim.id)?.sessionId === null ? true : undefined), 30_000);
      expect(await boundTo()).toBeNull();
      for (const id of ids(sim)) expect((await device(api, id)).body.connectivity.active).toBe(true);
      expect((await call(api, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
    } finally {
      await api.close();
    }
  });
});

describe('a recorded simulation runs on one node of two (real Postgres and Redis)', () => {
  let redis: ChildProcess;
  let db: TestDatabase;
  let env: Record<string, string>;
  const nodes: TestApi[] = [];

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor('redis to listen', () => new Promise<boolean>((r) => net.connect(port, '127.0.0.1').on('connect', function (this: net.Socket) { this.destroy(); r(true); }).on('error', () => r(false))));
    db = await createTestDatabase();
    env = { ...ENV, REDIS_URL: `redis://127.0.0.1:${port}` };
  });
  afterAll(async () => {
    for (const n of nodes) await n.close().catch(() => undefined);
    await db?.drop();
    redis?.kill('SIGTERM');
  });

  it('the other node leaves it alone, takes it over when its node stops, and one node only runs it when a lock connection is cut', async () => {
    const a = await startTestApi({ ...env, DDNN_NODE_ID: 'node-a' }, db);
    nodes.push(a);
    const sim = (await call<SimulationView>(a, 'POST', '/simulations', ADMIN, { devices: 2, persist: true })).body;
    const b = await startTestApi({ ...env, DDNN_NODE_ID: 'node-b' }, db);
    nodes.push(b);
    // Several polls of node B: it sees the record, and that node A holds it.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await sims(a)).map((s) => s.id)).toEqual([sim.id]);
    expect(await sims(b)).toEqual([]);
    const refused = await call(b, 'DELETE', `/simulations/${sim.id}`, ADMIN);
    expect(refused).toMatchObject({ status: 409, body: { message: expect.stringContaining('node-a') } });

    // Node A's lock connection is cut (the node runs on): whichever node claims it first runs it; node A stops its
    // copy within a poll when node B did (the two overlap that long at most).
    const runners = async () => [...(await sims(a)), ...(await sims(b))].filter((s) => s.id === sim.id).length;
    await cutLocks(a, 'node-a');
    await holds('one node to run it', async () => (await runners()) === 1);
    const [owner, other] = (await sims(a)).length ? [a, b] : [b, a];
    const deviceIds = ids(sim);
    await waitFor('its devices active on the node that runs it', async () => {
      const rows = await Promise.all(deviceIds.map(async (id) => (await device(other, id)).body.connectivity));
      return rows.every((c) => c.active && c.node === (owner === a ? 'node-a' : 'node-b')) ? true : undefined;
    });

    // Its node stops: the other one starts it, with the same devices.
    await owner.close();
    nodes.splice(nodes.indexOf(owner), 1);
    const moved = await waitFor('the other node to start it', async () => (await sims(other)).find((s) => s.id === sim.id), 30_000);
    expect(ids(moved)).toEqual(deviceIds);
    await waitFor('its devices active again', async () => ((await Promise.all(deviceIds.map(async (id) => (await device(other, id)).body.connectivity.active))).every(Boolean) ? true : undefined));
    expect((await call(other, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
    expect(await recorded(other)).toEqual([]);
  });

  /** Starts the nodes of a test on their own: a node, or a simulation, left by an earlier test would take part in its rounds. */
  const fresh = async (...specs: [string, Record<string, string>][]) => {
    await nodes[0]?.sql('DELETE FROM simulations');
    for (const n of nodes.splice(0)) await n.close();
    for (const [node, extra] of specs) nodes.push(await startTestApi({ ...env, ...extra, DDNN_NODE_ID: node }, db));
    return [...nodes];
  };
  const SLOW = { DDNN_SESSION_POLL_MS: '60000' };
  /** True when one of the nodes `a` and `b` (node-a, node-b) runs the simulation, and that node's lock connection holds its lock. */
  const oneRunner = async (sim: SimulationView, a: TestApi, b: TestApi) => {
    const [onA, onB] = await Promise.all([a, b].map(async (n) => (await sims(n)).some((s) => s.id === sim.id)));
    if (onA === onB) return false;
    const [held] = await a.sql<{ holder: string | null }>(
      `SELECT max(s.application_name) AS holder FROM pg_locks l JOIN pg_stat_activity s USING (pid)
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND ((l.classid::int8 << 32) | l.objid::int8) = hashtextextended('ddnn-simulation:' || $1, 0)`,
      [sim.id],
    );
    return held.holder === `ddnn-simulations-${onA ? 'node-a' : 'node-b'}`;
  };

  it("a node whose lock is gone while its connection lives stops its copy once the other node takes it (the server's locks are checked, not the node's memory)", async () => {
    const [a, b] = await fresh(['node-a', {}], ['node-b', {}]);
    const sim = (await call<SimulationView>(a, 'POST', '/simulations', ADMIN, { devices: 2, persist: true })).body;
    // The lock goes and the connection stays, as after a failover to a server that never saw it (no error, no end).
    await lockConnection(a)?.query('SELECT pg_advisory_unlock_all()');
    // Whichever node claims it first runs it (node A, when its poll comes first, claims it again).
    await holds('one node to run it, holding its lock', () => oneRunner(sim, a, b));
    const owner = (await sims(a)).length ? a : b;
    expect((await call(owner, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
  });

  it('a simulation deleted on another node while its node was cut from its locks is stopped there when it claims it again, not run on unrecorded', async () => {
    const [a, b] = await fresh(['node-a', SLOW], ['node-b', SLOW]);
    const sim = (await call<SimulationView>(a, 'POST', '/simulations', ADMIN, { devices: 2, persist: true })).body;
    await cutLocks(a, 'node-a');
    // No node holds it: node B forgets it.
    expect((await call(b, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
    await round(a);
    expect(await sims(a)).toEqual([]);
    expect(await recorded(a)).toEqual([]);
    // Stopped for good, as a DELETE on its node would have: disconnected, rows kept.
    for (const id of ids(sim)) expect((await device(a, id)).body.connectivity.active).toBe(false);
  });

  it('a round that lists the records while a POST creates one does not start a second copy of it', async () => {
    const [a] = await fresh(['node-a', SLOW]);
    const records = a.app.get(SimulationRecords);
    const others = records.others.bind(records);
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    // The round reads what this node runs before the POST, and the records after it.
    records.others = async (except) => {
      await opened;
      return others(except);
    };
    const pending = round(a);
    const sim = (await call<SimulationView>(a, 'POST', '/simulations', ADMIN, { devices: 2, persist: true })).body;
    open();
    await pending;
    records.others = others;
    expect((await sims(a)).map((s) => ({ id: s.id, devices: ids(s) }))).toEqual([{ id: sim.id, devices: ids(sim) }]);
    const active = (await call(a, 'GET', '/devices?simulated=true&active=true&limit=50', ADMIN)).body.items.map((d: DeviceView) => d.id);
    expect(active.sort()).toEqual(ids(sim).sort());
    expect((await call(a, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
  });

  /** Cuts every simulations lock connection of the test's database at once, as a database restart does; resolves once each node saw its own end. */
  const restartLocks = async (...ns: TestApi[]) => {
    const before = ns.map(lockConnection);
    expect(before.every((c) => c !== null)).toBe(true);
    const [cut] = await ns[0].sql<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name LIKE 'ddnn-simulations-%' AND datname = current_database()`,
    );
    expect(cut.n).toBe(ns.length);
    await waitFor('the nodes to see their lock connections end', () => ns.every((n, i) => lockConnection(n) !== before[i]));
  };
  /** How many events the devices' streams hold: a takeover writes a disconnect and a connect for each. */
  const deviceEvents = async (api: TestApi, sim: SimulationView) =>
    (await api.sql<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE stream_id = ANY ($1::text[])', [ids(sim).map((d) => `device-${d}`)]))[0].n;
  const recordedNode = async (api: TestApi, sim: SimulationView) => (await api.sql<{ node: string }>('SELECT node FROM simulations WHERE id = $1', [sim.id]))[0].node;

  it("a database restart drops every lock at once: the node that ran a simulation takes it back, the other node's poll coming first leaves it alone", async () => {
    const [a, b] = await fresh(['node-a', SLOW], ['node-b', SLOW]);
    const sim = (await call<SimulationView>(a, 'POST', '/simulations', ADMIN, { devices: 2, persist: true })).body;
    // Node B's round sees it, locked by node A (and opens node B's lock connection).
    await round(b);
    expect(await sims(b)).toEqual([]);
    const events = await deviceEvents(a, sim);
    await restartLocks(a, b);
    // Node B polls first, twice: node A has not had its poll yet, so the simulation is left to it.
    await round(b);
    await round(b);
    // The rounds asked the server (a round that failed would have dropped the connection).
    expect(lockConnection(b)).not.toBeNull();
    expect(await sims(b)).toEqual([]);
    await round(a);
    await round(b);
    expect(await oneRunner(sim, a, b)).toBe(true);
    expect((await sims(a)).map((s) => s.id)).toEqual([sim.id]);
    expect(await recordedNode(a, sim)).toBe('node-a');
    // Never taken over, not even for a poll: no disconnect and connect written for its devices.
    expect(await deviceEvents(a, sim)).toBe(events);
    for (const id of ids(sim)) expect((await device(a, id)).body.connectivity).toMatchObject({ active: true, node: 'node-a' });
    expect((await call(a, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
  });

  /** Node A runs a simulation and never polls during the test; node B polls every 200 ms. `cut` takes node A's lock away. */
  const takenOverFromADeadNode = async (cut: (a: TestApi, b: TestApi) => Promise<void>) => {
    const [a, b] = await fresh(['node-a', SLOW], ['node-b', {}]);
    const sim = (await call<SimulationView>(a, 'POST', '/simulations', ADMIN, { devices: 2, persist: true })).body;
    // Node B's lock connection is open: its polls asked about node A's lock.
    await waitFor('node B to open its lock connection', () => lockConnection(b) !== null);
    await cut(a, b);
    const moved = await waitFor('node B to take it over', async () => (await sims(b)).find((s) => s.id === sim.id), 30_000);
    expect(ids(moved)).toEqual(ids(sim));
    expect(await recordedNode(b, sim)).toBe('node-b');
    // Node A, back, finds the lock taken and stops its copy without a word for the devices node B drives.
    await round(a);
    expect(await sims(a)).toEqual([]);
    await holds('node B to run it, holding its lock', () => oneRunner(sim, a, b));
    for (const id of ids(sim)) expect((await device(b, id)).body.connectivity).toMatchObject({ active: true, node: 'node-b' });
    expect((await call(b, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
  };

  it('a node gone (its presence and its lock connection, with no sign of the server losing every lock) loses its simulation to the other node at once', async () => {
    await takenOverFromADeadNode(async (a) => {
      // What a killed process leaves: neither its presence lock (NodePresence) nor its simulations' locks.
      await a.app.get(NodePresence).onModuleDestroy();
      await cutLocks(a, 'node-a');
    });
  });

  it('a node present whose lock connection alone was cut keeps its simulation for two polls of the other node, then loses it if it has not claimed it again', async () => {
    await takenOverFromADeadNode((a) => cutLocks(a, 'node-a'));
  });

  it('after a database restart, a node that does not take its simulation back within two polls of the other node loses it to that node', async () => {
    await takenOverFromADeadNode((a, b) => restartLocks(a, b));
  });

  it('a lock connection cut while a POST is starting the simulation is noticed at the next poll: one node runs it', async () => {
    const [a, b] = await fresh(['node-a', {}], ['node-b', {}]);
    const records = a.app.get(SimulationRecords);
    const devicesOfOthers = records.devicesOfOthers.bind(records);
    let cut = false;
    // Inside the start, after the claim and before the simulation is this node's: the cut, and a round of node A.
    records.devicesOfOthers = async (id) => {
      if (!cut) {
        cut = true;
        await cutLocks(a, 'node-a');
        await round(a);
      }
      return devicesOfOthers(id);
    };
    const sim = (await call<SimulationView>(a, 'POST', '/simulations', ADMIN, { devices: 2, persist: true })).body;
    records.devicesOfOthers = devicesOfOthers;
    expect(cut).toBe(true);
    await holds('one node to run it, holding its lock', () => oneRunner(sim, a, b));
    const owner = (await sims(a)).length ? a : b;
    expect((await call(owner, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
  });
});
