import { io, type Socket } from 'socket.io-client';
import { DEVICES_NAMESPACE, DeviceEvents, type DeviceHistoryEntry } from '@ddnn/contracts';
import { waitFor } from '@ddnn/testing';
import { NodePresence } from '../database/node-presence';
import { DevicesRepository } from './devices.repository';
import { call, createTestDatabase, startTestApi, type TestApi, type TestDatabase } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';

/** The DeviceDisconnected reasons of a device's history, oldest first. */
async function disconnects(api: TestApi, deviceId: string): Promise<string[]> {
  const history = (await call<DeviceHistoryEntry[]>(api, 'GET', `/devices/${deviceId}/history`, ADMIN)).body;
  return history
    .filter((e) => e.type === 'DeviceDisconnected')
    .map((e) => String(e.data.reason))
    .reverse();
}

// Two API nodes on one database without Redis: a node starting up tells a running node's devices (left alone) from
// those of a node that is gone (released), by the nodes' presence locks.
describe('devices of running and stopped nodes at start-up (NodePresence, real Postgres)', () => {
  let db: TestDatabase;
  let a: TestApi | undefined;
  let b: TestApi | undefined;
  let socket: Socket | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    socket?.disconnect();
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  it("leaves a running node's devices connected, and releases a stopped node's", async () => {
    a = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_NODE_ID: 'node-a' }, db);
    const key = (await call(a, 'POST', '/profiles', ADMIN, { name: 'presence' })).body.provisioningKey;
    const live = (await call(a, 'POST', '/devices/provision', null, { name: 'live-cam', profileKey: key, role: 'end-device', view: 0 })).body;
    const orphan = (await call(a, 'POST', '/devices/provision', null, { name: 'orphan-cam', profileKey: key, role: 'end-device', view: 1 })).body;
    socket = io(`${a.url}${DEVICES_NAMESPACE}`, { auth: { token: live.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    socket.on(DeviceEvents.infer, (_p: unknown, ack: (r: unknown) => void) => ack({ ok: false, error: 'not deployed' }));
    await new Promise<void>((resolve, reject) => {
      socket?.once('connect', () => resolve());
      socket?.once('connect_error', reject);
    });
    await waitFor('node A to mark its device active', async () => (await call(a as TestApi, 'GET', `/devices/${live.deviceId}`, ADMIN)).body.connectivity?.active === true);
    // A node that died holding a device: its row still says active, and no process holds node-gone's presence.
    await a.sql(`UPDATE devices SET active = true, node = 'node-gone', last_activity_at = now() WHERE id = $1`, [orphan.deviceId]);
    const seenByA = await a.app.get(NodePresence).present(['node-a', 'node-gone', 'node-b']);
    expect({ nodes: [...seenByA.nodes].sort(), settled: seenByA.settled }).toEqual({ nodes: ['node-a'], settled: true });

    b = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_NODE_ID: 'node-b' }, db);
    expect([...(await b.app.get(NodePresence).present(['node-a', 'node-gone'])).nodes].sort()).toEqual(['node-a', 'node-b']);
    // Node B started: the live device is still node A's, connected, with no disconnect logged (it used to be marked
    // disconnected with "server restarted" by any node starting without Redis).
    expect((await call(b, 'GET', `/devices/${live.deviceId}`, ADMIN)).body.connectivity).toMatchObject({ active: true, node: 'node-a' });
    expect(await disconnects(b, live.deviceId)).toEqual([]);
    expect((await call(b, 'GET', `/devices/${orphan.deviceId}`, ADMIN)).body.connectivity).toMatchObject({ active: false, node: null });
    expect(await disconnects(b, orphan.deviceId)).toEqual(['its API node node-gone stopped']);
    // A row is released only as it was read: one that connected again since is not.
    const rows = b.app.get(DevicesRepository);
    await b.sql(`UPDATE devices SET active = true, node = 'node-gone', last_connect_at = now() WHERE id = $1`, [orphan.deviceId]);
    expect(await rows.releaseIfUnchanged(orphan.deviceId, 'node-gone', new Date(Date.now() - 60_000))).toBe(false);
    await b.sql(`UPDATE devices SET active = false, node = NULL WHERE id = $1`, [orphan.deviceId]);

    // A second process given node A's name: it knows it shares it, and leaves that name's devices alone.
    const twin = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_NODE_ID: 'node-a' }, db);
    try {
      expect(twin.app.get(NodePresence).shadowed).toBe(true);
      expect((await call(twin, 'GET', `/devices/${live.deviceId}`, ADMIN)).body.connectivity).toMatchObject({ active: true, node: 'node-a' });
      expect(await disconnects(twin, live.deviceId)).toEqual([]);
    } finally {
      await twin.close();
    }

    // Node B's presence connection is cut (as a database restart cuts every node's): it takes its lock back, and for a
    // while it does not trust that a node absent from pg_locks is dead (it may not have taken its own back yet).
    await b.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ddnn-node-node-b' AND datname = current_database()`);
    await waitFor('node B to hold its presence again, unsettled', async () => {
      const p = await (b as TestApi).app.get(NodePresence).present([]);
      const held = await (b as TestApi).sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ddnn-node-node-b' AND datname = current_database()`);
      return held[0].n === 1 && !p.settled;
    });

    // Node A stops for good without logging its devices' disconnection (as if killed): its presence goes with its
    // connection, and the next node to start releases its device.
    await a.sql(`UPDATE devices SET active = true, node = 'node-a' WHERE id = $1`, [live.deviceId]);
    socket.disconnect();
    await a.close();
    a = undefined;
    await b.sql(`UPDATE devices SET active = true, node = 'node-a' WHERE id = $1`, [live.deviceId]);
    // A node whose own lock is not on the server it asks (its connection gone unnoticed, a standby promoted) does not
    // trust what pg_locks says of the others.
    const presenceOfB = b.app.get(NodePresence);
    await presenceOfB.onModuleDestroy();
    expect((await presenceOfB.present([])).settled).toBe(false);
    await b.close();
    b = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_NODE_ID: 'node-b' }, db);
    expect((await call(b, 'GET', `/devices/${live.deviceId}`, ADMIN)).body.connectivity).toMatchObject({ active: false, node: null });
    expect((await disconnects(b, live.deviceId)).at(-1)).toBe('its API node node-a stopped');
  }, 120_000);
});
