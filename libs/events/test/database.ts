import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { Pool } from 'pg';
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
      await pool.end();
      await db.drop();
    },
  };
}
