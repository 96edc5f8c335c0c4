import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegularFile, readRegularFile, readRegularFileSync, UnreadableFileError } from './files';

describe('reading only regular files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ddnn-files-'));
    writeFileSync(join(dir, 'ok.bin'), Buffer.from([1, 2, 3]));
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    symlinkSync('/dev/zero', join(dir, 'zero'));
    symlinkSync(join(dir, 'ok.bin'), join(dir, 'link'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['stream', async (p: string, max: number) => Buffer.concat(await (await openRegularFile(p, max)).toArray())],
    ['sync', (p: string, max: number) => Promise.resolve().then(() => readRegularFileSync(p, max))],
    ['async', readRegularFile],
  ])('%s: reads a file or a link to one, refuses a FIFO, a device, a folder and a file over the limit without blocking', async (_, read) => {
    expect([...(await read(join(dir, 'ok.bin'), 3))]).toEqual([1, 2, 3]);
    expect([...(await read(join(dir, 'link'), 3))]).toEqual([1, 2, 3]);
    // Nothing ever writes into the pipe: a read that blocked would hang this test.
    await expect(read(join(dir, 'pipe'), 100)).rejects.toThrow(new UnreadableFileError('not a regular file: a named pipe (FIFO)'));
    await expect(read(join(dir, 'zero'), 100)).rejects.toThrow('not a regular file: a device');
    await expect(read(dir, 100)).rejects.toThrow('not a regular file: a folder');
    await expect(read(join(dir, 'ok.bin'), 2)).rejects.toThrow('3 bytes, more than the 2 allowed');
    await expect(read(join(dir, 'missing'), 2)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
