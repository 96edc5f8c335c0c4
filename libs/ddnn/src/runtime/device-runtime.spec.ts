import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng, writeSynthDataset } from '@ddnn/datasets';
import { decodeSection, parseCheckpointManifest, saveCheckpoint } from '../checkpoint/checkpoint';
import { openDeviceSection } from '../inference/sections';
import { BN_EPSILON } from '../layers/constants';
import { initialValues, sectionSpecs } from '../model/params';
import { parseTopology, topologyShapes } from '../model/topology';
import { bytesToScores, DeviceRuntime, NOT_CAPTURED, type Capture, type CaptureSource, type ViewShape } from './device-runtime';
import { parseInferReply } from '@ddnn/contracts';
import { checkpointRuntimeBindings } from './bindings';
import { loadViewSource } from './view-source';

let dir: string;
let manifest: unknown;
const weights = (section: string) => new Uint8Array(readFileSync(path.join(dir, 'model', `${section}.bin`)));

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ddnn-runtime-'));
  await writeSynthDataset(path.join(dir, 'data', 'synth'), { samples: 8, views: 6, seed: 3 });
  const topology = parseTopology({});
  const classes = ['car', 'bus', 'person'];
  const shapes = topologyShapes(topology, [32, 32, 3], classes.length);
  const rng = new Rng(7);
  const sections = new Map(sectionSpecs(topology, shapes).map((s) => [s.name, initialValues(s, rng)] as const));
  await saveCheckpoint(path.join(dir, 'model'), {
    architecture: { input: [32, 32, 3], binarization: 'sign', convp: 'conv3x3-bn-sign-maxpool', batchNormEpsilon: BN_EPSILON },
    topology,
    classes,
    training: { epochs: 0, batchSize: 0, seed: 7, learningRate: 0, deviceDropout: 0, trainSamples: 0, secondsTotal: 0, secondsPerEpoch: 0, backend: 'none', finishedAt: new Date(0).toISOString(), finalExits: [] },
    metrics: {},
    sections,
  });
  manifest = JSON.parse(readFileSync(path.join(dir, 'model', 'manifest.json'), 'utf8'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runtime = (view = 2) => new DeviceRuntime({ role: 'end-device', view, bindings: checkpointRuntimeBindings({ dataRoot: path.join(dir, 'data') }) });
const deploy = (section = 'device-2') => ({ modelId: 'm', modelVersion: 'v1', section, manifest, weights: weights(section) });

describe('DeviceRuntime', () => {
  it('installs its section and serves scores then bit-packed features equal to the model library', async () => {
    const rt = runtime(2);
    expect(await rt.deploy(deploy())).toEqual({ ok: true, modelId: 'm', modelVersion: 'v1', section: 'device-2', bytes: weights('device-2').byteLength });
    const view = await loadViewSource(path.join(dir, 'data'), 'synth', 2);
    const m = parseCheckpointManifest(manifest);
    const reference = await openDeviceSection(m, 2, decodeSection(m, 'device-2', weights('device-2')));
    const ids = readFileSync(path.join(dir, 'data', 'synth', 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    let served = 0;
    let skipped = 0;
    for (const [i, id] of ids.entries()) {
      const scores = await rt.infer({ stage: 'scores', sessionId: 's', sampleIndex: i, dataset: 'synth', sampleId: id });
      const pixels = view.pixels(id);
      if (pixels === NOT_CAPTURED) {
        // A view the camera did not capture is a skipped capture: the device sends nothing, as evaluation assumes.
        expect(scores).toEqual({ ok: false, skipped: true, cause: 'absent', error: `view 2 of sample ${id} was not captured` });
        skipped++;
        continue;
      }
      served++;
      if (!scores.ok || !('scores' in scores)) throw new Error(`scores failed: ${JSON.stringify(scores)}`);
      const expected = reference.infer(pixels as Float32Array);
      const got = bytesToScores(scores.scores);
      expect(got).toHaveLength(3);
      for (let c = 0; c < 3; c++) expect(got[c]).toBeCloseTo(expected.scores[c], 3);
      const features = await rt.infer({ stage: 'features', sessionId: 's', sampleIndex: i });
      if (!features.ok || !('features' in features)) throw new Error(`features failed: ${JSON.stringify(features)}`);
      expect(Buffer.from(features.features).equals(Buffer.from(expected.features))).toBe(true);
      // Replies name the sample they answer, so the server can refuse one meant for another.
      expect([scores.sampleIndex, features.sampleIndex]).toEqual([i, i]);
    }
    expect([served > 0, skipped > 0]).toEqual([true, true]);
    reference.dispose();
  });

  it('answers malformed and out-of-order requests with errors, never throwing', async () => {
    const rt = runtime(1);
    expect(await rt.infer({ stage: 'scores', sessionId: 's', sampleIndex: 0, dataset: 'synth', sampleId: 'x' })).toEqual({ ok: false, error: 'infer scores: no model section installed' });
    expect(await rt.deploy(deploy('device-2'))).toMatchObject({ ok: false, error: expect.stringMatching(/serves view 1 and takes section device-1/) });
    expect(await rt.deploy({ modelId: 'm' })).toMatchObject({ ok: false, error: expect.stringMatching(/^deploy: .*modelVersion/) });
    expect(await rt.deploy({ ...deploy('device-1'), weights: new Uint8Array(3) })).toMatchObject({ ok: false, error: expect.stringMatching(/device-1\.bin has 3 bytes/) });
    expect(await rt.deploy(deploy('device-1'))).toMatchObject({ ok: true });
    expect(await rt.infer(null)).toMatchObject({ ok: false, error: expect.stringMatching(/^infer: /) });
    expect(await rt.infer({ stage: 'scores', sessionId: 's', sampleIndex: -1, dataset: 'synth', sampleId: 'x' })).toMatchObject({ ok: false, error: expect.stringMatching(/sampleIndex/) });
    expect(await rt.infer({ stage: 'teleport', sessionId: 's', sampleIndex: 0 })).toMatchObject({ ok: false });
    expect(await rt.infer({ stage: 'features', sessionId: 's', sampleIndex: 9 })).toMatchObject({ ok: false, error: expect.stringMatching(/no features kept/) });
    expect(await rt.infer({ stage: 'scores', sessionId: 's', sampleIndex: 0, dataset: 'synth', sampleId: 'nope' })).toMatchObject({ ok: false, error: expect.stringMatching(/has no sample nope/) });
    // Named inside the dataset, never by the host's path: the error goes into the event log.
    expect(await rt.infer({ stage: 'scores', sessionId: 's', sampleIndex: 0, dataset: 'missing', sampleId: 'x' })).toMatchObject({ ok: false, error: 'infer scores: cannot read view 1 of dataset missing: manifest.json: missing manifest' });
    expect(await rt.infer({ stage: 'scores', sessionId: 's', sampleIndex: 0, dataset: '../etc', sampleId: 'x' })).toMatchObject({ ok: false, error: expect.stringMatching(/invalid dataset name/) });
  });

  it('stamps dataset replies with the read time when given a wall clock', async () => {
    const rt = new DeviceRuntime({ role: 'end-device', view: 2, bindings: checkpointRuntimeBindings({ dataRoot: path.join(dir, 'data') }), wallClock: () => 1_800_000_000_123.7 });
    await rt.deploy(deploy());
    const view = await loadViewSource(path.join(dir, 'data'), 'synth', 2);
    const ids = readFileSync(path.join(dir, 'data', 'synth', 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    const id = ids.find((i) => view.pixels(i) !== NOT_CAPTURED) as string;
    const reply = await rt.infer({ stage: 'scores', sessionId: 's', sampleIndex: 0, dataset: 'synth', sampleId: id });
    // With the clock it replied at, which the server brackets with the request's round trip to read the offset.
    expect(reply).toMatchObject({ ok: true, capturedAt: 1_800_000_000_123, repliedAt: 1_800_000_000_123 });
    expect(parseInferReply('scores', reply)).toMatchObject({ capturedAt: 1_800_000_000_123, repliedAt: 1_800_000_000_123 });
  });

  it('on a capture source: carries capturedAt, answers skipped while busy (never queues), and passes on skips', async () => {
    const shapes: ViewShape[] = [];
    let release!: () => void;
    let answer: Capture = { pixels: new Float32Array(32 * 32 * 3).fill(0.5), capturedAt: 1_800_000_000_000 };
    let calls = 0;
    const source: CaptureSource = {
      prepare: (shape) => shapes.push(shape),
      capture: async () => {
        calls++;
        await new Promise<void>((r) => (release = r));
        return answer;
      },
    };
    const rt = new DeviceRuntime({ role: 'end-device', view: 2, bindings: checkpointRuntimeBindings({ dataRoot: '/nonexistent' }), capture: source });
    await rt.deploy(deploy());
    expect(shapes).toEqual([{ height: 32, width: 32, channels: 3 }]);
    const ask = (i: number) => rt.infer({ stage: 'scores', sessionId: 's', sampleIndex: i, dataset: 'live', sampleId: `t${i}` });
    const first = ask(0);
    await new Promise((r) => setImmediate(r));
    const second = await ask(1);
    expect(second).toEqual({ ok: false, skipped: true, cause: 'busy', error: expect.stringMatching(/busy: the previous capture/) });
    expect(parseInferReply('scores', second)).toEqual(second);
    release();
    const done = await first;
    expect(done).toMatchObject({ ok: true, capturedAt: 1_800_000_000_000 });
    expect(calls).toBe(1);
    expect(await rt.infer({ stage: 'features', sessionId: 's', sampleIndex: 0 })).toMatchObject({ ok: true });

    answer = { skipped: 'newest frame is 5000 ms old (max 1000 ms)' };
    const stale = ask(2);
    await new Promise((r) => setImmediate(r));
    release();
    expect(await stale).toEqual({ ok: false, skipped: true, cause: 'source', error: 'newest frame is 5000 ms old (max 1000 ms)' });
    // Free again once a capture is answered.
    answer = { pixels: new Float32Array(32 * 32 * 3), capturedAt: 1_800_000_000_500 };
    const next = ask(3);
    await new Promise((r) => setImmediate(r));
    release();
    expect(await next).toMatchObject({ ok: true, capturedAt: 1_800_000_000_500 });
    // No wall clock given (the server's simulated cameras, on its own clock): nothing to read an offset from.
    expect(done).not.toHaveProperty('repliedAt');

    // An agent's clock: the capture keeps its own stamp, and the reply says when it was sent on that clock.
    const clocked = new DeviceRuntime({
      role: 'end-device', view: 2, bindings: checkpointRuntimeBindings({ dataRoot: '/nonexistent' }), wallClock: () => 1_800_000_009_000.6,
      capture: { prepare: () => undefined, capture: async () => ({ pixels: new Float32Array(32 * 32 * 3), capturedAt: 1_800_000_008_950 }) },
    });
    await clocked.deploy(deploy());
    const reply = await clocked.infer({ stage: 'scores', sessionId: 's', sampleIndex: 9, dataset: 'live', sampleId: 't9' });
    expect(reply).toMatchObject({ ok: true, capturedAt: 1_800_000_008_950, repliedAt: 1_800_000_009_000 });
    expect(parseInferReply('scores', reply)).toMatchObject({ repliedAt: 1_800_000_009_000 });
  });
});
