import { randomUUID } from 'node:crypto';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { type NewEvent, streamIds } from '@ddnn/contracts';
import { call, startTestApi, type TestApi } from '../../../test/devices/test-app';
import { Database } from '../../database/database';
import { ClusterTotalsRunner } from './cluster-totals.runner';

const ADMIN = 'test-operator-token-prom-012345';
const METRICS_TOKEN = 'test-metrics-token-0123456789';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

async function scrape(api: TestApi, token: string | null): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${api.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /metrics (real Postgres, two API nodes, parsed by a Prometheus text-format parser)', () => {
  let api: TestApi;
  let second: TestApi;

  beforeAll(async () => {
    const env = { DDNN_ADMIN_TOKEN: ADMIN, DDNN_METRICS_TOKEN: METRICS_TOKEN, DDNN_ALERT_EVAL_INTERVAL_MS: '3600000' };
    api = await startTestApi(env);
    second = await startTestApi(env, api.db);
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    await api?.close();
  });

  it('takes the operator token or the metrics token, and the metrics token opens nothing else', async () => {
    expect((await scrape(api, null)).status).toBe(401);
    expect((await scrape(api, 'wrong-token-0123456789')).status).toBe(401);
    const ok = await scrape(api, METRICS_TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect((await scrape(api, ADMIN)).status).toBe(200);
    expect((await call(api, 'GET', '/alert-rules', METRICS_TOKEN)).status).toBe(401);
    expect((await fetch(`${api.url}/api/metrics-not-here`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404);
  });

  it('counts what the log holds exactly once across nodes, with bounded labels, in a format Prometheus parses', async () => {
    const db = api.app.get(Database);
    const session = randomUUID();
    const stream = randomUUID();
    const device = randomUUID();
    const base = { sessionId: session, shadow: false };
    const sampleEvents = (i: number, tier: 'local' | 'cloud'): NewEvent[] => [
      { type: 'SampleStarted', data: { sessionId: session, sampleIndex: i, sampleId: `s${i}`, label: 1 } },
      { type: 'SectionEvaluated', data: { ...base, sampleIndex: i, tier: 'device', node: device, view: 0, probabilities: [0.5, 0.5], entropy: 1, latencyMs: i === 0 ? 12 : 700 } },
      { type: 'SectionEvaluated', data: { ...base, sampleIndex: i, tier: 'device', node: device, view: 0, probabilities: [0.5, 0.5], entropy: 1, latencyMs: 99, shadow: true } },
      { type: 'BytesTransferred', data: { ...base, sampleIndex: i, from: device, to: 'local', kind: 'scores', bytes: 12 } },
      { type: 'BytesTransferred', data: { ...base, sampleIndex: i, from: device, to: 'cloud', kind: 'features', bytes: 1000, shadow: true } },
      { type: 'ExitDecided', data: { ...base, sampleIndex: i, tier, eta: 0.1, threshold: tier === 'local' ? 0.5 : null, policy: 'entropy', exited: true, prediction: 1, label: 1 } },
    ];
    // Through the node's batching writer (its append latency is observed) and straight through the store.
    await db.writer.append(streamIds.session(session), [...sampleEvents(0, 'local'), ...sampleEvents(1, 'cloud')]);
    await db.store.appendToStream(streamIds.session(session), [
      { type: 'DeviceMissed', data: { sessionId: session, sampleIndex: 2, deviceId: device, view: 0, stage: 'scores', deadlineMs: 100, reason: 'timeout' } },
    ]);
    await db.store.appendToStream(`stream-${stream}`, [
      { type: 'SampleStarted', data: { sessionId: stream, sampleIndex: 0, sampleId: 'x', label: null } },
      { type: 'SampleUnanswered', data: { sessionId: stream, sampleIndex: 0, label: null } },
    ]);
    // Both nodes run the totals subscription; each event is counted once all the same.
    await Promise.all([api.app.get(ClusterTotalsRunner).catchUp(), second.app.get(ClusterTotalsRunner).catchUp()]);

    const texts = [await scrape(api, METRICS_TOKEN), await scrape(second, ADMIN)];
    const parsed = texts.map((t) => parsePrometheusTextFormat(t.text));
    const family = (i: number, name: string) => {
      const f = parsed[i].find((x) => x.name === name);
      if (!f) throw new Error(`${name} missing from /metrics`);
      return f;
    };
    const value = (i: number, name: string, labels: Record<string, string>) =>
      Number(family(i, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);

    for (const i of [0, 1]) {
      expect(value(i, 'ddnn_samples_total', { run_kind: 'session' })).toBe(2);
      expect(value(i, 'ddnn_samples_total', { run_kind: 'stream' })).toBe(1);
      expect(value(i, 'ddnn_exits_total', { tier: 'local' })).toBe(1);
      expect(value(i, 'ddnn_exits_total', { tier: 'cloud' })).toBe(1);
      expect(value(i, 'ddnn_exits_total', { tier: 'edge' })).toBe(0);
      expect(value(i, 'ddnn_samples_unanswered_total', { run_kind: 'stream' })).toBe(1);
      expect(value(i, 'ddnn_samples_unanswered_total', { run_kind: 'session' })).toBe(0);
      expect(value(i, 'ddnn_transferred_bytes_total', { kind: 'scores' })).toBe(24);
      expect(value(i, 'ddnn_transferred_bytes_total', { kind: 'features' })).toBe(0); // shadow traffic is not counted
      expect(value(i, 'ddnn_device_misses_total', { reason: 'timeout' })).toBe(1);
      expect(family(i, 'ddnn_exits_total').type).toBe('COUNTER');
      const latency = family(i, 'ddnn_device_latency_seconds');
      expect(latency.type).toBe('HISTOGRAM');
      const device = latency.metrics[0];
      expect(Number(device.count)).toBe(2);
      expect(Number(device.sum)).toBeCloseTo(0.712, 6);
      expect(Number(device.buckets?.['0.01'])).toBe(0);
      expect(Number(device.buckets?.['0.025'])).toBe(1);
      expect(Number(device.buckets?.['1'])).toBe(2);
      expect(Number(device.buckets?.['+Inf'])).toBe(2);
      expect(family(i, 'ddnn_devices').metrics.map((m) => m.labels?.state).sort()).toEqual(['active', 'disconnected', 'inactive', 'never-connected']);
      expect(value(i, 'ddnn_alerts_open', { severity: 'critical', state: 'firing' })).toBe(0);
      expect(value(i, 'ddnn_subscription_lag_events', { subscription: 'prometheus-totals' })).toBe(0);
      expect(family(i, 'ddnn_process_cpu_seconds_total').type).toBe('COUNTER');
      for (const f of parsed[i]) {
        expect(f.name).toMatch(/^ddnn_[a-z0-9_]+$/);
        for (const m of f.metrics) for (const v of Object.values(m.labels ?? {})) expect(v).not.toMatch(UUID);
      }
    }
    // The append latency is this node's own: the first node appended through its writer.
    expect(Number(family(0, 'ddnn_event_append_seconds').metrics[0].count)).toBeGreaterThanOrEqual(1);
    expect(Number(family(0, 'ddnn_edge_latency_seconds').metrics[0].count)).toBe(0);
    expect(texts[0].text).not.toContain(session);
    expect(texts[0].text).not.toContain(device);
  });
});
