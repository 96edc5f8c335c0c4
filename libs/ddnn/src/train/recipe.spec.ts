import { Rng } from '@ddnn/datasets';
import { tinyDataset } from '../testing/tiny-dataset';
import { learningRateAt } from './options';
import { augmentViews, FULL_BATCH_VALUES, MIN_BATCH, MIN_STEPS_PER_EPOCH, PAPER_RECIPE, recommendRecipe, splitValidation, STEP_BUDGET } from './recipe';

describe('the recipe chosen from the data', () => {
  it('cuts a paper-sized set into mini-batches of at least 16 steps an epoch, epochs sized to the step budget', () => {
    const r = recommendRecipe({ trainSamples: 680, classes: 3, views: 6, height: 32, width: 32, channels: 3 });
    expect(r.validationFraction).toBe(0.1);
    // 612 after validation: 612/16 = 38 -> 32 per batch, 20 steps an epoch, 800/20 = 40 epochs
    expect(r.batchSize).toBe(32);
    expect(r).toMatchObject({ epochs: 40, schedule: 'cosine', patience: 20, deviceDropout: 0.5, augment: null });
    // 800 steps: the weights are averaged over a horizon of 80 steps (4 epochs); the paper keeps the last step's
    expect(r.weightAverage).toBeCloseTo(1 - 1 / 80, 10);
    expect(PAPER_RECIPE.weightAverage).toBe(0);
    for (const trainSamples of [150, 300, 680, 1500, 5000]) {
      const q = recommendRecipe({ trainSamples, classes: 10, views: 6, height: 24, width: 24, channels: 3 });
      const train = Math.round(trainSamples * (1 - q.validationFraction));
      const steps = Math.ceil(train / q.batchSize);
      expect(steps).toBeGreaterThanOrEqual(Math.min(MIN_STEPS_PER_EPOCH, Math.floor(train / MIN_BATCH)));
      expect(q.batchSize).toBeGreaterThanOrEqual(MIN_BATCH);
      expect(q.epochs * steps).toBeGreaterThanOrEqual(Math.min(STEP_BUDGET, 100 * steps) - steps);
    }
  });

  it('keeps full batch only for a set too small for two mini-batches', () => {
    const r = recommendRecipe({ trainSamples: 24, classes: 2, views: 2, height: 8, width: 8, channels: 1 });
    expect(r.batchSize).toBe(24);
    expect(r.epochs).toBe(100);
  });

  it('caps the batch at 256 and by memory, and holds out more validation for many classes', () => {
    const big = recommendRecipe({ trainSamples: 8000, classes: 10, views: 6, height: 48, width: 48, channels: 3 });
    // 7,200 left after validation: N/16 = 450 -> 256, the cap (within the 2^24-value budget of 404 samples)
    expect(big.batchSize).toBe(256);
    expect(big.epochs).toBe(Math.round(STEP_BUDGET / Math.ceil(7200 / 256)));
    expect(Math.floor(FULL_BATCH_VALUES / (6 * 48 * 48 * 3))).toBe(404);
    const huge = recommendRecipe({ trainSamples: 8000, classes: 10, views: 8, height: 128, width: 128, channels: 3 });
    expect(huge.batchSize).toBe(Math.floor(FULL_BATCH_VALUES / (8 * 128 * 128 * 3)));
    const mid = recommendRecipe({ trainSamples: 3000, classes: 10, views: 6, height: 32, width: 32, channels: 3 });
    // 2,700 after validation: N/16 = 169 -> 128
    expect(mid.batchSize).toBe(128);
    const manyClasses = recommendRecipe({ trainSamples: 400, classes: 20, views: 2, height: 16, width: 16, channels: 1 });
    expect(manyClasses.validationFraction).toBeCloseTo(0.2, 10);
    const tiny = recommendRecipe({ trainSamples: 60, classes: 3, views: 1, height: 8, width: 8, channels: 3, augment: { flip: true } });
    expect(tiny).toMatchObject({ validationFraction: 0, patience: 0, deviceDropout: 0, augment: { flip: true } });
    expect(PAPER_RECIPE).toMatchObject({ epochs: 100, batchSize: 700, learningRate: 1e-3, schedule: 'constant', validationFraction: 0 });
  });

  it('splits validation per class, seeded, never emptying a class', () => {
    const ds = tinyDataset({ samples: 200, views: 2, size: 4, seed: 5 });
    const train = ds.splits.flatMap((s, i) => (s === 'train' ? [i] : []));
    const a = splitValidation(ds, train, 0.1, 1);
    const b = splitValidation(ds, train, 0.1, 1);
    expect(a).toEqual(b);
    expect(a.train.length + a.validation.length).toBe(train.length);
    expect(new Set([...a.train, ...a.validation]).size).toBe(train.length);
    for (let c = 0; c < 3; c++) {
      const inTrain = train.filter((n) => ds.labels[n] === c).length;
      const held = a.validation.filter((n) => ds.labels[n] === c).length;
      expect(held).toBe(Math.round(inTrain * 0.1));
    }
    expect(splitValidation(ds, train, 0, 1).validation).toEqual([]);
  });

  it('augments views by flips and shifts, leaving missing views at zero', () => {
    // 1 x 3 x 1 view [1, 2, 3], shifted right by one -> [0, 1, 2], or mirrored -> [3, 2, 1]
    const seen = new Set<string>();
    const rng = new Rng(3);
    for (let k = 0; k < 200; k++) {
      const data = Float32Array.from([1, 2, 3, 0, 0, 0]);
      augmentViews(data, 2, [1, 3, 1], { flip: true, shift: 1 }, rng);
      seen.add(Array.from(data.subarray(0, 3)).join(','));
      expect(Array.from(data.subarray(3))).toEqual([0, 0, 0]);
    }
    // a vertical shift moves the single row out of the view
    for (const v of ['1,2,3', '3,2,1', '0,1,2', '2,3,0', '0,3,2', '2,1,0', '0,0,0']) expect(seen.has(v)).toBe(true);
    expect(seen.size).toBe(7);
  });

  it('decays the learning rate on a cosine from lr to lr/20, or keeps it constant', () => {
    const r = { learningRate: 1e-3, epochs: 101, schedule: 'cosine' as const };
    expect(learningRateAt(r, 1)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(r, 51)).toBeCloseTo((1e-3 + 5e-5) / 2, 12);
    expect(learningRateAt(r, 101)).toBeCloseTo(5e-5, 12);
    expect(learningRateAt({ ...r, schedule: 'constant' }, 80)).toBe(1e-3);
  });
});
