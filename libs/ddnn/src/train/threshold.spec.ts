import { oneStandardError, pickThreshold, type ExitProbabilities } from './threshold';

/** n samples of 2 classes: local confident (entropy ~0.47) and right on `localRight`, cloud right on `cloudRight`. */
function pass(n: number, localRight: (i: number) => boolean, cloudRight: (i: number) => boolean, uncertain: (i: number) => boolean): ExitProbabilities {
  const row = (cls: number, p: number) => Float32Array.from([cls === 0 ? p : 1 - p, cls === 0 ? 1 - p : p]);
  return {
    local: Array.from({ length: n }, (_, i) => row(localRight(i) ? 0 : 1, uncertain(i) ? 0.55 : 0.9)),
    edge: null,
    cloud: Array.from({ length: n }, (_, i) => row(cloudRight(i) ? 0 : 1, 0.9)),
  };
}

describe('choosing the exit threshold on validation', () => {
  const labels = new Int32Array(100);

  it('sends uncertain samples to the cloud when that is clearly better', () => {
    // 20 uncertain samples (entropy 0.99), all wrong locally and right in the cloud: 80% local-only vs 100%
    const p = pass(100, (i) => i >= 20, () => true, (i) => i < 20);
    const T = pickThreshold([p], labels);
    expect(T).toBeGreaterThan(0.47);
    expect(T).toBeLessThanOrEqual(0.99);
  });

  it('keeps everything local when the cloud is better by less than one standard error', () => {
    // 5 confident samples wrong at both exits: at best 95% (standard error ~2 samples); the cloud fixes one
    // uncertain sample more than the local exit: not worth its bytes
    const wrong = (i: number) => i >= 90 && i < 95;
    const p = pass(100, (i) => i !== 0 && !wrong(i), (i) => !wrong(i), (i) => i < 20);
    expect(pickThreshold([p], labels)).toBe(1);
    // ...but 20 fixed are
    const q = pass(100, (i) => i >= 20 && !wrong(i), (i) => !wrong(i), (i) => i < 20);
    expect(pickThreshold([q], labels)).toBeLessThan(1);
  });

  it('weighs the intact pass as much as all dead-device passes together', () => {
    const good = pass(100, () => true, () => true, () => false);
    // dead-device passes where the local exit is wrong on the 20 uncertain samples, the cloud right
    const failing = pass(100, (i) => i >= 20, () => true, (i) => i < 20);
    expect(pickThreshold([good], labels)).toBe(1);
    expect(pickThreshold([good, failing, failing], labels)).toBeLessThan(1);
    expect(() => pickThreshold([], labels)).toThrow(/validation/);
  });

  it('measures the standard error of an accuracy, about one sample for a perfect score', () => {
    expect(oneStandardError(0.5, 100)).toBeCloseTo(0.05, 3);
    expect(oneStandardError(1, 69) * 69).toBeGreaterThan(0.9);
    expect(oneStandardError(1, 69) * 69).toBeLessThan(1.1);
    expect(oneStandardError(0.95, 1000)).toBeLessThan(oneStandardError(0.95, 100));
  });
});
