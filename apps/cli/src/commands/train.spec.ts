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
