import { CAMERAS, CLASS_PRIORS } from './cameras';
import { clampKnobs, FRAME_MS, PASSAGE_MS, sceneCoverage, sceneFrameKey, sceneImage, sceneTruth, sceneView } from './moving-scene';

const SCENE = { seed: 4 };
const bytes = (r: { image: { data: Uint8Array } | null }) => (r.image ? Buffer.from(r.image.data).toString('base64') : null);
/** Mean absolute difference of two images in 8-bit levels. */
function diff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}
/** The pixels a camera shoots at a time (which it must capture the object at). */
function pixelsAt(t: number, camera: number, knobs?: { noise?: number; occlusion?: number }): Uint8Array {
  const { image } = sceneImage(SCENE, t, camera, knobs);
  if (!image) throw new Error(`camera ${camera} does not capture the object at ${t}`);
  return image.data;
}
/** The first time at or after `from` when camera `camera` captures the object. */
function seenBy(camera: number, from = 0): number {
  for (let t = from; ; t += FRAME_MS) if (sceneCoverage(SCENE, t)[camera]) return t;
}

jest.setTimeout(120_000);

describe('the moving scene', () => {
  it('is a pure function of (seed, time, camera): the same frame at every instant of one frame, another for another seed', () => {
    const t = 3 * PASSAGE_MS + 7 * FRAME_MS + 10;
    for (let v = 0; v < CAMERAS.length; v++) {
      const a = sceneImage(SCENE, t, v);
      expect(bytes(sceneImage(SCENE, t + FRAME_MS - 20, v))).toEqual(bytes(a));
      expect(bytes(sceneImage({ seed: 4 }, t, v))).toEqual(bytes(a));
    }
    const other = CAMERAS.map((_, v) => bytes(sceneImage({ seed: 5 }, t, v)));
    expect(other).not.toEqual(CAMERAS.map((_, v) => bytes(sceneImage(SCENE, t, v))));
    expect(sceneFrameKey(SCENE, t)).toBe(sceneFrameKey(SCENE, t + 300));
    expect(sceneFrameKey(SCENE, t)).not.toBe(sceneFrameKey(SCENE, t + FRAME_MS));
  });

  it('repeats after its period, and only then', () => {
    const scene = { seed: 4, period: 5 };
    const t = 2 * PASSAGE_MS + 3 * FRAME_MS;
    expect(sceneFrameKey(scene, t)).toBe(sceneFrameKey(scene, t + 5 * PASSAGE_MS));
    const v = sceneCoverage(scene, t).indexOf(true);
    expect(bytes(sceneImage(scene, t + 5 * PASSAGE_MS, v))).toEqual(bytes(sceneImage(scene, t, v)));
    expect(sceneTruth(scene, t + 5 * PASSAGE_MS)).toEqual({ label: sceneTruth(scene, t).label, passage: 7 });
    expect(sceneFrameKey({ seed: 4 }, t)).not.toBe(sceneFrameKey({ seed: 4 }, t + 5 * PASSAGE_MS));
  });

  it('shows the model input format: 32x32 RGB scaled by its maximum, zeros where the camera does not capture the object', () => {
    let present = 0;
    let missing = 0;
    for (let i = 0; i < 12; i++) {
      const coverage = sceneCoverage(SCENE, i * 700);
      for (let v = 0; v < CAMERAS.length; v++) {
        const shot = sceneView(SCENE, i * 700, v);
        expect(shot.present).toBe(coverage[v]);
        expect(shot.pixels).toHaveLength(32 * 32 * 3);
        if (shot.present) {
          present++;
          expect(Math.max(...shot.pixels)).toBeCloseTo(1, 5);
          expect(Math.min(...shot.pixels)).toBeGreaterThanOrEqual(0);
        } else {
          missing++;
          expect(shot.pixels.every((x) => x === 0)).toBe(true);
        }
      }
    }
    expect(present).toBeGreaterThan(0);
    expect(missing).toBeGreaterThan(0);
  });

  it('sends objects of every class across the site, at about the dataset\'s class rates', () => {
    const n = 600;
    const counts = [0, 0, 0];
    const order: number[] = [];
    for (let k = 0; k < n; k++) {
      const { label, passage } = sceneTruth(SCENE, k * PASSAGE_MS + 1234);
      expect(passage).toBe(k);
      // The truth holds for the whole passage.
      expect(sceneTruth(SCENE, k * PASSAGE_MS).label).toBe(label);
      expect(sceneTruth(SCENE, (k + 1) * PASSAGE_MS - 1).label).toBe(label);
      counts[label]++;
      order.push(label);
    }
    counts.forEach((c, k) => expect(Math.abs(c / n - CLASS_PRIORS[k])).toBeLessThan(0.07));
    // Classes change over time: not one long run of one class.
    expect(order.filter((c, k) => k > 0 && c !== order[k - 1]).length).toBeGreaterThan(n / 3);
  });

  it('moves the object: which cameras capture it changes during a crossing, and some camera always does', () => {
    let passagesWithChange = 0;
    const passages = 40;
    for (let k = 0; k < passages; k++) {
      const sets = new Set<string>();
      for (let f = 0; f < PASSAGE_MS / FRAME_MS; f++) {
        const t = k * PASSAGE_MS + f * FRAME_MS;
        const seen = sceneCoverage(SCENE, t).map((c) => (c ? 1 : 0));
        expect(seen.some((s) => s === 1)).toBe(true);
        sets.add(seen.join(''));
      }
      if (sets.size > 1) passagesWithChange++;
    }
    expect(passagesWithChange).toBeGreaterThanOrEqual(passages * 0.75);
  });

  it('degrades one camera with its knobs: 0, 0 is the clean frame; noise and occlusion change it more as they grow', () => {
    const camera = 4;
    const t = seenBy(camera);
    const clean = pixelsAt(t, camera);
    expect(pixelsAt(t, camera, { noise: 0, occlusion: 0 })).toEqual(clean);
    const noisy = [0.2, 0.6, 1].map((noise) => diff(pixelsAt(t, camera, { noise }), clean));
    expect(noisy[0]).toBeGreaterThan(2);
    expect(noisy[1]).toBeGreaterThan(noisy[0]);
    expect(noisy[2]).toBeGreaterThan(noisy[1]);
    // Occlusion hides that share of the view from one side: the far side keeps the clean pixels' look.
    const hidden = [0.25, 0.5, 1].map((occlusion) => diff(pixelsAt(t, camera, { occlusion }), clean));
    expect(hidden[1]).toBeGreaterThan(hidden[0]);
    expect(hidden[2]).toBeGreaterThan(hidden[1]);
    const full = pixelsAt(t, camera, { occlusion: 1 });
    const spread = (d: Uint8Array) => Math.max(...d) - Math.min(...d);
    // Nothing but the sensor's own noise on the obstruction.
    expect(spread(full)).toBeLessThan(64);
    expect(spread(full)).toBeLessThan(spread(clean) / 2);
    // The knobs are this camera's: the truth does not change, and degrading it leaves no trace on the others.
    expect(sceneImage(SCENE, t, camera, { noise: 1 }).label).toBe(sceneTruth(SCENE, t).label);
    const other = seenBy(5, t);
    const before = bytes(sceneImage(SCENE, other, 5));
    sceneImage(SCENE, other, camera, { noise: 1, occlusion: 1 });
    expect(bytes(sceneImage(SCENE, other, 5))).toEqual(before);
  });

  it('refuses what it cannot show, and clamps untrusted knobs', () => {
    expect(() => sceneImage(SCENE, 0, 6)).toThrow(/cameras 0\.\.5/);
    expect(() => sceneImage(SCENE, -1, 0)).toThrow(/time/);
    expect(() => sceneImage(SCENE, Number.NaN, 0)).toThrow(/time/);
    expect(() => sceneTruth({ seed: 1.5 }, 0)).toThrow(/seed/);
    expect(() => sceneTruth({ seed: 1, period: 0 }, 0)).toThrow(/period/);
    expect(clampKnobs({ noise: 2, occlusion: Number.NaN })).toEqual({ noise: 1, occlusion: 0 });
    expect(clampKnobs({ noise: -1 })).toEqual({ noise: 0, occlusion: 0 });
  });
});
