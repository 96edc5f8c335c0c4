import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { SessionEventsPage, SimulatedFailure, SimulationView, StoredEvent } from '@ddnn/contracts';
import { writeSynthDataset } from '@ddnn/datasets';
import { type ApiProcess, createTestDatabase, repoRoot, startApi, type TestDatabase, tempDir } from '@ddnn/testing';
import { assertNoOverflow } from './overflow';

const dashboardOut = path.join(repoRoot, 'apps/dashboard/out');
/**
 * Where the pages' screenshots go: an ignored folder on every run, so tests never rewrite tracked files;
 * `npm run screenshots` sets DDNN_SCREENSHOTS=docs to refresh the README's docs/screenshots on purpose.
 */
export const screenshotDir = path.join(repoRoot, process.env.DDNN_SCREENSHOTS === 'docs' ? 'docs/screenshots' : 'tmp/screenshots');
export const ADMIN_TOKEN = 'browser-test-operator-token-0123456789';

export interface Platform {
  url: string;
  dataDir: string;
  api: ApiProcess;
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
  if (!fs.existsSync(path.join(dashboardOut, 'index.html'))) throw new Error(`missing ${dashboardOut}: build first (npx nx run-many -t build -p api device dashboard)`);
  const db = await createTestDatabase('ddnn_browser');
  const dataDir = tempDir('ddnn-browser-');
  await writeSynthDataset(path.join(dataDir, 'datasets', 'synth'), { samples: 60, views: 6, seed: 5 });
  // A copy: nothing the test does can touch the repository's checkpoint.
  const modelDir = path.join(dataDir, 'models', 'default');
  fs.cpSync(path.join(repoRoot, 'models', 'default'), modelDir, { recursive: true });
  let api: ApiProcess;
  try {
    api = await startApi({
      DATABASE_URL: db.url,
      DDNN_DATA_DIR: dataDir,
      DDNN_DASHBOARD_DIR: dashboardOut,
      DDNN_ADMIN_TOKEN: ADMIN_TOKEN,
      DDNN_DEFAULT_MODEL_DIR: modelDir,
      DEVICE_INACTIVE_TIMEOUT_MS: '3000',
      ...extraEnv,
    });
  } catch (e) {
    await db.drop();
    throw e;
  }
  const url = api.url;
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
    await call('GET', '/api/models/default');
  } catch (e) {
    await close();
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

/** Saves <screenshotDir>/<name>.png (docs/screenshots under `npm run screenshots`: the README shows them). */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage });
  // Every page, and at 1280 px every card, must fit: a horizontal scrollbar means something overflows.
  await assertNoOverflow(page, name);
}

/**
 * A research-mode stream of the default model (entropy policy, T = 0.5) on the cameras of a new scene
 * simulation, some of them failing as told.
 */
export async function startSceneStream(
  platform: Platform,
  o: { name: string; devices: number; seed: number; rate: number; deadlineMs: number; failures?: SimulatedFailure[] },
): Promise<{ id: string; sim: SimulationView }> {
  const sim = await platform.call<SimulationView>('POST', '/api/simulations', { devices: o.devices, source: 'scene', scene: { seed: o.seed }, ...(o.failures ? { failures: o.failures } : {}) });
  const { id } = await platform.call<{ id: string }>('POST', '/api/streams', {
    modelId: 'default',
    topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
    policy: { kind: 'entropy', thresholds: { local: 0.5 } },
    mode: 'research',
    rate: o.rate,
    deadlineMs: o.deadlineMs,
    simulationId: sim.id,
    name: o.name,
  });
  return { id, sim };
}

/** A stream's whole log over REST. */
export async function streamLog(platform: Platform, id: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let after = ''; ; ) {
    const page = await platform.call<SessionEventsPage>('GET', `/api/streams/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
    events.push(...page.events);
    if (!page.hasMore || !page.checkpoint) return events;
    after = page.checkpoint;
  }
}
