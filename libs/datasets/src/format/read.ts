import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DatasetFormatError } from '../errors';
import { decodeImage, nativeImageBytes } from '../image/raster';
import type { DatasetManifest, MultiViewDataset, SingleViewDataset, Split } from '../types';
import { viewSize } from '../types';
import { parseLabels, type LabelRow } from './labels';
import { parseManifestText } from './manifest';
import { readRegularFile, readRegularFileSync } from './files';
import { datasetPaths, VIEW_FILE } from './paths';
import { storeView } from './pixels';

/** Options for the loaders. */
export interface LoadOptions {
  /** Called now and then with samples done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Runs fn for every sample, yielding to the event loop now and then so a server stays responsive. */
async function forEachSample(n: number, options: LoadOptions, fn: (i: number) => void): Promise<void> {
  for (let i = 0; i < n; i++) {
    fn(i);
    if ((i + 1) % 256 === 0 || i + 1 === n) {
      options.onProgress?.(i + 1, n);
      await yieldToEventLoop();
    }
  }
}

/** A dataset folder's manifest and labels, validated, without any image. */
export interface DatasetHeader {
  manifest: DatasetManifest;
  rows: LabelRow[];
}

// Sample ids cannot start with a dot, so dot files (.DS_Store and the like) are never part of a dataset.
function isHidden(name: string): boolean {
  return name.startsWith('.');
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** manifest.json and labels.csv at most (a labels file of a million samples is some 40 MB). */
const MAX_TEXT_BYTES = 256 * 1024 * 1024;
/** A view image at most: far above any camera's PNG; decodeImage then checks the pixels it declares. */
export const MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024;

async function readText(path: string, what: string): Promise<string> {
  try {
    return (await readRegularFile(path, MAX_TEXT_BYTES)).toString('utf8');
  } catch (err) {
    if (isMissing(err)) throw new DatasetFormatError(path, `missing ${what}`);
    throw new DatasetFormatError(path, `cannot read ${what} (${(err as Error).message})`);
  }
}

/** Reads and validates manifest.json and labels.csv. */
export async function readDatasetHeader(dir: string): Promise<DatasetHeader> {
  const manifestPath = datasetPaths.manifest(dir);
  const manifest = parseManifestText(await readText(manifestPath, 'manifest'), manifestPath);
  const labelsPath = datasetPaths.labels(dir);
  const rows = parseLabels(await readText(labelsPath, 'labels file'), manifest, labelsPath);
  return { manifest, rows };
}

function emptyArrays(rows: LabelRow[]): { sampleIds: string[]; splits: Split[]; labels: Int32Array } {
  return {
    sampleIds: rows.map((r) => r.sample),
    splits: rows.map((r) => r.split),
    labels: Int32Array.from(rows, (r) => r.label),
  };
}

// Images are read synchronously: for many small files each asynchronous read costs four thread-pool
// round trips (open, stat, read, close), which made loading 60,000 views ~4x slower on a busy machine.
function decodeInto(path: string, manifest: DatasetManifest, target: Float32Array, offset: number): number {
  let buf: Buffer;
  try {
    buf = readRegularFileSync(path, MAX_IMAGE_FILE_BYTES);
  } catch (err) {
    throw new DatasetFormatError(path, `unreadable image (${(err as Error).message})`);
  }
  let img;
  try {
    img = decodeImage(buf);
  } catch (err) {
    throw new DatasetFormatError(path, `unreadable image (${(err as Error).message})`);
  }
  storeView(img, manifest, target, offset);
  return nativeImageBytes(buf);
}

/** Checks that samples/ holds exactly one folder per labelled sample. */
async function checkSampleFolders(dir: string, rows: LabelRow[]): Promise<void> {
  const samplesDir = datasetPaths.samples(dir);
  let entries;
  try {
    entries = await readdir(samplesDir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) throw new DatasetFormatError(samplesDir, 'missing samples folder');
    throw err;
  }
  const labelled = new Set(rows.map((r) => r.sample));
  for (const entry of entries) {
    if (isHidden(entry.name)) continue;
    const path = datasetPaths.sample(dir, entry.name);
    if (!entry.isDirectory()) throw new DatasetFormatError(path, 'unexpected file (samples/ holds one folder per sample)');
    if (!labelled.has(entry.name)) throw new DatasetFormatError(path, 'sample folder is not listed in labels.csv');
  }
}

/**
 * Loads a whole multi-view dataset folder, validating everything and stopping at the first problem
 * with the offending file's path. Missing views are all-zero images with `present` 0.
 */
export async function loadDataset(dir: string, options: LoadOptions = {}): Promise<MultiViewDataset> {
  const { manifest, rows } = await readDatasetHeader(dir);
  await checkSampleFolders(dir, rows);
  const n = rows.length;
  const views = manifest.views;
  const size = viewSize(manifest);
  const pixels = new Float32Array(n * views * size);
  const present = new Uint8Array(n * views);
  const nativeBytes = new Uint32Array(n * views);
  await forEachSample(n, options, (i) => {
    const id = rows[i].sample;
    const folder = datasetPaths.sample(dir, id);
    let files: string[];
    try {
      files = readdirSync(folder);
    } catch (err) {
      if (isMissing(err)) throw new DatasetFormatError(folder, 'sample has no views (no folder)');
      throw err;
    }
    const found: number[] = [];
    for (const file of files.sort()) {
      if (isHidden(file)) continue;
      const path = join(folder, file);
      const m = VIEW_FILE.exec(file);
      if (!m) throw new DatasetFormatError(path, 'unexpected file (view images are named <view>.png, view 0, 1, ...)');
      const v = Number(m[1]);
      if (v >= views) throw new DatasetFormatError(path, `view index ${v} out of range 0..${views - 1}`);
      found.push(v);
    }
    if (found.length === 0) throw new DatasetFormatError(folder, 'sample has no views');
    for (const v of found) {
      present[i * views + v] = 1;
      nativeBytes[i * views + v] = decodeInto(datasetPaths.view(dir, id, v), manifest, pixels, (i * views + v) * size);
    }
  });
  return { manifest, ...emptyArrays(rows), present, pixels, nativeBytes };
}

/**
 * Loads one view (camera) of a dataset: what a device agent needs. Checks the manifest, the labels
 * and that view's images; other views are not read.
 */
export async function loadDatasetView(dir: string, view: number, options: LoadOptions = {}): Promise<SingleViewDataset> {
  const { manifest, rows } = await readDatasetHeader(dir);
  if (!Number.isInteger(view) || view < 0 || view >= manifest.views) {
    throw new DatasetFormatError(datasetPaths.manifest(dir), `view ${view} out of range 0..${manifest.views - 1}`);
  }
  const n = rows.length;
  const size = viewSize(manifest);
  const pixels = new Float32Array(n * size);
  const present = new Uint8Array(n);
  await forEachSample(n, options, (i) => {
    const path = datasetPaths.view(dir, rows[i].sample, view);
    let buf: Buffer | undefined;
    try {
      buf = readRegularFileSync(path, MAX_IMAGE_FILE_BYTES);
    } catch (err) {
      if (!isMissing(err)) throw new DatasetFormatError(path, `unreadable image (${(err as Error).message})`);
    }
    if (buf) {
      present[i] = 1;
      let img;
      try {
        img = decodeImage(buf);
      } catch (err) {
        throw new DatasetFormatError(path, `unreadable image (${(err as Error).message})`);
      }
      storeView(img, manifest, pixels, i * size);
    }
  });
  return { manifest, view, ...emptyArrays(rows), present, pixels };
}
