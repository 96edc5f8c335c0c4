import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { InvalidInputError, type ModelSectionInfo } from '@ddnn/contracts';
import { readRegularFile, UnreadableFileError } from '@ddnn/datasets';
import { CheckpointError, decodeSection, MAX_CHECKPOINT_MANIFEST_BYTES as MAX_MANIFEST_BYTES, parseCheckpointManifest } from '@ddnn/ddnn';

/** The file names a checkpoint folder may hold: its manifest and its section weights. */
export const SECTION_FILE = /^(device-\d+|local|edge-[\w.-]+|cloud)\.bin$/;
export const CHECKPOINT_FILE = /^(manifest\.json|(device-\d+|local|edge-[\w.-]+|cloud)\.bin)$/;

/** A checkpoint directory as the server sees it: manifest and section files. */
export interface CheckpointDir {
  path: string;
  manifest: Record<string, unknown>;
  /** The manifest as stored (what its version hash covers). */
  manifestText: string;
  name: string;
  sections: ModelSectionInfo[];
}

/**
 * A checkpoint directory that is not usable, with the reason. Messages name files by their name in the
 * checkpoint only: never a server path, never a byte of their content.
 */
export class CheckpointDirError extends InvalidInputError {}

/** Size of a regular file (not a link, not a folder) in `dir`, or null when there is none by that name. */
async function regularFileSize(dir: string, name: string): Promise<number | null> {
  try {
    const st = await lstat(path.join(dir, name));
    if (!st.isFile()) throw new CheckpointDirError(`${name} is not a regular file (links are not followed)`);
    return st.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/**
 * The version a checkpoint is registered with: the manifest's own, or else a hash of its content, the manifest and
 * every section's weights (two checkpoints with one manifest and other weights had one version, so a device could
 * not tell them apart). Computed once, at registration (weights are streamed: an upload may hold 256 MB of them).
 */
export async function checkpointVersion(cp: CheckpointDir): Promise<string> {
  if (typeof cp.manifest.version === 'string' && cp.manifest.version) return cp.manifest.version;
  const hash = createHash('sha256').update(cp.manifestText);
  for (const s of cp.sections) await pipeline(createReadStream(path.join(cp.path, s.file)), hash, { end: false });
  return hash.digest('hex').slice(0, 12);
}

/** Reads manifest.json and lists the section weight files of a checkpoint directory. */
export async function readCheckpointDir(dir: string): Promise<CheckpointDir> {
  const abs = path.resolve(dir);
  const manifestBytes = await regularFileSize(abs, 'manifest.json');
  if (manifestBytes === null) throw new CheckpointDirError('no readable manifest.json');
  if (manifestBytes > MAX_MANIFEST_BYTES) throw new CheckpointDirError(`manifest.json is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const text = await readFile(path.join(abs, 'manifest.json'), 'utf8');
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    // The parser's message quotes the file; a client must not be able to read server files through it.
    throw new CheckpointDirError('manifest.json: invalid JSON');
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw new CheckpointDirError('manifest.json: not a JSON object');
  const m = manifest as Record<string, unknown>;
  let parsed;
  try {
    parsed = parseCheckpointManifest(manifest);
  } catch (e) {
    throw new CheckpointDirError(`manifest.json: ${(e as Error).message}`.slice(0, 500));
  }
  const present = new Map<string, number>();
  for (const file of await readdir(abs)) {
    if (!SECTION_FILE.test(file)) continue;
    const size = await regularFileSize(abs, file);
    if (size !== null) present.set(file, size);
  }
  const sections: ModelSectionInfo[] = [];
  for (const entry of parsed.sections) {
    const size = present.get(entry.file);
    if (size === undefined) throw new CheckpointDirError(`section ${entry.name} has no file ${entry.file}`);
    if (size !== entry.bytes) throw new CheckpointDirError(`${entry.file}: ${size} bytes, the manifest says ${entry.bytes}`);
    sections.push({ name: entry.name, file: entry.file, bytes: size });
  }
  const name = typeof m.name === 'string' && m.name ? m.name : path.basename(abs);
  return { path: abs, manifest: m, manifestText: text, name, sections };
}

/**
 * Decodes every section's weights once, at registration: a NaN or infinite weight is refused here (400) rather than
 * by the event log in the model's first session. Files are read no larger than readCheckpointDir measured them.
 */
export async function checkCheckpointWeights(cp: CheckpointDir): Promise<void> {
  const manifest = parseCheckpointManifest(cp.manifest);
  for (const s of cp.sections) {
    try {
      decodeSection(manifest, s.name, await readRegularFile(path.join(cp.path, s.file), s.bytes));
    } catch (e) {
      if (e instanceof CheckpointError) throw new CheckpointDirError(e.message);
      if (e instanceof UnreadableFileError) throw new CheckpointDirError(`${s.file}: ${e.message}`);
      throw e;
    }
  }
}
