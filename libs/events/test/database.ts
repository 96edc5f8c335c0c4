import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { Pool } from 'pg';
import { EventStore } from '../src/event-store';
import { runMigrations } from '../src/migrate';

/** A fresh, migrated database for one test file and a small pool on it. */
export async function migratedDatabase(max = 8): Promise<{ db: TestDatabase; pool: Pool; close(): Promise<void> }> {
  const db = await createTestDatabase('ddnn_events');
  await runMigrations(db.url);
  const pool = new Pool({ connectionString: db.url, max });
  return {
    db,
    pool,
    close: async () => {
      // pool.end() resolves before its sockets are closed; the drop's forced disconnect of one would then be
      // an unhandled pool error.
      pool.on('error', () => undefined);
      await pool.end();
      await db.drop();
    },
  };
}

/**
 * For the tests of the describe block it is called in: a fresh, migrated database made before them and dropped
 * after them, a small pool and an event store on it (read them inside the tests).
 */
export function migratedStore(max = 6): { readonly pool: Pool; readonly store: EventStore } {
  let env: Awaited<ReturnType<typeof migratedDatabase>> | undefined;
  let store: EventStore | undefined;
  beforeAll(async () => {
    env = await migratedDatabase(max);
    store = new EventStore(env.pool);
  });
  afterAll(() => env?.close());
  return {
    get pool() {
      if (!env) throw new Error('migratedStore: read the pool inside a test');
      return env.pool;
    },
    get store() {
      if (!store) throw new Error('migratedStore: read the store inside a test');
      return store;
    },
  };
}

/**
 * Waits until every committed event is readable by readAll: transactions still running anywhere on the server
 * (autovacuum's analyze takes an xid too) hold readAll back until they end, by design.
 */
export async function waitUntilReadable(pool: Pool, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ ok: boolean }>(
      `SELECT coalesce(max(transaction_id) < pg_snapshot_xmin(pg_current_snapshot()), true) AS ok FROM events`,
    );
    if (rows[0].ok) return;
    if (Date.now() > deadline) throw new Error(`events not readable after ${timeoutMs} ms: a transaction stays open`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
