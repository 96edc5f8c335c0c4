/**
 * A new operator's first hour, as the README and the screens lead them (review 4656ae2, "First use" 1-12):
 * each step checks the item that failed there. Runs against the built API, dashboard and device agent.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { CompareResponse, DeviceHistoryEntry, DeviceList, PolicySpec, SessionEventsPage, SessionStarted, SessionView, StoredEvent } from '@ddnn/contracts';
import { deviceMain, repoRoot, type RunningProcess as Proc, startNode, waitFor } from '@ddnn/testing';
import { ADMIN_TOKEN, launchBrowser, type Platform, screenshotDir, startPlatform } from '../support/harness';
import { assertNoOverflow } from '../support/overflow';

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const agents: Proc[] = [];
const sessions: string[] = [];
// The new pages at 1280 px (docs/screenshots after `npm run screenshots`, which the README shows; tmp/screenshots
// otherwise; names apart from the dashboard spec's) and at
// 800 px (always the ignored tmp folder: looked at by hand, checked for overflow here).
const shots = screenshotDir;
const narrowShots = path.join(repoRoot, 'tmp', 'screenshots', 'first-hour-800');

async function shoot(name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(shots, { recursive: true });
  fs.mkdirSync(narrowShots, { recursive: true });
  await assertNoOverflow(page, name);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
  await page.setViewportSize({ width: 800, height: 900 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(narrowShots, `${name}.png`), fullPage });
  await assertNoOverflow(page, `${name} at 800 px`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function sessionEvents(id: string): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const p: SessionEventsPage = await platform.call('GET', `/api/sessions/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
    all.push(...p.events);
    if (!p.hasMore || p.events.length === 0) return all;
    after = p.checkpoint;
  }
}

async function finished(id: string): Promise<SessionView> {
  return waitFor(
    `session ${id} to end`,
    async () => {
      const v: SessionView = await platform.call('GET', `/api/sessions/${id}`);
      // Ended in the sessions table and in its log (read through a checkpoint that may trail the row).
      const ended = (s: string | undefined) => s !== undefined && ['completed', 'stopped', 'failed', 'aborted'].includes(s);
      return ended(v.status) && ended(v.summary?.status) ? v : undefined;
    },
    120_000,
  );
}

/** Splits a POSIX shell command line into words (plain words and '...' quoting, as deviceAgentCommand writes). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  return words;
}

/** A folder laid out like a fresh clone after `npm start`: .data/datasets holds the platform's datasets. */
function cloneLikeDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddnn-clone-'));
  fs.mkdirSync(path.join(dir, '.data'));
  fs.symlinkSync(path.join(platform.dataDir, 'datasets'), path.join(dir, '.data', 'datasets'));
  return dir;
}

/** Starts a session from the form as it comes up, optionally after `fill`, and returns its id. */
async function startFromForm(fill?: () => Promise<void>): Promise<string> {
  await page.goto(`${platform.url}/sessions/new`);
  await page.getByRole('heading', { name: 'Start a session' }).waitFor();
  // The form picks the model and dataset from what the API has.
  await waitFor('the form to pick a model and a dataset', async () => ((await page.locator('select[name=modelId]').inputValue()) === 'default' && (await page.locator('select[name=dataset]').inputValue()) === 'synth' ? true : undefined));
  if (fill) await fill();
  await page.getByRole('button', { name: 'Start session' }).click();
  await page.waitForURL(/\/session\/?\?id=/, { timeout: 30_000 });
  const id = new URL(page.url()).searchParams.get('id')!;
  sessions.push(id);
  return id;
}

beforeAll(async () => {
  // The Devices page's command has no --heartbeat-ms: the agent's default (5 s) must keep it active.
  platform = await startPlatform({ DEVICE_INACTIVE_TIMEOUT_MS: '15000' });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: platform.url });
  page = await context.newPage();
});

afterAll(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  await browser?.close();
  await platform?.close();
});

describe("an operator's first hour", () => {
  it('signs in from the printed link in a tab already on the sign-in form, and the token leaves the address bar (item 7)', async () => {
    await page.goto(`${platform.url}/`);
    await page.getByRole('heading', { name: 'Sign in to ddnn' }).waitFor();
    // Pasting the printed link into this tab changes only the fragment: no reload.
    await page.goto(`${platform.url}/#token=${ADMIN_TOKEN}`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: 10_000 });
    expect(page.url()).not.toContain('token');
    await page.getByTestId('stat-api').getByText('up', { exact: true }).waitFor();
  });

  it("starts a session from the form's defaults; its simulated devices are named everywhere and go away with it (items 2, 3, 8, 9)", async () => {
    const id = await startFromForm();
    const view = await finished(id);
    expect(view.status).toBe('completed');
    expect(view.summary!.samplesDecided).toBeGreaterThan(0);
    const started = (await sessionEvents(id)).find((e) => e.type === 'SessionStarted')!.data as SessionStarted;
    expect(started.configuration!.devices.map((d) => [d.name, d.simulated])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [`sim-${i}`, true]));
    expect(started.configuration!.link).toBeNull();

    // Device names with the simulated mark, not UUID prefixes, on the session page.
    await page.locator('.badge.status-completed').first().waitFor({ timeout: 30_000 });
    const names = await page.getByTestId('device-name').allTextContents();
    expect(names).toContain('sim-0 sim');
    expect(names.join(' ')).not.toMatch(/[0-9a-f]{8}/);
    // ...and on the bytes-per-link chart.
    await expect(page.getByTestId('link-bytes').getAttribute('data-links')).resolves.toContain('sim-0 (sim) → local');

    // Where the time went: per-sample means beside the wall clock, never sums over samples in flight.
    const stats = view.stats!;
    // The dashboard's fmtMs: one decimal below 100 ms, whole ms below a second, else seconds.
    const perSample = (ms: number) => {
      const x = ms / stats.samples;
      return x < 100 ? `${x.toFixed(1)} ms` : x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(1)} s`;
    };
    await expect(page.getByTestId('time-transport').textContent()).resolves.toBe(perSample(stats.transportMs));
    await expect(page.getByTestId('time-device').textContent()).resolves.toBe(perSample(stats.deviceModelMs));
    await shoot('session-defaults', true);

    // The simulation was made for this session: its devices are deleted once it ends; their events stay.
    const left = await waitFor('the simulated devices to go', async () => {
      const l: DeviceList = await platform.call('GET', '/api/devices?simulated=true');
      return l.total === 0 ? l : undefined;
    }, 30_000);
    expect(left.items).toEqual([]);
    const history: DeviceHistoryEntry[] = await platform.call('GET', `/api/devices/${started.topology.devices[0].deviceId}/history`);
    expect(history.map((h) => h.type)).toContain('DeviceRegistered');
    // The replay still names them, from the log.
    await page.goto(`${platform.url}/replay?session=${id}`);
    await page.getByTestId('replay-device').first().waitFor();
    await expect(page.getByTestId('replay-device').first().getByTestId('device-name').textContent()).resolves.toBe('sim-0 sim');
  });

  it('records the link model and failures with the session, shows them, and compare uses the link for latency (item 5)', async () => {
    const id = await startFromForm(async () => {
      await page.locator('input[name=limit]').fill('10');
      await page.locator('select[name=mode]').selectOption('research');
      await page.locator('input[name=latencyMs]').fill('20');
      await page.locator('input[name=bandwidthKbps]').fill('1000');
      await page.getByRole('button', { name: 'Add a failure' }).click();
      const failure = page.getByTestId('failure-0');
      await failure.getByLabel('device').fill('2');
      await failure.getByLabel('kind').selectOption('flaky');
      await failure.getByLabel('from sample').fill('0');
    });
    await finished(id);
    const started = (await sessionEvents(id)).find((e) => e.type === 'SessionStarted')!.data as SessionStarted;
    expect(started.configuration).toMatchObject({ limit: 10, link: { latencyMs: 20, bandwidthKbps: 1000 }, failures: [{ device: 2, atSample: 0, kind: 'flaky' }] });
    await page.reload();
    await expect(page.getByTestId('config-link').textContent()).resolves.toBe('20 ms latency, 1000 kbit/s');
    await expect(page.getByTestId('config-failures').textContent()).resolves.toBe('flaky on device #2 from sample 0');

    await page.goto(`${platform.url}/compare?sessions=${id}`);
    await page.getByTestId('compare-table').waitFor({ timeout: 60_000 });
    // Every policy sends at least one message over a 20 ms link: no mean latency below 20 ms.
    const latencies = (await page.getByTestId('compare-latency').allTextContents()).map((t) => Number(t.replace(' ms', '')));
    expect(latencies.length).toBeGreaterThan(0);
    for (const l of latencies) expect(l).toBeGreaterThanOrEqual(20);
    // Accuracy states its uncertainty.
    await expect(page.getByTestId('compare-table').locator('tbody tr').first().textContent()).resolves.toMatch(/%\s*± \d+\.\d/);
  });

  it('replays a session without asking for images of views the cameras missed (item 10)', async () => {
    const id = sessions[0];
    const events = await sessionEvents(id);
    const started = events.find((e) => e.type === 'SessionStarted')!.data as SessionStarted;
    const sampleIds = new Map(events.flatMap((e) => (e.type === 'SampleStarted' ? [[e.data.sampleIndex, e.data.sampleId] as const] : [])));
    const exits = events.flatMap((e) => (e.type === 'ExitDecided' && e.data.exited && !e.data.shadow ? [e.data.sampleIndex] : []));
    const missing = exits.filter((s) => started.topology.devices.some((d) => !fs.existsSync(path.join(platform.dataDir, 'datasets', 'synth', 'samples', sampleIds.get(s)!, `${d.view}.png`))));
    expect(missing.length).toBeGreaterThan(0);
    const notFound: string[] = [];
    const errors: string[] = [];
    page.on('response', (r) => void (r.status() === 404 && notFound.push(r.url())));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto(`${platform.url}/replay?session=${id}`);
    for (let t = 1; t <= exits.length; t++) {
      await page.getByTestId('replay-scrubber').fill(String(t));
      await page.getByTestId('replay-position').getByText(`${t} / ${exits.length}`).waitFor();
      const sampleId = sampleIds.get(exits[t - 1])!;
      for (const d of started.topology.devices) {
        const tile = page.locator(`[data-testid=replay-device][data-view="${d.view}"]`);
        if (fs.existsSync(path.join(platform.dataDir, 'datasets', 'synth', 'samples', sampleId, `${d.view}.png`))) await tile.locator('img.view-img').waitFor();
        else await tile.getByText('not captured').waitFor();
      }
    }
    expect(notFound).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("copies the Devices page's agent command, runs it as written, and sees the device active and answering in a session (item 1)", async () => {
    await page.goto(`${platform.url}/devices`);
    await page.getByRole('heading', { name: 'Connect a new device' }).waitFor();
    // "New profile + key" works every time (unique names) and the command gets the real key.
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      await page.getByRole('button', { name: 'New profile + key' }).click();
      await waitFor('the new key in the command', async () => {
        const cmd = (await page.getByTestId('device-command').textContent()) ?? '';
        const key = /^DDNN_PROFILE_KEY=(\S+) /.exec(cmd)?.[1];
        return key && !key.includes('PROFILE_KEY') && !keys.includes(key) ? (keys.push(key), true) : undefined;
      }, 10_000);
    }
    await expect(page.locator('.note.error').count()).resolves.toBe(0);
    await page.getByLabel('Name', { exact: true }).fill('cam-first-hour');
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(await page.getByTestId('device-command').textContent());
    expect(copied).toContain('--data .data/datasets');
    await shoot('devices-agent');

    // Run as written from a folder laid out like the repository after npm start (npm run -s device -- ... runs the built agent).
    const [assignment, ...words] = shellWords(copied);
    const [variable, key] = assignment.split(/=(.*)/s);
    expect(variable).toBe('DDNN_PROFILE_KEY');
    expect(words.slice(0, 5)).toEqual(['npm', 'run', '-s', 'device', '--']);
    expect(words).not.toContain(key);
    const agent = startNode(deviceMain, words.slice(5), { DDNN_PROFILE_KEY: key }, cloneLikeDir());
    agents.push(agent);
    const row = page.locator('tr[data-name="cam-first-hour"]');
    await waitFor('the agent to show as active', async () => ((await row.getByTestId('device-connectivity').textContent({ timeout: 1000 })) === 'active' ? true : undefined), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\nagent output:\n${agent.output().slice(-3000)}`);
    });
    const deviceId = (await row.getAttribute('data-device'))!;

    // A session on this registered device, from the form: its answers show in the session.
    const id = await startFromForm(async () => {
      await page.locator('select[name=devices]').selectOption('registered');
      await page.getByLabel(/cam-first-hour/).check();
      await page.locator('input[name=limit]').fill('5');
    });
    const view = await finished(id);
    expect(view.status).toBe('completed');
    // It answered every sample its camera captured; a view the dataset does not hold is a skipped capture, no fault.
    const stats = view.summary!.devices[deviceId];
    expect(stats.answered).toBeGreaterThan(0);
    expect(stats.answered + stats.missed).toBe(5);
    expect(stats.missedByReason.skipped).toBe(stats.missed);
    await page.reload();
    await page.getByTestId('device-name').getByText('cam-first-hour').first().waitFor();
  });

  it('an agent that cannot read its data says so, and the dashboard shows the device in error (item 1)', async () => {
    const profile: { provisioningKey: string } = await platform.call('POST', '/api/profiles', { name: 'wrong-data' });
    const dir = cloneLikeDir();
    // The mistake the old command made: --data .data instead of .data/datasets.
    const agent = startNode(deviceMain, ['--server', platform.url, '--profile-key', profile.provisioningKey, '--name', 'cam-wrong-data', '--view', '0', '--data', '.data'], {}, dir);
    agents.push(agent);
    const list = await waitFor('the agent to connect', async () => {
      const l: DeviceList = await platform.call('GET', '/api/devices?name=cam-wrong-data&active=true');
      return l.total === 1 ? l : undefined;
    });
    const deviceId = list.items[0].id;
    const created: { id: string } = await platform.call('POST', '/api/sessions', {
      modelId: 'default',
      dataset: 'synth',
      split: 'test',
      limit: 2,
      topology: { devices: [{ deviceId, view: 0 }] },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      mode: 'production',
      deadlineMs: 2000,
    });
    await finished(created.id);
    await page.goto(`${platform.url}/devices`);
    const row = page.locator('tr[data-name="cam-wrong-data"]');
    await row.getByTestId('device-error').waitFor({ timeout: 30_000 });
    await expect(row.getByTestId('device-problem').textContent()).resolves.toMatch(/cannot serve a sample/);
    await page.goto(`${platform.url}/device?id=${deviceId}`);
    await page.getByTestId('device-problem').waitFor();
    await page.getByTestId('device-history').getByText(/connected to/).first().waitFor();
    await shoot('device');
  });

  it('deletes a simulated device from the Devices page; its events stay in the log (item 3)', async () => {
    const sim: { id: string; devices: { deviceId: string; name: string }[] } = await platform.call('POST', '/api/simulations', { devices: 1, persist: true });
    const { deviceId, name } = sim.devices[0];
    await page.goto(`${platform.url}/devices`);
    const row = page.locator(`tr[data-device="${deviceId}"]`);
    await row.waitFor();
    await expect(row.locator('.badge.sim').textContent()).resolves.toBe('simulated');
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    const left: DeviceList = await platform.call('GET', `/api/devices?name=${name}`);
    expect(left.items.map((d) => d.id)).not.toContain(deviceId);
    const history: DeviceHistoryEntry[] = await platform.call('GET', `/api/devices/${deviceId}/history`);
    expect(history.map((h) => h.type)).toEqual(expect.arrayContaining(['DeviceRegistered', 'DeviceConnected', 'DeviceDisconnected']));
  });

  it('renames and tags a session, finds it by tag, and the sessions table fits its card at 1280 px (items 6, run tracking)', async () => {
    const id = sessions[1];
    await page.goto(`${platform.url}/session?id=${id}`);
    await page.locator('input[name=runName]').fill('link 20 ms');
    await page.locator('input[name=runTags]').fill('first-hour, link');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('session-name').getByText('link 20 ms').waitFor();
    const v: SessionView = await platform.call('GET', `/api/sessions/${id}`);
    expect(v).toMatchObject({ name: 'link 20 ms', tags: ['first-hour', 'link'] });
    await page.goto(`${platform.url}/sessions`);
    await page.locator(`tr[data-session="${sessions[0]}"]`).waitFor();
    await shoot('sessions-tagged');
    await page.getByLabel('tag filter').fill('first-hour');
    await page.locator(`tr[data-session="${sessions[0]}"]`).waitFor({ state: 'detached' });
    await expect(page.locator('tr[data-session]').count()).resolves.toBe(1);
    await page.locator(`tr[data-session="${id}"]`).getByText('link 20 ms').waitFor();
  });

  it('ticks two runs in the sessions list and compares their settings, the differing ones highlighted (run tracking)', async () => {
    const [a, b] = [sessions[0], sessions[1]];
    await page.goto(`${platform.url}/sessions`);
    for (const id of [a, b]) await page.locator(`tr[data-session="${id}"] input[type=checkbox]`).check();
    await page.getByRole('link', { name: 'Compare the 2 ticked runs' }).click();
    await page.waitForURL(/\/sessions\/compare\/?\?a=/);
    const table = page.getByTestId('run-diff-settings');
    await table.waitFor();
    // The second run has a 20 ms link and a name and tags; the first has neither: exactly those rows differ.
    const differing = await table.locator('tr[data-differs=true] th').allTextContents();
    expect(differing).toEqual(expect.arrayContaining(['name', 'tags', 'link model']));
    expect(differing).not.toContain('model');
    expect(differing).not.toContain('dataset');
    await expect(table.locator('tr', { has: page.locator('th', { hasText: /^link model$/ }) }).locator('td').nth(1).textContent()).resolves.toMatch(/^20 ms/);
    await shoot('run-compare', true);
  });

  it('compares two sessions with the Pareto frontier drawn per session, as the API computes it (item 4)', async () => {
    const [a, b] = [sessions[0], sessions[1]];
    await page.goto(`${platform.url}/compare?sessions=${a},${b}`);
    await page.getByTestId('compare-table').waitFor({ timeout: 60_000 });
    await shoot('compare-link', true);
    const policies: PolicySpec[] = [
      ...[0.2, 0.5, 0.8].map((t): PolicySpec => ({ kind: 'entropy', thresholds: { local: t, edge: t } })),
      { kind: 'confidence', thresholds: { local: 0.9, edge: 0.9 } },
      { kind: 'always-local' },
      { kind: 'always-cloud' },
      { kind: 'raw-offload' },
    ];
    for (const id of [a, b]) {
      const v: SessionView = await platform.call('GET', `/api/sessions/${id}`);
      const link = v.configuration?.link;
      const api: CompareResponse = await platform.call('POST', '/api/analysis/compare', { sessionIds: [id], policies, ...(link ? { linkModel: { default: link } } : {}) });
      const expected = api.rows.map((r) => (r.evaluable ? (r.dominated ? 'dominated' : 'frontier') : 'none'));
      const shown = await page.locator(`[data-testid=compare-table] tbody tr[data-session="${id}"]`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pareto')));
      expect(shown).toEqual(expected);
      expect(shown).toContain('frontier');
    }
  });

  it('shows what is registered and uploads a checkpoint from the Models page', async () => {
    await page.goto(`${platform.url}/models`);
    await page.locator('[data-testid=models-table] tr[data-model=default]').waitFor();
    const synth: { splits: { test: number } } = await platform.call('GET', '/api/datasets/synth');
    await expect(page.locator('[data-testid=datasets-table] tr[data-dataset=synth] td').nth(4).textContent()).resolves.toBe(String(synth.splits.test));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ddnn-upload-'));
    const tgz = path.join(work, 'model.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', path.join(platform.dataDir, 'models'), 'default']);
    await page.locator('input[name=archive]').setInputFiles(tgz);
    await page.locator('input[name=modelId]').fill('uploaded');
    await page.getByRole('button', { name: 'Upload and register' }).click();
    await page.locator('[data-testid=models-table] tr[data-model=uploaded]').waitFor({ timeout: 30_000 });
    // What the checkpoint says of its training and test split, and a dataset's missing views and contact sheet.
    const model = (await platform.call('GET', '/api/models')) as { id: string; testMetrics: { overall: number } | null }[];
    const facts = page.getByTestId('model-facts-default');
    await expect(facts.textContent()).resolves.toContain(`overall ${(100 * model.find((m) => m.id === 'default')!.testMetrics!.overall).toFixed(1)}%`);
    await page.locator('[data-testid=datasets-table] tr[data-dataset=synth]').getByRole('button', { name: 'Details' }).click();
    const details: { perView: { missingRate: number }[] } = await platform.call('GET', '/api/datasets/synth/summary');
    const panel = page.getByTestId('dataset-details-synth');
    await panel.getByRole('table').waitFor({ timeout: 60_000 });
    const shown = await panel.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(shown).toEqual(details.perView.map((v) => `${(100 * v.missingRate).toFixed(1)}%`));
    await panel.getByRole('img', { name: 'contact sheet of synth' }).waitFor({ timeout: 60_000 });
    await shoot('models', true);
  });

  it('documents every operation for an integrator: summaries, descriptions, and an opaque bearer token (item 12)', async () => {
    const doc = (await (await fetch(`${platform.url}/api/docs-json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string; description?: string; responses?: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, { bearerFormat?: string; description?: string }> };
    };
    const missing: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) if (!op.summary || !op.description) missing.push(`${method.toUpperCase()} ${p}`);
    }
    expect(missing).toEqual([]);
    const schemes = Object.values(doc.components.securitySchemes);
    expect(schemes.map((s) => s.bearerFormat)).not.toContain('JWT');
    expect(schemes[0].description).toMatch(/DDNN_ADMIN_TOKEN/);
  });
});
