import { Rng, type Augmentation, type DatasetManifest, type MultiViewDataset } from '@ddnn/datasets';
import { splitIndices } from './batches';
import { weightAverageDecay } from './weight-average';

/** Everything a training run needs besides the data and the topology; a checkpoint records the one it used. */
export interface TrainingRecipe {
  epochs: number;
  /** Samples per step; >= the training set is full batch. */
  batchSize: number;
  seed: number;
  /** Adam's learning rate (at the start of the schedule). */
  learningRate: number;
  /** `cosine`: from learningRate down to learningRate/20 over the epochs; `constant`: the paper. */
  schedule: 'constant' | 'cosine';
  /**
   * Probability that a training sample is seen with one random device failed (zero features to the upper tiers,
   * no scores to the local aggregator), so the upper tiers learn the failure case. 0 disables it.
   */
  deviceDropout: number;
  /**
   * Probability that each device, independently, is dead for a training sample (on top of `deviceDropout`; one
   * device stays live). Several cameras can be gone at once, so no single one is relied on. Absent = 0.
   */
  eachDeviceDropout?: number;
  /** Fraction of the training split held out (stratified) for early stopping, the best epoch and the threshold. */
  validationFraction: number;
  /** Epochs without a better validation score before stopping; 0 = run every epoch. */
  patience: number;
  augment: Augmentation | null;
  /**
   * Decay of the exponential moving average of the weights that validation, the best epoch and the saved model
   * use (0: the last step's weights, as the paper). Absent in checkpoints written before it existed (= 0).
   */
  weightAverage?: number;
  /** Drop-out rate of the float hidden layers of the edge and cloud exits in training (absent = 0). */
  hiddenDropout?: number;
  /**
   * The device exits (and so the local exit, which fuses their scores) read the devices' features without training
   * them: only the upper tiers' losses shape the devices' conv blocks, the device exits train their own heads.
   * Absent = false.
   */
  detachDeviceExits?: boolean;
  /** The validation score weighs the intact model and every single dead device half and half (absent = false). */
  validateFailures?: boolean;
}

/** The paper's recipe: 100 epochs, full batch (700 >= 680 samples), Adam 1e-3 constant, no validation split. */
export const PAPER_RECIPE: TrainingRecipe = {
  epochs: 100,
  batchSize: 700,
  seed: 1,
  learningRate: 1e-3,
  schedule: 'constant',
  deviceDropout: 0.1,
  validationFraction: 0,
  patience: 0,
  augment: null,
  weightAverage: 0,
  hiddenDropout: 0,
  validateFailures: false,
  eachDeviceDropout: 0,
};

/** What the defaults look at. */
export interface DataProfile {
  /** Samples of the training split (before the validation hold-out). */
  trainSamples: number;
  classes: number;
  views: number;
  height: number;
  width: number;
  channels: number;
  augment?: Augmentation;
}

export function profileOf(ds: MultiViewDataset): DataProfile {
  return manifestProfile(ds.manifest, splitIndices(ds, 'train').length);
}

/** The profile from a manifest and the training split's size: enough to plan a run before any image is read. */
export function manifestProfile(m: DatasetManifest, trainSamples: number): DataProfile {
  return { trainSamples, classes: m.classes.length, views: m.views, height: m.height, width: m.width, channels: m.channels, augment: m.augment };
}

/**
 * Input values a batch may hold (2^24 float32 = 64 MB of views; the activations of a step are several times that).
 */
export const FULL_BATCH_VALUES = 2 ** 24;

/**
 * Optimizer steps a default run aims for. Adam moves each weight by about the learning rate per step, so at 1e-3 a
 * clipped binary weight needs several hundred steps to cross from one sign to the other and settle; the paper's
 * 100 full-batch steps are too few for anything but its tiny cloud. The run's epochs follow from it (below).
 */
export const STEP_BUDGET = 800;

/** An epoch is cut into at least this many steps, so that even a small set gets a useful number of updates. */
export const MIN_STEPS_PER_EPOCH = 16;

/** Smallest mini-batch: BatchNorm's batch statistics over fewer samples are too noisy to train against. */
export const MIN_BATCH = 16;

/** Epoch bounds of a default run: enough passes for the cosine schedule to anneal, never more than the paper's. */
export const MIN_EPOCHS = 20;
export const MAX_EPOCHS = 100;

/**
 * Defaults chosen from the data, so that a dataset nobody has tuned for trains well:
 * - validation: 10% of the training split, raised so that each class has about 5 samples in it (at most 20%);
 *   none below 100 training samples (too few to spare);
 * - batch: the largest power of two that still cuts an epoch into MIN_STEPS_PER_EPOCH steps, between MIN_BATCH and
 *   256 and within FULL_BATCH_VALUES; full batch only when the set is too small for two such batches;
 * - epochs: STEP_BUDGET steps (between MIN_EPOCHS and MAX_EPOCHS), a cosine schedule over them, and early stopping
 *   after half the run (at least 10 epochs) without a better validation score: a validation split of ~70 samples
 *   moves by several points from epoch to epoch by chance, and a shorter patience stops while the learning rate is
 *   still high (measured: seed 2 of the default dataset stopped at epoch 20 of 40 and lost 6 points);
 * - device drop-out 0.5: half the training samples see one random device dead, which is what inference with a
 *   failed device looks like, so no single device becomes indispensable;
 * - the model kept and validated is an exponential moving average of the weights over a tenth of the run
 *   (weightAverageDecay): the last step's weights of a small mini-batch run differ from seed to seed by more
 *   than the differences the defaults must see;
 * - augmentation only as the dataset's manifest declares it.
 */
export function recommendRecipe(p: DataProfile): TrainingRecipe {
  const validationFraction = p.trainSamples < 100 ? 0 : Math.min(0.2, Math.max(0.1, (5 * p.classes) / p.trainSamples));
  const train = Math.max(1, Math.round(p.trainSamples * (1 - validationFraction)));
  const valuesPerSample = p.views * p.height * p.width * p.channels;
  const byMemory = Math.max(1, Math.floor(FULL_BATCH_VALUES / valuesPerSample));
  const bySteps = 2 ** Math.floor(Math.log2(Math.max(1, train / MIN_STEPS_PER_EPOCH)));
  let batchSize = Math.min(byMemory, 256, Math.max(MIN_BATCH, bySteps));
  if (batchSize * 2 > train) batchSize = Math.min(byMemory, train);
  const stepsPerEpoch = Math.ceil(train / batchSize);
  const epochs = Math.min(MAX_EPOCHS, Math.max(MIN_EPOCHS, Math.round(STEP_BUDGET / stepsPerEpoch)));
  return {
    epochs,
    batchSize,
    seed: 1,
    learningRate: 1e-3,
    schedule: 'cosine',
    deviceDropout: p.views > 1 ? 0.5 : 0,
    validationFraction,
    patience: validationFraction > 0 ? Math.max(10, Math.round(epochs / 2)) : 0,
    augment: p.augment ?? null,
    weightAverage: weightAverageDecay(epochs * stepsPerEpoch),
    hiddenDropout: 0,
    validateFailures: false,
  };
}

/** Splits training indices into train and a stratified, seeded validation hold-out of about `fraction`. */
export function splitValidation(ds: MultiViewDataset, indices: number[], fraction: number, seed: number): { train: number[]; validation: number[] } {
  if (fraction <= 0) return { train: indices, validation: [] };
  const rng = new Rng(seed, 0x7a1);
  const byClass = new Map<number, number[]>();
  for (const n of indices) {
    const list = byClass.get(ds.labels[n]) ?? [];
    list.push(n);
    byClass.set(ds.labels[n], list);
  }
  const held = new Set<number>();
  for (const list of byClass.values()) {
    const take = Math.min(list.length - 1, Math.round(list.length * fraction));
    rng.shuffle([...list]).slice(0, Math.max(0, take)).forEach((n) => held.add(n));
  }
  return { train: indices.filter((n) => !held.has(n)), validation: indices.filter((n) => held.has(n)) };
}

/**
 * Augments n views [n, H, W, C] in place: each view independently mirrored left-right (with probability 1/2 when
 * `flip`) and shifted by up to `shift` pixels each way (zeros come in). A missing view (all zeros) stays zeros.
 */
export function augmentViews(data: Float32Array, n: number, shape: [number, number, number], spec: Augmentation, rng: Rng): void {
  const [h, w, c] = shape;
  const size = h * w * c;
  const shift = spec.shift ?? 0;
  const copy = new Float32Array(size);
  for (let i = 0; i < n; i++) {
    const view = data.subarray(i * size, (i + 1) * size);
    const flip = spec.flip === true && rng.chance(0.5);
    const dy = shift ? rng.int(2 * shift + 1) - shift : 0;
    const dx = shift ? rng.int(2 * shift + 1) - shift : 0;
    if (!flip && dx === 0 && dy === 0) continue;
    copy.set(view);
    view.fill(0);
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx0 = x - dx;
        if (sx0 < 0 || sx0 >= w) continue;
        const sx = flip ? w - 1 - sx0 : sx0;
        for (let k = 0; k < c; k++) view[(y * w + x) * c + k] = copy[(sy * w + sx) * c + k];
      }
    }
  }
}
