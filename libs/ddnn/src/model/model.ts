import type { SectionValues } from './params';
import type { MapShape, Topology } from './topology';

/** Checkpoint format version written by saveCheckpoint and required by loadCheckpoint. */
export const FORMAT_VERSION = 1;

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
}

export interface ExitMetric {
  exit: string;
  loss: number;
  accuracy: number;
}

/** A trained (or loaded) DDNN: topology, class names and every section's float32 tensors. */
export interface DdnnModel {
  architecture: Architecture;
  topology: Topology;
  classes: string[];
  training: TrainingMetadata;
  /** Free-form evaluation figures stored with the checkpoint (for example test accuracies). */
  metrics: Record<string, unknown>;
  sections: Map<string, SectionValues>;
}
