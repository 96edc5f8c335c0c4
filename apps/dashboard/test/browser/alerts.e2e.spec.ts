import type { Browser, Page } from 'playwright-core';
import type { AlertListResponse, AlertRuleView, SimulationView } from '@ddnn/contracts';
import { waitFor } from '@ddnn/testing';
import { launchBrowser, type Platform, screenshot, signedInPage, startPlatform } from '../support/harness';

let platform: Platform;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  // Rules evaluated twice a second, so the page sees an alert fire within the test.
  platform = await startPlatform({ DDNN_ALERT_EVAL_INTERVAL_MS: '500' });
  browser = await launchBrowser();
  page = await signedInPage(browser, platform.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

describe('the Alerts page in chromium against the real API', () => {
  it('shows the default rules, creates a rule in the editor, shows its alert firing when a camera goes dark, acknowledges and silences it, edits and deletes the rule', async () => {
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor();
    await page.getByText('Nothing is pending or firing.').waitFor();
    // After the empty state: the harness's short inactivity timeout may make this device flap inactive (pending) on a busy machine.
    const sim = await platform.call<SimulationView>('POST', '/api/simulations', { devices: 1, persist: true });
    const deviceId = sim.devices[0].deviceId;
    for (const name of ['Device inactive', 'Device miss rate high', 'Local exit rate dropped', 'Estimated accuracy dropped']) {
      await page.getByTestId('rule-row').filter({ hasText: name }).waitFor();
    }

    // The editor refuses what the API would refuse, naming the field.
    await page.getByRole('button', { name: 'New rule' }).click();
    const form = page.getByRole('form', { name: 'alert rule' });
    await form.locator('select[name=metric]').selectOption('device_inactive');
    await form.locator('select[name=scopeKind]').selectOption('device');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await form.getByText('a name is required').waitFor();
    await form.getByText('the device id (a UUID)').waitFor();
    await form.locator('input[name=name]').fill('Camera dark now');
    await form.locator('input[name=scopeId]').fill(deviceId);
    await form.getByLabel('condition comparator').selectOption('>=');
    await form.locator('input[name=threshold]').fill('1');
    await form.locator('input[name=forSeconds]').fill('0');
    await form.getByLabel('clear comparator').selectOption('<');
    await form.locator('input[name=clearThreshold]').fill('1');
    await form.locator('input[name=windowMinutes]').fill('1');
    await form.locator('select[name=severity]').selectOption('critical');
    await screenshot(page, 'alerts-rule-editor');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await page.getByTestId('rule-row').filter({ hasText: 'Camera dark now' }).waitFor();
    const rules = await platform.call<AlertRuleView[]>('GET', '/api/alert-rules');
    const rule = rules.find((r) => r.name === 'Camera dark now')!;
    expect(rule).toMatchObject({ metric: 'device_inactive', scope: { kind: 'device', deviceId }, condition: { comparator: '>=', threshold: 1 }, forMs: 0, severity: 'critical', windowMs: 60_000 });

    // The camera goes dark: locking it disconnects it. Our rule fires at once; the default one waits its minute (pending).
    await platform.call('PATCH', `/api/devices/${deviceId}`, { adminState: 'locked' });
    const firing = page.getByTestId('alert-row').filter({ hasText: 'Camera dark now' });
    await firing.and(page.locator('[data-state=firing]')).waitFor({ timeout: 30_000 });
    await page.getByTestId('alert-row').filter({ hasText: 'Device inactive' }).and(page.locator('[data-state=pending]')).waitFor({ timeout: 30_000 });
    await expect(firing.locator('.badge.severity-critical').textContent()).resolves.toBe('critical');
    await screenshot(page, 'alerts');

    await firing.getByRole('button', { name: 'Acknowledge' }).click();
    await firing.getByRole('button', { name: 'Acknowledge' }).waitFor({ state: 'detached' });
    await firing.getByLabel('Silence for').selectOption({ label: '4 h' });
    await firing.getByRole('button', { name: 'Silence' }).click();
    await firing.getByTestId('silenced').waitFor();
    const open = await platform.call<AlertListResponse>('GET', `/api/alerts?state=firing&ruleId=${rule.id}`);
    expect(open.items).toHaveLength(1);
    expect(open.items[0].acknowledgedAt).not.toBeNull();
    const silencedFor = Date.parse(open.items[0].silencedUntil!) - Date.now();
    expect(silencedFor).toBeGreaterThan(3.9 * 3_600_000);
    expect(silencedFor).toBeLessThanOrEqual(4 * 3_600_000);

    // Edit: the severity changes in the table.
    await page.getByTestId('rule-row').filter({ hasText: 'Camera dark now' }).getByRole('button', { name: 'Edit' }).click();
    await form.locator('select[name=severity]').selectOption('major');
    await form.getByRole('button', { name: 'Save rule' }).click();
    await page.getByTestId('rule-row').filter({ hasText: 'Camera dark now' }).locator('.badge.severity-major').waitFor();

    // Delete: its alert resolves and moves to the past alerts.
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('rule-row').filter({ hasText: 'Camera dark now' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('rule-row').filter({ hasText: 'Camera dark now' }).waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: 'Past' }).click();
    await page.waitForURL(/view=past/);
    const past = page.getByTestId('alert-row').filter({ hasText: 'Camera dark now' });
    await past.and(page.locator('[data-state=resolved]')).waitFor({ timeout: 30_000 });
    await expect(past.textContent()).resolves.toContain('rule deleted');
    await screenshot(page, 'alerts-past');
    const resolved = await waitFor('the resolved alert', async () => {
      const r = await platform.call<AlertListResponse>('GET', `/api/alerts?state=resolved&ruleId=${rule.id}`);
      return r.items[0] ?? null;
    });
    expect(resolved.resolvedReason).toBe('rule-deleted');

    // 800 px wide: the open alerts and the editor still fit.
    await page.getByRole('tab', { name: 'Open' }).click();
    await page.setViewportSize({ width: 800, height: 900 });
    await page.getByTestId('alert-row').filter({ hasText: 'Device inactive' }).waitFor();
    await page.getByRole('button', { name: 'New rule' }).click();
    await screenshot(page, 'alerts-800', true);
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 240_000);

  it('registers a webhook and shows its secret once', async () => {
    await page.goto(`${platform.url}/alerts`);
    const form = page.getByRole('form', { name: 'new webhook' });
    await form.locator('input[name=webhookName]').fill('on-call');
    await form.locator('input[name=webhookUrl]').fill('ftp://example.com/hook');
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText('url must use http or https').waitFor();
    await form.locator('input[name=webhookUrl]').fill('http://127.0.0.1:9/hook');
    // Critical only: the default rule's alert from the first test (major) must not be sent here.
    await form.locator('select[name=minSeverity]').selectOption('critical');
    await form.getByRole('button', { name: 'Add webhook' }).click();
    const secret = await page.getByTestId('webhook-secret').locator('code').textContent();
    expect(secret).toMatch(/^ddnn_whsec_/);
    await page.getByTestId('webhooks-table').getByText('on-call').waitFor();
    await page.reload();
    await page.getByTestId('webhooks-table').getByText('on-call').waitFor();
    await expect(page.content()).resolves.not.toContain(secret!);
    await page.getByTestId('webhooks-table').getByRole('button', { name: 'Deliveries' }).click();
    await page.getByText('No notification sent yet.').waitFor();
  }, 60_000);
});
