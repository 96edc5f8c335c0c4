import { storeView } from '../format/pixels';
import type { Raster } from '../image/raster';
import { Rng } from '../prng';
import { CAMERAS, CLASS_PRIORS, CROP_SIZE, ROAD_HALF_WIDTH, ROAD_TURNING, ROAD_WANDER, SCENE_RADIUS } from './cameras';
import type { Thing, Vec3 } from './geometry';
import { makeObject } from './objects';
import { renderView } from './render';
import { camerasFor, cropFor, detect, planViews, sampleLighting, type Lighting, type SynthScene, type ViewPlan } from './scene';

/**
 * The moving scene: the default dataset's site seen live. One object at a time crosses the site (a passage of
 * PASSAGE_MS), vehicles along the road, people and turning vehicles along a chord of the disc, so which of the
 * six cameras see it, and how well, changes as it moves. Each camera shoots a frame every FRAME_MS; a frame is
 * rendered exactly as a dataset sample's view is (same objects, light, detector, occluders, clutter, noise), so
 * the default model classifies scene frames about as well as its test split.
 *
 * Everything is a pure function of (scene, time, camera): devices, tests and the labeller that knows the truth
 * all agree on what was in front of which camera at any instant, without sharing state.
 */
export interface MovingScene {
  seed: number;
  /**
   * The scene repeats after this many passages (so a long-running demo can keep the frames it rendered);
   * unset: it never repeats.
   */
  period?: number;
}

/** Per-camera degradation knobs, each 0..1: extra sensor noise, and the share of the view hidden at the lens. */
export interface CameraKnobs {
  noise: number;
  occlusion: number;
}

/** How long one object takes to cross the site (ms). */
export const PASSAGE_MS = 8000;
/** Time between two frames of a camera (ms): cameras shoot at 2 frames per second. */
export const FRAME_MS = 500;
const FRAMES_PER_PASSAGE = PASSAGE_MS / FRAME_MS;
/** Positions along a path tried for visibility (a frame only uses positions some camera can see). */
const PATH_PROBES = 64;
// Separates the scene's random streams from the dataset's (Rng(seed, index)) and from each other.
const STREAM = 0x5ce7e;

interface Passage {
  label: number;
  lighting: Lighting;
  object: Thing;
  /** Where the object stands at each frame of the passage. */
  positions: Vec3[];
}

const CAMS = camerasFor(CAMERAS.length);

function checkScene(scene: MovingScene): void {
  if (!Number.isInteger(scene.seed)) throw new Error(`scene seed must be an integer, got ${scene.seed}`);
  if (scene.period !== undefined && (!Number.isInteger(scene.period) || scene.period < 1)) throw new Error(`scene period must be a positive integer, got ${scene.period}`);
}

function checkTime(timeMs: number): void {
  if (!Number.isFinite(timeMs) || timeMs < 0) throw new Error(`scene time must be a finite number of ms >= 0, got ${timeMs}`);
}

/** Which passage is on at a time, and the index its content comes from (the same index once the scene repeats). */
function passageAt(scene: MovingScene, timeMs: number): { passage: number; content: number; frame: number } {
  checkScene(scene);
  checkTime(timeMs);
  const passage = Math.floor(timeMs / PASSAGE_MS);
  const content = scene.period ? passage % scene.period : passage;
  const frame = Math.min(FRAMES_PER_PASSAGE - 1, Math.floor((timeMs - passage * PASSAGE_MS) / FRAME_MS));
  return { passage, content, frame };
}

/**
 * The path of a passage: vehicles on the road drive its length in a lane, heading along it (as the dataset
 * places them); people and turning vehicles walk a chord of the scene's disc, facing where they go.
 */
function pathOf(rng: Rng, object: Thing, label: number): (f: number) => Vec3 {
  if (label !== 2 && !rng.chance(ROAD_TURNING)) {
    const lane = rng.uniform(-ROAD_HALF_WIDTH, ROAD_HALF_WIDTH);
    object.yaw = (rng.chance(0.5) ? 0 : Math.PI) + ROAD_WANDER * rng.normal();
    const heading: Vec3 = [Math.cos(object.yaw), 0, -Math.sin(object.yaw)];
    return (f) => [(2 * f - 1) * SCENE_RADIUS * heading[0], 0, lane + (2 * f - 1) * SCENE_RADIUS * heading[2]];
  }
  object.yaw = rng.uniform(0, 2 * Math.PI);
  const heading: Vec3 = [Math.cos(object.yaw), 0, -Math.sin(object.yaw)];
  const side: Vec3 = [Math.sin(object.yaw), 0, Math.cos(object.yaw)];
  const offset = SCENE_RADIUS * rng.uniform(-0.9, 0.9);
  const half = Math.sqrt(SCENE_RADIUS ** 2 - offset ** 2);
  return (f) => [offset * side[0] + (2 * f - 1) * half * heading[0], 0, offset * side[2] + (2 * f - 1) * half * heading[2]];
}

const passages = new Map<string, Passage>();

/** A passage's object, light and path (memoised: every frame of a passage needs it, and it is pure). */
function passageOf(seed: number, content: number): Passage {
  const key = `${seed}:${content}`;
  const known = passages.get(key);
  if (known) return known;
  const rng = new Rng(seed, STREAM, content);
  const label = rng.weighted(CLASS_PRIORS);
  const lighting = sampleLighting(rng);
  const object = makeObject(rng, label, [0, 0, 0], 0);
  let seen: Vec3[] = [];
  // A path no camera sees any of is redrawn, as the dataset moves objects no camera captures.
  for (let attempt = 0; seen.length === 0 && attempt < 50; attempt++) {
    const at = pathOf(rng, object, label);
    seen = [];
    for (let k = 0; k < PATH_PROBES; k++) {
      object.position = at((k + 0.5) / PATH_PROBES);
      if (CAMS.some((cam) => cropFor(cam, object))) seen.push(object.position);
    }
  }
  if (seen.length === 0) seen = [[0, 0, 0]];
  // The passage's frames spread over the positions some camera sees: a blind stretch is crossed between frames.
  const positions = Array.from({ length: FRAMES_PER_PASSAGE }, (_, i) => seen[Math.round((i * (seen.length - 1)) / Math.max(1, FRAMES_PER_PASSAGE - 1))]);
  const passage = { label, lighting, object, positions };
  if (passages.size >= 4096) passages.delete(passages.keys().next().value as string);
  passages.set(key, passage);
  return passage;
}

/** The truth at a time: the class of the object crossing the site, and which passage (object) it is. */
export function sceneTruth(scene: MovingScene, timeMs: number): { label: number; passage: number } {
  const { passage, content } = passageAt(scene, timeMs);
  return { label: passageOf(scene.seed, content).label, passage };
}

/**
 * A key naming the frame shown at a time (equal for every time within one frame, and for the same frame once the
 * scene repeats): what a cache of rendered frames is keyed by, with the camera.
 */
export function sceneFrameKey(scene: MovingScene, timeMs: number): string {
  const { content, frame } = passageAt(scene, timeMs);
  return `${scene.seed}:${content}:${frame}`;
}

/** One shot of every camera at a frame: the object in place and each camera's plan (null: it does not capture the object). */
function shotAt(scene: MovingScene, timeMs: number): { synth: SynthScene; content: number; frame: number } {
  const { content, frame } = passageAt(scene, timeMs);
  const p = passageOf(scene.seed, content);
  const object: Thing = { ...p.object, position: p.positions[frame] };
  const rng = new Rng(scene.seed, STREAM, content, frame);
  // As in the dataset, a shot where every detector failed is redrawn: some camera always reports the object.
  let rects: (ViewPlan['rect'] | null)[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    rects = detect(rng, CAMS, object);
    if (rects.some((r) => r)) break;
  }
  return { synth: { label: p.label, object, lighting: p.lighting, views: planViews(rng, CAMS, object, rects) }, content, frame };
}

/** Which cameras capture the object at a time (without rendering anything): a view is present where true. */
export function sceneCoverage(scene: MovingScene, timeMs: number): boolean[] {
  return shotAt(scene, timeMs).synth.views.map((plan) => plan !== null);
}

function checkCamera(camera: number): void {
  if (!Number.isInteger(camera) || camera < 0 || camera >= CAMS.length) throw new Error(`the scene has cameras 0..${CAMS.length - 1}, got ${camera}`);
}

/** Knobs from untrusted numbers: each clamped to 0..1 (NaN is 0). */
export function clampKnobs(knobs: Partial<CameraKnobs> | undefined): CameraKnobs {
  const clamp = (x: number | undefined) => (typeof x === 'number' && Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
  return { noise: clamp(knobs?.noise), occlusion: clamp(knobs?.occlusion) };
}

/**
 * What camera `camera` shoots at `timeMs`: the truth, and its 32x32 RGB image of the object or null when it does
 * not capture it (out of its view, too small, missed by its detector). `knobs` degrade this camera only.
 */
export function sceneImage(scene: MovingScene, timeMs: number, camera: number, knobs?: Partial<CameraKnobs>): { label: number; passage: number; image: Raster | null } {
  checkCamera(camera);
  const { synth, content, frame } = shotAt(scene, timeMs);
  const { passage } = passageAt(scene, timeMs);
  const plan = synth.views[camera];
  if (!plan) return { label: synth.label, passage, image: null };
  const k = clampKnobs(knobs);
  const degrade = k.noise > 0 || k.occlusion > 0 ? { ...k, fromLeft: camera % 2 === 0, rng: new Rng(scene.seed, STREAM, content, frame, 2000 + camera) } : undefined;
  const image = renderView(synth, plan, new Rng(scene.seed, STREAM, content, frame, 1000 + camera), CROP_SIZE, degrade);
  return { label: synth.label, passage, image };
}

/** An image as the model's input (the stored view format: HWC floats scaled by the image's maximum; null = all zeros, a missing view). */
export function sceneInput(image: Raster | null): Float32Array {
  const out = new Float32Array(CROP_SIZE * CROP_SIZE * 3);
  if (image) storeView(image, { width: CROP_SIZE, height: CROP_SIZE, channels: 3 }, out, 0);
  return out;
}

/** What camera `camera` hands its model at `timeMs`: the truth, whether it captured the object, and the view's pixels. */
export function sceneView(scene: MovingScene, timeMs: number, camera: number, knobs?: Partial<CameraKnobs>): { label: number; passage: number; present: boolean; pixels: Float32Array } {
  const { label, passage, image } = sceneImage(scene, timeMs, camera, knobs);
  return { label, passage, present: image !== null, pixels: sceneInput(image) };
}
