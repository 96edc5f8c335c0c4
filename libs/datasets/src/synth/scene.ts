import { Rng } from '../prng';
import { CAMERAS, CLASS_PRIORS, RICH_CLASSES, type SynthMode, CROP_MARGIN, ROAD_HALF_WIDTH, ROAD_TURNING, ROAD_WANDER, SCENE_RADIUS, SENSOR_HEIGHT, SENSOR_WIDTH, type CameraSpec } from './cameras';
import { dot, makeThing, normalize, placeCamera, project, rayDirection, thingCorners, type PinholeCamera, type Thing, type Vec3 } from './geometry';
import { makeObject, makeProp } from './objects';

/** Light and surroundings shared by every camera of one sample. */
export interface Lighting {
  sun: Vec3;
  ambient: number;
  ground: Vec3;
  sky: Vec3;
}

/** What one camera captures of a sample: its crop on the sensor and things only it sees. */
export interface ViewPlan {
  camera: PinholeCamera;
  /** Crop on the sensor, [x0, x1) x [y0, y1) in pixels (the object's box plus a margin, clipped). */
  rect: { x0: number; y0: number; x1: number; y1: number };
  /** Occluders and background clutter near this camera's line of sight. */
  extras: Thing[];
  exposure: number;
  cast: Vec3;
  occluded: boolean;
}

/** One sample's scene: the object, the light, and per camera a plan or null (missing view). */
export interface SynthScene {
  label: number;
  object: Thing;
  lighting: Lighting;
  views: (ViewPlan | null)[];
}

const PLACED = CAMERAS.map(placeCamera);

/** The cameras used for a dataset of `views` views (the first `views` rows of the table). */
export function camerasFor(views: number): PinholeCamera[] {
  if (!Number.isInteger(views) || views < 1 || views > CAMERAS.length) {
    throw new Error(`the synthetic scene has ${CAMERAS.length} cameras: views must be 1..${CAMERAS.length}, got ${views}`);
  }
  return PLACED.slice(0, views);
}

function objectBox(cam: PinholeCamera, object: Thing): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const c of thingCorners(object)) {
    const p = project(cam, c);
    if (p.depth < 1) return null;
    x0 = Math.min(x0, p.u);
    x1 = Math.max(x1, p.u);
    y0 = Math.min(y0, p.v);
    y1 = Math.max(y1, p.v);
  }
  return { x0, y0, x1, y1 };
}

/** The sensor crop of an object, or null when the camera cannot capture it (out of view, too small). */
export function cropFor(cam: PinholeCamera, object: Thing): ViewPlan['rect'] | null {
  const box = objectBox(cam, object);
  if (!box) return null;
  const centre = project(cam, [object.position[0], (object.min[1] + object.max[1]) / 2, object.position[2]]);
  if (centre.u < 0 || centre.u >= SENSOR_WIDTH || centre.v < 0 || centre.v >= SENSOR_HEIGHT) return null;
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  if (h < cam.spec.minPixels) return null;
  // The crop is the box widened to a square (plus a margin), so the object's proportions survive the
  // resize to 32x32: a bus side-on is long, end-on it is as square as a car.
  const side = Math.max(w, h) * (1 + 2 * CROP_MARGIN);
  const cx = (box.x0 + box.x1) / 2;
  const cy = (box.y0 + box.y1) / 2;
  const clip = {
    x0: Math.max(0, cx - side / 2),
    y0: Math.max(0, cy - side / 2),
    x1: Math.min(SENSOR_WIDTH, cx + side / 2),
    y1: Math.min(SENSOR_HEIGHT, cy + side / 2),
  };
  const inside = (Math.min(box.x1, SENSOR_WIDTH) - Math.max(box.x0, 0)) * (Math.min(box.y1, SENSOR_HEIGHT) - Math.max(box.y0, 0));
  if (inside < 0.5 * w * h) return null;
  return clip;
}

function groundPoint(cam: PinholeCamera, u: number, v: number, depth: number): Vec3 {
  const d = rayDirection(cam, u, v);
  let t = depth / dot(d, cam.forward);
  if (d[1] < 0) t = Math.min(t, -cam.position[1] / d[1]);
  return [cam.position[0] + t * d[0], 0, cam.position[2] + t * d[2]];
}

function yawFacing(cam: PinholeCamera): number {
  return Math.atan2(cam.right[0], cam.right[2]);
}

function occluder(rng: Rng, cam: PinholeCamera, object: Thing, rect: ViewPlan['rect'], spec: CameraSpec): Thing {
  const objDepth = project(cam, object.position).depth;
  const depth = objDepth * rng.uniform(0.35, 0.8);
  const cover = rng.uniform(spec.occlusionCover[0], spec.occlusionCover[1]);
  const w = rect.x1 - rect.x0;
  const fromLeft = rng.chance(0.5);
  const span = cover * w;
  const u = fromLeft ? rect.x0 + span / 2 - 0.1 * w : rect.x1 - span / 2 + 0.1 * w;
  const widthWorld = ((span + 0.2 * w) / spec.focalPx) * depth;
  const base = groundPoint(cam, u, (rect.y0 + rect.y1) / 2, depth);
  const topDir = rayDirection(cam, u, rect.y0);
  const topY = cam.position[1] + (depth / dot(topDir, cam.forward)) * topDir[1];
  const height = Math.max(0.5, topY * rng.uniform(0.6, 1.2));
  const kind = rng.int(3);
  const colour: Vec3 = [rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)];
  if (kind === 0) {
    return makeThing(base, 0, [{ kind: 'cylinder', x: 0, z: 0, y0: 0, y1: Math.max(height, 4), r: widthWorld / 2, material: { colour: [0.42, 0.42, 0.44] } }]);
  }
  const thick = kind === 1 ? 0.2 : rng.uniform(1.5, 3);
  return makeThing(base, yawFacing(cam), [{ kind: 'box', min: [-thick / 2, 0, -widthWorld / 2], max: [thick / 2, height, widthWorld / 2], material: { colour } }]);
}

function clutter(rng: Rng, cam: PinholeCamera, object: Thing, rect: ViewPlan['rect']): Thing | null {
  const u = rng.uniform(rect.x0, rect.x1);
  const v = rng.uniform(rect.y0, rect.y1);
  const objDepth = project(cam, object.position).depth;
  const p = groundPoint(cam, u, v, objDepth * rng.uniform(1.15, 3));
  const reach = Math.max(object.max[0], object.max[2]) + 0.8;
  if (Math.hypot(p[0] - object.position[0], p[2] - object.position[2]) < reach) return null;
  // Clutter is background: a ray that meets the ground before the object would put the prop in front of it.
  if (project(cam, p).depth < objDepth + reach) return null;
  return makeProp(rng, p, rng.uniform(0, 2 * Math.PI), rng.uniform(1, 4));
}

function jittered(rng: Rng, rect: ViewPlan['rect'], amount: number): ViewPlan['rect'] {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const cx = (rect.x0 + rect.x1) / 2 + amount * w * rng.normal();
  const cy = (rect.y0 + rect.y1) / 2 + amount * h * rng.normal();
  const hw = (w / 2) * Math.exp(amount * rng.normal());
  const hh = (h / 2) * Math.exp(amount * rng.normal());
  const x0 = Math.min(Math.max(0, cx - hw), SENSOR_WIDTH - 2);
  const y0 = Math.min(Math.max(0, cy - hh), SENSOR_HEIGHT - 2);
  return { x0, y0, x1: Math.max(x0 + 2, Math.min(SENSOR_WIDTH, cx + hw)), y1: Math.max(y0 + 2, Math.min(SENSOR_HEIGHT, cy + hh)) };
}

// One site: the same asphalt under every sample (fixed cameras look at a fixed background).
const SITE_GROUND: Vec3 = [0.33, 0.33, 0.35];

/** One sample's (or one passage's) light: sun direction and elevation, overcast or not. */
export function sampleLighting(rng: Rng): Lighting {
  const elev = rng.uniform(0.25, 1.2);
  const az = rng.uniform(0, 2 * Math.PI);
  const overcast = rng.chance(0.35);
  return {
    sun: normalize([Math.cos(elev) * Math.cos(az), Math.sin(elev), Math.cos(elev) * Math.sin(az)]),
    ambient: overcast ? rng.uniform(0.65, 0.85) : rng.uniform(0.3, 0.5),
    ground: SITE_GROUND,
    sky: overcast ? [0.7, 0.72, 0.75] : [0.45, 0.6, 0.88],
  };
}

/**
 * Where the object stands and which way it faces: most vehicles drive along the road (the scene's x axis,
 * either way, a little off axis) in its lanes; the rest, and people, stand anywhere in the scene, facing anywhere.
 */
function placeObject(rng: Rng, object: Thing, label: number): void {
  if (label !== 2 && !rng.chance(ROAD_TURNING)) {
    object.position = [rng.uniform(-SCENE_RADIUS, SCENE_RADIUS), 0, rng.uniform(-ROAD_HALF_WIDTH, ROAD_HALF_WIDTH)];
    object.yaw = (rng.chance(0.5) ? 0 : Math.PI) + ROAD_WANDER * rng.normal();
    return;
  }
  const r = SCENE_RADIUS * Math.sqrt(rng.next());
  const a = rng.uniform(0, 2 * Math.PI);
  object.position = [r * Math.cos(a), 0, r * Math.sin(a)];
  object.yaw = rng.uniform(0, 2 * Math.PI);
}

/**
 * Lays out sample `index` of the dataset for `seed`: class, object, light, and which cameras capture
 * it. Each sample has its own random stream, so sample i is the same whatever the dataset size.
 * Objects that no camera captures are moved until at least one does.
 */
export function sampleScene(seed: number, index: number, views: number, mode: SynthMode = 'default'): SynthScene {
  const cams = camerasFor(views);
  const rng = new Rng(seed, index);
  const label = mode === 'rich' ? rng.int(RICH_CLASSES.length) : rng.weighted(CLASS_PRIORS);
  const fine = mode === 'rich' ? RICH_CLASSES[label] : null;
  const kind = fine ? fine.kind : label;
  const lighting = sampleLighting(rng);
  const object = makeObject(rng, kind, [0, 0, 0], 0, fine ? [...fine.colour] : undefined);
  let rects: (ViewPlan['rect'] | null)[] = [];
  for (let attempt = 0; ; attempt++) {
    placeObject(rng, object, kind);
    rects = detect(rng, cams, object);
    if (rects.some((x) => x) || attempt > 200) break;
  }
  return { label, object, lighting, views: planViews(rng, cams, object, rects) };
}

/** Each camera's detection of the object: its crop, or null when out of view, too small or missed by the detector. */
export function detect(rng: Rng, cams: PinholeCamera[], object: Thing): (ViewPlan['rect'] | null)[] {
  return cams.map((cam) => {
    const rect = cropFor(cam, object);
    return rect && !rng.chance(cam.spec.dropRate) ? rect : null;
  });
}

/** One shot's plan per detected view: the detector's jitter, the camera's occluder and clutter, exposure and colour cast. */
export function planViews(rng: Rng, cams: PinholeCamera[], object: Thing, rects: (ViewPlan['rect'] | null)[]): (ViewPlan | null)[] {
  return rects.map((found, v): ViewPlan | null => {
    if (!found) return null;
    const cam = cams[v];
    const spec = cam.spec;
    const extras: Thing[] = [];
    const rect = jittered(rng, found, spec.jitter);
    const occluded = rng.chance(spec.occlusion);
    if (occluded) extras.push(occluder(rng, cam, object, rect, spec));
    for (let k = 0; k < spec.clutter; k++) {
      const prop = clutter(rng, cam, object, rect);
      if (prop) extras.push(prop);
    }
    const cast: Vec3 = [0, 1, 2].map(() => Math.exp(spec.colourCast * rng.normal())) as Vec3;
    return { camera: cam, rect, extras, exposure: Math.exp(spec.exposure * rng.normal()), cast, occluded };
  });
}
