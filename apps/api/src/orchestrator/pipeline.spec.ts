import { runPipelined } from './pipeline';

describe('runPipelined', () => {
  it('keeps at most `window` items in flight and lets fast items pass a slow one', async () => {
    let inFlight = 0;
    let peak = 0;
    const finished: number[] = [];
    await runPipelined(
      [0, 1, 2, 3, 4, 5, 6, 7],
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, i === 0 ? 60 : 5));
        inFlight--;
        finished.push(i);
      },
      { window: 3 },
    );
    expect(peak).toBe(3);
    expect(finished.indexOf(0)).toBeGreaterThan(finished.indexOf(1));
    expect(finished.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops starting items when asked and reports how many started', async () => {
    let n = 0;
    const started = await runPipelined([1, 2, 3, 4, 5], async () => void n++, { window: 1, shouldStop: () => n >= 2 });
    expect(started).toBe(2);
  });

  it('rejects with the first failure after in-flight items settle', async () => {
    const done: number[] = [];
    await expect(
      runPipelined(
        [1, 2, 3],
        async (i) => {
          if (i === 1) throw new Error('boom');
          await new Promise((r) => setTimeout(r, 10));
          done.push(i);
        },
        { window: 2 },
      ),
    ).rejects.toThrow('boom');
    expect(done).toEqual([2]);
  });

  it('paces starts at the requested rate', async () => {
    const t0 = Date.now();
    await runPipelined([1, 2, 3, 4, 5], async () => undefined, { window: 5, rate: 100 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(35);
  });
});
