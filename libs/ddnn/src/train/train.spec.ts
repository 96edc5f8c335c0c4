import { initBackend } from '../backend';
import { metricsAt, runModel } from '../evaluate/evaluate';
import { parseTopology } from '../model/topology';
import { tinyDataset } from '../testing/tiny-dataset';
import { oneStandardError } from './threshold';
import type { EpochReport } from './options';
import { trainDdnn } from './train';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('joint training', () => {
  const ds = tinyDataset({ samples: 160, views: 3, size: 8, seed: 3 });

  it('learns a small multi-view task well above chance at every exit', async () => {
    const reports: EpochReport[] = [];
    const model = await trainDdnn(ds, parseTopology({ devices: [0, 1, 2] }), { paper: true, epochs: 40, seed: 2, batchSize: 64, onEpoch: (r) => reports.push(r) });
    expect(reports).toHaveLength(40);
    expect(reports[0].exits.map((e) => e.exit)).toEqual(['device-0', 'device-1', 'device-2', 'local', 'cloud']);
    const cloudLoss = reports.map((r) => r.exits.find((e) => e.exit === 'cloud')!.loss);
    expect(cloudLoss[39]).toBeLessThan(cloudLoss[0]);
    // binary weights stay clipped to [-1, 1]
    for (const values of model.sections.values()) for (const [name, v] of values) if (name.endsWith('.w')) expect(v.data.every((x) => x >= -1 && x <= 1)).toBe(true);
    const m = metricsAt(await runModel(model, ds), 0.8);
    expect(m.samples).toBe(40);
    // chance is 1/3
    expect(m.cloud).toBeGreaterThan(0.75);
    expect(m.local).toBeGreaterThan(0.6);
    expect(m.overall).toBeGreaterThan(0.75);
    const failed = metricsAt(await runModel(model, ds, { fail: [1] }), 0.8);
    expect(failed.individual[1]).toBeNull();
    expect(failed.overall).toBeGreaterThan(0.6);
  }, 120_000);

  it('trains a 3-tier hierarchy with an exit per edge', async () => {
    const topology = parseTopology({ devices: [0, 1, 2], edges: [{ name: 'a', devices: [0, 1], aggregator: 'MP' }, { name: 'b', devices: [2] }], cloud: { aggregator: 'MP' } });
    const reports: EpochReport[] = [];
    const model = await trainDdnn(ds, topology, { paper: true, epochs: 25, seed: 1, batchSize: 64, onEpoch: (r) => reports.push(r) });
    expect(reports[0].exits.map((e) => e.exit)).toEqual(['device-0', 'device-1', 'device-2', 'local', 'edge-a', 'edge-b', 'cloud']);
    expect([...model.sections.keys()]).toEqual(['device-0', 'device-1', 'device-2', 'local', 'edge-a', 'edge-b', 'cloud']);
    const m = metricsAt(await runModel(model, ds), 0.5);
    expect(m.edge).toBeGreaterThan(0.6);
    expect(m.cloud).toBeGreaterThan(0.6);
    expect(m.localExitRate + (m.edgeExitRate ?? 0)).toBeLessThanOrEqual(1);
  }, 120_000);

  it('adapts the recipe to the data: validation hold-out, best epoch, early stop, threshold, a float cloud', async () => {
    const topology = parseTopology({ devices: [0, 1, 2], cloud: { precision: 'float', filters: [8], poolStride: 2, hidden: [16] } });
    const reports: EpochReport[] = [];
    const model = await trainDdnn(ds, topology, { epochs: 60, patience: 6, onEpoch: (r) => reports.push(r) });
    const t = model.training;
    // 120 training samples of 3 classes: 5 per class held out (12.5%), mini-batches of 16 (the smallest), cosine
    expect(t.recipe).toMatchObject({ validationFraction: 0.125, schedule: 'cosine', deviceDropout: 0.5, patience: 6 });
    expect(t.trainSamples + t.validation!.samples).toBe(120);
    expect(t.batchSize).toBe(16);
    expect(reports.every((r) => r.validation !== undefined && r.validation >= 0 && r.validation <= 1)).toBe(true);
    expect(reports[1].learningRate).toBeLessThan(reports[0].learningRate);
    // kept: the latest epoch within one standard error of the best score so far; stopped `patience` epochs after
    // the best one
    const scores = reports.map((r) => r.validation!);
    let expected = 0;
    scores.forEach((v, i) => {
      const top = Math.max(...scores.slice(0, i + 1));
      if (v >= top - oneStandardError(top, t.validation!.samples) - 1e-9) expected = i + 1;
    });
    expect(t.validation!.bestEpoch).toBe(expected);
    expect(t.validation!.score).toBe(scores[expected - 1]);
    if (t.validation!.stoppedEarly) expect(scores[reports.length - 7]).toBe(Math.max(...scores));
    expect(t.epochs).toBe(reports.length);
    expect(model.threshold).toBeGreaterThanOrEqual(0);
    expect(model.threshold).toBeLessThanOrEqual(1);
    // float weights are not clipped; the devices' are
    const cloud = model.sections.get('cloud')!;
    expect(cloud.get('hidden0.w')!.shape).toEqual([2 * 2 * 8, 16]);
    for (const [name, v] of model.sections.get('device-0')!) if (name.endsWith('.w')) expect(v.data.every((x) => x >= -1 && x <= 1)).toBe(true);
    const m = metricsAt(await runModel(model, ds), model.threshold!);
    expect(m.cloud).toBeGreaterThan(0.7);
    expect(m.overall).toBeGreaterThan(0.7);
  }, 180_000);

  it('keeps the moving average of the weights, not the last step, when the recipe asks for it', async () => {
    const topology = parseTopology({ devices: [0, 1], local: { aggregator: 'CC' } });
    const opts = { epochs: 3, batchSize: 16, seed: 4, validationFraction: 0, patience: 0 };
    const last = await trainDdnn(ds, topology, { ...opts, weightAverage: 0 });
    const averaged = await trainDdnn(ds, topology, { ...opts, weightAverage: 0.9 });
    expect(averaged.training.recipe?.weightAverage).toBe(0.9);
    // the same trajectory (same seed and batches), a different point kept: an average lags the last step
    const w = (m: typeof last) => Array.from(m.sections.get('device-0')!.get('convp0.w')!.data);
    expect(w(averaged)).not.toEqual(w(last));
    // the average of clipped weights stays within the clip
    expect(w(averaged).every((x) => x >= -1 && x <= 1)).toBe(true);
    const m = metricsAt(await runModel(averaged, ds), 0.5);
    expect(m.cloud).toBeGreaterThan(0.5);
  }, 60_000);

  it('validates over single dead devices without changing what is trained', async () => {
    const topology = parseTopology({ devices: [0, 1, 2] });
    const opts = { epochs: 4, batchSize: 16, seed: 6, patience: 0 };
    const scores = async (validateFailures: boolean) => {
      const reports: EpochReport[] = [];
      const model = await trainDdnn(ds, topology, { ...opts, validateFailures, onEpoch: (r) => reports.push(r) });
      return { model, validation: reports.map((r) => r.validation!), train: reports.map((r) => r.exits) };
    };
    const intact = await scores(false);
    const failing = await scores(true);
    expect(failing.model.training.recipe?.validateFailures).toBe(true);
    // the same trajectory (validation never feeds back into training) scored differently: a dead device costs
    expect(failing.train).toEqual(intact.train);
    expect(failing.validation).not.toEqual(intact.validation);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(failing.validation)).toBeLessThan(sum(intact.validation));
  }, 90_000);

  it('detached device exits train their heads but leave the devices\' conv blocks to the upper tiers', async () => {
    // the cloud's loss weighs nothing here, so with the device exits detached nothing trains the devices' convs
    const topology = parseTopology({ devices: [0, 1], exitWeights: { cloud: 0 } });
    const opts = { batchSize: 16, seed: 3, validationFraction: 0, patience: 0, weightAverage: 0 };
    const run = (epochs: number, detachDeviceExits: boolean) => trainDdnn(ds, topology, { ...opts, epochs, detachDeviceExits });
    const w = (m: Awaited<ReturnType<typeof run>>, name: string) => Array.from(m.sections.get('device-0')?.get(name)?.data ?? []);
    const [one, two] = [await run(1, true), await run(2, true)];
    expect(one.training.recipe?.detachDeviceExits).toBe(true);
    expect(w(one, 'convp0.w').length).toBe(3 * 3 * 3 * 4);
    expect(w(two, 'convp0.w')).toEqual(w(one, 'convp0.w'));
    expect(w(two, 'fc.w')).not.toEqual(w(one, 'fc.w'));
    const [attached1, attached2] = [await run(1, false), await run(2, false)];
    expect(w(attached2, 'convp0.w')).not.toEqual(w(attached1, 'convp0.w'));
  }, 90_000);

  it('is deterministic for a seed and differs across seeds', async () => {
    const topology = parseTopology({ devices: [0, 1], local: { aggregator: 'CC' } });
    const opts = { epochs: 2, batchSize: 50 };
    const a = await trainDdnn(ds, topology, { ...opts, seed: 4 });
    const b = await trainDdnn(ds, topology, { ...opts, seed: 4 });
    const c = await trainDdnn(ds, topology, { ...opts, seed: 5 });
    const flat = (m: typeof a) => [...m.sections.values()].flatMap((s) => [...s.values()].flatMap((v) => Array.from(v.data)));
    expect(flat(a)).toEqual(flat(b));
    expect(flat(a)).not.toEqual(flat(c));
  }, 60_000);

  it('ignores missing views in the device exit loss and sets BatchNorm statistics from the training set', async () => {
    // view 1 never captured: its device exit has no sample to learn from, so its loss counts nothing
    const model = await trainDdnn(tinyDataset({ samples: 40, views: 2, missing: 1 }), parseTopology({ devices: [0, 1] }), { epochs: 1 });
    const variance = model.sections.get('cloud')!.get('convp0.bn.variance')!.data;
    expect(Array.from(variance).some((v) => v !== 1)).toBe(true);
    expect(model.training.trainSamples).toBe(30);
    expect(model.training.finalExits.find((e) => e.exit === 'device-1')).toEqual({ exit: 'device-1', loss: 0, accuracy: 0, samples: 0 });
    expect(model.training.finalExits.find((e) => e.exit === 'device-0')!.samples).toBe(30);
    expect(model.training.finalExits.find((e) => e.exit === 'device-0')!.loss).toBeGreaterThan(0);
    expect(model.training.finalExits.find((e) => e.exit === 'cloud')!.loss).toBeGreaterThan(0);
  }, 60_000);
});
