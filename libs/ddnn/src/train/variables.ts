import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@ddnn/datasets';
import type { SectionTensors } from '../model/forward';
import { initialValues, type SectionSpec, type SectionValues } from '../model/params';

/** The tfjs variables of a model in training, by section, and the subsets the optimizer and the clipping see. */
export interface TrainingVariables {
  bySection: Record<string, SectionTensors>;
  /** Everything but BatchNorm's inference statistics. */
  trainable: tf.Variable[];
  /** Latent real weights of binary layers, clipped to [-1, 1] after every step. */
  binary: tf.Variable[];
}

// tfjs variable names must be unique per process; several models may train in one process.
let variableSerial = 0;

/** Variables holding each section's initial values (drawn from `rng` in spec order). */
export function createVariables(specs: SectionSpec[], rng: Rng): TrainingVariables {
  const bySection: Record<string, SectionTensors> = {};
  const trainable: tf.Variable[] = [];
  const binary: tf.Variable[] = [];
  for (const spec of specs) {
    const init = initialValues(spec, rng);
    bySection[spec.name] = {};
    for (const p of spec.params) {
      const isTrainable = p.kind !== 'mean' && p.kind !== 'variance';
      const value = init.get(p.name);
      if (!value) throw new Error(`no initial value for ${spec.name}/${p.name}`);
      const v = tf.variable(tf.tensor(value.data, p.shape), isTrainable, `ddnn${++variableSerial}/${spec.name}/${p.name}`);
      bySection[spec.name][p.name] = v;
      if (isTrainable) trainable.push(v);
      if (p.kind === 'binary') binary.push(v);
    }
  }
  return { bySection, trainable, binary };
}

/** A copy of every variable's values (for `restoreSnapshot`). */
export function snapshot(vars: TrainingVariables): Map<tf.Variable, Float32Array> {
  return new Map(allVariables(vars).map((v) => [v, Float32Array.from(v.dataSync())]));
}

export function restoreSnapshot(values: Map<tf.Variable, Float32Array>): void {
  for (const [v, data] of values) v.assign(tf.tensor(data, v.shape));
}

/** The variables' values as the checkpoint's sections. */
export function sectionValues(specs: SectionSpec[], vars: TrainingVariables): Map<string, SectionValues> {
  const sections = new Map<string, SectionValues>();
  for (const spec of specs) {
    const values: SectionValues = new Map();
    for (const p of spec.params) values.set(p.name, { shape: p.shape, data: Float32Array.from(vars.bySection[spec.name][p.name].dataSync()) });
    sections.set(spec.name, values);
  }
  return sections;
}

export function disposeVariables(vars: TrainingVariables): void {
  allVariables(vars).forEach((v) => v.dispose());
}

function allVariables(vars: TrainingVariables): tf.Variable[] {
  return Object.values(vars.bySection).flatMap((s) => Object.values(s) as tf.Variable[]);
}
