import { link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { loadDataset } from '../format/read';
import { createRaster, encodePng, isGreyImage, nativeImageBytes, type Raster } from '../image/raster';
import { viewPixels } from '../types';
import { splitGridDataset } from './split-grid';

// An image whose grid cell (r, c) of a 2x3 grid is filled with a grey level that encodes r and c.
function gridImage(width: number, height: number, base: number): Raster {
  const img = createRaster(width, height, 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = Math.floor((y * 2) / height) * 3 + Math.floor((x * 3) / width);
      const o = (y * width + x) * 3;
      img.data[o] = base;
      img.data[o + 1] = 20 + 30 * cell;
      img.data[o + 2] = 255;
    }
  }
  return img;
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ddnn-grid-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

// Encoding and decoding a few dozen images is CPU work that took 4.9 s of jest's default 5 s at load 16 on 2 cores.
jest.setTimeout(60_000);

describe('split-grid import', () => {
  it('cuts each image into a row-major grid of views, stratifies the split and reads PNG and JPEG', async () => {
    const input = join(root, 'in');
    for (const [cls, base] of [['cats', 40], ['dogs', 200]] as const) {
      await mkdir(join(input, cls), { recursive: true });
      for (let i = 0; i < 5; i++) await writeFile(join(input, cls, `img ${i}.png`), encodePng(gridImage(60, 40, base)));
    }
    const rgba = new Uint8Array(60 * 40 * 4);
    const g = gridImage(60, 40, 200);
    for (let p = 0; p < 60 * 40; p++) rgba.set([g.data[3 * p], g.data[3 * p + 1], g.data[3 * p + 2], 255], 4 * p);
    await writeFile(join(input, 'dogs', 'photo.jpg'), jpeg.encode({ width: 60, height: 40, data: rgba }, 98).data);
    await writeFile(join(input, 'dogs', 'notes.txt'), 'ignored');

    const out = join(root, 'out');
    const result = await splitGridDataset(input, out, { rows: 2, cols: 3, testFraction: 0.4, height: 8, width: 8 });
    expect(result.samples).toBe(11);
    const ds = await loadDataset(out);
    expect(ds.manifest).toMatchObject({ classes: ['cats', 'dogs'], views: 6, height: 8, width: 8, channels: 3 });
    expect(ds.sampleIds).toContain('cats_img_0');
    expect(ds.sampleIds).toContain('dogs_photo');
    expect(Array.from(ds.present).every((p) => p === 1)).toBe(true);
    const testPerClass = [0, 1].map((c) => ds.sampleIds.filter((_, n) => ds.labels[n] === c && ds.splits[n] === 'test').length);
    expect(testPerClass).toEqual([2, 2]);
    for (let n = 0; n < ds.sampleIds.length; n++) {
      for (let k = 0; k < 6; k++) {
        const v = viewPixels(ds, n, k);
        // Green encodes the cell: view k must be cell k, scaled by the view's maximum (blue = 255).
        const expected = (20 + 30 * k) / 255;
        expect(Math.abs(v[1] - expected)).toBeLessThan(0.03);
        expect(Math.abs(v[8 * 8 * 3 - 2] - expected)).toBeLessThan(0.03);
      }
    }
  });

  it('keeps grey images grey (one channel, the raw bytes of a grey camera), unless one image is colour or RGB is asked for', async () => {
    const input = join(root, 'in');
    const grey = (base: number) => {
      const img = createRaster(30, 20, 1);
      img.data.fill(base);
      return img;
    };
    for (const [cls, base] of [['a', 40], ['b', 200]] as const) {
      await mkdir(join(input, cls), { recursive: true });
      for (let i = 0; i < 3; i++) await writeFile(join(input, cls, `g${i}.png`), encodePng(grey(base)));
    }
    const greyJpeg = jpeg.encode({ width: 30, height: 20, data: new Uint8Array(30 * 20 * 4).fill(128) }, 90).data;
    const out = join(root, 'grey');
    await splitGridDataset(input, out, { rows: 1, cols: 2, height: 8, width: 8 });
    const ds = await loadDataset(out);
    expect(ds.manifest.channels).toBe(1);
    const files = await readdir(join(out, 'samples', ds.sampleIds[0]));
    const stored = await readFile(join(out, 'samples', ds.sampleIds[0], files[0]));
    expect(isGreyImage(stored)).toBe(true);
    expect(nativeImageBytes(stored)).toBe(8 * 8);
    // One value a pixel (a flat image scales to 1 by its own maximum).
    expect(Array.from(viewPixels(ds, 0, 0))).toEqual(new Array(8 * 8).fill(1));

    // Asked for RGB: RGB.
    await splitGridDataset(input, join(root, 'rgb'), { rows: 1, cols: 2, height: 8, width: 8, channels: 3 });
    expect((await loadDataset(join(root, 'rgb'))).manifest.channels).toBe(3);
    // One colour photo among grey ones (a JPEG's header says RGB even when its pixels are grey), its frame header
    // behind 180 KB of metadata (three APP segments, as cameras write EXIF, ICC and XMP): RGB.
    const app = Buffer.alloc(60_004, 0x20);
    app.writeUInt16BE(0xffe1, 0);
    app.writeUInt16BE(60_002, 2);
    await writeFile(join(input, 'a', 'colour.jpg'), Buffer.concat([greyJpeg.subarray(0, 2), app, app, app, greyJpeg.subarray(2)]));
    await splitGridDataset(input, join(root, 'mixed'), { rows: 1, cols: 2, height: 8, width: 8 });
    expect((await loadDataset(join(root, 'mixed'))).manifest.channels).toBe(3);
  });

  it('names a class after its folder in NFC, whatever normalization the file system gave the folder (macOS: NFD)', async () => {
    const input = join(root, 'in');
    const nfd = 'ñandú'.normalize('NFD');
    for (const [folder, base] of [[nfd, 40], ['zebra', 200]] as const) {
      await mkdir(join(input, folder), { recursive: true });
      for (let i = 0; i < 2; i++) await writeFile(join(input, folder, `img${i}.png`), encodePng(gridImage(60, 40, base)));
    }
    expect(await readdir(input)).toContain(nfd);
    const out = join(root, 'out');
    const result = await splitGridDataset(input, out, { rows: 2, cols: 3, height: 8, width: 8 });
    // Sorted as NFC too (by code unit: "ñ" after "z"), so the class order does not depend on the file system.
    expect(result.manifest.classes).toEqual(['zebra', 'ñandú'.normalize('NFC')]);
    expect(result.samples).toBe(4);
    const ds = await loadDataset(out);
    expect(ds.manifest.classes[1]).toBe('ñandú'.normalize('NFC'));
    expect(Array.from(ds.labels).sort()).toEqual([0, 0, 1, 1]);
  });

  it('tests every class with two images or more on at least one, and refuses a test fraction of 0', async () => {
    const input = join(root, 'in');
    for (const [cls, n] of [['rare', 2], ['common', 6], ['single', 1]] as const) {
      await mkdir(join(input, cls), { recursive: true });
      for (let i = 0; i < n; i++) await writeFile(join(input, cls, `${i}.png`), encodePng(gridImage(6, 4, 10 * i)));
    }
    await splitGridDataset(input, join(root, 'out'), { rows: 1, cols: 1, testFraction: 0.2, height: 4, width: 4 });
    const ds = await loadDataset(join(root, 'out'));
    const split = (c: number) => ['train', 'test'].map((s) => ds.sampleIds.filter((_, n) => ds.labels[n] === c && ds.splits[n] === s).length);
    // Classes sorted: common (6: round(1.2) = 1 test), rare (2: round(0.4) = 0, raised to 1), single (1: nothing to hold out).
    expect([0, 1, 2].map(split)).toEqual([[5, 1], [1, 1], [1, 0]]);
    await expect(splitGridDataset(input, join(root, 'zero'), { rows: 1, cols: 1, testFraction: 0 })).rejects.toThrow('test fraction must be in (0, 1), got 0');
  });

  it('names the problem: too few classes, bad grid, a class without a usable image (and leaves nothing behind)', async () => {
    const input = join(root, 'in');
    await mkdir(join(input, 'only'), { recursive: true });
    await writeFile(join(input, 'only', 'a.png'), encodePng(gridImage(6, 4, 1)));
    await expect(splitGridDataset(input, join(root, 'o1'), { rows: 2, cols: 3 })).rejects.toThrow(/at least 2/);
    await expect(splitGridDataset(input, join(root, 'o3'), { rows: 0, cols: 3 })).rejects.toThrow(/rows must be an integer/);
    await mkdir(join(input, 'other'));
    await writeFile(join(input, 'other', 'b.png'), 'garbage');
    const out = join(root, 'o2');
    await expect(splitGridDataset(input, out, { rows: 2, cols: 3 })).rejects.toThrow(/other: no usable image among 1 \(first: other\/b\.png: unreadable image/);
    // Class `only` was written before `other` failed: the failed import removed it, folder and all.
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
    // A folder that was there before stays (empty, as it was).
    const mine = join(root, 'o4');
    await mkdir(mine);
    await expect(splitGridDataset(input, mine, { rows: 2, cols: 3 })).rejects.toThrow(/no usable image/);
    expect(await readdir(mine)).toEqual([]);
  });

  it('refuses an output folder that is the input folder, inside it (through a link too) or around it, before writing', async () => {
    const input = join(root, 'in');
    for (const cls of ['a', 'b']) {
      await mkdir(join(input, cls), { recursive: true });
      await writeFile(join(input, cls, '0.png'), encodePng(gridImage(6, 4, 1)));
    }
    await symlink(input, join(root, 'link'));
    const before = await readdir(input);
    for (const out of [input, join(input, 'ds'), join(input, 'a'), join(root, 'link', 'new', 'ds'), join(root, 'link')]) {
      await expect(splitGridDataset(input, out, { rows: 2, cols: 3, overwrite: true })).rejects.toThrow(`${out}: the output folder cannot be the input folder or inside it (${input})`);
    }
    await expect(splitGridDataset(input, root, { rows: 2, cols: 3, overwrite: true })).rejects.toThrow(`${root}: the output folder cannot hold the input folder (${input})`);
    expect(await readdir(input)).toEqual(before);
    // A sibling whose name starts like the input's is another folder.
    await splitGridDataset(input, join(root, 'in-grid'), { rows: 2, cols: 3 });
  });

  it('reports a class folder name or an option the dataset format refuses as such, not as a malformed manifest.json', async () => {
    const input = join(root, 'in');
    for (const cls of ['bus,"quoted"', 'car']) {
      await mkdir(join(input, cls), { recursive: true });
      await writeFile(join(input, cls, '0.png'), encodePng(gridImage(6, 4, 1)));
    }
    const out = join(root, 'out');
    await expect(splitGridDataset(input, out, { rows: 2, cols: 3 })).rejects.toThrow(
      `${join(input, 'bus,"quoted"')}: a class folder's name is its class name: class names cannot contain commas, quotes or line breaks`,
    );
    await rm(join(input, 'bus,"quoted"'), { recursive: true });
    await mkdir(join(input, 'bus'));
    await writeFile(join(input, 'bus', '0.png'), encodePng(gridImage(6, 4, 1)));
    await expect(splitGridDataset(input, out, { rows: 2, cols: 3, height: 100000, width: 100000 })).rejects.toThrow(/^view size 100000x100000: Too big: expected number to be <=1024$/);
    await expect(splitGridDataset(input, out, { rows: 16, cols: 16 })).rejects.toThrow(/^rows x cols makes 256 views: Too big: expected number to be <=64$/);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('skips and reports files it cannot use, reads sub-folders, ignores hidden files, never decodes a bomb', async () => {
    const input = join(root, 'in');
    for (const cls of ['cats', 'dogs']) {
      await mkdir(join(input, cls, 'day 2'), { recursive: true });
      for (let i = 0; i < 3; i++) await writeFile(join(input, cls, `${i}.png`), encodePng(gridImage(30, 20, 100)));
      await writeFile(join(input, cls, 'day 2', '0.png'), encodePng(gridImage(30, 20, 100)));
    }
    await writeFile(join(input, 'cats', '.DS_Store'), 'finder');
    await writeFile(join(input, 'cats', '._0.png'), 'AppleDouble');
    await mkdir(join(input, '.thumbnails'));
    await writeFile(join(input, 'dogs', 'truncated.png'), encodePng(gridImage(30, 20, 100)).subarray(0, 60));
    await writeFile(join(input, 'dogs', 'tiny.png'), encodePng(gridImage(2, 2, 100)));
    await writeFile(join(input, 'dogs', 'bomb.png'), pngHeader(100_000, 100_000));
    // A link into a photo library elsewhere is followed.
    await writeFile(join(root, 'library.png'), encodePng(gridImage(30, 20, 100)));
    await symlink(join(root, 'library.png'), join(input, 'dogs', 'linked.png'));

    const result = await splitGridDataset(input, join(root, 'out'), { rows: 2, cols: 3, height: 8, width: 8 });
    expect(result.samples).toBe(9);
    expect(result.skipped.map((s) => s.file).sort()).toEqual(['dogs/bomb.png', 'dogs/tiny.png', 'dogs/truncated.png']);
    expect(result.skipped.find((s) => s.file === 'dogs/bomb.png')?.reason).toMatch(/100000x100000 is over \d+ pixels/);
    expect(result.skipped.find((s) => s.file === 'dogs/tiny.png')?.reason).toMatch(/2x2 is smaller than a 2x3 grid/);
    const ds = await loadDataset(join(root, 'out'));
    expect(ds.manifest.classes).toEqual(['cats', 'dogs']);
    expect(ds.sampleIds).toContain('cats_day_2_0');
    expect(ds.sampleIds).toContain('dogs_linked');
  });

  it('follows links to album folders (inside a class, or as the class folder itself), each album read once per class', async () => {
    const input = join(root, 'in');
    for (const [album, n] of [['Photos/cats', 3], ['Photos/birds', 2]] as const) {
      await mkdir(join(root, album), { recursive: true });
      for (let i = 0; i < n; i++) await writeFile(join(root, album, `${i}.png`), encodePng(gridImage(30, 20, 10 * i)));
    }
    await mkdir(join(input, 'cat'), { recursive: true });
    await mkdir(join(input, 'dog'));
    for (let i = 0; i < 2; i++) await writeFile(join(input, 'dog', `${i}.png`), encodePng(gridImage(30, 20, 200)));
    await symlink(join(root, 'Photos/cats'), join(input, 'cat', '2023'));
    // A second link to the same album: its photos are the same files, read once.
    await symlink('../../Photos/cats', join(input, 'cat', 'again'));
    await symlink(join(root, 'Photos/birds'), join(input, 'bird'));
    // A link that sorts before the real folder it points to: the folder is read where it is, the link is the repeat.
    await mkdir(join(input, 'dog', 'sub'));
    await writeFile(join(input, 'dog', 'sub', '2.png'), encodePng(gridImage(30, 20, 200)));
    await symlink('sub', join(input, 'dog', 'aa'));

    const result = await splitGridDataset(input, join(root, 'out'), { rows: 2, cols: 3, height: 8, width: 8 });
    expect(result.skipped).toEqual([
      { file: 'cat/again', reason: 'a link to a folder already read for this class (as cat/2023)' },
      { file: 'dog/aa', reason: 'a link to a folder already read for this class (as dog/sub)' },
    ]);
    expect(result.samples).toBe(8);
    const ds = await loadDataset(join(root, 'out'));
    expect(ds.manifest.classes).toEqual(['bird', 'cat', 'dog']);
    expect([...ds.sampleIds].sort()).toEqual(['bird_0', 'bird_1', 'cat_2023_0', 'cat_2023_1', 'cat_2023_2', 'dog_0', 'dog_1', 'dog_sub_2']);
  });

  it('stops at links that loop (to the class, to a parent, around the input) and at the output folder, each reported once', async () => {
    const input = join(root, 'in');
    for (const cls of ['a', 'b']) {
      await mkdir(join(input, cls), { recursive: true });
      for (let i = 0; i < 3; i++) await writeFile(join(input, cls, `${i}.png`), encodePng(gridImage(30, 20, 100)));
    }
    const out = join(root, 'out');
    await mkdir(out);
    await symlink(join(input, 'a'), join(input, 'a', 'loop'));
    await symlink(root, join(input, 'a', 'home'));
    await symlink('..', join(input, 'b', 'up'));
    await mkdir(join(input, 'b', 'sub'));
    await symlink('../..', join(input, 'b', 'sub', 'deeper'));
    await symlink(out, join(input, 'b', 'previous'));
    // A file the import may replace while it runs (a class linked into the dataset it is about to overwrite).
    await writeFile(join(out, 'kept.png'), encodePng(gridImage(30, 20, 100)));
    await symlink(join(out, 'kept.png'), join(input, 'b', 'kept.png'));
    await symlink('.', join(input, 'self'));

    const result = await splitGridDataset(input, out, { rows: 2, cols: 3, height: 8, width: 8 });
    const loop = 'a link back to a folder it is in (a loop), not followed';
    expect(result.skipped).toEqual([
      { file: 'self', reason: loop },
      { file: 'a/home', reason: loop },
      { file: 'a/loop', reason: loop },
      { file: 'b/sub/deeper', reason: loop },
      { file: 'b/kept.png', reason: 'a link to a file in the output folder, not read' },
      { file: 'b/previous', reason: 'a link to the output folder or a folder inside it, not read' },
      { file: 'b/up', reason: loop },
    ]);
    expect(result.samples).toBe(6);
    const ds = await loadDataset(out);
    expect(ds.manifest.classes).toEqual(['a', 'b']);
    expect([...ds.sampleIds].sort()).toEqual(['a_0', 'a_1', 'a_2', 'b_0', 'b_1', 'b_2']);
  });

  it('skips a file reached from two classes in both (through a link or a hard link), and imports one met twice in a class once', async () => {
    const input = join(root, 'in');
    for (const [cls, n] of [['a', 3], ['b', 3], ['c', 2]] as const) {
      await mkdir(join(input, cls), { recursive: true });
      for (let i = 0; i < n; i++) await writeFile(join(input, cls, `${i}.png`), encodePng(gridImage(30, 20, 100)));
    }
    // Class b sorts after a, but the link in b must not leave a's photo labelled a: it is both, so neither.
    await symlink(join(input, 'a', '0.png'), join(input, 'b', 'also-a0.png'));
    // A hard link has no "real" path to resolve: only its inode says it is a/1.png.
    await link(join(input, 'a', '1.png'), join(input, 'c', 'hard-a1.png'));
    await link(join(input, 'b', '0.png'), join(input, 'b', 'copy-b0.png'));

    const result = await splitGridDataset(input, join(root, 'out'), { rows: 2, cols: 3, height: 8, width: 8 });
    const twoClasses = (other: string) => `the same file as ${other}, in another class: a photo reached from two classes is left out of both`;
    expect(result.skipped).toEqual([
      { file: 'a/0.png', reason: twoClasses('b/also-a0.png') },
      { file: 'a/1.png', reason: twoClasses('c/hard-a1.png') },
      { file: 'b/also-a0.png', reason: twoClasses('a/0.png') },
      { file: 'b/copy-b0.png', reason: 'the same file as b/0.png, imported once' },
      { file: 'c/hard-a1.png', reason: twoClasses('a/1.png') },
    ]);
    const ds = await loadDataset(join(root, 'out'));
    expect([...ds.sampleIds].sort()).toEqual(['a_2', 'b_0', 'b_1', 'b_2', 'c_0', 'c_1']);
  });

  it('names what was skipped when it leaves a class empty or too few classes', async () => {
    // A link in b to class a's folder: every photo of a is in two classes, and a is left with none.
    const one = join(root, 'one');
    await mkdir(join(one, 'a'), { recursive: true });
    await mkdir(join(one, 'b'));
    await writeFile(join(one, 'a', '0.png'), encodePng(gridImage(30, 20, 100)));
    await writeFile(join(one, 'b', '0.png'), encodePng(gridImage(30, 20, 100)));
    await symlink('../a', join(one, 'b', 'dup'));
    await expect(splitGridDataset(one, join(root, 'o1'), { rows: 2, cols: 3 })).rejects.toThrow(
      `${join(one, 'a')}: no PNG or JPEG images (1 skipped: a/0.png: the same file as b/dup/0.png, in another class: a photo reached from two classes is left out of both)`,
    );

    // An album on a drive that is not mounted.
    const two = join(root, 'two');
    await mkdir(join(two, 'cat'), { recursive: true });
    await mkdir(join(two, 'dog'));
    await writeFile(join(two, 'dog', '0.png'), encodePng(gridImage(30, 20, 100)));
    await symlink(join(root, 'Volumes', 'Photos', 'cats'), join(two, 'cat', '2023'));
    await symlink(join(two, 'cat'), join(two, 'cat', 'loop'));
    await expect(splitGridDataset(two, join(root, 'o2'), { rows: 2, cols: 3 })).rejects.toThrow(
      `${join(two, 'cat')}: no PNG or JPEG images (2 skipped: cat/2023: a broken link (what it points to does not exist); cat/loop: a link back to a folder it is in (a loop), not followed)`,
    );
    // Images there, none usable: the first one's reason, and what was skipped before reading.
    await writeFile(join(two, 'cat', 'x.png'), 'garbage');
    await expect(splitGridDataset(two, join(root, 'o2'), { rows: 2, cols: 3 })).rejects.toThrow(
      /cat: no usable image among 1 \(first: cat\/x\.png: unreadable image .*; before reading, 2 skipped: cat\/2023: a broken link .*; cat\/loop: a link back/,
    );

    // One class folder, and two links that are not classes.
    const three = join(root, 'three');
    await mkdir(join(three, 'only'), { recursive: true });
    await writeFile(join(three, 'only', '0.png'), encodePng(gridImage(30, 20, 100)));
    await symlink(join(root, 'gone'), join(three, 'cats'));
    await symlink('..', join(three, 'up'));
    await expect(splitGridDataset(three, join(root, 'o3'), { rows: 2, cols: 3 })).rejects.toThrow(
      `${three}: needs one sub-folder per class (at least 2), found 1 (2 skipped: cats: a broken link (what it points to does not exist); up: a link back to a folder it is in (a loop), not followed)`,
    );
    // Without skips, the message is as it was.
    await rm(join(three, 'cats'));
    await rm(join(three, 'up'));
    await expect(splitGridDataset(three, join(root, 'o3'), { rows: 2, cols: 3 })).rejects.toThrow(new RegExp(`found 1$`));
  });
});

/** The start of a PNG whose header declares width x height (RGB, 8 bits): what a decoder sizes its buffers from. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 2, 0, 0, 0], 16);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, Buffer.alloc(64)]);
}
