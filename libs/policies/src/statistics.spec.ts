import { argmax, edgeExitProbabilities, normalizedEntropy, topTwo } from './statistics';

describe('exit statistics', () => {
  it('normalized entropy is 1 for uniform and ~0 for one-hot, for any class count', () => {
    for (const c of [2, 3, 10]) {
      expect(normalizedEntropy(new Array(c).fill(1 / c))).toBeCloseTo(1, 6);
      expect(normalizedEntropy([1, ...new Array(c - 1).fill(0)])).toBeCloseTo(0, 6);
    }
    expect(normalizedEntropy([0.9, 0.1])).toBeCloseTo(-(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1)) / Math.log(2), 6);
  });

  it('argmax breaks ties toward the lowest class; topTwo reads a row of a flat array', () => {
    expect(argmax([0.4, 0.4, 0.2])).toBe(0);
    expect(argmax([0.1, 0.2, 0.7])).toBe(2);
    expect(argmax([9, 9, 0.1, 0.8, 0.1], 2, 3)).toBe(1);
    expect(topTwo([0.2, 0.5, 0.3])).toEqual([0.5, 0.3]);
    expect(topTwo([0, 0, 0.6, 0.1, 0.3], 2, 3)).toEqual([0.6, 0.3]);
  });

  it('edge exit of several edges is the mean of their outputs', () => {
    expect(edgeExitProbabilities([[1, 0], [0.5, 0.5]])).toEqual([0.75, 0.25]);
    expect(() => edgeExitProbabilities([])).toThrow(/at least one/);
  });
});
