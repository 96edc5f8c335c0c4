/** manifest.json of a multi-view dataset folder. */
export interface DatasetManifest {
  name: string;
  classes: string[];
  views: number;
  height: number;
  width: number;
  channels: number;
  /** Training-time augmentation the dataset allows (applied to training views only). */
  augment?: Augmentation;
}

/** Augmentation a dataset declares valid for its views: mirror left-right, shift by up to `shift` pixels. */
export interface Augmentation {
  flip?: boolean;
  shift?: number;
}

export type Split = 'train' | 'test';

/**
 * A loaded multi-view dataset, stored flat so that training can slice it without copies:
 * `pixels` holds N*V images of H*W*C float32 values in [0,1] (HWC, sample-major, then view);
 * a missing view is all zeros with `present` 0.
 */
export interface MultiViewDataset {
  manifest: DatasetManifest;
  sampleIds: string[];
  splits: Split[];
  /** Class index per sample. */
  labels: Int32Array;
  /** 1 where view v of sample n was captured, at n*V+v. */
  present: Uint8Array;
  pixels: Float32Array;
  /**
   * Bytes of each stored view image at its native size (width x height x channels as captured, 2 bytes per
   * channel for 16-bit images), at n*V+v; 0 for a missing view. Absent for datasets built in memory.
   */
  nativeBytes?: Uint32Array;
}

/** Values in one view image (H*W*C). */
export function viewSize(m: DatasetManifest): number {
  return m.height * m.width * m.channels;
}

/** View v of sample n, as a subarray of the dataset's pixels (no copy). */
export function viewPixels(ds: MultiViewDataset, n: number, v: number): Float32Array {
  const size = viewSize(ds.manifest);
  const start = (n * ds.manifest.views + v) * size;
  return ds.pixels.subarray(start, start + size);
}

/** One view (camera) of a dataset, as a device agent loads it: `pixels` holds N images of H*W*C. */
export interface SingleViewDataset {
  manifest: DatasetManifest;
  view: number;
  sampleIds: string[];
  splits: Split[];
  labels: Int32Array;
  /** 1 where the camera captured sample n. */
  present: Uint8Array;
  pixels: Float32Array;
}
