import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerTrainCommand } from './train';

async function run(args: string[]): Promise<void> {
  const program = new Command('ddnn').exitOverride().configureOutput({ writeErr: () => undefined });
  registerTrainCommand(program);
  await program.parseAsync(['node', 'ddnn', 'train', ...args]);
}

// The model library (TensorFlow.js) loads when the command runs: more than jest's default 5 s on a loaded machine.
jest.setTimeout(60_000);

describe('ddnn train --out', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddnn-cli-train-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses, before training, a folder that holds anything but a checkpoint, and a checkpoint without --force', async () => {
    // A dataset (train --data D --out D replaced its manifest.json): refused even with --force, and left as it was.
    const data = join(dir, 'data');
    await mkdir(join(data, 'samples'), { recursive: true });
    await writeFile(join(data, 'manifest.json'), '{"name":"d"}');
    await writeFile(join(data, 'labels.csv'), 'sample,split,label\n');
    await expect(run(['--data', data, '--out', data, '--force'])).rejects.toThrow(`${data} is not empty and not a checkpoint folder (it holds labels.csv, samples)`);
    expect((await readdir(data)).sort()).toEqual(['labels.csv', 'manifest.json', 'samples']);
    expect(await readFile(join(data, 'manifest.json'), 'utf8')).toBe('{"name":"d"}');

    // A checkpoint: refused without --force (the dataset is not even read: the refusal comes first).
    const model = join(dir, 'model');
    await mkdir(model);
    await writeFile(join(model, 'manifest.json'), '{}');
    await writeFile(join(model, 'cloud.bin'), '');
    await expect(run(['--data', join(dir, 'nowhere'), '--out', model])).rejects.toThrow(`${model} already holds a checkpoint; pass overwrite (--force) to replace it`);
    // With --force it goes on to the dataset (missing here).
    await expect(run(['--data', join(dir, 'nowhere'), '--out', model, '--force'])).rejects.toThrow(/nowhere/);
  });

  it('refuses an empty --out or --data (the current folder)', async () => {
    await expect(run(['--data', join(dir, 'data'), '--out', ''])).rejects.toThrow('--out must name a file or folder, got ""');
    await expect(run(['--data', '', '--out', join(dir, 'x')])).rejects.toThrow('--data must name a file or folder, got ""');
  });
});

describe('ddnn train: checks before the images are loaded', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddnn-cli-train-plan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Every view image is corrupt: a run refused for its plan must be refused before any image is read.
  async function writeDataset(name: string, manifest: object, rows: string[][]): Promise<string> {
    const data = join(dir, name);
    for (const [sample] of rows) {
      await mkdir(join(data, 'samples', sample), { recursive: true });
      await writeFile(join(data, 'samples', sample, '0.png'), 'not a png');
    }
    await writeFile(join(data, 'manifest.json'), JSON.stringify(manifest));
    await writeFile(join(data, 'labels.csv'), ['sample,split,label', ...rows.map((r) => r.join(','))].join('\n') + '\n');
    return data;
  }

  it('refuses a dataset the schema allows but tfjs cannot hold, naming the limit and what to change', async () => {
    // 64 views of 1024x1024x3: one sample is 805 MB of float32 input, and a step needs some 11 GiB in tfjs.
    const data = await writeDataset('huge', { name: 'huge', classes: ['a', 'b'], views: 64, height: 1024, width: 1024, channels: 3 }, [
      ['s0', 'train', 'a'],
      ['s1', 'train', 'b'],
      ['s2', 'train', 'a'],
      ['s3', 'test', 'b'],
    ]);
    const out = join(dir, 'huge-model');
    await expect(run(['--data', data, '--out', out, '--epochs', '1'])).rejects.toThrow(
      /^training cannot fit in the tfjs wasm backend's 4\.0 GiB of memory: .* needs at least \d+\.\d GiB; use smaller images \(ddnn dataset split-grid --size\), fewer views \(--devices\)/,
    );
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a dataset without a test split before training', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => [`s${i}`, 'train', i % 2 ? 'a' : 'b']);
    const data = await writeDataset('no-test', { name: 'no-test', classes: ['a', 'b'], views: 1, height: 4, width: 4, channels: 1 }, rows);
    const out = join(dir, 'no-test-model');
    await expect(run(['--data', data, '--out', out, '--epochs', '2', '--no-progress'])).rejects.toThrow(
      'the dataset has no test samples (no row of labels.csv has split "test"): the trained model could not be evaluated',
    );
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });
});
