import type * as tf from '@tensorflow/tfjs';
import { oneStandardError } from './threshold';

/**
 * Which epoch's weights become the model. `best`: the best validation score so far (early stopping counts from it).
 * `chosen`: the latest epoch whose score is within one standard error of the best (oneStandardError): the validation
 * split cannot tell such epochs apart, and the later one has trained longer at a lower learning rate. Only one
 * snapshot is kept: a new best is itself the latest epoch within the error.
 */
export class EpochChoice {
  best: { epoch: number; score: number; loss: number } | null = null;
  chosen: { epoch: number; score: number; values: Map<tf.Variable, Float32Array> } | null = null;

  /** `validationSamples`: the size of the split the scores are measured on. */
  constructor(private readonly validationSamples: number) {}

  /** Records an epoch's validation; `snapshot` is taken only when the epoch becomes the chosen one. */
  record(epoch: number, v: { score: number; loss: number }, snapshot: () => Map<tf.Variable, Float32Array>): void {
    const previous = this.best;
    const best = previous && (v.score < previous.score || (v.score === previous.score && v.loss > previous.loss)) ? previous : { epoch, score: v.score, loss: v.loss };
    this.best = best;
    if (v.score >= best.score - oneStandardError(best.score, this.validationSamples) - 1e-9) this.chosen = { epoch, score: v.score, values: snapshot() };
  }

  /** Whether `patience` epochs (0: never) have passed since the best score. */
  patienceRunOut(epoch: number, patience: number): boolean {
    return this.best !== null && patience > 0 && epoch - this.best.epoch >= patience;
  }
}
