import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@ddnn/testing';

const runApp = path.join(repoRoot, 'scripts', 'run-app.mjs');
const main = path.join(repoRoot, 'dist', 'apps', 'cli', 'apps', 'cli', 'src', 'main.js');
const stamp = path.join(repoRoot, 'dist', 'apps', 'cli', '.build-stamp');

function ddnn(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [runApp, 'cli', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run ddnn (scripts/run-app.mjs)', () => {
  it('builds the CLI once, then starts it without compiling again while no source changed', () => {
    const first = ddnn(['--help']);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('Usage: ddnn');
    const built = { main: fs.statSync(main).mtimeMs, stamp: fs.statSync(stamp).mtimeMs };
    const second = ddnn(['--help']);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    // Nothing was compiled: tsc would have rewritten main.js and the stamp.
    expect({ main: fs.statSync(main).mtimeMs, stamp: fs.statSync(stamp).mtimeMs }).toEqual(built);
  });
});
