import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@ddnn/testing';

/** The checkpoint e2e sessions run: E2E_MODEL_DIR when set, else the committed default model. */
export function e2eModelDir(): string {
  const dir = process.env.E2E_MODEL_DIR ? path.resolve(process.env.E2E_MODEL_DIR) : path.join(repoRoot, 'models', 'default');
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new Error(`no checkpoint at ${dir}: set E2E_MODEL_DIR or restore models/default (see models/README.md)`);
  }
  return dir;
}
