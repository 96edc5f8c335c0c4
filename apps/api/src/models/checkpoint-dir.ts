import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSectionInfo } from '@ddnn/contracts';

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
  const sections: ModelSectionInfo[] = [];
  for (const file of (await readdir(abs)).sort()) {
    const match = SECTION_FILE.exec(file);
    if (match) sections.push({ name: match[1], file, bytes: (await stat(path.join(abs, file))).size });
  }
  if (!sections.some((s) => s.name.startsWith('device-'))) throw new CheckpointDirError(`${abs}: no device-<view>.bin section file`);
  // A checkpoint without an explicit version is identified by its manifest's content.
  const version = typeof m.version === 'string' && m.version ? m.version : createHash('sha256').update(text).digest('hex').slice(0, 12);
  const name = typeof m.name === 'string' && m.name ? m.name : path.basename(abs);
  return { path: abs, manifest: m, name, version, sections };
}
