import { evaluatePolicy } from './evaluate';
import { parseCompareRequest, parseSweepPolicy } from './request-json';
import { sessionSamplesFromEvents } from './session-table';
import { sweep } from './sweep';
import { syntheticSessionEvents } from './synthetic';

describe('compare request and sweep policy parsing', () => {
  it('accepts a valid compare request and names what is wrong in a bad one', () => {
    const ok = parseCompareRequest({ sessionIds: ['a'], policies: [{ kind: 'entropy', thresholds: { local: 0.5 } }] });
    expect(ok.policies[0]).toEqual({ kind: 'entropy', thresholds: { local: 0.5 } });
    expect(() => parseCompareRequest({ sessionIds: [], policies: [{ kind: 'always-local' }] })).toThrow(/at least one session/);
    expect(() => parseCompareRequest({ sessionIds: ['a'], policies: [{ kind: 'entropy' }] })).toThrow(/thresholds/);
    expect(() => parseCompareRequest({ sessionIds: ['a'], policies: [{ kind: 'always-local' }], extra: 1 })).toThrow(/extra/);
  });

  it('reads a statistic name or a threshold policy JSON', () => {
    expect(parseSweepPolicy('margin')).toEqual({ statistic: 'margin', edgeThreshold: 'same' });
    expect(parseSweepPolicy('{"kind":"entropy","thresholds":{"local":0.5,"edge":0.3}}')).toEqual({ statistic: 'entropy', edgeThreshold: 0.3 });
    expect(parseSweepPolicy('{"kind":"entropy","thresholds":{"local":0.5}}')).toEqual({ statistic: 'entropy', edgeThreshold: -Infinity });
    expect(parseSweepPolicy('{"kind":"confidence","thresholds":{"local":0.5}}')).toEqual({ statistic: 'confidence', edgeThreshold: Infinity });
    expect(() => parseSweepPolicy('bogus')).toThrow(/invalid sweep policy "bogus"/);
    expect(() => parseSweepPolicy('{"kind":"always-local"}')).toThrow(/cannot sweep a always-local/);
    expect(() => parseSweepPolicy('{oops')).toThrow(/not JSON/);
  });

  it('a policy JSON without an edge threshold sweeps with the edge exit never taken', () => {
    const table = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 400, seed: 3, edges: ['e0', 'e1'] }));
    for (const kind of ['entropy', 'confidence'] as const) {
      const { statistic, edgeThreshold } = parseSweepPolicy(JSON.stringify({ kind, thresholds: { local: 0.5 } }));
      const curve = sweep(table, statistic, [0.2, 0.5, 0.8], { edgeThreshold });
      curve.points.forEach((pt) => {
        const r = evaluatePolicy(table, { kind, thresholds: { local: pt.threshold } });
        if (!r.evaluable) throw new Error('research session must be evaluable');
        expect(pt.exitRates.edge).toBe(0);
        expect(pt.accuracy).toBeCloseTo(r.accuracy!, 12);
        expect(pt.bytesPerSample).toBeCloseTo(r.bytesPerSample, 9);
      });
    }
  });
});
