import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './polling';
import { freePort } from './ports';
import { PROCESS_START_TIMEOUT_MS } from './timeouts';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
/** The built apps (`npx nx run-many -t build -p api device cli`): e2e tests run real processes. */
export const apiMain = path.join(repoRoot, 'dist/apps/api/apps/api/src/main.js');
export const deviceMain = path.join(repoRoot, 'dist/apps/device/apps/device/src/main.js');
export const cliMain = path.join(repoRoot, 'dist/apps/cli/apps/cli/src/main.js');

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

/** Spawns `node <main> ...args` with extra environment (JSON logs unless given), capturing its output. */
export function startNode(main: string, args: string[], env: Record<string, string | undefined>, cwd = repoRoot): RunningProcess {
  let out = '';
  const child = spawn(process.execPath, [main, ...args], {
    cwd,
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

export interface ApiProcess extends RunningProcess {
  url: string;
}

/**
 * Starts the built API on a free loopback port (no demo unless asked) and waits until /api/health answers 200.
 * On failure the process is killed and the error carries the end of its output.
 */
export async function startApi(env: Record<string, string | undefined>, timeoutMs = PROCESS_START_TIMEOUT_MS): Promise<ApiProcess> {
  if (!fs.existsSync(apiMain)) throw new Error(`missing ${apiMain}: build first (npx nx build api)`);
  // A given PORT: a node restarted where its devices reconnect.
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const proc = startNode(apiMain, [], { HOST: '127.0.0.1', DDNN_DEMO: 'false', ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitFor('the API to become healthy', async () => (await fetch(`${url}/api/health`)).ok, timeoutMs, 200),
      proc.exited.then((code) => {
        throw new Error(`API exited with ${code} before it was healthy`);
      }),
    ]);
  } catch (e) {
    await proc.stop('SIGKILL');
    throw new Error(`${(e as Error).message}\nAPI output:\n${proc.output().slice(-4000)}`);
  }
  return { ...proc, url };
}
