import { DatasetWriter } from '../format/write';
import type { Raster } from '../image/raster';
import { Rng } from '../prng';
import type { DatasetManifest, Split } from '../types';
import { CAMERAS, CROP_SIZE, DEFAULT_SAMPLES, RICH_CLASSES, RICH_CROP_SIZE, RICH_SAMPLES, SYNTH_CLASSES, TRAIN_FRACTION, type SynthMode } from './cameras';
import { renderView } from './render';
import { sampleScene } from './scene';

/** Settings of the synthetic multi-camera dataset. */
export interface SynthOptions {
  samples?: number;
  views?: number;
  seed?: number;
  /** `rich`: the second benchmark (10 classes, 24x24, 1,500 samples by default); see RICH_CLASSES. */
  mode?: SynthMode;
}

/** One rendered sample. */
export interface SynthSample {
  id: string;
  split: Split;
  label: number;
  views: (Raster | null)[];
}

function resolve(options: SynthOptions): Required<SynthOptions> {
  const mode = options.mode ?? 'default';
  if (mode !== 'default' && mode !== 'rich') throw new Error(`mode must be default or rich, got ${String(mode)}`);
  const samples = options.samples ?? (mode === 'rich' ? RICH_SAMPLES : DEFAULT_SAMPLES);
  const views = options.views ?? CAMERAS.length;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(samples) || samples < 2) throw new Error(`samples must be an integer >= 2, got ${samples}`);
  if (!Number.isInteger(views) || views < 1 || views > CAMERAS.length) throw new Error(`views must be 1..${CAMERAS.length}, got ${views}`);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  return { samples, views, seed, mode };
}

/** The manifest of a synthetic dataset. */
export function synthManifest(options: SynthOptions = {}): DatasetManifest {
  const { views, seed, mode } = resolve(options);
  if (mode === 'rich') return { name: `synthetic-multicam-rich-seed${seed}`, classes: RICH_CLASSES.map((c) => c.name), views, height: RICH_CROP_SIZE, width: RICH_CROP_SIZE, channels: 3 };
  return { name: `synthetic-multicam-seed${seed}`, classes: [...SYNTH_CLASSES], views, height: CROP_SIZE, width: CROP_SIZE, channels: 3 };
}

/** Train/test split of the samples: a seeded permutation, MVMC's 680/851 of it for training. */
export function synthSplits(samples: number, seed: number): Split[] {
  const order = new Rng(seed, -1).shuffle(Array.from({ length: samples }, (_, i) => i));
  const train = Math.min(samples - 1, Math.max(1, Math.round(samples * TRAIN_FRACTION)));
  const splits: Split[] = new Array(samples);
  order.forEach((sample, rank) => (splits[sample] = rank < train ? 'train' : 'test'));
  return splits;
}

/** Renders the synthetic samples one by one (deterministic for the seed). */
export function* synthSamples(options: SynthOptions = {}): Generator<SynthSample> {
  const { samples, views, seed, mode } = resolve(options);
  const size = mode === 'rich' ? RICH_CROP_SIZE : CROP_SIZE;
  const splits = synthSplits(samples, seed);
  const digits = Math.max(5, String(samples - 1).length);
  for (let i = 0; i < samples; i++) {
    const scene = sampleScene(seed, i, views, mode);
    const images = scene.views.map((plan, v) => (plan ? renderView(scene, plan, new Rng(seed, i, 1000 + v), size) : null));
    yield { id: `s${String(i).padStart(digits, '0')}`, split: splits[i], label: scene.label, views: images };
  }
}

/** Generates the synthetic dataset into a folder. */
export async function writeSynthDataset(
  dir: string,
  options: SynthOptions & { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<DatasetManifest> {
  const resolved = resolve(options);
  const manifest = synthManifest(resolved);
  const writer = await DatasetWriter.create(dir, manifest, { overwrite: options.overwrite });
  let done = 0;
  for (const s of synthSamples(resolved)) {
    await writer.add(s.id, s.split, s.label, s.views);
    done++;
    if (options.onProgress && (done % 50 === 0 || done === resolved.samples)) options.onProgress(done, resolved.samples);
  }
  await writer.finish();
  return manifest;
}
