import type { BigIntStats, Dirent } from 'node:fs';
import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, parse, relative, sep } from 'node:path';
import { DatasetFormatError } from '../errors';
import { abbreviateList } from '../format/list';
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
async function checkFolders(inDir: string, outDir: string): Promise<{ input: string; output: string }> {
  const [input, output] = await Promise.all([realPath(inDir), realPath(outDir)]);
  if (isInside(output, input)) throw new DatasetFormatError(outDir, `the output folder cannot be the input folder or inside it (${inDir})`);
  if (isInside(input, output)) throw new DatasetFormatError(outDir, `the output folder cannot hold the input folder (${inDir})`);
  return { input, output };
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
 * splits alike). Links are followed, to files and to folders (a class made of links to album folders; a class folder
 * that is itself a link), except a link back to a folder it is in (a loop) and the output folder, which are reported
 * as skipped. A file is known by its device and inode, so a link or a hard link to it is the same file: met twice in
 * one class it is imported once, met in two classes it is skipped in both (never one photo with two labels). A class
 * left without a usable image stops the import, and the error names what was skipped in it; a failed import removes
 * what it wrote.
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
  const real = await checkFolders(inDir, outDir);
  const skipped: SkippedImage[] = [];
  // The folder's name as the file system spells it (to read it), its class name in NFC (a folder made on macOS is
  // named in NFD: a label typed elsewhere would not match it). A link to a folder is a class too (a class kept in a
  // photo library elsewhere), unless it leads back around the input folder.
  const named: { folder: string; cls: string; real: string }[] = [];
  // In name order, so what is reported skipped comes in the same order on every file system.
  for (const e of entries.sort((a, b) => compare(a.name, b.name))) {
    if (e.name.startsWith('.')) continue;
    const path = join(inDir, e.name);
    if (e.isDirectory()) named.push({ folder: e.name, cls: normalizeClassName(e.name), real: join(real.input, e.name) });
    else if (e.isSymbolicLink()) {
      const target = await linkTarget(path);
      if (typeof target === 'object') {
        skipped.push({ file: e.name, reason: target.reason });
        continue;
      }
      if (!(await isFolder(path))) continue;
      const reason = folderSkip(target, [real.input], real.output, true);
      if (reason) skipped.push({ file: e.name, reason });
      else named.push({ folder: e.name, cls: normalizeClassName(e.name), real: target });
    }
  }
  named.sort((a, b) => compare(a.cls, b.cls));
  const folders = named.map((n) => n.folder);
  const classes = named.map((n) => n.cls);
  if (classes.length < 2) {
    throw new DatasetFormatError(inDir, `needs one sub-folder per class (at least 2), found ${classes.length}${skipNote(skipped.filter((s) => !s.file.includes(sep)))}`);
  }
  const found: FoundFile[][] = [];
  for (const n of named) {
    const walk: Walk = { inDir, output: real.output, skipped, visited: new Map(), files: [] };
    await walkFolder(walk, join(inDir, n.folder), n.real, [real.input, n.real]);
    found.push(walk.files.sort((a, b) => compare(a.path, b.path)));
  }
  // Where each file on disk was met, by (device, inode): a link or a hard link is the same file under another name.
  const seen = new Map<string, { c: number; file: string }[]>();
  for (let c = 0; c < found.length; c++) {
    for (const f of found[c]) {
      const list = seen.get(f.key) ?? [];
      list.push({ c, file: relative(inDir, f.path) });
      seen.set(f.key, list);
    }
  }
  const perClass: string[][] = [];
  // What each class lost before any image was read (links, loops, files met twice): an empty class's error names it.
  const walkSkips = new Map<number, SkippedImage[]>();
  for (let c = 0; c < found.length; c++) {
    const files: string[] = [];
    for (const f of found[c]) {
      const file = relative(inDir, f.path);
      const met = seen.get(f.key) ?? [];
      const elsewhere = met.filter((m) => m.c !== c).map((m) => m.file);
      const first = met.find((m) => m.c === c)?.file;
      if (elsewhere.length) {
        // One photo labelled two ways teaches the model both and scores it against one: it belongs to neither class.
        skipped.push({ file, reason: `the same file as ${abbreviateList(elsewhere, 3)}, in another class: a photo reached from two classes is left out of both` });
      } else if (first !== file) {
        // Imported twice it could land in both splits, and the test set would score a training image.
        skipped.push({ file, reason: `the same file as ${first}, imported once` });
      } else files.push(f.path);
    }
    const inClass = skipped.filter((s) => s.file.startsWith(folders[c] + sep));
    walkSkips.set(c, inClass);
    if (files.length === 0) throw new DatasetFormatError(join(inDir, folders[c]), `no PNG or JPEG images${skipNote(inClass)}`);
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
        const before = walkSkips.get(c) ?? [];
        const also = before.length ? `; before reading, ${before.length} skipped: ${abbreviateList(before.map((s) => `${s.file}: ${s.reason}`), 3, '; ')}` : '';
        throw new DatasetFormatError(join(inDir, folders[c]), `no usable image among ${files.length} (first: ${skipped[firstSkip].file}: ${skipped[firstSkip].reason}${also})`);
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

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ` (N skipped: file: reason; ...)` for an error about a class or the input folder, or nothing when none was. */
function skipNote(skips: readonly SkippedImage[]): string {
  if (!skips.length) return '';
  return ` (${skips.length} skipped: ${abbreviateList(skips.map((s) => `${s.file}: ${s.reason}`), 3, '; ')})`;
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() === true;
}

/**
 * The real path a link leads to, or why it leads nowhere: an album on a drive that is not mounted empties a class, and
 * its error should say so rather than only that the class has no images. The target itself is not echoed (it is
 * whatever text the link holds).
 */
async function linkTarget(path: string): Promise<string | { reason: string }> {
  try {
    return await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { reason: 'a broken link (what it points to does not exist)' };
    return { reason: `a link that cannot be followed (${code ?? (err as Error).message})` };
  }
}

/**
 * Why a folder met while reading a class (`target`, its real path) is not read, or null to read it. `chain` holds the
 * real paths of the input folder and of every folder the walk is in: a folder holding one of them leads back into
 * itself (`a/loop -> a`, `b/up -> ..`, a link to the home folder) and is a loop. The output folder is not read (it may
 * be replaced while the import runs), and a folder already read for this class is not read twice (two links to one
 * album), which also keeps a web of links from being read an exponential number of times.
 */
function folderSkip(target: string, chain: readonly string[], output: string, link: boolean, visited?: ReadonlyMap<string, string>): string | null {
  if (chain.some((c) => isInside(c, target))) return 'a link back to a folder it is in (a loop), not followed';
  if (isInside(target, output)) return `${link ? 'a link to ' : ''}the output folder or a folder inside it, not read`;
  const first = visited?.get(target);
  if (first !== undefined) return `${link ? 'a link to ' : ''}a folder already read for this class (as ${first})`;
  return null;
}

/** An image file met in a class: its path as reached (through links), and which file on disk it is. */
interface FoundFile {
  path: string;
  key: string;
}

/** One class's walk: what it found and skipped, and the real paths of the folders it read (to first path met). */
interface Walk {
  inDir: string;
  output: string;
  skipped: SkippedImage[];
  visited: Map<string, string>;
  files: FoundFile[];
}

/**
 * Which file on disk: device and inode, which a symbolic link and a hard link share with the file itself (a real path
 * does not catch a hard link). Read as bigints, since an inode number may not fit a double. A file system without
 * inode numbers reports 0 for each file: there the real path stands in, or every file would be the same one.
 */
function fileKey(s: BigIntStats, realFile: string): string {
  return s.ino === 0n ? `path:${realFile}` : `${s.dev}:${s.ino}`;
}

/**
 * Collects the PNG and JPEG files under `dir` (real path `real`) into `walk.files`, following links to files and to
 * folders, hidden entries left out; what it does not follow goes to `walk.skipped` (path relative to the input).
 */
async function walkFolder(walk: Walk, dir: string, real: string, chain: readonly string[]): Promise<void> {
  walk.visited.set(real, relative(walk.inDir, dir));
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  // Real sub-folders before links at each level: a folder reached both ways is read (and its samples named) where it is.
  entries.sort((a, b) => Number(a.isSymbolicLink()) - Number(b.isSymbolicLink()) || compare(a.name, b.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    const file = relative(walk.inDir, path);
    let kind: Dirent | BigIntStats = e;
    let linked: BigIntStats | null = null;
    let target = join(real, e.name);
    if (e.isSymbolicLink()) {
      const to = await linkTarget(path);
      if (typeof to === 'object') {
        walk.skipped.push({ file, reason: to.reason });
        continue;
      }
      target = to;
      const s = await stat(path, { bigint: true }).catch(() => null);
      if (!s) continue;
      kind = linked = s;
    }
    if (kind.isDirectory()) {
      const reason = folderSkip(target, chain, walk.output, e.isSymbolicLink(), walk.visited);
      if (reason) walk.skipped.push({ file, reason });
      else await walkFolder(walk, path, target, [...chain, target]);
    } else if (kind.isFile() && IMAGE_EXT.has(extname(e.name).toLowerCase())) {
      if (isInside(target, walk.output)) {
        walk.skipped.push({ file, reason: 'a link to a file in the output folder, not read' });
        continue;
      }
      const s = linked ?? (await stat(path, { bigint: true }).catch(() => null));
      // Gone since the folder was listed: reading it would fail too, and the import skips what it cannot read.
      if (!s) walk.skipped.push({ file, reason: 'unreadable image (removed while the import ran)' });
      else walk.files.push({ path, key: fileKey(s, target) });
    }
  }
}
