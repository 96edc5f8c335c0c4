import { median, round } from './stats';

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it('is the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 10])).toBe(3.5);
  });
  it('sorts numerically, not as text', () => {
    expect(median([9, 10, 100])).toBe(10);
  });
  it('leaves its input untouched', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it('refuses an empty list rather than return NaN', () => {
    expect(() => median([])).toThrow('median of no values');
  });
});

describe('round', () => {
  it('keeps the asked decimals', () => {
    expect(round(0.12345, 3)).toBe(0.123);
    expect(round(2.25)).toBe(2.3);
  });
});
