import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { writeSynthDataset } from '@ddnn/datasets';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { assertNoOverflow } from './overflow';

export const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const apiMain = path.join(repoRoot, 'dist/apps/api/apps/api/src/main.js');
export const deviceMain = path.join(repoRoot, 'dist/apps/device/apps/device/src/main.js');
const dashboardOut = path.join(repoRoot, 'apps/dashboard/out');
export const screenshotDir = path.join(repoRoot, 'docs/screenshots');
export const ADMIN_TOKEN = 'browser-test-operator-token-0123456789';

/** A free TCP port on the loopback interface. */
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

/** Polls `check` until it returns a value, failing with `what` after the deadline. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node main ...args`, capturing its output. */
export function startNode(main: string, args: string[], env: Record<string, string | undefined>, cwd = repoRoot): Proc {
  let out = '';
  const child = spawn(process.execPath, [main, ...args], { cwd, env: { ...process.env, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface Platform {
  url: string;
  dataDir: string;
  api: Proc;
  db: TestDatabase;
  /** Calls the API with the operator token. */
  call<T>(method: string, p: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * Fresh database and data folder (a small synthetic dataset, a copy of the repository's trained model as the default,
 * as `npm start` serves it), then the built API serving the dashboard build. The screenshots the README shows come
 * from these pages, so they show the trained model's real decisions.
 */
export async function startPlatform(extraEnv: Record<string, string> = {}): Promise<Platform> {
  for (const f of [apiMain, path.join(dashboardOut, 'index.html')]) {
    if (!fs.existsSync(f)) throw new Error(`missing ${f}: build first (npx nx run-many -t build -p api device dashboard)`);
  }
  const db = await createTestDatabase('ddnn_browser');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddnn-browser-'));
  fs.chmodSync(dataDir, 0o777);
  await writeSynthDataset(path.join(dataDir, 'datasets', 'synth'), { samples: 60, views: 6, seed: 5 });
  // A copy: nothing the test does can touch the repository's checkpoint.
  const modelDir = path.join(dataDir, 'models', 'default');
  fs.cpSync(path.join(repoRoot, 'models', 'default'), modelDir, { recursive: true });
  const port = await freePort();
  const api = startNode(apiMain, [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    DDNN_DATA_DIR: dataDir,
    DDNN_DASHBOARD_DIR: dashboardOut,
    DDNN_ADMIN_TOKEN: ADMIN_TOKEN,
    DDNN_DEMO: 'false',
    DDNN_DEFAULT_MODEL_DIR: modelDir,
    DEVICE_INACTIVE_TIMEOUT_MS: '3000',
    ...extraEnv,
  });
  const url = `http://127.0.0.1:${port}`;
  const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const close = async () => {
    await api.stop('SIGTERM');
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor('the API to become healthy', async () => ((await fetch(`${url}/api/health`)).ok ? true : undefined), 90_000);
    await call('GET', '/api/models/default');
  } catch (e) {
    await api.stop('SIGKILL');
    await db.drop();
    throw new Error(`${(e as Error).message}\nAPI output:\n${api.output().slice(-4000)}`);
  }
  return { url, dataDir, api, db, call, close };
}

/** Debian's chromium through playwright-core (never a downloaded browser). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/** A 1280x800 page signed in through the `#token=` fragment, as the link `npm start` prints. */
export async function signedInPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${url}/#token=${ADMIN_TOKEN}`);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  return page;
}

/** Saves docs/screenshots/<name>.png (the README shows them). */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage });
  // Every page, and at 1280 px every card, must fit: a horizontal scrollbar means something overflows.
  await assertNoOverflow(page, name);
}
