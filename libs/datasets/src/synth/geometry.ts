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

function toLocalDir(t: Thing, d: Vec3): Vec3 {
  const c = Math.cos(t.yaw);
  const s = Math.sin(t.yaw);
  return [c * d[0] - s * d[2], d[1], s * d[0] + c * d[2]];
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

function slab(o: Vec3, d: Vec3, min: Vec3, max: Vec3): { t: number; axis: number; sign: number } | null {
  let tNear = -Infinity;
  let tFar = Infinity;
  let axis = 0;
  let sign = 1;
  for (let k = 0; k < 3; k++) {
    if (Math.abs(d[k]) < 1e-12) {
      if (o[k] < min[k] || o[k] > max[k]) return null;
      continue;
    }
    let t0 = (min[k] - o[k]) / d[k];
    let t1 = (max[k] - o[k]) / d[k];
    let s = -1;
    if (t0 > t1) {
      [t0, t1] = [t1, t0];
      s = 1;
    }
    if (t0 > tNear) {
      tNear = t0;
      axis = k;
      sign = s;
    }
    if (t1 < tFar) tFar = t1;
    if (tNear > tFar || tFar < 1e-6) return null;
  }
  return tNear > 1e-6 ? { t: tNear, axis, sign } : null;
}

/** Intersects a scene ray with a thing; null when it misses. */
export function intersectThing(thing: Thing, origin: Vec3, dir: Vec3, tMax: number): Hit | null {
  const o = toLocalDir(thing, sub(origin, thing.position));
  const d = toLocalDir(thing, dir);
  const bound = slab(o, d, thing.min, thing.max);
  // Rays start at cameras, never inside a thing, so missing the bounds means missing the thing.
  if (!bound || bound.t > tMax) return null;
  let best: Hit | null = null;
  let bestT = tMax;
  let localNormal: Vec3 = [0, 1, 0];
  for (const part of thing.parts) {
    let t = Infinity;
    let n: Vec3 = [0, 1, 0];
    if (part.kind === 'box') {
      const h = slab(o, d, part.min, part.max);
      if (!h) continue;
      t = h.t;
      n = [0, 0, 0];
      n[h.axis] = h.sign;
    } else if (part.kind === 'cylinder') {
      const ox = o[0] - part.x;
      const oz = o[2] - part.z;
      const a = d[0] * d[0] + d[2] * d[2];
      if (a < 1e-12) continue;
      const b = 2 * (ox * d[0] + oz * d[2]);
      const c = ox * ox + oz * oz - part.r * part.r;
      const disc = b * b - 4 * a * c;
      if (disc < 0) continue;
      const tc = (-b - Math.sqrt(disc)) / (2 * a);
      const y = o[1] + tc * d[1];
      if (tc > 1e-6 && y >= part.y0 && y <= part.y1) {
        t = tc;
        n = [(ox + tc * d[0]) / part.r, 0, (oz + tc * d[2]) / part.r];
      } else if (d[1] < 0) {
        // Top cap, seen from above.
        const tt = (part.y1 - o[1]) / d[1];
        const x = ox + tt * d[0];
        const z = oz + tt * d[2];
        if (tt > 1e-6 && x * x + z * z <= part.r * part.r) {
          t = tt;
          n = [0, 1, 0];
        }
      }
    } else {
      const oc = sub(o, part.c);
      const b = dot(oc, d);
      const c = dot(oc, oc) - part.r * part.r;
      const disc = b * b - c;
      if (disc < 0) continue;
      const ts = -b - Math.sqrt(disc);
      if (ts <= 1e-6) continue;
      t = ts;
      n = [(oc[0] + ts * d[0]) / part.r, (oc[1] + ts * d[1]) / part.r, (oc[2] + ts * d[2]) / part.r];
    }
    if (t < bestT) {
      bestT = t;
      localNormal = n;
      best = { t, normal: n, localNormal: n, local: [o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]], part };
    }
  }
  if (!best) return null;
  const c = Math.cos(thing.yaw);
  const s = Math.sin(thing.yaw);
  best.normal = [c * localNormal[0] + s * localNormal[2], localNormal[1], -s * localNormal[0] + c * localNormal[2]];
  return best;
}
