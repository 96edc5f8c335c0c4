import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * A path that is not a regular file (a FIFO, a socket, a device, a folder), or one larger than its reader allows.
 * Reading a FIFO blocks until something writes into it: a synchronous read froze a server's event loop, an
 * asynchronous one a thread of libuv's small pool; /dev/zero never ends.
 */
export class UnreadableFileError extends Error {
  readonly code = 'EUNREADABLE';
}

/** Opened without blocking (a FIFO opens at once), so that its type is known before anything is read. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

function check(st: Stats, maxBytes: number): number {
  if (!st.isFile()) throw new UnreadableFileError(`not a regular file: ${kindOf(st)}`);
  if (st.size > maxBytes) throw new UnreadableFileError(`${st.size} bytes, more than the ${maxBytes} allowed`);
  return st.size;
}

/**
 * The bytes of a regular file of at most `maxBytes` (links are followed to their target, which must be one too).
 * Errors of the file system (ENOENT and the like) are thrown as they are; anything else as UnreadableFileError.
 */
export function readRegularFileSync(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, READ_FLAGS);
  try {
    const size = check(fstatSync(fd), maxBytes);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    // A file that shrank while read is what it is now; one that grew is read to the size it had.
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** readRegularFileSync without blocking the event loop. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, READ_FLAGS);
  try {
    const size = check(await handle.stat(), maxBytes);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

/** A regular file of at most `maxBytes`, checked as readRegularFile does, as a stream (it closes the file at its end). */
export async function openRegularFile(path: string, maxBytes: number): Promise<Readable> {
  const handle = await open(path, READ_FLAGS);
  try {
    check(await handle.stat(), maxBytes);
  } catch (e) {
    await handle.close();
    throw e;
  }
  return handle.createReadStream();
}
