import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sampleSections, sampleTraffic, type InferReply, type InferRequest } from '@ddnn/contracts';
import { Rng } from '@ddnn/datasets';
import { BN_EPSILON, initialValues, parseTopology, saveCheckpoint, scoresToBytes, sectionSpecs, topologyShapes, type TopologyInput } from '@ddnn/ddnn';
import type { ModelsService } from '../models/models.service';
import { DeviceUnavailableError } from '../devices/transport/device-transport';
import { messageSizesOf, ModelCatalog } from './model-catalog';
import { runSample, type SessionPlan } from './sample-runner';

let dir: string;

/** A random-weight checkpoint of the given topology (the shapes, not the accuracy, matter here). */
async function checkpoint(name: string, input: TopologyInput): Promise<string> {
  const topology = parseTopology(input);
  const rng = new Rng(5);
  const sections = new Map(sectionSpecs(topology, topologyShapes(topology, [32, 32, 3], 3)).map((s) => [s.name, initialValues(s, rng)] as const));
  const out = path.join(dir, name);
  await saveCheckpoint(out, {
    architecture: { input: [32, 32, 3], binarization: 'sign', convp: 'conv3x3-bn-sign-maxpool', batchNormEpsilon: BN_EPSILON },
    topology,
    classes: ['car', 'bus', 'person'],
    training: { epochs: 0, batchSize: 0, seed: 5, learningRate: 0, deviceDropout: 0, trainSamples: 0, secondsTotal: 0, secondsPerEpoch: 0, cpuSecondsPerEpoch: 0, backend: 'none', finishedAt: new Date(0).toISOString(), finalExits: [] },
    metrics: {},
    sections,
  });
  return out;
}

function catalog(paths: Record<string, string>, version = () => 'v1'): ModelCatalog {
  // The checkpoint is read from the server path the row holds (clients see `<data>/...`).
  const models = {
    checkpoint: async (id: string) => {
      if (!paths[id]) throw new Error(`no model ${id}`);
      return { version: version(), path: paths[id] };
    },
  } as unknown as ModelsService;
  return new ModelCatalog(models);
}

/** Devices that answer with fixed scores and all-ones feature maps of the model's size. */
function devices(featuresBytes: number, dead: string[] = []) {
  return {
    request: async (deviceId: string, req: InferRequest): Promise<InferReply> => {
      if (dead.includes(deviceId)) throw new DeviceUnavailableError(deviceId, 'not-connected');
      if (req.stage === 'scores') return { ok: true, scores: scoresToBytes(Float32Array.from([0.2, 0.1, 0.15])), latencyMs: 1 };
      return { ok: true, features: new Uint8Array(featuresBytes).fill(0xff), latencyMs: 1 };
    },
  };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ddnn-catalog-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ModelCatalog', () => {
  it('reads a model version\'s manifest once, and again for a new version', async () => {
    const out = await checkpoint('cached', { devices: [0, 1, 2] });
    let version = 'v1';
    const cat = catalog({ cached: out }, () => version);
    expect((await cat.describe('cached')).classes).toEqual(['car', 'bus', 'person']);
    const manifest = path.join(out, 'manifest.json');
    const saved = readFileSync(manifest, 'utf8');
    rmSync(manifest);
    expect((await cat.describe('cached')).version).toBe('v1');
    version = 'v2';
    await expect(cat.describe('cached')).rejects.toThrow();
    writeFileSync(manifest, saved);
    expect((await cat.describe('cached')).version).toBe('v2');
  });

  it('opens a 2-tier checkpoint: message sizes, local aggregator and cloud over device features', async () => {
    const cat = catalog({ two: await checkpoint('two', { devices: [0, 1, 2] }) });
    const d = await cat.describe('two');
    expect(d).toMatchObject({ classes: ['car', 'bus', 'person'], deviceViews: [0, 1, 2], edges: [], hasEdge: false });
    expect(d.messageSizes).toEqual({ scoresBytes: 12, featuresBytes: 128, rawBytes: 3072 });
    const model = await cat.load('two');
    expect(await cat.load('two')).toBe(model);
    const plan: SessionPlan = {
      sessionId: 's',
      dataset: 'x',
      topology: { devices: [0, 1, 2].map((v) => ({ deviceId: `d${v}`, view: v })) },
      policy: { kind: 'entropy', thresholds: { local: 0 } },
      mode: 'production',
      deadlineMs: 100,
      messageSizes: d.messageSizes,
    };
    const out = await runSample(plan, { index: 0, sampleId: 'a', label: 1 }, devices(128, ['d1']), model.sections);
    expect(out.exit).toBe('cloud');
    const cloud = out.events.flatMap((e) => sampleSections(e)?.sections ?? []).find((s) => s.tier === 'cloud')!;
    expect(cloud.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(out.events.filter((e) => e.type === 'DeviceMissed')).toHaveLength(1);
  });

  it('opens a 3-tier checkpoint and routes features through its simulated edge', async () => {
    const cat = catalog({ three: await checkpoint('three', { devices: [0, 1, 2, 3], edges: [{ name: 'e1', devices: [0, 1] }, { name: 'e2', devices: [2, 3] }] }) });
    const d = await cat.describe('three');
    expect(d.edges).toEqual([
      { name: 'e1', views: [0, 1] },
      { name: 'e2', views: [2, 3] },
    ]);
    expect(d.messageSizes.edgeFeaturesBytes).toBeGreaterThan(0);
    const model = await cat.load('three');
    const plan: SessionPlan = {
      sessionId: 's',
      dataset: 'x',
      topology: {
        devices: [0, 1, 2, 3].map((v) => ({ deviceId: `d${v}`, view: v, edge: v < 2 ? 'e1' : 'e2' })),
        edges: [
          { name: 'e1', deviceId: null },
          { name: 'e2', deviceId: null },
        ],
      },
      policy: { kind: 'entropy', thresholds: { local: 0, edge: 0 } },
      mode: 'research',
      deadlineMs: 100,
      messageSizes: d.messageSizes,
    };
    const out = await runSample(plan, { index: 0, sampleId: 'a', label: 0 }, devices(128), model.sections);
    const tiers = out.events.flatMap((e) => sampleSections(e)?.sections ?? []).map((s) => s.node);
    expect(tiers).toEqual(['d0', 'd1', 'd2', 'd3', 'local', 'e1', 'e2', 'cloud']);
    const links = out.events.flatMap((e) => sampleTraffic(e)?.messages ?? []).map((b) => `${b.from}->${b.to}:${b.bytes}`);
    expect(links).toEqual(
      expect.arrayContaining(['d0->e1:128', 'd3->e2:128', `e1->cloud:${d.messageSizes.edgeFeaturesBytes}`, `e2->cloud:${d.messageSizes.edgeFeaturesBytes}`]),
    );
    expect(out.exit).toBe('cloud');
  });

  const batchedCases: [string, TopologyInput, (number | string)[]][] = [
    ['2', { devices: [0, 1, 2, 3, 4, 5] }, [0, 1, 2, 3, 4, 5]],
    ['3', { devices: [0, 1, 2, 3], edges: [{ name: 'e1', devices: [0, 1] }, { name: 'e2', devices: [2, 3] }] }, ['e1', 'e2']],
  ];
  it.each(batchedCases)('the %s-tier cloud gives samples that reach it together exactly what each would get alone', async (name, topology, keys) => {
    const cat = catalog({ [name]: await checkpoint(`${name}-batched`, topology) });
    const d = await cat.describe(name);
    const model = await cat.load(name);
    const bytes = d.hasEdge ? d.messageSizes.edgeFeaturesBytes! : d.messageSizes.featuresBytes;
    const rng = new Rng(11);
    // Random feature maps, some inputs missing (a device or edge that did not answer).
    const samples = Array.from({ length: 40 }, (_, n) => {
      return new Map(keys.filter((_k, i) => (n + i) % 5 !== 0).map((k) => [k, Uint8Array.from({ length: bytes }, () => Math.floor(rng.next() * 256))] as const));
    });
    const alone: number[][] = [];
    for (const s of samples) alone.push((await model.sections.cloud(s)).probabilities);
    const together = await Promise.all(samples.map((s) => model.sections.cloud(s)));
    expect(together.map((a) => a.probabilities)).toEqual(alone);
    expect(new Set(alone.map((p) => p.join())).size).toBeGreaterThan(1);
  });

  it('names an unregistered model', async () => {
    const models = { checkpoint: async () => Promise.reject(new Error('no model')) } as unknown as ModelsService;
    await expect(new ModelCatalog(models).describe('nope')).rejects.toThrow(/model 'nope' is not registered/);
  });

  it('computes message sizes from the topology', async () => {
    const manifest = { topology: { devices: [0, 1], device: { filters: 8 } }, architecture: { input: [32, 32, 3] }, classes: ['a', 'b'] };
    expect(messageSizesOf(manifest as never)).toEqual({ scoresBytes: 8, featuresBytes: 256, rawBytes: 3072 });
  });
});
