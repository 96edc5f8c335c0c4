// `npm test`: lint, typecheck and every project's tests (unit, integration, e2e) in one run, against
// TEST_DATABASE_URL when set, otherwise against one embedded PostgreSQL started for the whole run.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false', NEXT_TELEMETRY_DISABLED: '1' };

let server;
if (!env.TEST_DATABASE_URL) {
  const { startTestServer } = require('../libs/testing/embedded-server.cjs');
  server = await startTestServer();
  env.TEST_DATABASE_URL = server.url;
  console.log(`npm test: embedded PostgreSQL at ${server.url}`);
}

const run = (args) =>
  new Promise((resolve) => {
    const child = spawn('npx', ['nx', ...args], { stdio: 'inherit', env });
    child.on('exit', (code) => resolve(code ?? 1));
  });

const extra = process.argv.slice(2);
let code = await run(['run-many', '-t', 'lint', 'typecheck', '--outputStyle=static', ...extra]);
if (code === 0) code = await run(['run-many', '-t', 'test', '--outputStyle=static', '--skip-nx-cache', ...extra]);
if (server) await server.stop();
process.exit(code);
