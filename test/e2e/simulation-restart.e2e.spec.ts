import type { AlertListResponse, AlertRuleView, DeviceView, SimulationView } from '@ddnn/contracts';
import { type ApiProcess, bootPlatform, operatorClient, type Platform, waitFor } from '@ddnn/testing';

const TOKEN = 'e2e-operator-token-simulation-restart-0123';
const op = operatorClient(TOKEN);

/**
 * A persisted simulation is a service with a restart policy: after the API process dies (SIGKILL: nothing logged its
 * devices' disconnects) or is stopped, the next one starts it again with the same device ids, and none of them is left
 * offline for the default "Device inactive" rule to fire on. One not persisted has its devices deleted then.
 */
describe('simulations across API restarts (built API, real Postgres)', () => {
  let platform: Platform;
  let api: ApiProcess;

  beforeAll(async () => {
    platform = await bootPlatform({ name: 'simulation-restart', token: TOKEN, dataset: false, env: { DDNN_ALERT_EVAL_INTERVAL_MS: '500' } });
  }, 600_000);
  afterAll(() => platform?.teardown());

  const simulations = () => op.call<SimulationView[]>(api, 'GET', '/api/simulations');
  const device = (id: string) => op.request(api, 'GET', `/api/devices/${id}`);
  const activeIds = async (ids: string[]) => {
    const rows = await Promise.all(ids.map(async (id) => (await device(id)).json() as Promise<DeviceView>));
    return rows.filter((d) => d.connectivity.active).map((d) => d.id);
  };
  const openAlerts = async (ruleId: string, deviceIds: string[]) => {
    const { items } = await op.call<AlertListResponse>(api, 'GET', `/api/alerts?state=open&ruleId=${ruleId}&limit=100`);
    return items.filter((a) => a.subject.deviceId && deviceIds.includes(a.subject.deviceId));
  };

  it('a persisted simulation comes back with the same devices after a crash and a restart, with no "Device inactive" alert; a deleted one does not', async () => {
    api = await platform.start();
    // The default rule, made impatient: a device offline fires at the first evaluation instead of after a minute.
    const rule = (await op.call<AlertRuleView[]>(api, 'GET', '/api/alert-rules')).find((r) => r.defaultKey === 'device-inactive') as AlertRuleView;
    const ruleId = rule.id;
    const { name, description, metric, scope, condition, clear, windowMs, severity, enabled } = rule;
    await op.call(api, 'PUT', `/api/alert-rules/${ruleId}`, { name, description, metric, scope, condition, forMs: 0, clear, windowMs, severity, enabled });

    const kept = await op.call<SimulationView>(api, 'POST', '/api/simulations', {
      devices: 6,
      source: 'scene',
      scene: { seed: 2 },
      link: { latencyMs: 5, bandwidthKbps: 10_000 },
      failures: [{ device: 5, atSample: 1000, kind: 'slow' }],
      persist: true,
    });
    const dropped = await op.call<SimulationView>(api, 'POST', '/api/simulations', { devices: 2 });
    const stopped = await op.call<SimulationView>(api, 'POST', '/api/simulations', { devices: 1, persist: true });
    expect((await op.request(api, 'DELETE', `/api/simulations/${stopped.id}`)).status).toBe(204);
    const keptIds = kept.devices.map((d) => d.deviceId);
    expect(await activeIds(keptIds)).toEqual(keptIds);

    // The process dies: its device rows are left marked connected; the next one starts the simulation again.
    await api.stop('SIGKILL');
    const t0 = Date.now();
    api = await platform.start();
    expect(api.output()).toContain(`simulation ${kept.id} started again`);
    const again = (await simulations()).find((s) => s.id === kept.id);
    expect(again).toMatchObject({ devices: kept.devices, link: kept.link, failures: kept.failures, scene: { seed: 2 }, persist: true });
    await waitFor('the same devices connected again', async () => ((await activeIds(keptIds)).length === keptIds.length ? true : undefined));
    const backMs = Date.now() - t0;
    for (const d of dropped.devices) expect((await device(d.deviceId)).status).toBe(404);

    // The rule does fire for a device left offline (the stopped simulation's: DELETE keeps its row), so its silence on
    // the restored devices is not an evaluator that did not run.
    await waitFor('"Device inactive" firing for the stopped simulation\'s device', async () =>
      (await openAlerts(ruleId, [stopped.devices[0].deviceId])).some((a) => a.state === 'firing') ? true : undefined,
    );
    // Between the restart's disconnects and the reconnects a round may open one; none stays open.
    await waitFor('no open "Device inactive" alert for the restored devices', async () => ((await openAlerts(ruleId, [...keptIds, ...dropped.devices.map((d) => d.deviceId)])).length === 0 ? true : undefined));
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 500));
      expect(await openAlerts(ruleId, keptIds)).toEqual([]);
    }
    process.stdout.write(`simulation restart: SIGKILL, ${keptIds.length} devices connected again ${backMs} ms after the new process was started\n`);

    // A clean stop and start: the same again.
    await api.stop('SIGTERM');
    api = await platform.start();
    expect((await simulations()).map((s) => s.id)).toEqual([kept.id]);
    await waitFor('the same devices connected again', async () => ((await activeIds(keptIds)).length === keptIds.length ? true : undefined));

    // Deleted: it stays stopped through the next restart.
    expect((await op.request(api, 'DELETE', `/api/simulations/${kept.id}`)).status).toBe(204);
    await api.stop('SIGTERM');
    api = await platform.start();
    expect(await simulations()).toEqual([]);
    expect(await activeIds(keptIds)).toEqual([]);
  }, 600_000);
});
