import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sectionName, type InferScoresReply, type SimulationView } from '@ddnn/contracts';
import { checkpointRuntimeBindings, DeviceRuntime } from '@ddnn/ddnn';
import { DeviceTransport } from '../devices/transport/device-transport';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';
import { waitFor } from '@ddnn/testing';
import { writeSmallDataset, writeUntrainedCheckpoint } from '../../test/devices/test-fixtures';
import { ModelsService } from '../models/models.service';

const ADMIN = 'test-operator-token-0123456789';

describe('simulated devices (real Postgres, in-process devices)', () => {
  let api: TestApi;
  let transport: DeviceTransport;
  let models: ModelsService;
  let sampleIds: string[];

  beforeAll(async () => {
    // An inactivity timeout shorter than the default heartbeat interval (5 s), as the browser tests run with.
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DEVICE_INACTIVE_TIMEOUT_MS: '1500' });
    transport = api.app.get(DeviceTransport);
    models = api.app.get(ModelsService);
    await writeUntrainedCheckpoint(path.join(api.dataDir, 'models', 'model'));
    await writeSmallDataset(api.dataDir);
    sampleIds = readFileSync(path.join(api.dataDir, 'datasets', 'synth', 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect((await call(api, 'POST', '/models', ADMIN, { path: path.join(api.dataDir, 'models', 'model'), id: 'm1' })).status).toBe(201);
  }, 120_000);
  afterAll(() => api.close());

  const scores = (deviceId: string, i: number, timeoutMs = 1000) =>
    transport.request(deviceId, { stage: 'scores', sessionId: 'sim', sampleIndex: i, dataset: 'synth', sampleId: sampleIds[i] }, timeoutMs);
  const outcome = (p: Promise<unknown>) => p.then((r) => ((r as { ok: boolean }).ok ? 'ok' : 'error'), (e: { reason?: string }) => e.reason ?? 'thrown');

  it('validates the request', async () => {
    expect((await call(api, 'POST', '/simulations', ADMIN, { devices: 0 })).status).toBe(400);
    expect((await call(api, 'POST', '/simulations', ADMIN, { devices: 2, failures: [{ device: 5, atSample: 0, kind: 'crash' }] })).status).toBe(400);
    expect((await call(api, 'POST', '/simulations', ADMIN, { devices: 2, failures: [{ device: 0, atSample: 0, kind: 'explode' }] })).status).toBe(400);
    expect((await call(api, 'POST', '/simulations', ADMIN, { devices: 2, link: { latencyMs: 1 } })).status).toBe(400);
    expect((await call(api, 'POST', '/simulations', null, { devices: 2 })).status).toBe(401);
  });

  it('six devices register and connect like real ones, serve the same bytes, and fail as asked', async () => {
    const created = await call(api, 'POST', '/simulations', ADMIN, {
      devices: 6,
      failures: [
        { device: 1, atSample: 2, kind: 'crash' },
        { device: 2, atSample: 1, kind: 'slow' },
        { device: 3, atSample: 0, kind: 'flaky' },
      ],
      link: { latencyMs: 10, bandwidthKbps: 10_000 },
    });
    expect(created.status).toBe(201);
    const devices = created.body.devices as { deviceId: string; view: number; name: string }[];
    expect(devices.map((d) => d.view)).toEqual([0, 1, 2, 3, 4, 5]);
    const connected = await transport.connectedDevices();
    expect(connected.filter((c) => c.kind === 'simulated').map((c) => c.deviceId).sort()).toEqual(devices.map((d) => d.deviceId).sort());
    const listed = await call(api, 'GET', '/devices?simulated=true&active=true', ADMIN);
    expect(listed.body.total).toBe(6);
    const [events] = await api.sql<{ types: string[] }>(
      'SELECT array_agg(type ORDER BY stream_position) AS types FROM events WHERE stream_id = $1',
      [`device-${devices[0].deviceId}`],
    );
    expect(events.types).toEqual(['DeviceRegistered', 'DeviceConnected']);

    for (const d of devices) {
      const ack = await transport.deploy(d.deviceId, await models.deployMessage('m1', sectionName.device(d.view)), 5000);
      expect(ack).toMatchObject({ ok: true, section: `device-${d.view}` });
    }
    // The same runtime outside the server gives the same bytes: where a device runs does not matter.
    const local = new DeviceRuntime({ role: 'end-device', view: 0, bindings: checkpointRuntimeBindings({ dataRoot: path.join(api.dataDir, 'datasets') }) });
    await local.deploy(await models.deployMessage('m1', 'device-0'));
    const t0 = performance.now();
    const simulated = (await scores(devices[0].deviceId, 0)) as InferScoresReply;
    const elapsed = performance.now() - t0;
    const direct = (await local.infer({ stage: 'scores', sessionId: 'sim', sampleIndex: 0, dataset: 'synth', sampleId: sampleIds[0] })) as InferScoresReply;
    if (!simulated.ok || !direct.ok) throw new Error('scores failed');
    expect(Buffer.from(simulated.scores).equals(Buffer.from(direct.scores))).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(20); // 10 ms latency each way

    const byDevice = async (i: number, n: number) => {
      const out: string[] = [];
      for (let s = 0; s < n; s++) out.push(await outcome(scores(devices[i].deviceId, s, 300)));
      return out;
    };
    expect(await byDevice(4, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(await byDevice(2, 3)).toEqual(['ok', 'timeout', 'timeout']);
    expect(await byDevice(3, 4)).toEqual(['ok', 'timeout', 'ok', 'timeout']);
    expect(await byDevice(1, 4)).toEqual(['ok', 'ok', 'disconnected', 'not-connected']);
    let crashed: { type: string; data: { reason: string } }[] = [];
    for (let tries = 0; tries < 100 && crashed.length === 0; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      crashed = await api.sql("SELECT type, data FROM events WHERE stream_id = $1 AND type = 'DeviceDisconnected'", [`device-${devices[1].deviceId}`]);
    }
    expect(crashed).toEqual([{ type: 'DeviceDisconnected', data: expect.objectContaining({ reason: 'crash' }) }]);

    expect((await call(api, 'DELETE', `/simulations/${created.body.id}`, ADMIN)).status).toBe(204);
    expect((await transport.connectedDevices()).filter((c) => c.kind === 'simulated')).toEqual([]);
    expect((await call(api, 'GET', '/devices?simulated=true&active=true', ADMIN)).body.total).toBe(0);
  });

  it('a new simulation reuses the idle simulated devices instead of registering new ones', async () => {
    const before = (await call(api, 'GET', '/devices?simulated=true', ADMIN)).body.total as number;
    const again = await call(api, 'POST', '/simulations', ADMIN, { devices: 6 });
    expect(again.status).toBe(201);
    expect((await call(api, 'GET', '/devices?simulated=true', ADMIN)).body.total).toBe(before);
    expect((await call(api, 'GET', `/simulations/${again.body.id}`, ADMIN)).body.devices).toHaveLength(6);
  });

  it('beats often enough for the inactivity timeout: running simulated cameras never go inactive', async () => {
    const sim = await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 2 });
    expect(sim.status).toBe(201);
    // Three timeouts: they went inactive and came back every beat (DeviceWentInactive, DeviceBecameActive) before.
    await new Promise((r) => setTimeout(r, 4500));
    const ids = sim.body.devices.map((d) => `device-${d.deviceId}`);
    const flaps = await api.sql<{ n: string }>(`SELECT count(*) AS n FROM events WHERE stream_id = ANY ($1) AND type IN ('DeviceWentInactive', 'DeviceBecameActive')`, [ids]);
    expect(Number(flaps[0].n)).toBe(0);
    expect((await call(api, 'DELETE', `/simulations/${sim.body.id}`, ADMIN)).status).toBe(204);
  });

  it('is not stopped under a stream that uses its devices: 409 until the stream is stopped', async () => {
    const created = await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 2, persist: true });
    const sim = created.body.id;
    const stream = (
      await call<{ id: string }>(api, 'POST', '/streams', ADMIN, {
        modelId: 'm1', topology: { devices: created.body.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
        policy: { kind: 'entropy', thresholds: { local: 0.5 } }, deadlineMs: 5000, rate: 2, replay: { dataset: 'synth', split: 'test' },
      })
    ).body.id;
    expect(stream).toBeDefined();
    const refused = await call(api, 'DELETE', `/simulations/${sim}`, ADMIN);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe(`simulation ${sim}: run ${stream} still uses its devices: stop it first`);
    expect((await call(api, 'POST', `/streams/${stream}/stop`, ADMIN)).status).toBe(200);
    await waitFor('the stream to stop', async () => ((await call<{ status: string }>(api, 'GET', `/streams/${stream}`, ADMIN)).body.status === 'stopped' ? true : undefined), 30_000);
    expect((await call(api, 'DELETE', `/simulations/${sim}`, ADMIN)).status).toBe(204);
  });

  it('a device an operator deleted is no longer one of its simulation: not listed, stopped, nothing more written for it', async () => {
    const sim = (await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 4 })).body;
    const [first, gone, elsewhere, last] = sim.devices;
    expect((await call(api, 'DELETE', `/devices/${gone.deviceId}`, ADMIN)).status).toBe(204);
    // Its row deleted with nothing said to this node, as a DELETE on another node does (its transport reaches its own
    // endpoints, not this node's in-process devices).
    await api.sql('DELETE FROM devices WHERE id = $1', [elsewhere.deviceId]);
    // Listed before: the view still named the deleted devices, and they still answered.
    expect((await call<SimulationView>(api, 'GET', `/simulations/${sim.id}`, ADMIN)).body.devices).toEqual([first, last]);
    expect((await call<SimulationView[]>(api, 'GET', '/simulations', ADMIN)).body.find((s) => s.id === sim.id)?.devices).toEqual([first, last]);
    const connected = (await transport.connectedDevices()).map((c) => c.deviceId);
    expect(connected).not.toContain(gone.deviceId);
    expect(connected).not.toContain(elsewhere.deviceId);
    expect(connected).toEqual(expect.arrayContaining([first.deviceId, last.deviceId]));
    expect(await outcome(scores(gone.deviceId, 0))).toBe('not-connected');
    expect(await outcome(scores(elsewhere.deviceId, 0))).toBe('not-connected');
    expect((await call(api, 'DELETE', `/simulations/${sim.id}`, ADMIN)).status).toBe(204);
    // Its deletion wrote its disconnect; neither its stop nor its simulation's wrote another.
    const [events] = await api.sql<{ types: string[]; reasons: (string | null)[] }>(
      `SELECT array_agg(type ORDER BY stream_position) AS types, array_agg(data->>'reason' ORDER BY stream_position) AS reasons FROM events WHERE stream_id = $1`,
      [`device-${gone.deviceId}`],
    );
    expect({ types: events.types.slice(-2), reasons: events.reasons.slice(-2) }).toEqual({ types: ['DeviceConnected', 'DeviceDisconnected'], reasons: [null, 'deleted by an operator'] });
    expect(events.reasons.at(-1)).toBe('deleted by an operator');
  });
});
