import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { SimulationView, StreamView } from '@ddnn/contracts';
import { repoRoot, waitFor } from '@ddnn/testing';
import { launchBrowser, type Platform, screenshotDir, signedInPage, startPlatform } from '../support/harness';
import { assertNoOverflow } from '../support/overflow';

let platform: Platform;
let browser: Browser;
let page: Page;
let stream: string;
// docs/screenshots after `npm run screenshots` (the README shows stream.png), tmp/screenshots otherwise.
const shots = screenshotDir;
const narrowShots = path.join(repoRoot, 'tmp', 'screenshots', 'streams-800');

/** Screenshot at 1280 and 800 px, each checked for overflow (per card at 1280, the page at 800). */
async function shoot(name: string): Promise<void> {
  fs.mkdirSync(shots, { recursive: true });
  fs.mkdirSync(narrowShots, { recursive: true });
  await assertNoOverflow(page, name);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 800, height: 900 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(narrowShots, `${name}.png`), fullPage: true });
  await assertNoOverflow(page, `${name} at 800 px`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

const decided = async () => (await platform.call<StreamView>('GET', `/api/streams/${stream}`)).summary?.samplesDecided ?? 0;

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
  page = await signedInPage(browser, platform.url);
  await page.setViewportSize({ width: 1280, height: 800 });
  const sim = await platform.call<SimulationView>('POST', '/api/simulations', { devices: 3, source: 'scene', scene: { seed: 2 } });
  ({ id: stream } = await platform.call<{ id: string }>('POST', '/api/streams', {
    modelId: 'default',
    topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
    policy: { kind: 'entropy', thresholds: { local: 0.5 } },
    mode: 'research',
    rate: 4,
    deadlineMs: 5000,
    simulationId: sim.id,
    name: 'street cameras',
  }));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

describe('streams in chromium against the real API', () => {
  it('lists a stream, watches it live over a window, replays a sample in it, compares over it and stops it', async () => {
    await page.goto(`${platform.url}/sessions`);
    await page.getByTestId('streams-table').getByRole('link', { name: 'street cameras' }).click();
    await page.getByTestId('stream-name').getByText('street cameras').waitFor();

    // Live: the window's sample count grows without a reload.
    const shown = async () => Number(await page.getByTestId('stat-samples').locator('.stat-value').textContent().catch(() => '0')) || 0;
    await waitFor('samples in the live view', async () => (await shown()) >= 3, 120_000, 300);
    const first = await shown();
    await waitFor('the live view to update', async () => (await shown()) > first, 60_000, 300);
    await page.getByTestId('window-samples').locator('tbody tr').first().waitFor();
    await shoot('stream');

    // A custom window: the last few seconds' samples only (fewer than the whole stream's).
    await page.getByRole('button', { name: 'custom' }).click();
    const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.locator('input[name=windowFrom]').fill(local(Date.now() - 60 * 60_000));
    await page.locator('input[name=windowTo]').fill(local(Date.now() + 60_000));
    await waitFor('the custom window to be read', async () => (await shown()) > 0, 60_000, 300);
    expect(await page.getByTestId('window-text').textContent()).toMatch(/samples decided in this window/);

    // Replay a sample of the window.
    const sampleLink = page.getByTestId('window-samples').locator('tbody tr a').first();
    const sampleIndex = (await sampleLink.textContent())?.trim();
    await sampleLink.click();
    await page.getByTestId('replay-window').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('replay-sample-index').textContent()).resolves.toBe(sampleIndex);
    await page.getByTestId('replay-exit-tier').waitFor();
    await shoot('stream-replay');
    await page.goBack();

    // Compare over the window.
    await page.getByTestId('stream-name').waitFor();
    await page.getByRole('button', { name: 'custom' }).click();
    await page.getByRole('button', { name: 'last 1 h' }).click();
    await page.getByTestId('window-samples').locator('tbody tr').first().waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const table = page.getByTestId('window-compare');
    await table.waitFor({ timeout: 60_000 });
    await expect(table.locator('tbody tr').count()).resolves.toBe(7);
    expect(await page.getByTestId('compare-window').textContent()).toMatch(/Samples \d+–\d+/);
    await shoot('stream-compare');

    // Stop.
    await page.getByRole('button', { name: 'Stop' }).click();
    await waitFor('the stream to stop', async () => (await platform.call<StreamView>('GET', `/api/streams/${stream}`)).status === 'stopped', 60_000, 300);
    await page.locator('.badge.status-stopped').first().waitFor({ timeout: 30_000 });
    const after = await decided();
    await page.waitForTimeout(1500);
    expect(await decided()).toBe(after);
  }, 400_000);
});
