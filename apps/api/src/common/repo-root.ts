import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/** The repository root (the folder holding nx.json), found from this file whether run from src or dist. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`repository root not found above ${__dirname}`);
    dir = parent;
  }
  cached = dir;
  return dir;
}

/** The platform version, from the root package.json. */
export function platformVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).version;
}
