import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { streamIds } from '@ddnn/contracts';
import { waitFor } from '@ddnn/testing';
import { Database } from '../database/database';
import { DevicesService } from './devices.service';
import { call, createTestDatabase, startTestApi, type TestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';

describe('device registration and operator auth (real Postgres)', () => {
  let api: TestApi;
  let profileKey: string;

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN });
    const created = await call(api, 'POST', '/profiles', ADMIN, { name: 'cameras', description: 'six cameras' });
    expect(created.status).toBe(201);
    profileKey = created.body.provisioningKey;
  });
  afterAll(() => api.close());

  const provision = (name: string, view = 0) => call(api, 'POST', '/devices/provision', null, { name, profileKey, role: 'end-device', view, capabilities: { binary: true } });

  it('operator endpoints need the operator token', async () => {
    expect((await call(api, 'GET', '/devices')).status).toBe(401);
    expect((await call(api, 'GET', '/devices', 'not-a-token')).status).toBe(401);
    expect((await call(api, 'GET', '/devices', ADMIN)).status).toBe(200);
    expect((await call(api, 'POST', '/profiles', null, { name: 'x' })).status).toBe(401);
  });

  it('provisions a device with its profile key, stores only the token hash and logs DeviceRegistered', async () => {
    const r = await provision('cam-0', 0);
    expect(r.status).toBe(201);
    expect(r.body.token).toMatch(/^ddnn_dev_/);
    const [row] = await api.sql<{ token_hash: string }>('SELECT token_hash FROM devices WHERE id = $1', [r.body.deviceId]);
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.token_hash).not.toContain(r.body.token);
    const events = await api.sql<{ type: string; data: { name: string; view: number; simulated: boolean } }>(
      'SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_position',
      [`device-${r.body.deviceId}`],
    );
    expect(events).toEqual([{ type: 'DeviceRegistered', data: expect.objectContaining({ name: 'cam-0', view: 0, simulated: false }) }]);
    const got = await call(api, 'GET', `/devices/${r.body.deviceId}`, ADMIN);
    expect(got.body).toMatchObject({ id: r.body.deviceId, name: 'cam-0', role: 'end-device', view: 0, adminState: 'unlocked', hasToken: true });
    expect(got.body.connectivity).toEqual({ active: false, node: null, lastConnectAt: null, lastDisconnectAt: null, lastActivityAt: null });
    expect(JSON.stringify(got.body)).not.toContain('hash');
  });

  it('a name belongs to one device: provisioning or renaming onto a taken name is a 409', async () => {
    const first = await provision('dup-cam', 1);
    expect(first.status).toBe(201);
    const again = await provision('dup-cam', 2);
    expect(again.status).toBe(409);
    expect(again.body.message).toBe('a device named dup-cam is already registered: choose another name, or delete that device first');
    const other = await provision('dup-cam-2', 2);
    expect((await call(api, 'PATCH', `/devices/${other.body.deviceId}`, ADMIN, { name: 'dup-cam' })).status).toBe(409);
    // Its own name, or a free one, is fine; a deleted device's name is free again.
    expect((await call(api, 'PATCH', `/devices/${first.body.deviceId}`, ADMIN, { name: 'dup-cam', tags: ['a'] })).status).toBe(200);
    expect((await call(api, 'DELETE', `/devices/${first.body.deviceId}`, ADMIN)).status).toBe(204);
    expect((await call(api, 'PATCH', `/devices/${other.body.deviceId}`, ADMIN, { name: 'dup-cam' })).status).toBe(200);
    expect((await provision('dup-cam-2', 2)).status).toBe(201);
    expect((await api.sql<{ n: string }>("SELECT count(*) AS n FROM devices WHERE name LIKE 'dup-cam%'"))[0].n).toBe('2');
  });

  it('refuses a wrong provisioning key and invalid bodies', async () => {
    expect((await call(api, 'POST', '/devices/provision', null, { name: 'x', profileKey: 'nope', role: 'end-device', view: 1 })).status).toBe(401);
    const missingView = await call(api, 'POST', '/devices/provision', null, { name: 'x', profileKey, role: 'end-device' });
    expect(missingView.status).toBe(400);
    const extra = await call(api, 'POST', '/devices/provision', null, { name: 'x', profileKey, role: 'end-device', view: 1, admin: true });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.body)).toMatch(/admin should not exist/);
    expect((await call(api, 'POST', '/devices/provision', null, { name: 'x', profileKey, role: 'server', view: 1 })).status).toBe(400);
  });

  it('a device token acts only as its own device and cannot call operator endpoints', async () => {
    const a = (await provision('cam-a', 1)).body;
    const b = (await provision('cam-b', 2)).body;
    expect((await call(api, 'GET', `/devices/${a.deviceId}`, a.token)).status).toBe(200);
    expect((await call(api, 'GET', `/devices/${b.deviceId}`, a.token)).status).toBe(403);
    expect((await call(api, 'GET', '/devices', a.token)).status).toBe(403);
    expect((await call(api, 'PATCH', `/devices/${a.deviceId}`, a.token, { adminState: 'unlocked' })).status).toBe(403);
    expect((await call(api, 'POST', '/profiles', a.token, { name: 'evil' })).status).toBe(403);
    expect((await call(api, 'POST', `/devices/${a.deviceId}/revoke-token`, a.token)).status).toBe(403);
  });

  it('rotation: the new token works at once and the old one stops', async () => {
    const d = (await provision('cam-r', 3)).body;
    const rotated = await call(api, 'POST', `/devices/${d.deviceId}/rotate-token`, d.token);
    expect(rotated.status).toBe(201);
    expect(rotated.body.token).not.toBe(d.token);
    expect((await call(api, 'GET', `/devices/${d.deviceId}`, d.token)).status).toBe(401);
    expect((await call(api, 'GET', `/devices/${d.deviceId}`, rotated.body.token)).status).toBe(200);
  });

  it('revocation: the token stops working until the operator rotates it', async () => {
    const d = (await provision('cam-v', 4)).body;
    const revoked = await call(api, 'POST', `/devices/${d.deviceId}/revoke-token`, ADMIN);
    expect(revoked.status).toBe(200);
    expect(revoked.body.hasToken).toBe(false);
    expect((await call(api, 'GET', `/devices/${d.deviceId}`, d.token)).status).toBe(401);
    const again = await call(api, 'POST', `/devices/${d.deviceId}/rotate-token`, ADMIN);
    expect((await call(api, 'GET', `/devices/${d.deviceId}`, again.body.token)).status).toBe(200);
  });

  it('a locked device is refused; unlocking restores it', async () => {
    const d = (await provision('cam-l', 5)).body;
    const locked = await call(api, 'PATCH', `/devices/${d.deviceId}`, ADMIN, { adminState: 'locked' });
    expect(locked.status).toBe(200);
    expect(locked.body.adminState).toBe('locked');
    const refused = await call(api, 'GET', `/devices/${d.deviceId}`, d.token);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/locked/);
    await call(api, 'PATCH', `/devices/${d.deviceId}`, ADMIN, { adminState: 'unlocked' });
    expect((await call(api, 'GET', `/devices/${d.deviceId}`, d.token)).status).toBe(200);
  });

  it('operators update role and view, with checks', async () => {
    const d = (await provision('cam-u', 0)).body;
    expect((await call(api, 'PATCH', `/devices/${d.deviceId}`, ADMIN, { view: 3 })).body.view).toBe(3);
    expect((await call(api, 'PATCH', `/devices/${d.deviceId}`, ADMIN, { role: 'edge', view: null })).body).toMatchObject({ role: 'edge', view: null });
    expect((await call(api, 'PATCH', `/devices/${d.deviceId}`, ADMIN, { role: 'end-device' })).status).toBe(400);
    expect((await call(api, 'PATCH', `/devices/${d.deviceId}`, ADMIN, { adminState: 'maybe' })).status).toBe(400);
    expect((await call(api, 'PATCH', '/devices/00000000-0000-0000-0000-000000000000', ADMIN, { view: 1 })).status).toBe(404);
  });

  it('lists devices with pagination and filters', async () => {
    for (let i = 0; i < 3; i++) await provision(`page-${i}`, i);
    const all = await call(api, 'GET', '/devices?limit=2&offset=0&name=page-', ADMIN);
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.items).toHaveLength(2);
    const rest = await call(api, 'GET', '/devices?limit=2&offset=2&name=page-', ADMIN);
    expect(rest.body.items).toHaveLength(1);
    const names = [...all.body.items, ...rest.body.items].map((d: { name: string }) => d.name).sort();
    expect(names).toEqual(['page-0', 'page-1', 'page-2']);
    const edges = await call(api, 'GET', '/devices?role=edge', ADMIN);
    expect(edges.body.items.every((d: { role: string }) => d.role === 'edge')).toBe(true);
    const inactive = await call(api, 'GET', '/devices?active=false&limit=500', ADMIN);
    expect(inactive.body.total).toBeGreaterThanOrEqual(3);
    expect((await call(api, 'GET', '/devices?limit=0', ADMIN)).status).toBe(400);
    expect((await call(api, 'GET', '/devices?active=perhaps', ADMIN)).status).toBe(400);
  });

  it("serves the device_statuses projection's counters on the list and the device, once it caught up with the device's events", async () => {
    const d = (await provision('cam-log', 5)).body;
    const devices = api.app.get(DevicesService);
    await devices.connected(d.deviceId, '127.0.0.1');
    await devices.disconnected(d.deviceId, 'socket closed');
    await devices.connected(d.deviceId, '127.0.0.1');
    const sessionId = 'projection-session';
    const answer = (sampleIndex: number, shadow: boolean) => ({
      type: 'SectionEvaluated' as const,
      data: { sessionId, sampleIndex, tier: 'device' as const, node: d.deviceId, view: 5, probabilities: [0.5, 0.5], entropy: 1, latencyMs: 3, shadow },
    });
    await api.app.get(Database).store.appendToStream(streamIds.session(sessionId), [
      answer(0, false),
      answer(0, true),
      answer(1, false),
      { type: 'DeviceMissed', data: { sessionId, sampleIndex: 2, deviceId: d.deviceId, view: 5, stage: 'scores', deadlineMs: 50, reason: 'timeout' } },
      { type: 'DeviceMissed', data: { sessionId, sampleIndex: 3, deviceId: d.deviceId, view: 5, stage: 'scores', deadlineMs: 50, reason: 'skipped' } },
    ]);
    // The skipped capture is not a miss: the miss rate is 1 of 3 requests, as device_miss_rate counts it.
    const expected = { answered: 2, missed: 1, notCaptured: 1, missRate: 1 / 3, connects: 2, disconnects: 1, lastDisconnectReason: 'socket closed' };
    const listed = await waitFor('the list to show the projected counters', async () => {
      const items = (await call(api, 'GET', '/devices?name=cam-log', ADMIN)).body.items as { id: string; log: unknown }[];
      const item = items.find((x) => x.id === d.deviceId);
      return item && JSON.stringify(item.log) === JSON.stringify(expected) ? item : null;
    }, 10_000, 50);
    expect(listed.log).toEqual(expected);
    expect((await call(api, 'GET', `/devices/${d.deviceId}`, ADMIN)).body.log).toEqual(expected);
  });

  it('rotating a profile key invalidates the old key', async () => {
    const p = await call(api, 'POST', '/profiles', ADMIN, { name: 'rotating' });
    const next = await call(api, 'POST', `/profiles/${p.body.id}/rotate-key`, ADMIN);
    const old = await call(api, 'POST', '/devices/provision', null, { name: 'x', profileKey: p.body.provisioningKey, role: 'edge' });
    expect(old.status).toBe(401);
    const ok = await call(api, 'POST', '/devices/provision', null, { name: 'x', profileKey: next.body.provisioningKey, role: 'edge' });
    expect(ok.status).toBe(201);
    expect((await call(api, 'POST', '/profiles', ADMIN, { name: 'rotating' })).status).toBe(409);
  });

  it('documents the device endpoints in OpenAPI', async () => {
    const doc = await fetch(`${api.url}/api/docs-json`).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/devices/provision', '/api/devices', '/api/devices/{id}', '/api/devices/{id}/rotate-token', '/api/profiles', '/api/models', '/api/simulations']),
    );
  });
});

describe('generated operator token (DDNN_ADMIN_TOKEN unset)', () => {
  let api: TestApi;
  beforeAll(async () => (api = await startTestApi()));
  afterAll(() => api.close());

  it('is written to <DDNN_DATA_DIR>/admin-token, stored only as a hash, and works', async () => {
    const token = readFileSync(path.join(api.dataDir, 'admin-token'), 'utf8').trim();
    expect(token).toMatch(/^ddnn_admin_/);
    const rows = await api.sql<{ token_hash: string }>('SELECT token_hash FROM operator_credentials');
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toContain(token);
    expect((await call(api, 'GET', '/devices', token)).status).toBe(200);
    expect((await call(api, 'GET', '/devices', `${token}x`)).status).toBe(401);
  });
});

describe('start-up after a crash (one node)', () => {
  it('marks devices a previous run left active as disconnected', async () => {
    const db = await createTestDatabase();
    try {
      const first = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN }, db);
      const key = (await call(first, 'POST', '/profiles', ADMIN, { name: 'p' })).body.provisioningKey;
      const d = (await call(first, 'POST', '/devices/provision', null, { name: 'ghost', profileKey: key, role: 'edge' })).body;
      await first.close();
      // What a killed node leaves behind: the row still says connected.
      const c = new Client({ connectionString: db.url });
      await c.connect();
      await c.query("UPDATE devices SET active = true, node = 'crashed-node', last_activity_at = now() WHERE id = $1", [d.deviceId]);
      await c.end();
      const second = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN }, db);
      try {
        expect((await call(second, 'GET', `/devices/${d.deviceId}`, ADMIN)).body.connectivity).toMatchObject({ active: false, node: null });
        const events = await second.sql<{ type: string; data: { reason: string } }>('SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_position', [`device-${d.deviceId}`]);
        expect(events.map((e) => e.type)).toEqual(['DeviceRegistered', 'DeviceDisconnected']);
        // The default node id is host-pid: a node restarted is another name, and one no process holds.
        expect(events[1].data.reason).toBe('its API node crashed-node stopped');
      } finally {
        await second.close();
      }
    } finally {
      await db.drop();
    }
  });
});
