import { normalizedEntropy } from '@ddnn/policies';

// The exit statistics have one home, the policy library (pure, also used in the browser).
export { argmax, normalizedEntropy } from '@ddnn/policies';

/** Softmax of class scores (max-subtracted, float64 internally). */
export function softmax(scores: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]);
  const out = new Float32Array(scores.length);
  let sum = 0;
  const e = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    e[i] = Math.exp(scores[i] - max);
    sum += e[i];
  }
  for (let i = 0; i < scores.length; i++) out[i] = e[i] / sum;
  return out;
}

/** The exit rule: a sample exits at this exit iff eta(p) < T. */
export function exitsHere(p: ArrayLike<number>, threshold: number): boolean {
  return normalizedEntropy(p) < threshold;
}
