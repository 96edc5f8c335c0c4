/**
 * Every knob of the synthetic multi-camera generator, in one place. The model engineer calibrates
 * single-camera and fused accuracy by editing these tables (see the README of libs/datasets).
 */

/** Classes in label order, with how often each is drawn (MVMC is unbalanced too). */
export const SYNTH_CLASSES = ['car', 'bus', 'person'] as const;
export const CLASS_PRIORS: readonly number[] = [0.47, 0.2, 0.33];

/** MVMC's shape: 851 samples, 680 of them for training. */
export const DEFAULT_SAMPLES = 851;
export const TRAIN_FRACTION = 680 / 851;
export const CROP_SIZE = 32;

/** Objects stand uniformly in a disc of this radius (m) around the scene origin. */
export const SCENE_RADIUS = 10;

/** One camera: where it stands, its optics and what makes it hard. */
export interface CameraSpec {
  name: string;
  /** Position angle around the scene centre (deg) and horizontal distance from it (m). */
  azimuthDeg: number;
  distance: number;
  /** Mounting height (m): low cameras see vehicles end-on or side-on, high ones see roofs. */
  height: number;
  /** Point on the ground the camera is aimed at (m, scene coordinates x, z). */
  aim: readonly [number, number];
  /** Focal length in pixels of its 320x240 sensor: longer means narrower view, more misses. */
  focalPx: number;
  /** Gaussian sensor noise, standard deviation in 8-bit levels, added at the sensor's resolution. */
  noise: number;
  /** Colour saturation kept (1 = full colour, 0 = grey night camera). */
  saturation: number;
  /** Per-shot white-balance error (log-normal sigma per channel) and exposure error (log sigma). */
  colourCast: number;
  exposure: number;
  /** Chance of a camera-local occluder (pole, wall, parked van) between camera and object, and how much of the object it hides. */
  occlusion: number;
  occlusionCover: readonly [number, number];
  /** Background distractors (boxes, poles, trees) placed behind the object for this camera. */
  clutter: number;
  /** Objects smaller than this (bounding-box height in sensor pixels) are not detected: missing view. */
  minPixels: number;
  /** Chance the camera's detector misses a visible object anyway (missing view). */
  dropRate: number;
}

/**
 * The six cameras, weakest first (as the paper lists its devices: 37% ... 73% alone).
 *
 * | cam | where             | distance / height | focal | noise | sat. | occl. | clutter | drop | why it is weak or strong                     |
 * |-----|-------------------|-------------------|-------|-------|------|-------|---------|------|----------------------------------------------|
 * | 0   | far mast, night   | 48 m / 9 m        | 250   | 26    | 0.15 | 0.45  | 5       | 0.12 | tiny, noisy, almost colourless crops         |
 * | 1   | kerb, very low    | 26 m / 0.9 m      | 420   | 18    | 0.6  | 0.55  | 6       | 0.06 | low and often blocked; long lens misses more |
 * | 2   | overhead          | 8 m / 22 m        | 260   | 14    | 0.7  | 0.2   | 4       | 0.05 | sees roofs and heads: shape cues are weak    |
 * | 3   | pole, mid range   | 30 m / 5 m        | 330   | 12    | 0.8  | 0.35  | 4       | 0.05 | mid distance, some occlusion                 |
 * | 4   | building corner   | 22 m / 3.5 m      | 300   | 8     | 0.9  | 0.25  | 3       | 0.04 | closer, cleaner                              |
 * | 5   | close, good lens  | 16 m / 2.6 m      | 280   | 5     | 1    | 0.15  | 2       | 0.03 | near and clean; narrow view, misses edges    |
 */
export const CAMERAS: readonly CameraSpec[] = [
  {
    name: 'far-mast-night',
    azimuthDeg: 10,
    distance: 48,
    height: 9,
    aim: [0, 0],
    focalPx: 250,
    noise: 26,
    saturation: 0.15,
    colourCast: 0.12,
    exposure: 0.35,
    occlusion: 0.45,
    occlusionCover: [0.25, 0.6],
    clutter: 5,
    minPixels: 6,
    dropRate: 0.12,
  },
  {
    name: 'kerb-low',
    azimuthDeg: 75,
    distance: 26,
    height: 0.9,
    aim: [2, 1],
    focalPx: 420,
    noise: 18,
    saturation: 0.6,
    colourCast: 0.15,
    exposure: 0.3,
    occlusion: 0.55,
    occlusionCover: [0.25, 0.6],
    clutter: 6,
    minPixels: 6,
    dropRate: 0.06,
  },
  {
    name: 'overhead',
    azimuthDeg: 140,
    distance: 8,
    height: 22,
    aim: [0, 0],
    focalPx: 260,
    noise: 14,
    saturation: 0.7,
    colourCast: 0.12,
    exposure: 0.25,
    occlusion: 0.2,
    occlusionCover: [0.2, 0.45],
    clutter: 4,
    minPixels: 6,
    dropRate: 0.05,
  },
  {
    name: 'pole-mid',
    azimuthDeg: 200,
    distance: 30,
    height: 5,
    aim: [-1, -1],
    focalPx: 330,
    noise: 12,
    saturation: 0.8,
    colourCast: 0.1,
    exposure: 0.2,
    occlusion: 0.35,
    occlusionCover: [0.2, 0.5],
    clutter: 4,
    minPixels: 6,
    dropRate: 0.05,
  },
  {
    name: 'building-corner',
    azimuthDeg: 260,
    distance: 22,
    height: 3.5,
    aim: [0, 1],
    focalPx: 300,
    noise: 8,
    saturation: 0.9,
    colourCast: 0.08,
    exposure: 0.15,
    occlusion: 0.25,
    occlusionCover: [0.15, 0.45],
    clutter: 3,
    minPixels: 6,
    dropRate: 0.04,
  },
  {
    name: 'close-good-lens',
    azimuthDeg: 320,
    distance: 16,
    height: 2.6,
    aim: [1, 0],
    focalPx: 280,
    noise: 5,
    saturation: 1,
    colourCast: 0.05,
    exposure: 0.12,
    occlusion: 0.15,
    occlusionCover: [0.15, 0.4],
    clutter: 2,
    minPixels: 6,
    dropRate: 0.03,
  },
];

export const SENSOR_WIDTH = 320;
export const SENSOR_HEIGHT = 240;
/** Context kept around the object's bounding box in each crop, as a fraction of its size per side. */
export const CROP_MARGIN = 0.08;
