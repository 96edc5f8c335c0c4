import path from 'node:path';
import { CAMERAS, FRAME_MS, PASSAGE_MS, SYNTH_CLASSES, sceneView, type CameraKnobs, type MultiViewDataset } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { loadCheckpoint } from '../checkpoint/checkpoint';
import type { DdnnModel } from '../model/model';
import { metricsAt, runModel } from './evaluate';

// The platform's default model on the moving scene (libs/datasets synth/moving-scene): its frames are rendered as
// the default dataset's samples are, so the model must classify them about as well as its test split (README
// "Results": 91.2% overall at its T = 1, 171 samples).
const DEFAULT_MODEL = path.resolve(__dirname, '../../../../models/default');
const TEST_SPLIT_OVERALL = 0.912;
const SCENE = { seed: 7 };
const FRAMES = 320;

/** When frame i is shot: 4 frames per passage, at different points of each crossing, over 80 passages. */
const frameTime = (i: number) => i * 4 * FRAME_MS + FRAME_MS / 2 + (i % 4) * FRAME_MS;
const VIEW_SIZE = 32 * 32 * 3;

/** Scene frames as a test split (every frame once). */
function sceneSplit(): MultiViewDataset {
  const views = CAMERAS.length;
  const labels = new Int32Array(FRAMES);
  const present = new Uint8Array(FRAMES * views);
  const pixels = new Float32Array(FRAMES * views * VIEW_SIZE);
  for (let i = 0; i < FRAMES; i++) {
    for (let v = 0; v < views; v++) {
      const shot = sceneView(SCENE, frameTime(i), v);
      labels[i] = shot.label;
      present[i * views + v] = shot.present ? 1 : 0;
      pixels.set(shot.pixels, (i * views + v) * VIEW_SIZE);
    }
  }
  return {
    manifest: { name: 'moving-scene', classes: [...SYNTH_CLASSES], views, height: 32, width: 32, channels: 3 },
    sampleIds: Array.from({ length: FRAMES }, (_, i) => `f${i}`),
    splits: new Array(FRAMES).fill('test'),
    labels,
    present,
    pixels,
  };
}

/** The same frames with one camera's views degraded by its knobs (the other cameras' views are untouched). */
function degradedCopy(clean: MultiViewDataset, camera: number, knobs: Partial<CameraKnobs>): MultiViewDataset {
  const views = clean.manifest.views;
  const pixels = clean.pixels.slice();
  for (let i = 0; i < FRAMES; i++) pixels.set(sceneView(SCENE, frameTime(i), camera, knobs).pixels, (i * views + camera) * VIEW_SIZE);
  return { ...clean, pixels };
}

let model: DdnnModel;
let frames: MultiViewDataset;

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadCheckpoint(DEFAULT_MODEL);
  frames = sceneSplit();
}, 300_000);

jest.setTimeout(300_000);

describe('the default model on the moving scene', () => {
  it('classifies undegraded scene frames about as well as the default test split', async () => {
    expect(FRAMES * 4 * FRAME_MS).toBeGreaterThanOrEqual(80 * PASSAGE_MS);
    const threshold = model.threshold ?? 0.8;
    const m = metricsAt(await runModel(model, frames), threshold);
    process.stdout.write(`scene accuracy (default model, ${FRAMES} frames, T=${threshold}): ${JSON.stringify({ overall: m.overall, local: m.local, cloud: m.cloud, localExitRate: m.localExitRate, individual: m.individual })}\n`);
    expect(Math.abs(m.overall - TEST_SPLIT_OVERALL)).toBeLessThan(0.05);
  });

  it('loses accuracy on a camera whose views degrade (noise, occlusion)', async () => {
    const threshold = model.threshold ?? 0.8;
    const clean = metricsAt(await runModel(model, frames), threshold);
    const noisy = metricsAt(await runModel(model, degradedCopy(frames, 4, { noise: 1 })), threshold);
    const hidden = metricsAt(await runModel(model, degradedCopy(frames, 4, { occlusion: 0.9 })), threshold);
    process.stdout.write(`camera 4 alone: clean ${clean.individual[4]}, noise 1 ${noisy.individual[4]}, occlusion 0.9 ${hidden.individual[4]}; overall ${clean.overall} / ${noisy.overall} / ${hidden.overall}\n`);
    expect(noisy.individual[4] as number).toBeLessThan((clean.individual[4] as number) - 0.15);
    expect(hidden.individual[4] as number).toBeLessThan((clean.individual[4] as number) - 0.15);
  });
});
