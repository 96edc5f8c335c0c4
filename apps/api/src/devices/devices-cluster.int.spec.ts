import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { DEVICES_NAMESPACE, DeviceEvents } from '@ddnn/contracts';
import { freePort, waitFor } from '@ddnn/testing';
import { DeviceTransport } from './transport/device-transport';
import { call, createTestDatabase, startTestApi, type TestApi, type TestDatabase } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';

// Two API nodes on one database and one Redis (a real redis-server process): a device connected to node A
// is reachable through node B's DeviceTransport.
describe('two API nodes behind the Redis adapter', () => {
  let redis: ChildProcess;
  let db: TestDatabase;
  let a: TestApi;
  let b: TestApi;
  let socket: Socket | undefined;

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor('redis to listen', () => new Promise<boolean>((r) => net.connect(port, '127.0.0.1').on('connect', function (this: net.Socket) { this.destroy(); r(true); }).on('error', () => r(false))));
    db = await createTestDatabase();
    const env = { DDNN_ADMIN_TOKEN: ADMIN, REDIS_URL: `redis://127.0.0.1:${port}` };
    a = await startTestApi({ ...env, DDNN_NODE_ID: 'node-a' }, db);
    b = await startTestApi({ ...env, DDNN_NODE_ID: 'node-b' }, db);
  }, 120_000);
  afterAll(async () => {
    socket?.disconnect();
    await b?.close();
    await a?.close();
    await db?.drop();
    redis?.kill('SIGTERM');
  });

  it('routes requests to the node holding the socket and lists the device on both nodes', async () => {
    const key = (await call(a, 'POST', '/profiles', ADMIN, { name: 'cluster' })).body.provisioningKey;
    const d = (await call(b, 'POST', '/devices/provision', null, { name: 'far-cam', profileKey: key, role: 'end-device', view: 2 })).body;
    socket = io(`${a.url}${DEVICES_NAMESPACE}`, { auth: { token: d.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    socket.on(DeviceEvents.infer, (p: { sampleIndex: number }, ack: (r: unknown) => void) => ack({ ok: true, features: new Uint8Array([p.sampleIndex, 7]), latencyMs: 0.5 }));
    await new Promise<void>((resolve, reject) => {
      socket?.once('connect', () => resolve());
      socket?.once('connect_error', reject);
    });
    const viaB = b.app.get(DeviceTransport);
    const listed = await waitFor('node B to see the device', async () => (await viaB.connectedDevices()).find((c) => c.deviceId === d.deviceId));
    expect(listed).toMatchObject({ name: 'far-cam', view: 2, kind: 'socket' });
    const reply = await viaB.request(d.deviceId, { stage: 'features', sessionId: 's', sampleIndex: 5 }, 5000);
    expect(reply).toMatchObject({ ok: true, latencyMs: 0.5 });
    expect([...(reply as { features: Uint8Array }).features]).toEqual([5, 7]);
    const row = (await call(b, 'GET', `/devices/${d.deviceId}`, ADMIN)).body;
    expect(row.connectivity).toMatchObject({ active: true, node: 'node-a' });
    await expect(viaB.request('00000000-0000-0000-0000-000000000000', { stage: 'features', sessionId: 's', sampleIndex: 0 }, 2000)).rejects.toMatchObject({ reason: 'not-connected' });
  });
});
