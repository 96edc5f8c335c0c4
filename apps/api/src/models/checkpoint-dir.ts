import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSectionInfo } from '@ddnn/contracts';
import { parseCheckpointManifest } from '@ddnn/ddnn';

const SECTION_FILE = /^(device-\d+|local|edge-[\w.-]+|cloud)\.bin$/;

/** A checkpoint directory as the server sees it: manifest, version and section files. */
export interface CheckpointDir {
  path: string;
  manifest: Record<string, unknown>;
  name: string;
  version: string;
  sections: ModelSectionInfo[];
}

/** A checkpoint directory that is not usable, with the reason. */
export class CheckpointDirError extends Error {}

/** Reads manifest.json and lists the section weight files of a checkpoint directory. */
export async function readCheckpointDir(dir: string): Promise<CheckpointDir> {
  const abs = path.resolve(dir);
  let text: string;
  try {
    text = await readFile(path.join(abs, 'manifest.json'), 'utf8');
  } catch (e) {
    throw new CheckpointDirError(`${abs}: no readable manifest.json (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new CheckpointDirError(`${abs}/manifest.json: invalid JSON (${(e as Error).message})`);
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw new CheckpointDirError(`${abs}/manifest.json: not a JSON object`);
  const m = manifest as Record<string, unknown>;
  let parsed;
  try {
    parsed = parseCheckpointManifest(manifest);
  } catch (e) {
    throw new CheckpointDirError(`${abs}/manifest.json: ${(e as Error).message}`);
  }
  const present = new Map<string, number>();
  for (const file of await readdir(abs)) if (SECTION_FILE.test(file)) present.set(file, (await stat(path.join(abs, file))).size);
  const sections: ModelSectionInfo[] = [];
  for (const entry of parsed.sections) {
    const size = present.get(entry.file);
    if (size === undefined) throw new CheckpointDirError(`${abs}: section ${entry.name} has no file ${entry.file}`);
    if (size !== entry.bytes) throw new CheckpointDirError(`${abs}/${entry.file}: ${size} bytes, the manifest says ${entry.bytes}`);
    sections.push({ name: entry.name, file: entry.file, bytes: size });
  }
  // A checkpoint without an explicit version is identified by its manifest's content.
  const version = typeof m.version === 'string' && m.version ? m.version : createHash('sha256').update(text).digest('hex').slice(0, 12);
  const name = typeof m.name === 'string' && m.name ? m.name : path.basename(abs);
  return { path: abs, manifest: m, name, version, sections };
}
