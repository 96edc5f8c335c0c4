import { abbreviateList, sameClasses, type MultiViewDataset, type Split } from '@ddnn/datasets';
import { encodeCheckpoint } from '../checkpoint/checkpoint';
import { argmax, normalizedEntropy } from '../entropy';
import { openSections } from '../inference/sections';
import type { DdnnModel } from '../model/model';
import { topologyShapes, type MapShape } from '../model/topology';
import { checkInferenceMemory, inferenceBatchLimit } from '../train/memory-check';
import { gatherView, splitIndices } from '../train/batches';
import { ensureBackend } from '../backend';

/** Every exit's output for every sample of a split, computed once so that any threshold can be scored cheaply. */
export interface EvalRun {
  labels: Int32Array;
  classes: number;
  devices: number[];
  failed: number[];
  /**
   * Per device (topology order): predicted class per sample (-1 where its camera captured nothing, so it sent
   * nothing), or null for a failed device.
   */
  devicePredictions: (Int32Array | null)[];
  /** Per sample: how many devices sent messages (live, and their camera captured the sample). */
  senders: Uint8Array;
  local: Float32Array[];
  /** 3-tier only: mean of the edges' softmax per sample. */
  edge: Float32Array[] | null;
  cloud: Float32Array[];
  /** Bytes of one device's binary feature message. */
  featureBytes: number;
  /** Bytes of one device's score message (|C| float32). */
  scoreBytes: number;
  /**
   * Raw offload, the baseline: per sample, the bytes of every live device's captured image at its native size
   * (width x height x channels as stored; a view the camera did not capture sends nothing). Datasets built in
   * memory, without stored images, count H*W*C per captured view of a live device.
   */
  rawBytes: Float64Array;
}

export interface EvalOptions {
  split?: Split;
  /** Views of devices treated as dead at inference time: they send nothing (as for a view never captured). */
  fail?: number[];
  batchSize?: number;
}

/** Runs every section of the model over a split, the way the distributed system would (section by section). */
export async function runModel(model: DdnnModel, ds: MultiViewDataset, options: EvalOptions = {}): Promise<EvalRun> {
  const t = model.topology;
  const m = ds.manifest;
  const input: MapShape = [m.height, m.width, m.channels];
  if (input.join() !== model.architecture.input.join()) throw new Error(`the dataset's views are ${input.join('x')} but the model expects ${model.architecture.input.join('x')}`);
  if (!sameClasses(m.classes, model.classes)) throw new Error(`the dataset's classes (${m.classes.length}: ${abbreviateList(m.classes)}) differ from the model's (${model.classes.length}: ${abbreviateList(model.classes)})`);
  const failed = options.fail ?? [];
  for (const f of failed) if (!t.devices.includes(f)) throw new Error(`--fail names device ${f}, but the model's devices are ${t.devices.join(',')}`);
  const shapes = topologyShapes(t, input, m.classes.length);
  const indices = splitIndices(ds, options.split ?? 'test');
  if (indices.length === 0) throw new Error(`the dataset has no ${options.split ?? 'test'} samples`);
  const backend = await ensureBackend();
  // Without a batch asked for, the default is cut down to what the backend holds (large images); one asked for is checked.
  const batchSize = options.batchSize ?? Math.max(1, Math.min(256, inferenceBatchLimit(t, { height: m.height, width: m.width, channels: m.channels }, backend)));
  checkInferenceMemory(t, { height: m.height, width: m.width, channels: m.channels, batchSize: Math.min(batchSize, indices.length) }, backend);
  const sections = await openSections(encodeCheckpoint(model).manifest, model.sections);
  const labels = Int32Array.from(indices, (n) => ds.labels[n]);
  const devicePredictions = t.devices.map((v) => (failed.includes(v) ? null : new Int32Array(indices.length)));
  const senders = new Uint8Array(indices.length);
  const local: Float32Array[] = [];
  const cloud: Float32Array[] = [];
  const edge: Float32Array[] | null = t.edges.length ? [] : null;
  try {
    for (let start = 0; start < indices.length; start += batchSize) {
      const chunk = indices.slice(start, start + batchSize);
      const scores: (Float32Array | null)[][] = chunk.map(() => []);
      const features: (Uint8Array | null)[][] = chunk.map(() => []);
      t.devices.forEach((v, d) => {
        // A view the camera did not capture is a skipped capture at the device: it sends nothing, as a dead one.
        const captured = failed.includes(v) ? [] : chunk.filter((n) => ds.present[n * m.views + v]);
        const section = sections.devices.get(v);
        if (!section) throw new Error(`model has no section for device ${v}`);
        const out = captured.length ? section.inferBatch(gatherView(ds, captured, v), captured.length) : null;
        let k = 0;
        chunk.forEach((n, i) => {
          const sent = out !== null && ds.present[n * m.views + v] === 1;
          scores[i].push(sent ? out.scores[k] : null);
          features[i].push(sent ? out.features[k] : null);
          if (sent) senders[start + i]++;
          const pred = devicePredictions[d];
          if (pred) pred[start + i] = sent ? argmax(out.scores[k]) : -1;
          if (sent) k++;
        });
      });
      scores.forEach((s) => local.push(sections.localAggregator(s)));
      let cloudInputs = features;
      if (edge) {
        const edgeOut = t.edges.map((e) => sections.edges.get(e.name)!.inferBatch(features.map((f) => e.devices.map((d) => f[t.devices.indexOf(d)]))));
        cloudInputs = chunk.map((_, i) => edgeOut.map((o) => o.features[i]));
        chunk.forEach((_, i) => {
          const mean = new Float32Array(m.classes.length);
          for (const o of edgeOut) {
            const p = softmaxOf(o.scores[i]);
            for (let c = 0; c < mean.length; c++) mean[c] += p[c] / edgeOut.length;
          }
          edge.push(mean);
        });
      }
      cloud.push(...sections.cloud.inferBatch(cloudInputs));
    }
  } finally {
    sections.dispose();
  }
  const [fh, fw, ff] = shapes.deviceFeatures;
  const live = t.devices.filter((v) => !failed.includes(v));
  const rawBytes = Float64Array.from(indices, (n) =>
    live.reduce((sum, v) => sum + (ds.nativeBytes ? ds.nativeBytes[n * m.views + v] : ds.present[n * m.views + v] * m.height * m.width * m.channels), 0),
  );
  return {
    labels,
    classes: m.classes.length,
    devices: t.devices,
    failed,
    devicePredictions,
    senders,
    local,
    edge,
    cloud,
    featureBytes: Math.ceil((fh * fw * ff) / 8),
    scoreBytes: 4 * m.classes.length,
    rawBytes,
  };
}

function softmaxOf(s: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of s) max = Math.max(max, v);
  const e = Array.from(s, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return Float32Array.from(e, (v) => v / sum);
}

/** The figures `ddnn eval --json` prints for one threshold. */
export interface EvalMetrics {
  threshold: number;
  samples: number;
  overall: number;
  local: number;
  cloud: number;
  /** 3-tier only: accuracy of the edge exit (mean of the edges' softmax). */
  edge?: number;
  individual: (number | null)[];
  /** Per device: test samples its camera captured and sent for (0 for a failed device): with 0 its accuracy means nothing. */
  individualSamples: number[];
  /**
   * Share of samples no device sent anything for (every camera that captured them dead): no exit has anything to
   * answer from, so they count as wrong at every exit. The live system logs them unanswered (SampleUnanswered) and
   * counts them apart, outside the accuracy on labelled samples.
   */
  unanswered: number;
  localExitRate: number;
  edgeExitRate?: number;
  bytesPerSample: number;
  rawBytesPerSample: number;
  commReduction: number;
}

/** An exit's accuracy if it answered every sample; a sample nobody sent anything for is wrong (it has no answer). */
function accuracyOf(probs: Float32Array[], run: EvalRun): number {
  let hit = 0;
  probs.forEach((p, i) => (hit += run.senders[i] > 0 && argmax(p) === run.labels[i] ? 1 : 0));
  return hit / run.labels.length;
}

/**
 * Scores a run at threshold T: a sample exits locally iff eta(local) < T, else (3-tier) at the edge iff
 * eta(edge) < T, else in the cloud; a sample no device sent anything for is unanswered (wrong, no exit, no bytes). Bytes count the messages of every device that sent for a sample (live, and its
 * camera captured it): |C| float32 scores always, the bit-packed features only when the sample does not exit
 * locally. A device's individual accuracy is over every sample, one its camera did not capture counting as
 * wrong (it answered nothing), as a device alone would score.
 */
export function metricsAt(run: EvalRun, threshold: number): EvalMetrics {
  const n = run.labels.length;
  let hit = 0;
  let localExits = 0;
  let edgeExits = 0;
  let bytes = 0;
  let unanswered = 0;
  for (let i = 0; i < n; i++) {
    let p: Float32Array;
    if (run.senders[i] === 0) {
      // The exits would answer from their biases alone, whatever the sample: no answer (SampleUnanswered live).
      unanswered++;
      continue;
    }
    bytes += run.senders[i] * run.scoreBytes;
    if (normalizedEntropy(run.local[i]) < threshold) {
      p = run.local[i];
      localExits++;
    } else if (run.edge && normalizedEntropy(run.edge[i]) < threshold) {
      p = run.edge[i];
      edgeExits++;
    } else p = run.cloud[i];
    if (p !== run.local[i]) bytes += run.senders[i] * run.featureBytes;
    if (argmax(p) === run.labels[i]) hit++;
  }
  const localExitRate = localExits / n;
  const bytesPerSample = bytes / n;
  const rawBytesPerSample = run.rawBytes.reduce((a, b) => a + b, 0) / n;
  const individual = run.devicePredictions.map((pred) => {
    if (!pred) return null;
    let h = 0;
    pred.forEach((c, i) => (h += c === run.labels[i] ? 1 : 0));
    return h / n;
  });
  return {
    threshold,
    samples: n,
    overall: hit / n,
    local: accuracyOf(run.local, run),
    cloud: accuracyOf(run.cloud, run),
    ...(run.edge ? { edge: accuracyOf(run.edge, run), edgeExitRate: edgeExits / n } : {}),
    individual,
    individualSamples: run.devicePredictions.map((pred) => (pred ? pred.reduce((k, c) => k + (c >= 0 ? 1 : 0), 0) : 0)),
    unanswered: unanswered / n,
    localExitRate,
    bytesPerSample,
    rawBytesPerSample,
    commReduction: bytesPerSample > 0 ? rawBytesPerSample / bytesPerSample : 0,
  };
}

/** Thresholds 0, step, ..., 1 (rounded to avoid float drift). */
export function thresholdGrid(step = 0.05): number[] {
  const out: number[] = [];
  for (let k = 0; k * step <= 1 + 1e-9; k++) out.push(Math.round(k * step * 1e6) / 1e6);
  return out;
}

/** Local exit rate, overall accuracy and bytes per sample at every threshold of the grid. */
export function sweepThresholds(run: EvalRun, step = 0.05): { threshold: number; localExitRate: number; overall: number; bytesPerSample: number }[] {
  return thresholdGrid(step).map((t) => {
    const m = metricsAt(run, t);
    return { threshold: t, localExitRate: m.localExitRate, overall: m.overall, bytesPerSample: m.bytesPerSample };
  });
}
