import type { Rng } from '../prng';
import { makeThing, type Material, type Part, type Thing, type Vec3 } from './geometry';

/** Base colours (0..1 RGB) per class; each object also gets its own random variation. */
const CAR_PAINT: Vec3[] = [
  [0.75, 0.1, 0.1], [0.9, 0.9, 0.9], [0.08, 0.08, 0.09], [0.6, 0.62, 0.65], [0.15, 0.25, 0.6],
  [0.35, 0.36, 0.38], [0.1, 0.35, 0.2], [0.85, 0.75, 0.2], [0.55, 0.1, 0.1],
];
// Most buses wear the city's livery (yellow, or white); the rest take paints that cars and clothes share, so
// colour is a strong cue only on the cameras that see colour well.
const BUS_LIVERY: Vec3[] = [[0.92, 0.75, 0.1], [0.92, 0.92, 0.9]];
const BUS_LIVERY_SHARE = 0.75;
const BUS_PAINT: Vec3[] = [[0.75, 0.12, 0.1], [0.15, 0.25, 0.6], [0.1, 0.35, 0.2], [0.6, 0.62, 0.65], [0.08, 0.08, 0.09]];
const CLOTHES: Vec3[] = [
  [0.1, 0.1, 0.12], [0.2, 0.25, 0.5], [0.7, 0.1, 0.1], [0.9, 0.9, 0.88], [0.35, 0.35, 0.38], [0.15, 0.35, 0.2],
  [0.85, 0.7, 0.2], [0.5, 0.3, 0.15], [0.6, 0.62, 0.65],
];
const TROUSERS: Vec3[] = [[0.12, 0.15, 0.3], [0.08, 0.08, 0.08], [0.35, 0.35, 0.35], [0.55, 0.48, 0.33]];
const SKIN: Vec3[] = [[0.95, 0.78, 0.65], [0.8, 0.6, 0.45], [0.55, 0.38, 0.25], [0.35, 0.24, 0.16]];
const GLASS: Vec3 = [0.1, 0.13, 0.17];
const TYRE: Material = { colour: [0.05, 0.05, 0.05] };

function vary(rng: Rng, c: Vec3, amount: number): Vec3 {
  const g = 1 + amount * rng.normal();
  return [0, 1, 2].map((k) => Math.min(1, Math.max(0, c[k] * g * (1 + 0.5 * amount * rng.normal())))) as Vec3;
}

function wheels(length: number, halfW: number, radius: number): Part[] {
  const out: Part[] = [];
  for (const x of [-0.33 * length, 0.33 * length]) {
    for (const z of [-halfW, halfW - 0.25]) out.push({ kind: 'box', min: [x - radius, 0, z], max: [x + radius, 2 * radius, z + 0.25], material: TYRE });
  }
  return out;
}

/** A car: a low body with a glazed cabin on top, four wheels. */
export function makeCar(rng: Rng, position: Vec3, yaw: number, base?: Vec3): Thing {
  const L = rng.uniform(3.7, 4.9);
  const hw = rng.uniform(0.85, 0.97);
  const bodyTop = rng.uniform(0.95, 1.15);
  const cabinTop = bodyTop + rng.uniform(0.4, 0.6);
  const paint: Material = { colour: vary(rng, base ?? rng.pick(CAR_PAINT), 0.12) };
  const cabinLen = L * rng.uniform(0.45, 0.58);
  const cabinX = rng.uniform(-0.2, 0.05) * L;
  return makeThing(position, yaw, [
    { kind: 'box', min: [-L / 2, 0.3, -hw], max: [L / 2, bodyTop, hw], material: paint },
    {
      kind: 'box',
      min: [cabinX - cabinLen / 2, bodyTop, -hw + 0.08],
      max: [cabinX + cabinLen / 2, cabinTop, hw - 0.08],
      material: { colour: paint.colour, pattern: 'cabin', glass: GLASS },
    },
    ...wheels(L, hw, 0.32),
  ]);
}

/** A bus: a long tall box with a band of side windows, a large windscreen and wheels. */
export function makeBus(rng: Rng, position: Vec3, yaw: number, base?: Vec3): Thing {
  const L = rng.uniform(9, 12.5);
  const hw = rng.uniform(1.2, 1.3);
  const H = rng.uniform(2.9, 3.4);
  const paint: Material = { colour: vary(rng, base ?? rng.pick(rng.chance(BUS_LIVERY_SHARE) ? BUS_LIVERY : BUS_PAINT), 0.12), pattern: 'bus', glass: GLASS };
  return makeThing(position, yaw, [{ kind: 'box', min: [-L / 2, 0.35, -hw], max: [L / 2, H, hw], material: paint }, ...wheels(L, hw, 0.5)]);
}

/** A person: legs, torso and head, with random clothes, skin and height. */
export function makePerson(rng: Rng, position: Vec3, yaw: number, base?: Vec3): Thing {
  const s = rng.uniform(0.85, 1.1);
  const torso = vary(rng, base ?? rng.pick(CLOTHES), 0.12);
  const legs = vary(rng, rng.pick(TROUSERS), 0.1);
  const skin = vary(rng, rng.pick(SKIN), 0.05);
  const parts: Part[] = [
    { kind: 'cylinder', x: 0, z: -0.09, y0: 0, y1: 0.85 * s, r: 0.09 * s, material: { colour: legs } },
    { kind: 'cylinder', x: 0, z: 0.09, y0: 0, y1: 0.85 * s, r: 0.09 * s, material: { colour: legs } },
    { kind: 'cylinder', x: 0, z: 0, y0: 0.85 * s, y1: 1.45 * s, r: 0.21 * s, material: { colour: torso } },
    { kind: 'cylinder', x: 0, z: 0.27 * s, y0: 0.9 * s, y1: 1.42 * s, r: 0.06 * s, material: { colour: torso } },
    { kind: 'cylinder', x: 0, z: -0.27 * s, y0: 0.9 * s, y1: 1.42 * s, r: 0.06 * s, material: { colour: torso } },
    { kind: 'sphere', c: [0, 1.58 * s, 0], r: 0.12 * s, material: { colour: skin } },
  ];
  if (rng.chance(0.3)) parts.push({ kind: 'box', min: [-0.3, 0.75 * s, 0.28], max: [0.05, 1.2 * s, 0.38], material: { colour: vary(rng, rng.pick(CLOTHES), 0.2) } });
  return makeThing(position, yaw, parts);
}

const BUILDING: Vec3[] = [[0.6, 0.55, 0.5], [0.7, 0.68, 0.62], [0.45, 0.35, 0.3], [0.55, 0.58, 0.62], [0.8, 0.78, 0.7]];

/** A background or occluding thing: pole, wall, tree, sign, parked box or bollard. */
export function makeProp(rng: Rng, position: Vec3, yaw: number, widthHint: number): Thing {
  const kind = rng.int(5);
  if (kind === 0) {
    const r = rng.uniform(0.08, 0.25);
    return makeThing(position, yaw, [{ kind: 'cylinder', x: 0, z: 0, y0: 0, y1: rng.uniform(3, 6), r, material: { colour: vary(rng, [0.4, 0.4, 0.42], 0.2) } }]);
  }
  if (kind === 1) {
    const h = rng.uniform(0.8, 2.6);
    return makeThing(position, yaw, [{ kind: 'box', min: [-0.15, 0, -widthHint / 2], max: [0.15, h, widthHint / 2], material: { colour: vary(rng, rng.pick(BUILDING), 0.15) } }]);
  }
  if (kind === 2) {
    const h = rng.uniform(2, 4);
    return makeThing(position, yaw, [
      { kind: 'cylinder', x: 0, z: 0, y0: 0, y1: h, r: rng.uniform(0.12, 0.25), material: { colour: [0.3, 0.2, 0.12] } },
      { kind: 'sphere', c: [0, h + 0.6, 0], r: rng.uniform(1, 1.8), material: { colour: vary(rng, [0.2, 0.4, 0.15], 0.2), pattern: 'tree' } },
    ]);
  }
  if (kind === 3) {
    const w = rng.uniform(0.6, 1.4);
    return makeThing(position, yaw, [
      { kind: 'cylinder', x: 0, z: 0, y0: 0, y1: 2.2, r: 0.05, material: { colour: [0.5, 0.5, 0.5] } },
      { kind: 'box', min: [-0.03, 2.0, -w / 2], max: [0.03, 2.0 + w * 0.7, w / 2], material: { colour: vary(rng, rng.pick(CLOTHES), 0.2) } },
    ]);
  }
  const L = rng.uniform(1.5, 5);
  return makeThing(position, yaw, [
    { kind: 'box', min: [-L / 2, 0, -widthHint / 2], max: [L / 2, rng.uniform(0.7, 2.4), widthHint / 2], material: { colour: vary(rng, rng.pick(BUILDING.concat(CAR_PAINT)), 0.2) } },
  ]);
}

/** Makes an object of the given kind (0 car, 1 bus, 2 person), optionally in a given base colour (paint, top). */
export function makeObject(rng: Rng, label: number, position: Vec3, yaw: number, base?: Vec3): Thing {
  if (label === 0) return makeCar(rng, position, yaw, base);
  if (label === 1) return makeBus(rng, position, yaw, base);
  return makePerson(rng, position, yaw, base);
}
