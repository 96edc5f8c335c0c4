// `npm run -s ddnn -- …` / `npm run -s device -- …`: compiles the app incrementally (quietly, to
// stderr on failure), then runs it with the given arguments, passing signals and the exit code on.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [app, ...args] = process.argv.slice(2);
const tsconfig = path.join(root, 'apps', app, 'tsconfig.app.json');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

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

const main = path.join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
const child = spawn(process.execPath, [main, ...args], { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
