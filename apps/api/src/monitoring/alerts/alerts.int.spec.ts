import { type AlertNotification, type AlertRuleView, type MetricName, type MetricSubject, streamIds, WEBHOOK_HEADERS } from '@ddnn/contracts';
import { getDeviceStatus } from '@ddnn/events';
import { startHttpReceiver, waitFor } from '@ddnn/testing';
import { call, startTestApi, type TestApi } from '../../../test/devices/test-app';
import { Database } from '../../database/database';
import { AlertEvaluator } from './alert-evaluator';
import { AlertRulesService } from './alert-rules.service';
import { METRIC_READER, type MetricReader } from './metric-reader';
import { WebhookDispatcher } from './webhook-dispatcher';
import { verifyWebhookSignature } from './webhook-signature';

const ADMIN = 'test-operator-token-alerts-0123';
const MIN = 60_000;

describe('alert rules, alerts and webhooks (real Postgres, two API nodes, a real HTTP receiver)', () => {
  let api: TestApi;
  let second: TestApi;
  /** The fake metric values the rules read, by `metric|deviceId|runId`. */
  const values = new Map<string, number | null>();
  const fake: MetricReader = { latest: async (metric: MetricName, subject: MetricSubject) => values.get(`${metric}|${subject.deviceId ?? ''}|${subject.runId ?? ''}`) ?? null };

  beforeAll(async () => {
    const env = { DDNN_ADMIN_TOKEN: ADMIN, DDNN_ALERT_EVAL_INTERVAL_MS: '3600000', DDNN_WEBHOOK_RETRY_BASE_MS: '50', DDNN_WEBHOOK_MAX_ATTEMPTS: '4' };
    api = await startTestApi(env);
    second = await startTestApi(env, api.db);
    for (const node of [api, second]) {
      const reader = node.app.get<MetricReader>(METRIC_READER, { strict: false });
      reader.latest = fake.latest;
    }
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await api?.close();
  });

  const evaluate = (node: TestApi, at: number) => node.app.get(AlertEvaluator, { strict: false }).evaluateNow(new Date(at));
  const drain = () => api.app.get(WebhookDispatcher, { strict: false }).drain();
  const streamTypes = async (ruleId: string) =>
    (await api.app.get(Database).store.readStream(streamIds.alert(ruleId))).map((e) => e.type);

  async function provisionDevice(name: string): Promise<string> {
    const profile = await call(api, 'POST', '/profiles', ADMIN, { name: `p-${name}` });
    expect(profile.status).toBe(201);
    const device = await call(api, 'POST', '/devices/provision', null, { profileKey: profile.body.provisioningKey, name, role: 'end-device', view: 0 });
    expect(device.status).toBe(201);
    return device.body.deviceId as string;
  }

  it('installs the six default rules once, whichever node starts first, and a deleted default stays deleted', async () => {
    const rules = (await call<AlertRuleView[]>(api, 'GET', '/alert-rules', ADMIN)).body;
    expect(rules.map((r) => r.defaultKey).sort()).toEqual(['device-inactive', 'device-miss-rate-high', 'device-view-degraded', 'estimated-accuracy-dropped', 'local-exit-rate-dropped', 'samples-unanswered']);
    expect(await streamTypes(rules[0].id)).toEqual(['AlertRuleCreated']);
    const missRate = rules.find((r) => r.defaultKey === 'device-miss-rate-high')!;
    expect((await call(api, 'DELETE', `/alert-rules/${missRate.id}`, ADMIN)).status).toBe(204);
    expect(await second.app.get(AlertRulesService, { strict: false }).installDefaults()).toBe(0);
    expect((await call<AlertRuleView[]>(api, 'GET', '/alert-rules', ADMIN)).body).toHaveLength(rules.length - 1);
    expect(await streamTypes(missRate.id)).toEqual(['AlertRuleCreated', 'AlertRuleDeleted']);
  });

  it('validates rules and webhooks at the boundary', async () => {
    const good = { name: 'r', metric: 'device_miss_rate', scope: { kind: 'all-devices' }, condition: { comparator: '>', threshold: 0.5 }, forMs: 0, severity: 'minor' };
    expect((await call(api, 'POST', '/alert-rules', null, good)).status).toBe(401);
    for (const bad of [
      { ...good, metric: 'cpu' },
      { ...good, scope: { kind: 'run' } },
      { ...good, scope: { kind: 'device', deviceId: 'not-a-uuid' } },
      { ...good, metric: 'samples_per_second' }, // a run metric has no per-device value
      { ...good, metric: 'device_inactive', scope: { kind: 'all-runs' } },
      { ...good, condition: { comparator: '=', threshold: 1 } },
      { ...good, condition: { comparator: '>', threshold: 'NaN' } },
      { ...good, forMs: -1 },
      { ...good, severity: 'fatal' },
      { ...good, extra: 1 },
    ]) {
      expect({ bad, status: (await call(api, 'POST', '/alert-rules', ADMIN, bad)).status }).toEqual({ bad, status: 400 });
    }
    const created = await call<AlertRuleView>(api, 'POST', '/alert-rules', ADMIN, good);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ clear: { comparator: '<=', threshold: 0.5 }, windowMs: 300_000, enabled: true, defaultKey: null, openAlerts: 0 });
    expect((await call(api, 'GET', '/alert-rules/00000000-0000-4000-8000-000000000000', ADMIN)).status).toBe(404);
    expect((await call(api, 'DELETE', `/alert-rules/${created.body.id}`, ADMIN)).status).toBe(204);

    for (const url of ['ftp://x/y', 'not a url', 'http://user:pw@host/x', 'javascript:alert(1)']) {
      expect((await call(api, 'POST', '/webhooks', ADMIN, { name: 'w', url })).status).toBe(400);
    }
    expect((await call(api, 'POST', '/alerts/00000000-0000-4000-8000-000000000000/acknowledge', ADMIN, {})).status).toBe(404);
  });

  it('device inactive (from the device status projection): pending, firing after its duration, one signed notification retried after 500s, resolved when the device is back', async () => {
    const receiver = await startHttpReceiver([500, 500, 200]);
    try {
      const hook = await call(api, 'POST', '/webhooks', ADMIN, { name: 'on-call', url: receiver.url });
      expect(hook.status).toBe(201);
      const secret = hook.body.secret as string;
      expect(secret).toMatch(/^ddnn_whsec_/);
      const listed = await call(api, 'GET', '/webhooks', ADMIN);
      expect(JSON.stringify(listed.body)).not.toContain(secret);
      expect(JSON.stringify((await call(api, 'GET', `/webhooks/${hook.body.id}`, ADMIN)).body)).not.toContain(secret);

      const deviceId = await provisionDevice('cam-dark');
      const store = api.app.get(Database).store;
      const projected = (c: string) => waitFor(`device ${c}`, async () => (await getDeviceStatus(api.app.get(Database).pool, deviceId))?.connectivity === c, 60_000);
      await store.appendToStream(streamIds.device(deviceId), [{ type: 'DeviceConnected', data: { deviceId, node: 'test', remoteAddress: null } }]);
      await projected('active');
      const rule = (await call<AlertRuleView[]>(api, 'GET', '/alert-rules', ADMIN)).body.find((r) => r.defaultKey === 'device-inactive')!;
      const t0 = Date.now();
      expect((await evaluate(api, t0)).changes).toBe(0);

      await store.appendToStream(streamIds.device(deviceId), [{ type: 'DeviceWentInactive', data: { deviceId, lastActivityAt: new Date().toISOString(), timeoutMs: 30_000 } }]);
      await projected('inactive');
      // Both nodes evaluate at once, repeatedly: one of them holds the lock, and nothing is duplicated.
      await Promise.all([evaluate(api, t0 + 1000), evaluate(second, t0 + 1000), evaluate(api, t0 + 2000), evaluate(second, t0 + 2000)]);
      let open = await call(api, 'GET', `/alerts?state=open&deviceId=${deviceId}`, ADMIN);
      expect(open.body.total).toBe(1);
      expect(open.body.items[0]).toMatchObject({ state: 'pending', ruleName: 'Device inactive', subjectName: 'cam-dark', value: 1, severity: 'major' });
      expect((await evaluate(second, t0 + 30_000)).changes).toBe(0); // still pending: 29 s < 60 s
      await Promise.all([evaluate(api, t0 + 62_000), evaluate(second, t0 + 62_000)]);
      open = await call(api, 'GET', `/alerts?state=firing`, ADMIN);
      expect(open.body.total).toBe(1);
      const alertId = open.body.items[0].id as string;

      await waitFor('the delivery after two 500s', async () => {
        await drain();
        return receiver.received.length >= 3;
      }, 20_000);
      expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 200]);
      const bodies = new Set(receiver.received.map((r) => r.body));
      expect(bodies.size).toBe(1); // every retry sends the same bytes, signed the same
      for (const r of receiver.received) {
        expect(verifyWebhookSignature(secret, r.body, r.headers[WEBHOOK_HEADERS.signature] as string)).toBe(true);
        expect(verifyWebhookSignature('another-secret', r.body, r.headers[WEBHOOK_HEADERS.signature] as string)).toBe(false);
        expect(r.headers[WEBHOOK_HEADERS.event]).toBe('alert.firing');
      }
      const note = JSON.parse(receiver.received[0].body) as AlertNotification;
      expect(note).toMatchObject({ event: 'alert.firing', alert: { id: alertId, state: 'firing', subject: { deviceId } }, rule: { id: rule.id, metric: 'device_inactive' } });
      expect(receiver.received[0].headers[WEBHOOK_HEADERS.delivery]).toBe(note.deliveryId);

      const deliveries = await call(api, 'GET', `/webhooks/${hook.body.id}/deliveries`, ADMIN);
      expect(deliveries.body.total).toBe(1);
      expect(deliveries.body.items[0]).toMatchObject({ status: 'delivered', alertId, event: 'alert.firing', nextAttemptAt: null });
      expect(deliveries.body.items[0].attempts.map((a: { attempt: number; httpStatus: number; error: string | null }) => [a.attempt, a.httpStatus, a.error])).toEqual([
        [1, 500, 'HTTP 500'],
        [2, 500, 'HTTP 500'],
        [3, 200, null],
      ]);

      // Acknowledged (once: a second acknowledgement logs nothing), still firing.
      const ack = await call(api, 'POST', `/alerts/${alertId}/acknowledge`, ADMIN, { note: 'on it' });
      expect(ack.body).toMatchObject({ state: 'firing', ackNote: 'on it' });
      expect(ack.body.acknowledgedAt).not.toBeNull();
      await call(api, 'POST', `/alerts/${alertId}/acknowledge`, ADMIN, {});

      await store.appendToStream(streamIds.device(deviceId), [{ type: 'DeviceConnected', data: { deviceId, node: 'test', remoteAddress: null } }]);
      await projected('active');
      await Promise.all([evaluate(api, t0 + 70_000), evaluate(second, t0 + 70_000)]);
      const resolved = await call(api, 'GET', `/alerts/${alertId}`, ADMIN);
      expect(resolved.body).toMatchObject({ state: 'resolved', resolvedReason: 'cleared', value: 0 });
      await waitFor('the resolved notification', async () => {
        await drain();
        return receiver.received.length >= 4;
      }, 20_000);
      expect(receiver.received[3].headers[WEBHOOK_HEADERS.event]).toBe('alert.resolved');
      expect(verifyWebhookSignature(secret, receiver.received[3].body, receiver.received[3].headers[WEBHOOK_HEADERS.signature] as string)).toBe(true);

      expect(await streamTypes(rule.id)).toEqual(['AlertRuleCreated', 'AlertPending', 'AlertFiring', 'AlertAcknowledged', 'AlertResolved']);
      expect((await call(api, 'DELETE', `/webhooks/${hook.body.id}`, ADMIN)).status).toBe(204);
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('any metric through the MetricReader: hysteresis, a pending alert that never fires, silence, a deleted device, a deleted rule', async () => {
    const receiver = await startHttpReceiver([]);
    try {
      const hook = await call(api, 'POST', '/webhooks', ADMIN, { name: 'majors', url: receiver.url, minSeverity: 'major' });
      const deviceId = await provisionDevice('cam-miss');
      const key = `device_miss_rate|${deviceId}|`;
      const created = await call<AlertRuleView>(api, 'POST', '/alert-rules', ADMIN, {
        name: 'cam-miss misses',
        metric: 'device_miss_rate',
        scope: { kind: 'device', deviceId },
        condition: { comparator: '>', threshold: 0.2 },
        clear: { comparator: '<', threshold: 0.1 },
        forMs: MIN,
        severity: 'critical',
      });
      expect(created.status).toBe(201);
      const ruleId = created.body.id;
      const t0 = Date.now();
      const state = async () => (await call(api, 'GET', `/alerts?ruleId=${ruleId}`, ADMIN)).body.items.map((a: { state: string }) => a.state);

      values.set(key, null); // no data: nothing opens
      await evaluate(api, t0);
      expect(await state()).toEqual([]);
      values.set(key, 0.5);
      await evaluate(api, t0);
      values.set(key, 0.05); // drops before the duration: the pending alert closes unfired, announced to nobody
      await evaluate(api, t0 + 10_000);
      expect(await state()).toEqual(['resolved']);

      values.set(key, 0.5);
      await evaluate(api, t0 + 20_000);
      await evaluate(api, t0 + 20_000 + MIN);
      expect(await state()).toEqual(['firing', 'resolved']);
      const firing = (await call(api, 'GET', `/alerts?ruleId=${ruleId}&state=firing`, ADMIN)).body.items[0];
      values.set(key, 0.15); // inside the hysteresis band: stays firing, its value updated
      await evaluate(api, t0 + 30_000 + MIN);
      expect((await call(api, 'GET', `/alerts/${firing.id}`, ADMIN)).body).toMatchObject({ state: 'firing', value: 0.15 });
      await waitFor('the firing notification', async () => {
        await drain();
        return receiver.received.length === 1;
      }, 20_000);

      // Silenced: the resolution and the next firing of the same rule and subject notify nobody.
      const until = new Date(Date.now() + 3_600_000).toISOString();
      expect((await call(api, 'POST', `/alerts/${firing.id}/silence`, ADMIN, { until: 'tomorrow' })).status).toBe(400);
      expect((await call(api, 'POST', `/alerts/${firing.id}/silence`, ADMIN, { until: new Date(Date.now() + 40 * 86_400_000).toISOString() })).status).toBe(400);
      expect((await call(api, 'POST', `/alerts/${firing.id}/silence`, ADMIN, { until })).body.silencedUntil).toBe(until);
      values.set(key, 0.05);
      await evaluate(api, t0 + 40_000 + MIN);
      values.set(key, 0.9);
      await evaluate(api, t0 + 50_000 + MIN);
      await evaluate(api, t0 + 50_000 + 2 * MIN);
      const again = (await call(api, 'GET', `/alerts?ruleId=${ruleId}&state=firing`, ADMIN)).body.items[0];
      expect(again.silencedUntil).toBe(until);
      await drain();
      expect(receiver.received).toHaveLength(1);

      // The device is deleted: its alert resolves (subject gone); then the rule is deleted.
      expect((await call(api, 'DELETE', `/devices/${deviceId}`, ADMIN)).status).toBe(204);
      await evaluate(api, t0 + 60_000 + 2 * MIN);
      expect((await call(api, 'GET', `/alerts/${again.id}`, ADMIN)).body).toMatchObject({ state: 'resolved', resolvedReason: 'subject-gone' });
      expect((await call(api, 'DELETE', `/alert-rules/${ruleId}`, ADMIN)).status).toBe(204);
      expect((await call(api, 'GET', `/alerts?ruleId=${ruleId}`, ADMIN)).body.total).toBe(3); // history stays
      expect(await streamTypes(ruleId)).toEqual([
        'AlertRuleCreated',
        'AlertPending',
        'AlertResolved',
        'AlertPending',
        'AlertFiring',
        'AlertSilenced',
        'AlertResolved',
        'AlertPending',
        'AlertFiring',
        'AlertResolved',
        'AlertRuleDeleted',
      ]);
      await call(api, 'DELETE', `/webhooks/${hook.body.id}`, ADMIN);
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it('gives up after the last attempt and records why (connection refused)', async () => {
    const receiver = await startHttpReceiver([]);
    const url = receiver.url;
    await receiver.close(); // nothing listens there any more
    const hook = await call(api, 'POST', '/webhooks', ADMIN, { name: 'gone', url });
    const deviceId = await provisionDevice('cam-gone');
    const ruleId = (
      await call<AlertRuleView>(api, 'POST', '/alert-rules', ADMIN, { name: 'now', metric: 'device_latency_p95', scope: { kind: 'device', deviceId }, condition: { comparator: '>', threshold: 100 }, forMs: 0, severity: 'warning' })
    ).body.id;
    values.set(`device_latency_p95|${deviceId}|`, 500);
    await evaluate(api, Date.now());
    const delivery = await waitFor('the failed delivery', async () => {
      await drain();
      const d = (await call(api, 'GET', `/webhooks/${hook.body.id}/deliveries`, ADMIN)).body.items[0];
      return d?.status === 'failed' ? d : null;
    }, 20_000);
    expect(delivery.attempts).toHaveLength(4);
    expect(delivery.attempts.every((a: { httpStatus: number | null; error: string }) => a.httpStatus === null && a.error === 'ECONNREFUSED')).toBe(true);
    await call(api, 'DELETE', `/alert-rules/${ruleId}`, ADMIN);
  }, 40_000);
});
