import type { StoredEvent } from '@ddnn/contracts';
import { bucketOf, DEVICE_LATENCY_BUCKETS, foldTotals, splitTotalsKey, totalsKey } from './cluster-totals';

let position = 0;
function ev(streamId: string, type: StoredEvent['type'], data: unknown): StoredEvent {
  position++;
  return { type, data, streamId, eventId: `e${position}`, streamPosition: position, globalPosition: String(position), checkpoint: `1:${position}`, schemaVersion: 1, metadata: {}, createdAt: '' } as StoredEvent;
}

describe('cluster totals folded from the log', () => {
  it('counts samples by run kind, answered exits by tier, unanswered samples, counted bytes by kind, misses and fired alerts', () => {
    const s = 'session-a';
    const t = foldTotals([
      ev(s, 'SampleStarted', { sessionId: 'a', sampleIndex: 0, sampleId: 'x', label: 1 }),
      ev('stream-b', 'SampleStarted', { sessionId: 'b', sampleIndex: 0, sampleId: 'x', label: null }),
      ev(s, 'ExitDecided', { sessionId: 'a', sampleIndex: 0, tier: 'local', eta: 0.9, threshold: 0.5, policy: 'p', exited: false, prediction: 0, label: 1, shadow: false }),
      ev(s, 'ExitDecided', { sessionId: 'a', sampleIndex: 0, tier: 'cloud', eta: 0.9, threshold: null, policy: 'p', exited: true, prediction: 0, label: 1, shadow: false }),
      ev(s, 'ExitDecided', { sessionId: 'a', sampleIndex: 0, tier: 'edge', eta: 0.1, threshold: 0.5, policy: 'p', exited: true, prediction: 0, label: 1, shadow: true }),
      ev(s, 'BytesTransferred', { sessionId: 'a', sampleIndex: 0, from: 'd', to: 'local', kind: 'scores', bytes: 12, shadow: false }),
      ev(s, 'BytesTransferred', { sessionId: 'a', sampleIndex: 0, from: 'd', to: 'cloud', kind: 'raw', bytes: 3072, shadow: true }),
      ev(s, 'DeviceMissed', { sessionId: 'a', sampleIndex: 0, deviceId: 'd', view: 0, stage: 'scores', deadlineMs: 1, reason: 'invalid' }),
      ev('stream-b', 'SampleUnanswered', { sessionId: 'b', sampleIndex: 0, label: null }),
      ev('alert-r', 'AlertFiring', { alertId: 'x', ruleId: 'r', subject: {}, severity: 'minor', value: 1 }),
      ev('alert-r', 'AlertPending', { alertId: 'x', ruleId: 'r', subject: {}, severity: 'minor', value: 1 }),
    ]);
    const get = (name: string, labels: Record<string, string>) => t.get(totalsKey(name, labels));
    expect(get('ddnn_samples_total', { run_kind: 'session' })).toBe(1);
    expect(get('ddnn_samples_total', { run_kind: 'stream' })).toBe(1);
    expect(get('ddnn_exits_total', { tier: 'cloud' })).toBe(1);
    expect(get('ddnn_exits_total', { tier: 'local' })).toBeUndefined(); // checked, did not exit
    expect(get('ddnn_exits_total', { tier: 'edge' })).toBeUndefined(); // shadow
    expect(get('ddnn_transferred_bytes_total', { kind: 'scores' })).toBe(12);
    expect(get('ddnn_transferred_bytes_total', { kind: 'raw' })).toBeUndefined();
    expect(get('ddnn_device_misses_total', { reason: 'invalid' })).toBe(1);
    expect(get('ddnn_alerts_fired_total', { severity: 'minor' })).toBe(1);
    expect(get('ddnn_samples_unanswered_total', { run_kind: 'stream' })).toBe(1);
    expect(get('ddnn_samples_unanswered_total', { run_kind: 'session' })).toBeUndefined();
    expect(t.size).toBe(7);
  });

  it('counts a sample\'s MessagesTransferred as the BytesTransferred per message older logs hold', () => {
    const messages = [
      { from: 'd', to: 'local', kind: 'scores', bytes: 12, shadow: false },
      { from: 'e', to: 'local', kind: 'scores', bytes: 12, shadow: false },
      { from: 'd', to: 'cloud', kind: 'features', bytes: 128, shadow: false },
      { from: 'd', to: 'cloud', kind: 'raw', bytes: 3072, shadow: true },
    ];
    const today = foldTotals([ev('session-a', 'MessagesTransferred', { sessionId: 'a', sampleIndex: 0, messages })]);
    const older = foldTotals(messages.map((m) => ev('session-a', 'BytesTransferred', { sessionId: 'a', sampleIndex: 0, ...m })));
    expect(today).toEqual(older);
    expect(today.get(totalsKey('ddnn_transferred_bytes_total', { kind: 'scores' }))).toBe(24);
    expect(today.get(totalsKey('ddnn_transferred_bytes_total', { kind: 'features' }))).toBe(128);
    expect(today.size).toBe(2);
  });

  it('buckets live device and edge latencies per bucket, with their sum and count, and skips absurd ones', () => {
    const s = 'session-a';
    const output = (tier: string, latencyMs: number, shadow = false) => ({ tier, node: 'n', probabilities: [1], entropy: 0, latencyMs, shadow });
    const outputs = [output('device', 3), output('device', 30), output('device', 60_000), output('edge', 7), output('local', 1), output('device', 5, true), output('device', Number.NaN), output('device', -1)];
    const t = foldTotals(outputs.map((o) => ev(s, 'SectionEvaluated', { sessionId: 'a', sampleIndex: 0, ...o })));
    expect(t.get(totalsKey('ddnn_device_latency_seconds_bucket', { le: '0.005' }))).toBe(1);
    expect(t.get(totalsKey('ddnn_device_latency_seconds_bucket', { le: '0.05' }))).toBe(1);
    expect(t.get(totalsKey('ddnn_device_latency_seconds_bucket', { le: '+Inf' }))).toBe(1);
    expect(t.get(totalsKey('ddnn_device_latency_seconds_count', {}))).toBe(3);
    expect(t.get(totalsKey('ddnn_device_latency_seconds_sum', {}))).toBeCloseTo(60.033, 9);
    expect(t.get(totalsKey('ddnn_edge_latency_seconds_count', {}))).toBe(1);
    expect(bucketOf(DEVICE_LATENCY_BUCKETS[0])).toBe(0);
    expect(bucketOf(1e9)).toBe(DEVICE_LATENCY_BUCKETS.length);
    // A stage's sections in one SectionsEvaluated (today's logs) count as the one event each did before.
    expect(foldTotals([ev(s, 'SectionsEvaluated', { sessionId: 'a', sampleIndex: 0, sections: outputs })])).toEqual(t);
  });

  it('keys series by name and sorted labels, and reads them back', () => {
    expect(totalsKey('m', { b: '2', a: '1' })).toBe(totalsKey('m', { a: '1', b: '2' }));
    expect(splitTotalsKey(totalsKey('m_total', { le: '+Inf', tier: 'x' }))).toEqual({ name: 'm_total', labels: { le: '+Inf', tier: 'x' } });
  });
});
