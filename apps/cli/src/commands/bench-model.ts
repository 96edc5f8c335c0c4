import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset, viewPixels, writeSynthDataset, type MultiViewDataset } from '@ddnn/datasets';
import {
  createBinaryDeviceSection,
  createBinaryUpperSection,
  deviceMemoryFootprint,
  encodeCheckpoint,
  initBackend,
  loadCheckpoint,
  openSections,
  parseTopology,
  recommendedTopology,
  softmax,
  toSectionWeights,
  trainDdnn,
  type BinaryDeviceSection,
  type BinaryUpperSection,
  type DdnnModel,
  type ModelSections,
} from '@ddnn/ddnn';
import { sectionName } from '@ddnn/contracts';
import { log } from '../log';

interface EpochFigures {
  secondsPerEpoch: number;
  firstEpochSeconds: number;
  /** The whole run's CPU s over its epochs (first epoch included, as the checkpoint records it). */
  cpuSecondsPerEpoch: number;
  /** CPU s of an epoch after the first (its one-off setup apart), as secondsPerEpoch is wall s. */
  steadyCpuSecondsPerEpoch: number;
  batchSize: number;
}
/** `concatCloud`: the defaults' topology with the cloud's shared block replaced by a CC of the raw maps (the previous default), to price the shared block. */
type TrainingFigures = { epochs: number; paper: EpochFigures; default: EpochFigures; concatCloud: EpochFigures };

/** The value under `key`, or an error naming what is missing. */
function need<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const v = map.get(key);
  if (v === undefined) throw new Error(`missing ${String(key)}`);
  return v;
}

export interface BenchModelFlags {
  data?: string;
  model?: string;
  epochs: number;
  samples: number;
  seconds: number;
  json?: boolean;
}


/** The action of `ddnn bench model` (registered in ./bench). */
export async function runBenchModelCommand(flags: BenchModelFlags): Promise<void> {
  const result = await benchModel(flags);
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(formatResult(result));
}

/**
 * samples/s of each pass (one pass = `samples` samples), measured interleaved (A, B, C, A, B, C, ...)
 * after one warm-up pass each until every pass has run for `seconds`, so that a busy machine's load
 * drifts over all of them alike. `cpu` divides by the process's CPU time instead of wall time (tfjs-wasm
 * runs single-threaded in Node), which other processes' load disturbs far less.
 */
function rates(samples: number, seconds: number, passes: (() => void)[]): { wall: number[]; cpu: number[] } {
  passes.forEach((pass) => pass());
  const wall = passes.map(() => 0);
  const cpu = passes.map(() => 0);
  const done = passes.map(() => 0);
  while (Math.min(...wall) < seconds) {
    passes.forEach((pass, i) => {
      const start = process.hrtime.bigint();
      const cpuStart = process.cpuUsage();
      pass();
      const used = process.cpuUsage(cpuStart);
      wall[i] += Number(process.hrtime.bigint() - start) / 1e9;
      cpu[i] += (used.user + used.system) / 1e6;
      done[i] += samples;
    });
  }
  return { wall: done.map((d, i) => d / wall[i]), cpu: done.map((d, i) => d / cpu[i]) };
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function datasetFor(flags: BenchModelFlags): Promise<{ ds: MultiViewDataset; cleanup: () => Promise<void> }> {
  if (flags.data) return { ds: await loadDataset(resolve(flags.data)), cleanup: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'ddnn-bench-'));
  log(`synthesizing the default dataset into ${dir} ...`);
  await writeSynthDataset(join(dir, 'data'));
  return { ds: await loadDataset(join(dir, 'data')), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function sameBits(a: Float32Array | Uint8Array, b: Float32Array | Uint8Array): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

async function benchModel(flags: BenchModelFlags) {
  const backend = await initBackend('wasm');
  if (flags.epochs === 0 && !flags.model) throw new Error('--epochs 0 needs --model (there is nothing to run inference with)');
  const { ds, cleanup } = await datasetFor(flags);
  try {
    let training: TrainingFigures | null = null;
    let model: DdnnModel | undefined;
    if (flags.epochs > 0) {
      // Before and after in the same run: the paper's all-binary model and recipe, then this version's defaults
      // (float cloud, recipe from the data), epochs interleaved per run so that the machine's load hits both alike.
      const views = Array.from({ length: ds.manifest.views }, (_, i) => i);
      const recommended = parseTopology(recommendedTopology(ds.manifest.views, ds.manifest.classes.length));
      const c = recommended.cloud;
      const runs = [
        { name: 'paper', topology: parseTopology({ devices: views.slice(0, 6) }), options: { paper: true } },
        { name: 'concatCloud', topology: { ...recommended, cloud: { ...c, shared: [], aggregator: 'CC' as const, filters: [...c.shared, ...c.filters] } }, options: { patience: 0 } },
        { name: 'default', topology: recommended, options: { patience: 0 } },
      ];
      const figures: Record<string, EpochFigures> = {};
      for (const r of runs) {
        log(`training ${flags.epochs} epoch(s) of the ${r.name} DDNN on ${backend} ...`);
        const seconds: number[] = [];
        const cpuSeconds: number[] = [];
        let cpuMark = process.cpuUsage();
        const trained = await trainDdnn(ds, r.topology, {
          ...r.options,
          epochs: flags.epochs,
          onEpoch: (e) => {
            const used = process.cpuUsage(cpuMark);
            cpuMark = process.cpuUsage();
            seconds.push(e.seconds);
            cpuSeconds.push((used.user + used.system) / 1e6);
            log(`${r.name} epoch ${e.epoch}/${e.epochs}: ${e.seconds.toFixed(2)} s, ${cpuSeconds[cpuSeconds.length - 1].toFixed(2)} CPU s`);
          },
        });
        // The first epoch includes one-off setup (kernel compilation, batch preparation).
        const steadyMean = (xs: number[]) => {
          const steady = xs.length > 1 ? xs.slice(1) : xs;
          return round(steady.reduce((a, b) => a + b, 0) / steady.length, 2);
        };
        figures[r.name] = {
          secondsPerEpoch: steadyMean(seconds),
          firstEpochSeconds: round(seconds[0], 2),
          cpuSecondsPerEpoch: round(trained.training.cpuSecondsPerEpoch ?? 0, 2),
          steadyCpuSecondsPerEpoch: steadyMean(cpuSeconds),
          batchSize: trained.training.batchSize,
        };
        model = trained;
      }
      training = { epochs: flags.epochs, paper: figures['paper'], default: figures['default'], concatCloud: figures['concatCloud'] };
    }
    if (flags.model) model = await loadCheckpoint(resolve(flags.model));
    if (!model) throw new Error('no model to run inference with');
    return await benchInference(model, ds, flags, backend, training, flags.model ? resolve(flags.model) : `trained here for ${flags.epochs} epoch(s)`);
  } finally {
    await cleanup();
  }
}

async function benchInference(
  model: DdnnModel,
  ds: MultiViewDataset,
  flags: BenchModelFlags,
  backend: string,
  training: TrainingFigures | null,
  modelSource: string,
) {
  const { manifest } = encodeCheckpoint(model);
  const sections: ModelSections = await openSections(manifest, model.sections);
  const t = model.topology;
  const [h, w, c] = model.architecture.input;
  const classes = model.classes.length;
  const testIdx = ds.splits.map((s, i) => (s === 'test' ? i : -1)).filter((i) => i >= 0);
  const picked = Array.from({ length: flags.samples }, (_, k) => testIdx[k % testIdx.length]);
  const n = picked.length;
  const views = t.devices.map((v) => picked.map((s) => Float32Array.from(viewPixels(ds, s, v))));
  const firstDevice = need(sections.devices, t.devices[0]);

  const binaryDevices = new Map<number, BinaryDeviceSection>(
    t.devices.map((v) => [v, createBinaryDeviceSection(toSectionWeights(need(model.sections, sectionName.device(v))), { height: h, width: w, channels: c, blocks: t.device.filters.length, classes })]),
  );
  // The bit-packed cloud covers the 2-tier binary CC/MP cloud without shared blocks (the paper's); otherwise the
  // whole-DDNN figure uses the tfjs cloud.
  let binaryCloud: BinaryUpperSection | null = null;
  if (t.edges.length === 0 && t.cloud.aggregator !== 'AP' && t.cloud.precision === 'binary' && t.cloud.hidden.length === 0 && t.cloud.shared.length === 0) {
    binaryCloud = createBinaryUpperSection(toSectionWeights(need(model.sections, 'cloud')), {
      inputShape: firstDevice.featureShape,
      inputs: t.devices.length,
      aggregator: t.cloud.aggregator,
      blocks: t.cloud.filters.length,
      poolStride: t.cloud.poolStride,
      classes,
    });
  }

  const tfDevices = t.devices.map((v) => need(sections.devices, v));
  const binDevices = t.devices.map((v) => need(binaryDevices, v));

  // Bit-exactness on the benchmark's own samples: the same scores and feature bytes as the tfjs path.
  let mismatches = 0;
  for (let d = 0; d < t.devices.length; d++) {
    for (let i = 0; i < n; i++) {
      const a = tfDevices[d].infer(views[d][i]);
      const b = binDevices[d].infer(views[d][i]);
      if (!sameBits(a.scores, b.scores) || !sameBits(a.features, b.features)) mismatches++;
    }
  }
  let cloudMismatches = 0;
  if (binaryCloud) {
    for (let i = 0; i < n; i++) {
      const feats = binDevices.map((dev, d) => dev.infer(views[d][i]).features);
      const a = sections.cloud.infer(feats);
      const b = softmax(binaryCloud.infer(feats).scores);
      if (!sameBits(a, b)) cloudMismatches++;
    }
  }

  log(`measuring device section (${n} views, >= ${flags.seconds} s per figure) ...`);
  const d0 = views[0];
  const stacked = new Float32Array(n * h * w * c);
  d0.forEach((x, i) => stacked.set(x, i * x.length));
  const bin0 = binDevices[0];
  const deviceRates = rates(n, flags.seconds, [
    () => d0.forEach((x) => firstDevice.infer(x)),
    () => firstDevice.inferBatch(stacked, n),
    () => d0.forEach((x) => bin0.infer(x)),
  ]);
  const [deviceTfjs1, deviceTfjsBatch, deviceBinary] = deviceRates.wall;

  // The cloud section alone, on the devices' real feature messages.
  const messages = Array.from({ length: n }, (_, i) => binDevices.map((dev, d) => dev.infer(views[d][i]).features));
  log('measuring the cloud section ...');
  const packedCloud = binaryCloud;
  const cloudPasses = [() => messages.forEach((m) => sections.cloud.infer(m)), () => sections.cloud.inferBatch(messages)];
  if (packedCloud) cloudPasses.push(() => messages.forEach((m) => packedCloud.infer(m)));
  const cloudRates = rates(n, flags.seconds, cloudPasses);
  const [cloudTfjs1, cloudTfjsBatch, cloudBinaryRate] = cloudRates.wall;
  const cloudBinary = packedCloud ? cloudBinaryRate : null;
  const cloud = {
    tfjsBatch1: round(cloudTfjs1),
    tfjsBatched: round(cloudTfjsBatch),
    bitPacked: cloudBinary === null ? null : round(cloudBinary),
    perCpuSecond: cpuFigures(cloudRates.cpu),
  };

  log('measuring the whole DDNN (every tier for every sample: T = 0, the worst case) ...');
  const stackedAll = t.devices.map((_, d) => {
    const s = new Float32Array(n * h * w * c);
    views[d].forEach((x, i) => s.set(x, i * x.length));
    return s;
  });
  const wholeRates = rates(n, flags.seconds, [
    () => {
      for (let i = 0; i < n; i++) {
        const outs = tfDevices.map((dev, d) => dev.infer(views[d][i]));
        sections.localAggregator(outs.map((o) => o.scores));
        sections.cloud.infer(outs.map((o) => o.features));
      }
    },
    () => {
      const outs = tfDevices.map((dev, d) => dev.inferBatch(stackedAll[d], n));
      for (let i = 0; i < n; i++) sections.localAggregator(outs.map((o) => o.scores[i]));
      sections.cloud.inferBatch(Array.from({ length: n }, (_, i) => outs.map((o) => o.features[i])));
    },
    () => {
      for (let i = 0; i < n; i++) {
        const outs = binDevices.map((dev, d) => dev.infer(views[d][i]));
        sections.localAggregator(outs.map((o) => o.scores));
        const feats = outs.map((o) => o.features);
        if (binaryCloud) softmax(binaryCloud.infer(feats).scores);
        else sections.cloud.infer(feats);
      }
    },
  ]);
  const [wholeTfjs1, wholeTfjsBatch, wholeBinary] = wholeRates.wall;
  sections.dispose();

  return {
    backend,
    model: modelSource,
    scheme: `${t.local.aggregator}-${t.cloud.aggregator}`,
    devices: t.devices.length,
    deviceFilters: t.device.filters,
    samples: n,
    training,
    deviceMemory: (() => {
      const m = deviceMemoryFootprint({ height: h, width: w, channels: c, filters: t.device.filters, classes });
      return { modelAndActivationBytes: m.modelAndActivationBytes, binaryWeightBytes: m.binaryWeightBytes, batchNormBytes: m.batchNormBytes, featureBytes: m.featureBytes, kernelBufferBytes: m.kernelBufferBytes };
    })(),
    device: {
      tfjsBatch1: round(deviceTfjs1),
      tfjsBatched: round(deviceTfjsBatch),
      batchSize: n,
      bitPacked: round(deviceBinary),
      speedupVsBatch1: round(deviceBinary / deviceTfjs1, 2),
      speedupVsBatched: round(deviceBinary / deviceTfjsBatch, 2),
      bitExact: mismatches === 0,
      mismatchedOutputs: mismatches,
      checkedOutputs: n * t.devices.length,
      perCpuSecond: cpuFigures(deviceRates.cpu),
    },
    cloud,
    ddnn: {
      tfjsBatch1: round(wholeTfjs1),
      tfjsBatched: round(wholeTfjsBatch),
      bitPacked: round(wholeBinary),
      bitPackedCloud: binaryCloud !== null,
      speedupVsBatch1: round(wholeBinary / wholeTfjs1, 2),
      speedupVsBatched: round(wholeBinary / wholeTfjsBatch, 2),
      cloudMismatches,
      perCpuSecond: cpuFigures(wholeRates.cpu),
    },
  };
}

/** samples per CPU second of the three compared paths (bit-packed absent when not measured). */
function cpuFigures([tfjsBatch1, tfjsBatched, bitPacked]: number[]) {
  return { tfjsBatch1: round(tfjsBatch1), tfjsBatched: round(tfjsBatched), bitPacked: bitPacked === undefined ? null : round(bitPacked) };
}

type BenchModelResult = Awaited<ReturnType<typeof benchModel>>;

function formatResult(r: BenchModelResult): string {
  const cpu = (f: { tfjsBatch1: number; tfjsBatched: number; bitPacked: number | null }) =>
    `  per CPU second: tfjs-wasm batch 1 ${f.tfjsBatch1}, batched ${f.tfjsBatched}, bit-packed ${f.bitPacked ?? 'n/a'}`;
  const lines = [
    `model: ${r.model} (${r.scheme}, ${r.devices} devices, f=${r.deviceFilters.join(',')}), backend ${r.backend}, ${r.samples} test views`,
    r.training
      ? `training s/epoch (${r.training.epochs} epochs each, first epoch apart; CPU s with it in brackets): paper model and recipe ${r.training.paper.secondsPerEpoch} s, ` +
        `${r.training.paper.steadyCpuSecondsPerEpoch} CPU s (${r.training.paper.cpuSecondsPerEpoch}), batch ${r.training.paper.batchSize}; ` +
        `default model and recipe ${r.training.default.secondsPerEpoch} s, ${r.training.default.steadyCpuSecondsPerEpoch} CPU s (${r.training.default.cpuSecondsPerEpoch}), batch ${r.training.default.batchSize}; ` +
        `the same with a CC cloud instead of the shared block ${r.training.concatCloud.secondsPerEpoch} s, ${r.training.concatCloud.steadyCpuSecondsPerEpoch} CPU s (${r.training.concatCloud.cpuSecondsPerEpoch})`
      : 'training: skipped',
    `device section, samples/s: tfjs-wasm batch 1 ${r.device.tfjsBatch1}, tfjs-wasm batch ${r.device.batchSize} ${r.device.tfjsBatched}, bit-packed ${r.device.bitPacked} ` +
      `(x${r.device.speedupVsBatch1} vs batch 1, x${r.device.speedupVsBatched} vs batched); bit-exact: ${r.device.bitExact} (${r.device.checkedOutputs - r.device.mismatchedOutputs}/${r.device.checkedOutputs})`,
    cpu(r.device.perCpuSecond),
    `device memory: ${r.deviceMemory.binaryWeightBytes} B binary weights + ${r.deviceMemory.batchNormBytes} B BatchNorm + ${r.deviceMemory.featureBytes} B packed map = ${r.deviceMemory.modelAndActivationBytes} B; kernel buffers ${r.deviceMemory.kernelBufferBytes} B`,
    `cloud section, samples/s: tfjs-wasm batch 1 ${r.cloud.tfjsBatch1}, batched ${r.cloud.tfjsBatched}, bit-packed ${r.cloud.bitPacked ?? 'n/a (AP or 3-tier)'}`,
    cpu(r.cloud.perCpuSecond),
    `whole DDNN, samples/s: tfjs-wasm batch 1 ${r.ddnn.tfjsBatch1}, batched ${r.ddnn.tfjsBatched}, bit-packed ${r.ddnn.bitPacked}${r.ddnn.bitPackedCloud ? '' : ' (tfjs cloud)'} ` +
      `(x${r.ddnn.speedupVsBatch1} vs batch 1, x${r.ddnn.speedupVsBatched} vs batched); cloud mismatches ${r.ddnn.cloudMismatches}`,
    cpu(r.ddnn.perCpuSecond),
  ];
  return `${lines.join('\n')}\n`;
}
