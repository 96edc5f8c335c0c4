/** Softmax of class scores (numerically stable). */
export function softmax(scores: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]);
  const exps = Array.from(scores, (s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The paper's normalized entropy, in [0, 1] (1e-9 inside the log as the authors' code does). */
export function normalizedEntropy(p: number[]): number {
  if (p.length < 2) return 0;
  let h = 0;
  for (const x of p) h -= x * Math.log(x + 1e-9);
  return Math.min(1, Math.max(0, h / Math.log(p.length)));
}

export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

/** Float32 scores from their little-endian bytes, as they cross the wire. */
export function scoresFromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`scores payload of ${bytes.byteLength} bytes is not a float32 array`);
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** Float32 scores as little-endian bytes. */
export function scoresToBytes(scores: Float32Array): Uint8Array {
  return new Uint8Array(scores.buffer.slice(scores.byteOffset, scores.byteOffset + scores.byteLength));
}
