import fs from 'node:fs';
import path from 'node:path';

/** Repository root: the folder holding nx.json, above this file (src or dist). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`repository root not found above ${__dirname}`);
    dir = up;
  }
  return dir;
}
