import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { loadDataset } from '../format/read';
import { createRaster, encodePng, type Raster } from '../image/raster';
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

  it('names the problem: too few classes, unreadable image', async () => {
    const input = join(root, 'in');
    await mkdir(join(input, 'only'), { recursive: true });
    await writeFile(join(input, 'only', 'a.png'), encodePng(gridImage(6, 4, 1)));
    await expect(splitGridDataset(input, join(root, 'o1'), { rows: 2, cols: 3 })).rejects.toThrow(/at least 2/);
    await mkdir(join(input, 'other'));
    await writeFile(join(input, 'other', 'b.png'), 'garbage');
    await expect(splitGridDataset(input, join(root, 'o2'), { rows: 2, cols: 3 })).rejects.toThrow(/other\/b\.png: unreadable image/);
    await expect(splitGridDataset(input, join(root, 'o3'), { rows: 0, cols: 3 })).rejects.toThrow(/rows must be an integer/);
  });
});
