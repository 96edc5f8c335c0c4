import { mkdtemp, mkdir, rm, writeFile, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { DatasetFormatError } from '../errors';
import { createRaster, encodePng } from '../image/raster';
import { Rng } from '../prng';
import type { DatasetManifest, MultiViewDataset } from '../types';
import { viewPixels } from '../types';
import { parseLabels } from './labels';
import { classIndexOf, parseManifest, sameClasses } from './manifest';
import { loadDataset, loadDatasetView } from './read';
import { DatasetWriter, writeDataset } from './write';

const manifest: DatasetManifest = { name: 'tiny', classes: ['car', 'bus', 'person'], views: 3, height: 4, width: 5, channels: 3 };

function tinyDataset(): MultiViewDataset {
  const rng = new Rng(7);
  const n = 4;
  const size = 4 * 5 * 3;
  const pixels = new Float32Array(n * 3 * size);
  const present = Uint8Array.from([1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1]);
  for (let i = 0; i < n * 3; i++) {
    if (!present[i]) continue;
    // Values already on the 8-bit grid with a maximum of exactly 1, so a round trip is exact.
    for (let k = 0; k < size; k++) pixels[i * size + k] = rng.int(255) / 255;
    pixels[i * size + rng.int(size)] = 1;
  }
  return {
    manifest,
    sampleIds: ['s0', 's1', 's2', 's3'],
    splits: ['train', 'test', 'train', 'train'],
    labels: Int32Array.from([0, 2, 1, 0]),
    present,
    pixels,
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddnn-ds-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectFormatError(pathEnd: string, problem: RegExp): Promise<void> {
  const err = await loadDataset(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetFormatError);
  const e = err as DatasetFormatError;
  expect(e.path.endsWith(pathEnd)).toBe(true);
  expect(e.message.startsWith(join(dir, pathEnd))).toBe(true);
  expect(e.message).toMatch(problem);
}

describe('dataset folder round trip', () => {
  it('writes and loads back the same pixels, labels, splits and present mask', async () => {
    const ds = tinyDataset();
    await writeDataset(dir, ds);
    const back = await loadDataset(dir);
    expect(back.manifest).toEqual(manifest);
    expect(back.sampleIds).toEqual(ds.sampleIds);
    expect(back.splits).toEqual(ds.splits);
    expect(Array.from(back.labels)).toEqual(Array.from(ds.labels));
    expect(Array.from(back.present)).toEqual(Array.from(ds.present));
    let maxDiff = 0;
    for (let i = 0; i < ds.pixels.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ds.pixels[i] - back.pixels[i]));
    expect(maxDiff).toBeLessThan(1e-6);
    expect(viewPixels(back, 0, 2).every((x) => x === 0)).toBe(true);
  });

  it('loads one view alone, equal to that view of the full load', async () => {
    const ds = tinyDataset();
    await writeDataset(dir, ds);
    const full = await loadDataset(dir);
    const one = await loadDatasetView(dir, 1);
    expect(one.view).toBe(1);
    expect(Array.from(one.present)).toEqual([1, 1, 0, 1]);
    for (let n = 0; n < 4; n++) {
      expect(Array.from(one.pixels.subarray(n * 60, n * 60 + 60))).toEqual(Array.from(viewPixels(full, n, 1)));
    }
    await expect(loadDatasetView(dir, 3)).rejects.toThrow(/view 3 out of range 0\.\.2/);
  });

  it('resizes other sizes, expands grey, reads JPEG bytes and scales each view by its own maximum', async () => {
    await writeDataset(dir, tinyDataset());
    const grey = createRaster(10, 8, 1);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 10; x++) grey.data[y * 10 + x] = x < 5 ? 200 : 100;
    await writeFile(join(dir, 'samples/s0/0.png'), encodePng(grey));
    const rgba = new Uint8Array(10 * 8 * 4).fill(120);
    await writeFile(join(dir, 'samples/s0/1.png'), jpeg.encode({ width: 10, height: 8, data: rgba }, 95).data);
    const ds = await loadDataset(dir);
    const v0 = viewPixels(ds, 0, 0);
    expect(v0.length).toBe(60);
    expect(Math.max(...v0)).toBeCloseTo(1, 5);
    expect(v0[0]).toBeCloseTo(1, 5);
    expect(v0[3 * 4]).toBeCloseTo(0.5, 5);
    expect(v0[3 * 4]).toBe(v0[3 * 4 + 1]);
    expect(v0[3 * 4]).toBe(v0[3 * 4 + 2]);
    const v1 = viewPixels(ds, 0, 1);
    expect(Math.min(...v1)).toBeGreaterThan(0.95);
    // raw offload counts each stored image at its native size: grey 10x8 PNG, 10x8 JPEG (3 components),
    // a missing view nothing, the 5x4 RGB PNGs the writer stored
    expect(Array.from(ds.nativeBytes!.subarray(0, 6))).toEqual([80, 240, 0, 0, 60, 60]);
  });

  it('keeps the augmentation a manifest declares, and rejects a malformed one', async () => {
    const ds = tinyDataset();
    await writeDataset(dir, { ...ds, manifest: { ...manifest, augment: { flip: true, shift: 2 } } });
    expect((await loadDataset(dir)).manifest.augment).toEqual({ flip: true, shift: 2 });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, augment: { rotate: 90 } }));
    await expectFormatError('manifest.json', /augment/);
  });

  it('round-trips a grey (1-channel) dataset and ignores dot files', async () => {
    const grey: DatasetManifest = { ...manifest, channels: 1, views: 2 };
    const size = 4 * 5;
    const pixels = new Float32Array(2 * 2 * size);
    for (let i = 0; i < pixels.length; i++) pixels[i] = ((i * 37) % 256) / 255;
    for (let v = 0; v < 4; v++) pixels[v * size] = 1;
    const ds: MultiViewDataset = { manifest: grey, sampleIds: ['g0', 'g1'], splits: ['train', 'test'], labels: Int32Array.from([1, 2]), present: Uint8Array.from([1, 1, 1, 1]), pixels };
    await writeDataset(dir, ds);
    await writeFile(join(dir, 'samples', '.DS_Store'), 'x');
    await writeFile(join(dir, 'samples', 'g0', '.DS_Store'), 'x');
    const back = await loadDataset(dir);
    expect(back.manifest.channels).toBe(1);
    expect(Array.from(back.pixels).map((x) => Math.round(x * 255))).toEqual(Array.from(pixels).map((x) => Math.round(x * 255)));
  });

  it('refuses to overwrite an existing dataset unless asked', async () => {
    await writeDataset(dir, tinyDataset());
    await expect(writeDataset(dir, tinyDataset())).rejects.toThrow(/already holds a dataset/);
    await writeDataset(dir, tinyDataset(), { overwrite: true });
    expect((await loadDataset(dir)).sampleIds.length).toBe(4);
  });

  it('rejects a sample without views at write time', async () => {
    const w = await DatasetWriter.create(dir, manifest);
    await expect(w.add('a', 'train', 0, [null, null, null])).rejects.toThrow(/no views/);
  });
});

describe('dataset folder validation', () => {
  beforeEach(async () => {
    await writeDataset(dir, tinyDataset());
  });

  it('missing manifest', async () => {
    await unlink(join(dir, 'manifest.json'));
    await expectFormatError('manifest.json', /missing manifest/);
  });

  it('manifest that is not JSON', async () => {
    await writeFile(join(dir, 'manifest.json'), '{"name": ');
    await expectFormatError('manifest.json', /malformed manifest: not JSON/);
  });

  it('manifest with a bad field', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, views: 0 }));
    await expectFormatError('manifest.json', /malformed manifest: field "views"/);
  });

  it('manifest with an unknown field', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, colour: true }));
    await expectFormatError('manifest.json', /malformed manifest.*colour/);
  });

  it('missing labels file', async () => {
    await unlink(join(dir, 'labels.csv'));
    await expectFormatError('labels.csv', /missing labels file/);
  });

  it('bad labels header', async () => {
    await writeFile(join(dir, 'labels.csv'), 'id,split,label\ns0,train,car\n');
    await expectFormatError('labels.csv:1', /header must be "sample,split,label"/);
  });

  it('unknown class', async () => {
    await writeFile(join(dir, 'labels.csv'), 'sample,split,label\ns0,train,car\ns1,test,truck\n');
    await expectFormatError('labels.csv:3', /unknown class "truck"/);
  });

  it('unknown class among many: the classes abbreviated to the first few and a count', async () => {
    const classes = Array.from({ length: 200 }, (_, i) => `class-${i}`);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, classes }));
    await writeFile(join(dir, 'labels.csv'), 'sample,split,label\ns0,train,class-0\ns1,test,truck\n');
    await expectFormatError('labels.csv:3', /unknown class "truck" \(200 classes: "class-0", "class-1", "class-2", "class-3", "class-4" and 195 more\)$/);
  });

  it('ignores blank lines at the end of labels.csv, not between rows', async () => {
    const rows = 'sample,split,label\ns0,train,car\ns1,test,person\ns2,train,bus\ns3,train,car\n';
    await writeFile(join(dir, 'labels.csv'), `${rows}\n\n`);
    expect((await loadDataset(dir)).sampleIds).toEqual(['s0', 's1', 's2', 's3']);
    await writeFile(join(dir, 'labels.csv'), `${rows}\r\n  \r\n`);
    expect((await loadDataset(dir)).sampleIds).toEqual(['s0', 's1', 's2', 's3']);
    await writeFile(join(dir, 'labels.csv'), 'sample,split,label\ns0,train,car\n\ns1,test,person\ns2,train,bus\ns3,train,car\n');
    await expectFormatError('labels.csv:3', /expected 3 fields \(sample,split,label\), found 1/);
  });

  it('unknown split', async () => {
    await writeFile(join(dir, 'labels.csv'), 'sample,split,label\ns0,val,car\n');
    await expectFormatError('labels.csv:2', /unknown split "val"/);
  });

  it('duplicate sample', async () => {
    await writeFile(join(dir, 'labels.csv'), 'sample,split,label\ns0,train,car\ns1,test,bus\ns0,test,bus\n');
    await expectFormatError('labels.csv:4', /duplicate sample "s0" \(first on line 2\)/);
  });

  it('view index out of range', async () => {
    await writeFile(join(dir, 'samples/s1/3.png'), await readFile(join(dir, 'samples/s1/1.png')));
    await expectFormatError('samples/s1/3.png', /view index 3 out of range 0\.\.2/);
  });

  it('unexpected file name in a sample folder', async () => {
    await writeFile(join(dir, 'samples/s1/left.png'), await readFile(join(dir, 'samples/s1/1.png')));
    await expectFormatError('samples/s1/left.png', /unexpected file/);
  });

  it('unreadable image', async () => {
    await writeFile(join(dir, 'samples/s2/1.png'), 'not an image');
    await expectFormatError('samples/s2/1.png', /unreadable image \(not a PNG or JPEG file\)/);
  });

  it('truncated PNG: named as such, not by the decoder library', async () => {
    const png = await readFile(join(dir, 'samples/s2/0.png'));
    await writeFile(join(dir, 'samples/s2/0.png'), png.subarray(0, 30));
    await expectFormatError('samples/s2/0.png', /: unreadable image \(truncated or corrupt PNG\)$/);
    await writeFile(join(dir, 'samples/s2/0.png'), png.subarray(0, Math.floor(png.length / 2)));
    await expectFormatError('samples/s2/0.png', /: unreadable image \(truncated or corrupt PNG\)$/);
  });

  it('sample with no views', async () => {
    await rm(join(dir, 'samples/s3'), { recursive: true });
    await mkdir(join(dir, 'samples/s3'));
    await expectFormatError('samples/s3', /sample has no views/);
  });

  it('sample with no folder', async () => {
    await rm(join(dir, 'samples/s3'), { recursive: true });
    await expectFormatError('samples/s3', /sample has no views \(no folder\)/);
  });

  it('sample folder not in labels.csv', async () => {
    await mkdir(join(dir, 'samples/extra'));
    await expectFormatError('samples/extra', /not listed in labels\.csv/);
  });

  it('a 16-bit PNG is read like an 8-bit one', async () => {
    const png = new PNG({ width: 5, height: 4, bitDepth: 16, colorType: 2, inputColorType: 2, inputHasAlpha: false });
    png.data = Buffer.alloc(5 * 4 * 3 * 2, 0x40);
    await writeFile(join(dir, 'samples/s3/2.png'), PNG.sync.write(png, { bitDepth: 16, colorType: 2, inputColorType: 2, inputHasAlpha: false }));
    const ds = await loadDataset(dir);
    expect(Math.min(...viewPixels(ds, 3, 2))).toBeCloseTo(1, 5);
  });
});

describe('class names in either Unicode normalization', () => {
  const nfc = 'ñandú'.normalize('NFC');
  const nfd = 'ñandú'.normalize('NFD');
  const accented: DatasetManifest = { ...manifest, classes: ['car', nfc] };

  it('are one class: a label in the other form finds it, two classes differing only so are refused', () => {
    expect(nfd).not.toBe(nfc);
    expect(classIndexOf(accented.classes, nfd)).toBe(1);
    expect(classIndexOf(['car', nfd], nfc)).toBe(1);
    expect(classIndexOf(accented.classes, 'nandu')).toBe(-1);
    expect(parseLabels(`sample,split,label\ns0,train,${nfd}\ns1,test,car\n`, accented, 'labels.csv').map((r) => r.label)).toEqual([1, 0]);
    expect(() => parseManifest({ ...manifest, classes: ['car', nfc, nfd] }, 'manifest.json')).toThrow(/class names must be unique \(compared NFC-normalized\)/);
  });
});

describe('sameClasses', () => {
  it('compares class lists name by name, NFC-normalized, in order', () => {
    expect(sameClasses(['car', 'ñandú'.normalize('NFD')], ['car', 'ñandú'.normalize('NFC')])).toBe(true);
    expect(sameClasses(['car', 'bus'], ['bus', 'car'])).toBe(false);
    expect(sameClasses(['car'], ['car', 'bus'])).toBe(false);
  });
});
