import type { Command } from 'commander';
import type { EventStore } from '@ddnn/events';
import { logger } from '../log';

interface DatabaseOption {
  databaseUrl?: string;
  json?: boolean;
}

/** `ddnn events …`: maintenance of the event log's projections (rebuild from the log, lag). */
export function registerEventsCommands(program: Command): void {
  const events = program.command('events').description('The event log: rebuild projections, show their lag');
  events
    .command('rebuild-projections')
    .description('Clear the session summaries and device status and rebuild them from the whole log')
    .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (opts: DatabaseOption) => {
      const { projectionsLag, rebuildProjections } = await import('@ddnn/events');
      await withStore(opts, async (store) => {
        const started = Date.now();
        const { events: n } = await rebuildProjections(store);
        const result = { events: n, seconds: (Date.now() - started) / 1000, lag: await projectionsLag(store) };
        process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `rebuilt projections from ${n} events in ${result.seconds} s (lag ${result.lag})\n`);
      });
    });
  events
    .command('lag')
    .description('Events committed after the projections checkpoint')
    .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (opts: DatabaseOption) => {
      const { projectionsLag } = await import('@ddnn/events');
      await withStore(opts, async (store) => {
        const lag = await projectionsLag(store);
        process.stdout.write(opts.json ? `${JSON.stringify({ lag })}\n` : `projections are ${lag} events behind the log\n`);
      });
    });
}

async function withStore(opts: DatabaseOption, fn: (store: EventStore) => Promise<void>): Promise<void> {
  const url = opts.databaseUrl ?? process.env.DATABASE_URL;
  if (!url) throw new Error('no database: pass --database-url or set DATABASE_URL');
  checkDatabaseUrl(url, opts.databaseUrl ? '--database-url' : 'DATABASE_URL');
  const { EventStore, runMigrations } = await import('@ddnn/events');
  const { Pool } = await import('pg');
  await runMigrations(url);
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', (e) => logger.warn({ err: e }, 'ddnn events: idle connection error'));
  try {
    await fn(new EventStore(pool));
  } finally {
    await pool.end();
  }
}

/**
 * A postgres:// URL with a host: pg reads anything else as a connection string of its own grammar ("notaurl" became
 * host "base", and the error said "getaddrinfo ENOTFOUND base"). Named without the URL: it may hold a password.
 */
export function checkDatabaseUrl(url: string, what: string): void {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  // A socket folder is a host too: postgres:///db?host=/var/run/postgresql.
  if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol) || !(parsed.hostname || parsed.searchParams.get('host'))) {
    throw new Error(`${what} must be a postgres://user@host:port/database URL`);
  }
}
