import type { Augmentation, MultiViewDataset } from '@ddnn/datasets';
import type { ExitMetric } from '../model/model';
import { recommendRecipe, PAPER_RECIPE, profileOf, type DataProfile, type TrainingRecipe } from './recipe';

/** Anything not given comes from `recommendRecipe` (the data's defaults), or from PAPER_RECIPE with `paper`. */
export interface TrainOptions {
  /** Start from the paper's recipe (full batch, constant lr, no validation) instead of the data's defaults. */
  paper?: boolean;
  epochs?: number;
  /** Samples per step; anything >= the training set is full batch (the paper: 700 on 680). */
  batchSize?: number;
  seed?: number;
  learningRate?: number;
  /**
   * Probability that a training sample is seen with one random device failed (zero features to the cloud, no
   * scores to the local aggregator), so the upper tiers learn the failure case. 0 disables it.
   */
  deviceDropout?: number;
  /** Probability that each device independently is dead for a training sample (see TrainingRecipe). */
  eachDeviceDropout?: number;
  /** Fraction of the training split held out for validation (early stopping, best epoch, threshold); 0 = none. */
  validationFraction?: number;
  /** Epochs without a better validation score before stopping; 0 = never stop early. */
  patience?: number;
  schedule?: TrainingRecipe['schedule'];
  /** Overrides the dataset manifest's augmentation (null = none). */
  augment?: Augmentation | null;
  /** Decay of the moving average of the weights that is validated and kept (0 = the last step's weights). */
  weightAverage?: number;
  /** Drop-out rate of the float hidden layers of the edge and cloud exits in training. */
  hiddenDropout?: number;
  /** The device exits read the devices' features without training them (see TrainingRecipe). */
  detachDeviceExits?: boolean;
  /** Score validation epochs over the intact model and every single dead device (see `validate`). */
  validateFailures?: boolean;
  /** Called after every epoch with that epoch's per-exit training loss and accuracy. */
  onEpoch?: (report: EpochReport) => void;
  datasetName?: string;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  seconds: number;
  exits: ExitMetric[];
  /** Validation score (mean accuracy of the local, edge and cloud exits) when there is a validation split. */
  validation?: number;
  learningRate: number;
}

/** The paper's recipe (batch 700 >= 680 samples = full batch); `ddnn train --paper` starts from it. */
export const TRAIN_DEFAULTS = PAPER_RECIPE;

/** Learning rate of an epoch (1-based): constant, or cosine from lr down to lr/20 over the run. */
export function learningRateAt(recipe: Pick<TrainingRecipe, 'learningRate' | 'schedule' | 'epochs'>, epoch: number): number {
  if (recipe.schedule === 'constant' || recipe.epochs <= 1) return recipe.learningRate;
  const progress = (epoch - 1) / (recipe.epochs - 1);
  const floor = recipe.learningRate / 20;
  return floor + (recipe.learningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** The recipe a training run uses: the options over the data's defaults (or the paper's); a profile is enough. */
export function resolveRecipe(ds: MultiViewDataset | DataProfile, options: TrainOptions = {}): TrainingRecipe {
  const base = options.paper ? PAPER_RECIPE : recommendRecipe('manifest' in ds ? profileOf(ds) : ds);
  const pick = <K extends keyof TrainingRecipe>(k: K, v: TrainingRecipe[K] | undefined): TrainingRecipe[K] => (v === undefined ? base[k] : v);
  return {
    epochs: pick('epochs', options.epochs),
    batchSize: pick('batchSize', options.batchSize),
    seed: pick('seed', options.seed),
    learningRate: pick('learningRate', options.learningRate),
    schedule: pick('schedule', options.schedule),
    deviceDropout: pick('deviceDropout', options.deviceDropout),
    validationFraction: pick('validationFraction', options.validationFraction),
    patience: pick('patience', options.patience),
    augment: options.augment === undefined ? base.augment : options.augment,
    weightAverage: options.weightAverage ?? base.weightAverage ?? 0,
    hiddenDropout: options.hiddenDropout ?? base.hiddenDropout ?? 0,
    detachDeviceExits: options.detachDeviceExits ?? base.detachDeviceExits ?? false,
    validateFailures: options.validateFailures ?? base.validateFailures ?? false,
    eachDeviceDropout: options.eachDeviceDropout ?? base.eachDeviceDropout ?? 0,
  };
}
