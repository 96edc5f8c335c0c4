import { Pool, type PoolConfig } from 'pg';

export interface DatabasePoolOptions {
  url: string;
  /** Connections at most (default 10). */
  max?: number;
  /** Shown in pg_stat_activity (default 'ddnn'). */
  applicationName?: string;
  /** How long a checkout waits for a connection before failing (default 5000 ms). */
  connectionTimeoutMs?: number;
  /** Told about connection errors that no query is waiting for (idle or checked-out clients). */
  onConnectionError?(error: Error): void;
}

/** The one pool configuration of a node: TypeORM gets the same settings through `poolConfig`. */
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
 * A pg Pool that survives dropped connections. pg-pool listens for 'error' on idle clients only and removes
 * that listener while a client is checked out: a backend terminated under a checked-out client (a transaction,
 * a COPY) then emits 'error' with no listener, which ends the process. Every client here gets its own listener
 * for life; the query that was running still fails with the error, so its caller decides what to do.
 */
export function createDatabasePool(options: DatabasePoolOptions): Pool {
  const report = options.onConnectionError ?? (() => undefined);
  const pool = new Pool(poolConfig(options));
  pool.on('error', (e) => report(e));
  pool.on('connect', (client) => client.on('error', (e) => report(e)));
  return pool;
}
