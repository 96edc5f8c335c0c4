import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createTestDatabase, freePort, repoRoot, startNode, tempDir, waitFor, type RunningProcess, type TestDatabase } from '@ddnn/testing';

const ADMIN = 'e2e-operator-token-0123456789';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `npm start`'s launcher runs the platform in a process group of its own (so that Ctrl-C reaches it once, through the
 * launcher). Killing the launcher outright (kill -9 of npm's group, a closed terminal) used to leave the platform and
 * its embedded database running orphaned: the platform now shuts down when its IPC channel to the launcher closes.
 */
describe('npm start\'s launcher', () => {
  let db: TestDatabase;
  let dataDir: string;
  let launcher: RunningProcess | undefined;
  let platformPid = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = tempDir('ddnn-e2e-launcher-');
  });
  afterAll(async () => {
    await launcher?.stop('SIGKILL');
    if (platformPid && alive(platformPid)) process.kill(platformPid, 'SIGKILL');
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('killed with SIGKILL, it takes the platform down with it in order', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    launcher = startNode(path.join(repoRoot, 'scripts', 'start.mjs'), [], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      DDNN_DATA_DIR: dataDir,
      DDNN_ADMIN_TOKEN: ADMIN,
      DDNN_DEMO: 'false',
    });
    await waitFor('the platform to answer', async () => (await fetch(`${url}/api/health`).catch(() => null))?.ok === true, 240_000, 250);
    platformPid = Number(execFileSync('ps', ['-o', 'pid=', '--ppid', String(launcher.child.pid)], { encoding: 'utf8' }).trim());
    expect(alive(platformPid)).toBe(true);

    await launcher.stop('SIGKILL');
    await waitFor('the platform to exit', async () => !alive(platformPid), 20_000, 100);
    // In order: the shutdown the signals take, not a crash (its output still reaches the launcher's pipe).
    expect(launcher.output()).toMatch(/the npm start launcher is gone: shutting down/);
    await expect(fetch(`${url}/api/health`)).rejects.toThrow();
  }, 300_000);
});
