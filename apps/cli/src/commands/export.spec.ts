import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerExportCommand } from './export';

async function run(args: string[]): Promise<void> {
  const program = new Command('ddnn').exitOverride().configureOutput({ writeErr: () => undefined });
  registerExportCommand(program);
  await program.parseAsync(['node', 'ddnn', 'export', ...args]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddnn-cli-export-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('ddnn export --out', () => {
  // No platform listens on port 9: the output is refused before the request, or the error would be a connection's.
  const server = ['--server', 'http://127.0.0.1:9', '--token', 'x'.repeat(16), '--session', 's'];

  it('names a missing folder, a file where the folder should be, or a folder given as the file, before asking the platform', async () => {
    const missing = join(dir, 'nonexistent', 'dir');
    await expect(run([...server, '--out', join(missing, 'x.csv')])).rejects.toThrow(`--out ${join(missing, 'x.csv')}: the folder ${missing} does not exist`);
    await writeFile(join(dir, 'file'), '');
    await expect(run([...server, '--out', join(dir, 'file', 'x.csv')])).rejects.toThrow(`--out ${join(dir, 'file', 'x.csv')}: ${join(dir, 'file')} is not a folder`);
    await mkdir(join(dir, 'sub'));
    await expect(run([...server, '--out', join(dir, 'sub')])).rejects.toThrow(`--out ${join(dir, 'sub')} is a folder: name a file in it`);
    await expect(run([...server, '--out', join(dir, 'x.csv')])).rejects.not.toThrow(/--out/);
  });
});
