import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rewindProjections } from './1764748800000-session-summary-shape';

/**
 * Streams are runs in the sessions table (kind 'stream'), so the scheduler, advisory-lock ownership and
 * take-over after node death are one code path for both kinds. A stream has no dataset, split or sample count:
 * those NOT NULLs hold for sessions only. The session summary gained stream fields (kind, pending labels,
 * recent decisions): the projections are rebuilt from the log so stored summaries take the new shape.
 */
export class StreamRuns1765000000010 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sessions ADD COLUMN kind text NOT NULL DEFAULT 'session' CHECK (kind IN ('session', 'stream'))`);
    await q.query(`ALTER TABLE sessions ALTER COLUMN dataset DROP NOT NULL, ALTER COLUMN split DROP NOT NULL`);
    await q.query(
      `ALTER TABLE sessions ADD CONSTRAINT sessions_dataset_of_sessions CHECK (kind = 'stream' OR (dataset IS NOT NULL AND split IS NOT NULL))`,
    );
    await q.query(`CREATE INDEX sessions_kind_created_idx ON sessions (kind, created_at DESC, id)`);
    await rewindProjections(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM sessions WHERE kind = 'stream'`);
    await q.query(`DROP INDEX IF EXISTS sessions_kind_created_idx`);
    await q.query(`ALTER TABLE sessions DROP CONSTRAINT IF EXISTS sessions_dataset_of_sessions`);
    await q.query(`ALTER TABLE sessions ALTER COLUMN dataset SET NOT NULL, ALTER COLUMN split SET NOT NULL`);
    await q.query(`ALTER TABLE sessions DROP COLUMN kind`);
    await rewindProjections(q);
  }
}
