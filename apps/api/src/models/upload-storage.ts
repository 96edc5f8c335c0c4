import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The private folder (mode 0700, under the data directory) where uploads and their unpacking live. */
export function uploadTempDir(dataDir: string): string {
  const dir = path.resolve(dataDir, 'tmp');
  // The data directory itself keeps the default mode: a recursive mkdir would give it 0700 too, and the embedded
  // PostgreSQL (run as `postgres` when we are root) must be able to enter it on a first start.
  mkdirSync(path.resolve(dataDir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The part of a multer file this storage fills in. */
export interface StoredUpload {
  path: string;
  size: number;
}

/**
 * A multer storage engine that streams an uploaded file to a new private file in `dir` (never into
 * memory). multer enforces the size limit and calls _removeFile for a file cut short.
 */
export class PrivateDiskStorage {
  constructor(private readonly dir: string) {}

  _handleFile(_req: unknown, file: { stream: Readable }, cb: (error: Error | null, info?: StoredUpload) => void): void {
    const target = path.join(this.dir, `upload-${randomUUID()}`);
    const out = createWriteStream(target, { flags: 'wx', mode: 0o600 });
    pipeline(file.stream, out).then(
      () => cb(null, { path: target, size: out.bytesWritten }),
      (e: Error) => unlink(target).then(() => cb(e), () => cb(e)),
    );
  }

  _removeFile(_req: unknown, file: { path?: string }, cb: (error: Error | null) => void): void {
    if (!file.path) return cb(null);
    unlink(file.path).then(() => cb(null), () => cb(null));
  }
}
