import { argmax, bytesToScores, normalizedEntropy as entropyOf, scoresToBytes, softmax as softmaxOf } from '@ddnn/ddnn';

/** Class probabilities as the log stores them (plain numbers) from class scores. */
export function softmax(scores: ArrayLike<number>): number[] {
  return Array.from(softmaxOf(scores));
}

/** The paper's normalized entropy, clamped to [0, 1] against rounding. */
export function normalizedEntropy(p: ArrayLike<number>): number {
  return Math.min(1, Math.max(0, entropyOf(p)));
}

/** Float32 scores from their little-endian bytes, as they cross the wire. */
export const scoresFromBytes = bytesToScores;

export { argmax, scoresToBytes };
