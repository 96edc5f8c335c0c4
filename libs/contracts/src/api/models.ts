/** POST /api/models: register a checkpoint directory readable by the server (local use). */
export interface RegisterModelRequest {
  /**
   * Server-side checkpoint folder (manifest.json + one weights file per section), absolute or relative to
   * the repository; it must lie under a models root (DDNN_MODELS_ROOTS), judged after resolving symlinks.
   */
  path: string;
  /** Defaults to a new id; `default` is the model npm start provides. */
  id?: string;
  name?: string;
}
export interface ModelSectionInfo {
  name: string;
  file: string;
  bytes: number;
}
export interface ModelView {
  id: string;
  name: string;
  version: string;
  /** Where the checkpoint lives, never absolute: `models/<name>` (the repository), `<data>/models/<id>`, `<server>/<name>`. */
  path: string;
  sections: ModelSectionInfo[];
  createdAt: string;
  /** The exit threshold T the checkpoint was trained to use (null when its manifest does not say). */
  threshold: number | null;
  /** How it was trained, as its manifest records it (null for a checkpoint without a readable record). */
  training: ModelTrainingFacts | null;
  /** What `ddnn train` measured on the dataset's test split at T (null when not recorded). */
  testMetrics: ModelTestMetrics | null;
}
export interface ModelTrainingFacts {
  dataset: string | null;
  trainSamples: number | null;
  epochs: number | null;
  batchSize: number | null;
  learningRate: number | null;
  /** Validation hold-out: samples, the epoch kept (best validation score) and that score. */
  validation: { samples: number; bestEpoch: number; score: number; stoppedEarly: boolean } | null;
  secondsTotal: number | null;
  backend: string | null;
  finishedAt: string | null;
  /**
   * Training accuracy per exit at the end (device-k, local, edge, cloud), and the samples it saw (0: a device that
   * captured none, whose accuracy means nothing; null in checkpoints written before it was recorded).
   */
  exits: { exit: string; accuracy: number; samples: number | null }[];
}
export interface ModelTestMetrics {
  samples: number;
  overall: number;
  local: number;
  cloud: number;
  localExitRate: number;
  bytesPerSample: number;
  rawBytesPerSample: number | null;
}
