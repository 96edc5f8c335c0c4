import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SimulationView, StreamView } from '@ddnn/contracts';
import { repoRoot, waitFor } from '@ddnn/testing';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';
import type { DeployOutcome } from './model-deployer';

const ADMIN = 'test-operator-token-0123456789';

jest.setTimeout(180_000);

/**
 * Deploying another model to the devices of a running stream swapped what the stream computed while its log went on
 * naming its own model (found by a review of a running instance): the deploy is refused for those devices until the
 * run ends, and the devices nobody runs with still get it.
 */
describe('deploying to devices a run computes with (real Postgres, simulated devices)', () => {
  let api: TestApi;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ddnn-deploy-runs-'));
    execFileSync('cp', ['-r', path.join(repoRoot, 'models', 'default'), path.join(work, 'alt')]);
    execFileSync('cp', [path.join(work, 'alt', 'device-1.bin'), path.join(work, 'alt', 'device-0.bin')]);
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_SESSION_POLL_MS: '200', DDNN_MODELS_ROOTS: `${path.join(repoRoot, 'models')}:${work}` });
    expect((await call(api, 'POST', '/models', ADMIN, { path: path.join(repoRoot, 'models', 'default'), id: 'default' })).status).toBe(201);
    expect((await call(api, 'POST', '/models', ADMIN, { path: path.join(work, 'alt'), id: 'alt' })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('refuses the running stream\'s devices, deploys to the others, and to all once the stream stopped', async () => {
    const sim = (await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 3, source: 'scene', scene: { seed: 3 } })).body;
    const [a, b, spare] = sim.devices;
    const created = await call<{ id: string }>(api, 'POST', '/streams', ADMIN, {
      modelId: 'default',
      topology: { devices: [a, b].map((d) => ({ deviceId: d.deviceId, view: d.view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      rate: 2,
      deadlineMs: 5000,
      // Not bound to the simulation (simulationId): a bound simulation ends with the run, and its devices with it.
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await waitFor('the stream to run', async () => (await call<StreamView>(api, 'GET', `/streams/${id}`, ADMIN)).body.status === 'running', 60_000, 200);

    const during = (await call<DeployOutcome[]>(api, 'POST', '/models/alt/deploy', ADMIN, {})).body;
    const byDevice = new Map(during.map((o) => [o.deviceId, o]));
    for (const d of [a, b]) {
      expect(byDevice.get(d.deviceId)).toMatchObject({ ok: false, error: `serves stream ${id} (device-${d.view} of model default): stop the run first` });
    }
    expect(byDevice.get(spare.deviceId)).toMatchObject({ ok: true });
    // A new run may not take the stream's devices with another model's (or another view's) section either: its
    // start would install that under the stream. One model's run sharing the same sections may.
    const second = (modelId: string, views: (number | null)[]) => ({
      modelId,
      topology: { devices: [a, b].map((d, i) => ({ deviceId: d.deviceId, view: views[i] })) },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      rate: 2,
      deadlineMs: 5000,
    });
    const alt = await call<{ message: string }>(api, 'POST', '/streams', ADMIN, second('alt', [a.view, b.view]));
    expect(alt.status).toBe(409);
    expect(alt.body.message).toBe(`topology: device ${a.deviceId} serves stream ${id} (device-${a.view} of model default): stop the run first`);
    expect((await call(api, 'POST', '/streams', ADMIN, second('default', [b.view, a.view]))).status).toBe(409);
    const edgeT = await call<{ message: string }>(api, 'POST', '/streams', ADMIN, { ...second('default', [a.view, b.view]), policy: { kind: 'entropy', thresholds: { local: 0.8, edge: 0.5 } } });
    expect(edgeT.status).toBe(400);
    expect(edgeT.body.message).toMatch(/policy\.thresholds\.edge is given, but the topology has no edges/);
    const shared = await call<{ id: string }>(api, 'POST', '/streams', ADMIN, second('default', [a.view, b.view]));
    expect(shared.status).toBe(201);
    expect((await call(api, 'POST', `/streams/${shared.body.id}/stop`, ADMIN)).status).toBe(200);

    // Reinstalling the very section the stream uses is no change: allowed.
    expect((await call<DeployOutcome[]>(api, 'POST', '/models/default/deploy', ADMIN, { devices: [{ deviceId: a.deviceId }] })).body).toEqual([
      { deviceId: a.deviceId, section: `device-${a.view}`, ok: true },
    ]);

    expect((await call(api, 'POST', `/streams/${id}/stop`, ADMIN)).status).toBe(200);
    await waitFor('the stream to stop', async () => (await call<StreamView>(api, 'GET', `/streams/${id}`, ADMIN)).body.status === 'stopped', 60_000, 200);
    const after = (await call<DeployOutcome[]>(api, 'POST', '/models/alt/deploy', ADMIN, { devices: [a, b].map((d) => ({ deviceId: d.deviceId })) })).body;
    expect(after).toEqual([a, b].map((d) => ({ deviceId: d.deviceId, section: `device-${d.view}`, ok: true })));
  });
});
