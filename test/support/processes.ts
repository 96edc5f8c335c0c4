import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const apiMain = path.join(repoRoot, 'dist/apps/api/apps/api/src/main.js');
export const deviceMain = path.join(repoRoot, 'dist/apps/device/apps/device/src/main.js');
export const cliMain = path.join(repoRoot, 'dist/apps/cli/apps/cli/src/main.js');

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A temp folder the `postgres` user can enter (embedded Postgres runs as that user under root). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o777);
  return dir;
}

export interface RunningProcess {
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** Sends a signal (SIGTERM by default) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node <main> ...args` with extra environment, capturing its output. */
export function startNode(main: string, args: string[], env: Record<string, string | undefined>): RunningProcess {
  let out = '';
  const child = spawn(process.execPath, [main, ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns a value or the deadline passes, failing with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface ApiProcess extends RunningProcess {
  url: string;
}

/** Starts the built API on a free port and waits until /api/health answers 200. */
export async function startApi(env: Record<string, string | undefined>): Promise<ApiProcess> {
  const port = await freePort();
  const proc = startNode(apiMain, [], { PORT: String(port), HOST: '127.0.0.1', DDNN_DEMO: 'false', ...env });
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitFor('the API to become healthy', async () => ((await fetch(`${url}/api/health`)).ok ? true : undefined), 90_000),
      proc.exited.then((code) => {
        throw new Error(`API exited with ${code} before it was healthy:\n${proc.output()}`);
      }),
    ]);
  } catch (e) {
    await proc.stop('SIGKILL');
    throw e;
  }
  return { ...proc, url };
}
