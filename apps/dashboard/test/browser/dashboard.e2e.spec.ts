import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { sampleTraffic, type DeviceView, type ProfileCreatedResponse, type SessionEventsPage, type SessionView, type StoredEvent } from '@ddnn/contracts';
import { deviceMain, repoRoot, type RunningProcess, startNode, waitFor } from '@ddnn/testing';
import { ADMIN_TOKEN, launchBrowser, type Platform, screenshot, signedInPage, startPlatform } from '../support/harness';

let platform: Platform;
let browser: Browser;
let page: Page;
let sessionId: string;
/** The session with a simulated crash: the last test deletes it. */
let crashedId: string;

async function sessionEvents(id: string): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const q: string = after ? `&after=${after}` : '';
    const p: SessionEventsPage = await platform.call('GET', `/api/sessions/${id}/events?limit=1000${q}`);
    all.push(...p.events);
    if (!p.hasMore || p.events.length === 0) return all;
    after = p.checkpoint;
  }
}

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
  page = await signedInPage(browser, platform.url);
});

afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

describe('the dashboard in chromium against the real API', () => {
  it('takes the operator token from the #token fragment, removes it from the address bar, and asks again after a 401', async () => {
    expect(page.url()).not.toContain('token=');
    await page.getByTestId('stat-api').getByText('up', { exact: true }).waitFor();
    await screenshot(page, 'overview-empty');

    const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await other.goto(`${platform.url}/sessions#token=not-the-operator-token-at-all`);
    await other.getByRole('heading', { name: 'Sign in to ddnn' }).waitFor();
    await expect(other.locator('.note.error').textContent()).resolves.toMatch(/refused the token/);
    await screenshot(other, 'signin');
    await other.getByLabel('Operator token').fill(ADMIN_TOKEN);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('heading', { name: 'Sessions' }).waitFor();
    await other.close();
  });

  it('starts a simulated session from the form and follows its live progress to completion', async () => {
    await page.goto(`${platform.url}/sessions/new`);
    await page.getByRole('heading', { name: 'Start a session' }).waitFor();
    await page.locator('input[name=limit]').fill('12');
    await page.locator('select[name=mode]').selectOption('research');
    await page.locator('input[name=thresholdLocal]').fill('0.9');
    // A few samples per second, so the live view is seen while the session runs.
    await page.locator('input[name=rate]').fill('3');
    await screenshot(page, 'session-new');
    await page.getByRole('button', { name: 'Start session' }).click();
    await page.waitForURL(/\/session\/?\?id=/, { timeout: 30_000 });
    sessionId = new URL(page.url()).searchParams.get('id')!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await page.locator('[data-testid=live-indicator][data-state=live]').waitFor({ timeout: 30_000 });
    await page.locator('.stat-value', { hasText: '%' }).first().waitFor();
    await screenshot(page, 'session-live');
    // The progress line counts up to the whole run, and the status turns completed, without a reload.
    await page.getByTestId('progress-text').getByText('12 / 12 samples').waitFor({ timeout: 120_000 });
    await page.locator('.badge.status-completed').first().waitFor({ timeout: 60_000 });
    const view: SessionView = await platform.call('GET', `/api/sessions/${sessionId}`);
    expect(view.status).toBe('completed');
    expect(view.summary?.samplesDecided).toBe(12);
    const accuracy = view.summary!.accuracy;
    await expect(page.getByTestId('stat-accuracy').locator('.stat-value').textContent()).resolves.toBe(accuracy === null ? '–' : `${(accuracy * 100).toFixed(1)}%`);
    await screenshot(page, 'session');
  });

  it('replays the recorded session: scrubbing to a sample shows exactly that sample from the event log, and the URL holds the position', async () => {
    const events = await sessionEvents(sessionId);
    const exits = events.flatMap((e) => (e.type === 'ExitDecided' && e.data.exited && !e.data.shadow ? [e.data] : []));
    expect(exits).toHaveLength(12);
    const k = 7;
    const target = exits[k - 1];
    const traffic = events.map(sampleTraffic).find((t) => t?.sampleIndex === target.sampleIndex);
    const bytes = traffic!.messages.reduce((s, m) => s + (m.shadow ? 0 : m.bytes), 0);

    await page.goto(`${platform.url}/replay?session=${sessionId}`);
    await page.getByTestId('replay-position').getByText('1 / 12').waitFor();
    await page.getByTestId('replay-scrubber').fill(String(k));
    await page.getByTestId('replay-position').getByText(`${k} / 12`).waitFor();
    await expect(page.getByTestId('replay-sample-index').textContent()).resolves.toBe(String(target.sampleIndex));
    await expect(page.getByTestId('replay-exit-tier').textContent()).resolves.toBe(target.tier);
    await expect(page.getByTestId('replay-eta').textContent()).resolves.toContain(`η = ${target.eta.toFixed(3)}`);
    await expect(page.getByTestId('replay-bytes').textContent()).resolves.toBe(bytes < 1024 ? `${Math.round(bytes * 10) / 10} B` : `${(bytes / 1024).toFixed(1)} KiB`);
    const devices = events.find((e) => e.type === 'SessionStarted')!.data as { topology: { devices: unknown[] } };
    await expect(page.getByTestId('replay-device').count()).resolves.toBe(devices.topology.devices.length);
    // Each camera's view of that sample, as stored in the dataset: an image where it was captured.
    const started = events.find((e) => e.type === 'SampleStarted' && e.data.sampleIndex === target.sampleIndex)!;
    const sampleId = (started.data as { sampleId: string }).sampleId;
    for (let v = 0; v < devices.topology.devices.length; v++) {
      const tile = page.locator(`[data-testid=replay-device][data-view="${v}"]`);
      if (fs.existsSync(path.join(platform.dataDir, 'datasets', 'synth', 'samples', sampleId, `${v}.png`))) {
        const img = tile.locator('img.view-img');
        await img.waitFor();
        await expect(img.evaluate((el: HTMLImageElement) => el.decode().then(() => el.naturalWidth))).resolves.toBe(32);
      } else {
        await tile.getByText('not captured').waitFor();
      }
    }
    expect(new URL(page.url()).searchParams.get('t')).toBe(String(k));
    await screenshot(page, 'replay');
    await screenshot(page, 'replay-full', true);

    // The URL is the shareable view: another operator (a fresh browser context, signed in through the
    // fragment) lands on the same sample; a step moves one on.
    const shared = page.url();
    const second = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await second.goto(`${shared}#token=${ADMIN_TOKEN}`);
    await second.getByTestId('replay-position').getByText(`${k} / 12`).waitFor();
    await expect(second.getByTestId('replay-sample-index').textContent()).resolves.toBe(String(target.sampleIndex));
    await second.getByRole('button', { name: 'step forward' }).click();
    await expect(second.getByTestId('replay-sample-index').textContent()).resolves.toBe(String(exits[k].sampleIndex));
    await second.close();
  });

  it('runs a session with a simulated crash from the form: the session page counts the misses and the replay marks the missed view', async () => {
    await page.goto(`${platform.url}/sessions/new`);
    await page.getByRole('heading', { name: 'Start a session' }).waitFor();
    await page.locator('input[name=limit]').fill('8');
    await page.getByRole('button', { name: 'Add a failure' }).click();
    const failure = page.getByTestId('failure-0');
    await failure.getByLabel('device').fill('2');
    await failure.getByLabel('kind').selectOption('crash');
    await failure.getByLabel('from sample').fill('3');
    await page.getByRole('button', { name: 'Start session' }).click();
    await page.waitForURL(/\/session\/?\?id=/, { timeout: 30_000 });
    const id = new URL(page.url()).searchParams.get('id')!;
    crashedId = id;
    await page.getByTestId('progress-text').getByText('8 / 8 samples').waitFor({ timeout: 120_000 });
    await page.locator('.badge.status-completed').first().waitFor({ timeout: 60_000 });
    const view: SessionView = await platform.call('GET', `/api/sessions/${id}`);
    // Misses as device_miss_rate counts them: a view the camera did not capture (skipped) is counted apart.
    const devices = Object.values(view.summary!.devices);
    const skipped = devices.reduce((a, d) => a + d.missedByReason.skipped, 0);
    const failed = view.summary!.missed - skipped;
    expect(failed).toBeGreaterThan(0);
    await expect(page.getByTestId('stat-missed').locator('.stat-value').textContent()).resolves.toBe(String(failed));
    await expect(page.getByTestId('stat-not-captured').textContent()).resolves.toBe(String(skipped));
    const crashed = Object.entries(view.summary!.devices).find(([, d]) => d.view === 2)!;
    const row = page.getByTestId('device-health').locator(`tr[data-device="${crashed[0]}"]`);
    const own = crashed[1].missed - crashed[1].missedByReason.skipped;
    await expect(row.getByTestId('health-missed').textContent()).resolves.toBe(String(own));
    await expect(row.getByTestId('health-miss-rate').textContent()).resolves.toBe(`${((own / (own + crashed[1].answered)) * 100).toFixed(1)}%`);
    await expect(row.getByTestId('health-not-captured').textContent()).resolves.toBe(String(crashed[1].missedByReason.skipped));

    const events = await sessionEvents(id);
    const missed = events.flatMap((e) => (e.type === 'DeviceMissed' && e.data.reason !== 'skipped' ? [e.data] : []));
    const exits = events.flatMap((e) => (e.type === 'ExitDecided' && e.data.exited && !e.data.shadow ? [e.data] : []));
    const pos = exits.findIndex((x) => x.sampleIndex === missed[0].sampleIndex) + 1;
    expect(pos).toBeGreaterThan(0);
    await page.goto(`${platform.url}/replay?session=${id}&t=${pos}`);
    await page.getByTestId('replay-position').getByText(`${pos} / 8`).waitFor();
    const tile = page.locator(`[data-testid=replay-device][data-view="${missed[0].view}"]`);
    await expect(tile.getByTestId('replay-missed').textContent()).resolves.toContain(`missed ${missed[0].stage} (${missed[0].reason})`);
    await screenshot(page, 'replay-missed');
  });

  it('shows the other pages with this session: sessions list, compare, topology', async () => {
    await page.goto(`${platform.url}/sessions`);
    await page.locator(`tr[data-session="${sessionId}"]`).waitFor();
    await screenshot(page, 'sessions');
    await page.goto(`${platform.url}/`);
    await page.locator(`tr[data-session="${sessionId}"]`).waitFor();
    await screenshot(page, 'overview');
    await page.goto(`${platform.url}/compare?sessions=${sessionId}`);
    await page.getByTestId('compare-table').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('compare-table').locator('tbody tr').count()).resolves.toBe(7);
    await screenshot(page, 'compare');
    await screenshot(page, 'compare-full', true);
    await page.goto(`${platform.url}/topology?session=${sessionId}`);
    await page.getByTestId('topology-graph').locator('.react-flow__node').first().waitFor();
    await expect(page.getByTestId('topology-graph').locator('.react-flow__node').count()).resolves.toBe(6 + 2);
    // Each device shows what it sent to the local aggregator: a 4|C| = 12-byte score message for each sample it
    // answered (a view its camera did not capture sends nothing).
    const summary = (await platform.call<SessionView>('GET', `/api/sessions/${sessionId}`)).summary!;
    const toLocal = (await page.getByTestId('topology-device-traffic').allTextContents()).filter((t) => t.startsWith('→ local'));
    const sent = Object.values(summary.devices).map((d) => `→ local: ${12 * d.answered} B`);
    expect(toLocal.sort()).toEqual(sent.sort());
    expect(Object.values(summary.devices).every((d) => d.answered > 0)).toBe(true);
    await page.waitForTimeout(500);
    await screenshot(page, 'topology');
  });

  it('shows a real device agent active, then inactive once the agent stops', async () => {
    const profile: ProfileCreatedResponse = await platform.call('POST', '/api/profiles', { name: 'browser-test-cameras' });
    const agent: RunningProcess = startNode(
      deviceMain,
      ['--server', platform.url, '--profile-key', profile.provisioningKey, '--name', 'cam-browser', '--view', '0', '--data', platform.dataDir, '--state', path.join(platform.dataDir, 'cam-browser.json'), '--heartbeat-ms', '500'],
      {},
    );
    try {
      await page.goto(`${platform.url}/devices`);
      await page.getByLabel('name filter').fill('cam-browser');
      const row = page.locator('tr[data-name="cam-browser"]');
      await waitFor(
        'the agent to show as active',
        async () => ((await row.getByTestId('device-connectivity').textContent({ timeout: 1000 })) === 'active' ? true : undefined),
        60_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\nagent output:\n${agent.output().slice(-3000)}`);
      });
      await screenshot(page, 'devices');
      // Operator intent is separate from health: locking changes adminState and keeps it connected.
      await row.getByRole('button', { name: 'Lock' }).click();
      await row.locator('.badge.locked').getByText('locked').waitFor();
      const id = (await row.getAttribute('data-device'))!;
      const locked: DeviceView = await platform.call('GET', `/api/devices/${id}`);
      expect(locked.adminState).toBe('locked');
      await row.getByRole('button', { name: 'Unlock' }).waitFor();
      await agent.stop('SIGTERM');
      await waitFor('the agent to show as inactive', async () => ((await row.getByTestId('device-connectivity').textContent({ timeout: 1000 })) === 'inactive' ? true : undefined), 60_000);
    } finally {
      await agent.stop('SIGKILL');
    }
  });

  it("answers unknown pages 404 with the export's 404 page, and says an unknown device was not found", async () => {
    const notFoundPage = fs.readFileSync(path.join(repoRoot, 'apps/dashboard/out/404.html'), 'utf8');
    for (const p of ['/nonexistent', '/favicon.ico', '/metrics/']) {
      const res = await fetch(`${platform.url}${p}`);
      expect([p, res.status]).toEqual([p, 404]);
      expect((await res.text()) === notFoundPage).toBe(true);
    }
    // Pages that exist, as links write them (no trailing slash, a query string) and as the export names them.
    for (const p of ['/sessions', '/sessions/', `/session?id=${sessionId}`, '/metrics']) {
      const res = await fetch(`${platform.url}${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect([p, res.status]).toEqual([p, 200]);
    }
    const res = await page.goto(`${platform.url}/nonexistent`);
    expect(res?.status()).toBe(404);
    await expect(page.getByTestId('not-found-path').textContent()).resolves.toBe('/nonexistent');
    await page.goto(`${platform.url}/device/?id=garbage`);
    await page.getByText('Device not found.').waitFor();
    expect(await page.getByText(/does not serve/).count()).toBe(0);
  });

  it('deletes an ended session from its page after a confirm, and goes back to the runs list without it', async () => {
    await page.goto(`${platform.url}/session?id=${crashedId}`);
    await page.locator('.badge.status-completed').first().waitFor();
    // Dismissed: nothing is deleted.
    page.once('dialog', (d) => void d.dismiss());
    await page.getByTestId('delete-run').click();
    expect((await platform.call<SessionView>('GET', `/api/sessions/${crashedId}`)).id).toBe(crashedId);
    page.once('dialog', (d) => {
      expect(d.message()).toContain('cannot be undone');
      void d.accept();
    });
    await page.getByTestId('delete-run').click();
    await page.waitForURL(/\/sessions\/?$/, { timeout: 30_000 });
    await page.locator(`tr[data-session="${sessionId}"]`).waitFor();
    await expect(page.locator(`tr[data-session="${crashedId}"]`).count()).resolves.toBe(0);
    await expect(platform.call('GET', `/api/sessions/${crashedId}`)).rejects.toThrow(/404/);
  });
});
