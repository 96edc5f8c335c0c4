import { createHash } from 'node:crypto';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ReportFlags, Study } from './report-command';
import { loadDataset, summarizeDataset, writeSynthDataset, type MultiViewDataset } from '@ddnn/datasets';
import {
  AGGREGATORS,
  loadCheckpoint,
  metricsAt,
  parseTopology,
  runModel,
  saveCheckpoint,
  sweepThresholds,
  TRAIN_DEFAULTS,
  trainDdnn,
  type DdnnModel,
  type EvalMetrics,
  type EvalRun,
  type TopologyInput,
} from '@ddnn/ddnn';
import { barChart, lineChart } from './report-charts';
import { markdown, PAPER } from './report-markdown';
import { log } from '../log';


interface Context {
  ds: MultiViewDataset;
  dataKey: string;
  cache: string;
  epochs: number;
  seed: number;
  dropout: number;
  trainings: { name: string; cached: boolean; secondsPerEpoch: number; cpuSecondsPerEpoch?: number; epochs: number }[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Trains a configuration or loads it from the cache (keyed by topology, epochs, seed, drop-out and dataset). */
async function trained(ctx: Context, name: string, input: TopologyInput): Promise<DdnnModel> {
  const topology = parseTopology(input);
  // `missingViews`: models trained since a view the camera did not capture counts as a device that sent nothing
  // differ from those cached before for the same configuration.
  const key = JSON.stringify({ topology, epochs: ctx.epochs, seed: ctx.seed, dropout: ctx.dropout, data: ctx.dataKey, missingViews: 'absent' });
  const dir = join(ctx.cache, `${name}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`);
  if (await exists(join(dir, 'manifest.json'))) {
    const model = await loadCheckpoint(dir);
    log(`${name}: cached (${dir})`);
    if (!ctx.trainings.some((t) => t.name === name)) ctx.trainings.push({ name, cached: true, secondsPerEpoch: model.training.secondsPerEpoch, cpuSecondsPerEpoch: model.training.cpuSecondsPerEpoch, epochs: model.training.epochs });
    return model;
  }
  log(`${name}: training ${ctx.epochs} epochs`);
  // The paper's studies train with the paper's recipe (full batch, constant lr, no validation hold-out).
  const model = await trainDdnn(ctx.ds, topology, {
    paper: true,
    epochs: ctx.epochs,
    seed: ctx.seed,
    deviceDropout: ctx.dropout,
    onEpoch: (r) => {
      if (r.epoch % 10 === 0 || r.epoch === r.epochs) log(`  ${name} epoch ${r.epoch}/${r.epochs} ${r.seconds.toFixed(1)} s, cloud loss ${r.exits[r.exits.length - 1].loss.toFixed(3)}`);
    },
  });
  model.metrics = { reportKey: key };
  // The cache's own folder, without a manifest here: whatever an interrupted save left in it is replaced.
  await saveCheckpoint(dir, model, { overwrite: true });
  ctx.trainings.push({ name, cached: false, secondsPerEpoch: model.training.secondsPerEpoch, cpuSecondsPerEpoch: model.training.cpuSecondsPerEpoch, epochs: model.training.epochs });
  return model;
}


/** Smallest T on a 0.01 grid whose local exit rate reaches `target` (the authors' procedure). */
function thresholdForExitRate(run: EvalRun, target: number): number {
  for (let k = 0; k <= 100; k++) if (metricsAt(run, k / 100).localExitRate >= target) return k / 100;
  return 1;
}

/** The action of `ddnn report paper` (registered in ./report-command). */
export async function runReportPaper(flags: ReportFlags): Promise<void> {
  const data = resolve(flags.data);
  if (!(await exists(join(data, 'manifest.json')))) {
    log(`no dataset at ${data}: synthesizing the default dataset`);
    await writeSynthDataset(data, {});
  }
  const ds = await loadDataset(data);
  // The pixels are part of the key: a regenerated dataset keeps its name and labels but not its images.
  const dataHash = createHash('sha256')
    .update(Buffer.from(ds.labels.buffer))
    .update(ds.splits.join())
    .update(Buffer.from(ds.present.buffer, ds.present.byteOffset, ds.present.byteLength))
    .update(Buffer.from(ds.pixels.buffer, ds.pixels.byteOffset, ds.pixels.byteLength))
    .digest('hex')
    .slice(0, 12);
  const ctx: Context = { ds, dataKey: `${ds.manifest.name}/${ds.labels.length}/${dataHash}`, cache: resolve(flags.cache), epochs: flags.epochs ?? TRAIN_DEFAULTS.epochs, seed: flags.seed ?? TRAIN_DEFAULTS.seed, dropout: flags.dropout ?? TRAIN_DEFAULTS.deviceDropout, trainings: [] };
  const results = await runStudies(ctx, flags.threshold, flags.studies, flags.scalingFilters, flags.baseModel && resolve(flags.baseModel));
  const out = resolve(flags.out);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  for (const [file, svg] of charts(results)) await writeFile(join(out, file), svg);
  await writeFile(join(out, 'README.md'), markdown(results));
  log(`wrote ${out}`);
  if (flags.json) process.stdout.write(JSON.stringify(results) + '\n');
}

export type Results = Awaited<ReturnType<typeof runStudies>>;

async function runStudies(ctx: Context, T: number, studies: Study[], sf: number, baseModel?: string) {
  const views = Array.from({ length: ctx.ds.manifest.views }, (_, v) => v);
  const started = Date.now();
  // 1. threshold sweep on the default configuration (f=4, MP-CC)
  const defaultTopology = parseTopology({ devices: views });
  let base: DdnnModel;
  if (baseModel) {
    base = await loadCheckpoint(baseModel);
    if (JSON.stringify(base.topology) !== JSON.stringify(defaultTopology)) throw new Error(`--base-model ${baseModel} is not the default configuration (6 devices, f=4, MP-CC)`);
    log(`base model: ${baseModel} (${base.training.epochs} epochs)`);
  } else base = await trained(ctx, 'MP-CC-f4', { devices: views });
  const baseRun = await runModel(base, ctx.ds);
  const sweep = sweepThresholds(baseRun);
  const cloudOnly = metricsAt(baseRun, 0);
  const candidates = sweep.map((p) => metricsAt(baseRun, p.threshold));
  const bestAcc = Math.max(...candidates.map((m) => m.overall));
  const best = candidates.filter((m) => m.overall >= bestAcc - 1e-12).sort((a, b) => a.bytesPerSample - b.bytesPerSample)[0];
  const atT = metricsAt(baseRun, T);

  // 2. the nine aggregation schemes (f=4); MP-CC is the base model when that was trained as the report would
  // (training is deterministic, so retraining it would give the same weights)
  const t = base.training;
  const baseIsMpCc =
    !baseModel ||
    (t.epochs === ctx.epochs && t.seed === ctx.seed && t.deviceDropout === ctx.dropout && t.learningRate === TRAIN_DEFAULTS.learningRate && t.batchSize >= t.trainSamples && t.dataset === ctx.ds.manifest.name);
  const schemes: { scheme: string; metrics: EvalMetrics }[] = [];
  for (const local of studies.includes('schemes') ? AGGREGATORS : [])
    for (const cloud of AGGREGATORS) {
      const scheme = `${local}-${cloud}`;
      const model = scheme === 'MP-CC' && baseIsMpCc ? base : await trained(ctx, `${scheme}-f4`, { devices: views, local: { aggregator: local }, cloud: { aggregator: cloud } });
      schemes.push({ scheme, metrics: metricsAt(await runModel(model, ctx.ds), T) });
    }

  // 3. 1..6 devices (f=16 in the paper), weakest first; 4. each device failing at inference time (that f, all devices)
  let f16: { order: number[]; points: { devices: number[]; metrics: EvalMetrics }[]; all: EvalMetrics; failures: { failed: number; metrics: EvalMetrics }[] } | null = null;
  if (studies.includes('devices')) {
    const all16 = await trained(ctx, `MP-CC-f${sf}`, { devices: views, device: { filters: sf } });
    const all16Metrics = metricsAt(await runModel(all16, ctx.ds), T);
    const order = views.map((v, i) => ({ v, acc: all16Metrics.individual[i] ?? 0 })).sort((a, b) => a.acc - b.acc || a.v - b.v).map((x) => x.v);
    const points: { devices: number[]; metrics: EvalMetrics }[] = [];
    for (let n = 1; n <= views.length; n++) {
      const devices = order.slice(0, n).sort((a, b) => a - b);
      const model = n === views.length ? all16 : await trained(ctx, `MP-CC-f${sf}-n${n}`, { devices, device: { filters: sf } });
      points.push({ devices, metrics: n === views.length ? all16Metrics : metricsAt(await runModel(model, ctx.ds), T) });
    }
    const failures: { failed: number; metrics: EvalMetrics }[] = [];
    for (const v of views) failures.push({ failed: v, metrics: metricsAt(await runModel(all16, ctx.ds, { fail: [v] }), T) });
    f16 = { order, points, all: all16Metrics, failures };
  }
  const baseFailures: { failed: number; metrics: EvalMetrics }[] = [];
  for (const v of views) baseFailures.push({ failed: v, metrics: metricsAt(await runModel(base, ctx.ds, { fail: [v] }), T) });

  // 5. accuracy vs communication: 2 ConvP on devices (4 then f filters), ~70% local exit
  const filters: { f: number; threshold: number; metrics: EvalMetrics; bytesPerDevice: number }[] = [];
  for (const f of studies.includes('filters') ? [1, 2, 4, 8] : []) {
    const model = await trained(ctx, `MP-CC-2block-f${f}`, { devices: views, device: { filters: [4, f] } });
    const run = await runModel(model, ctx.ds);
    const threshold = thresholdForExitRate(run, 0.7);
    const metrics = metricsAt(run, threshold);
    filters.push({ f, threshold, metrics, bytesPerDevice: metrics.bytesPerSample / views.length });
  }

  return {
    generatedAt: new Date().toISOString(),
    command: `ddnn ${process.argv.slice(2).join(' ')}`,
    minutes: (Date.now() - started) / 60000,
    dataset: summarizeDataset(ctx.ds),
    epochs: ctx.epochs,
    seed: ctx.seed,
    dropout: ctx.dropout,
    threshold: T,
    trainings: ctx.trainings,
    base: { training: base.training, source: baseModel ?? 'trained by the report', atT, cloudOnly, best, sweep },
    schemes,
    studies,
    scalingFilters: sf,
    scaling: f16 && { order: f16.order, points: f16.points },
    failures: { f16: f16 && { all: f16.all, cases: f16.failures }, f4: { all: atT, cases: baseFailures } },
    filters,
  };
}

function charts(r: Results): [string, string][] {
  const scaling = r.scaling;
  const all: ([string, string] | null)[] = [
    [
      'threshold.svg',
      lineChart({
        title: 'Exit threshold T (f=4, MP-CC)',
        xLabel: 'threshold T',
        yLabel: 'percent',
        yRange: [0, 100],
        series: [
          { name: 'local exit %', points: r.base.sweep.map((p) => [p.threshold, 100 * p.localExitRate]) },
          { name: 'overall acc %', points: r.base.sweep.map((p) => [p.threshold, 100 * p.overall]) },
          { name: 'paper exit %', points: PAPER.threshold.map((p) => [p.t, 100 * p.exit]) },
          { name: 'paper acc %', points: PAPER.threshold.map((p) => [p.t, 100 * p.overall]) },
        ],
      }),
    ],
    r.schemes.length === 0
      ? null
      : [
      'schemes.svg',
      barChart({
        title: `Aggregation schemes (f=4, T=${r.threshold})`,
        yLabel: 'accuracy %',
        categories: r.schemes.map((s) => s.scheme),
        yRange: [50, 100],
        series: [
          { name: 'local', values: r.schemes.map((s) => 100 * s.metrics.local) },
          { name: 'cloud', values: r.schemes.map((s) => 100 * s.metrics.cloud) },
          { name: 'overall', values: r.schemes.map((s) => 100 * s.metrics.overall) },
        ],
      }),
    ],
    !scaling
      ? null
      : [
      'devices.svg',
      lineChart({
        title: `End devices, weakest first (f=${r.scalingFilters}, T=${r.threshold})`,
        xLabel: 'number of end devices',
        yLabel: 'accuracy %',
        yRange: [0, 100],
        series: [
          { name: 'local', points: scaling.points.map((p, i) => [i + 1, 100 * p.metrics.local]) },
          { name: 'cloud', points: scaling.points.map((p, i) => [i + 1, 100 * p.metrics.cloud]) },
          { name: 'overall', points: scaling.points.map((p, i) => [i + 1, 100 * p.metrics.overall]) },
          { name: 'paper overall', points: PAPER.devices.overall.map((v, i) => [i + 1, 100 * v]) },
        ],
      }),
    ],
    r.filters.length === 0
      ? null
      : [
      'communication.svg',
      lineChart({
        title: 'Accuracy vs communication (2 ConvP, ~70% local exit)',
        xLabel: 'bytes per device per sample',
        yLabel: 'overall accuracy %',
        series: [
          { name: 'ours (f=1,2,4,8)', points: r.filters.map((p) => [p.bytesPerDevice, 100 * p.metrics.overall]) },
          { name: 'paper', points: PAPER.filters.map((p) => [p.bytes, 100 * p.overall]) },
        ],
        yRange: [80, 100],
      }),
    ],
  ];
  return all.filter((c): c is [string, string] => c !== null);
}
