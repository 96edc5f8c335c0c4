import * as tf from '@tensorflow/tfjs';

/**
 * An exponential moving average of a set of variables (float weights, the latent real weights of binary layers,
 * BatchNorm's gamma/beta), updated after every optimizer step. Evaluating with the average instead of the last
 * step's weights removes most of the step-to-step noise of mini-batch training, which on small sets decides more
 * of the final accuracy than the seed's luck should. The first steps average over a shorter horizon
 * ((1 + t) / (10 + t)) so that the random initialisation is forgotten quickly.
 */
export class WeightAverage {
  private readonly shadow: Map<tf.Variable, tf.Variable>;
  private steps = 0;

  constructor(
    private readonly variables: tf.Variable[],
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`weight-average decay must be in (0, 1), got ${decay}`);
    this.shadow = new Map(variables.map((v) => [v, tf.variable(v.clone(), false)]));
  }

  /** Folds the variables' current values into the average. */
  update(): void {
    this.steps++;
    const d = Math.min(this.decay, (1 + this.steps) / (10 + this.steps));
    tf.tidy(() => {
      for (const [v, s] of this.shadow) s.assign(tf.add(tf.mul(s, d), tf.mul(v, 1 - d)));
    });
  }

  /** Puts the averaged values into the variables; returns what to hand to `restore` to get the live ones back. */
  swapIn(): Map<tf.Variable, tf.Tensor> {
    const live = new Map<tf.Variable, tf.Tensor>();
    for (const [v, s] of this.shadow) {
      live.set(v, v.clone());
      v.assign(s);
    }
    return live;
  }

  /** Undoes `swapIn`. */
  restore(live: Map<tf.Variable, tf.Tensor>): void {
    for (const [v, t] of live) {
      v.assign(t);
      t.dispose();
    }
  }

  dispose(): void {
    for (const s of this.shadow.values()) s.dispose();
  }
}

/**
 * The decay for a run of `totalSteps` optimizer steps: an averaging horizon (1 / (1 - decay)) of a tenth of the run,
 * at least 10 steps, so that the average follows the cosine schedule's annealing rather than lagging a whole phase.
 */
export function weightAverageDecay(totalSteps: number): number {
  return 1 - 1 / Math.max(10, Math.round(totalSteps / 10));
}
