import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerEstimateCommand } from './estimate';
import { registerEvalCommands } from './eval';
import { formatEpoch, registerTrainCommand } from './train';

async function run(args: string[]): Promise<string> {
  const program = new Command('ddnn').exitOverride().configureOutput({ writeErr: () => undefined });
  registerTrainCommand(program);
  registerEvalCommands(program);
  registerEstimateCommand(program);
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['node', 'ddnn', ...args]);
  } finally {
    write.mockRestore();
  }
  return out.join('');
}

// The model library (TensorFlow.js) loads when the command runs: more than jest's default 5 s on a loaded machine.
jest.setTimeout(120_000);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddnn-cli-eval-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * Two cameras of 2x2 grey pixels, the second never capturing anything: a device's 8 B of scores per sample are more
 * than the 4 B of its raw image.
 */
async function writeTinyDataset(data: string): Promise<void> {
  const { createRaster, encodePng, Rng } = await import('@ddnn/datasets');
  const rng = new Rng(3);
  const rows = ['sample,split,label'];
  for (let i = 0; i < 24; i++) {
    const id = `s${i}`;
    const label = i % 2;
    const img = createRaster(2, 2, 1);
    for (let k = 0; k < 4; k++) img.data[k] = label ? 200 + rng.int(50) : rng.int(50);
    await mkdir(join(data, 'samples', id), { recursive: true });
    await writeFile(join(data, 'samples', id, '0.png'), encodePng(img));
    rows.push(`${id},${i < 16 ? 'train' : 'test'},${label ? 'b' : 'a'}`);
  }
  await writeFile(join(data, 'manifest.json'), JSON.stringify({ name: 'tiny', classes: ['a', 'b'], views: 2, height: 2, width: 2, channels: 1 }));
  await writeFile(join(data, 'labels.csv'), rows.join('\n') + '\n');
}

describe('ddnn train and eval output', () => {
  it('reads n/a for a device that never captured anything, says which accuracies score all samples, and says "more" when DDNN sends more than raw', async () => {
    const data = join(dir, 'data');
    const model = join(dir, 'model');
    await writeTinyDataset(data);
    const trained = await run(['train', '--data', data, '--out', model, '--epochs', '1', '--no-progress', '--devices', '0,1']);
    expect(trained).toMatch(/overall \d+\.\d% \(each sample at the exit it took\); each exit on all samples: local \d+\.\d%, cloud \d+\.\d%/);
    expect(trained).toMatch(/B\/sample vs 4 B raw offload \(\d+\.\dx more\)\n$/);

    const evaluated = await run(['eval', '--model', model, '--data', data]);
    expect(evaluated).toMatch(/^overall \d+\.\d% \(each sample at the exit it took\)$/m);
    expect(evaluated).toMatch(/^each exit on all samples: local \d+\.\d% {2}cloud \d+\.\d%$/m);
    expect(evaluated).toMatch(/^individual devices \(on all samples\): \d+\.\d% {2}n\/a$/m);
    expect(evaluated).toMatch(/B\/sample vs 4 B raw offload \(\d+\.\dx more\)\n$/);

    const estimated = await run(['estimate', '--model', model, '--data', data]);
    expect(estimated).toMatch(/^accuracy at T=[\d.]+: overall over all 8 test samples, each exit over the samples that exited there$/m);
    expect(estimated).toMatch(/^overall +8 samples +estimated/m);
    expect(estimated).toMatch(/^(local|cloud) +\d+ exited at (local|cloud) +estimated/m);

    const allFailed = await run(['eval', '--model', model, '--data', data, '--fail', '0']);
    expect(allFailed).toMatch(/^individual devices \(on all samples\): failed {2}n\/a$/m);
    expect(allFailed).toMatch(/0\.0 B\/sample vs 0 B raw offload \(nothing sent, as raw offload would\)\n$/);
  });

  it('prints n/a for an exit that saw no sample in an epoch', () => {
    const line = formatEpoch({
      epoch: 1,
      epochs: 1,
      seconds: 0,
      learningRate: 1e-3,
      exits: [
        { exit: 'device-0', loss: 0.5, accuracy: 0.75, samples: 16 },
        { exit: 'device-1', loss: 0, accuracy: 0, samples: 0 },
        { exit: 'local', loss: 0.5, accuracy: 0.75, samples: 16 },
      ],
    });
    expect(line).toBe('d0 0.500/75%  d1 n/a  local 0.500/75%');
  });
});
