import { paretoFrontier } from './pareto';

describe('paretoFrontier', () => {
  it('marks points beaten in accuracy and bytes', () => {
    const rows = [
      { id: 'a', accuracy: 0.9, bytesPerSample: 100 },
      { id: 'b', accuracy: 0.95, bytesPerSample: 140 },
      { id: 'c', accuracy: 0.9, bytesPerSample: 120 }, // a: same accuracy, fewer bytes
      { id: 'd', accuracy: 0.85, bytesPerSample: 150 }, // a and b
      { id: 'e', accuracy: 0.97, bytesPerSample: 3000 },
      { id: 'f', accuracy: 0.8, bytesPerSample: 12 },
      { id: 'g', accuracy: 0.8, bytesPerSample: 12 }, // equal to f: neither dominates
      { id: 'h', accuracy: 0.79, bytesPerSample: 12 }, // f at equal bytes
      { id: 'x', accuracy: null, bytesPerSample: 5 },
    ];
    const out = paretoFrontier(rows);
    expect(Object.fromEntries(out.map((r) => [r.id, r.dominated]))).toEqual({
      a: false, b: false, c: true, d: true, e: false, f: false, g: false, h: true, x: undefined,
    });
    expect(out.map((r) => r.id)).toEqual(rows.map((r) => r.id));
  });

  it('agrees with the quadratic definition on random rows', () => {
    let seed = 9;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const rows = Array.from({ length: 300 }, () => ({ accuracy: Math.round(rand() * 20) / 20, bytesPerSample: Math.round(rand() * 30) }));
    const out = paretoFrontier(rows);
    rows.forEach((r, i) => {
      const dominated = rows.some(
        (q) => q.accuracy >= r.accuracy && q.bytesPerSample <= r.bytesPerSample && (q.accuracy > r.accuracy || q.bytesPerSample < r.bytesPerSample),
      );
      expect(out[i].dominated).toBe(dominated);
    });
    expect(out.some((r) => r.dominated)).toBe(true);
    expect(out.some((r) => !r.dominated)).toBe(true);
  });
});
