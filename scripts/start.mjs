// `npm start`: builds what the platform needs (Nx caches it, so later starts are quick), then runs it.
// The platform runs in its own process group so that Ctrl-C reaches it once, through this launcher, and
// its embedded PostgreSQL is stopped by the platform after everything else has shut down.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  ...process.env,
  NX_NO_CLOUD: 'true',
  NX_DAEMON: 'false',
  NX_TUI: 'false',
  NEXT_TELEMETRY_DISABLED: '1',
  LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
};

const projects = ['api', 'dashboard'].filter((p) => fs.existsSync(path.join(root, 'apps', p, 'project.json')));
console.log(`ddnn: building ${projects.join(' and ')} (the first start takes a minute or two)…`);
const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', projects.join(','), '--outputStyle=static'], {
  cwd: root,
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (build.status !== 0) {
  console.error('ddnn: the build failed; run `npx nx run-many -t build` to see why');
  process.exit(build.status ?? 1);
}

const main = path.join(root, 'dist/apps/api/apps/api/src/main.js');
// The IPC channel is the platform's tie to this launcher: if the launcher dies without forwarding a signal (kill -9
// of npm's process group, a closed terminal), the channel closes and the platform shuts down in order.
const platform = spawn(process.execPath, [main], { cwd: root, env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'], detached: true });
let lastForward = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // npm and the terminal may both deliver one Ctrl-C; a second press a moment later forces the exit.
    if (Date.now() - lastForward < 500) return;
    lastForward = Date.now();
    platform.kill(signal);
  });
}
platform.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
