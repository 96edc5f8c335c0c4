import { CloudBatcher } from './cloud-batcher';

/** A fake cloud pass: each input's probabilities are [input, -input]; records the batches it ran. */
function fakeCloud(fail?: (inputs: number[]) => boolean) {
  const batches: number[][] = [];
  const batcher = new CloudBatcher((inputs: number[]) => {
    batches.push(inputs);
    if (fail?.(inputs)) throw new Error('cloud pass failed');
    return inputs.map((x) => Float32Array.from([x, -x]));
  }, 4);
  return { batches, batcher };
}

describe('CloudBatcher', () => {
  it('runs the samples that reach the cloud in one turn as one pass, each getting its own row', async () => {
    const { batches, batcher } = fakeCloud();
    const answers = await Promise.all([1, 2, 3].map((x) => batcher.infer(x)));
    expect(batches).toEqual([[1, 2, 3]]);
    expect(answers.map((a) => a.probabilities)).toEqual([
      [1, -1],
      [2, -2],
      [3, -3],
    ]);
    for (const a of answers) expect(a.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('samples of a later turn get a pass of their own', async () => {
    const { batches, batcher } = fakeCloud();
    await batcher.infer(1);
    await Promise.all([batcher.infer(2), batcher.infer(3)]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('splits a burst larger than the largest batch', async () => {
    const { batches, batcher } = fakeCloud();
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => batcher.infer(x)));
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    expect(answers.map((a) => a.probabilities[0])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a failed pass fails the samples of that pass only', async () => {
    const { batcher } = fakeCloud((inputs) => inputs.includes(2));
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((x) => batcher.infer(x)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('cloud pass failed'));
    await expect(batcher.infer(6)).resolves.toMatchObject({ probabilities: [6, -6] });
  });
});
