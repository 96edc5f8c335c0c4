import { argmax, exitsHere, normalizedEntropy, softmax } from './entropy';

describe('normalized entropy and the exit rule', () => {
  it('is 1 for a uniform distribution and ~0 for a certain one', () => {
    expect(normalizedEntropy([1 / 3, 1 / 3, 1 / 3])).toBeCloseTo(1, 6);
    expect(normalizedEntropy([1, 0, 0])).toBeLessThan(1e-6);
    const p = [0.7, 0.2, 0.1];
    const expected = -(0.7 * Math.log(0.7 + 1e-9) + 0.2 * Math.log(0.2 + 1e-9) + 0.1 * Math.log(0.1 + 1e-9)) / Math.log(3);
    expect(normalizedEntropy(p)).toBeCloseTo(expected, 10);
  });

  it('exits iff eta < T: T = 0 never exits, T = 1 exits everything (the 1e-9 keeps even a uniform eta below 1)', () => {
    const sure = [0.98, 0.01, 0.01];
    expect(exitsHere(sure, 0)).toBe(false);
    expect(exitsHere(sure, 0.2)).toBe(true);
    expect(exitsHere(sure, 0.1)).toBe(normalizedEntropy(sure) < 0.1);
    expect(exitsHere([1 / 3, 1 / 3, 1 / 3], 1)).toBe(true);
    expect(exitsHere([1 / 3, 1 / 3, 1 / 3], 0.999)).toBe(false);
    expect(exitsHere([0.5, 0.3, 0.2], 1)).toBe(true);
  });

  it('softmax sums to 1 and keeps the order; argmax takes the first maximum', () => {
    const p = softmax([1000, 1001, 999]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(argmax(p)).toBe(1);
    expect(argmax([2, 5, 5])).toBe(1);
  });
});
