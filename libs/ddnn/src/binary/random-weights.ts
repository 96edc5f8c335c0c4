import type { SectionWeights } from './section-weights';

/** Deterministic uniform numbers in [0, 1) (mulberry32), so fixtures and benchmarks repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shape of a random section: block filter counts and the FC input size they lead to. */
export interface RandomSectionShape {
  channels: number;
  filters: number[];
  featureSize: number;
  classes: number;
}

/**
 * Random real-valued section weights in a checkpoint's layout, with BatchNorm statistics spread so
 * that both signs occur; some integer means and zero betas put binary conv outputs exactly on the
 * BatchNorm boundary, where rounding decides the sign.
 */
export function randomSectionWeights(shape: RandomSectionShape, seed: number): SectionWeights {
  const rand = seededRandom(seed);
  const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
  const weights: SectionWeights = {};
  let cin = shape.channels;
  shape.filters.forEach((cout, i) => {
    const name = `convp${i}`;
    const spread = i === 0 ? 3 : Math.sqrt(9 * cin);
    weights[`${name}.w`] = { shape: [3, 3, cin, cout], values: uniform(9 * cin * cout, -1, 1) };
    addBatchNorm(weights, name, cout, spread, rand);
    cin = cout;
  });
  weights['fc.w'] = { shape: [shape.featureSize, shape.classes], values: uniform(shape.featureSize * shape.classes, -1, 1) };
  addBatchNorm(weights, 'fc', shape.classes, Math.sqrt(shape.featureSize), rand);
  return weights;
}

function addBatchNorm(weights: SectionWeights, prefix: string, n: number, spread: number, rand: () => number): void {
  const values = (f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
  // Some negative and one zero gamma exercise the 'down' and constant thresholds.
  weights[`${prefix}.bn.gamma`] = { shape: [n], values: values((i) => (i % 5 === 3 ? 0 : (rand() < 0.3 ? -1 : 1) * (0.2 + 2 * rand()))) };
  weights[`${prefix}.bn.beta`] = { shape: [n], values: values((i) => (i % 6 === 2 ? 0 : (rand() - 0.5) * 2)) };
  weights[`${prefix}.bn.mean`] = { shape: [n], values: values((i) => (i % 4 === 1 ? Math.round : (v: number) => v)((rand() - 0.5) * spread)) };
  weights[`${prefix}.bn.variance`] = { shape: [n], values: values(() => 0.05 + rand() * spread * spread) };
}
