import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, parse, relative, sep } from 'node:path';
import { DatasetFormatError } from '../errors';
import { normalizeClassName, parseManifest } from '../format/manifest';
import { DatasetWriter } from '../format/write';
import { cropRaster, decodeImage, isGreyImage, resizeBilinear, withChannels, type Raster } from '../image/raster';
import { Rng } from '../prng';
import type { DatasetManifest, Split } from '../types';

/** How to cut single images into a grid of device views. */
export interface SplitGridOptions {
  rows: number;
  cols: number;
  /** Fraction of each class held out for testing. */
  testFraction?: number;
  /** Size of each view after resizing. */
  height?: number;
  width?: number;
  seed?: number;
  overwrite?: boolean;
  name?: string;
  /**
   * Channels of the views: 1 (grey) or 3 (RGB). Absent: 1 when every image is grey as its header declares it, else 3.
   * Grey images stored as RGB tripled the dataset, the device sections' first layer and the raw bytes a camera
   * would offload (counted from the stored image, its native size).
   */
  channels?: 1 | 3;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer ${min}..${max}, got ${value}`);
}

/** `path` with every link resolved, for as much of it as exists (an output folder may not yet). */
async function realPath(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    const parent = dirname(path);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === path) throw err;
    return join(await realPath(parent), basename(path));
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Refuses an output folder that is the input folder or inside it (the next import reads its samples/ as a class),
 * and an input folder inside the output one (replacing a dataset there would remove the images being read).
 */
async function checkFolders(inDir: string, outDir: string): Promise<void> {
  const [input, output] = await Promise.all([realPath(inDir), realPath(outDir)]);
  if (isInside(output, input)) throw new DatasetFormatError(outDir, `the output folder cannot be the input folder or inside it (${inDir})`);
  if (isInside(input, output)) throw new DatasetFormatError(outDir, `the output folder cannot hold the input folder (${inDir})`);
}

/**
 * The import's manifest, checked before anything is written. What it refuses comes from the input folder or the
 * options, and that is what the error names (not a manifest.json that does not exist).
 */
function checkedManifest(inDir: string, manifest: DatasetManifest): DatasetManifest {
  try {
    return parseManifest(manifest, inDir);
  } catch (err) {
    if (!(err instanceof DatasetFormatError)) throw err;
    const [, field, index, problem] = /^malformed manifest: field "(\w+)(?:\.(\d+))?": (.*)$/s.exec(err.problem) ?? [];
    if (field === 'classes' && index !== undefined) {
      throw new DatasetFormatError(join(inDir, manifest.classes[Number(index)]), `a class folder's name is its class name: ${problem}`);
    }
    if (field === 'views') throw new Error(`rows x cols makes ${manifest.views} views: ${problem}`);
    if (field === 'height' || field === 'width') throw new Error(`view size ${manifest.width}x${manifest.height}: ${problem}`);
    throw err;
  }
}

/** Cell k (row by row) of a rows x cols grid over an image. */
export function gridCell(img: Raster, rows: number, cols: number, k: number): Raster {
  const r = Math.floor(k / cols);
  const c = k % cols;
  const x0 = Math.round((c * img.width) / cols);
  const x1 = Math.round(((c + 1) * img.width) / cols);
  const y0 = Math.round((r * img.height) / rows);
  const y1 = Math.round(((r + 1) * img.height) / rows);
  return cropRaster(img, x0, y0, x1 - x0, y1 - y0);
}

/** An input file left out of the dataset, and why (path relative to the input folder). */
export interface SkippedImage {
  file: string;
  reason: string;
}

/**
 * Turns a labelled single-view image folder (IN/<class>/[sub-folders/]*.png|jpg) into a multi-view dataset in which
 * device k sees grid cell k, row by row; the split is stratified per class and seeded.
 *
 * A class's images may sit in sub-folders; hidden files and folders are ignored (`.DS_Store`, `._photo.jpg`). A
 * photo collection always holds a few files that cannot be used (truncated, not really an image, too small for the
 * grid, too large to decode): each is skipped and reported with its reason, so one bad file among thousands does
 * not stop the import (the test split is drawn over a class's files before they are read, so skips take from both
 * splits alike). Links to files are followed, links to folders are not (reported as skipped), and a file
 * reached twice (through links) is imported once, in the class where it is met first. A class left without a usable image stops it, and a failed import removes what it wrote.
 */
export async function splitGridDataset(
  inDir: string,
  outDir: string,
  options: SplitGridOptions,
): Promise<{ manifest: DatasetManifest; samples: number; skipped: SkippedImage[] }> {
  const { rows, cols } = options;
  checkInt('rows', rows, 1, 16);
  checkInt('cols', cols, 1, 16);
  const testFraction = options.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`test fraction must be in (0, 1), got ${testFraction}`);
  const height = options.height ?? 32;
  const width = options.width ?? 32;
  let entries;
  try {
    entries = await readdir(inDir, { withFileTypes: true });
  } catch (err) {
    throw new DatasetFormatError(inDir, `cannot read input folder (${(err as Error).message})`);
  }
  await checkFolders(inDir, outDir);
  // The folder's name as the file system spells it (to read it), its class name in NFC (a folder made on macOS is
  // named in NFD: a label typed elsewhere would not match it).
  const skipped: SkippedImage[] = [];
  for (const e of entries) if (e.isSymbolicLink() && !e.name.startsWith('.') && (await isFolder(join(inDir, e.name)))) skipped.push({ file: e.name, reason: LINKED_FOLDER });
  const named = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => ({ folder: e.name, cls: normalizeClassName(e.name) }))
    .sort((a, b) => (a.cls < b.cls ? -1 : a.cls > b.cls ? 1 : 0));
  const folders = named.map((n) => n.folder);
  const classes = named.map((n) => n.cls);
  if (classes.length < 2) throw new DatasetFormatError(inDir, `needs one sub-folder per class (at least 2), found ${classes.length}`);
  const perClass: string[][] = [];
  // Each real file once: a link to an image already met (in this class or another) would put one photo in two
  // classes, or in both splits.
  const firstPath = new Map<string, string>();
  for (const folder of folders) {
    const files: string[] = [];
    for (const path of await imageFiles(inDir, join(inDir, folder), skipped)) {
      const real = await realpath(path).catch(() => path);
      const first = firstPath.get(real);
      if (first !== undefined) {
        skipped.push({ file: relative(inDir, path), reason: `the same file as ${first}, already imported` });
        continue;
      }
      firstPath.set(real, relative(inDir, path));
      files.push(path);
    }
    if (files.length === 0) throw new DatasetFormatError(join(inDir, folder), 'no PNG or JPEG images');
    perClass.push(files);
  }
  if (options.channels !== undefined && options.channels !== 1 && options.channels !== 3) throw new Error(`channels must be 1 or 3, got ${options.channels}`);
  const channels = options.channels ?? ((await allGrey(perClass.flat())) ? 1 : 3);
  const manifest = checkedManifest(inDir, { name: options.name ?? `${parse(inDir).base}-grid${rows}x${cols}`, classes, views: rows * cols, height, width, channels });
  const writer = await DatasetWriter.create(outDir, manifest, { overwrite: options.overwrite });
  const rng = new Rng(options.seed ?? 1);
  const used = new Set<string>();
  let samples = 0;
  try {
    for (let c = 0; c < classes.length; c++) {
      const files = perClass[c];
      // Every class with two images or more is tested on at least one: a class absent from the test split has no accuracy.
      const held = files.length < 2 ? 0 : Math.min(files.length - 1, Math.max(1, Math.round(files.length * testFraction)));
      const test = new Set(rng.shuffle(files.map((_, i) => i)).slice(0, held));
      let written = 0;
      const firstSkip = skipped.length;
      for (let i = 0; i < files.length; i++) {
        const path = files[i];
        let img: Raster;
        try {
          img = decodeImage(await readFile(path));
        } catch (err) {
          skipped.push({ file: relative(inDir, path), reason: `unreadable image (${(err as Error).message})` });
          continue;
        }
        if (img.width < cols || img.height < rows) {
          skipped.push({ file: relative(inDir, path), reason: `image ${img.width}x${img.height} is smaller than a ${rows}x${cols} grid` });
          continue;
        }
        const views = Array.from({ length: rows * cols }, (_, k) => withChannels(resizeBilinear(gridCell(img, rows, cols, k), width, height), channels));
        const name = relative(join(inDir, folders[c]), path);
        let id = `${classes[c]}_${join(parse(name).dir, parse(name).name)}`.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
        if (!id) id = `c${c}_${i}`;
        const base = id;
        for (let k = 2; used.has(id); k++) id = `${base}_${k}`;
        used.add(id);
        const split: Split = test.has(i) ? 'test' : 'train';
        await writer.add(id, split, c, views);
        written++;
        samples++;
      }
      if (written === 0) {
        throw new DatasetFormatError(join(inDir, folders[c]), `no usable image among ${files.length} (first: ${skipped[firstSkip].file}: ${skipped[firstSkip].reason})`);
      }
    }
    await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { manifest, samples, skipped };
}

/** How much of a file's start is read for its header: a JPEG's frame header follows its EXIF block (thumbnail included). */
const HEADER_BYTES = 128 * 1024;

/**
 * Whether every file is grey by its header: a collection's one colour photo makes it RGB, so all are looked at, each
 * from its start, and whole when its header lies further in (a JPEG's frame header after large metadata blocks).
 * Files that cannot be read, or have no readable header, do not count: the import skips what it cannot decode.
 */
async function allGrey(files: string[]): Promise<boolean> {
  const buf = Buffer.alloc(HEADER_BYTES);
  let grey = 0;
  for (const file of files) {
    const f = await open(file, 'r').catch(() => null);
    if (!f) continue;
    let g: boolean | null;
    try {
      const { bytesRead } = await f.read(buf, 0, HEADER_BYTES, 0);
      g = isGreyImage(buf.subarray(0, bytesRead));
      if (g === null && bytesRead === HEADER_BYTES) g = isGreyImage(await readFile(file));
    } finally {
      await f.close();
    }
    if (g === false) return false;
    if (g) grey++;
  }
  return grey > 0;
}

/** Why a link to a folder is skipped. */
const LINKED_FOLDER = 'a link to a folder (links to folders are not followed: one can loop, or bring another class\'s images in)';

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() === true;
}

/**
 * PNG and JPEG files under `dir` and its sub-folders, hidden entries left out, in a stable order. A link to a file is
 * followed (a folder of links into a photo library is a common way to label one); a link to a folder is not, and is
 * reported in `skipped` (path relative to `inDir`).
 */
async function imageFiles(inDir: string, dir: string, skipped: SkippedImage[]): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    const kind = e.isSymbolicLink() ? await stat(path).catch(() => null) : e;
    if (kind?.isDirectory()) {
      if (e.isSymbolicLink()) skipped.push({ file: relative(inDir, path), reason: LINKED_FOLDER });
      else out.push(...(await imageFiles(inDir, path, skipped)));
    } else if (kind?.isFile() && IMAGE_EXT.has(extname(e.name).toLowerCase())) out.push(path);
  }
  return out.sort();
}
