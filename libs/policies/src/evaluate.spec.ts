import type { PolicyEvaluation, PolicyNotEvaluable, PolicySpec } from '@ddnn/contracts';
import { tinySession } from '../test/tiny-session';
import { evaluatePolicy } from './evaluate';
import { sessionSamplesFromEvents } from './session-table';

const table = sessionSamplesFromEvents(tinySession());
const evaluate = (policy: PolicySpec, linkModel?: Parameters<typeof evaluatePolicy>[2]) =>
  evaluatePolicy(table, policy, linkModel) as PolicyEvaluation;
const exitsOf = (r: PolicyEvaluation) => Object.fromEntries(r.exits.map((e) => [e.tier, e.exited]));

describe('evaluatePolicy on a hand-computed session', () => {
  it('keeps only the samples the live session finished', () => {
    expect(table.n).toBe(3);
    expect([...table.sampleIndex]).toEqual([0, 1, 2]);
  });

  it('entropy exits iff eta < T (eta exactly T goes on), with the byte rule', () => {
    const r = evaluate({ kind: 'entropy', thresholds: { local: 0.5 } });
    expect(exitsOf(r)).toEqual({ local: 1, cloud: 2 });
    expect(r.accuracy).toBe(1);
    // scores: 2 + 1 + 2 answering devices x 8; features: s1 dev-0, s2 dev-1 (dev-0 failed) x 16.
    expect(r.bytesByKind).toEqual({ scores: 40 / 3, features: 32 / 3, raw: 0 });
    expect(r.bytesPerSample).toBe(72 / 3);
    const link = (from: string, to: string, kind: string) => r.links.find((l) => l.from === from && l.to === to && l.kind === kind)!;
    expect(link('dev-0', 'local', 'scores')).toMatchObject({ messages: 3, bytesPerSample: 8 });
    expect(link('dev-1', 'local', 'scores')).toMatchObject({ messages: 2, bytesPerSample: 16 / 3 });
    expect(link('dev-0', 'cloud', 'features')).toMatchObject({ messages: 1, bytesPerSample: 16 / 3 });
    expect(link('dev-1', 'cloud', 'features')).toMatchObject({ messages: 1, bytesPerSample: 16 / 3 });
    expect(link('dev-0', 'cloud', 'raw').messages).toBe(0);
    expect(r.label).toBe('entropy T=0.5');
  });

  it('entropy just above the tie exits the tied sample locally', () => {
    const r = evaluate({ kind: 'entropy', thresholds: { local: 0.5000001 } });
    expect(exitsOf(r)).toEqual({ local: 2, cloud: 1 });
    expect(r.accuracy).toBe(2 / 3);
  });

  it('always-local: scores only, local accuracy', () => {
    const r = evaluate({ kind: 'always-local' });
    expect(exitsOf(r)).toEqual({ local: 3, cloud: 0 });
    expect(r.accuracy).toBe(1 / 3);
    expect(r.bytesPerSample).toBe(40 / 3);
    expect(r.exits.find((e) => e.tier === 'cloud')!.accuracy).toBeNull();
  });

  it('always-cloud: scores and every delivered feature map', () => {
    const r = evaluate({ kind: 'always-cloud' });
    expect(exitsOf(r)).toEqual({ local: 0, cloud: 3 });
    expect(r.accuracy).toBe(1);
    expect(r.bytesPerSample).toBe((40 + 32 + 16 + 16) / 3);
  });

  it('raw offload: raw bytes per answering device, cloud accuracy', () => {
    const r = evaluate({ kind: 'raw-offload' });
    expect(r.bytesByKind).toEqual({ scores: 0, features: 0, raw: 500 / 3 });
    expect(r.accuracy).toBe(1);
    expect(r.links.filter((l) => l.kind === 'raw').map((l) => l.messages)).toEqual([3, 2]);
  });

  it('confidence exits iff max p > T; margin iff top1 - top2 > T', () => {
    const c = evaluate({ kind: 'confidence', thresholds: { local: 0.58 } });
    expect(exitsOf(c)).toEqual({ local: 2, cloud: 1 });
    expect(c.accuracy).toBe(2 / 3);
    expect(c.bytesPerSample).toBe((40 + 16) / 3);
    expect(exitsOf(evaluate({ kind: 'confidence', thresholds: { local: 0.6 } }))).toEqual({ local: 1, cloud: 2 });
    const m = evaluate({ kind: 'margin', thresholds: { local: 0.15 } });
    expect(exitsOf(m)).toEqual({ local: 2, cloud: 1 });
    expect(exitsOf(evaluate({ kind: 'margin', thresholds: { local: 0.25 } }))).toEqual({ local: 1, cloud: 2 });
  });

  it('estimates latency from measured sections and a link model', () => {
    // 10 ms per message, 8 kbps = 1 ms per byte. s0: max(2,3) + 10 + 8 + local 1 = 22.
    // s1: dev-1 timed out -> 200 + 1, then request 10 + features 10 + 16 + cloud 5 = 242.
    // s2: 22 + 36 + 5 = 63 (dev-0's features failed with an error: no deadline wait).
    const r = evaluate({ kind: 'entropy', thresholds: { local: 0.5 } }, { default: { latencyMs: 10, bandwidthKbps: 8 } });
    expect(r.latency).toEqual({ meanMs: 327 / 3, p50Ms: 63, p95Ms: 242, maxMs: 242 });
    const raw = evaluate({ kind: 'raw-offload' }, { default: { latencyMs: 10, bandwidthKbps: 8 } });
    expect(raw.latency.meanMs).toBe(115);
    // A per-link override beats the default.
    const fast = evaluate({ kind: 'always-local' }, { default: { latencyMs: 10, bandwidthKbps: 8 }, links: { 'dev-1->local': { latencyMs: 0, bandwidthKbps: 8000 } } });
    expect(fast.latency.maxMs).toBe(201);
    expect(evaluate({ kind: 'always-local' }).latency.meanMs).toBe((4 + 201 + 4) / 3);
  });

  it('reports a budget policy that was never fitted as an error', () => {
    expect(() => evaluate({ kind: 'budget', statistic: 'entropy', maxBytesPerSample: 20 })).toThrow(/not fitted/);
  });
});

describe('production sessions', () => {
  const prod = sessionSamplesFromEvents(tinySession('production'));

  it('evaluates what was computed and refuses what was not', () => {
    expect((evaluatePolicy(prod, { kind: 'always-local' }) as PolicyEvaluation).accuracy).toBe(1 / 3);
    const same = evaluatePolicy(prod, { kind: 'entropy', thresholds: { local: 0.5 } });
    expect(same).toEqual({ ...evaluate({ kind: 'entropy', thresholds: { local: 0.5 } }), sessionId: 'tiny' });
    for (const policy of [{ kind: 'always-cloud' }, { kind: 'raw-offload' }, { kind: 'entropy', thresholds: { local: 0.1 } }] as PolicySpec[]) {
      const r = evaluatePolicy(prod, policy) as PolicyNotEvaluable;
      expect(r.evaluable).toBe(false);
      expect(r.missing).toEqual([{ tier: 'cloud', samples: 1 }]);
      expect(r.reason).toMatch(/cloud exit was never computed for 1 of 3 samples.*production/);
    }
  });
});
