// `npm run screenshots`: refreshes docs/screenshots (the pictures the README shows) from the browser tests, on
// purpose. An ordinary test run writes its screenshots to the ignored tmp/screenshots instead.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = { ...process.env, DDNN_SCREENSHOTS: 'docs', NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false', NEXT_TELEMETRY_DISABLED: '1' };

let server;
if (!env.TEST_DATABASE_URL) {
  const { startTestServer } = require('../libs/testing/embedded-server.cjs');
  server = await startTestServer();
  env.TEST_DATABASE_URL = server.url;
}

const code = await new Promise((resolve) => {
  const child = spawn('npx', ['nx', 'test', 'dashboard-browser', '--skip-nx-cache', '--outputStyle=static'], { stdio: 'inherit', env });
  child.on('exit', (c) => resolve(c ?? 1));
});
if (server) await server.stop();
if (code === 0) console.log('docs/screenshots refreshed; review them with `git diff --stat docs/screenshots` before committing');
process.exit(code);
