import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { StreamView } from '@ddnn/contracts';
import { repoRoot, waitFor } from '@ddnn/testing';
import { launchBrowser, type Platform, screenshotDir, signedInPage, startPlatform, startSceneStream, streamLog } from '../support/harness';
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
  ({ id: stream } = await startSceneStream(platform, { name: 'street cameras', devices: 3, seed: 2, rate: 4, deadlineMs: 5000 }));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

describe('streams in chromium against the real API', () => {
  it('lists a stream, watches it live over /live (labels too), replays a sample in it, compares policies over its window on /compare and stops it', async () => {
    // Nothing the dashboard itself serves is missing (the favicon was, on every page); the API's 404s are its own.
    const missing: string[] = [];
    page.on('response', (r) => r.status() === 404 && !new URL(r.url()).pathname.startsWith('/api/') && missing.push(r.url()));
    // The overview shows the running stream beside the sessions, and leads to it.
    await page.goto(`${platform.url}/`);
    await page.getByTestId('stat-running-streams').locator('.stat-value').getByText('1', { exact: true }).waitFor();
    await page.getByTestId('streams-table').getByRole('link', { name: 'street cameras' }).waitFor();
    await page.goto(`${platform.url}/sessions`);
    await page.getByTestId('streams-table').getByRole('link', { name: 'street cameras' }).click();
    await page.getByTestId('stream-name').getByText('street cameras').waitFor();

    // Live over /live: the feed is up, and the window's sample count grows with no read of the window's events
    // (the page reads them once; only the socket brings more).
    const shown = async () => Number(await page.getByTestId('stat-samples').locator('.stat-value').textContent().catch(() => '0')) || 0;
    const isEventsRead = (r: { url(): string }) => r.url().includes(`/api/streams/${stream}/events`);
    // Reads begun before the feed was up (the window's pages, the subscription's catch-up) may still be paging: the
    // count starts once none has been in flight for a second. Under a loaded CI one such page was counted.
    let inFlight = 0;
    let lastReadAt = Date.now();
    const began = (r: { url(): string }) => isEventsRead(r) && (inFlight++, (lastReadAt = Date.now()));
    const ended = (r: { url(): string }) => isEventsRead(r) && (inFlight--, (lastReadAt = Date.now()));
    page.on('request', began);
    page.on('requestfinished', ended);
    page.on('requestfailed', ended);
    await page.locator('[data-testid=live-indicator][data-state=live]').waitFor({ timeout: 60_000 });
    await waitFor('samples in the live view', async () => (await shown()) >= 3, 120_000, 300);
    // A read whose end playwright never reported (an aborted page read) would hold inFlight up for ever: five quiet
    // seconds with no read begun or ended stand for its end (a CI run timed out here after 30 s).
    await waitFor('the reads begun before the feed to end', async () => Date.now() - lastReadAt >= (inFlight === 0 ? 1000 : 5000), 60_000, 100);
    page.off('request', began);
    page.off('requestfinished', ended);
    page.off('requestfailed', ended);
    const reads: string[] = [];
    const onRequest = (r: { url(): string }) => isEventsRead(r) && reads.push(r.url());
    page.on('request', onRequest);
    const first = await shown();
    await waitFor('the live view to grow by 3 samples', async () => (await shown()) >= first + 3, 60_000, 300);
    page.off('request', onRequest);
    expect(reads).toEqual([]);
    expect(await page.getByTestId('live-fallback').count()).toBe(0);

    // A label posted late reaches the open page through the feed: accuracy on labelled appears.
    const newest = Number((await page.getByTestId('window-samples').locator('tbody tr a').first().textContent())?.trim());
    await platform.call('POST', `/api/streams/${stream}/labels`, [{ sampleIndex: newest, label: 0 }]);
    await waitFor('the label in the live view', async () => /right of 1 labelled/.test((await page.getByTestId('stat-accuracy').textContent()) ?? ''), 30_000, 200);
    expect(await page.getByTestId('stat-accuracy').locator('.stat-value').textContent()).toMatch(/^\d+(\.\d)?%$/);

    // The replay of that sample shows the label (a stream's samples start unlabelled: it came as SampleLabelled).
    const { classes: streamClasses } = (await platform.call<StreamView>('GET', `/api/streams/${stream}`)).summary!;
    const replay = await signedInPage(browser, platform.url);
    await replay.goto(`${platform.url}/replay?stream=${stream}&sample=${newest}`);
    await expect(replay.getByTestId('replay-sample-index').textContent({ timeout: 60_000 })).resolves.toBe(String(newest));
    await expect(replay.getByTestId('replay-label').locator('.stat-value').textContent()).resolves.toBe(streamClasses[0]);
    expect(await replay.getByTestId('replay-cum-accuracy').locator('.stat-value').textContent()).toMatch(/^\d+(\.\d)?%$/);

    // Monitoring lists the stream among the runs, and keeps it selected when the URL names it.
    await replay.goto(`${platform.url}/monitoring?run=${stream}&range=1h&refresh=off`);
    const runSelect = replay.locator('select[name=run]');
    await runSelect.locator('optgroup[label=Streams] option', { hasText: 'street cameras' }).waitFor({ state: 'attached' });
    await expect(runSelect.inputValue()).resolves.toBe(stream);
    await expect(runSelect.locator('option:checked').textContent()).resolves.toMatch(/^street cameras · running$/);

    // The topology of a stream, by the id the session page's link carries as ?session=: its 3 devices, local and cloud.
    await replay.goto(`${platform.url}/topology?session=${stream}`);
    await expect(replay.getByTestId('topology-run').textContent({ timeout: 60_000 })).resolves.toBe('street cameras');
    await replay.getByTestId('topology-graph').locator('.react-flow__node').first().waitFor();
    await expect(replay.getByTestId('topology-graph').locator('.react-flow__node').count()).resolves.toBe(3 + 2);
    await replay.close();

    // Without the feed (its socket refused, WebSocket and long-polling both), the page says so and reads the
    // window again every few seconds: the count still grows.
    const offline = await signedInPage(browser, platform.url);
    await offline.routeWebSocket(/\/socket\.io\//, (ws) => ws.close());
    await offline.route(/\/socket\.io\//, (r) => r.abort());
    await offline.goto(`${platform.url}/stream?id=${stream}`);
    await offline.getByTestId('live-fallback').waitFor({ timeout: 60_000 });
    await offline.locator('[data-testid=live-indicator][data-state=stale]').waitFor();
    const polled = async () => Number(await offline.getByTestId('stat-samples').locator('.stat-value').textContent().catch(() => '0')) || 0;
    await waitFor('samples on the polling page', async () => (await polled()) > 0, 60_000, 300);
    const polledFirst = await polled();
    await waitFor('the polling page to grow', async () => (await polled()) > polledFirst, 60_000, 300);
    await offline.close();
    await page.getByTestId('window-samples').locator('tbody tr').first().waitFor();
    // Predictions by the stream's class names (StreamStarted.classes), as the session pages name them.
    const { classes } = (await platform.call<StreamView>('GET', `/api/streams/${stream}`)).summary!;
    expect(classes.length).toBeGreaterThan(0);
    const predictions = await page.getByTestId('window-samples').locator('tbody tr td:nth-child(4)').allTextContents();
    expect(predictions.length).toBeGreaterThan(0);
    for (const p of predictions) expect(classes).toContain(p.replace(/ [✓✗].*$/, ''));
    await shoot('stream');

    // A custom window: the last few seconds' samples only (fewer than the whole stream's).
    await page.getByRole('button', { name: 'custom' }).click();
    const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.locator('input[name=windowFrom]').fill(local(Date.now() - 60 * 60_000));
    await page.locator('input[name=windowTo]').fill(local(Date.now() + 60_000));
    await waitFor('the custom window to be read', async () => (await shown()) > 0, 60_000, 300);
    expect(await page.getByTestId('window-text').textContent()).toMatch(/samples decided in this window/);

    // Replay a sample of the window.
    // The stream goes on while the page shows it, so the first row may be a newer sample by the time of the click:
    // click the link of the sample read, wherever its row has moved.
    const sampleIndex = (await page.getByTestId('window-samples').locator('tbody tr a').first().textContent())?.trim() ?? '';
    await page.getByTestId('window-samples').getByRole('link', { name: sampleIndex, exact: true }).click();
    await page.getByTestId('replay-window').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('replay-sample-index').textContent()).resolves.toBe(sampleIndex);
    await page.getByTestId('replay-exit-tier').waitFor();
    await shoot('stream-replay');
    await page.goBack();

    // Compare over the window: the stream page hands its window of samples to /compare, whose table and sweep
    // evaluate exactly those samples.
    await page.getByTestId('stream-name').waitFor();
    await page.getByRole('button', { name: 'custom' }).click();
    await page.getByRole('button', { name: 'last 1 h' }).click();
    await page.getByTestId('window-samples').locator('tbody tr').first().waitFor({ timeout: 60_000 });
    await page.getByTestId('compare-window-link').click();
    await page.getByTestId('compare-table').waitFor({ timeout: 90_000 });
    const windowParam = new URL(page.url()).searchParams.get('windows') ?? '';
    const m = new RegExp(`^${stream}:(\\d+)-(\\d+)@\\d+$`).exec(windowParam);
    expect(m).not.toBeNull();
    const [lo, hi] = [Number(m?.[1]), Number(m?.[2])];
    // Finished samples: decided, or without an answer (each compare row answers some of them, the rest unanswered).
    const inWindow = new Set(
      (await streamLog(platform, stream)).flatMap((e) =>
        ((e.type === 'ExitDecided' && e.data.exited && !e.data.shadow) || e.type === 'SampleUnanswered') && e.data.sampleIndex >= lo && e.data.sampleIndex <= hi ? [e.data.sampleIndex] : [],
      ),
    );
    const rows = page.getByTestId('compare-table').locator('tbody tr');
    await expect(rows.count()).resolves.toBe(7);
    const cells = page.getByTestId('compare-samples');
    expect(await cells.count()).toBe(7);
    const counts = new Set<number>();
    for (let i = 0; i < 7; i++) counts.add(Number(await cells.nth(i).getAttribute('data-samples')) + Number(await cells.nth(i).getAttribute('data-unanswered')));
    expect(counts).toEqual(new Set([inWindow.size]));
    expect(await page.getByTestId('picked-windows').textContent()).toContain(`samples ${lo}–${hi}`);
    // A sweep whose accuracy is the same at every T is a flat line, of zero height, which playwright calls hidden:
    // wait for the curve to be drawn rather than visible.
    const curve = page.getByTestId('sweep-chart').locator('.recharts-line path.recharts-curve').first();
    await curve.waitFor({ state: 'attached' });
    expect(await curve.getAttribute('d')).toMatch(/^M\s*[\d.-]+[,\s]+[\d.-]+\s*[LC]/);
    // Its device side is on the same samples (compare-stream.e2e.spec.ts checks its numbers against the log).
    await page.getByTestId('device-table').locator('tbody tr').first().waitFor();
    await shoot('stream-compare');
    await page.goBack();

    // Stop.
    await page.getByRole('button', { name: 'Stop' }).click();
    await waitFor('the stream to stop', async () => (await platform.call<StreamView>('GET', `/api/streams/${stream}`)).status === 'stopped', 60_000, 300);
    await page.locator('.badge.status-stopped').first().waitFor({ timeout: 30_000 });
    const after = await decided();
    await page.waitForTimeout(1500);
    expect(await decided()).toBe(after);
    expect(missing).toEqual([]);
  }, 400_000);
});
