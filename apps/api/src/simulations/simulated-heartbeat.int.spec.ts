import { call, startTestApi, type TestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';
const TIMEOUT_MS = 1000;

describe('simulated devices heartbeat together (real Postgres)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DEVICE_HEARTBEAT_INTERVAL_MS: '200', DEVICE_INACTIVE_TIMEOUT_MS: String(TIMEOUT_MS) });
  }, 120_000);
  afterAll(() => api.close());

  const rows = (ids: string[]) =>
    api.sql<{ id: string; active: boolean; silent_ms: number }>(
      'SELECT id, active, EXTRACT(EPOCH FROM (now() - last_activity_at)) * 1000 AS silent_ms FROM devices WHERE id = ANY($1) ORDER BY id',
      [ids],
    );
  const wentInactive = async (ids: string[]) =>
    (await api.sql<{ n: string }>("SELECT count(*) AS n FROM events WHERE type = 'DeviceWentInactive' AND stream_id = ANY($1)", [ids.map((id) => `device-${id}`)]))[0].n;

  it('keeps every simulation\'s devices active past the inactivity timeout, also after another simulation stops', async () => {
    const a = await call(api, 'POST', '/simulations', ADMIN, { devices: 2 });
    const b = await call(api, 'POST', '/simulations', ADMIN, { devices: 3 });
    expect([a.status, b.status]).toEqual([201, 201]);
    const idsOf = (sim: { body: { devices: { deviceId: string }[] } }) => sim.body.devices.map((d) => d.deviceId);
    const all = [...idsOf(a), ...idsOf(b)];

    await new Promise((r) => setTimeout(r, 2.5 * TIMEOUT_MS));
    for (const row of await rows(all)) {
      expect(row.active).toBe(true);
      expect(Number(row.silent_ms)).toBeLessThan(TIMEOUT_MS);
    }
    expect(await wentInactive(all)).toBe('0');

    // The beat is shared: stopping one simulation must not silence the other's devices.
    expect((await call(api, 'DELETE', `/simulations/${a.body.id}`, ADMIN)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 2.5 * TIMEOUT_MS));
    for (const row of await rows(idsOf(b))) {
      expect(row.active).toBe(true);
      expect(Number(row.silent_ms)).toBeLessThan(TIMEOUT_MS);
    }
    expect(await wentInactive(idsOf(b))).toBe('0');
    expect((await rows(idsOf(a))).map((r) => r.active)).toEqual([false, false]);

    // Once the last simulation stops the beat stops too, and a new simulation starts it again.
    expect((await call(api, 'DELETE', `/simulations/${b.body.id}`, ADMIN)).status).toBe(204);
    const c = await call(api, 'POST', '/simulations', ADMIN, { devices: 1 });
    await new Promise((r) => setTimeout(r, 2.5 * TIMEOUT_MS));
    expect((await rows(idsOf(c))).map((r) => r.active)).toEqual([true]);
    expect(await wentInactive(idsOf(c))).toBe('0');
  }, 60_000);
});
