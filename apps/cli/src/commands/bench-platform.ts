import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { DeviceList } from '@ddnn/contracts';
import { writeSynthDataset } from '@ddnn/datasets';
import { log } from '../log';
import { repoRoot } from './repo-root';

// The platform the benchmarks boot (bench session, stream, faults): a built API on a fresh database with
// simulated devices, and the process CPU counters they measure it by. What each bench measures lives in its own file.

export const DATASET = 'synthetic-multicam-seed1';
const TOKEN = `bench-${randomBytes(12).toString('hex')}`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh database on TEST_DATABASE_URL or DATABASE_URL's server; undefined = the API starts an embedded one. */
export async function benchDatabase(): Promise<{ url: string | undefined; drop: () => Promise<void>; backendCpuMs: () => Promise<Map<number, number>> }> {
  const server = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!server) return { url: undefined, drop: async () => undefined, backendCpuMs: async () => new Map() };
  const name = `ddnn_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: server });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const u = new URL(server);
  u.pathname = `/${name}`;
  // The backends serving the bench's database and the CPU each has used (a server on this machine; else none).
  const backendCpuMs = async (): Promise<Map<number, number>> => {
    const c = new Client({ connectionString: server });
    await c.connect();
    try {
      const { rows } = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name]);
      return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)] as [number, number]).filter(([, ms]) => Number.isFinite(ms)));
    } finally {
      await c.end();
    }
  };
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`), backendCpuMs };
}

/**
 * CPU the database server spent for the bench's database between two snapshots of backendCpuMs: backends alive at
 * the end, less what they had used at the start (a backend that ended in between is missed: the pool keeps its
 * connections while busy). NaN when the server is not on this machine.
 */
export function databaseCpuMs(before: Map<number, number>, after: Map<number, number>): number {
  if (after.size === 0) return NaN;
  let ms = 0;
  for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0);
  return ms;
}

/** Compiles an app like `npm start` does (incremental) so the benchmark runs the current code; returns its main. */
export function buildApp(root: string, app: 'api' | 'device' = 'api'): string {
  const tsconfig = path.join(root, 'apps', app, 'tsconfig.app.json');
  for (const [tool, args] of [
    ['tsc', ['-p', tsconfig]],
    ['tsc-alias', ['-p', tsconfig]],
  ] as const) {
    const r = spawnSync(path.join(root, 'node_modules', '.bin', tool), [...args], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building apps/${app} failed:\n${r.stdout}${r.stderr}`);
  }
  return path.join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, api?: ChildProcess): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (api && api.exitCode !== null) throw new Error(`the API exited (${api.exitCode}) while waiting for ${what}`);
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The API of a benchmark, started on its own database with six simulated devices, and how to call it. */
export interface BenchPlatform {
  call<T>(method: string, route: string, body?: unknown): Promise<T>;
  /** The six simulated devices, by id and view. */
  devices: DeviceList['items'];
  datasetDir: string;
  api: ChildProcess;
  /** The end of what the API printed (for a failure's report). */
  output(): string;
  /** Commits of the node's batching writer so far (GET /metrics), NaN when the API does not say. */
  appendCommits(): Promise<number>;
  /** CPU (ms) of each database backend serving the API now (see databaseCpuMs). */
  backendCpuMs(): Promise<Map<number, number>>;
  stop(): Promise<void>;
}

/**
 * Builds and starts the API like `npm start` (this checkout's code, or `root`'s, an empty database of its own, six simulated
 * devices, no demo) with the default dataset in a temporary data folder; `stop` kills it and drops everything.
 */
export async function startBenchPlatform(modelDir: string, opts: { window?: number; env?: Record<string, string>; root?: string } = {}): Promise<BenchPlatform> {
  const root = opts.root ?? repoRoot();
  if (!fs.existsSync(path.join(root, 'nx.json'))) throw new Error(`--root ${root} is not a checkout of this repository (no nx.json)`);
  if (!fs.existsSync(path.join(modelDir, 'manifest.json'))) {
    throw new Error(`no checkpoint at ${modelDir}: pass --model DIR (train one with \`npm run -s ddnn -- train --data DIR --out DIR\`)`);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ddnn-bench-'));
  fs.chmodSync(work, 0o777); // embedded PostgreSQL runs as `postgres` when we are root
  const dataDir = path.join(work, 'data');
  const datasetDir = path.join(dataDir, 'datasets', DATASET);
  fs.mkdirSync(path.dirname(datasetDir), { recursive: true });
  const local = path.join(repoRoot(), '.data', 'datasets', DATASET);
  if (fs.existsSync(path.join(local, 'manifest.json'))) fs.symlinkSync(local, datasetDir);
  else {
    log(`synthesizing the default dataset into ${datasetDir} ...`);
    await writeSynthDataset(datasetDir);
  }
  const db = await benchDatabase();
  let api: ChildProcess | undefined;
  const stop = async () => {
    if (api && api.exitCode === null) {
      api.kill('SIGTERM');
      await new Promise((r) => api!.once('exit', r));
    }
    await db.drop().catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  };
  try {
    log('building the API ...');
    const main = buildApp(root);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let output = '';
    // DDNN_BENCH_API_NODE_ARGS: extra node flags for the API only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes).
    const nodeArgs = (process.env.DDNN_BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
    api = spawn(process.execPath, [...nodeArgs, main], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        DDNN_DATA_DIR: dataDir,
        DDNN_DEFAULT_MODEL_DIR: modelDir,
        DDNN_ADMIN_TOKEN: TOKEN,
        DDNN_SIMULATED_DEVICES: '6',
        DDNN_DEMO: 'false',
        DDNN_SESSION_POLL_MS: '100',
        ...(opts.window ? { DDNN_SESSION_WINDOW: String(opts.window) } : {}),
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api.stdout!.on('data', (d) => (output += d));
    api.stderr!.on('data', (d) => (output += d));
    const headers = { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
      const once = () => fetch(`${url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      // A keep-alive connection the server closes at its idle timeout can fail the request reusing it: sent
      // again once (the benchmark's requests are reads, creations it checks, and stops), to a running API only.
      const res = await once().catch((e: Error) => {
        if (api?.exitCode !== null) throw e;
        return once();
      });
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    log('starting the API with six simulated devices ...');
    await waitFor('the API', async () => ((await fetch(`${url}/api/health`)).ok ? true : undefined), 120_000, api).catch((e: Error) => {
      throw new Error(`${e.message}\n${output.slice(-3000)}`);
    });
    const started = api;
    const devices = await waitFor(
      'six simulated devices',
      async () => {
        const list = await call<DeviceList>('GET', '/api/devices?simulated=true&active=true&limit=50');
        return list.items.length >= 6 ? list.items.slice(0, 6) : undefined;
      },
      60_000,
      api,
    );
    const appendCommits = async (): Promise<number> => {
      const res = await fetch(`${url}/metrics`, { headers }).catch(() => null);
      const m = res?.ok ? /^ddnn_event_append_seconds_count (\d+)/m.exec(await res.text()) : null;
      return m ? Number(m[1]) : NaN;
    };
    return { call, devices, datasetDir, api: started, output: () => output.slice(-4000), appendCommits, backendCpuMs: () => db.backendCpuMs().catch(() => new Map()), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * CPU time (user + system, all threads, or one `thread`) a process has used so far, in ms, from /proc (Linux); NaN elsewhere.
 * Wall-clock rates are noise on a shared machine; the API's CPU per sample is what the engine costs.
 */
export function processCpuMs(pid: number | undefined, thread?: number): number {
  try {
    // One thread's own counters (thread = pid: the main thread, where the engine's JavaScript runs).
    const stat = fs.readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return NaN;
  }
}
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU (ms) every core of the machine has been busy since boot, whoever used it (/proc/stat; NaN elsewhere). */
export function machineBusyCpuMs(): number {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: idle and iowait are the cores' free time.
    const busy = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3] - cpu[4];
    return (busy * 1000) / clockTicks;
  } catch {
    return NaN;
  }
}

/** The measured checkout's commit (short hash, `+dirty` with uncommitted changes), for the report. */
export function commitOf(root: string): string {
  const git = (...args: string[]) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD').stdout.trim() || 'unknown';
  return git('status', '--porcelain', '--untracked-files=no').stdout.trim() ? `${head}+dirty` : head;
}
