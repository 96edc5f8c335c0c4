import * as tf from '@tensorflow/tfjs';
import type { Augmentation, MultiViewDataset, Rng } from '@ddnn/datasets';
import { prepareWeightGradInput } from '../layers/conv';
import type { Topology } from '../model/topology';
import { gatherPresent, gatherView } from './batches';
import { augmentViews } from './recipe';

/** The tensors of a set of samples, one view per device, as training and validation passes take them. */
export interface Batch {
  size: number;
  views: tf.Tensor4D[];
  /** The views prepared for the first conv's weight gradient (training batches only). */
  prepared: tf.Tensor4D[];
  labels: tf.Tensor2D;
  labelIdx: Int32Array;
  present: tf.Tensor1D[];
  presentRaw: Float32Array[];
}

export function makeBatch(ds: MultiViewDataset, t: Topology, indices: number[], forTraining: boolean, augment?: { spec: Augmentation; rng: Rng }): Batch {
  const { height, width, channels } = ds.manifest;
  const labelIdx = Int32Array.from(indices, (n) => ds.labels[n]);
  const views = t.devices.map((v) => {
    const data = gatherView(ds, indices, v);
    if (augment) augmentViews(data, indices.length, [height, width, channels], augment.spec, augment.rng);
    return tf.tensor4d(data, [indices.length, height, width, channels]);
  });
  const presentRaw = t.devices.map((v) => gatherPresent(ds, indices, v));
  return {
    size: indices.length,
    views,
    prepared: forTraining ? views.map((x) => prepareWeightGradInput(x)) : [],
    labels: tf.tidy(() => tf.oneHot(tf.tensor1d(labelIdx, 'int32'), ds.manifest.classes.length).toFloat() as tf.Tensor2D),
    labelIdx,
    present: presentRaw.map((p) => tf.tensor1d(p)),
    presentRaw,
  };
}

/**
 * Per device [N,1] live masks of a batch at inference: its captured views (a view the camera did not capture sends
 * nothing, as a dead device), with device index `dead` failed too (-1: none). Null when every device is live.
 */
export function capturedMasks(b: Batch, dead = -1): tf.Tensor2D[] | null {
  const masks = b.presentRaw.map((p, d) => (d === dead ? new Float32Array(b.size) : p));
  if (masks.every((m) => m.every((x) => x === 1))) return null;
  return masks.map((m) => tf.tensor2d(m, [b.size, 1]));
}

export function disposeBatch(b: Batch): void {
  tf.dispose([...b.views, ...b.prepared, ...b.present, b.labels]);
}
