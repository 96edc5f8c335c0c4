import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { copyRegularFile } from './models.service';

describe('copying a checkpoint file into the staging folder', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'ddnn-copy-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('copies a regular file, and never through a link swapped in after the folder was checked', async () => {
    writeFileSync(path.join(dir, 'cloud.bin'), 'weights');
    await copyRegularFile(path.join(dir, 'cloud.bin'), path.join(dir, 'copy.bin'), 'cloud.bin');
    expect(readFileSync(path.join(dir, 'copy.bin'), 'utf8')).toBe('weights');
    // The server's secrets, say, behind a link with a section's name.
    writeFileSync(path.join(dir, 'secret'), 'do not copy');
    symlinkSync(path.join(dir, 'secret'), path.join(dir, 'device-0.bin'));
    await expect(copyRegularFile(path.join(dir, 'device-0.bin'), path.join(dir, 'copy-0.bin'), 'device-0.bin')).rejects.toThrow('device-0.bin became a symbolic link while being copied');
    await expect(copyRegularFile(path.join(dir, 'gone.bin'), path.join(dir, 'copy-1.bin'), 'gone.bin')).rejects.toThrow('gone.bin was removed while being copied');
    // Written exclusively: an existing file is not overwritten.
    await expect(copyRegularFile(path.join(dir, 'cloud.bin'), path.join(dir, 'copy.bin'), 'cloud.bin')).rejects.toThrow(/EEXIST/);
  });
});
