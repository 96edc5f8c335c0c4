import type { TrainingRecipe } from '../train/recipe';
import type { SectionValues } from './params';
import type { MapShape, Topology } from './topology';

/** Checkpoint format version written by saveCheckpoint and required by loadCheckpoint. */
export const FORMAT_VERSION = 2;
/** Versions loadCheckpoint reads: 1 lacks the threshold and the edge/cloud precision fields (binary, as the paper). */
export const READABLE_FORMAT_VERSIONS = [1, 2] as const;

/** The exit threshold where a model records none (the paper's T = 0.8, used by its demo). */
export const DEFAULT_THRESHOLD = 0.8;

/** Fixed facts of the network a checkpoint holds. */
export interface Architecture {
  /** One view: height, width, channels. */
  input: MapShape;
  binarization: string;
  convp: string;
  batchNormEpsilon: number;
}

/** How a model was trained. */
export interface TrainingMetadata {
  epochs: number;
  batchSize: number;
  seed: number;
  learningRate: number;
  deviceDropout: number;
  trainSamples: number;
  secondsTotal: number;
  secondsPerEpoch: number;
  /** Process CPU seconds per epoch (robust to other load on the machine). */
  cpuSecondsPerEpoch?: number;
  backend: string;
  dataset?: string;
  finishedAt: string;
  /** Last epoch's per-exit training loss and accuracy. */
  finalExits: ExitMetric[];
  /** The whole recipe (format 2). */
  recipe?: TrainingRecipe;
  /** The validation hold-out: its size, the epoch whose weights were kept, its score, the threshold it chose. */
  validation?: { samples: number; bestEpoch: number; score: number; stoppedEarly: boolean; threshold: number };
}

export interface ExitMetric {
  exit: string;
  loss: number;
  accuracy: number;
  /**
   * Samples the exit was scored on: a device exit only counts the samples its camera captured, so 0 means no loss
   * and no accuracy (loss and accuracy are then 0). Absent in checkpoints written before it existed.
   */
  samples?: number;
}

/** A trained (or loaded) DDNN: topology, class names and every section's float32 tensors. */
export interface DdnnModel {
  architecture: Architecture;
  topology: Topology;
  classes: string[];
  /**
   * The model's exit threshold T, chosen on its validation split when trained (absent: DEFAULT_THRESHOLD). The one
   * home of "the default T": eval, the API's demo session and the dashboard's defaults read it from the checkpoint.
   */
  threshold?: number;
  training: TrainingMetadata;
  /** Free-form evaluation figures stored with the checkpoint (for example test accuracies). */
  metrics: Record<string, unknown>;
  sections: Map<string, SectionValues>;
}
