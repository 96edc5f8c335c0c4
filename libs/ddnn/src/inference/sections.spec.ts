import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { encodeCheckpoint } from '../checkpoint/checkpoint';
import { softmax } from '../entropy';
import { forwardModel, type SectionTensors } from '../model/forward';
import { parseTopology, type TopologyInput } from '../model/topology';
import { randomModel } from '../testing/random-model';
import { tinyDataset } from '../testing/tiny-dataset';
import { gatherView } from '../train/batches';
import { unpackSigns } from '../wire';
import { openSections } from './sections';

beforeAll(async () => {
  await initBackend('wasm');
});

const ds = tinyDataset({ samples: 12, views: 4, size: 8 });
const indices = Array.from({ length: 12 }, (_, i) => i);

function wholeGraph(topologyInput: TopologyInput, dead: number[]) {
  const topology = parseTopology(topologyInput);
  const model = randomModel(topology, [8, 8, 3], 3, 21);
  const weights: Record<string, SectionTensors> = {};
  for (const [name, values] of model.sections) {
    weights[name] = {};
    for (const [k, v] of values) weights[name][k] = tf.tensor(v.data, v.shape);
  }
  const views = topology.devices.map((v) => tf.tensor4d(gatherView(ds, indices, v), [12, 8, 8, 3]));
  const liveMasks = dead.length ? topology.devices.map((v) => tf.tensor2d(indices.map(() => (dead.includes(v) ? 0 : 1)), [12, 1])) : null;
  const out = forwardModel(topology, weights, { views, liveMasks }, { training: false });
  return { topology, model, out };
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
}

describe('section-level inference matches the whole-model graph', () => {
  it.each([
    ['2-tier MP-CC', { devices: [0, 1, 2, 3] }, []],
    ['2-tier CC-MP, device 2 failed', { devices: [0, 1, 2, 3], local: { aggregator: 'CC' }, cloud: { aggregator: 'MP' } }, [2]],
    ['2-tier AP-AP, device 0 failed', { devices: [0, 1, 3], local: { aggregator: 'AP' }, cloud: { aggregator: 'AP' } }, [0]],
    ['3-tier', { devices: [0, 1, 2, 3], edges: [{ name: 'a', devices: [0, 1] }, { name: 'b', devices: [2, 3], aggregator: 'MP' }] }, []],
    ['2-tier float cloud (pool stride 2, hidden layer), device 1 failed', { devices: [0, 1, 2, 3], cloud: { precision: 'float', filters: [8, 6], poolStride: 2, hidden: [5] } }, [1]],
    ['2-tier shared float cloud (AP over the live inputs), device 3 failed', { devices: [0, 1, 2, 3], cloud: { shared: [6], aggregator: 'AP', precision: 'float', filters: [5], poolStride: 2, hidden: [4] } }, [3]],
    ['2-tier shared float cloud (MP), device 0 failed', { devices: [0, 1, 2, 3], cloud: { shared: [6, 5], aggregator: 'MP', precision: 'float', filters: [4] } }, [0]],
    ['2-tier shared binary cloud (CC)', { devices: [0, 1, 2], cloud: { shared: [8], aggregator: 'CC' } }, []],
    [
      '3-tier float edges and cloud',
      { devices: [0, 1, 2, 3], edges: [{ name: 'a', devices: [0, 1], precision: 'float', hidden: [4] }, { name: 'b', devices: [2, 3], precision: 'float' }], cloud: { precision: 'float', hidden: [7] } },
      [],
    ],
  ] as [string, TopologyInput, number[]][])('%s', async (_label, topologyInput, dead) => {
    const { topology, model, out } = wholeGraph(topologyInput, dead);
    const sections = await openSections(encodeCheckpoint(model).manifest, model.sections);
    try {
      const scores: (Float32Array | null)[][] = indices.map(() => []);
      const features: (Uint8Array | null)[][] = indices.map(() => []);
      topology.devices.forEach((v, d) => {
        const r = sections.devices.get(v)!.inferBatch(gatherView(ds, indices, v), 12);
        close(r.scores.flatMap((s) => Array.from(s)), out.devices[d].dataSync());
        // single-sample API agrees with the batch
        const one = sections.devices.get(v)!.infer(gatherView(ds, [5], v));
        close(one.scores, r.scores[5]);
        expect(Array.from(one.features)).toEqual(Array.from(r.features[5]));
        expect(r.features[0].length).toBe(Math.ceil((4 * 4 * 4) / 8));
        indices.forEach((i) => {
          const alive = !dead.includes(v);
          scores[i].push(alive ? r.scores[i] : null);
          features[i].push(alive ? r.features[i] : null);
        });
      });
      const local = indices.map((i) => sections.localAggregator(scores[i]));
      const localRef = out.local.arraySync() as number[][];
      indices.forEach((i) => close(local[i], softmax(localRef[i])));
      let cloudIn = features;
      if (topology.edges.length) {
        const edgeOut = topology.edges.map((e) => sections.edges.get(e.name)!.inferBatch(features.map((f) => e.devices.map((dv) => f[topology.devices.indexOf(dv)]))));
        edgeOut.forEach((o, k) => close(o.scores.flatMap((s) => Array.from(s)), out.edges[k].dataSync()));
        expect(unpackSigns(edgeOut[0].features[0], 2 * 2 * 16).every((x) => x === 1 || x === -1)).toBe(true);
        cloudIn = indices.map((i) => edgeOut.map((o) => o.features[i]));
      }
      const cloud = sections.cloud.inferBatch(cloudIn);
      const cloudRef = out.cloud.arraySync() as number[][];
      indices.forEach((i) => close(cloud[i], softmax(cloudRef[i])));
      close(sections.cloud.infer(cloudIn[3]), cloud[3]);
    } finally {
      sections.dispose();
    }
  });

  it('rejects inputs of the wrong size', async () => {
    const { model } = wholeGraph({ devices: [0, 1] }, []);
    const sections = await openSections(encodeCheckpoint(model).manifest, model.sections);
    expect(() => sections.devices.get(0)!.infer(new Float32Array(10))).toThrow(/expected 1x8x8x3 values/);
    expect(() => sections.cloud.infer([new Uint8Array(8)])).toThrow(/expected 2 feature messages/);
    expect(() => sections.cloud.infer([new Uint8Array(3), null])).toThrow(/expected 8/);
    sections.dispose();
  });
});
