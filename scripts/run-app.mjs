// `npm run -s ddnn -- …` / `npm run -s device -- …`: compiles the app when its sources (or a library's) changed
// since the last build, quietly (to stderr on failure), then runs it with the given arguments, passing signals
// and the exit code on. An up-to-date build starts at once. Runs started together build once: the others wait for
// that build (a lock file per app) instead of compiling into the same folder at the same time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [app, ...args] = process.argv.slice(2);
const tsconfig = path.join(root, 'apps', app, 'tsconfig.app.json');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const main = path.join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
const stamp = path.join(root, 'dist', 'apps', app, '.build-stamp');
// Beside the app's output, not in it: `rm -rf dist/apps/<app>` during a build must not remove the lock.
const lock = path.join(root, 'dist', 'apps', `.${app}.build`);
/**
 * A lock not renewed for this long is a dead holder's (proper-lockfile renews it every half of this, and releases it
 * at exit and on SIGINT/SIGTERM): only a holder killed outright makes the next run wait this long.
 */
const LOCK_STALE_MS = 10_000;

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

/**
 * Waits until this process holds the app's build lock (proper-lockfile: a lock folder whose time the holder renews,
 * so a holder killed half-way lets the next run in once the lock goes stale); released when the build is done.
 */
async function lockBuild() {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const options = {
    realpath: false,
    stale: LOCK_STALE_MS,
    // The lock was removed or taken over under this build (`rm -rf dist`, a machine asleep past the stale time): said,
    // not thrown from a timer as a stack trace; another run may be building, so this one stops.
    onCompromised: (e) => {
      process.stderr.write(`the build lock of apps/${app} was lost (${e.message}): run the command again\n`);
      process.exit(1);
    },
  };
  try {
    return await lockfile.lock(lock, options);
  } catch (e) {
    if (e.code !== 'ELOCKED') throw e;
  }
  process.stderr.write(`waiting for another run's build of apps/${app} (lock ${path.relative(root, lock)}.lock)\n`);
  return lockfile.lock(lock, { ...options, retries: { forever: true, factor: 1, minTimeout: 100, maxTimeout: 100 } });
}

/** Runs a build tool, its output kept for a failure; resolves to its exit status. */
function run(tool, toolArgs) {
  return new Promise((resolve) => {
    let output = '';
    const p = spawn(bin(tool), toolArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('error', (e) => resolve({ status: 1, output: `${output}${e.message}\n` }));
    p.on('close', (status) => resolve({ status: status ?? 1, output }));
  });
}

// Asynchronous: the lock's holder renews it from the event loop while tsc runs, or waiting runs would take it for a
// dead holder's half-way through a long build.
async function build() {
  const started = Date.now();
  for (const [tool, toolArgs] of [
    ['tsc', ['-p', tsconfig]],
    ['tsc-alias', ['-p', tsconfig]],
  ]) {
    const r = await run(tool, toolArgs);
    if (r.status !== 0) {
      process.stderr.write(`build of apps/${app} failed:\n${r.output}`);
      return r.status;
    }
  }
  // Stamped with the time the build started: a source saved during the build makes the next run rebuild.
  fs.writeFileSync(stamp, '');
  fs.utimesSync(stamp, new Date(started), new Date(started));
  return 0;
}

if (!upToDate()) {
  // tsc rewrites every output file, and tsc-alias then rewrites the library imports in them: a second build in the
  // same folder undid the first one's aliases under a run already starting from it (Cannot find module '@ddnn/...').
  const release = await lockBuild();
  let status = 0;
  try {
    // Another run may have built it while this one waited.
    if (!upToDate()) status = await build();
  } finally {
    await release().catch(() => undefined);
  }
  if (status !== 0) process.exit(status);
}

const child = spawn(process.execPath, [main, ...args], { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
