import type { PolicySpec, ThresholdStatistic } from '@ddnn/contracts';

/** Normalized entropy -sum p log p / log |C| in [0, 1], with the paper code's 1e-9 inside the log. */
export function normalizedEntropy(p: ArrayLike<number>, offset = 0, length = p.length - offset): number {
  if (length < 2) return 0;
  let h = 0;
  for (let i = 0; i < length; i++) {
    const v = p[offset + i];
    h -= v * Math.log(v + 1e-9);
  }
  return h / Math.log(length);
}

/** Index of the largest probability; ties go to the lowest class index. */
export function argmax(p: ArrayLike<number>, offset = 0, length = p.length - offset): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (p[offset + i] > p[offset + best]) best = i;
  return best;
}

/** Top-1 and top-2 probabilities. */
export function topTwo(p: ArrayLike<number>, offset = 0, length = p.length - offset): [number, number] {
  let a = -Infinity;
  let b = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = p[offset + i];
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) b = v;
  }
  return [a, length > 1 ? b : 0];
}

/**
 * The edge exit when a session has several edge nodes: the element-wise mean of the answering edges'
 * probabilities (a mixture stays a distribution). With one edge node its own output is the edge exit.
 */
export function edgeExitProbabilities(perEdge: ArrayLike<number>[]): number[] {
  if (perEdge.length === 0) throw new Error('edge exit needs at least one answering edge');
  const c = perEdge[0].length;
  const out = new Array<number>(c).fill(0);
  // Sum in edge order, then divide: the orchestrator's arithmetic, so that decisions match bit for bit.
  for (const p of perEdge) for (let i = 0; i < c; i++) out[i] += p[i];
  for (let i = 0; i < c; i++) out[i] /= perEdge.length;
  return out;
}

/**
 * Uncertainty u of a section's output, oriented so that every threshold rule reads "exit iff u < tau":
 * entropy u = eta (tau = T); confidence u = -max p (tau = -T); margin u = -(top1 - top2) (tau = -T).
 */
export function uncertainty(
  statistic: ThresholdStatistic,
  probabilities: ArrayLike<number>,
  entropy: number,
  offset = 0,
  length = probabilities.length - offset,
): number {
  if (statistic === 'entropy') return entropy;
  const [a, b] = topTwo(probabilities, offset, length);
  return statistic === 'confidence' ? -a : -(a - b);
}

/** The user-facing threshold T of a statistic as the tau of "exit iff u < tau". */
export function tauOf(statistic: ThresholdStatistic, threshold: number): number {
  return statistic === 'entropy' ? threshold : -threshold;
}

/** Inverse of tauOf. */
export function thresholdOfTau(statistic: ThresholdStatistic, tau: number): number {
  return statistic === 'entropy' ? tau : -tau;
}

/** The rule a policy applies at each exit: a statistic and tau per exit (+-Infinity for always/never). */
export interface ExitRule {
  statistic: ThresholdStatistic;
  tau: { local: number; edge: number };
}

/** Reduces a threshold-style policy to its exit rule; raw offload has none; unfitted budgets are an error. */
export function exitRuleOf(policy: PolicySpec): ExitRule | null {
  switch (policy.kind) {
    case 'entropy':
    case 'confidence':
    case 'margin':
      return {
        statistic: policy.kind,
        tau: {
          local: tauOf(policy.kind, policy.thresholds.local),
          edge: policy.thresholds.edge === undefined ? -Infinity : tauOf(policy.kind, policy.thresholds.edge),
        },
      };
    case 'budget':
      if (!policy.fitted) {
        throw new Error('budget policy is not fitted: fit it on a session first (fitBudgetPolicy)');
      }
      return {
        statistic: policy.statistic,
        tau: {
          local: tauOf(policy.statistic, policy.fitted.thresholds.local),
          edge:
            policy.fitted.thresholds.edge === undefined
              ? -Infinity
              : tauOf(policy.statistic, policy.fitted.thresholds.edge),
        },
      };
    case 'always-local':
      return { statistic: 'entropy', tau: { local: Infinity, edge: Infinity } };
    case 'always-cloud':
      return { statistic: 'entropy', tau: { local: -Infinity, edge: -Infinity } };
    case 'raw-offload':
      return null;
  }
}
