import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadDataset, viewPixels, writeSynthDataset, type MultiViewDataset } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { encodeCheckpoint } from '../checkpoint/checkpoint';
import { softmax } from '../entropy';
import { openSections } from '../inference/sections';
import { parseTopology, type TopologyInput } from '../model/topology';
import { trainDdnn } from '../train/train';
import { createBinaryUpperSection } from './cloud-section';
import { createBinaryDeviceSection } from './device-section';
import { toSectionWeights } from './section-weights';
import { sectionName } from '@ddnn/contracts';

/** The value under `key`, or an error naming what is missing. */
function need<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const v = map.get(key);
  if (v === undefined) throw new Error(`missing ${String(key)}`);
  return v;
}

// A model trained here on the synthetic default dataset (small and short, so the test stays quick): the
// bit-packed device and cloud sections must give exactly the tfjs sections' bytes on every sample.
let dir: string;
let ds: MultiViewDataset;

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(path.join(tmpdir(), 'ddnn-binary-'));
  await writeSynthDataset(path.join(dir, 'data'), { samples: 90, seed: 5 });
  ds = await loadDataset(path.join(dir, 'data'));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bytesOf(a: Float32Array | Uint8Array): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

const topologies: [string, TopologyInput][] = [
  ['paper default: 6 devices, 1 ConvP f=4, MP-CC', {}],
  ['2 device blocks f=4,2, cloud MP', { device: { filters: [4, 2] }, cloud: { aggregator: 'MP' } }],
];

describe('bit-packed sections of a trained model vs its tfjs sections', () => {
  it.each(topologies)('%s', async (_name, input) => {
    const topology = parseTopology(input);
    const model = await trainDdnn(ds, topology, { epochs: 4, batchSize: 32, seed: 3 });
    const { manifest } = encodeCheckpoint(model);
    const sections = await openSections(manifest, model.sections);
    try {
      const [h, w, c] = model.architecture.input;
      const classes = model.classes.length;
      const devices = topology.devices.map((v) =>
        createBinaryDeviceSection(toSectionWeights(need(model.sections, sectionName.device(v))), { height: h, width: w, channels: c, blocks: topology.device.filters.length, classes }),
      );
      const featureShape = need(sections.devices, topology.devices[0]).featureShape;
      const cloud = createBinaryUpperSection(toSectionWeights(need(model.sections, 'cloud')), {
        inputShape: featureShape,
        inputs: topology.devices.length,
        aggregator: topology.cloud.aggregator as 'CC' | 'MP',
        blocks: topology.cloud.filters.length,
        classes,
      });
      let positives = 0;
      let bits = 0;
      for (let n = 0; n < ds.sampleIds.length; n++) {
        const feats = topology.devices.map((v, d) => {
          const view = Float32Array.from(viewPixels(ds, n, v));
          const ref = need(sections.devices, v).infer(view);
          const got = devices[d].infer(view);
          expect(bytesOf(got.scores)).toEqual(bytesOf(ref.scores));
          expect(bytesOf(got.features)).toEqual(bytesOf(ref.features));
          for (const b of got.features) positives += b.toString(2).split('1').length - 1;
          bits += featureShape[0] * featureShape[1] * featureShape[2];
          return got.features;
        });
        // Every third sample loses a device, as in the paper's fault study.
        const sent = feats.map((f, d) => (n % 3 === 1 && d === n % feats.length ? null : f));
        expect(bytesOf(softmax(cloud.infer(sent).scores))).toEqual(bytesOf(sections.cloud.infer(sent)));
      }
      // A trained map is neither all +1 nor all -1.
      expect(positives).toBeGreaterThan(0.05 * bits);
      expect(positives).toBeLessThan(0.95 * bits);
    } finally {
      sections.dispose();
    }
  }, 300_000);
});
