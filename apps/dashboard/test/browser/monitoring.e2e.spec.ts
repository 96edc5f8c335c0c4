import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { DeviceView, MetricSeries, SessionView, SimulationView } from '@ddnn/contracts';
import { writeSynthDataset } from '@ddnn/datasets';
import { waitFor } from '@ddnn/testing';
import { launchBrowser, type Platform, screenshot, signedInPage, startPlatform } from '../support/harness';
import { assertAxisTicksInside } from '../support/overflow';

let platform: Platform;
let browser: Browser;
let page: Page;
let reference: string;
let run: string;
let deviceId: string;

/** A research session over the synthetic test split on the simulation's devices, run to completion. */
async function runSession(sim: SimulationView, name: string, dataset = 'synth'): Promise<string> {
  const { id } = await platform.call<{ id: string }>('POST', '/api/sessions', {
    modelId: 'default',
    dataset,
    split: 'test',
    topology: { devices: sim.devices.filter((d) => d.role === 'end-device').map((d) => ({ deviceId: d.deviceId, view: d.view })) },
    policy: { kind: 'entropy', thresholds: { local: 0.8 } },
    mode: 'production',
    deadlineMs: 2000,
    name,
  });
  await waitFor(`session ${name} to complete`, async () => (await platform.call<SessionView>('GET', `/api/sessions/${id}`)).status === 'completed', 180_000, 250);
  return id;
}

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
  page = await signedInPage(browser, platform.url);
  const sim = await platform.call<SimulationView>('POST', '/api/simulations', { devices: 6, persist: true });
  deviceId = sim.devices[0].deviceId;
  // The first session is the labelled reference the second one's estimate is calibrated on: a default reference holds
  // at least 30 labelled samples (the platform's synth has 12 in its test split), so it runs over other data.
  await writeSynthDataset(path.join(platform.dataDir, 'datasets', 'reference'), { samples: 200, views: 6, seed: 6 });
  reference = await runSession(sim, 'reference run', 'reference');
  run = await runSession(sim, 'monitored run');
  await waitFor('the rollup to hold the monitored run', async () => {
    const s = await platform.call<MetricSeries>('GET', `/api/metrics?metric=samples_per_second&runId=${run}&step=1h`);
    return s.points.some((p) => p.n > 0);
  });
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

describe('monitoring in chromium against the real API', () => {
  it('charts a run over a chosen window, with the estimate calibrated on the labelled reference', async () => {
    await page.goto(`${platform.url}/monitoring?run=${run}&range=1h&refresh=off`);
    await page.getByRole('heading', { name: 'Monitoring' }).waitFor();
    for (const id of ['chart-samples_per_second', 'chart-exit_rate_local', 'chart-accuracy_labelled', 'chart-device_latency_p50']) {
      await page.locator(`[data-testid="${id}"][data-filled=yes]`).waitFor({ timeout: 30_000 });
    }
    // An hour at one-minute steps.
    await expect(page.getByTestId('chart-samples_per_second').getAttribute('data-points')).resolves.toBe('60');
    await page.getByTestId('chart-accuracy_labelled-reference').getByText(reference.slice(0, 8)).waitFor();
    await expect(page.locator('[data-testid="chart-exit_rate_local"] .recharts-line path.recharts-curve').count()).resolves.toBeGreaterThan(0);
    await assertAxisTicksInside(page, 'monitoring');
    await screenshot(page, 'monitoring');
    await screenshot(page, 'monitoring-full', true);

    // Another window re-asks the API: six hours at one minute, the URL keeps the choice.
    await page.locator('select[name=range]').selectOption('6h');
    await page.locator('[data-testid="chart-samples_per_second"][data-points="360"]').waitFor();
    expect(new URL(page.url()).searchParams.get('range')).toBe('6h');

    // A device narrows the charts to what that device did.
    await page.locator('select[name=device]').selectOption(deviceId);
    await page.getByTestId('chart-exit_rate_local').waitFor({ state: 'detached' });
    await page.locator('[data-testid="chart-device_latency_p50"][data-filled=yes]').waitFor();
    // Its own DDNN signal: how often it named the class most of the other devices named.
    await page.locator('[data-testid="chart-peer_agreement"][data-filled=yes]').waitFor();
    await page.getByTestId('chart-peer_agreement_drift').waitFor();
    expect(new URL(page.url()).searchParams.get('device')).toBe(deviceId);

    // A link: the bytes it carried.
    await page.locator('input[name=link]').fill(`${deviceId}->local`);
    await page.getByRole('button', { name: 'Show link' }).click();
    await page.locator('[data-testid="chart-bytes_per_second"][data-filled=yes]').waitFor();

    await page.setViewportSize({ width: 800, height: 900 });
    await page.goto(`${platform.url}/monitoring?run=${run}&range=1h&refresh=off`);
    await page.locator('[data-testid="chart-samples_per_second"][data-filled=yes]').waitFor();
    await assertAxisTicksInside(page, 'monitoring at 800 px');
    await screenshot(page, 'monitoring-800');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('auto-refreshes: a window that moves asks again', async () => {
    await page.goto(`${platform.url}/monitoring?run=${run}&range=1h&refresh=10s`);
    await page.locator('[data-testid="chart-samples_per_second"][data-filled=yes]').waitFor();
    const asked: string[] = [];
    page.on('request', (r) => r.url().includes('/api/metrics?metric=samples_per_second') && asked.push(r.url()));
    await waitFor('a refresh', () => asked.length > 0, 25_000, 200);
  });

  it("shows a device's connectivity, latency and misses over time on its page", async () => {
    await page.goto(`${platform.url}/device?id=${deviceId}`);
    await page.getByTestId('device-over-time').waitFor();
    await page.locator('[data-testid=connectivity-strip][data-spans*=connected]').waitFor();
    await page.locator('[data-testid="device-latency"][data-filled=yes]').waitFor();
    await page.locator('[data-testid="device-misses"][data-filled=yes]').waitFor();
    // Its lifetime counters: the dataset's views that were not captured apart from misses, as device_miss_rate counts.
    const log = await waitFor("the page to show the device's lifetime counters", async () => {
      const { log } = await platform.call<DeviceView>('GET', `/api/devices/${deviceId}`);
      const shown = await page.getByTestId('device-answers').textContent();
      return log && shown === `${log.answered} · ${log.missed} · ${log.notCaptured}` ? log : undefined;
    });
    expect(log.notCaptured).toBeGreaterThan(0);
    expect(log.missRate).toBe(log.missed / (log.answered + log.missed));
    await expect(page.getByTestId('device-miss-rate').textContent()).resolves.toMatch(/^\d+(\.\d)?%$/);
    // Full pages: the page polls the device, so its sections never hold still long enough to scroll to.
    await screenshot(page, 'device-over-time', true);
    await page.setViewportSize({ width: 800, height: 900 });
    await page.locator('[data-testid="device-latency"][data-filled=yes]').waitFor();
    await screenshot(page, 'device-over-time-800', true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
