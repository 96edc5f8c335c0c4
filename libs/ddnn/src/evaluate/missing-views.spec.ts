import { Rng } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { BN_EPSILON } from '../layers/constants';
import type { DdnnModel } from '../model/model';
import { initialValues, sectionSpecs } from '../model/params';
import { parseTopology, topologyShapes } from '../model/topology';
import { tinyDataset } from '../testing/tiny-dataset';
import { metricsAt, runModel } from './evaluate';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('a view the camera did not capture', () => {
  // The default's shape at a small scale: binary devices, MP local exit, a float cloud block shared by the devices, AP.
  const topology = parseTopology({ devices: [0, 1, 2], cloud: { precision: 'float', shared: [8], aggregator: 'AP', filters: [8], poolStride: 2, hidden: [16] } });
  const ds = tinyDataset({ samples: 80, views: 3, size: 8, seed: 5, missing: 0.3, testFraction: 0.5 });
  const shapes = topologyShapes(topology, [8, 8, 3], 3);
  const rng = new Rng(9);
  const model: DdnnModel = {
    architecture: { input: [8, 8, 3], binarization: 'sign', convp: 'convp', batchNormEpsilon: BN_EPSILON },
    topology,
    classes: [...ds.manifest.classes],
    threshold: 0.5,
    training: { epochs: 0, batchSize: 0, seed: 9, learningRate: 0, deviceDropout: 0, trainSamples: 0, secondsTotal: 0, secondsPerEpoch: 0, backend: 'wasm', finishedAt: new Date(0).toISOString(), finalExits: [] },
    metrics: {},
    sections: new Map(sectionSpecs(topology, shapes).map((s) => [s.name, initialValues(s, rng)] as const)),
  };

  it('is a device that sends nothing: the same exits as with that device dead, no bytes, no prediction', async () => {
    const intact = await runModel(model, ds);
    const dead = await runModel(model, ds, { fail: [1] });
    const test = ds.splits.flatMap((s, n) => (s === 'test' ? [n] : []));
    const missing = test.flatMap((n, i) => (ds.present[n * 3 + 1] ? [] : [i]));
    const captured = test.flatMap((n, i) => (ds.present[n * 3 + 1] ? [i] : []));
    expect(missing.length).toBeGreaterThan(3);
    for (const i of missing) {
      expect(Array.from(intact.local[i])).toEqual(Array.from(dead.local[i]));
      expect(Array.from(intact.cloud[i])).toEqual(Array.from(dead.cloud[i]));
      expect(intact.devicePredictions[1]?.[i]).toBe(-1);
      expect(intact.senders[i]).toBe(dead.senders[i]);
    }
    // where camera 1 did capture, its messages count
    expect(captured.some((i) => intact.cloud[i].some((p, c) => p !== dead.cloud[i][c]))).toBe(true);
    for (const i of captured) expect(intact.senders[i]).toBe(dead.senders[i] + 1);
    const senders = test.map((n) => [0, 1, 2].reduce((a, v) => a + ds.present[n * 3 + v], 0));
    expect(Array.from(intact.senders)).toEqual(senders);
    // T = 1: every sample exits locally and sends only its captured views' scores
    expect(metricsAt(intact, 1).bytesPerSample).toBeCloseTo((12 * senders.reduce((a, b) => a + b, 0)) / test.length, 10);
  });
});
