import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import { DEVICES_NAMESPACE, type SimulationView } from '@ddnn/contracts';
import { connectSocket, createTestDatabase, repoRoot, type TestDatabase } from '@ddnn/testing';

export { createTestDatabase, type TestDatabase };
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/config';
import { DeviceTransport } from '../../src/devices/transport/device-transport';
import { writeSmallDataset, writeUntrainedCheckpoint } from './test-fixtures';

/** A running API on a fresh test database, for the device-platform integration tests. */
export interface TestApi {
  app: INestApplication;
  url: string;
  dataDir: string;
  db: TestDatabase;
  /** Runs SQL on the test database. */
  sql<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Starts the whole application on a random port with its own data folder and database (or a shared one: a second node). */
export async function startTestApi(env: Record<string, string> = {}, shared?: TestDatabase): Promise<TestApi> {
  const db = shared ?? (await createTestDatabase());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ddnn-devices-'));
  const config = loadConfig({
    DATABASE_URL: db.url,
    DDNN_DATA_DIR: dataDir,
    DDNN_DASHBOARD_DIR: path.join(dataDir, 'no-dashboard'),
    DDNN_DEFAULT_MODEL_DIR: path.join(dataDir, 'no-model'),
    DDNN_DEMO: 'false',
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    ...env,
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const client = new Client({ connectionString: db.url });
  await client.connect();
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    dataDir,
    db,
    sql: async <T>(text: string, values?: unknown[]) => (await client.query(text, values)).rows as T[],
    close: async () => {
      await client.end();
      await app.close();
      if (!shared) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** fetch against the API with an optional bearer token; returns status and parsed JSON body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read loosely typed JSON bodies
export async function call<T = any>(api: TestApi, method: string, route: string, token?: string | null, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${api.url}/api${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * A stream of models/default (registered as `default` unless it is) over a simulation of `devices` scene cameras (seed `seed`),
 * created as `admin` with what `stream` adds or overrides (rate, policy, mode, ...); returns its id.
 */
export async function startSimulatedStream(
  api: TestApi,
  admin: string,
  opts: { devices: number; seed: number; stream: Record<string, unknown>; simulation?: Record<string, unknown> },
): Promise<string> {
  const registered = await call(api, 'POST', '/models', admin, { path: path.join(repoRoot, 'models', 'default'), id: 'default' });
  // 409: an earlier stream of the test registered it.
  if (registered.status !== 201 && registered.status !== 409) throw new Error(`registering models/default: ${registered.status} ${JSON.stringify(registered.body)}`);
  const sim = (await call<SimulationView>(api, 'POST', '/simulations', admin, { devices: opts.devices, source: 'scene', scene: { seed: opts.seed }, ...opts.simulation })).body;
  const created = await call<{ id: string }>(api, 'POST', '/streams', admin, {
    modelId: 'default',
    topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
    policy: { kind: 'entropy', thresholds: { local: 0.5 } },
    deadlineMs: 5000,
    simulationId: sim.id,
    ...opts.stream,
  });
  if (created.status !== 201) throw new Error(`creating the stream: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}

/** A test API with a device profile and an untrained model `m1` over a small dataset: ready for devices to connect and serve. */
export async function startDeviceTestApi(admin: string, env: Record<string, string> = {}): Promise<{ api: TestApi; profileKey: string }> {
  const api = await startTestApi({ DDNN_ADMIN_TOKEN: admin, ...env });
  const profileKey = (await call(api, 'POST', '/profiles', admin, { name: 'cams' })).body.provisioningKey as string;
  await writeUntrainedCheckpoint(path.join(api.dataDir, 'models', 'm1'));
  await writeSmallDataset(api.dataDir);
  const registered = await call(api, 'POST', '/models', admin, { path: path.join(api.dataDir, 'models', 'm1'), id: 'm1' });
  if (registered.status !== 201) throw new Error(`registering the test model: ${registered.status} ${JSON.stringify(registered.body)}`);
  return { api, profileKey };
}

/** Provisions an end device on `view` with the profile key: its id and token. */
export async function provisionDevice(api: TestApi, profileKey: string, name: string, view: number): Promise<{ deviceId: string; token: string }> {
  return (await call(api, 'POST', '/devices/provision', null, { name, profileKey, role: 'end-device', view })).body as { deviceId: string; token: string };
}

/** A spec's device test API (started in beforeAll, closed with its sockets in afterAll), and how to provision and connect devices to it. */
export interface DeviceTestFixture {
  readonly api: TestApi;
  readonly transport: DeviceTransport;
  provision(name: string, view: number): Promise<{ deviceId: string; token: string }>;
  /** A socket on the /devices namespace with `token`, and the device id an agent names with it (closed after the spec). */
  connect(token: unknown, deviceId?: unknown): Promise<Socket>;
}

export function useDeviceTestApi(admin: string, env: Record<string, string> = {}): DeviceTestFixture {
  let api: TestApi | undefined;
  let profileKey = '';
  const sockets: Socket[] = [];
  beforeAll(async () => {
    ({ api, profileKey } = await startDeviceTestApi(admin, env));
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await api?.close();
  });
  const started = (): TestApi => {
    if (!api) throw new Error('the device test API is not started (use the fixture inside tests)');
    return api;
  };
  return {
    get api() {
      return started();
    },
    get transport() {
      return started().app.get(DeviceTransport);
    },
    provision: (name, view) => provisionDevice(started(), profileKey, name, view),
    connect: async (token, deviceId) => {
      const s = await connectSocket(`${started().url}${DEVICES_NAMESPACE}`, deviceId === undefined ? { token } : { token, deviceId });
      sockets.push(s);
      return s;
    },
  };
}
