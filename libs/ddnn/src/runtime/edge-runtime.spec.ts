import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng, writeSynthDataset } from '@ddnn/datasets';
import { decodeSection, parseCheckpointManifest, saveCheckpoint } from '../checkpoint/checkpoint';
import { openEdgeSection } from '../inference/sections';
import { BN_EPSILON } from '../layers/constants';
import { initialValues, sectionSpecs } from '../model/params';
import { parseTopology, topologyShapes } from '../model/topology';
import { checkpointRuntimeBindings } from './bindings';
import { bytesToScores, DeviceRuntime } from './device-runtime';
import { sectionName } from '@ddnn/contracts';

// A three-tier model (devices 0-2 under edge "e1"): an edge node fuses its devices' features as the model does.
let dir: string;
let manifest: unknown;
const weights = (section: string) => new Uint8Array(readFileSync(path.join(dir, 'model', `${section}.bin`)));

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ddnn-edge-'));
  await writeSynthDataset(path.join(dir, 'data', 'synth'), { samples: 6, views: 3, seed: 2 });
  const topology = parseTopology({ devices: [0, 1, 2], edges: [{ name: 'e1', devices: [0, 1, 2] }] });
  const classes = ['car', 'bus', 'person'];
  const rng = new Rng(11);
  const sections = new Map(sectionSpecs(topology, topologyShapes(topology, [32, 32, 3], 3)).map((s) => [s.name, initialValues(s, rng)] as const));
  await saveCheckpoint(path.join(dir, 'model'), {
    architecture: { input: [32, 32, 3], binarization: 'sign', convp: 'conv3x3-bn-sign-maxpool', batchNormEpsilon: BN_EPSILON },
    topology,
    classes,
    training: { epochs: 0, batchSize: 0, seed: 11, learningRate: 0, deviceDropout: 0, trainSamples: 0, secondsTotal: 0, secondsPerEpoch: 0, cpuSecondsPerEpoch: 0, backend: 'none', finishedAt: new Date(0).toISOString(), finalExits: [] },
    metrics: {},
    sections,
  });
  manifest = JSON.parse(readFileSync(path.join(dir, 'model', 'manifest.json'), 'utf8'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('an edge runtime fuses device features (one missing) exactly as the model library does', async () => {
  const bindings = checkpointRuntimeBindings({ dataRoot: path.join(dir, 'data') });
  const id = readFileSync(path.join(dir, 'data', 'synth', 'labels.csv'), 'utf8').split('\n')[1].split(',')[0];
  const features: (Uint8Array | null)[] = [];
  for (const v of [0, 1, 2]) {
    const device = new DeviceRuntime({ role: 'end-device', view: v, bindings });
    expect(await device.deploy({ modelId: 'm', modelVersion: '1', section: sectionName.device(v), manifest, weights: weights(sectionName.device(v)) })).toMatchObject({ ok: true });
    expect(await device.infer({ stage: 'scores', sessionId: 's', sampleIndex: 0, dataset: 'synth', sampleId: id })).toMatchObject({ ok: true });
    const f = await device.infer({ stage: 'features', sessionId: 's', sampleIndex: 0 });
    if (!f.ok || !('features' in f)) throw new Error('features failed');
    features.push(v === 1 ? null : f.features);
  }
  const edge = new DeviceRuntime({ role: 'edge', view: null, bindings });
  expect(await edge.deploy({ modelId: 'm', modelVersion: '1', section: 'device-0', manifest, weights: weights('device-0') })).toMatchObject({ ok: false, error: expect.stringMatching(/edge-<name> section/) });
  expect(await edge.infer({ stage: 'scores', sessionId: 's', sampleIndex: 0, dataset: 'synth', sampleId: id })).toMatchObject({ ok: false, error: expect.stringMatching(/no edge section installed|no camera view/) });
  expect(await edge.deploy({ modelId: 'm', modelVersion: '1', section: 'edge-e1', manifest, weights: weights('edge-e1') })).toMatchObject({ ok: true, section: 'edge-e1' });
  const reply = await edge.infer({ stage: 'edge', sessionId: 's', sampleIndex: 0, features });
  if (!reply.ok || !('features' in reply) || !('scores' in reply)) throw new Error(`edge failed: ${JSON.stringify(reply)}`);
  const m = parseCheckpointManifest(manifest);
  const reference = await openEdgeSection(m, 'e1', decodeSection(m, 'edge-e1', weights('edge-e1')));
  const expected = reference.infer(features);
  expect([...bytesToScores(reply.scores)]).toEqual([...expected.scores]);
  expect(Buffer.from(reply.features).equals(Buffer.from(expected.features))).toBe(true);
  reference.dispose();
}, 60_000);
