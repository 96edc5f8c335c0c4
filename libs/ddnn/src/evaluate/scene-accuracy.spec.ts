import path from 'node:path';
import { CAMERAS, FRAME_MS, PASSAGE_MS, SYNTH_CLASSES, sceneView, type CameraKnobs, type MultiViewDataset } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { loadCheckpoint } from '../checkpoint/checkpoint';
import type { DdnnModel } from '../model/model';
import { metricsAt, runModel } from './evaluate';

// The platform's default model on the moving scene (libs/datasets synth/moving-scene): its frames are rendered as
// the default dataset's samples are, so the model must classify them about as well as its test split (README
// "Results": 90.1% overall at its T = 0.95, 171 samples).
const DEFAULT_MODEL = path.resolve(__dirname, '../../../../models/default');
const TEST_SPLIT_OVERALL = 0.901;
const SCENE = { seed: 7 };
const FRAMES = 320;

/** Scene frames as a test split: frame i is shot at a time spread over 80 passages (each frame once). */
function sceneSplit(knobs: (camera: number) => Partial<CameraKnobs> = () => ({})): MultiViewDataset {
  const views = CAMERAS.length;
  const size = 32 * 32 * 3;
  const labels = new Int32Array(FRAMES);
  const present = new Uint8Array(FRAMES * views);
  const pixels = new Float32Array(FRAMES * views * size);
  for (let i = 0; i < FRAMES; i++) {
    // Frames 4 apart: 4 per passage, at different points of each crossing.
    const t = i * 4 * FRAME_MS + FRAME_MS / 2 + (i % 4) * FRAME_MS;
    for (let v = 0; v < views; v++) {
      const shot = sceneView(SCENE, t, v, knobs(v));
      labels[i] = shot.label;
      present[i * views + v] = shot.present ? 1 : 0;
      pixels.set(shot.pixels, (i * views + v) * size);
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

let model: DdnnModel;

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadCheckpoint(DEFAULT_MODEL);
}, 60_000);

jest.setTimeout(300_000);

describe('the default model on the moving scene', () => {
  it('classifies undegraded scene frames about as well as the default test split', async () => {
    expect(FRAMES * 4 * FRAME_MS).toBeGreaterThanOrEqual(80 * PASSAGE_MS);
    const threshold = model.threshold ?? 0.8;
    const m = metricsAt(await runModel(model, sceneSplit()), threshold);
    process.stdout.write(`scene accuracy (default model, ${FRAMES} frames, T=${threshold}): ${JSON.stringify({ overall: m.overall, local: m.local, cloud: m.cloud, localExitRate: m.localExitRate, individual: m.individual })}\n`);
    expect(Math.abs(m.overall - TEST_SPLIT_OVERALL)).toBeLessThan(0.05);
  });

  it('loses accuracy on a camera whose views degrade (noise, occlusion), and only on that camera', async () => {
    const threshold = model.threshold ?? 0.8;
    const clean = metricsAt(await runModel(model, sceneSplit()), threshold);
    const noisy = metricsAt(await runModel(model, sceneSplit((v) => (v === 4 ? { noise: 1 } : {}))), threshold);
    const hidden = metricsAt(await runModel(model, sceneSplit((v) => (v === 4 ? { occlusion: 0.9 } : {}))), threshold);
    process.stdout.write(`camera 4 alone: clean ${clean.individual[4]}, noise 1 ${noisy.individual[4]}, occlusion 0.9 ${hidden.individual[4]}; overall ${clean.overall} / ${noisy.overall} / ${hidden.overall}\n`);
    expect(noisy.individual[4] as number).toBeLessThan((clean.individual[4] as number) - 0.15);
    expect(hidden.individual[4] as number).toBeLessThan((clean.individual[4] as number) - 0.15);
    for (const v of [0, 1, 2, 3, 5]) expect(noisy.individual[v]).toBe(clean.individual[v]);
  });
});
