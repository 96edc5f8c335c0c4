import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Headers } from 'tar-stream';
import { DomainError, InvalidInputError, LimitExceededError } from '@ddnn/contracts';
import { CHECKPOINT_FILE } from './checkpoint-dir';

/** What an uploaded archive may unpack to (README "Configuration", SECURITY.md). */
export interface ArchiveLimits {
  /** Entries of any kind, folders included. */
  maxEntries: number;
  /** Bytes of one unpacked file. */
  maxEntryBytes: number;
  /** Bytes of the whole unpacked tar stream (headers and skipped data included). */
  maxTotalBytes: number;
  /** Unpacked bytes per packed byte read, checked once more than RATIO_FLOOR bytes are unpacked. */
  maxRatio: number;
}

/** Below this many unpacked bytes the ratio is not judged: tar headers and padding compress extremely well. */
const RATIO_FLOOR = 1024 * 1024;

/** Counts the bytes that pass through and fails as soon as `check` returns a reason. */
class Meter extends Transform {
  bytes = 0;
  constructor(private readonly check: (bytes: number) => DomainError | null) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(this.check(this.bytes), chunk);
  }
}

/** An entry's path inside the archive, or a reason it may not be unpacked at all. */
function entryPath(header: Headers): string[] {
  const raw = header.name;
  const shown = JSON.stringify(raw.slice(0, 120));
  if (raw.includes('\u0000') || raw.includes('\\')) throw new InvalidInputError(`archive entry ${shown}: not a plain file name`);
  if (raw.startsWith('/')) throw new InvalidInputError(`archive entry ${shown}: absolute paths are not allowed`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidInputError(`archive entry ${shown}: parent paths (..) are not allowed`);
  if (header.type === 'symlink' || header.type === 'link') throw new InvalidInputError(`archive entry ${shown}: links are not allowed`);
  if (header.type === 'directory') {
    if (parts.length > 1) throw new InvalidInputError(`archive entry ${shown}: a checkpoint is one folder, without subfolders`);
    return parts;
  }
  if (header.type !== 'file') throw new InvalidInputError(`archive entry ${shown}: a ${header.type} is not allowed, only files`);
  const base = parts[parts.length - 1] ?? '';
  if (parts.length > 2 || !CHECKPOINT_FILE.test(base)) {
    throw new InvalidInputError(`archive entry ${shown}: not a file a checkpoint holds (manifest.json, device-<n>.bin, local.bin, edge-<name>.bin, cloud.bin)`);
  }
  return parts;
}

/**
 * Unpacks a checkpoint archive (.tar or .tar.gz, read from the file `archive`) into the empty folder `dest`,
 * streaming: each file goes to disk as it is read, so memory stays at a few stream buffers whatever the
 * archive holds. Only checkpoint file names at the top level or inside one folder are accepted; links,
 * absolute and parent paths, other entry types and anything over a limit fail the whole archive with an
 * InvalidInputError (400) or LimitExceededError (413) naming the entry or the limit. The caller owns `dest`
 * and removes it on failure.
 */
export async function unpackCheckpointArchive(archive: string, dest: string, limits: ArchiveLimits): Promise<string[]> {
  const magic = Buffer.alloc(2);
  const fh = await open(archive, 'r');
  try {
    await fh.read(magic, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const gz = magic[0] === 0x1f && magic[1] === 0x8b;
  // The archive people reach for first: said by name rather than as a broken tar.
  if (magic[0] === 0x50 && magic[1] === 0x4b) throw new InvalidInputError('a .zip archive: pack the checkpoint folder as .tar or .tar.gz (tar czf model.tar.gz <folder>)');

  const packed = new Meter(() => null);
  const unpacked = new Meter((bytes) => {
    if (bytes > limits.maxTotalBytes) {
      return new LimitExceededError(`the archive unpacks to more than ${limits.maxTotalBytes} bytes (DDNN_ARCHIVE_MAX_TOTAL_BYTES)`);
    }
    if (bytes > RATIO_FLOOR && bytes > limits.maxRatio * Math.max(packed.bytes, 1)) {
      return new LimitExceededError(`the archive's compression ratio is above ${limits.maxRatio} (DDNN_ARCHIVE_MAX_RATIO)`);
    }
    return null;
  });

  const written = new Set<string>();
  let folder: string | null = null;
  let entries = 0;
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    // Failing the archive destroys the entry stream with the same error; the outer pipeline reports it.
    stream.on('error', () => undefined);
    const fail = (e: unknown) => {
      stream.resume();
      next(e as Error);
    };
    try {
      if (++entries > limits.maxEntries) throw new LimitExceededError(`the archive has more than ${limits.maxEntries} entries (DDNN_ARCHIVE_MAX_ENTRIES)`);
      const parts = entryPath(header);
      if (header.type === 'directory') {
        stream.resume();
        stream.on('end', () => next());
        return;
      }
      const base = parts[parts.length - 1];
      const dir = parts.length === 2 ? parts[0] : '';
      if (folder !== null && folder !== dir) throw new InvalidInputError('the archive holds files in more than one folder');
      folder = dir;
      if (written.has(base)) throw new InvalidInputError(`the archive holds ${base} twice`);
      const size = header.size ?? 0;
      if (size > limits.maxEntryBytes) {
        throw new LimitExceededError(`archive entry ${base} is larger than ${limits.maxEntryBytes} bytes (DDNN_ARCHIVE_MAX_ENTRY_BYTES)`);
      }
      written.add(base);
      // The header's size is checked above; counting again guards against a header that lies.
      const meter = new Meter((bytes) =>
        bytes > limits.maxEntryBytes ? new LimitExceededError(`archive entry ${base} is larger than ${limits.maxEntryBytes} bytes (DDNN_ARCHIVE_MAX_ENTRY_BYTES)`) : null,
      );
      // 'wx': dest is a fresh private folder and base a plain name, so this creates a new regular file there.
      pipeline(stream, meter, createWriteStream(path.join(dest, base), { flags: 'wx', mode: 0o600 })).then(() => next(), fail);
    } catch (e) {
      fail(e);
    }
  });

  try {
    const source = createReadStream(archive);
    await (gz ? pipeline(source, packed, createGunzip(), unpacked, tar) : pipeline(source, packed, unpacked, tar));
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw new InvalidInputError('not a complete, readable .tar or .tar.gz archive');
  }
  if (!written.has('manifest.json')) throw new InvalidInputError('the archive has no manifest.json');
  return [...written].sort();
}
