import type { BudgetPolicy, PolicyEvaluation } from '@ddnn/contracts';
import { fitBudgetPolicy } from './budget';
import { evaluatePolicy } from './evaluate';
import { sessionSamplesFromEvents } from './session-table';
import { sweep } from './sweep';
import { syntheticSessionEvents } from './synthetic';

const train = sessionSamplesFromEvents(syntheticSessionEvents({ sessionId: 'train', samples: 800, seed: 31, missScores: 0.03 }));
const test = sessionSamplesFromEvents(syntheticSessionEvents({ sessionId: 'test', samples: 800, seed: 32, missScores: 0.03 }));
const bytesOf = (kind: 'always-local' | 'always-cloud') => (evaluatePolicy(train, { kind }) as PolicyEvaluation).bytesPerSample;
// A budget between sending scores only and sending every sample to the cloud: 30% of the way.
const B = bytesOf('always-local') + 0.3 * (bytesOf('always-cloud') - bytesOf('always-local'));

describe('fitBudgetPolicy', () => {
  it.each(['entropy', 'confidence', 'margin'] as const)(
    '%s under a bytes budget: feasible, reproduced by evaluation, and no threshold on a fine grid does better',
    (statistic) => {
      const fitted = fitBudgetPolicy(train, { kind: 'budget', statistic, maxBytesPerSample: B });
      const fit = fitted.fitted!;
      expect(fit.sessionId).toBe('train');
      expect(fit.bytesPerSample).toBeLessThanOrEqual(B);
      const onTrain = evaluatePolicy(train, fitted) as PolicyEvaluation;
      expect(onTrain.accuracy).toBe(fit.accuracy);
      expect(onTrain.bytesPerSample).toBe(fit.bytesPerSample);
      expect(onTrain.localExitRate).toBe(fit.localExitRate);
      const better = sweep(train, statistic, 2001).points.filter((p) => p.bytesPerSample <= B && p.accuracy! > fit.accuracy);
      expect(better).toEqual([]);
      // Not a trivial answer: the budget binds between everything-local and everything-to-the-cloud.
      expect(fit.localExitRate).toBeGreaterThan(0);
      expect(fit.localExitRate).toBeLessThan(1);
      const onTest = evaluatePolicy(test, fitted) as PolicyEvaluation;
      expect(onTest.evaluable).toBe(true);
      expect(onTest.sessionId).toBe('test');
    },
  );

  it('keeps its budget over the samples it answers when many have no answer (cameras failing, features lost)', () => {
    const failing = sessionSamplesFromEvents(syntheticSessionEvents({ sessionId: 'dark', samples: 800, seed: 33, devices: 3, missScores: 0.4, missFeatures: 0.3 }));
    const bytes = (kind: 'always-local' | 'always-cloud') => (evaluatePolicy(failing, { kind }) as PolicyEvaluation).bytesPerSample;
    const budget = bytes('always-local') + 0.3 * (bytes('always-cloud') - bytes('always-local'));
    for (const policy of [{ maxBytesPerSample: budget }, { minLocalExitRate: 0.6 }]) {
      const fitted = fitBudgetPolicy(failing, { kind: 'budget', statistic: 'entropy', ...policy });
      const evaluated = evaluatePolicy(failing, fitted) as PolicyEvaluation;
      expect(evaluated.unanswered).toBeGreaterThan(20);
      expect([evaluated.bytesPerSample, evaluated.localExitRate, evaluated.samples]).toEqual([fitted.fitted!.bytesPerSample, fitted.fitted!.localExitRate, fitted.fitted!.samples]);
      if (policy.maxBytesPerSample !== undefined) expect(evaluated.bytesPerSample).toBeLessThanOrEqual(budget);
      else expect(evaluated.localExitRate).toBeGreaterThanOrEqual(0.6);
    }
  });

  it('meets a local exit rate target', () => {
    const fitted = fitBudgetPolicy(train, { kind: 'budget', statistic: 'entropy', minLocalExitRate: 0.7 });
    expect(fitted.fitted!.localExitRate).toBeGreaterThanOrEqual(0.7);
    const better = sweep(train, 'entropy', 2001).points.filter((p) => p.localExitRate >= 0.7 && p.accuracy! > fitted.fitted!.accuracy);
    expect(better).toEqual([]);
  });

  it('fits an edge threshold too when the session has an edge tier', () => {
    const edged = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 500, seed: 8, edges: ['e0', 'e1'] }));
    const cheapest = (evaluatePolicy(edged, { kind: 'always-local' }) as PolicyEvaluation).bytesPerSample;
    const priciest = (evaluatePolicy(edged, { kind: 'always-cloud' }) as PolicyEvaluation).bytesPerSample;
    const B = (cheapest + priciest) / 2;
    const fitted = fitBudgetPolicy(edged, { kind: 'budget', statistic: 'entropy', maxBytesPerSample: B });
    const r = evaluatePolicy(edged, fitted) as PolicyEvaluation;
    expect(r.bytesPerSample).toBeLessThanOrEqual(B);
    expect(r.accuracy).toBe(fitted.fitted!.accuracy);
    // The edge grid includes "never exit at the edge", so the fit is at least as good as the best local-only cut.
    expect(fitted.fitted!.accuracy).toBeGreaterThanOrEqual(
      Math.max(...sweep(edged, 'entropy', 201, { edgeThreshold: 0 }).points.filter((p) => p.bytesPerSample <= B).map((p) => p.accuracy!)),
    );
  });

  it('explains an impossible budget, a production session and an unlabelled session', () => {
    expect(() => fitBudgetPolicy(train, { kind: 'budget', statistic: 'entropy', maxBytesPerSample: 1 })).toThrow(
      /no thresholds meet the budget \(smallest achievable bytes per sample \d+\.\d\d\)/,
    );
    const prod = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 100, seed: 1, mode: 'production' }));
    expect(() => fitBudgetPolicy(prod, { kind: 'budget', statistic: 'entropy', maxBytesPerSample: 60 })).toThrow(/cloud exit was never computed/);
    const unlabelled = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 50, seed: 1, unlabelled: 1 }));
    expect(() => fitBudgetPolicy(unlabelled, { kind: 'budget', statistic: 'entropy', maxBytesPerSample: 60 })).toThrow(/no labelled samples/);
  });

  it('keeps the policy JSON, adding the fit', () => {
    const spec: BudgetPolicy = { kind: 'budget', name: 'cheap', statistic: 'margin', maxBytesPerSample: B };
    const fitted = fitBudgetPolicy(train, spec);
    expect(fitted).toMatchObject(spec);
    expect(JSON.parse(JSON.stringify(fitted))).toEqual(fitted);
  });
});
