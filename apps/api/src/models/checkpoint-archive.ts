import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { CheckpointDirError } from './checkpoint-dir';

const WANTED = /^(manifest\.json|(device-\d+|local|edge-[\w.-]+|cloud)\.bin)$/;

/**
 * Unpacks a checkpoint archive (.tar or .tar.gz) into `dest`: manifest.json and the section files, at the
 * top level or inside one folder. Anything else is skipped; only base names are used, so entries cannot
 * write outside `dest`. Throws CheckpointDirError for an unreadable archive or one without a manifest.
 */
export async function unpackCheckpointArchive(archive: Buffer, dest: string): Promise<string[]> {
  const gz = archive.length > 2 && archive[0] === 0x1f && archive[1] === 0x8b;
  const files = new Map<string, Buffer>();
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const base = path.posix.basename(header.name);
      const depth = header.name.replace(/^\.\//, '').split('/').filter(Boolean).length;
      if (header.type === 'file' && depth <= 2 && WANTED.test(base)) {
        if (files.has(base)) {
          next(new CheckpointDirError(`the archive holds ${base} twice`));
          return;
        }
        files.set(base, Buffer.concat(chunks));
      }
      next();
    });
    stream.resume();
  });
  try {
    const source = Readable.from([archive]);
    await (gz ? pipeline(source, createGunzip(), tar) : pipeline(source, tar));
  } catch (e) {
    if (e instanceof CheckpointDirError) throw e;
    throw new CheckpointDirError(`not a readable .tar or .tar.gz archive (${(e as Error).message})`);
  }
  if (!files.has('manifest.json')) throw new CheckpointDirError('the archive has no manifest.json');
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  for (const [name, bytes] of files) await writeFile(path.join(dest, name), bytes);
  return [...files.keys()].sort();
}
