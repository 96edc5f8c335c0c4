import type { Pool, PoolClient, PoolConfig } from 'pg';

export interface DatabasePoolOptions {
  url: string;
  /** Connections at most (default 10). */
  max?: number;
  /** Shown in pg_stat_activity (default 'ddnn'). */
  applicationName?: string;
  /** How long a checkout waits for a connection before failing (default 5000 ms). */
  connectionTimeoutMs?: number;
}

/**
 * The one pool configuration of a node (apps/api hands it to TypeORM, whose pool the event store shares).
 * Whoever owns the pool listens for 'error' on it and on every client it checks out (pg-pool removes its own
 * listener while a client is checked out, and an unheard 'error' ends the process).
 */
export function poolConfig(options: DatabasePoolOptions): PoolConfig {
  return {
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'ddnn',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    // A half-open TCP connection (server host gone) is noticed instead of hanging a query for hours.
    keepAlive: true,
  };
}

/**
 * Runs `fn` in one transaction on a client of the pool: committed when it resolves, rolled back when it throws. A
 * client whose rollback failed (its connection is gone) is not handed out again.
 */
export async function inTransaction<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A backend terminated while this client is checked out must fail the query, not the process.
  const onError = (): void => undefined;
  client.on('error', onError);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    broken = await client.query('ROLLBACK').then(
      () => undefined,
      (r: Error) => r,
    );
    throw e;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
