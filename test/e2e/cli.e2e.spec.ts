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

describe('ddnn --help', () => {
  it('lists every command without loading any command\'s implementation (TensorFlow.js, the datasets, pg)', () => {
    // Run the built CLI and print, on exit, every file it loaded.
    const probe = `process.argv = [process.argv[0], 'ddnn', '--help'];
process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache))));
require(${JSON.stringify(main)});`;
    expect(ddnn(['--help']).status).toBe(0); // builds dist/ if a source changed
    const r = spawnSync(process.execPath, ['-e', probe], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    for (const command of ['bench', 'events', 'dataset', 'train', 'eval', 'sweep', 'report', 'analyze', 'export']) expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const loaded = JSON.parse(r.stderr) as string[];
    expect(loaded.some((f) => f.includes(`${path.sep}commander${path.sep}`))).toBe(true);
    const heavy = loaded.filter((f) => /[\\/](libs[\\/](ddnn|datasets|events|policies|contracts)|node_modules[\\/](@tensorflow|pg|pg-copy-streams|zod|cli-progress))[\\/]/.test(f));
    expect(heavy).toEqual([]);
  });
});
