import type { CameraSpec } from './cameras';
import { SENSOR_HEIGHT, SENSOR_WIDTH } from './cameras';

export type Vec3 = [number, number, number];

export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
export function normalize(a: Vec3): Vec3 {
  const l = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / l, a[1] / l, a[2] / l];
}

/** A pinhole camera in scene coordinates (y up). */
export interface PinholeCamera {
  spec: CameraSpec;
  position: Vec3;
  forward: Vec3;
  right: Vec3;
  up: Vec3;
  cx: number;
  cy: number;
}

/** Places a camera from its table entry, aimed at its aim point. */
export function placeCamera(spec: CameraSpec): PinholeCamera {
  const az = (spec.azimuthDeg * Math.PI) / 180;
  const position: Vec3 = [spec.distance * Math.cos(az), spec.height, spec.distance * Math.sin(az)];
  const target: Vec3 = [spec.aim[0], 0.8, spec.aim[1]];
  const forward = normalize(sub(target, position));
  // Overhead cameras look almost straight down: take "up" in the image from the direction away from them.
  const worldUp: Vec3 = Math.abs(forward[1]) > 0.95 ? [-Math.cos(az), 0, -Math.sin(az)] : [0, 1, 0];
  const right = normalize(cross(forward, worldUp));
  const up = cross(right, forward);
  return { spec, position, forward, right, up, cx: SENSOR_WIDTH / 2, cy: SENSOR_HEIGHT / 2 };
}

/** Sensor coordinates (u right, v down) and depth of a scene point; depth <= 0 is behind the camera. */
export function project(cam: PinholeCamera, p: Vec3): { u: number; v: number; depth: number } {
  const q = sub(p, cam.position);
  const depth = dot(q, cam.forward);
  const f = cam.spec.focalPx;
  return { u: cam.cx + (f * dot(q, cam.right)) / depth, v: cam.cy - (f * dot(q, cam.up)) / depth, depth };
}

/** Unit direction of the ray through sensor point (u, v). */
export function rayDirection(cam: PinholeCamera, u: number, v: number): Vec3 {
  const f = cam.spec.focalPx;
  const a = (u - cam.cx) / f;
  const b = (cam.cy - v) / f;
  return normalize([
    cam.forward[0] + cam.right[0] * a + cam.up[0] * b,
    cam.forward[1] + cam.right[1] * a + cam.up[1] * b,
    cam.forward[2] + cam.right[2] * a + cam.up[2] * b,
  ]);
}

/** Surface look of a part; `pattern` paints windows and the like in the part's own frame. */
export interface Material {
  colour: Vec3;
  pattern?: 'bus' | 'cabin' | 'tree';
  glass?: Vec3;
}

/** A shape in its thing's local frame (x along the thing's length, y up). */
export type Part =
  | { kind: 'box'; min: Vec3; max: Vec3; material: Material }
  | { kind: 'cylinder'; x: number; z: number; y0: number; y1: number; r: number; material: Material }
  | { kind: 'sphere'; c: Vec3; r: number; material: Material };

/** Something standing in the scene: parts posed by a ground position and a yaw about y. */
export interface Thing {
  position: Vec3;
  yaw: number;
  parts: Part[];
  /** Local axis-aligned bounds of all parts (for projection and a quick ray reject). */
  min: Vec3;
  max: Vec3;
}

/** Builds a thing, computing its bounds. */
export function makeThing(position: Vec3, yaw: number, parts: Part[]): Thing {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  const grow = (lo: Vec3, hi: Vec3) => {
    for (let k = 0; k < 3; k++) {
      min[k] = Math.min(min[k], lo[k]);
      max[k] = Math.max(max[k], hi[k]);
    }
  };
  for (const p of parts) {
    if (p.kind === 'box') grow(p.min, p.max);
    else if (p.kind === 'cylinder') grow([p.x - p.r, p.y0, p.z - p.r], [p.x + p.r, p.y1, p.z + p.r]);
    else grow([p.c[0] - p.r, p.c[1] - p.r, p.c[2] - p.r], [p.c[0] + p.r, p.c[1] + p.r, p.c[2] + p.r]);
  }
  return { position, yaw, parts, min, max };
}

/** Scene coordinates of a local point of a thing. */
export function toWorld(t: Thing, p: Vec3): Vec3 {
  const c = Math.cos(t.yaw);
  const s = Math.sin(t.yaw);
  return [t.position[0] + c * p[0] + s * p[2], t.position[1] + p[1], t.position[2] - s * p[0] + c * p[2]];
}

/** The eight corners of a thing's bounds, in scene coordinates. */
export function thingCorners(t: Thing): Vec3[] {
  const out: Vec3[] = [];
  for (const x of [t.min[0], t.max[0]]) for (const y of [t.min[1], t.max[1]]) for (const z of [t.min[2], t.max[2]]) out.push(toWorld(t, [x, y, z]));
  return out;
}

/** Nearest hit of a ray on a thing. */
export interface Hit {
  t: number;
  /** Normal in scene coordinates. */
  normal: Vec3;
  /** Hit point and normal in the thing's local frame (for patterns). */
  local: Vec3;
  localNormal: Vec3;
  part: Part;
}

/** A thing with the cosine and sine of its yaw worked out once: a view casts thousands of rays at one pose. */
export interface PosedThing {
  thing: Thing;
  c: number;
  s: number;
}

export function poseThing(thing: Thing): PosedThing {
  return { thing, c: Math.cos(thing.yaw), s: Math.sin(thing.yaw) };
}

// The ray in the local frame of the thing being intersected, and the face slab() entered by: intersection runs
// for every ray and thing, so it allocates nothing until it has a hit (garbage was much of a frame's cost).
const lo = new Float64Array(3);
const ld = new Float64Array(3);
let slabAxis = 0;
let slabSign = 1;

/** Where the local ray (lo, ld) enters a box: its distance, or -1 when it misses; slabAxis and slabSign name the face. */
function slab(min: Vec3, max: Vec3): number {
  let tNear = -Infinity;
  let tFar = Infinity;
  let axis = 0;
  let sign = 1;
  for (let k = 0; k < 3; k++) {
    const o = lo[k];
    const d = ld[k];
    if (Math.abs(d) < 1e-12) {
      if (o < min[k] || o > max[k]) return -1;
      continue;
    }
    let t0 = (min[k] - o) / d;
    let t1 = (max[k] - o) / d;
    let s = -1;
    if (t0 > t1) {
      const swap = t0;
      t0 = t1;
      t1 = swap;
      s = 1;
    }
    if (t0 > tNear) {
      tNear = t0;
      axis = k;
      sign = s;
    }
    if (t1 < tFar) tFar = t1;
    if (tNear > tFar || tFar < 1e-6) return -1;
  }
  if (!(tNear > 1e-6)) return -1;
  slabAxis = axis;
  slabSign = sign;
  return tNear;
}

/** Intersects a scene ray with a posed thing; null when it misses. */
export function intersectThing(posed: PosedThing, origin: Vec3, dir: Vec3, tMax: number): Hit | null {
  const { thing, c, s } = posed;
  const px = origin[0] - thing.position[0];
  const pz = origin[2] - thing.position[2];
  lo[0] = c * px - s * pz;
  lo[1] = origin[1] - thing.position[1];
  lo[2] = s * px + c * pz;
  ld[0] = c * dir[0] - s * dir[2];
  ld[1] = dir[1];
  ld[2] = s * dir[0] + c * dir[2];
  const bound = slab(thing.min, thing.max);
  // Rays start at cameras, never inside a thing, so missing the bounds means missing the thing.
  if (bound < 0 || bound > tMax) return null;
  const o0 = lo[0];
  const o1 = lo[1];
  const o2 = lo[2];
  const d0 = ld[0];
  const d1 = ld[1];
  const d2 = ld[2];
  let best: Part | null = null;
  let bestT = tMax;
  let n0 = 0;
  let n1 = 1;
  let n2 = 0;
  for (const part of thing.parts) {
    if (part.kind === 'box') {
      const t = slab(part.min, part.max);
      if (t < 0 || !(t < bestT)) continue;
      bestT = t;
      best = part;
      n0 = slabAxis === 0 ? slabSign : 0;
      n1 = slabAxis === 1 ? slabSign : 0;
      n2 = slabAxis === 2 ? slabSign : 0;
    } else if (part.kind === 'cylinder') {
      const ox = o0 - part.x;
      const oz = o2 - part.z;
      const a = d0 * d0 + d2 * d2;
      if (a < 1e-12) continue;
      const b = 2 * (ox * d0 + oz * d2);
      const cc = ox * ox + oz * oz - part.r * part.r;
      const disc = b * b - 4 * a * cc;
      if (disc < 0) continue;
      const tc = (-b - Math.sqrt(disc)) / (2 * a);
      const y = o1 + tc * d1;
      if (tc > 1e-6 && y >= part.y0 && y <= part.y1) {
        if (!(tc < bestT)) continue;
        bestT = tc;
        best = part;
        n0 = (ox + tc * d0) / part.r;
        n1 = 0;
        n2 = (oz + tc * d2) / part.r;
      } else if (d1 < 0) {
        // Top cap, seen from above.
        const tt = (part.y1 - o1) / d1;
        const x = ox + tt * d0;
        const z = oz + tt * d2;
        if (tt > 1e-6 && x * x + z * z <= part.r * part.r && tt < bestT) {
          bestT = tt;
          best = part;
          n0 = 0;
          n1 = 1;
          n2 = 0;
        }
      }
    } else {
      const oc0 = o0 - part.c[0];
      const oc1 = o1 - part.c[1];
      const oc2 = o2 - part.c[2];
      const b = oc0 * d0 + oc1 * d1 + oc2 * d2;
      const cc = oc0 * oc0 + oc1 * oc1 + oc2 * oc2 - part.r * part.r;
      const disc = b * b - cc;
      if (disc < 0) continue;
      const ts = -b - Math.sqrt(disc);
      if (ts <= 1e-6 || !(ts < bestT)) continue;
      bestT = ts;
      best = part;
      n0 = (oc0 + ts * d0) / part.r;
      n1 = (oc1 + ts * d1) / part.r;
      n2 = (oc2 + ts * d2) / part.r;
    }
  }
  if (!best) return null;
  return {
    t: bestT,
    normal: [c * n0 + s * n2, n1, -s * n0 + c * n2],
    localNormal: [n0, n1, n2],
    local: [o0 + bestT * d0, o1 + bestT * d1, o2 + bestT * d2],
    part: best,
  };
}
