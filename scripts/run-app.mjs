// `npm run -s ddnn -- …` / `npm run -s device -- …`: compiles the app when its sources (or a library's) changed
// since the last build, quietly (to stderr on failure), then runs it with the given arguments, passing signals
// and the exit code on. An up-to-date build starts at once.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [app, ...args] = process.argv.slice(2);
const tsconfig = path.join(root, 'apps', app, 'tsconfig.app.json');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const main = path.join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
const stamp = path.join(root, 'dist', 'apps', app, '.build-stamp');

/** Newest modification time (ms) of the files under `dir` (0 when it does not exist). */
function newest(dir) {
  let t = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.isFile()) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

function upToDate() {
  let built;
  try {
    if (!fs.existsSync(main)) return false;
    built = fs.statSync(stamp).mtimeMs;
  } catch {
    return false;
  }
  const sources = [path.join(root, 'apps', app, 'src'), ...fs.readdirSync(path.join(root, 'libs')).map((l) => path.join(root, 'libs', l, 'src'))];
  const configs = [tsconfig, path.join(root, 'tsconfig.base.json')].map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0));
  return Math.max(...configs, ...sources.map(newest)) < built;
}

if (!upToDate()) {
  const started = Date.now();
  for (const [tool, toolArgs] of [
    ['tsc', ['-p', tsconfig]],
    ['tsc-alias', ['-p', tsconfig]],
  ]) {
    const r = spawnSync(bin(tool), toolArgs, { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) {
      process.stderr.write(`build of apps/${app} failed:\n${r.stdout}${r.stderr}`);
      process.exit(r.status ?? 1);
    }
  }
  // Stamped with the time the build started: a source saved during the build makes the next run rebuild.
  fs.writeFileSync(stamp, '');
  fs.utimesSync(stamp, new Date(started), new Date(started));
}

const child = spawn(process.execPath, [main, ...args], { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
