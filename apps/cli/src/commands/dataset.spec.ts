import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { PNG } from 'pngjs';
import { registerDatasetCommands } from './dataset';

async function run(args: string[]): Promise<string> {
  const program = new Command('ddnn').exitOverride().configureOutput({ writeErr: () => undefined });
  registerDatasetCommands(program);
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(['node', 'ddnn', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

jest.setTimeout(120_000);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddnn-cli-ds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ddnn dataset', () => {
  it('synth writes a dataset, info --json summarises it and --sheet draws a PNG', async () => {
    const out = join(dir, 'synth');
    const synth = await run(['dataset', 'synth', '--out', out, '--samples', '12', '--views', '4', '--seed', '3', '--json']);
    const made = JSON.parse(synth.trim().split('\n').pop() as string);
    expect(made.manifest.views).toBe(4);
    expect(made.summary.samples).toBe(12);

    const sheet = join(dir, 'sheet.png');
    const info = await run(['dataset', 'info', out, '--sheet', sheet, '--per-class', '2', '--json']);
    const summary = JSON.parse(info.trim().split('\n').pop() as string);
    expect(summary.classes.map((c: { name: string }) => c.name)).toEqual(['car', 'bus', 'person']);
    expect(summary.classes.reduce((s: number, c: { total: number }) => s + c.total, 0)).toBe(12);
    expect(summary.perView).toHaveLength(4);
    const png = PNG.sync.read(await readFile(sheet));
    expect(png.width).toBeGreaterThan(4 * 96);

    const text = await run(['dataset', 'info', out]);
    expect(text).toMatch(/12 samples \(\d+ train \/ \d+ test\), 4 views of 32x32x3/);
    expect(text).toMatch(/missing/);
  });

  it('split-grid turns a class-per-folder image set into a rows x cols multi-view dataset', async () => {
    const input = join(dir, 'images');
    for (const cls of ['a', 'b']) {
      await mkdir(join(input, cls), { recursive: true });
      for (let i = 0; i < 5; i++) {
        const png = new PNG({ width: 30, height: 20 });
        png.data.fill(40 * i + (cls === 'a' ? 10 : 30));
        await writeFile(join(input, cls, `${i}.png`), PNG.sync.write(png));
      }
    }
    const out = join(dir, 'grid');
    const made = JSON.parse((await run(['dataset', 'split-grid', '--in', input, '--out', out, '--rows', '2', '--cols', '2', '--size', '8', '--json'])).trim().split('\n').pop() as string);
    expect(made.manifest).toMatchObject({ classes: ['a', 'b'], views: 4, height: 8, width: 8 });
    expect(made.summary.samples).toBe(10);
    expect(made.summary.splits).toEqual({ train: 8, test: 2 });
    await expect(run(['dataset', 'split-grid', '--in', input, '--out', join(dir, 'g2'), '--rows', '2', '--cols', '2', '--test-fraction', '1.5'])).rejects.toThrow(/--test-fraction/);
    await expect(run(['dataset', 'split-grid', '--in', input, '--out', join(dir, 'g0'), '--rows', '2', '--cols', '2', '--test-fraction', '0'])).rejects.toThrow(/--test-fraction must be a number in \(0, 1\), got "0"/);
  });

  it('refuses to overwrite without --force and rejects bad flags', async () => {
    const out = join(dir, 'twice');
    await run(['dataset', 'synth', '--out', out, '--samples', '3']);
    await expect(run(['dataset', 'synth', '--out', out, '--samples', '3'])).rejects.toThrow(/already holds a dataset/);
    await expect(run(['dataset', 'synth', '--out', out, '--samples', 'many'])).rejects.toThrow('--samples must be an integer >= 1, got "many"');
    await expect(run(['dataset', 'synth', '--out', out, '--samples', '0'])).rejects.toThrow('--samples must be an integer >= 1, got "0"');
    await expect(run(['dataset', 'info', join(dir, 'nowhere')])).rejects.toThrow(/manifest\.json: missing manifest/);
  });

  it('refuses an empty path (it would be the current folder) and a split-grid output inside its input', async () => {
    const cwd = process.cwd();
    await expect(run(['dataset', 'synth', '--out', '', '--samples', '3'])).rejects.toThrow('--out must name a file or folder, got ""');
    await expect(run(['dataset', 'split-grid', '--in', ' ', '--out', join(dir, 'g'), '--rows', '1', '--cols', '1'])).rejects.toThrow('--in must name a file or folder, got ""');
    await expect(run(['dataset', 'info', ''])).rejects.toThrow('<dir> must name a file or folder, got ""');
    expect(process.cwd()).toBe(cwd);
    const input = join(dir, 'images');
    await mkdir(join(input, 'a'), { recursive: true });
    await expect(run(['dataset', 'split-grid', '--in', input, '--out', join(input, 'ds'), '--rows', '1', '--cols', '1', '--force'])).rejects.toThrow(
      `${join(input, 'ds')}: the output folder cannot be the input folder or inside it (${input})`,
    );
  });

  it('describes the group by its commands (split-grid is the import)', () => {
    const program = new Command('ddnn');
    registerDatasetCommands(program);
    expect(program.commands.find((c) => c.name() === 'dataset')?.description()).toMatch(/^Generate, convert \(split-grid: an image folder into a multi-view dataset\) and inspect/);
  });
});
