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

/** Normalized entropy eta(p) = -sum p log(p + 1e-9) / log |C|, in [0, 1]. */
export function normalizedEntropy(p: ArrayLike<number>): number {
  if (p.length < 2) return 0;
  let h = 0;
  for (let i = 0; i < p.length; i++) h -= p[i] * Math.log(p[i] + 1e-9);
  return h / Math.log(p.length);
}

/** The exit rule: a sample exits at this exit iff eta(p) < T. */
export function exitsHere(p: ArrayLike<number>, threshold: number): boolean {
  return normalizedEntropy(p) < threshold;
}

/** Index of the largest value (first on ties). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
