import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Checks, before any work, that a file can be written at `file` (a command's output flag `flag`): its folder exists
 * and is a folder, and the file is not a folder. A write into a missing folder otherwise fails after the work with
 * Node's raw `ENOENT: no such file or directory, open '...'`.
 */
export async function checkOutputFile(flag: string, file: string): Promise<void> {
  const folder = dirname(file);
  const folderStat = await stat(folder).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new Error(`${flag} ${file}: the folder ${folder} does not exist`);
    throw new Error(`${flag} ${file}: cannot read the folder ${folder} (${err.code ?? err.message})`);
  });
  if (!folderStat.isDirectory()) throw new Error(`${flag} ${file}: ${folder} is not a folder`);
  const fileStat = await stat(file).catch(() => null);
  if (fileStat?.isDirectory()) throw new Error(`${flag} ${file} is a folder: name a file in it`);
}
