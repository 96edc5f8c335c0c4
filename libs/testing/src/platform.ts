import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { answersSample, type CreateSessionRequest, type DeviceList, type DeviceView, type SessionEventsPage, type SessionView, type StoredEvent } from '@ddnn/contracts';
import { waitFor } from './polling';
import { type ApiProcess, cliMain, deviceMain, repoRoot, type RunningProcess, startApi, startNode, tempDir } from './processes';
import { createTestDatabase } from './test-database';
import { POLL_TIMEOUT_MS, RUN_TIMEOUT_MS } from './timeouts';

/** The dataset e2e sessions run on: the CLI's synthetic multi-camera dataset (the demo's). */
export const E2E_DATASET = 'synthetic-multicam-seed1';

/** Anything served over HTTP at `url` (a started API process, or one of the API's in-process test apps). */
export interface HasUrl {
  url: string;
}

/** REST calls to a platform node as the operator (bearer token, JSON in and out). */
export interface OperatorClient {
  /** The raw response, whatever its status. */
  request(node: HasUrl, method: string, route: string, body?: unknown): Promise<Response>;
  /** The parsed JSON body of a 2xx; anything else throws with the status and body. */
  call<T>(node: HasUrl, method: string, route: string, body?: unknown): Promise<T>;
}

export function operatorClient(token: string): OperatorClient {
  const send = (node: HasUrl, method: string, route: string, body?: unknown) =>
    fetch(`${node.url}${route}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  // A kept-alive connection the server closes as it is reused fails the request ("other side closed"): a read is
  // sent once more on a fresh connection; a dead server fails that one too.
  const request = (node: HasUrl, method: string, route: string, body?: unknown) =>
    send(node, method, route, body).catch((e: unknown) => {
      if (method !== 'GET' || !(e instanceof TypeError)) throw e;
      return send(node, method, route, body);
    });
  return {
    request,
    call: async <T>(node: HasUrl, method: string, route: string, body?: unknown): Promise<T> => {
      const res = await request(node, method, route, body);
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    },
  };
}

/** Writes the CLI's synthetic dataset to `<dataDir>/datasets/<name>` (with the built CLI, as a user would). */
export function synthDataset(dataDir: string, name = E2E_DATASET): string {
  const out = path.join(dataDir, 'datasets', name);
  execFileSync(process.execPath, [cliMain, 'dataset', 'synth', '--out', out], { cwd: repoRoot, stdio: 'ignore' });
  return out;
}

/** Waits until `count` devices matching `query` (a GET /api/devices query string) are active; resolves with them. */
export function waitForDevices(op: OperatorClient, node: HasUrl, count: number, query = 'simulated=true', timeoutMs = POLL_TIMEOUT_MS): Promise<DeviceView[]> {
  return waitFor(`${count} active devices (${query})`, async () => {
    const list = await op.call<DeviceList>(node, 'GET', `/api/devices?active=true&limit=50&${query}`);
    const up = list.items.filter((d) => d.connectivity.active);
    return up.length === count ? up : undefined;
  }, timeoutMs);
}

/** A research session over the e2e dataset's test split on these devices (each on its own view). */
export function researchSession(devices: Pick<DeviceView, 'id' | 'view'>[], over: Partial<CreateSessionRequest> = {}): CreateSessionRequest {
  return {
    modelId: 'default',
    dataset: E2E_DATASET,
    split: 'test',
    topology: { devices: devices.map((d) => ({ deviceId: d.id, view: d.view as number })) },
    policy: { kind: 'entropy', thresholds: { local: 0.8 } },
    mode: 'research',
    deadlineMs: 3000,
    ...over,
  };
}

/** Polls a session until it completes; a session that fails or is stopped throws with its error. */
export function waitForSessionCompleted(op: OperatorClient, node: HasUrl, id: string, timeoutMs = RUN_TIMEOUT_MS): Promise<SessionView> {
  return waitFor('the session to complete', async () => {
    const v = await op.call<SessionView>(node, 'GET', `/api/sessions/${id}`);
    if (v.status === 'failed' || v.status === 'stopped') throw new Error(`session ended ${v.status}: ${v.error}`);
    return v.status === 'completed' ? v : undefined;
  }, timeoutMs);
}

/** Polls a session until it has done at least `samples` samples. */
export function waitForSamples(op: OperatorClient, node: HasUrl, id: string, samples: number, timeoutMs = RUN_TIMEOUT_MS): Promise<SessionView> {
  return waitFor(`${samples} samples done`, async () => {
    const v = await op.call<SessionView>(node, 'GET', `/api/sessions/${id}`);
    return v.samplesDone >= samples ? v : undefined;
  }, timeoutMs);
}

/** A run's log as the REST API pages it (GET <route>/events?after=), all of it or after a checkpoint. */
export async function readRunEvents(op: OperatorClient, node: HasUrl, route: string, from: string | null = null): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let after = from ?? undefined; ; ) {
    const page = await op.call<SessionEventsPage>(node, 'GET', `${route}/events?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    events.push(...page.events);
    after = page.checkpoint ?? undefined;
    if (!page.hasMore) break;
  }
  return events;
}

/** A session's whole log. */
export const readSessionEvents = (op: OperatorClient, node: HasUrl, id: string) => readRunEvents(op, node, `/api/sessions/${id}`);

/** The answering exit of each sample: final (not shadow) ExitDecided events that exited. */
export function answeringExits(events: StoredEvent[]): Extract<StoredEvent, { type: 'ExitDecided' }>[] {
  return events.filter((e): e is Extract<StoredEvent, { type: 'ExitDecided' }> => e.type === 'ExitDecided' && answersSample(e.data));
}

/** Starts a built device agent (`apps/device`) provisioning itself with a profile key; its state file goes in `stateDir`. */
export function startAgent(opts: { server: string; profileKey: string; name: string; view: number; stateDir: string; args?: string[] }): RunningProcess {
  return startNode(
    deviceMain,
    [
      '--server', opts.server, '--profile-key', opts.profileKey, '--name', opts.name, '--view', String(opts.view),
      '--state', path.join(opts.stateDir, `${opts.name}.json`), '--heartbeat-ms', '1000', ...(opts.args ?? []),
    ],
    {},
  );
}

/** Connects a socket.io client to `url` (a server's origin plus namespace); resolves once connected, rejects with the handshake error. */
export function connectSocket(url: string, auth: Record<string, unknown>, options: { reconnection?: boolean } = {}): Promise<Socket> {
  const socket = io(url, { auth, transports: ['websocket'], reconnection: options.reconnection ?? false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => {
      if (!(options.reconnection ?? false)) socket.close();
      reject(e);
    });
  });
}

/** Peak resident memory of a process so far, in bytes (Linux /proc). */
export function peakRss(pid: number | undefined): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** The checkpoint e2e sessions run: E2E_MODEL_DIR when set, else the committed default model. */
export function e2eModelDir(): string {
  const dir = process.env.E2E_MODEL_DIR ? path.resolve(process.env.E2E_MODEL_DIR) : path.join(repoRoot, 'models', 'default');
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new Error(`no checkpoint at ${dir}: set E2E_MODEL_DIR or restore models/default (see models/README.md)`);
  }
  return dir;
}

/** One e2e platform: a fresh database (or the test's own server), a work folder, and the API nodes started on them. */
export interface Platform {
  /** The database the nodes share (dropped at teardown when the platform created it). */
  databaseUrl: string;
  work: string;
  /** DDNN_DATA_DIR of the nodes (`<work>/data`). */
  dataDir: string;
  /** The environment every node starts with. */
  env: Record<string, string | undefined>;
  /** Every node started so far (killed at teardown). */
  nodes: ApiProcess[];
  /** Starts one more API node with the platform's environment and `extra` over it. */
  start(extra?: Record<string, string | undefined>): Promise<ApiProcess>;
  /** Kills every node, drops the database it created, deletes the work folder. */
  teardown(): Promise<void>;
}

export interface PlatformOptions {
  /** Names the work folder. */
  name: string;
  token: string;
  /** An existing server's database (e.g. the test's own PostgreSQL); else a fresh test database. */
  databaseUrl?: string;
  /** Writes the CLI's synthetic dataset into the data folder (default true). */
  dataset?: boolean;
  /** More environment for every node (over the defaults: the e2e model, 200 ms session poll, no demo). */
  env?: Record<string, string | undefined>;
}

/** Boots the shared parts of an e2e platform; nodes are started with `platform.start()`. */
export async function bootPlatform(options: PlatformOptions): Promise<Platform> {
  const db = options.databaseUrl ? null : await createTestDatabase();
  const work = tempDir(`ddnn-e2e-${options.name}-`);
  const dataDir = path.join(work, 'data');
  if (options.dataset ?? true) synthDataset(dataDir);
  const databaseUrl = db?.url ?? (options.databaseUrl as string);
  const nodes: ApiProcess[] = [];
  const platform: Platform = {
    databaseUrl,
    work,
    dataDir,
    env: {
      DATABASE_URL: databaseUrl,
      DDNN_DATA_DIR: dataDir,
      DDNN_DEFAULT_MODEL_DIR: e2eModelDir(),
      DDNN_ADMIN_TOKEN: options.token,
      DDNN_DEMO: 'false',
      DDNN_SESSION_POLL_MS: '200',
      ...options.env,
    },
    nodes,
    async start(extra = {}) {
      const node = await startApi({ ...platform.env, ...extra });
      nodes.push(node);
      return node;
    },
    async teardown() {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      await db?.drop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
  return platform;
}
