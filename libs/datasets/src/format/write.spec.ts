import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetFormatError } from '../errors';
import type { DatasetManifest } from '../types';
import { DatasetWriter } from './write';

const manifest: DatasetManifest = { name: 'tiny', classes: ['a', 'b'], views: 1, height: 2, width: 2, channels: 1 };

describe('DatasetWriter.create', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddnn-write-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the CLI flag along with the option when it refuses to replace a dataset', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await writeFile(join(dir, 'labels.csv'), 'sample,split,label\n');
    await expect(DatasetWriter.create(dir, manifest)).rejects.toThrow(
      new DatasetFormatError(dir, 'already holds a dataset (manifest.json, labels.csv); pass overwrite (--force) to replace it'),
    );
  });

  it('never writes over a manifest.json that is not a dataset\'s (a model checkpoint), even with overwrite', async () => {
    await writeFile(join(dir, 'manifest.json'), '{"formatVersion":2}');
    await writeFile(join(dir, 'cloud.bin'), 'weights');
    for (const overwrite of [false, true]) {
      await expect(DatasetWriter.create(dir, manifest, { overwrite })).rejects.toThrow(/holds a manifest\.json that is not a dataset's \(no labels\.csv beside it\), for instance a model checkpoint/);
    }
    expect((await readdir(dir)).sort()).toEqual(['cloud.bin', 'manifest.json']);
    expect(await readFile(join(dir, 'manifest.json'), 'utf8')).toBe('{"formatVersion":2}');
  });
});
