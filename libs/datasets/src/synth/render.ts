import { createRaster, resizeBilinear, type Raster } from '../image/raster';
import { Rng } from '../prng';
import { CROP_SIZE } from './cameras';
import { dot, intersectThing, poseThing, rayDirection, type Hit, type PosedThing, type Vec3 } from './geometry';
import type { Lighting, SynthScene, ViewPlan } from './scene';

function hash2(x: number, z: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(z | 0, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return ((h ^ (h >>> 13)) >>> 0) / 4294967296;
}

function patternColour(hit: Hit, base: Vec3, glass: Vec3 | undefined): Vec3 | 'glass' {
  const part = hit.part;
  const mat = part.material;
  if (part.kind !== 'box' || !mat.pattern) {
    if (mat.pattern === 'tree') {
      const s = 0.7 + 0.5 * hash2(Math.floor(hit.local[0] * 5), Math.floor(hit.local[1] * 5 + hit.local[2] * 3));
      return [base[0] * s, base[1] * s, base[2] * s];
    }
    return base;
  }
  const [x, y, z] = hit.local;
  const n = hit.localNormal;
  const { min, max } = part;
  const h = max[1] - min[1];
  if (mat.pattern === 'bus' && glass) {
    if (y < min[1] + 0.3) return [0.12, 0.12, 0.12];
    if (Math.abs(n[2]) > 0.5) {
      const inBand = y > min[1] + 0.5 * h && y < min[1] + 0.86 * h;
      if (inBand && (x - min[0]) % 1.45 > 0.18 && x < max[0] - 0.4) return 'glass';
    } else if (n[0] > 0.5) {
      if (y > min[1] + 0.9 * h && Math.abs(z) < max[2] - 0.3) return [0.95, 0.6, 0.1];
      if (y > min[1] + 0.38 * h && y < min[1] + 0.88 * h && Math.abs(z) < max[2] - 0.1) return 'glass';
    } else if (n[0] < -0.5) {
      if (y > min[1] + 0.62 * h && y < min[1] + 0.88 * h && Math.abs(z) < max[2] - 0.25) return 'glass';
    }
    return base;
  }
  if (mat.pattern === 'cabin') {
    if (Math.abs(n[2]) > 0.5) {
      const mid = (min[0] + max[0]) / 2;
      if (y > min[1] + 0.04 && y < max[1] - 0.07 && x > min[0] + 0.12 && x < max[0] - 0.12 && Math.abs(x - mid) > 0.05) return 'glass';
    } else if (Math.abs(n[0]) > 0.5) {
      if (y > min[1] + 0.03 && y < max[1] - 0.05 && Math.abs(z) < max[2] - 0.07) return 'glass';
    }
  }
  return base;
}

function skyColour(l: Lighting, d: Vec3): Vec3 {
  const k = Math.min(1, Math.max(0, d[1] * 2.5));
  return [0.82 + (l.sky[0] - 0.82) * k, 0.84 + (l.sky[1] - 0.84) * k, 0.88 + (l.sky[2] - 0.88) * k];
}

function inShadow(posed: PosedThing, p: Vec3): boolean {
  const { thing: object, c, s } = posed;
  const dx = p[0] - object.position[0];
  const dz = p[2] - object.position[2];
  const lx = c * dx - s * dz;
  const lz = s * dx + c * dz;
  return lx > object.min[0] - 0.15 && lx < object.max[0] + 0.15 && lz > object.min[2] - 0.15 && lz < object.max[2] + 0.15;
}

const HORIZON: Vec3 = [0, 0, 0];

/** Colour seen along a ray; `things[0]` is the scene's object (it casts the only shadow). */
function trace(scene: SynthScene, things: PosedThing[], origin: Vec3, d: Vec3): Vec3 {
  const l = scene.lighting;
  let best: Hit | null = null;
  let tMax = d[1] < 0 ? -origin[1] / d[1] : Infinity;
  for (const thing of things) {
    const hit = intersectThing(thing, origin, d, tMax);
    if (hit) {
      best = hit;
      tMax = hit.t;
    }
  }
  if (best) {
    const mat = best.part.material;
    const albedo = patternColour(best, mat.colour, mat.glass);
    if (albedo === 'glass') {
      const sky = skyColour(l, [0, 0.3 + 0.5 * Math.max(0, best.normal[1]), 0]);
      const g = mat.glass ?? [0.1, 0.1, 0.1];
      return [g[0] + 0.25 * sky[0], g[1] + 0.25 * sky[1], g[2] + 0.25 * sky[2]];
    }
    const light = l.ambient + (1 - l.ambient) * Math.max(0, dot(best.normal, l.sun));
    return [albedo[0] * light, albedo[1] * light, albedo[2] * light];
  }
  if (Number.isFinite(tMax)) {
    const p: Vec3 = [origin[0] + tMax * d[0], 0, origin[2] + tMax * d[2]];
    const tex = 0.88 + 0.24 * hash2(Math.floor(p[0] * 2), Math.floor(p[2] * 2));
    const shade = inShadow(things[0], p) ? 0.45 : 1;
    const light = (l.ambient + (1 - l.ambient) * l.sun[1]) * tex * shade;
    const fog = 1 - Math.exp(-tMax / 160);
    const sky = skyColour(l, HORIZON);
    return [l.ground[0] * light * (1 - fog) + sky[0] * fog, l.ground[1] * light * (1 - fog) + sky[1] * fog, l.ground[2] * light * (1 - fog) + sky[2] * fog];
  }
  return skyColour(l, d);
}

/** Standard deviation (8-bit levels) of the extra sensor noise at `noise` 1: the object is barely visible under it. */
export const FULL_NOISE_LEVELS = 110;
/** Colour (albedo) of what hides part of a degraded camera's view: a dark, dirty obstruction close to the lens. */
const BLOCKER: Vec3 = [0.2, 0.19, 0.16];

/**
 * A camera whose views degrade: `noise` (0..1) adds sensor noise up to FULL_NOISE_LEVELS; `occlusion` (0..1) is
 * the share of the crop hidden, from one side, by something in front of the lens. `rng` draws the extra noise,
 * apart from the camera's own, so a camera at 0, 0 renders exactly as it would without knobs.
 */
export interface Degradation {
  noise: number;
  occlusion: number;
  /** Which side the obstruction covers from. */
  fromLeft: boolean;
  rng: Rng;
}

/**
 * Renders one camera's crop of a sample: ray-cast at the sensor's own resolution (so far objects
 * give few pixels), with the camera's exposure, colour cast, saturation and noise, then resized
 * to the crop size.
 */
export function renderView(scene: SynthScene, plan: ViewPlan, noiseRng: Rng, size = CROP_SIZE, degrade?: Degradation): Raster {
  const { camera, rect } = plan;
  const spec = camera.spec;
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const rw = Math.max(2, Math.min(size, Math.ceil(w * spec.sensorScale)));
  const rh = Math.max(2, Math.min(size, Math.ceil(h * spec.sensorScale)));
  const ss = w / rw >= 2 && h / rh >= 2 ? 2 : 1;
  const things = [scene.object, ...plan.extras].map(poseThing);
  const out = createRaster(rw, rh, 3);
  const gain = plan.exposure * 255;
  const blockedColumns = degrade ? Math.round(Math.min(1, Math.max(0, degrade.occlusion)) * rw) : 0;
  const extraNoise = degrade ? Math.min(1, Math.max(0, degrade.noise)) * FULL_NOISE_LEVELS : 0;
  const blockLight = scene.lighting.ambient * 0.8;
  const blockColour = BLOCKER.map((a) => a * blockLight) as Vec3;
  const area = ss * ss;
  // One pixel's colour before the sensor, reused: a view is up to 32x32 pixels of up to 4 rays each.
  const rgb = new Float64Array(3);
  for (let j = 0; j < rh; j++) {
    for (let i = 0; i < rw; i++) {
      const blocked = degrade !== undefined && (degrade.fromLeft ? i < blockedColumns : i >= rw - blockedColumns);
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sj = 0; sj < ss; sj++) {
        for (let si = 0; si < ss; si++) {
          const u = rect.x0 + ((i + (si + 0.5) / ss) * w) / rw;
          const v = rect.y0 + ((j + (sj + 0.5) / ss) * h) / rh;
          const c = blocked ? blockColour : trace(scene, things, camera.position, rayDirection(camera, u, v));
          r += c[0];
          g += c[1];
          b += c[2];
        }
      }
      rgb[0] = (r / area) * plan.cast[0] * gain;
      rgb[1] = (g / area) * plan.cast[1] * gain;
      rgb[2] = (b / area) * plan.cast[2] * gain;
      const luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
      const o = (j * rw + i) * 3;
      // Sensor noise is mostly brightness noise; colour noise shrinks with the camera's saturation.
      const shared = 0.8 * noiseRng.normal();
      const extraShared = extraNoise > 0 ? 0.8 * (degrade as Degradation).rng.normal() : 0;
      for (let k = 0; k < 3; k++) {
        let value = luma + (rgb[k] - luma) * spec.saturation + spec.noise * (shared + 0.6 * spec.saturation * noiseRng.normal());
        if (extraNoise > 0) value += extraNoise * (extraShared + 0.6 * (degrade as Degradation).rng.normal());
        out.data[o + k] = Math.min(255, Math.max(0, Math.round(value)));
      }
    }
  }
  return resizeBilinear(out, size, size);
}
