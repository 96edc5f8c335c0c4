import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerEstimateCommand } from './estimate';

async function run(args: string[]): Promise<void> {
  const program = new Command('ddnn').exitOverride().configureOutput({ writeErr: () => undefined });
  registerEstimateCommand(program);
  await program.parseAsync(['node', 'ddnn', ...args]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddnn-cli-estimate-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('ddnn estimate', () => {
  it('refuses a reference that is the estimated dataset itself, however it is named, before reading anything', async () => {
    const data = join(dir, 'data');
    await symlink(dir, join(dir, 'link'));
    const refusal = /--reference names the dataset of --data .*: the reference must be labelled data the estimate is not made on/;
    // Neither the model nor the dataset exists: the refusal comes first.
    await expect(run(['estimate', '--model', join(dir, 'none'), '--data', data, '--reference', data])).rejects.toThrow(refusal);
    await expect(run(['estimate', '--model', join(dir, 'none'), '--data', dir, '--reference', `${join(dir, 'other')},${join(dir, 'link')}`])).rejects.toThrow(refusal);
    await expect(run(['estimate', '--model', join(dir, 'none'), '--data', data, '--reference', join(dir, 'other')])).rejects.not.toThrow(refusal);
  });
});
